// The CPU core's miss path: concurrent walks as step machines whose memory
// references reach DRAM in time order, MSHR merging by page whatever the
// access kind (2M/1G walks absorb every 4 KiB part), dirty re-walks of merged
// writes, and precise faults. Plain C++ (no SystemC), exact expectations.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <vector>

#include "models/arch/paging.h"
#include "models/common/phys_mem.h"
#include "models/common/random.h"
#include "models/cpu/cpu_core.h"
#include "models/dram/dram.h"
#include "models/os/first_touch.h"
#include "tests/common/cpu_fakes.h"
#include "tests/dram/dram_test_util.h"

namespace mmusim {
namespace {

using testing::FakeEnv;

TraceRecord rec(uint64_t addr, AccessKind k = AccessKind::kRead) {
  TraceRecord r;
  r.addr = addr;
  r.size = 8;
  r.kind = k;
  return r;
}

// DRAM of dram_test::unit_config (1 nCK = 1 core cycle, mapping
// ro:ra:bg:ba:co:ch with 64-byte lines and 64 columns): bank = frame bits
// 0-1, bank group = frame bits 2-3, row = frame bits 4 and up.
constexpr uint64_t frame(uint64_t row, uint64_t bg, uint64_t bank) {
  return (row << 4) | (bg << 2) | bank;
}

// Two pages whose walks share only the root table (one row of bank group 2)
// and read every other level in a bank of its own (bank group 0 for A, 1 for
// B, banks 1-3, row 1): A and D bits preset, so walks only read.
struct TwoWalks {
  static constexpr uint64_t kA = uint64_t{1} << 39;  // PML4 index 1
  static constexpr uint64_t kB = uint64_t{2} << 39;  // PML4 index 2
  PhysMem mem;
  Dram dram{dram_test::unit_config()};
  FakeEnv env{dram};
  std::unique_ptr<CpuCore> core;

