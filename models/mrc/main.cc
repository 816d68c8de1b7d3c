// mmusim-mrc: TLB miss-ratio curves in one pass over a trace. Reads the same
// --config files, --trace and --KEY=VALUE options as mmusim and writes
// <out>/mrc.csv; README.md "Miss-ratio curves" documents every option.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "models/arch/paging.h"
#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/interrupt.h"
#include "models/mrc/mrc.h"
#include "models/sim/result_dir.h"
#include "models/sim/sim_config.h"
#include "traces/trace_reader.h"

namespace po = boost::program_options;
using namespace mmusim;

namespace {

// The default points: 200 of them, or every power of two with --ways.
std::string default_sizes(const MrcConfig& m) {
  if (m.ways != 0) {
    std::string s;
    for (uint64_t sets = 1; sets <= 16384 && m.ways * sets <= (uint64_t{1} << 24); sets *= 2) {
      s += (s.empty() ? "" : ",") + std::to_string(m.ways * sets);
    }
    return s;
  }
  const uint64_t step = m.sets != 0 ? m.sets : (m.level == MrcLevel::kL2 ? 16 : 2);
  return std::to_string(step) + ":" + std::to_string(200 * step) + ":" + std::to_string(step);
}

// The MRC's view of the finalized model configuration; throws InputError for
// what the one-pass method does not model.
MrcConfig mrc_config(const SimConfig& cfg) {
  if (cfg.kernel.model == OsModel::kLinux) {
    throw InputError(
        "os.model: mmusim-mrc follows the first-touch OS model (page sizes from "
        "os.huge_regions); expected first_touch (its default) or auto, got linux");
  }
  if (cfg.walker.mode == PagingMode::kOff) {
    throw InputError("walker.mode: paging is off, so there are no TLBs to measure");
  }
  if (cfg.seg.mode != SegMode::kFlat && cfg.seg.mode != SegMode::kLong64) {
    throw InputError(
        "seg.mode: mmusim-mrc supports the flat and long modes (got a mode with "
        "segment bases)");
  }
  MrcConfig m;
  m.tlb = cfg.tlb;
  for (const HugeRegion& r : cfg.os.regions) m.regions.push_back(MrcRegion{r.start, r.end, r.size});
  const PagingModeInfo& pm = paging_mode_info(cfg.walker.mode);
  m.linear_mask =
      pm.linear_bits >= 64 || pm.canonical ? ~uint64_t{0} : (uint64_t{1} << pm.linear_bits) - 1;
  m.canonical_bits = cfg.seg.mode == SegMode::kLong64 ? cfg.seg.canonical_bits : 0;
  m.asid = Asid(static_cast<uint16_t>(cfg.sim.asid));
  return m;
}

int run(int argc, char* argv[]) {
  SimConfig cfg;
  // mmusim-mrc follows the first-touch OS model: its own default (mmusim's
  // is linux); an explicit os.model=linux is refused by mrc_config().
  cfg.kernel.model = OsModel::kFirstTouch;
  ConfigSchema schema;
  build_schema(schema, cfg);

  po::options_description general(
      "Usage: mmusim-mrc --config FILE... --trace FILE [options] [--KEY=VALUE...]\n"
      "Miss-ratio curves of LRU TLBs in one pass; writes OUT/mrc.csv");
  general.add_options()("help,h", "print this help")(
      "config,c", po::value<std::vector<std::string>>()->composing(),
      "INI configuration file; repeatable, later files override earlier ones")(
      "trace,t", po::value<std::string>(), "trace (any format mmusim reads) or gen:SPEC")(
      "trace-format", po::value<std::string>()->default_value("auto"), "force the trace format")(
      "out,o", po::value<std::string>()->default_value("out"), "directory for mrc.csv")(
      "level", po::value<std::string>()->default_value("l2"),
      "measured level: l2 (the STLB behind the configured L1 TLBs) or l1 (each L1 array, "
      "nothing in front)")("sizes", po::value<std::string>(),
                           "entries of each point: FROM:TO:STEP or A,B,C (default: 200 points, "
                           "16:3200:16 for l2, 2:400:2 for l1, multiples of --sets, or --ways x "
                           "1, 2, 4 ... 16384 sets)")(
      "sets", po::value<uint64_t>()->default_value(0),
      "fixed number of sets (a power of two); ways swept")(
      "ways", po::value<uint64_t>()->default_value(0),
      "fixed number of ways; sets swept (powers of two); neither: fully associative");
  po::options_description all;
  all.add(general).add(schema.options());
  // mmusim's command-line rules: no abbreviations, no stray words, no
  // "--out --trace", no "--OPT=" without a value, each key once.
  const CommandLine cl = parse_command_line(argc, argv, all, schema, "mmusim-mrc");
  const po::variables_map& vm = cl.vm;
  if (vm.count("help")) {
    std::cout << all << "\n";
    return 0;
  }
  load_config(
      schema, cfg,
      vm.count("config") ? vm["config"].as<std::vector<std::string>>() : std::vector<std::string>{},
      cl.values);
  if (!vm.count("trace")) throw InputError("command line: --trace FILE is required");

  MrcConfig m = mrc_config(cfg);
  const std::string level = vm["level"].as<std::string>();
  if (level == "l1") {
    m.level = MrcLevel::kL1;
  } else if (level != "l2") {
    throw InputError("--level: expected l1 or l2, got '" + level + "'");
  }
  const uint64_t sets = vm["sets"].as<uint64_t>();
  const uint64_t ways = vm["ways"].as<uint64_t>();
  if (sets > UINT32_MAX || ways > UINT32_MAX) throw InputError("--sets/--ways: too large");
  m.sets = static_cast<uint32_t>(sets);
  m.ways = static_cast<uint32_t>(ways);
  m.sizes = parse_mrc_sizes(vm.count("sizes") ? vm["sizes"].as<std::string>() : default_sizes(m));

  // The result directory is checked (and an earlier run's mrc.csv removed)
  // before the trace is read; the new file is put in place whole at the end.
  ResultDir results(vm["out"].as<std::string>(), "--out", {"mrc.csv"});
  const auto t0 = std::chrono::steady_clock::now();
  MrcEngine engine(m);
  auto reader = open_trace(vm["trace"].as<std::string>(), vm["trace-format"].as<std::string>());
  std::vector<TraceRecord> buf(4096);
  const uint64_t limit = cfg.sim.max_accesses;
  uint64_t seen = 0;
  while (limit == 0 || seen < limit) {
    const size_t want = limit == 0 ? buf.size() : std::min<uint64_t>(buf.size(), limit - seen);
    const size_t n = reader->read(buf.data(), want);
    if (n == 0) break;
    if (reader->has_tasks()) {
      throw InputError(reader->path() +
                       ": a trace with OS events (tasks); mmusim-mrc reads plain access traces");
    }
    for (size_t i = 0; i < n; ++i) {
      const TraceRecord& r = buf[i];
      if (r.flags != 0) {
        throw InputError(reader->path() + ": record " + std::to_string(seen + i + 1) +
                         ": segment, invalidation or event records are not modelled by "
                         "mmusim-mrc (plain R/W/X accesses only)");
      }
      if (r.cpu != 0) {
        throw InputError(reader->path() + ": record " + std::to_string(seen + i + 1) +
                         ": record for cpu " + std::to_string(r.cpu) +
                         "; mmusim-mrc models one CPU (expected cpu 0)");
      }
      engine.access(r.addr, r.size, r.kind);
    }
    seen += n;
  }
  const std::vector<MrcPoint> points = engine.curve();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  results.write("mrc.csv", [&](std::ostream& f) { write_mrc_csv(f, points, engine.records()); });
  results.commit();
  const std::string path = results.path("mrc.csv");

  std::cout << "mmusim-mrc: " << engine.records() << " records, " << engine.translations()
            << " translations";
  if (engine.skipped() != 0) std::cout << ", " << engine.skipped() << " non-canonical skipped";
  std::cout << ", " << m.sizes.size() << " sizes x " << (points.size() / m.sizes.size())
            << " array(s) in " << secs << " s\n";
  if (engine.unmeasured() != 0) {
    std::cout << "  " << engine.unmeasured()
              << " L1 misses of a page size no STLB array holds (not in any curve)\n";
  }
  if (m.level == MrcLevel::kL2 && cfg.tlb.l2.replacement != ReplPolicy::kLru) {
    std::cout << "  note: the curve is of LRU arrays (tlb.l2.replacement is "
              << repl_policy_name(cfg.tlb.l2.replacement) << ")\n";
  }
  std::cout << "  results                " << path << " (" << points.size() << " points)\n";
  return 0;
}

}  // namespace

// libsystemc.so needs an sc_main once it is linked in. A Release build drops
// it (nothing here uses SystemC), but a sanitizer build keeps it (the
// instrumentation references SystemC's type information through the
// simulation library); this program has its own main and never starts
// SystemC. SystemC declares it extern "C" (sysc/kernel/sc_externs.h), which
// this file does not include.
extern "C" int sc_main(int /*argc*/, char* /*argv*/[]) { return 1; }

int main(int argc, char* argv[]) {
  // A signal removes the staged mrc.csv before the process ends.
  interrupt::install(interrupt::Mode::kQuit, "mmusim-mrc");
  try {
    return run(argc, argv);
  } catch (const InputError& e) {
    std::cerr << "mmusim-mrc: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mmusim-mrc: error: " << e.what() << "\n";
    return 1;
  }
}
