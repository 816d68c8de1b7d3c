// One-pass miss-ratio curves against single simulations of the same trace
// (issue 14 §2: a 200-point curve should cost no more than ~3 simulations).
// BM_MrcCurve runs MrcEngine over the trace (reading included) for 200 STLB
// sizes; BM_MrcSingleSimulation runs one mmusim Simulation of the default
// configuration over the same trace in a forked child (SystemC elaborates
// once per process) and reports its run() time. Both count items = trace
// records. Traces: traces/ls.bin.zst (real) and a uniform random stream
// written once to $TMPDIR as a binary trace (removed at exit).
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/child_run.h"
#include "models/common/config_schema.h"
#include "models/mrc/mrc.h"
#include "models/os/os_config.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/generator.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

constexpr const char* kUniformSpec = "uniform,count=4000000,footprint=64M,writes=0.2";

// The uniform trace as a binary file, written on first use, removed at exit.
class UniformTrace {
 public:
  ~UniformTrace() {
    if (!path_.empty() && ::getpid() == owner_) std::remove(path_.c_str());
  }
  const std::string& path() {
    if (!path_.empty()) return path_;
    const char* t = std::getenv("TMPDIR");
    path_ = std::string(t != nullptr && *t != '\0' ? t : "/tmp") + "/mmusim-bench-mrc-" +
            std::to_string(owner_) + ".bin";
    auto gen = open_generator(kUniformSpec);
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    TraceWriter w(path_, o);
    std::vector<TraceRecord> batch(4096);
    for (size_t n; (n = gen->read(batch.data(), batch.size())) > 0;) w.write(batch.data(), n);
    w.close();
    return path_;
  }

 private:
  pid_t owner_ = ::getpid();
  std::string path_;
};

std::string trace_path(int which) {
  static UniformTrace uniform;
  return which == 0 ? std::string(MMUSIM_SOURCE_DIR) + "/traces/ls.bin.zst" : uniform.path();
}

// The MRC configuration mmusim-mrc builds from the default SimConfig.
MrcConfig default_mrc(uint32_t ways, const std::string& sizes) {
  SimConfig cfg;
  ConfigSchema schema;
  build_schema(schema, cfg);
  finalize(cfg);
  MrcConfig m;
  m.tlb = cfg.tlb;
  m.ways = ways;
  m.sizes = parse_mrc_sizes(sizes);
  return m;
}

// Arg 0: trace (0 ls, 1 uniform); arg 1: 0 fully associative 16:3200:16
// (200 points), 1 fixed 12 ways x 1..16384 sets (15 set counts, 15 stacks
// updated per STLB reference).
void BM_MrcCurve(benchmark::State& state) {
  const std::string trace = trace_path(static_cast<int>(state.range(0)));
  const bool fixed_ways = state.range(1) == 1;
  std::string sizes;
  for (uint64_t s = 1; s <= 16384; s *= 2)
    sizes += (sizes.empty() ? "" : ",") + std::to_string(12 * s);
  const MrcConfig m = fixed_ways ? default_mrc(12, sizes) : default_mrc(0, "16:3200:16");
  uint64_t records = 0, points = 0, updates = 0;
  std::vector<TraceRecord> buf(4096);
  for (auto _ : state) {
    MrcEngine e(m);
    auto r = open_trace(trace);
    while (size_t n = r->read(buf.data(), buf.size())) {
      for (size_t i = 0; i < n; ++i) e.access(buf[i].addr, buf[i].size, buf[i].kind);
    }
    points = e.curve().size();
    records = e.records();
    updates = e.stack_updates();
    benchmark::DoNotOptimize(points);
  }
  state.SetItemsProcessed(static_cast<int64_t>(records * state.iterations()));
  state.counters["points"] = static_cast<double>(points);
  state.counters["stack_updates"] = static_cast<double>(updates);
}
BENCHMARK(BM_MrcCurve)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"trace", "fixed_ways"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

struct SimChild {
  double run_seconds = 0;
  uint64_t records = 0;
  char error[256] = {};
};

// One Simulation (default configuration) in a forked child: its run() time.
SimChild simulate_in_child(const std::string& trace) {
  SimChild out;
  std::string err;
  const auto work = [&] {
    SimChild r;
    try {
      SimConfig cfg;
      cfg.kernel.model = OsModel::kFirstTouch;  // os.model=first_touch, as mmusim-mrc follows
      ConfigSchema schema;
      build_schema(schema, cfg);
      finalize(cfg);
      Simulation sim(cfg, open_trace(trace), 0);
      sim.run();
      r.run_seconds = sim.wall_seconds();
      r.records = sim.records();
    } catch (const std::exception& e) {
      std::snprintf(r.error, sizeof r.error, "%s", e.what());
    }
    return r;
  };
  if (!bench::run_in_child(work, &out, &err)) {
    std::snprintf(out.error, sizeof out.error, "%s", err.c_str());
  }
  return out;
}

void BM_MrcSingleSimulation(benchmark::State& state) {
  const std::string trace = trace_path(static_cast<int>(state.range(0)));
  uint64_t records = 0;
  for (auto _ : state) {
    const SimChild c = simulate_in_child(trace);
    if (c.error[0] != '\0') {
      state.SkipWithError(c.error);
      return;
    }
    records = c.records;
    state.SetIterationTime(c.run_seconds);
  }
  state.SetItemsProcessed(static_cast<int64_t>(records * state.iterations()));
}
BENCHMARK(BM_MrcSingleSimulation)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("trace")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace mmusim
