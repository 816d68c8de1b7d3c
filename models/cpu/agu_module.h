// The address generator as a public SystemC module (top.cpuN.agu): issue
// width, the window of outstanding accesses and in-order retirement. The CPU
// thread calls core() for every access (plain calls).
#pragma once

#include <systemc>

#include "models/cpu/address_generator.h"

namespace mmusim {

class AguModule : public sc_core::sc_module {
 public:
  AguModule(const sc_core::sc_module_name& name, const AddressGeneratorConfig& cfg)
      : sc_module(name), ag_(cfg) {}
  [[nodiscard]] const char* kind() const override { return "AguModule"; }
  [[nodiscard]] AddressGenerator& core() { return ag_; }
  [[nodiscard]] const AddressGenerator& core() const { return ag_; }

 private:
  AddressGenerator ag_;
};

}  // namespace mmusim
