// DRAM timing core throughput: simulated requests per second of host time.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "models/dram/dram.h"

namespace mmusim {
namespace {

// Reads walking the columns of one open row (row hits), one request every 16
// core cycles: just above tCCD_L (8 nCK = 15 cycles at 3 GHz), so no backlog.
void BM_DramAccessRowHit(benchmark::State& state) {
  Dram d(preset("DDR4-3200"));
  uint64_t now = 0;
  uint64_t col = 0;
  for (auto _ : state) {
    // Columns of row 0, bank group 0 under the default mapping: bits 8-14.
    PhysAddr a((col & 127) << 8);
    benchmark::DoNotOptimize(d.access(a, false, Cycle(now)));
    ++col;
    now += 16;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["hit_rate"] =
      static_cast<double>(d.stats().row_hits) / static_cast<double>(d.stats().reads);
}
BENCHMARK(BM_DramAccessRowHit);

// Uniform random lines over the whole 8 GiB, 1/4 writes, fixed-seed generator.
void BM_DramAccessRandom(benchmark::State& state) {
  Dram d(preset("DDR4-3200"));
  const uint64_t mask = d.config().capacity_bytes() - 1;
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  uint64_t now = 0;
  for (auto _ : state) {
    x ^= x << 13;  // xorshift64
    x ^= x >> 7;
    x ^= x << 17;
    benchmark::DoNotOptimize(d.access(PhysAddr(x & mask), (x >> 62) == 0, Cycle(now)));
    now += 20;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["hit_rate"] = static_cast<double>(d.stats().row_hits) /
                               static_cast<double>(d.stats().reads + d.stats().writes);
}
BENCHMARK(BM_DramAccessRandom);

}  // namespace
}  // namespace mmusim
