// Synthetic generator: determinism (asserted first records), the statistics
// each pattern exists for, CPU interleaving and spec parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "tests/traces/trace_test_util.h"
#include "traces/generator.h"
#include "traces/trace_stats.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::rec;
using testing::same;

std::vector<TraceRecord> gen(const std::string& spec) {
  auto r = open_generator(spec);
  return read_all(*r, 4096);
}

TEST(TraceGenerator, SameSeedGivesTheSameRecords) {
  // Golden values: any change here changes every synthetic experiment.
  auto u = gen("uniform,seed=1,count=4");
  EXPECT_TRUE(same(u[0], rec(AccessKind::kRead, 0x11b61aa0, 8)));
  EXPECT_TRUE(same(u[1], rec(AccessKind::kRead, 0x12a01570, 8)));
  EXPECT_TRUE(same(u[2], rec(AccessKind::kRead, 0x1351f838, 8)));
  EXPECT_TRUE(same(u[3], rec(AccessKind::kRead, 0x1254be10, 8)));
  auto g = gen("gups,seed=3,footprint=1G,count=4");
  EXPECT_TRUE(same(g[0], rec(AccessKind::kRead, 0x2b276528, 8)));
  EXPECT_TRUE(same(g[1], rec(AccessKind::kWrite, 0x2b276528, 8)));
  EXPECT_TRUE(same(g[2], rec(AccessKind::kRead, 0x214619c8, 8)));
  EXPECT_TRUE(same(g[3], rec(AccessKind::kWrite, 0x214619c8, 8)));
  auto c = gen("chase,seed=7,footprint=1M,count=2");
  EXPECT_TRUE(same(c[0], rec(AccessKind::kRead, 0x10014500, 8)));
  EXPECT_TRUE(same(c[1], rec(AccessKind::kRead, 0x10053380, 8)));
  auto z = gen("zipf,seed=1,count=2");
  EXPECT_TRUE(same(z[0], rec(AccessKind::kRead, 0x106b5a80, 8)));
  EXPECT_TRUE(same(z[1], rec(AccessKind::kRead, 0x10916950, 8)));
  auto s = gen("stride,writes=0.5,seed=9,count=4");
  EXPECT_EQ(s[2].kind, AccessKind::kWrite);
  EXPECT_EQ(s[3].addr, 0x10003000u);

  for (const char* spec : {"uniform,seed=5", "zipf,seed=5", "chase,seed=5", "gups,seed=5,cpus=3"}) {
    auto a = gen(std::string(spec) + ",count=20000");
    auto b = gen(std::string(spec) + ",count=20000");
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(same(a[i], b[i])) << spec << " " << i;
    auto other = gen(std::string(spec) + ",count=20000,seed=6");
    EXPECT_NE(a[0].addr, other[0].addr) << spec;
  }
}

TEST(TraceGenerator, BatchSizeDoesNotChangeTheStream) {
  auto r = open_generator("uniform,count=10000,cpus=3,writes=0.3");
  auto a = read_all(*r, 1);
  auto b = gen("uniform,count=10000,cpus=3,writes=0.3");
  ASSERT_EQ(a.size(), 10000u);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(same(a[i], b[i])) << i;
}

// One CPU's sequential stream is filled in a loop of its own; several CPUs'
// streams go record by record. CPU 0 of two CPUs is the one-CPU stream (same
// base and seeds), so the two paths must agree, wrap-around at the footprint
// and writes included, whatever the batch size.
TEST(TraceGenerator, SequentialFillMatchesTheRecordByRecordStream) {
  for (const char* spec : {"seq,count=6000,footprint=64K,stride=24,size=8,writes=0.3,seed=4",
                           "stride,count=6000,footprint=40K,writes=0,kind=W",
                           "seq,count=6000,footprint=4K,stride=4096,writes=1"}) {
    auto one = gen(std::string(spec));
    auto two = gen(std::string(spec) + ",cpus=2");
    auto r = open_generator(spec);
    auto batched = read_all(*r, 7);
    ASSERT_EQ(one.size(), 6000u);
    ASSERT_EQ(batched.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_TRUE(same(one[i], batched[i])) << spec << " " << i;
      if (i < 3000) {
        ASSERT_TRUE(same(one[i], two[2 * i])) << spec << " " << i;
      }
    }
  }
  // The wrap: 64 KiB at stride 24 is 2731 records, then offset 0 again.
  auto w = gen("seq,count=2733,footprint=64K,stride=24,size=8");
  EXPECT_EQ(w[2730].addr - w[0].addr, 2730u * 24);
  EXPECT_EQ(w[2731].addr, w[0].addr);
}

