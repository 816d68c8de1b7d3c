// The Reporter's outputs without a simulation: stats.json (valid JSON,
// one statistic per line, escaping, reals at full precision) and the typed
// summary.csv columns (one formatting rule per type, the documented order).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "models/sim/reporter.h"

namespace mmusim {
namespace {

TEST(StatsJson, ParsesBackWithEveryValueAndOneStatisticPerLine) {
  StatCollector c;
  c.counter("a.count", "things", "a \"quoted\" \\ description\twith\ncontrol chars", UINT64_MAX);
  c.real("a.real", "s", "a real", 0.1 + 0.2);
  c.real("a.nan", "s", "not finite", std::numeric_limits<double>::quiet_NaN());
  Histogram h;
  for (uint64_t v : {1, 2, 3, 100, 5000}) h.add(v);
  c.histogram("a.hist", "cycles", "a histogram", h);
  const std::string text = stats_json(c);

  const nlohmann::json doc = nlohmann::json::parse(text);
  const auto& stats = doc.at("stats");
  ASSERT_EQ(stats.size(), 4U);
  EXPECT_EQ(stats[0].at("name"), "a.count");
  EXPECT_EQ(stats[0].at("description"), "a \"quoted\" \\ description\twith\ncontrol chars");
  EXPECT_EQ(stats[0].at("type"), "counter");
  EXPECT_EQ(stats[0].at("value").get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(stats[1].at("value").get<double>(), 0.1 + 0.2);  // full precision
  EXPECT_TRUE(stats[2].at("value").is_null());
  const auto& hj = stats[3];
  EXPECT_EQ(hj.at("type"), "histogram");
  EXPECT_EQ(hj.at("count").get<uint64_t>(), 5U);
  EXPECT_EQ(hj.at("sum").get<uint64_t>(), 5106U);
  EXPECT_EQ(hj.at("mean").get<double>(), 5106.0 / 5);
  EXPECT_EQ(hj.at("min").get<uint64_t>(), 1U);
  EXPECT_EQ(hj.at("p50").get<uint64_t>(), h.percentile(0.5));
  EXPECT_EQ(hj.at("p90").get<uint64_t>(), h.percentile(0.9));
  EXPECT_EQ(hj.at("p99").get<uint64_t>(), h.percentile(0.99));
  EXPECT_EQ(hj.at("max").get<uint64_t>(), 5000U);
  // The non-empty buckets as [low, count]: exact below 4096; 5000 falls in
  // 4096's octave, sixteenth 3: [4096 + 3 x 256, 4096 + 4 x 256).
  EXPECT_EQ(hj.at("buckets"), nlohmann::json::parse("[[1,1],[2,1],[3,1],[100,1],[4864,1]]"));

  // Layout: the opening, one line per statistic, the closing.
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7U + 4U);
  EXPECT_EQ(lines[0], "{");
  EXPECT_EQ(lines[1], "  \"partial\": false,");
  EXPECT_EQ(lines[2], "  \"interrupted_by\": null,");
  EXPECT_EQ(lines[3], "  \"accesses\": 0,");
  EXPECT_EQ(lines[4], "  \"stats\": [");
  EXPECT_EQ(lines[5].rfind("    {\"name\": \"a.count\", \"unit\": \"things\", ", 0), 0U);
  EXPECT_EQ(lines[8].rfind("    {\"name\": \"a.hist\"", 0), 0U);
  EXPECT_EQ(lines[9], "  ]");
  EXPECT_EQ(lines[10], "}");
}

TEST(StatsJson, APartialReportSaysSoAndHowManyAccessesItCovers) {
  StatCollector c;
  c.counter("a.count", "things", "a count", 3);
  RunEnd end;
  end.partial = true;
  end.signal = "SIGINT";
  end.accesses = 123456;
  const std::string text = stats_json(c, end);
  EXPECT_EQ(
      text.substr(0, text.find("  \"stats\"")),
      "{\n  \"partial\": true,\n  \"interrupted_by\": \"SIGINT\",\n  \"accesses\": 123456,\n");
  const nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc.at("stats")[0].at("value").get<uint64_t>(), 3U);
}

TEST(StatsJson, WallClockStatisticsHaveTheirOwnType) {
  StatCollector c;
  StatVisitor& v = c;
  v.wall_clock("x.seconds", "s", "host time", 1.5);
  v.real("x.ratio", "", "a ratio", 0.5);
  ASSERT_EQ(c.rows().size(), 2U);
  EXPECT_EQ(c.rows()[0].type, StatRow::Type::kWallClock);
  const nlohmann::json doc = nlohmann::json::parse(stats_json(c));
  EXPECT_EQ(doc.at("stats")[0].at("type"), "wall_clock");
  EXPECT_EQ(doc.at("stats")[0].at("value").get<double>(), 1.5);
  EXPECT_EQ(doc.at("stats")[1].at("type"), "real");
  // A visitor that does not tell them apart gets a real.
  struct Reals : StatVisitor {
    std::vector<std::string> reals;
    void counter(std::string_view, std::string_view, std::string_view, uint64_t) override {}
    void real(std::string_view n, std::string_view, std::string_view, double) override {
      reals.emplace_back(n);
    }
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram&) override {}
  } r;
  r.wall_clock("x.seconds", "s", "host time", 1.5);
  EXPECT_EQ(r.reals, std::vector<std::string>{"x.seconds"});
}

