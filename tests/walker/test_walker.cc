#include <gtest/gtest.h>

#include "models/os/page_table.h"
#include "models/walker/walker.h"
#include "tests/walker/fixed_memory.h"

namespace mmusim {
namespace {

constexpr uint64_t kMem = 100;     // DRAM latency per reference, cycles
constexpr uint64_t kOverhead = 2;  // walker overhead, cycles

struct Rig {
  explicit Rig(PagingMode mode, std::array<PwcConfig, 5> pwc = {}, unsigned max_walks = 2)
      : frames(1ULL << 32, 1ULL << 20, 7),
        table(mode, mem, frames),
        timing(kMem),
        walker(make_cfg(mode, pwc, max_walks), mem, timing) {
    walker.set_root(table.root(), Asid(0));
  }
  static WalkerConfig make_cfg(PagingMode mode, std::array<PwcConfig, 5> pwc, unsigned mw) {
    WalkerConfig c;
    c.mode = mode;
    c.overhead = Cycles(kOverhead);
    c.pwc = pwc;
    c.max_walks = mw;
    return c;
  }
  uint64_t leaf(LinearAddr a, PageSize s) {
    PhysAddr ea = *table.leaf_entry_address(a, s);
    return mem.read_entry(ea, table.mode().entry_bytes);
  }
  PhysMem mem;
  PageFrameAllocator frames;
  PageTable table;
  testing::FixedLatencyMemory timing;
  Walker walker;
};

struct ModeSize {
  PagingMode mode;
  PageSize size;
  unsigned reads;  // entries read from memory by a walk to a leaf of this size
};

class WalkerModeSize : public ::testing::TestWithParam<ModeSize> {};

// A cold walk reads one entry per in-memory level and sets A in each of them
// (non-leaf entries and the leaf): latency = overhead + 2 * reads * kMem.
TEST_P(WalkerModeSize, ColdWalkTranslatesAndSetsAccessedBits) {
  auto p = GetParam();
  Rig rig(p.mode);
  LinearAddr a(0x40000000ULL + 0x2345678ULL + (p.size == PageSize::k1G ? 0x40000000ULL : 0));
  a = LinearAddr(a.value() & 0xFFFFFFFFULL);
  Pfn target(0xC0000000ULL >> 12);  // 3 GiB: aligned for every page size, below 4 GiB
  ASSERT_EQ(rig.table.map(a, target, p.size, pte::kRW | pte::kUS), MapResult::kOk);
  WalkResult r = rig.walker.walk(a, AccessKind::kRead, true, Cycle(1000));
  ASSERT_EQ(r.fault, FaultKind::kNone);
  EXPECT_EQ(r.translation.size, p.size);
  EXPECT_EQ(r.translation.pfn, target);
  EXPECT_EQ(r.translation.phys(a).value(),
            (target.value() << 12) | (a.value() & (page_bytes(p.size) - 1)));
  EXPECT_EQ(r.mem_refs, 2 * p.reads);
  EXPECT_EQ(r.ad_writes, p.reads);
  EXPECT_EQ(r.done, Cycle(1000 + kOverhead + uint64_t{2} * p.reads * kMem));
  uint64_t e = rig.leaf(a, p.size);
  EXPECT_TRUE(e & pte::kA);
  EXPECT_FALSE(e & pte::kD);
  EXPECT_FALSE(r.translation.perms & kPermDirty);

  // Warm (A bits set, no PWC): reads only.
  WalkResult r2 = rig.walker.walk(a, AccessKind::kRead, true, Cycle(5000));
  EXPECT_EQ(r2.mem_refs, p.reads);
  EXPECT_EQ(r2.done, Cycle(5000 + kOverhead + p.reads * kMem));
  // A write sets D in the leaf with one more timed write.
  WalkResult r3 = rig.walker.walk(a, AccessKind::kWrite, true, Cycle(9000));
  EXPECT_EQ(r3.mem_refs, p.reads + 1);
  EXPECT_EQ(r3.done, Cycle(9000 + kOverhead + (p.reads + 1) * kMem));
  EXPECT_TRUE(rig.leaf(a, p.size) & pte::kD);
  EXPECT_TRUE(r3.translation.perms & kPermDirty);
}

INSTANTIATE_TEST_SUITE_P(AllModes, WalkerModeSize,
                         ::testing::Values(ModeSize{PagingMode::k4Level, PageSize::k4K, 4},
                                           ModeSize{PagingMode::k4Level, PageSize::k2M, 3},
                                           ModeSize{PagingMode::k4Level, PageSize::k1G, 2},
                                           ModeSize{PagingMode::k5Level, PageSize::k4K, 5},
                                           ModeSize{PagingMode::k5Level, PageSize::k2M, 4},
                                           ModeSize{PagingMode::k5Level, PageSize::k1G, 3},
                                           ModeSize{PagingMode::kPae, PageSize::k4K,
                                                    2},  // PDPTE in registers
                                           ModeSize{PagingMode::kPae, PageSize::k2M, 1},
                                           ModeSize{PagingMode::k32Bit, PageSize::k4K, 2},
                                           ModeSize{PagingMode::k32Bit, PageSize::k4M, 1}));

struct FaultCase {
  PagingMode mode;
  PageSize size;
};
class WalkerFaults : public ::testing::TestWithParam<FaultCase> {};

TEST_P(WalkerFaults, EveryFaultKind) {
  auto p = GetParam();
  uint64_t now = 0;
  auto next = [&now] { return Cycle(now += 100000); };  // no walk still in flight
  const bool has_xd = paging_mode_info(p.mode).has_xd;
  Rig rig(p.mode);
  const uint64_t ps = page_bytes(p.size);
  LinearAddr ro(4 * ps), sup(5 * ps), xd(6 * ps), rsv(7 * ps), absent(8 * ps);
  ASSERT_EQ(rig.table.map(ro, Pfn(ps >> 12), p.size, pte::kUS), MapResult::kOk);
  ASSERT_EQ(rig.table.map(sup, Pfn(2 * ps >> 12), p.size, pte::kRW), MapResult::kOk);
  ASSERT_EQ(rig.table.map(xd, Pfn(3 * ps >> 12), p.size, pte::kRW | pte::kUS | pte::kXD),
            MapResult::kOk);
  ASSERT_EQ(rig.table.map(rsv, Pfn(4 * ps >> 12), p.size, pte::kRW | pte::kUS), MapResult::kOk);

  EXPECT_EQ(rig.walker.walk(absent, AccessKind::kRead, true, next()).fault, FaultKind::kNotPresent);
  WalkResult w = rig.walker.walk(ro, AccessKind::kWrite, true, next());
  EXPECT_EQ(w.fault, FaultKind::kWriteProtect);
  // A faulting walk does not set the leaf's A or D bit.
  EXPECT_FALSE(rig.leaf(ro, p.size) & (pte::kA | pte::kD));
  EXPECT_EQ(rig.walker.walk(ro, AccessKind::kRead, true, next()).fault, FaultKind::kNone);
  EXPECT_EQ(rig.walker.walk(sup, AccessKind::kRead, true, next()).fault,
            FaultKind::kUserSupervisor);
  EXPECT_EQ(rig.walker.walk(sup, AccessKind::kRead, false, next()).fault, FaultKind::kNone);
  EXPECT_EQ(rig.walker.walk(xd, AccessKind::kFetch, true, next()).fault,
            has_xd ? FaultKind::kExecuteDisable : FaultKind::kNone);
  EXPECT_EQ(rig.walker.walk(xd, AccessKind::kRead, true, next()).fault, FaultKind::kNone);

  // Reserved bit: for 64-bit formats an address bit above MAXPHYADDR (46);
  // for a large leaf, bit 13; for 32-bit 4 KiB entries there is none to set.
  PhysAddr ea = *rig.table.leaf_entry_address(rsv, p.size);
  const unsigned eb = rig.table.mode().entry_bytes;
  uint64_t e = rig.mem.read_entry(ea, eb);
  uint64_t bad = 0;
  if (eb == 8) bad = 1ULL << 50;
  if (p.size != PageSize::k4K) bad = (p.mode == PagingMode::k32Bit) ? (1ULL << 21) : (1ULL << 13);
  if (bad) {
    rig.mem.write_entry(ea, eb, e | bad);
    WalkResult rr = rig.walker.walk(rsv, AccessKind::kRead, true, next());
    EXPECT_EQ(rr.fault, FaultKind::kReservedBit);
    EXPECT_EQ(rr.fault_level, rig.table.mode().levels - 1 -
                                  (p.size == PageSize::k4K   ? 0
                                   : p.size == PageSize::k1G ? 2
                                                             : 1));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, WalkerFaults,
                         ::testing::Values(FaultCase{PagingMode::k4Level, PageSize::k4K},
                                           FaultCase{PagingMode::k4Level, PageSize::k2M},
                                           FaultCase{PagingMode::k4Level, PageSize::k1G},
                                           FaultCase{PagingMode::k5Level, PageSize::k4K},
                                           FaultCase{PagingMode::k5Level, PageSize::k2M},
                                           FaultCase{PagingMode::k5Level, PageSize::k1G},
                                           FaultCase{PagingMode::kPae, PageSize::k4K},
                                           FaultCase{PagingMode::kPae, PageSize::k2M},
                                           FaultCase{PagingMode::k32Bit, PageSize::k4K},
                                           FaultCase{PagingMode::k32Bit, PageSize::k4M}));

TEST(WalkerCanonical, NonCanonicalFaultsWithoutMemoryReference) {
  Rig rig(PagingMode::k4Level);
  WalkResult r =
      rig.walker.walk(LinearAddr(0x0000800000000000ULL), AccessKind::kRead, true, Cycle(10));
  EXPECT_EQ(r.fault, FaultKind::kNonCanonical);
  EXPECT_EQ(r.mem_refs, 0);
  EXPECT_EQ(r.done, Cycle(10 + kOverhead));
  // 0xFFFF800000000000 is canonical in 4-level paging (not mapped: not present).
  EXPECT_EQ(
      rig.walker.walk(LinearAddr(0xFFFF800000000000ULL), AccessKind::kRead, true, Cycle(0)).fault,
      FaultKind::kNotPresent);
  // With LA57, bit 47 set but bits 63:56 clear is canonical.
  Rig rig5(PagingMode::k5Level);
  EXPECT_EQ(
      rig5.walker.walk(LinearAddr(0x0000800000000000ULL), AccessKind::kRead, true, Cycle(0)).fault,
      FaultKind::kNotPresent);
  EXPECT_EQ(
      rig5.walker.walk(LinearAddr(0x0100000000000000ULL), AccessKind::kRead, true, Cycle(0)).fault,
      FaultKind::kNonCanonical);
}

TEST(WalkerNotPresent, FaultLevelIsTheFirstAbsentEntry) {
  Rig rig(PagingMode::k4Level);
  LinearAddr a(0x7f0000001000ULL);
  EXPECT_EQ(rig.walker.walk(a, AccessKind::kRead, true, Cycle(0)).fault_level, 0U);
  ASSERT_EQ(rig.table.map(a, Pfn(0x500), PageSize::k4K, pte::kRW | pte::kUS), MapResult::kOk);
  WalkResult r = rig.walker.walk(LinearAddr(a.value() + 0x1000), AccessKind::kRead, true, Cycle(0));
  EXPECT_EQ(r.fault, FaultKind::kNotPresent);
  EXPECT_EQ(r.fault_level, 3U);  // the PT exists, its entry does not
}

TEST(WalkerWriteProtect, SupervisorWriteToReadOnlyHonoursCr0Wp) {
  Rig rig(PagingMode::k4Level);
  LinearAddr a(0x1000);
  ASSERT_EQ(rig.table.map(a, Pfn(0x500), PageSize::k4K, 0), MapResult::kOk);
  EXPECT_EQ(rig.walker.walk(a, AccessKind::kWrite, false, Cycle(0)).fault,
            FaultKind::kWriteProtect);
  WalkerConfig c = Rig::make_cfg(PagingMode::k4Level, {}, 2);
  c.write_protect = false;
  Walker w(c, rig.mem, rig.timing);
  w.set_root(rig.table.root(), Asid(0));
  EXPECT_EQ(w.walk(a, AccessKind::kWrite, false, Cycle(0)).fault, FaultKind::kNone);
}

TEST(WalkerPwc, DeepestHitSkipsLevels) {
  std::array<PwcConfig, 5> pwc{};
  pwc[0] = PwcConfig{2, 2, Cycles(1)};   // PML4E cache
  pwc[1] = PwcConfig{4, 4, Cycles(1)};   // PDPTE cache
  pwc[2] = PwcConfig{32, 4, Cycles(2)};  // PDE cache (slowest: probe = 2)
  Rig rig(PagingMode::k4Level, pwc);
  LinearAddr a(0x40201000ULL), same2m(0x40202000ULL), same1g(0x40401000ULL),
      same512g(0x80001000ULL);
  for (LinearAddr x : {a, same2m, same1g, same512g}) {
    ASSERT_EQ(rig.table.map(x, Pfn(x.value() >> 12), PageSize::k4K, pte::kRW | pte::kUS | pte::kA),
              MapResult::kOk);
  }
  // Cold: 4 reads + 3 A writes on non-leaf entries; the leaf has A preset.
  WalkResult r0 = rig.walker.walk(a, AccessKind::kRead, true, Cycle(0));
  EXPECT_EQ(r0.mem_refs, 7);
  EXPECT_EQ(r0.done, Cycle(kOverhead + 2 + 7 * kMem));
  WalkResult r1 = rig.walker.walk(same2m, AccessKind::kRead, true, Cycle(1000));
  EXPECT_EQ(r1.mem_refs, 1);  // PDE cache hit: only the PTE
  EXPECT_EQ(r1.done, Cycle(1000 + kOverhead + 2 + kMem));
  // The tables below the cached level were never walked: their entries still
  // need their A bit set, one write each.
  WalkResult r2 = rig.walker.walk(same1g, AccessKind::kRead, true, Cycle(2000));
  EXPECT_EQ(r2.mem_refs, 3);  // PDPTE cache hit: PDE (+A write) + PTE
  WalkResult r3 = rig.walker.walk(same512g, AccessKind::kRead, true, Cycle(3000));
  EXPECT_EQ(r3.mem_refs, 5);  // PML4E cache hit: PDPTE (+A) + PDE (+A) + PTE
  const WalkerStats& s = rig.walker.stats();
  EXPECT_EQ(s.pwc_hits[2], 1U);
  EXPECT_EQ(s.pwc_hits[1], 1U);
  EXPECT_EQ(s.pwc_hits[0], 1U);
  EXPECT_EQ(s.walks, 4U);
  EXPECT_EQ(s.mem_refs, 7U + 1U + 3U + 5U);
  rig.walker.flush_pwc();
  EXPECT_EQ(rig.walker.walk(a, AccessKind::kRead, true, Cycle(4000)).mem_refs, 4);
}

TEST(WalkerPwc, PermissionsAccumulatedThroughCachedLevels) {
  std::array<PwcConfig, 5> pwc{};
  pwc[2] = PwcConfig{32, 4, Cycles(1)};
  Rig rig(PagingMode::k4Level, pwc);
  LinearAddr a(0x200000), b(0x201000);
  ASSERT_EQ(rig.table.map(a, Pfn(0x600), PageSize::k4K, pte::kRW | pte::kUS), MapResult::kOk);
  ASSERT_EQ(rig.table.map(b, Pfn(0x601), PageSize::k4K, pte::kRW | pte::kUS), MapResult::kOk);
  // Make the PDE supervisor-only: U/S is AND-ed over the levels.
  PhysAddr pde = *rig.table.leaf_entry_address(a, PageSize::k2M);
  rig.mem.write64(pde, rig.mem.read64(pde) & ~pte::kUS);
  EXPECT_EQ(rig.walker.walk(a, AccessKind::kRead, true, Cycle(0)).fault,
            FaultKind::kUserSupervisor);
  WalkResult r = rig.walker.walk(b, AccessKind::kRead, true, Cycle(100));
  EXPECT_EQ(r.mem_refs, 1);  // PDE came from the cache, with its U/S = 0
  EXPECT_EQ(r.fault, FaultKind::kUserSupervisor);
}

// Runs every pending walk event; returns the completed walks in completion order.
std::vector<WalkResult> run_all(Walker& w) {
  std::vector<WalkResult> done;
  while (!w.idle()) {
    if (const WalkResult* r = w.step()) done.push_back(*r);
  }
  return done;
}

TEST(WalkerConcurrency, OneSlotQueuesInRequestOrder) {
  Rig one(PagingMode::k4Level, {}, 1);
  LinearAddr a(0x1000), b(0x2000);
  for (LinearAddr x : {a, b}) {
    ASSERT_EQ(one.table.map(x, Pfn(x.value() >> 12), PageSize::k4K, pte::kRW | pte::kUS | pte::kA),
              MapResult::kOk);
  }
  // Warm the A bits of the upper levels.
  one.walker.walk(a, AccessKind::kRead, true, Cycle(0));
  Cycle t(10000);
  const uint64_t walk = kOverhead + 4 * kMem;
  const WalkTicket ta = one.walker.request(a, AccessKind::kRead, true, t);
  const WalkTicket tb = one.walker.request(b, AccessKind::kRead, true, t);
  EXPECT_EQ(ta.fault, FaultKind::kNone);
  EXPECT_EQ(tb.fault, FaultKind::kNone);  // queued: its outlook still reads the tables
  EXPECT_EQ(tb.translation.pfn, Pfn(2));
  const std::vector<WalkResult> r = run_all(one.walker);
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0].id, ta.id);
  EXPECT_EQ(r[0].done, Cycle(t.count() + walk));
  EXPECT_EQ(r[1].id, tb.id);
  EXPECT_EQ(r[1].start, r[0].done);  // one slot: the second walk queues
  EXPECT_EQ(r[1].done, Cycle(t.count() + 2 * walk));
  EXPECT_EQ(one.walker.stats().queue_cycles, walk);
}

TEST(WalkerConcurrency, TwoSlotsOverlapAndReferencesAreTimeOrdered) {
  Rig two(PagingMode::k4Level, {}, 2);
  LinearAddr a(0x1000), b(0x2000);
  for (LinearAddr x : {a, b}) {
    ASSERT_EQ(two.table.map(x, Pfn(x.value() >> 12), PageSize::k4K, pte::kRW | pte::kUS | pte::kA),
              MapResult::kOk);
  }
  two.walker.walk(a, AccessKind::kRead, true, Cycle(0));
  two.timing.log.clear();
  Cycle t(10000);
  two.walker.request(a, AccessKind::kRead, true, t);
  two.walker.request(b, AccessKind::kRead, true, Cycle(t.count() + 1));
  const std::vector<WalkResult> r = run_all(two.walker);
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0].start, t);
  EXPECT_EQ(r[1].start, Cycle(t.count() + 1));  // two slots: both in flight at once
  EXPECT_EQ(r[1].done, Cycle(r[0].done.count() + 1));
  // The memory saw the eight reads in time order, alternating between walks.
  ASSERT_EQ(two.timing.log.size(), 8U);
  for (size_t i = 1; i < two.timing.log.size(); ++i) {
    EXPECT_LE(two.timing.log[i - 1].at, two.timing.log[i].at) << i;
  }
  EXPECT_EQ(two.timing.log[1].at, Cycle(two.timing.log[0].at.count() + 1));
}

