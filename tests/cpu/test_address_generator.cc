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

// The same miss, its completion learnt later: the access completes with what
// is known at issue (its request cycle), and resolve() raises its retire time
// and every younger one's (in-order retirement) once the walk is done.
TEST(AddressGenerator, ResolveAfterAPendingWalkEqualsKnowingItAtOnce) {
  AddressGenerator ag({1, 4});
  const uint64_t miss_seq = ag.issued();
  EXPECT_EQ(miss_seq, 0U);
  Cycle t0 = ag.issue();
  ag.complete(t0 + Cycles(10));  // the walk's request: a lower bound
  for (int i = 1; i <= 3; ++i) ag.complete(ag.issue() + Cycles(1));
  EXPECT_EQ(ag.blocking_seq(), 0U);  // the next issue reads the miss's retire time
  ag.resolve(miss_seq, Cycle(200));
  EXPECT_EQ(ag.issue(), Cycle(200));
  ag.complete(Cycle(201));
  EXPECT_EQ(ag.drained(), Cycle(201));
  // Resolving an access older than the window only moves the drain point.
  ag.resolve(0, Cycle(500));
  EXPECT_EQ(ag.drained(), Cycle(500));
}

TEST(AddressGenerator, ResolveStopsAtYoungerAccessesAlreadyLater) {
  AddressGenerator ag({4, 8});
  ag.complete(ag.issue() + Cycles(5));    // seq 0: pending, floor 5
  ag.complete(ag.issue() + Cycles(300));  // seq 1: retires at 300 on its own
  ag.complete(ag.issue() + Cycles(1));    // seq 2: retires with seq 1, 300
  ag.resolve(0, Cycle(100));
  for (int i = 3; i < 8; ++i) ag.complete(ag.issue() + Cycles(1));
  EXPECT_EQ(ag.issue(), Cycle(100));  // seq 8 waits for seq 0: 100
  ag.complete(Cycle(101));
  EXPECT_EQ(ag.issue(), Cycle(300));  // seq 9 waits for seq 1: 300
}

}  // namespace
}  // namespace mmusim
