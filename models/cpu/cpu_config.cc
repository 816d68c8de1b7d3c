#include "models/cpu/cpu_config.h"

#include "models/common/config_schema.h"

namespace mmusim {

void add_keys(ConfigSchema& s, AddressGeneratorConfig& c) {
  s.add_u32("cpu.issue_width", &c.issue_width, "accesses/cycle",
            "accesses the address generator issues per cycle", 1, 64);
  s.add_cycles("cpu.invalidation_cost", &c.invalidation_cost,
               "cycles of an INVLPG/INVPCID/FLUSH record after the pipeline drained (serializing)");
  s.add_u32("cpu.window", &c.window, "accesses",
            "outstanding accesses (memory-level parallelism); in-order retirement", 1, 4096);
}

}  // namespace mmusim
