#include "models/sim/reporter.h"

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "models/sim/result_dir.h"
#include "models/sim/simulation.h"

namespace mmusim {
namespace {

// "top.cpu<N>.<name>": a CPU module's statistic (its own, or a unit's).
bool matches(const std::string& row, const std::string& name) {
  constexpr std::string_view kCpu = "top.cpu";
  if (row.size() <= kCpu.size() + name.size() + 1 || row.compare(0, kCpu.size(), kCpu) != 0 ||
      row.compare(row.size() - name.size(), name.size(), name) != 0 ||
      row[row.size() - name.size() - 1] != '.') {
    return false;
  }
  const std::string mid = row.substr(kCpu.size(), row.size() - name.size() - 1 - kCpu.size());
  return !mid.empty() && mid.find_first_not_of("0123456789") == std::string::npos;
}

// One statistic as a JSON object, members in this order.
nlohmann::ordered_json stat_object(const StatRow& r) {
  nlohmann::ordered_json o;
  o["name"] = r.name;
  o["unit"] = r.unit;
  o["description"] = r.description;
  switch (r.type) {
    case StatRow::Type::kCounter:
      o["type"] = "counter";
      o["value"] = r.count;
      break;
    case StatRow::Type::kReal:
    case StatRow::Type::kWallClock:
      o["type"] = r.type == StatRow::Type::kReal ? "real" : "wall_clock";
      o["value"] = std::isfinite(r.real) ? nlohmann::ordered_json(r.real) : nullptr;
      break;
    case StatRow::Type::kHistogram:
      o["type"] = "histogram";
      o["count"] = r.hist().count();
      o["sum"] = r.hist().sum();
      o["mean"] = r.hist().mean();
      o["min"] = r.hist().min();
      o["p50"] = r.hist().percentile(0.5);
      o["p90"] = r.hist().percentile(0.9);
      o["p99"] = r.hist().percentile(0.99);
      o["max"] = r.hist().max();
      o["buckets"] = nlohmann::ordered_json::array();
      r.hist().for_each_bucket([&](uint64_t low, uint64_t n) {
        o["buckets"].push_back(nlohmann::ordered_json::array({low, n}));
      });
      break;
  }
  return o;
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// An object on one line, `{"k": v, ...}`: every key and value is serialized
// by nlohmann; only the layout is ours (dump() puts either the whole document
// on one line or every member on its own line).
std::string one_line(const nlohmann::ordered_json& o) {
  std::string s = "{";
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it != o.begin()) s += ", ";
    s += dump(it.key()) + ": " + dump(it.value());
  }
  return s + "}";
}

}  // namespace

const Histogram StatRow::kNone;

StatRow& StatCollector::add(std::string_view n, std::string_view u, std::string_view d,
                            StatRow::Type t) {
  StatRow& r = rows_.emplace_back();
  r.name = n;
  r.unit = u;
  r.description = d;
  r.type = t;
  return r;
}

void StatCollector::counter(std::string_view n, std::string_view u, std::string_view d,
                            uint64_t v) {
  add(n, u, d, StatRow::Type::kCounter).count = v;
}

void StatCollector::real(std::string_view n, std::string_view u, std::string_view d, double v) {
  add(n, u, d, StatRow::Type::kReal).real = v;
}

void StatCollector::wall_clock(std::string_view n, std::string_view u, std::string_view d,
                               double v) {
  add(n, u, d, StatRow::Type::kWallClock).real = v;
}

void StatCollector::histogram(std::string_view n, std::string_view u, std::string_view d,
                              const Histogram& h) {
  add(n, u, d, StatRow::Type::kHistogram).histogram = std::make_shared<const Histogram>(h);
}

uint64_t StatCollector::sum(const std::string& name) const {
  uint64_t s = 0;
  bool exact = false;
  for (const StatRow& r : rows_) {
    if (r.type == StatRow::Type::kCounter && r.name == name) {
      s = r.count;
      exact = true;
    }
  }
  if (exact) return s;
  for (const StatRow& r : rows_) {
    if (r.type == StatRow::Type::kCounter && matches(r.name, name)) s += r.count;
  }
  return s;
}

Histogram StatCollector::merged(const std::string& name) const {
  Histogram h;
  for (const StatRow& r : rows_) {
    if (r.type == StatRow::Type::kHistogram && r.name == name) return r.hist();
  }
  for (const StatRow& r : rows_) {
    if (r.type == StatRow::Type::kHistogram && matches(r.name, name)) h.merge(r.hist());
  }
  return h;
}

double StatCollector::real_value(const std::string& name) const {
  for (const StatRow& r : rows_) {
    if (r.type == StatRow::Type::kReal && r.name == name) return r.real;
  }
  return 0.0;
}

