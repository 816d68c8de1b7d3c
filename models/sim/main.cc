// mmusim: replays a memory-access trace through the modeled translation path
// and writes the results. See README.md for every option and output.
#include <poll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/interrupt.h"
#include "models/common/parse.h"
#include "models/cpu/cpu_core.h"
#include "models/cpu/explain.h"
#include "models/sim/fault_log.h"
#include "models/sim/mem_series.h"
#include "models/sim/memory_estimate.h"
#include "models/sim/reporter.h"
#include "models/sim/result_dir.h"
#include "models/sim/run_monitor.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/read_ahead.h"
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

// stdout is a pipe whose reader has gone (`| head`, quitting `less`): the
// summary could not be printed, which is no error of the run.
bool stdout_reader_gone() {
  pollfd p{STDOUT_FILENO, 0, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

// The records the trace declares (a binary header, a generator's count),
// capped by sim.max_accesses; 0 when unknown.
uint64_t expected_records(const TraceReader& r, uint64_t max_accesses) {
  const uint64_t declared = r.format_info().declared_records;
  if (declared == 0) return 0;
  return max_accesses != 0 && max_accesses < declared ? max_accesses : declared;
}

// --input-thread's default: $MMUSIM_INPUT_THREAD when set (checked with the
// option), else auto.
std::string input_default() {
  const char* e = std::getenv("MMUSIM_INPUT_THREAD");
  return e != nullptr && *e != '\0' ? e : "auto";
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
      "input-thread", po::value<std::string>()->value_name("WHEN")->default_value(input_default()),
      "decompress and parse the trace on a thread of its own: auto (when the process may run on "
      "two or more CPUs), on, off (one thread); default: $MMUSIM_INPUT_THREAD, else auto")(
      "progress", po::value<std::string>()->value_name("WHEN")->default_value("auto"),
      "progress lines on stderr: auto (when stderr is a terminal, from 2 s on), always, never")(
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
  const ProgressMode progress_mode = parse_progress_mode(vm["progress"].as<std::string>());
  const InputThread input_thread =
      parse_input_thread(vm["input-thread"].as<std::string>(),
                         vm["input-thread"].defaulted() ? "MMUSIM_INPUT_THREAD" : "--input-thread");
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

  auto reader = with_input_thread(
      open_trace(vm["trace"].as<std::string>(), vm["trace-format"].as<std::string>()), input_thread,
      cfg.sim.max_accesses);
  // From here on SIGINT/SIGTERM stop the run with a partial report (a second
  // one quits at once), and a closed stdout is a failed write, not a death.
  interrupt::install(interrupt::Mode::kFinish, "mmusim");
  // The output directory is made and checked, and an earlier run's results
  // in it removed, before any simulation (README "Errors, interruption and
  // results"). stats.json is put in place last.
  const std::string out = vm["out"].as<std::string>();
  std::vector<std::string> others, other_options;
  if (vm.count("fault-log")) {
    others.push_back(vm["fault-log"].as<std::string>());
    other_options.emplace_back("--fault-log");
  }
  ResultDir results(out, "--out", {"config.ini", "series.csv", "summary.csv", "stats.json"}, others,
                    other_options);
  std::unique_ptr<CsvFaultLog> fault_log;
  if (!others.empty()) {
    try {
      fault_log = std::make_unique<CsvFaultLog>(results.staged(others[0]));
    } catch (const std::runtime_error& e) {
      throw InputError("--fault-log " + others[0] + ": " + e.what());
    }
  }
  // Simulated time for the progress lines: the furthest CPU's issue cycle.
  const Simulation* running = nullptr;
  const double hz = static_cast<double>(cfg.sim.core_clock_mhz) * 1e6;
  Progress progress(progress_mode, stderr, isatty(STDERR_FILENO) != 0,
                    expected_records(*reader, cfg.sim.max_accesses), [&running, hz] {
                      return running ? static_cast<double>(running->issue_cycle()) / hz : 0.0;
                    });
  auto monitored = std::make_unique<MonitoredTrace>(std::move(reader), &progress);
  const MonitoredTrace& watch = *monitored;
  Simulation sim(cfg, std::move(monitored), explain, &std::cout);
  if (fault_log) sim.set_fault_sink(fault_log.get());
  running = &sim;
  progress.restart();  // rates count from here, not from the elaboration
  sim.run();
  progress.finish(watch.records());
  RunEnd end;
  end.partial = watch.cut();
  end.accesses = sim.records();
  if (end.partial) end.signal = interrupt::signal_name(interrupt::signal_number());
  if (sim.records() == 0 && !end.partial) {
    const std::string what = vm["trace"].as<std::string>() + ": the trace has no records";
    if (!vm.count("allow-empty-trace")) {
      throw InputError(what + " (empty, or comments only); --allow-empty-trace accepts it");
    }
    std::cerr << "mmusim: warning: " << what << "; the results are all zero\n";
  }
  if (const std::string w = sim.blocked_warning(); !w.empty()) {
    std::cerr << "mmusim: warning: " << w << "\n";
  }
  StatCollector stats;
  sim.visit(stats);
  sim.flush_explain();  // the explain text was written as the run went
  print_summary(std::cout, sim, stats, end);
  write_results(results, sim, stats, schema.to_ini(), end);
  const MemSeries* series = sim.series();
  if (series != nullptr)
    results.write("series.csv", [series](std::ostream& o) { series->write(o); });
  if (fault_log) fault_log->close();
  results.commit();
  std::cout << "  results                " << out << "/{stats.json,summary.csv,config.ini}"
            << (end.partial ? " (partial)" : "") << "\n";
  if (series != nullptr) {
    std::cout << "  memory series          " << results.path("series.csv") << " (" << series->rows()
              << " rows, one per " << cfg.series.interval_us << " us and the end)\n";
  }
  if (fault_log) {
    std::cout << "  fault log              " << others[0] << " (" << fault_log->lines()
              << " faults)\n";
  }
  std::cout.flush();
  if (!std::cout && !stdout_reader_gone()) {
    throw std::runtime_error("stdout: cannot write the summary (the results in " + out +
                             " are complete)");
  }
  if (end.partial) return interrupt::exit_status(interrupt::signal_number());
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
