// The miss chain by plain calls (CacheModule::serve_below) against the same
// chain through its TLM sockets: the same completions, sources and counters
// for random requests of one agent and of two agents sharing the LLC, and a
// miss's latency level by level from the configuration.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/mem_port.h"
#include "models/common/random.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "tests/cache/small_levels.h"
#include "tests/common/in_child.h"
#include "tests/common/sc_driver.h"

namespace mmusim {
namespace {

using testing::Driver;

using testing::digest_level;
using testing::small_levels;

CacheConfig without_prefetch(CacheConfig c, bool off) {
  if (off) c.l1d.prefetch = c.l2.prefetch = PrefetchKind::kNone;
  return c;
}

// `cpus` private L1D -> L2 pairs sharing an LLC in front of the DRAM, each
// CPU's requests from its own agent; `direct`: every level passes its
// in-order requests down by plain calls.
struct System {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cfg;
  DramModule dram;
  CacheModule llc;
  std::vector<std::unique_ptr<CacheModule>> l1d, l2;
  System(const std::string& tag, uint32_t cpus, bool direct, bool prefetch = true)
      : cfg(without_prefetch(small_levels(), !prefetch)),
        dram((tag + "_dram").c_str(), DramConfig{}, clk, &mem),
        llc((tag + "_llc").c_str(), cfg.llc, MemSource::kLlc, clk, &mem) {
    llc.lower.bind(dram.socket);
    llc.set_miss_path(cfg.miss_path);
    llc.set_shared(true);
    if (direct) llc.serve_below(static_cast<InOrderMemTarget*>(&dram));
    for (uint32_t i = 0; i < cpus; ++i) {
      const std::string n = tag + "_cpu" + std::to_string(i);
      l1d.push_back(
          std::make_unique<CacheModule>((n + "_l1d").c_str(), cfg.l1d, MemSource::kL1, clk));
      l2.push_back(std::make_unique<CacheModule>((n + "_l2").c_str(), cfg.l2, MemSource::kL2, clk));
      l1d[i]->lower.bind(l2[i]->upper);
      l2[i]->lower.bind(llc.upper);
      if (direct) {
        l1d[i]->serve_below(l2[i].get());
        l2[i]->serve_below(&llc);
      }
    }
  }
};

struct Outcome {
  Cycle done;
  MemSource served;
  bool operator==(const Outcome& o) const { return done == o.done && served == o.served; }
};

// Runs `n` random requests per CPU (reads and writes of data lines within
// 2 MiB, now and then a walker read, arrivals 1 to 40 cycles apart) on a
// fresh system; returns each CPU's outcomes.
struct Run {
  std::unique_ptr<System> sys;
  std::vector<std::vector<Outcome>> out;
  std::vector<std::unique_ptr<Driver>> drivers;
  Run(const std::string& tag, uint32_t cpus, bool direct, size_t n, uint64_t seed) {
    sys = std::make_unique<System>(tag, cpus, direct);
    out.resize(cpus);
    for (uint32_t i = 0; i < cpus; ++i) {
      drivers.push_back(std::make_unique<Driver>(
          (tag + "_driver" + std::to_string(i)).c_str(), [this, i, n, seed](Driver& self) {
            System& s = *sys;
            // Created in the thread, so an agent's id (a shared level's tie
            // key) is the order SystemC first runs the threads: the same on
            // both sides of the comparison. The agents also start alone one
            // after another, so more requests take the plain calls than
            // with agents registered before the start (as CpuModule does).
            AgentSync sync(s.horizon, "cpu" + std::to_string(i), s.clk, false);
            TimedMemRequest data(Initiator::kData);
            TimedMemRequest walker(Initiator::kWalker);
            SplitMix64 rng(seed + i);
            uint64_t t = 1000 + 7 * i;
            uint64_t seq = 0x100000 * (i + 1);
            for (size_t k = 0; k < n; ++k) {
              const uint64_t r = rng.next() % 100;
              t += 1 + rng.next() % 40;
              // Runs of sequential lines (the prefetchers train) mixed with
              // random lines.
              seq += 64;
              const uint64_t a = r < 50 ? seq : (rng.next() % (2U << 20)) & ~uint64_t{63};
              TimedMemRequest& q = r < 10 ? walker : data;
              const bool w = r >= 10 && r < 35;
              const Cycle done = q.access(self.out, sync, PhysAddr(a), w, Cycle(t));
              out[i].push_back(Outcome{done, q.served()});
            }
            s.horizon.set(sync.id(), SyncHorizon::kNever);
          }));
      drivers.back()->out.bind(sys->l1d[i]->upper);
    }
  }
};

// Runs `r` and returns its results: every request's completion and source,
// every level's counters, the DRAM's and its per-initiator counters.
std::vector<uint64_t> digest(Run& r) {
  sc_core::sc_start();
  std::vector<uint64_t> d;
  for (const std::vector<Outcome>& o : r.out) {
    d.push_back(o.size());
    for (const Outcome& x : o) d.insert(d.end(), {x.done.count(), uint64_t(x.served)});
  }
  for (size_t i = 0; i < r.sys->l1d.size(); ++i) {
    digest_level(r.sys->l1d[i]->core(), d);
    digest_level(r.sys->l2[i]->core(), d);
  }
  digest_level(r.sys->llc.core(), d);
  const DramModule& m = r.sys->dram;
  d.insert(d.end(), {m.core().stats().reads, m.core().stats().writes, m.core().stats().row_hits});
  for (int w = 0; w < kNumInitiators; ++w) {
    const DramInitiatorStats& x = m.initiator_stats(static_cast<Initiator>(w));
    d.insert(d.end(), {x.requests, x.latency.sum(), x.latency.max()});
  }
  return d;
}

// The same requests through the sockets only (in a child process: one
// system per simulation, as mmusim builds it, so that SystemC runs the
// processes in the same order) and by plain calls (here): equal results.
void compare(uint32_t cpus, size_t n, uint64_t seed) {
  const std::vector<uint64_t> theirs = testing::in_child([&] {
    Run sockets("sys", cpus, false, n, seed);
    // (No plain call may serve a request of the sockets-only system.)
    return sockets.sys->llc.served_in_order() == 0 ? digest(sockets) : std::vector<uint64_t>{};
  });
  ASSERT_FALSE(theirs.empty());
  Run calls("sys", cpus, true, n, seed);
  const std::vector<uint64_t> mine = digest(calls);
  ASSERT_EQ(mine.size(), theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) ASSERT_EQ(mine[i], theirs[i]) << "result " << i;
  // The mix is a real one: every level misses, prefetches and writes back,
  // and most requests went down by plain calls.
  const Cache& l1 = calls.sys->l1d[0]->core();
  const Cache& l2 = calls.sys->l2[0]->core();
  EXPECT_GT(l1.total().misses, n / 4);
  EXPECT_GT(l1.writebacks(), n / 50);
  EXPECT_GT(l2.prefetch_counts().issued, n / 50);
  EXPECT_GT(calls.sys->llc.core().total().misses, n / 10);
  // (More agents: most requests below an L1 go through the sockets. An agent
  // waiting on a miss announces its issue time, not the miss's end
  // (AgentSync::set_floor), so another agent's request is rarely known to be
  // in time order; the plain calls still serve some.)
  EXPECT_GT(calls.sys->l2[0]->served_in_order(), l1.total().misses / (cpus == 1 ? 2 : 100));
  EXPECT_GT(calls.sys->llc.served_in_order(),
            calls.sys->llc.core().total().accesses / (cpus == 1 ? 4 : 100));
}

TEST(CacheDirectChain, OneAgentSameResultsAsTheSockets) { compare(1, 20000, 1); }

TEST(CacheDirectChain, TwoAgentsSharingTheLlcSameResultsAsTheSockets) { compare(2, 10000, 2); }

TEST(CacheDirectChain, ThreeAgentsSharingTheLlcSameResultsAsTheSockets) { compare(3, 4000, 3); }

TEST(CacheDirectChain, FourAgentsSharingTheLlcSameResultsAsTheSockets) { compare(4, 4000, 4); }

// A miss's latency level by level, through the plain calls (no
// prefetcher): a cold read costs each level's lookup, the miss path and a
// DRAM row miss on a precharged bank; then an L1D, an L2 and an LLC hit cost
// the lookups down to their level.
TEST(CacheDirectChain, MissLatencyLevelByLevelFromTheConfiguration) {
  System s("lat", 1, true, false);
  const CacheConfig& c = s.cfg;
  const DramCoreTiming& t = s.dram.core().core_timing();
  const uint64_t base = 10 * t.refi.count() + t.rfc.count() + 1000;
  const uint64_t l1 = c.l1d.latency.count();
  const uint64_t l2 = l1 + c.l2.latency.count();
  const uint64_t llc = l2 + c.llc.latency.count();
  const uint64_t dram_first = (t.controller + t.rcd + t.cl + t.bl).count();
  std::vector<std::pair<uint64_t, MemSource>> got;
  Driver d("lat_driver", [&](Driver& self) {
    AgentSync sync(s.horizon, "driver", s.clk, false);
    TimedMemRequest data(Initiator::kData);
    const PhysAddr a(0x123440);
    auto go = [&](PhysAddr x, uint64_t at) {
      const Cycle done = data.access(self.out, sync, x, false, Cycle(base + at));
      got.emplace_back(done.count() - base - at, data.served());
    };
    go(a, 0);     // cold
    go(a, 1000);  // L1D hit
    // The L1D has 16 sets of 4 ways (a set every 1 KiB), the L2 64 sets of
    // 4 ways (every 4 KiB): five lines 1 KiB apart evict a from the L1D and
    // put one line in its L2 set.
    for (uint64_t i = 1; i <= 5; ++i) go(PhysAddr(a.value() + 1024 * i), 1000 + 1000 * i);
    go(a, 8000);  // L2 hit
    // Five lines 4 KiB apart evict it from the L1D and the L2 (the LLC: 128
    // sets of 8 ways, two of them in its set).
    for (uint64_t i = 1; i <= 5; ++i) go(PhysAddr(a.value() + 4096 * i), 8000 + 1000 * i);
    go(a, 15000);  // LLC hit
    s.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.out.bind(s.l1d[0]->upper);
  sc_core::sc_start();
  ASSERT_EQ(got.size(), 14U);
  EXPECT_EQ(got[0].first, llc + c.miss_path.count() + dram_first);
  EXPECT_EQ(got[0].second, MemSource::kDram);
  EXPECT_EQ(got[1].first, l1);
  EXPECT_EQ(got[1].second, MemSource::kL1);
  EXPECT_EQ(got[7].first, l2);
  EXPECT_EQ(got[7].second, MemSource::kL2);
  EXPECT_EQ(got[13].first, llc);
  EXPECT_EQ(got[13].second, MemSource::kLlc);
  // One agent is always in time order: every miss of the L1D went to the L2
  // by a plain call, and every miss of the L2 to the LLC (no dirty victims).
  EXPECT_EQ(s.l1d[0]->core().writebacks(), 0U);
  EXPECT_EQ(s.l2[0]->served_in_order(), s.l1d[0]->core().total().misses);
  EXPECT_EQ(s.llc.served_in_order(), s.l2[0]->core().total().misses);
  EXPECT_EQ(s.l1d[0]->core().total().misses, 12U);  // all but the L1D hit and the L2/LLC ones
}

}  // namespace
}  // namespace mmusim
