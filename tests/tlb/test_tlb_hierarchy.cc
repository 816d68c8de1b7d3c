// TlbHierarchy: latencies as formulas, fills per page size, analytic scans,
// invalidation broadcast, stat names, and the exactness of the last-hit memo.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "models/tlb/tlb_hierarchy.h"
#include "tests/tlb/tlb_test_util.h"

namespace mmusim {
namespace {

using tlbtest::addr_of;
using tlbtest::CollectVisitor;
using tlbtest::make_tr;

constexpr Asid kA0{0};

TEST(TlbHierarchy, SkylakeLatencies) {
  TlbHierarchy h{TlbConfig{}};
  const Translation t = make_tr(0x42);
  TlbLookup r = h.lookup(addr_of(0x42, PageSize::k4K, 8), AccessKind::kRead, kA0);
  EXPECT_EQ(r.level, TlbLevel::kMiss);
  EXPECT_EQ(r.t, nullptr);
  EXPECT_EQ(r.latency, Cycles(1 + 9));  // L1 + L2 before the walk
  h.fill(t, AccessKind::kRead);
  r = h.lookup(addr_of(0x42, PageSize::k4K, 16), AccessKind::kWrite, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL1);
  ASSERT_NE(r.t, nullptr);
  EXPECT_EQ(r.t->vpn, Vpn(0x42));
  EXPECT_EQ(r.latency, Cycles(1));
  // The ITLB has not seen the page: L1 miss, L2 hit, then an ITLB hit.
  r = h.lookup(addr_of(0x42), AccessKind::kFetch, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL2);
  EXPECT_EQ(r.latency, Cycles(1 + 9));
  r = h.lookup(addr_of(0x42), AccessKind::kFetch, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL1);
  EXPECT_EQ(r.latency, Cycles(1));
  const TlbLevelStats s = h.level_stats();
  EXPECT_EQ(s.l1d_hits, 1U);
  EXPECT_EQ(s.l1d_misses, 1U);
  EXPECT_EQ(s.l1i_hits, 1U);
  EXPECT_EQ(s.l1i_misses, 1U);
  EXPECT_EQ(s.l2_hits, 1U);
  EXPECT_EQ(s.l2_misses, 1U);
}

// Per-array latencies: an L1 hit costs its array's latency; an L1 miss costs
// the slowest L1 array of the side; the L2 adds its hitting array's latency,
// or the slowest L2 array's on a miss.
TEST(TlbHierarchy, PerArrayLatencyFormulas) {
  TlbConfig cfg;
  cfg.l1d[0].latency = Cycles(2);
  cfg.l1d[1].latency = Cycles(3);
  cfg.l1d[2].latency = Cycles(1);
  cfg.l2.latency = Cycles(7);
  cfg.l2_1g.latency = Cycles(11);
  TlbHierarchy h(cfg);
  const Cycles l1_miss(3);
  EXPECT_EQ(h.lookup(addr_of(5), AccessKind::kRead, kA0).latency, l1_miss + Cycles(11));
  h.fill(make_tr(5), AccessKind::kRead);
  EXPECT_EQ(h.lookup(addr_of(5), AccessKind::kRead, kA0).latency, Cycles(2));
  h.fill(make_tr(3, PageSize::k2M), AccessKind::kRead);
  EXPECT_EQ(h.lookup(addr_of(3, PageSize::k2M, 0x1234), AccessKind::kRead, kA0).latency, Cycles(3));
  // Filled by a fetch: in L2 and the ITLB only; a read hits L2.
  h.fill(make_tr(6), AccessKind::kFetch);
  TlbLookup r = h.lookup(addr_of(6), AccessKind::kRead, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL2);
  EXPECT_EQ(r.latency, l1_miss + Cycles(7));
  h.fill(make_tr(1, PageSize::k1G), AccessKind::kFetch);
  r = h.lookup(addr_of(1, PageSize::k1G, 0x2345678), AccessKind::kRead, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL2);
  EXPECT_EQ(r.latency, l1_miss + Cycles(11));
  r = h.lookup(addr_of(1, PageSize::k1G, 0x2345678), AccessKind::kRead, kA0);
  EXPECT_EQ(r.level, TlbLevel::kL1);
  EXPECT_EQ(r.latency, Cycles(1));
}

TEST(TlbHierarchy, FillPlacesEachPageSize) {
  TlbHierarchy h{TlbConfig{}};
  auto valid = [](const TlbArray* a) { return a == nullptr ? 0U : a->valid_entries(); };
  h.fill(make_tr(0x10), AccessKind::kRead);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kRead, PageSize::k4K)), 1U);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kFetch, PageSize::k4K)), 0U);
  EXPECT_EQ(valid(h.l2_array(PageSize::k4K)), 1U);
  h.fill(make_tr(0x10, PageSize::k2M), AccessKind::kWrite);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kWrite, PageSize::k2M)), 1U);
  EXPECT_EQ(h.l2_array(PageSize::k2M), h.l2_array(PageSize::k4K));  // one shared array
  EXPECT_EQ(valid(h.l2_array(PageSize::k2M)), 2U);
  EXPECT_EQ(valid(h.l2_array(PageSize::k1G)), 0U);
  // Skylake's ITLB has no 1G array: a 1G code page lives in the STLB only.
  EXPECT_EQ(h.l1_array(AccessKind::kFetch, PageSize::k1G), nullptr);
  h.fill(make_tr(2, PageSize::k1G), AccessKind::kFetch);
  EXPECT_EQ(valid(h.l2_array(PageSize::k1G)), 1U);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kRead, PageSize::k1G)), 0U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.lookup(addr_of(2, PageSize::k1G, 77), AccessKind::kFetch, kA0).level,
              TlbLevel::kL2);
  }
  // The DTLB does cache 1G (4 entries) while the STLB holds 16.
  h.fill(make_tr(2, PageSize::k1G), AccessKind::kRead);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kRead, PageSize::k1G)), 1U);
  EXPECT_EQ(valid(h.l2_array(PageSize::k1G)), 1U);  // refreshed, not duplicated
  EXPECT_EQ(h.l1_array(AccessKind::kRead, PageSize::k1G)->entries(), 4U);
  EXPECT_EQ(h.l2_array(PageSize::k1G)->entries(), 16U);
  // 4M pages (32-bit PSE) go to the 2M/4M arrays.
  h.fill(make_tr(1, PageSize::k4M), AccessKind::kRead);
  EXPECT_EQ(valid(h.l1_array(AccessKind::kRead, PageSize::k2M)), 2U);
  EXPECT_EQ(h.lookup(LinearAddr(0x400000 + 0x3FFFFF), AccessKind::kRead, kA0).level, TlbLevel::kL1);
}