  explicit TwoWalks(unsigned max_walks) {
    const PagingModeInfo& m = paging_mode_info(PagingMode::k4Level);
    const uint64_t flags = pte::kRW | pte::kUS | pte::kA;
    const uint64_t root = frame(1, 2, 0) << 12;
    auto chain = [&](uint64_t a, uint64_t bg, uint64_t data_pfn) {
      uint64_t table = root;
      for (unsigned l = 0; l < 4; ++l) {
        const PhysAddr ea(table + 8 * uint64_t{level_index(m, l, LinearAddr(a))});
        const bool leaf = l == 3;
        const uint64_t next = leaf ? data_pfn << 12 : frame(1, bg, l + 1) << 12;
        mem.write64(ea, make_entry(m, l, leaf, next, flags | (leaf ? pte::kD : 0)));
        table = next;
      }
    };
    chain(kA, 0, 0x1000);
    chain(kB, 1, 0x2000);
    CpuCoreConfig c;
    c.ag.issue_width = 2;
    c.walker.max_walks = max_walks;  // paging-structure caches off (default)
    core = std::make_unique<CpuCore>(0, c, mem, env);
    core->set_root(PhysAddr(root));
  }
};

// Both accesses issue at cycle 0 and miss both TLB levels (M = L1 1 + L2 9 =
// 10); each walk begins at 10 and reads its first entry at 10 + overhead 2.
// A closed bank costs miss = ctrl 10 + tRCD 13 + tCL 11 + tBL 4 = 38.
TEST(CpuMiss, TwoColdWalksOverlapOnTwoWalkerSlots) {
  TwoWalks w(2);
  const DramTiming& t = w.dram.config().timing;
  const uint64_t miss = w.dram.config().controller_latency + t.tRCD + t.tCL + t.tBL;
  w.core->process(rec(TwoWalks::kA));
  w.core->process(rec(TwoWalks::kB));
  w.core->finish();
  // A: four row misses back to back. B reads the root's row right after A
  // opened it: a row hit, its column command tCCD_L after A's; its other
  // three levels are misses in banks of their own, each starting when the
  // previous read returns, so B stays tCCD_L behind A.
  const uint64_t done_a = 12 + 4 * miss;
  const uint64_t done_b = done_a + t.tCCD_L;
  EXPECT_EQ(w.core->walker().stats().latency.max(), done_b - 10);
  EXPECT_EQ(w.core->walker().stats().latency.min(), done_a - 10);
  EXPECT_EQ(w.core->stats().translation_latency.sum(), done_a + done_b);
  EXPECT_EQ(w.core->stats().cycles, done_b);
  // The eight reads reached DRAM in time order.
  ASSERT_EQ(w.env.log.size(), 8U);
  for (size_t i = 1; i < w.env.log.size(); ++i) EXPECT_LE(w.env.log[i - 1].at, w.env.log[i].at);
  EXPECT_EQ(w.dram.stats().row_hits, 1U);
}

TEST(CpuMiss, OneWalkerSlotSerializesTheSameWalks) {
  TwoWalks w(1);
  const DramTiming& t = w.dram.config().timing;
  const uint64_t miss = w.dram.config().controller_latency + t.tRCD + t.tCL + t.tBL;
  const uint64_t hit = w.dram.config().controller_latency + t.tCL + t.tBL;
  w.core->process(rec(TwoWalks::kA));
  w.core->process(rec(TwoWalks::kB));
  w.core->finish();
  // B begins when A is done and finds the root's row still open.
  const uint64_t done_a = 12 + 4 * miss;
  const uint64_t done_b = done_a + 2 + hit + 3 * miss;
  EXPECT_EQ(w.core->stats().cycles, done_b);
  EXPECT_EQ(w.core->walker().stats().queue_cycles, done_a - 10);
}

// Independent random walks (every access a different page of a 1 GiB
// footprint, tables pre-built with A/D set) through a DDR4-3200 DRAM: with
// two walker slots the walks of one CPU overlap in DRAM, and the walk
// throughput approaches twice that of one slot, less the bank conflicts
// between the two streams (1.66x here; walks served in call order, before
// the step machine, gave 1.29x).
TEST(CpuMiss, TwoWalkersNearlyDoubleRandomWalkThroughput) {
  double cycles[2] = {0, 0};
  for (unsigned slots : {1U, 2U}) {
    PhysMem mem;
    DramConfig dc;  // DDR4-3200 preset at the default 3 GHz core clock
    Dram dram(dc);
    FakeEnv env(dram);
    FirstTouchConfig oc;
    FirstTouchMapper os(oc, mem);
    env.os = &os;
    CpuCoreConfig c;
    c.walker.max_walks = slots;
    CpuCore core(0, c, mem, env);
    core.set_root(os.root());
    SplitMix64 rng(42);
    constexpr uint64_t kPages = 1 << 18, kAccesses = 20000;
    std::vector<uint64_t> pages(kAccesses);
    for (uint64_t& pg : pages) {
      pg = rng.below(kPages);
      os.page_table().map(LinearAddr(0x100000000 + (pg << 12)), Pfn(0x100000 + pg), PageSize::k4K,
                          pte::kRW | pte::kUS | pte::kA | pte::kD);
    }
    for (uint64_t pg : pages) core.process(rec(0x100000000 + (pg << 12)));
    core.finish();
    ASSERT_EQ(core.stats().faults, 0U);
    cycles[slots - 1] = static_cast<double>(core.stats().cycles);
  }
  const double speedup = cycles[0] / cycles[1];
  EXPECT_GT(speedup, 1.6) << speedup;
  EXPECT_LT(speedup, 2.0) << speedup;
}

// One CPU of the Skylake defaults on a fixed-latency memory with the
// first-touch OS (every page faults once, then maps).
struct Plain {
  PhysMem mem;
  FakeEnv env{100};
  std::unique_ptr<FirstTouchMapper> os;
  std::unique_ptr<CpuCore> core;
  explicit Plain(const CpuCoreConfig& c = {}, const FirstTouchConfig& oc = {}) {
    os = std::make_unique<FirstTouchMapper>(oc, mem);
    env.os = os.get();
    core = std::make_unique<CpuCore>(0, c, mem, env);
    core->set_root(os->root());
  }
  [[nodiscard]] const MshrStats& mshr() const { return core->tlb().mshr().stats(); }
};

CpuCoreConfig serialized() {
  CpuCoreConfig c;
  c.ag.window = 1;
  c.ag.issue_width = 1;
  c.tlb.mshr_entries = 1;
  c.walker.max_walks = 1;
  return c;
}

// A read then a write to each of many pages: the write finds the read's
// walk pending and merges into it (a different access kind), so it is not a
// second L1 DTLB miss. The serialized CPU counts the same misses.
TEST(CpuMiss, ReadThenWriteMissesAgreeWithTheSerializedCpu) {
  constexpr uint64_t kPages = 2000;
  Plain fast, slow(serialized());
  for (Plain* p : {&fast, &slow}) {
    for (uint64_t i = 0; i < kPages; ++i) {
      p->core->process(rec(0x10000000 + 4096 * i, AccessKind::kRead));
      p->core->process(rec(0x10000000 + 4096 * i + 8, AccessKind::kWrite));
    }
    p->core->finish();
  }
  const uint64_t mf = fast.core->tlb().level_stats().l1d_misses;
  const uint64_t ms = slow.core->tlb().level_stats().l1d_misses;
  EXPECT_EQ(ms, kPages);
  EXPECT_LE(mf > ms ? mf - ms : ms - mf, ms / 100);
  EXPECT_EQ(fast.mshr().merges, kPages);  // every write merged
  // Each write found D clear (the read walk mapped the page clean) and
  // re-walked once to set it, in both CPUs.
  EXPECT_EQ(fast.core->stats().dirty_assists, kPages);
  EXPECT_EQ(slow.core->stats().dirty_assists, kPages);
  EXPECT_EQ(fast.core->stats().faults, kPages);
}

// A fetch after a data access to the same page merges too, and the walk
// fills both L1 TLBs.
TEST(CpuMiss, FetchMergesIntoAPendingDataWalkAndFillsBothSides) {
  Plain p;
  p.core->process(rec(0x400000));  // faults, maps, replays: pending walk
  p.core->process(rec(0x400040, AccessKind::kFetch));
  p.core->drain();
  EXPECT_EQ(p.mshr().merges, 1U);
  EXPECT_EQ(p.core->tlb().level_stats().l1i_misses, 0U);
  p.core->process(rec(0x400080, AccessKind::kFetch));
  p.core->process(rec(0x4000c0, AccessKind::kRead));
  p.core->finish();
  EXPECT_EQ(p.core->stats().l1_hits, 2U);
  EXPECT_EQ(p.core->walker().stats().walks, 2U);  // the fault walk and the replay
}

// A pending 2 MiB walk absorbs the misses to every 4 KiB part of its page.
TEST(CpuMiss, PendingLargePageWalkAbsorbsEveryFourKPart) {
  FirstTouchConfig oc;
  oc.regions = {{0x40000000, 0x40200000, PageSize::k2M}};
  Plain p({}, oc);
  for (uint64_t i = 0; i < 128; ++i) p.core->process(rec(0x40000000 + 4096 * i));
  p.core->finish();
  // The first access faults (one walk) and replays (a second walk); the next
  // 63 accesses (the window holds 64) issue while the replay is pending and
  // merge into it; the rest issue after it retired and hit the 2M entry.
  EXPECT_EQ(p.core->walker().stats().walks, 2U);
  EXPECT_EQ(p.mshr().merges, 63U);
  EXPECT_EQ(p.core->tlb().level_stats().l1d_misses, 1U);
  EXPECT_EQ(p.core->stats().l1_hits, 128U - 64U);
}

// Late faults: the tables change under a pending walk. A walk is planned
// when it begins; with one walker slot, X's walk waits behind A's, and
// another agent unmaps X after X's outlook found it mapped. kA, kX and kZ
// are mapped before the run.
CpuCoreConfig one_walker() {
  CpuCoreConfig c;
  c.walker.max_walks = 1;
  return c;
}
struct Late : Plain {
  static constexpr uint64_t kA = 0x400000, kX = 0x500000, kZ = 0x600000;
  Late() : Plain(one_walker()) {
    PageTable& pt = os->page_table();
    const uint64_t f = pte::kRW | pte::kUS | pte::kA | pte::kD;
    EXPECT_EQ(pt.map(LinearAddr(kA), Pfn(0x902), PageSize::k4K, f), MapResult::kOk);
    EXPECT_EQ(pt.map(LinearAddr(kX), Pfn(0x900), PageSize::k4K, f), MapResult::kOk);
    EXPECT_EQ(pt.map(LinearAddr(kZ), Pfn(0x901), PageSize::k4K, f), MapResult::kOk);
  }
  void unmap_x() { ASSERT_TRUE(os->page_table().unmap(LinearAddr(kX)).has_value()); }
  // A core like the fixture's that writes --explain blocks (up to 100) to `log`.
  void explain_to(ExplainLog& log) {
    core = std::make_unique<CpuCore>(0, one_walker(), mem, env, 100, &log);
    core->set_root(os->root());
  }
};

// Without a scheduler the late fault is handled in place: the walk that
// found the page gone raises it, the first-touch OS maps a new frame, the
// access replays its walk and completes then.
TEST(CpuLateFault, HandledInPlaceWithoutAScheduler) {
  Late p;
  p.core->process(rec(Late::kA));
  p.core->process(rec(Late::kX));  // the outlook finds it mapped; its walk waits
  p.unmap_x();
  p.core->finish();
  const CpuStats& s = p.core->stats();
  EXPECT_EQ(s.late_faults, 1U);
  EXPECT_EQ(s.faults, 1U);
  EXPECT_EQ(s.records, 2U);
  EXPECT_EQ(s.translations, 2U);
  ASSERT_EQ(p.env.faults.size(), 1U);
  EXPECT_EQ(p.env.faults[0].addr.value(), Late::kX);
  EXPECT_FALSE(p.env.faults[0].can_block);
  // Each reference takes 100 cycles. A's walk begins at 12, reads three
  // table entries and sets their A bits (200 each), reads its leaf: done at
  // 712. X's walk begins then (+2), reads four entries and finds X gone.
  EXPECT_EQ(p.env.faults[0].raised, Cycle(12 + 3 * 200 + 100 + 2 + 4 * 100));
  // A's walk, the walk that found X gone, X's replay.
  EXPECT_EQ(p.core->walker().stats().walks, 3U);
  EXPECT_FALSE(p.core->late_blocked());
}

// Under a scheduler a late fault may put its task to sleep. The younger
// records stand (the hit on Z, the access merged into X's walk); X's access
// is given back, to replay first when the task runs again. While the task
// sleeps, an access that faults is given back too, without a second fault.
TEST(CpuLateFault, SleepsAndGivesTheAccessBackUnderAScheduler) {
  Late p;
  p.env.sleep_when_allowed = true;
  p.core->set_can_block(true);
  p.core->process(rec(Late::kZ));
  p.core->quiesce();  // Z is in the TLBs
  p.core->process(rec(Late::kA));
  p.core->process(rec(Late::kX, AccessKind::kWrite));
  p.unmap_x();
  p.core->process(rec(Late::kX + 8));  // merges into X's walk
  p.core->process(rec(Late::kZ + 8));  // an L1 TLB hit
  EXPECT_FALSE(p.core->late_blocked());
  p.core->quiesce();
  ASSERT_TRUE(p.core->late_blocked());
  const CpuStats& s = p.core->stats();
  EXPECT_EQ(s.late_faults, 1U);
  EXPECT_EQ(s.faults, 1U);
  EXPECT_EQ(s.records, 4U);  // X's access is counted by its replay
  EXPECT_EQ(s.translations, 4U);
  EXPECT_EQ(s.by_kind[static_cast<int>(AccessKind::kWrite)], 0U);
  ASSERT_EQ(p.env.faults.size(), 1U);
  EXPECT_TRUE(p.env.faults[0].can_block);
  EXPECT_EQ(p.env.faults[0].addr.value(), Late::kX);
  EXPECT_EQ(p.env.faults[0].raised, p.env.log.back().done);  // X's walk found it gone
  EXPECT_EQ(s.l1_hits, 1U);                                  // Z + 8 stands
  // While the task sleeps no walk starts: an access that misses the L1 TLBs
  // (this one would fault) is given back before its lookup. (The CPU runs
  // no record of the task after the one that found the late fault.)
  const TraceRecord w = rec(0x700000);
  p.core->process(w);
  EXPECT_TRUE(p.core->take_blocked(w));
  EXPECT_EQ(p.env.faults.size(), 1U);
  EXPECT_EQ(s.faults, 1U);
  EXPECT_EQ(s.records, 4U);
  const std::vector<TraceRecord> back = p.core->take_late_replays();
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].addr, Late::kX);
  EXPECT_EQ(back[0].size, 8U);
  EXPECT_EQ(back[0].kind, AccessKind::kWrite);
  EXPECT_FALSE(p.core->late_blocked());
  // The task runs again: the replay faults (this fake kernel mapped
  // nothing while it slept) and completes in place.
  p.env.sleep_when_allowed = false;
  p.core->process(back[0]);
  p.core->finish();
  EXPECT_EQ(s.records, 5U);
  EXPECT_EQ(s.by_kind[static_cast<int>(AccessKind::kWrite)], 1U);
  EXPECT_EQ(s.faults, 2U);
  EXPECT_EQ(s.late_faults, 1U);
}

