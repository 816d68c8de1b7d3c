// Swap-in readahead: the adaptive window, cluster and VMA readahead
// (os-model.md §1.6 table, §7 step 6).
#include <gtest/gtest.h>

#include "models/os/swap_area.h"
#include "models/os/swap_readahead.h"

namespace mmusim {
namespace {

constexpr uint64_t kPage = 4096;

TEST(SwapReadahead, WindowFormula) {
  // No hits: 1, or 2 for a neighbour of the previous offset (either side).
  EXPECT_EQ(swapin_nr_pages(100, 500, 0, 8, 0), 1U);
  EXPECT_EQ(swapin_nr_pages(100, 101, 0, 8, 0), 2U);
  EXPECT_EQ(swapin_nr_pages(100, 99, 0, 8, 0), 2U);
  // hits + 2 rounded up to a power of two, at least 4: 1 -> 3 -> 4,
  // 2 -> 4, 3 -> 5 -> 8, 7 -> 9 -> 16, capped at max_pages 8.
  EXPECT_EQ(swapin_nr_pages(0, 500, 1, 8, 0), 4U);
  EXPECT_EQ(swapin_nr_pages(0, 500, 2, 8, 0), 4U);
  EXPECT_EQ(swapin_nr_pages(0, 500, 3, 8, 0), 8U);
  EXPECT_EQ(swapin_nr_pages(0, 500, 7, 8, 0), 8U);
  EXPECT_EQ(swapin_nr_pages(0, 500, 7, 32, 0), 16U);
  // Never below half the previous window: 1 -> max(1, 8 / 2) = 4.
  EXPECT_EQ(swapin_nr_pages(100, 500, 0, 8, 8), 4U);
  EXPECT_EQ(default_page_cluster(15ULL << 20), 2U);
  EXPECT_EQ(default_page_cluster(16ULL << 20), 3U);
  EXPECT_TRUE(use_vma_readahead(true, false));
  EXPECT_FALSE(use_vma_readahead(true, true));  // a rotational area forces cluster readahead
  EXPECT_FALSE(use_vma_readahead(false, false));
}

TEST(SwapReadahead, RandomFaultsReadOnePage) {
  ClusterReadahead ra(3);
  EXPECT_EQ(ra.window(1000), 1U);  // previous offset 0: not a neighbour
  EXPECT_EQ(ra.window(37), 1U);
  EXPECT_EQ(ra.window(5000), 1U);
}

TEST(SwapReadahead, SequentialStreamGrowsTwoFourFourEight) {
  // os-model.md §1.6: 2 with no hits yet, 4 after 1 hit, 4 after 2, 8 after
  // 3 (the cap 2^3).
  ClusterReadahead ra(3);
  EXPECT_EQ(ra.window(100), 1U);
  EXPECT_EQ(ra.window(101), 2U);  // next to 100, no hits
  ra.hit();
  EXPECT_EQ(ra.window(103), 4U);  // 1 + 2 = 3 -> 4
  ra.hit();
  ra.hit();
  EXPECT_EQ(ra.window(107), 4U);  // 2 + 2 = 4
  for (int i = 0; i < 3; ++i) ra.hit();
  EXPECT_EQ(ra.window(111), 8U);  // 3 + 2 = 5 -> 8
  EXPECT_EQ(ra.hits(), 0U);       // consumed
  // Then random faults shrink it by halves: max(1, 8 / 2) = 4, then 2, 1.
  EXPECT_EQ(ra.window(9000), 4U);
  EXPECT_EQ(ra.window(20), 2U);
  EXPECT_EQ(ra.window(7000), 1U);
}

TEST(SwapReadahead, PreviousOffsetMovesOnlyWithoutHits) {
  ClusterReadahead ra(3);
  EXPECT_EQ(ra.window(50), 1U);  // previous offset now 50
  ra.hit();
  EXPECT_EQ(ra.window(900), 4U);  // a hit: the previous offset stays 50
  EXPECT_EQ(ra.window(51), 2U);   // next to 50 (half of 4 is 2 as well)
  ClusterReadahead off(0);        // page_cluster 0: no readahead at all
  off.hit();
  EXPECT_EQ(off.window(51), 1U);
}

TEST(SwapReadahead, ClusterReadsTheAlignedBlock) {
  ClusterReadahead ra(3);
  for (int i = 0; i < 6; ++i) ra.hit();  // 6 + 2 = 8
  // offset 13, window 8: [13 & ~7, 13 | 7] = [8, 15].
  ClusterReadahead::Range r = ra.range(13, 1000);
  EXPECT_EQ(r.window, 8U);
  EXPECT_EQ(r.first, 8U);
  EXPECT_EQ(r.last, 15U);
  // offset 3, random with no hits: max(1, 8 / 2) = 4 -> [0, 3], without the
  // header slot [1, 3].
  r = ra.range(3, 1000);
  EXPECT_EQ(r.window, 4U);
  EXPECT_EQ(r.first, 1U);
  EXPECT_EQ(r.last, 3U);
  // An area of 20 slots: offset 18, window 2 (half of 4): [18, 19] fits;
  // with window 8 it is clipped: [16, 23] -> [16, 19].
  r = ra.range(18, 20);
  EXPECT_EQ(r.first, 18U);
  EXPECT_EQ(r.last, 19U);
  for (int i = 0; i < 6; ++i) ra.hit();
  r = ra.range(18, 20);
  EXPECT_EQ(r.first, 16U);
  EXPECT_EQ(r.last, 19U);
  // Window 1: the faulting slot only.
  ClusterReadahead one(3);
  r = one.range(13, 1000);
  EXPECT_EQ(r.first, 13U);
  EXPECT_EQ(r.last, 13U);
}

TEST(SwapReadahead, ClusterSkipsFreeSlots) {
  // Slots 1..20 handed out sequentially, 10 and 12 freed: the block [8, 15]
  // reads 8, 9, 11, 13, 14, 15.
  SwapArea a(101, SwapKind::kRotational, 1, false);
  for (int i = 0; i < 20; ++i) (void)a.alloc(0);
  a.free(10);
  a.free(12);
  ClusterReadahead::Range r;
  r.first = 8;
  r.last = 15;
  EXPECT_EQ(cluster_readahead_slots(r, a), (std::vector<uint64_t>{8, 9, 11, 13, 14, 15}));
  r.first = 1;
  r.last = 3;
  EXPECT_EQ(cluster_readahead_slots(r, a), (std::vector<uint64_t>{1, 2, 3}));
}

// A VMA [0x400000, 0x800000): two 2 MiB PMDs, 0x400000 and 0x600000.
constexpr uint64_t kVmaStart = 0x400000, kVmaEnd = 0x800000;

TEST(SwapReadahead, VmaWindowIsCentredForwardOrBackward) {
  // Centred: the previous fault far away, 2 hits -> 4 pages; (4 - 1) / 2 = 1
  // page below the fault: [f - 4K, f + 3 x 4K).
  VmaReadaheadState s{0x700000, 0, 2};
  VmaReadaheadWindow w = vma_readahead_window(s, 0x500000, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.win, 4U);
  EXPECT_EQ(w.start, 0x4FF000U);
  EXPECT_EQ(w.end, 0x503000U);
  EXPECT_EQ(s.prev_addr, 0x500000U);  // the state: this fault, its window, no hits
  EXPECT_EQ(s.win, 4U);
  EXPECT_EQ(s.hits, 0U);
  // Forward: the previous fault was the page below; 3 hits -> 8 pages from f.
  s = {0x4FF000, 4, 3};
  w = vma_readahead_window(s, 0x500000, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.win, 8U);
  EXPECT_EQ(w.start, 0x500000U);
  EXPECT_EQ(w.end, 0x508000U);
  // Backward: the previous fault was the page above; 8 pages ending at f:
  // [f - 8 x 4K + 4K, f + 4K).
  s = {0x501000, 0, 6};
  w = vma_readahead_window(s, 0x500000, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.win, 8U);
  EXPECT_EQ(w.start, 0x4F9000U);
  EXPECT_EQ(w.end, 0x501000U);
  // Centred 8: (8 - 1) / 2 = 3 pages below: [f - 3 x 4K, f + 5 x 4K).
  s = {0x100000, 0, 6};
  w = vma_readahead_window(s, 0x500000 + 123, kVmaStart, kVmaEnd, 3);  // aligned down
  EXPECT_EQ(w.start, 0x4FD000U);
  EXPECT_EQ(w.end, 0x505000U);
}

TEST(SwapReadahead, VmaWindowIsClampedToThePmdAndTheVma) {
  // Forward 8 pages from 0x5FF000 would end at 0x607000: the PMD ends at 0x600000.
  VmaReadaheadState s{0x5FE000, 0, 6};
  VmaReadaheadWindow w = vma_readahead_window(s, 0x5FF000, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.start, 0x5FF000U);
  EXPECT_EQ(w.end, 0x600000U);
  // Backward 8 pages from 0x600000 would start at 0x5F9000: the PMD starts at 0x600000.
  s = {0x601000, 0, 6};
  w = vma_readahead_window(s, 0x600000, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.start, 0x600000U);
  EXPECT_EQ(w.end, 0x601000U);
  // A VMA of 2 pages [0x500000, 0x502000), centred 8 at its start:
  // [0x4FD000, 0x505000) -> [0x500000, 0x502000).
  s = {0x100000, 0, 6};
  w = vma_readahead_window(s, 0x500000, 0x500000, 0x502000, 3);
  EXPECT_EQ(w.start, 0x500000U);
  EXPECT_EQ(w.end, 0x502000U);
  // Near address 0, backward: left = 0x1000 - 0x8000 + 0x1000 < 0 -> 0;
  // right = left + 0x8000 = 0x2000.
  s = {0x2000, 0, 6};
  w = vma_readahead_window(s, 0x1000, 0, 0x100000, 3);
  EXPECT_EQ(w.start, 0U);
  EXPECT_EQ(w.end, 0x2000U);
}

TEST(SwapReadahead, VmaWindowGrowsWithHitsAndCapsAt32) {
  VmaReadaheadState s;
  const uint64_t a = 0x500000;
  EXPECT_EQ(vma_readahead_window(s, a, kVmaStart, kVmaEnd, 3).win, 1U);  // prev 0: far
  EXPECT_EQ(vma_readahead_window(s, a + kPage, kVmaStart, kVmaEnd, 3).win, 2U);
  // A readahead page found in the swap cache: one hit, and its address.
  vma_readahead_hit(s, a + 2 * kPage, true);
  EXPECT_EQ(s.prev_addr, a + 2 * kPage);
  EXPECT_EQ(s.hits, 1U);
  VmaReadaheadWindow w = vma_readahead_window(s, a + 3 * kPage, kVmaStart, kVmaEnd, 3);
  EXPECT_EQ(w.win, 4U);                        // 1 + 2 = 3 -> 4
  EXPECT_EQ(w.start, a + 3 * kPage);           // forward from the hit below
  vma_readahead_hit(s, a + 4 * kPage, false);  // a plain swap-cache hit: no count
  EXPECT_EQ(s.hits, 0U);
  // page_cluster 7: max_win = 2^min(7, 5) = 32.
  for (int i = 0; i < 100; ++i) vma_readahead_hit(s, a, true);
  EXPECT_EQ(s.hits, 63U);  // 6 bits
  EXPECT_EQ(vma_readahead_window(s, a + 20 * kPage, kVmaStart, kVmaEnd, 7).win, 32U);
  // page_cluster 0: no readahead, the state untouched.
  VmaReadaheadState z{0x123000, 8, 5};
  w = vma_readahead_window(z, 0x500000, kVmaStart, kVmaEnd, 0);
  EXPECT_EQ(w.win, 1U);
  EXPECT_EQ(w.start, 0x500000U);
  EXPECT_EQ(w.end, 0x501000U);
  EXPECT_EQ(z.prev_addr, 0x123000U);
  EXPECT_EQ(z.hits, 5U);
}

}  // namespace
}  // namespace mmusim
