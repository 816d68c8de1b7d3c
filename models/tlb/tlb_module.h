// The TLB hierarchy as a public SystemC module (top.cpuN.tlb): L1 ITLB/DTLB
// arrays per page size, the L2 STLB and the MSHRs of one CPU. It has no
// process and no port: the CPU looks up and fills it with plain calls on
// core() (the per-access path never touches SystemC).
#pragma once

#include <systemc>

#include "models/tlb/tlb_hierarchy.h"

namespace mmusim {

class TlbModule : public sc_core::sc_module {
 public:
  TlbModule(const sc_core::sc_module_name& name, const TlbConfig& cfg)
      : sc_module(name), tlb_(cfg) {}
  [[nodiscard]] const char* kind() const override { return "TlbModule"; }
  [[nodiscard]] TlbHierarchy& core() { return tlb_; }
  [[nodiscard]] const TlbHierarchy& core() const { return tlb_; }

 private:
  TlbHierarchy tlb_;
};

}  // namespace mmusim
