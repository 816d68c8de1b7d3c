// Zones and watermarks (os-model.md §1.1 and §7 step 2).
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/os/zone.h"

namespace mmusim {
namespace {

// The development machine's zones (/proc/zoneinfo: managed pages of DMA,
// DMA32 and Normal) with min_free_kbytes 67584 and watermark_scale_factor 10.
std::vector<ZoneSpec> dev_zones() {
  return {{"dma", 3840, false}, {"dma32", 772798, false}, {"normal", 1277952, false}};
}

TEST(Zone, MinFreeKbytesTable) {
  // clamp(int_sqrt(16 x lowmem KiB), 128, 262144): the table in
  // calculate_min_free_kbytes()'s comment.
  EXPECT_EQ(default_min_free_kbytes(16ULL * 1024), 512U);       // sqrt(262144)
  EXPECT_EQ(default_min_free_kbytes(32ULL * 1024), 724U);       // sqrt(524288) = 724.08
  EXPECT_EQ(default_min_free_kbytes(64ULL * 1024), 1024U);      // sqrt(1048576)
  EXPECT_EQ(default_min_free_kbytes(128ULL * 1024), 1448U);     // sqrt(2097152) = 1448.15
  EXPECT_EQ(default_min_free_kbytes(256ULL * 1024), 2048U);     // sqrt(4194304)
  EXPECT_EQ(default_min_free_kbytes(1024ULL * 1024), 4096U);    // sqrt(16777216)
  EXPECT_EQ(default_min_free_kbytes(4096ULL * 1024), 8192U);    // sqrt(67108864)
  EXPECT_EQ(default_min_free_kbytes(16384ULL * 1024), 16384U);  // sqrt(268435456)
  // The clamps: 1 MiB gives sqrt(16384) = 128; below it 128 still.
  EXPECT_EQ(default_min_free_kbytes(1024), 128U);
  EXPECT_EQ(default_min_free_kbytes(100), 128U);  // sqrt(1600) = 40 -> 128
  // 256 TiB: sqrt(2^38 x 16) = 2^21 -> at most 262144.
  EXPECT_EQ(default_min_free_kbytes(1ULL << 38), 262144U);
  EXPECT_EQ(default_min_free_kbytes(UINT64_MAX), 262144U);  // 16 x saturates, no wrap
}

TEST(Zone, ThpRaisesMinFreeKbytes) {
  // 512 x 3 zones x 11 = 16896 pages = 67584 KiB (below 5 % of 2054590 pages).
  EXPECT_EQ(thp_min_free_kbytes(3, 2054590), 67584U);
  // One zone of 64 MiB: 5632 pages, capped at 16384 / 20 = 819 pages = 3276 KiB.
  EXPECT_EQ(thp_min_free_kbytes(1, 16384), 3276U);
  // At boot, the development machine: default int_sqrt(2054590 x 4 x 16) =
  // int_sqrt(131493760) = 11467 KiB; with THP khugepaged raises it to 67584
  // (its cap is 5 % of the pages above the high marks of 11467's
  // watermarks: 2047622 / 20 = 102381 > 16896).
  EXPECT_EQ(boot_min_free_kbytes(dev_zones(), 10, false), 11467U);
  EXPECT_EQ(boot_min_free_kbytes(dev_zones(), 10, true), 67584U);
  // A small machine keeps the larger of the two: 64 MiB, default 1024,
  // THP 3276 (the high mark of 1024 KiB's watermarks: min 256, gap
  // max(64, 16) = 64, high 384; (16384 - 384) / 20 = 800 pages = 3200 KiB).
  const std::vector<ZoneSpec> small = {{"normal", 16384, false}};
  EXPECT_EQ(boot_min_free_kbytes(small, 10, false), 1024U);
  EXPECT_EQ(boot_min_free_kbytes(small, 10, true), 3200U);
}

TEST(Zone, DevelopmentMachineWatermarks) {
  // pages_min = 67584 / 4 = 16896; lowmem = 3840 + 772798 + 1277952 = 2054590.
  const std::vector<Watermarks> w = zone_watermarks(dev_zones(), 67584, 10);
  ASSERT_EQ(w.size(), 3U);
  // DMA: min = 16896 x 3840 / 2054590 = 31.58 -> 31; gap = max(31 / 4 = 7,
  // 3840 x 10 / 10000 = 3) = 7.
  EXPECT_EQ(w[0].min, 31U);
  EXPECT_EQ(w[0].low, 38U);
  EXPECT_EQ(w[0].high, 45U);
  EXPECT_EQ(w[0].promo, 52U);
  // DMA32: min = 16896 x 772798 / 2054590 = 6355.13 -> 6355; gap =
  // max(1588, 772) = 1588.
  EXPECT_EQ(w[1].min, 6355U);
  EXPECT_EQ(w[1].low, 7943U);
  EXPECT_EQ(w[1].high, 9531U);
  // Normal: min = 16896 x 1277952 / 2054590 = 10509.29 -> 10509; gap =
  // max(2627, 1277) = 2627.
  EXPECT_EQ(w[2].min, 10509U);
  EXPECT_EQ(w[2].low, 13136U);
  EXPECT_EQ(w[2].high, 15763U);
  EXPECT_EQ(w[2].promo, 18390U);
}

TEST(Zone, ScaleFactorWidensTheGap) {
  // Normal alone with 1277952 pages, min_free_kbytes 67584: min = 16896;
  // wsf 100: gap = max(4224, 1277952 x 100 / 10000 = 12779) = 12779.
  const std::vector<Watermarks> w = zone_watermarks({{"normal", 1277952, false}}, 67584, 100);
  EXPECT_EQ(w[0].min, 16896U);
  EXPECT_EQ(w[0].low, 16896U + 12779U);
  EXPECT_EQ(w[0].high, 16896U + 2 * 12779U);
}

TEST(Zone, HighmemGetsASmallMinButAFullGap) {
  // A 32-bit layout: dma 4096, normal 221184, highmem 786432 pages;
  // min_free_kbytes 4096 -> pages_min 1024, lowmem = 225280.
  const std::vector<ZoneSpec> z = {
      {"dma", 4096, false}, {"normal", 221184, false}, {"highmem", 786432, true}};
  const std::vector<Watermarks> w = zone_watermarks(z, 4096, 10);
  // dma: 1024 x 4096 / 225280 = 18.6 -> 18; gap max(4, 4) = 4.
  EXPECT_EQ(w[0].min, 18U);
  EXPECT_EQ(w[0].high, 26U);
  // normal: 1024 x 221184 / 225280 = 1005.4 -> 1005; gap max(251, 221) = 251.
  EXPECT_EQ(w[1].min, 1005U);
  EXPECT_EQ(w[1].low, 1256U);
  EXPECT_EQ(w[1].high, 1507U);
  // highmem: min = clamp(786432 / 1024 = 768, 32, 128) = 128; the gap uses
  // the proportional share 1024 x 786432 / 225280 = 3574: max(893, 786) = 893.
  EXPECT_EQ(w[2].min, 128U);
  EXPECT_EQ(w[2].low, 128U + 893U);
  EXPECT_EQ(w[2].high, 128U + 2 * 893U);
  // A tiny highmem zone: 8192 / 1024 = 8 -> at least 32.
  const std::vector<Watermarks> t =
      zone_watermarks({{"normal", 221184, false}, {"highmem", 8192, true}}, 4096, 10);
  EXPECT_EQ(t[1].min, 32U);
}

TEST(Zone, LowmemReservesAndTotalreserve) {
  const auto r = lowmem_reserves(dev_zones());
  // DMA (ratio 256): 772798 / 256 = 3018 against DMA32 allocations,
  // (772798 + 1277952) / 256 = 8010 against Normal ones.
  EXPECT_EQ(r[0][0], 0U);
  EXPECT_EQ(r[0][1], 3018U);
  EXPECT_EQ(r[0][2], 8010U);
  // DMA32 (ratio 256): 1277952 / 256 = 4992; Normal has nothing above it.
  EXPECT_EQ(r[1][2], 4992U);
  EXPECT_EQ(r[2][2], 0U);
  // totalreserve = min(45 + 8010, 3840) + min(9531 + 4992, 772798)
  //              + min(15763 + 0, 1277952) = 3840 + 14523 + 15763 = 34126.
  const auto w = zone_watermarks(dev_zones(), 67584, 10);
  EXPECT_EQ(totalreserve_pages(dev_zones(), w, r), 34126U);
  EXPECT_EQ(lowmem_reserve_ratio("normal"), 32U);
  EXPECT_EQ(lowmem_reserve_ratio("movable"), 0U);
}

TEST(Zone, WatermarkCheckReductions) {
  // mark 1000; a check passes when free > the reduced mark.
  EXPECT_TRUE(watermark_ok(1001, 1000));
  EXPECT_FALSE(watermark_ok(1000, 1000));
  AllocFlags high;  // __GFP_HIGH: 1000 - 1000 / 2 = 500
  high.min_reserve = true;
  EXPECT_EQ(reduced_mark(1000, high), 500U);
  EXPECT_TRUE(watermark_ok(501, 1000, high));
  EXPECT_FALSE(watermark_ok(500, 1000, high));
  EXPECT_EQ(reduced_mark(1001, high), 501U);  // 1001 - 500: rounds toward keeping more
  AllocFlags atomic = high;                   // GFP_ATOMIC: 500 - 500 / 4 = 375
  atomic.non_block = true;
  EXPECT_EQ(reduced_mark(1000, atomic), 375U);
  EXPECT_TRUE(watermark_ok(376, 1000, atomic));
  EXPECT_FALSE(watermark_ok(375, 1000, atomic));
  AllocFlags nowait;  // non-blocking without __GFP_HIGH: no reduction
  nowait.non_block = true;
  EXPECT_EQ(reduced_mark(1000, nowait), 1000U);
  AllocFlags victim;  // the OOM victim: 1000 - 500 = 500
  victim.oom = true;
  EXPECT_EQ(reduced_mark(1000, victim), 500U);
  victim.min_reserve = true;  // 1000 -> 500 -> 500 - 250 = 250
  EXPECT_EQ(reduced_mark(1000, victim), 250U);
  victim.non_block = true;  // 1000 -> 500 -> 375 -> 375 - 187 = 188
  EXPECT_EQ(reduced_mark(1000, victim), 188U);
  // The lowmem reserve adds to the mark: free must exceed 1000 + 50.
  EXPECT_TRUE(watermark_ok(1051, 1000, {}, 50));
  EXPECT_FALSE(watermark_ok(1050, 1000, {}, 50));
  // Order 2: 2^2 - 1 = 3 pages unusable, and a free block of order >= 2.
  EXPECT_TRUE(watermark_ok(1004, 1000, {}, 0, 2, true));
  EXPECT_FALSE(watermark_ok(1003, 1000, {}, 0, 2, true));
  EXPECT_FALSE(watermark_ok(1004, 1000, {}, 0, 2, false));
  EXPECT_FALSE(watermark_ok(0, 0));  // nothing free never passes
}

TEST(Zone, ZonesPartitionAndLevels) {
  Zones z(dev_zones(), 67584, 10);
  EXPECT_EQ(z.count(), 3U);
  EXPECT_EQ(z.managed_pages(), 2054590U);
  EXPECT_EQ(z.first_page(1), 3840U);
  EXPECT_EQ(z.first_page(2), 3840U + 772798U);
  EXPECT_EQ(z.zone_of(0), 0U);
  EXPECT_EQ(z.zone_of(3839), 0U);
  EXPECT_EQ(z.zone_of(3840), 1U);
  EXPECT_EQ(z.zone_of(776637), 1U);  // 3840 + 772798 - 1
  EXPECT_EQ(z.zone_of(776638), 2U);
  EXPECT_EQ(z.zone_of(2054589), 2U);
  EXPECT_THROW((void)z.zone_of(2054590), std::out_of_range);
  // Normal: 10509 / 13136 / 15763.
  EXPECT_EQ(z.level(2, 10509), WatermarkLevel::kBelowMin);
  EXPECT_EQ(z.level(2, 10510), WatermarkLevel::kBelowLow);
  EXPECT_EQ(z.level(2, 13136), WatermarkLevel::kBelowLow);
  EXPECT_EQ(z.level(2, 13137), WatermarkLevel::kBelowHigh);
  EXPECT_EQ(z.level(2, 15763), WatermarkLevel::kBelowHigh);
  EXPECT_EQ(z.level(2, 15764), WatermarkLevel::kAboveHigh);
  EXPECT_TRUE(z.ok(2, 13137, Wmark::kLow));
  EXPECT_FALSE(z.ok(2, 13136, Wmark::kLow));
  // DMA for an allocation that could use Normal: min 31 + reserve 8010.
  EXPECT_TRUE(z.ok(0, 8042, Wmark::kMin, {}, 2));
  EXPECT_FALSE(z.ok(0, 8041, Wmark::kMin, {}, 2));
  EXPECT_EQ(z.sum(Wmark::kMin), 31U + 6355U + 10509U);
  EXPECT_EQ(z.sum(Wmark::kHigh), 45U + 9531U + 15763U);
  EXPECT_EQ(z.totalreserve_pages(), 34126U);
  // Writing vm.min_free_kbytes recomputes: 11467 -> pages_min 2866;
  // Normal: 2866 x 1277952 / 2054590 = 1782.6 -> 1782.
  z.set_min_free_kbytes(11467);
  EXPECT_EQ(z.mark(2, Wmark::kMin), 1782U);
  z.set_watermark_scale_factor(100);  // gap max(445, 12779) = 12779
  EXPECT_EQ(z.mark(2, Wmark::kLow), 1782U + 12779U);
  EXPECT_THROW(Zones({}, 1024, 10), std::invalid_argument);
}

}  // namespace
}  // namespace mmusim
