// The composition root: builds the SystemC model from a SimConfig (CPUs with
// their address generator, TLBs and walker; the shared DRAM and kernel), runs
// it over a trace, and exposes every statistic for the Reporter.
// One Simulation per process (SystemC elaborates once).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "models/common/stats.h"
#include "models/os/kernel_module.h"
#include "models/sim/sim_config.h"
#include "traces/trace_reader.h"

namespace mmusim {

class MemSeries;

class Simulation {
 public:
  // Elaborates the model. `explain` = number of leading translations to
  // record step by step (0: none, no cost), per CPU; their text is written to
  // `explain_out` as the run produces it when given (finish with
  // flush_explain()), else kept for explain_lines().
  Simulation(const SimConfig& cfg, std::unique_ptr<TraceReader> trace, uint64_t explain,
             std::ostream* explain_out = nullptr);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs the trace to its end (or sim.max_accesses). Throws InputError for bad
  // trace input and std::runtime_error when the model cannot go on.
  void run();
  // Reports every handled fault to `sink` (--fault-log); call before run().
  void set_fault_sink(FaultSink* sink);

  // Every module's statistics, named by module path ("top.cpu0.tlb.l1d.4K.hits",
  // "top.dram.reads", "top.kernel.faults..."), plus "sim.*" and, with several
  // CPUs, the per-CPU counters summed under "cpus.*"; the kernel's
  // /proc/vmstat-named counters at the top level ("vmstat.*"); with tasks, the
  // task feeder's counters under "sim.tasks.*".
  void visit(StatVisitor& v) const;
  // The module hierarchy, one module per line, indented by depth.
  void list_modules(std::ostream& os) const;
  // The explain blocks (kept only without an explain stream).
  [[nodiscard]] const std::vector<std::string>& explain_lines() const;
  // With an explain stream: writes the blocks still held after run().
  void flush_explain();
  [[nodiscard]] uint64_t cycles() const;  // max over CPUs
  // During run(): the cycle the furthest CPU has issued up to (progress).
  [[nodiscard]] uint64_t issue_cycle() const;
  [[nodiscard]] uint64_t records() const;  // trace records simulated
  // After run(): tasks still blocked at the end, as a warning ("" if none).
  [[nodiscard]] std::string blocked_warning() const;
  [[nodiscard]] double wall_seconds() const;  // time spent in run()
  [[nodiscard]] const SimConfig& config() const;
  // The memory time series (stats.series_interval_us > 0; after run() it
  // holds its end row), or null when it is off.
  [[nodiscard]] const MemSeries* series() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmusim
