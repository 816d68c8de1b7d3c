// LruVec (lists, flags, O(1) moves) and the pure sizing functions of reclaim:
// inactive_is_low(), ScanCosts (lru_note_cost) and get_scan_count()
// (os-model.md §1.3 and §7 step 5).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "models/os/lru.h"
#include "models/os/page_frame.h"

namespace mmusim {
namespace {

constexpr uint64_t kPagesPerGiB = uint64_t{1} << 18;  // 2^30 / 4 KiB

std::vector<uint64_t> values(const std::vector<Pfn>& v) {
  std::vector<uint64_t> out;
  out.reserve(v.size());
  for (Pfn p : v) out.push_back(p.value());
  return out;
}

// Frames without an allocator: LruVec only needs a PageFrame per page.
struct Frames {
  std::vector<PageFrame> f = std::vector<PageFrame>(64);
  PageFrame& operator()(Pfn p) { return f.at(p.value()); }
  PageFrame& file(uint64_t p) {
    f.at(p).set(FrameFlag::kFileLru);
    return f.at(p);
  }
};

TEST(LruVec, AddsAtTheHeadTakesFromTheTailAndKeepsTheFlags) {
  LruVec lru;
  Frames fr;
  for (uint64_t p = 1; p <= 3; ++p) lru.add(Pfn(p), fr.file(p));
  lru.add(Pfn(4), fr(Pfn(4)));  // no kFileLru: anon
  EXPECT_EQ(values(lru.pages(LruList::kInactiveFile)), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(values(lru.pages(LruList::kInactiveAnon)), (std::vector<uint64_t>{4}));
  EXPECT_EQ(lru.size(LruList::kInactiveFile), 3U);
  EXPECT_EQ(lru.evictable(), 4U);
  EXPECT_EQ(fr(Pfn(1)).lru(), LruList::kInactiveFile);
  EXPECT_EQ(fr(Pfn(4)).lru(), LruList::kInactiveAnon);
  EXPECT_THROW(lru.add(Pfn(1), fr(Pfn(1))), std::invalid_argument);

  // Rotation: 1 (the tail) goes back to the head.
  EXPECT_TRUE(lru.rotate(Pfn(1)));
  EXPECT_EQ(values(lru.pages(LruList::kInactiveFile)), (std::vector<uint64_t>{1, 3, 2}));

  // Activation sets kActive; move_tail brings it back to the inactive tail.
  EXPECT_TRUE(lru.activate(Pfn(3), fr(Pfn(3))));
  EXPECT_FALSE(lru.activate(Pfn(3), fr(Pfn(3))));  // already active
  EXPECT_TRUE(fr(Pfn(3)).test(FrameFlag::kActive));
  EXPECT_EQ(lru.list_of(Pfn(3)), LruList::kActiveFile);
  EXPECT_TRUE(lru.move_tail(Pfn(3), fr(Pfn(3))));
  EXPECT_FALSE(fr(Pfn(3)).test(FrameFlag::kActive));
  EXPECT_EQ(values(lru.pages(LruList::kInactiveFile)), (std::vector<uint64_t>{1, 2, 3}));

  // take_tail isolates tail first, clearing kLru; the node (and PG_reclaim) stays.
  lru.set_reclaim_mark(Pfn(3), true);
  std::vector<Pfn> out;
  EXPECT_EQ(lru.take_tail(LruList::kInactiveFile, 2, out, fr), 2U);
  EXPECT_EQ(values(out), (std::vector<uint64_t>{3, 2}));
  EXPECT_FALSE(fr(Pfn(3)).test(FrameFlag::kLru));
  EXPECT_EQ(fr(Pfn(3)).lru(), LruList::kNone);
  EXPECT_EQ(lru.size(LruList::kInactiveFile), 1U);
  EXPECT_TRUE(lru.contains(Pfn(3)));
  EXPECT_EQ(lru.list_of(Pfn(3)), LruList::kNone);
  EXPECT_TRUE(lru.reclaim_mark(Pfn(3)));
  // Put back active: the flags choose the list.
  fr(Pfn(3)).set(FrameFlag::kActive);
  lru.add(Pfn(3), fr(Pfn(3)));
  EXPECT_EQ(lru.list_of(Pfn(3)), LruList::kActiveFile);
  EXPECT_TRUE(lru.reclaim_mark(Pfn(3)));
  // An isolated page whose frame is gone is forgotten.
  lru.forget(Pfn(2));
  EXPECT_FALSE(lru.contains(Pfn(2)));
  EXPECT_THROW(lru.forget(Pfn(1)), std::invalid_argument);  // on a list

  // del takes a page off for good: the node and its mark go.
  EXPECT_EQ(lru.del(Pfn(3), fr(Pfn(3))), LruList::kActiveFile);
  EXPECT_FALSE(lru.reclaim_mark(Pfn(3)));
  EXPECT_FALSE(lru.contains(Pfn(3)));
  EXPECT_FALSE(fr(Pfn(3)).test(FrameFlag::kLru));
  EXPECT_EQ(lru.nodes(), 2U);  // 1 and 4
}

TEST(LruVec, MoveSetsTheFlagsOfTheTargetList) {
  LruVec lru;
  Frames fr;
  lru.add(Pfn(5), fr.file(5));
  EXPECT_TRUE(lru.move(Pfn(5), fr(Pfn(5)), LruList::kUnevictable));
  EXPECT_TRUE(fr(Pfn(5)).test(FrameFlag::kUnevictable));
  EXPECT_EQ(fr(Pfn(5)).lru(), LruList::kUnevictable);
  EXPECT_TRUE(fr(Pfn(5)).test(FrameFlag::kFileLru));  // the type stays
  EXPECT_TRUE(lru.move(Pfn(5), fr(Pfn(5)), LruList::kActiveFile));
  EXPECT_FALSE(fr(Pfn(5)).test(FrameFlag::kUnevictable));
  EXPECT_EQ(fr(Pfn(5)).lru(), LruList::kActiveFile);
  EXPECT_FALSE(lru.move_tail(Pfn(6), fr(Pfn(6))));  // unknown page
  EXPECT_THROW(lru.set_reclaim_mark(Pfn(6), true), std::invalid_argument);
}

TEST(LruVec, ReusesNodesAndStaysConsistentUnderChurn) {
  // 10,000 pages cycled through add / activate / isolate / del: the lists
  // always hold exactly the pages the sizes say, and nodes are reused.
  LruVec lru;
  std::vector<PageFrame> fr(1000);
  auto frame = [&](Pfn p) -> PageFrame& { return fr.at(p.value()); };
  for (uint64_t round = 0; round < 10; ++round) {
    for (uint64_t p = 0; p < 1000; ++p) {
      fr[p] = PageFrame{};
      if (p % 2) fr[p].set(FrameFlag::kFileLru);
      lru.add(Pfn(p), fr[p]);
      if (p % 3 == 0) lru.activate(Pfn(p), fr[p]);
    }
    std::vector<Pfn> out;
    lru.take_tail(LruList::kInactiveFile, 100, out, frame);
    for (Pfn p : out) lru.add(p, fr[p.value()]);
    for (uint64_t p = 0; p < 1000; ++p) lru.del(Pfn(p), fr[p]);
    EXPECT_EQ(lru.nodes(), 0U);
    for (size_t i = 0; i < kNumLruLists; ++i) EXPECT_EQ(lru.sizes()[i], 0U);
  }
  for (uint64_t p = 0; p < 1000; ++p) {
    fr[p] = PageFrame{};
    if (p % 2) fr[p].set(FrameFlag::kFileLru);
    lru.add(Pfn(p), fr[p]);
  }
  // 500 odd pages on the file list, 500 even on the anon list, newest first.
  EXPECT_EQ(lru.size(LruList::kInactiveFile), 500U);
  EXPECT_EQ(lru.pages(LruList::kInactiveFile).front(), Pfn(999));
  EXPECT_EQ(*lru.tail(LruList::kInactiveAnon), Pfn(0));
  EXPECT_EQ(*lru.head(LruList::kInactiveAnon), Pfn(998));
}

TEST(InactiveIsLow, RatiosOfOsModelTable) {
  // ratio = int_sqrt(10 x GiB), 1 below 1 GiB (os-model.md §1.3, §7 step 5).
  const uint64_t half = kPagesPerGiB / 2;
  EXPECT_EQ(inactive_ratio(half / 2, half / 2), 1U);                        // 0.5 GiB: gb = 0
  EXPECT_EQ(inactive_ratio(kPagesPerGiB, 0), 3U);                           // int_sqrt(10) = 3
  EXPECT_EQ(inactive_ratio(5 * kPagesPerGiB, 5 * kPagesPerGiB), 10U);       // int_sqrt(100)
  EXPECT_EQ(inactive_ratio(50 * kPagesPerGiB, 50 * kPagesPerGiB), 31U);     // int_sqrt(1000) = 31
  EXPECT_EQ(inactive_ratio(24 * kPagesPerGiB, 1000 * kPagesPerGiB), 101U);  // int_sqrt(10240)
  // Low iff inactive x ratio < active. 1 GiB in all, ratio 3: 65536 x 3 =
  // 196608 is not below 196608 ...
  EXPECT_FALSE(inactive_is_low(65536, 196608));
  // ... but is below 196609 (gb still 1).
  EXPECT_TRUE(inactive_is_low(65536, 196609));
  // Small lists: ratio 1, low when inactive < active.
  EXPECT_TRUE(inactive_is_low(0, 1));
  EXPECT_FALSE(inactive_is_low(1, 1));
}

TEST(IntSqrt, ExactFloors) {
  EXPECT_EQ(int_sqrt(0), 0U);
  EXPECT_EQ(int_sqrt(1), 1U);
  EXPECT_EQ(int_sqrt(10), 3U);
  EXPECT_EQ(int_sqrt(10200), 100U);  // 101^2 = 10201
  EXPECT_EQ(int_sqrt(10201), 101U);
  EXPECT_EQ(int_sqrt(~uint64_t{0}), 4294967295U);  // (2^32 - 1)^2 < 2^64 - 1 < 2^64
}

TEST(ScanCosts, IoCountsThirtyTwoAndBothHalveAboveAQuarter) {
  ScanCosts c;
  c.note(false, 1, 5, 1000);  // anon += 1 x 32 + 5 = 37; 37 <= 1000 / 4
  EXPECT_EQ(c.anon, 37U);
  EXPECT_EQ(c.file, 0U);
  c.note(true, 10, 0, 1000);      // file += 320; 357 > 250: both halve
  EXPECT_EQ(c.anon, 18U);         // 37 / 2
  EXPECT_EQ(c.file, 160U);        // 320 / 2
  c.note_refault(true, 1, 1000);  // file += 32 -> 192; 210 <= 250
  EXPECT_EQ(c.file, 192U);
}

// Four lists of 2^20 pages each; priority 2 scans 2^18 = 262144 of a list.
ScanInput equal_lists(unsigned priority) {
  ScanInput in;
  in.size = {1U << 20, 1U << 20, 1U << 20, 1U << 20};
  in.priority = priority;
  return in;
}

TEST(GetScanCount, SwappinessSixtyWithZeroCostsScansThirtyPercentAnon) {
  // a = f = 0: T = 0, A = F = 0, T2 = 0; ap = 60 x 1 / 1 = 60, fp = 140 x 1 / 1 = 140.
  const ScanCount c = get_scan_count(equal_lists(2));
  EXPECT_EQ(c.balance, ScanBalance::kFract);
  EXPECT_EQ(c.anon_fraction, 60U);
  EXPECT_EQ(c.file_fraction, 140U);
  EXPECT_EQ(c.nr[0], 78643U);   // 262144 x 60 / 200 = 78643.2
  EXPECT_EQ(c.nr[1], 78643U);   // the active anon list alike
  EXPECT_EQ(c.nr[2], 183500U);  // 262144 x 140 / 200 = 183500.8
  EXPECT_EQ(c.nr[3], 183500U);
}

TEST(GetScanCount, CostLimitsFortySixAndSeventeenPercent) {
  // f >> a: a = 0, f = 2^20: T = 2^20, A = 2^20, F = 2^21, T2 = 3 x 2^20;
  // ap = 60 (3 x 2^20 + 1) / (2^20 + 1) = 179, fp = 140 (3 x 2^20 + 1) / (2^21 + 1) = 209.
  // The real-valued limits are 180 and 210: 180 / 390 = 46.2 %; integer
  // arithmetic gives 179 / 388 = 46.1 %.
  ScanInput in = equal_lists(2);
  in.costs = {0, 1U << 20};
  ScanCount c = get_scan_count(in);
  EXPECT_EQ(c.anon_fraction, 179U);
  EXPECT_EQ(c.file_fraction, 209U);
  EXPECT_EQ(c.nr[0], 120937U);  // 262144 x 179 / 388
  EXPECT_EQ(c.nr[2], 141206U);  // 262144 x 209 / 388
  EXPECT_NEAR(100.0 * 180 / 390, 46.2, 0.05);
  EXPECT_NEAR(100.0 * static_cast<double>(c.nr[0]) / static_cast<double>(c.nr[0] + c.nr[2]), 46.2,
              0.1);
  // a >> f: A = 2^21, F = 2^20: ap = 60 (3 x 2^20 + 1) / (2^21 + 1) = 89,
  // fp = 140 (3 x 2^20 + 1) / (2^20 + 1) = 419; limits 90 / 510 = 17.6 %,
  // integers 89 / 508 = 17.5 %.
  in.costs = {1U << 20, 0};
  c = get_scan_count(in);
  EXPECT_EQ(c.anon_fraction, 89U);
  EXPECT_EQ(c.file_fraction, 419U);
  EXPECT_EQ(c.nr[0], 45926U);   // 262144 x 89 / 508
  EXPECT_EQ(c.nr[2], 216217U);  // 262144 x 419 / 508
  EXPECT_NEAR(100.0 * 90 / 510, 17.6, 0.05);
  EXPECT_NEAR(100.0 * static_cast<double>(c.nr[0]) / static_cast<double>(c.nr[0] + c.nr[2]), 17.6,
              0.2);
}

TEST(GetScanCount, NoSwapScansNoAnon) {
  ScanInput in = equal_lists(2);
  in.can_reclaim_anon = false;
  const ScanCount c = get_scan_count(in);
  EXPECT_EQ(c.balance, ScanBalance::kFile);
  EXPECT_EQ(c.nr[0], 0U);
  EXPECT_EQ(c.nr[1], 0U);
  EXPECT_EQ(c.nr[2], 262144U);  // 2^20 >> 2
  EXPECT_EQ(c.nr[3], 262144U);
}

TEST(GetScanCount, PriorityZeroScansEverythingEqually) {
  ScanInput in = equal_lists(0);
  in.size = {100, 200, 300, 400};
  in.costs = {1000, 0};  // ignored near OOM
  ScanCount c = get_scan_count(in);
  EXPECT_EQ(c.balance, ScanBalance::kEqual);
  EXPECT_EQ(c.nr, (std::array<uint64_t, 4>{100, 200, 300, 400}));
  // swappiness 0 disagrees with swapping even at priority 0: SCAN_FRACT
  // with ap = 0.
  in.swappiness = 0;
  c = get_scan_count(in);
  EXPECT_EQ(c.balance, ScanBalance::kFract);
  EXPECT_EQ(c.nr[0], 0U);
  EXPECT_EQ(c.nr[2], 300U);
}

TEST(GetScanCount, TinyFileScansAnonAndCacheTrimScansFile) {
  ScanInput in = equal_lists(3);
  in.file_is_tiny = true;
  in.cache_trim_mode = true;  // file_is_tiny comes first
  ScanCount c = get_scan_count(in);
  EXPECT_EQ(c.balance, ScanBalance::kAnon);
  EXPECT_EQ(c.nr, (std::array<uint64_t, 4>{131072, 131072, 0, 0}));  // 2^20 >> 3
  in.file_is_tiny = false;
  c = get_scan_count(in);
  EXPECT_EQ(c.balance, ScanBalance::kFile);
  EXPECT_EQ(c.nr, (std::array<uint64_t, 4>{0, 0, 131072, 131072}));
}

TEST(GetScanCount, ScansListSizeShiftedByPriority) {
  // lru_size >> priority per pass: 10^6 pages at priority 12 .. 0.
  ScanInput in;
  in.size = {0, 0, 1000000, 0};
  in.can_reclaim_anon = false;
  const uint64_t expected[13] = {1000000, 500000, 250000, 125000, 62500, 31250, 15625,
                                 7812,    3906,   1953,   976,    488,   244};
  for (unsigned p = 0; p <= kDefPriority; ++p) {
    in.priority = p;
    EXPECT_EQ(get_scan_count(in).nr[2], expected[p]) << "priority " << p;
  }
  in.priority = 13;
  EXPECT_THROW(get_scan_count(in), std::invalid_argument);
}

}  // namespace
}  // namespace mmusim
