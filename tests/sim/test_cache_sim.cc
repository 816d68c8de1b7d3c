// The cache hierarchy in the whole simulation (mmusim as a subprocess, the
// Skylake preset): page tables that fit in the L2 give a mean walk of 20-40
// cycles with the page-table lines read from DRAM once each; with caches off
// every walk reference is counted as served by DRAM.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/sim/memory_estimate.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::TempDir;

struct Stats {
  std::map<std::string, double> value, mean;
};

Stats run(const std::vector<std::string>& extra,
          const std::string& trace = "gen:uniform,count=200000,footprint=64M,seed=1") {
  TempDir d;
  std::vector<std::string> args = {"--config", std::string(MMUSIM_ROOT) + "/configs/skylake.ini",
                                   "--trace",  trace,
                                   "--out",    d.file("out")};
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

TEST(CacheSim, PageTablesInTheL2GiveTwentyToFortyCycleWalks) {
  const Stats s = run({});
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

// The host-memory estimate counts the tag arrays: 10 bytes a line, the
// private levels once per CPU, the LLC once.
TEST(CacheSim, MemoryEstimateCountsTheTagArrays) {
  const SimConfig off = systest::make_config({{"sim.cpus", "4"}});
  const SimConfig on = systest::make_config({{"sim.cpus", "4"}, {"cache.enabled", "true"}});
  const uint64_t l1d = 32768 / 64, l2 = 262144 / 64, llc = 8388608 / 64;
  EXPECT_EQ(estimate_memory(on).total - estimate_memory(off).total,
            (4 * (l1d + l2) + llc) * kCacheLineBytes);
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