TEST(TlbHierarchy, SizeNotHeldByL2GoesToL1Only) {
  TlbConfig cfg;
  cfg.l2.sizes = kHolds4K;
  cfg.l2_1g.entries = 0;
  TlbHierarchy h(cfg);
  EXPECT_EQ(h.l2_array(PageSize::k2M), nullptr);
  EXPECT_EQ(h.l2_array(PageSize::k1G), nullptr);
  h.fill(make_tr(7, PageSize::k2M), AccessKind::kRead);
  EXPECT_EQ(h.lookup(addr_of(7, PageSize::k2M), AccessKind::kRead, kA0).level, TlbLevel::kL1);
  EXPECT_EQ(h.lookup(addr_of(7, PageSize::k2M), AccessKind::kFetch, kA0).level, TlbLevel::kMiss);
  // Only one L2 array now: a miss costs L1 + its latency.
  EXPECT_EQ(h.lookup(addr_of(9), AccessKind::kRead, kA0).latency, Cycles(1 + 9));
  EXPECT_EQ(h.arrays().size(), 6U);
}

// A sequential scan over P pages with a cold TLB misses exactly once per page.
TEST(TlbHierarchy, SequentialScanMissesOncePerPage) {
  TlbHierarchy h{TlbConfig{}};
  constexpr uint64_t kPages = 3000;  // more than the STLB holds
  constexpr uint64_t kPerPage = 4;
  uint64_t walks = 0;
  for (uint64_t p = 0; p < kPages; ++p) {
    for (uint64_t i = 0; i < kPerPage; ++i) {
      const LinearAddr a = addr_of(0x10000 + p, PageSize::k4K, i * 1024);
      const TlbLookup r = h.lookup(a, AccessKind::kRead, kA0);
      if (r.level == TlbLevel::kMiss) {
        ++walks;
        h.fill(make_tr(0x10000 + p), AccessKind::kRead);
      }
    }
  }
  const TlbLevelStats s = h.level_stats();
  EXPECT_EQ(walks, kPages);
  EXPECT_EQ(s.l1d_misses, kPages);
  EXPECT_EQ(s.l2_misses, kPages);
  EXPECT_EQ(s.l2_hits, 0U);
  EXPECT_EQ(s.l1d_hits, kPages * (kPerPage - 1));
}

