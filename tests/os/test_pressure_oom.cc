// OOM badness, /proc/PID/oom_score and the victim choice (os-model.md §1.7).
#include <gtest/gtest.h>

#include "models/os/oom.h"

namespace mmusim {
namespace {

// RAM + swap = 4 GiB = 1048576 pages.
constexpr uint64_t kTotal = 1048576;

OomCandidate task(uint32_t pid, uint64_t rss, int32_t adj = 0) {
  OomCandidate c;
  c.pid = pid;
  c.rss = rss;
  c.oom_score_adj = adj;
  return c;
}

TEST(Oom, WorkedExample833And500) {
  // RSS 1 GiB = 262144 pages, page tables 2 MiB = 512 pages: 262656 points.
  OomCandidate c = task(7, 262144);
  c.pgtable_bytes = 2 << 20;
  ASSERT_TRUE(oom_badness(c, kTotal).has_value());
  EXPECT_EQ(*oom_badness(c, kTotal), 262656);
  // (1000 + 262656 x 1000 / 1048576 = 250.49 -> 250) x 2 / 3 = 1250 x 2 / 3 = 833.
  EXPECT_EQ(oom_score(c, kTotal), 833U);
  // adj -500: -500 x (1048576 / 1000 = 1048) = -524000; points = -261344;
  // -261344 x 1000 / 1048576 = -249.2 -> -249 (toward zero); 751 x 2 / 3 = 500.
  c.oom_score_adj = -500;
  EXPECT_EQ(*oom_badness(c, kTotal), -261344);
  EXPECT_EQ(oom_score(c, kTotal), 500U);
}

TEST(Oom, BadnessCountsSwapAndPageTables) {
  OomCandidate c = task(1, 100);
  c.swapents = 50;
  c.pgtable_bytes = 8192 + 4095;  // 2 pages (rounded down)
  EXPECT_EQ(*oom_badness(c, kTotal), 152);
  // oom_score_adj counts in thousandths of totalpages, divided first: with
  // 999 pages in all, 999 / 1000 = 0 and the adjustment has no effect.
  c.oom_score_adj = 1000;
  EXPECT_EQ(*oom_badness(c, 999), 152);
  // 4000 pages: +1000 x 4 = 4152.
  EXPECT_EQ(*oom_badness(c, 4000), 4152);
  // oom_score: (1000 + 4152 x 1000 / 4000 = 1038) x 2 / 3 = 1358 (above 1333 with adj).
  EXPECT_EQ(oom_score(*oom_badness(c, 4000), 4000), 1358U);
  EXPECT_EQ(oom_score(0, 0), 666U);  // totalpages 0 counts as 1: 1000 x 2 / 3
}

TEST(Oom, ExclusionsAreNeverChosen) {
  std::vector<OomCandidate> v;
  OomCandidate init = task(1, 900000);
  init.unkillable = true;
  OomCandidate pinned = task(2, 800000, kOomScoreAdjMin);
  OomCandidate reaped = task(3, 700000);
  reaped.reaped = true;
  OomCandidate vforked = task(4, 600000);
  vforked.vfork_pending = true;
  for (const OomCandidate& c : {init, pinned, reaped, vforked}) {
    EXPECT_FALSE(oom_badness(c, kTotal).has_value()) << c.pid;
    EXPECT_EQ(oom_score(c, kTotal), 0U) << c.pid;
    v.push_back(c);
  }
  EXPECT_EQ(select_victim(v, kTotal), std::nullopt);
  EXPECT_EQ(choose_oom_victim(v, kTotal).kind, OomChoice::Kind::kNone);
  v.push_back(task(5, 10));  // the only killable task, however small
  EXPECT_EQ(select_victim(v, kTotal), std::optional<uint32_t>(5));
  // adj -999 is not excluded: 10 - 999 x 1048 = -1046942 points, still chosen.
  v.back().oom_score_adj = -999;
  const OomChoice c = choose_oom_victim(v, kTotal);
  EXPECT_EQ(c.kind, OomChoice::Kind::kVictim);
  EXPECT_EQ(c.index, 4U);
  EXPECT_EQ(c.points, 10 - 999 * 1048);
}

TEST(Oom, MostPointsWinAndTiesGoToTheLastWalked) {
  // Linux 6.12 oom_evaluate_task() skips a task only when points <
  // chosen_points: an equal score replaces the choice.
  EXPECT_EQ(select_victim({task(10, 100), task(11, 300), task(12, 200)}, kTotal),
            std::optional<uint32_t>(11));
  EXPECT_EQ(select_victim({task(10, 300), task(11, 300)}, kTotal), std::optional<uint32_t>(11));
  EXPECT_EQ(select_victim({task(10, 300), task(11, 300), task(12, 299)}, kTotal),
            std::optional<uint32_t>(11));
  // oom_score_adj moves a task ahead: 100 + 100 x 1048 = 104900 > 100000.
  EXPECT_EQ(select_victim({task(10, 100000), task(11, 100, 100)}, kTotal),
            std::optional<uint32_t>(11));
}

TEST(Oom, AnUnreapedVictimMeansWait) {
  OomCandidate victim = task(20, 5);
  victim.oom_victim = true;
  const OomChoice c = choose_oom_victim({task(10, 900), victim, task(30, 1000)}, kTotal);
  EXPECT_EQ(c.kind, OomChoice::Kind::kWaitForVictim);
  EXPECT_EQ(c.pid, 20U);
  EXPECT_EQ(select_victim({task(10, 900), victim}, kTotal), std::nullopt);
  // Once reaped, it is passed over and the walk goes on.
  victim.reaped = true;
  EXPECT_EQ(select_victim({task(10, 900), victim, task(30, 800)}, kTotal),
            std::optional<uint32_t>(10));
}

}  // namespace
}  // namespace mmusim
