// End-to-end simulation speed through the real mmusim path: binary trace file
// (page cache) → TraceReader → SystemC CPU thread → CpuCore (TLBs, walker) →
// TLM DRAM / kernel modules. items_per_second = simulated accesses (trace
// records) per wall-clock second of Simulation::run(), SystemC included.
//
// SystemC elaborates once per process, so every iteration forks a child that
// builds the Skylake-default SimConfig, elaborates, runs and reports through a
// pipe; the parent feeds the child's run() time to SetIterationTime. Traces
// are written once per process to $TMPDIR (default /tmp) in the native binary
// format and removed at exit. Targets (design.md §5, one core): >= 50 M/s on
// the hit-dominated trace, >= 20 M/s at 10 % L1 misses; memory independent of
// trace length (peak_rss_mb of the 2 M and 20 M runs). (e)/(f) guard the
// fault path's cost: a fault per access under os.model=linux and first_touch;
// (g) the major fault's (storage, DMA) in simulated faults per second.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/child_run.h"
#include "bench/sim_child.h"
#include "models/common/config_schema.h"
#include "models/common/os_event.h"
#include "models/common/parse.h"
#include "models/common/stats.h"
#include "models/os/os_config.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/generator.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

// The binary traces of this process (generated and converted), removed when
// it exits.
bench::BenchTraces& trace_files() {
  static bench::BenchTraces files;
  return files;
}

// What a child reports: plain bytes through the pipe.
struct ChildResult {
  uint64_t records = 0, cycles = 0;
  uint64_t translations = 0, l1d_misses = 0, l2_misses = 0, faults = 0;
  uint64_t fork_rss_kb = 0, peak_rss_kb = 0;  // VmRSS when forked, VmHWM at the end
  double run_seconds = 0, setup_seconds = 0;
  char error[512] = {};
};

// The full model of the day, as scripts/quickstart runs mmusim: the Skylake
// preset (caches on the memory path, with its prefetchers) under
// os.model=linux. Without it: the built-in defaults (caches off) under
// os.model=auto (first_touch for a plain trace): translation only.
const std::string kFullPreset = std::string(MMUSIM_SOURCE_DIR) + "/configs/skylake.ini";

// The child's whole life: configure (defaults or the full model, then
// overrides), elaborate, run.
ChildResult simulate(const std::string& trace, const ConfigValues& overrides, bool full) {
  ChildResult r;
  r.fork_rss_kb = bench::status_kb("VmRSS:");
  try {
    auto t0 = std::chrono::steady_clock::now();
    SimConfig cfg;
    // os.model=auto, the default these benchmarks were written for: first_touch
    // for the generated plain traces, linux for (g)'s task trace; (e)/(f) set it.
    cfg.kernel.model = OsModel::kAuto;
    ConfigSchema schema;
    build_schema(schema, cfg);
    if (full) {
      ConfigValues o = overrides;
      o.emplace("os.model", ConfigValue{"linux", "bench_sim.cc"});
      load_config(schema, cfg, {kFullPreset}, o);  // (finalized)
    } else {
      apply_values(schema, overrides);
      finalize(cfg);
    }
    Simulation sim(cfg, open_trace(trace, "binary"), 0);
    r.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim.run();
    bench::CounterMap c;
    sim.visit(c);
    r.records = sim.records();
    r.cycles = sim.cycles();
    r.run_seconds = sim.wall_seconds();
    r.translations = c.get("top.cpu0.translations");
    r.l1d_misses = c.get("top.cpu0.tlb.l1d.misses");
    r.l2_misses = c.get("top.cpu0.tlb.l2.misses");
    r.faults = c.get("top.cpu0.faults");
  } catch (const std::exception& e) {
    std::snprintf(r.error, sizeof r.error, "%s", e.what());
  }
  r.peak_rss_kb = bench::status_kb("VmHWM:");
  return r;
}

// Runs simulate() in a forked child; false (with `err`) if the child failed.
bool run_child(const std::string& trace, const ConfigValues& overrides, ChildResult* out,
               std::string* err, bool full = false) {
  if (!bench::run_in_child([&] { return simulate(trace, overrides, full); }, out, err)) {
    return false;
  }
  if (out->error[0] != '\0') {
    *err = std::string("simulation failed: ") + out->error;
    return false;
  }
  return true;
}

