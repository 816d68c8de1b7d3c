// The whole model's configuration: one struct per module, bound to config
// keys by build_schema(), checked across modules by finalize().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/cpu/address_generator.h"
#include "models/dram/dram_config.h"
#include "models/os/first_touch.h"
#include "models/seg/seg_config.h"
#include "models/sim/schema.h"
#include "models/tlb/tlb_config.h"
#include "models/walker/walker.h"

namespace mmusim {

struct SimParams {
  uint32_t cpus = 1;               // simulated CPUs; trace records name theirs (0..cpus-1)
  uint32_t core_clock_mhz = 3000;  // core clock: every time stamp counts its cycles
  uint64_t quantum = 10000;   // cycles a CPU may run ahead of SystemC time; 0 = sync every access
  uint64_t seed = 1;          // seeds every random choice (frames, random replacement)
  uint64_t max_accesses = 0;  // stop after this many trace records (0 = whole trace)
  bool user = true;           // accesses run at CPL 3 (user mode)
  uint32_t asid = 1;          // PCID of the traced address space
};

// Paging-structure cache geometry by structure name; mapped onto the levels
// of the configured paging mode (a mode without the structure ignores it).
struct PwcParams {
  PwcConfig pml5{2, 2, Cycles(1)};
  PwcConfig pml4{2, 2, Cycles(1)};
  PwcConfig pdpt{4, 4, Cycles(1)};
  PwcConfig pd{32, 4, Cycles(1)};
};

struct SimConfig {
  SimParams sim;
  AddressGeneratorConfig cpu;
  TlbConfig tlb;
  WalkerConfig walker;
  std::string paging_mode = "4level";
  PwcParams pwc;
  DramConfig dram;
  FirstTouchConfig os;
  std::string huge_regions;  // os.huge_regions text
  // [seg]: the seg core's keys. seg.mode "auto" (the default) resolves in
  // finalize(): long for 4level/5level paging, flat otherwise; seg.cpl and
  // seg.canonical_bits follow sim.user and walker.mode unless set.
  SegConfig seg;
  bool seg_mode_auto = true;
  bool seg_cpl_set = false;
  bool seg_canonical_set = false;
  // seg.gdt / seg.ldt: descriptors (8-byte values) for GDT/LDT entries 0, 1,
  // ... written over the mode's default tables before the run; the text as
  // configured, and the parsed values (finalize()).
  std::string seg_gdt_text, seg_ldt_text;
  std::vector<uint64_t> seg_gdt, seg_ldt;
};

// Binds every key to its field in `c`. `c` must outlive the schema.
void build_schema(ConfigSchema& s, SimConfig& c);
// Derives dependent fields (clock, paging mode, PWCs, regions) and validates
// every module and the cross-module rules; throws InputError naming the key.
void finalize(SimConfig& c);

}  // namespace mmusim
