// The caches' hardware prefetchers: the L1D's next-line prefetcher and the
// L2's stream prefetcher on the plain core (exact counts of a scan, the 4 KiB
// page boundary, degree and distance, an MSHR-full drop), the timing through
// the module chain L1D -> L2 -> LLC -> DRAM (a prefetched line is a hit; a
// demand merged with a prefetch in flight waits exactly for the rest of its
// fill), and the configuration's checks.
#include <gtest/gtest.h>

#include <functional>
#include <systemc>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/config_schema.h"
#include "models/common/mem_port.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "tests/common/sc_driver.h"

namespace mmusim {
namespace {

constexpr uint64_t kPageLines = 4096 / 64;

CacheGeometry next_line_l1d() {
  CacheGeometry g{32768, 8, 64, Cycles(5), 12};
  g.prefetch = PrefetchKind::kNextLine;
  return g;
}

CacheGeometry stream_l2(uint32_t degree, uint32_t distance) {
  CacheGeometry g{262144, 4, 64, Cycles(7), 32};
  g.prefetch = PrefetchKind::kStream;
  g.prefetch_degree = degree;
  g.prefetch_distance = distance;
  return g;
}

// Does what CacheModule does with the proposals: each prefetch's fill
// completes `fill` cycles after it is issued. Returns how many were issued.
uint32_t issue(Cache& c, uint64_t fill) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < c.proposed(); ++i) {
    CacheResult r;
    if (!c.prefetch(c.proposal(i), c.proposal_time(), r)) continue;
    c.filled(c.proposal(i), r.ready + Cycles(fill));
    ++n;
  }
  c.clear_proposals();
  return n;
}

// A demand read of `line` at `at` on the core as the module makes it: the
// lookup, the stream's training, a miss's fill `fill` cycles after it is
// passed on, then the prefetches. Returns the lookup's result.
CacheResult demand(Cache& c, uint64_t line, uint64_t at, uint64_t fill = 100) {
  const CacheResult r = c.access(line, false, Cycle(at), 0);
  if (c.geometry().prefetch == PrefetchKind::kStream) c.train(line, Cycle(at));
  if (!r.hit) c.filled(line, r.ready + Cycles(fill));
  issue(c, fill);
  return r;
}

TEST(NextLinePrefetch, ScanOfOnePageMissesEveryOtherLine) {
  Cache c(next_line_l1d());
  const uint64_t first = 10 * kPageLines;  // the first line of a page
  for (uint64_t i = 0; i < kPageLines; ++i) {
    const CacheResult r = demand(c, first + i, 1000 * (i + 1));
    // Even lines miss and fetch the next one, which is there by then.
    EXPECT_EQ(r.hit, i % 2 == 1) << i;
    if (r.hit) {
      EXPECT_EQ(r.ready, Cycle(1000 * (i + 1) + 5)) << i;
    }
  }
  EXPECT_EQ(c.total().misses, kPageLines / 2);
  EXPECT_EQ(c.total().hits, kPageLines / 2);
  const PrefetchCounts& p = c.prefetch_counts();
  EXPECT_EQ(p.issued, kPageLines / 2);
  EXPECT_EQ(p.useful, kPageLines / 2);
  EXPECT_EQ(p.late, 0U);
  EXPECT_EQ(p.dropped, 0U);
  EXPECT_EQ(p.useless, 0U);
  EXPECT_EQ(c.merged(), 0U);
}