TEST(SummaryColumns, OneFormattingRulePerType) {
  SummaryColumn c;
  c.type = SummaryColumn::Type::kInteger;
  c.integer = 18446744073709551615ULL;
  EXPECT_EQ(c.text(), "18446744073709551615");
  c.type = SummaryColumn::Type::kFixed;
  c.digits = 4;
  c.real = 1.23456;
  EXPECT_EQ(c.text(), "1.2346");
  c.real = 0;
  EXPECT_EQ(c.text(), "0.0000");
  c.type = SummaryColumn::Type::kSignificant;
  c.digits = 6;
  c.real = 0.0019163612;
  EXPECT_EQ(c.text(), "0.00191636");
  c.real = 2.0;
  EXPECT_EQ(c.text(), "2");
  c.type = SummaryColumn::Type::kWallClock;
  c.digits = 0;
  c.real = 1234567.8;
  EXPECT_EQ(c.text(), "1234568");
  c.real = 1e300;  // no truncation, however long
  EXPECT_EQ(c.text().size(), 301U);
}

TEST(SummaryColumns, LayoutIsTheDocumentedOneAndOnlyWallClockColumnsVary) {
  // README.md "Outputs": the summary.csv table lists every column in order
  // (a row may name several, `a`, `b`).
  std::ifstream in(std::string(MMUSIM_SOURCE_DIR) + "/README.md");
  std::string line;
  bool table = false;
  std::vector<std::string> documented;
  while (std::getline(in, line)) {
    if (line.find("**`summary.csv`**") != std::string::npos) table = true;
    if (!table || line.rfind("| `", 0) != 0) continue;
    const std::string first = line.substr(0, line.find(" |", 2));
    const std::regex name("`([a-z0-9_]+)`");
    for (std::sregex_iterator it(first.begin(), first.end(), name), end; it != end; ++it) {
      documented.push_back((*it)[1]);
    }
    if (documented.back() == "accesses_per_second") break;
  }
  std::vector<std::string> names, varying;
  for (const SummaryColumn& c : summary_layout()) {
    names.push_back(c.name);
    if (c.type == SummaryColumn::Type::kWallClock) varying.push_back(c.name);
  }
  EXPECT_EQ(names, documented);
  EXPECT_EQ(varying, (std::vector<std::string>{"sim_seconds", "accesses_per_second"}));
}

}  // namespace
}  // namespace mmusim
