// The Linux model's address spaces: VMA tree, layout limits per paging mode,
// mmap placement (recorded, top-down), munmap/mprotect/mremap/brk/madvise,
// overcommit (os-model.md §1.8, §2.6-§2.8, §7 steps 1-2).
#include <gtest/gtest.h>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::anon_mmap;
using testing::LinuxRig;

constexpr uint64_t kA = 0x7f0000000000ULL;
constexpr uint64_t kP = 4096;

TEST(Vma, SplitMergeRemove) {
  VmaTree t;
  Vma a;
  a.start = 0x10000;
  a.end = 0x20000;
  a.flags = vm_flags_for(3, false);
  a.pgoff = a.start / kP;
  t.insert(a);
  EXPECT_TRUE(t.split(0x14000));
  EXPECT_EQ(t.size(), 2U);
  EXPECT_EQ(t.find(0x14000)->pgoff, 0x14U);
  EXPECT_EQ(t.find(0x13fff)->end, 0x14000U);
  EXPECT_TRUE(t.merge_at(0x14000));
  EXPECT_EQ(t.size(), 1U);
  auto gone = t.remove_range(0x12000, 0x13000);
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0].start, 0x12000U);
  EXPECT_EQ(t.size(), 2U);
  EXPECT_EQ(t.find(0x12000), nullptr);
  EXPECT_EQ(t.find_next(0x12000)->start, 0x13000U);
  EXPECT_EQ(t.find_prev(0x13000)->end, 0x12000U);
  EXPECT_THROW(t.insert(a), std::logic_error);
  // A gap or another offset prevents a merge.
  Vma b = gone[0];
  b.pgoff += 1;
  t.insert(b);
  EXPECT_EQ(t.merge_range(0x10000, 0x20000), 0U);
  EXPECT_EQ(t.depth(), 1U);
}

TEST(MmLayout, LimitsPerPagingMode) {
  const MmLayout l4 = mm_layout(PagingMode::k4Level, 8 << 20);
  EXPECT_EQ(l4.task_size, (1ULL << 47) - kP);
  // gap = max(8 MiB + 1 MiB guard, 128 MiB): the native 0x7ffff7fff000.
  EXPECT_EQ(l4.mmap_base, 0x7ffff7fff000ULL);
  const MmLayout l5 = mm_layout(PagingMode::k5Level, 8 << 20);
  EXPECT_EQ(l5.task_size, (1ULL << 56) - kP);
  EXPECT_EQ(l5.mmap_base, l4.mmap_base);  // DEFAULT_MAP_WINDOW below a hint
  const MmLayout l32 = mm_layout(PagingMode::k32Bit, 8 << 20);
  EXPECT_EQ(l32.task_size, 0xC0000000ULL);
  EXPECT_EQ(l32.mmap_base, 0xB8000000ULL);
  EXPECT_EQ(mm_layout(PagingMode::kPae, 8 << 20).task_size, 0xC0000000ULL);
  // A 1 GiB RLIMIT_STACK widens the gap.
  EXPECT_EQ(mm_layout(PagingMode::k4Level, 1ULL << 30).mmap_base,
            (1ULL << 47) - kP - (1ULL << 30) - 256 * kP);
}

TEST(LinuxMmap, TopDownPlacementAndMerging) {
  LinuxRig r;
  const uint64_t base = 0x7ffff7fff000ULL;
  r.done(1, anon_mmap(1 << 20, 0));
  EXPECT_NE(r.vma(1, base - (1 << 20)), nullptr);
  r.done(1, anon_mmap(16 * kP, 0));
  // Adjacent anonymous mappings with continuous offsets merge into one VMA.
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);
  EXPECT_EQ(r.vma(1, base - 1)->start, base - (1 << 20) - 16 * kP);
  // A free hint is taken; an occupied one is not.
  MmapEvent h = anon_mmap(kP, 0);
  h.addr = 0x10000000;
  r.done(1, h);
  EXPECT_NE(r.vma(1, 0x10000000), nullptr);
  h.addr = base - kP;
  r.done(1, h);
  EXPECT_NE(r.vma(1, base - (1 << 20) - 17 * kP), nullptr);
  // A read-only one does not merge with its writable neighbour.
  r.done(1, anon_mmap(kP, 0, linux_abi::kProtRead));
  EXPECT_EQ(r.vma(1, base - (1 << 20) - 18 * kP)->flags & vm::kWrite, 0U);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 3U);
  // Below a grows-down stack the guard gap stays free.
  LinuxRig s;
  VmaInitEvent st;
  st.start = base - 16 * kP;
  st.end = base + 16 * kP;
  st.prot = 3;
  st.kind = VmaInitEvent::Kind::kStack;
  st.grows_down = true;
  s.done(1, st);
  s.done(1, anon_mmap(kP, 0));
  EXPECT_NE(s.vma(1, base - 16 * kP - 256 * kP - kP), nullptr);
}

