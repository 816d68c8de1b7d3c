// True LRU: one 64-bit recency stamp per entry from an array-wide clock; the
// victim is the way with the smallest stamp. A hit on the entry that was
// touched last changes nothing (idempotent), which the hierarchy's last-hit
// memo relies on. Entry index = set_base + way.
#pragma once

#include <cstdint>
#include <vector>

namespace mmusim {

class LruPolicy {
 public:
  void reset(uint32_t sets, uint32_t ways) {
    ways_ = ways;
    clock_ = 0;
    stamps_.assign(size_t{sets} * ways, 0);
  }
  void on_hit(uint32_t idx) {
    if (stamps_[idx] != clock_) stamps_[idx] = ++clock_;
  }
  void on_fill(uint32_t idx) { stamps_[idx] = ++clock_; }
  [[nodiscard]] uint32_t victim(uint32_t set_base) const {
    uint32_t best = 0;
    for (uint32_t w = 1; w < ways_; ++w) {
      if (stamps_[set_base + w] < stamps_[set_base + best]) best = w;
    }
    return best;
  }

 private:
  uint32_t ways_ = 1;
  uint64_t clock_ = 0;
  std::vector<uint64_t> stamps_;
};

}  // namespace mmusim
