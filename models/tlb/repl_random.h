// Random replacement from a SplitMix64 generator owned by the array: the
// victim sequence is a pure function of the seed. Hits and fills do nothing.
#pragma once

#include <cstdint>

namespace mmusim {

// SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference implementation).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

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
