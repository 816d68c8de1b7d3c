// The configuration schema end to end, without a SystemC run: INI parsing,
// precedence (later files, then the command line), every error message with
// its origin, cross-module validation in finalize(), the resolved config.ini
// round trip and the Skylake preset file against the built-in defaults.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "models/common/error.h"
#include "models/sim/schema.h"
#include "models/sim/sim_config.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::TempDir;
using systest::write_file;
namespace fs = std::filesystem;

// A SimConfig with its schema bound to it (neither may move).
struct Bound {
  SimConfig c;
  ConfigSchema s;
  Bound() { build_schema(s, c); }
  Bound(const Bound&) = delete;
  Bound& operator=(const Bound&) = delete;
  [[nodiscard]] std::string get(const std::string& key) const {
    const ConfigSchema::Key* k = s.find(key);
    if (!k) throw std::logic_error("no key " + key);
    return k->get();
  }
};

// What `f` throws as InputError ("<no error>" if nothing).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

// Reads, applies and finalizes the files into a fresh config (like main()).
std::unique_ptr<Bound> load(const std::vector<std::string>& files,
                            const ConfigValues& command_line = {}) {
  auto b = std::make_unique<Bound>();
  ConfigValues v;
  for (const auto& f : files) read_ini(f, b->s, v);
  for (const auto& [k, cv] : command_line) v[k] = cv;
  apply_values(b->s, v);
  finalize(b->c);
  return b;
}

// Error message of loading a one-file config with `text`.
std::string ini_error(const TempDir& d, const std::string& text,
                      const std::string& name = "c.ini") {
  write_file(d.file(name), text);
  return error_of([&] { load({d.file(name)}); });
}

// ---------------------------------------------------------------- parsing --

TEST(ConfigIni, SectionsBecomeDottedKeys) {
  TempDir d;
  write_file(d.file("a.ini"),
             "# leading comment\n"
             "; another comment style\n"
             "\n"
             "   [tlb.l1d.4K]   \n"
             "entries = 32   # trailing comment\n"
             "ways=2\n"
             "\t latency \t=\t 3 ; trailing semicolon comment\n"
             "[ walker.pwc.pd ]\n"
             "entries = 16\n"
             "[sim]\n"
             "seed = 0x10\n");
  Bound b;
  ConfigValues v;
  read_ini(d.file("a.ini"), b.s, v);
  ASSERT_EQ(v.size(), 5U);
  EXPECT_EQ(v["tlb.l1d.4K.entries"].value, "32");
  EXPECT_EQ(v["tlb.l1d.4K.entries"].origin, d.file("a.ini") + ":5");
  EXPECT_EQ(v["tlb.l1d.4K.ways"].value, "2");
  EXPECT_EQ(v["tlb.l1d.4K.ways"].origin, d.file("a.ini") + ":6");
  EXPECT_EQ(v["tlb.l1d.4K.latency"].value, "3");
  EXPECT_EQ(v["walker.pwc.pd.entries"].origin, d.file("a.ini") + ":9");
  apply_values(b.s, v);
  finalize(b.c);
  EXPECT_EQ(b.c.tlb.l1d[0].entries, 32U);
  EXPECT_EQ(b.c.tlb.l1d[0].ways, 2U);
  EXPECT_EQ(b.c.tlb.l1d[0].latency, Cycles(3));
  EXPECT_EQ(b.c.pwc.pd.entries, 16U);
  EXPECT_EQ(b.c.walker.pwc[2].entries, 16U);  // PD is level 2 of 4-level paging
  EXPECT_EQ(b.c.sim.seed, 16U);               // integers accept 0x hex
  EXPECT_EQ(b.c.tlb.seed, 16U);               // finalize() propagates the seed
  EXPECT_EQ(b.c.os.seed, 16U);
}

TEST(ConfigIni, KeysBeforeAnySectionAreFullNames) {
  TempDir d;
  write_file(d.file("a.ini"), "sim.seed = 7\n[cpu]\nwindow = 8\n");
  auto b = load({d.file("a.ini")});
  EXPECT_EQ(b->c.sim.seed, 7U);
  EXPECT_EQ(b->c.cpu.window, 8U);
}

