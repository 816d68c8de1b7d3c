// Presets, validation messages, address mapping.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "models/common/error.h"
#include "tests/dram/dram_test_util.h"

namespace mmusim {
namespace {

// ceil(ps * MHz / 1e6): nCK of a time in picoseconds at a command clock.
uint32_t nck_of(uint64_t ps, uint64_t mhz) {
  return static_cast<uint32_t>((ps * mhz + 999'999) / 1'000'000);
}

TEST(DramConfigPreset, Ddr4_3200MatchesTable) {
  DramConfig c = preset("DDR4-3200");
  EXPECT_EQ(c.preset, "DDR4-3200");
  EXPECT_EQ(c.data_rate_mts, 3200U);
  const DramTiming& t = c.timing;
  EXPECT_EQ(t.tCL, 22U);
  EXPECT_EQ(t.tCWL, 16U);
  EXPECT_EQ(t.tRCD, 22U);
  EXPECT_EQ(t.tRP, 22U);
  EXPECT_EQ(t.tRAS, 52U);
  EXPECT_EQ(t.tRC, 74U);
  EXPECT_EQ(t.tCCD_S, 4U);
  EXPECT_EQ(t.tCCD_L, 8U);
  EXPECT_EQ(t.tRRD_S, 4U);
  EXPECT_EQ(t.tRRD_L, 8U);
  EXPECT_EQ(t.tFAW, 34U);
  EXPECT_EQ(t.tWR, 24U);
  EXPECT_EQ(t.tWTR_S, 4U);
  EXPECT_EQ(t.tWTR_L, 12U);
  EXPECT_EQ(t.tRTP, 12U);
  EXPECT_EQ(t.tRFC, 560U);
  EXPECT_EQ(t.tREFI, 12480U);
  EXPECT_EQ(t.tBL, 4U);
  EXPECT_EQ(c.bank_groups, 4U);
  EXPECT_EQ(c.banks_per_group, 4U);
  EXPECT_EQ(c.rows, 65536U);
  EXPECT_EQ(c.columns, 128U);
  EXPECT_EQ(c.capacity_bytes(), 8ULL << 30);
  EXPECT_NO_THROW(c.validate());

  // Each ns figure times the 1600 MHz command clock, rounded up, with the
  // JEDEC nCK floors where the standard gives max(n nCK, t ns).
  const uint64_t f = 1600;
  EXPECT_EQ(t.tRCD, nck_of(13'750, f));
  EXPECT_EQ(t.tRP, nck_of(13'750, f));
  EXPECT_EQ(t.tRAS, nck_of(32'000, f));
  EXPECT_EQ(t.tRC, nck_of(45'750, f));
  EXPECT_EQ(t.tCCD_L, std::max(5U, nck_of(5'000, f)));
  EXPECT_EQ(t.tRRD_S, std::max(4U, nck_of(2'500, f)));
  EXPECT_EQ(t.tRRD_L, std::max(4U, nck_of(4'900, f)));
  EXPECT_EQ(t.tFAW, std::max(20U, nck_of(21'000, f)));
  EXPECT_EQ(t.tWR, nck_of(15'000, f));
  EXPECT_EQ(t.tWTR_S, std::max(2U, nck_of(2'500, f)));
  EXPECT_EQ(t.tWTR_L, std::max(4U, nck_of(7'500, f)));
  EXPECT_EQ(t.tRTP, std::max(4U, nck_of(7'500, f)));
  EXPECT_EQ(t.tRFC, nck_of(350'000, f));
  EXPECT_EQ(t.tREFI, nck_of(7'800'000, f));
}

TEST(DramConfigPreset, Ddr5_4800MatchesTable) {
  DramConfig c = preset("DDR5-4800");
  EXPECT_EQ(c.data_rate_mts, 4800U);
  const DramTiming& t = c.timing;
  EXPECT_EQ(t.tCL, 40U);
  EXPECT_EQ(t.tCWL, 38U);
  EXPECT_EQ(t.tRCD, 39U);
  EXPECT_EQ(t.tRP, 39U);
  EXPECT_EQ(t.tRAS, 77U);
  EXPECT_EQ(t.tRC, 116U);
  EXPECT_EQ(t.tCCD_S, 8U);
  EXPECT_EQ(t.tCCD_L, 12U);
  EXPECT_EQ(t.tRRD_S, 8U);
  EXPECT_EQ(t.tRRD_L, 12U);
  EXPECT_EQ(t.tFAW, 32U);
  EXPECT_EQ(t.tWR, 72U);
  EXPECT_EQ(t.tWTR_S, 6U);
  EXPECT_EQ(t.tWTR_L, 24U);
  EXPECT_EQ(t.tRTP, 18U);
  EXPECT_EQ(t.tRFC, 708U);
  EXPECT_EQ(t.tREFI, 9360U);
  EXPECT_EQ(t.tBL, 8U);
  EXPECT_EQ(c.bank_groups, 8U);
  EXPECT_EQ(c.banks_per_group, 4U);
  EXPECT_EQ(c.columns, 64U);
  EXPECT_NO_THROW(c.validate());

  const uint64_t f = 2400;
  EXPECT_EQ(t.tRCD, nck_of(16'000, f));
  EXPECT_EQ(t.tRP, nck_of(16'000, f));
  EXPECT_EQ(t.tRAS, nck_of(32'000, f));
  EXPECT_EQ(t.tRC, t.tRAS + t.tRP);
  EXPECT_EQ(t.tCCD_L, std::max(8U, nck_of(5'000, f)));
  EXPECT_EQ(t.tRRD_L, std::max(8U, nck_of(5'000, f)));
  EXPECT_EQ(t.tFAW, std::max(32U, nck_of(13'333, f)));
  EXPECT_EQ(t.tWR, nck_of(30'000, f));
  EXPECT_EQ(t.tWTR_S, std::max(4U, nck_of(2'500, f)));
  EXPECT_EQ(t.tWTR_L, std::max(16U, nck_of(10'000, f)));
  EXPECT_EQ(t.tRTP, std::max(12U, nck_of(7'500, f)));
  EXPECT_EQ(t.tRFC, nck_of(295'000, f));
  EXPECT_EQ(t.tREFI, nck_of(3'900'000, f));
}

TEST(DramConfigPreset, DefaultConfigIsDdr4_3200) {
  DramConfig d;
  DramConfig p = preset("DDR4-3200");
  EXPECT_EQ(d.preset, p.preset);
  for (const DramTimingField& f : kDramTimingFields) {
    EXPECT_EQ(d.timing.*f.member, p.timing.*f.member) << f.name;
  }
  EXPECT_EQ(d.rows, p.rows);
  EXPECT_EQ(d.columns, p.columns);
  EXPECT_NO_THROW(d.validate());
}

TEST(DramConfigPreset, UnknownNameListsValidOnes) {
  try {
    preset("DDR3-1600");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dram.preset: unknown preset 'DDR3-1600' (valid: DDR4-3200, DDR5-4800)");
  }
}

// Applies `edit` to a valid config and expects validate() to fail with `msg`.
void expect_invalid(void (*edit)(DramConfig&), const std::string& msg) {
  DramConfig c = preset("DDR4-3200");
  edit(c);
  try {
    c.validate();
    ADD_FAILURE() << "expected InputError: " << msg;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), msg);
  }
  EXPECT_THROW(Dram{c}, InputError);
}

TEST(DramConfigValidate, EachRuleNamesItsKey) {
  expect_invalid([](DramConfig& c) { c.preset = "DDR9"; },
                 "dram.preset: unknown preset 'DDR9' (valid: DDR4-3200, DDR5-4800, custom)");
  expect_invalid([](DramConfig& c) { c.data_rate_mts = 0; },
                 "dram.data_rate_mts: must be positive, got 0");
  expect_invalid([](DramConfig& c) { c.core_clock_mhz = 0; },
                 "dram.core_clock_mhz: must be positive, got 0");
  expect_invalid([](DramConfig& c) { c.channels = 3; },
                 "dram.channels: must be a power of two, got 3");
  expect_invalid([](DramConfig& c) { c.ranks = 0; }, "dram.ranks: must be a power of two, got 0");
  expect_invalid([](DramConfig& c) { c.bank_groups = 6; },
                 "dram.bank_groups: must be a power of two, got 6");
  expect_invalid([](DramConfig& c) { c.banks_per_group = 3; },
                 "dram.banks_per_group: must be a power of two, got 3");
  expect_invalid([](DramConfig& c) { c.rows = 1000; },
                 "dram.rows: must be a power of two, got 1000");
  expect_invalid([](DramConfig& c) { c.columns = 100; },
                 "dram.columns: must be a power of two, got 100");
  expect_invalid([](DramConfig& c) { c.line_bytes = 48; },
                 "dram.line_bytes: must be a power of two, got 48");
  expect_invalid([](DramConfig& c) { c.row_policy = static_cast<RowPolicy>(7); },
                 "dram.row_policy: expected 'open' or 'closed'");
  expect_invalid([](DramConfig& c) { c.mapping = "ro:ra:bg:ba:ch"; },
                 "dram.mapping: missing field 'co' in 'ro:ra:bg:ba:ch' (every one of ro, ra, bg, "
                 "ba, ch, co exactly once)");
  expect_invalid([](DramConfig& c) { c.mapping = "ro:ra:bg:ba:ch:co:ro"; },
                 "dram.mapping: field 'ro' appears twice in 'ro:ra:bg:ba:ch:co:ro'");
  expect_invalid([](DramConfig& c) { c.mapping = "ro:ra:bg:bank:ch:co"; },
                 "dram.mapping: unknown field 'bank' in 'ro:ra:bg:bank:ch:co' (valid: ro, ra, "
                 "bg, ba, ch, co)");
  expect_invalid([](DramConfig& c) { c.mapping = ""; },
                 "dram.mapping: unknown field '' in '' (valid: ro, ra, bg, ba, ch, co)");
  expect_invalid([](DramConfig& c) { c.queue_depth = 0; },
                 "dram.queue_depth: must be between 1 and 4096, got 0");
  expect_invalid([](DramConfig& c) { c.controller_latency = 16'385; },
                 "dram.controller_latency: must be at most 16384 cycles (the bound that keeps "
                 "64-bit cycle counts from overflowing), got 16385");
  expect_invalid(
      [](DramConfig& c) {
        c.rows = 1U << 31;
        c.columns = 1U << 20;
      },
      "dram.rows: capacity 2^61 bytes exceeds 2^52 (the x86 physical address limit)");
  expect_invalid([](DramConfig& c) { c.timing.tCL = 0; },
                 "dram.tCL: must be at least 1 nCK, got 0");
  expect_invalid([](DramConfig& c) { c.timing.tREFI = 20'000'000; },
                 "dram.tREFI: must be at most 10000000 nCK, got 20000000");
  expect_invalid([](DramConfig& c) { c.timing.tRAS = 20; },
                 "dram.tRAS: must be >= tRCD = 22, got 20");
  expect_invalid([](DramConfig& c) { c.timing.tRC = 70; },
                 "dram.tRC: must be >= tRAS + tRP = 74, got 70");
  expect_invalid([](DramConfig& c) { c.timing.tCCD_S = 2; },
                 "dram.tCCD_S: must be >= tBL = 4, got 2");
  expect_invalid([](DramConfig& c) { c.timing.tCCD_L = 3; },
                 "dram.tCCD_L: must be >= tCCD_S = 4, got 3");
  expect_invalid([](DramConfig& c) { c.timing.tRRD_L = 3; },
                 "dram.tRRD_L: must be >= tRRD_S = 4, got 3");
  expect_invalid([](DramConfig& c) { c.timing.tWTR_L = 2; },
                 "dram.tWTR_L: must be >= tWTR_S = 4, got 2");
  expect_invalid([](DramConfig& c) { c.timing.tREFI = 560; },
                 "dram.tREFI: must be >= tRFC + 1 = 561, got 560");
}

// A refresh interval that leaves no room for a request: every refresh ends
// less than tRCD before the next one, so a row could never open and take its
// column command (the model refreshed forever). DDR4-3200 at a 3000 MHz core:
// core = ceil(nCK x 3000 x 2 / 3200) = ceil(nCK x 1.875); tRFC 560 -> 1050,
// tRCD 22 -> ceil(41.25) = 42.
TEST(DramConfigValidate, RefreshIntervalMustLeaveRoomForARequest) {
  // --dram.tREFI=561 (tRFC + 1): 561 x 1.875 = 1051.875 -> 1052 <= 1050 + 42.
  expect_invalid([](DramConfig& c) { c.timing.tREFI = 561; },
                 "dram.tREFI: 561 nCK (1052 core cycles) leaves no time to serve a request "
                 "between refreshes: it must exceed tRFC + tRCD = 1050 + 42 core cycles (a row "
                 "must open and take its column command before the next refresh)");
  // --dram.tRFC=10 --dram.tREFI=20: tRFC 19 (18.75), tRCD 42, tREFI 38 (37.5).
  expect_invalid(
      [](DramConfig& c) {
        c.timing.tRFC = 10;
        c.timing.tREFI = 20;
      },
      "dram.tREFI: 20 nCK (38 core cycles) leaves no time to serve a request between "
      "refreshes: it must exceed tRFC + tRCD = 19 + 42 core cycles (a row must open and take "
      "its column command before the next refresh)");
  // Boundary: 1050 + 42 = 1092 core cycles; tREFI 583 nCK -> ceil(1093.125) = 1094 is the
  // first accepted value (582 -> ceil(1091.25) = 1092 is refused).
  expect_invalid([](DramConfig& c) { c.timing.tREFI = 582; },
                 "dram.tREFI: 582 nCK (1092 core cycles) leaves no time to serve a request "
                 "between refreshes: it must exceed tRFC + tRCD = 1050 + 42 core cycles (a row "
                 "must open and take its column command before the next refresh)");
  DramConfig ok = preset("DDR4-3200");
  ok.timing.tREFI = 583;
  EXPECT_NO_THROW(ok.validate());
}

// Every timing is at most 2^14 core cycles (tREFI 2^20), whatever its nCK:
// the per-access cycle budget of README "Configuration bounds".
TEST(DramConfigValidate, TimingsAreBoundedInCoreCycles) {
  // tRC 8739 nCK x 1.875 = 16385.6 -> 16386 > 16384.
  expect_invalid([](DramConfig& c) { c.timing.tRC = 8739; },
                 "dram.tRC: 8739 nCK is 16386 core cycles at 3200 MT/s and a 3000 MHz core clock; "
                 "at most 16384 core cycles (the bound that keeps 64-bit cycle counts from "
                 "overflowing)");
  // 8738 x 1.875 = 16383.75 -> 16384: accepted.
  DramConfig ok = preset("DDR4-3200");
  ok.timing.tRC = 8738;
  EXPECT_NO_THROW(ok.validate());
  // tREFI: 2^20 = 1048576 core cycles; 559241 x 1.875 = 1048576.9 -> 1048577.
  expect_invalid([](DramConfig& c) { c.timing.tREFI = 559'241; },
                 "dram.tREFI: 559241 nCK is 1048577 core cycles at 3200 MT/s and a 3000 MHz core "
                 "clock; at most 1048576 core cycles (the bound that keeps 64-bit cycle counts "
                 "from overflowing)");
  // A slow data rate makes the default timings long: 1 MT/s = a 0.5 MHz command clock,
  // tCL 22 x 3000 x 2 / 1 = 132000 core cycles.
  expect_invalid([](DramConfig& c) { c.data_rate_mts = 1; },
                 "dram.tCL: 22 nCK is 132000 core cycles at 1 MT/s and a 3000 MHz core clock; at "
                 "most 16384 core cycles (the bound that keeps 64-bit cycle counts from "
                 "overflowing)");
}

TEST(DramConfigValidate, EveryTimingKeyIsChecked) {
  for (const DramTimingField& f : kDramTimingFields) {
    DramConfig c = preset("DDR5-4800");
    c.timing.*f.member = 0;
    try {
      c.validate();
      ADD_FAILURE() << f.name;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()),
                "dram." + std::string(f.name) + ": must be at least 1 nCK, got 0");
    }
  }
}

TEST(DramConfigValidate, RowPolicyParsing) {
  EXPECT_EQ(parse_row_policy("open"), RowPolicy::kOpen);
  EXPECT_EQ(parse_row_policy("closed"), RowPolicy::kClosed);
  EXPECT_EQ(row_policy_name(RowPolicy::kClosed), "closed");
  try {
    parse_row_policy("lazy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dram.row_policy: expected 'open' or 'closed', got 'lazy'");
  }
}

TEST(DramMapping, ParsesFieldsMsbFirst) {
  DramMapping m = parse_mapping("ro:ra:ba:co:bg:ch");
  EXPECT_EQ(m.msb_to_lsb[0], DramField::kRow);
  EXPECT_EQ(m.msb_to_lsb[5], DramField::kChannel);
  EXPECT_EQ(dram_field_token(m.msb_to_lsb[3]), "co");
}

TEST(DramMapping, DefaultMappingDecode) {
  // DDR4-3200 default "ro:ra:ba:co:bg:ch": offset 0-5, ch none, bg 6-7,
  // co 8-14, ba 15-16, ra none, ro 17-32.
  Dram d(preset("DDR4-3200"));
  auto dec = [&](uint64_t a) { return d.decode(PhysAddr(a)); };
  EXPECT_EQ(dec(0x40).bank_group, 1U);
  EXPECT_EQ(dec(0xC0).bank_group, 3U);
  EXPECT_EQ(dec(0x3F).column, 0U);
  EXPECT_EQ(dec(0x100).column, 1U);
  EXPECT_EQ(dec(0x7F00).column, 127U);
  EXPECT_EQ(dec(0x8000).bank, 1U);
  EXPECT_EQ(dec(0x20000).row, 1U);
  EXPECT_EQ(dec(0x1FFFE0000).row, 0xFFFFU);
  DramLocation l = dec(0x12345678);
  EXPECT_EQ(l.channel, 0U);
  EXPECT_EQ(l.rank, 0U);
  EXPECT_EQ(l.bank_group, 1U);
  EXPECT_EQ(l.column, 86U);
  EXPECT_EQ(l.bank, 0U);
  EXPECT_EQ(l.row, 2330U);
  EXPECT_EQ(dec(8ULL << 30), DramLocation{});  // above capacity: aliases to 0
  EXPECT_EQ(d.encode(l).value(), 0x12345678ULL & ~0x3FULL);
}

TEST(DramMapping, TwoChannelDecodeAndRoundTrip) {
  DramConfig c = preset("DDR4-3200");
  c.channels = 2;  // "ro:ra:ba:co:bg:ch": ch 6, bg 7-8, co 9-15, ba 16-17, ro 18-33
  Dram d(c);
  EXPECT_EQ(d.decode(PhysAddr(0x40)).channel, 1U);
  EXPECT_EQ(d.decode(PhysAddr(0x80)).bank_group, 1U);
  DramLocation l = d.decode(PhysAddr(0x387654321ULL));
  EXPECT_EQ(l.channel, 0U);
  EXPECT_EQ(l.bank_group, 2U);
  EXPECT_EQ(l.column, 33U);
  EXPECT_EQ(l.bank, 1U);
  EXPECT_EQ(l.row, 57817U);
  uint64_t x = 99;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    PhysAddr a(x & (c.capacity_bytes() - 1) & ~uint64_t{63});
    EXPECT_EQ(d.encode(d.decode(a)), a);
  }
}

TEST(DramMapping, RowInterleavedScheme) {
  DramConfig c = preset("DDR4-3200");
  c.mapping = "ro:bg:ba:ra:co:ch";  // Ramulator-style RoBaRaCoCh with bank groups
  Dram d(c);
  EXPECT_EQ(d.decode(PhysAddr(0x40)).column, 1U);
  EXPECT_EQ(d.decode(PhysAddr(64ULL * 128)).bank, 1U);  // one 8 KB row per bank
  EXPECT_EQ(d.decode(PhysAddr(64ULL * 128 * 4)).bank_group, 1U);
  EXPECT_EQ(d.decode(PhysAddr(64ULL * 128 * 16)).row, 1U);
}

}  // namespace
}  // namespace mmusim
