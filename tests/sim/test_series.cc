// The memory time series (stats.series_interval_us, series.csv): the record
// itself with a fake kernel (rows, rates, the end row, names), and the whole
// simulation through the mmusim binary on the shipped OS-event traces (row
// count and times, the last row against stats.json, rates against the
// differences, results unchanged by the sampler, bad keys), and its plot.
//
// At the default sim.core_clock_mhz = 3000, 1 us = 3000 cycles: an interval
// of 10 us is 30,000 cycles, and rate = difference x 1000 / 10 = difference
// x 100 per ms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/os/kernel.h"
#include "models/sim/mem_series.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::ProcessResult;
using systest::read_file;
using systest::split;
using systest::TempDir;
using json = nlohmann::json;

// --- the record, with a fake kernel --------------------------------------

// Reports `values` as counters ("vmstat."-prefixed like the Linux model,
// except the reclaim names, bare as the reclaimer's own visitor gives them)
// and one real.
class FakeKernel : public Kernel {
 public:
  KernelStep fault(const FaultInfo& /*f*/, KernelServices& /*s*/) override { return {}; }
  KernelStep resume(const FaultInfo& /*f*/, uint64_t /*key*/, Cycle /*now*/,
                    KernelServices& /*s*/) override {
    return {};
  }
  [[nodiscard]] PhysAddr root(uint32_t /*pid*/) const override { return PhysAddr(0); }
  void visit(StatVisitor& /*v*/) const override {}
  void visit_vmstat(StatVisitor& v) const override {
    for (const auto& [name, value] : values) {
      const bool bare = name.rfind("nr_active", 0) == 0;
      v.counter((bare ? "" : "vmstat.") + name, "pages", "", value);
    }
    v.real("vmstat.some_ratio", "", "", 0.5);
  }
  std::map<std::string, uint64_t> values = {
      {"nr_free_pages", 1000}, {"nr_active_anon", 0}, {"pgfault", 0}, {"pgmajfault", 0}};
};

SeriesConfig series_config(uint64_t interval_us, std::vector<std::string> columns) {
  SeriesConfig c;
  c.interval_us = interval_us;
  c.columns = std::move(columns);
  return c;
}

std::vector<std::string> lines_of(const MemSeries& s) {
  std::ostringstream o;
  s.write(o);
  std::vector<std::string> v = split(o.str(), '\n');
  EXPECT_EQ(v.back(), "");  // every line ends with a newline
  v.pop_back();
  return v;
}

TEST(MemSeries, CumulativeNames) {
  for (const char* n : {"pgfault", "pgmajfault", "pgscan_kswapd", "pgsteal_direct", "pswpin",
                        "pswpout", "workingset_refault_file", "allocstall_normal", "oom_kill",
                        "nr_vmscan_write", "nr_dirtied", "nr_written", "pageoutrun", "pgpgin"}) {
    EXPECT_TRUE(MemSeries::cumulative(n)) << n;
  }
  for (const char* n : {"nr_free_pages", "nr_inactive_anon", "nr_active_file", "nr_swap_used",
                        "nr_dirty", "nr_writeback", "workingset_nodes", "nr_file_pages"}) {
    EXPECT_FALSE(MemSeries::cumulative(n)) << n;
  }
}

TEST(MemSeries, RowsRatesAndTheEndRow) {
  FakeKernel k;
  // 3 MHz: 1 us = 3 cycles; interval 2 us = 6 cycles.
  MemSeries s(k, series_config(2, {"nr_free_pages", "pgfault", "nr_active_anon"}), 3);
  EXPECT_EQ(s.interval(), Cycles(6));
  EXPECT_EQ(s.header(), "time_us,cycle,nr_free_pages,pgfault,pgfault_per_ms,nr_active_anon");
  s.start();  // cycle 0: pgfault 0
  k.values["pgfault"] = 4;
  k.values["nr_free_pages"] = 990;
  s.sample(Cycle(6));
  k.values["pgfault"] = 5;
  k.values["nr_active_anon"] = 7;
  s.sample(Cycle(12));
  k.values["pgfault"] = 9;
  s.sample(Cycle(18));  // at or after the end below: left out
  k.values["pgfault"] = 11;
  // The CPUs ended at cycle 14 (4.666667 us): rows at 6 and 12 are kept.
  s.finish(Cycle(14));
  EXPECT_EQ(s.samples(), 3U);
  EXPECT_EQ(s.rows(), 3U);
  const auto l = lines_of(s);
  ASSERT_EQ(l.size(), 4U);
  // pgfault per ms = difference / interval: 4 / 0.002 ms = 2000, 1 / 0.002 = 500.
  EXPECT_EQ(l[1], "2,6,990,4,2000,0");
  EXPECT_EQ(l[2], "4,12,990,5,500,7");
  // The end row over the 2 cycles since the last row kept (2/3 us):
  // (11 - 5) / (2 / 3000 ms) = 9000 per ms.
  EXPECT_EQ(l[3], "4.666667,14,990,11,9000,7");
}

