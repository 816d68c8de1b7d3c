// The CPU's address-generator configuration and its keys (cpu.*): issue
// width, window of outstanding accesses, cost of TLB-maintenance records.
#pragma once

#include <cstdint>

#include "models/common/types.h"

namespace mmusim {

class ConfigSchema;

struct AddressGeneratorConfig {
  uint32_t issue_width = 2;  // accesses issued per cycle (Skylake: 2 loads + 1 store)
  uint32_t window = 64;      // outstanding accesses (load/store buffer-like)
  // Cycles of a TLB-maintenance record (INVLPG, INVPCID, FLUSH) once the CPU
  // has drained: these instructions are serializing and microcoded. 200 is an
  // assumption in the range measured for recent cores (~100-300 cycles).
  Cycles invalidation_cost{200};
};

// Binds cpu.issue_width, cpu.invalidation_cost and cpu.window to `c` (which
// must outlive the schema); the schema enforces their ranges.
void add_keys(ConfigSchema& s, AddressGeneratorConfig& c);

}  // namespace mmusim