namespace {

using ColumnType = SummaryColumn::Type;

// What the summary's values are computed from.
struct SummaryInputs {
  const Simulation& sim;
  const StatCollector& s;
  const RunEnd& end;
  uint64_t accesses, walks, refs, dram_n;
  Histogram walk;
  Histogram translation;  // every CPU's translation latencies
  uint64_t cpu_cycles;    // the CPUs' cycles, summed (the stall shares' base)
};

// A column: name, type and precision, and how its value is computed (one of
// `integer` and `real`, by type).
struct ColumnDef {
  const char* name;
  ColumnType type;
  int digits;
  uint64_t (*integer)(const SummaryInputs&);
  double (*real)(const SummaryInputs&);
};
ColumnDef count(const char* name, uint64_t (*f)(const SummaryInputs&)) {
  return {name, ColumnType::kInteger, 0, f, nullptr};
}
ColumnDef real(const char* name, ColumnType type, int digits, double (*f)(const SummaryInputs&)) {
  return {name, type, digits, nullptr, f};
}
double share(uint64_t part, uint64_t whole) {
  return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}
double per_k(uint64_t n, uint64_t accesses) {
  return accesses ? 1000.0 * static_cast<double>(n) / static_cast<double>(accesses) : 0.0;
}

// summary.csv, in column order (README "Outputs" documents it).
std::vector<ColumnDef> summary_defs() {
  using In = const SummaryInputs&;
  return {
      count("accesses", [](In i) { return i.accesses; }),
      count("translations", [](In i) { return i.s.sum("translations"); }),
      count("cycles", [](In i) { return i.sim.cycles(); }),
      count("l1d_misses", [](In i) { return i.s.sum("tlb.l1d.misses"); }),
      count("l1i_misses", [](In i) { return i.s.sum("tlb.l1i.misses"); }),
      count("l2_misses", [](In i) { return i.s.sum("tlb.l2.misses"); }),
      real("l1d_mpka", ColumnType::kFixed, 4,
           [](In i) { return per_k(i.s.sum("tlb.l1d.misses"), i.accesses); }),
      real("l2_mpka", ColumnType::kFixed, 4,
           [](In i) { return per_k(i.s.sum("tlb.l2.misses"), i.accesses); }),
      count("walks", [](In i) { return i.walks; }),
      count("walk_mem_refs", [](In i) { return i.refs; }),
      real("walk_refs_per_walk", ColumnType::kFixed, 4,
           [](In i) {
             return i.walks ? static_cast<double>(i.refs) / static_cast<double>(i.walks) : 0.0;
           }),
      count("walk_cycles_p50", [](In i) { return i.walk.percentile(0.5); }),
      count("walk_cycles_p99", [](In i) { return i.walk.percentile(0.99); }),
      count("faults", [](In i) { return i.s.sum("faults"); }),
      count("seg_faults",
            [](In i) {
              return i.s.sum("seg.faults.gp") + i.s.sum("seg.faults.ss") + i.s.sum("seg.faults.np");
            }),
      count("skipped", [](In i) { return i.s.sum("skipped") + i.s.sum("seg_skipped"); }),
      real("translation_latency_mean", ColumnType::kFixed, 4,
           [](In i) { return i.translation.mean(); }),
      count("translation_latency_p50", [](In i) { return i.translation.percentile(0.5); }),
      count("translation_latency_p99", [](In i) { return i.translation.percentile(0.99); }),
      count("translation_stall_cycles", [](In i) { return i.s.sum("translation_stall"); }),
      real("translation_stall_share", ColumnType::kFixed, 4,
           [](In i) { return share(i.s.sum("translation_stall"), i.cpu_cycles); }),
      count("fault_stall_cycles", [](In i) { return i.s.sum("fault_stall"); }),
      real("fault_stall_share", ColumnType::kFixed, 4,
           [](In i) { return share(i.s.sum("fault_stall"), i.cpu_cycles); }),
      count("dram_accesses", [](In i) { return i.dram_n; }),
      count("dram_row_hits", [](In i) { return i.s.sum("top.dram.row_hits"); }),
      real("dram_avg_latency", ColumnType::kFixed, 4,
           [](In i) {
             return i.dram_n ? static_cast<double>(i.s.sum("top.dram.total_latency")) /
                                   static_cast<double>(i.dram_n)
                             : 0.0;
           }),
      real("simulated_seconds", ColumnType::kSignificant, 6,
           [](In i) { return i.s.real_value("sim.simulated_seconds"); }),
      count("partial", [](In i) { return uint64_t{i.end.partial ? 1U : 0U}; }),
      real("sim_seconds", ColumnType::kWallClock, 6, [](In i) { return i.sim.wall_seconds(); }),
      real("accesses_per_second", ColumnType::kWallClock, 0,
           [](In i) {
             const double w = i.sim.wall_seconds();
             return w > 0 ? static_cast<double>(i.accesses) / w : 0.0;
           }),
  };
}

}  // namespace

std::string SummaryColumn::text() const {
  const char* format = "%.*f";
  switch (type) {
    case Type::kInteger: return std::to_string(integer);
    case Type::kSignificant: format = "%.*g"; break;
    case Type::kFixed:
    case Type::kWallClock: break;
  }
  std::string out(static_cast<size_t>(std::snprintf(nullptr, 0, format, digits, real)), '\0');
  std::snprintf(out.data(), out.size() + 1, format, digits, real);
  return out;
}