TEST(ConfigIni, LaterFilesOverrideEarlierOnesAndCommandLineWins) {
  TempDir d;
  write_file(d.file("a.ini"), "[tlb.l2]\nlatency = 5\nentries = 768\n[sim]\nseed = 3\n");
  write_file(d.file("b.ini"), "[tlb.l2]\nlatency = 7\n");
  {
    auto b = load({d.file("a.ini"), d.file("b.ini")});
    EXPECT_EQ(b->c.tlb.l2.latency, Cycles(7));  // b.ini overrides a.ini
    EXPECT_EQ(b->c.tlb.l2.entries, 768U);       // a.ini's other keys stay
    EXPECT_EQ(b->c.sim.seed, 3U);
  }
  {
    auto b = load({d.file("b.ini"), d.file("a.ini")});
    EXPECT_EQ(b->c.tlb.l2.latency, Cycles(5));  // order matters
  }
  {
    ConfigValues cl{{"tlb.l2.latency", {"11", "command line"}}};
    auto b = load({d.file("a.ini"), d.file("b.ini")}, cl);
    EXPECT_EQ(b->c.tlb.l2.latency, Cycles(11));
  }
  // A later file's value takes the later origin.
  {
    Bound b;
    ConfigValues v;
    read_ini(d.file("a.ini"), b.s, v);
    read_ini(d.file("b.ini"), b.s, v);
    EXPECT_EQ(v["tlb.l2.latency"].value, "7");
    EXPECT_EQ(v["tlb.l2.latency"].origin, d.file("b.ini") + ":2");
    EXPECT_EQ(v["tlb.l2.entries"].origin, d.file("a.ini") + ":3");
  }
  // A later file's bad value is reported with that file's position.
  write_file(d.file("bad.ini"), "\n[tlb.l2]\nlatency = soon\n");
  EXPECT_EQ(error_of([&] {
              load({d.file("a.ini"), d.file("bad.ini")});
            }),
            d.file("bad.ini") + ":3: tlb.l2.latency: expected a number of cycles, got 'soon'");
  // The command line's bad value names the command line.
  EXPECT_EQ(error_of([&] {
              load({d.file("a.ini")}, {{"sim.cpus", {"0", "command line"}}});
            }),
            "command line: sim.cpus: expected an integer in [1, 256], got '0'");
}

TEST(ConfigIni, DramPresetIsAppliedBeforeTimingOverridesWhateverTheOrder) {
  // dram.preset is a phase-0 key: a timing key in the same or an earlier file
  // still overrides the preset's value.
  TempDir d;
  write_file(d.file("a.ini"), "[dram]\ntCL = 30\npreset = DDR5-4800\n");
  auto b = load({d.file("a.ini")});
  EXPECT_EQ(b->c.dram.preset, "DDR5-4800");
  EXPECT_EQ(b->c.dram.data_rate_mts, 4800U);
  EXPECT_EQ(b->c.dram.timing.tCL, 30U);
}

// ------------------------------------------------------------ read errors --

TEST(ConfigIniErrors, CannotOpen) {
  TempDir d;
  EXPECT_EQ(error_of([&] { load({d.file("missing.ini")}); }),
            d.file("missing.ini") + ": cannot open config file (No such file or directory)");
  // A directory opens as a stream that reads nothing: refused by name.
  EXPECT_EQ(error_of([&] { load({d.path()}); }),
            d.path() + ": is a directory, expected an INI config file");
  // A file the process may not read (root reads it anyway: not checked then).
  write_file(d.file("locked.ini"), "[sim]\nseed = 1\n");
  fs::permissions(d.file("locked.ini"), fs::perms::none);
  if (::geteuid() != 0) {
    EXPECT_EQ(error_of([&] { load({d.file("locked.ini")}); }),
              d.file("locked.ini") + ": cannot open config file (Permission denied)");
  }
}

TEST(ConfigIniErrors, AKeyTwiceInOneFileNamesBothLines) {
  TempDir d;
  const std::string f = d.file("c.ini");
  EXPECT_EQ(ini_error(d, "[sim]\nseed = 1\nseed = 2\n"),
            f + ":3: sim.seed is set a second time (first at " + f +
                ":2); a key may appear once per file");
  // The same key spelt in full before its section, and under it.
  EXPECT_EQ(ini_error(d, "tlb.l2.entries = 1024\n# c\n[tlb.l2]\nways = 8\nentries = 2048\n"),
            f + ":5: tlb.l2.entries is set a second time (first at " + f +
                ":1); a key may appear once per file");
  // ... and under a section that is a prefix of it.
  EXPECT_EQ(ini_error(d, "[tlb]\nl2.latency = 7\n[tlb.l2]\nlatency = 8\n"),
            f + ":4: tlb.l2.latency is set a second time (first at " + f +
                ":2); a key may appear once per file");
  // Two files may set the same key: the later one wins (the precedence test).
  write_file(d.file("x.ini"), "[sim]\nseed = 1\n");
  write_file(d.file("y.ini"), "[sim]\nseed = 2\n");
  EXPECT_EQ(load({d.file("x.ini"), d.file("y.ini")})->c.sim.seed, 2U);
}

