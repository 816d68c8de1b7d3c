// Random replacement from a SplitMix64 generator owned by the array: the
// victim sequence is a pure function of the seed. Hits and fills do nothing.
#pragma once

#include <cstdint>

#include "models/common/random.h"

namespace mmusim {

class RandomPolicy {
 public:
  void reset(uint32_t /*sets*/, uint32_t ways, uint64_t seed) {
    ways_ = ways;
    rng_ = SplitMix64(seed);
  }
  void on_hit(uint32_t /*idx*/) {}
  void on_fill(uint32_t /*idx*/) {}
  // Uniform in [0, ways): the high 32 bits scaled by ways (no modulo bias
  // worth mentioning for ways < 2^16).
  uint32_t victim(uint32_t /*set_base*/) {
    return static_cast<uint32_t>(((rng_.next() >> 32) * ways_) >> 32);
  }

 private:
  uint32_t ways_ = 1;
  SplitMix64 rng_;
};

}  // namespace mmusim