TEST(LinuxMmap, RecordedPlacementReplacesOverlapsAndFailuresFail) {
  LinuxRig r;
  r.done(1, anon_mmap(4 * kP, kA));
  r.fault1(1, kA + kP, AccessKind::kWrite);
  // A recorded MAP_FIXED over it: the old pages go.
  MmapEvent fx = anon_mmap(2 * kP, kA + kP, linux_abi::kProtRead);
  fx.flags |= linux_abi::kMapFixed;
  r.done(1, fx);
  EXPECT_FALSE(r.pte(1, kA + kP).has_value());
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 3U);
  EXPECT_EQ(r.k.stats().pgfree, 1U);
  EXPECT_EQ(r.k.stats().divergence.count("mmap_overlap"), 0U);
  // A recorded failure changes nothing.
  r.done(1, anon_mmap(kP, static_cast<uint64_t>(-12)));
  EXPECT_EQ(r.k.stats().recorded_failures, 1U);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 3U);
  // A recorded success the model finds beyond user space: a divergence,
  // mapped anyway where the page table can hold it.
  r.done(1, anon_mmap(kP, (1ULL << 47) - kP));
  EXPECT_EQ(r.k.stats().divergence.at("mmap_beyond_task_size"), 1U);
  r.done(1, anon_mmap(kP, 1ULL << 48));
  EXPECT_EQ(r.k.stats().divergence.at("mmap_beyond_task_size"), 2U);
  EXPECT_EQ(r.vma(1, 1ULL << 48), nullptr);  // not mappable at all
}

