// The cache core: geometry, hit and miss timing, exact LRU against a
// reference, write-back of dirty victims, invalidation, the miss-merge rule
// and the MSHR limit; the configuration's checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <list>
#include <random>
#include <vector>

#include "models/cache/cache.h"
#include "models/cache/cache_config.h"
#include "models/cache/snoop_filter.h"
#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

CacheGeometry geo(uint64_t size, uint32_t ways, uint64_t lat = 4, uint32_t mshrs = 4) {
  CacheGeometry g;
  g.size_bytes = size;
  g.ways = ways;
  g.line_bytes = 64;
  g.latency = Cycles(lat);
  g.mshrs = mshrs;
  return g;
}

TEST(Cache, GeometryAndHitMissTiming) {
  Cache c(geo(32768, 8, 5));
  EXPECT_EQ(c.geometry().sets(), 64U);
  EXPECT_EQ(c.line_of(0x12345), 0x12345U >> 6);
  const CacheResult m = c.access(c.line_of(0x1000), false, Cycle(100), 0);
  EXPECT_FALSE(m.hit);
  EXPECT_EQ(m.ready, Cycle(105));  // passed on after the lookup
  c.filled(c.line_of(0x1000), Cycle(300));
  const CacheResult h = c.access(c.line_of(0x1008), false, Cycle(400), 0);
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.ready, Cycle(405));  // at + latency
  EXPECT_EQ(c.counts(0).accesses, 2U);
  EXPECT_EQ(c.counts(0).hits, 1U);
  EXPECT_EQ(c.counts(0).misses, 1U);
  EXPECT_EQ(c.counts(1).accesses, 0U);
}

TEST(Cache, WriteToASharedLineAsksForAnUpgradeOnce) {
  // 2 sets of 2 ways. Lines filled exclusive (the default) are written
  // silently; a line marked shared is read silently (and stays shared), and
  // its first write, found whether it was the last line looked up, the most
  // recently used way or another way, reports CacheResult::upgrade (not a
  // hit, not a miss: counted as a hit) and makes it exclusive and dirty.
  Cache c(geo(256, 2, 5, 4));
  const uint64_t a = 0, b = 2;       // set 0, both ways
  c.access(a, false, Cycle(10), 1);  // miss: allocated
  c.filled(a, Cycle(20));
  c.access(b, false, Cycle(30), 1);
  c.filled(b, Cycle(40));
  const CacheResult silent = c.access(a, true, Cycle(50), 1);  // exclusive: silent
  EXPECT_TRUE(silent.hit);
  EXPECT_FALSE(silent.upgrade);
  EXPECT_TRUE(c.dirty(a));
  EXPECT_FALSE(c.set_shared(a + 4, true));  // absent: nothing changes
  EXPECT_TRUE(c.set_shared(a, true));       // a: the last line looked up, the MRU way
  EXPECT_FALSE(c.set_shared(a, true));      // already shared
  EXPECT_TRUE(c.shared(a));
  EXPECT_TRUE(c.dirty(a));  // a downgrade keeps the data dirty here
  const CacheResult rd = c.access(a, false, Cycle(60), 1);
  EXPECT_TRUE(rd.hit);
  EXPECT_FALSE(rd.upgrade);
  EXPECT_EQ(rd.ready, Cycle(65));
  EXPECT_TRUE(c.shared(a));
  const CacheResult w = c.access(a, true, Cycle(70), 1);
  EXPECT_FALSE(w.hit);
  EXPECT_TRUE(w.upgrade);
  EXPECT_FALSE(w.writeback);
  EXPECT_EQ(w.ready, Cycle(75));
  EXPECT_FALSE(c.shared(a));
  EXPECT_TRUE(c.access(a, true, Cycle(80), 1).hit);  // exclusive now: silent
  // b: not the most recently used way (the search path).
  EXPECT_TRUE(c.set_shared(b, true));
  const CacheResult wb = c.access(b, true, Cycle(90), 1);
  EXPECT_TRUE(wb.upgrade);
  EXPECT_FALSE(c.shared(b));
  EXPECT_TRUE(c.dirty(b));
  // b is the MRU way now; shared again, after another set's line was
  // looked up (so not the last line either).
  EXPECT_TRUE(c.set_shared(b, true));
  c.access(1, false, Cycle(100), 1);
  c.filled(1, Cycle(110));
  EXPECT_TRUE(c.access(b, true, Cycle(120), 1).upgrade);
  // Nine accesses: three misses (a, b, line 1); the upgrades
  // are hits in the counts.
  EXPECT_EQ(c.counts(1).accesses, 9U);
  EXPECT_EQ(c.counts(1).misses, 3U);
  // A dirty shared line evicted is written back under its own line number.
  EXPECT_TRUE(c.set_shared(b, true));
  c.access(a, false, Cycle(130), 1);  // a becomes the MRU: b is the LRU
  const CacheResult ev = c.access(4, false, Cycle(140), 1);
  EXPECT_TRUE(ev.writeback);
  EXPECT_EQ(ev.victim, b);
  c.filled(4, Cycle(150));
  // Refilled, it is exclusive.
  c.access(b, false, Cycle(160), 1);
  c.filled(b, Cycle(170));
  EXPECT_FALSE(c.shared(b));
  EXPECT_TRUE(c.access(b, true, Cycle(180), 1).hit);
}