// The late fault is found while an access waits for a free MSHR entry (two
// entries, held by X's and Z's walks): the task sleeps, and that access is
// given back before its walk starts.
TEST(CpuLateFault, AnAccessWaitingForAnMshrEntryIsGivenBack) {
  CpuCoreConfig c = one_walker();
  c.tlb.mshr_entries = 2;
  Late p;
  std::ostringstream out;
  ExplainLog log(&out);
  p.core = std::make_unique<CpuCore>(0, c, p.mem, p.env, 100, &log);
  p.core->set_root(p.os->root());
  p.env.sleep_when_allowed = true;
  p.core->set_can_block(true);
  p.core->process(rec(Late::kA));
  p.core->process(rec(Late::kX));
  p.unmap_x();
  p.core->process(rec(Late::kZ));  // waits for A's entry; X's walk begins, then Z's queues
  EXPECT_FALSE(p.core->late_blocked());
  const TraceRecord w = rec(0x700000);
  p.core->process(w);  // waits for an entry: X's walk completes and finds X gone
  ASSERT_TRUE(p.core->late_blocked());
  EXPECT_TRUE(p.core->take_blocked(w));
  p.core->quiesce();
  EXPECT_EQ(p.core->walker().stats().walks, 3U);  // A's, X's and Z's: none for W
  EXPECT_EQ(p.env.faults.size(), 1U);
  const std::vector<TraceRecord> back = p.core->take_late_replays();
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].addr, Late::kX);
  EXPECT_EQ(p.core->stats().records, 2U);  // A and Z
  // W's attempt has its number (#4, after A, X and Z) and says why it stopped.
  const std::string text = out.str();
  const size_t w4 = text.find("#4 cpu0 R 0x700000");
  ASSERT_NE(w4, std::string::npos);
  EXPECT_NE(text.find("not delivered", w4), std::string::npos);
}

