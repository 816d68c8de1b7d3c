// The Linux model's anonymous faults, COW and fork (os-model.md §2.1,
// §2.4, §2.5, §7 step 3), stack growth, SIGSEGV and concurrent faults, with
// every latency asserted as its formula (linux_costs.h) over fake services
// whose memory answers after kL cycles.
#include <gtest/gtest.h>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::anon_mmap;
using testing::kL;
using testing::LinuxRig;

constexpr uint64_t kA = 0x7f0000000000ULL;  // an anonymous mapping
using testing::kCopy;                       // copy_page (linux_rig.h)
using testing::kZero;                       // zero_page (linux_rig.h)

uint64_t n(Cycles c) { return c.count(); }

struct Anon : ::testing::Test {
  void SetUp() override {
    r.done(1, StartEvent{"t"});
    r.done(1, anon_mmap(1 << 20, kA));
  }
  LinuxRig r;  // before `c`, which refers into it
  const LinuxCosts& c = r.k.config().cost;
};

TEST_F(Anon, WriteFaultCostsItsFormula) {
  // First touch of the region: three page tables (PDPT, PD, PT) are made,
  // each allocated and zeroed; four entry lines are written (three links
  // and the leaf), one per cycle, the last done kL after its issue.
  const FaultOutcome o = r.fault1(1, kA + 0x10, AccessKind::kWrite, 10000);
  EXPECT_EQ(o.cls, FaultClass::kAnonWrite);
  EXPECT_EQ(o.action, FaultOutcome::Action::kRetry);
  const uint64_t tables = 3 * (n(c.page_alloc) + kZero);
  const uint64_t expect = n(c.trap) + n(c.vma_lookup) + n(c.vma_level) + n(c.page_alloc) + kZero +
                          n(c.anon_setup) + tables + 3 + kL + n(c.fault_return);
  EXPECT_EQ(o.resume.count() - 10000, expect);
  EXPECT_EQ(o.timing.total(), expect);
  EXPECT_EQ(o.timing.part[FaultTiming::kZeroCopy], kZero);
  EXPECT_EQ(o.timing.part[FaultTiming::kAlloc], n(c.page_alloc) + tables);
  EXPECT_EQ(o.timing.part[FaultTiming::kPteInstall], n(c.anon_setup) + 3 + kL);
  // The next page shares the tables: one leaf line.
  const FaultOutcome o2 = r.fault1(1, kA + 0x1010, AccessKind::kWrite, 20000);
  EXPECT_EQ(o2.resume.count() - 20000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                           n(c.page_alloc) + kZero + n(c.anon_setup) + kL +
                                           n(c.fault_return));
  EXPECT_EQ(r.svc.data(true), 128U);  // two zero-fills
  EXPECT_EQ(r.svc.data(false), 0U);
  const auto m = r.pte(1, kA);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->entry & pte::kRW);
  EXPECT_TRUE(m->entry & pte::kD);
  EXPECT_TRUE(m->entry & pte::kXD);  // PROT_READ|PROT_WRITE: no exec
  EXPECT_EQ(r.k.process_stats(1).rss, 2U);
  EXPECT_EQ(r.k.process_stats(1).min_flt, 2U);
  EXPECT_EQ(r.k.stats().pgfault, 2U);
  EXPECT_EQ(r.k.stats().nr_anon_pages, 2U);
  EXPECT_TRUE(r.vma(1, kA)->anon_vma);
}

