// The process model's plumbing, built by hand from the public modules: the
// scheduler in the kernel module places tasks on CPUs, runs their OS events
// through the kernel core, blocks and wakes them (wait4), preempts them at
// the end of a slice, maps process ids to per-CPU PCID slots, and drops the
// records of a killed task. The kernel core here is a small test kernel over
// the first-touch mapper that records what it was asked.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <systemc>
#include <vector>

#include "models/common/sc_sync.h"
#include "models/cpu/cpu_module.h"
#include "models/dram/dram_module.h"
#include "models/os/first_touch.h"
#include "models/os/kernel_module.h"

namespace mmusim {
namespace {

// Records per task; START tasks are handed out at the first call.
class TaskRecords : public TaskRecordSource {
 public:
  void start(TaskId t) {
    event(t, StartEvent{"t"});
    started_.push_back(t);
  }
  void access(TaskId t, uint64_t addr, size_t times = 1, AccessKind k = AccessKind::kRead) {
    TraceRecord r;
    r.addr = addr;
    r.size = 8;
    r.kind = k;
    for (size_t i = 0; i < times; ++i) q_[t].push_back(r);
  }
  void event(TaskId t, OsEventBody b) {
    TraceRecord r;
    r.flags = trace_flags::kOpEvent;
    r.addr = events_.size();
    events_.push_back(OsEvent{t.pid, t.tid, std::move(b)});
    q_[t].push_back(r);
  }
  size_t next(TaskId t, TraceRecord* out, size_t max) override {
    auto& q = q_[t];
    size_t n = 0;
    while (n < max && !q.empty()) {
      out[n++] = q.front();
      q.pop_front();
    }
    return n;
  }
  void unread(TaskId t, const TraceRecord* r, size_t n) override {
    q_[t].insert(q_[t].begin(), r, r + n);
  }
  OsEvent take_event(uint64_t id) override { return events_.at(id); }
  void drop(TaskId t) override {
    dropped += q_[t].size();
    q_[t].clear();
  }
  bool new_tasks(std::vector<TaskId>& out, bool /*look*/) override {
    out.insert(out.end(), started_.begin(), started_.end());
    const bool any = !started_.empty();
    started_.clear();
    return any;
  }
  [[nodiscard]] bool has_new_tasks() const override { return !started_.empty(); }
  uint64_t dropped = 0;

