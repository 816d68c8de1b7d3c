// A page cache over a real allocator, simulated memory and a fixed disk
// whose requests are recorded, for the file-cache tests.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/disk/block_queue.h"
#include "models/disk/fixed_disk.h"
#include "models/os/file_cache.h"
#include "models/os/page_frame.h"

namespace mmusim {

inline bool operator==(const PageRange& a, const PageRange& b) {
  return a.first == b.first && a.last == b.last;
}
inline std::ostream& operator<<(std::ostream& o, const PageRange& r) {
  return o << "[" << r.first << ", " << r.last << "]";
}

namespace testing {

// The fixed disk at its defaults, 3 GHz, alone (no controller, no DMA),
// with every request kept.
class RecordingDisk : public BlockQueue {
 public:
  RecordingDisk() : fixed(FixedDiskParams{}, 3000), sync(fixed) {}
  // With `async`, requests are only recorded: the test completes them
  // (FileCache/Kernel io_done) with timelines of its own.
  std::optional<BlockTimeline> submit(const BlockRequest& r) override {
    log.push_back(r);
    if (async) return std::nullopt;
    const std::optional<BlockTimeline> t = sync.submit(r);
    done.push_back(t->irq);
    return t;
  }
  bool async = false;
  // Pages [first, last] of request i.
  [[nodiscard]] PageRange pages(size_t i) const {
    return PageRange{log.at(i).offset / 4096, (log.at(i).offset + log.at(i).bytes) / 4096 - 1};
  }
  // Page counts of the read requests, in order.
  [[nodiscard]] std::vector<uint64_t> read_sizes() const {
    std::vector<uint64_t> v;
    for (const BlockRequest& r : log) {
      if (!r.write) v.push_back(r.bytes / 4096);
    }
    return v;
  }
  FixedDisk fixed;
  SyncBlockQueue sync;
  std::vector<BlockRequest> log;
  std::vector<Cycle> done;
};

struct FileCacheRig {
  // `frames` of 4 KiB beyond 1 MiB of reserved low memory, sequential
  // placement.
  explicit FileCacheRig(FileCacheConfig cfg = {}, uint64_t frames_n = 65536)
      : frames((1ULL << 20) + frames_n * 4096, 1ULL << 20, 7, FramePlacement::kSequential),
        cache(cfg, frames, mem, disk) {}
  OpenFile open(uint32_t id, uint64_t size, uint32_t dev = 0) {
    FileEvent e;
    e.file_id = id;
    e.size = size;
    e.dev = dev;
    EXPECT_TRUE(cache.add_file(e));
    OpenFile f;
    f.file_id = id;
    return f;
  }
  // The service time of a read of n pages on the default fixed disk.
  [[nodiscard]] Cycles service(uint64_t n) const { return disk.fixed.service(n * 4096); }

  PhysMem mem;
  PageFrameAllocator frames;
  RecordingDisk disk;
  FileCache cache;
};

constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kPage = 4096;

}  // namespace testing
}  // namespace mmusim