// One end-to-end benchmark: every iteration is one forked simulation of the
// trace of generator `spec`; time = the child's run() wall time. `full`:
// the full model (kFullPreset) instead of the translation-only defaults.
void end_to_end(benchmark::State& state, const std::string& name, const std::string& spec,
                const ConfigValues& overrides = {}, bool full = false) {
  std::string trace;
  try {
    trace = trace_files().generated(name, spec);
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("writing the trace: ") + e.what()).c_str());
    return;
  }
  ChildResult sum;
  uint64_t peak_kb = 0, fork_kb = 0;
  for (auto _ : state) {
    ChildResult r;
    std::string err;
    if (!run_child(trace, overrides, &r, &err, full)) {
      state.SkipWithError(err.c_str());
      return;
    }
    state.SetIterationTime(r.run_seconds);
    sum.records += r.records;
    sum.cycles += r.cycles;
    sum.translations += r.translations;
    sum.l1d_misses += r.l1d_misses;
    sum.l2_misses += r.l2_misses;
    sum.faults += r.faults;
    sum.setup_seconds += r.setup_seconds;
    if (r.peak_rss_kb > peak_kb) peak_kb = r.peak_rss_kb;
    if (r.fork_rss_kb > fork_kb) fork_kb = r.fork_rss_kb;
  }
  const auto it = static_cast<double>(state.iterations());
  const auto translations = static_cast<double>(sum.translations);
  state.SetItemsProcessed(static_cast<int64_t>(sum.records));
  // Per translation (= per record: these traces never cross a page). A miss
  // merged into a pending walk to the same page is not a second miss, and not
  // a hit either: divide by translations, not by hits + misses.
  state.counters["l1d_miss_rate"] = static_cast<double>(sum.l1d_misses) / translations;
  state.counters["stlb_miss_rate"] = static_cast<double>(sum.l2_misses) / translations;
  state.counters["faults"] = static_cast<double>(sum.faults) / it;
  state.counters["sim_cycles"] = static_cast<double>(sum.cycles) / it;
  state.counters["setup_s"] = sum.setup_seconds / it;
  // Peak resident set of the child, including the pages it shares with the
  // parent (benchmark library, SystemC): fork_rss_mb of it was there at fork.
  state.counters["peak_rss_mb"] = static_cast<double>(peak_kb) / 1024.0;
  state.counters["fork_rss_mb"] = static_cast<double>(fork_kb) / 1024.0;
}

ConfigValues values(std::initializer_list<std::pair<const char*, const char*>> kv) {
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "bench_sim.cc"};
  return v;
}

// (a) Sequential 8-byte reads over 64 MiB: one L1 DTLB miss per 512 accesses
// (0.2 %), each a walk (the STLB's 6 MiB reach is below the footprint).
// Arg = trace length: 2 M and 20 M records show memory independent of it.
std::string hit_spec(int64_t records) {
  return "seq,count=" + std::to_string(records) + ",stride=8,size=8,footprint=64M,seed=1";
}
void BM_EndToEndHitDominated(benchmark::State& state) {
  end_to_end(state, "hit-" + std::to_string(state.range(0)), hit_spec(state.range(0)));
}
BENCHMARK(BM_EndToEndHitDominated)
    ->ArgName("records")
    ->Arg(2'000'000)
    ->Arg(20'000'000)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// (b) Sequential reads with a 410-byte stride over 64 MiB: 10 accesses per