// With --explain: a late fault sleeps while the current record's own fault
// is being raised (its walk drain found the late one). That access is given
// back without a fault of its own ("not delivered"), its block is complete
// (a streamed explain is not held back), and every attempt has a number of
// its own, the given-back ones included.
TEST(CpuLateFault, ExplainSaysNotDeliveredAndNumbersEveryAttempt) {
  Late p;
  std::ostringstream out;
  ExplainLog log(&out);
  p.explain_to(log);
  p.env.sleep_when_allowed = true;
  p.core->set_can_block(true);
  p.core->process(rec(Late::kA));
  p.core->process(rec(Late::kX));  // its walk waits behind A's
  p.unmap_x();
  const TraceRecord y = rec(0x700000);  // not mapped: a precise fault, raised after the drain
  p.core->process(y);
  ASSERT_TRUE(p.core->late_blocked());
  EXPECT_TRUE(p.core->take_blocked(y));
  ASSERT_EQ(p.env.faults.size(), 1U);  // X's; Y's was not delivered
  EXPECT_EQ(p.env.faults[0].addr.value(), Late::kX);
  // Every block so far is closed and written (nothing waits for finish()).
  const std::string text = out.str();
  EXPECT_NE(text.find("not delivered: the task sleeps in an older access's late fault"),
            std::string::npos);
  EXPECT_NE(text.find("#1 "), std::string::npos);
  EXPECT_NE(text.find("#2 "), std::string::npos);
  EXPECT_NE(text.find("#3 "), std::string::npos);
  const std::vector<TraceRecord> back = p.core->take_late_replays();
  ASSERT_EQ(back.size(), 1U);
  // The replays: X (given back late), then Y. Each attempt gets a new number.
  p.env.sleep_when_allowed = false;
  p.core->process(back[0]);
  p.core->process(y);
  p.core->finish();
  const std::string all = out.str();
  EXPECT_NE(all.find("#4 "), std::string::npos);
  EXPECT_NE(all.find("#5 "), std::string::npos);
  EXPECT_EQ(all.find("#6 "), std::string::npos);
}

