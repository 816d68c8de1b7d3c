// The SystemC face of the CPU <-> kernel contract (fault.h): the interface a
// kernel module exports to the CPUs' fault ports, and the one each CPU
// exports so that the kernel can shoot down its TLB entries.
#pragma once

#include <systemc>

#include "models/common/fault.h"
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

// What a kernel asks of a CPU other than the faulting one.
class CpuControlIf : public virtual sc_core::sc_interface {
 public:
  // Queues a TLB invalidation (an IPI arriving at s.at); the CPU applies it at
  // its next synchronization point, at a cost of its configured IPI cycles.
  virtual void post_shootdown(const Shootdown& s) = 0;
  // The process (address space) the CPU runs now, for the kernel to decide
  // whom to shoot down.
  [[nodiscard]] virtual uint32_t running_pid() const = 0;
};

}  // namespace mmusim