TEST(ConfigIni, AByteOrderMarkAtTheStartIsSkipped) {
  TempDir d;
  write_file(d.file("bom.ini"), "\xEF\xBB\xBF[sim]\nseed = 5\n");
  EXPECT_EQ(load({d.file("bom.ini")})->c.sim.seed, 5U);
  write_file(d.file("bom2.ini"), "\xEF\xBB\xBFsim.seed = 6\r\n");
  EXPECT_EQ(load({d.file("bom2.ini")})->c.sim.seed, 6U);
  // Anywhere else it is a stray character, shown as bytes in the message.
  const std::string f = d.file("c.ini");
  EXPECT_EQ(ini_error(d, "[sim]\n\xEF\xBB\xBFseed = 5\n"),
            f + ":2: unknown key 'sim.\\xef\\xbb\\xbfseed' (see mmusim --help for every key)");
  EXPECT_EQ(ini_error(d, "[sim]\nseed\t5\x01\n"),
            f + ":2: expected 'key = value', got 'seed\\x095\\x01'");
}

TEST(ConfigIniErrors, UnknownKey) {
  TempDir d;
  const std::string f = d.file("c.ini");
  EXPECT_EQ(ini_error(d, "[tlb.l1d.4K]\nentries = 64\n\nassoc = 4\n"),
            f + ":4: unknown key 'tlb.l1d.4K.assoc' (see mmusim --help for every key)");
  EXPECT_EQ(ini_error(d, "# x\n[tlb.l3]\nentries = 64\n"),
            f + ":3: unknown key 'tlb.l3.entries' (see mmusim --help for every key)");
  EXPECT_EQ(ini_error(d, "seed = 1\n"),
            f + ":1: unknown key 'seed' (see mmusim --help for every key)");
  // Keys are case-sensitive.
  EXPECT_EQ(ini_error(d, "[SIM]\nseed = 1\n"),
            f + ":2: unknown key 'SIM.seed' (see mmusim --help for every key)");
}

TEST(ConfigIniErrors, MalformedLine) {
  TempDir d;
  const std::string f = d.file("c.ini");
  EXPECT_EQ(ini_error(d, "[sim]\nseed 5\n"), f + ":2: expected 'key = value', got 'seed 5'");
  EXPECT_EQ(ini_error(d, "[sim]\n\n  = 5\n"), f + ":3: expected a key before '='");
}

TEST(ConfigIniErrors, BadSectionHeader) {
  TempDir d;
  const std::string f = d.file("c.ini");
  EXPECT_EQ(ini_error(d, "[sim]\nseed = 1\n[tlb.l1d\n"),
            f + ":3: expected a section header like [tlb.l1d], got '[tlb.l1d'");
  EXPECT_EQ(ini_error(d, "[]\n"), f + ":1: expected a section header like [tlb.l1d], got '[]'");
  EXPECT_EQ(ini_error(d, "[sim] seed = 1\n"),
            f + ":1: expected a section header like [tlb.l1d], got '[sim] seed = 1'");
}

// ----------------------------------------------------------- value errors --

// One key set to `value` in an INI file at line 3 (after a comment and the
// section header); returns the error of read + apply + finalize.
std::string value_error(const std::string& key, const std::string& value) {
  TempDir d;
  size_t dot = key.rfind('.');
  write_file(d.file("v.ini"), "# bad value\n[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) +
                                  " = " + value + "\n");
  std::string e = error_of([&] { load({d.file("v.ini")}); });
  const std::string prefix = d.file("v.ini") + ":3: ";
  if (e.compare(0, prefix.size(), prefix) == 0) return "v.ini:3: " + e.substr(prefix.size());
  return e;
}

TEST(ConfigValueErrors, UnsignedIntegers) {
  // u32 with a range
  EXPECT_EQ(value_error("sim.cpus", "0"),
            "v.ini:3: sim.cpus: expected an integer in [1, 256], got '0'");
  EXPECT_EQ(value_error("sim.cpus", "257"),
            "v.ini:3: sim.cpus: expected an integer in [1, 256], got '257'");
  EXPECT_EQ(value_error("sim.asid", "4096"),
            "v.ini:3: sim.asid: expected an integer in [0, 4095], got '4096'");
  EXPECT_EQ(value_error("cpu.window", "4097"),
            "v.ini:3: cpu.window: expected an integer in [1, 4096], got '4097'");
  EXPECT_EQ(value_error("walker.pwc.pd.ways", "0"),
            "v.ini:3: walker.pwc.pd.ways: expected an integer in [1, 4294967295], got '0'");
  // u32 without a declared range still refuses values above 32 bits
  EXPECT_EQ(
      value_error("tlb.l1d.4K.entries", "4294967296"),
      "v.ini:3: tlb.l1d.4K.entries: expected an integer in [0, 4294967295], got '4294967296'");
  // unsigned (walker.maxphyaddr, walker.max_walks)
  EXPECT_EQ(value_error("walker.maxphyaddr", "53"),
            "v.ini:3: walker.maxphyaddr: expected an integer in [32, 52], got '53'");
  EXPECT_EQ(value_error("walker.max_walks", "65"),
            "v.ini:3: walker.max_walks: expected an integer in [1, 64], got '65'");
  // not a number, signs, trailing junk
  EXPECT_EQ(value_error("tlb.l2.entries", "many"),
            "v.ini:3: tlb.l2.entries: expected an unsigned integer, got 'many'");
  EXPECT_EQ(value_error("tlb.l2.entries", "-1"),
            "v.ini:3: tlb.l2.entries: expected an unsigned integer, got '-1'");
  EXPECT_EQ(value_error("tlb.l2.entries", "+1"),
            "v.ini:3: tlb.l2.entries: expected an unsigned integer, got '+1'");
  EXPECT_EQ(value_error("tlb.l2.entries", "12x"),
            "v.ini:3: tlb.l2.entries: expected an unsigned integer, got '12x'");
  EXPECT_EQ(value_error("tlb.l2.entries", ""),
            "v.ini:3: tlb.l2.entries: expected an unsigned integer, got ''");
  // u64 overflow
  EXPECT_EQ(value_error("sim.seed", "18446744073709551616"),
            "v.ini:3: sim.seed: expected an integer that fits in 64 bits, got "
            "'18446744073709551616'");
  EXPECT_EQ(value_error("sim.quantum", "1.5"),
            "v.ini:3: sim.quantum: expected an unsigned integer, got '1.5'");
}

