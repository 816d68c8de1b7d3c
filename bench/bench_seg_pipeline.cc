// CpuCore throughput with the segmentation stage (plain C++, no SystemC):
// records through process(), a fixed-latency memory, faults to the
// first-touch OS. A TLB-hit-dominated trace (64 hot pages, 1 M records) is
// mapped once before timing, so what is measured is the per-access path.
//
//   LongFastPath       long mode, no segment records: the fast path (canonical check)
//   Bypassed64         the same trace with segmentation bypassed (flat at the core
//                      level, no canonical check): the path before the seg stage
//   LongNamedRegister  long mode, every record names DS/CS: through the seg core
//   Flat32             flat mode, 32-bit paging: the fast path
//   Protected32        protected mode, 32-bit paging, zero bases: every access checked
//   ProtectedLoads     protected mode with a selector load every 16 records
//                      (alternating selectors: every load reads its descriptor)
//   LongVsBypassRatio  both 64-bit loops timed in turn within each iteration;
//                      counter `ratio` = fast-path time / bypassed time
// items_per_second = trace records per second. See bench/README.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "models/cpu/cpu_core.h"
#include "models/os/first_touch.h"

namespace mmusim {
namespace {

// Memory answering every reference after 80 cycles; faults go to the
// first-touch OS.
class BenchEnv : public CpuCore::Env {
 public:
  Cycle access(PhysAddr /*a*/, bool /*w*/, Cycle at) override { return at + Cycles(80); }
  void sync(Cycle /*t*/) override {}
  FaultOutcome fault(const FaultInfo& f) override { return os->handle(f); }
  FirstTouchMapper* os = nullptr;
};

struct Machine {
  PhysMem mem;
  BenchEnv env;
  std::unique_ptr<FirstTouchMapper> os;
  DescriptorTables tables;
  std::unique_ptr<CpuCore> core;
  Machine(PagingMode pm, SegMode sm) {
    FirstTouchConfig oc;
    oc.mode = pm;
    oc.phys_bytes = 1ULL << 30;
    os = std::make_unique<FirstTouchMapper>(oc, mem);
    env.os = os.get();
    CpuCoreConfig cc;
    cc.walker.mode = pm;
    cc.seg.mode = sm;
    cc.seg.cpl = 3;
    cc.seg.gdt_limit = 8 * 6 - 1;
    if (sm == SegMode::kLong64) cc.seg.canonical_bits = pm == PagingMode::k5Level ? 57 : 48;
    // GDT[5] (0x2B): user data, Accessed clear at first, next to the flat GDT.
    tables = DescriptorTables::defaults(cc.seg);
    tables.set(LinearAddr(uint64_t{8} * 5),
               make_segment(0, 1ULL << 32, kDataReadWrite, 3).encode());
    core = std::make_unique<CpuCore>(0, cc, mem, env, 0, nullptr, &tables);
    core->set_root(os->root());
  }
};

// 64 hot 4 KiB pages, reads/writes/fetches mixed; `named` puts DS/CS on every
// record; `load_every` > 0 inserts a selector load into FS every that many.
std::vector<TraceRecord> trace(bool named, int load_every) {
  std::vector<TraceRecord> v;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < (1 << 20); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (load_every > 0 && i % load_every == 0) {
      TraceRecord l;
      l.addr = (i / load_every) % 2 ? 0x23 : 0x2B;
      l.flags = static_cast<uint8_t>(trace_flags::reg_bits(4) | trace_flags::kOpLoad);
      v.push_back(l);
      continue;
    }
    TraceRecord r;
    r.addr = 0x10000000 + ((x >> 12) & 63) * 4096 + (x & 0xFF8);
    r.size = 8;
    r.kind = (x >> 40) % 8 == 0  ? AccessKind::kWrite
             : (x >> 40) % 8 < 3 ? AccessKind::kFetch
                                 : AccessKind::kRead;
    if (named) r.flags = trace_flags::reg_bits(r.kind == AccessKind::kFetch ? 1 : 3);
    v.push_back(r);
  }
  return v;
}

void run_once(CpuCore& core, const std::vector<TraceRecord>& v) {
  Cycle t;
  for (const TraceRecord& r : v) t = core.process(r);
  benchmark::DoNotOptimize(t);
}

void run(benchmark::State& state, PagingMode pm, SegMode sm, bool named, int load_every = 0) {
  Machine m(pm, sm);
  const std::vector<TraceRecord> v = trace(named, load_every);
  run_once(*m.core, v);  // map the pages, warm the TLBs
  for (auto _ : state) run_once(*m.core, v);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * v.size()));
  state.counters["seg_faults"] = static_cast<double>(m.core->seg().stats().faults());
}

void BM_SegPipeline_LongFastPath(benchmark::State& s) {
  run(s, PagingMode::k4Level, SegMode::kLong64, false);
}
void BM_SegPipeline_Bypassed64(benchmark::State& s) {
  run(s, PagingMode::k4Level, SegMode::kFlat, false);
}
void BM_SegPipeline_LongNamedRegister(benchmark::State& s) {
  run(s, PagingMode::k4Level, SegMode::kLong64, true);
}
void BM_SegPipeline_Flat32(benchmark::State& s) {
  run(s, PagingMode::k32Bit, SegMode::kFlat, false);
}
void BM_SegPipeline_Protected32(benchmark::State& s) {
  run(s, PagingMode::k32Bit, SegMode::kProtected32, false);
}
void BM_SegPipeline_ProtectedLoads(benchmark::State& s) {
  run(s, PagingMode::k32Bit, SegMode::kProtected32, false, 16);
}

void BM_SegPipeline_LongVsBypassRatio(benchmark::State& state) {
  Machine fast(PagingMode::k4Level, SegMode::kLong64);
  Machine bypass(PagingMode::k4Level, SegMode::kFlat);
  const std::vector<TraceRecord> v = trace(false, 0);
  run_once(*fast.core, v);
  run_once(*bypass.core, v);
  double t_fast = 0, t_bypass = 0;
  for (auto _ : state) {
    auto a = std::chrono::steady_clock::now();
    run_once(*fast.core, v);
    auto b = std::chrono::steady_clock::now();
    run_once(*bypass.core, v);
    auto c = std::chrono::steady_clock::now();
    t_fast += std::chrono::duration<double>(b - a).count();
    t_bypass += std::chrono::duration<double>(c - b).count();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * v.size() * 2));
  state.counters["ratio"] = t_fast / t_bypass;
  state.counters["fast_Mps"] = static_cast<double>(state.iterations() * v.size()) / t_fast / 1e6;
  state.counters["bypass_Mps"] =
      static_cast<double>(state.iterations() * v.size()) / t_bypass / 1e6;
}

BENCHMARK(BM_SegPipeline_LongFastPath)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_Bypassed64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_LongNamedRegister)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_Flat32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_Protected32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_ProtectedLoads)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegPipeline_LongVsBypassRatio)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mmusim
