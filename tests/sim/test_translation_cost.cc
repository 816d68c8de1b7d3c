// Translation cost as defined in the README ("Translation cost"): the
// latency of each translation (TLB lookup start to physical address, merge
// waits and walker queueing in, fault handling out, the faulting walk and the
// replay in) and the translation / fault stall of the CPU (cycles during which
// the oldest unretired access waited for its translation / its fault). Every
// value is derived by hand below from the configuration.
//
// Symbols (built-in defaults unless overridden):
//   L  fixed memory latency of the test environment (100)
//   M  TLB miss latency before the walk = L1 miss 1 + L2 miss 9 = 10
//   O  walker.overhead = 2; paging-structure caches off where said (no probe)
//   C  os.minor_fault_cost = 1000
// An access "waits for its translation" from the end of its L1 TLB lookup
// (lookup + 1) until its physical address is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "models/cpu/translation_stall.h"
#include "tests/sim/analytic_machine.h"

namespace mmusim {
namespace {

using analytic::Machine;
using analytic::Overrides;

constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kFar = kBase + (uint64_t{1} << 39);  // another PML4 slot: tables of its own
constexpr uint64_t L = 100, M = 10, O = 2, C = 1000;

// PWCs off, so that a cold walk to a premapped page is O + 4 reads + 3 A-bit
// writes (its intermediate entries lack A) = O + 7L, whatever ran before.
Overrides no_pwc(Overrides o) {
  o["walker.pwc.pml4.entries"] = "0";
  o["walker.pwc.pdpt.entries"] = "0";
  o["walker.pwc.pd.entries"] = "0";
  return o;
}

// ------------------------------------------------------ the stall account --

TEST(TranslationStall, DisjointHeadIntervalsOfOverlappingWaits) {
  uint64_t xlat = 0, fault = 0;
  TranslationStall s(xlat, fault, 8);
  // Access 0 waits [1, 100); access 1 [2, 50) behind it: never the head
  // while waiting. Access 2 [3, 130): the head from 100 on.
  s.open(0, Cycle(0), Cycle(1));
  s.known(1, Cycle(0), Cycle(2), Cycle(50), Cycles(0), Cycle(50));  // queued behind 0
  s.open(2, Cycle(50), Cycle(3));
  EXPECT_EQ(xlat, 0U);  // nothing settles before access 0 does
  s.close(2, Cycle(130), Cycles(0), Cycle(130));
  EXPECT_EQ(xlat, 0U);
  s.close(0, Cycle(100), Cycles(0), Cycle(100));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(xlat, (100U - 1) + 0 + (130 - 100));  // 129 < the waits' sum 99 + 48 + 127
  // A faulting access alone: wait [200, 1500) of which 1000 are handling.
  s.known(3, Cycle(130), Cycle(200), Cycle(1500), Cycles(1000), Cycle(1500));
  EXPECT_EQ(xlat, 129U + 300);
  EXPECT_EQ(fault, 1000U);
  // An access whose wait ended before the previous one retired: no stall.
  s.known(4, Cycle(1500), Cycle(1400), Cycle(1450), Cycles(0), Cycle(1450));
  EXPECT_EQ(xlat, 429U);
}

// With the trace's data through the caches (cache.data) an access retires
// when its data is there, not when its translation is: a younger access
// whose walk ends while an older one still waits for its data was never the
// head while it waited, so it adds no translation stall.
TEST(TranslationStall, YoungerWalkUnderAnOlderDataMissIsNoStall) {
  uint64_t xlat = 0, fault = 0;
  TranslationStall s(xlat, fault, 8);
  // Access 0: an STLB hit, waiting [1, 10), its data there at 300.
  s.known(0, Cycle(0), Cycle(1), Cycle(10), Cycles(0), Cycle(300));
  EXPECT_EQ(xlat, 9U);
  // Access 1 misses both TLBs: waits [5, 200), all under access 0's data.
  s.open(1, Cycle(300), Cycle(5));
  s.close(1, Cycle(200), Cycles(0), Cycle(420));
  EXPECT_EQ(xlat, 9U);
  // Access 2 walks, waiting [6, 500) but the head only from 420 (1's
  // retirement); access 3, an STLB hit translated at 8, is queued behind it
  // and retires after 2's data (510): no stall of its own.
  s.open(2, Cycle(420), Cycle(6));
  s.known(3, Cycle(420), Cycle(7), Cycle(8), Cycles(0), Cycle(520));
  EXPECT_EQ(xlat, 9U);
  s.close(2, Cycle(500), Cycles(0), Cycle(510));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(xlat, 9U + 80);
  // Without the data side (R = D) the same waits count from each D on.
  uint64_t xlat2 = 0, fault2 = 0;
  TranslationStall t(xlat2, fault2, 8);
  t.known(0, Cycle(0), Cycle(1), Cycle(10), Cycles(0), Cycle(10));
  t.open(1, Cycle(10), Cycle(5));
  t.close(1, Cycle(200), Cycles(0), Cycle(200));
  EXPECT_EQ(xlat2, 9U + 190);
}

// Walks that overlap without a break (each access opens before the one
// ahead of it closes) never empty the queue: its storage must still stay
// bounded, not grow with the trace, and the account must stay exact. Access
// i waits [10i, 10i + 15): the head from 10i + 5 on (its predecessor done),
// so each adds 10 cycles after the first's 15.
TEST(TranslationStall, StorageStaysBoundedWhenTheQueueNeverEmpties) {
  uint64_t xlat = 0, fault = 0;
  TranslationStall s(xlat, fault, 8);
  constexpr uint64_t kN = 100000;
  s.open(0, Cycle(0), Cycle(0));
  size_t most = 0;
  for (uint64_t i = 1; i < kN; ++i) {
    s.open(i, Cycle(0), Cycle(10 * i));
    s.close(i - 1, Cycle(10 * (i - 1) + 15), Cycles(0), Cycle(10 * (i - 1) + 15));
    EXPECT_EQ(s.held(), 1U);
    most = std::max(most, s.stored());
  }
  s.close(kN - 1, Cycle(10 * (kN - 1) + 15), Cycles(0), Cycle(10 * (kN - 1) + 15));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(xlat, 15 + 10 * (kN - 1));
  EXPECT_LE(most, 2048U);  // compacted at 1024 settled entries, half the storage
}

// ---------------------------------------------- latencies, access by access --

TEST(TranslationCost, HitStlbHitAndMissInOrder) {
  // Window 1: every access is the head from issue to done. A 4-entry fully
  // associative L1 DTLB over five pages sends page 0 back to the STLB.
  Overrides o = {{"cpu.window", "1"},
                 {"cpu.issue_width", "1"},
                 {"tlb.l1d.4K.entries", "4"},
                 {"tlb.l1d.4K.ways", "4"}};
  Machine m(no_pwc(o), L);
  for (uint64_t i = 0; i < 5; ++i) m.premap(kBase + 4096 * i, PageSize::k4K, 0x40000 + i);
  m.access(kBase);  // miss: M + O + 4 reads + 3 A writes
  const uint64_t cold = M + O + 7 * L;
  EXPECT_EQ(m.cpu().translation_latency.max(), cold);
  EXPECT_EQ(m.cpu().translation_stall, cold - 1);  // from the end of the L1 lookup
  m.access(kBase + 8);                             // L1 hit: 1 cycle, never a stall
  EXPECT_EQ(m.cpu().translation_latency.min(), 1U);
  EXPECT_EQ(m.cpu().translation_stall, cold - 1);
  // Pages 1..4: walks that find A set in the intermediate entries now: M + O + 4L.
  for (uint64_t i = 1; i < 5; ++i) m.access(kBase + 4096 * i);
  const uint64_t warm = M + O + 4 * L;
  m.access(kBase);  // STLB hit: L1 miss 1 + L2 9
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.l2_hits, 1U);
  EXPECT_EQ(s.translation_latency.count(), 7U);
  EXPECT_EQ(s.translation_latency.sum(), cold + 1 + 4 * warm + 10);
  EXPECT_EQ(s.translation_stall, (cold - 1) + 4 * (warm - 1) + 9);
  EXPECT_EQ(s.fault_stall, 0U);
  EXPECT_EQ(m.finish(), cold + 1 + 4 * warm + 10);
}

TEST(TranslationCost, OverlappingMissesStallLessThanTheirSum) {
  // Width 1, two walker slots: A issues at 0, B (another PML4 slot) at 1;
  // both walks run at once, each M + O + 7L.
  Machine m(no_pwc({{"cpu.issue_width", "1"}, {"walker.max_walks", "2"}}), L);
  m.premap(kBase, PageSize::k4K, 0x40000);
  m.premap(kFar, PageSize::k4K, 0x40001);
  m.access(kBase);
  m.access(kFar);
  const uint64_t walk = M + O + 7 * L;  // 712
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.translation_latency.count(), 2U);
  EXPECT_EQ(s.translation_latency.sum(), 2 * walk);
  EXPECT_EQ(s.translation_latency.min(), walk);
  // Head A waits [1, 712); then B is the head and waits [712, 713).
  EXPECT_EQ(s.translation_stall, (walk - 1) + 1);
  EXPECT_EQ(m.finish(), 1 + walk);
  EXPECT_LT(m.core->stats().translation_stall, s.translation_latency.sum());
}

