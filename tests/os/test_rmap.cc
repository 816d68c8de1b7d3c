// The Linux model's reverse map (rmap.cc): x86 swap PTEs, the PTEs found for
// anonymous pages across fork, COW, exit and mremap, for page-cache pages
// mapped shared and private by several processes, Accessed-bit aging
// (referenced_ptes) and try_to_unmap with its counters, flushes and costs,
// and the fault on a swapped-out page.
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::file_event;
using testing::open_event;

using testing::anon_mmap;
using testing::file_mmap;
using testing::kL;
using testing::LinuxRig;

constexpr uint64_t kA = 0x7f0000000000ULL;  // 2 MiB-aligned
constexpr uint64_t kB = 0x7e0000000000ULL;
constexpr uint64_t kP = 4096;

ProcCreateEvent fork_to(uint32_t child) {
  ProcCreateEvent pc;
  pc.child_pid = child;
  return pc;
}

MunmapEvent munmap(uint64_t addr, uint64_t len) {
  MunmapEvent u;
  u.addr = addr;
  u.len = len;
  return u;
}

uint32_t mm_id(const LinuxRig& r, uint32_t pid) { return r.k.address_space(pid)->id(); }

Pfn pfn_at(const LinuxRig& r, uint32_t pid, uint64_t a) {
  auto m = r.pte(pid, a);
  EXPECT_TRUE(m.has_value()) << "pid " << pid << " at " << std::hex << a;
  return m ? m->pfn : Pfn();
}

// What the page walker does on an access: sets the leaf's Accessed bit (and
// Dirty on a write) in simulated memory.
void walker_sets(LinuxRig& r, uint32_t pid, uint64_t a, uint64_t bits) {
  const auto m = r.pte(pid, a);
  ASSERT_TRUE(m.has_value());
  r.files.mem.write_entry(m->entry_addr, 8, m->entry | bits);
}

uint64_t n(Cycles c) { return c.count(); }

// ---------------------------------------------------------------- swap PTEs

TEST(SwapPte, X86EncodingOfEachPagingMode) {
  const PagingModeInfo& l4 = paging_mode_info(PagingMode::k4Level);
  const PagingModeInfo& l5 = paging_mode_info(PagingMode::k5Level);
  const PagingModeInfo& pae = paging_mode_info(PagingMode::kPae);
  const PagingModeInfo& b32 = paging_mode_info(PagingMode::k32Bit);
  // The arch-independent value: type << 58 | offset.
  EXPECT_EQ(swp_entry(1, 0x1234), 0x0400000000001234ULL);
  EXPECT_EQ(swp_type(swp_entry(31, 7)), 31U);
  EXPECT_EQ(swp_offset(swp_entry(31, 7)), 7U);
  // 64-bit entries: type in bits 59..63, ~offset in bits 9..58:
  // ((2^50 - 1) ^ 0x1234) << 9 | 1 << 59 = 0x3fffffffffedcb << 9 | 0x0800000000000000.
  EXPECT_EQ(swp_entry_to_pte(l4, swp_entry(1, 0x1234)), 0x0fffffffffdb9600ULL);
  EXPECT_EQ(swp_entry_to_pte(l5, swp_entry(1, 0x1234)), 0x0fffffffffdb9600ULL);
  // The largest slot inverts to zero offset bits: only the type remains.
  EXPECT_EQ(swp_entry_to_pte(l4, swp_entry(31, (1ULL << 50) - 1)), 0xf800000000000000ULL);
  // Slot 1 of type 0: ~1 in 50 bits = 0x3fffffffffffe, << 9.
  EXPECT_EQ(swp_entry_to_pte(l4, swp_entry(0, 1)), 0x07fffffffffffc00ULL);
  // PAE: the same layout, at most 2^27 - 1 slots (32-bit swp_entry_t):
  // ((2^50 - 1) ^ (2^27 - 1)) << 9 | 2 << 59.
  EXPECT_EQ(swp_entry_to_pte(pae, swp_entry(2, (1ULL << 27) - 1)), 0x17fffff000000000ULL);
  EXPECT_THROW(swp_entry_to_pte(pae, swp_entry(2, 1ULL << 27)), std::invalid_argument);
  // 32-bit paging: type in bits 1..5, offset in bits 9..31:
  // 3 << 1 | 0x1234 << 9 = 0x6 | 0x246800.
  EXPECT_EQ(swp_entry_to_pte(b32, swp_entry(3, 0x1234)), 0x246806ULL);
  EXPECT_EQ(swp_entry_to_pte(b32, swp_entry(31, (1ULL << 23) - 1)), 0xfffffe3eULL);
  EXPECT_THROW(swp_entry_to_pte(b32, swp_entry(0, 1ULL << 23)), std::invalid_argument);
  EXPECT_EQ(swp_max_offset(l4), (1ULL << 50) - 1);
  EXPECT_EQ(swp_max_offset(pae), (1ULL << 27) - 1);
  EXPECT_EQ(swp_max_offset(b32), (1ULL << 23) - 1);
  // 0 is "no entry".
  EXPECT_THROW(swp_entry_to_pte(l4, 0), std::invalid_argument);
  for (const PagingModeInfo* m : {&l4, &l5, &pae, &b32}) {
    for (uint64_t e : {swp_entry(0, 1), swp_entry(1, 0x1234), swp_entry(31, swp_max_offset(*m))}) {
      const uint64_t p = swp_entry_to_pte(*m, e);
      EXPECT_EQ(p & pte::kP, 0U) << m->name;
      EXPECT_EQ(p & (pte::kD | pte::kPS | pte::kG), 0U) << m->name;  // bits 6..8 clear
      EXPECT_NE(p, 0U) << m->name;
      EXPECT_EQ(pte_to_swp_entry(*m, p), e) << m->name;
    }
    EXPECT_FALSE(pte_to_swp_entry(*m, 0).has_value());
    EXPECT_FALSE(pte_to_swp_entry(*m, 0x1000 | pte::kP | pte::kRW).has_value());  // present
  }
}

// ---------------------------------------------------------------- anonymous pages

TEST(Rmap, AnonPageAcrossForkCowAndExit) {
  LinuxRig r;
  r.done(1, StartEvent{"p"});
  r.done(1, anon_mmap(2 * kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  r.fault1(1, kA + kP, AccessKind::kWrite);
  const Pfn a = pfn_at(r, 1, kA), b = pfn_at(r, 1, kA + kP);
  ASSERT_EQ(r.k.mappings(a).size(), 1U);
  EXPECT_EQ(r.files.frames.meta(a).owner, mm_id(r, 1));  // the family started by process 1
  EXPECT_EQ(r.files.frames.meta(a).index, kA / kP);      // its VMA's page offsets: start >> 12
  r.done(1, fork_to(2));
  // After fork: the parent's and the child's PTE, in that order.
  auto m = r.k.mappings(a);
  ASSERT_EQ(m.size(), 2U);
  EXPECT_EQ(m[0].mm, mm_id(r, 1));
  EXPECT_EQ(m[1].mm, mm_id(r, 2));
  EXPECT_EQ(m[0].addr, kA);
  EXPECT_EQ(m[1].addr, kA);
  EXPECT_EQ(r.files.frames.meta(a).mapcount, 2);
  EXPECT_EQ(r.k.mappings(b).size(), 2U);
  // The child's COW copy of page a: each frame is mapped once.
  EXPECT_EQ(r.fault1(2, kA, AccessKind::kWrite, 10000).cls, FaultClass::kCowCopy);
  const Pfn copy = pfn_at(r, 2, kA);
  ASSERT_NE(copy, a);
  m = r.k.mappings(a);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 1));
  m = r.k.mappings(copy);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 2));
  EXPECT_EQ(m[0].addr, kA);
  EXPECT_EQ(r.files.frames.meta(copy).owner, mm_id(r, 1));  // the child joined the family
  // The child exits: page b is the parent's alone again.
  r.done(2, ExitEvent{}, 20000);
  m = r.k.mappings(b);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 1));
  EXPECT_EQ(r.k.mappings(a).size(), 1U);
  EXPECT_TRUE(r.k.page_mapped(b));
  EXPECT_FALSE(r.k.exec_mapped(b));  // PROT_READ | PROT_WRITE
  EXPECT_FALSE(r.k.page_mapped(r.k.zero_pfn()));
  EXPECT_TRUE(r.k.mappings(r.k.zero_pfn()).empty());
}

