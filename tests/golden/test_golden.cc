// Golden regression: every trace of tests/golden/manifest.txt under every
// preset of configs/ must reproduce tests/golden/expected/NAME__PRESET.csv
// exactly (summary.csv without its wall-clock columns) and
// tests/golden/expected/NAME__PRESET.stats (every statistic of stats.json but
// the wall-clock ones; golden_stats.h). Each combination is its own test (and
// ctest entry). With MMUSIM_GOLDEN_UPDATE=DIR the same tests write both files
// into DIR instead of comparing: tests/golden/update.sh regenerates the
// expected files that way, so comparison and regeneration share one rule.
// Explain every change of an expected file in the commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/golden/golden_stats.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

namespace fs = std::filesystem;
using systest::read_file;

const std::string kRoot = MMUSIM_SOURCE_DIR;
const std::string kGolden = kRoot + "/tests/golden";

struct ManifestEntry {
  std::string name, trace;
  std::vector<std::string> args;
};

std::vector<ManifestEntry> manifest() {
  std::vector<ManifestEntry> v;
  std::ifstream in(kGolden + "/manifest.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    ManifestEntry e;
    if (!(s >> e.name) || e.name[0] == '#') continue;
    s >> e.trace;
    std::string a;
    while (s >> a) e.args.push_back(a);
    v.push_back(e);
  }
  return v;
}

std::vector<std::string> presets() {
  std::vector<std::string> v;
  for (const auto& f : fs::directory_iterator(kRoot + "/configs")) {
    if (f.path().extension() == ".ini") v.push_back(f.path().stem().string());
  }
  std::sort(v.begin(), v.end());
  return v;
}

struct Case {
  ManifestEntry entry;
  std::string preset;
  [[nodiscard]] std::string id() const { return entry.name + "__" + preset; }
};

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const auto& e : manifest()) {
    for (const auto& p : presets()) v.push_back({e, p});
  }
  return v;
}

// Column-by-column differences between two stripped summaries.
std::string describe_diff(const std::string& expected, const std::string& actual) {
  auto e = systest::parse_summary(expected), a = systest::parse_summary(actual);
  std::ostringstream o;
  std::set<std::string> seen;
  for (const auto& [k, v] : e) {
    seen.insert(k);
    auto it = std::find_if(a.begin(), a.end(), [&k = k](const auto& c) { return c.first == k; });
    if (it == a.end()) {
      o << "  " << k << ": expected " << v << ", column missing\n";
    } else if (it->second != v) {
      o << "  " << k << ": expected " << v << ", got " << it->second << "\n";
    }
  }
  for (const auto& [k, v] : a) {
    if (!seen.count(k)) o << "  " << k << ": new column, got " << v << "\n";
  }
  return o.str();
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.id(); }

class Golden : public ::testing::TestWithParam<Case> {};

// MMUSIM_GOLDEN_UPDATE: where update mode writes the expected files ("" = compare).
std::string update_dir() {
  const char* d = std::getenv("MMUSIM_GOLDEN_UPDATE");
  return d != nullptr ? d : "";
}

TEST_P(Golden, SummaryAndStatsMatchExpected) {
  const Case& c = GetParam();
  const std::string expected_csv = kGolden + "/expected/" + c.id() + ".csv";
  const std::string expected_stats = kGolden + "/expected/" + c.id() + ".stats";
  systest::TempDir d;
  std::string trace = c.entry.trace;
  if (trace.rfind("gen:", 0) != 0) trace = kRoot + "/" + trace;
  std::vector<std::string> args = {"--config", kRoot + "/configs/" + c.preset + ".ini",
                                   "--trace",  trace,
                                   "--out",    d.file("out")};
  args.insert(args.end(), c.entry.args.begin(), c.entry.args.end());
  std::string cmd = "mmusim";
  for (const auto& a : args) cmd += " " + a;
  systest::ProcessResult r = systest::run_process(MMUSIM_EXE, args);
  ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
  const std::string actual = systest::strip_wall_clock(read_file(d.file("out") + "/summary.csv"));
  const std::string actual_stats = golden::stats_digest(read_file(d.file("out") + "/stats.json"));
  if (const std::string dir = update_dir(); !dir.empty()) {
    systest::write_file(dir + "/" + c.id() + ".csv", actual);
    systest::write_file(dir + "/" + c.id() + ".stats", actual_stats);
    return;
  }
  const std::string hint =
      "If the change is intended, run tests/golden/update.sh and explain the diff in the commit.";
  for (const std::string& p : {expected_csv, expected_stats}) {
    ASSERT_TRUE(fs::exists(p)) << "missing " << p
                               << "\nrun tests/golden/update.sh and explain the new golden file "
                                  "in the commit";
  }
  const std::string expected = read_file(expected_csv);
  EXPECT_EQ(actual, expected) << "golden summary mismatch for " << c.id() << "\n  command: " << cmd
                              << "\n  expected file: " << expected_csv << "\n"
                              << describe_diff(expected, actual) << hint;
  // Statistics are compared by name (their order in stats.json may change).
  const std::string stats_diff =
      golden::describe_stats_diff(read_file(expected_stats), actual_stats);
  EXPECT_TRUE(stats_diff.empty()) << "golden statistics mismatch for " << c.id()
                                  << "\n  command: " << cmd
                                  << "\n  expected file: " << expected_stats << "\n"
                                  << stats_diff << hint;
}