TEST(ConfigValueErrors, LeadingZerosAreDecimal) {
  // Integers are decimal, or hexadecimal with 0x; a leading zero is not octal.
  auto b = load({}, {{"tlb.l2.entries", {"01536", "command line"}}});
  EXPECT_EQ(b->c.tlb.l2.entries, 1536U);
  EXPECT_EQ(value_error("sim.seed", "08"), "<no error>");
}

TEST(ConfigValueErrors, Bool) {
  // The message lists every spelling the parser takes, and only those.
  EXPECT_EQ(value_error("sim.user", "maybe"),
            "v.ini:3: sim.user: expected true or false (also 1/0, yes/no, on/off; lower case), "
            "got 'maybe'");
  EXPECT_EQ(value_error("tlb.fast_path", "TRUE"),
            "v.ini:3: tlb.fast_path: expected true or false (also 1/0, yes/no, on/off; lower "
            "case), got 'TRUE'");
  EXPECT_EQ(value_error("seg.a20_mask", "y"),
            "v.ini:3: seg.a20_mask: expected true or false (also 1/0, yes/no, on/off; lower "
            "case), got 'y'");
  for (const char* t : {"true", "1", "yes", "on", "false", "0", "no", "off"}) {
    EXPECT_EQ(value_error("walker.write_protect", t), "<no error>") << t;
    EXPECT_EQ(value_error("seg.a20_mask", t), "<no error>") << t;
  }
  for (const char* t : {"True", "2", "y", "enabled"}) {
    EXPECT_NE(value_error("walker.write_protect", t), "<no error>") << t;
  }
  TempDir d;
  write_file(d.file("b.ini"), "[sim]\nuser = off\n[tlb]\nfast_path = no\n");
  auto b = load({d.file("b.ini")});
  EXPECT_FALSE(b->c.sim.user);
  EXPECT_FALSE(b->c.tlb.fast_path);
}

TEST(ConfigValueErrors, SizesAndCycles) {
  EXPECT_EQ(value_error("os.phys_mem", "8X"),
            "v.ini:3: os.phys_mem: expected a size in bytes with an optional K, M, G or T "
            "suffix, got '8X'");
  EXPECT_EQ(value_error("os.phys_mem", "G"),
            "v.ini:3: os.phys_mem: expected a size in bytes with an optional K, M, G or T "
            "suffix, got 'G'");
  EXPECT_EQ(value_error("os.reserved_low", "20000000T"),
            "v.ini:3: os.reserved_low: expected a size that fits in 64 bits, got '20000000T'");
  EXPECT_EQ(value_error("walker.overhead", "two"),
            "v.ini:3: walker.overhead: expected a number of cycles, got 'two'");
  EXPECT_EQ(value_error("os.minor_fault_cost", "-5"),
            "v.ini:3: os.minor_fault_cost: expected a number of cycles, got '-5'");
  // Suffixes are binary multiples.
  EXPECT_EQ(parse_size("4K"), 4096U);
  EXPECT_EQ(parse_size("3m"), 3ULL << 20);
  EXPECT_EQ(parse_size("2G"), 2ULL << 30);
  EXPECT_EQ(parse_size("1T"), 1ULL << 40);
  EXPECT_EQ(format_size(8ULL << 30), "8G");
  EXPECT_EQ(format_size(4096 + 512), "4608");
  EXPECT_EQ(format_size(0), "0");
}