TEST(Rmap, ExecStartsANewFamily) {
  LinuxRig r;
  r.done(1, anon_mmap(kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  r.done(1, fork_to(2));
  const Pfn a = pfn_at(r, 1, kA);
  ExecEvent ex;
  ex.argv0 = "ls";
  r.done(2, ex, 10000);  // the child leaves the family with its old image
  auto m = r.k.mappings(a);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 1));
  r.done(2, anon_mmap(kP, kA), 20000);
  r.fault1(2, kA, AccessKind::kWrite, 30000);
  const Pfn c = pfn_at(r, 2, kA);
  EXPECT_EQ(r.files.frames.meta(c).owner, mm_id(r, 2));
  EXPECT_EQ(r.k.mappings(c).size(), 1U);
}

TEST(Rmap, MremapKeepsTheRmapOfMovedPages) {
  LinuxRig r;
  r.done(1, anon_mmap(4 * kP, kA));
  for (int i = 0; i < 4; ++i) r.fault1(1, kA + i * kP, AccessKind::kWrite);
  Pfn f[4];
  for (int i = 0; i < 4; ++i) f[i] = pfn_at(r, 1, kA + i * kP);
  // mremap(kA, 4 pages, 8 pages, MAYMOVE) -> kB: the PTEs move, the VMA
  // keeps its page offsets (vm_pgoff = kA >> 12).
  MremapEvent mr;
  mr.old_addr = kA;
  mr.old_len = 4 * kP;
  mr.new_len = 8 * kP;
  mr.flags = linux_abi::kMremapMayMove;
  mr.ret = static_cast<int64_t>(kB);
  r.done(1, mr, 10000);
  EXPECT_EQ(r.vma(1, kB)->pgoff, kA / kP);
  for (int i = 0; i < 4; ++i) {
    const auto m = r.k.mappings(f[i]);
    ASSERT_EQ(m.size(), 1U);
    EXPECT_EQ(m[0].addr, kB + i * kP);
    EXPECT_EQ(r.files.frames.meta(f[i]).index, kA / kP + i);  // unchanged
  }
  // A page faulted after the move gets the VMA's index (kA >> 12) + 5, not
  // its address's: the walk finds it at kB + 5 pages.
  r.fault1(1, kB + 5 * kP, AccessKind::kWrite, 20000);
  const Pfn g = pfn_at(r, 1, kB + 5 * kP);
  EXPECT_EQ(r.files.frames.meta(g).index, kA / kP + 5);
  auto m = r.k.mappings(g);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].addr, kB + 5 * kP);
  // A new VMA at the old place has the same page offsets: its pages and the
  // moved ones are told apart by the frame each PTE maps.
  r.done(1, anon_mmap(4 * kP, kA), 30000);
  r.fault1(1, kA, AccessKind::kWrite, 40000);
  const Pfn h = pfn_at(r, 1, kA);
  EXPECT_EQ(r.files.frames.meta(h).index, r.files.frames.meta(f[0]).index);
  m = r.k.mappings(h);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].addr, kA);
  m = r.k.mappings(f[0]);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].addr, kB);
  // After a fork both copies are found at the new address.
  r.done(1, fork_to(2), 50000);
  m = r.k.mappings(f[2]);
  ASSERT_EQ(m.size(), 2U);
  EXPECT_EQ(m[0].addr, kB + 2 * kP);
  EXPECT_EQ(m[1].addr, kB + 2 * kP);
  EXPECT_EQ(m[1].mm, mm_id(r, 2));
}

// ---------------------------------------------------------------- file pages

struct FileRmap : ::testing::Test {
  // File 1 (one page) mapped shared by processes 1 and 2 and privately by
  // process 3, each through its own descriptor, each PTE made by a read.
  void SetUp() override {
    r.done(0, file_event(1, kP));
    for (uint32_t pid : {1U, 2U, 3U}) {
      r.done(pid, StartEvent{"p"});
      r.done(pid, open_event(1, 3));
      r.done(pid, file_mmap(kP, kA, 3, 1, pid != 3));
    }
    r.access(1, kA, AccessKind::kRead);  // the read: file_major
    for (uint32_t pid : {1U, 2U, 3U}) {
      EXPECT_TRUE(r.access(pid, kA, AccessKind::kRead, kLater).size() <= 1U);
    }
    page = pfn_at(r, 1, kA);
  }
  static constexpr uint64_t kLater = 100000000;  // after the read completed
  LinuxRig r;
  Pfn page;
  const LinuxCosts& c = r.k.config().cost;
};

