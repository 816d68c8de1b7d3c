// The one Reporter: turns every module's statistics into the stdout summary,
// stats.json, summary.csv and config.ini. The files are staged in a
// ResultDir, which puts the whole set in place or none of it.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "models/common/stats.h"

namespace mmusim {

class ResultDir;
class Simulation;

// How the run ended: at the trace's end (or sim.max_accesses), or cut short
// by a signal (a partial report: README "Errors, interruption and results").
struct RunEnd {
  bool partial = false;
  std::string signal;     // "SIGINT" or "SIGTERM" when partial
  uint64_t accesses = 0;  // trace records simulated
};

// One statistic as collected from a StatVisitor.
struct StatRow {
  enum class Type : uint8_t { kCounter, kReal, kHistogram, kWallClock };  // kWallClock: in `real`
  std::string name, unit, description;
  Type type = Type::kCounter;
  uint64_t count = 0;
  double real = 0;
  // A histogram row's histogram (an empty one for the other rows: a
  // histogram is tens of kilobytes, so counters do not carry one).
  [[nodiscard]] const Histogram& hist() const { return histogram ? *histogram : kNone; }
  std::shared_ptr<const Histogram> histogram;

 private:
  static const Histogram kNone;
};

class StatCollector : public StatVisitor {
 public:
  void counter(std::string_view n, std::string_view u, std::string_view d, uint64_t v) override;
  void real(std::string_view n, std::string_view u, std::string_view d, double v) override;
  void histogram(std::string_view n, std::string_view u, std::string_view d,
                 const Histogram& h) override;
  void wall_clock(std::string_view n, std::string_view u, std::string_view d, double v) override;
  [[nodiscard]] const std::vector<StatRow>& rows() const { return rows_; }
  // The counter named `name` exactly; when there is none, the sum of the
  // CPU modules' counters "top.cpu<N>.<name>" (histograms merged likewise).
  [[nodiscard]] uint64_t sum(const std::string& name) const;
  [[nodiscard]] Histogram merged(const std::string& name) const;
  [[nodiscard]] double real_value(const std::string& name) const;

 private:
  StatRow& add(std::string_view n, std::string_view u, std::string_view d, StatRow::Type t);
  std::vector<StatRow> rows_;
};

// One summary.csv column (README "Outputs"). Its type is the one rule that
// formats it, and says whether two identical runs may differ in it.
struct SummaryColumn {
  enum class Type : uint8_t {
    kInteger,      // an exact count, in decimal
    kFixed,        // a derived real with `digits` digits after the point
    kSignificant,  // a derived real with `digits` significant digits
    kWallClock,    // measured on the host (varies between identical runs); `digits` after the point
  };
  std::string name;
  Type type = Type::kInteger;
  int digits = 0;
  uint64_t integer = 0;  // the value of a kInteger column
  double real = 0;       // the value of every other type
  // The value as summary.csv and the stdout summary print it.
  [[nodiscard]] std::string text() const;
};

// The summary.csv columns, in order, with their values for this run.
std::vector<SummaryColumn> summary_columns(const Simulation& sim, const StatCollector& stats,
                                           const RunEnd& end = {});
// The same columns (names, types, precisions) without values.
std::vector<SummaryColumn> summary_layout();

void print_summary(std::ostream& os, const Simulation& sim, const StatCollector& stats,
                   const RunEnd& end = {});
// {"partial": ..., "interrupted_by": ..., "accesses": N, "stats": [...]} with
// one statistic per line (README "Outputs"); written with nlohmann-json.
std::string stats_json(const StatCollector& stats, const RunEnd& end = {});
std::string summary_csv(const std::vector<SummaryColumn>& cols);

// Stages stats.json, summary.csv and config.ini in `out` (its commit() puts
// them in place). Throws std::runtime_error naming the path on failure.
void write_results(ResultDir& out, const Simulation& sim, const StatCollector& stats,
                   const std::string& config_ini, const RunEnd& end);

}  // namespace mmusim
