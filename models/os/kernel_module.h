// The kernel as a public SystemC module (top.kernel): the CPUs' fault ports
// bind to its export; it runs the kernel core (kernel.h) in the faulting
// CPU's thread, performing the core's waits there (an I/O until its
// completion, a locked page until its release) so that the other CPUs and
// agents go on; a second fault on a page whose I/O is in flight waits for
// that I/O. The kernel's own memory traffic (zero-fill, copy, PTE writes)
// leaves through the `mem` socket (initiator "kernel"), timed in the
// faulting CPU's time; shootdowns reach the other CPUs through the `cpus`
// multiport. Statistics per fault class: count, latency, mean breakdown.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <systemc>
#include <vector>

#include "models/common/kernel_if.h"
#include "models/common/mem_port.h"
#include "models/common/stats.h"
#include "models/disk/block_if.h"
#include "models/os/kernel.h"
#include "models/os/os_config.h"
#include "models/os/scheduler.h"

namespace mmusim {

struct KernelModuleStats {
  std::array<uint64_t, kNumFaultClasses> faults{};
  std::array<Histogram, kNumFaultClasses> latency;      // raise to resume
  std::array<FaultTiming, kNumFaultClasses> breakdown;  // summed per class
  uint64_t io_waits = 0, page_waits = 0, wait_cycles = 0;
  uint64_t mem_requests = 0;  // the kernel's own memory traffic, lines
  uint64_t shootdowns = 0;    // IPIs sent (one per target CPU)
};

// One handled fault, for the fault log (--fault-log).
struct FaultRecord {
  FaultInfo info;        // who, where, when it was raised
  FaultOutcome outcome;  // class, resume (its end), breakdown
};

// Where the module reports every fault it handled, in the order they end.
class FaultSink {
 public:
  virtual ~FaultSink() = default;
  virtual void add(const FaultRecord& r) = 0;
};

// With a scheduler (traces with tasks), the module is also the CPUs' TaskIf:
// it runs the scheduler, hands OS events to the core, blocks and wakes
// tasks, and performs the waits of system calls. Without one (a plain
// trace), every CPU runs one address space as before.
//
// With storage (use_storage), the page cache's block requests leave through
// the `disk` port (BlockQueue adapter: block_queue()) and their completion
// interrupts come back through the `io` export, in the controller's thread
// at the interrupt's cycle: the pages become uptodate and the tasks (or
// in-place waiters) sleeping on them wake then.
class KernelModule : public sc_core::sc_module, public KernelIf, public TaskIf, public BlockDoneIf {
 public:
  sc_core::sc_export<KernelIf> target;
  sc_core::sc_export<TaskIf> tasks;
  sc_core::sc_export<BlockDoneIf> io;
  sc_core::sc_port<BlockIf, 1, sc_core::SC_ZERO_OR_MORE_BOUND> disk;
  tlm_utils::simple_initiator_socket<KernelModule> mem;
  sc_core::sc_port<CpuControlIf, 0, sc_core::SC_ZERO_OR_MORE_BOUND> cpus;

  SC_HAS_PROCESS(KernelModule);
  KernelModule(const sc_core::sc_module_name& name, Kernel& core, const KernelModuleConfig& cfg);
  // Every fault from now on is also reported to `sink` (null: none).
  void set_fault_sink(FaultSink* sink) { sink_ = sink; }
  // `mem` is bound to `t` itself (no cache in between): a line the kernel
  // reads or writes in time order is served by a plain call on `t`, as
  // the socket would serve it.
  void serve_directly(InOrderMemTarget* t) {
    direct_ = t;
    for (auto& r : requests_) {
      if (r) r->serve_directly(t);
    }
  }
  // Turns on the process model (before the simulation starts).
  void use_scheduler(const SchedConfig& cfg, uint32_t cpus, uint64_t slice_cycles);
  [[nodiscard]] const Scheduler* scheduler() const { return sched_.get(); }
  // Block requests go to the `disk` port (bound before the simulation
  // starts); `clk` times the wake-ups of completions.
  void use_storage(const ClockPeriod& clk) { clk_ = &clk; }
  // Turns on the flusher (before the simulation starts; with storage and a
  // scheduler): a thread of its own, agent "kernel.flusher" of the sync
  // horizon, that runs the core's flush() when the core asks (dirty pages
  // appeared, the background threshold was crossed) and then as long as the
  // core wants it periodically. It acts only while some task is alive, so
  // it never makes the simulation run longer than its tasks.
  void use_flusher(SyncHorizon& horizon, const ClockPeriod& clk, bool reference = false);
  // Turns on kswapd the same way (agent "kernel.kswapd"): it runs the core's
  // kswapd() when an allocation finds free memory below the low watermark,
  // and again as long as the core asks.
  void use_kswapd(SyncHorizon& horizon, const ClockPeriod& clk, bool reference = false);
  // The page cache's view of the `disk` port: every submission is answered
  // later (BlockDoneIf::complete).
  [[nodiscard]] BlockQueue& block_queue() { return queue_; }
  // After the run: counts what stayed blocked.
  void finish();

