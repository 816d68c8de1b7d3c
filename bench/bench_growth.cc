// Speed as the model grows (issue 16 §3): a benchmark per path the kernel
// model added, and the scaling rules. Each iteration is one forked
// simulation (bench/sim_child.h); time = the child's Simulation::run().
//   (h) fork with copy-on-write of a process with N mapped pages;
//   (i) reclaim scanning under memory pressure (anonymous memory swapped out);
//   (j) four CPUs sharing one DRAM against one CPU, same records in total;
//   (k) host memory against configured physical memory (4 GiB and 1 TiB).
// Minor faults and major faults through the disk model are bench_sim.cc's
// (e)-(g). bench/README.md has the figures and the budgets.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bench/sim_child.h"

namespace mmusim {
namespace {

using bench::config_values;
using bench::SimResult;

bench::BenchTraces& traces() {
  static bench::BenchTraces t;
  return t;
}

// Runs `trace` once per iteration; false (the state skipped with the error)
// when a child failed. `check` may refuse a result (a wrong count means the
// benchmark measures something else than it says).
template <class Check>
bool run_all(benchmark::State& state, const std::string& trace, const ConfigValues& overrides,
             const std::vector<std::string>& names, SimResult* last, Check check) {
  for (auto _ : state) {
    std::string err;
    if (!bench::simulate_child(trace, overrides, names, last, &err) || !check(*last, &err)) {
      state.SkipWithError(err.c_str());
      return false;
    }
    state.SetIterationTime(last->run_seconds);
  }
  return true;
}

// (h) One process maps N pages of anonymous memory and writes each (N
// anonymous write faults), then, by mode: 0 exits; 1 forks a child that
// exits at once (fork copies N present PTEs, write-protecting them, and the
// child's exit zaps them); 2 forks a child that writes every page (N COW
// copies: 64 line reads and 64 line writes each); 3 forks kForkRounds
// children in a row, each exiting at once (mode 1 ten times: the fork's own
// cost is then well above the noise of the faults before it). Host time of
// modes 1-3 beyond mode 0 is fork's and the copies' own.
constexpr uint64_t kForkRounds = 10;
void write_fork_trace(std::ostream& f, uint64_t pages, int mode) {
  constexpr uint64_t kBase = 0x7f0000000000;
  f << std::hex << "START pid=100 name=forker\n"
    << "MMAP pid=100 len=0x" << pages * 4096 << " prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS ret=0x"
    << kBase << "\n";
  for (uint64_t i = 0; i < pages; ++i) f << "W 0x" << kBase + i * 4096 << " 8\n";
  if (mode == 3) {
    for (uint64_t c = 0; c < kForkRounds; ++c) {
      const uint64_t child = 101 + c;
      f << "PROC_CREATE pid=100 clone_flags=0x11 child_pid=" << std::dec << child << std::hex
        << "\nEXIT pid=" << std::dec << child << " code=0\nWAIT pid=100 child_pid=" << child
        << std::hex << " ret=0x" << child << "\n";
    }
  } else if (mode > 0) {
    f << "PROC_CREATE pid=100 clone_flags=0x11 child_pid=101\n";
    if (mode == 2) {
      for (uint64_t i = 0; i < pages; ++i) f << "@101 W 0x" << kBase + i * 4096 + 8 << " 8\n";
    }
    f << "EXIT pid=101 code=0\nWAIT pid=100 child_pid=101 ret=0x65\n";
  }
  f << "EXIT pid=100 code=0\n";
}

void BM_ForkCow(benchmark::State& state) {
  const auto pages = static_cast<uint64_t>(state.range(0));
  const int mode = static_cast<int>(state.range(1));
  std::string trace;
  try {
    trace = traces().get("fork-" + std::to_string(pages) + "-" + std::to_string(mode),
                         [&](std::ostream& f) { write_fork_trace(f, pages, mode); });
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("writing the trace: ") + e.what()).c_str());
    return;
  }
  SimResult r;
  const uint64_t want_cow = mode == 2 ? pages : 0;
  const bool ok =
      run_all(state, trace, config_values({{"os.model", "linux"}, {"os.phys_mem", "4G"}}),
              {"top.kernel.linux.faults.anon_write", "top.kernel.linux.faults.cow_copy"}, &r,
              [&](const SimResult& x, std::string* err) {
                if (x.values[0] == pages && x.values[1] == want_cow) return true;
                *err = "expected " + std::to_string(pages) + " anonymous write faults and " +
                       std::to_string(want_cow) + " COW copies, got " +
                       std::to_string(x.values[0]) + " and " + std::to_string(x.values[1]);
                return false;
              });
  if (!ok) return;
  state.SetItemsProcessed(static_cast<int64_t>(pages * state.iterations()));  // pages per s
  state.counters["host_ns_per_page"] = r.run_seconds * 1e9 / static_cast<double>(pages);
  state.counters["sim_cycles_per_page"] =
      static_cast<double>(r.cycles) / static_cast<double>(pages);
  state.counters["peak_rss_mb"] = static_cast<double>(r.peak_rss_kb) / 1024.0;
  if (mode == 3) state.counters["forks"] = static_cast<double>(kForkRounds);
}
BENCHMARK(BM_ForkCow)
    ->ArgNames({"pages", "mode"})
    ->Args({100'000, 0})
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Args({100'000, 3})
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// (i) 64 MiB of RAM (48 MiB managed, 12288 frames) and 64 MiB of swap, as
// configs/examples/pressure.ini: one process writes 64 MiB of anonymous
// memory page by page, twice, so kswapd and direct reclaim scan the LRU
// lists and swap pages out, and the second pass swaps them back in.
// items = inactive pages scanned (pgscan_kswapd + pgscan_direct) per second.
void write_pressure_trace(std::ostream& f) {
  constexpr uint64_t kBase = 0x7f0000000000, kPages = uint64_t{64} * 256;
  f << std::hex << "START pid=100 name=hog\n"
    << "MMAP pid=100 len=0x" << kPages * 4096 << " prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS ret=0x"
    << kBase << "\n";
  for (uint64_t pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 0; i < kPages; ++i) f << "W 0x" << kBase + i * 4096 + pass * 8 << " 8\n";
  }
  f << "EXIT pid=100 code=0\n";
}

void BM_ReclaimScan(benchmark::State& state) {
  std::string trace;
  try {
    trace = traces().get("pressure", write_pressure_trace);
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("writing the trace: ") + e.what()).c_str());
    return;
  }
  SimResult r;
  const bool ok = run_all(
      state, trace,
      config_values({{"os.model", "linux"}, {"os.phys_mem", "64M"}, {"os.linux.swap_size", "64M"}}),
      {"vmstat.pgscan_kswapd", "vmstat.pgscan_direct", "vmstat.pswpout", "vmstat.pswpin"}, &r,
      [](const SimResult& x, std::string* err) {
        if (x.values[2] > 0 && x.values[3] > 0) return true;
        *err = "expected pages swapped out and in";
        return false;
      });
  if (!ok) return;
  const uint64_t scanned = r.values[0] + r.values[1];
  state.SetItemsProcessed(static_cast<int64_t>(scanned * state.iterations()));
  state.counters["pages_scanned"] = static_cast<double>(scanned);
  state.counters["pswpout"] = static_cast<double>(r.values[2]);
  state.counters["pswpin"] = static_cast<double>(r.values[3]);
  state.counters["accesses_per_s"] = static_cast<double>(r.records) / r.run_seconds;
  state.counters["peak_rss_mb"] = static_cast<double>(r.peak_rss_kb) / 1024.0;
}
BENCHMARK(BM_ReclaimScan)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// (j) The hit-dominated trace of bench_sim.cc (sequential 8-byte reads, one
// L1 DTLB miss per 512 accesses), 20 M records in total, on one CPU or
// spread over four CPUs (5 M each, each in its own 64 MiB region) sharing
// one DRAM. items = total simulated accesses per second; the budget is that
// four CPUs run at no less than 80 % of one CPU's rate.
void BM_SharedDram(benchmark::State& state) {
  const auto cpus = static_cast<int>(state.range(0));
  const std::string spec =
      "seq,count=20000000,stride=8,size=8,footprint=64M,seed=1,cpus=" + std::to_string(cpus);
  const std::string cpus_value = std::to_string(cpus);
  std::string trace;
  try {
    trace = traces().generated("shared-" + cpus_value, spec);
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("writing the trace: ") + e.what()).c_str());
    return;
  }
  SimResult r;
  ConfigValues o;
  o["sim.cpus"] = ConfigValue{cpus_value, "bench"};
  o["os.model"] = ConfigValue{"first_touch", "bench"};
  const bool ok =
      run_all(state, trace, o, {}, &r, [](const SimResult&, std::string*) { return true; });
  if (!ok) return;
  state.SetItemsProcessed(static_cast<int64_t>(r.records * state.iterations()));
  state.counters["sim_cycles"] = static_cast<double>(r.cycles);
}
BENCHMARK(BM_SharedDram)
    ->ArgName("cpus")
    ->Arg(1)
    ->Arg(4)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// (k) The same 200 000 uniform writes over 64 MiB with 4 GiB and with
