#include "models/dram/dram_config.h"

#include <stdexcept>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {

// Speed-bin presets. Every value is nCK = ceil(t_ns * f_cmd_MHz / 1000) (JEDEC
// rounding, which only guards float error), or the nCK floor where JEDEC gives
// max(n nCK, t ns); each comment shows that derivation.
//
// DDR4-3200AA (22-22-22), JEDEC JESD79-4 (DDR4 SDRAM standard), speed bin
// table and "Timing Parameters by Speed Bin" for DDR4-3200; tCK = 0.625 ns,
// f_cmd = 1600 MHz. Organization: 8Gb x8 device (4 bank groups x 4 banks,
// 64K rows, 1K columns, 1 KB page); a 64-bit rank of 8 devices has an 8 KB
// row = 128 lines of 64 B. The x8 (1 KB page) row of the tRRD/tFAW table is
// used: tRRD_S = max(4nCK, 2.5ns) = 4, tRRD_L = max(4nCK, 4.9ns) = 8,
// tFAW = max(20nCK, 21ns) = 34. (The 2 KB-page x16 row would give tRRD_S = 9,
// tRRD_L = 11, tFAW = 48.) The same x8 values are in Ramulator 2's DDR4 tables.
//
// DDR5-4800B (40-39-39), JEDEC JESD79-5 (DDR5 SDRAM standard), speed bin table
// for DDR5-4800 and its core timing table; tCK = 0.416 ns, f_cmd = 2400 MHz.
// Organization: 16Gb x8 device (8 bank groups x 4 banks, 64K rows, 1K columns,
// 1 KB page); a 32-bit sub-channel of 4 devices has a 4 KB row = 64 lines.
// A DDR5 DIMM has two sub-channels: model it as channels = 2.
constexpr std::array<DramPreset, 2> kDramPresets = {{
    {"DDR4-3200",
     3200,
     {
         22,     // tCL   13.75 ns x 1.6
         16,     // tCWL  CWL 16 (1tCK write preamble) for 3200
         22,     // tRCD  13.75 ns
         22,     // tRP   13.75 ns
         52,     // tRAS  32 ns -> 51.2
         74,     // tRC   tRAS + tRP = 45.75 ns -> 73.2
         4,      // tCCD_S 4 nCK
         8,      // tCCD_L max(5nCK, 5 ns) = 8
         4,      // tRRD_S max(4nCK, 2.5 ns) = 4 (x8, 1 KB page)
         8,      // tRRD_L max(4nCK, 4.9 ns) -> 7.84
         34,     // tFAW  max(20nCK, 21 ns) -> 33.6 (x8, 1 KB page)
         24,     // tWR   15 ns
         4,      // tWTR_S max(2nCK, 2.5 ns) = 4
         12,     // tWTR_L max(4nCK, 7.5 ns) = 12
         12,     // tRTP  max(4nCK, 7.5 ns) = 12
         560,    // tRFC  tRFC1 of an 8Gb device: 350 ns
         12480,  // tREFI 7.8 us (0-85 C)
         4,      // tBL   BL8 = 4 clocks
     },
     4,
     4,
     65536,
     128},
    {"DDR5-4800",
     4800,
     {
         40,    // tCL   16.667 ns (CL40)
         38,    // tCWL  CL - 2
         39,    // tRCD  16 ns -> 38.4
         39,    // tRP   16 ns -> 38.4
         77,    // tRAS  32 ns -> 76.8
         116,   // tRC   tRAS + tRP
         8,     // tCCD_S 8 nCK
         12,    // tCCD_L max(8nCK, 5 ns) = 12
         8,     // tRRD_S 8 nCK
         12,    // tRRD_L max(8nCK, 5 ns) = 12
         32,    // tFAW  max(32nCK, 13.333 ns) = 32 (x8, 1 KB page)
         72,    // tWR   30 ns
         6,     // tWTR_S max(4nCK, 2.5 ns) = 6
         24,    // tWTR_L max(16nCK, 10 ns) = 24
         18,    // tRTP  max(12nCK, 7.5 ns) = 18
         708,   // tRFC  tRFC1 of a 16Gb device: 295 ns
         9360,  // tREFI 3.9 us
         8,     // tBL   BL16 = 8 clocks
     },
     8,
     4,
     65536,
     64},
}};

