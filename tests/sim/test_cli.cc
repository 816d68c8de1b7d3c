// The mmusim command line, run as a subprocess: --help, error messages and
// exit codes, the result files, the resolved config.ini re-run, all-or-nothing
// output on errors, and --explain.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/cpu/explain.h"
#include "models/sim/schema.h"
#include "models/sim/sim_config.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::ProcessResult;
using systest::read_file;
using systest::TempDir;
using systest::write_file;
namespace fs = std::filesystem;

ProcessResult mmusim(const std::vector<std::string>& args) {
  return systest::run_process(MMUSIM_EXE, args);
}

std::string collapse_ws(const std::string& s) {
  std::string o;
  bool ws = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t') {
      ws = true;
    } else {
      if (ws && !o.empty()) o += ' ';
      ws = false;
      o += c;
    }
  }
  return o;
}

bool dir_is_empty_or_absent(const std::string& d) {
  if (!fs::exists(d)) return true;
  return fs::is_directory(d) && fs::directory_iterator(d) == fs::directory_iterator();
}

const std::string kSmallSeq = "gen:seq,count=20000,footprint=1M";

// ------------------------------------------------------------------- help --

TEST(Cli, HelpListsEveryKeyWithUnitAndDefault) {
  ProcessResult r = mmusim({"--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string help = collapse_ws(r.out);
  for (const char* opt : {"--config", "--trace", "--out", "--explain", "--trace-format"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
  SimConfig c;
  ConfigSchema s;
  build_schema(s, c);
  ASSERT_GE(s.keys().size(), 90U);
  for (const auto& k : s.keys()) {
    // "--KEY V (=DEFAULT) DESCRIPTION [UNIT]"; Boost omits "(=)" for an empty default.
    std::string entry = "--" + k.name + " V " + (k.get().empty() ? "" : "(=" + k.get() + ") ");
    entry += collapse_ws(k.description);
    if (!k.unit.empty()) entry += " [" + k.unit + "]";
    EXPECT_NE(help.find(entry), std::string::npos) << "missing or different in --help: " << entry;
  }
}

// ----------------------------------------------------------------- errors --

TEST(Cli, UnknownOption) {
  ProcessResult r = mmusim({"--bogus", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: unrecognised option '--bogus' (see mmusim --help)\n");
  EXPECT_EQ(r.out, "");
  // A misspelt model key that is not a prefix of a real one.
  r = mmusim({"--tlb.l1d.4K.entriez=8", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: unrecognised option '--tlb.l1d.4K.entriez=8' (see mmusim "
            "--help)\n");
}

// Boost fills the %name% placeholders of its messages until none is left:
// an unknown option whose name held one used to make mmusim loop forever
// (found by fuzz_config). Such a word is refused before Boost sees it; a
// '%' elsewhere (a file name) is fine.
TEST(Cli, PlaceholderInAWordIsRefusedNotALoop) {
  ProcessResult r = mmusim({"--x%canonical_option%", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: '--x%canonical_option%': the sequence "
            "'%canonical_option%' is not accepted in an option or value (it is a placeholder of "
            "the option parser's messages)\n");
  r = mmusim({"--trace", kSmallSeq, "--sim.cpus=%value%"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the sequence '%value%'"), std::string::npos) << r.err;
  r = mmusim({"--trace", "50%_B%.txt"});  // no %name% (upper case): a missing file
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("50%_B%.txt"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("placeholder"), std::string::npos) << r.err;
}

TEST(Cli, AbbreviatedKeyIsAnError) {
  // Boost's allow_guessing is off: a prefix or a typo of a key is unknown,
  // as the same key would be in an INI file.
  for (const char* opt : {"--sim.q=0", "--tlb.l1d.4K.entrie=8"}) {
    ProcessResult r = mmusim({opt, "--trace", kSmallSeq});
    EXPECT_EQ(r.exit_code, 2) << opt;
    EXPECT_EQ(r.err.rfind("mmusim: error: command line: unrecognised option", 0), 0U) << r.err;
  }
}

TEST(Cli, BadValuesAndMissingTrace) {
  ProcessResult r = mmusim({"--sim.cpus=0", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: sim.cpus: expected an integer in [1, 256], got '0'\n");
  r = mmusim({"--tlb.l1d.4K.entries=48", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: tlb.l1d.4K.entries: sets (entries/ways = 48/4 = 12) "
            "must be a power of "
            "two\n");
  r = mmusim({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: command line: --trace FILE is required\n");
  r = mmusim({"--trace", "gen:nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: generator spec 'nonsense': unknown pattern 'nonsense' (expected seq, "
            "stride, uniform, zipf, gups or chase)\n");
}

TEST(Cli, AWordThatIsNotAnOptionIsAnError) {
  TempDir d;
  const std::string a = d.file("a.ini"), b = d.file("b.ini");
  write_file(a, "[sim]\nseed = 1\n");
  write_file(b, "[sim]\nseed = 2\n");
  // "--config a.ini b.ini": b.ini is not read, so the run must not start.
  ProcessResult r = mmusim({"--config", a, b, "--trace", kSmallSeq, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: command line: unexpected word '" + b +
                       "': every option starts with -- (give each config file its own --config; "
                       "see mmusim --help)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(dir_is_empty_or_absent(d.file("out")));
  r = mmusim({"--trace", kSmallSeq, "extra"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("mmusim: error: command line: unexpected word 'extra': ", 0), 0U) << r.err;
  // An option whose value is missing does not swallow the next option.
  r = mmusim({"--sim.cpus", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: --sim.cpus expects a value, but the next word is "
            "'--trace' (write --sim.cpus=VALUE)\n");
}

TEST(Cli, ConfigPathsThatAreNotFiles) {
  TempDir d;
  ProcessResult r = mmusim({"--config", d.path(), "--trace", kSmallSeq, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: " + d.path() + ": is a directory, expected an INI config file\n");
  // A byte-order mark at the start of the file is skipped.
  const std::string bom = d.file("bom.ini");
  write_file(bom, "\xEF\xBB\xBF[sim]\nmax_accesses = 10\n");
  r = mmusim({"--config", bom, "--trace", kSmallSeq, "--out", d.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(d.file("out") + "/config.ini").find("\nmax_accesses = 10\n"),
            std::string::npos);
}

TEST(Cli, EmptyValuesNameTheOptionAndWhatItTakes) {
  TempDir d;
  // A model key: its own parser says what it expects.
  ProcessResult r = mmusim({"--sim.cpus=", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: command line: sim.cpus: expected an unsigned integer, got ''\n");
  r = mmusim({"--sim.user=", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: sim.user: expected true or false (also 1/0, yes/no, "
            "on/off; lower case), got ''\n");
  // A program option: its description says what it takes.
  r = mmusim({"--out=", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: --out= has an empty value; --out expects: directory "
            "for stats.json, summary.csv and config.ini (see mmusim --help)\n");
  // A key for which empty means something (no huge regions) takes it.
  r = mmusim({"--os.huge_regions=", "--trace", kSmallSeq, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, CrossKeyErrorsSayWhereEachKeyWasSet) {
  TempDir d;
  const std::string ini = d.file("c.ini");
  write_file(ini, "[os]\nphys_mem = 1G\n");
  ProcessResult r =
      mmusim({"--config", ini, "--os.reserved_low=2G", "--seg.cpl=3", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: os.reserved_low: must be below os.phys_mem [os.reserved_low = "
            "2G (command line), os.phys_mem = 1G (" +
                ini + ":2)]\n");
  r = mmusim({"--seg.cpl=0", "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: seg.cpl: 0 contradicts sim.user = true (CPL 3); set both, or leave "
            "seg.cpl unset to follow sim.user [seg.cpl = 0 (command line), sim.user = true "
            "(default)]\n");
}

TEST(Cli, ExplainCountIsBounded) {
  TempDir d;
  for (const char* n : {"-1", "1000001", "18446744073709551615", "1e3", ""}) {
    ProcessResult r = mmusim({"--explain", n, "--trace", kSmallSeq, "--out", d.file("out")});
    EXPECT_EQ(r.exit_code, 2) << n;
    EXPECT_EQ(r.err, std::string("mmusim: error: command line: --explain: expected a number of "
                                 "steps from 0 to 1000000, got '") +
                         n + "'\n");
    EXPECT_EQ(r.out, "");
  }
  // The largest value is accepted (the run has fewer steps).
  ProcessResult r = mmusim(
      {"--explain=1000000", "--trace", "gen:seq,count=10,footprint=1M", "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// The explain text is written as the run produces it: the steps before a
// bad record are on stdout even though the run then stops with an error.
TEST(Cli, ExplainIsStreamedBeforeAnErrorLaterInTheTrace) {
  TempDir d;
  const std::string t = d.file("t.txt");
  std::ostringstream text;  // R 0x10000 8, R 0x10040 8, ...
  for (int i = 0; i < 100000; ++i) text << "R 0x" << std::hex << 0x10000 + i * 64 << " 8\n";
  write_file(t, text.str() + "Q bad\n");
  ProcessResult r =
      mmusim({"--trace", t, "--explain", "2", "--out", d.file("out"), "--os.model=first_touch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: " + t + ":line 100001: expected R, W or X at column 1, got 'Q'\n");
  // Block 1: the first access faults at the PML4; block 2: its replay
  // (replays count toward N), which completes.
  EXPECT_EQ(r.out.rfind("#1 cpu0 R 0x10000 issue@0\n", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("resume@1135: replay\n#1 cpu0 R 0x10000 issue@1135\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '#'), 2) << r.out;
}

// ExplainLog: blocks are written in open order, each once it and every
// older block are closed.
TEST(ExplainLogTest, WritesClosedBlocksInOrder) {
  std::ostringstream os;
  ExplainLog log(&os);
  const size_t a = log.open(), b = log.open(), c = log.open();
  log.fill(a, "a1\n");
  log.fill(b, "b\n");
  log.close(b);  // a is still open: nothing written
  EXPECT_EQ(os.str(), "");
  log.fill(c, "c\n");
  log.close(c);
  log.append_to(a, "a2\n");
  log.close(a);  // a, then the closed b and c
  EXPECT_EQ(os.str(), "a1\na2\nb\nc\n");
  const size_t e = log.open();
  EXPECT_EQ(e, 3U);
  log.fill(e, "e\n");
  log.finish();  // open blocks too, at the end of a run
  EXPECT_EQ(os.str(), "a1\na2\nb\nc\ne\n");
  EXPECT_TRUE(log.blocks().empty());
  EXPECT_THROW(log.append_to(a, "late"), std::logic_error);
  // Without a stream every block is kept.
  ExplainLog kept;
  const size_t k = kept.open();
  kept.fill(k, "k\n");
  kept.close(k);
  EXPECT_EQ(kept.blocks(), std::vector<std::string>{"k\n"});
}

// Descriptor tables from the config alone (seg.gdt): document 000's program at
// base 1000 whose `call 40` runs at 1040, without descriptor records.
TEST(Cli, GdtFromTheConfig) {
  TempDir d;
  const std::string ini = d.file("reloc.ini"), t = d.file("reloc.trace");
  write_file(ini,
             "[sim]\nuser = false\n[walker]\nmode = off\n[seg]\nmode = protected\n"
             "gdt = 0x0, 0x00409b0003e80063, 0x0040930003e80063\ncs = 0x08\nds = 0x10\n"
             "ss = 0x10\n");
  write_file(t, "X CS:0x28 4\nR DS:0x64 4\n");
  ProcessResult r = mmusim({"--config", ini, "--trace", t, "--explain", "2", "--out", d.file("o")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("checks ok -> linear 0x410 = base 0x3e8 + offset 0x28 [decimal 1040 = "
                       "1000 + 40]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("fault: #GP(0x0) limit"), std::string::npos) << r.out;
  // Too many descriptors for the limit, a malformed one, and a mode that reads none.
  r = mmusim({"--config", ini, "--seg.gdt=0x0,0x1,0x2,0x3,0x4,0x5", "--trace", t});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: seg.gdt: 6 descriptors do not fit seg.gdt_limit = 39 (5 "
            "entries)\n");
  r = mmusim({"--config", ini, "--seg.gdt=0x0,12", "--trace", t});
  EXPECT_EQ(r.err,
            "mmusim: error: command line: seg.gdt: expected 8-byte descriptors in hex (0x...) "
            "separated by commas, got '12'\n");
  r = mmusim({"--config", ini, "--seg.mode=flat", "--trace", t});
  EXPECT_EQ(r.err, "mmusim: error: " + ini +
                       ":7: seg.gdt: descriptors are read only in protected and long mode "
                       "(seg.mode = flat)\n");
}

// IA-32e compatibility mode: protected-mode segmentation (a data segment at
// base 0x10000000) in front of 4-level paging.
TEST(Cli, CompatibilityModeSegmentsThenWalksFourLevels) {
  TempDir d;
  const std::string t = d.file("compat.trace");
  write_file(t, "R DS:0x40 4\n");
  ProcessResult r = mmusim({"--seg.mode=protected", "--sim.user=false",
                            "--seg.gdt=0x0,0x00cf9a000000ffff,0x10cf92000000ffff", "--trace", t,
                            "--explain", "2", "--out", d.file("o")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("checks ok -> linear 0x10000040 = base 0x10000000 + offset 0x40"),
            std::string::npos)
      << r.out;
  for (const char* lvl : {"read PML4[0]", "read PDPT[0]", "read PD[128]", "read PT[0]"}) {
    EXPECT_NE(r.out.find(lvl), std::string::npos) << lvl << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("4level paging"), std::string::npos);
}

// The module hierarchy: the names stats.json uses as prefixes.
TEST(Cli, ListModulesPrintsTheHierarchyWithoutATrace) {
  ProcessResult r = mmusim({"--list-modules", "--sim.cpus=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "top  (System)\n"
            "  top.dram  (DramModule)\n"
            "  top.kernel  (KernelModule)\n"
            "  top.cpu0  (CpuModule)\n"
            "    top.cpu0.agu  (AguModule)\n"
            "    top.cpu0.seg  (SegModule)\n"
            "    top.cpu0.tlb  (TlbModule)\n"
            "    top.cpu0.walker  (WalkerModule)\n"
            "  top.cpu1  (CpuModule)\n"
            "    top.cpu1.agu  (AguModule)\n"
            "    top.cpu1.seg  (SegModule)\n"
            "    top.cpu1.tlb  (TlbModule)\n"
            "    top.cpu1.walker  (WalkerModule)\n");
  EXPECT_EQ(r.err, "");
  ProcessResult bad = mmusim({"--list-modules", "--sim.cpus=0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("sim.cpus"), std::string::npos) << bad.err;
}

// An access to a page whose walk is still pending is explained as a merge.
TEST(Cli, ExplainShowsMergedMisses) {
  TempDir d;
  ProcessResult r = mmusim({"--trace", "gen:seq,count=100,stride=8", "--explain", "4", "--out",
                            d.file("o"), "--os.model=first_touch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("#2 cpu0 R 0x10000008 issue@1135\n  tlb:  merged into the pending miss to "
                       "this page (MSHR), its walk done@1923\n"),
            std::string::npos)
      << r.out;
}

TEST(Cli, UnknownKeyInIniNamesFileAndLine) {
  TempDir d;
  const std::string ini = d.file("bad.ini");
  write_file(ini, "# my config\n[tlb.l2]\nentries = 1024\nways = 8\n[walker]\nmax_walk = 4\n");
  ProcessResult r = mmusim({"--config", ini, "--trace", kSmallSeq, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + ini +
                       ":6: unknown key 'walker.max_walk' (see mmusim --help for every key)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(d.file("out")));
  // A bad value names file, line and key.
  write_file(ini, "[tlb.l2]\nentries = 1024\nreplacement = mru\n");
  r = mmusim({"--config", ini, "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + ini +
                       ":3: tlb.l2.replacement: expected lru, plru, fifo or random, got 'mru'\n");
  // A rule checked across keys (finalize) still says where the key was set.
  write_file(ini, "[walker]\nmax_walks = 2\nmode = 6level\n");
  r = mmusim({"--config", ini, "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + ini +
                       ":3: walker.mode: unknown paging mode '6level' (expected 4level, 5level, "
                       "pae, 32bit or off)\n");
  // A config file that does not exist.
  r = mmusim({"--config", d.file("none.ini"), "--trace", kSmallSeq});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + d.file("none.ini") +
                       ": cannot open config file (No such file or directory)\n");
}

TEST(Cli, MissingTraceFileNamesIt) {
  TempDir d;
  ProcessResult r = mmusim({"--trace", d.file("no-such.trace"), "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + d.file("no-such.trace") +
                       ": cannot open: No such file or directory\n");
  EXPECT_FALSE(fs::exists(d.file("out")));
}

TEST(Cli, MalformedTextTraceNamesFileAndLine) {
  TempDir d;
  const std::string t = d.file("t.trace");
  write_file(t, "# a tiny trace\nR 0x1000 8\nW 0x2000\n\nQ 0x3000\nR 0x4000\n");
  ProcessResult r = mmusim({"--trace", t, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + t + ":line 5: expected R, W or X at column 1, got 'Q'\n");
  EXPECT_FALSE(fs::exists(d.file("out")));
  write_file(t, "R 0x1000 8\nR 0x1000 8 1\n");  // cpu 1 on a 1-CPU machine
  r = mmusim({"--trace", t, "--out", d.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + t +
                       ":line 2: record for cpu 1, but sim.cpus = 1 (expected cpu 0..0)\n");
  EXPECT_FALSE(fs::exists(d.file("out")));
}

TEST(Cli, NoResultsLeftBehindOnErrors) {
  TempDir d;
  const std::string out = d.file("out");
  fs::create_directory(out);
  // An error deep into the trace (after 5000 good records, so the simulation
  // has run): nothing is written, not even temporary files.
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "R 0x" + std::to_string(100000 + i * 64) + " 8\n";
  text += "R 0xZZ 8\n";
  write_file(d.file("late.trace"), text);
  ProcessResult r = mmusim({"--trace", d.file("late.trace"), "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: " + d.file("late.trace") +
                       ":line 5001: expected a hexadecimal address at column 3, got '0xZZ'\n");
  EXPECT_TRUE(dir_is_empty_or_absent(out));
  // Bad configuration: same.
  r = mmusim({"--trace", kSmallSeq, "--out", out, "--dram.row_policy=half"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(dir_is_empty_or_absent(out));
  // Physical memory exhausted mid-run is a model stop of the first-touch model
  // (exit 1; the Linux model's OOM killer ends the process instead): no results either.
  r = mmusim({"--trace", "gen:seq,count=100000,footprint=64M,stride=4096", "--out", out,
              "--os.phys_mem=4M", "--os.reserved_low=1M", "--os.model=first_touch"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("mmusim: error: physical memory exhausted"), std::string::npos) << r.err;
  EXPECT_TRUE(dir_is_empty_or_absent(out));
  // An output path that cannot be a directory: exit 2, named, before the run.
  write_file(d.file("file"), "x");
  r = mmusim({"--trace", kSmallSeq, "--out", d.file("file")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --out " + d.file("file") + ": exists and is not a directory\n");
}

// ---------------------------------------------------------------- fault log --

// One CSV line per fault: a sequential scan of 1 MiB faults once per 4 KiB
// page (256), each a first-touch fault of os.minor_fault_cost cycles whose
// breakdown is all allocation; a failed run leaves no log behind.
TEST(Cli, FaultLogHasOneLinePerFault) {
  TempDir d;
  const std::string log = d.file("faults.csv");
  ProcessResult r = mmusim({"--trace", kSmallSeq, "--out", d.file("out"), "--fault-log", log,
                            "--os.model=first_touch", "--os.minor_fault_cost=700"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fault log              " + log + " (256 faults)"), std::string::npos);
  const std::string text = read_file(log);
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 257U);
  EXPECT_EQ(lines[0],
            "pid,tid,cpu,addr,access,class,start,end,latency,trap,vma_lookup,alloc,reclaim,"
            "zero_copy,io_queue,device,dma,interrupt,wake,pte_install,shootdown,return");
  const std::regex line(
      "1,1,0,0x([0-9a-f]+),R,first_touch,([0-9]+),([0-9]+),700,0,0,700,0,0,0,0,0,0,0,0,0,0");
  uint64_t prev_end = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, line)) << lines[i];
    EXPECT_EQ(std::stoull(m[3]) - std::stoull(m[2]), 700U);
    EXPECT_GE(std::stoull(m[2]), prev_end);  // in the order they end, one at a time
    prev_end = std::stoull(m[3]);
  }
  // A trace error late in the run: neither the log nor its temporary file.
  std::string bad;
  for (int i = 0; i < 3000; ++i) bad += "R 0x" + std::to_string(100000 + i * 4096) + " 8\n";
  bad += "R 0xZZ 8\n";
  write_file(d.file("late.trace"), bad);
  const std::string log2 = d.file("faults2.csv");
  r = mmusim({"--trace", d.file("late.trace"), "--out", d.file("out2"), "--fault-log", log2});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(log2));
  EXPECT_FALSE(fs::exists(log2 + ".tmp"));
  // The log's directory is made when missing; one that cannot be: named,
  // exit 2, before the run.
  r = mmusim({"--trace", kSmallSeq, "--out", d.file("out3"), "--fault-log", d.file("nodir/f.csv")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(d.file("nodir/f.csv")));
  r = mmusim(
      {"--trace", kSmallSeq, "--out", d.file("out4"), "--fault-log", d.file("nodir/f.csv/g.csv")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --fault-log " + d.file("nodir/f.csv/g.csv") +
                       ": exists and is not a directory\n");
}

// ------------------------------------------------------------ kernel model --

uint64_t stat_value(const std::string& json, const std::string& name) {
  const std::regex re("\"name\": \"" + name + "\"[^}]*\"value\": ([0-9]+)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) {
    ADD_FAILURE() << "no statistic " << name;
    return 0;
  }
  return std::stoull(m[1]);
}

// os.model's default is linux: a plain trace (no OS events) runs as one
// process of anonymous private memory. A read of a new page maps the shared
// zero page (anon_zero), a write to it then takes a zeroed frame (cow_copy of
// the zero page: zero-fill, no copy), a write to a new page a zeroed frame
// (anon_write). The kernel's DRAM traffic: 64 line writes per zeroed frame,
// the 3 new page tables (PDPT, PD, PT: the PML4 exists) and the 2 data pages,
// plus one write per PTE line. os.model=first_touch maps each page once, at
// no memory traffic.
TEST(Cli, PlainTraceRunsUnderTheLinuxModelByDefault) {
  TempDir d;
  write_file(d.file("t.txt"), "R 0x10000 8\nW 0x10000 8\nW 0x11000 8\n");
  ProcessResult r = mmusim({"--trace", d.file("t.txt"), "--out", d.file("linux")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(d.file("linux/config.ini")).find("\nhuge_regions = \nmodel = linux\n"),
            std::string::npos);
  std::string json = read_file(d.file("linux/stats.json"));
  EXPECT_EQ(stat_value(json, "top.cpu0.faults"), 3U);
  EXPECT_EQ(stat_value(json, "vmstat.pgfault"), 3U);
  EXPECT_EQ(stat_value(json, "top.kernel.fault_class.anon_zero.count"), 1U);
  EXPECT_EQ(stat_value(json, "top.kernel.fault_class.cow_copy.count"), 1U);
  EXPECT_EQ(stat_value(json, "top.kernel.fault_class.anon_write.count"), 1U);
  EXPECT_EQ(stat_value(json, "top.kernel.linux.tables_allocated"), 3U);
  EXPECT_EQ(stat_value(json, "vmstat.pgalloc_normal"), 3U + 2U);
  EXPECT_EQ(stat_value(json, "top.dram.initiator.kernel.requests"),
            64 * (3 + 2) + stat_value(json, "top.kernel.linux.pte_lines"));
  r = mmusim({"--trace", d.file("t.txt"), "--out", d.file("ft"), "--os.model=first_touch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json = read_file(d.file("ft/stats.json"));
  EXPECT_EQ(stat_value(json, "top.cpu0.faults"), 2U);
  EXPECT_EQ(stat_value(json, "top.kernel.fault_class.first_touch.count"), 2U);
  EXPECT_EQ(stat_value(json, "top.dram.initiator.kernel.requests"), 0U);
  EXPECT_EQ(json.find("vmstat.pgfault"), std::string::npos);
}

// The faults read() takes copying into an untouched buffer are a fault class
// of their own (uaccess) in stats.json and the fault log, with their
// breakdown; the CPU raised none. os_file_io.txt's first read() copies 32
// pages (128 KiB) into a fresh anonymous buffer: 32 anonymous write faults.
TEST(Cli, ReadIntoAnUntouchedBufferReportsUaccessFaults) {
  TempDir d;
  const std::string log = d.file("faults.csv");
  const ProcessResult r =
      mmusim({"--trace", std::string(MMUSIM_ROOT) + "/traces/examples/os_file_io.txt", "--out",
              d.file("out"), "--fault-log", log});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(32 faults)"), std::string::npos) << r.out;
  const std::string json = read_file(d.file("out/stats.json"));
  EXPECT_EQ(stat_value(json, "top.kernel.fault_class.uaccess.count"), 32U);
  EXPECT_EQ(stat_value(json, "top.kernel.linux.inline_faults"), 32U);
  EXPECT_EQ(stat_value(json, "top.kernel.linux.faults.anon_write"), 32U);
  EXPECT_EQ(stat_value(json, "vmstat.pgfault"), 32U);
  EXPECT_EQ(stat_value(json, "top.cpu0.faults"), 0U);
  EXPECT_EQ(json.find("top.kernel.linux.faults.uaccess"), std::string::npos);
  const std::string text = read_file(log);
  const std::regex line(
      "300,300,0,0x7f00000([0-9a-f]{2})000,W,uaccess,([0-9]+),([0-9]+),([0-9]+),300,120,([0-9]+),0,"
      "([0-9]+),0,0,0,0,0,([0-9]+),0,200");
  size_t n = 0;
  uint64_t prev_end = 0;
  const std::regex nonempty("[^\n]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), nonempty);
       it != std::sregex_iterator(); ++it) {
    const std::string l = it->str();
    if (l.rfind("pid,", 0) == 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    EXPECT_EQ(std::stoul(m[1], nullptr, 16), n);  // page n of the buffer
    const uint64_t start = std::stoull(m[2]), end = std::stoull(m[3]);
    EXPECT_EQ(end - start, std::stoull(m[4]));
    EXPECT_EQ(std::stoull(m[4]),
              300 + 120 + std::stoull(m[5]) + std::stoull(m[6]) + std::stoull(m[7]) + 200);
    EXPECT_GE(start, prev_end);
    prev_end = end;
    ++n;
  }
  EXPECT_EQ(n, 32U);
}

// os.huge_regions needs os.model=first_touch: the Linux model maps 4K pages
// only. An error before the run, naming the key, under the default, an
// explicit linux, and auto with a trace that has OS events.
TEST(Cli, HugeRegionsNeedTheFirstTouchModel) {
  TempDir d;
  const std::string root = MMUSIM_ROOT;
  const std::string regions = "--os.huge_regions=0x10000000-0x10800000:2M";
  const std::string says =
      "mmusim: error: os.huge_regions: large-page regions are mapped by "
      "os.model=first_touch only";
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"--trace", kSmallSeq},
           {"--trace", kSmallSeq, "--os.model=linux"},
           {"--trace", root + "/traces/examples/os_file_io.txt", "--os.model=auto"}}) {
    std::vector<std::string> args = {"--out", d.file("out"), regions};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = mmusim(args);
    EXPECT_EQ(r.exit_code, 2) << extra.back();
    EXPECT_EQ(r.err.rfind(says, 0), 0U) << r.err;
    EXPECT_FALSE(fs::exists(d.file("out")));
  }
  const ProcessResult r =
      mmusim({"--out", d.file("out"), regions, "--trace", kSmallSeq, "--os.model=first_touch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(stat_value(read_file(d.file("out/stats.json")), "top.kernel.mapped.2M"), 1U);
}

// The committed capture of traces/programs/fork_cow_file against the native
// fault counts recorded with it (traces/fork_cow_file.counts): the model's
// vmstat.pgfault (every fault, major ones included: its page cache starts
// cold) is within 10 % of the kernel's minflt + majflt from the program's
// execve on (count_faults; its cache was warm).
// The per-process counters add up to the vmstat ones.
TEST(Cli, SampleProgramFaultsAgreeWithTheRecordedNativeCounts) {
  TempDir d;
  const std::string root = MMUSIM_ROOT;
  ProcessResult r =
      mmusim({"--trace", root + "/traces/fork_cow_file.bin.zst", "--out", d.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string counts = read_file(root + "/traces/fork_cow_file.counts");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(counts, m, std::regex("\nminflt=([0-9]+)\nmajflt=([0-9]+)")));
  const uint64_t native = std::stoull(m[1]) + std::stoull(m[2]);
  const std::string json = read_file(d.file("out/stats.json"));
  const uint64_t model = stat_value(json, "vmstat.pgfault");
  const uint64_t diff = model > native ? model - native : native - model;
  EXPECT_LE(diff * 100, native * 10) << "model " << model << ", native " << native;
  // Two processes (parent and the forked child), both ran to their exit.
  const std::regex proc("\"name\": \"top\\.kernel\\.process\\.([0-9]+)\\.minflt\"");
  uint64_t minflt = 0, majflt = 0, n = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), proc); it != std::sregex_iterator();
       ++it, ++n) {
    const std::string pid = (*it)[1];
    minflt += stat_value(json, "top\\.kernel\\.process\\." + pid + "\\.minflt");
    majflt += stat_value(json, "top\\.kernel\\.process\\." + pid + "\\.majflt");
  }
  EXPECT_EQ(n, 2U);
  EXPECT_EQ(minflt + majflt, model);
  EXPECT_EQ(majflt, stat_value(json, "vmstat.pgmajfault"));
  EXPECT_EQ(stat_value(json, "top.kernel.sched.exits"), 2U);
  EXPECT_EQ(stat_value(json, "top.kernel.sched.blocked_at_end"), 0U);
  EXPECT_EQ(stat_value(json, "sim.tasks.records_left"), 0U);
  // Tasks sleep in major faults and the CPU runs the other task meanwhile:
  // an access that slept is one translation (its replay carries the attempt
  // that faulted), and the CPU's stalls stay within its cycles.
  EXPECT_GT(majflt, 0U);
  const std::regex hist("\"name\": \"top\\.cpu0\\.translation_latency\"[^}]*\"count\": ([0-9]+)");
  std::smatch hm;
  ASSERT_TRUE(std::regex_search(json, hm, hist));
  EXPECT_EQ(std::stoull(hm[1]), stat_value(json, "top\\.cpu0\\.translations"));
  EXPECT_LE(stat_value(json, "top\\.cpu0\\.translation_stall") +
                stat_value(json, "top\\.cpu0\\.fault_stall"),
            stat_value(json, "top\\.cpu0\\.cycles"));
  EXPECT_GT(stat_value(json, "top\\.cpu0\\.fault_stall"), 0U);
  // The child's writes to the parent's private pages copied them.
  EXPECT_GT(stat_value(json, "top.kernel.fault_class.cow_copy.count"), 0U);
  EXPECT_GT(stat_value(json, "top.kernel.fault_class.cow_reuse.count"), 0U);
  // --explain: the first fetch's file page is not cached: the task sleeps on
  // the I/O and the access replays when the I/O completed.
  r = mmusim({"--trace", root + "/traces/fork_cow_file.bin.zst", "--out", d.file("out2"),
              "--explain", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // When the task runs again, the fault's breakdown and its request's
  // steps (doorbell, fetch, device, DMA, interrupt) join the access's block.
  EXPECT_NE(r.out.find("  fault: not_present at PML4, raised@3135 -> page-fault handler\n"
                       "  kernel: the task sleeps until the page's I/O completes; the access "
                       "replays when it runs again\n"
                       "  kernel: woken, file_major, 514697 cycles (trap 300 + vma_lookup 240 + "
                       "alloc 4293 + io_queue 11700 + device 373686 + dma 110809 + interrupt "
                       "6300 + wake 6000 + pte_install 1169 + return 200), resume@517832: replay\n"
                       "  io:   doorbell@9705, fetched@15405, device@15405->389091, "
                       "dma@389091->499900, interrupt@503200\n"
                       "#2 cpu0 X 0x401ab70 issue@517832\n"),
            std::string::npos)
      << r.out;
}

// ---------------------------------------------------------------- results --

TEST(Cli, ResultsAndConfigRerun) {
  TempDir d;
  const std::string out1 = d.file("run1"), out2 = d.file("run2");
  write_file(d.file("a.ini"), "[tlb.l2]\nlatency = 5\n[cpu]\nwindow = 16\n");
  write_file(d.file("b.ini"), "[tlb.l2]\nlatency = 7\n");
  const std::string trace = "gen:uniform,count=50000,footprint=8M,seed=3,writes=0.25";
  ProcessResult r =
      mmusim({"--config", d.file("a.ini"), "--config", d.file("b.ini"), "--trace", trace, "--out",
              out1, "--sim.seed=5", "--walker.max_walks=3", "--os.model=first_touch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("mmusim: 50000 accesses"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(out1 + "/{stats.json,summary.csv,config.ini}"), std::string::npos);
  for (const char* f : {"stats.json", "summary.csv", "config.ini"}) {
    EXPECT_TRUE(fs::is_regular_file(out1 + "/" + f)) << f;
  }
  // Exactly the three files: no temporaries left.
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(out1)) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 3U);

  const std::string csv = read_file(out1 + "/summary.csv");
  auto cols = systest::parse_summary(csv);
  std::set<std::string> names;
  for (const auto& [k, v] : cols) {
    names.insert(k);
    EXPECT_FALSE(v.empty()) << k;
  }
  for (const char* c :
       {"accesses", "cycles", "l1d_misses", "l1i_misses", "l2_misses", "walks", "walk_mem_refs",
        "walk_cycles_p50", "walk_cycles_p99", "faults", "translation_latency_mean",
        "translation_stall_share", "fault_stall_share", "sim_seconds", "accesses_per_second"}) {
    EXPECT_TRUE(names.count(c)) << "summary.csv lacks column " << c;
  }
  auto m = systest::summary_map(csv);
  EXPECT_EQ(m["accesses"], "50000");
  EXPECT_EQ(m["l1i_misses"], "0");  // reads and writes only
  // 8 MiB = 2048 pages, all touched by 50000 uniform accesses (expected
  // untouched: 2048 * (1 - 1/2048)^50000 ~ 0.00005): one fault per page.
  EXPECT_EQ(m["faults"], "2048");

  // Resolved configuration: file precedence and command line applied.
  const std::string ini = read_file(out1 + "/config.ini");
  EXPECT_NE(ini.find("\n[tlb.l2]\nentries = 1536\nways = 12\nlatency = 7\n"), std::string::npos)
      << ini;
  EXPECT_NE(ini.find("\n[cpu]\nissue_width = 2\ninvalidation_cost = 200\nwindow = 16\n"),
            std::string::npos)
      << ini;
  EXPECT_NE(ini.find("\nseed = 5\n"), std::string::npos);
  EXPECT_NE(ini.find("\nmax_walks = 3\n"), std::string::npos);

  // stats.json: one object per statistic, with name, unit, description.
  const std::string json = read_file(out1 + "/stats.json");
  EXPECT_EQ(json.rfind("{\n  \"partial\": false,\n  \"interrupted_by\": null,\n  \"accesses\": "
                       "50000,\n  \"stats\": [\n",
                       0),
            0U);
  for (const char* s :
       {"\"sim.cycles\"", "\"top.cpu0.tlb.l1d.misses\"", "\"top.cpu0.walker.walks\"",
        "\"top.cpu0.walker.latency\"", "\"top.dram.reads\"", "\"top.kernel.faults\"",
        "\"top.cpu0.translations\"", "\"top.dram.initiator.walker.latency\""}) {
    EXPECT_NE(json.find("{\"name\": " + std::string(s)), std::string::npos) << s;
  }
  EXPECT_NE(
      json.find("\"name\": \"sim.cycles\", \"unit\": \"cycles\", \"description\": \"simulated "
                "core cycles until the last access retired\", \"type\": \"counter\", "
                "\"value\": " +
                m["cycles"] + "}"),
      std::string::npos);

  // Re-running from the resolved config.ini alone gives the same summary.
  r = mmusim({"--config", out1 + "/config.ini", "--trace", trace, "--out", out2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(systest::strip_wall_clock(read_file(out2 + "/summary.csv")),
            systest::strip_wall_clock(csv));
  EXPECT_EQ(read_file(out2 + "/config.ini"), ini);
  // ...and the wall-clock columns are the only ones stripped.
  EXPECT_EQ(systest::parse_summary(systest::strip_wall_clock(csv)).size(), cols.size() - 2);
}

TEST(Cli, CommandLineOverridesChangeResults) {
  // A sanity check that overrides reach the model: a larger L1 DTLB removes
  // the capacity misses of a cyclic 128-page scan (64 -> 256 entries).
  TempDir d;
  const std::string trace = "gen:stride,count=12800,footprint=512K,stride=4096";
  ProcessResult a = mmusim({"--trace", trace, "--out", d.file("a")});
  ProcessResult b = mmusim({"--trace", trace, "--out", d.file("b"), "--tlb.l1d.4K.entries=256"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ma = systest::summary_map(read_file(d.file("a") + "/summary.csv"));
  auto mb = systest::summary_map(read_file(d.file("b") + "/summary.csv"));
  // 128 pages cycled 100 times over 16 sets x 4 ways (8 pages per set, LRU):
  // every access misses the L1; with 64 sets x 4 ways (2 per set) only the
  // 128 first touches miss.
  EXPECT_EQ(ma["l1d_misses"], "12800");
  EXPECT_EQ(mb["l1d_misses"], "128");
  EXPECT_EQ(ma["l2_misses"], "128");
  EXPECT_EQ(mb["l2_misses"], "128");
}

TEST(Cli, MaxAccessesCapsTheTrace) {
  TempDir d;
  ProcessResult r = mmusim({"--trace", "gen:seq,count=50000,footprint=1M", "--out", d.file("o"),
                            "--sim.max_accesses=1234"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = systest::summary_map(read_file(d.file("o") + "/summary.csv"));
  EXPECT_EQ(m["accesses"], "1234");
  // 1234 accesses of 64 B cover 20 pages (the 20th partly): 20 faults.
  EXPECT_EQ(m["faults"], "20");
  // Two CPUs: the cap counts records of the whole trace.
  r = mmusim({"--trace", "gen:uniform,count=50000,footprint=1M,cpus=2", "--out", d.file("o2"),
              "--sim.cpus=2", "--sim.max_accesses=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(systest::summary_map(read_file(d.file("o2") + "/summary.csv"))["accesses"], "1000");
}

// ---------------------------------------------------------------- explain --

TEST(Cli, ExplainPrintsTheFirstTranslations) {
  TempDir d;
  ProcessResult r = mmusim(
      {"--trace", kSmallSeq, "--out", d.file("out"), "--explain", "3", "--os.model=first_touch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Blocks start with "#N cpuC K 0xADDR issue@T"; the summary follows them.
  std::vector<std::string> blocks;
  std::string line;
  std::istringstream in(r.out);
  std::string summary;
  while (std::getline(in, line)) {
    if (std::regex_match(line, std::regex("#[0-9]+ cpu0 [RWX] 0x[0-9a-f]+ issue@[0-9]+"))) {
      blocks.push_back(line + "\n");
    } else if (line.rfind("mmusim: ", 0) == 0) {
      break;
    } else {
      ASSERT_FALSE(blocks.empty()) << "output before the first block: " << line;
      blocks.back() += line + "\n";
    }
  }
  ASSERT_EQ(blocks.size(), 3U) << r.out;
  for (const auto& b : blocks) {
    EXPECT_NE(b.find("\n  tlb:  "), std::string::npos) << b;
    EXPECT_TRUE(b.find("\n  walk: ") != std::string::npos ||
                b.find("\n  phys: ") != std::string::npos)
        << b;
  }
  // The first access of a fresh run faults at the PML4 (nothing is mapped),
  // then its replay walks all four levels and finds the page.
  EXPECT_EQ(blocks[0].rfind("#1 cpu0 R 0x10000000 issue@0\n  tlb:  L1D 4K miss, 2M miss, 1G miss | "
                            "L2 4K_2M miss, 1G miss, 10 cycles\n",
                            0),
            0U)
      << blocks[0];
  EXPECT_NE(blocks[0].find("  fault: not_present at PML4"), std::string::npos) << blocks[0];
  // The kernel's answer: first touch at os.minor_fault_cost (1000), all of it
  // allocation, and the replay starts at the resume cycle.
  std::smatch km;
  ASSERT_TRUE(std::regex_search(
      blocks[0], km,
      std::regex("\n  kernel: first_touch, 1000 cycles \\(alloc 1000\\), resume@([0-9]+): "
                 "replay\n")))
      << blocks[0];
  EXPECT_EQ(blocks[1].rfind("#1 cpu0 R 0x10000000 issue@" + km[1].str() + "\n", 0), 0U)
      << blocks[1];
  EXPECT_EQ(blocks[1].rfind("#1 cpu0 R 0x10000000 issue@", 0), 0U) << blocks[1];
  for (const char* lvl : {"read PML4[0]", "read PDPT[0]", "read PD[128]", "read PT[0]"}) {
    EXPECT_NE(blocks[1].find(lvl), std::string::npos) << lvl << "\n" << blocks[1];
  }
  EXPECT_NE(blocks[1].find("  phys: 0x"), std::string::npos);
  // Explain does not change results.
  ProcessResult q =
      mmusim({"--trace", kSmallSeq, "--out", d.file("out2"), "--os.model=first_touch"});
  ASSERT_EQ(q.exit_code, 0);
  EXPECT_EQ(systest::strip_wall_clock(read_file(d.file("out") + "/summary.csv")),
            systest::strip_wall_clock(read_file(d.file("out2") + "/summary.csv")));
}

TEST(Cli, ExplainShowsHitsToo) {
  // With more explained translations than misses, L1 hits show a tlb: and a
  // phys: line and no walk.
  TempDir d;
  ProcessResult r = mmusim({"--trace", "gen:seq,count=200,footprint=4K", "--out", d.file("o"),
                            "--explain", "200", "--cpu.window=1", "--cpu.issue_width=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  tlb:  L1D 4K hit (4K page), 1 cycles\n  phys: 0x"), std::string::npos)
      << r.out.substr(0, 2000);
}

// A recorded context switch to a task that is asleep in the model holds
// the CPU for that task until it wakes. traces/examples/os_threads_exec.txt
// on one CPU once spun forever at one cycle (the idle CPU waited for the
// other tasks' ready cycles, already past); it must end, every task run.
TEST(Cli, ARecordedSwitchToASleepingTaskWaitsForItsWakeUp) {
  systest::TempDir d;
  const ProcessResult r = systest::run_process(
      "/usr/bin/timeout",
      {"120", MMUSIM_EXE, "--trace",
       std::string(MMUSIM_ROOT) + "/traces/examples/os_threads_exec.txt", "--out", d.file("o")});
  ASSERT_EQ(r.exit_code, 0) << "exit " << r.exit_code << " (124: it did not end)\n" << r.err;
  const std::string stats = read_file(d.file("o") + "/stats.json");
  const auto value = [&](const std::string& name) {
    const size_t at = stats.find("\"" + name + "\"");
    EXPECT_NE(at, std::string::npos) << name;
    const size_t v = stats.find("\"value\": ", at);
    return std::stoull(stats.substr(v + 9));
  };
  EXPECT_EQ(value("top.kernel.sched.exits"), 3U);  // the process, its thread, the vfork child
  EXPECT_EQ(value("top.kernel.sched.blocked_at_end"), 0U);
}

}  // namespace
}  // namespace mmusim