// Cyclic scan over capacity+1 pages of a fully associative LRU L1: every
// access misses L1 (LRU always evicts the page needed next) but hits L2
// after the first round.
TEST(TlbHierarchy, CyclicScanLruPathology) {
  TlbConfig cfg;
  cfg.l1d[0].entries = 64;
  cfg.l1d[0].ways = 64;
  TlbHierarchy h(cfg);
  constexpr uint64_t kPages = 65;
  constexpr uint64_t kRounds = 10;
  for (uint64_t round = 0; round < kRounds; ++round) {
    for (uint64_t p = 0; p < kPages; ++p) {
      const TlbLookup r = h.lookup(addr_of(p), AccessKind::kRead, kA0);
      EXPECT_NE(r.level, TlbLevel::kL1);
      if (r.level == TlbLevel::kMiss) h.fill(make_tr(p), AccessKind::kRead);
    }
  }
  const TlbLevelStats s = h.level_stats();
  EXPECT_EQ(s.l1d_hits, 0U);
  EXPECT_EQ(s.l1d_misses, kPages * kRounds);
  EXPECT_EQ(s.l2_misses, kPages);
  EXPECT_EQ(s.l2_hits, kPages * (kRounds - 1));
  // One page fewer fits: after the cold round everything hits L1.
  TlbHierarchy h2(cfg);
  for (uint64_t round = 0; round < kRounds; ++round) {
    for (uint64_t p = 0; p < kPages - 1; ++p) {
      if (h2.lookup(addr_of(p), AccessKind::kRead, kA0).level == TlbLevel::kMiss) {
        h2.fill(make_tr(p), AccessKind::kRead);
      }
    }
  }
  EXPECT_EQ(h2.level_stats().l1d_misses, kPages - 1);
}

TEST(TlbHierarchy, InvalidationsBroadcast) {
  TlbHierarchy h{TlbConfig{}};
  const Asid a1(1), a2(2);
  h.fill(make_tr(1, PageSize::k4K, 1), AccessKind::kRead);
  h.fill(make_tr(1, PageSize::k4K, 1), AccessKind::kFetch);
  h.fill(make_tr(2, PageSize::k4K, 1, true), AccessKind::kRead);
  h.fill(make_tr(3, PageSize::k4K, 2), AccessKind::kRead);
  h.fill(make_tr(4, PageSize::k2M, 1), AccessKind::kRead);
  ASSERT_EQ(h.lookup(addr_of(1), AccessKind::kRead, a1).level, TlbLevel::kL1);  // memo set
  h.invalidate_page(addr_of(1), a1);
  EXPECT_EQ(h.lookup(addr_of(1), AccessKind::kRead, a1).level, TlbLevel::kMiss);
  EXPECT_EQ(h.lookup(addr_of(1), AccessKind::kFetch, a1).level, TlbLevel::kMiss);
  h.invalidate_asid(a1);
  EXPECT_EQ(h.lookup(addr_of(4, PageSize::k2M), AccessKind::kRead, a1).level, TlbLevel::kMiss);
  EXPECT_EQ(h.lookup(addr_of(2), AccessKind::kRead, a1).level, TlbLevel::kL1);  // global
  EXPECT_EQ(h.lookup(addr_of(3), AccessKind::kRead, a2).level, TlbLevel::kL1);
  h.invalidate_all(/*keep_global=*/true);
  EXPECT_EQ(h.lookup(addr_of(3), AccessKind::kRead, a2).level, TlbLevel::kMiss);
  EXPECT_EQ(h.lookup(addr_of(2), AccessKind::kRead, a2).level, TlbLevel::kL1);
  h.invalidate_all(/*keep_global=*/false);
  EXPECT_EQ(h.lookup(addr_of(2), AccessKind::kRead, a2).level, TlbLevel::kMiss);
}

