// Analytic validation (design.md §4) through the plain C++ CPU core: the whole
// per-CPU translation path (address generator, TLBs, MSHRs, walker, first-touch
// faults) with a fixed-latency memory, fed with generator traces. Every count
// and latency below is derived on paper in the comments; statistical ones
// (uniform random) are held to 1 percentage point.
//
// Symbols used in the derivations (defaults of the Skylake preset):
//   L  memory latency of the FixedLatencyEnv (100 cycles unless said)
//   M  TLB miss latency before the walk = L1 miss (max over the side's L1
//      arrays, probed in parallel: 1) + L2 miss (max over L2 arrays: 9) = 10
//   O  walker.overhead = 2;  p = PWC probe latency (max over enabled PWCs) = 1
//   C  os.minor_fault_cost = 1000
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/common/config_schema.h"
#include "tests/sim/analytic_machine.h"

namespace mmusim {
namespace {

using analytic::Machine;
using analytic::Overrides;

constexpr uint64_t kBase = 0x10000000;  // generator default base: 1G-, 2M-aligned; PD index 128

// A snapshot of the counters that the analytic tests difference.
struct Snap {
  uint64_t records, l1d_misses, l2_hits, l2_misses, merges, walks, faults, tcycles;
  static Snap of(Machine& m) {
    return {
        m.cpu().records, m.tlb().l1d_misses, m.tlb().l2_hits, m.tlb().l2_misses,
        m.merges(),      m.walker().walks,   m.cpu().faults,  m.cpu().translation_latency.sum()};
  }
  Snap operator-(const Snap& o) const {
    return {records - o.records,     l1d_misses - o.l1d_misses, l2_hits - o.l2_hits,
            l2_misses - o.l2_misses, merges - o.merges,         walks - o.walks,
            faults - o.faults,       tcycles - o.tcycles};
  }
};

std::string stride_spec(uint64_t pages, uint64_t count, uint64_t stride = 4096) {
  return "stride,stride=" + std::to_string(stride) +
         ",footprint=" + std::to_string(pages * stride) + ",count=" + std::to_string(count);
}

// ------------------------------------------------------- sequential scan --

TEST(Analytic, SequentialScanMissesOncePerPage) {
  // P = 512 pages (one 2 MiB region, one page table), stride 64 B: 64
  // accesses per page, two passes. Skylake defaults: window 64, 2 per cycle.
  constexpr uint64_t P = 512, kPerPage = 64;
  Machine m;
  m.run("seq,footprint=2M,count=" + std::to_string(2 * P * kPerPage));
  // Pass 1, page k: its first access A0 misses L1 and L2 (walk), the walk
  // finds PTE.P = 0 (first touch) -> fault; the OS maps the page and A0
  // replays its walk, which succeeds and allocates an MSHR entry ready at
  // D_k. A1..A63 issue (2 per cycle, 32 cycles) long before D_k (walk >= L):
  // they find the pending MSHR and merge -- they are neither TLB misses nor
  // hits. Page k+1's first access needs the window slot of A0 (64 accesses
  // older), so it issues exactly at D_k, retires the MSHR (fill) and misses.
  //   => pass 1: l1d misses = l2 misses = P, walks = 2P, faults = P,
  //      merges = 63P, L1 hits = 0.
  // Pass 2: 512 pages > 64 L1 entries, scanned in order (LRU): each page's
  // first access misses L1 and hits the STLB (512 pages in 128 sets x 12
  // ways: 4 per set), refilling L1; the other 63 hit L1.
  //   => pass 2: l1d misses += P, l2 hits = P, L1 hits = 63P.
  EXPECT_EQ(m.cpu().records, 2 * P * kPerPage);
  EXPECT_EQ(m.cpu().translations, 2 * P * kPerPage);
  EXPECT_EQ(m.cpu().page_splits, 0U);
  EXPECT_EQ(m.tlb().l1d_misses, 2 * P);
  EXPECT_EQ(m.tlb().l2_misses, P);
  EXPECT_EQ(m.tlb().l2_hits, P);
  EXPECT_EQ(m.cpu().tlb_misses, P);
  EXPECT_EQ(m.cpu().faults, P);
  EXPECT_EQ(m.cpu().faults_by_kind[static_cast<int>(FaultKind::kNotPresent)], P);
  EXPECT_EQ(m.walker().walks, 2 * P);  // walks = P + faults
  EXPECT_EQ(m.merges(), (kPerPage - 1) * P);
  EXPECT_EQ(m.cpu().l1_hits, (kPerPage - 1) * P);
  EXPECT_EQ(m.cpu().l2_hits, P);
  EXPECT_EQ(m.tlb().l1i_misses, 0U);
  EXPECT_EQ(m.os->stats().mapped_pages[0], P);
  // Walk references. Page 0: the fault walk reads PML4[0] (P = 0): 1 ref;
  // the replay reads PML4E, PDPTE, PDE, PTE and sets A in each (the OS
  // creates entries without A): 8 refs, and fills the PML4/PDPT/PD PWCs.
  // Pages 1..511: the PD PWC hits (same 2 MiB region), so the fault walk
  // reads the PTE only (1 ref) and the replay reads it and sets A (2 refs).
  EXPECT_EQ(m.walker().mem_refs, 9 + 3 * (P - 1));
  EXPECT_EQ(m.walker().ad_writes, 4 + (P - 1));
  EXPECT_EQ(m.walker().entry_reads, 5 + 2 * (P - 1));
  EXPECT_EQ(m.env.refs, m.walker().mem_refs);  // only walks touch memory here
  EXPECT_EQ(m.env.writes, m.walker().ad_writes);
  // Cycles. Page 0: M+O+p (=13) to the PML4 read, +L, fault +C, replay
  // M+O+p +8L: D_0 = 2*13 + C + 9L = 1926. Page k >= 1 starts at D_{k-1}:
  // 13 + L (fault walk) + C + 13 + 2L (replay): D_k = D_{k-1} + 1326.
  // Pass 2 issues 2 accesses per cycle without stalling (an STLB hit costs
  // 10 cycles, well inside the 64-access window): 32768 accesses take 16384
  // cycles, the last one an L1 hit retiring one cycle after its issue.
  const uint64_t d_last = 1926 + (P - 1) * 1326;
  EXPECT_EQ(m.finish(), d_last + P * kPerPage / 2);
}

TEST(Analytic, SequentialScanTranslationCyclesOfTheSecondPass) {
  // Second pass only: per page an STLB hit (L1 miss 1 + L2 9 = 10 cycles)
  // and 63 L1 hits (1 cycle each).
  constexpr uint64_t P = 512;
  Machine m;
  m.run("seq,footprint=2M,count=" + std::to_string(P * 64));
  Snap a = Snap::of(m);
  m.run("seq,footprint=2M,count=" + std::to_string(P * 64));
  Snap d = Snap::of(m) - a;
  EXPECT_EQ(d.tcycles, P * (10 + 63));
  EXPECT_EQ(d.l1d_misses, P);
  EXPECT_EQ(d.l2_hits, P);
  EXPECT_EQ(d.walks, 0U);
}

// ---------------------------------------------------- LRU pathology, cliff --

TEST(Analytic, CyclicScanOneMorePageThanAFullyAssociativeL1MissesEveryTime) {
  // Fully associative 64-entry LRU L1 DTLB, 65 pages touched cyclically, one
  // access per page, 20 rounds. Window 1 (each access retires, and its walk
  // fills the TLBs, before the next issues) makes the count exact from the
  // start: after page 64's fill the L1 holds pages 1..64 and LRU always
  // evicts exactly the page needed next. All 65 pages fit the STLB.
  constexpr uint64_t kPages = 65, kRounds = 20, N = kPages * kRounds;
  Machine m({{"tlb.l1d.4K.entries", "64"},
             {"tlb.l1d.4K.ways", "64"},
             {"cpu.window", "1"},
             {"cpu.issue_width", "1"}});
  m.run(stride_spec(kPages, N));
  EXPECT_EQ(m.tlb().l1d_misses, N);  // every access
  EXPECT_EQ(m.cpu().l1_hits, 0U);
  EXPECT_EQ(m.tlb().l2_misses, kPages);  // first round only
  EXPECT_EQ(m.tlb().l2_hits, N - kPages);
  EXPECT_EQ(m.walker().walks, 2 * kPages);
  EXPECT_EQ(m.cpu().faults, kPages);
}

TEST(Analytic, CyclicScanLruPathologyWithTheDefaultWindow) {
  // Same with the Skylake window (64) and issue width (2): walks overlap and
  // fills wait for their MSHR, so the first two rounds differ, but once every
  // page hits the STLB (which fills L1 at lookup) each access misses L1.
  constexpr uint64_t kPages = 65;
  Machine m({{"tlb.l1d.4K.entries", "64"}, {"tlb.l1d.4K.ways", "64"}});
  m.run(stride_spec(kPages, 3 * kPages));
  Snap a = Snap::of(m);
  m.run(stride_spec(kPages, 50 * kPages));  // restarts at page 0: still cyclic
  Snap d = Snap::of(m) - a;
  EXPECT_EQ(d.records, 50 * kPages);
  EXPECT_EQ(d.l1d_misses, 50 * kPages);
  EXPECT_EQ(d.l2_hits, 50 * kPages);
  EXPECT_EQ(d.l2_misses, 0U);
  EXPECT_EQ(d.walks, 0U);
}

TEST(Analytic, CyclicScanThatFitsMissesOnlyOnFirstTouch) {
  // 64 pages in a fully associative 64-entry L1: only the first round misses.
  Machine m({{"tlb.l1d.4K.entries", "64"},
             {"tlb.l1d.4K.ways", "64"},
             {"cpu.window", "1"},
             {"cpu.issue_width", "1"}});
  m.run(stride_spec(64, uint64_t{64} * 20));
  EXPECT_EQ(m.tlb().l1d_misses, 64U);
  EXPECT_EQ(m.tlb().l2_misses, 64U);
  EXPECT_EQ(m.cpu().l1_hits, 64U * 19);
}

// Steady-state L1 DTLB misses per access of a cyclic stride scan over `pages`
// pages (rounds 3..22, after warm-up) on the Skylake defaults.
double steady_l1_miss_rate(uint64_t pages, uint64_t stride, const Overrides& o = {}) {
  Machine m(o);
  m.run(stride_spec(pages, 3 * pages, stride));
  Snap a = Snap::of(m);
  m.run(stride_spec(pages, 20 * pages, stride));
  Snap d = Snap::of(m) - a;
  EXPECT_EQ(d.walks, 0U);
  return static_cast<double>(d.l1d_misses) / static_cast<double>(d.records);
}

TEST(Analytic, StridedScanShowsTheReachCliff) {
  // Fully associative LRU L1 of 64 entries: up to 64 pages -> no misses after
  // warm-up; 65 or more -> every access misses (cyclic LRU).
  const Overrides fa = {{"tlb.l1d.4K.entries", "64"}, {"tlb.l1d.4K.ways", "64"}};
  for (uint64_t pages : {16, 32, 63, 64})
    EXPECT_EQ(steady_l1_miss_rate(pages, 4096, fa), 0.0) << pages;
  for (uint64_t pages : {65, 80, 128, 1000})
    EXPECT_EQ(steady_l1_miss_rate(pages, 4096, fa), 1.0) << pages;
  // Skylake's 4-way, 16-set L1 (set = vpn mod 16): 64 consecutive pages fill
  // every set exactly -> 0; 65 pages put 5 pages (0, 16, 32, 48, 64) in set 0,
  // which cycle through 4 ways and all miss -> exactly 5/65; at 128 pages
  // every set cycles 8 pages through 4 ways -> 1.
  EXPECT_EQ(steady_l1_miss_rate(64, 4096), 0.0);
  EXPECT_DOUBLE_EQ(steady_l1_miss_rate(65, 4096), 5.0 / 65.0);
  EXPECT_EQ(steady_l1_miss_rate(128, 4096), 1.0);
  // A stride of 2 pages uses only the 8 even sets: the cliff moves to 32
  // pages (8 sets x 4 ways = 32 reachable entries).
  EXPECT_EQ(steady_l1_miss_rate(32, 8192), 0.0);
  EXPECT_EQ(steady_l1_miss_rate(64, 8192), 1.0);
  // Sub-page strides touch each page several times in a row: after warm-up
  // only the first access to each page can miss. 128 pages, 4 accesses per
  // page (stride 1 KiB): 1 miss in 4 accesses.
  EXPECT_DOUBLE_EQ(steady_l1_miss_rate(uint64_t{4} * 128, 1024), 0.25);
}

// ------------------------------------------------------- uniform random --

// The design asks for 1 percentage point; the model (seeded, deterministic)
// lands within 0.11 pp in every case below (binomial sigma ~0.01 pp at 2 M
// accesses), so hold it to 0.2 pp: tight enough to catch a skewed set index
// or a replacement bug, loose enough for any seed.
constexpr double kTol = 0.002;

struct UniformResult {
  double l1_miss, l2_miss;
};

// Warm-up pass touching every page of F once, then `n` uniform accesses over
// F; L1/L2 miss probabilities per access. Merged accesses (a page whose walk
// is still pending) are misses in the analytic sense: counted as both.
UniformResult uniform_rates(uint64_t footprint, uint64_t n, const Overrides& o = {}) {
  Machine m(o);
  const uint64_t pages = footprint / 4096;
  m.run(stride_spec(pages, pages));
  EXPECT_EQ(m.cpu().faults, pages);
  Snap a = Snap::of(m);
  m.run("uniform,footprint=" + std::to_string(footprint) + ",count=" + std::to_string(n) +
        ",seed=42");
  Snap d = Snap::of(m) - a;
  EXPECT_EQ(d.faults, 0U);
  EXPECT_EQ(d.records, n);
  const double nn = static_cast<double>(n);
  return {static_cast<double>(d.l1d_misses + d.merges) / nn,
          static_cast<double>(d.l2_misses + d.merges) / nn};
}

TEST(Analytic, UniformRandomMissRateIsOneMinusReachOverFootprint) {
  // Skylake: L1 DTLB reach R1 = 64 x 4 KiB = 256 KiB, STLB reach
  // R2 = 1536 x 4 KiB = 6 MiB. Uniform accesses over F: a set-associative LRU
  // array holds `ways` of the F/4K/sets pages mapping to each set, so the hit
  // probability is R/F and the miss probability 1 - R/F.
  constexpr uint64_t kN = 2'000'000;
  for (uint64_t mib : {16, 64}) {
    SCOPED_TRACE(std::to_string(mib) + " MiB");
    const double f = static_cast<double>(mib << 20);
    UniformResult r = uniform_rates(mib << 20, kN);
    EXPECT_NEAR(r.l1_miss, 1.0 - (64.0 * 4096) / f, kTol);
    EXPECT_NEAR(r.l2_miss, 1.0 - (1536.0 * 4096) / f, kTol);
  }
}

TEST(Analytic, UniformRandomWithoutMemoryLevelParallelism) {
  // Window 1: no merges, every access looks the TLBs up.
  UniformResult r =
      uniform_rates(16 << 20, 1'000'000, {{"cpu.window", "1"}, {"cpu.issue_width", "1"}});
  EXPECT_NEAR(r.l1_miss, 1.0 - 64.0 / 4096.0, kTol);
  EXPECT_NEAR(r.l2_miss, 1.0 - 1536.0 / 4096.0, kTol);
}

TEST(Analytic, UniformRandomWithinReachDoesNotMiss) {
  // F = 4 MiB < STLB reach (6 MiB): after the warm-up no STLB misses at all.
  UniformResult r = uniform_rates(4 << 20, 200'000);
  EXPECT_EQ(r.l2_miss, 0.0);
  EXPECT_NEAR(r.l1_miss, 1.0 - 64.0 / 1024.0, kTol);
}

// ------------------------------------------------------------ huge pages --

TEST(Analytic, HugePagesCutL1MissesBy512) {
  // Sequential scan over 8 MiB (stride 64, 131072 accesses) = 2048 4K pages
  // or 4 2M pages. One L1 miss per page either way (see the sequential test).
  const std::string scan = "seq,footprint=8M,count=131072";
  Machine small;
  small.run(scan);
  Machine huge(
      Overrides{{"os.model", "first_touch"}, {"os.huge_regions", "0x10000000-0x10800000:2M"}});
  huge.run(scan);
  EXPECT_EQ(small.tlb().l1d_misses, 2048U);
  EXPECT_EQ(huge.tlb().l1d_misses, 4U);
  EXPECT_EQ(small.tlb().l1d_misses, 512 * huge.tlb().l1d_misses);
  EXPECT_EQ(small.walker().walks, 2 * 2048U);
  EXPECT_EQ(huge.walker().walks, 2 * 4U);
  EXPECT_EQ(huge.os->stats().mapped_pages[static_cast<int>(PageSize::k2M)], 4U);
  EXPECT_EQ(huge.os->stats().mapped_pages[static_cast<int>(PageSize::k4K)], 0U);
  // Walk references, 4K: as in the sequential test, plus at each new 2 MiB
  // region (pages 512, 1024, 1536) a PD PWC miss / PDPT PWC hit: the fault
  // walk reads the PDE (1), the replay reads PDE and PTE and sets both A
  // bits (4) -- 5 instead of 3.
  EXPECT_EQ(small.walker().mem_refs, 9 + 3 * 5 + (2048 - 4) * 3U);
  // 2M: page 0: fault walk reads PML4E (1); replay reads PML4E, PDPTE and
  // the PDE leaf and sets their A bits (6). Pages 1..3: the PDPT PWC hits
  // (same 1 GiB) and the PD level is a leaf, so the fault walk reads the PDE
  // (1), the replay reads it and sets A (2).
  EXPECT_EQ(huge.walker().mem_refs, 7 + 3 * 3U);
}

TEST(Analytic, HugePageWalksReadThreeEntriesInsteadOfFour) {
  // Cold paging-structure caches (disabled): every walk reads from the root.
  // Pages pre-mapped with A/D set; the first walk also sets A in the
  // intermediate entries (the OS builds them without A).
  const Overrides no_pwc = {{"walker.pwc.pml4.entries", "0"},
                            {"walker.pwc.pdpt.entries", "0"},
                            {"walker.pwc.pd.entries", "0"},
                            {"cpu.window", "1"},
                            {"cpu.issue_width", "1"}};
  constexpr uint64_t L = 100, M = 10, O = 2;
  Machine small(no_pwc, L);
  small.premap(kBase, PageSize::k4K, 0x20000);
  small.premap(kBase + 4096, PageSize::k4K, 0x20001);
  small.access(kBase);
  EXPECT_EQ(small.walker().entry_reads, 4U);
  EXPECT_EQ(small.walker().ad_writes, 3U);  // PML4E, PDPTE, PDE
  EXPECT_EQ(small.cpu().translation_latency.sum(), M + O + 4 * L + 3 * L);
  small.access(kBase + 4096);
  EXPECT_EQ(small.walker().entry_reads, 8U);  // 4 more
  EXPECT_EQ(small.walker().ad_writes, 3U);
  EXPECT_EQ(small.cpu().translation_latency.sum(), (M + O + 7 * L) + (M + O + 4 * L));

  Machine huge(no_pwc, L);
  huge.premap(kBase, PageSize::k2M, 0x20000);
  huge.premap(kBase + (2 << 20), PageSize::k2M, 0x20200);
  huge.access(kBase);
  EXPECT_EQ(huge.walker().entry_reads, 3U);
  EXPECT_EQ(huge.walker().ad_writes, 2U);  // PML4E, PDPTE
  EXPECT_EQ(huge.cpu().translation_latency.sum(), M + O + 3 * L + 2 * L);
  huge.access(kBase + (2 << 20));
  EXPECT_EQ(huge.walker().entry_reads, 6U);  // 3 more
  EXPECT_EQ(huge.cpu().translation_latency.sum(), (M + O + 5 * L) + (M + O + 3 * L));
  EXPECT_EQ(huge.cpu().faults, 0U);
}

// ------------------------------------------------------ latency formulas --

const Overrides kInOrder = {{"cpu.window", "1"}, {"cpu.issue_width", "1"}};

TEST(AnalyticLatency, L1HitsCostTheL1LatencyAndCyclesAreTheirSum) {
  // window 1, width 1: each access issues when the previous one retires, so
  // total cycles = sum of translation latencies (no faults: page pre-mapped).
  Overrides o = kInOrder;
  o["tlb.l1d.4K.latency"] = "3";  // L1 miss latency = max(3, 1, 1) = 3
  constexpr uint64_t L = 50, N = 100;
  Machine m(o, L);
  m.premap(kBase, PageSize::k4K, 0x30000);
  for (uint64_t i = 0; i < N; ++i) m.access(kBase + 8 * i);
  // First access: L1 miss 3 + L2 miss 9, walk: O 2 + PWC probe 1 + 4 reads
  // + 3 A-bit writes (intermediate entries); then N-1 L1 hits of 3 cycles.
  const uint64_t first = 3 + 9 + 2 + 1 + 7 * L;
  EXPECT_EQ(m.cpu().translation_latency.sum(), first + (N - 1) * 3);
  EXPECT_EQ(m.finish(), first + (N - 1) * 3);
  EXPECT_EQ(m.cpu().l1_hits, N - 1);
  EXPECT_EQ(m.cpu().translation_latency.percentile(0.5), 3U);
  EXPECT_EQ(m.cpu().translation_latency.max(), first);
}

TEST(AnalyticLatency, L2HitCostsL1MissPlusL2Latency) {
  // 4-entry fully associative L1; pages 0..4 pre-mapped in one page table.
  Overrides o = kInOrder;
  o["tlb.l1d.4K.entries"] = "4";
  o["tlb.l1d.4K.ways"] = "4";
  o["tlb.l2.latency"] = "7";
  constexpr uint64_t L = 100;
  Machine m(o, L);
  for (uint64_t i = 0; i < 5; ++i) m.premap(kBase + 4096 * i, PageSize::k4K, 0x40000 + i);
  for (uint64_t i = 0; i < 5; ++i) m.access(kBase + 4096 * i);
  // A miss knows it missed when the slowest L2 array answered: M' = 1 +
  // max(tlb.l2 7, tlb.l2_1g 9) = 10 (probed in parallel), while a hit costs
  // the latency of the array that hit (below). Page 0: M' + O 2 + probe 1 +
  // 4 reads + 3 A writes. Pages 1..4: PD PWC hit: M' + O + p + L (the PTE).
  const uint64_t walks = (10 + 2 + 1 + 7 * L) + 4 * (10 + 2 + 1 + L);
  EXPECT_EQ(m.cpu().translation_latency.sum(), walks);
  // Page 0 was evicted from L1 (LRU, 5 pages > 4 entries) but is in the STLB.
  m.access(kBase);
  EXPECT_EQ(m.tlb().l2_hits, 1U);
  EXPECT_EQ(m.cpu().translation_latency.sum(), walks + (1 + 7));
  m.access(kBase + 8);  // now an L1 hit again
  EXPECT_EQ(m.cpu().translation_latency.sum(), walks + (1 + 7) + 1);
  EXPECT_EQ(m.finish(), walks + 8 + 1);
  // The L1 miss latency is the slowest L1 array of the side (probed in
  // parallel): with a 4-cycle 2M array the same STLB hit costs 4 + 7.
  o["tlb.l1d.2M.latency"] = "4";
  Machine m2(o, L);
  for (uint64_t i = 0; i < 5; ++i) m2.premap(kBase + 4096 * i, PageSize::k4K, 0x40000 + i);
  for (uint64_t i = 0; i < 5; ++i) m2.access(kBase + 4096 * i);
  const uint64_t before = m2.cpu().translation_latency.sum();
  m2.access(kBase);
  EXPECT_EQ(m2.cpu().translation_latency.sum() - before, 4 + 7U);
}

TEST(AnalyticLatency, WalkWithEmptyPwcsCostsFourMemoryLatencies) {
  // PWCs disabled: no probe latency, every walk reads 4 levels.
  Overrides o = kInOrder;
  o["walker.pwc.pml4.entries"] = "0";
  o["walker.pwc.pdpt.entries"] = "0";
  o["walker.pwc.pd.entries"] = "0";
  o["walker.overhead"] = "5";
  for (uint64_t L : {1, 37, 200}) {
    SCOPED_TRACE(L);
    Machine m(o, L);
    m.premap(kBase, PageSize::k4K, 0x50000);
    m.premap(kBase + 4096, PageSize::k4K, 0x50001);
    m.access(kBase);
    // (L1 1 + L2 9) + overhead 5 + 4 reads + 3 A writes on the first walk.
    EXPECT_EQ(m.cpu().translation_latency.sum(), 10 + 5 + 4 * L + 3 * L);
    m.access(kBase + 4096);  // A bits now set: reads only
    EXPECT_EQ(m.cpu().translation_latency.sum(), (10 + 5 + 7 * L) + (10 + 5 + 4 * L));
    EXPECT_EQ(m.walker().latency.max(), 5 + 7 * L);  // walker histogram: request to done
  }
}

TEST(AnalyticLatency, FirstTouchFaultCost) {
  // Cold start, first-touch OS: the fault walk stops at PML4E (P = 0), the
  // fault costs C, the replay walk reads and sets A at every level.
  constexpr uint64_t L = 100, C = 777;
  Overrides o = kInOrder;
  o["os.minor_fault_cost"] = std::to_string(C);
  Machine m(o, L);
  m.access(kBase, AccessKind::kWrite);
  // The write also sets D in the leaf together with A (one write).
  EXPECT_EQ(m.walker().ad_writes, 4U);
  EXPECT_EQ(m.cpu().faults, 1U);
  EXPECT_EQ(m.cpu().fault_cycles, C);
  // The faulting walk (M + O + p + the PML4E read) and the replay; the
  // fault's handling is fault time.
  EXPECT_EQ(m.cpu().translation_latency.sum(), (13 + L) + (13 + 8 * L));
  EXPECT_EQ(m.cpu().translation_latency.count(), 1U);
  EXPECT_EQ(m.finish(), (13 + L) + C + (13 + 8 * L));
  // Next page, same page table: PD PWC hit, fault walk reads the PTE only.
  m.access(kBase + 4096);
  EXPECT_EQ(m.finish(), (13 + L) + C + (13 + 8 * L) + (13 + L) + C + (13 + 2 * L));
}

TEST(AnalyticLatency, ColdFirstTouchInEveryPagingMode) {
  // One read to a fresh address space, in order. In every mode the fault walk
  // makes exactly one memory reference -- the first table entry not held in
  // a register (4-level: PML4E, 5-level: PML5E, PAE: the PDE, since the
  // PDPTEs are registers and point at page directories from the start;
  // 32-bit: the PDE) -- and the replay reads every in-memory level and sets
  // A in each. With PWCs (the PD cache exists in every mode) the probe adds 1.
  struct Mode {
    const char* name;
    uint64_t replay_refs;
  };
  constexpr uint64_t L = 100, C = 1000;
  for (Mode md : {Mode{"4level", 8}, Mode{"5level", 10}, Mode{"pae", 4}, Mode{"32bit", 4}}) {
    SCOPED_TRACE(md.name);
    Overrides o = kInOrder;
    o["walker.mode"] = md.name;
    o["os.phys_mem"] = "2G";  // addressable by 32-bit paging
    Machine m(o, L);
    m.access(kBase);
    EXPECT_EQ(m.cpu().faults, 1U);
    EXPECT_EQ(m.walker().walks, 2U);
    EXPECT_EQ(m.walker().mem_refs, 1 + md.replay_refs);
    EXPECT_EQ(m.walker().ad_writes, md.replay_refs / 2);
    EXPECT_EQ(m.cpu().translation_latency.sum(), (13 + L) + (13 + md.replay_refs * L));
    EXPECT_EQ(m.finish(), (13 + L) + C + (13 + md.replay_refs * L));
  }
  // Paging off: linear = physical, no TLB, no walk, no latency.
  Overrides o = kInOrder;
  o["walker.mode"] = "off";
  Machine m(o, L);
  for (uint64_t i = 0; i < 10; ++i) m.access(kBase + 4096 * i);
  EXPECT_EQ(m.walker().walks, 0U);
  EXPECT_EQ(m.cpu().translation_latency.sum(), 0U);
  EXPECT_EQ(m.tlb().l1d_misses, 0U);
}

TEST(AnalyticLatency, InstructionFetchesUseTheItlb) {
  // 64 pages of code fetched in sequence (stride 16): one L1 ITLB miss and
  // one STLB miss per page, no DTLB traffic.
  Machine m;
  m.run("seq,footprint=256K,stride=16,size=4,kind=X,count=16384");
  EXPECT_EQ(m.tlb().l1i_misses, 64U);
  EXPECT_EQ(m.tlb().l2_misses, 64U);
  EXPECT_EQ(m.tlb().l1d_misses, 0U);
  EXPECT_EQ(m.cpu().faults, 64U);
}

TEST(AnalyticLatency, FirstWriteToACleanPageWalksToSetDirty) {
  // Read pass over 32 pages (fits the L1), then a write pass: the first write
  // to each page hits a clean TLB entry, so it re-walks (PD PWC hit: read the
  // PTE, write D: 2 refs) and refreshes the entry; later writes hit.
  constexpr uint64_t P = 32, L = 100;
  Machine m(kInOrder, L);
  m.run("seq,footprint=128K,count=" + std::to_string(P * 64));
  const uint64_t refs = m.walker().mem_refs, walks = m.walker().walks;
  const uint64_t l1d_misses = m.tlb().l1d_misses, tc = m.cpu().translation_latency.sum();
  m.run("seq,footprint=128K,kind=W,count=" + std::to_string(P * 64));
  EXPECT_EQ(m.cpu().dirty_assists, P);
  EXPECT_EQ(m.walker().walks - walks, P);
  EXPECT_EQ(m.walker().mem_refs - refs, 2 * P);
  EXPECT_EQ(m.tlb().l1d_misses, l1d_misses);  // all L1 hits
  // Each assist: L1 hit latency 1 (the lookup) + O 2 + probe 1 + 2L; the 63
  // other writes of the page: 1 cycle.
  EXPECT_EQ(m.cpu().translation_latency.sum() - tc, P * ((1 + 2 + 1 + 2 * L) + 63));
  EXPECT_EQ(m.cpu().faults, P);  // no new faults
}

TEST(AnalyticLatency, PageCrossingAccessTranslatesTwice) {
  Machine m(kInOrder, 100);
  m.premap(kBase, PageSize::k4K, 0x60000);
  m.premap(kBase + 4096, PageSize::k4K, 0x60001);
  m.access(kBase + 4092, AccessKind::kRead, 8);  // bytes 4092..4099
  EXPECT_EQ(m.cpu().records, 1U);
  EXPECT_EQ(m.cpu().translations, 2U);
  EXPECT_EQ(m.cpu().page_splits, 1U);
  EXPECT_EQ(m.tlb().l1d_misses, 2U);
  m.access(kBase + 4088, AccessKind::kRead, 8);  // bytes 4088..4095: no split
  EXPECT_EQ(m.cpu().translations, 3U);
  EXPECT_EQ(m.cpu().page_splits, 1U);
}

TEST(AnalyticLatency, MemoryLatencyScalesWalkCostLinearly) {
  // The same first-touch scan with two memory latencies: the cycle difference
  // is exactly (refs on the critical path) x dL. Sequential scan of 64 pages
  // in one page table, in order: page 0 has 9 refs (1 + 8), the others 3.
  auto cycles = [](uint64_t L) {
    Machine m(kInOrder, L);
    m.run("seq,footprint=256K,count=4096");
    return m.finish();
  };
  EXPECT_EQ(cycles(150) - cycles(100), 50 * (9 + 63 * 3U));
}

// TLB-maintenance records: serializing (the CPU drains, pending walks fill
// first), cpu.invalidation_cost cycles, then the named translations and the
// paging-structure caches are gone.
TraceRecord control(uint8_t op, uint64_t addr) {
  TraceRecord r;
  r.addr = addr;
  r.flags = op;
  return r;
}

TEST(AnalyticLatency, InvalidationRecordsDropTranslationsAndPagingStructureCaches) {
  Overrides o = kInOrder;
  o["cpu.invalidation_cost"] = "50";
  constexpr uint64_t L = 100;
  Machine m(o, L);
  m.premap(kBase, PageSize::k4K, 0x60000);
  m.access(kBase);  // cold walk: M' 10 + O 2 + probe 1 + 4 reads + 3 A writes
  const uint64_t cold = 10 + 2 + 1 + 7 * L;
  m.access(kBase + 8);  // L1 hit
  EXPECT_EQ(m.cpu().translation_latency.sum(), cold + 1);
  EXPECT_EQ(m.walker().walks, 1U);

  // INVPCID of another PCID (ours is sim.asid = 1) keeps our entries.
  m.core->process(control(trace_flags::kOpInvpcid, 7));
  m.access(kBase + 16);
  EXPECT_EQ(m.walker().walks, 1U);
  EXPECT_EQ(m.cpu().translation_latency.sum(), cold + 2);

  // INVLPG: the page misses every level and, the PSCs flushed too, walks all
  // four levels again (A bits now set: reads only).
  m.core->process(control(trace_flags::kOpInvlpg, kBase + 0x123));
  m.access(kBase + 24);
  EXPECT_EQ(m.walker().walks, 2U);
  const uint64_t rewalk = 10 + 2 + 1 + 4 * L;
  EXPECT_EQ(m.cpu().translation_latency.sum(), cold + 2 + rewalk);
  // Our own PCID, then FLUSH and FLUSH GLOBAL: each drops the entry again.
  m.core->process(control(trace_flags::kOpInvpcid, 1));
  m.access(kBase);
  m.core->process(control(trace_flags::kOpFlush, 0));
  m.access(kBase);
  m.core->process(control(trace_flags::kOpFlush, 1));
  m.access(kBase);
  EXPECT_EQ(m.walker().walks, 5U);
  EXPECT_EQ(m.cpu().translation_latency.sum(), cold + 2 + 4 * rewalk);
  EXPECT_EQ(m.cpu().inv_page, 1U);
  EXPECT_EQ(m.cpu().inv_pcid, 2U);
  EXPECT_EQ(m.cpu().inv_all, 1U);
  EXPECT_EQ(m.cpu().inv_global, 1U);
  EXPECT_EQ(m.cpu().invalidation_cycles, 5 * 50U);
  // Window 1: every latency in sequence; five invalidations of 50 cycles.
  EXPECT_EQ(m.finish(), cold + 2 + 4 * rewalk + uint64_t{5} * 50);
}

TEST(AnalyticLatency, InvalidationWaitsForAPendingWalk) {
  // Default window: an access issues, its walk is pending when INVLPG comes.
  // INVLPG starts when the walk is done and its fill is invalidated with the
  // rest: the next access to the page walks again.
  Overrides o;
  o["cpu.invalidation_cost"] = "50";
  constexpr uint64_t L = 100;
  Machine m(o, L);
  m.premap(kBase, PageSize::k4K, 0x60000);
  m.access(kBase);
  const uint64_t walk_done = 10 + 2 + 1 + 7 * L;  // issue 0
  m.core->process(control(trace_flags::kOpInvlpg, kBase));
  m.access(kBase + 8);
  EXPECT_EQ(m.walker().walks, 2U);
  EXPECT_EQ(m.tlb().l1d_misses, 2U);
  // The second access issues when the invalidation is done.
  EXPECT_EQ(m.finish(), walk_done + 50 + (10 + 2 + 1 + 4 * L));
}

}  // namespace
}  // namespace mmusim