TEST_F(FileRmap, SharedAndPrivateMappingsOfOnePage) {
  ASSERT_EQ(pfn_at(r, 2, kA), page);
  ASSERT_EQ(pfn_at(r, 3, kA), page);  // a private mapping maps the cache page until written
  auto m = r.k.mappings(page);
  ASSERT_EQ(m.size(), 3U);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m[i].mm, mm_id(r, i + 1));
    EXPECT_EQ(m[i].addr, kA);
  }
  EXPECT_EQ(r.files.frames.meta(page).mapcount, 3);
  // munmap in process 2: two left, and the walk visits the two address
  // spaces still in the file's registry (clk: vma_lookup per address space).
  r.done(2, munmap(kA, kP), kLater);
  m = r.k.mappings(page);
  ASSERT_EQ(m.size(), 2U);
  EXPECT_EQ(m[0].mm, mm_id(r, 1));
  EXPECT_EQ(m[1].mm, mm_id(r, 3));
  LinuxKernel::Clock clk;
  clk.t = Cycle(kLater);
  const uint64_t checked = r.k.stats().rmap_ptes_checked;
  r.k.referenced_ptes(page, &clk);
  EXPECT_EQ(clk.timing.part[FaultTiming::kVmaLookup], 2 * n(c.vma_lookup));
  EXPECT_EQ(r.k.stats().rmap_ptes_checked - checked, 2U);
  // Process 1 execs: its old address space leaves the registry, the walk
  // visits process 3 alone.
  ExecEvent ex;
  r.done(1, ex, kLater);
  m = r.k.mappings(page);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 3));
  clk.timing = FaultTiming{};
  r.k.referenced_ptes(page, &clk);
  EXPECT_EQ(clk.timing.part[FaultTiming::kVmaLookup], 1 * n(c.vma_lookup));
  // Process 3 writes: its COW copy is anonymous, not the file's page.
  EXPECT_EQ(r.fault1(3, kA, AccessKind::kWrite, kLater).cls, FaultClass::kCowCopy);
  const Pfn copy = pfn_at(r, 3, kA);
  EXPECT_FALSE(r.k.page_mapped(page));
  EXPECT_TRUE(r.k.mappings(page).empty());
  m = r.k.mappings(copy);
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].mm, mm_id(r, 3));
  EXPECT_EQ(r.files.frames.meta(copy).index, 0U);  // the file offset: the VMA's pgoff
}

TEST_F(FileRmap, AccessedBitsAreTestedAndCleared) {
  // The faults made the PTEs young: three references, cleared; then none.
  LinuxKernel::Clock clk;
  clk.t = Cycle(kLater);
  PageTableLog log;
  uint64_t flags = 0;
  EXPECT_EQ(r.k.referenced_ptes(page, &clk, &log, &flags), 3U);
  EXPECT_EQ(log.writes.size(), 3U);  // one entry rewritten per cleared bit
  EXPECT_EQ(flags & (vm::kRead | vm::kShared), vm::kRead | vm::kShared);
  // Costs: vma_lookup per address space, change_pte per PTE (3 x 90 + 3 x 30).
  EXPECT_EQ(clk.t.count() - kLater, 3 * n(c.vma_lookup) + 3 * n(c.change_pte));
  for (uint32_t pid : {1U, 2U, 3U}) EXPECT_EQ(r.pte(pid, kA)->entry & pte::kA, 0U);
  EXPECT_EQ(r.k.referenced_ptes(page), 0U);
  // The walker sets A in two of them: two references, then none.
  walker_sets(r, 1, kA, pte::kA);
  walker_sets(r, 3, kA, pte::kA);
  EXPECT_EQ(r.k.referenced_ptes(page, nullptr, nullptr, &flags), 2U);
  EXPECT_EQ(flags & vm::kShared, vm::kShared);  // process 1's VMA is shared
  EXPECT_EQ(r.k.referenced_ptes(page), 0U);
  // A mapping without recency (MADV_RANDOM) is not looked at: its bit stays.
  MadviseEvent ma;
  ma.addr = kA;
  ma.len = kP;
  ma.advice = linux_abi::kMadvRandom;
  r.done(2, ma, kLater);
  walker_sets(r, 1, kA, pte::kA);
  walker_sets(r, 2, kA, pte::kA);
  EXPECT_EQ(r.k.referenced_ptes(page), 1U);
  EXPECT_NE(r.pte(2, kA)->entry & pte::kA, 0U);
  EXPECT_EQ(r.k.stats().rmap_walks, 5U);
}