TEST(ConfigValueErrors, EnumsAndLists) {
  EXPECT_EQ(value_error("tlb.l1d.4K.replacement", "mru"),
            "v.ini:3: tlb.l1d.4K.replacement: expected lru, plru, fifo or random, got 'mru'");
  EXPECT_EQ(value_error("tlb.l2.sizes", "4K+3M"),
            "v.ini:3: tlb.l2.sizes: expected page sizes joined by '+', e.g. 4K+2M, got '4K+3M'");
  EXPECT_EQ(value_error("tlb.l2.sizes", ""),
            "v.ini:3: tlb.l2.sizes: expected page sizes joined by '+', e.g. 4K+2M, got ''");
  EXPECT_EQ(value_error("dram.preset", "DDR3-1600"),
            "v.ini:3: dram.preset: expected DDR4-3200 or DDR5-4800, got 'DDR3-1600'");
  EXPECT_EQ(value_error("dram.row_policy", "half"),
            "v.ini:3: dram.row_policy: expected open or closed, got 'half'");
  // walker.mode is a string checked by finalize(): the message names the key
  // (not the file line, which finalize() no longer knows).
  EXPECT_EQ(value_error("walker.mode", "6level"),
            "walker.mode: unknown paging mode '6level' (expected 4level, 5level, pae, 32bit or "
            "off)");
  EXPECT_EQ(
      value_error("dram.mapping", "ro:ra:ba:co:bg"),
      "dram.mapping: missing field 'ch' in 'ro:ra:ba:co:bg' (every one of ro, ra, bg, ba, ch, "
      "co exactly once)");
  EXPECT_EQ(value_error("os.huge_regions", "0x40000000:2M"),
            "os.huge_regions: expected START-END:SIZE (e.g. 0x40000000-0x80000000:2M), got "
            "'0x40000000:2M'");
  EXPECT_EQ(value_error("os.huge_regions", "0x40000000-0x80000000:8M"),
            "os.huge_regions: page size must be 2M, 4M or 1G, got '8M'");
  EXPECT_EQ(value_error("os.huge_regions", "0x40001000-0x80000000:2M"),
            "os.huge_regions: region '0x40001000-0x80000000:2M' must be non-empty and aligned to "
            "2M");
}

// ------------------------------------------------- geometry (finalize) --

std::string finalize_error(const ConfigValues& cl) {
  return error_of([&] { load({}, cl); });
}
ConfigValues cl(std::initializer_list<std::pair<const char*, const char*>> kv) {
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "command line"};
  return v;
}

TEST(ConfigGeometry, SetsMustBeAPowerOfTwo) {
  EXPECT_EQ(finalize_error(cl({{"tlb.l1d.4K.entries", "48"}, {"tlb.l1d.4K.ways", "4"}})),
            "tlb.l1d.4K.entries: sets (entries/ways = 48/4 = 12) must be a power of two");
  EXPECT_EQ(finalize_error(cl({{"tlb.l2.entries", "1536"}, {"tlb.l2.ways", "8"}})),
            "tlb.l2.entries: sets (entries/ways = 1536/8 = 192) must be a power of two");
  EXPECT_EQ(finalize_error(cl({{"tlb.l1i.4K.entries", "100"}, {"tlb.l1i.4K.ways", "8"}})),
            "tlb.l1i.4K.entries: must be a multiple of ways (100 % 8 = 4)");
  // 48 entries fully associative is fine (one set).
  EXPECT_EQ(finalize_error(cl({{"tlb.l1d.4K.entries", "48"}, {"tlb.l1d.4K.ways", "48"}})),
            "<no error>");
}

TEST(ConfigGeometry, WaysRules) {
  EXPECT_EQ(finalize_error(cl({{"tlb.l1d.4K.ways", "0"}})), "tlb.l1d.4K.ways: must be at least 1");
  EXPECT_EQ(finalize_error(cl({{"tlb.l2_1g.ways", "32"}})),
            "tlb.l2_1g.ways: must not exceed entries (32 > 16)");
  EXPECT_EQ(finalize_error(cl({{"tlb.l2.replacement", "plru"}})),
            "tlb.l2.ways: tree-PLRU replacement needs a power-of-two number of ways (got 12)");
  EXPECT_EQ(finalize_error(cl({{"walker.pwc.pd.entries", "30"}})),
            "walker.pwc.pd.entries: must be a multiple of ways (30 entries, 4 ways)");
  EXPECT_EQ(finalize_error(cl({{"tlb.l2.sizes", "4K+2M+1G"}})),
            "tlb.l2.sizes: page size 1G is also held by tlb.l2_1g");
  // With the 1G array disabled the L2 may hold 1G pages.
  EXPECT_EQ(finalize_error(cl({{"tlb.l2.sizes", "4K+2M+1G"}, {"tlb.l2_1g.entries", "0"}})),
            "<no error>");
}