TEST(SnoopFilter, SixteenWaysLruEvictionAndErase) {
  SnoopFilter f(20);  // rounds up to 2 sets of 16 ways
  EXPECT_EQ(f.capacity(), 32U);
  SnoopFilter::Entry ev;
  // Set 0: even lines 0, 2, ..., 30 fill it without an eviction.
  for (uint64_t l = 0; l < 32; l += 2) {
    SnoopFilter::Entry& e = f.insert(l, &ev);
    EXPECT_EQ(ev.line, SnoopFilter::kEmpty);
    e.owners = l + 1;
  }
  EXPECT_EQ(f.size(), 16U);
  ASSERT_NE(f.find(0), nullptr);  // 0 becomes the most recently used: 2 is the LRU
  EXPECT_EQ(f.find(0)->owners, 1U);
  EXPECT_EQ(f.insert(4, &ev).owners, 5U);  // present: found, nothing evicted
  EXPECT_EQ(ev.line, SnoopFilter::kEmpty);
  EXPECT_EQ(f.insert(32, &ev).owners, 0U);  // new, set full: evicts 2
  EXPECT_EQ(ev.line, 2U);
  EXPECT_EQ(ev.owners, 3U);
  EXPECT_EQ(f.find(2), nullptr);
  EXPECT_EQ(f.size(), 16U);
  f.erase(6);
  f.erase(6);  // absent: nothing
  EXPECT_EQ(f.size(), 15U);
  f.insert(34, &ev);  // takes the freed way
  EXPECT_EQ(ev.line, SnoopFilter::kEmpty);
  f.insert(1, &ev);  // set 1
  EXPECT_EQ(ev.line, SnoopFilter::kEmpty);
  EXPECT_EQ(f.size(), 17U);
}

TEST(Cache, WholeLineWriteAllocatesWithoutAFetch) {
  // 2 sets of 2 ways, 1 MSHR: a whole-line write that misses takes the line
  // dirty, ready after the lookup, and leaves the MSHR free.
  Cache c(geo(256, 2, 5, 1));
  const CacheResult a = c.write_whole(0, Cycle(100), 3);
  EXPECT_FALSE(a.hit);
  EXPECT_FALSE(a.writeback);
  EXPECT_EQ(a.ready, Cycle(105));
  EXPECT_TRUE(c.dirty(0));
  EXPECT_EQ(c.mshr_wait(Cycle(105)), Cycle(105));  // no MSHR taken
  EXPECT_FALSE(c.pending(0));
  // A read of it hits once the write is done.
  EXPECT_EQ(c.access(0, false, Cycle(200), 0).ready, Cycle(205));
  // A hit: as a plain write (the line stays, dirty).
  c.access(4, false, Cycle(300), 0);  // a clean miss in set 0 (its MSHR busy until known)
  c.filled(4, Cycle(400));
  const CacheResult h = c.write_whole(4, Cycle(500), 3);
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.ready, Cycle(505));
  EXPECT_TRUE(c.dirty(4));
  // A third line of set 0 evicts the LRU (line 0, dirty): written back.
  const CacheResult v = c.write_whole(2, Cycle(600), 3);
  EXPECT_FALSE(v.hit);
  EXPECT_TRUE(v.writeback);
  EXPECT_EQ(v.victim, 0U);
  EXPECT_EQ(c.counts(3).accesses, 3U);
  EXPECT_EQ(c.counts(3).hits, 1U);
  EXPECT_EQ(c.counts(3).misses, 2U);
  EXPECT_EQ(c.whole_line_allocs(), 2U);
  EXPECT_EQ(c.writebacks(), 1U);
}