TEST(TraceGenerator, SequentialTouchesEachPageOnceInOrder) {
  // 100000 x 64 B from a 2 MiB-aligned base = 6.4 MB: 1563 pages of 4K, 4 of 2M.
  auto r = open_generator("seq,count=100000,footprint=1G");
  TraceStats s = compute_trace_stats(*r);
  EXPECT_EQ(s.pages_4k, 1563u);
  EXPECT_EQ(s.pages_2m, 4u);
  EXPECT_EQ(s.pages_1g, 1u);
  EXPECT_EQ(s.cold, 1563u);
  EXPECT_EQ(s.reuse.max(), 0u);  // every re-touch is of the current page
  auto v = gen("seq,count=3,stride=100,base=0x5000");
  EXPECT_EQ(v[2].addr, 0x5000u + 200);
}

TEST(TraceGenerator, SequentialWrapsAtTheFootprint) {
  auto v = gen("seq,count=10,footprint=256,stride=64");
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i].addr, 0x10000000u + 64 * (i % 4)) << i;
}

TEST(TraceGenerator, StrideTouchesFootprintOverStridePagesCyclically) {
  auto r = open_generator("stride,count=100000,footprint=4M,stride=8K");
  TraceStats s = compute_trace_stats(*r);
  EXPECT_EQ(s.pages_4k, 512u);
  EXPECT_EQ(s.reuse.min(), 511u);  // every re-touch has all other pages in between
  EXPECT_EQ(s.reuse.max(), 511u);
}

TEST(TraceGenerator, UniformDistinctPagesMatchTheOccupancyFormula) {
  // n draws over P pages touch P (1 - (1 - 1/P)^n) pages in expectation.
  const double pages = 16384, n = 20000;
  auto r = open_generator("uniform,count=20000,footprint=64M,seed=11");
  TraceStats s = compute_trace_stats(*r);
  double expected = pages * (1 - std::pow(1 - 1 / pages, n));
  EXPECT_NEAR(static_cast<double>(s.pages_4k), expected, 0.01 * expected);
  for (auto a : gen("uniform,count=1000,footprint=64M,size=16")) {
    EXPECT_EQ(a.addr % 16, 0u);
    EXPECT_GE(a.addr, 0x10000000u);
    EXPECT_LT(a.addr, 0x10000000u + (64u << 20));
  }
}

TEST(TraceGenerator, ZipfHottestPageHasTheZipfShare) {
  // P(rank 1) = 1 / H(N, alpha).
  const uint64_t n = 1024;
  const double alpha = 1.2;
  auto v = gen("zipf,count=200000,footprint=4M,alpha=1.2,seed=3");
  std::map<uint64_t, uint64_t> per_page;
  for (const auto& r : v) ++per_page[r.addr >> 12];
  uint64_t top = 0;
  for (const auto& [page, count] : per_page) top = std::max(top, count);
  double h = 0;
  for (uint64_t k = 1; k <= n; ++k) h += std::pow(static_cast<double>(k), -alpha);
  EXPECT_NEAR(static_cast<double>(top) / v.size(), 1 / h, 0.01);
  EXPECT_LE(per_page.size(), n);
}

TEST(TraceGenerator, ChaseVisitsEveryLineOncePerCycleInTheSameOrder) {
  auto v = gen("chase,footprint=1M,count=32768,seed=2");  // 16384 lines of 64 B
  std::set<uint64_t> first;
  for (size_t i = 0; i < 16384; ++i) {
    EXPECT_EQ(v[i].addr % 64, 0u);
    first.insert(v[i].addr);
    ASSERT_EQ(v[i].addr, v[i + 16384].addr) << i;
  }
  EXPECT_EQ(first.size(), 16384u);
  EXPECT_EQ(*first.begin(), 0x10000000u);
  EXPECT_EQ(*first.rbegin(), 0x10000000u + (1 << 20) - 64);
}

TEST(TraceGenerator, GupsIsReadThenWriteOfTheSameWord) {
  auto v = gen("gups,count=10000,footprint=16M");
  for (size_t i = 0; i < v.size(); i += 2) {
    ASSERT_EQ(v[i].kind, AccessKind::kRead);
    ASSERT_EQ(v[i + 1].kind, AccessKind::kWrite);
    ASSERT_EQ(v[i].addr, v[i + 1].addr);
  }
}

TEST(TraceGenerator, CpusInterleaveRoundRobinInSeparateRegions) {
  auto v = gen("uniform,count=9000,cpus=3,footprint=64M");
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t base = 0x10000000 + (i % 3) * (1ULL << 30);
    ASSERT_EQ(v[i].cpu, i % 3);
    ASSERT_GE(v[i].addr, base);
    ASSERT_LT(v[i].addr, base + (64 << 20));
  }
}