TEST(TlbHierarchy, VisitNamesAndTotals) {
  TlbHierarchy h{TlbConfig{}};
  h.lookup(addr_of(1), AccessKind::kRead, kA0);
  h.fill(make_tr(1), AccessKind::kRead);
  h.lookup(addr_of(1), AccessKind::kRead, kA0);
  h.lookup(addr_of(1), AccessKind::kRead, kA0);  // memo
  CollectVisitor cv;
  h.visit(cv);
  std::vector<std::string> names;
  for (const auto& [n, v] : cv.values) names.push_back(n);
  std::vector<std::string> expected;
  for (const char* a : {"tlb.l1i.4K", "tlb.l1i.2M", "tlb.l1d.4K", "tlb.l1d.2M", "tlb.l1d.1G",
                        "tlb.l2.4K_2M", "tlb.l2.1G"}) {
    for (const char* c : {"hits", "misses", "fills", "evictions", "invalidations"}) {
      expected.push_back(std::string(a) + "." + c);
    }
  }
  for (const char* n :
       {"tlb.l1i.hits", "tlb.l1i.misses", "tlb.l1d.hits", "tlb.l1d.misses", "tlb.l2.hits",
        "tlb.l2.misses", "tlb.mshr.allocations", "tlb.mshr.merges", "tlb.mshr.stalls"}) {
    expected.emplace_back(n);
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(cv.get("tlb.l1d.4K.hits"), 2U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.misses"), 1U);
  EXPECT_EQ(cv.get("tlb.l1d.2M.misses"), 1U);  // probed after the 4K array missed
  EXPECT_EQ(cv.get("tlb.l1d.hits"), 2U);
  EXPECT_EQ(cv.get("tlb.l1d.misses"), 1U);
  EXPECT_EQ(cv.get("tlb.l2.misses"), 1U);
  EXPECT_EQ(cv.get("tlb.l2.4K_2M.fills"), 1U);
  EXPECT_EQ(h.fast_path_hits(), 1U);
}

// A 2M hit in L1 that is repeated through the memo still counts the miss of
// the 4K array probed before it.
TEST(TlbHierarchy, MemoCountsEarlierArrayMisses) {
  TlbConfig on_cfg;
  TlbConfig off_cfg;
  off_cfg.fast_path = false;
  TlbHierarchy on(on_cfg), off(off_cfg);
  for (TlbHierarchy* h : {&on, &off}) {
    h->fill(make_tr(5, PageSize::k2M), AccessKind::kRead);
    for (int i = 0; i < 5; ++i) h->lookup(addr_of(5, PageSize::k2M, 64), AccessKind::kRead, kA0);
  }
  EXPECT_EQ(on.fast_path_hits(), 4U);
  EXPECT_EQ(off.fast_path_hits(), 0U);
  EXPECT_EQ(on.l1_array(AccessKind::kRead, PageSize::k4K)->stats().misses, 5U);
  EXPECT_EQ(off.l1_array(AccessKind::kRead, PageSize::k4K)->stats().misses, 5U);
  EXPECT_EQ(on.l1_array(AccessKind::kRead, PageSize::k2M)->stats().hits, 5U);
}

// The exact fast path: the same random stream with the memo on and off gives
// identical lookup results, counters and final contents, for every policy.
struct StreamResult {
  std::vector<std::pair<std::string, uint64_t>> stats;
  std::vector<std::vector<TlbEntryView>> contents;
  uint64_t latency_sum = 0;
  uint64_t pfn_sum = 0;
  uint64_t fast_hits = 0;
};

Translation page_table(LinearAddr a, Asid asid) {
  const uint64_t v = a.value();
  PageSize size = PageSize::k4K;
  if (v >= (uint64_t{1} << 30)) {
    size = PageSize::k1G;
  } else if (v >= (uint64_t{64} << 20)) {
    size = PageSize::k2M;
  }
  const uint64_t vpn = vpn_of(a, size).value();
  const bool global = (vpn % 7) == 0;
  Translation t = make_tr(vpn, size, global ? 0 : asid.value(), global,
                          ((vpn * 0x9E37) << (page_shift(size) - 12)) + 0x1000);
  return t;
}

StreamResult run_stream(ReplPolicy policy, bool fast_path, uint64_t seed) {
  TlbConfig cfg;
  for (auto* side : {&cfg.l1i, &cfg.l1d}) {
    (*side)[0].entries = 16;
    (*side)[0].ways = 4;
    (*side)[1].entries = 4;
    (*side)[1].ways = 2;
    (*side)[2].entries = 2;
    (*side)[2].ways = 2;
    for (auto& a : *side) a.replacement = policy;
  }
  cfg.l2.entries = 64;
  cfg.l2.ways = 4;
  cfg.l2.replacement = policy;
  cfg.l2_1g.entries = 2;
  cfg.l2_1g.ways = 2;
  cfg.l2_1g.replacement = policy;
  cfg.fast_path = fast_path;
  cfg.seed = seed;
  TlbHierarchy h(cfg);

  std::mt19937_64 rng(seed);
  StreamResult out;
  LinearAddr last[2] = {LinearAddr(0x1000), LinearAddr(0x2000)};
  struct Pending {
    int entry, ready;
    AccessKind kind;
  };
  std::vector<Pending> pending;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng();
    const AccessKind kind = (r & 7) == 0     ? AccessKind::kFetch
                            : ((r >> 3) & 1) ? AccessKind::kWrite
                                             : AccessKind::kRead;
    const int side = kind == AccessKind::kFetch ? 0 : 1;
    const Asid asid(static_cast<uint16_t>(1 + ((r >> 4) % 16 == 0)));
    LinearAddr a;
    if ((r >> 8) % 10 < 7) {
      a = LinearAddr((last[side].value() & ~uint64_t{0xFFF}) | ((r >> 20) & 0xFFF));  // same page
    } else {
      const uint64_t pick = (r >> 32) % 100;
      if (pick < 70) {
        a = LinearAddr(((r >> 40) % 200) << 12 | ((r >> 20) & 0xFFF));  // 200 4K pages
      } else if (pick < 95) {
        a = LinearAddr((uint64_t{64} << 20) + (((r >> 40) % 24) << 21) + ((r >> 12) & 0x1FFFFF));
      } else {
        a = LinearAddr((uint64_t{1} << 30) + (((r >> 40) % 3) << 30) + ((r >> 12) & 0xFFFFFF));
      }
    }
    last[side] = a;
    // Walks complete a few accesses later (through the MSHRs), so fills land
    // between hits of either side, as in the simulator.
    for (size_t p = 0; p < pending.size();) {
      if (pending[p].ready <= i) {
        h.fill(h.mshr().at(pending[p].entry).result, pending[p].kind);
        h.mshr().free(pending[p].entry);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(p));
      } else {
        ++p;
      }
    }
    const TlbLookup res = h.lookup(a, kind, asid);
    out.latency_sum += res.latency.count() * (1 + static_cast<uint64_t>(res.level));
    if (res.t != nullptr) {
      out.pfn_sum += res.t->phys(a).value();
    } else if (h.mshr().find(a, asid) < 0) {
      const int ready = i + 1 + static_cast<int>((r >> 50) & 15);
      const int e = h.mshr().allocate(a, asid, page_table(a, asid), kind, 0);
      if (e < 0) {
        h.fill(page_table(a, asid), kind);  // table full: fill at once
      } else {
        pending.push_back(Pending{e, ready, kind});
      }
    }
    const uint64_t ev = (r >> 56);
    if (ev == 0) {
      h.invalidate_page(a, asid);
    } else if (ev == 1 && (r & 0xF) == 0) {
      h.invalidate_asid(asid);
    } else if (ev == 2 && (r & 0x1F) == 0) {
      h.invalidate_all(((r >> 5) & 1) != 0);
    }
  }
  CollectVisitor cv;
  h.visit(cv);
  out.stats = cv.values;
  for (const TlbArray& arr : h.arrays()) out.contents.push_back(arr.contents());
  out.fast_hits = h.fast_path_hits();
  return out;
}

