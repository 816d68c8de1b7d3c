// mmusim: replays a memory-access trace through the modeled translation path
// and writes the results. See README.md for every option and output.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/parse.h"
#include "models/cpu/cpu_core.h"
#include "models/cpu/explain.h"
#include "models/sim/fault_log.h"
#include "models/sim/mem_series.h"
#include "models/sim/memory_estimate.h"
#include "models/sim/reporter.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/trace_reader.h"

namespace po = boost::program_options;
using namespace mmusim;

namespace {

// The trace of --list-modules without --trace.
class NoRecords final : public TraceReader {
 public:
  size_t read(TraceRecord* /*out*/, size_t /*max*/) override { return 0; }
  [[nodiscard]] std::string position() const override { return "start"; }
  [[nodiscard]] const std::string& path() const override { return path_; }

 private:
  std::string path_ = "(no trace)";
};

// --explain N: a decimal count up to explain::kMaxSteps. Read as text, so
// that "-1" is refused rather than wrapped to 2^64 - 1.
uint64_t parse_explain_count(const std::string& text) {
  const ParsedInt r = parse_u64(text, IntSyntax::kDecimal);
  if (!r.ok() || r.value > explain::kMaxSteps) {
    throw InputError("command line: --explain: expected a number of steps from 0 to " +
                     std::to_string(explain::kMaxSteps) + ", got '" + visible(text) + "'");
  }
  return r.value;
}

int run(int argc, char* argv[]) {
  SimConfig cfg;
  ConfigSchema schema;
  build_schema(schema, cfg);

  po::options_description general(
      "Usage: mmusim --config FILE... --trace FILE [options] [--KEY=VALUE...]");
  general.add_options()("help,h",
                        "print this help: every option and model parameter, with unit and default")(
      "config,c", po::value<std::vector<std::string>>()->composing(),
      "INI configuration file; repeatable, later files override earlier ones")(
      "trace,t", po::value<std::string>(),
      "trace to replay: text, binary, lackey, champsim, pin or din, optionally .gz/.xz/.zst; or "
      "gen:SPEC")("trace-format", po::value<std::string>()->default_value("auto"),
                  "force the trace format (auto, text, binary, lackey, champsim, pin, din)")(
      "out,o", po::value<std::string>()->default_value("out"),
      "directory for stats.json, summary.csv and config.ini")(
      "explain", po::value<std::string>()->value_name("N")->default_value("0"),
      "print every step of the first N translations of each CPU, replays of a faulting access "
      "included (and selector loads, invalidations, segmentation faults); N at most 1000000")(
      "fault-log", po::value<std::string>(),
      "write one CSV line per page fault (process, thread, address, class, start, end and the "
      "breakdown) to FILE")(
      "max-memory", po::value<std::string>(),
      "refuse a configuration whose estimated host memory exceeds BYTES (K/M/G/T suffixes; "
      "default: the machine's physical memory)")(
      "allow-empty-trace", "run a trace without records (a warning, all-zero results)")(
      "list-modules",
      "print the SystemC module hierarchy the configuration builds (names as in stats.json) and "
      "exit; --trace is optional");
  po::options_description all;
  all.add(general).add(schema.options());

  const CommandLine cl = parse_command_line(argc, argv, all, schema);
  const po::variables_map& vm = cl.vm;
  if (vm.count("help")) {
    std::cout << all << "\n";
    return 0;
  }
  const uint64_t explain = parse_explain_count(vm["explain"].as<std::string>());
  load_config(
      schema, cfg,
      vm.count("config") ? vm["config"].as<std::vector<std::string>>() : std::vector<std::string>{},
      cl.values);
  // Host memory, estimated from the configuration before anything is built.
  const bool max_set = vm.count("max-memory") != 0;
  check_memory(
      estimate_memory(cfg),
      max_set ? parse_max_memory(vm["max-memory"].as<std::string>()) : physical_memory_bytes(),
      max_set ? "--max-memory" : "the machine's physical memory");
  if (vm.count("list-modules")) {
    // The hierarchy depends on the configuration only: no trace needed.
    std::unique_ptr<TraceReader> none = std::make_unique<NoRecords>();
    Simulation sim(cfg,
                   vm.count("trace") ? open_trace(vm["trace"].as<std::string>(),
                                                  vm["trace-format"].as<std::string>())
                                     : std::move(none),
                   0);
    sim.list_modules(std::cout);
    return 0;
  }
  if (!vm.count("trace")) throw InputError("command line: --trace FILE is required");

  auto reader = open_trace(vm["trace"].as<std::string>(), vm["trace-format"].as<std::string>());
  Simulation sim(cfg, std::move(reader), explain, &std::cout);
  std::unique_ptr<CsvFaultLog> fault_log;
  if (vm.count("fault-log")) {
    fault_log = std::make_unique<CsvFaultLog>(vm["fault-log"].as<std::string>());
    sim.set_fault_sink(fault_log.get());
  }
  sim.run();
  if (sim.records() == 0) {
    const std::string what = vm["trace"].as<std::string>() + ": the trace has no records";
    if (!vm.count("allow-empty-trace")) {
      throw InputError(what + " (empty, or comments only); --allow-empty-trace accepts it");
    }
    std::cerr << "mmusim: warning: " << what << "; the results are all zero\n";
  }
  StatCollector stats;
  sim.visit(stats);
  sim.flush_explain();  // the explain text was written as the run went
  print_summary(std::cout, sim, stats);
  const std::string out = vm["out"].as<std::string>();
  // series.csv is staged first and put in place with the others; with the
  // series off, a series.csv of an earlier run in the same directory goes.
  SeriesOutput series(out, sim.series());
  write_results(out, sim, stats, schema.to_ini());
  series.commit();
  std::cout << "  results                " << out << "/{stats.json,summary.csv,config.ini}\n";
  if (const MemSeries* s = sim.series()) {
    std::cout << "  memory series          " << series.path() << " (" << s->rows()
              << " rows, one per " << cfg.series.interval_us << " us and the end)\n";
  }
  if (fault_log) {
    fault_log->commit();
    std::cout << "  fault log              " << vm["fault-log"].as<std::string>() << " ("
              << fault_log->lines() << " faults)\n";
  }
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  try {
    return run(argc, argv);
  } catch (const InputError& e) {
    std::cerr << "mmusim: error: " << e.what() << "\n";
    return 2;
  } catch (const SegmentationStop& e) {
    // seg.stop_on_fault: results are whole or not at all, so none are written.
    std::cerr << "mmusim: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "mmusim: error: " << e.what() << "\n";
    return 1;
  }
}

// libsystemc's own main() prints a banner to stderr before calling sc_main;
// errors are meant to be one line there, so mmusim enters SystemC itself.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
