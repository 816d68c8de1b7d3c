// Synthetic trace generator: deterministic, seeded address streams whose TLB
// behaviour has an analytic expectation (traces/README.md lists them). Output
// depends only on the spec: integer arithmetic on splitmix64 everywhere,
// except zipf, which also uses libm log/exp (bit-identical wherever libm is).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/common/random.h"
#include "models/common/types.h"
#include "traces/trace_reader.h"

namespace mmusim {

enum class GenPattern : uint8_t { kSeq, kStride, kUniform, kZipf, kGups, kChase };

struct GeneratorSpec {
  GenPattern pattern = GenPattern::kUniform;
  uint64_t count = 1'000'000;        // records in total, all CPUs together
  uint64_t footprint = 64ULL << 20;  // bytes each CPU's stream covers
  uint64_t stride = 0;               // bytes; 0 = pattern default (seq 64, stride 4096, chase 64)
  uint32_t size = 8;                 // bytes per access; random addresses are aligned to it
  uint64_t base = 0x10000000;        // first byte of CPU 0's region
  uint64_t seed = 1;
  uint32_t cpus = 1;                    // CPU c's region starts at base + c * cpu_spacing()
  double alpha = 0.99;                  // zipf exponent (> 0)
  double writes = 0.0;                  // fraction of records that are writes (not gups)
  AccessKind kind = AccessKind::kRead;  // kind of the other records

  [[nodiscard]] uint64_t effective_stride() const;
  // Distance between CPU regions: footprint rounded up to 1 GiB.
  [[nodiscard]] uint64_t cpu_spacing() const;
};

// Parses "PATTERN[,key=value]...", e.g. "uniform,footprint=64M,count=1000000,seed=1".
// Keys: count, footprint, stride, size, base, seed, cpus, alpha, writes, kind.
// Byte quantities take K/M/G/T suffixes (powers of 1024) or 0x hex; count
// takes k/K, m/M, g/G (powers of 1000). Throws InputError naming the key.
GeneratorSpec parse_generator_spec(const std::string& spec);
// Canonical spec string (every key), parseable by parse_generator_spec.
std::string to_string(const GeneratorSpec& spec);
const char* pattern_name(GenPattern p);

std::unique_ptr<TraceReader> make_generator(const GeneratorSpec& spec);
// open_generator("uniform,footprint=64M") == make_generator(parse_generator_spec(...)).
std::unique_ptr<TraceReader> open_generator(const std::string& spec);

// A pseudo-random permutation of [0, n) (4-round Feistel + cycle walking).
class RandomPermutation {
 public:
  RandomPermutation(uint64_t n, uint64_t seed);
  [[nodiscard]] uint64_t operator()(uint64_t x) const;

 private:
  [[nodiscard]] uint64_t round(uint64_t x) const;
  uint64_t n_;
  unsigned half_bits_;
  uint64_t keys_[4];
};

}  // namespace mmusim
