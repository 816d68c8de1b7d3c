// The storage device interface the kernel submits I/O to (design.md §7).
// One DiskModel per device kind, selected by disk.model; `fixed` (a
// documented fixed latency plus transfer time) is the first, the SSD,
// Optane-like and HDD models and the disk controller with its DMA engine
// come with the storage issue. Plain C++: timing is arithmetic on the
// request's arrival cycle; nothing here knows SystemC or the kernel.
#pragma once

#include <cstdint>

#include "models/common/stats.h"
#include "models/common/types.h"

namespace mmusim {

struct DiskRequest {
  uint32_t dev = 0;     // device index (FileEvent::dev)
  uint64_t offset = 0;  // byte offset on the device (file offset, or a swap slot's)
  uint64_t bytes = 0;   // > 0, a multiple of 512
  bool write = false;
  Cycle at;  // submission (arrival at the device queue)
};

class DiskModel {
 public:
  virtual ~DiskModel() = default;
  // Accepts a request and returns the cycle its data is in memory (read) or
  // on the medium (write) and its completion is signalled. Requests arrive
  // in non-decreasing `at` order per caller; the model may queue them.
  virtual Cycle submit(const DiskRequest& r) = 0;
  // Statistics under `disk.` (module-neutral names).
  virtual void visit(StatVisitor& v) const = 0;
};

}  // namespace mmusim
