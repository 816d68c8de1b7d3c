// The page walker as a public SystemC module (top.cpuN.walker): owns the
// walker core and sends its memory references through a TLM-2.0 initiator
// socket (`mem`, bound to the memory: DRAM, or a cache in front of it), each
// synchronized through its CPU's AgentSync so that it reaches the memory in
// time order with every other agent's. The CPU drives the core directly
// (plain calls, no SystemC per access): core().
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <systemc>

#include "models/common/mem_port.h"
#include "models/common/phys_mem.h"
#include "models/common/sc_sync.h"
#include "models/walker/walker.h"

namespace mmusim {

class WalkerModule : public sc_core::sc_module, private MemoryTiming {
 public:
  tlm_utils::simple_initiator_socket<WalkerModule> mem;

  // `sync`: the owning CPU's agent (its thread is the one that steps walks).
  WalkerModule(const sc_core::sc_module_name& name, const WalkerConfig& cfg, PhysMem& phys,
               AgentSync& sync)
      : sc_module(name),
        mem("mem"),
        sync_(sync),
        request_(Initiator::kWalker),
        walker_(cfg, phys, *this) {}

  [[nodiscard]] const char* kind() const override { return "WalkerModule"; }
  [[nodiscard]] Walker& core() { return walker_; }
  [[nodiscard]] const Walker& core() const { return walker_; }
  // `mem` is bound to `t` itself (no cache in between): a reference that
  // arrives in time order is served by a plain call on `t`.
  void serve_directly(InOrderMemTarget* t) { request_.serve_directly(t); }

 private:
  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    const Cycle done = request_.access(mem, sync_, a, is_write, at);
    served_ = request_.served();
    return done;
  }
  AgentSync& sync_;
  TimedMemRequest request_;
  Walker walker_;
};

}  // namespace mmusim
