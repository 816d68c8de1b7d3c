// TLB hierarchy lookup cost (Skylake geometry, LRU). items_per_second is
// lookups per second. Arg 1 = last-hit memo on (default), 0 = off.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "models/tlb/tlb_hierarchy.h"

namespace mmusim {
namespace {

Translation page(uint64_t vpn) {
  Translation t;
  t.vpn = Vpn(vpn);
  t.pfn = Pfn(vpn + 0x100000);
  t.size = PageSize::k4K;
  t.perms = kPermWrite | kPermUser;
  return t;
}

TlbConfig config(const benchmark::State& state) {
  TlbConfig cfg;
  cfg.fast_path = state.range(0) != 0;
  return cfg;
}

// L1 DTLB hit, every access to the same page (served by the memo when on).
void BM_TlbLookupHit_SamePage(benchmark::State& state) {
  TlbHierarchy h(config(state));
  constexpr uint64_t kVpn = 0x12345;
  h.fill(page(kVpn), AccessKind::kRead);
  uint64_t off = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const TlbLookup r =
        h.lookup(LinearAddr((kVpn << 12) | (off & 0xFF8)), AccessKind::kRead, Asid(0));
    sum += r.latency.count();
    off += 8;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TlbLookupHit_SamePage)->Arg(1)->Arg(0);

// L1 DTLB hit, uniformly random over 48 resident pages (3 per set of 16).
void BM_TlbLookupHit_RandomResident(benchmark::State& state) {
  TlbHierarchy h(config(state));
  constexpr uint64_t kBase = 0x40000;
  constexpr uint64_t kPages = 48;
  for (uint64_t p = 0; p < kPages; ++p) h.fill(page(kBase + p), AccessKind::kRead);
  std::mt19937_64 rng(1);
  std::vector<LinearAddr> addrs(4096);
  for (auto& a : addrs) a = LinearAddr(((kBase + rng() % kPages) << 12) | (rng() & 0xFF8));
  size_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const TlbLookup r = h.lookup(addrs[i++ & 4095], AccessKind::kRead, Asid(0));
    sum += r.latency.count();
  }
  benchmark::DoNotOptimize(sum);
  if (h.level_stats().l1d_misses != 0) state.SkipWithError("unexpected L1 miss");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TlbLookupHit_RandomResident)->Arg(1)->Arg(0);

// L1 DTLB miss, STLB hit (with the L1 refill): a cyclic scan over 512 pages,
// 32 per L1 set (LRU always misses), 4 per STLB set (always hits).
void BM_TlbLookupMissL2Hit(benchmark::State& state) {
  TlbHierarchy h(config(state));
  constexpr uint64_t kBase = 0x80000;
  constexpr uint64_t kPages = 512;
  for (uint64_t p = 0; p < kPages; ++p) h.fill(page(kBase + p), AccessKind::kRead);
  uint64_t p = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const TlbLookup r = h.lookup(LinearAddr((kBase + p) << 12), AccessKind::kRead, Asid(0));
    sum += r.latency.count();
    p = (p + 1) & (kPages - 1);
  }
  benchmark::DoNotOptimize(sum);
  const TlbLevelStats s = h.level_stats();
  if (s.l1d_hits != 0 || s.l2_misses != 0) state.SkipWithError("expected L1 miss + L2 hit");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TlbLookupMissL2Hit)->Arg(1);

}  // namespace
}  // namespace mmusim
