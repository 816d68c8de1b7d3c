// Page walks through the cache hierarchy (the walker module's references
// entering at the L1D, the Skylake preset's levels and miss path, DDR4-3200):
// a cold walk is four dependent references that each miss every level and
// cost an idle loaded-to-use DRAM read (66-82 ns); the same walk again hits
// the L1D four times.
#include <gtest/gtest.h>

#include <functional>
#include <systemc>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "models/os/page_frame.h"
#include "models/os/page_table.h"
#include "models/walker/walker_module.h"

namespace mmusim {
namespace {

class Runner : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Runner);
  Runner(const sc_core::sc_module_name& n, std::function<void()> body)
      : sc_module(n), body_(std::move(body)) {
    SC_THREAD(run);
  }
  void run() { body_(); }

 private:
  std::function<void()> body_;
};

TEST(CacheWalk, ColdWalkIsFourDramReferencesAndTheSameWalkHitsTheL1d) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  PageFrameAllocator frames(1ULL << 32, 1ULL << 20, 7);
  PageTable table(PagingMode::k4Level, mem, frames);
  const LinearAddr a(0x7f1234567000);
  ASSERT_EQ(table.map(a, Pfn(0x4321), PageSize::k4K, pte::kRW | pte::kUS | pte::kA | pte::kD),
            MapResult::kOk);
  SyncHorizon horizon;
  AgentSync sync(horizon, "cpu", clk, false);
  CacheConfig cc;  // the Skylake preset's caches
  resolve_cache_config(cc, "l1d");
  DramModule dram("dram", DramConfig{}, clk, &mem);
  CacheModule l1d("l1d", cc.l1d, MemSource::kL1, clk), l2("l2", cc.l2, MemSource::kL2, clk),
      llc("llc", cc.llc, MemSource::kLlc, clk);
  llc.set_miss_path(cc.miss_path);
  WalkerConfig wc;  // no paging-structure caches: every level is read
  wc.overhead = Cycles(2);
  WalkerModule walker("walker", wc, mem, sync);
  walker.mem.bind(l1d.upper);
  l1d.lower.bind(l2.upper);
  l2.lower.bind(llc.upper);
  llc.lower.bind(dram.socket);
  walker.core().set_root(table.root(), Asid(0));
  WalkResult cold, warm;
  const DramCoreTiming& t = dram.core().core_timing();
  const Cycle at(10 * t.refi.count() + t.rfc.count() + 1000);  // between refreshes
  Runner r("runner", [&] {
    cold = walker.core().walk(a, AccessKind::kRead, true, at, true);
    warm = walker.core().walk(a, AccessKind::kRead, true, at + Cycles(5000), true);
    sync.finish();
  });
  sc_core::sc_start();
  ASSERT_EQ(cold.fault, FaultKind::kNone);
  // Four entry reads; the three non-leaf entries lacked A, so each read is
  // followed by its locked A write, which hits the line just filled in the L1D.
  ASSERT_EQ(cold.num_steps, 7U);
  const uint64_t path = (cc.l1d.latency + cc.l2.latency + cc.llc.latency + cc.miss_path).count();
  EXPECT_EQ(path, 102U);
  uint64_t sum = 0;
  unsigned reads = 0;
  for (unsigned i = 0; i < cold.num_steps; ++i) {
    const WalkStep& s = cold.steps[i];
    const uint64_t lat = (s.done - s.start).count();
    sum += lat;
    if (i > 0) {
      EXPECT_EQ(s.start, cold.steps[i - 1].done) << i;  // dependent
    }
    if (s.kind == WalkStep::Kind::kAdWrite) {
      EXPECT_EQ(s.served, MemSource::kL1) << i;
      EXPECT_EQ(lat, cc.l1d.latency.count()) << i;
      continue;
    }
    ++reads;
    EXPECT_EQ(s.served, MemSource::kDram) << i;
    // Each read: the on-chip path plus one DRAM access; 66-82 ns at 3 GHz.
    EXPECT_GE(lat, 198U) << i;
    EXPECT_LE(lat, 246U) << i;
  }
  EXPECT_EQ(reads, 4U);
  // The first reference opens a row in a precharged bank.
  EXPECT_EQ((cold.steps[0].done - cold.steps[0].start).count(),
            path + (t.controller + t.rcd + t.cl + t.bl).count());
  EXPECT_EQ((cold.done - at).count(), wc.overhead.count() + sum);
  EXPECT_EQ(dram.initiator_stats(Initiator::kWalker).requests, 4U);
  // Again: four L1D hits.
  ASSERT_EQ(warm.num_steps, 4U);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(warm.steps[i].served, MemSource::kL1) << i;
  EXPECT_EQ((warm.done - (at + Cycles(5000))).count(),
            wc.overhead.count() + 4 * cc.l1d.latency.count());
  // PML4 from the L1D: the A write and the warm read.
  EXPECT_EQ(walker.core().stats().refs_served[1][0], 2U);
  EXPECT_EQ(walker.core().stats().refs_served[4][3], 1U);  // PT from DRAM
}

}  // namespace
}  // namespace mmusim