// A reference LRU: per set a list of lines, most recent first.
class RefLru {
 public:
  RefLru(uint64_t sets, uint32_t ways) : sets_(sets), ways_(ways), lists_(sets) {}
  bool access(uint64_t line) {
    auto& l = lists_[line % sets_];
    auto it = std::find(l.begin(), l.end(), line);
    const bool hit = it != l.end();
    if (hit) l.erase(it);
    l.push_front(line);
    if (l.size() > ways_) l.pop_back();
    return hit;
  }
  void invalidate(uint64_t line) { lists_[line % sets_].remove(line); }
  // The lines of `line`'s set, most recent first, -1 for each empty way.
  [[nodiscard]] std::vector<int64_t> order(uint64_t line) const {
    std::vector<int64_t> o;
    for (const uint64_t l : lists_[line % sets_]) o.push_back(static_cast<int64_t>(l));
    o.resize(ways_, -1);
    return o;
  }

 private:
  uint64_t sets_;
  uint32_t ways_;
  std::vector<std::list<uint64_t>> lists_;
};

TEST(Cache, LruExactAgainstReference) {
  for (uint32_t ways : {1U, 2U, 4U, 8U, 16U}) {
    Cache c(geo(uint64_t{4} * ways * 64, ways));  // 4 sets
    RefLru ref(4, ways);
    std::mt19937_64 rng(ways);
    uint64_t hits = 0;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t line = rng() % (6 * ways * 4 / 2 + 3);
      if (i % 97 == 0) {
        c.invalidate(line);
        ref.invalidate(line);
        continue;
      }
      const bool h = c.access(line, (i & 1) != 0, Cycle(1000 * i), 0).hit;
      ASSERT_EQ(h, ref.access(line)) << "ways " << ways << " access " << i;
      hits += h ? 1 : 0;
    }
    EXPECT_GT(hits, 1000U);  // the sequence exercises hits and misses
  }
}

// The hit paths (the same line as the previous access, the set's most
// recently used way, another way of the set) against the reference, access
// by access: hit or miss, the set's whole recency order, the dirty bit, the
// hit's timing and the per-initiator counts (hits = accesses - misses).
TEST(Cache, HitPathsExactAgainstReference) {
  for (uint32_t ways : {1U, 2U, 4U, 8U, 16U}) {
    Cache c(geo(uint64_t{4} * ways * 64, ways, 3, 64));  // 4 sets
    RefLru ref(4, ways);
    std::vector<bool> dirty(4096, false), shared(4096, false);
    uint64_t acc[3] = {}, hit[3] = {}, upgrades = 0;
    std::mt19937_64 rng(ways + 100);
    uint64_t line = 0, same = 0, mru = 0;
    for (int i = 0; i < 30000; ++i) {
      // Repeats of the last line, of a set's most recent line, and others.
      const uint64_t pick = rng() % 8;
      const std::vector<int64_t> before = ref.order(rng() % 4);
      if (pick < 2) {
        ++same;  // line unchanged
      } else if (pick < 4 && before[0] >= 0) {
        line = static_cast<uint64_t>(before[0]);
        ++mru;
      } else {
        line = rng() % (2 * ways * 4 + 3);
      }
      if (i % 89 == 0) {
        bool was = false;
        c.invalidate(line, &was);
        EXPECT_EQ(was, dirty[line]);
        dirty[line] = false;
        ref.invalidate(line);
        continue;
      }
      // A line held shared (coherence between CPUs) leaves the fast paths:
      // its hits take the search, and must keep the recency order exact.
      const std::vector<int64_t> set = ref.order(line);
      const bool present =
          std::find(set.begin(), set.end(), static_cast<int64_t>(line)) != set.end();
      if (!present) shared[line] = false;
      if (i % 7 == 0 && present) {
        EXPECT_EQ(c.set_shared(line, true), !shared[line]);
        shared[line] = true;
      }
      const bool write = rng() % 3 == 0;
      const unsigned who = static_cast<unsigned>(rng() % 3);
      const Cycle at(1000 * static_cast<uint64_t>(i));
      const CacheResult r = c.access(line, write, at, who);
      const bool h = ref.access(line);
      ASSERT_EQ(r.hit || r.upgrade, h) << "ways " << ways << " access " << i;
      ASSERT_EQ(r.upgrade, h && write && shared[line]) << "ways " << ways << " access " << i;
      upgrades += r.upgrade ? 1 : 0;
      if (write) shared[line] = false;
      ASSERT_EQ(c.shared(line), shared[line]);
      if (!h) {
        if (r.writeback) {
          ASSERT_TRUE(dirty[r.victim]);
          dirty[r.victim] = false;
        }
        c.filled(line, at + Cycles(3));
        dirty[line] = write;
      } else {
        ASSERT_EQ(r.ready, at + Cycles(3));
        dirty[line] = dirty[line] || write;
      }
      ++acc[who];
      hit[who] += h ? 1 : 0;
      ASSERT_EQ(c.set_order(line), ref.order(line)) << "ways " << ways << " access " << i;
      ASSERT_EQ(c.dirty(line), dirty[line]);
    }
    for (unsigned who = 0; who < 3; ++who) {
      EXPECT_EQ(c.counts(who).accesses, acc[who]);
      EXPECT_EQ(c.counts(who).hits, hit[who]);
      EXPECT_EQ(c.counts(who).misses, acc[who] - hit[who]);
    }
    EXPECT_EQ(c.total().hits, hit[0] + hit[1] + hit[2]);
    EXPECT_GT(same, 5000U);  // every path is exercised
    EXPECT_GT(mru, 5000U);
    EXPECT_GT(upgrades, 500U);
  }
}

