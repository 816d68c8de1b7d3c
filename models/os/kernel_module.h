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
#include <map>
#include <systemc>
#include <vector>

#include "models/common/kernel_if.h"
#include "models/common/mem_port.h"
#include "models/common/stats.h"
#include "models/os/kernel.h"
#include "models/os/os_config.h"

namespace mmusim {

struct KernelModuleStats {
  std::array<uint64_t, kNumFaultClasses> faults{};
  std::array<Histogram, kNumFaultClasses> latency;      // raise to resume
  std::array<FaultTiming, kNumFaultClasses> breakdown;  // summed per class
  uint64_t io_waits = 0, page_waits = 0, wait_cycles = 0;
  uint64_t mem_requests = 0;  // the kernel's own memory traffic, lines
  uint64_t shootdowns = 0;    // IPIs sent (one per target CPU)
};

class KernelModule : public sc_core::sc_module, public KernelIf {
 public:
  sc_core::sc_export<KernelIf> target;
  tlm_utils::simple_initiator_socket<KernelModule> mem;
  sc_core::sc_port<CpuControlIf, 0, sc_core::SC_ZERO_OR_MORE_BOUND> cpus;

  KernelModule(const sc_core::sc_module_name& name, Kernel& core, const KernelModuleConfig& cfg);

  [[nodiscard]] const char* kind() const override { return "KernelModule"; }
  FaultOutcome fault(const FaultInfo& f, AgentSync& caller) override;
  [[nodiscard]] Kernel& core() { return core_; }
  [[nodiscard]] const KernelModuleStats& stats() const { return stats_; }
  // The core's statistics and the module's, under `prefix` (e.g. "top.").
  void visit(StatVisitor& v, const std::string& prefix) const;

 private:
  class Services;
  sc_core::sc_event& event_for(uint64_t key);

  Kernel& core_;
  KernelModuleConfig cfg_;
  TimedMemRequest request_;
  std::map<uint64_t, size_t> waits_;  // key -> event index
  std::deque<sc_core::sc_event> events_;
  KernelModuleStats stats_;
};

}  // namespace mmusim
