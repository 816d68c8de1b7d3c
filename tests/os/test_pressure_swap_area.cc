// The swap area: slot order on solid-state and rotational areas, counts,
// vm_swap_full and the per-CPU slot cache (os-model.md §1.6, §7 step 6).
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/os/swap_area.h"

namespace mmusim {
namespace {

constexpr bool kNoCache = false;

uint64_t take(SwapArea& a, unsigned cpu = 0) {
  const std::optional<uint64_t> s = a.alloc(cpu);
  EXPECT_TRUE(s.has_value());
  return s.value_or(0);
}

TEST(SwapArea, SsdIsSequentialInAPerCpuCluster) {
  // 16 MiB: 4096 slots, 8 clusters of 512. The header's cluster 0 starts on
  // the nonfull list; the free list is 1, 2, ..., 7 (fewer than 32 clusters:
  // one per column). With the cache (4095 free > 2 CPUs x 320) or without,
  // each CPU takes its own cluster.
  for (bool cache : {false, true}) {
    SwapArea a(4096, SwapKind::kSolidState, 2, cache);
    EXPECT_EQ(a.total(), 4095U);
    EXPECT_EQ(take(a, 0), 512U);   // cluster 1
    EXPECT_EQ(take(a, 1), 1024U);  // cluster 2
    EXPECT_EQ(take(a, 0), 513U);
    EXPECT_EQ(take(a, 1), 1025U);
    for (uint64_t s = 514; s < 1024; ++s) ASSERT_EQ(take(a, 0), s);
    // CPU 0's cluster is full: the next free cluster is 3.
    EXPECT_EQ(take(a, 0), 1536U);
    EXPECT_EQ(a.stats().cluster_switches, 3U);  // clusters 1, 2, 3 taken
  }
}

TEST(SwapArea, SsdFreeListIsInterleavedBy32) {
  // 256 MiB: 65536 slots, 128 clusters, 4 rows of 32 columns. Column 0 gives
  // 0 (header: nonfull), 32, 64, 96; column 1 gives 1, 33, 65, 97; ... so the
  // free list starts 32, 64, 96, 1, 33.
  SwapArea a(65536, SwapKind::kSolidState, 2, kNoCache);
  EXPECT_EQ(take(a, 0), 32U * 512);
  EXPECT_EQ(take(a, 1), 64U * 512);
  EXPECT_EQ(take(a, 0), 32U * 512 + 1);
}

TEST(SwapArea, SsdUsesTheHeaderClusterLastAndNeverSlot0) {
  // 1025 slots: cluster 0 (slots 1..511 usable), cluster 1 (512..1023) and
  // cluster 2 (slot 1024 only: 511 slots lie beyond the end). Only cluster 1
  // starts free; the nonfull list is 0, 2.
  SwapArea a(1025, SwapKind::kSolidState, 1, kNoCache);
  for (uint64_t s = 512; s < 1024; ++s) ASSERT_EQ(take(a), s);
  // No free cluster: the first nonfull one (0) moves to the frag list.
  for (uint64_t s = 1; s < 512; ++s) ASSERT_EQ(take(a), s);
  EXPECT_EQ(take(a), 1024U);
  EXPECT_EQ(a.used(), 1024U);
  EXPECT_EQ(a.alloc(0), std::nullopt);
  EXPECT_EQ(a.stats().allocs, 1024U);
  EXPECT_EQ(a.stats().alloc_failures, 1U);
  EXPECT_EQ(a.stats().cluster_switches, 3U);  // 1 from the free list, 0 and 2 from nonfull
  EXPECT_EQ(a.stats().fragment_allocs, 2U);
  EXPECT_EQ(a.count(0), 0U);
  // A freed slot of the full cluster 1 makes it nonfull: it is found again.
  a.free(700);
  EXPECT_EQ(take(a), 700U);
}

TEST(SwapArea, SsdWhollyFreedClusterReturnsToTheFreeListTail) {
  // 4096 slots, one CPU, no cache: the free list is 1..7. The CPU fills
  // cluster 1 (512..1023) and takes the next one, 2.
  SwapArea a(4096, SwapKind::kSolidState, 1, kNoCache);
  for (uint64_t s = 512; s < 1024; ++s) ASSERT_EQ(take(a), s);
  EXPECT_EQ(take(a), 1024U);                        // cluster 2
  for (uint64_t s = 512; s < 1024; ++s) a.free(s);  // cluster 1 wholly free: free-list tail
  // CPU 0 still owns cluster 2; cluster 1 comes after 3..7.
  for (uint64_t s = 1025; s < 1536; ++s) ASSERT_EQ(take(a), s);
  for (uint64_t c = 3; c < 8; ++c) {
    for (uint64_t s = c * 512; s < (c + 1) * 512; ++s) ASSERT_EQ(take(a), s);
  }
  EXPECT_EQ(take(a), 512U);
}

TEST(SwapArea, HddIsStrictlySequentialThenTheFirstFreeRunFromLowestBit) {
  SwapArea a(2049, SwapKind::kRotational, 1, kNoCache);
  // From 1: a new run of 512 at lowest_bit 1, then 513 at lowest_bit 513.
  for (uint64_t s = 1; s <= 1024; ++s) ASSERT_EQ(take(a), s);
  EXPECT_EQ(a.stats().cluster_switches, 2U);
  // Free 100..700: lowest_bit drops to 100. The run 513..1024 is used up,
  // so the next allocation looks for 512 free slots in a row from
  // lowest_bit: [100, 611], ahead of the never-used 1025..2048.
  for (uint64_t s = 100; s <= 700; ++s) a.free(s);
  EXPECT_EQ(take(a), 100U);
  EXPECT_EQ(take(a), 101U);
  EXPECT_EQ(a.stats().cluster_switches, 3U);
}

TEST(SwapArea, HddTakesTheFirstFreeSlotWithoutAFreeRun) {
  // 1600 usable slots; 1..1536 handed out (three runs of 512: the third ends
  // with cluster_next 1537), then 2, 4, ..., 1200 freed: 600 + 64 free
  // (>= 512) but no 512 in a row. The search from lowest_bit 2 fails, so the
  // allocator goes on from lowest_bit (not from cluster_next 1537) with the
  // first free slot, then the next free one after it.
  SwapArea a(1601, SwapKind::kRotational, 1, kNoCache);
  for (uint64_t s = 1; s <= 1536; ++s) ASSERT_EQ(take(a), s);
  for (uint64_t s = 2; s <= 1200; s += 2) a.free(s);
  EXPECT_EQ(take(a), 2U);
  EXPECT_EQ(take(a), 4U);
  EXPECT_EQ(take(a), 6U);
  EXPECT_EQ(a.stats().fragment_allocs, 2U);  // 4 and 6 were found by the scan past a used slot
  // A full area fails.
  SwapArea full(101, SwapKind::kRotational, 1, kNoCache);
  for (uint64_t s = 1; s <= 100; ++s) ASSERT_EQ(take(full), s);
  EXPECT_EQ(full.alloc(0), std::nullopt);
}

TEST(SwapArea, HddWithFewFreeSlotsWrapsToLowestBit) {
  // 1025 slots all used, then 10, 20, 30 freed: fewer than 512 free, so no
  // search; the scan starts at cluster_next (1025, past highest_bit 30),
  // wraps to lowest_bit 10, then finds 20 and 30 after it.
  SwapArea a(1025, SwapKind::kRotational, 1, kNoCache);
  for (uint64_t s = 1; s <= 1024; ++s) ASSERT_EQ(take(a), s);
  for (uint64_t s : {30, 10, 20}) a.free(s);
  EXPECT_EQ(take(a), 10U);
  EXPECT_EQ(take(a), 20U);
  EXPECT_EQ(take(a), 30U);
  EXPECT_EQ(a.alloc(0), std::nullopt);
}

TEST(SwapArea, HddBatchEndsWhenTheScanBudgetRunsOut) {
  // scan_swap_map_slots() counts its steps against a budget of 256
  // (LATENCY_LIMIT, refilled when it falls below 0) and a batch stops when
  // the budget runs out. The first refill searches from lowest_bit 1 for a
  // free run: 511 steps over slots 1..511 (the run is found at 512): 257
  // steps reach the refill, the 254 after it leave 256 - 254 = 2. Slot 1
  // leaves 1, slot 2 leaves 0, slot 3 takes it below 0: a batch of three.
  SwapArea a(2049, SwapKind::kRotational, 1);
  EXPECT_EQ(take(a), 1U);
  EXPECT_EQ(a.cached(), 2U);
  EXPECT_EQ(take(a), 2U);
  EXPECT_EQ(take(a), 3U);
  // The next refill goes on in the run with a fresh budget: 64 slots 4..67.
  EXPECT_EQ(take(a), 4U);
  EXPECT_EQ(a.cached(), 63U);
  EXPECT_EQ(a.used(), 67U);
  EXPECT_EQ(a.stats().cache_refills, 2U);
}

TEST(SwapArea, HddLongSearchLeavesTheBudgetModulo257) {
  // 4097 slots, one CPU, cache on. Batches: {1, 2, 3} (above), then 64 each
  // from 4: 4..67, ..., 388..451 leave 509 - 7 x 64 = 61 slots in the run;
  // the ninth batch takes 452..512 (61 slots: the run is over) and the
  // short look-ahead goes on with 513..515.
  SwapArea a(4097, SwapKind::kRotational, 1);
  for (uint64_t s = 1; s <= 512; ++s) ASSERT_EQ(take(a), s);
  EXPECT_EQ(a.cached(), 3U);  // 513..515
  a.free(1);
  a.drain_caches();  // 513..515 and 1 go back: lowest_bit 1
  EXPECT_EQ(a.used(), 511U);
  // The next batch searches from 1: slot 1 free, 2 used (2 steps), each of
  // 3..512 used (510 steps), then the run [513, 1024] (511 steps): 1023
  // steps; 1023 - 257 = 766 after the first refill, 766 mod 257 = 252, a
  // budget of 256 - 252 = 4: 513..516 bring it to 0, 517 below: five slots.
  EXPECT_EQ(take(a), 513U);
  EXPECT_EQ(a.cached(), 4U);
  EXPECT_EQ(a.used(), 516U);
}

TEST(SwapArea, SlotCacheChangesTheHddOrderAcrossCpus) {
  // Without the cache two CPUs alternate on one sequence.
  SwapArea plain(4096, SwapKind::kRotational, 2, kNoCache);
  EXPECT_EQ(take(plain, 0), 1U);
  EXPECT_EQ(take(plain, 1), 2U);
  EXPECT_EQ(take(plain, 0), 3U);
  // With it (4095 free > 2 CPUs x 320) each CPU takes a batch: CPU 0 the
  // three-slot batch after the run search (see the test above), CPU 1 the
  // next 64 (4..67), and CPU 0's next refill 68..131.
  SwapArea cached(4096, SwapKind::kRotational, 2);
  EXPECT_EQ(take(cached, 0), 1U);
  EXPECT_EQ(take(cached, 1), 4U);
  EXPECT_EQ(take(cached, 0), 2U);
  EXPECT_EQ(take(cached, 1), 5U);
  EXPECT_EQ(take(cached, 0), 3U);
  EXPECT_EQ(take(cached, 0), 68U);
  EXPECT_TRUE(cached.slot_cache_active());
  EXPECT_EQ(cached.used(), 131U);  // every batch counts as used
  EXPECT_EQ(cached.cached(), 131U - 6U);
  EXPECT_EQ(cached.stats().cache_refills, 3U);
}

TEST(SwapArea, CountsDupAndFree) {
  SwapArea a(101, SwapKind::kRotational, 1, kNoCache);
  const uint64_t s = take(a);
  EXPECT_EQ(s, 1U);
  EXPECT_EQ(a.count(s), 1U);
  a.dup(s);
  a.dup(s);
  EXPECT_EQ(a.count(s), 3U);
  a.free(s);
  a.free(s);
  EXPECT_EQ(a.count(s), 1U);
  EXPECT_EQ(a.used(), 1U);
  a.free(s);
  EXPECT_EQ(a.count(s), 0U);
  EXPECT_EQ(a.used(), 0U);
  EXPECT_EQ(a.stats().frees, 1U);
  EXPECT_THROW(a.free(s), std::invalid_argument);
  EXPECT_THROW(a.dup(s), std::invalid_argument);
  EXPECT_THROW(a.dup(0), std::invalid_argument);          // the header
  EXPECT_THROW(a.free(500), std::invalid_argument);       // beyond the area
  EXPECT_THROW((void)a.alloc(1), std::invalid_argument);  // no CPU 1
  EXPECT_THROW(SwapArea(1, SwapKind::kRotational), std::invalid_argument);
  EXPECT_THROW(SwapArea(10, SwapKind::kRotational, 0), std::invalid_argument);
}

TEST(SwapArea, SwapFullAboveHalf) {
  // 101 slots: 100 usable. vm_swap_full: free x 2 < total.
  SwapArea a(101, SwapKind::kSolidState, 1, kNoCache);
  for (int i = 0; i < 50; ++i) take(a);
  EXPECT_EQ(a.used(), 50U);
  EXPECT_FALSE(a.full_over_half());  // 50 x 2 = 100, not < 100
  const uint64_t s = take(a);
  EXPECT_TRUE(a.full_over_half());  // 49 x 2 = 98 < 100
  a.free(s);
  EXPECT_FALSE(a.full_over_half());
}

TEST(SwapArea, ReturnCacheDelaysFrees) {
  // 4096 slots, one CPU: the cache is on (4095 > 320). 100 allocations take
  // two batches (128 slots used, 28 cached). Freed slots wait in the return
  // cache: the 65th free first gives the 64 before it back.
  SwapArea a(4096, SwapKind::kSolidState, 1);
  std::vector<uint64_t> got(100);
  for (uint64_t& s : got) s = take(a);
  EXPECT_EQ(got.front(), 512U);
  EXPECT_EQ(got.back(), 611U);
  EXPECT_EQ(a.used(), 128U);
  EXPECT_EQ(a.cached(), 28U);
  for (int i = 0; i < 64; ++i) a.free(got[i]);
  EXPECT_EQ(a.used(), 128U);  // all 64 still wait
  EXPECT_EQ(a.count(got[0]), 0U);
  EXPECT_EQ(a.cached(), 28U + 64U);
  a.free(got[64]);
  EXPECT_EQ(a.used(), 64U);
  EXPECT_EQ(a.cached(), 28U + 1U);
  EXPECT_EQ(a.stats().cache_returns, 1U);
  EXPECT_EQ(a.stats().frees, 65U);
  a.drain_caches();
  EXPECT_EQ(a.used(), 35U);  // 100 handed out - 65 freed
  EXPECT_EQ(a.cached(), 0U);
}

TEST(SwapArea, SlotCacheSwitchesOffWhenSwapRunsLow) {
  // 1025 slots, one CPU: on while more than 320 are free; off (drained) once
  // fewer than 128 are. Refills at allocations 1, 65, ..., 833 leave 896
  // used; the 897th allocation still sees 128 free and refills (960 used);
  // the 898th sees 64 < 128: the cache is drained (63 unused slots back,
  // 897 used) and the slot comes straight from the area.
  SwapArea a(1025, SwapKind::kSolidState, 1);
  for (int i = 0; i < 897; ++i) take(a);
  EXPECT_TRUE(a.slot_cache_active());
  EXPECT_EQ(a.used(), 960U);
  take(a);
  EXPECT_FALSE(a.slot_cache_active());
  EXPECT_EQ(a.cached(), 0U);
  EXPECT_EQ(a.used(), 898U);
  EXPECT_EQ(a.stats().cache_refills, 15U);
}

TEST(SwapArea, SmallAreaNeverCaches) {
  // 300 usable slots on one CPU: 300 is not above 320, so no batches.
  SwapArea a(301, SwapKind::kRotational, 1);
  take(a);
  EXPECT_FALSE(a.slot_cache_active());
  EXPECT_EQ(a.used(), 1U);
}

}  // namespace
}  // namespace mmusim
