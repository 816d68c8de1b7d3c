#include <gtest/gtest.h>

#include "models/common/stats.h"

namespace mmusim {
namespace {

TEST(Histogram, ExactPercentilesBelowExactLimit) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.add(v);
  EXPECT_EQ(h.count(), 100U);
  EXPECT_EQ(h.sum(), 5050U);
  EXPECT_EQ(h.percentile(0.5), 50U);
  EXPECT_EQ(h.percentile(0.9), 90U);
  EXPECT_EQ(h.percentile(0.99), 99U);
  EXPECT_EQ(h.percentile(1.0), 100U);
  EXPECT_EQ(h.max(), 100U);
  EXPECT_EQ(h.min(), 1U);
}

TEST(Histogram, LargeValuesFallInLogBuckets) {
  Histogram h;
  h.add(5000);  // octave 12: width 4096/16 = 256 -> floor 4864
  EXPECT_EQ(h.percentile(0.5), 4864U);
  h.add(1'000'000);
  EXPECT_EQ(h.max(), 1'000'000U);
  EXPECT_EQ(h.percentile(1.0), 983040U);  // 2^19 + 14 * 2^15
}

TEST(Histogram, EmptyAndMerge) {
  Histogram a, b;
  EXPECT_EQ(a.percentile(0.5), 0U);
  a.add(3);
  b.add(7);
  b.add(9);
  a.merge(b);
  EXPECT_EQ(a.count(), 3U);
  EXPECT_EQ(a.min(), 3U);
  EXPECT_EQ(a.max(), 9U);
  EXPECT_EQ(a.percentile(0.5), 7U);
}

}  // namespace
}  // namespace mmusim
