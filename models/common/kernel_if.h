// The SystemC face of the CPU <-> kernel contract (fault.h): the interface a
// kernel module exports to the CPUs' fault ports, and the one each CPU
// exports so that the kernel can shoot down its TLB entries.
#pragma once

#include <systemc>

#include "models/common/fault.h"
#include "models/common/os_event.h"
#include "models/common/sc_sync.h"

namespace mmusim {

class KernelIf : public virtual sc_core::sc_interface {
 public:
  // Handles a fault in the caller's thread (which may wait there for I/O or
  // a page lock: `caller` keeps the sync horizon right meanwhile, and times
  // the kernel's own memory traffic). Returns with SystemC time at most the
  // outcome's resume cycle.
  virtual FaultOutcome fault(const FaultInfo& f, AgentSync& caller) = 0;
};

// The process model's side of the boundary (traces with tasks): the CPUs ask
// the kernel which task to run, hand it each task's OS events, and report
// slice ends and the end of a task's records. Every call is a shared action:
// the kernel synchronizes the caller to `at` first.
struct TaskDispatch {
  enum class Kind : uint8_t {
    kRun,    // run `task` from `at` until `slice_end`
    kIdle,   // nothing runnable now: look for new tasks in the trace, then ask again
    kEnd,    // no task will ever run again
    kEnded,  // `task` ended as its sleeping fault or call completed: drop its records
  };
  Kind kind = Kind::kEnd;
  TaskId task;
  Asid pcid;
  PhysAddr cr3;
  bool flush_pcid = false;  // the PCID's slot changed hands: invalidate it first
  bool switched = false;    // a different task than the CPU ran before
  Cycle at;                 // when the task's next record may issue
  Cycle slice_end;
  FaultOutcome::LocalFlush flush;  // from the task's resumed system call
  // The fault the task slept in completed as it was dispatched: its outcome
  // (the access replays from `at`).
  bool fault_done = false;
  FaultOutcome fault;
  int64_t fault_block = -1;  // its --explain block (FaultInfo::explain_block)
  Cycles fault_translated;   // FaultInfo::translated of that fault
};

// What an OS event did to the calling task.
struct TaskEventResult {
  enum class Next : uint8_t {
    kContinue,  // the call returned at outcome.resume: go on with the next record
    kBlocked,   // the task sleeps (wait4, vfork): dispatch again; it resumes later
    kEnded,     // the task exited or was killed: its remaining records are dropped
  };
  Next next = Next::kContinue;
  FaultOutcome outcome;   // resume time, local flush, timing
  bool new_root = false;  // exec: the process's page tables changed (reload CR3 = `cr3`)
  PhysAddr cr3;
};

class TaskIf : public virtual sc_core::sc_interface {
 public:
  // A task present when the trace starts (its first record is START).
  virtual void add_task(TaskId t, Cycle at, AgentSync& caller) = 0;
  // The next task for `cpu`, whose previous task (if `prev_running`) stops
  // at `at`. Waits (idle) while nothing is runnable but something may become
  // so; answers kIdle instead when `idle_ok` is false and no task is alive,
  // so the caller can look further into the trace.
  virtual TaskDispatch dispatch(uint32_t cpu, TaskId prev, bool prev_running, Cycle at,
                                bool idle_ok, AgentSync& caller) = 0;
  // An OS event of the task running on `cpu`, whose older accesses retired
  // at `at` (see TaskEventResult).
  virtual TaskEventResult os_event(const OsEvent& e, TaskId t, uint32_t cpu, Cycle at,
                                   AgentSync& caller) = 0;
  // The slice of the task on `cpu` ended at `at`: true when another task
  // waits (the task is queued again; the caller dispatches), else false and
  // `next_end` is the end of its next slice.
  virtual bool slice_end(uint32_t cpu, TaskId t, Cycle at, Cycle& next_end, AgentSync& caller) = 0;
  // The trace holds no more records of `t` (it ends as if it exited).
  virtual void task_done(TaskId t, uint32_t cpu, Cycle at, AgentSync& caller) = 0;
};

// What a kernel asks of a CPU other than the faulting one.
class CpuControlIf : public virtual sc_core::sc_interface {
 public:
  // Queues a TLB invalidation (an IPI arriving at s.at); the CPU applies it at
  // its next synchronization point, at a cost of its configured IPI cycles.
  virtual void post_shootdown(const Shootdown& s) = 0;
  // The process (address space) the CPU runs now, for the kernel to decide
  // whom to shoot down.
  [[nodiscard]] virtual uint32_t running_pid() const = 0;
  // The PCID under which it runs that process (PCIDs are per CPU).
  [[nodiscard]] virtual Asid running_pcid() const = 0;
};

}  // namespace mmusim
