// Trace input against simulation on a real program's trace (issue 16 §1, §4):
// the shipped traces/ls.bin.zst (`ls -l /etc`, 2,638,013 records; binary
// version 3 + zstd), written once per process to $TMPDIR as an uncompressed
// binary trace of version 1 (16-byte records) and of version 3, and as
// valgrind lackey text, and read from the page cache.
//
// BM_ReadLimit: the read limit, records/s of the uncompressed version-1
// binary trace through open_trace() with a trivial checksum (no simulation):
// what any end-to-end figure is measured against. BM_ReadLsV3 and
// BM_ReadLsV3Zstd: the same for version 3, uncompressed and the shipped file.
// BM_MmusimLs/format:F/thread:T: simulated accesses per second of
// Simulation::run() over the ls trace, as the mmusim command line runs it
// (built-in default configuration, the reader wrapped by with_input_thread
// with --input-thread off (T = 0) or on (T = 1)); F = 0 binary version 1, 1
// binary version 3 + zstd (the shipped file), 2 lackey text, 3 binary version 3. Each iteration is
// one forked child (SystemC elaborates once per process); the time is the child's run() time.
// scripts/bench runs these pinned and checks the budgets.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/child_run.h"
#include "models/common/config_schema.h"
#include "models/os/os_config.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/read_ahead.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

const std::string kShipped = std::string(MMUSIM_SOURCE_DIR) + "/traces/ls.bin.zst";

// The ls trace as an uncompressed binary file and as lackey text in
// $TMPDIR, written on first use, removed when the process (not a forked
// child) exits.
class LsFiles {
 public:
  ~LsFiles() {
    if (::getpid() != owner_) return;
    if (!binary_.empty()) std::remove(binary_.c_str());
    if (!lackey_.empty()) std::remove(lackey_.c_str());
    if (!v3_.empty()) std::remove(v3_.c_str());
  }
  const std::string& binary() { return get(binary_, "bin", TraceFormat::kBinary, 1); }
  const std::string& binary_v3() { return get(v3_, "v3.bin", TraceFormat::kBinary, 3); }
  const std::string& lackey() { return get(lackey_, "lackey", TraceFormat::kLackey); }

 private:
  const std::string& get(std::string& path, const char* suffix, TraceFormat f,
                         int binary_version = 3) {
    if (!path.empty()) return path;
    const char* t = std::getenv("TMPDIR");
    const std::string p = std::string(t != nullptr && *t != '\0' ? t : "/tmp") + "/mmusim-bench-" +
                          std::to_string(owner_) + "-ls." + suffix;
    auto in = open_trace(kShipped);
    TraceWriterOptions o;
    o.format = f;
    o.binary_version = binary_version;
    TraceWriter w(p, o);
    std::vector<TraceRecord> batch(4096);
    for (size_t n; (n = in->read(batch.data(), batch.size())) > 0;) w.write(batch.data(), n);
    w.close();
    path = p;
    return path;
  }
  pid_t owner_ = ::getpid();
  std::string binary_, lackey_, v3_;
};

LsFiles& ls_files() {
  static LsFiles files;
  return files;
}

// Records/s of reading `path()` with a trivial checksum.
template <class Path>
void read_ls(benchmark::State& state, Path&& path_of) {
  std::string path;
  try {
    path = path_of();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  std::vector<TraceRecord> batch(4096);
  uint64_t total = 0, sum = 0;
  for (auto _ : state) {
    auto r = open_trace(path, "binary");
    for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) {
      for (size_t i = 0; i < n; ++i) sum += batch[i].addr ^ batch[i].size;
      total += n;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(total));
}

void BM_ReadLimit(benchmark::State& state) {
  read_ls(state, [] { return ls_files().binary(); });
}
BENCHMARK(BM_ReadLimit)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ReadLsV3(benchmark::State& state) {
  read_ls(state, [] { return ls_files().binary_v3(); });
}
BENCHMARK(BM_ReadLsV3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ReadLsV3Zstd(benchmark::State& state) {
  read_ls(state, [] { return kShipped; });
}
BENCHMARK(BM_ReadLsV3Zstd)->UseRealTime()->Unit(benchmark::kMillisecond);

struct Child {
  uint64_t records = 0;
  double run_seconds = 0;
  char error[256] = {};
};

// One simulation of `trace` in this (forked) process, as mmusim runs it.
Child simulate(const std::string& trace, InputThread mode) {
  Child c;
  try {
    SimConfig cfg;
    cfg.kernel.model = OsModel::kFirstTouch;  // the model before linux became the default
    ConfigSchema schema;
    build_schema(schema, cfg);
    finalize(cfg);
    Simulation sim(cfg, with_input_thread(open_trace(trace), mode, cfg.sim.max_accesses), 0);
    sim.run();
    c.records = sim.records();
    c.run_seconds = sim.wall_seconds();
  } catch (const std::exception& e) {
    std::snprintf(c.error, sizeof c.error, "%s", e.what());
  }
  return c;
}

// simulate() in a forked child; false with `err` when it failed.
bool run_child(const std::string& trace, InputThread mode, Child* out, std::string* err) {
  if (!bench::run_in_child([&] { return simulate(trace, mode); }, out, err)) return false;
  if (out->error[0] != '\0') {
    *err = std::string("simulation failed: ") + out->error;
    return false;
  }
  return true;
}

void BM_MmusimLs(benchmark::State& state) {
  std::string trace;
  try {
    const int64_t f = state.range(0);
    trace = f == 0   ? ls_files().binary()
            : f == 1 ? kShipped
            : f == 2 ? ls_files().lackey()
                     : ls_files().binary_v3();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const InputThread mode = state.range(1) != 0 ? InputThread::kOn : InputThread::kOff;
  uint64_t records = 0;
  for (auto _ : state) {
    Child c;
    std::string err;
    if (!run_child(trace, mode, &c, &err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    state.SetIterationTime(c.run_seconds);
    records += c.records;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_MmusimLs)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->ArgNames({"format", "thread"})
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mmusim
