// Per-entry 64-bit stamps from an array-wide clock, and the victim with the
// smallest stamp: the state shared by LRU (stamped on fill and hit) and FIFO
// (stamped on fill only). Entry index = set_base + way.
#pragma once

#include <cstdint>
#include <vector>

namespace mmusim {

class StampedWays {
 public:
  void reset(uint32_t sets, uint32_t ways) {
    ways_ = ways;
    clock_ = 0;
    stamps_.assign(size_t{sets} * ways, 0);
  }
  void stamp(uint32_t idx) { stamps_[idx] = ++clock_; }
  [[nodiscard]] uint64_t at(uint32_t idx) const { return stamps_[idx]; }
  [[nodiscard]] bool is_newest(uint32_t idx) const { return stamps_[idx] == clock_; }
  [[nodiscard]] uint32_t oldest(uint32_t set_base) const {
    const uint64_t* s = &stamps_[set_base];
    uint32_t best = 0;
    uint64_t oldest = s[0];
    for (uint32_t w = 1; w < ways_; ++w) {
      if (s[w] < oldest) {
        oldest = s[w];
        best = w;
      }
    }
    return best;
  }

 private:
  uint32_t ways_ = 1;
  uint64_t clock_ = 0;
  std::vector<uint64_t> stamps_;
};

}  // namespace mmusim
