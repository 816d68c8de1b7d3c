// The cache hierarchy in the whole simulation (mmusim as a subprocess, the
// Skylake preset): page tables that fit in the L2 give a mean walk of 20-40
// cycles with the page-table lines read from DRAM once each; with caches off
// every walk reference is counted as served by DRAM.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::TempDir;

struct Stats {
  std::map<std::string, double> value, mean;
};

Stats run(const std::vector<std::string>& extra) {
  TempDir d;
  std::vector<std::string> args = {"--config", std::string(MMUSIM_ROOT) + "/configs/skylake.ini",
                                   "--trace",  "gen:uniform,count=200000,footprint=64M,seed=1",
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

}  // namespace
}  // namespace mmusim
