// The Reporter's outputs without a simulation: stats.json (valid JSON,
// one statistic per line, escaping, reals at full precision).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
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

  // Layout: the opening, one line per statistic, the closing.
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4U + 4U);
  EXPECT_EQ(lines[0], "{");
  EXPECT_EQ(lines[1], "  \"stats\": [");
  EXPECT_EQ(lines[2].rfind("    {\"name\": \"a.count\", \"unit\": \"things\", ", 0), 0U);
  EXPECT_EQ(lines[5].rfind("    {\"name\": \"a.hist\"", 0), 0U);
  EXPECT_EQ(lines[6], "  ]");
  EXPECT_EQ(lines[7], "}");
}

}  // namespace
}  // namespace mmusim
