// SyncHorizon: each agent sees the earliest next action of the others.
#include <gtest/gtest.h>

#include "models/common/sync_horizon.h"

namespace mmusim {
namespace {

TEST(SyncHorizon, AloneTheHorizonIsInfinite) {
  SyncHorizon h;
  const auto a = h.add("cpu0");
  EXPECT_EQ(h.horizon(a), SyncHorizon::kNever);
  h.set(a, Cycle(100));
  EXPECT_EQ(h.horizon(a), SyncHorizon::kNever);
}

TEST(SyncHorizon, EachAgentSeesTheOthersMinimum) {
  SyncHorizon h;
  const auto a = h.add("cpu0", Cycle(10));
  const auto b = h.add("cpu1", Cycle(20));
  const auto c = h.add("dma", Cycle(30));
  EXPECT_EQ(h.horizon(a), Cycle(20));
  EXPECT_EQ(h.horizon(b), Cycle(10));
  EXPECT_EQ(h.horizon(c), Cycle(10));
  h.set(a, Cycle(25));  // a moved past b
  EXPECT_EQ(h.horizon(a), Cycle(20));
  EXPECT_EQ(h.horizon(b), Cycle(25));
  EXPECT_EQ(h.horizon(c), Cycle(20));
  h.set(b, SyncHorizon::kNever);  // b finished
  EXPECT_EQ(h.horizon(a), Cycle(30));
  EXPECT_EQ(h.horizon(c), Cycle(25));
  EXPECT_EQ(h.name(c), "dma");
  EXPECT_EQ(h.agents(), 3U);
}

TEST(SyncHorizon, TiesAtTheMinimumBindEveryone) {
  SyncHorizon h;
  const auto a = h.add("a", Cycle(5));
  const auto b = h.add("b", Cycle(5));
  EXPECT_EQ(h.horizon(a), Cycle(5));
  EXPECT_EQ(h.horizon(b), Cycle(5));
}

}  // namespace
}  // namespace mmusim