TEST(TranslationCost, QueuedWalkWaitsForTheWalkerInItsLatency) {
  // One walker slot: B's walk is requested at 1 + M = 11 and begins when A's
  // is done (712): its latency includes 701 cycles of queueing.
  Machine m(no_pwc({{"cpu.issue_width", "1"}, {"walker.max_walks", "1"}}), L);
  m.premap(kBase, PageSize::k4K, 0x40000);
  m.premap(kFar, PageSize::k4K, 0x40001);
  m.access(kBase);
  m.access(kFar);
  const uint64_t a_done = M + O + 7 * L;  // 712
  const uint64_t b_done = a_done + O + 7 * L;
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.translation_latency.max(), b_done - 1);
  EXPECT_EQ(s.translation_latency.sum(), a_done + (b_done - 1));
  EXPECT_EQ(m.walker().queue_cycles, a_done - (1 + M));
  EXPECT_EQ(s.translation_stall, b_done - 1);  // [1, 712) and [712, b_done)
  EXPECT_EQ(m.finish(), b_done);
}

TEST(TranslationCost, MergedMissWaitsForTheWalkItMergedInto) {
  // B, to A's page one cycle later, merges into A's MSHR entry and is done
  // with A's walk: latency 712 - 1. It is never the head while waiting.
  Machine m(no_pwc({{"cpu.issue_width", "1"}}), L);
  m.premap(kBase, PageSize::k4K, 0x40000);
  m.access(kBase);
  m.access(kBase + 64);
  const uint64_t walk = M + O + 7 * L;
  EXPECT_EQ(m.merges(), 1U);
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.translation_latency.count(), 2U);
  EXPECT_EQ(s.translation_latency.sum(), walk + (walk - 1));
  EXPECT_EQ(s.translation_stall, walk - 1);
  EXPECT_EQ(m.finish(), walk);
}

