// PageFrameAllocator cost under spread placement, as the first-touch kernel
// uses it: 8 GiB of memory, 16 MiB reserved, seed 1 (mmusim's defaults).
// items_per_second is allocate (and free) calls per second of host time.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "models/common/random.h"
#include "models/os/page_frame.h"

namespace mmusim {
namespace {

constexpr uint64_t kMemory = 8ULL << 30;
constexpr uint64_t kReserved = 16ULL << 20;

// A fresh allocator hands out range(0) 4 KiB frames: each lands in a 2 MiB
// chunk chosen in proportion to its free frames, so most of the 4096 chunks
// of 8 GiB get a bitmap (and their 16 MiB, 128 MiB, 1 GiB regions a node)
// (the gen:seq footprint=64M run faults 16384 such frames). Includes the
// allocator's construction and destruction, as a simulation pays them.
// Counters: the metadata chunks, the free blocks of the buddy system, and
// the index records (2 MiB bitmaps, nodes) at the end.
void BM_PageFrameAllocateSpread(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  uint64_t chunks = 0;
  uint64_t blocks = 0;
  uint64_t bitmaps = 0;
  uint64_t nodes = 0;
  for (auto _ : state) {
    PageFrameAllocator a(kMemory, kReserved, 1);
    for (uint64_t i = 0; i < n; ++i) benchmark::DoNotOptimize(a.allocate(0U));
    chunks = a.metadata_chunks();
    blocks = 0;
    for (unsigned o = 0; o < kNumOrders; ++o) blocks += a.free_blocks(o);
    bitmaps = a.index_chunks();
    nodes = a.index_nodes();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["metadata_chunks"] = static_cast<double>(chunks);
  state.counters["free_blocks"] = static_cast<double>(blocks);
  state.counters["index_chunks"] = static_cast<double>(bitmaps);
  state.counters["index_nodes"] = static_cast<double>(nodes);
}
BENCHMARK(BM_PageFrameAllocateSpread)->Arg(16384)->Unit(benchmark::kMillisecond);

// Steady state with range(0) live blocks of mixed orders (3 in 4 of order
// 0, the rest 1 .. 4; spread placement soon leaves no free 2 MiB block, so
// no larger orders): each item frees a random live block and allocates one
// of the same order.
void BM_PageFrameChurnSpread(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  PageFrameAllocator a(kMemory, kReserved, 1);
  SplitMix64 r(7);
  std::vector<std::pair<Pfn, unsigned>> live;
  live.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const unsigned o = r.below(4) != 0 ? 0U : static_cast<unsigned>(1 + r.below(4));
    live.emplace_back(*a.allocate(o), o);
  }
  for (auto _ : state) {
    auto& [p, o] = live[r.below(n)];
    a.free(p, o);
    p = *a.allocate(o);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["metadata_chunks"] = static_cast<double>(a.metadata_chunks());
  state.counters["index_chunks"] = static_cast<double>(a.index_chunks());
}
BENCHMARK(BM_PageFrameChurnSpread)->Arg(16384);

}  // namespace
}  // namespace mmusim
