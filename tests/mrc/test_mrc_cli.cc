// mmusim-mrc end to end: its mrc.csv against what mmusim itself reports in
// stats.json for the same geometry (tlb.l2 replacement lru, cpu.window = 1),
// point by point, and its input errors (exit 2, the option named).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::run_process;
using systest::split;
using systest::TempDir;

// stats.json counters by name.
std::map<std::string, uint64_t> run_mmusim(const std::vector<std::string>& args) {
  TempDir d;
  std::vector<std::string> a = args;
  a.push_back("--out=" + d.path());
  const auto r = run_process(MMUSIM_EXE, a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> m;
  if (r.exit_code != 0) return m;
  const auto j = nlohmann::json::parse(systest::read_file(d.file("stats.json")));
  for (const auto& s : j["stats"]) {
    if (s["type"] == "counter") m[s["name"].get<std::string>()] = s["value"].get<uint64_t>();
  }
  return m;
}

// mrc.csv rows (as columns by header name).
std::vector<std::map<std::string, std::string>> run_mrc(const std::vector<std::string>& args) {
  TempDir d;
  std::vector<std::string> a = args;
  a.push_back("--out=" + d.path());
  const auto r = run_process(MMUSIM_MRC_EXE, a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::map<std::string, std::string>> rows;
  if (r.exit_code != 0) return rows;
  std::istringstream in(systest::read_file(d.file("mrc.csv")));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "level,page_size,sets,ways,entries,accesses,misses,miss_ratio,mpka");
  const auto head = split(line, ',');
  while (std::getline(in, line)) {
    const auto v = split(line, ',');
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < head.size() && i < v.size(); ++i) row[head[i]] = v[i];
    rows.push_back(row);
  }
  return rows;
}

std::string root(const std::string& rel) { return std::string(MMUSIM_ROOT) + "/" + rel; }

// Each point of the curve = mmusim's stats.json with that STLB geometry:
// accesses - misses = top.cpu0.tlb.l2.4K_2M.hits, misses = top.cpu0.tlb.l2.misses,
// mpka = sim.l2_mpka.
void expect_points_match(const std::vector<std::string>& common, const std::string& geometry,
                         const std::vector<std::pair<uint64_t, uint64_t>>& points) {
  std::vector<std::string> margs = common;
  margs.push_back(geometry);
  std::string sizes;
  for (const auto& [e, w] : points) sizes += (sizes.empty() ? "" : ",") + std::to_string(e);
  margs.push_back("--sizes=" + sizes);
  const auto rows = run_mrc(margs);
  ASSERT_EQ(rows.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [entries, ways] = points[i];
    std::vector<std::string> sargs = common;
    sargs.insert(
        sargs.end(),
        {std::string("--cpu.window=1"), std::string("--tlb.l2.replacement=lru"),
         "--tlb.l2.entries=" + std::to_string(entries), "--tlb.l2.ways=" + std::to_string(ways)});
    auto st = run_mmusim(sargs);
    const auto& row = rows[i];
    SCOPED_TRACE("entries " + std::to_string(entries) + " ways " + std::to_string(ways));
    EXPECT_EQ(row.at("entries"), std::to_string(entries));
    EXPECT_EQ(row.at("ways"), std::to_string(ways));
    const uint64_t acc = std::stoull(row.at("accesses")), mis = std::stoull(row.at("misses"));
    EXPECT_EQ(acc - mis, st["top.cpu0.tlb.l2.4K_2M.hits"]);
    EXPECT_EQ(mis, st["top.cpu0.tlb.l2.misses"]);
    EXPECT_EQ(acc, st["top.cpu0.tlb.l2.hits"] + st["top.cpu0.tlb.l2.misses"]);
  }
}

TEST(MrcCli, LsMatchesStatsJson) {
  const std::string ls = root("traces/ls.bin.zst");
  if (access(ls.c_str(), R_OK) != 0) GTEST_SKIP() << "no sample trace";
  const std::vector<std::string> common = {"--trace=" + ls, "--sim.max_accesses=200000"};
  // Fully associative (ways = entries), fixed 16 sets, fixed 12 ways (Skylake's 128 x 12).
  expect_points_match(common, "--sets=0", {{8, 8}, {64, 64}, {512, 512}});
  expect_points_match(common, "--sets=16", {{32, 2}, {192, 12}});
  expect_points_match(common, "--ways=12", {{96, 12}, {1536, 12}});
}

