// The whole model's configuration: one struct per module, each bound to its
// keys by the module's own add_keys() (composed by build_schema()), checked
// by the module's own code and across modules by finalize().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/common/config_schema.h"
#include "models/cpu/cpu_config.h"
#include "models/disk/controller_config.h"
#include "models/disk/disk_config.h"
#include "models/dram/dram_config.h"
#include "models/os/os_config.h"
#include "models/os/scheduler.h"
#include "models/seg/seg_config.h"
#include "models/tlb/tlb_config.h"
#include "models/walker/walker_config.h"

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

// Binds the composition root's own sim.* keys to `p`.
void add_keys(ConfigSchema& s, SimParams& p);

// The memory time series (models/sim/mem_series.h, README "Outputs"):
// stats.series_interval_us and stats.series_columns.
struct SeriesConfig {
  // Simulated microseconds between rows; 0 = off (no sampler, no series.csv).
  // At most kMaxIntervalUs (one simulated hour), so the interval in cycles
  // (x sim.core_clock_mhz <= 100,000) stays below 2^49.
  uint64_t interval_us = 0;
  static constexpr uint64_t kMaxIntervalUs = 3600ULL * 1000 * 1000;
  // /proc/vmstat names the kernel reports (Kernel::visit_vmstat), in order.
  std::vector<std::string> columns = {"nr_free_pages",    "nr_inactive_anon", "nr_active_anon",
                                      "nr_inactive_file", "nr_active_file",   "nr_swap_used",
                                      "pgfault",          "pgmajfault"};
};

// Binds the stats.series_* keys to `c`.
void add_keys(ConfigSchema& s, SeriesConfig& c);

struct SimConfig {
  SimParams sim;
  AddressGeneratorConfig cpu;
  CpuControlConfig cpu_control;  // cpu.ctx_switch_tlb, cpu.ipi_cost
  TlbConfig tlb;
  WalkerConfig walker;
  std::string paging_mode = "4level";  // walker.mode as written
  PwcParams pwc;                       // walker.pwc.*
  CacheConfig cache;
  std::string cache_entry = "l1d";  // cache.walker_entry as written
  DramConfig dram;
  FirstTouchConfig os;
  KernelModuleConfig kernel;  // os.model, os.shootdown_cost
  SchedConfig sched;          // os.sched.* (traces with tasks)
  LinuxConfig linux_os;       // os.linux.* (os.model = linux)
  DiskConfig disk;            // disk.* (the device)
  ControllerConfig storage;   // disk.controller.*, pcie.*
  std::string huge_regions;   // os.huge_regions text
  // [seg]: the seg core's keys. seg.mode "auto" (the default) resolves in
  // finalize(): long for 4level/5level paging, flat otherwise; seg.cpl and
  // seg.canonical_bits follow sim.user and walker.mode unless set.
  SegConfig seg;
  SegKeys seg_keys;
  // seg.gdt / seg.ldt: descriptors (8-byte values) for GDT/LDT entries 0, 1,
  // ... written over the mode's default tables before the run (finalize()).
  std::vector<uint64_t> seg_gdt, seg_ldt;
  SeriesConfig series;  // stats.series_* (the memory time series)
};

// Binds every key to its field in `c` (each module's add_keys in turn). `c`
// must outlive the schema.
void build_schema(ConfigSchema& s, SimConfig& c);
// Derives dependent fields (clock, paging mode, PWCs, regions), has every
// module check its own keys and checks the cross-module rules; throws
// InputError naming the key (a cross-key rule lists its keys in
// InputError::keys()).
void finalize(SimConfig& c);
// The whole configuration of a run, as main() builds it: the INI `files` in
// order (a later file overrides an earlier one), then `command_line` (which
// overrides every file), applied to the schema's fields and finalized.
// Returns the values that were set, with their origins. An error names
// where its keys were set (with_origins: file and line, "command line" or
// "default").
ConfigValues load_config(const ConfigSchema& s, SimConfig& c, const std::vector<std::string>& files,
                         const ConfigValues& command_line);

}  // namespace mmusim