// 4 KiB page, so 10 % L1 misses, each a walk (PD-cache hit: one reference).
void BM_EndToEndMiss10(benchmark::State& state) {
  end_to_end(state, "miss10", "seq,count=10000000,stride=410,size=8,footprint=64M,seed=1");
}
BENCHMARK(BM_EndToEndMiss10)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// (c) Uniform random reads over 64 MiB: L1 miss rate 1 - 64/16384 = 99.6 %,
// STLB miss rate 1 - 1536/16384 = 91 %: the walker-bound worst case.
void BM_EndToEndUniform64M(benchmark::State& state) {
  end_to_end(state, "uniform64m", "uniform,count=10000000,size=8,footprint=64M,seed=1");
}
BENCHMARK(BM_EndToEndUniform64M)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// (a)-(c) with the full model of the day (kFullPreset: the Skylake preset's
// caches and prefetchers, os.model=linux): issue 16 §3's budget is that it
// costs at most 10 % on (a) and 25 % on (b) against the translation-only
// runs above (scripts/bench compares them).
void BM_EndToEndHitDominatedFull(benchmark::State& state) {
  end_to_end(state, "hit-20000000", hit_spec(20'000'000), {}, true);
}
BENCHMARK(BM_EndToEndHitDominatedFull)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
void BM_EndToEndMiss10Full(benchmark::State& state) {
  end_to_end(state, "miss10", "seq,count=10000000,stride=410,size=8,footprint=64M,seed=1", {},
             true);
}
BENCHMARK(BM_EndToEndMiss10Full)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
void BM_EndToEndUniform64MFull(benchmark::State& state) {
  end_to_end(state, "uniform64m", "uniform,count=10000000,size=8,footprint=64M,seed=1", {}, true);
}
BENCHMARK(BM_EndToEndUniform64MFull)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// (d) Trace (a) in reference mode: sim.quantum = 0 synchronizes with SystemC
// time (a wait) on every access. Same sim_cycles as (a), by design.
void BM_EndToEndReference(benchmark::State& state) {
  end_to_end(state, "hit-20000000", hit_spec(20'000'000), values({{"sim.quantum", "0"}}));
}
BENCHMARK(BM_EndToEndReference)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// (e) The fault path: sequential 8-byte writes, one per 4 KiB page over
// 2 GiB, so every access takes an anonymous write fault (Linux model: VMA
// lookup, a frame, 64 zero-fill line writes and the PTE write through DRAM,
// then the replayed walk). Compared with (f), the same trace under
// first_touch (a fixed cost, no kernel memory traffic): the fault path's own
// cost per fault is the difference.
std::string fault_spec() {
  return "seq,count=500000,stride=4096,size=8,kind=W,footprint=2G,seed=1";
}
void BM_EndToEndFaultHeavyLinux(benchmark::State& state) {
  end_to_end(state, "faults", fault_spec(), values({{"os.model", "linux"}}));
}
BENCHMARK(BM_EndToEndFaultHeavyLinux)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
void BM_EndToEndFaultHeavyFirstTouch(benchmark::State& state) {
  end_to_end(state, "faults", fault_spec(), values({{"os.model", "first_touch"}}));
}
BENCHMARK(BM_EndToEndFaultHeavyFirstTouch)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// (g) Major faults: one process maps a 64 GiB file read-only, turns
// read-around off (MADV_RANDOM) and reads one byte of each of `faults`
// distinct pages far apart (page i = i x 0x9E3779B1 mod 2^24: an odd
// multiplier permutes the 2^24 pages), so every read is a cold major fault
// of one 4 KiB block request: trap, page-cache miss, allocation, the NVMe
// controller's command path, the device, 64 DMA line writes into DRAM, the
// interrupt, the wake-up and the replayed walk. faults_per_s = simulated
// major faults per wall-clock second of run(); host_us_per_fault its
// inverse; sim_us_per_fault the simulated latency per fault (3 GHz).
// The trace is written as text, then converted to the binary format.
void write_major_fault_trace(std::ostream& f, uint64_t faults) {
  constexpr uint64_t kFileBytes = uint64_t{64} << 30;  // 2^24 pages
  constexpr uint64_t kBase = 0x100000000000;
  f << std::hex << "START pid=100 name=reader\n"
    << "FILE pid=100 file_id=1 path=/data/big.bin size=0x" << kFileBytes << "\n"
    << "OPEN pid=100 file_id=1 flags=O_RDONLY ret=3\n"
    << "MMAP pid=100 len=0x" << kFileBytes << " prot=r-- flags=MAP_PRIVATE fd=3 file_id=1 ret=0x"
    << kBase << "\n"
    << "MADVISE pid=100 addr=0x" << kBase << " len=0x" << kFileBytes << " advice=MADV_RANDOM\n";
  for (uint64_t i = 0; i < faults; ++i) {
    const uint64_t page = (i * 0x9E3779B1ULL) & ((kFileBytes >> 12) - 1);
    f << "R 0x" << kBase + (page << 12) << " 1\n";
  }
  f << "EXIT pid=100\n";
}

void major_faults(benchmark::State& state, const ConfigValues& overrides) {
  const auto faults = static_cast<uint64_t>(state.range(0));
  std::string trace;
  try {
    trace = trace_files().get("major-" + std::to_string(faults),
                              [&](std::ostream& f) { write_major_fault_trace(f, faults); });
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("writing the trace: ") + e.what()).c_str());
    return;
  }
  double seconds = 0, cycles = 0;
  uint64_t peak_kb = 0;
  for (auto _ : state) {
    ChildResult r;
    std::string err;
    if (!run_child(trace, overrides, &r, &err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    if (r.faults != faults) {
      state.SkipWithError(
          ("expected " + std::to_string(faults) + " faults, got " + std::to_string(r.faults))
              .c_str());
      return;
    }
    state.SetIterationTime(r.run_seconds);
    seconds += r.run_seconds;
    cycles += static_cast<double>(r.cycles);
    peak_kb = std::max(peak_kb, r.peak_rss_kb);
  }
  const auto total = static_cast<double>(faults) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.counters["faults_per_s"] = total / seconds;
  state.counters["host_us_per_fault"] = seconds * 1e6 / total;
  state.counters["sim_us_per_fault"] = cycles / 3000.0 / total;
  state.counters["peak_rss_mb"] = static_cast<double>(peak_kb) / 1024.0;
}
void BM_MajorFaultsNvme(benchmark::State& state) { major_faults(state, {}); }
BENCHMARK(BM_MajorFaultsNvme)
    ->ArgName("faults")
    ->Arg(100'000)
    ->Arg(10'000)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
void BM_MajorFaultsOptane(benchmark::State& state) {
  major_faults(state, values({{"disk.model", "optane"}}));
}
BENCHMARK(BM_MajorFaultsOptane)
    ->ArgName("faults")
    ->Arg(100'000)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mmusim
