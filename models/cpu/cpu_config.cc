#include "models/cpu/cpu_config.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {

void add_keys(ConfigSchema& s, AddressGeneratorConfig& c) {
  s.add_u32("cpu.issue_width", &c.issue_width, "accesses/cycle",
            "accesses the address generator issues per cycle", 1, 64);
  s.add_cycles("cpu.invalidation_cost", &c.invalidation_cost,
               "cycles of an INVLPG/INVPCID/FLUSH record after the pipeline drained (serializing)");
  s.add_u32("cpu.window", &c.window, "accesses",
            "outstanding accesses (memory-level parallelism); in-order retirement", 1, 4096);
  s.add_u32("cpu.store_buffer", &c.store_buffer, "entries",
            "store-buffer entries (with cache.data): a store retires once translated and given an "
            "entry, its line is written from the buffer in program order; 0 = none (a store "
            "retires when its line is written)",
            0, 4096);
}

void add_keys(ConfigSchema& s, CpuControlConfig& c) {
  s.add_custom(
      "cpu.ctx_switch_tlb", "policy",
      "what an address-space switch (MOV CR3) does to the TLBs: pcid (entries of every PCID stay) "
      "or flush (every non-global entry goes)",
      [&c](const std::string& v) {
        const auto p = parse_ctx_switch_tlb(v);
        if (!p) throw std::invalid_argument("expected pcid or flush");
        c.ctx_switch = *p;
      },
      [&c] { return std::string(ctx_switch_tlb_name(c.ctx_switch)); });
  s.add_cycles("cpu.ipi_cost", &c.ipi_cost,
               "cycles a received TLB-shootdown IPI costs the target CPU (entry, INVLPG, exit)");
  s.add_u64("cpu.ipi_period", &c.ipi_period, "cycles",
            "interrupt delivery: a TLB shootdown sent at cycle T is taken at the target's first "
            "access at or after the next multiple of this period above T",
            1, uint64_t{1} << 32);
}

void validate_cpu_config(const AddressGeneratorConfig& a, const CpuControlConfig& c) {
  for (const auto& [key, v] : {std::pair{"cpu.invalidation_cost", a.invalidation_cost},
                               std::pair{"cpu.ipi_cost", c.ipi_cost}}) {
    if (v.count() > kMaxCpuCostCycles) {
      throw InputError(std::string(key) + ": must be at most " + std::to_string(kMaxCpuCostCycles) +
                       " cycles (the bound that keeps 64-bit cycle counts from overflowing), got " +
                       std::to_string(v.count()));
    }
  }
}

}  // namespace mmusim
