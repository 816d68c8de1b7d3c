// The golden form of stats.json: one `NAME VALUE` line per statistic, in the
// order of stats.json, easy to review in a diff. Counters are exact; reals
// have kRealDigits significant digits ("null" when not finite); histograms
// give count, sum, min, p50, p90, p99 and max exactly (the mean follows from
// count and sum). Statistics of type wall_clock vary between identical runs
// and are left out: the rule is the type, whatever the statistic is called.
#pragma once

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mmusim::golden {

constexpr int kRealDigits = 9;
constexpr const char* kHistogramFields[] = {"count", "sum", "min", "p50", "p90", "p99", "max"};

inline std::string real_text(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", kRealDigits, v.get<double>());
  return b;
}

// stats.json text -> golden text. Throws std::runtime_error for a statistic
// whose type it does not know (extend this file) or a repeated name.
inline std::string stats_digest(const std::string& stats_json) {
  const nlohmann::json doc = nlohmann::json::parse(stats_json);
  std::ostringstream o;
  o << "# Every statistic of stats.json but the wall-clock ones: counters and histogram fields\n"
       "# exact, reals to "
    << kRealDigits << " significant digits. Regenerate with tests/golden/update.sh.\n";
  std::map<std::string, int> seen;
  for (const nlohmann::json& s : doc.at("stats")) {
    const std::string name = s.at("name").get<std::string>();
    const std::string type = s.at("type").get<std::string>();
    if (type == "wall_clock") continue;
    if (seen[name]++) throw std::runtime_error("stats.json: statistic " + name + " appears twice");
    o << name;
    if (type == "counter") {
      o << " " << s.at("value").get<uint64_t>();
    } else if (type == "real") {
      o << " " << real_text(s.at("value"));
    } else if (type == "histogram") {
      for (const char* f : kHistogramFields) o << " " << f << "=" << s.at(f).get<uint64_t>();
    } else {
      throw std::runtime_error("stats.json: statistic " + name + " has type '" + type +
                               "', unknown to tests/golden/golden_stats.h");
    }
    o << "\n";
  }
  return o.str();
}

// Golden text -> (name, value) in file order; comment lines skipped.
inline std::vector<std::pair<std::string, std::string>> parse_digest(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    v.emplace_back(line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  return v;
}

// "count=1 sum=2 ..." -> field -> value; a plain value -> {"" -> value}.
inline std::map<std::string, std::string> fields_of(const std::string& value) {
  std::map<std::string, std::string> m;
  std::istringstream in(value);
  std::string tok;
  while (in >> tok) {
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) return {{"", value}};
    m[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  return m;
}

// One line per difference: "  NAME: expected E, got A" (a histogram field as
// "NAME p99: ..."), "  NAME: expected E, statistic missing", "  NAME: new
// statistic, got A". Empty when the two agree.
inline std::string describe_stats_diff(const std::string& expected, const std::string& actual) {
  const auto e = parse_digest(expected), a = parse_digest(actual);
  std::map<std::string, std::string> am(a.begin(), a.end()), em(e.begin(), e.end());
  std::ostringstream o;
  for (const auto& [name, ev] : e) {
    auto it = am.find(name);
    if (it == am.end()) {
      o << "  " << name << ": expected " << ev << ", statistic missing\n";
      continue;
    }
    if (it->second == ev) continue;
    const auto ef = fields_of(ev), af = fields_of(it->second);
    if (ef.count("") || af.count("")) {
      o << "  " << name << ": expected " << ev << ", got " << it->second << "\n";
      continue;
    }
    for (const auto& [f, x] : ef) {
      auto g = af.find(f);
      if (g == af.end() || g->second != x) {
        o << "  " << name << " " << f << ": expected " << x << ", got "
          << (g == af.end() ? "nothing" : g->second) << "\n";
      }
    }
    for (const auto& [f, x] : af) {
      if (!ef.count(f)) o << "  " << name << " " << f << ": new field, got " << x << "\n";
    }
  }
  for (const auto& [name, av] : a) {
    if (!em.count(name)) o << "  " << name << ": new statistic, got " << av << "\n";
  }
  return o.str();
}

}  // namespace mmusim::golden