TEST_F(Anon, ReadThenWriteIsZeroPageThenCowWithZeroFillOnly) {
  // os-model.md §7 step 3: two faults; the second copies nothing.
  const FaultOutcome rd = r.fault1(1, kA, AccessKind::kRead, 10000);
  EXPECT_EQ(rd.cls, FaultClass::kAnonZero);
  EXPECT_EQ(rd.resume.count() - 10000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                           n(c.zero_map) + 3 * (n(c.page_alloc) + kZero) + 3 + kL +
                                           n(c.fault_return));
  EXPECT_EQ(r.pte(1, kA)->pfn, r.k.zero_pfn());
  EXPECT_FALSE(r.pte(1, kA)->entry & pte::kRW);
  EXPECT_EQ(r.svc.data(true), 0U);
  EXPECT_EQ(r.k.process_stats(1).rss, 0U);
  r.svc.clear();
  const FaultOutcome wr = r.fault1(1, kA, AccessKind::kWrite, 20000);
  EXPECT_EQ(wr.cls, FaultClass::kCowCopy);
  EXPECT_TRUE(wr.tlb_flush_page);
  // The old PTE cleared and the new one set: one line.
  EXPECT_EQ(wr.resume.count() - 20000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                           n(c.page_alloc) + kZero + n(c.cow_setup) +
                                           n(c.local_flush) + kL + n(c.fault_return));
  EXPECT_EQ(r.svc.data(false), 0U);  // no copy traffic
  EXPECT_EQ(r.svc.data(true), 64U);  // zero-fill only
  EXPECT_NE(r.pte(1, kA)->pfn, r.k.zero_pfn());
  EXPECT_EQ(r.k.process_stats(1).rss, 1U);
}

TEST_F(Anon, ForkCopiesOnChildWriteAndParentReusesAfterExit) {
  constexpr uint64_t kN = 8;
  for (uint64_t i = 0; i < kN; ++i) r.fault1(1, kA + i * 4096, AccessKind::kWrite);
  r.svc.clear();
  ProcCreateEvent pc;
  pc.child_pid = 2;
  const FaultOutcome f = r.done(1, pc, 50000);
  // §7 step 3: exactly one full flush of the parent; its PTEs write-protected.
  EXPECT_EQ(f.flush.kind, FaultOutcome::LocalFlush::Kind::kPcid);
  EXPECT_EQ(r.k.stats().local_flushes, 1U);
  for (uint64_t i = 0; i < kN; ++i) {
    EXPECT_FALSE(r.pte(1, kA + i * 4096)->entry & pte::kRW);
    EXPECT_FALSE(r.pte(2, kA + i * 4096)->entry & pte::kRW);
    EXPECT_FALSE(r.pte(2, kA + i * 4096)->entry & pte::kA);  // child PTEs old
    EXPECT_TRUE(r.pte(1, kA + i * 4096)->entry & pte::kA);
  }
  // Cost: the child's root and three tables, five entry lines (three links,
  // the child's leaf line, the parent's write-protected line), per PTE.
  EXPECT_EQ(f.resume.count() - 50000, n(c.syscall_entry) + n(c.fork) + n(c.fork_vma) +
                                          kN * n(c.fork_pte) + 4 * (n(c.page_alloc) + kZero) + 4 +
                                          kL + n(c.local_flush) + n(c.syscall_exit));
  EXPECT_EQ(r.k.stats().fork_ptes, kN);
  ASSERT_EQ(r.svc.created.size(), 1U);
  EXPECT_EQ(r.svc.created[0].second, (TaskId{2, 2}));
  EXPECT_NE(r.k.root(2), r.k.root(1));
  // The child writes: N copies, 64 line reads and 64 line writes each.
  r.svc.clear();
  for (uint64_t i = 0; i < kN; ++i) {
    const FaultOutcome o = r.fault1(2, kA + i * 4096, AccessKind::kWrite, 100000);
    EXPECT_EQ(o.cls, FaultClass::kCowCopy);
    EXPECT_EQ(o.resume.count() - 100000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                             n(c.page_alloc) + kCopy + n(c.cow_setup) +
                                             n(c.local_flush) + kL + n(c.fault_return));
  }
  EXPECT_EQ(r.svc.data(false), 64 * kN);
  EXPECT_EQ(r.svc.data(true), 64 * kN);
  EXPECT_EQ(r.k.stats().nr_anon_pages, 2 * kN);
  ExitEvent ex;
  r.done(2, ex);
  EXPECT_EQ(r.k.stats().nr_anon_pages, kN);  // the child's copies freed
  // The parent writes the same pages: reuse, no copy traffic.
  r.svc.clear();
  for (uint64_t i = 0; i < kN; ++i) {
    const FaultOutcome o = r.fault1(1, kA + i * 4096, AccessKind::kWrite, 200000);
    EXPECT_EQ(o.cls, FaultClass::kCowReuse);
    EXPECT_FALSE(o.tlb_flush_page);
    EXPECT_EQ(o.resume.count() - 200000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                             n(c.cow_reuse) + kL + n(c.fault_return));
  }
  EXPECT_EQ(r.svc.data(false), 0U);
  EXPECT_EQ(r.svc.data(true), 0U);
  EXPECT_EQ(r.k.stats().pgreuse, kN);
}