class TlbFastPath : public ::testing::TestWithParam<ReplPolicy> {};

TEST_P(TlbFastPath, MemoIsExact) {
  for (uint64_t seed : {1, 99}) {
    const StreamResult on = run_stream(GetParam(), true, seed);
    const StreamResult off = run_stream(GetParam(), false, seed);
    EXPECT_GT(on.fast_hits, 30000U);
    EXPECT_EQ(off.fast_hits, 0U);
    EXPECT_EQ(on.stats, off.stats);
    EXPECT_EQ(on.contents, off.contents);
    EXPECT_EQ(on.latency_sum, off.latency_sum);
    EXPECT_EQ(on.pfn_sum, off.pfn_sum);
    // The stream exercises every level.
    uint64_t l2_hits = 0, l2_misses = 0, evictions = 0;
    for (const auto& [n, v] : on.stats) {
      if (n == "tlb.l2.hits") l2_hits = v;
      if (n == "tlb.l2.misses") l2_misses = v;
      if (n.size() > 10 && n.compare(n.size() - 10, 10, ".evictions") == 0) evictions += v;
    }
    EXPECT_GT(l2_hits, 1000U);
    EXPECT_GT(l2_misses, 1000U);
    EXPECT_GT(evictions, 1000U);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, TlbFastPath,
                         ::testing::Values(ReplPolicy::kLru, ReplPolicy::kPlru, ReplPolicy::kFifo,
                                           ReplPolicy::kRandom),
                         [](const ::testing::TestParamInfo<ReplPolicy>& info) {
                           return std::string(repl_policy_name(info.param));
                         });

}  // namespace
}  // namespace mmusim