TEST(WalkerPwc, FillVisibleWhenTheReadCompletes) {
  std::array<PwcConfig, 5> pwc{};
  pwc[2] = PwcConfig{32, 4, Cycles(1)};  // PDE cache
  LinearAddr a(0x200000), b(0x201000);
  // Walk a issues its PML4E, PDPTE and PDE reads in three steps; the PDE
  // read completes at t + O + 1 + 3L, and the PDE-cache entry exists from
  // then on. Walk b probes the caches at its begin + O.
  const Cycle t(10000);
  const uint64_t pde_done = t.count() + kOverhead + 1 + 3 * kMem;
  for (const uint64_t probe : {pde_done - 1, pde_done}) {
    Rig rig(PagingMode::k4Level, pwc, 2);
    for (LinearAddr x : {a, b}) {
      ASSERT_EQ(
          rig.table.map(x, Pfn(x.value() >> 12), PageSize::k4K, pte::kRW | pte::kUS | pte::kA),
          MapResult::kOk);
    }
    rig.walker.walk(a, AccessKind::kRead, true, Cycle(0));  // A bits set
    rig.walker.flush_pwc();
    rig.walker.request(a, AccessKind::kRead, true, t);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(rig.walker.step(), nullptr);
    rig.walker.request(b, AccessKind::kRead, true, Cycle(probe - kOverhead));
    const std::vector<WalkResult> r = run_all(rig.walker);
    ASSERT_EQ(r.size(), 2U);
    const WalkResult& wb = r[0].id == 3 ? r[0] : r[1];
    EXPECT_EQ(wb.mem_refs, probe < pde_done ? 4 : 1) << probe;
  }
}

TEST(WalkerExplain, RecordsEveryStep) {
  Rig rig(PagingMode::k4Level);
  LinearAddr a(0x1234000);
  ASSERT_EQ(rig.table.map(a, Pfn(0x777), PageSize::k4K, pte::kRW | pte::kUS), MapResult::kOk);
  WalkResult r = rig.walker.walk(a, AccessKind::kWrite, true, Cycle(0), true);
  ASSERT_EQ(r.num_steps, 8);  // read + A write at 3 upper levels, read + A/D write at the leaf
  EXPECT_EQ(r.steps[0].kind, WalkStep::Kind::kRead);
  EXPECT_EQ(r.steps[0].entry_addr.value(),
            rig.table.root().value() + 8 * ((a.value() >> 39) & 511));
  EXPECT_EQ(r.steps[7].kind, WalkStep::Kind::kAdWrite);
  EXPECT_EQ(r.steps[7].value & (pte::kA | pte::kD), pte::kA | pte::kD);
  EXPECT_EQ(r.steps[7].done, r.done);
}

}  // namespace
}  // namespace mmusim
