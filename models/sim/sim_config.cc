#include "models/sim/sim_config.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "models/common/error.h"

namespace mmusim {
namespace {

void add_cycles(ConfigSchema& s, const std::string& key, Cycles* f, const std::string& desc) {
  s.add_custom(
      key, "cycles", desc,
      [f](const std::string& v) {
        uint64_t x = 0;
        try {
          x = parse_size(v);  // plain integers; suffixes are harmless
        } catch (const std::invalid_argument&) {
          throw std::invalid_argument("expected a number of cycles");
        }
        *f = Cycles(x);
      },
      [f] { return std::to_string(f->count()); });
}

void add_tlb_array(ConfigSchema& s, const std::string& key, TlbArrayConfig* a, bool sizes) {
  s.add_u32(key + ".entries", &a->entries, "entries", "entries in this array (0 disables it)");
  s.add_u32(key + ".ways", &a->ways, "ways", "associativity (ways = entries: fully associative)");
  add_cycles(s, key + ".latency", &a->latency, "lookup latency");
  s.add_custom(
      key + ".replacement", "policy", "replacement policy: lru, plru, fifo or random",
      [a, key](const std::string& v) {
        try {
          a->replacement = parse_repl_policy(key + ".replacement", v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected lru, plru, fifo or random");
        }
      },
      [a] { return std::string(repl_policy_name(a->replacement)); });
  if (sizes) {
    s.add_custom(
        key + ".sizes", "sizes", "page sizes this array holds, e.g. 4K+2M",
        [a, key](const std::string& v) {
          try {
            a->sizes = parse_page_sizes(key + ".sizes", v);
          } catch (const InputError&) {
            throw std::invalid_argument("expected page sizes joined by '+', e.g. 4K+2M");
          }
        },
        [a] { return page_sizes_string(a->sizes); });
  }
}

void add_pwc(ConfigSchema& s, const std::string& name, PwcConfig* p, const std::string& what) {
  std::string key = "walker.pwc." + name;
  s.add_u32(key + ".entries", &p->entries, "entries",
            "paging-structure cache for " + what + " entries (0 disables it)");
  s.add_u32(key + ".ways", &p->ways, "ways", "associativity of that cache", 1);
  add_cycles(s, key + ".latency", &p->latency, "lookup latency of that cache");
}

// Binds one seg core key; the core parses and prints it. Its InputError
// ("seg.cpl: expected ..., got 'x'") becomes the schema's "expected ..." form.
void add_seg_option(ConfigSchema& s, SimConfig& c, const SegOption& o) {
  const std::string key(o.key);
  std::string desc(o.description);
  if (o.default_value == "mode default") desc += " (default: the mode's flat-GDT selector)";
  if (key == "seg.cpl") desc += " (default: 3 if sim.user, else 0; 0 in real mode)";
  if (key == "seg.canonical_bits") desc += " (default: 57 with walker.mode = 5level)";
  s.add_custom(
      key, std::string(o.unit), desc,
      [&c, key](const std::string& v) {
        try {
          set_seg_option(c.seg, key, v);
        } catch (const InputError& e) {
          std::string m = e.what();
          if (m.rfind(key + ": ", 0) == 0) m = m.substr(key.size() + 2);
          const std::string got = ", got '" + v + "'";
          if (m.size() > got.size() && m.compare(m.size() - got.size(), got.size(), got) == 0) {
            m.resize(m.size() - got.size());
          }
          throw std::invalid_argument(m);
        }
        if (key == "seg.cpl") c.seg_cpl_set = true;
        if (key == "seg.canonical_bits") c.seg_canonical_set = true;
      },
      [&c, key] { return seg_option_value(c.seg, key); });
}

}  // namespace

void build_schema(ConfigSchema& s, SimConfig& c) {
  // [sim]
  s.add_u32("sim.cpus", &c.sim.cpus, "cpus", "simulated CPUs (trace records carry their CPU)", 1,
            256);
  s.add_u32("sim.core_clock_mhz", &c.sim.core_clock_mhz, "MHz",
            "core clock; all cycle counts are of this clock", 1, 100000);
  s.add_u64("sim.quantum", &c.sim.quantum, "cycles",
            "how far a CPU may run ahead of SystemC time; 0 = synchronize on every access "
            "(reference mode)");
  s.add_u64("sim.seed", &c.sim.seed, "", "seed of every random choice (frames, replacement)");
  s.add_u64("sim.max_accesses", &c.sim.max_accesses, "records",
            "stop after this many trace records (0 = the whole trace)");
  s.add_bool("sim.user", &c.sim.user, "accesses run in user mode (CPL 3)");
  s.add_u32("sim.asid", &c.sim.asid, "", "PCID of the traced address space", 0, 4095);
  // [cpu]
  s.add_u32("cpu.issue_width", &c.cpu.issue_width, "accesses/cycle",
            "accesses the address generator issues per cycle", 1, 64);
  add_cycles(s, "cpu.invalidation_cost", &c.cpu.invalidation_cost,
             "cycles of an INVLPG/INVPCID/FLUSH record after the pipeline drained (serializing)");
  s.add_u32("cpu.window", &c.cpu.window, "accesses",
            "outstanding accesses (memory-level parallelism); in-order retirement", 1, 4096);
  // [tlb.*]
  for (int i = 0; i < kL1Slots; ++i) {
    std::string sz(kL1SlotNames[i]);
    add_tlb_array(s, "tlb.l1i." + sz, &c.tlb.l1i[i], false);
    add_tlb_array(s, "tlb.l1d." + sz, &c.tlb.l1d[i], false);
  }
  add_tlb_array(s, "tlb.l2", &c.tlb.l2, true);
  add_tlb_array(s, "tlb.l2_1g", &c.tlb.l2_1g, false);
  s.add_u32("tlb.mshr.entries", &c.tlb.mshr_entries, "entries",
            "miss-status registers: distinct pending TLB misses per CPU", 1, 256);
  s.add_bool("tlb.fast_path", &c.tlb.fast_path,
             "simulator shortcut for repeated L1 hits to one page (exact; off for A/B checks)");
  // [walker]
  s.add_string("walker.mode", &c.paging_mode,
               "paging mode: 4level, 5level (LA57), pae, 32bit or off");
  s.add_unsigned("walker.maxphyaddr", &c.walker.maxphyaddr, "bits",
                 "physical-address width (MAXPHYADDR)", 32, 52);
  s.add_unsigned("walker.max_walks", &c.walker.max_walks, "walks",
                 "page walks in flight at once per CPU", 1, 64);
  add_cycles(s, "walker.overhead", &c.walker.overhead, "fixed cycles per walk (start and fill)");
  s.add_bool("walker.write_protect", &c.walker.write_protect,
             "CR0.WP: supervisor writes honour read-only pages");
  add_pwc(s, "pml5", &c.pwc.pml5, "PML5");
  add_pwc(s, "pml4", &c.pwc.pml4, "PML4");
  add_pwc(s, "pdpt", &c.pwc.pdpt, "PDPT");
  add_pwc(s, "pd", &c.pwc.pd, "page-directory");
  // [dram]
  s.add_custom(
      "dram.preset", "name", "DRAM speed bin: DDR4-3200 or DDR5-4800 (sets timing and geometry)",
      [&c](const std::string& v) {
        try {
          DramConfig p = preset(v);
          DramConfig& d = c.dram;
          d.preset = p.preset;
          d.data_rate_mts = p.data_rate_mts;
          d.timing = p.timing;
          d.bank_groups = p.bank_groups;
          d.banks_per_group = p.banks_per_group;
          d.rows = p.rows;
          d.columns = p.columns;
        } catch (const InputError&) {
          throw std::invalid_argument("expected DDR4-3200 or DDR5-4800");
        }
      },
      [&c] { return c.dram.preset; }, 0);
  s.add_u32("dram.data_rate_mts", &c.dram.data_rate_mts, "MT/s",
            "data rate; the command clock runs at half of it", 1);
  s.add_u32("dram.channels", &c.dram.channels, "channels", "independent channels");
  s.add_u32("dram.ranks", &c.dram.ranks, "ranks", "ranks per channel");
  s.add_u32("dram.bank_groups", &c.dram.bank_groups, "groups", "bank groups per rank");
  s.add_u32("dram.banks_per_group", &c.dram.banks_per_group, "banks", "banks per bank group");
  s.add_u32("dram.rows", &c.dram.rows, "rows", "rows per bank");
  s.add_u32("dram.columns", &c.dram.columns, "bursts", "line-sized bursts per row");
  s.add_u32("dram.line_bytes", &c.dram.line_bytes, "bytes", "bytes per burst (one request)");
  s.add_custom(
      "dram.row_policy", "policy", "open (rows stay open) or closed (auto-precharge)",
      [&c](const std::string& v) {
        try {
          c.dram.row_policy = parse_row_policy(v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected open or closed");
        }
      },
      [&c] { return std::string(row_policy_name(c.dram.row_policy)); });
  s.add_custom(
      "dram.scheduler", "policy",
      "how same-cycle requests are ordered: frfcfs (row hits first, then oldest) or fcfs",
      [&c](const std::string& v) {
        try {
          c.dram.scheduler = parse_scheduler(v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected frfcfs or fcfs");
        }
      },
      [&c] { return std::string(scheduler_name(c.dram.scheduler)); });
  s.add_string("dram.mapping", &c.dram.mapping,
               "address mapping, fields MSB to LSB: ro, ra, bg, ba, co, ch joined by ':'");
  s.add_u32("dram.queue_depth", &c.dram.queue_depth, "requests",
            "requests per channel visible to the FR-FCFS scheduler");
  s.add_u32("dram.controller_latency", &c.dram.controller_latency, "cycles",
            "fixed memory-controller and interconnect latency per request (core cycles)");
  for (const DramTimingField& f : kDramTimingFields) {
    s.add_u32("dram." + std::string(f.name), &(c.dram.timing.*f.member), "nCK",
              std::string(f.description) + " (default from dram.preset)");
  }
  // [os]
  s.add_custom(
      "os.phys_mem", "bytes", "simulated physical memory (K/M/G suffixes)",
      [&c](const std::string& v) { c.os.phys_bytes = parse_size(v); },
      [&c] { return format_size(c.os.phys_bytes); });
  s.add_custom(
      "os.reserved_low", "bytes", "physical memory at address 0 never allocated",
      [&c](const std::string& v) { c.os.reserved_low = parse_size(v); },
      [&c] { return format_size(c.os.reserved_low); });
  add_cycles(s, "os.minor_fault_cost", &c.os.minor_fault_cost,
             "cost of a first-touch (minor) page fault, delivery to return");
  s.add_string("os.huge_regions", &c.huge_regions,
               "linear regions mapped with large pages: START-END:SIZE[,...] (SIZE 2M, 4M or 1G)");
  s.add_string("seg.gdt", &c.seg_gdt_text,
               "GDT entries 0, 1, ... as 8-byte descriptors in hex, comma-separated (replace the "
               "mode's default flat GDT entries; protected and long mode)");
  s.add_string("seg.ldt", &c.seg_ldt_text,
               "LDT entries 0, 1, ... as 8-byte descriptors in hex, comma-separated (needs "
               "seg.ldt_limit)");
  // [seg]
  for (const SegOption& o : seg_options()) {
    if (o.key != "seg.mode") {
      add_seg_option(s, c, o);
      continue;
    }
    s.add_custom(
        "seg.mode", "",
        "segmentation mode: auto (long with 4level/5level paging, flat otherwise), real, "
        "protected, long or flat",
        [&c](const std::string& v) {
          if (v == "auto") {
            c.seg_mode_auto = true;
            return;
          }
          try {
            c.seg.mode = parse_seg_mode(v);
          } catch (const InputError&) {
            throw std::invalid_argument("expected auto, real, protected, long or flat");
          }
          c.seg_mode_auto = false;
        },
        [&c] {
          return c.seg_mode_auto ? std::string("auto") : std::string(seg_mode_name(c.seg.mode));
        });
  }
}

namespace {

// "0x0, 0x00cf9a000000ffff, ..." (commas or blanks) -> descriptors, which
// must fit the table's limit and are only meaningful where descriptors are read.
std::vector<uint64_t> parse_descriptor_list(const std::string& key, const std::string& text,
                                            uint32_t limit, const char* limit_key,
                                            const SegConfig& g) {
  std::vector<uint64_t> out;
  std::string tok;
  auto flush = [&] {
    if (tok.empty()) return;
    char* end = nullptr;
    errno = 0;
    const bool hex = tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');
    uint64_t v = std::strtoull(tok.c_str(), &end, 16);
    if (!hex || errno == ERANGE || *end != '\0' || tok.size() > 18) {
      throw InputError(key +
                       ": expected 8-byte descriptors in hex (0x...) separated by commas, "
                       "got '" +
                       tok + "'");
    }
    out.push_back(v);
    tok.clear();
  };
  for (char ch : text) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      flush();
    } else {
      tok += ch;
    }
  }
  flush();
  if (out.empty()) return out;
  if (g.mode != SegMode::kProtected32 && g.mode != SegMode::kLong64) {
    throw InputError(key + ": descriptors are read only in protected and long mode (seg.mode = " +
                     std::string(seg_mode_name(g.mode)) + ")");
  }
  if (out.size() * 8 > uint64_t{limit} + 1) {
    throw InputError(key + ": " + std::to_string(out.size()) + " descriptors do not fit " +
                     limit_key + " = " + std::to_string(limit) + " (" +
                     std::to_string((uint64_t{limit} + 1) / 8) + " entries)");
  }
  return out;
}

// The cross-module rules of [seg]; resolves the auto defaults.
void finalize_seg(SimConfig& c) {
  SegConfig& g = c.seg;
  const PagingMode pm = c.walker.mode;
  const bool paging64 = pm == PagingMode::k4Level || pm == PagingMode::k5Level;
  if (c.seg_mode_auto) g.mode = paging64 ? SegMode::kLong64 : SegMode::kFlat;
  c.seg_mode_auto = false;  // config.ini records the mode this run used
  try {
    validate_mode_combination(g.mode, c.paging_mode);
  } catch (const InputError& e) {
    std::string m = e.what();  // "... with paging mode 'X' ..." -> name the key
    const std::string from = "paging mode '";
    if (auto at = m.find(from); at != std::string::npos)
      m.replace(at, from.size(), "walker.mode '");
    throw InputError(m);
  }
  if (!c.seg_cpl_set) {
    g.cpl = g.mode == SegMode::kReal ? 0 : (c.sim.user ? 3 : 0);
  } else if (pm != PagingMode::kOff && (g.cpl == 3) != c.sim.user) {
    throw InputError("seg.cpl: " + std::to_string(g.cpl) + " contradicts sim.user = " +
                     (c.sim.user ? "true (CPL 3)" : "false (supervisor)") +
                     "; set both, or leave seg.cpl unset to follow sim.user");
  }
  if (g.mode == SegMode::kLong64) {
    const uint32_t bits = pm == PagingMode::k5Level ? 57 : 48;
    if (!c.seg_canonical_set) {
      g.canonical_bits = bits;
    } else if (g.canonical_bits != bits) {
      throw InputError("seg.canonical_bits: " + std::to_string(g.canonical_bits) +
                       " does not match walker.mode = " + c.paging_mode + " (" +
                       std::to_string(bits) + "-bit linear addresses)");
    }
  }
  for (const auto& [key, base] : {std::pair<const char*, uint64_t>{"seg.gdt_base", g.gdt_base},
                                  std::pair<const char*, uint64_t>{"seg.ldt_base", g.ldt_base}}) {
    if (base % 8 != 0) {
      throw InputError(std::string(key) +
                       ": must be a multiple of 8 (descriptors are read as aligned 8-byte words), "
                       "got " +
                       std::to_string(base));
    }
  }
  validate(g);
  c.seg_gdt = parse_descriptor_list("seg.gdt", c.seg_gdt_text, g.gdt_limit, "seg.gdt_limit", g);
  c.seg_ldt = parse_descriptor_list("seg.ldt", c.seg_ldt_text, g.ldt_limit, "seg.ldt_limit", g);
}

}  // namespace

void finalize(SimConfig& c) {
  auto mode = parse_paging_mode(c.paging_mode);
  if (!mode) {
    throw InputError("walker.mode: unknown paging mode '" + c.paging_mode +
                     "' (expected 4level, 5level, pae, 32bit or off)");
  }
  c.walker.mode = *mode;
  c.os.mode = *mode;
  c.os.seed = c.sim.seed;
  c.tlb.seed = c.sim.seed;
  c.dram.core_clock_mhz = c.sim.core_clock_mhz;
  // Map the named paging-structure caches onto the mode's levels.
  const PagingModeInfo& m = paging_mode_info(*mode);
  c.walker.pwc = {};
  for (unsigned l = 0; l + 1 < m.levels; ++l) {
    std::string_view n = m.level[l].name;
    c.walker.pwc[l] = n == "PML5"   ? c.pwc.pml5
                      : n == "PML4" ? c.pwc.pml4
                      : n == "PDPT" ? c.pwc.pdpt
                      : n == "PD"   ? c.pwc.pd
                                    : PwcConfig{};
  }
  for (const auto& [name, p] : {std::pair{"pml5", &c.pwc.pml5}, std::pair{"pml4", &c.pwc.pml4},
                                std::pair{"pdpt", &c.pwc.pdpt}, std::pair{"pd", &c.pwc.pd}}) {
    if (p->entries % p->ways != 0) {
      throw InputError(std::string("walker.pwc.") + name +
                       ".entries: must be a multiple of ways (" + std::to_string(p->entries) +
                       " entries, " + std::to_string(p->ways) + " ways)");
    }
  }
  c.os.regions = parse_huge_regions("os.huge_regions", c.huge_regions, *mode);
  validate_tlb_config(c.tlb);
  c.dram.validate();
  if (c.os.phys_bytes == 0 || c.os.phys_bytes % 4096 != 0) {
    throw InputError("os.phys_mem: must be a non-zero multiple of 4K, got " +
                     std::to_string(c.os.phys_bytes));
  }
  if (c.os.phys_bytes > c.dram.capacity_bytes()) {
    throw InputError("os.phys_mem: " + format_size(c.os.phys_bytes) +
                     " exceeds the DRAM capacity of " + format_size(c.dram.capacity_bytes()) +
                     " (channels x ranks x bank groups x banks x rows x columns x line bytes)");
  }
  // 32-bit paging maps 4 KiB pages below 4 GiB only (PSE-36 reaches further
  // with 4 MiB pages, but the OS model keeps all frames reachable).
  unsigned phys_bits = m.mode == PagingMode::k32Bit ? 32 : c.walker.maxphyaddr;
  if (phys_bits < 64 && c.os.phys_bytes > (1ULL << phys_bits)) {
    throw InputError(
        "os.phys_mem: " + format_size(c.os.phys_bytes) + " is beyond what " + std::string(m.name) +
        " paging with walker.maxphyaddr = " + std::to_string(c.walker.maxphyaddr) + " can address");
  }
  if (c.os.reserved_low >= c.os.phys_bytes) {
    throw InputError("os.reserved_low: must be below os.phys_mem");
  }
  finalize_seg(c);
}

}  // namespace mmusim
