#include <gtest/gtest.h>

#include "models/cpu/address_generator.h"

namespace mmusim {
namespace {

// Issue-width limit: with a large window and 1-cycle translations, N accesses
// issue in ceil(N / width) cycles and the last retires one cycle later.
TEST(AddressGenerator, IssueWidthBoundsThroughput) {
  AddressGenerator ag({3, 64});
  Cycle last;
  for (int i = 0; i < 10; ++i) {
    Cycle t = ag.issue();
    EXPECT_EQ(t, Cycle(static_cast<uint64_t>(i / 3)));
    last = t + Cycles(1);
    ag.complete(last);
  }
  EXPECT_EQ(ag.drained(), Cycle(4));  // issue cycles 0..3, last completes at 4
}

// Window of 1: every access waits for the previous to retire, so total time
// is the sum of latencies.
TEST(AddressGenerator, WindowOfOneSerializes) {
  AddressGenerator ag({4, 1});
  uint64_t lat[] = {1, 100, 1, 30};
  uint64_t sum = 0;
  for (uint64_t l : lat) {
    Cycle t = ag.issue();
    EXPECT_EQ(t, Cycle(sum));
    sum += l;
    ag.complete(t + Cycles(l));
  }
  EXPECT_EQ(ag.drained(), Cycle(sum));
}

// A long miss followed by hits: hits complete under the miss up to the
// window, then issue stalls until the miss retires (in-order retirement).
TEST(AddressGenerator, HitsOverlapAMissUpToTheWindow) {
  AddressGenerator ag({1, 4});
  Cycle t0 = ag.issue();
  ag.complete(t0 + Cycles(200));  // miss: retires at 200
  for (int i = 1; i <= 3; ++i) {
    Cycle t = ag.issue();
    EXPECT_EQ(t, Cycle(static_cast<uint64_t>(i)));
    ag.complete(t + Cycles(1));  // completes early, retires at 200
  }
  // The 5th access needs the slot of the miss: it issues at 200.
  EXPECT_EQ(ag.issue(), Cycle(200));
  ag.complete(Cycle(201));
  EXPECT_EQ(ag.drained(), Cycle(201));
}

TEST(AddressGenerator, ResumeAfterFault) {
  AddressGenerator ag({2, 8});
  ag.complete(ag.issue() + Cycles(5));
  ag.resume_at(Cycle(1000));
  EXPECT_EQ(ag.issue(), Cycle(1000));
  EXPECT_EQ(ag.issue(), Cycle(1000));
  EXPECT_EQ(ag.issue(), Cycle(1001));
}

}  // namespace
}  // namespace mmusim