const std::array<DramTimingField, 18> kDramTimingFields = {{
    {"tCL", &DramTiming::tCL, "RD to first read data (CAS latency), nCK"},
    {"tCWL", &DramTiming::tCWL, "WR to first write data, nCK"},
    {"tRCD", &DramTiming::tRCD, "ACT to RD/WR in the same bank, nCK"},
    {"tRP", &DramTiming::tRP, "PRE to ACT in the same bank, nCK"},
    {"tRAS", &DramTiming::tRAS, "ACT to PRE in the same bank, nCK"},
    {"tRC", &DramTiming::tRC, "ACT to ACT in the same bank, nCK"},
    {"tCCD_S", &DramTiming::tCCD_S, "column command to column command, other bank group, nCK"},
    {"tCCD_L", &DramTiming::tCCD_L, "column command to column command, same bank group, nCK"},
    {"tRRD_S", &DramTiming::tRRD_S, "ACT to ACT, other bank group of the rank, nCK"},
    {"tRRD_L", &DramTiming::tRRD_L, "ACT to ACT, same bank group, nCK"},
    {"tFAW", &DramTiming::tFAW, "window in which a rank accepts at most four ACTs, nCK"},
    {"tWR", &DramTiming::tWR, "end of write data to PRE (write recovery), nCK"},
    {"tWTR_S", &DramTiming::tWTR_S, "end of write data to RD, other bank group, nCK"},
    {"tWTR_L", &DramTiming::tWTR_L, "end of write data to RD, same bank group, nCK"},
    {"tRTP", &DramTiming::tRTP, "RD to PRE in the same bank, nCK"},
    {"tRFC", &DramTiming::tRFC, "refresh cycle time: the rank is blocked this long per REF, nCK"},
    {"tREFI", &DramTiming::tREFI, "interval between all-bank refreshes of a rank, nCK"},
    {"tBL", &DramTiming::tBL, "data-bus time of one burst (BL8 = 4, BL16 = 8), nCK"},
}};

namespace {

constexpr uint32_t kMaxTimingNck = 10'000'000;
constexpr uint32_t kMaxQueueDepth = 4096;
// Cycle bounds (README, "Configuration bounds"): a DRAM reference sums fewer
// than 8 timing terms and the controller latency, each at most 2^14 core
// cycles; tREFI, which only paces refreshes, at most 2^20.
constexpr uint32_t kMaxControllerLatency = 1U << 14;
constexpr uint64_t kMaxTimingCycles = 1U << 14;
constexpr uint64_t kMaxRefiCycles = 1U << 20;
constexpr unsigned kMaxAddressBits = 52;  // x86 MAXPHYADDR limit

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

unsigned log2_exact(uint64_t v) { return 63U - static_cast<unsigned>(__builtin_clzll(v)); }

InputError key_error(std::string_view key, const std::string& message) {
  return InputError("dram." + std::string(key) + ": " + message);
}

void require_pow2(std::string_view key, uint64_t v) {
  if (!is_pow2(v)) throw key_error(key, "must be a power of two, got " + std::to_string(v));
}

void require_ge(std::string_view key, uint32_t v, std::string_view what, uint32_t bound) {
  if (v < bound) {
    throw key_error(key, "must be >= " + std::string(what) + " = " + std::to_string(bound) +
                             ", got " + std::to_string(v));
  }
}

constexpr std::array<std::string_view, kNumDramFields> kFieldTokens = {"ch", "ra", "bg",
                                                                       "ba", "ro", "co"};

}  // namespace

std::string_view row_policy_name(RowPolicy p) {
  return p == RowPolicy::kClosed ? "closed" : "open";
}

RowPolicy parse_row_policy(std::string_view text) {
  if (text == "open") return RowPolicy::kOpen;
  if (text == "closed") return RowPolicy::kClosed;
  throw key_error("row_policy", "expected 'open' or 'closed', got '" + std::string(text) + "'");
}

