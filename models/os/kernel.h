// The kernel core's interface (plain C++): it handles a fault and answers
// either with the outcome or with what the fault must wait for first (an I/O
// in flight, or a page another fault has locked). The kernel module
// (kernel_module.h) performs the wait in the faulting CPU's thread, so other
// CPUs and agents go on meanwhile, then resumes the fault. The kernel's own
// memory traffic and TLB shootdowns go through KernelServices, timed in the
// faulting CPU's time. os.model selects the core: first_touch (FirstTouchMapper)
// or, later, linux.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "models/common/fault.h"
#include "models/common/os_event.h"
#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/disk/block_queue.h"
#include "models/os/line_issue.h"

namespace mmusim {

// A call into the kernel on behalf of the task running on `cpu`, whose older
// accesses have retired at `at` (system calls are serializing).
struct TaskCall {
  TaskId task;
  uint32_t cpu = 0;
  Cycle at;
};

// What the kernel module lends the core while it handles a fault or an event.
class KernelServices {
 public:
  virtual ~KernelServices() = default;
  // One line-sized memory request by the kernel (initiator "kernel"),
  // arriving at `at`; returns its completion.
  virtual Cycle mem_access(PhysAddr line, bool is_write, Cycle at) = 0;
  // Invalidates `s` on every CPU other than `self` that runs process `pid`
  // (IPIs sent at s.at); returns when the initiator may go on (its IPI cost,
  // acks included), s.at when no other CPU runs the process.
  virtual Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) = 0;
  // Releases `key` (a page whose I/O completed, a lock): the faults waiting
  // for it resume now (their kernel steps continue at the current cycle).
  virtual void release(uint64_t key) = 0;

  // Scheduling consequences, for the kernel module's scheduler. A process or
  // thread was created (fork, vfork, clone): `child` is runnable from `at`.
  virtual void task_created(TaskId /*parent*/, TaskId /*child*/, Cycle /*at*/) {}
  // A task ended at `at` (exit, exit_group for each thread, or killed by a
  // signal): it never runs again; its remaining records are dropped.
  virtual void task_exited(TaskId /*t*/, int32_t /*code*/, bool /*killed*/, Cycle /*at*/) {}

  // A store stream's write of a whole line (rep stosb / rep movsb with fast
  // strings): a cache that misses takes the line without reading it first
  // (no read for ownership). By default a plain write.
  virtual Cycle mem_write_line(PhysAddr line, Cycle at) { return mem_access(line, true, at); }

  // Zero-fills the 4 KiB frame (clear_page): 64 line writes, issued as
  // LineIssue says from `at`; returns when the last completes.
  Cycle zero_page(Pfn f, Cycle at, const LineIssue& how);
  // Copies a 4 KiB frame (copy_page): 64 line reads and 64 line writes,
  // issued as LineIssue says from `at`, each write once its read completed;
  // returns when the last write completes.
  Cycle copy_page(Pfn from, Pfn to, Cycle at, const LineIssue& how);
  // Writes `n` lines (lines[i], plain writes: stores into part of a line,
  // such as page-table entries), issued as LineIssue says; returns when the
  // last completes (`at` when n = 0).
  Cycle write_lines(const uint64_t* lines, size_t n, Cycle at, const LineIssue& how);
  // Copies `n` lines: reads src[i], then writes dst[i] once that read
  // completed (whole[i] non-zero: the copy covers all of dst[i], a whole-line write
  // when how.whole_lines); returns when the last write completes.
  Cycle copy_lines(const uint64_t* src, const uint64_t* dst, const uint8_t* whole, size_t n,
                   Cycle at, const LineIssue& how);
};

