// Page-walker simulation cost (walks/s as items/s), plain C++ core only: the
// memory is a fixed-latency MemoryTiming, so the figures are the simulator's
// own cost per walk, not DRAM modelling. Walker geometry = the defaults of
// SimConfig (Skylake: 2 walks in flight, PML4/PDPT/PD caches 2/4/32 entries).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/os/page_frame.h"
#include "models/os/page_table.h"
#include "models/sim/sim_config.h"
#include "models/walker/walker.h"

namespace mmusim {
namespace {

// Every memory reference completes a fixed 100 cycles after it is issued.
class FixedLatency : public MemoryTiming {
 public:
  Cycle access(PhysAddr /*a*/, bool /*is_write*/, Cycle at) override { return at + Cycles(100); }
};

WalkerConfig skylake_walker() {
  SimConfig c;
  finalize(c);
  return c.walker;
}

// A 4-level page table with one 4 KiB page at each address of `pages`,
// mapped with A (and D) already set.
struct Tables {
  PhysMem mem;
  PageFrameAllocator frames{1ULL << 30, 1ULL << 20, 1};
  PageTable pt{PagingMode::k4Level, mem, frames};
  explicit Tables(const std::vector<uint64_t>& pages) {
    for (uint64_t a : pages) {
      pt.map(LinearAddr(a), *frames.allocate(PageSize::k4K), PageSize::k4K,
             pte::kRW | pte::kUS | pte::kA | pte::kD);
    }
  }
};

// Walks `pages` round-robin, each walk issued when the previous one is done
// (no queueing, no merging). Reports walks/s and memory references per walk.
void walk_loop(benchmark::State& state, const std::vector<uint64_t>& pages,
               uint64_t expected_refs) {
  Tables t(pages);
  FixedLatency timing;
  Walker w(skylake_walker(), t.mem, timing);
  w.set_root(t.pt.root(), Asid(1));
  Cycle now(0);
  // Warm-up pass: sets the A bits of the intermediate entries, so that timed
  // walks only read.
  for (uint64_t a : pages) now = w.walk(LinearAddr(a), AccessKind::kRead, true, now).done;
  uint64_t refs = 0, faults = 0;
  size_t i = 0;
  for (auto _ : state) {
    WalkResult r = w.walk(LinearAddr(pages[i]), AccessKind::kRead, true, now);
    now = r.done;
    refs += r.mem_refs;
    faults += r.fault != FaultKind::kNone;
    if (++i == pages.size()) i = 0;
  }
  const auto walks = static_cast<double>(state.iterations());
  if (faults != 0 || refs != expected_refs * state.iterations()) {
    state.SkipWithError("walks did not take the intended path (faults or references)");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["refs_per_walk"] = static_cast<double>(refs) / walks;
}

// Cold walk: every paging-structure cache misses and the walk reads all four
// levels. 256 pages, one under each user PML4 entry, visited in turn: far
// more distinct tags than any cache holds, so LRU always misses.
void BM_WalkCold(benchmark::State& state) {
  std::vector<uint64_t> pages;
  for (uint64_t i = 0; i < 256; ++i) pages.push_back((i << 39) | (i << 30) | (i << 21) | (i << 12));
  walk_loop(state, pages, 4);
}
BENCHMARK(BM_WalkCold);

// Warm walk: the PD cache hits (all pages share one 2 MiB region), so the walk
// reads the PTE only: one memory reference.
void BM_WalkWarmPwc(benchmark::State& state) {
  std::vector<uint64_t> pages;
  for (uint64_t i = 0; i < 512; ++i) pages.push_back(0x40000000ULL + (i << 12));
  walk_loop(state, pages, 1);
}
BENCHMARK(BM_WalkWarmPwc);

}  // namespace
}  // namespace mmusim