 private:
  std::map<TaskId, std::deque<TraceRecord>> q_;
  std::vector<OsEvent> events_;
  std::vector<TaskId> started_;
};

// One address space (first touch) with a process model's events: fork makes
// the child runnable, exit releases the parent's wait, wait4 blocks until
// the child exited. A fault at kBad kills the task. Every call is logged.
class ProcKernel : public FirstTouchMapper {
 public:
  static constexpr uint64_t kBad = 0x66600000;
  static constexpr uint64_t kCallCost = 500;
  static constexpr uint64_t kIoPage = 0x77700000, kIoKey = 777, kIo = 200000;
  explicit ProcKernel(PhysMem& mem) : FirstTouchMapper(FirstTouchConfig{}, mem) {}
  bool has_processes() const override { return true; }
  KernelStep fault(const FaultInfo& f, KernelServices& s) override {
    if ((f.addr.value() & ~0xFFFULL) == kIoPage) {
      log.push_back(std::to_string(f.pid) + " io starts");
      return KernelStep::wait_io(kIoKey, f.raised + Cycles(kIo));
    }
    if ((f.addr.value() & ~0xFFFULL) == kBad) {
      log.push_back(std::to_string(f.pid) + " killed");
      s.task_exited(TaskId{f.pid, f.tid}, -11, true, f.raised);
      FaultOutcome o;
      o.action = FaultOutcome::Action::kKill;
      o.cls = FaultClass::kSegv;
      o.resume = f.raised;
      return KernelStep::done(o);
    }
    return FirstTouchMapper::fault(f, s);
  }
  KernelStep resume(const FaultInfo& f, uint64_t key, Cycle now, KernelServices& s) override {
    if (key != kIoKey) return FirstTouchMapper::resume(f, key, now, s);
    log.push_back(std::to_string(f.pid) + " io done");
    FaultInfo g = f;
    g.raised = now;
    FaultOutcome o = FirstTouchMapper::handle(g);
    o.cls = FaultClass::kFileMajor;
    o.timing.add(FaultTiming::kDevice, now - f.raised);
    return KernelStep::done(o);
  }
  KernelStep resume_event(const OsEvent& e, const TaskCall& c, uint64_t key, Cycle now,
                          KernelServices& s) override {
    if (key != kIoKey + 1) return FirstTouchMapper::resume_event(e, c, key, now, s);
    log.push_back(std::to_string(c.task.pid) + " read done");
    FaultOutcome o;
    o.resume = now + Cycles(kCallCost);
    return KernelStep::done(o);
  }
  KernelStep event(const OsEvent& e, const TaskCall& c, KernelServices& s) override {
    const std::string who = std::to_string(c.task.pid) + " ";
    FaultOutcome o;
    o.resume = c.at + Cycles(kCallCost);
    if (const auto* p = std::get_if<ProcCreateEvent>(&e.body)) {
      log.push_back(who + "fork " + std::to_string(p->child_pid));
      s.task_created(c.task, TaskId{p->child_pid, p->child_tid}, o.resume);
    } else if (std::holds_alternative<ExitEvent>(e.body)) {
      log.push_back(who + "exit");
      exited.insert(c.task.pid);
      s.release(1000 + c.task.pid);
      s.task_exited(c.task, 0, false, c.at);
    } else if (const auto* w = std::get_if<WaitEvent>(&e.body)) {
      const auto child = static_cast<uint32_t>(w->child_pid);
      if (exited.count(child) == 0) {
        log.push_back(who + "wait blocks");
        return KernelStep::wait_page(1000 + child);
      }
      log.push_back(who + "wait returns");
    } else if (const auto* m = std::get_if<MunmapEvent>(&e.body)) {
      // Another thread's munmap, as far as the page tables go.
      log.push_back(who + "munmap");
      for (uint64_t a = m->addr; a < m->addr + m->len; a += 4096) page_table().unmap(LinearAddr(a));
    } else if (std::holds_alternative<RwEvent>(e.body)) {
      log.push_back(who + "read io");
      return KernelStep::wait_io(kIoKey + 1, c.at + Cycles(kIo));
    } else {
      log.push_back(who + std::string(os_event_name(e)));
    }
    times.push_back(c.at);
    return KernelStep::done(o);
  }
  std::vector<std::string> log;
  std::vector<Cycle> times;
  std::set<uint32_t> exited;
};

struct System {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  ProcKernel os{mem};
  DramModule dram{"dram", DramConfig{}, clk, &mem};
  KernelModule kernel{"kernel", os, KernelModuleConfig{}};
  TaskRecords rec;
  std::vector<std::unique_ptr<CpuModule>> cpus;
  struct NoRecords : RecordSource {
    const TraceRecord* next(uint32_t, TraceRecord* scratch, size_t, size_t& n) override {
      n = 0;
      return scratch;
    }
  } none;