TEST(MemSeries, AnEndOnARowTimeEndsThere) {
  FakeKernel k;
  MemSeries s(k, series_config(2, {"pgfault"}), 3);
  s.start();
  s.sample(Cycle(6));
  k.values["pgfault"] = 3;
  s.sample(Cycle(12));
  s.finish(Cycle(12));  // the row at 12 is the end row: no time twice
  const auto l = lines_of(s);
  ASSERT_EQ(l.size(), 3U);
  EXPECT_EQ(l[1], "2,6,0,0");
  EXPECT_EQ(l[2], "4,12,3,1500");  // 3 / 0.002 ms
  // A run that ended at cycle 0: the end row alone, rates 0.
  FakeKernel k0;
  MemSeries z(k0, series_config(2, {"pgfault"}), 3);
  z.start();
  z.finish(Cycle(0));
  EXPECT_EQ(lines_of(z),
            (std::vector<std::string>{"time_us,cycle,pgfault,pgfault_per_ms", "0,0,0,0"}));
}

TEST(MemSeries, RowsMustComeInOrder) {
  FakeKernel k;
  MemSeries s(k, series_config(2, {"pgfault"}), 3);
  s.start();
  EXPECT_THROW(s.sample(Cycle(12)), std::logic_error);  // row 1 is at cycle 6
}

TEST(MemSeries, UnknownNamesNameTheKey) {
  FakeKernel k;
  try {
    MemSeries s(k, series_config(10, {"pgfault", "nr_swap_used"}), 3000);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("stats.series_columns: 'nr_swap_used' is not"), std::string::npos) << m;
    EXPECT_NE(m.find("nr_free_pages"), std::string::npos) << m;  // a valid name
  }
  try {
    MemSeries s(k, series_config(10, {"some_ratio"}), 3000);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'some_ratio' is not a counter"), std::string::npos)
        << e.what();
  }
  class Silent : public FakeKernel {
    void visit_vmstat(StatVisitor& /*v*/) const override {}
  } none;
  try {
    MemSeries s(none, series_config(10, {"pgfault"}), 3000);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("reports none"), std::string::npos) << e.what();
  }
}

// --- the whole simulation ------------------------------------------------

const std::string kRoot = MMUSIM_ROOT;
const std::string kColumns = "nr_free_pages,nr_file_pages,pgfault,pgmajfault,pgpgin";

ProcessResult mmusim(const std::vector<std::string>& args) {
  return systest::run_process(MMUSIM_EXE, args);
}

struct Outputs {
  std::vector<std::string> stats;            // stats.json's lines, wall clock aside
  std::map<std::string, uint64_t> counters;  // its counters by name
  std::string fault_log;                     // --fault-log
  std::string series;                        // series.csv ("" when absent)
  bool has_series = false;
};

Outputs run(const std::string& trace, const std::vector<std::string>& keys) {
  TempDir d;
  std::vector<std::string> args = {"-t",          trace,         "-o",
                                   d.file("out"), "--fault-log", d.file("faults.csv")};
  args.insert(args.end(), keys.begin(), keys.end());
  const ProcessResult r = mmusim(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Outputs out;
  const json all = json::parse(read_file(d.file("out/stats.json")));
  for (const auto& s : all.at("stats")) {
    if (s.at("type") == "wall_clock") continue;
    out.stats.push_back(s.dump());
    if (s.at("type") == "counter") out.counters[s.at("name")] = s.at("value").get<uint64_t>();
  }
  out.fault_log = read_file(d.file("faults.csv"));
  out.has_series = std::filesystem::exists(d.file("out/series.csv"));
  if (out.has_series) out.series = read_file(d.file("out/series.csv"));
  return out;
}

uint64_t stat(const Outputs& o, const std::string& name) {
  auto it = o.counters.find(name);
  if (it != o.counters.end()) return it->second;
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

// The first statistic (a stats.json line) that differs, "" when none.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "(none)", y = i < b.size() ? b[i] : "(none)";
    if (x != y) return x + "\n  vs " + y;
  }
  return "";
}

// series.csv as a header and rows of cells.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  [[nodiscard]] size_t col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
};

Csv parse(const std::string& text) {
  Csv c;
  std::vector<std::string> lines = split(text, '\n');
  EXPECT_EQ(lines.back(), "");
  lines.pop_back();
  c.header = split(lines.at(0), ',');
  for (size_t i = 1; i < lines.size(); ++i) {
    c.rows.push_back(split(lines[i], ','));
    EXPECT_EQ(c.rows.back().size(), c.header.size()) << lines[i];
  }
  return c;
}

