// The kernel core's interface (plain C++): it handles a fault and answers
// either with the outcome or with what the fault must wait for first (an I/O
// in flight, or a page another fault has locked). The kernel module
// (kernel_module.h) performs the wait in the faulting CPU's thread, so other
// CPUs and agents go on meanwhile, then resumes the fault. The kernel's own
// memory traffic and TLB shootdowns go through KernelServices, timed in the
// faulting CPU's time. os.model selects the core: first_touch (FirstTouchMapper)
// or, later, linux.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/fault.h"
#include "models/common/stats.h"
#include "models/common/types.h"

namespace mmusim {

// What the kernel module lends the core while it handles a fault.
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

  // Zero-fills the 4 KiB frame: 64 line writes, one issued per cycle from
  // `at`; returns when the last completes.
  Cycle zero_page(Pfn f, Cycle at);
  // Copies a 4 KiB frame: 64 line reads issued one per cycle from `at`, then
  // each line written (in order) once it was read; returns when the last
  // write completes.
  Cycle copy_page(Pfn from, Pfn to, Cycle at);
};

// One step of a fault's handling.
struct KernelStep {
  enum class Kind : uint8_t {
    kDone,      // `outcome` is the fault's answer
    kWaitIo,    // wait until `until` (the I/O `key` completes), then resume
    kWaitPage,  // wait until the page (or lock) `key` is released (release()), then resume
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
  // The root of process `pid`'s page tables (CR3).
  [[nodiscard]] virtual PhysAddr root(uint32_t pid) const = 0;
  // The core's statistics under "kernel." (module-neutral names).
  virtual void visit(StatVisitor& v) const = 0;
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