TEST(ConfigGeometry, HugeRegionPageSizeMustBeMappable) {
  const char* r1g = "0x40000000-0x80000000:1G";
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", r1g}, {"walker.mode", "pae"}})),
            "os.huge_regions: paging mode 'pae' cannot map 1G pages");
  EXPECT_EQ(finalize_error(
                cl({{"os.huge_regions", r1g}, {"walker.mode", "32bit"}, {"os.phys_mem", "1G"}})),
            "os.huge_regions: paging mode '32bit' cannot map 1G pages");
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", "0x400000-0x800000:4M"}})),
            "os.huge_regions: paging mode '4level' cannot map 4M pages");
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", "0x200000-0x400000:2M"},
                               {"walker.mode", "32bit"},
                               {"os.phys_mem", "1G"}})),
            "os.huge_regions: paging mode '32bit' cannot map 2M pages");
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", r1g}, {"os.model", "first_touch"}})),
            "<no error>");
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", "0x40000000-0x80000000:2M"},
                               {"walker.mode", "pae"},
                               {"os.model", "first_touch"}})),
            "<no error>");
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", "0x400000-0x800000:4M"},
                               {"walker.mode", "32bit"},
                               {"os.phys_mem", "1G"},
                               {"os.model", "first_touch"}})),
            "<no error>");
  // The Linux model (the default) maps 4K pages only: regions need first_touch.
  const std::string linux_err =
      "os.huge_regions: large-page regions are mapped by os.model=first_touch only (the linux "
      "model, the default, maps 4K pages: no THP yet); set os.model=first_touch or leave "
      "os.huge_regions empty";
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", r1g}})), linux_err);
  EXPECT_EQ(finalize_error(cl({{"os.huge_regions", r1g}, {"os.model", "linux"}})), linux_err);
}

TEST(ConfigGeometry, PhysicalMemory) {
  // DDR4-3200 default: 1 channel x 1 rank x 4 groups x 4 banks x 65536 rows x
  // 128 columns x 64 B = 8 GiB, exactly the default os.phys_mem.
  EXPECT_EQ(finalize_error(cl({{"os.phys_mem", "16G"}})),
            "os.phys_mem: 16G exceeds the DRAM capacity of 8G (channels x ranks x bank groups x "
            "banks x rows x columns x line bytes)");
  EXPECT_EQ(finalize_error(cl({{"os.phys_mem", "16G"}, {"dram.channels", "2"}})), "<no error>");
  EXPECT_EQ(finalize_error(cl({{"os.phys_mem", "0"}})),
            "os.phys_mem: must be a non-zero multiple of 4K, got 0");
  EXPECT_EQ(finalize_error(cl({{"os.phys_mem", "1000000"}})),
            "os.phys_mem: must be a non-zero multiple of 4K, got 1000000");
  EXPECT_EQ(finalize_error(cl({{"os.reserved_low", "8G"}})),
            "os.reserved_low: must be below os.phys_mem");
  EXPECT_EQ(finalize_error(cl({{"walker.mode", "32bit"}})),
            "os.phys_mem: 8G is beyond what 32bit paging with walker.maxphyaddr = 46 can address");
  EXPECT_EQ(finalize_error(cl({{"walker.maxphyaddr", "32"}})),
            "os.phys_mem: 8G is beyond what 4level paging with walker.maxphyaddr = 32 can address");
  EXPECT_EQ(finalize_error(cl({{"dram.channels", "3"}})),
            "dram.channels: must be a power of two, got 3");
}

TEST(ConfigGeometry, PwcsFollowThePagingMode) {
  {
    auto b = load({}, cl({{"walker.mode", "5level"},
                          {"walker.pwc.pml5.entries", "8"},
                          {"walker.pwc.pml5.ways", "8"}}));
    EXPECT_EQ(b->c.walker.mode, PagingMode::k5Level);
    EXPECT_EQ(b->c.walker.pwc[0].entries, 8U);   // PML5
    EXPECT_EQ(b->c.walker.pwc[1].entries, 2U);   // PML4
    EXPECT_EQ(b->c.walker.pwc[2].entries, 4U);   // PDPT
    EXPECT_EQ(b->c.walker.pwc[3].entries, 32U);  // PD
    EXPECT_EQ(b->c.walker.pwc[4].entries, 0U);   // PT: never cached here
  }
  {
    auto b = load({}, cl({{"walker.mode", "4level"}}));
    EXPECT_EQ(b->c.walker.pwc[0].entries, 2U);   // PML4
    EXPECT_EQ(b->c.walker.pwc[1].entries, 4U);   // PDPT
    EXPECT_EQ(b->c.walker.pwc[2].entries, 32U);  // PD
    EXPECT_EQ(b->c.walker.pwc[3].entries, 0U);
  }
}

// -------------------------------------------------------------- round trip --

// Every key's value of `b`.
std::map<std::string, std::string> values_of(const Bound& b) {
  std::map<std::string, std::string> m;
  for (const auto& k : b.s.keys()) m[k.name] = k.get();
  return m;
}