// One step of a fault's handling.
struct KernelStep {
  enum class Kind : uint8_t {
    kDone,      // `outcome` is the fault's answer
    kWaitIo,    // wait until `until` (the I/O `key` completes), then resume; `until` is
                // kNeverCycle when the completion time is not known yet: wait for the
                // release of `key` (io_done), as for kWaitPage
    kWaitPage,  // wait until `key` is released (release()): a page or lock another fault
                // holds, a child's exit (wait4, vfork), ...; then resume
  };
  Kind kind = Kind::kDone;
  FaultOutcome outcome;
  uint64_t key = 0;
  Cycle until;
  static KernelStep done(FaultOutcome o) {
    KernelStep s;
    s.outcome = std::move(o);
    return s;
  }
  static KernelStep wait_io(uint64_t key, Cycle until) {
    KernelStep s;
    s.kind = Kind::kWaitIo;
    s.key = key;
    s.until = until;
    return s;
  }
  static KernelStep wait_page(uint64_t key) {
    KernelStep s;
    s.kind = Kind::kWaitPage;
    s.key = key;
    return s;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // A fault raised at f.raised (the caller is synchronized to it).
  virtual KernelStep fault(const FaultInfo& f, KernelServices& s) = 0;
  // The wait that the last step of fault `f` asked for ended at `now`.
  virtual KernelStep resume(const FaultInfo& f, uint64_t key, Cycle now, KernelServices& s) = 0;
  // The root of process `pid`'s page tables (CR3); it changes at exec.
  [[nodiscard]] virtual PhysAddr root(uint32_t pid) const = 0;

  // An OS event of the task in `c` (a system call, a process or thread
  // creation, exit, ...). The outcome's action is kRetry when the call
  // returned (at `resume`; the task goes on with its next record), kKill when
  // the task was killed; its timing breaks the call's cost down, `flush` is
  // what the calling CPU invalidates in its own TLB (other CPUs: shootdown()).
  // A kernel without a process model ignores events (this default).
  virtual KernelStep event(const OsEvent& /*e*/, const TaskCall& c, KernelServices& /*s*/) {
    FaultOutcome o;
    o.resume = c.at;
    return KernelStep::done(o);
  }
  // The wait that the last step of event `e` asked for ended at `now`.
  virtual KernelStep resume_event(const OsEvent& e, const TaskCall& c, uint64_t /*key*/, Cycle now,
                                  KernelServices& s) {
    TaskCall later = c;
    later.at = now;
    return event(e, later, s);
  }
  // The faults the last event() or resume_event() took itself while copying
  // to or from the user buffer (read()/write()), each with its class
  // (FaultClass::kUaccess), timing and breakdown, passed to `f` in the order
  // they completed and forgotten. A kernel without them has none (this
  // default).
  virtual void drain_uaccess_faults(
      const std::function<void(const FaultInfo&, const FaultOutcome&)>& /*f*/) {}
  // An asynchronous block request completed (its interrupt arrives now,
  // at t.irq): pages become uptodate, and the keys waiting for them are
  // released through `s`. A kernel without storage has none (this default).
  virtual void io_done(uint64_t /*id*/, const BlockTimeline& /*t*/, KernelServices& /*s*/) {}
  // Background writeback (the kernel module's flusher thread, if it has
  // one). set_flusher: `wake(at)` asks the flusher to run at cycle `at` (or
  // earlier if already due); the core calls it from any call that dirties
  // pages. flush: the flusher runs at `now` (its own agent time): it writes
  // what is due and answers when its work ends (its memory traffic) and when
  // it wants to run next (kNeverCycle: not until woken). A kernel without
  // writeback ignores both (these defaults).
  struct FlushRun {
    Cycle busy_until;
    Cycle next{~uint64_t{0}};
  };
  virtual void set_flusher(const std::function<void(Cycle at)>& /*wake*/) {}
  virtual FlushRun flush(Cycle now, KernelServices& /*s*/) { return FlushRun{now}; }
  // kswapd (the kernel module's kswapd thread, if it has one), as the
  // flusher: set_kswapd gives the core `wake(at)`, which it calls when an
  // allocation finds free memory below the low watermark; kswapd(now) runs
  // the background reclaim in kswapd's own time and answers when its work
  // ends and when it wants to run again (kNeverCycle: asleep until woken).
  // A kernel without reclaim ignores both (these defaults).
  virtual void set_kswapd(const std::function<void(Cycle at)>& /*wake*/) {}
  virtual FlushRun kswapd(Cycle now, KernelServices& /*s*/) { return FlushRun{now}; }
  // True when this kernel models processes (os.model=linux): tasks block and
  // switch; false for first_touch (one address space, faults wait in place).
  [[nodiscard]] virtual bool has_processes() const { return false; }
  // The core's statistics under "kernel." (module-neutral names).
  virtual void visit(StatVisitor& v) const = 0;
  // Counters named as Linux's /proc/vmstat, under "vmstat." (vmstat.pgfault,
  // vmstat.pgmajfault, vmstat.pgalloc_normal, vmstat.pgfree, vmstat.nr_*, ...):
  // reported at the top level, beside sim.* and cpus.*, so a native run's
  // /proc/vmstat deltas compare name for name. None by default.
  virtual void visit_vmstat(StatVisitor& /*v*/) const {}
};

// A kernel that never waits answers through this.
class SimpleKernel : public Kernel {
 public:
  virtual FaultOutcome handle(const FaultInfo& f, KernelServices& s) = 0;
  KernelStep fault(const FaultInfo& f, KernelServices& s) override {
    return KernelStep::done(handle(f, s));
  }
  KernelStep resume(const FaultInfo& f, uint64_t /*key*/, Cycle /*now*/,
                    KernelServices& s) override {
    return KernelStep::done(handle(f, s));
  }
};

}  // namespace mmusim
