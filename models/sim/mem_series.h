// The memory time series (README "Outputs", series.csv): chosen /proc/vmstat
// counters of the kernel (Kernel::visit_vmstat, names without "vmstat."),
// sampled every stats.series_interval_us of simulated time, plus a last row
// at the end of the run.
//
// MemSeries is the plain record: it reads the counters, keeps one binary row
// per sample in an anonymous temporary file (host memory does not grow with
// the run) and formats the CSV. MemSeriesModule (top.series) is its SystemC
// shell: an agent of the sync horizon whose next action is the next sample
// cycle S, so that every other agent about to act at S or later waits in
// SystemC until then; the simulation runs in steps that end 1 ps before S,
// and between two steps the record takes the state after every action at a
// cycle before S and before any at S. Waiting at the horizon does not change
// results (design.md §2 rule 7): stats.json and the fault log are the same
// with the sampler on or off (but for a statistic that already differs
// between sim.quantum = 0 and the default: README "Outputs").
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <systemc>
#include <vector>

#include "models/common/sc_sync.h"
#include "models/common/sync_horizon.h"
#include "models/common/types.h"
#include "models/os/kernel.h"
#include "models/sim/sim_config.h"

namespace mmusim {

class MemSeries {
 public:
  // Checks every name of cfg.columns against the counters `kernel` reports
  // and throws InputError naming stats.series_columns (and a few valid
  // names) for one it does not report. cfg.interval_us must be > 0.
  MemSeries(const Kernel& kernel, const SeriesConfig& cfg, uint32_t core_clock_mhz);
  ~MemSeries();
  MemSeries(const MemSeries&) = delete;
  MemSeries& operator=(const MemSeries&) = delete;

  // The sampling interval in core cycles (interval_us x core_clock_mhz).
  [[nodiscard]] Cycles interval() const { return interval_; }
  // Reads the values at cycle 0, against which the first row's rates count.
  void start();
  // Records the next row: row k (from 1) at cycle k x interval(), which `at`
  // must be. Throws std::runtime_error when the temporary file fails.
  void sample(Cycle at);
  // The run ended at `end` (sim.cycles): rows at `end` or later are left
  // out, and a last row at `end` holds the values now (stats.json's).
  void finish(Cycle end);
  // The CSV (after finish()): the header, each row kept, the end row.
  void write(std::ostream& os) const;
  // time_us,cycle, then each column followed by <column>_per_ms when it is
  // cumulative.
  [[nodiscard]] std::string header() const;
  [[nodiscard]] uint64_t samples() const { return samples_; }  // rows sampled
  [[nodiscard]] uint64_t rows() const;  // data rows write() gives (kept + end)
  // True for a /proc/vmstat name that counts events since boot (pg*, pswp*,
  // workingset_* but workingset_nodes, allocstall*, oom_kill*, nr_vmscan_*,
  // nr_dirtied, nr_written, pageoutrun): it gets a rate column.
  static bool cumulative(std::string_view name);

 private:
  void read(std::vector<uint64_t>& out) const;
  // One CSV line: the values `v` at `at`, rates against `prev` over `span`.
  void format_row(std::string& line, Cycle at, const std::vector<uint64_t>& v,
                  const std::vector<uint64_t>& prev, Cycles span) const;

  const Kernel& kernel_;
  std::vector<std::string> columns_;
  std::vector<bool> cumulative_;
  std::map<std::string, size_t, std::less<>> index_;  // column name -> position
  uint32_t mhz_;
  Cycles interval_;
  std::vector<uint64_t> base_;  // values at cycle 0
  std::vector<uint64_t> cur_;   // scratch
  std::FILE* rows_file_ = nullptr;
  uint64_t samples_ = 0;
  std::optional<Cycle> end_;
  std::vector<uint64_t> end_values_;
};

// The sampler agent: a child module of the system (top.series) and an agent
// of the sync horizon. It has no process of its own: simulate() runs the
// simulation in place of sc_start(), in steps that end 1 ps before each
// sample cycle, and records a row between steps. (A thread's timed
// wake-ups would join SystemC's queue of timed notifications, whose order
// among notifications of one instant they may change: same-cycle wake-ups
// of the CPUs could then run in another order.) It stops sampling when
// every CPU has finished and the next sample would be at or after their
// end, or when nothing else is left to happen; the run then goes on to its
// end as without it.
class MemSeriesModule : public sc_core::sc_module {
 public:
  // The cycle the last CPU finished at (sim.cycles), once every CPU has.
  using CpusEnd = std::function<std::optional<Cycle>()>;

  MemSeriesModule(const sc_core::sc_module_name& name, const Kernel& kernel,
                  const SeriesConfig& cfg, uint32_t core_clock_mhz, const ClockPeriod& clk,
                  SyncHorizon& horizon, CpusEnd cpus_end);
  [[nodiscard]] const char* kind() const override { return "MemSeries"; }
  [[nodiscard]] const MemSeries& series() const { return series_; }
  // Runs the whole simulation (instead of sc_start()), sampling as it goes;
  // returns when it ends or stops (sc_stop).
  void simulate();
  // After the run: the end row (MemSeries::finish).
  void finish(Cycle end) { series_.finish(end); }

 private:
  void start_of_simulation() override { series_.start(); }

  MemSeries series_;
  const ClockPeriod& clk_;
  SyncHorizon& horizon_;
  SyncHorizon::Agent agent_;
  CpusEnd cpus_end_;
};

}  // namespace mmusim