  System(uint32_t n, uint64_t slice, const SchedConfig& sc = SchedConfig{},
         const CpuModuleConfig& c = CpuModuleConfig{}) {
    kernel.mem.bind(dram.socket);
    kernel.use_scheduler(sc, n, slice);
    for (uint32_t i = 0; i < n; ++i) {
      cpus.push_back(std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i, c, mem,
                                                 horizon, clk, none));
      CpuModule& m = *cpus.back();
      m.core().set_root(os.root());
      m.walker.mem.bind(dram.socket);
      m.mem.bind(dram.socket);
      m.kernel.bind(kernel.target);
      m.tasks.bind(kernel.tasks);
      m.use_tasks(rec);
      kernel.cpus.bind(m.control);
    }
  }
  void run() {
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_start();
    for (auto& c : cpus) {
      if (c->error()) std::rethrow_exception(c->error());
      c->finish_idle();
    }
    kernel.finish();
  }
  const SchedStats& sched() const { return kernel.scheduler()->stats(); }
};

const TaskId kA{10, 10}, kB{20, 20}, kC{30, 30}, kChild{11, 11};

// A long slice: A runs to the end of its records, then B. Each task's first
// dispatch takes a fresh PCID slot (flushed); the CPU switched twice.
TEST(Tasks, TwoProcessesRunOneAfterTheOtherWithALongSlice) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 100);
  s.rec.access(kB, 0x20000000, 50);
  s.run();
  const CpuCore& c = s.cpus[0]->core();
  EXPECT_EQ(c.stats().records, 150U);
  EXPECT_EQ(c.stats().context_switches, 2U);
  EXPECT_EQ(s.sched().switches, 2U);
  EXPECT_EQ(s.sched().preemptions, 0U);
  EXPECT_EQ(s.sched().exits, 2U);
  EXPECT_EQ(s.sched().pcid_flushes, 2U);
  EXPECT_EQ(c.context().pid, 20U);
  EXPECT_EQ(c.context().pcid, Asid(2));  // the second slot
  EXPECT_EQ(s.os.log, (std::vector<std::string>{"10 START", "10 exit", "20 START", "20 exit"}));
}

// A short slice on one CPU: the two tasks alternate, each switch back finds
// the address space in its PCID slot (no flush); every record still runs.
TEST(Tasks, ShortSliceAlternatesAndReusesPcids) {
  System s(1, 2000);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 40000);
  s.rec.access(kB, 0x20000000, 40000);
  s.run();
  const SchedStats& st = s.sched();
  EXPECT_EQ(s.cpus[0]->core().stats().records, 80000U);
  EXPECT_GT(st.preemptions, 10U);
  EXPECT_EQ(st.switches, st.preemptions + 2);  // + the first dispatch and the switch at A's end
  EXPECT_EQ(st.pcid_flushes, 2U);
  EXPECT_EQ(st.pcid_reuse + st.pcid_flushes, st.switches);
}

// One PCID slot: every switch between the two address spaces takes the
// slot again and flushes it.
TEST(Tasks, OnePcidSlotFlushesAtEverySwitch) {
  SchedConfig sc;
  sc.pcids = 1;
  System s(1, 2000, sc);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 4000);
  s.rec.access(kB, 0x20000000, 4000);
  s.run();
  EXPECT_EQ(s.sched().pcid_reuse, 0U);
  EXPECT_EQ(s.sched().pcid_flushes, s.sched().switches);
}

// fork + wait4 on one CPU: the parent blocks in wait4, the child runs and
// exits, the parent wakes, its wait4 returns, it finishes.
TEST(Tasks, ParentBlocksInWaitUntilTheChildExits) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.access(kA, 0x10000000, 10);
  s.rec.event(kA, ProcCreateEvent{ProcCreateEvent::Kind::kFork, 0, kChild.pid, kChild.tid});
  s.rec.event(kA, WaitEvent{static_cast<int32_t>(kChild.pid), kChild.pid});
  s.rec.access(kA, 0x10000000, 10);
  s.rec.event(kA, ExitEvent{0, true});
  s.rec.access(kChild, 0x30000000, 20);
  s.rec.event(kChild, ExitEvent{0, true});
  s.run();
  EXPECT_EQ(s.os.log, (std::vector<std::string>{"10 START", "10 fork 11", "10 wait blocks",
                                                "11 exit", "10 wait returns", "10 exit"}));
  const SchedStats& st = s.sched();
  EXPECT_EQ(st.blocks, 1U);
  EXPECT_EQ(st.wakeups, 1U);
  EXPECT_EQ(st.switches, 3U);  // -> A, -> child, -> A
  EXPECT_EQ(st.exits, 2U);
  EXPECT_EQ(s.cpus[0]->core().stats().records, 40U);
  // The resumed wait4 runs after the child's exit and a switch back.
  ASSERT_EQ(s.os.times.size(), 5U);
  EXPECT_GE(s.os.times[3].count(),
            s.os.times[2].count() + ProcKernel::kCallCost + SchedConfig{}.switch_cost.count());
}