TEST(NextLinePrefetch, StopsAtThePageBoundaryAndDropsWithoutAFreeMshr) {
  CacheGeometry g = next_line_l1d();
  g.mshrs = 2;
  Cache c(g);
  const uint64_t last = 11 * kPageLines - 1;  // the last line of a page
  EXPECT_FALSE(c.access(last, false, Cycle(0), 0).hit);
  EXPECT_EQ(c.proposed(), 0U);  // the next line is in the next page
  c.filled(last, Cycle(5000));  // its MSHR stays busy until 5000
  // The demand miss of line 2 takes the other MSHR: its next line finds
  // none free at its issue (1005) and is dropped.
  EXPECT_FALSE(c.access(2, false, Cycle(1000), 0).hit);
  c.filled(2, Cycle(1105));
  ASSERT_EQ(c.proposed(), 1U);
  EXPECT_EQ(c.proposal(0), 3U);
  EXPECT_EQ(c.proposal_time(), Cycle(1005));
  EXPECT_EQ(issue(c, 100), 0U);
  EXPECT_EQ(c.prefetch_counts().dropped, 1U);
  EXPECT_EQ(c.prefetch_counts().issued, 0U);
  EXPECT_FALSE(c.contains(3));
  // After 5000 both MSHRs are free: line 4's miss takes one, its next line
  // the other.
  EXPECT_FALSE(c.access(4, false, Cycle(6000), 0).hit);
  c.filled(4, Cycle(6105));
  EXPECT_EQ(issue(c, 100), 1U);
  EXPECT_TRUE(c.prefetched(5));
  EXPECT_EQ(c.prefetch_counts().issued, 1U);
  // A prefetched line evicted unused is useless: fill its set (8 ways) with
  // lines whose next lines are in another set.
  for (uint64_t i = 1; i <= 8; ++i) demand(c, 5 + 64 * 2 * i, 10000 + 1000 * i);
  EXPECT_FALSE(c.contains(5));
  EXPECT_EQ(c.prefetch_counts().useless, 1U);
}

// The furthest line a stream with `degree` and `distance` has prefetched
// after k >= 1 lookups that follow the first of an ascending scan from a
// page's first line: min(1 + degree k, k + distance), within the page.
uint64_t furthest(uint64_t k, uint64_t degree, uint64_t distance) {
  return std::min({1 + degree * k, k + distance, kPageLines - 1});
}

TEST(StreamPrefetch, DegreeAndDistanceOnAnAscendingScan) {
  for (const auto& [degree, distance] : {std::pair<uint32_t, uint32_t>{2, 20}, {4, 2}, {1, 64}}) {
    Cache c(stream_l2(degree, distance));
    const uint64_t first = 20 * kPageLines;
    const uint64_t n = 10;
    for (uint64_t i = 0; i < n; ++i) demand(c, first + i, 1000 * (i + 1));
    // The first two lookups miss (the second gives the direction); the
    // stream is ahead of every later one.
    const uint64_t issued = furthest(n - 1, degree, distance) - 1;
    EXPECT_EQ(c.total().misses, 2U) << degree << "/" << distance;
    EXPECT_EQ(c.prefetch_counts().issued, issued) << degree << "/" << distance;
    EXPECT_EQ(c.prefetch_counts().useful, n - 2);
    EXPECT_TRUE(c.prefetched(first + issued + 1));
    EXPECT_FALSE(c.contains(first + issued + 2));
  }
}

TEST(StreamPrefetch, DegreeAndDistanceOnADescendingScanStopAtThePage) {
  Cache c(stream_l2(4, 2));
  const uint64_t last = 31 * kPageLines - 1;
  const uint64_t n = 10;
  for (uint64_t i = 0; i < n; ++i) demand(c, last - i, 1000 * (i + 1));
  EXPECT_EQ(c.total().misses, 2U);
  // Mirror of the ascending formula from the page's last line.
  EXPECT_EQ(c.prefetch_counts().issued, furthest(n - 1, 4, 2) - 1);
  // Down to the page's first line and no further: a degree of 64 and a
  // distance of 64 fetch the whole page below the first two lookups.
  CacheGeometry whole = stream_l2(64, 64);
  whole.mshrs = 64;  // the demand's and 62 prefetches
  Cache d(whole);
  const uint64_t top = 41 * kPageLines - 1;
  demand(d, top, 1000);
  demand(d, top - 1, 2000);
  EXPECT_EQ(d.prefetch_counts().issued, kPageLines - 2);
  EXPECT_TRUE(d.prefetched(top - (kPageLines - 1)));
  EXPECT_FALSE(d.contains(top - kPageLines));
  // And upward the same: the next page is not touched.
  Cache u(whole);
  const uint64_t bottom = 50 * kPageLines;
  demand(u, bottom, 1000);
  demand(u, bottom + 1, 2000);
  EXPECT_EQ(u.prefetch_counts().issued, kPageLines - 2);
  EXPECT_FALSE(u.contains(bottom + kPageLines));
}

TEST(StreamPrefetch, TrackersAreReplacedLeastRecentlyTrained) {
  CacheGeometry g = stream_l2(2, 20);
  g.prefetch_streams = 2;
  Cache c(g);
  // Pages 1, 2, then 3 replaces page 1's tracker: page 1 starts over (its
  // second lookup only trains, without a direction yet).
  demand(c, 1 * kPageLines, 100);
  demand(c, 2 * kPageLines, 200);
  demand(c, 3 * kPageLines, 300);
  demand(c, 1 * kPageLines + 1, 400);
  EXPECT_EQ(c.prefetch_counts().issued, 0U);
  demand(c, 1 * kPageLines + 2, 500);
  EXPECT_EQ(c.prefetch_counts().issued, 2U);
}