// 1 TiB of simulated memory (a DRAM geometry of 16 channels x 4 ranks x
// 2^20 rows, 4 TiB, big enough for both): host memory follows the frames
// the trace touches (16384 frames, all written), not the configured memory.
void BM_PhysMemSize(benchmark::State& state) {
  const auto gib = static_cast<uint64_t>(state.range(0));
  const std::string model = state.range(1) == 0 ? "first_touch" : "linux";
  ConfigValues o;
  o["os.phys_mem"] = ConfigValue{std::to_string(gib) + "G", "bench"};
  o["os.model"] = ConfigValue{model, "bench"};
  o["dram.channels"] = ConfigValue{"16", "bench"};
  o["dram.ranks"] = ConfigValue{"4", "bench"};
  o["dram.rows"] = ConfigValue{"1048576", "bench"};
  SimResult r;
  const bool ok = run_all(state, "gen:uniform,count=200000,size=8,footprint=64M,seed=1,kind=W", o,
                          {}, &r, [](const SimResult&, std::string*) { return true; });
  if (!ok) return;
  state.SetItemsProcessed(static_cast<int64_t>(r.records * state.iterations()));
  state.counters["peak_rss_mb"] = static_cast<double>(r.peak_rss_kb) / 1024.0;
}
BENCHMARK(BM_PhysMemSize)
    ->ArgNames({"gib", "linux"})
    ->Args({4, 0})
    ->Args({1024, 0})
    ->Args({4, 1})
    ->Args({1024, 1})
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mmusim