TEST(SeriesSim, RowsTimesFinalValuesAndRates) {
  const std::string trace = kRoot + "/traces/examples/os_major_fault.txt";
  const Outputs r =
      run(trace, {"--stats.series_interval_us=10", "--stats.series_columns=" + kColumns});
  ASSERT_TRUE(r.has_series);
  const Csv c = parse(r.series);
  EXPECT_EQ(c.header, split("time_us,cycle,nr_free_pages,nr_file_pages,pgfault,pgfault_per_ms,"
                            "pgmajfault,pgmajfault_per_ms,pgpgin,pgpgin_per_ms",
                            ','));
  const uint64_t end = stat(r, "sim.cycles");
  const uint64_t iv = uint64_t{10} * 3000;
  // The trace's four major faults take about 4 x 100 us: the run is not a
  // multiple of the interval, so rows = floor(end / interval) + 1 (the end).
  ASSERT_GT(end, 4 * 90 * 3000U);
  ASSERT_NE(end % iv, 0U);
  ASSERT_EQ(c.rows.size(), end / iv + 1);
  const size_t n = c.rows.size();
  for (size_t k = 1; k < n; ++k) {  // row k at k x 10 us = k x 30,000 cycles
    EXPECT_EQ(c.rows[k - 1][0], std::to_string(10 * k));
    EXPECT_EQ(c.rows[k - 1][1], std::to_string(iv * k));
  }
  // The end row at sim.cycles: end / 3000 us, to the picosecond.
  EXPECT_EQ(c.rows[n - 1][1], std::to_string(end));
  EXPECT_NEAR(std::stod(c.rows[n - 1][0]), static_cast<double>(end) / 3000.0, 0.5e-6);
  // The last row holds stats.json's final values.
  for (const std::string& name : split(kColumns, ',')) {
    EXPECT_EQ(c.rows[n - 1][c.col(name)], std::to_string(stat(r, "vmstat." + name))) << name;
  }
  EXPECT_EQ(c.rows[n - 1][c.col("pgmajfault")], "4");  // the trace's four faults
  // Rates: the difference from the row before (from 0 at cycle 0: nothing
  // happened before) over the interval, 10 us = 0.01 ms; the end row's over
  // the end - (n - 1) x 30,000 cycles since the last row.
  for (const std::string name : {"pgfault", "pgmajfault", "pgpgin"}) {
    const size_t v = c.col(name), rate = c.col(name + "_per_ms");
    double prev = 0, sum = 0;
    for (size_t k = 0; k < n; ++k) {
      const double cur = std::stod(c.rows[k][v]);
      const double span_ms = k + 1 < n ? 0.01 : static_cast<double>(end - iv * k) / 3000.0 / 1000;
      if (k + 1 < n) {
        EXPECT_EQ(std::stod(c.rows[k][rate]), (cur - prev) * 100) << name << " row " << k;
      } else {
        EXPECT_DOUBLE_EQ(std::stod(c.rows[k][rate]), (cur - prev) / span_ms) << name;
      }
      sum += std::stod(c.rows[k][rate]) * span_ms;
      prev = cur;
    }
    EXPECT_NEAR(sum, prev, 1e-9) << name;  // the rates add up to the final count
  }
  // The series moved: pgmajfault went from 0 to 4 in steps.
  EXPECT_EQ(c.rows[0][c.col("pgfault")], "0");
  size_t steps = 0;
  for (size_t k = 1; k < n; ++k) {
    steps += c.rows[k][c.col("pgmajfault")] != c.rows[k - 1][c.col("pgmajfault")];
  }
  EXPECT_GE(steps, 2U);
}

// The sampler synchronizes every agent at each row and nothing else:
// stats.json (wall clock aside) and the fault log are identical with it on
// (1 us and 10 us) and off, on the shipped OS-event traces, and on a
// four-CPU plain trace under the Linux model (where a process of the
// sampler's own, with timed wake-ups, had changed the order of same-cycle
// wake-ups of the CPUs).
TEST(SeriesSim, ResultsIdenticalWithTheSamplerOnAndOff) {
  struct Case {
    std::string trace;
    std::vector<std::string> keys;
  };
  const std::vector<Case> cases = {
      {kRoot + "/traces/examples/os_major_fault.txt", {}},
      {kRoot + "/traces/examples/os_file_io.txt", {}},
      {kRoot + "/traces/examples/os_fork_cow_file.txt", {}},
      {"gen:uniform,footprint=16M,count=40000,seed=3,cpus=4", {"--sim.cpus=4", "--os.model=linux"}},
  };
  for (const Case& t : cases) {
    const Outputs off = run(t.trace, t.keys);
    EXPECT_FALSE(off.has_series);
    for (const char* iv : {"1", "10"}) {
      std::vector<std::string> keys = t.keys;
      keys.push_back(std::string("--stats.series_interval_us=") + iv);
      keys.push_back("--stats.series_columns=nr_free_pages,pgfault");
      const Outputs on = run(t.trace, keys);
      EXPECT_TRUE(on.has_series);
      EXPECT_EQ(first_difference(on.stats, off.stats), "") << t.trace << " at " << iv << " us";
      EXPECT_EQ(on.fault_log, off.fault_log) << t.trace << " at " << iv << " us";
    }
  }
}

