#include "models/sim/mem_series.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <utility>

#include "models/common/error.h"
#include "models/common/stats.h"

namespace mmusim {
namespace {

constexpr std::string_view kVmstatPrefix = "vmstat.";
constexpr const char* kKey = "stats.series_columns";

// A reported name without the "vmstat." prefix the Linux model gives it.
std::string_view bare(std::string_view n) {
  if (n.substr(0, kVmstatPrefix.size()) == kVmstatPrefix) n.remove_prefix(kVmstatPrefix.size());
  return n;
}

// Every counter a kernel reports, in its order, and the names it reports as
// something else (a real or a histogram).
class NameCollector : public StatVisitor {
 public:
  void counter(std::string_view n, std::string_view /*u*/, std::string_view /*d*/,
               uint64_t /*v*/) override {
    counters.emplace_back(bare(n));
  }
  void real(std::string_view n, std::string_view /*u*/, std::string_view /*d*/,
            double /*v*/) override {
    others.emplace_back(bare(n));
  }
  void histogram(std::string_view n, std::string_view /*u*/, std::string_view /*d*/,
                 const Histogram& /*h*/) override {
    others.emplace_back(bare(n));
  }
  std::vector<std::string> counters, others;
};

// Copies the chosen counters' values into `out` (column order).
class Picker : public StatVisitor {
 public:
  Picker(const std::map<std::string, size_t, std::less<>>& index, std::vector<uint64_t>& out)
      : index_(index), out_(out) {}
  void counter(std::string_view n, std::string_view /*u*/, std::string_view /*d*/,
               uint64_t v) override {
    auto it = index_.find(bare(n));
    if (it != index_.end()) out_[it->second] = v;
  }
  void real(std::string_view /*n*/, std::string_view /*u*/, std::string_view /*d*/,
            double /*v*/) override {}
  void histogram(std::string_view /*n*/, std::string_view /*u*/, std::string_view /*d*/,
                 const Histogram& /*h*/) override {}

 private:
  const std::map<std::string, size_t, std::less<>>& index_;
  std::vector<uint64_t>& out_;
};

// `cycles` of a `mhz` clock in microseconds: an integer when exact, else six
// decimals (picoseconds, rounded) without trailing zeros.
void append_us(std::string& s, uint64_t cycles, uint32_t mhz) {
  s += std::to_string(cycles / mhz);
  const uint64_t r = cycles % mhz;
  if (r == 0) return;
  // r < mhz <= 100,000: the rounded fraction stays below 10^6 (no carry).
  uint64_t frac = (r * 1000000 + mhz / 2) / mhz;
  if (frac == 0) return;
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(frac));
  std::string f(digits);
  f.erase(f.find_last_not_of('0') + 1);
  s += '.';
  s += f;
}

void append_double(std::string& s, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
  s.append(buf, r.ptr);
}

}  // namespace

bool MemSeries::cumulative(std::string_view n) {
  if (n == "workingset_nodes") return false;  // a gauge: shadow nodes now
  for (std::string_view p : {"pg", "pswp", "workingset_", "allocstall", "oom_kill", "nr_vmscan_"}) {
    if (n.substr(0, p.size()) == p) return true;
  }
  return n == "nr_dirtied" || n == "nr_written" || n == "pageoutrun";
}

MemSeries::MemSeries(const Kernel& kernel, const SeriesConfig& cfg, uint32_t core_clock_mhz)
    : kernel_(kernel),
      columns_(cfg.columns),
      mhz_(core_clock_mhz),
      interval_(Cycles(cfg.interval_us * core_clock_mhz)) {
  if (cfg.interval_us == 0 || core_clock_mhz == 0) {
    throw std::logic_error("MemSeries: the series is off (stats.series_interval_us = 0)");
  }
  NameCollector names;
  kernel_.visit_vmstat(names);
  for (const std::string& c : columns_) {
    if (std::find(names.counters.begin(), names.counters.end(), c) != names.counters.end()) {
      cumulative_.push_back(cumulative(c));
      continue;
    }
    std::string msg = std::string(kKey) + ": '" + c + "' is ";
    if (std::find(names.others.begin(), names.others.end(), c) != names.others.end()) {
      msg += "not a counter";
    } else {
      msg += "not a /proc/vmstat counter this kernel model reports";
    }
    if (names.counters.empty()) {
      msg += " (this kernel model reports none: os.model = linux does)";
    } else {
      msg += " (it reports ";
      const size_t n = std::min<size_t>(names.counters.size(), 8);
      for (size_t i = 0; i < n; ++i) msg += (i ? ", " : "") + names.counters[i];
      if (n < names.counters.size()) {
        msg += ", ... " + std::to_string(names.counters.size()) + " in all";
      }
      msg += "; stats.json lists them as vmstat.*)";
    }
    throw InputError(msg);
  }
  for (size_t i = 0; i < columns_.size(); ++i) index_.emplace(columns_[i], i);
  base_.assign(columns_.size(), 0);
  cur_.assign(columns_.size(), 0);
}

MemSeries::~MemSeries() {
  if (rows_file_ != nullptr) std::fclose(rows_file_);
}

void MemSeries::read(std::vector<uint64_t>& out) const {
  std::fill(out.begin(), out.end(), 0);
  Picker p(index_, out);
  kernel_.visit_vmstat(p);
}

