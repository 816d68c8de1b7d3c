// StackDistance against a naive LRU stack (a list searched from the top),
// its compaction's memory bound, and DistanceHistogram's miss counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/common/random.h"
#include "models/mrc/stack_distance.h"

namespace mmusim {
namespace {

constexpr uint64_t kCold = StackDistance::kCold;

// Textbook LRU stack: distance = position from the top (0 = most recent).
class NaiveStack {
 public:
  uint64_t reference(uint64_t key) {
    auto it = std::find(stack_.begin(), stack_.end(), key);
    uint64_t d = kCold;
    if (it != stack_.end()) {
      d = static_cast<uint64_t>(it - stack_.begin());
      stack_.erase(it);
    }
    stack_.insert(stack_.begin(), key);
    return d;
  }

 private:
  std::vector<uint64_t> stack_;
};

TEST(StackDistance, HandWorkedSequence) {
  // a b c a b b d a: a, b, c cold; a: b and c since -> 2; b: c, a since -> 2;
  // b again -> 0; d cold; a: b, d since -> 2.
  StackDistance s;
  const std::vector<uint64_t> keys = {1, 2, 3, 1, 2, 2, 4, 1};
  const std::vector<uint64_t> want = {kCold, kCold, kCold, 2, 2, 0, kCold, 2};
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(s.reference(keys[i]), want[i]) << i;
  EXPECT_EQ(s.keys(), 4U);
}

TEST(StackDistance, EqualsNaiveStackAcrossCompactions) {
  // 200000 references over 3000 keys, skewed so that distances of every
  // magnitude occur; the slots run out and are compacted many times.
  StackDistance s;
  NaiveStack n;
  SplitMix64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng.next();
    const uint64_t key = (r & 3) == 0 ? (r >> 8) % 3000 : (r >> 8) % 40;
    ASSERT_EQ(s.reference(key * 0x9E3779B97F4A7C15ULL), n.reference(key * 0x9E3779B97F4A7C15ULL))
        << "reference " << i;
  }
  EXPECT_GT(s.compactions(), 50U);
  // Memory bound: slots <= max(kMinSlots, 2 x (keys + 1)), never the trace length.
  EXPECT_LE(s.slots(), std::max<uint64_t>(StackDistance::kMinSlots, 2 * (s.keys() + 1)));
}

TEST(StackDistance, CyclicLoopDistanceIsLoopLengthMinusOne) {
  // A loop over k = 100 keys: after the first pass every reference has seen
  // the other 99 keys since its previous one.
  StackDistance s;
  for (int pass = 0; pass < 5; ++pass) {
    for (uint64_t k = 0; k < 100; ++k) EXPECT_EQ(s.reference(k), pass == 0 ? kCold : 99U);
  }
  s.clear();
  EXPECT_EQ(s.keys(), 0U);
  EXPECT_EQ(s.reference(5), kCold);
}

TEST(DistanceHistogram, MissesPerSize) {
  // Distances 0, 0, 1, 3, 7 (beyond depth 4) and two cold references.
  DistanceHistogram h(4);
  for (uint64_t d :
       {uint64_t{0}, uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{7}, kCold, kCold}) {
    h.add(d);
  }
  EXPECT_EQ(h.references(), 7U);
  EXPECT_EQ(h.misses(0), 7U);  // nothing hits in 0 ways
  EXPECT_EQ(h.misses(1), 5U);  // the two distance-0 references hit
  EXPECT_EQ(h.misses(2), 4U);  // + distance 1
  EXPECT_EQ(h.misses(3), 4U);  // no distance 2
  EXPECT_EQ(h.misses(4), 3U);  // + distance 3; 7 and the cold ones miss
  EXPECT_THROW((void)h.misses(5), std::out_of_range);
}

}  // namespace
}  // namespace mmusim
