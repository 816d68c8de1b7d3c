// The [seg] keys in the simulator's schema: defaults that follow the paging
// mode, the mode combinations, values parsed by the seg core, and errors that
// name the keys.
#include <gtest/gtest.h>

#include "models/common/error.h"
#include "models/sim/sim_config.h"

namespace mmusim {
namespace {

// Applies `kv` (key -> value, "command line" origin) and finalizes.
SimConfig configure(const std::map<std::string, std::string>& kv) {
  SimConfig c;
  ConfigSchema s;
  build_schema(s, c);
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "command line"};
  apply_values(s, v);
  finalize(c);
  return c;
}

std::string error_of(const std::map<std::string, std::string>& kv) {
  try {
    configure(kv);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SegSimConfig, AutoModeFollowsPaging) {
  EXPECT_EQ(configure({}).seg.mode, SegMode::kLong64);
  EXPECT_EQ(configure({}).seg.canonical_bits, 48u);
  SimConfig five = configure({{"walker.mode", "5level"}});
  EXPECT_EQ(five.seg.mode, SegMode::kLong64);
  EXPECT_EQ(five.seg.canonical_bits, 57u);
  for (const char* p : {"32bit", "pae", "off"}) {
    EXPECT_EQ(configure({{"walker.mode", p}, {"os.phys_mem", "1G"}}).seg.mode, SegMode::kFlat) << p;
  }
}

TEST(SegSimConfig, CplFollowsSimUser) {
  EXPECT_EQ(configure({}).seg.cpl, 3u);
  EXPECT_EQ(configure({{"sim.user", "false"}}).seg.cpl, 0u);
  EXPECT_EQ(configure({{"walker.mode", "off"}, {"seg.mode", "real"}}).seg.cpl, 0u);
  // Paging off: the user flag checks nothing, so an explicit CPL is free.
  EXPECT_EQ(
      configure({{"walker.mode", "off"}, {"seg.mode", "protected"}, {"seg.cpl", "0"}}).seg.cpl, 0u);
  EXPECT_EQ(error_of({{"seg.cpl", "0"}}),
            "seg.cpl: 0 contradicts sim.user = true (CPL 3); set both, or leave seg.cpl unset "
            "to follow sim.user");
}

TEST(SegSimConfig, ModeCombinationsNameBothKeys) {
  EXPECT_EQ(error_of({{"seg.mode", "real"}}),
            "seg.mode: 'real' cannot be combined with walker.mode '4level' (real mode requires "
            "paging off)");
  // 32-bit segmentation under 4/5-level paging is IA-32e compatibility mode.
  EXPECT_EQ(configure({{"seg.mode", "protected"}, {"walker.mode", "5level"}}).seg.mode,
            SegMode::kProtected32);
  EXPECT_EQ(configure({{"seg.mode", "flat"}}).seg.mode, SegMode::kFlat);
  EXPECT_EQ(error_of({{"seg.mode", "long"}, {"walker.mode", "pae"}, {"os.phys_mem", "1G"}}),
            "seg.mode: 'long' cannot be combined with walker.mode 'pae' (long mode requires "
            "4level or 5level paging)");
  EXPECT_EQ(error_of({{"seg.mode", "real"}, {"walker.mode", "32bit"}, {"os.phys_mem", "1G"}}),
            "seg.mode: 'real' cannot be combined with walker.mode '32bit' (real mode requires "
            "paging off)");
  EXPECT_EQ(configure({{"seg.mode", "protected"}, {"walker.mode", "pae"}}).seg.mode,
            SegMode::kProtected32);
}

TEST(SegSimConfig, ValuesAreParsedByTheSegCore) {
  SimConfig c = configure({{"walker.mode", "32bit"},
                           {"os.phys_mem", "1G"},
                           {"seg.mode", "protected"},
                           {"seg.gdt_base", "0x10000"},
                           {"seg.gdt_limit", "0x3f"},
                           {"seg.ds", "0x2b"},
                           {"seg.base_cost", "2"},
                           {"seg.stop_on_fault", "yes"}});
  EXPECT_EQ(c.seg.gdt_base, 0x10000u);
  EXPECT_EQ(c.seg.gdt_limit, 0x3Fu);
  EXPECT_EQ(c.seg.initial_selector(SegReg::kDS), Selector(0x2B));
  EXPECT_EQ(c.seg.base_cost, Cycles(2));
  EXPECT_TRUE(c.seg.stop_on_fault);
}

TEST(SegSimConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of({{"seg.mode", "prot"}}),
            "command line: seg.mode: expected auto, real, protected, long or flat, got 'prot'");
  EXPECT_EQ(error_of({{"seg.cpl", "x"}}),
            "command line: seg.cpl: expected an unsigned integer (decimal or 0x-hex), got 'x'");
  EXPECT_EQ(error_of({{"seg.cpl", "4"}}),
            "command line: seg.cpl: value '4' out of range (max 3), got '4'");
  EXPECT_EQ(error_of({{"seg.a20_mask", "maybe"}}),
            "command line: seg.a20_mask: expected true or false (also 1/0, yes/no, on/off; "
            "lower case), got 'maybe'");
  EXPECT_EQ(error_of({{"seg.canonical_bits", "57"}}),
            "seg.canonical_bits: 57 does not match walker.mode = 4level (48-bit linear addresses)");
  EXPECT_EQ(
      error_of({{"walker.mode", "off"}, {"seg.mode", "protected"}, {"seg.gdt_base", "0x1004"}}),
      "seg.gdt_base: must be a multiple of 8 (descriptors are read as aligned 8-byte words), "
      "got 4100");
  EXPECT_EQ(
      error_of({{"walker.mode", "off"}, {"seg.mode", "protected"}, {"seg.gdt_limit", "0x10"}}),
      "seg.gdt_limit: must be 8*N-1 (whole 8-byte descriptors) and at most 0xFFFF, got 0x10");
  EXPECT_EQ(error_of({{"seg.fs_base", "0x800000000000"}}),
            "seg.fs_base: must be canonical, got 0x800000000000");
}

TEST(SegSimConfig, ResolvedConfigRecordsTheModeUsed) {
  SimConfig c;
  ConfigSchema s;
  build_schema(s, c);
  EXPECT_EQ(s.find("seg.mode")->get(), "auto");
  finalize(c);
  const std::string ini = s.to_ini();
  EXPECT_NE(ini.find("[seg]\n"), std::string::npos);
  EXPECT_NE(ini.find("\nmode = long\n"), std::string::npos) << ini;
  EXPECT_NE(ini.find("\ncpl = 3\n"), std::string::npos);
  EXPECT_NE(ini.find("\nds = 0x23\n"), std::string::npos);
  for (const SegOption& o : seg_options()) EXPECT_NE(s.find(std::string(o.key)), nullptr) << o.key;
}

}  // namespace
}  // namespace mmusim