TEST_F(FileRmap, TryToUnmapMovesTheDirtyBitToThePage) {
  r.done(3, munmap(kA, kP), kLater);
  // Process 1's PTE becomes dirty (the walker, writing through a writable
  // entry); the page itself is clean.
  walker_sets(r, 1, kA, pte::kRW | pte::kD);
  ASSERT_FALSE(r.files.frames.meta(page).test(FrameFlag::kDirty));
  ASSERT_EQ(r.files.cache.stats().nr_dirty, 0U);
  const uint64_t mapped = r.k.stats().nr_mapped;
  LinuxKernel::Clock clk;
  clk.t = Cycle(kLater);
  LinuxKernel::Flush fl;
  // A kernel thread unmaps (no caller): a shootdown for each CPU running a
  // mapper (CPU 1 runs process 1, CPU 2 process 2).
  r.svc.running = {{1, 1}, {2, 2}};
  EXPECT_TRUE(r.k.try_to_unmap(page, 0, clk, r.svc, fl));
  EXPECT_TRUE(r.files.frames.meta(page).test(FrameFlag::kDirty));
  EXPECT_EQ(r.files.cache.stats().nr_dirty, 1U);
  EXPECT_EQ(r.files.frames.meta(page).mapcount, 0);
  EXPECT_EQ(r.files.frames.meta(page).refcount, 1U);  // the cache's
  EXPECT_EQ(r.k.stats().nr_mapped, mapped - 1);
  EXPECT_FALSE(r.pte(1, kA).has_value());
  EXPECT_FALSE(r.pte(2, kA).has_value());
  EXPECT_EQ(r.k.process_stats(1).rss, 0U);
  EXPECT_EQ(r.k.process_stats(2).rss, 0U);
  EXPECT_EQ(fl.kind, LinuxKernel::Flush::Kind::kNone);
  ASSERT_EQ(r.svc.sent.size(), 2U);
  EXPECT_EQ(r.svc.sent[0].kind, Shootdown::Kind::kPage);
  EXPECT_EQ(r.svc.sent[0].addr.value(), kA);
  // The next read maps the cached page again: a minor fault.
  EXPECT_EQ(r.fault1(2, kA, AccessKind::kRead, kLater * 2).cls, FaultClass::kFileMinor);
  EXPECT_EQ(r.k.mappings(page).size(), 1U);
}

TEST_F(FileRmap, ExecutableMappings) {
  EXPECT_FALSE(r.k.exec_mapped(page));
  r.done(4, StartEvent{"x"});
  r.done(4, open_event(1, 3));
  r.done(4, file_mmap(kP, kB, 3, 1, false, linux_abi::kProtRead | linux_abi::kProtExec));
  r.access(4, kB, AccessKind::kFetch, kLater);
  EXPECT_EQ(r.k.mappings(page).size(), 4U);
  EXPECT_TRUE(r.k.exec_mapped(page));
}

// ---------------------------------------------------------------- unmapping anonymous pages