void MemSeries::start() { read(base_); }

void MemSeries::sample(Cycle at) {
  if (at != Cycle(0) + interval_ * (samples_ + 1)) {
    throw std::logic_error("MemSeries: row " + std::to_string(samples_ + 1) + " sampled at cycle " +
                           std::to_string(at.count()));
  }
  if (rows_file_ == nullptr) {
    rows_file_ = std::tmpfile();
    if (rows_file_ == nullptr) {
      throw std::runtime_error(std::string("memory time series: cannot create a temporary file: ") +
                               std::strerror(errno));
    }
  }
  read(cur_);
  if (std::fwrite(cur_.data(), sizeof(uint64_t), cur_.size(), rows_file_) != cur_.size()) {
    throw std::runtime_error(std::string("memory time series: cannot write a temporary file: ") +
                             std::strerror(errno));
  }
  ++samples_;
}

void MemSeries::finish(Cycle end) {
  end_ = end;
  end_values_.assign(columns_.size(), 0);
  read(end_values_);
}

uint64_t MemSeries::rows() const {
  if (!end_) return 0;
  // Rows k x interval < end: k <= (end - 1) / interval.
  const uint64_t before_end = end_->count() == 0 ? 0 : (end_->count() - 1) / interval_.count();
  return std::min(samples_, before_end) + 1;
}

std::string MemSeries::header() const {
  std::string h = "time_us,cycle";
  for (size_t i = 0; i < columns_.size(); ++i) {
    h += "," + columns_[i];
    if (cumulative_[i]) h += "," + columns_[i] + "_per_ms";
  }
  return h;
}

void MemSeries::format_row(std::string& line, Cycle at, const std::vector<uint64_t>& v,
                           const std::vector<uint64_t>& prev, Cycles span) const {
  line.clear();
  append_us(line, at.count(), mhz_);
  line += ',';
  line += std::to_string(at.count());
  // Cycles per millisecond: mhz x 1000.
  const double per_ms = 1000.0 * mhz_;
  for (size_t i = 0; i < v.size(); ++i) {
    line += ',';
    line += std::to_string(v[i]);
    if (!cumulative_[i]) continue;
    line += ',';
    const double diff = v[i] >= prev[i] ? static_cast<double>(v[i] - prev[i])
                                        : -static_cast<double>(prev[i] - v[i]);
    append_double(line,
                  span.count() == 0 ? 0.0 : diff * per_ms / static_cast<double>(span.count()));
  }
  line += '\n';
}

void MemSeries::write(std::ostream& os) const {
  if (!end_) throw std::logic_error("MemSeries::write before finish()");
  os << header() << '\n';
  const uint64_t kept = rows() - 1;
  std::vector<uint64_t> prev = base_, v(columns_.size());
  std::string line;
  if (kept > 0) {
    std::fflush(rows_file_);
    std::rewind(rows_file_);
  }
  for (uint64_t k = 1; k <= kept; ++k) {
    if (std::fread(v.data(), sizeof(uint64_t), v.size(), rows_file_) != v.size()) {
      throw std::runtime_error("memory time series: cannot read back its temporary file");
    }
    format_row(line, Cycle(0) + interval_ * k, v, prev, interval_);
    os << line;
    prev.swap(v);
  }
  format_row(line, *end_, end_values_, prev, *end_ - (Cycle(0) + interval_ * kept));
  os << line;
}

MemSeriesModule::MemSeriesModule(const sc_core::sc_module_name& name, const Kernel& kernel,
                                 const SeriesConfig& cfg, uint32_t core_clock_mhz,
                                 const ClockPeriod& clk, SyncHorizon& horizon, CpusEnd cpus_end)
    : sc_module(name),
      series_(kernel, cfg, core_clock_mhz),
      clk_(clk),
      horizon_(horizon),
      agent_(horizon.add(this->name(), Cycle(0) + series_.interval())),
      cpus_end_(std::move(cpus_end)) {}

void MemSeriesModule::simulate() {
  const Cycles iv = series_.interval();
  for (Cycle at = Cycle(0) + iv;; at += iv) {
    horizon_.set(agent_, at);
    // Up to 1 ps before `at` (a cycle is at least 10 ps: sim.core_clock_mhz
    // <= 100,000): every action at an earlier cycle, none at `at`.
    const sc_core::sc_time until = clk_.span(at - Cycle(0)) - sc_core::sc_time::from_value(1);
    sc_core::sc_start(until - sc_core::sc_time_stamp());
    if (sc_core::sc_get_status() == sc_core::SC_STOPPED) return;  // a CPU failed
    if (const std::optional<Cycle> end = cpus_end_()) {
      if (at >= *end) break;  // the end row (finish) covers the rest
    } else if (!sc_core::sc_pending_activity()) {
      break;  // nothing else will ever happen: the run is over
    }
    series_.sample(at);
  }
  horizon_.set(agent_, SyncHorizon::kNever);
  // What is left (I/O completing after the CPUs ended); nothing at all when
  // the last row's interval ended the run (SystemC warns of an empty start).
  if (sc_core::sc_pending_activity()) sc_core::sc_start();
}

}  // namespace mmusim
