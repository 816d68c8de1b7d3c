// The cache hierarchy in the whole simulation (mmusim as a subprocess, the
// Skylake preset): page tables that fit in the L2 give a mean walk of 20-40
// cycles with the page-table lines read from DRAM once each; with caches off
// every walk reference is counted as served by DRAM.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "models/cache/snoop_filter.h"
#include "models/sim/memory_estimate.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::TempDir;

struct Stats {
  std::map<std::string, double> value, mean;
};

// Under os.model=first_touch: the counts below are the TLB and page-table
// traffic alone (the Linux model adds its zero-fill writes to the caches).
Stats run(const std::vector<std::string>& extra,
          const std::string& trace = "gen:uniform,count=200000,footprint=64M,seed=1") {
  TempDir d;
  std::vector<std::string> args = {"--config", std::string(MMUSIM_ROOT) + "/configs/skylake.ini",
                                   "--trace",  trace,
                                   "--out",    d.file("out")};
  args.emplace_back("--os.model=first_touch");
  args.insert(args.end(), extra.begin(), extra.end());
  const systest::ProcessResult r = systest::run_process(MMUSIM_EXE, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Stats s;
  const auto j = nlohmann::json::parse(systest::read_file(d.file("out/stats.json")));
  for (const auto& x : j.at("stats")) {
    if (x.contains("value") && x.at("value").is_number()) s.value[x.at("name")] = x.at("value");
    if (x.contains("mean") && x.at("mean").is_number()) s.mean[x.at("name")] = x.at("mean");
  }
  return s;
}

const char* const kLevels[] = {"PML5", "PML4", "PDPT", "PD", "PT"};

// The store buffer's counters (Skylake preset: 56 entries) exist with
// cache.data only; every store takes an entry. Streaming stores, every one a
// new line: the buffer fills, so stores wait, and the run is shorter than
// without a buffer (stores retire before their lines are written).
TEST(CacheSim, StoreBufferCountersAndEffect) {
  const std::string trace = "gen:seq,count=20000,stride=64,size=8,footprint=16M,writes=0.5,seed=3";
  const Stats on = run({"--cache.data=true"}, trace);
  const Stats none = run({"--cache.data=true", "--cpu.store_buffer=0"}, trace);
  const Stats off = run({}, trace);
  const double writes = on.value.at("top.cpu0.writes");
  EXPECT_GT(writes, 9000);
  EXPECT_EQ(on.value.at("top.cpu0.store_buffer.stores"), writes);
  EXPECT_GT(on.value.at("top.cpu0.store_buffer.full"), 0);
  EXPECT_GT(on.value.at("top.cpu0.store_buffer.wait_cycles"),
            on.value.at("top.cpu0.store_buffer.full"));
  EXPECT_LT(on.value.at("sim.cycles"), none.value.at("sim.cycles"));
  // The same accesses and TLB behaviour either way.
  EXPECT_EQ(on.value.at("top.cpu0.l1d.initiator.data.accesses"),
            none.value.at("top.cpu0.l1d.initiator.data.accesses"));
  EXPECT_EQ(on.value.at("top.cpu0.tlb_misses"), none.value.at("top.cpu0.tlb_misses"));
  EXPECT_EQ(none.value.count("top.cpu0.store_buffer.stores"), 0U);
  EXPECT_EQ(off.value.count("top.cpu0.store_buffer.stores"), 0U);
}

TEST(CacheSim, PageTablesInTheL2GiveTwentyToFortyCycleWalks) {
  // Without the preset's prefetchers: every page-table line is then read
  // from DRAM by the walker itself (PrefetchersFetchPageTableLinesAhead has
  // them on).
  const Stats s = run({"--cache.l1d.prefetch=none", "--cache.l2.prefetch=none"});
  const double mean = s.mean.at("top.cpu0.walker.latency");
  EXPECT_GE(mean, 20.0);
  EXPECT_LE(mean, 40.0);
  // 64 MiB of 4 KiB pages: 16384 PTEs, 2048 lines, each read from DRAM once
  // (the L2 holds them all: 128 KiB of 256 KiB); no PT line leaves the L2.
  EXPECT_EQ(s.value.at("top.cpu0.walker.refs.PT.dram"), 2048);
  EXPECT_EQ(s.value.at("top.cpu0.walker.refs.PT.llc"), 0);
  EXPECT_GT(s.value.at("top.cpu0.walker.refs.PT.l2"), s.value.at("top.cpu0.walker.refs.PT.l1d"));
  // Every reference is counted once, by structure and by where it was served.
  double refs = 0;
  for (const char* l : kLevels) {
    for (const char* w : {"l1d", "l2", "llc", "dram"}) {
      refs += s.value.at(std::string("top.cpu0.walker.refs.") + l + "." + w);
    }
  }
  EXPECT_EQ(refs, s.value.at("top.cpu0.walker.mem_refs"));
  EXPECT_EQ(s.value.at("top.cpu0.l1d.initiator.walker.accesses"), refs);
  EXPECT_EQ(s.value.at("top.dram.initiator.walker.requests"),
            s.value.at("top.llc.initiator.walker.misses"));
}

// The preset's prefetchers on the same run: the L1D's next-line prefetcher
// and the L2's streamer bring page-table lines in ahead of the walks, so the
// walker itself reads fewer of them from DRAM, the prefetcher the rest, and
// the mean walk is shorter.
TEST(CacheSim, PrefetchersFetchPageTableLinesAhead) {
  // One access in flight: with a window, how many accesses meet a walk still
  // in flight depends on the walk's latency (see below).
  const Stats off =
      run({"--cpu.window=1", "--cache.l1d.prefetch=none", "--cache.l2.prefetch=none"});
  const Stats on = run({"--cpu.window=1"});
  EXPECT_LT(on.value.at("top.cpu0.walker.refs.PT.dram"), 2048);
  EXPECT_GT(on.value.at("top.dram.initiator.prefetch.requests"), 0);
  EXPECT_EQ(off.value.count("top.dram.initiator.prefetch.requests"), 0U);
  EXPECT_GT(
      on.value.at("top.cpu0.l1d.prefetch_useful") + on.value.at("top.cpu0.l2.prefetch_useful"), 0);
  EXPECT_LT(on.mean.at("top.cpu0.walker.latency"), off.mean.at("top.cpu0.walker.latency"));
  // The TLBs see the same pages either way.
  for (const char* k : {"top.cpu0.tlb.l1d.misses", "top.cpu0.tlb.l2.misses", "top.cpu0.faults"}) {
    EXPECT_EQ(on.value.at(k), off.value.at(k)) << k;
  }
}

TEST(CacheSim, CachesOffServeEveryReferenceFromDramAndKeepTheTlbCounts) {
  // One access in flight (cpu.window = 1), as in the LRU-exact comparisons:
  // with a window, how many accesses meet a walk still in flight depends on
  // the walk's latency.
  const Stats on = run({"--cpu.window=1"});
  const Stats off = run({"--cpu.window=1", "--cache.enabled=false"});
  for (const char* l : kLevels) {
    for (const char* w : {"l1d", "l2", "llc"}) {
      EXPECT_EQ(off.value.at(std::string("top.cpu0.walker.refs.") + l + "." + w), 0) << l << w;
    }
  }
  EXPECT_EQ(off.value.count("top.llc.accesses"), 0U);
  EXPECT_EQ(off.value.at("top.dram.initiator.walker.requests"),
            off.value.at("top.cpu0.walker.mem_refs"));
  // Caches change when walks end, not which pages miss the TLBs.
  for (const char* k : {"top.cpu0.tlb.l1d.misses", "top.cpu0.tlb.l2.misses", "top.cpu0.faults"}) {
    EXPECT_EQ(on.value.at(k), off.value.at(k)) << k;
  }
  EXPECT_LT(on.mean.at("top.cpu0.walker.latency"), off.mean.at("top.cpu0.walker.latency"));
}

// The reference mode (a sync before every access and memory reference) gives
// the same results with caches, two CPUs sharing the LLC and the DRAM.
TEST(CacheSim, ReferenceModeGivesTheSameResultsWithTwoCpus) {
  const std::string trace = "gen:uniform,count=100000,footprint=32M,cpus=2,writes=0.2";
  const Stats a = run({"--sim.cpus=2"}, trace);
  const Stats b = run({"--sim.cpus=2", "--sim.quantum=0"}, trace);
  EXPECT_EQ(a.value.at("sim.cycles"), b.value.at("sim.cycles"));
  for (const char* k : {"top.llc.accesses", "top.llc.hits", "top.cpu0.l1d.hits", "top.cpu1.l2.hits",
                        "top.dram.reads", "top.cpu1.walker.refs.PT.dram"}) {
    EXPECT_EQ(a.value.at(k), b.value.at(k)) << k;
  }
  EXPECT_EQ(a.mean.at("top.cpu1.walker.latency"), b.mean.at("top.cpu1.walker.latency"));
}

// cache.data: the trace's accesses through the L1D, worked by hand. The
// tiny preset with an L1D of 2 sets x 2 ways (the set is bit 6 of the
// physical address, i.e. of the page offset) and one access in flight. Every
// page-table line (entry offsets 0..0x38) and the data lines 0x080, 0x100,
// 0x180 fall in set 0; 0x0c0 in set 1.
//   1 R 0x1080: a faulting walk (PML4 miss), the replay: PML4 hit + A/D hit,
//     PDPT, PD, PT misses (each evicting a dirty table line from PD on:
//     PML4, PDPT written back), their A/D writes hit; the data line misses
//     and evicts PD (dirty: written back).          set 0 = [D1080, PT]
//   2 W 0x2080: a faulting walk (PT hit), the replay: PT read + A/D hit; the
//     data write misses (evicts D1080, clean).      set 0 = [D2080*, PT]
//   3 R 0x1100, 4 R 0x1180: miss, miss (PT, then D2080 written back).
//   INVLPG 0x2000 (the paging-structure caches too), 5 R 0x2088: the walk's
//     4 reads miss the L1D and are served by the L2, as is its data line
//     (written back there by 4).                    set 0 = [D2080, PT]
//   6 R 0x10c0 (set 1) miss; 7 R 0x10c8 hit; 8 R 0x10f8 16 bytes: line
//     0x0c0 hit, line 0x100 miss (from the L2).
// L1D data: 9 line accesses, 2 hits; walker: 1 + 8 + 1 + 2 + 4 = 16, 8 hits;
// 5 writebacks. The L2 sees the 7 data misses and the 3 writebacks a data
// miss caused (5 hits: 5 and 8 and the writebacks); 5 data misses reach the
// LLC and the DRAM.
TEST(CacheSim, DataAccessesThroughTheL1dByHand) {
  TempDir d;
  systest::write_file(d.file("t.txt"),
                      "R 0x1080 8\nW 0x2080 8\nR 0x1100 8\nR 0x1180 8\nINVLPG 0x2000\n"
                      "R 0x2088 8\nR 0x10c0 8\nR 0x10c8 8\nR 0x10f8 16\n");
  const std::string root = MMUSIM_ROOT;
  const systest::ProcessResult r = systest::run_process(
      MMUSIM_EXE, {"--config", root + "/configs/tiny.ini", "--trace", d.file("t.txt"), "--out",
                   d.file("out"), "--cache.data=true", "--cache.l1d.size=256", "--cpu.window=1",
                   "--explain", "20", "--os.model=first_touch",
                   // No store buffer: the write retires when its line is written,
                   // as the cycles below assume (CpuData.* tests the buffer).
                   "--cpu.store_buffer=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, double> v;
  const auto j = nlohmann::json::parse(systest::read_file(d.file("out/stats.json")));
  for (const auto& x : j.at("stats")) {
    if (x.contains("value") && x.at("value").is_number()) v[x.at("name")] = x.at("value");
  }
  const std::map<std::string, double> want = {
      {"top.cpu0.l1d.initiator.data.accesses", 9},
      {"top.cpu0.l1d.initiator.data.hits", 2},
      {"top.cpu0.l1d.initiator.data.misses", 7},
      {"top.cpu0.l1d.initiator.data.mpka", 7000.0 / 8},
      {"top.cpu0.l1d.initiator.walker.accesses", 16},
      {"top.cpu0.l1d.initiator.walker.hits", 8},
      {"top.cpu0.l1d.writebacks", 5},
      {"top.cpu0.l2.initiator.data.accesses", 10},
      {"top.cpu0.l2.initiator.data.hits", 5},
      {"top.cpu0.l2.initiator.walker.accesses", 10},
      {"top.cpu0.l2.initiator.walker.hits", 6},
      {"top.llc.initiator.data.accesses", 5},
      {"top.llc.initiator.data.misses", 5},
      {"top.dram.initiator.data.requests", 5},
      {"top.cpu0.l1i.initiator.instruction.accesses", 0},
      // The PT line left the L1D for data lines: the walk of 5 reads it
      // from the L2.
      {"top.cpu0.walker.refs.PT.l2", 1},
      {"top.cpu0.walker.refs.PT.l1d", 4},
      {"top.cpu0.walker.refs.PT.dram", 1},
      {"top.cpu0.walker.refs.PML4.l2", 1},
  };
  for (const auto& [k, x] : want) EXPECT_EQ(v.at(k), x) << k;
  // The explain output names the level that served each data access: 5's
  // data line from the L2 (L1D 2 + L2 4 cycles after its walk), 8's two
  // lines (the slower one from the L2).
  EXPECT_NE(r.out.find("    read PT[2] @"), std::string::npos);
  EXPECT_NE(r.out.find(" (6 cycles, L2)\n  phys: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  data: 0x"), std::string::npos);
  EXPECT_NE(r.out.find("088 L1D miss, from L2, 2638->2644 (6 cycles)\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0c8 L1D hit, 2802->2804 (2 cycles)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0f8 (2 lines) L1D miss, from L2, 2804->2810 (6 cycles)\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(v.at("top.cpu0.cycles"), 2810);
}

// Coherence between two CPUs' private caches, worked by hand (Skylake
// preset, one process, data through the caches, prefetchers off, walks
// entering at the LLC so that only data lines are private, coherence
// actions delivered every 64 cycles: cache.snoop_period). Line X (physical 0x1f998c000): cpu0
// writes it (read for ownership: exclusive in its L1D and L2); cpu1, after three page faults, reads
// it (a shared fill from the LLC; cpu0's two copies downgraded); cpu0, after six more, writes it
// again: an L1D hit on a shared line, so an upgrade through the L2 to the LLC (5 + 7 + 30 = 42
// cycles) that invalidates cpu1's two copies; cpu1 reads it again (L1D miss, from the LLC; shared
// fill, cpu0's two copies downgraded again). The other writes (one per new page at offset 0x800,
// another L1D set) only make time pass. The directory tracks X and the 30 other data lines. Without
// coherence cpu1's second read hits its stale copy. The trace is the README's worked example,
// traces/examples/two_cpus_shared_line.txt.
TEST(CacheSim, PrivateCachesOfTwoCpusStayCoherent) {
  const std::string root = MMUSIM_ROOT;
  const std::string trace = root + "/traces/examples/two_cpus_shared_line.txt";
  TempDir d;
  const auto go = [&](bool coherence, const std::string& period = "64") {
    return systest::run_process(
        MMUSIM_EXE, {"--config", root + "/configs/skylake.ini", "--trace", trace, "--out",
                     d.file(std::string(coherence ? "on" : "off") + period), "--sim.cpus=2",
                     "--cache.data=true", "--os.model=first_touch", "--cache.walker_entry=llc",
                     "--cache.l1d.prefetch=none", "--cache.l2.prefetch=none",
                     std::string("--cache.coherence=") + (coherence ? "true" : "false"),
                     "--cache.snoop_period=" + period, "--explain", "60"});
  };
  const systest::ProcessResult on = go(true);
  ASSERT_EQ(on.exit_code, 0) << on.err;
  const auto values = [&](const std::string& dir) {
    std::map<std::string, double> m;
    const auto j = nlohmann::json::parse(systest::read_file(d.file(dir + "/stats.json")));
    for (const auto& x : j.at("stats")) {
      if (x.contains("value") && x.at("value").is_number()) m[x.at("name")] = x.at("value");
    }
    return m;
  };
  const std::map<std::string, double> v = values("on64");
  const std::map<std::string, double> want = {
      {"top.llc.coherence.upgrades", 1},      {"top.llc.coherence.shared_fills", 2},
      {"top.llc.coherence.invalidations", 2}, {"top.llc.coherence.downgrades", 4},
      {"top.llc.coherence.filter_lines", 31}, {"top.llc.coherence.filter_evictions", 0},
      {"top.cpu0.l1d.upgrades", 1},           {"top.cpu0.l2.upgrades", 0},
      {"top.cpu1.l1d.upgrades", 0},           {"top.cpu1.l1d.invalidations", 1},
      {"top.cpu1.l2.invalidations", 1},       {"top.cpu0.l1d.invalidations", 0},
  };
  for (const auto& [k, x] : want) EXPECT_EQ(v.at(k), x) << k;
  EXPECT_NE(on.out.find("  data: 0x1f998c000 L1D hit on a shared line, upgraded, 8685->8727 (42 "
                        "cycles); store buffer: retired at 8685\n"),
            std::string::npos)
      << on.out;
  EXPECT_NE(on.out.find("  data: 0x1f998c000 L1D miss, from LLC, 14316->14358 (42 cycles)\n"),
            std::string::npos)
      << on.out;
  const systest::ProcessResult off = go(false);
  ASSERT_EQ(off.exit_code, 0) << off.err;
  const std::string stats = systest::read_file(d.file("off64/stats.json"));
  EXPECT_EQ(stats.find("coherence."), std::string::npos);
  EXPECT_EQ(stats.find("l1d.upgrades"), std::string::npos);
  EXPECT_NE(off.out.find("  data: 0x1f998c000 L1D hit, 14316->14321 (5 cycles)\n"),
            std::string::npos)
      << off.out;
  // Coherence actions delivered on a grid coarser than the whole run: none
  // is applied: cpu0's copy stays exclusive, so its second write is silent
  // (no upgrade), and cpu1's second read hits its stale copy (one shared
  // fill: the first read).
  const systest::ProcessResult late = go(true, "1000000");
  ASSERT_EQ(late.exit_code, 0) << late.err;
  EXPECT_NE(late.out.find("  data: 0x1f998c000 L1D hit, 14316->14321 (5 cycles)\n"),
            std::string::npos)
      << late.out;
  const std::map<std::string, double> lv = values("on1000000");
  EXPECT_NE(late.out.find("  data: 0x1f998c000 L1D hit, 8685->8690 (5 cycles); store buffer: "
                          "retired at 8685\n"),
            std::string::npos);
  EXPECT_EQ(lv.at("top.llc.coherence.shared_fills"), 1);
  EXPECT_EQ(lv.at("top.llc.coherence.upgrades"), 0);
  EXPECT_EQ(lv.at("top.llc.coherence.invalidations"), 0);
  EXPECT_EQ(lv.at("top.llc.coherence.downgrades"), 0);
}

// Two CPUs reading and writing the same 128 lines (one process): every
// statistic but the host's timings is the same in the reference mode
// (sim.quantum=0) and with a small quantum, coherence traffic included.
TEST(CacheSim, CoherenceTrafficIsTheSameInTheReferenceMode) {
  std::string trace;
  uint64_t x = 5;
  for (int i = 0; i < 4000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t r = x >> 33;
    std::ostringstream line;
    line << ((r & 7) < 3 ? "W" : "R") << " 0x" << std::hex
         << 0x100000 + ((r >> 3) & 15) * 0x1000 + ((r >> 7) & 7) * 64 << " 8 " << std::dec
         << ((r >> 10) & 1) << "\n";
    trace += line.str();
  }
  TempDir d;
  systest::write_file(d.file("t.txt"), trace);
  const auto go = [&](const std::string& quantum) {
    const std::string out = d.file("q" + quantum);
    const systest::ProcessResult r = systest::run_process(
        MMUSIM_EXE,
        {"--config", std::string(MMUSIM_ROOT) + "/configs/skylake.ini", "--trace", d.file("t.txt"),
         "--out", out, "--sim.cpus=2", "--cache.data=true", "--sim.quantum=" + quantum});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> v;
    const auto j = nlohmann::json::parse(systest::read_file(out + "/stats.json"));
    for (const auto& s : j.at("stats")) {
      if (s.at("type") != "wall_clock") v[s.at("name")] = s.dump();
    }
    return v;
  };
  const auto ref = go("0");
  const auto fast = go("50");
  ASSERT_GT(nlohmann::json::parse(ref.at("top.llc.coherence.upgrades")).at("value").get<int>(), 50);
  EXPECT_GT(ref.size(), 500U);
  for (const auto& [k, s] : ref) EXPECT_EQ(fast.at(k), s) << k;
}

// The L1I's next-line prefetcher (cache.l1i.prefetch, with cache.data): 64
// fetches, one per line of a page, one at a time (cpu.window=1). Each miss
// (lines 0, 2, ..., 62) prefetches the next line, which the next fetch finds
// in flight (a late, useful prefetch, a hit): 32 misses and 32 hits instead
// of 64 misses; the DRAM reads the same lines, the run is shorter.
TEST(CacheSim, L1iNextLinePrefetchHalvesTheMissesOfASequentialFetch) {
  std::string trace;
  for (int i = 0; i < 64; ++i) {
    std::ostringstream line;
    line << "X 0x" << std::hex << 0x401000 + 64 * i << " 4\n";
    trace += line.str();
  }
  TempDir d;
  systest::write_file(d.file("t.txt"), trace);
  const auto go = [&](const std::string& policy) {
    return run({"--cache.data=true", "--cpu.window=1", "--cache.l2.prefetch=none",
                "--cache.l1i.prefetch=" + policy},
               d.file("t.txt"));
  };
  const Stats off = go("none");
  const Stats on = go("next_line");
  EXPECT_EQ(off.value.at("top.cpu0.l1i.initiator.instruction.misses"), 64);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.initiator.instruction.misses"), 32);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.initiator.instruction.hits"), 32);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.prefetch_issued"), 32);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.prefetch_useful"), 32);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.prefetch_late"), 32);
  EXPECT_EQ(on.value.at("top.cpu0.l1i.prefetch_dropped"), 0);
  // (The L1D's next-line prefetcher of the preset adds its own, after walk
  // references.)
  EXPECT_EQ(on.value.at("top.cpu0.l2.initiator.prefetch.accesses"),
            32 + on.value.at("top.cpu0.l1d.prefetch_issued"));
  EXPECT_EQ(off.value.count("top.cpu0.l1i.prefetch_issued"), 0U);
  EXPECT_EQ(on.value.at("top.dram.reads"), off.value.at("top.dram.reads"));
  EXPECT_LT(on.value.at("sim.cycles"), off.value.at("sim.cycles"));
}

// With cache.data the TLB results against the LRU reference do not move
// (one access in flight): data lines change when accesses retire, not which
// pages miss. Fetches go through the L1I.
TEST(CacheSim, DataThroughTheCachesKeepsTheTlbCounts) {
  for (const char* kind : {"", ",kind=X"}) {
    const std::string trace =
        std::string("gen:uniform,count=100000,footprint=16M,writes=0.2") + kind;
    const Stats on = run({"--cpu.window=1", "--cache.data=true"}, trace);
    const Stats off = run({"--cpu.window=1"}, trace);
    for (const char* k : {"top.cpu0.tlb.l1d.misses", "top.cpu0.tlb.l1i.misses",
                          "top.cpu0.tlb.l2.misses", "top.cpu0.faults", "top.cpu0.walker.walks"}) {
      EXPECT_EQ(on.value.at(k), off.value.at(k)) << k << kind;
    }
    // 8-byte aligned accesses: one line each.
    EXPECT_EQ(on.value.at("top.cpu0.l1d.initiator.data.accesses"),
              on.value.at("top.cpu0.reads") + on.value.at("top.cpu0.writes"));
    EXPECT_EQ(on.value.at("top.cpu0.l1i.initiator.instruction.accesses"),
              on.value.at("top.cpu0.fetches"));
    EXPECT_EQ(off.value.count("top.cpu0.l1i.accesses"), 0U);
    EXPECT_EQ(off.value.at("top.cpu0.l1d.initiator.data.accesses"), 0);
    EXPECT_GT(on.value.at("sim.cycles"), off.value.at("sim.cycles"));
  }
}

// The reference mode gives the same results with the data side on, two CPUs
// sharing the LLC and the DRAM.
TEST(CacheSim, ReferenceModeGivesTheSameResultsWithDataAccesses) {
  const std::string trace = "gen:uniform,count=50000,footprint=32M,cpus=2,writes=0.2";
  const Stats a = run({"--sim.cpus=2", "--cache.data=true"}, trace);
  const Stats b = run({"--sim.cpus=2", "--sim.quantum=0", "--cache.data=true"}, trace);
  EXPECT_EQ(a.value.at("sim.cycles"), b.value.at("sim.cycles"));
  for (const char* k : {"top.llc.accesses", "top.llc.hits", "top.cpu0.l1d.hits", "top.cpu1.l2.hits",
                        "top.dram.reads", "top.dram.writes", "top.llc.initiator.data.misses"}) {
    EXPECT_EQ(a.value.at(k), b.value.at(k)) << k;
  }
}

// The kernel's COW copy installs the new page's lines in the LLC (and
// invalidates private copies): the replayed write after it misses the L1D
// and the L2 and is served by the LLC (5 + 7 + 30 cycles on Skylake).
TEST(CacheSim, AWriteAfterACowCopyIsServedByTheLlc) {
  TempDir d;
  const std::string root = MMUSIM_ROOT;
  const systest::ProcessResult r =
      systest::run_process(MMUSIM_EXE, {"--config", root + "/configs/skylake.ini", "--trace",
                                        root + "/traces/fork_cow_file.bin.zst", "--out",
                                        d.file("out"), "--os.model=linux", "--cache.data=true",
                                        "--explain", "40", "--sim.max_accesses=2000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t cow = r.out.find("  kernel: cow_copy");
  ASSERT_NE(cow, std::string::npos) << r.out;
  const size_t data = r.out.find("  data: ", cow);
  ASSERT_NE(data, std::string::npos);
  const std::string line = r.out.substr(data, r.out.find('\n', data) - data);
  EXPECT_NE(line.find(" L1D miss, from LLC, "), std::string::npos) << line;
  EXPECT_NE(line.find(" (42 cycles)"), std::string::npos) << line;
}

// The host-memory estimate counts the tag arrays: 10 bytes a line, the
// private levels once per CPU, the LLC once; and the snoop filter of the
// coherence between CPUs: twice the 4 x 4608 private lines asked for, 16
// ways in a power-of-two number of sets (4096), 32 bytes an entry.
TEST(CacheSim, MemoryEstimateCountsTheTagArrays) {
  const SimConfig off = systest::make_config({{"sim.cpus", "4"}});
  const SimConfig on = systest::make_config({{"sim.cpus", "4"}, {"cache.enabled", "true"}});
  const SimConfig incoherent = systest::make_config(
      {{"sim.cpus", "4"}, {"cache.enabled", "true"}, {"cache.coherence", "false"}});
  const uint64_t l1d = 32768 / 64, l2 = 262144 / 64, llc = 8388608 / 64;
  EXPECT_EQ(estimate_memory(incoherent).total - estimate_memory(off).total,
            (4 * (l1d + l2) + llc) * kCacheLineBytes);
  EXPECT_EQ(sizeof(SnoopFilter::Entry), 32U);
  EXPECT_EQ(estimate_memory(on).total - estimate_memory(incoherent).total, uint64_t{65536} * 32);
  bool named = false;
  for (const MemoryPart& p : estimate_memory(on).parts) {
    named = named || (p.keys == "cache.llc.size" && p.bytes == llc * kCacheLineBytes);
  }
  EXPECT_TRUE(named);
}

// DMA reaches memory at its own time through the LLC: a swap-heavy run under
// a memory limit (the disk controller waits for the DMA engine's reports)
// ends, as it does without caches (it once spun at one cycle forever).
TEST(CacheSim, SwapDmaUnderAMemoryLimitEnds) {
  TempDir d;
  const std::string root = MMUSIM_ROOT;
  const systest::ProcessResult r = systest::run_process(
      "/usr/bin/timeout", {"120", MMUSIM_EXE, "--config", root + "/configs/skylake.ini", "--config",
                           root + "/configs/examples/pressure.ini", "--trace",
                           root + "/traces/examples/os_pressure.txt.zst", "--out", d.file("out"),
                           "--os.linux.memory_max=24M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(systest::read_file(d.file("out/stats.json")));
  double dma = 0, swapped_in = 0;
  for (const auto& x : j.at("stats")) {
    if (x.at("name") == "top.dram.initiator.dma.requests") dma = x.at("value");
    if (x.at("name") == "vmstat.pswpin") swapped_in = x.at("value");
  }
  EXPECT_GT(swapped_in, 0);
  EXPECT_GT(dma, 64 * swapped_in);  // swap-ins are DMA writes; swap-outs DMA reads
}

}  // namespace
}  // namespace mmusim