TEST(MrcCli, WritesAndConfigFileMatchStatsJson) {
  // A tiny L1 DTLB from a --config file and a random trace with writes.
  TempDir d;
  const std::string ini = d.file("small_l1.ini");
  systest::write_file(ini, "[tlb.l1d.4K]\nentries = 8\nways = 2\n");
  const std::vector<std::string> common = {
      "--config=" + ini, "--trace=gen:zipf,count=60000,footprint=8M,alpha=0.7,writes=0.3,seed=2"};
  expect_points_match(common, "--sets=0", {{16, 16}, {256, 256}});
  expect_points_match(common, "--ways=4", {{64, 4}, {1024, 4}});
}

TEST(MrcCli, ErrorsNameTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string gen = "--trace=gen:seq,count=100";
  const std::vector<Case> cases = {
      {{gen, "--sizes=8:4"}, "--sizes: expected FROM:TO:STEP"},
      {{gen, "--sets=12"}, "--sets: expected a power of two"},
      {{gen, "--sets=4", "--ways=4"}, "--sets/--ways: give one of them"},
      {{gen, "--level=l3"}, "--level: expected l1 or l2"},
      {{gen, "--os.model=linux"}, "os.model: mmusim-mrc follows the first-touch OS model"},
      {{"--trace=" + root("traces/examples/os_major_fault.txt")}, "a trace with OS events"},
      {{gen, "--tlb.l1d.4K.ways=3"}, "tlb.l1d.4K"},
      // Boost's message for a bad --sets would never finish filling in '%value%'.
      {{gen, "--sets=%value%"}, "the sequence '%value%' is not accepted"},
      {{gen, "--x%canonical_option%"}, "the sequence '%canonical_option%' is not accepted"},
      // mmusim's command-line rules (parse_command_line).
      {{"--out", gen}, "--out expects a value, but the next word is '" + gen + "'"},
      {{gen, "--sets="}, "--sets= has an empty value; --sets expects: fixed number of sets"},
      {{gen, "l2"}, "unexpected word 'l2': every option starts with --"},
      {{gen, "--tlb.l2.ent=64"}, "unrecognised option '--tlb.l2.ent=64' (see mmusim-mrc --help)"},
  };
  for (const Case& c : cases) {
    TempDir d;
    auto a = c.args;
    a.push_back("--out=" + d.path());
    const auto r = run_process(MMUSIM_MRC_EXE, a);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("mmusim-mrc: error: "), std::string::npos) << r.err;
  }
}

// The result rules of mmusim hold for mmusim-mrc: an --out that cannot be
// a directory is refused before the trace is read (the trace here would
// fail only at its last line), and a run that fails leaves neither the
// mrc.csv of an earlier run nor a half-written one.
TEST(MrcCli, ResultsAreWholeAndNeverStale) {
  TempDir d;
  systest::write_file(d.file("t.txt"), "R 0x1000 8\nR 0x2000 8\nbad line\n");
  systest::write_file(d.file("file"), "x");
  auto r = run_process(MMUSIM_MRC_EXE, {"--trace=" + d.file("t.txt"), "--out=" + d.file("file")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out " + d.file("file")), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("bad line"), std::string::npos) << r.err;  // not read
  // A good run, then a failing one into the same directory.
  systest::write_file(d.file("good.txt"), "R 0x1000 8\nR 0x2000 8\n");
  r = run_process(MMUSIM_MRC_EXE, {"--trace=" + d.file("good.txt"), "--out=" + d.file("o")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(d.file("o/mrc.csv")));
  r = run_process(MMUSIM_MRC_EXE, {"--trace=" + d.file("t.txt"), "--out=" + d.file("o")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("t.txt"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("o/mrc.csv")));
  EXPECT_TRUE(std::filesystem::is_empty(d.file("o")));  // no staging or .tmp left
}

}  // namespace
}  // namespace mmusim