TEST(Rmap, TryToUnmapAnAnonPageSharedByParentAndChild) {
  LinuxRig r;
  const LinuxCosts& c = r.k.config().cost;
  r.done(1, anon_mmap(kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  r.done(1, fork_to(2), 10000);
  const Pfn a = pfn_at(r, 1, kA);
  const PhysAddr e1 = r.pte(1, kA)->entry_addr, e2 = r.pte(2, kA)->entry_addr;
  ASSERT_EQ(r.k.process_stats(1).rss, 1U);
  ASSERT_EQ(r.k.process_stats(2).rss, 1U);
  PageFrame& meta = r.files.frames.meta(a);
  ASSERT_EQ(meta.refcount, 2U);
  LinuxKernel::Clock clk;
  constexpr uint64_t t0 = 1000000;
  clk.t = Cycle(t0);
  LinuxKernel::Flush fl;
  // Without a swap entry an anonymous page stays; without a reference of
  // its own the caller is told off.
  EXPECT_FALSE(r.k.try_to_unmap(a, 0, clk, r.svc, fl));
  const uint64_t slot = swp_entry(0, 42);
  EXPECT_THROW(r.k.try_to_unmap(a, slot, clk, r.svc, fl), std::logic_error);
  EXPECT_EQ(clk.t.count(), t0);
  ++meta.refcount;  // reclaim's isolation reference
  // A slot the 4-level swap PTE cannot hold (above 2^50 - 1): refused
  // before any PTE changes.
  EXPECT_THROW(r.k.try_to_unmap(a, swp_entry(0, 1ULL << 50), clk, r.svc, fl),
               std::invalid_argument);
  EXPECT_EQ(meta.mapcount, 2);
  // Process 1 unmaps (direct reclaim on CPU 0); CPU 1 runs process 2.
  r.svc.running = {{1, 2}};
  TaskCall self;
  self.task = TaskId{1, 1};
  self.cpu = 0;
  self.at = clk.t;
  const uint64_t local = r.k.stats().local_flushes;
  EXPECT_TRUE(r.k.try_to_unmap(a, slot, clk, r.svc, fl, &self));
  const uint64_t swp = swp_entry_to_pte(r.k.address_space(1)->table().mode(), slot);
  EXPECT_EQ(r.files.mem.read_entry(e1, 8), swp);
  EXPECT_EQ(r.files.mem.read_entry(e2, 8), swp);
  EXPECT_EQ(meta.mapcount, 0);
  EXPECT_EQ(meta.refcount, 1U);               // ours
  EXPECT_TRUE(meta.test(FrameFlag::kDirty));  // the PTEs were dirty
  EXPECT_FALSE(r.k.page_mapped(a));
  EXPECT_EQ(r.k.process_stats(1).rss, 0U);
  EXPECT_EQ(r.k.process_stats(2).rss, 0U);
  EXPECT_EQ(r.k.address_space(1)->rss.swapents, 1U);
  EXPECT_EQ(r.k.address_space(2)->rss.swapents, 1U);
  // A flush each: process 1's locally, process 2's by a shootdown to CPU 1.
  EXPECT_EQ(r.k.stats().local_flushes - local, 1U);
  EXPECT_EQ(fl.kind, LinuxKernel::Flush::Kind::kPages);
  EXPECT_EQ(fl.start.value(), kA);
  EXPECT_EQ(fl.pages, 1U);
  ASSERT_EQ(r.svc.sent.size(), 1U);
  EXPECT_EQ(r.svc.sent[0].kind, Shootdown::Kind::kPage);
  EXPECT_EQ(r.svc.sent[0].addr.value(), kA);
  // Time: 2 address spaces x vma_lookup + 2 PTEs x zap_pte, the two PTE
  // lines (different tables) issued at t and t + 1, the last done kL later,
  // the local flush, and process 2's shootdown (FakeServices: 5000 cycles):
  // 2 x 90 + 2 x 90 + (1 + 100) + 200 + 5000 = 5661.
  EXPECT_EQ(clk.t.count() - t0, 2 * n(c.vma_lookup) + 2 * n(c.zap_pte) + 1 + kL + n(c.local_flush) +
                                    testing::FakeServices::kShootdownCost);
  EXPECT_EQ(clk.t.count() - t0, 5661U);
  // The fault on the swap entry is recognised: swap-in, not a new page.
  const KernelStep f = r.raise(2, kA, AccessKind::kRead, FaultKind::kNotPresent, 2000000);
  ASSERT_EQ(f.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(f.outcome.action, FaultOutcome::Action::kStop);
  EXPECT_EQ(f.outcome.cls, FaultClass::kSwapMajor);
  EXPECT_NE(f.outcome.message.find("slot 42"), std::string::npos) << f.outcome.message;
  // A fork copies the swap entry; munmap drops it.
  r.done(1, fork_to(3), 3000000);
  EXPECT_EQ(r.k.address_space(3)->rss.swapents, 1U);
  EXPECT_EQ(r.raise(3, kA, AccessKind::kWrite, FaultKind::kNotPresent, 4000000).outcome.cls,
            FaultClass::kSwapMajor);
  r.done(2, munmap(kA, kP), 5000000);
  EXPECT_EQ(r.k.address_space(2)->rss.swapents, 0U);
}

TEST(Rmap, MremapMovesSwapEntries) {
  LinuxRig r;
  r.done(1, anon_mmap(2 * kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  r.fault1(1, kA + kP, AccessKind::kWrite);
  const Pfn a = pfn_at(r, 1, kA + kP);
  ++r.files.frames.meta(a).refcount;
  LinuxKernel::Clock clk;
  clk.t = Cycle(10000);
  LinuxKernel::Flush fl;
  ASSERT_TRUE(r.k.try_to_unmap(a, swp_entry(1, 7), clk, r.svc, fl));
  MremapEvent mr;
  mr.old_addr = kA;
  mr.old_len = 2 * kP;
  mr.new_len = 2 * kP;
  mr.flags = linux_abi::kMremapMayMove | linux_abi::kMremapFixed;
  mr.new_addr = kB;
  r.done(1, mr, 20000);
  EXPECT_EQ(r.k.address_space(1)->rss.swapents, 1U);
  const KernelStep f = r.raise(1, kB + kP, AccessKind::kRead, FaultKind::kNotPresent, 30000);
  EXPECT_EQ(f.outcome.cls, FaultClass::kSwapMajor);
  EXPECT_NE(f.outcome.message.find("type 1 slot 7"), std::string::npos) << f.outcome.message;
  EXPECT_EQ(r.fault1(1, kA + kP, AccessKind::kRead, 40000).cls, FaultClass::kSegv);
}

TEST(Rmap, SharedAnonymousMemory) {
  LinuxRig r;
  r.done(1, anon_mmap(kP, kA, 3, true));
  r.done(1, fork_to(2));
  r.fault1(1, kA, AccessKind::kWrite, 10000);
  r.fault1(2, kA, AccessKind::kRead, 20000);
  const Pfn s = pfn_at(r, 1, kA);
  ASSERT_EQ(pfn_at(r, 2, kA), s);
  EXPECT_EQ(r.k.mappings(s).size(), 2U);
  LinuxKernel::Clock clk;
  clk.t = Cycle(30000);
  LinuxKernel::Flush fl;
  EXPECT_TRUE(r.k.try_to_unmap(s, 0, clk, r.svc, fl));
  EXPECT_FALSE(r.pte(1, kA).has_value());
  EXPECT_FALSE(r.pte(2, kA).has_value());
  EXPECT_EQ(r.files.frames.meta(s).refcount, 1U);  // the object's
  EXPECT_TRUE(r.files.frames.meta(s).test(FrameFlag::kDirty));
  EXPECT_EQ(r.k.address_space(1)->rss.swapents, 0U);
}

TEST(Rmap, LockedMappingsStay) {
  LinuxRig r;
  MmapEvent mm = anon_mmap(kP, kA);
  mm.flags |= linux_abi::kMapLocked;
  r.done(1, mm);
  r.fault1(1, kA, AccessKind::kWrite);
  const Pfn a = pfn_at(r, 1, kA);
  uint64_t flags = 0;
  EXPECT_EQ(r.k.referenced_ptes(a, nullptr, nullptr, &flags), 0U);
  EXPECT_EQ(flags, vm::kLocked);
  ++r.files.frames.meta(a).refcount;
  LinuxKernel::Clock clk;
  LinuxKernel::Flush fl;
  EXPECT_FALSE(r.k.try_to_unmap(a, swp_entry(0, 1), clk, r.svc, fl));
  EXPECT_TRUE(r.pte(1, kA).has_value());
  EXPECT_EQ(r.files.frames.meta(a).mapcount, 1);
}

}  // namespace
}  // namespace mmusim
