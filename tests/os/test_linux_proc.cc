// The Linux model's processes: exec (a new image, a new root), vfork (the
// parent waits for the child's exec or exit), wait/exit, threads, and the
// per-process counters.
#include <gtest/gtest.h>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::anon_mmap;
using testing::LinuxRig;

constexpr uint64_t kA = 0x7f0000000000ULL;
constexpr uint64_t kP = 4096;

TEST(LinuxProc, ExecReplacesTheImageAndTheRoot) {
  LinuxRig r;
  r.done(1, StartEvent{"sh"});
  r.done(1, anon_mmap(4 * kP, kA));
  for (int i = 0; i < 4; ++i) r.fault1(1, kA + i * kP, AccessKind::kWrite);
  const PhysAddr old_root = r.k.root(1);
  const uint64_t used = r.files.frames.frames_used();
  ExecEvent ex;
  ex.argv0 = "ls";
  r.done(1, ex);
  EXPECT_NE(r.k.root(1), old_root);
  EXPECT_TRUE(r.k.address_space(1)->vmas().empty());
  EXPECT_EQ(r.k.process(1)->name, "ls");
  // Four data pages and three tables freed, one root made.
  EXPECT_EQ(r.files.frames.frames_used(), used - 4 - 3);
  EXPECT_EQ(r.k.stats().nr_anon_pages, 0U);
  EXPECT_EQ(r.k.process_stats(1).rss, 0U);
  EXPECT_EQ(r.k.process_stats(1).rss_peak, 4U);
  EXPECT_EQ(r.k.commit().committed(), 0U);
  // The new image comes from VMA_INIT records.
  VmaInitEvent v;
  v.start = 0x400000;
  v.end = 0x402000;
  v.prot = 3;
  v.kind = VmaInitEvent::Kind::kAnon;
  r.done(1, v);
  EXPECT_EQ(r.fault1(1, 0x401000, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  EXPECT_EQ(r.fault1(1, kA, AccessKind::kRead).cls, FaultClass::kSegv);
}

TEST(LinuxProc, VforkParentWaitsForTheChildsExec) {
  LinuxRig r;
  r.done(1, anon_mmap(kP, kA));
  ProcCreateEvent pc;
  pc.kind = ProcCreateEvent::Kind::kVfork;
  pc.child_pid = 2;
  KernelStep s = r.call(1, pc, 1000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitPage);
  const OsEvent vfork_event = r.last_event;
  const TaskCall vfork_call = r.last_call;
  // The child shares the address space until it execs.
  EXPECT_EQ(r.k.root(2), r.k.root(1));
  EXPECT_EQ(r.fault1(2, kA, AccessKind::kWrite).cls, FaultClass::kAnonWrite);
  EXPECT_TRUE(r.pte(1, kA).has_value());
  ExecEvent ex;
  r.done(2, ex, 50000);
  ASSERT_EQ(r.svc.released.size(), 1U);
  EXPECT_EQ(r.svc.released[0], s.key);
  EXPECT_NE(r.k.root(2), r.k.root(1));
  EXPECT_TRUE(r.pte(1, kA).has_value());  // the parent keeps its memory
  const KernelStep back = r.k.resume_event(vfork_event, vfork_call, s.key, Cycle(100000), r.svc);
  ASSERT_EQ(back.kind, KernelStep::Kind::kDone);
  const LinuxCosts& c = r.k.config().cost;
  EXPECT_EQ(back.outcome.resume.count(), 100000 + c.wake.count() + c.syscall_exit.count());
  EXPECT_EQ(back.outcome.timing.total(), back.outcome.resume.count() - 1000);
  EXPECT_EQ(r.k.stats().vforks, 1U);
}

TEST(LinuxProc, WaitBlocksUntilTheChildExitsOrReturnsAtOnce) {
  LinuxRig r;
  ProcCreateEvent pc;
  pc.child_pid = 2;
  r.done(1, pc);
  WaitEvent w;
  w.child_pid = -1;
  w.ret = 2;
  KernelStep s = r.call(1, w, 5000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitPage);
  const OsEvent we = r.last_event;
  const TaskCall wc = r.last_call;
  ExitEvent ex;
  ex.code = 3;
  r.done(2, ex, 9000);
  EXPECT_EQ(r.k.process(2)->state, Process::State::kZombie);
  ASSERT_EQ(r.svc.released.size(), 1U);
  EXPECT_EQ(r.svc.released[0], s.key);
  ASSERT_EQ(r.svc.exited.size(), 1U);
  EXPECT_EQ(r.svc.exited[0], (TaskId{2, 2}));
  const KernelStep back = r.k.resume_event(we, wc, s.key, Cycle(9500), r.svc);
  ASSERT_EQ(back.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.k.process(2)->state, Process::State::kReaped);
  // A child that already exited is reaped at once.
  pc.child_pid = 3;
  r.done(1, pc);
  r.done(3, ex);
  w.ret = 3;
  EXPECT_EQ(r.call(1, w).kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.k.process(3)->state, Process::State::kReaped);
  EXPECT_EQ(r.k.stats().reaped, 2U);
}

TEST(LinuxProc, ThreadsShareTheAddressSpaceAndExitGroupEndsThemAll) {
  LinuxRig r;
  r.done(1, anon_mmap(kP, kA));
  ThreadCreateEvent t;
  t.child_tid = 11;
  r.done(1, t);
  ASSERT_EQ(r.svc.created.size(), 1U);
  EXPECT_EQ(r.svc.created[0].second, (TaskId{1, 11}));
  r.raise(1, kA, AccessKind::kWrite, FaultKind::kNotPresent, 1000, 1, 11);
  EXPECT_TRUE(r.pte(1, kA).has_value());
  ExitEvent one;
  one.group = false;
  r.call(1, one, 2000, 11);
  EXPECT_EQ(r.k.process(1)->state, Process::State::kRunning);
  ExitEvent all;
  r.done(1, all);
  EXPECT_EQ(r.svc.exited.size(), 2U);
  EXPECT_NE(r.k.process(1)->state, Process::State::kRunning);
  EXPECT_EQ(r.k.stats().nr_anon_pages, 0U);
}

TEST(LinuxProc, PerProcessFaultCounters) {
  LinuxRig r;
  r.done(1, anon_mmap(4 * kP, kA));
  r.fault1(1, kA, AccessKind::kWrite);
  r.fault1(1, kA + kP, AccessKind::kRead);
  ProcCreateEvent pc;
  pc.child_pid = 2;
  r.done(1, pc);
  r.fault1(2, kA, AccessKind::kWrite);
  EXPECT_EQ(r.k.process_stats(1).min_flt, 2U);
  EXPECT_EQ(r.k.process_stats(1).maj_flt, 0U);
  EXPECT_EQ(r.k.process_stats(1).rss, 1U);
  EXPECT_EQ(r.k.process_stats(2).min_flt, 1U);
  EXPECT_EQ(r.k.process_stats(2).rss, 1U);  // its copy (the zero page is not counted)
  EXPECT_EQ(r.k.pids(), (std::vector<uint32_t>{1, 2}));
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

struct Collect : StatVisitor {
  void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
    values[std::string(n)] = v;
  }
  void real(std::string_view, std::string_view, std::string_view, double) override {}
  void histogram(std::string_view, std::string_view, std::string_view, const Histogram&) override {}
  std::map<std::string, uint64_t> values;
};

TEST(LinuxStats, VmstatAndKernelNames) {
  testing::LinuxRig r;
  r.done(1, testing::anon_mmap(4 * kP, 0x7f0000000000ULL));
  r.fault1(1, 0x7f0000000000ULL, AccessKind::kWrite);
  r.fault1(1, 0x7f0000001000ULL, AccessKind::kRead);
  MadviseEvent m;
  m.addr = 0x7f0000000000ULL;
  m.len = 4096;
  m.advice = linux_abi::kMadvDontNeed;
  r.done(1, m);
  Collect v;
  r.k.visit_vmstat(v);
  EXPECT_EQ(v.values.at("vmstat.pgfault"), 2U);
  EXPECT_EQ(v.values.at("vmstat.pgmajfault"), 0U);
  EXPECT_EQ(v.values.at("vmstat.pgalloc_normal"), 1U + 3U);  // the page, three tables
  EXPECT_EQ(v.values.at("vmstat.pgfree"), 1U);
  EXPECT_EQ(v.values.at("vmstat.nr_anon_pages"), 0U);
  EXPECT_EQ(v.values.at("vmstat.nr_page_table_pages"), 4U);  // root, PDPT, PD, PT
  EXPECT_EQ(v.values.at("vmstat.nr_free_pages"), r.files.frames.frames_free());
  Collect k;
  r.k.visit(k);
  EXPECT_EQ(k.values.at("kernel.linux.faults.anon_write"), 1U);
  EXPECT_EQ(k.values.at("kernel.linux.faults.anon_zero"), 1U);
  EXPECT_EQ(k.values.at("kernel.linux.events.MMAP"), 1U);
  EXPECT_EQ(k.values.at("kernel.linux.events.MADVISE"), 1U);
  EXPECT_EQ(k.values.at("kernel.linux.divergences"), 0U);
  EXPECT_EQ(k.values.count("kernel.linux.faults.first_touch"), 0U);
}

}  // namespace
}  // namespace mmusim