TEST(LinuxMmap, FaultAboveTaskSizeIsSegv32Bit) {
  LinuxConfig cfg = testing::default_linux_config();
  cfg.mode = PagingMode::k32Bit;
  validate_linux_config(cfg);
  LinuxRig r(cfg);
  r.done(1, anon_mmap(kP, 0));
  EXPECT_NE(r.vma(1, 0xB8000000ULL - kP), nullptr);
  r.done(1, anon_mmap(kP, 0xC0001000ULL));  // recorded above 3 GiB
  EXPECT_EQ(r.k.stats().divergence.at("mmap_beyond_task_size"), 1U);
  EXPECT_EQ(r.fault1(1, 0xB8000000ULL - kP, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  EXPECT_EQ(r.fault1(1, 0xC0001000ULL, AccessKind::kWrite).cls, FaultClass::kSegv);
}

TEST(LinuxMunmap, SplitsFreesFlushesAndLeavesSegv) {
  LinuxRig r;
  r.done(1, anon_mmap(16 * kP, kA));
  for (int i = 0; i < 16; ++i) r.fault1(1, kA + i * kP, AccessKind::kWrite);
  r.svc.clear();
  MunmapEvent u;
  u.addr = kA + 4 * kP;
  u.len = 4 * kP;
  const FaultOutcome o = r.done(1, u, 100000);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 2U);
  EXPECT_EQ(r.k.stats().pgfree, 4U);
  EXPECT_EQ(r.k.process_stats(1).rss, 12U);
  EXPECT_EQ(o.flush.kind, FaultOutcome::LocalFlush::Kind::kPages);
  EXPECT_EQ(o.flush.start, LinearAddr(kA + 4 * kP));
  EXPECT_EQ(o.flush.pages, 4U);
  // Four PTEs in one line, cleared: one line written.
  const LinuxCosts& c = r.k.config().cost;
  EXPECT_EQ(o.resume.count() - 100000, c.syscall_entry.count() + c.munmap.count() +
                                           4 * c.zap_pte.count() + testing::kL +
                                           c.local_flush.count() + c.syscall_exit.count());
  EXPECT_EQ(r.fault1(1, kA + 5 * kP, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxMprotect, LowersAndRaisesRights) {
  LinuxRig r;
  r.done(1, anon_mmap(4 * kP, kA));
  for (int i = 0; i < 4; ++i) r.fault1(1, kA + i * kP, AccessKind::kWrite);
  MprotectEvent p;
  p.addr = kA + kP;
  p.len = kP;
  p.prot = linux_abi::kProtRead;
  const FaultOutcome o = r.done(1, p);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 3U);
  EXPECT_FALSE(r.pte(1, kA + kP)->entry & pte::kRW);
  EXPECT_TRUE(r.pte(1, kA)->entry & pte::kRW);
  EXPECT_EQ(o.flush.kind, FaultOutcome::LocalFlush::Kind::kPages);
  // Back to read-write: an exclusive anonymous page is made writable at
  // once (can_change_pte_writable); the VMAs merge again.
  p.prot = 3;
  const FaultOutcome o2 = r.done(1, p);
  EXPECT_TRUE(r.pte(1, kA + kP)->entry & pte::kRW);
  EXPECT_EQ(o2.flush.kind, FaultOutcome::LocalFlush::Kind::kNone);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);
  EXPECT_TRUE(r.access(1, kA + kP, AccessKind::kWrite).empty());
  // PROT_NONE: the page stays but any access is a SIGSEGV.
  p.prot = 0;
  r.done(1, p);
  EXPECT_TRUE(r.pte(1, kA + kP).has_value());
  EXPECT_EQ(r.fault1(1, kA + kP, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxMremap, GrowsInPlaceOrMovesPtesWithoutCopy) {
  LinuxRig r;
  r.done(1, anon_mmap(2 * kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  MremapEvent m;
  m.old_addr = kA;
  m.old_len = 2 * kP;
  m.new_len = 4 * kP;
  m.ret = static_cast<int64_t>(kA);
  r.done(1, m);
  EXPECT_EQ(r.vma(1, kA)->end, kA + 4 * kP);
  const Pfn f = r.pte(1, kA)->pfn;
  r.svc.clear();
  m.old_len = 4 * kP;
  m.new_len = 8 * kP;
  m.flags = linux_abi::kMremapMayMove;
  m.ret = static_cast<int64_t>(kA + 0x100000);
  const FaultOutcome o = r.done(1, m);
  EXPECT_FALSE(r.pte(1, kA).has_value());
  EXPECT_EQ(r.vma(1, kA), nullptr);
  EXPECT_EQ(r.pte(1, kA + 0x100000)->pfn, f);  // moved, not copied
  EXPECT_EQ(r.vma(1, kA + 0x100000)->end, kA + 0x100000 + 8 * kP);
  EXPECT_EQ(r.svc.data(true) + r.svc.data(false), 0U);
  EXPECT_EQ(o.flush.kind, FaultOutcome::LocalFlush::Kind::kPages);
  EXPECT_TRUE(r.access(1, kA + 0x100000, AccessKind::kWrite).empty());
  EXPECT_EQ(r.fault1(1, kA, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxBrk, GrowsShrinksAndQueries) {
  LinuxRig r;
  constexpr uint64_t kHeap = 0x555555559000ULL;
  BrkEvent q;
  q.ret = static_cast<int64_t>(kHeap);
  r.done(1, q);  // brk(0)
  EXPECT_EQ(r.k.address_space(1)->brk, kHeap);
  BrkEvent g;
  g.req = kHeap + 0x21000;
  g.ret = static_cast<int64_t>(g.req);
  r.done(1, g);
  const Vma* v = r.vma(1, kHeap);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, VmaKind::kBrk);
  EXPECT_EQ(v->end, kHeap + 0x21000);
  EXPECT_TRUE(v->accounted());
  EXPECT_EQ(r.fault1(1, kHeap + 0x20000, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  g.req = kHeap + 0x30000;
  g.ret = static_cast<int64_t>(g.req);
  r.done(1, g);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);  // extended, not a second VMA
  EXPECT_EQ(r.vma(1, kHeap)->end, kHeap + 0x30000);
  g.req = kHeap + 0x10000;
  g.ret = static_cast<int64_t>(g.req);
  r.done(1, g);
  EXPECT_EQ(r.vma(1, kHeap)->end, kHeap + 0x10000);
  EXPECT_EQ(r.k.stats().pgfree, 1U);
  EXPECT_EQ(r.fault1(1, kHeap + 0x20000, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxBrk, ValgrindsInitialBrkPage) {
  // valgrind maps one rwx page at the initial break and answers brk(0) with
  // its start: no divergence, and growth goes on above that page.
  LinuxRig r;
  VmaInitEvent v;
  v.start = 0x4035000;
  v.end = 0x4036000;
  v.prot = 7;
  v.kind = VmaInitEvent::Kind::kBrk;
  r.done(1, v);
  BrkEvent q;
  q.ret = 0x4035000;
  r.done(1, q);
  BrkEvent g;
  g.req = 0x4056000;
  g.ret = 0x4056000;
  r.done(1, g);
  EXPECT_TRUE(r.k.stats().divergence.empty());
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 2U);
  EXPECT_EQ(r.vma(1, 0x4040000)->start, 0x4036000U);
  EXPECT_EQ(r.fault1(1, 0x4040000, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  EXPECT_EQ(r.k.commit().committed(), 1U + 0x20U);
}

TEST(LinuxMadvise, DontneedFreeAndHints) {
  LinuxRig r;
  r.done(1, anon_mmap(4 * kP, kA));
  for (int i = 0; i < 4; ++i) r.fault1(1, kA + i * kP, AccessKind::kWrite);
  MadviseEvent m;
  m.addr = kA;
  m.len = 2 * kP;
  m.advice = linux_abi::kMadvDontNeed;
  r.done(1, m);
  EXPECT_EQ(r.k.stats().pgfree, 2U);
  EXPECT_EQ(r.fault1(1, kA, AccessKind::kRead).cls, FaultClass::kAnonZero);
  m.addr = kA + 2 * kP;
  m.advice = linux_abi::kMadvFree;
  r.done(1, m);
  EXPECT_EQ(r.k.stats().pgfree, 4U);
  EXPECT_EQ(r.k.process_stats(1).rss, 0U);
  m.addr = kA;
  m.len = kP;
  m.advice = linux_abi::kMadvRandom;
  r.done(1, m);
  EXPECT_TRUE(r.vma(1, kA)->flags & vm::kRandRead);
  EXPECT_FALSE(r.vma(1, kA + kP)->flags & vm::kRandRead);
  m.advice = linux_abi::kMadvNormal;
  r.done(1, m);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);
}

TEST(Overcommit, CommitLimitVector) {
  // os-model.md §7 step 2: 24683584 kB of RAM, no swap, ratio 50.
  OvercommitConfig c;
  CommitAccounting a(c, 24683584 / 4);
  EXPECT_EQ(a.commit_limit() * 4, 12341792U);
  // Mode 0 refuses one request larger than RAM + swap, nothing else.
  EXPECT_TRUE(a.charge(24683584 / 4, 0));
  EXPECT_FALSE(a.charge(24683584 / 4 + 1, 0));
  c.mode = 1;
  CommitAccounting always(c, 100);
  EXPECT_TRUE(always.charge(1000000, 0));
}

// The largest ratio on the largest memory does not wrap: 2^40 pages x
// (2^32 - 1) / 100 needs 72 bits, and the limit saturates at 2^64 - 1; a
// limit that fits is exact.
TEST(Overcommit, CommitLimitOfAHugeRatioDoesNotWrap) {
  OvercommitConfig c;
  c.ratio = ~uint32_t{0};
  CommitAccounting huge(c, uint64_t{1} << 40);
  EXPECT_EQ(huge.commit_limit(), ~uint64_t{0});
  CommitAccounting fits(c, 1000);  // 1000 x 4294967295 / 100, exactly
  EXPECT_EQ(fits.commit_limit(), 42949672950U);
  c.swap_pages = 5;
  CommitAccounting swap(c, uint64_t{1} << 40);
  EXPECT_EQ(swap.commit_limit(), ~uint64_t{0});
}

TEST(Overcommit, ModeTwoRefusesAndCountsDivergences) {
  LinuxConfig cfg = testing::default_linux_config();
  cfg.overcommit.mode = 2;
  LinuxRig r(cfg, 65536);
  // CommitLimit = 65536 x 50 %; admin reserve min(free/32, 8 MiB) = 2048
  // pages; user reserve min(total_vm/32, 2048).
  EXPECT_EQ(r.k.commit().commit_limit(), 32768U);
  r.done(1, anon_mmap(100ULL << 20, kA));  // 25600 pages < 30720
  EXPECT_EQ(r.k.commit().committed(), 25600U);
  EXPECT_TRUE(r.k.stats().divergence.empty());
  // 25600 + 5120 = 30720 is not below 32768 - 2048 - 25600/32: refused.
  r.done(1, anon_mmap(20ULL << 20, 0));
  EXPECT_EQ(r.k.commit().committed(), 25600U);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);
  // The recorded run got it: a divergence, mapped as recorded.
  r.done(1, anon_mmap(20ULL << 20, kA + (1ULL << 30)));
  EXPECT_EQ(r.k.stats().divergence.at("mmap_overcommit"), 1U);
  EXPECT_EQ(r.k.commit().committed(), 30720U);
  EXPECT_NE(r.vma(1, kA + (1ULL << 30)), nullptr);
  // Shared and read-only mappings are not charged; munmap uncharges.
  r.done(1, anon_mmap(1ULL << 30, kA + (4ULL << 30), 3, true));
  r.done(1, anon_mmap(1ULL << 30, kA + (8ULL << 30), linux_abi::kProtRead));
  EXPECT_EQ(r.k.commit().committed(), 30720U);
  MunmapEvent u;
  u.addr = kA;
  u.len = 100ULL << 20;
  r.done(1, u);
  EXPECT_EQ(r.k.commit().committed(), 5120U);
}

}  // namespace
}  // namespace mmusim
