// DRAM configuration: JEDEC timing (in DRAM command-clock cycles, nCK), the
// organization of the memory, the address mapping and the controller knobs.
// A DramConfig is plain data bound to the dram.* keys by add_keys();
// validate() checks every rule and throws an InputError naming the config key
// ("dram.banks_per_group: ...").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/common/types.h"

namespace mmusim {

class ConfigSchema;

// JEDEC timing parameters, all in command-clock cycles (nCK). The command
// clock runs at data_rate / 2 (DDR). tBL is the data-bus occupancy of one
// burst in nCK (BL8 -> 4, BL16 -> 8).
struct DramTiming {
  uint32_t tCL = 0;     // RD command to first data beat (CAS latency)
  uint32_t tCWL = 0;    // WR command to first write data beat
  uint32_t tRCD = 0;    // ACT to RD/WR, same bank
  uint32_t tRP = 0;     // PRE to ACT, same bank
  uint32_t tRAS = 0;    // ACT to PRE, same bank
  uint32_t tRC = 0;     // ACT to ACT, same bank
  uint32_t tCCD_S = 0;  // RD->RD / WR->WR, different bank group, same rank
  uint32_t tCCD_L = 0;  // RD->RD / WR->WR, same bank group
  uint32_t tRRD_S = 0;  // ACT->ACT, different bank group, same rank
  uint32_t tRRD_L = 0;  // ACT->ACT, same bank group
  uint32_t tFAW = 0;    // window holding at most four ACTs, per rank
  uint32_t tWR = 0;     // end of write data to PRE, same bank (write recovery)
  uint32_t tWTR_S = 0;  // end of write data to RD, different bank group
  uint32_t tWTR_L = 0;  // end of write data to RD, same bank group
  uint32_t tRTP = 0;    // RD to PRE, same bank
  uint32_t tRFC = 0;    // all-bank REF to next command to the rank
  uint32_t tREFI = 0;   // average interval between REF commands, per rank
  uint32_t tBL = 0;     // burst duration on the data bus
};

// One row per timing parameter, for config schemas and validation messages.
struct DramTimingField {
  std::string_view name;  // "tCL"; the config key is "dram." + name
  uint32_t DramTiming::*member;
  std::string_view description;
};
extern const std::array<DramTimingField, 18> kDramTimingFields;

enum class RowPolicy : uint8_t {
  kOpen = 0,    // leave the row open after an access (row hits possible)
  kClosed = 1,  // auto-precharge after every access (RDA/WRA)
};
std::string_view row_policy_name(RowPolicy p);

// How the controller picks among the requests queued together (access_batch).
enum class DramScheduler : uint8_t {
  kFrFcfs = 0,  // first-ready: row hits first, then oldest (Rixner et al., ISCA 2000)
  kFcfs = 1,    // oldest first, whatever the bank state
};
std::string_view scheduler_name(DramScheduler s);
// "frfcfs" or "fcfs"; throws InputError naming dram.scheduler otherwise.
DramScheduler parse_scheduler(std::string_view text);
// "open" or "closed"; throws InputError naming dram.row_policy otherwise.
RowPolicy parse_row_policy(std::string_view text);

// Address fields of the mapping scheme.
enum class DramField : uint8_t { kChannel, kRank, kBankGroup, kBank, kRow, kColumn };
constexpr int kNumDramFields = 6;
std::string_view dram_field_token(DramField f);  // "ch", "ra", "bg", "ba", "ro", "co"

// A parsed mapping: every field exactly once, most significant first. The
// fields sit above the log2(line_bytes) offset bits of the physical address;
// address bits above the last field are ignored (the memory aliases).
struct DramMapping {
  std::array<DramField, kNumDramFields> msb_to_lsb{};
};
// Parses "ro:ra:ba:co:bg:ch"; throws InputError naming dram.mapping.
DramMapping parse_mapping(std::string_view text);

// A named speed bin and device organization (see the table in dram_config.cc).
struct DramPreset {
  std::string_view name;
  uint32_t data_rate_mts;
  DramTiming timing;
  uint32_t bank_groups;
  uint32_t banks_per_group;
  uint32_t rows;
  uint32_t columns;  // 64-byte bursts per row of one rank
};
extern const std::array<DramPreset, 2> kDramPresets;

struct DramConfig {
  // Defaults are the first preset, DDR4-3200 (8Gb x8 devices, 64-bit rank).
  std::string preset{kDramPresets[0].name};                // label of the base preset, or "custom"
  uint32_t data_rate_mts = kDramPresets[0].data_rate_mts;  // MT/s; command clock = rate / 2
  DramTiming timing = kDramPresets[0].timing;
  uint32_t channels = 1;                               // independent channels (own bus, queue)
  uint32_t ranks = 1;                                  // ranks per channel
  uint32_t bank_groups = kDramPresets[0].bank_groups;  // bank groups per rank
  uint32_t banks_per_group = kDramPresets[0].banks_per_group;  // banks per bank group
  uint32_t rows = kDramPresets[0].rows;                        // rows per bank
  uint32_t columns = kDramPresets[0].columns;  // line-sized bursts per row (row bytes / line_bytes)
  uint32_t line_bytes = 64;                    // bytes moved by one burst (one request)
  RowPolicy row_policy = RowPolicy::kOpen;
  DramScheduler scheduler = DramScheduler::kFrFcfs;
  // Fields MSB to LSB above the line offset; default: lines interleave across
  // channels, then bank groups (tCCD_S streaming), then columns of one row.
  std::string mapping = "ro:ra:ba:co:bg:ch";
  uint32_t queue_depth = 32;         // requests per channel the FR-FCFS scheduler sees
  uint32_t controller_latency = 30;  // core cycles of fixed front-end overhead
  uint32_t core_clock_mhz = 3000;    // core clock that time stamps count

  // Throws InputError naming the first offending key.
  void validate() const;
  // Bytes addressed by the mapping: channels*ranks*groups*banks*rows*columns*line.
  [[nodiscard]] uint64_t capacity_bytes() const;
  // core = ceil(nck * core_clock_mhz / (data_rate_mts / 2)), exact integer math.
  [[nodiscard]] uint64_t to_core_cycles(uint32_t nck) const;
};

// Binds every dram.* key to `c` (which must outlive the schema). dram.preset
// is applied before the other keys (schema phase 0), so that timing and
// geometry keys override the preset's values whatever their order.
// core_clock_mhz is not a key: it follows sim.core_clock_mhz.
void add_keys(ConfigSchema& s, DramConfig& c);

// The preset by name, with default organization, mapping and controller knobs.
// Throws InputError naming dram.preset and listing the valid names.
DramConfig preset(std::string_view name);

// Timing converted to core cycles once, at construction of the model.
struct DramCoreTiming {
  Cycles cl, cwl, rcd, rp, ras, rc, ccd_s, ccd_l, rrd_s, rrd_l, faw, wr, wtr_s, wtr_l, rtp, rfc,
      refi, bl;
  Cycles rtw;         // RD to WR, same channel: tCL + tBL + 2 - tCWL nCK (JEDEC tRTW)
  Cycles controller;  // controller_latency
};
DramCoreTiming to_core_timing(const DramConfig& cfg);

}  // namespace mmusim
