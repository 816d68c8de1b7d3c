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

// A watcher is told exactly when an agent's next action moves later (what may
// let a target hand a held request on), not when it moves earlier or stays.
TEST(SyncHorizon, WatchersHearOfLaterActionsOnly) {
  struct Count : HorizonWatcher {
    int n = 0;
    void horizon_moved() override { ++n; }
  } w;
  SyncHorizon h;
  const auto a = h.add("a", Cycle(10));
  h.watch(&w);
  h.set(a, Cycle(10));
  EXPECT_EQ(w.n, 0);
  h.set(a, Cycle(5));
  EXPECT_EQ(w.n, 0);
  h.set(a, Cycle(6));
  EXPECT_EQ(w.n, 1);
  h.set(a, SyncHorizon::kNever);
  EXPECT_EQ(w.n, 2);
  EXPECT_FALSE(h.event_wait(a));
  h.set_event_wait(a, true);
  EXPECT_TRUE(h.event_wait(a));
}

}  // namespace
}  // namespace mmusim