void expect_round_trip(const Bound& b) {
  TempDir d;
  const std::string ini = b.s.to_ini();
  write_file(d.file("config.ini"), ini);
  auto r = load({d.file("config.ini")});
  EXPECT_EQ(values_of(*r), values_of(b));
  EXPECT_EQ(r->s.to_ini(), ini);
  // Every key is in the file exactly once.
  Bound probe;
  ConfigValues v;
  read_ini(d.file("config.ini"), probe.s, v);
  EXPECT_EQ(v.size(), b.s.keys().size());
}

TEST(ConfigRoundTrip, Defaults) {
  auto b = load({});
  expect_round_trip(*b);
}

TEST(ConfigRoundTrip, EveryPresetWithOverrides) {
  for (const char* p : {"skylake", "zen3", "tiny"}) {
    SCOPED_TRACE(p);
    auto b = load({std::string(MMUSIM_SOURCE_DIR) + "/configs/" + p + ".ini"},
                  cl({{"os.huge_regions", "0x40000000-0x80000000:2M,0x80000000-0xc0000000:1G"},
                      {"os.model", "first_touch"},
                      {"tlb.l2.replacement", "random"},
                      {"tlb.l1d.4K.replacement", "fifo"},
                      {"dram.preset", "DDR5-4800"},
                      {"dram.tRCD", "41"},
                      {"dram.row_policy", "closed"},
                      {"dram.mapping", "ro:ba:bg:ra:co:ch"},
                      {"sim.user", "false"},
                      {"sim.seed", "0xdeadbeef"},
                      {"os.reserved_low", "1M"},
                      {"walker.overhead", "5"}}));
    EXPECT_EQ(b->get("os.huge_regions"), "0x40000000-0x80000000:2M,0x80000000-0xc0000000:1G");
    EXPECT_EQ(b->get("sim.seed"), "3735928559");
    EXPECT_EQ(b->get("os.reserved_low"), "1M");
    EXPECT_EQ(b->get("dram.tRCD"), "41");
    EXPECT_EQ(b->get("dram.preset"), "DDR5-4800");
    expect_round_trip(*b);
  }
}

TEST(ConfigRoundTrip, ToIniHasOneSectionPerPrefix) {
  Bound b;
  const std::string ini = b.s.to_ini();
  EXPECT_NE(ini.find("\n[tlb.l1d.4K]\nentries = 64\nways = 4\nlatency = 1\nreplacement = lru\n"),
            std::string::npos)
      << ini;
  EXPECT_NE(ini.find("\n[walker.pwc.pd]\nentries = 32\nways = 4\nlatency = 1\n"),
            std::string::npos);
  EXPECT_NE(ini.find("\n[os]\n"), std::string::npos);
}

// ------------------------------------------------ Skylake preset = defaults --

TEST(ConfigPresets, SkylakeFileEqualsBuiltInDefaults) {
  // The keys configs/skylake.ini sets to something else than the built-in
  // default, on purpose:
  //  - walker.maxphyaddr: the built-in default is 46 bits (a generic server
  //    MAXPHYADDR that lets os.phys_mem grow to 64 TiB); Skylake *client*
  //    parts report CPUID.80000008H:EAX[7:0] = 39, which the preset uses.
  //    It only affects reserved-bit checks (bits 39..51 of entries) and the
  //    largest os.phys_mem (512 GiB), not the timing of a normal run.
  //  - cache.enabled: the built-in default is false (every reference goes to
  //    DRAM, the model of TLB-only studies and of the analytic tests); the
  //    preset turns the cache hierarchy on, with the default geometry.
  //  - cache.l1d.prefetch, cache.l2.prefetch: no prefetcher by default (the
  //    caches without the keys behave as before they existed); the preset
  //    turns on the L1D next-line and L2 stream prefetchers the parts ship
  //    with (their stream sizes are the defaults).
  const std::map<std::string, std::string> deliberate = {{"walker.maxphyaddr", "39"},
                                                         {"cache.enabled", "true"},
                                                         {"cache.l1d.prefetch", "next_line"},
                                                         {"cache.l2.prefetch", "stream"}};
  Bound defaults;
  finalize(defaults.c);
  auto sky = load({std::string(MMUSIM_SOURCE_DIR) + "/configs/skylake.ini"});
  // The file only sets keys that exist (load() would have thrown) and every
  // key outside `deliberate` equals the default.
  std::set<std::string> differing;
  for (const auto& k : defaults.s.keys()) {
    const std::string want = k.get(), got = sky->get(k.name);
    if (want != got) differing.insert(k.name);
    auto it = deliberate.find(k.name);
    if (it != deliberate.end()) {
      EXPECT_EQ(got, it->second) << k.name;
    } else {
      EXPECT_EQ(got, want) << k.name << ": configs/skylake.ini differs from the built-in default";
    }
  }
  EXPECT_EQ(differing, (std::set<std::string>{"walker.maxphyaddr", "cache.enabled",
                                              "cache.l1d.prefetch", "cache.l2.prefetch"}));
  // And the preset file sets a good part of the model explicitly.
  Bound probe;
  ConfigValues v;
  read_ini(std::string(MMUSIM_SOURCE_DIR) + "/configs/skylake.ini", probe.s, v);
  EXPECT_GE(v.size(), 40U);
}

