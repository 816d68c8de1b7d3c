#include "models/disk/block_queue.h"

#include <stdexcept>
#include <string>

namespace mmusim {

std::optional<BlockTimeline> SyncBlockQueue::submit(const BlockRequest& r) {
  DiskRequest d;
  d.id = r.id;
  d.dev = r.dev;
  d.offset = r.offset;
  d.bytes = r.bytes;
  d.write = r.write;
  d.at = r.at;
  disk_.submit(d);
  DiskDone done;
  // Every earlier request completes no later than it is taken here: the
  // caller's time only moves forward, so nothing is lost by taking them.
  while (disk_.take(kNeverCycle, done)) {
    if (done.id != r.id) continue;
    BlockTimeline t;
    t.submitted = t.fetched = r.at;
    t.device_start = done.start;
    t.device_done = t.dma_start = t.dma_done = t.irq = done.done;
    return t;
  }
  throw std::logic_error("SyncBlockQueue: the device never completed request " +
                         std::to_string(r.id));
}

}  // namespace mmusim
