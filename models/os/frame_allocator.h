// Seeded physical frame allocator: deterministic for a given seed. Frames of
// 4 KiB, 2 MiB (512 aligned frames), 4 MiB and 1 GiB are taken from random
// aligned positions (so that DRAM banks see a realistic spread), falling back
// to a linear search when random probes keep hitting used memory.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "models/common/random.h"
#include "models/common/types.h"

namespace mmusim {

class FrameAllocator {
 public:
  // `bytes` of physical memory (a multiple of 4 KiB); `reserved_low` bytes at
  // the bottom are never handed out (firmware, kernel image).
  FrameAllocator(uint64_t bytes, uint64_t reserved_low, uint64_t seed);
  // First frame of a naturally aligned block of page size `s`, or nullopt
  // when no such block is free.
  std::optional<Pfn> allocate(PageSize s);
  void free(Pfn first, PageSize s);
  [[nodiscard]] uint64_t frames_total() const { return frames_; }
  [[nodiscard]] uint64_t frames_used() const { return used_; }

 private:
  bool block_free(uint64_t first, uint64_t n) const;
  void mark(uint64_t first, uint64_t n, bool used);
  uint64_t next_random();

  uint64_t frames_;
  uint64_t low_;  // first allocatable frame
  uint64_t used_ = 0;
  SplitMix64 rng_;
  std::vector<uint64_t> bitmap_;  // 1 bit per 4 KiB frame
  std::vector<uint16_t> used2m_;  // used frames per 2 MiB region (fast block_free)
};

}  // namespace mmusim