TEST_F(Anon, CowShootsDownOtherCpusRunningTheProcess) {
  r.fault1(1, kA, AccessKind::kWrite);
  ProcCreateEvent pc;
  pc.child_pid = 2;
  r.done(1, pc);
  r.svc.running = {{0, 1}, {1, 1}};  // the parent runs on CPUs 0 and 1
  r.svc.clear();
  const FaultOutcome o = r.fault1(1, kA, AccessKind::kWrite, 10000);  // CPU 0
  EXPECT_EQ(o.cls, FaultClass::kCowCopy);
  ASSERT_EQ(r.svc.sent.size(), 1U);
  EXPECT_EQ(r.svc.sent[0].kind, Shootdown::Kind::kPage);
  EXPECT_EQ(r.svc.sent[0].addr, LinearAddr(kA));
  EXPECT_EQ(o.timing.part[FaultTiming::kShootdown], testing::FakeServices::kShootdownCost);
}

TEST_F(Anon, ConcurrentFaultsOnOnePageInstallOnce) {
  // Two threads of one process on two CPUs write the same page; the second
  // waits for the first's install and then finds the page present.
  const FaultOutcome a = r.fault1(1, kA, AccessKind::kWrite, 1000);
  const uint64_t frames = r.files.frames.frames_used();
  KernelStep b = r.raise(1, kA, AccessKind::kWrite, FaultKind::kNotPresent, 1500, 1, 7);
  ASSERT_EQ(b.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(b.until, a.resume);
  b = r.k.resume(r.last_fault, b.key, b.until, r.svc);
  ASSERT_EQ(b.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(b.outcome.cls, FaultClass::kSpurious);
  EXPECT_EQ(b.outcome.resume,
            a.resume + c.vma_lookup + c.vma_level + c.fault_return);  // looked up again
  EXPECT_EQ(b.outcome.timing.total(), b.outcome.resume.count() - 1500);
  EXPECT_EQ(r.files.frames.frames_used(), frames);  // no second frame
  EXPECT_EQ(r.k.stats().nr_anon_pages, 1U);
  EXPECT_EQ(r.k.stats().timed_lock_waits, 1U);
  // A fault after the first one returned does not wait.
  KernelStep d =
      r.raise(1, kA + 4096, AccessKind::kWrite, FaultKind::kNotPresent, a.resume.count(), 1, 7);
  EXPECT_EQ(d.kind, KernelStep::Kind::kDone);
}

TEST_F(Anon, BadAccessesKillTheProcess) {
  // Outside every VMA, and a write to a read-only VMA.
  auto o = r.access(1, 0x1000, AccessKind::kRead);
  ASSERT_EQ(o.size(), 1U);
  EXPECT_EQ(o[0].cls, FaultClass::kSegv);
  EXPECT_EQ(o[0].action, FaultOutcome::Action::kKill);
  EXPECT_EQ(o[0].timing.part[FaultTiming::kReturn], n(c.segv));
  ASSERT_EQ(r.svc.exited.size(), 1U);
  EXPECT_EQ(r.svc.exited[0], (TaskId{1, 1}));
  EXPECT_EQ(r.svc.codes[0], 128 + 11);
  // No parent in the trace: reaped at once (as init would).
  EXPECT_EQ(r.k.process(1)->state, Process::State::kReaped);
  EXPECT_EQ(r.k.process_stats(1).segv, 1U);
  EXPECT_EQ(r.k.stats().pgfault, 0U);  // a bad area never reaches handle_mm_fault
  LinuxRig r2;
  r2.done(3, anon_mmap(4096, kA, linux_abi::kProtRead));
  auto w = r2.access(3, kA, AccessKind::kWrite);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_EQ(w[0].cls, FaultClass::kSegv);
  auto x = r2.access(4, 0x1000, AccessKind::kFetch);  // another process, nothing mapped
  EXPECT_EQ(x[0].cls, FaultClass::kSegv);
}

TEST(LinuxImplicit, PlainTraceIsFirstTouchAnonymousMemory) {
  LinuxConfig cfg = testing::default_linux_config();
  cfg.implicit_anon = true;
  LinuxRig r(cfg);
  EXPECT_FALSE(r.k.has_processes());
  EXPECT_NE(r.k.root(0), PhysAddr());  // a root before the first fault
  EXPECT_EQ(r.fault1(0, 0x400000, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  EXPECT_EQ(r.fault1(0, 0x7fff00000000ULL, AccessKind::kRead).cls, FaultClass::kAnonZero);
  EXPECT_EQ(r.fault1(0, 0x500000, AccessKind::kFetch).cls, FaultClass::kAnonZero);
  // Beyond user space: skipped, as first_touch does, not killed.
  const FaultOutcome o = r.fault1(0, 1ULL << 47, AccessKind::kRead);
  EXPECT_EQ(o.cls, FaultClass::kSegv);
  EXPECT_EQ(o.action, FaultOutcome::Action::kSkip);
  EXPECT_EQ(r.k.process(0)->state, Process::State::kRunning);
  // fork of an implicit process copies its pages as COW.
  ProcCreateEvent pc;
  pc.child_pid = 5;
  r.done(0, pc);
  EXPECT_EQ(r.fault1(5, 0x400000, AccessKind::kWrite).cls, FaultClass::kCowCopy);
}

TEST(LinuxStack, GrowsDownWithinItsLimitThenFaults) {
  LinuxRig r;
  constexpr uint64_t kTop = 0x7ffffffff000ULL;
  VmaInitEvent st;
  st.start = kTop - 0x21000;
  st.end = kTop;
  st.prot = 3;
  st.kind = VmaInitEvent::Kind::kStack;
  st.grows_down = true;
  st.max_size = 1 << 20;
  r.done(1, st);
  const LinuxCosts& c = r.k.config().cost;
  const FaultOutcome o = r.fault1(1, kTop - 0x40000, AccessKind::kWrite, 10000);
  EXPECT_EQ(o.cls, FaultClass::kStackGrowth);
  EXPECT_EQ(o.timing.part[FaultTiming::kVmaLookup],
            n(c.vma_lookup) + n(c.vma_level) + n(c.stack_expand));
  EXPECT_EQ(r.vma(1, kTop - 0x40000)->start, kTop - 0x40000);
  EXPECT_EQ(r.k.address_space(1)->vmas().size(), 1U);
  EXPECT_EQ(r.fault1(1, kTop - 0x30000, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  // 1 MiB is the limit: one page more is a SIGSEGV.
  EXPECT_EQ(r.fault1(1, kTop - (1 << 20), AccessKind::kRead).cls, FaultClass::kStackGrowth);
  EXPECT_EQ(r.fault1(1, kTop - (1 << 20) - 1, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxShmem, SharedAnonymousPagesAreSharedAcrossFork) {
  LinuxRig r;
  r.done(1, anon_mmap(8192, kA, 3, true));
  EXPECT_EQ(r.fault1(1, kA, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  ProcCreateEvent pc;
  pc.child_pid = 2;
  r.done(1, pc);
  EXPECT_FALSE(r.pte(2, kA).has_value());  // no anon_vma: not copied, refaulted
  EXPECT_EQ(r.fault1(2, kA, AccessKind::kWrite).cls, FaultClass::kFileMinor);
  EXPECT_EQ(r.pte(2, kA)->pfn, r.pte(1, kA)->pfn);
  EXPECT_TRUE(r.pte(2, kA)->entry & pte::kRW);
  EXPECT_EQ(r.k.stats().nr_shmem, 1U);
  ExitEvent ex;
  r.done(2, ex);
  r.done(1, ex);
  EXPECT_EQ(r.k.stats().nr_shmem, 0U);  // freed with its last mapping
}

}  // namespace
}  // namespace mmusim