TEST(TraceGenerator, WritesFractionAndKindChangeKindsButNotAddresses) {
  auto plain = gen("uniform,count=100000");
  auto mixed = gen("uniform,count=100000,writes=0.25,kind=X");
  uint64_t writes = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(plain[i].addr, mixed[i].addr);
    ASSERT_NE(mixed[i].kind, AccessKind::kRead);
    writes += mixed[i].kind == AccessKind::kWrite;
  }
  EXPECT_NEAR(writes / 100000.0, 0.25, 0.01);
}

TEST(TraceGenerator, SpecRoundTripsAndOpensThroughOpenTrace) {
  GeneratorSpec s =
      parse_generator_spec("zipf,count=2k,footprint=1G,alpha=0.8,base=0x7f0000000000");
  EXPECT_EQ(s.count, 2000u);
  EXPECT_EQ(s.footprint, 1ULL << 30);
  EXPECT_EQ(to_string(s),
            "zipf,count=2000,footprint=1073741824,stride=64,size=8,base=0x7f0000000000,seed=1,"
            "cpus=1,alpha=0.8,writes=0,kind=R");
  EXPECT_EQ(to_string(parse_generator_spec(to_string(s))), to_string(s));
  auto r = open_trace("gen:uniform,count=5");
  EXPECT_EQ(read_all(*r).size(), 5u);
  EXPECT_EQ(r->format_info().format, "generator");
}

TEST(TraceGenerator, SpecErrorsNameTheKey) {
  EXPECT_EQ(error_of([] { parse_generator_spec("random"); }),
            "generator spec 'random': unknown pattern 'random' (expected seq, stride, uniform, "
            "zipf, gups or chase)");
  EXPECT_EQ(error_of([] { parse_generator_spec("seq,colour=red"); }),
            "generator spec 'seq,colour=red': unknown key 'colour' (expected count, footprint, "
            "stride, size, base, seed, cpus, alpha, writes or kind)");
  EXPECT_EQ(error_of([] { parse_generator_spec("seq,count=-1"); }),
            "generator spec 'seq,count=-1': invalid value '-1' for count: expected a record count");
  EXPECT_EQ(error_of([] { parse_generator_spec("seq,footprint=12Q"); }),
            "generator spec 'seq,footprint=12Q': invalid value '12Q' for footprint: expected a "
            "byte quantity (e.g. 64M, 0x1000)");
  EXPECT_EQ(error_of([] { parse_generator_spec("uniform,writes=2"); }),
            "generator spec 'uniform,writes=2': invalid value '2' for writes: expected 0..1");
  EXPECT_EQ(error_of([] { parse_generator_spec("uniform,cpus=0"); }),
            "generator spec 'uniform,cpus=0': invalid value '0' for cpus: expected 1..256");
  EXPECT_EQ(error_of([] { parse_generator_spec("seq,footprint=4K,stride=8K"); }),
            "generator spec 'seq,footprint=4K,stride=8K': stride must be <= footprint");
  EXPECT_EQ(error_of([] { parse_generator_spec("seq,count"); }),
            "generator spec 'seq,count': expected key=value, got 'count'");
}

TEST(TraceGenerator, SpecIntegersAreDecimalOrHex) {
  // models/common/parse.h: a leading zero is not octal, 0x is hex, suffixes
  // follow the digits, and 2^64 or more is an error, never wrapped.
  EXPECT_EQ(parse_generator_spec("seq,count=010").count, 10u);
  EXPECT_EQ(parse_generator_spec("seq,count=0x10").count, 16u);
  EXPECT_EQ(parse_generator_spec("seq,footprint=0x10KiB").footprint, 16u << 10);
  EXPECT_EQ(parse_generator_spec("seq,seed=18446744073709551615").seed, UINT64_MAX);
  for (const char* bad : {"seq,seed=18446744073709551616", "seq,seed= 1", "seq,seed=0x",
                          "seq,seed=+1", "seq,seed="}) {
    EXPECT_NE(error_of([&] { parse_generator_spec(bad); }).find("expected an integer"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(error_of([] { parse_generator_spec("seq,footprint=16E"); }).find("byte quantity"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_generator_spec("seq,footprint=17179869184G"); }).find("byte"),
            std::string::npos);  // 2^34 GiB = 2^64 bytes
}

TEST(TraceGenerator, PermutationIsABijection) {
  for (uint64_t n : {1ULL, 2ULL, 3ULL, 1000ULL, 4096ULL, 5000ULL}) {
    RandomPermutation p(n, 42);
    std::set<uint64_t> seen;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t y = p(i);
      ASSERT_LT(y, n);
      seen.insert(y);
    }
    EXPECT_EQ(seen.size(), n);
  }
  SplitMix64 rng(1);
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.below(7), 7u);
}

}  // namespace
}  // namespace mmusim
