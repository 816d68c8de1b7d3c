// `mmusim-trace info` statistics: counts, pages and exact reuse distances.
#include <gtest/gtest.h>

#include <algorithm>
#include <list>

#include "tests/traces/trace_test_util.h"
#include "traces/generator.h"
#include "traces/trace_stats.h"

namespace mmusim {
namespace {

using testing::rec;

TraceStats stats_of(const std::vector<TraceRecord>& v) {
  TraceStatsCollector c;
  c.add(v.data(), v.size());
  return c.stats();
}

TEST(TraceStats, CountsKindsCpusRangeAndPages) {
  std::vector<TraceRecord> v = {
      rec(AccessKind::kRead, 0x1000), rec(AccessKind::kWrite, 0x1ff8, 8, 1),
      rec(AccessKind::kFetch, 0x200000, 4, 1), rec(AccessKind::kRead, 0x40000000, 8, 3),
      rec(AccessKind::kRead, 0x1010)};
  TraceStats s = stats_of(v);
  EXPECT_EQ(s.records, 5u);
  EXPECT_EQ(s.by_kind[0], 3u);
  EXPECT_EQ(s.by_kind[1], 1u);
  EXPECT_EQ(s.by_kind[2], 1u);
  EXPECT_EQ(s.by_cpu, (std::map<uint16_t, uint64_t>{{0, 2}, {1, 2}, {3, 1}}));
  EXPECT_EQ(s.min_addr, 0x1000u);
  EXPECT_EQ(s.max_addr, 0x40000000u);
  EXPECT_EQ(s.pages_4k, 3u);
  EXPECT_EQ(s.pages_2m, 3u);
  EXPECT_EQ(s.pages_1g, 2u);
  EXPECT_EQ(s.footprint_bytes(), 3u * 4096);
}

TEST(TraceStats, SegmentRecordsAreNotAccesses) {
  TraceRecord load = rec(AccessKind::kRead, 0x2b, 0);
  load.flags = trace_flags::kOpLoad | trace_flags::reg_bits(3);  // LOAD DS 0x2b
  TraceRecord gdt = rec(AccessKind::kRead, 0x00cf92000000ffffULL, 5);
  gdt.flags = trace_flags::kOpGdt;  // GDT[5]
  TraceRecord ds = rec(AccessKind::kWrite, 0x40, 4);
  ds.flags = trace_flags::reg_bits(3);  // W DS:0x40: an access, by offset
  TraceStats s = stats_of({gdt, load, ds, rec(AccessKind::kRead, 0x5000)});
  EXPECT_EQ(s.records, 4u);
  EXPECT_EQ(s.control_records, 2u);
  EXPECT_EQ(s.by_kind[0], 1u);
  EXPECT_EQ(s.by_kind[1], 1u);
  EXPECT_EQ(s.min_addr, 0x40u);
  EXPECT_EQ(s.max_addr, 0x5000u);
  EXPECT_EQ(s.cold, 2u);  // pages 0x0 and 0x5 only
}

TEST(TraceStats, ReuseDistancesAreLruStackDistances) {
  // Pages A B C D A B A E A: A at distance 3 (B C D), B 3 (C D A), A 1 (B),
  // A 1 (E); cold: A B C D E.
  const uint64_t a = 0xA000, b = 0xB000, c = 0xC000, d = 0xD000, e = 0xE000;
  std::vector<TraceRecord> v;
  for (uint64_t p : {a, b, c, d, a, b, a + 8, e, a}) v.push_back(rec(AccessKind::kRead, p));
  TraceStats s = stats_of(v);
  EXPECT_EQ(s.cold, 5u);
  EXPECT_EQ(s.reuse.count(), 4u);
  EXPECT_EQ(s.reuse.sum(), 3u + 3 + 1 + 1);
  EXPECT_EQ(s.reuse.min(), 1u);
  EXPECT_EQ(s.reuse.max(), 3u);
  EXPECT_EQ(s.reuse.percentile(0.5), 1u);  // nearest rank: 2nd of {1, 1, 3, 3}
  EXPECT_EQ(s.reuse.percentile(0.9), 3u);
  // Same page twice in a row: distance 0.
  s = stats_of({rec(AccessKind::kRead, 0x1000), rec(AccessKind::kWrite, 0x1008)});
  EXPECT_EQ(s.reuse.max(), 0u);
  EXPECT_EQ(s.reuse.count(), 1u);
}

TEST(TraceStats, ReuseMatchesABruteForceLruStack) {
  auto r = open_generator("zipf,count=30000,footprint=2M,alpha=0.7,seed=4");  // 512 pages
  auto v = testing::read_all(*r);
  std::list<uint64_t> stack;  // most recent first
  Histogram want;
  uint64_t cold = 0;
  for (const auto& x : v) {
    uint64_t p = x.addr >> 12;
    auto it = std::find(stack.begin(), stack.end(), p);
    if (it == stack.end()) {
      ++cold;
    } else {
      want.add(static_cast<uint64_t>(std::distance(stack.begin(), it)));
      stack.erase(it);
    }
    stack.push_front(p);
  }
  TraceStats s = stats_of(v);
  EXPECT_EQ(s.cold, cold);
  EXPECT_EQ(s.reuse.count(), want.count());
  EXPECT_EQ(s.reuse.sum(), want.sum());
  EXPECT_EQ(s.reuse.max(), want.max());
  for (double p : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(s.reuse.percentile(p), want.percentile(p)) << p;
}

TEST(TraceStats, CompactionKeepsDistancesExactOverLongTraces) {
  // 40000 pages cycled 5 times: every re-touch has distance 39999; 200000
  // stamps force several compactions and a growth of the Fenwick tree.
  auto r = open_generator("stride,count=200000,footprint=160000K,stride=4K");
  TraceStats s = compute_trace_stats(*r);
  EXPECT_EQ(s.cold, 40000u);
  EXPECT_EQ(s.reuse.count(), 160000u);
  EXPECT_EQ(s.reuse.min(), 39999u);
  EXPECT_EQ(s.reuse.max(), 39999u);
  EXPECT_EQ(s.reuse.sum(), uint64_t{160000} * 39999);
}

}  // namespace
}  // namespace mmusim