TEST(ConfigPresets, EveryPresetLoadsAndFinalizes) {
  for (const char* p : {"skylake", "zen3", "tiny"}) {
    EXPECT_EQ(error_of([&] { load({std::string(MMUSIM_SOURCE_DIR) + "/configs/" + p + ".ini"}); }),
              "<no error>")
        << p;
  }
  auto z = load({std::string(MMUSIM_SOURCE_DIR) + "/configs/zen3.ini"});
  EXPECT_EQ(z->c.tlb.l1d[0].ways, 64U);  // fully associative
  EXPECT_EQ(z->c.tlb.l2.entries, 2048U);
  EXPECT_EQ(z->c.walker.max_walks, 6U);
  EXPECT_EQ(z->c.dram.channels, 2U);
  EXPECT_EQ(z->c.os.phys_bytes, 16ULL << 30);
  auto t = load({std::string(MMUSIM_SOURCE_DIR) + "/configs/tiny.ini"});
  EXPECT_EQ(t->c.tlb.l1d[0].entries, 8U);
  EXPECT_EQ(t->c.os.phys_bytes, 1ULL << 30);
}

TEST(ConfigSchemaKeys, EveryKeyHasADescriptionAndAUniqueName) {
  Bound b;
  std::set<std::string> names;
  for (const auto& k : b.s.keys()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_FALSE(k.description.empty()) << k.name;
    EXPECT_NE(k.name.find('.'), std::string::npos) << k.name;
    // Setting a key to its own printed value is accepted (get/set agree).
    EXPECT_NO_THROW(k.set(k.get())) << k.name;
  }
  EXPECT_GE(b.s.keys().size(), 90U);
}

// ------------------------------------------------------ cross-key origins --

// load_config() as main() runs it: a rule across keys names each key with
// its value and where it was set.
TEST(ConfigOrigins, CrossKeyErrorsNameEveryKeyAndWhereItWasSet) {
  TempDir d;
  const std::string f = d.file("m.ini");
  write_file(f, "# memory\n[os]\nphys_mem = 16G\n");
  Bound b;
  // DDR4-3200: 1 x 1 x 4 x 4 x 65536 x 128 x 64 B = 8 GiB < 16G.
  EXPECT_EQ(error_of([&] { load_config(b.s, b.c, {f}, {}); }),
            "os.phys_mem: 16G exceeds the DRAM capacity of 8G (channels x ranks x bank groups x "
            "banks x rows x columns x line bytes) [os.phys_mem = 16G (" +
                f +
                ":3), dram.preset = DDR4-3200 (default), dram.channels = 1 (default), "
                "dram.ranks = 1 (default), dram.bank_groups = 4 (default), "
                "dram.banks_per_group = 4 (default), dram.rows = 65536 (default), "
                "dram.columns = 128 (default), dram.line_bytes = 64 (default)]");
  Bound b2;
  EXPECT_EQ(error_of([&] {
              load_config(b2.s, b2.c, {}, cl({{"seg.cpl", "0"}}));
            }),
            "seg.cpl: 0 contradicts sim.user = true (CPL 3); set both, or leave seg.cpl unset "
            "to follow sim.user [seg.cpl = 0 (command line), sim.user = true (default)]");
  write_file(d.file("r.ini"), "[os]\nphys_mem = 1G\n");
  Bound b3;
  EXPECT_EQ(error_of([&] {
              load_config(b3.s, b3.c, {d.file("r.ini")}, cl({{"os.reserved_low", "1G"}}));
            }),
            "os.reserved_low: must be below os.phys_mem [os.reserved_low = 1G (command line), "
            "os.phys_mem = 1G (" +
                d.file("r.ini") + ":2)]");
  Bound b4;
  EXPECT_EQ(error_of([&] {
              load_config(b4.s, b4.c, {}, cl({{"tlb.l2.sizes", "4K+2M+1G"}}));
            }),
            "tlb.l2.sizes: page size 1G is also held by tlb.l2_1g [tlb.l2.sizes = 4K+2M+1G "
            "(command line), tlb.l2_1g.entries = 16 (default)]");
  // A one-key rule still names where its key was set, and a good config loads.
  Bound b5;
  EXPECT_EQ(error_of([&] {
              load_config(b5.s, b5.c, {}, cl({{"tlb.l1d.4K.ways", "0"}}));
            }),
            "command line: tlb.l1d.4K.ways: must be at least 1");
  Bound b6;
  const ConfigValues v = load_config(b6.s, b6.c, {f}, cl({{"dram.channels", "2"}}));
  EXPECT_EQ(v.at("os.phys_mem").origin, f + ":3");
  EXPECT_EQ(b6.c.os.phys_bytes, 16ULL << 30);
}

}  // namespace
}  // namespace mmusim