// With --explain, a late fault's block shows the walk that found the page
// gone, the handling and the replayed walk (the timing of
// HandledInPlaceWithoutAScheduler: X's walk reads four entries from 714, the
// first-touch OS takes 1000 cycles, the replay looks the TLBs up (10 cycles)
// and walks again, setting A in the new leaf); the access merged into that
// walk says what it waits for.
TEST(CpuLateFault, ExplainShowsTheWalkTheHandlingAndTheReplay) {
  Late p;
  std::ostringstream out;
  ExplainLog log(&out);
  p.explain_to(log);
  p.core->process(rec(Late::kA));
  p.core->process(rec(Late::kX));
  p.core->process(rec(Late::kX + 8));  // merges into X's walk
  p.unmap_x();
  p.core->finish();
  ASSERT_EQ(p.core->stats().late_faults, 1U);
  const std::string text = out.str();
  const size_t x = text.find("#2 cpu0 R 0x500000 issue@0\n");
  ASSERT_NE(x, std::string::npos) << text;
  const size_t merged = text.find("#3 cpu0 R 0x500008 issue@1\n");
  ASSERT_NE(merged, std::string::npos) << text;
  const std::string block = text.substr(x, merged - x);
  size_t at = 0;
  for (const char* want :
       {"  walk: slot @712\n", "    read PT[256] @", " = 0x0  1014->1114 (100 cycles)\n",
        "  fault: not_present at PT, raised@1114 -> page-fault handler\n",
        "  late: the page tables changed under the walk",
        "  kernel: first_touch, 1000 cycles (alloc 1000), resume@2114: replay\n",
        "  walk: slot @2124\n", "2426->2526 (100 cycles)\n", "  A/D  PT[256] @",
        "2526->2626 (100 cycles)\n", ", done@2626, translation 2626 cycles\n"}) {
    const size_t f = block.find(want, at);
    ASSERT_NE(f, std::string::npos) << "missing, in order: " << want << "\n" << block;
    at = f + 1;
  }
  EXPECT_NE(text.find("whose walk found a late fault: done when it is handled\n", merged),
            std::string::npos)
      << text;
}