// Two CPUs: the child created by fork runs on the idle CPU at once.
TEST(Tasks, ForkedChildRunsOnTheIdleCpu) {
  System s(2, 1ULL << 40);
  s.rec.start(kA);
  s.rec.event(kA, ProcCreateEvent{ProcCreateEvent::Kind::kFork, 0, kChild.pid, kChild.tid});
  s.rec.access(kA, 0x10000000, 3000);
  s.rec.access(kChild, 0x30000000, 3000);
  s.run();
  EXPECT_EQ(s.cpus[0]->core().stats().records + s.cpus[1]->core().stats().records, 6000U);
  EXPECT_EQ(s.cpus[0]->core().stats().records, 3000U);
  EXPECT_EQ(s.cpus[1]->core().context().pid, kChild.pid);
  EXPECT_EQ(s.sched().exits, 2U);
}

// A fault the kernel answers with kKill ends the task: its remaining
// records are dropped, the other task goes on.
TEST(Tasks, KilledTaskLosesItsRemainingRecords) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 5);
  s.rec.access(kA, ProcKernel::kBad, 1);
  s.rec.access(kA, 0x10000000, 7);
  s.rec.access(kB, 0x20000000, 9);
  s.run();
  EXPECT_EQ(s.rec.dropped, 7U);
  EXPECT_EQ(s.sched().killed, 1U);
  EXPECT_EQ(s.cpus[0]->core().stats().records, 15U);
  EXPECT_EQ(s.cpus[0]->core().stats().skipped, 1U);
}

// A parent waiting for a child that never exits (its records end in the
// middle): the child's end of records counts as its exit.
TEST(Tasks, EndOfRecordsEndsTheTask) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.event(kA, ProcCreateEvent{ProcCreateEvent::Kind::kFork, 0, kChild.pid, kChild.tid});
  s.rec.event(kA, WaitEvent{static_cast<int32_t>(kChild.pid), kChild.pid});
  s.rec.access(kChild, 0x30000000, 5);
  s.run();
  EXPECT_EQ(s.sched().blocked_at_end, 0U);
  EXPECT_EQ(s.sched().exits, 2U);
  EXPECT_EQ(s.os.log.back(), "10 exit");
}

// A wait nothing releases (a child the trace never creates): the task stays
// blocked, its later records are not simulated, and the end of the run says
// so, naming the task and what it waited for.
TEST(Tasks, TaskBlockedForeverIsReported) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 5);
  s.rec.event(kA, WaitEvent{99, 99});
  s.rec.access(kA, 0x10000000, 7);
  s.rec.access(kB, 0x20000000, 9);
  s.run();
  EXPECT_EQ(s.sched().blocked_at_end, 1U);
  EXPECT_EQ(s.sched().exits, 1U);                         // kB only
  EXPECT_EQ(s.cpus[0]->core().stats().records, 5U + 9U);  // not the 7 after the wait
  const auto& b = s.kernel.scheduler()->blocked_at_end();
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].task, kA);
  EXPECT_EQ(b[0].key, 1099U);
  EXPECT_FALSE(b[0].io);
  EXPECT_EQ(blocked_at_end_warning(b),
            "1 task was still blocked when the run ended (pid 10 tid 10 on wait key 1099); "
            "nothing was left to wake them, so the records after their block were not "
            "simulated and the results end there (top.kernel.sched.blocked_at_end)");
  EXPECT_EQ(blocked_at_end_warning({}), "");
  std::vector<Scheduler::Blocked> many(6, Scheduler::Blocked{kB, 7, true});
  const std::string w = blocked_at_end_warning(many);
  const std::string one = "pid 20 tid 20 on I/O key 7";
  EXPECT_EQ(w.substr(0, w.find("); nothing")),
            "6 tasks were still blocked when the run ended (" + one + ", " + one + ", " + one +
                ", " + one + ", ...");  // the first four
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