std::vector<SummaryColumn> summary_layout() {
  std::vector<SummaryColumn> cols;
  for (const ColumnDef& d : summary_defs()) {
    SummaryColumn& c = cols.emplace_back();
    c.name = d.name;
    c.type = d.type;
    c.digits = d.digits;
  }
  return cols;
}

std::vector<SummaryColumn> summary_columns(const Simulation& sim, const StatCollector& s,
                                           const RunEnd& end) {
  const SummaryInputs in{sim,
                         s,
                         end,
                         sim.records(),
                         s.sum("walker.walks"),
                         s.sum("walker.mem_refs"),
                         s.sum("top.dram.reads") + s.sum("top.dram.writes"),
                         s.merged("walker.latency"),
                         s.merged("translation_latency"),
                         s.sum("cycles")};
  std::vector<SummaryColumn> cols = summary_layout();
  const std::vector<ColumnDef> defs = summary_defs();
  for (size_t i = 0; i < cols.size(); ++i) {
    if (defs[i].integer != nullptr) {
      cols[i].integer = defs[i].integer(in);
    } else {
      cols[i].real = defs[i].real(in);
    }
  }
  return cols;
}

void print_summary(std::ostream& os, const Simulation& sim, const StatCollector& s,
                   const RunEnd& end) {
  auto cols = summary_columns(sim, s, end);
  auto get = [&cols](const std::string& k) {
    for (const SummaryColumn& c : cols) {
      if (c.name == k) return c.text();
    }
    return std::string();
  };
  const SimConfig& c = sim.config();
  os << "mmusim: " << get("accesses") << " accesses (" << get("translations")
     << " translations) on " << c.sim.cpus << " CPU(s), " << c.paging_mode << " paging, "
     << c.dram.preset << " @ " << c.sim.core_clock_mhz << " MHz\n";
  if (end.partial) {
    os << "  PARTIAL                interrupted by " << end.signal << " after " << get("accesses")
       << " accesses: these results cover them only\n";
  }
  os << "  cycles                 " << get("cycles") << "  (" << get("simulated_seconds")
     << " s simulated)\n";
  os << "  L1 DTLB misses         " << get("l1d_misses") << "  (" << get("l1d_mpka")
     << " per 1000 accesses)\n";
  os << "  L1 ITLB misses         " << get("l1i_misses") << "\n";
  os << "  L2 STLB misses         " << get("l2_misses") << "  (" << get("l2_mpka")
     << " per 1000 accesses)\n";
  os << "  page walks             " << get("walks") << "  (" << get("walk_refs_per_walk")
     << " memory refs/walk, p50 " << get("walk_cycles_p50") << " / p99 " << get("walk_cycles_p99")
     << " cycles)\n";
  os << "  page faults            " << get("faults") << "\n";
  os << "  segmentation faults    " << get("seg_faults") << "\n";
  os << "  skipped                " << get("skipped")
     << " records (dropped by an unresolved page fault or a segmentation fault)\n";
  const Histogram x = s.merged("translation_latency");
  os << "  translation latency    " << get("translation_latency_mean")
     << " cycles mean per translation (p50 " << x.percentile(0.5) << " / p90 " << x.percentile(0.9)
     << " / p99 " << x.percentile(0.99) << " / max " << x.max() << ")\n";
  os << "  translation stall      " << get("translation_stall_cycles") << " cycles  ("
     << get("translation_stall_share") << " of the CPU cycles)\n";
  os << "  fault stall            " << get("fault_stall_cycles") << " cycles  ("
     << get("fault_stall_share") << " of the CPU cycles)\n";
  os << "  DRAM                   " << get("dram_accesses") << " accesses, " << get("dram_row_hits")
     << " row hits, " << get("dram_avg_latency") << " cycles average\n";
  os << "  speed                  " << get("accesses_per_second") << " accesses/s ("
     << get("sim_seconds") << " s wall clock)\n";
}

std::string stats_json(const StatCollector& s, const RunEnd& end) {
  std::string o = "{\n  \"partial\": " + std::string(end.partial ? "true" : "false") + ",\n";
  o += "  \"interrupted_by\": " +
       (end.partial ? nlohmann::json(end.signal).dump() : std::string("null")) + ",\n";
  o += "  \"accesses\": " + std::to_string(end.accesses) + ",\n";
  o += "  \"stats\": [";
  const char* sep = "\n    ";
  for (const StatRow& r : s.rows()) {
    o += sep + one_line(stat_object(r));
    sep = ",\n    ";
  }
  return o + "\n  ]\n}\n";
}

std::string summary_csv(const std::vector<SummaryColumn>& cols) {
  std::string head, row;
  for (size_t i = 0; i < cols.size(); ++i) {
    head += (i ? "," : "") + cols[i].name;
    row += (i ? "," : "") + cols[i].text();
  }
  return head + "\n" + row + "\n";
}

void write_results(ResultDir& out, const Simulation& sim, const StatCollector& stats,
                   const std::string& config_ini, const RunEnd& end) {
  out.write("stats.json", stats_json(stats, end));
  out.write("summary.csv", summary_csv(summary_columns(sim, stats, end)));
  out.write("config.ini", config_ini);
}

}  // namespace mmusim
