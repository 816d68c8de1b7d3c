// The CPU's address-generator configuration and its keys (cpu.*): issue
// width, window of outstanding accesses, cost of TLB-maintenance records.
#pragma once

#include <cstdint>

#include "models/common/types.h"
#include "models/cpu/cpu_context.h"

namespace mmusim {

class ConfigSchema;

struct AddressGeneratorConfig {
  uint32_t issue_width = 2;  // accesses issued per cycle (Skylake: 2 loads + 1 store)
  uint32_t window = 64;      // outstanding accesses (load/store buffer-like)
  // Store-buffer entries (cpu.store_buffer; with cache.data only): a store
  // leaves the window once translated and holding an entry, and its line is
  // written from the buffer in program order; 0 = none (a store retires when
  // its line is written, as a load retires when its data is there). 56:
  // Skylake's store buffer.
  uint32_t store_buffer = 56;
  // Cycles of a TLB-maintenance record (INVLPG, INVPCID, FLUSH) once the CPU
  // has drained: these instructions are serializing and microcoded. 200 is an
  // assumption in the range measured for recent cores (~100-300 cycles).
  Cycles invalidation_cost{200};
};

// Binds cpu.issue_width, cpu.invalidation_cost, cpu.window and cpu.store_buffer to `c` (which
// must outlive the schema); the schema enforces their ranges.
void add_keys(ConfigSchema& s, AddressGeneratorConfig& c);

// How the CPU takes address-space switches and other CPUs' shootdowns.
struct CpuControlConfig {
  CtxSwitchTlb ctx_switch = CtxSwitchTlb::kPcid;  // cpu.ctx_switch_tlb
  // Cycles a received TLB-shootdown IPI costs the target CPU (interrupt
  // entry, INVLPG, exit). 1500 = 0.5 µs at 3 GHz: an assumption inside the
  // measured 0.3-1 µs of a remote invalidation's handler (os-model.md §2.9).
  Cycles ipi_cost{1500};
  // Interrupt delivery (cpu.ipi_period): a shootdown sent at cycle T is taken
  // by its target at the target's first access at or after the end of the
  // period holding T, i.e. at the first multiple of ipi_period above T. The
  // rule does not depend on how far a CPU ran ahead of SystemC time, so
  // sim.quantum changes no result. 3000 = 1 µs at 3 GHz: a mean delivery
  // delay of 0.5 µs, the order of a measured IPI's send-to-handler time.
  uint64_t ipi_period = 3000;
};

// Binds cpu.ctx_switch_tlb, cpu.ipi_cost and cpu.ipi_period to `c`.
void add_keys(ConfigSchema& s, CpuControlConfig& c);

// cpu.invalidation_cost and cpu.ipi_cost at most kMaxCpuCostCycles (README,
// "Configuration bounds"); throws InputError naming the key.
constexpr uint64_t kMaxCpuCostCycles = uint64_t{1} << 18;
void validate_cpu_config(const AddressGeneratorConfig& a, const CpuControlConfig& c);

}  // namespace mmusim