// A fault that needs an I/O puts its task to sleep: the CPU runs the other
// task meanwhile, idles until the I/O completes, then the sleeping fault
// completes and its access replays (counted once).
TEST(Tasks, MajorFaultSleepsAndTheCpuRunsAnotherTask) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, ProcKernel::kIoPage, 1);
  s.rec.access(kA, 0x10000000, 10);
  s.rec.access(kB, 0x20000000, 1000);
  s.run();
  EXPECT_EQ(s.os.log, (std::vector<std::string>{"10 START", "10 io starts", "20 START", "20 exit",
                                                "10 io done", "10 exit"}));
  const SchedStats& st = s.sched();
  EXPECT_EQ(st.io_blocks, 1U);
  EXPECT_EQ(st.switches, 3U);  // -> A, -> B, -> A
  EXPECT_GT(st.idle_cycles, 0U);
  const CpuCore& c = s.cpus[0]->core();
  EXPECT_EQ(c.stats().records, 1011U);
  const KernelModuleStats& k = s.kernel.stats();
  EXPECT_EQ(k.faults[static_cast<size_t>(FaultClass::kFileMajor)], 1U);
  EXPECT_GE(k.latency[static_cast<size_t>(FaultClass::kFileMajor)].max(), ProcKernel::kIo);
  // The machine finished after the I/O, not I/O + B's work: they overlapped.
  EXPECT_LT(c.stats().cycles, ProcKernel::kIo + 2 * SchedConfig{}.switch_cost.count() + 20000);
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