// A write merging into a pending walk of a read-only page cannot complete
// from it: it waits for the fill, re-walks and faults precisely.
TEST(CpuMiss, MergedWriteToAReadOnlyPageFaultsAfterTheFill) {
  Plain p;
  PageTable& pt = p.os->page_table();
  ASSERT_EQ(pt.map(LinearAddr(0x500000), Pfn(0x900), PageSize::k4K, pte::kUS | pte::kA),
            MapResult::kOk);
  p.core->process(rec(0x500000));
  p.core->process(rec(0x500008, AccessKind::kWrite));
  p.core->finish();
  EXPECT_EQ(p.mshr().merges, 0U);
  EXPECT_EQ(p.core->stats().faults_by_kind[static_cast<int>(FaultKind::kWriteProtect)], 1U);
  EXPECT_EQ(p.core->stats().skipped, 1U);  // the first-touch OS skips it
  ASSERT_EQ(p.env.faults.size(), 1U);
  EXPECT_EQ(p.env.faults[0].kind, AccessKind::kWrite);
}

// MOV CR3 semantics: a second address space (its own page table and PCID);
// with PCIDs the first space's entries survive the round trip, with flushes
// they do not. Each switch waits for the pending walks (serializing).
TEST(CpuContextSwitch, PcidKeepsEntriesFlushDropsThem) {
  for (const CtxSwitchTlb policy : {CtxSwitchTlb::kPcid, CtxSwitchTlb::kFlush}) {
    SCOPED_TRACE(std::string(ctx_switch_tlb_name(policy)));
    CpuCoreConfig c;
    c.ctx_switch = policy;
    FirstTouchConfig low, high;  // the two kernels' frames must not overlap
    low.phys_bytes = 1ULL << 30;
    high.reserved_low = 2ULL << 30;
    high.phys_bytes = 4ULL << 30;
    Plain p(c, low);
    FirstTouchMapper other(high, p.mem);  // the second process's page table
    p.core->process(rec(0x400000));       // process 1: faults, maps, fills
    p.core->drain();
    const CpuContext first = p.core->context();
    EXPECT_EQ(first.pid, 1U);
    const Cycle t = p.core->switch_to(CpuContext{2, 2, Asid(2), other.root()}, Cycle(50000));
    EXPECT_EQ(t, Cycle(50000));
    EXPECT_EQ(p.core->context().pcid, Asid(2));
    EXPECT_EQ(p.core->walker().root(), other.root());
    p.env.os = &other;
    p.core->process(rec(0x400000));  // process 2's own page: another fault
    p.core->drain();
    EXPECT_EQ(other.stats().faults, 1U);
    p.core->switch_to(first, Cycle(100000));
    p.env.os = p.os.get();
    const uint64_t misses = p.core->stats().tlb_misses;
    p.core->process(rec(0x400008));
    p.core->finish();
    EXPECT_EQ(p.core->stats().tlb_misses - misses, policy == CtxSwitchTlb::kPcid ? 0U : 1U);
    EXPECT_EQ(p.core->stats().context_switches, 2U);
    EXPECT_EQ(p.os->stats().faults, 1U);  // process 1's page stayed mapped
  }
}

