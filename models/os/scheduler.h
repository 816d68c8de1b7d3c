// The scheduler of the process model (plain C++, no SystemC): which task
// each CPU runs. Runnable tasks wait in one FIFO run queue (round robin, ties
// by the order they became runnable); a CPU runs its task for a time slice,
// then the task goes to the back of the queue if another one is waiting. A
// task blocks on a key (a child's exit for wait4, a vfork child's exec or
// exit) and becomes runnable when the key is released. Process ids map to
// PCIDs per CPU as Linux's x86 switch_mm does (arch/x86/mm/tlb.c,
// choose_new_asid): each CPU keeps `pcids` dynamic slots (TLB_NR_DYN_ASIDS
// = 6); switching to an address space still in a slot reuses its PCID and
// its TLB entries, otherwise the next slot in turn is taken and its PCID is
// flushed first. Times are core cycles.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/common/fault.h"
#include "models/common/stats.h"
#include "models/common/types.h"

namespace mmusim {

class ConfigSchema;

struct SchedConfig {
  // Linux 6.12's EEVDF base slice, sysctl_sched_base_slice = 0.75 ms, scaled
  // by 1 + ilog2(min(cpus, 8)) (kernel/sched/fair.c, get_update_sysctl_factor)
  // when os.sched.slice_us is 0 (the default).
  uint64_t slice_us = 0;     // os.sched.slice_us (0: Linux's default for the CPU count)
  Cycles switch_cost{3000};  // os.sched.switch_cost: a context switch's direct cost
  uint32_t pcids = 6;        // os.sched.pcids: dynamic PCID slots per CPU
};

void add_keys(ConfigSchema& s, SchedConfig& c);
// The slice in cycles for `cpus` CPUs at `mhz`.
uint64_t sched_slice_cycles(const SchedConfig& c, uint32_t cpus, uint64_t mhz);

struct SchedStats {
  uint64_t tasks = 0;           // tasks that became known (started or created)
  uint64_t switches = 0;        // a CPU changed the task it runs
  uint64_t preemptions = 0;     // slices that ended with another task waiting
  uint64_t blocks = 0;          // a task blocked on a key
  uint64_t io_blocks = 0;       // a task slept in a fault until its I/O completed
  uint64_t wakeups = 0;         // a blocked task became runnable
  uint64_t exits = 0;           // tasks ended (exit, killed, or end of their records)
  uint64_t killed = 0;          // of which killed by a signal
  uint64_t pcid_reuse = 0;      // switches that found the address space in a PCID slot
  uint64_t pcid_flushes = 0;    // switches that took a slot and flushed its PCID
  uint64_t idle_cycles = 0;     // CPU cycles with nothing to run (summed over CPUs)
  uint64_t blocked_at_end = 0;  // tasks still blocked when the run ended
};

class Scheduler {
 public:
  Scheduler(const SchedConfig& cfg, uint32_t cpus, uint64_t slice_cycles);

  enum class State : uint8_t { kRunnable, kRunning, kBlocked, kExited };

  // A task exists and may run from `at` (a process present at the start of
  // the trace, or one fork/clone created). Known tasks are ignored.
  void add(TaskId t, Cycle at);
  // The next task for `cpu` at `now`: the first in the run queue that is
  // runnable at `now`. nullopt when none is (earliest_ready() says when one
  // will be).
  std::optional<TaskId> pick(uint32_t cpu, Cycle now);
  // Takes `t` off the run queue when it is runnable at `now` (a recorded
  // schedule names the next task).
  bool pick_task(TaskId t, Cycle now);
  // The earliest time a queued task becomes runnable (nullopt: queue empty).
  [[nodiscard]] std::optional<Cycle> earliest_ready() const;
  // `t` (running) stops running: back to the queue's tail, runnable at `at`.
  void requeue(TaskId t, Cycle at);
  // True when a task runnable at `at` waits for a CPU (a slice end then
  // preempts).
  [[nodiscard]] bool others_waiting(Cycle at) const;
  // `t` sleeps until `key` is released (`io`: an I/O whose completion
  // releases it; counted with io_blocks instead of blocks).
  void block(TaskId t, uint64_t key, bool io = false);
  // `t` sleeps until `until` (an I/O it waits for completes).
  void block_until(TaskId t, Cycle until);
  // Wakes every task blocked on `key`, runnable at `at`; returns how many.
  size_t wake(uint64_t key, Cycle at);
  void exit(TaskId t, bool killed);
  [[nodiscard]] std::optional<State> state(TaskId t) const;
  // When `t` became runnable last.
  [[nodiscard]] Cycle ready(TaskId t) const;
  // Tasks running or blocked: something may still become runnable.
  [[nodiscard]] bool any_alive() const { return alive_ > 0; }
  [[nodiscard]] uint64_t slice() const { return slice_; }

  // The PCID for address space `pid` (generation `gen`, bumped at exec) on
  // `cpu`, and whether its slot must be flushed first.
  struct PcidChoice {
    Asid pcid;
    bool flush = false;
  };
  PcidChoice choose_pcid(uint32_t cpu, uint32_t pid, uint64_t gen);
  // `cpu` flushed what address space `pid` changed up to generation `gen`
  // (the initiator's local flush, or a shootdown it received).
  void refresh_pcid(uint32_t cpu, uint32_t pid, uint64_t gen);

  void add_idle(uint64_t cycles) { stats_.idle_cycles += cycles; }
  void count_switch() { ++stats_.switches; }
  void count_preemption() { ++stats_.preemptions; }
  // A task still blocked when the run ended: what it was waiting for.
  struct Blocked {
    TaskId task;
    uint64_t key = 0;
    bool io = false;  // an I/O completion (else a child's exit, a reservation, ...)
  };
  void finish();  // counts the tasks still blocked and lists them
  [[nodiscard]] const SchedStats& stats() const { return stats_; }
  // After finish(): the tasks still blocked, by task id. Nothing the model
  // can do would wake them: a non-empty list is a deadlock in the model or
  // in the trace's events, and their later records were not simulated.
  [[nodiscard]] const std::vector<Blocked>& blocked_at_end() const { return blocked_at_end_; }
  void visit(StatVisitor& v, const std::string& prefix) const;

 private:
  struct Task {
    State state = State::kRunnable;
    Cycle ready;
    uint64_t key = 0;
    bool io = false;
  };
  struct Slot {
    uint32_t pid = 0;
    uint64_t gen = 0;
    bool used = false;
  };
  Task* find(TaskId t);

  SchedConfig cfg_;
  uint64_t slice_;
  std::map<TaskId, Task> tasks_;
  std::vector<Blocked> blocked_at_end_;  // filled by finish()
  std::deque<TaskId> queue_;
  std::multimap<uint64_t, TaskId> blocked_;  // key -> tasks
  std::vector<std::vector<Slot>> slots_;     // per CPU
  std::vector<uint32_t> next_slot_;
  uint64_t alive_ = 0;  // tasks not exited
  SchedStats stats_;
};

// The warning for tasks still blocked at the end of a run ("" when none):
// how many, the first few with what they waited for, and what it means.
std::string blocked_at_end_warning(const std::vector<Scheduler::Blocked>& blocked);

}  // namespace mmusim