using testing::Driver;

struct Chain {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cfg = resolved();
  DramModule dram;
  CacheModule l1d, l2, llc;
  Chain()
      : dram("dram", DramConfig{}, clk, &mem),
        l1d("l1d", cfg.l1d, MemSource::kL1, clk),
        l2("l2", cfg.l2, MemSource::kL2, clk),
        llc("llc", cfg.llc, MemSource::kLlc, clk, &mem) {
    l1d.lower.bind(l2.upper);
    l2.lower.bind(llc.upper);
    llc.lower.bind(dram.socket);
    llc.set_miss_path(cfg.miss_path);
  }
  static CacheConfig resolved() {
    CacheConfig x;
    x.enabled = true;
    x.l1d.prefetch = PrefetchKind::kNextLine;
    resolve_cache_config(x, "l1d");
    return x;
  }
  [[nodiscard]] uint64_t l1() const { return cfg.l1d.latency.count(); }
  [[nodiscard]] uint64_t to_dram() const {
    return l1() + cfg.l2.latency.count() + cfg.llc.latency.count() + cfg.miss_path.count();
  }
  // Between refreshes.
  [[nodiscard]] uint64_t base() const {
    const DramCoreTiming& t = dram.core().core_timing();
    return 10 * t.refi.count() + t.rfc.count() + 1000;
  }
};

TEST(PrefetchTiming, NextLineScanHitsOnPrefetchedLinesAtTheLookupLatency) {
  Chain c;
  std::vector<uint64_t> latency;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    TimedMemRequest walker(Initiator::kWalker);
    const uint64_t page = 0x40000;
    // 300 cycles apart: every fill is done before the next access, and the
    // scan stays between two refreshes.
    for (uint64_t i = 0; i < kPageLines; ++i) {
      const Cycle at(c.base() + 300 * i);
      latency.push_back(
          (walker.access(self.out, sync, PhysAddr(page + 64 * i), false, at) - at).count());
    }
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.out.bind(c.l1d.upper);
  sc_core::sc_start();
  ASSERT_EQ(latency.size(), kPageLines);
  const Histogram& demand = c.dram.initiator_stats(Initiator::kWalker).latency;
  const Histogram& pf = c.dram.initiator_stats(Initiator::kPrefetch).latency;
  EXPECT_EQ(demand.count(), kPageLines / 2);
  EXPECT_EQ(pf.count(), kPageLines / 2);
  uint64_t miss_sum = 0;
  for (uint64_t i = 0; i < kPageLines; ++i) {
    if (i % 2 == 1) {
      EXPECT_EQ(latency[i], c.l1()) << i;  // the prefetched line, long filled
    } else {
      miss_sum += latency[i];
    }
  }
  // Each miss: the lookups and the miss path, then its own DRAM time.
  EXPECT_EQ(miss_sum, kPageLines / 2 * c.to_dram() + demand.sum());
  const DramCoreTiming& t = c.dram.core().core_timing();
  EXPECT_EQ(latency[0], c.to_dram() + (t.controller + t.rcd + t.cl + t.bl).count());
  const Cache& l1 = c.l1d.core();
  EXPECT_EQ(l1.total().misses, kPageLines / 2);
  EXPECT_EQ(l1.prefetch_counts().issued, kPageLines / 2);
  EXPECT_EQ(l1.prefetch_counts().useful, kPageLines / 2);
  EXPECT_EQ(l1.prefetch_counts().late, 0U);
  // The prefetches went below under their own initiator.
  EXPECT_EQ(c.l2.core().counts(static_cast<unsigned>(Initiator::kPrefetch)).misses, kPageLines / 2);
}