// A shootdown received by a plain core: applied as an interrupt after the
// pending walks, costing cfg.ipi_cost cycles, and the page misses afterwards.
TEST(CpuShootdown, ReceivedInvalidationCostsTheIpiAndDropsTheEntry) {
  CpuCoreConfig c;
  c.ipi_cost = Cycles(777);
  Plain p(c);
  p.core->process(rec(0x400000));
  p.core->drain();
  Shootdown sd;
  sd.kind = Shootdown::Kind::kPage;
  sd.addr = LinearAddr(0x400000);
  sd.pcid = p.core->context().pcid;
  p.core->post(sd, Cycle(5000));  // taken at the first access at or after cycle 5000
  EXPECT_TRUE(p.core->has_shootdowns());
  p.core->receive_shootdowns(Cycle(4999));  // not due yet: nothing happens
  EXPECT_TRUE(p.core->has_shootdowns());
  EXPECT_EQ(p.core->stats().shootdowns, 0U);
  p.core->receive_shootdowns(Cycle(5000));
  EXPECT_FALSE(p.core->has_shootdowns());
  const uint64_t misses = p.core->stats().tlb_misses;
  p.core->process(rec(0x400008));
  p.core->finish();
  EXPECT_EQ(p.core->stats().shootdowns, 1U);
  EXPECT_EQ(p.core->stats().shootdown_cycles, 777U);
  EXPECT_EQ(p.core->stats().tlb_misses - misses, 1U);  // the entry was dropped
  EXPECT_EQ(p.os->stats().faults, 1U);                 // the page is still mapped
  EXPECT_EQ(p.core->stats().reclaim_shootdowns, 0U);   // not reclaim's
}

// Reclaim's unmap shootdowns are counted, and those that found the page still
// in a TLB: its Accessed bit had been cleared without a flush, so the CPU
// could use the page without setting it again (issue 12's hidden references).
TEST(CpuShootdown, ReclaimUnmapsCountThePagesATlbStillHeld) {
  Plain p;
  p.core->process(rec(0x400000));
  p.core->drain();
  Shootdown sd;
  sd.kind = Shootdown::Kind::kPage;
  sd.pcid = p.core->context().pcid;
  sd.reclaim = true;
  sd.addr = LinearAddr(0x400000);  // cached: in the L1 DTLB and the STLB (one page)
  p.core->post(sd, Cycle(0));
  sd.addr = LinearAddr(0x900000);  // never used: in no TLB
  p.core->post(sd, Cycle(0));
  sd.addr = LinearAddr(0xa00000);  // due later: stays queued
  p.core->post(sd, Cycle(uint64_t{1} << 40));
  p.core->receive_shootdowns(Cycle(0));
  EXPECT_TRUE(p.core->has_shootdowns());
  p.core->finish();
  EXPECT_EQ(p.core->stats().shootdowns, 2U);
  EXPECT_EQ(p.core->stats().reclaim_shootdowns, 2U);
  EXPECT_EQ(p.core->stats().reclaim_tlb_resident, 1U);
}

}  // namespace
}  // namespace mmusim
