// The project's one pseudo-random generator: SplitMix64 (Steele, Lea, Flood
// 2014), a pure function of its seed, identical on every platform. Every
// random choice in the model (frame placement, random replacement, synthetic
// traces) draws from an instance seeded from sim.seed or a trace spec.
#pragma once

#include <cstdint>

namespace mmusim {

class SplitMix64 {
 public:
  constexpr SplitMix64() = default;
  constexpr explicit SplitMix64(uint64_t seed) : state_(seed) {}
  constexpr uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift with rejection).
  uint64_t below(uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(next()) * n;
    auto lo = static_cast<uint64_t>(m);
    if (lo < n) {
      const uint64_t t = (0 - n) % n;
      while (lo < t) {
        m = static_cast<U128>(next()) * n;
        lo = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  [[nodiscard]] constexpr uint64_t state() const { return state_; }

 private:
  uint64_t state_ = 0;
};

}  // namespace mmusim
