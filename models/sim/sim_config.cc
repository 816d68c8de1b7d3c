#include "models/sim/sim_config.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/error.h"

namespace mmusim {

void add_keys(ConfigSchema& s, SimParams& p) {
  s.add_u32("sim.cpus", &p.cpus, "cpus", "simulated CPUs (trace records carry their CPU)", 1, 256);
  s.add_u32("sim.core_clock_mhz", &p.core_clock_mhz, "MHz",
            "core clock; all cycle counts are of this clock", 1, 100000);
  s.add_u64("sim.quantum", &p.quantum, "cycles",
            "how far a CPU may run ahead of SystemC time; 0 = synchronize on every access "
            "(reference mode); at most 2^32",
            0, uint64_t{1} << 32);
  s.add_u64("sim.seed", &p.seed, "", "seed of every random choice (frames, replacement)");
  s.add_u64("sim.max_accesses", &p.max_accesses, "records",
            "stop after this many trace records (0 = the whole trace)");
  s.add_bool("sim.user", &p.user, "accesses run in user mode (CPL 3)");
  s.add_u32("sim.asid", &p.asid, "", "PCID of the traced address space", 0, 4095);
}

namespace {

// stats.series_columns: names separated by commas (blanks around them
// ignored), each of a-z, 0-9 and _, none twice.
std::vector<std::string> parse_series_columns(const std::string& v) {
  std::vector<std::string> names;
  size_t from = 0;
  for (;;) {
    const size_t comma = std::min(v.find(',', from), v.size());
    const size_t b = v.find_first_not_of(" \t", from);
    const size_t e = v.find_last_not_of(" \t", comma == 0 ? 0 : comma - 1);
    const std::string n = b < comma && e != std::string::npos ? v.substr(b, e - b + 1) : "";
    const bool valid = !n.empty() && n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
                                         std::string::npos;
    if (!valid || std::find(names.begin(), names.end(), n) != names.end()) {
      throw std::invalid_argument(
          "expected a comma-separated list of distinct /proc/vmstat names (a-z, 0-9, _), e.g. "
          "nr_free_pages,pgfault");
    }
    names.push_back(n);
    if (comma == v.size()) return names;
    from = comma + 1;
  }
}

}  // namespace

void add_keys(ConfigSchema& s, SeriesConfig& c) {
  s.add_u64("stats.series_interval_us", &c.interval_us, "us",
            "simulated microseconds between two rows of the memory time series <out>/series.csv "
            "(0 = off: no sampler, no file)",
            0, SeriesConfig::kMaxIntervalUs);
  s.add_custom(
      "stats.series_columns", "names",
      "the /proc/vmstat counters of the memory time series, comma-separated (each a vmstat.* "
      "name without the prefix); cumulative counters also get <name>_per_ms",
      [&c](const std::string& v) { c.columns = parse_series_columns(v); },
      [&c] {
        std::string out;
        for (const auto& n : c.columns) out += (out.empty() ? "" : ",") + n;
        return out;
      });
}

// The order is the order of --help.
void build_schema(ConfigSchema& s, SimConfig& c) {
  add_keys(s, c.sim);
  add_keys(s, c.cpu);
  add_keys(s, c.cpu_control);
  add_keys(s, c.tlb);
  add_keys(s, c.walker, c.paging_mode, c.pwc);
  add_keys(s, c.cache, c.cache_entry);
  add_keys(s, c.dram);
  add_keys(s, c.os, c.huge_regions);
  add_keys(s, c.kernel);
  add_keys(s, c.sched);
  add_keys(s, c.linux_os);
  add_keys(s, c.disk);
  add_keys(s, c.storage);
  add_keys(s, c.seg, c.seg_keys);
  add_keys(s, c.series);
}

namespace {

// [seg] against walker.mode and sim.user: resolves the auto defaults and
// checks the combinations, then lets the seg module check its own keys.
void finalize_seg(SimConfig& c) {
  SegConfig& g = c.seg;
  const PagingMode pm = c.walker.mode;
  const bool paging64 = pm == PagingMode::k4Level || pm == PagingMode::k5Level;
  if (c.seg_keys.mode_auto) g.mode = paging64 ? SegMode::kLong64 : SegMode::kFlat;
  c.seg_keys.mode_auto = false;  // config.ini records the mode this run used
  try {
    validate_mode_combination(g.mode, c.paging_mode);
  } catch (const InputError& e) {
    std::string m = e.what();  // "... with paging mode 'X' ..." -> name the key
    const std::string from = "paging mode '";
    if (auto at = m.find(from); at != std::string::npos)
      m.replace(at, from.size(), "walker.mode '");
    throw InputError(m, {"seg.mode", "walker.mode"});
  }
  if (!c.seg_keys.cpl_set) {
    g.cpl = g.mode == SegMode::kReal ? 0 : (c.sim.user ? 3 : 0);
  } else if (pm != PagingMode::kOff && (g.cpl == 3) != c.sim.user) {
    throw InputError("seg.cpl: " + std::to_string(g.cpl) + " contradicts sim.user = " +
                         (c.sim.user ? "true (CPL 3)" : "false (supervisor)") +
                         "; set both, or leave seg.cpl unset to follow sim.user",
                     {"seg.cpl", "sim.user"});
  }
  if (g.mode == SegMode::kLong64) {
    const uint32_t bits = pm == PagingMode::k5Level ? 57 : 48;
    if (!c.seg_keys.canonical_set) {
      g.canonical_bits = bits;
    } else if (g.canonical_bits != bits) {
      throw InputError("seg.canonical_bits: " + std::to_string(g.canonical_bits) +
                           " does not match walker.mode = " + c.paging_mode + " (" +
                           std::to_string(bits) + "-bit linear addresses)",
                       {"seg.canonical_bits", "walker.mode"});
    }
  }
  finish_seg_config(g, c.seg_keys, c.seg_gdt, c.seg_ldt);
}

}  // namespace

void finalize(SimConfig& c) {
  resolve_walker_config(c.walker, c.paging_mode, c.pwc);
  resolve_cache_config(c.cache, c.cache_entry);
  const PagingModeInfo& m = paging_mode_info(c.walker.mode);
  // What other modules take from sim.* and walker.mode.
  c.os.mode = c.walker.mode;
  c.os.seed = c.sim.seed;
  c.tlb.seed = c.sim.seed;
  c.dram.core_clock_mhz = c.sim.core_clock_mhz;
  c.os.regions = parse_huge_regions("os.huge_regions", c.huge_regions, c.walker.mode);
  validate_tlb_config(c.tlb);
  validate_cpu_config(c.cpu, c.cpu_control);
  c.dram.validate();
  // Cost bounds (README, "Configuration bounds"), whatever os.model is.
  validate_kernel_module_config(c.kernel);
  validate_linux_costs(c.linux_os.cost);
  check_cost_bound("os.sched.switch_cost", c.sched.switch_cost, kMaxCostCycles);
  validate_os_config(c.os);
  if (c.os.phys_bytes > c.dram.capacity_bytes()) {
    throw InputError(
        "os.phys_mem: " + format_size(c.os.phys_bytes) + " exceeds the DRAM capacity of " +
            format_size(c.dram.capacity_bytes()) +
            " (channels x ranks x bank groups x banks x rows x columns x line bytes)",
        {"os.phys_mem", "dram.preset", "dram.channels", "dram.ranks", "dram.bank_groups",
         "dram.banks_per_group", "dram.rows", "dram.columns", "dram.line_bytes"});
  }
  // 32-bit paging maps 4 KiB pages below 4 GiB only (PSE-36 reaches further
  // with 4 MiB pages, but the OS model keeps all frames reachable).
  unsigned phys_bits = m.mode == PagingMode::k32Bit ? 32 : c.walker.maxphyaddr;
  if (phys_bits < 64 && c.os.phys_bytes > (1ULL << phys_bits)) {
    throw InputError("os.phys_mem: " + format_size(c.os.phys_bytes) + " is beyond what " +
                         std::string(m.name) + " paging with walker.maxphyaddr = " +
                         std::to_string(c.walker.maxphyaddr) + " can address",
                     {"os.phys_mem", "walker.mode", "walker.maxphyaddr"});
  }
  finalize_seg(c);
  // The Linux model: its paging mode is the walker's; without paging nothing
  // faults and no kernel model runs (os.model has no effect).
  c.linux_os.mode = c.walker.mode;
  c.linux_os.writeback.core_clock_mhz = c.sim.core_clock_mhz;
  if (c.kernel.model == OsModel::kLinux && c.walker.mode != PagingMode::kOff &&
      !c.os.regions.empty()) {
    throw huge_regions_need_first_touch();
  }
  if (c.kernel.model != OsModel::kFirstTouch && c.walker.mode != PagingMode::kOff) {
    validate_linux_config(c.linux_os);
    validate_reclaim_config(c.linux_os.reclaim);
    validate_pressure_config(c.linux_os.pressure, c.os.phys_bytes - c.os.reserved_low);
    PressureConfig& pc = c.linux_os.pressure;
    if (pc.swap_size != 0) {
      if (pc.swap_device >= c.disk.models.size()) {
        throw InputError("os.linux.swap_device: device " + std::to_string(pc.swap_device) +
                             ", but disk.model lists " + std::to_string(c.disk.models.size()) +
                             " device(s), numbered from 0",
                         {"os.linux.swap_device", "disk.model"});
      }
      // auto: swapon's rotational test on the swap device's model.
      pc.swap_kind = resolve_swap_kind(pc.swap_kind, c.disk.models[pc.swap_device] ==
                                                         DiskKind::kHdd) == SwapKind::kRotational
                         ? SwapKindChoice::kRotational
                         : SwapKindChoice::kSolidState;
      pc.swap_max_request = uint64_t{c.disk.max_sectors_kb} << 10;
    }
  }
  c.disk.core_clock_mhz = c.sim.core_clock_mhz;
  c.disk.validate();
  c.storage.core_clock_mhz = c.sim.core_clock_mhz;
  c.storage.validate();
}

ConfigValues load_config(const ConfigSchema& s, SimConfig& c, const std::vector<std::string>& files,
                         const ConfigValues& command_line) {
  ConfigValues values;
  for (const auto& f : files) read_ini(f, s, values);
  for (const auto& [key, cv] : command_line) values[key] = cv;
  apply_values(s, values);
  try {
    finalize(c);
  } catch (const InputError& e) {
    throw with_origins(e, s, values);
  }
  return values;
}

}  // namespace mmusim