std::string_view scheduler_name(DramScheduler s) {
  return s == DramScheduler::kFcfs ? "fcfs" : "frfcfs";
}

DramScheduler parse_scheduler(std::string_view text) {
  if (text == "frfcfs") return DramScheduler::kFrFcfs;
  if (text == "fcfs") return DramScheduler::kFcfs;
  throw key_error("scheduler", "expected 'frfcfs' or 'fcfs', got '" + std::string(text) + "'");
}

std::string_view dram_field_token(DramField f) { return kFieldTokens[static_cast<size_t>(f)]; }

DramMapping parse_mapping(std::string_view text) {
  DramMapping m;
  std::array<bool, kNumDramFields> seen{};
  size_t count = 0;
  size_t pos = 0;
  while (true) {
    size_t end = text.find(':', pos);
    std::string_view tok = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    int field = -1;
    for (int i = 0; i < kNumDramFields; ++i) {
      if (kFieldTokens[static_cast<size_t>(i)] == tok) field = i;
    }
    if (field < 0) {
      throw key_error("mapping", "unknown field '" + std::string(tok) + "' in '" +
                                     std::string(text) + "' (valid: ro, ra, bg, ba, ch, co)");
    }
    if (seen[static_cast<size_t>(field)]) {
      throw key_error("mapping", "field '" + std::string(tok) + "' appears twice in '" +
                                     std::string(text) + "'");
    }
    seen[static_cast<size_t>(field)] = true;
    m.msb_to_lsb[count++] = static_cast<DramField>(field);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  for (int i = 0; i < kNumDramFields; ++i) {
    if (!seen[static_cast<size_t>(i)]) {
      throw key_error("mapping", "missing field '" +
                                     std::string(kFieldTokens[static_cast<size_t>(i)]) + "' in '" +
                                     std::string(text) +
                                     "' (every one of ro, ra, bg, ba, ch, co exactly once)");
    }
  }
  return m;
}

void DramConfig::validate() const {
  bool known = preset == "custom";
  for (const DramPreset& p : kDramPresets) known = known || p.name == preset;
  if (!known) {
    std::string names;
    for (const DramPreset& p : kDramPresets) names += std::string(p.name) + ", ";
    throw key_error("preset", "unknown preset '" + preset + "' (valid: " + names + "custom)");
  }
  if (data_rate_mts == 0) throw key_error("data_rate_mts", "must be positive, got 0");
  if (core_clock_mhz == 0) throw key_error("core_clock_mhz", "must be positive, got 0");
  require_pow2("channels", channels);
  require_pow2("ranks", ranks);
  require_pow2("bank_groups", bank_groups);
  require_pow2("banks_per_group", banks_per_group);
  require_pow2("rows", rows);
  require_pow2("columns", columns);
  require_pow2("line_bytes", line_bytes);
  if (row_policy != RowPolicy::kOpen && row_policy != RowPolicy::kClosed) {
    throw key_error("row_policy", "expected 'open' or 'closed'");
  }
  parse_mapping(mapping);
  if (queue_depth == 0 || queue_depth > kMaxQueueDepth) {
    throw key_error("queue_depth", "must be between 1 and " + std::to_string(kMaxQueueDepth) +
                                       ", got " + std::to_string(queue_depth));
  }
  if (controller_latency > kMaxControllerLatency) {
    throw key_error("controller_latency",
                    "must be at most " + std::to_string(kMaxControllerLatency) +
                        " cycles (the bound that keeps 64-bit cycle counts from overflowing), "
                        "got " +
                        std::to_string(controller_latency));
  }
  unsigned bits = log2_exact(channels) + log2_exact(ranks) + log2_exact(bank_groups) +
                  log2_exact(banks_per_group) + log2_exact(rows) + log2_exact(columns) +
                  log2_exact(line_bytes);
  if (bits > kMaxAddressBits) {
    throw key_error("rows", "capacity 2^" + std::to_string(bits) + " bytes exceeds 2^" +
                                std::to_string(kMaxAddressBits) +
                                " (the x86 physical address limit)");
  }

  for (const DramTimingField& f : kDramTimingFields) {
    uint32_t v = timing.*f.member;
    if (v == 0) throw key_error(f.name, "must be at least 1 nCK, got 0");
    if (v > kMaxTimingNck) {
      throw key_error(f.name, "must be at most " + std::to_string(kMaxTimingNck) + " nCK, got " +
                                  std::to_string(v));
    }
  }
  for (const DramTimingField& f : kDramTimingFields) {
    const uint32_t v = timing.*f.member;
    const uint64_t cycles = to_core_cycles(v);
    const uint64_t bound = f.name == "tREFI" ? kMaxRefiCycles : kMaxTimingCycles;
    if (cycles > bound) {
      throw key_error(f.name, std::to_string(v) + " nCK is " + std::to_string(cycles) +
                                  " core cycles at " + std::to_string(data_rate_mts) +
                                  " MT/s and a " + std::to_string(core_clock_mhz) +
                                  " MHz core clock; at most " + std::to_string(bound) +
                                  " core cycles (the bound that keeps 64-bit cycle counts "
                                  "from overflowing)");
    }
  }
  const DramTiming& t = timing;
  require_ge("tRAS", t.tRAS, "tRCD", t.tRCD);
  require_ge("tRC", t.tRC, "tRAS + tRP", t.tRAS + t.tRP);
  require_ge("tCCD_S", t.tCCD_S, "tBL", t.tBL);
  require_ge("tCCD_L", t.tCCD_L, "tCCD_S", t.tCCD_S);
  require_ge("tRRD_L", t.tRRD_L, "tRRD_S", t.tRRD_S);
  require_ge("tWTR_L", t.tWTR_L, "tWTR_S", t.tWTR_S);
  require_ge("tREFI", t.tREFI, "tRFC + 1", t.tRFC + 1);
  // After a refresh every bank is precharged: a request needs ACT, then tRCD
  // to its column command, and that command must come before the next
  // refresh epoch, or no request is ever served (the model would refresh
  // forever). In core cycles, as the model counts: tRFC + tRCD < tREFI.
  const uint64_t rfc = to_core_cycles(t.tRFC), rcd = to_core_cycles(t.tRCD);
  const uint64_t refi = to_core_cycles(t.tREFI);
  if (rfc + rcd >= refi) {
    throw key_error("tREFI", std::to_string(t.tREFI) + " nCK (" + std::to_string(refi) +
                                 " core cycles) leaves no time to serve a request between "
                                 "refreshes: it must exceed tRFC + tRCD = " +
                                 std::to_string(rfc) + " + " + std::to_string(rcd) +
                                 " core cycles (a row must open and take its column command "
                                 "before the next refresh)");
  }
}

uint64_t DramConfig::capacity_bytes() const {
  return uint64_t{channels} * ranks * bank_groups * banks_per_group * rows * columns * line_bytes;
}

uint64_t DramConfig::to_core_cycles(uint32_t nck) const {
  // nck / (rate/2 MHz) * core MHz = nck * core * 2 / rate.
  uint64_t num = uint64_t{nck} * core_clock_mhz * 2;
  return (num + data_rate_mts - 1) / data_rate_mts;
}

DramConfig preset(std::string_view name) {
  for (const DramPreset& p : kDramPresets) {
    if (p.name != name) continue;
    DramConfig c;
    c.preset = std::string(p.name);
    c.data_rate_mts = p.data_rate_mts;
    c.timing = p.timing;
    c.bank_groups = p.bank_groups;
    c.banks_per_group = p.banks_per_group;
    c.rows = p.rows;
    c.columns = p.columns;
    return c;
  }
  std::string names;
  for (const DramPreset& p : kDramPresets) {
    if (!names.empty()) names += ", ";
    names += std::string(p.name);
  }
  throw key_error("preset", "unknown preset '" + std::string(name) + "' (valid: " + names + ")");
}

void add_keys(ConfigSchema& s, DramConfig& c) {
  s.add_custom(
      "dram.preset", "name", "DRAM speed bin: DDR4-3200 or DDR5-4800 (sets timing and geometry)",
      [&c](const std::string& v) {
        try {
          DramConfig p = preset(v);
          c.preset = p.preset;
          c.data_rate_mts = p.data_rate_mts;
          c.timing = p.timing;
          c.bank_groups = p.bank_groups;
          c.banks_per_group = p.banks_per_group;
          c.rows = p.rows;
          c.columns = p.columns;
        } catch (const InputError&) {
          throw std::invalid_argument("expected DDR4-3200 or DDR5-4800");
        }
      },
      [&c] { return c.preset; }, 0);
  s.add_u32("dram.data_rate_mts", &c.data_rate_mts, "MT/s",
            "data rate; the command clock runs at half of it", 1);
  s.add_u32("dram.channels", &c.channels, "channels", "independent channels");
  s.add_u32("dram.ranks", &c.ranks, "ranks", "ranks per channel");
  s.add_u32("dram.bank_groups", &c.bank_groups, "groups", "bank groups per rank");
  s.add_u32("dram.banks_per_group", &c.banks_per_group, "banks", "banks per bank group");
  s.add_u32("dram.rows", &c.rows, "rows", "rows per bank");
  s.add_u32("dram.columns", &c.columns, "bursts", "line-sized bursts per row");
  s.add_u32("dram.line_bytes", &c.line_bytes, "bytes", "bytes per burst (one request)");
  s.add_custom(
      "dram.row_policy", "policy", "open (rows stay open) or closed (auto-precharge)",
      [&c](const std::string& v) {
        try {
          c.row_policy = parse_row_policy(v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected open or closed");
        }
      },
      [&c] { return std::string(row_policy_name(c.row_policy)); });
  s.add_custom(
      "dram.scheduler", "policy",
      "how same-cycle requests are ordered: frfcfs (row hits first, then oldest) or fcfs",
      [&c](const std::string& v) {
        try {
          c.scheduler = parse_scheduler(v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected frfcfs or fcfs");
        }
      },
      [&c] { return std::string(scheduler_name(c.scheduler)); });
  s.add_string("dram.mapping", &c.mapping,
               "address mapping, fields MSB to LSB: ro, ra, bg, ba, co, ch joined by ':'");
  s.add_u32("dram.queue_depth", &c.queue_depth, "requests",
            "requests per channel visible to the FR-FCFS scheduler");
  s.add_u32("dram.controller_latency", &c.controller_latency, "cycles",
            "fixed memory-controller and interconnect latency per request (core cycles)");
  for (const DramTimingField& f : kDramTimingFields) {
    s.add_u32("dram." + std::string(f.name), &(c.timing.*f.member), "nCK",
              std::string(f.description) + " (default from dram.preset)");
  }
}

DramCoreTiming to_core_timing(const DramConfig& cfg) {
  const DramTiming& t = cfg.timing;
  auto c = [&](uint32_t nck) { return Cycles(cfg.to_core_cycles(nck)); };
  DramCoreTiming r;
  r.cl = c(t.tCL);
  r.cwl = c(t.tCWL);
  r.rcd = c(t.tRCD);
  r.rp = c(t.tRP);
  r.ras = c(t.tRAS);
  r.rc = c(t.tRC);
  r.ccd_s = c(t.tCCD_S);
  r.ccd_l = c(t.tCCD_L);
  r.rrd_s = c(t.tRRD_S);
  r.rrd_l = c(t.tRRD_L);
  r.faw = c(t.tFAW);
  r.wr = c(t.tWR);
  r.wtr_s = c(t.tWTR_S);
  r.wtr_l = c(t.tWTR_L);
  r.rtp = c(t.tRTP);
  r.rfc = c(t.tRFC);
  r.refi = c(t.tREFI);
  r.bl = c(t.tBL);
  uint32_t rtw_plus = t.tCL + t.tBL + 2;
  r.rtw = c(rtw_plus > t.tCWL ? rtw_plus - t.tCWL : 0);
  r.controller = Cycles(cfg.controller_latency);
  return r;
}

}  // namespace mmusim