INSTANTIATE_TEST_SUITE_P(Traces, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.id(); });

TEST(GoldenManifest, CoversEveryShippedTraceAndPreset) {
  auto m = manifest();
  ASSERT_GE(m.size(), 5U);
  std::set<std::string> names, traces;
  for (const auto& e : m) {
    EXPECT_TRUE(std::regex_match(e.name, std::regex("[A-Za-z0-9]+(_[A-Za-z0-9]+)*")))
        << "manifest name must be alphanumeric with single underscores: " << e.name;
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate manifest name " << e.name;
    EXPECT_FALSE(e.trace.empty()) << e.name;
    traces.insert(e.trace);
  }
  // Every trace file shipped in traces/ (anything but code, docs, build files
  // and the native fault counts beside a capture, *.counts) has a golden line.
  const std::regex not_trace(
      R"(CMakeLists\.txt|.*\.(cc|cpp|h|hpp|md|py|sh|cmake|ini|counts)|\..*)");
  for (const auto& f : fs::directory_iterator(kRoot + "/traces")) {
    const std::string n = f.path().filename().string();
    if (f.is_regular_file() && !std::regex_match(n, not_trace)) {
      EXPECT_TRUE(traces.count("traces/" + n))
          << "traces/" << n << " is not in the golden manifest";
    }
  }
  EXPECT_EQ(presets(), (std::vector<std::string>{"skylake", "tiny", "zen3"}));
}

TEST(GoldenManifest, NoStaleExpectedFiles) {
  std::set<std::string> want;
  for (const auto& c : cases()) {
    want.insert(c.id() + ".csv");
    want.insert(c.id() + ".stats");
  }
  for (const auto& f : fs::directory_iterator(kGolden + "/expected")) {
    EXPECT_TRUE(want.count(f.path().filename().string()))
        << "stale golden file " << f.path() << " (not in manifest x presets)";
  }
}

TEST(GoldenManifest, ExpectedFilesHaveNoWallClockColumns) {
  for (const auto& c : cases()) {
    const std::string p = kGolden + "/expected/" + c.id() + ".csv";
    if (!fs::exists(p)) continue;  // reported by the Golden test
    for (const auto& [k, v] : systest::parse_summary(read_file(p))) {
      EXPECT_FALSE(systest::wall_clock_column(k)) << p << ": " << k;
    }
  }
}

// The comparison itself, on made-up statistics: every difference is named
// with its expected and actual value.
TEST(GoldenStats, DigestSkipsWallClockAndTheDiffNamesEveryDifference) {
  auto json = [](const std::string& cycles, const std::string& p99, const std::string& extra) {
    return R"({"stats": [
      {"name": "sim.cycles", "unit": "cycles", "description": "", "type": "counter", "value": )" +
           cycles + R"(},
      {"name": "sim.wall_seconds", "unit": "s", "description": "", "type": "wall_clock",
       "value": 0.25},
      {"name": "x.ratio", "unit": "", "description": "", "type": "real", "value": 0.1234567891234},
      {"name": "x.none", "unit": "", "description": "", "type": "real", "value": null},
      {"name": "x.lat", "unit": "cycles", "description": "", "type": "histogram", "count": 3,
       "sum": 30, "mean": 10.0, "min": 5, "p50": 10, "p90": 15, "p99": )" +
           p99 + R"(, "max": 15})" + extra + "]}";
  };
  const std::string a = golden::stats_digest(json("100", "15", ""));
  EXPECT_NE(a.find("\nsim.cycles 100\nx.ratio 0.123456789\nx.none null\n"
                   "x.lat count=3 sum=30 min=5 p50=10 p90=15 p99=15 max=15\n"),
            std::string::npos)
      << a;
  EXPECT_EQ(a.find("sim.wall_seconds"), std::string::npos);
  EXPECT_EQ(golden::describe_stats_diff(a, a), "");
  const std::string b = golden::stats_digest(
      json("101", "14",
           R"(, {"name": "x.new", "unit": "", "description": "", "type": "counter", "value": 7})"));
  EXPECT_EQ(golden::describe_stats_diff(a, b),
            "  sim.cycles: expected 100, got 101\n"
            "  x.lat p99: expected 15, got 14\n"
            "  x.new: new statistic, got 7\n");
  EXPECT_EQ(golden::describe_stats_diff(b, a),
            "  sim.cycles: expected 101, got 100\n"
            "  x.lat p99: expected 14, got 15\n"
            "  x.new: expected 7, statistic missing\n");
  // Only the order changed: no difference.
  EXPECT_EQ(golden::describe_stats_diff("a 1\nb 2\n", "b 2\na 1\n"), "");
  EXPECT_THROW(golden::stats_digest(
                   R"({"stats": [{"name": "q", "unit": "", "description": "", "type": "odd"}]})"),
               std::runtime_error);
}

}  // namespace
}  // namespace mmusim