  [[nodiscard]] const char* kind() const override { return "KernelModule"; }
  FaultOutcome fault(const FaultInfo& f, AgentSync& caller) override;
  // TaskIf.
  void add_task(TaskId t, Cycle at, AgentSync& caller) override;
  TaskDispatch dispatch(uint32_t cpu, TaskId prev, bool prev_running, Cycle at, bool idle_ok,
                        AgentSync& caller) override;
  TaskEventResult os_event(const OsEvent& e, TaskId t, uint32_t cpu, Cycle at,
                           AgentSync& caller) override;
  bool slice_end(uint32_t cpu, TaskId t, Cycle at, Cycle& next_end, AgentSync& caller) override;
  void task_done(TaskId t, uint32_t cpu, Cycle at, AgentSync& caller) override;
  // BlockDoneIf.
  void complete(uint64_t id, const BlockTimeline& t) override;
  [[nodiscard]] Kernel& core() { return core_; }
  [[nodiscard]] const Kernel& core() const { return core_; }
  [[nodiscard]] const KernelModuleStats& stats() const { return stats_; }
  // The core's statistics and the module's, under `prefix` (e.g. "top.").
  void visit(StatVisitor& v, const std::string& prefix) const;

 private:
  class Services;
  class CompletionServices;
  class PortQueue : public BlockQueue {
   public:
    explicit PortQueue(KernelModule& m) : m_(m) {}
    std::optional<BlockTimeline> submit(const BlockRequest& r) override;

   private:
    KernelModule& m_;
  };
  sc_core::sc_event& event_for(uint64_t key);
  // Wakes whatever waits for `key` at now_: in-place waiters (their event,
  // notified at now_) and sleeping tasks.
  void release(uint64_t key, const ClockPeriod* clk);
  // A wait the core asked for: on a known cycle, or on a key's release.
  static bool timed(const KernelStep& st) {
    return st.kind == KernelStep::Kind::kWaitIo && st.until != kNeverCycle;
  }

  // A blocked task's system call, resumed when it runs again.
  struct Pending {
    OsEvent event;
    uint64_t key = 0;
  };
  // Something may have become runnable (or everything ended) at `now_`:
  // idle CPUs are told to act then and woken at that time.
  void changed();
  // A fault that sleeps (process model): the task blocks; the fault
  // completes when the task is dispatched again.
  struct PendingFault {
    FaultInfo info;
    uint64_t key = 0;
  };
  FaultOutcome sleep_in_fault(const FaultInfo& f, const KernelStep& st);
  void complete_fault(const FaultInfo& f, const FaultOutcome& o);
  TaskEventResult finish_event(const OsEvent& e, TaskId t, Cycle at, const KernelStep& st);

  Kernel& core_;
  KernelModuleConfig cfg_;
  std::unique_ptr<Scheduler> sched_;
  Cycles switch_cost_;
  sc_core::sc_event sched_event_;
  std::map<TaskId, Pending> pending_;
  std::map<TaskId, PendingFault> pending_faults_;
  bool pinned_ = false;                     // CTXSW records pin the schedule
  std::map<uint32_t, TaskId> pinned_next_;  // cpu -> the task a CTXSW named
  std::vector<AgentSync*> idle_;            // CPUs waiting in dispatch()
  FaultSink* sink_ = nullptr;               // --fault-log
  std::map<uint32_t, uint64_t> gen_;        // pid -> address-space generation (PCID staleness)
  Cycle now_;                               // the cycle of the kernel call in progress
  std::array<uint64_t, std::variant_size_v<OsEventBody>> event_count_{};
  std::array<uint64_t, std::variant_size_v<OsEventBody>> event_cycles_{};
  uint64_t implicit_exits_ = 0;
  // The kernel's memory requests, one per calling agent (kernel code runs in
  // several CPUs' threads at once, and a request may wait in a shared level).
  std::vector<std::unique_ptr<TimedMemRequest>> requests_;
  InOrderMemTarget* direct_ = nullptr;  // serve_directly()
  TimedMemRequest& request_for(const AgentSync& caller);
  // Records that a kernel memory request of `caller` completes at `done`
  // (returned); kernel_done_[caller] is the latest such completion, the end
  // of the kernel's work in that agent's time so far.
  Cycle kernel_done(const AgentSync& caller, Cycle done);
  [[nodiscard]] Cycle kernel_busy(const AgentSync& caller) const;
  std::vector<Cycle> kernel_done_;
  std::map<uint64_t, size_t> waits_;  // key -> event index
  std::deque<sc_core::sc_event> events_;
  KernelModuleStats stats_;
  const ClockPeriod* clk_ = nullptr;
  PortQueue queue_{*this};
  uint64_t completions_ = 0;
  // A kernel thread (the flusher, kswapd): its agent, wake-up event, due
  // cycle and what it runs.
  struct KThread {
    std::unique_ptr<AgentSync> agent;
    sc_core::sc_event event;
    Cycle due{~uint64_t{0}};  // when it runs next (the maximum: idle)
    uint64_t runs = 0;
    std::function<Kernel::FlushRun(Cycle, KernelServices&)> body;
  };
  void start_kthread(KThread& t, const char* name, SyncHorizon& horizon, const ClockPeriod& clk,
                     bool reference);
  void kthread_run(KThread& t);
  void flusher_run() { kthread_run(flusher_); }
  void kswapd_run() { kthread_run(kswapd_); }
  void wake_kthread(KThread& t, Cycle at);
  [[nodiscard]] bool tasks_alive() const { return !sched_ || sched_->any_alive(); }
  KThread flusher_, kswapd_;
};

}  // namespace mmusim