TEST(TranslationCost, FaultingAccessCountsItsWalksNotTheHandling) {
  // Window 1, PWCs on (probe p = 1): the fault walk reads the PML4E only
  // (M + O + p + L), the handler costs C, the replay walks M + O + p + 8L
  // (reads and A writes at four levels).
  Machine m({{"cpu.window", "1"}, {"cpu.issue_width", "1"}}, L);
  m.access(kBase);
  const uint64_t walk = M + O + 1 + L, replay = M + O + 1 + 8 * L;
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.translation_latency.count(), 1U);
  EXPECT_EQ(s.translation_latency.sum(), walk + replay);
  EXPECT_EQ(s.fault_latency.sum(), C);
  EXPECT_EQ(s.fault_stall, C);
  // From the end of the first L1 lookup to the physical address, less C.
  EXPECT_EQ(s.translation_stall, walk + replay - 1);
  EXPECT_EQ(m.finish(), walk + C + replay);
}

TEST(TranslationCost, FaultRaisedBehindAnOlderMissWaitsForItAsTranslation) {
  // A (premapped) walks [10, 712); B, at 1 to an unmapped page, finds the
  // fault at 11 + O + L = 113 but is raised only when A has retired (712,
  // a precise fault): 1000 cycles of handling, then a replay of M + O + 8L.
  Machine m(no_pwc({{"cpu.issue_width", "1"}, {"walker.max_walks", "2"}}), L);
  m.premap(kBase, PageSize::k4K, 0x40000);
  m.access(kBase);
  m.access(kFar);
  const uint64_t a_done = M + O + 7 * L, raised = a_done, resume = raised + C;
  const uint64_t b_done = resume + M + O + 8 * L;
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.faults, 1U);
  EXPECT_EQ(s.translation_latency.count(), 2U);
  // B: lookup 1 to the raise, then the replay; the handling is fault time.
  EXPECT_EQ(s.translation_latency.max(), (raised - 1) + (b_done - resume));
  EXPECT_EQ(s.fault_stall, C);
  // Head A [1, 712), then head B [712, b_done) less the handling.
  EXPECT_EQ(s.translation_stall, (a_done - 1) + (b_done - a_done - C));
  EXPECT_EQ(m.finish(), b_done);
}

TEST(TranslationCost, PageCrossingAccessIsTwoTranslations) {
  // 8 bytes at the last 4 bytes of a page: two translations, each with its
  // latency (the second half issues one slot later and merges nothing).
  Machine m(no_pwc({{"cpu.window", "1"}, {"cpu.issue_width", "1"}}), L);
  m.premap(kBase, PageSize::k4K, 0x40000);
  m.premap(kBase + 4096, PageSize::k4K, 0x40001);
  m.access(kBase + 4092);
  const CpuStats& s = m.cpu();
  EXPECT_EQ(s.records, 1U);
  EXPECT_EQ(s.translations, 2U);
  EXPECT_EQ(s.translation_latency.count(), 2U);
  // The second page's walk finds A set in the intermediate entries.
  EXPECT_EQ(s.translation_latency.sum(), (M + O + 7 * L) + (M + O + 4 * L));
}

TEST(TranslationCost, UniformFootprintStallsStayWithinTheCycles) {
  // 16 MiB uniform random reads with faults on first touch, the default
  // window of 64: latencies overlap heavily, stalls never exceed the cycles.
  Machine m({}, L);
  m.run("uniform,footprint=16M,count=100000,seed=3");
  const uint64_t cycles = m.finish();
  const CpuStats& s = m.core->stats();
  EXPECT_EQ(s.translation_latency.count(), s.translations);
  EXPECT_GT(s.translation_latency.sum(), cycles);  // the sum of overlapping latencies
  EXPECT_GT(s.translation_stall, 0U);
  EXPECT_EQ(s.fault_stall, s.fault_latency.sum());  // every fault is handled at the head
  EXPECT_LE(s.translation_stall + s.fault_stall, cycles);
}

}  // namespace
}  // namespace mmusim