TEST(Cache, RecencyOrderAndInvalidatedWayIsNextVictim) {
  Cache c(geo(4 * 64, 4));  // one set of four ways
  for (uint64_t l = 1; l <= 4; ++l) c.access(l, false, Cycle(0), 0);
  EXPECT_EQ(c.set_order(1), (std::vector<int64_t>{4, 3, 2, 1}));
  c.access(2, false, Cycle(0), 0);
  EXPECT_EQ(c.set_order(1), (std::vector<int64_t>{2, 4, 3, 1}));
  EXPECT_TRUE(c.invalidate(4));
  EXPECT_FALSE(c.invalidate(4));
  EXPECT_EQ(c.set_order(1), (std::vector<int64_t>{2, 3, 1, -1}));
  c.access(9, false, Cycle(0), 0);  // fills the invalid way: nothing evicted
  EXPECT_TRUE(c.contains(1) && c.contains(2) && c.contains(3) && c.contains(9));
  // The shortcut for the last line sees the invalidation.
  c.invalidate(9);
  EXPECT_FALSE(c.access(9, false, Cycle(0), 0).hit);
}

TEST(Cache, WriteBackOfDirtyVictims) {
  Cache c(geo(2 * 64, 2));                                  // one set of two ways
  EXPECT_FALSE(c.access(10, true, Cycle(0), 0).writeback);  // write-allocate: dirty
  EXPECT_TRUE(c.dirty(10));
  c.access(11, false, Cycle(0), 0);
  CacheResult r = c.access(12, false, Cycle(0), 0);  // evicts 10, dirty
  EXPECT_TRUE(r.writeback);
  EXPECT_EQ(r.victim, 10U);
  r = c.access(13, false, Cycle(0), 0);  // evicts 11, clean
  EXPECT_FALSE(r.writeback);
  c.access(12, true, Cycle(0), 0);   // a write hit dirties the line
  c.access(14, false, Cycle(0), 0);  // evicts 13 (12 is more recent)
  r = c.access(15, false, Cycle(0), 0);
  EXPECT_TRUE(r.writeback);
  EXPECT_EQ(r.victim, 12U);
  EXPECT_EQ(c.writebacks(), 2U);
  // install(): a kernel write puts the line in dirty without a demand access.
  EXPECT_FALSE(c.install(20, true).hit);
  EXPECT_TRUE(c.dirty(20));
  EXPECT_EQ(c.total().accesses, 7U);
}

TEST(Cache, MissMergeWaitsForTheFill) {
  Cache c(geo(32768, 8, 4));
  const uint64_t line = 77;
  EXPECT_FALSE(c.access(line, false, Cycle(0), 0).hit);
  c.filled(line, Cycle(200));
  // A second access while the fill is in flight hits, completing with the fill.
  CacheResult r = c.access(line, false, Cycle(10), 0);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.ready, Cycle(200));
  EXPECT_EQ(c.merged(), 1U);
  // At 196 the lookup would end at 200: no wait counted.
  r = c.access(line, false, Cycle(196), 0);
  EXPECT_EQ(r.ready, Cycle(200));
  EXPECT_EQ(c.merged(), 1U);
  // After the fill: a plain hit.
  r = c.access(line, false, Cycle(300), 0);
  EXPECT_EQ(r.ready, Cycle(304));
}