TEST(SeriesSim, DeterministicAndNoStaleFileWhenOff) {
  TempDir d;
  const std::string trace = kRoot + "/traces/examples/os_file_io.txt";
  const std::vector<std::string> on = {"-t",
                                       trace,
                                       "-o",
                                       d.file("out"),
                                       "--stats.series_interval_us=10",
                                       "--stats.series_columns=nr_dirty,nr_writeback,nr_written"};
  ASSERT_EQ(mmusim(on).exit_code, 0);
  const std::string first = read_file(d.file("out/series.csv"));
  ASSERT_EQ(mmusim(on).exit_code, 0);
  EXPECT_EQ(read_file(d.file("out/series.csv")), first);
  // Off in the same directory: the earlier series.csv goes with the rest.
  const ProcessResult r = mmusim({"-t", trace, "-o", d.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("out/series.csv")));
  EXPECT_TRUE(std::filesystem::exists(d.file("out/stats.json")));
  size_t entries = 0;  // the three results, no staging directory left behind
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d.file("out"))) {
    ++entries;
  }
  EXPECT_EQ(entries, 3U);
}

// Bad keys: exit 2, one line naming the key, no results.
TEST(SeriesSim, BadColumnsAndIntervalsExitTwoNamingTheKey) {
  TempDir d;
  const std::string trace = kRoot + "/traces/examples/os_major_fault.txt";
  struct Bad {
    std::vector<std::string> keys;
    std::vector<std::string> says;
  };
  const std::vector<Bad> bad = {
      {{"--stats.series_interval_us=10", "--stats.series_columns=pgfault,nr_bogus"},
       {"stats.series_columns: 'nr_bogus' is not", "pgmajfault"}},
      {{"--stats.series_interval_us=10", "--stats.series_columns=pgfault,,pgmajfault"},
       {"stats.series_columns: expected a comma-separated list"}},
      {{"--stats.series_interval_us=10", "--stats.series_columns=pgfault,pgfault"},
       {"stats.series_columns: expected a comma-separated list of distinct"}},
      {{"--stats.series_interval_us=ten"}, {"stats.series_interval_us: expected"}},
      {{"--stats.series_interval_us=-1"}, {"stats.series_interval_us: expected"}},
      {{"--stats.series_interval_us=3600000001"},
       {"stats.series_interval_us: expected an integer in [0, 3600000000]"}},
  };
  for (const Bad& b : bad) {
    std::vector<std::string> args = {"-t", trace, "-o", d.file("out")};
    args.insert(args.end(), b.keys.begin(), b.keys.end());
    const ProcessResult r = mmusim(args);
    EXPECT_EQ(r.exit_code, 2) << b.keys.back() << ": " << r.err;
    for (const std::string& s : b.says) EXPECT_NE(r.err.find(s), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("out"))) << b.keys.back();
  }
  // Under os.model=first_touch: no vmstat counters.
  const ProcessResult r = mmusim({"-t", "gen:uniform,footprint=1M,count=100", "-o", d.file("out"),
                                  "--os.model=first_touch", "--stats.series_interval_us=10",
                                  "--stats.series_columns=pgfault"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("stats.series_columns: 'pgfault'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("reports none"), std::string::npos) << r.err;
}

TEST(SeriesSim, PlotDrawsSeveralColumnsAgainstTime) {
  TempDir d;
  const ProcessResult r =
      mmusim({"-t", kRoot + "/traces/examples/os_file_io.txt", "-o", d.file("out"),
              "--stats.series_interval_us=10", "--stats.series_columns=nr_file_pages,nr_dirty"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // scripts/plot needs python3-matplotlib (scripts/setup installs it).
  const ProcessResult p =
      systest::run_process(kRoot + "/scripts/plot",
                           {d.file("out/series.csv"), "--y", "nr_file_pages,nr_dirty", "--ylabel",
                            "pages", "--title", "page cache", "-o", d.file("p.png")});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string png = read_file(d.file("p.png"));
  ASSERT_GT(png.size(), 1000U);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const ProcessResult q = systest::run_process(
      kRoot + "/scripts/plot",
      {d.file("out/series.csv"), "--y", "nr_dirty,nope", "-o", d.file("q.png")});
  EXPECT_NE(q.exit_code, 0);
  EXPECT_NE(q.err.find("no column 'nope'"), std::string::npos) << q.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("q.png")));
}

}  // namespace
}  // namespace mmusim