// Recorded context switches pin the schedule: each CTXSW hands the CPU to
// the task it names, and slice ends no longer preempt.
TEST(Tasks, RecordedSwitchesPinTheSchedule) {
  System s(1, 3000);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.access(kA, 0x10000000, 100);
  s.rec.event(kA, CtxSwitchEvent{0, kB.pid, kB.tid, CtxSwitchEvent::Reason::kPreempt});
  s.rec.access(kA, 0x10000000, 20000);
  s.rec.access(kB, 0x20000000, 50);
  s.rec.event(kB, CtxSwitchEvent{0, kA.pid, kA.tid, CtxSwitchEvent::Reason::kYield});
  s.rec.access(kB, 0x20000000, 20000);
  s.run();
  EXPECT_EQ(s.os.log, (std::vector<std::string>{"10 START", "20 START", "10 exit", "20 exit"}));
  EXPECT_EQ(s.sched().switches, 4U);     // -> A, -> B, -> A, -> B
  EXPECT_EQ(s.sched().preemptions, 2U);  // the two recorded switches, no slice end
  EXPECT_EQ(s.cpus[0]->core().stats().records, 40150U);
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

// A read() that waits for its I/O puts the task to sleep like a major fault:
// the other task runs meanwhile, and the call completes when the reader runs
// again (its records after the call were given back and replay).
TEST(Tasks, ReadWaitingForIoSleepsAndTheCpuRunsAnotherTask) {
  System s(1, 1ULL << 40);
  s.rec.start(kA);
  s.rec.start(kB);
  s.rec.event(kA, RwEvent{});
  s.rec.access(kA, 0x10000000, 10);
  s.rec.access(kB, 0x20000000, 1000);
  s.run();
  EXPECT_EQ(s.os.log, (std::vector<std::string>{"10 START", "10 read io", "20 START", "20 exit",
                                                "10 read done", "10 exit"}));
  EXPECT_EQ(s.sched().io_blocks, 1U);
  EXPECT_EQ(s.sched().switches, 3U);
  EXPECT_EQ(s.cpus[0]->core().stats().records, 1010U);
  EXPECT_EQ(s.kernel.stats().io_waits, 1U);
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

// A late fault that sleeps. CPU 0 runs A: three mapped pages, then the I/O
// page (mapped too: its outlook finds it so), then `after` more records.
// With one walker slot the I/O page's walk begins after the three others;
// before it does, B (CPU 1) unmaps the page, so the walk finds it gone and
// faults late, after A's younger records ran. The fault needs an I/O: A
// sleeps (its younger records stand) and CPU 0 runs C meanwhile; A's access
// to the I/O page replays first when A runs again (on CPU 1, idle by then),
// then A's records that had not run. Every record is counted once. With 20
// records after the I/O page the fault is found when A's records end; with
// 2000, while they run (the rest are given back). With `event`, an madvise
// of A's comes right after the I/O page: the drain before it finds the late
// fault, and the event runs after the replay, once A woke.
void late_fault_sleeps(uint64_t after, bool event = false) {
  CpuModuleConfig c;
  c.quantum = 0;  // the reference mode: every agent acts in time order
  c.core.walker.max_walks = 1;
  System s(2, 1ULL << 40, SchedConfig{}, c);
  PageTable& pt = s.os.page_table();
  const uint64_t f = pte::kRW | pte::kUS | pte::kA | pte::kD;
  constexpr uint64_t kPages = 0x30000000, kBusy = 0x40000000;
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(pt.map(LinearAddr(kPages + 4096 * i), Pfn(0x100000 + i), PageSize::k4K, f),
              MapResult::kOk);
  }
  ASSERT_EQ(pt.map(LinearAddr(ProcKernel::kIoPage), Pfn(0x100100), PageSize::k4K, f),
            MapResult::kOk);
  ASSERT_EQ(pt.map(LinearAddr(kBusy), Pfn(0x100200), PageSize::k4K, f), MapResult::kOk);
  s.rec.start(kA);
  s.rec.start(kB);
  for (uint64_t i = 0; i < 3; ++i) s.rec.access(kA, kPages + 4096 * i);
  s.rec.access(kA, ProcKernel::kIoPage);
  if (event) s.rec.event(kA, MadviseEvent{kPages, 4096, 0, 0});
  s.rec.access(kA, kPages, after);
  s.rec.access(kB, kBusy, 16);
  s.rec.event(kB, MunmapEvent{ProcKernel::kIoPage, 4096, 0});
  s.rec.access(kB, kBusy, 100000);  // CPU 1 stays busy
  s.rec.start(kC);
  s.rec.access(kC, 0x50000000, 1000);
  s.run();
  // C starts once A sleeps, and ends long before A's I/O completes.
  std::vector<std::string> log{"10 START", "20 START", "20 munmap", "10 io starts",
                               "30 START", "30 exit",  "20 exit",   "10 io done"};
  if (event) log.emplace_back("10 MADVISE");
  log.emplace_back("10 exit");
  EXPECT_EQ(s.os.log, log);
  const CpuStats& c0 = s.cpus[0]->core().stats();
  const CpuStats& c1 = s.cpus[1]->core().stats();
  EXPECT_EQ(c0.late_faults, 1U);
  EXPECT_EQ(c0.faults, 2U);  // the late one and C's first touch
  EXPECT_EQ(c0.records + c1.records, 3U + 1U + after + 1000U + 16U + 100000U);
  const uint64_t a_later = c1.records - 16U - 100000U;  // A's, on CPU 1 after it woke
  if (event) {
    EXPECT_EQ(a_later, 1U + after);  // the replay, then every record after the event
  } else if (after == 20) {
    EXPECT_EQ(a_later, 1U);  // the replay
  } else {
    EXPECT_GT(a_later, 1U);  // the replay, then the records given back
    EXPECT_LT(a_later, after);
  }
  EXPECT_EQ(c0.context_switches, 2U);  // A, then C
  EXPECT_EQ(s.sched().io_blocks, 1U);
  EXPECT_EQ(s.kernel.stats().faults[static_cast<size_t>(FaultClass::kFileMajor)], 1U);
  EXPECT_LT(s.os.times[4], Cycle(ProcKernel::kIo));  // C's exit
}
TEST(Tasks, LateFaultThatNeedsAnIoSleepsAndTheCpuRunsAnotherTask) { late_fault_sleeps(20); }
TEST(Tasks, LateFaultFoundWhileTheTaskRunsGivesBackTheRest) { late_fault_sleeps(2000); }
TEST(Tasks, LateFaultFoundBeforeAnEventRunsTheEventAfterTheReplay) { late_fault_sleeps(20, true); }

}  // namespace
}  // namespace mmusim