TEST(Cache, MissesWaitForAFreeMshr) {
  Cache c(geo(32768, 8, 4, 2));
  c.access(1, false, Cycle(0), 0);
  c.filled(1, Cycle(100));
  c.access(2, false, Cycle(0), 0);
  c.filled(2, Cycle(150));
  // Both MSHRs busy at 14: the third miss is passed on when the first frees.
  CacheResult r = c.access(3, false, Cycle(10), 0);
  EXPECT_EQ(r.ready, Cycle(100));
  EXPECT_EQ(c.mshr_full(), 1U);
  c.filled(3, Cycle(250));  // takes line 1's register
  // At 96 + 4 = 100 lines 2 and 3 are in flight: the next frees at 150.
  r = c.access(4, false, Cycle(96), 0);
  EXPECT_EQ(r.ready, Cycle(150));
  EXPECT_EQ(c.mshr_full(), 2U);
  c.filled(4, Cycle(400));
  // At 250 + 4 only line 4 is in flight: no wait.
  r = c.access(5, false, Cycle(250), 0);
  EXPECT_EQ(r.ready, Cycle(254));
  EXPECT_EQ(c.mshr_full(), 2U);
}

TEST(CacheConfig, KeysAndChecks) {
  CacheConfig c;
  std::string entry = "l1d";
  resolve_cache_config(c, entry);
  EXPECT_EQ(c.l1d.sets(), 64U);
  EXPECT_EQ(c.llc.sets(), 8192U);
  auto err = [&](const std::function<void(CacheConfig&, std::string&)>& f) {
    CacheConfig x;
    std::string e = "l1d";
    f(x, e);
    try {
      resolve_cache_config(x, e);
    } catch (const InputError& ex) {
      return std::string(ex.what());
    }
    return std::string();
  };
  EXPECT_EQ(err([](CacheConfig&, std::string& e) { e = "l3"; }),
            "cache.walker_entry: unknown level 'l3' (expected l1d, l2 or llc)");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) { x.l2.ways = 17; }),
            "cache.l2.ways: must be 1 to 16, got 17");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) { x.l1d.size_bytes = 3 * 8 * 64; }),
            "cache.l1d.size: 1536 bytes over 8 ways of 64-byte lines must give a power-of-two "
            "number of sets");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) { x.line_bytes = 48; }),
            "cache.line_size: must be a power of two from 16 to 4096, got 48");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) { x.miss_path = Cycles(4097); }),
            "cache.miss_path: must be at most 4096 cycles (the bound that keeps 64-bit cycle "
            "counts from overflowing), got 4097");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) { x.llc.mshrs = 0; }),
            "cache.llc.mshrs: must be 1 to 64, got 0");
  // The L1D's registers bound the kernel's line loops even without an L1D;
  // another absent level's are not used.
  EXPECT_EQ(err([](CacheConfig& x, std::string&) {
              x.l1d.size_bytes = 0;
              x.l1d.mshrs = 65;
            }),
            "cache.l1d.mshrs: must be 1 to 64, got 65");
  EXPECT_EQ(err([](CacheConfig& x, std::string&) {
              x.l2.size_bytes = 0;
              x.l2.mshrs = 65;
            }),
            "");
  EXPECT_EQ(err([](CacheConfig& x, std::string& e) {
              x.enabled = true;
              x.l2.size_bytes = 0;
              e = "l2";
            }),
            "cache.walker_entry: the l2 level is absent (cache.l2.size = 0)");
  // The data side needs both first levels; without caches it is off.
  EXPECT_EQ(err([](CacheConfig& x, std::string&) {
              x.enabled = true;
              x.data = true;
              x.l1i.size_bytes = 0;
            }),
            "cache.data: the trace's fetches go through the l1i, which is absent (cache.l1i.size "
            "= 0; expected a size, or cache.data = false)");
  EXPECT_EQ(err([](CacheConfig& x, std::string& e) {
              x.enabled = true;
              x.data = true;
              x.l1d.size_bytes = 0;
              e = "l2";
            }),
            "cache.data: the trace's data accesses go through the l1d, which is absent "
            "(cache.l1d.size = 0; expected a size, or cache.data = false)");
  {
    CacheConfig x;
    x.data = true;
    x.l1d.size_bytes = 0;
    std::string e = "l1d";
    resolve_cache_config(x, e);
    EXPECT_FALSE(x.data);
  }
  // Absent levels are not checked; the LLC may be absent.
  EXPECT_EQ(err([](CacheConfig& x, std::string&) {
              x.enabled = true;
              x.llc.size_bytes = 0;
              x.llc.ways = 99;
            }),
            "");
}

TEST(CacheConfig, SchemaNamesEveryKey) {
  ConfigSchema s;
  CacheConfig c;
  std::string entry = "l1d";
  add_keys(s, c, entry);
  for (const char* k : {"cache.enabled", "cache.data", "cache.line_size", "cache.l1d.size",
                        "cache.l1i.ways", "cache.l2.latency", "cache.llc.mshrs",
                        "cache.walker_entry", "cache.miss_path", "cache.dma_allocate"}) {
    EXPECT_NE(s.find(k), nullptr) << k;
  }
}

}  // namespace
}  // namespace mmusim