TEST(PrefetchTiming, DemandMergedWithAPrefetchInFlightWaitsForTheRest) {
  Chain c;
  uint64_t first = 0, second = 0, second_at = 0;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    TimedMemRequest walker(Initiator::kWalker);
    const uint64_t line = 0x80000;
    const Cycle at(c.base());
    first = (walker.access(self.out, sync, PhysAddr(line), false, at) - at).count();
    // The next line, 10 cycles later: its prefetch (sent when line 0's
    // lookup missed) is still on its way from DRAM.
    second_at = c.base() + 10;
    second = walker.access(self.out, sync, PhysAddr(line + 64), false, Cycle(second_at)).count();
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.out.bind(c.l1d.upper);
  sc_core::sc_start();
  const Histogram& pf = c.dram.initiator_stats(Initiator::kPrefetch).latency;
  ASSERT_EQ(pf.count(), 1U);
  // The prefetch left the L1D after its lookup, with the demand: it reached
  // DRAM at base + to_dram and its fill completes pf.max() later.
  const uint64_t fill = c.base() + c.to_dram() + pf.max();
  EXPECT_GT(fill, second_at + c.l1());
  EXPECT_EQ(second, fill);
  EXPECT_EQ(c.l1d.core().prefetch_counts().late, 1U);
  EXPECT_EQ(c.l1d.core().prefetch_counts().useful, 1U);
  EXPECT_EQ(c.l1d.core().total().hits, 1U);
  EXPECT_EQ(c.l1d.core().merged(), 1U);
  EXPECT_GT(first, 0U);
}

std::string config_error(const std::string& key, const std::string& value) {
  ConfigSchema s;
  CacheConfig c;
  std::string entry = "l1d";
  add_keys(s, c, entry);
  try {
    apply_values(s, ConfigValues{{key, ConfigValue{value, "test"}}});
    resolve_cache_config(c, entry);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(PrefetchConfig, BadValuesAreRefusedNamingTheKey) {
  EXPECT_EQ(config_error("cache.l1d.prefetch", "next_line"), "");
  EXPECT_EQ(config_error("cache.l1i.prefetch", "next_line"), "");
  EXPECT_NE(config_error("cache.l1i.prefetch", "stream").find("expected none or next_line"),
            std::string::npos);
  EXPECT_EQ(config_error("cache.l2.prefetch", "stream"), "");
  EXPECT_NE(config_error("cache.l1d.prefetch", "stream").find("cache.l1d.prefetch"),
            std::string::npos);
  EXPECT_NE(config_error("cache.l1d.prefetch", "stream").find("expected none or next_line"),
            std::string::npos);
  EXPECT_NE(config_error("cache.l2.prefetch", "bogus").find("expected none or stream"),
            std::string::npos);
  EXPECT_EQ(config_error("cache.l2.prefetch_degree", "0"),
            "cache.l2.prefetch_degree: must be at least 1, got 0");
  EXPECT_EQ(config_error("cache.l2.prefetch_streams", "0"),
            "cache.l2.prefetch_streams: must be 1 to 64, got 0");
  EXPECT_EQ(config_error("cache.l2.prefetch_distance", "0"),
            "cache.l2.prefetch_distance: must be at least 1, got 0");
  // With the stream on, the page bounds: 64 lines of 64 bytes.
  CacheConfig c;
  c.l2.prefetch = PrefetchKind::kStream;
  c.l2.prefetch_distance = 65;
  try {
    resolve_cache_config(c, "l1d");
    ADD_FAILURE() << "distance 65 accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cache.l2.prefetch_distance: must be 1 to 64 (the lines of a 4 KiB page), got 65");
  }
  c.l2.prefetch_distance = 64;
  c.l2.prefetch_degree = 65;
  try {
    resolve_cache_config(c, "l1d");
    ADD_FAILURE() << "degree 65 accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cache.l2.prefetch_degree: must be 1 to 64 (the lines of a 4 KiB page), got 65");
  }
}

TEST(PrefetchConfig, WithoutTheKeysEveryLevelHasNone) {
  CacheConfig c;
  resolve_cache_config(c, "l1d");
  for (const CacheGeometry* g : {&c.l1d, &c.l1i, &c.l2, &c.llc}) {
    EXPECT_EQ(g->prefetch, PrefetchKind::kNone);
  }
  ConfigSchema s;
  std::string entry = "l1d";
  add_keys(s, c, entry);
  for (const char* k :
       {"cache.l1d.prefetch", "cache.l1i.prefetch", "cache.l2.prefetch",
        "cache.l2.prefetch_streams", "cache.l2.prefetch_degree", "cache.l2.prefetch_distance"}) {
    EXPECT_NE(s.find(k), nullptr) << k;
  }
  EXPECT_EQ(s.find("cache.l1d.prefetch")->get(), "none");
}

}  // namespace
}  // namespace mmusim
