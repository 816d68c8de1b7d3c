// Tree pseudo-LRU for a power-of-two number of ways W: W-1 bits per set in
// heap order (node 1 is the root, children of n are 2n and 2n+1, leaf
// W + w is way w). A bit of 0 points the victim search to the lower half,
// 1 to the upper half. Touching way w (hit or fill) sets every bit on its
// path to point away from w, so touching the same way twice is idempotent.
#pragma once

#include <cstdint>
#include <vector>

namespace mmusim {

class TreePlruPolicy {
 public:
  // Precondition: ways is a power of two (validated by the config).
  void reset(uint32_t sets, uint32_t ways) {
    ways_ = ways;
    log2_ways_ = 0;
    while ((1U << log2_ways_) < ways) ++log2_ways_;
    bits_.assign(size_t{sets} * ways, 0);  // node 0 of each set unused
  }
  void on_hit(uint32_t idx) { touch(idx); }
  void on_fill(uint32_t idx) { touch(idx); }
  [[nodiscard]] uint32_t victim(uint32_t set_base) const {
    const uint8_t* b = &bits_[set_base];
    uint32_t node = 1;
    while (node < ways_) node = 2 * node + b[node];
    return node - ways_;
  }

 private:
  void touch(uint32_t idx) {
    const uint32_t way = idx & (ways_ - 1);
    uint8_t* b = &bits_[idx - way];
    uint32_t node = 1;
    for (uint32_t level = log2_ways_; level > 0; --level) {
      const uint32_t dir = (way >> (level - 1)) & 1U;
      b[node] = static_cast<uint8_t>(dir ^ 1U);
      node = 2 * node + dir;
    }
  }

  uint32_t ways_ = 1;
  uint32_t log2_ways_ = 0;
  std::vector<uint8_t> bits_;
};

}  // namespace mmusim
