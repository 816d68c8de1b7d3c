// TlbArray: set indexing, multi-size arrays, asid/global matching,
// invalidations and exact counters.
#include <gtest/gtest.h>

#include "models/tlb/tlb_array.h"
#include "tests/tlb/tlb_test_util.h"

namespace mmusim {
namespace {

using tlbtest::addr_of;
using tlbtest::array_cfg;
using tlbtest::CollectVisitor;
using tlbtest::make_tr;

TEST(TlbArray, Geometry) {
  TlbArray a(array_cfg(64, 4));
  EXPECT_EQ(a.sets(), 16U);
  EXPECT_EQ(a.ways(), 4U);
  EXPECT_EQ(a.entries(), 64U);
  EXPECT_TRUE(a.enabled());
  TlbArray off(array_cfg(0, 4));
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.insert(make_tr(1)));
  EXPECT_EQ(off.lookup(addr_of(1), Asid(0)), nullptr);
}

TEST(TlbArray, SetIndexIsVpnModSets) {
  TlbArray a(array_cfg(16, 4));  // 4 sets
  // vpn 5 -> set 1 (ways 4..7), vpn 6 -> set 2, vpn 0x13 -> set 3.
  a.insert(make_tr(5));
  a.insert(make_tr(6));
  a.insert(make_tr(0x13));
  auto c = a.contents();
  ASSERT_EQ(c.size(), 3U);
  EXPECT_EQ(c[0].index, 4U);
  EXPECT_EQ(c[1].index, 8U);
  EXPECT_EQ(c[2].index, 12U);
  // Five pages of set 0 (vpn 0, 4, 8, 12, 16): the fifth evicts the LRU (vpn 0);
  // the other sets are untouched.
  for (uint64_t v = 0; v <= 16; v += 4) a.insert(make_tr(v));
  EXPECT_EQ(a.lookup(addr_of(0), Asid(0)), nullptr);
  for (uint64_t v : {4, 8, 12, 16, 5, 6, 0x13}) {
    EXPECT_NE(a.lookup(addr_of(v), Asid(0)), nullptr) << v;
  }
  EXPECT_EQ(a.stats().evictions, 1U);
  EXPECT_EQ(a.stats().hits, 7U);
  EXPECT_EQ(a.stats().misses, 1U);
  EXPECT_EQ(a.valid_entries(), 7U);
}

TEST(TlbArray, LookupReturnsPayloadAndUsesOffsetBits) {
  TlbArray a(array_cfg(16, 4));
  a.insert(make_tr(0x1234, PageSize::k4K, 0, false, 0x777));
  const Translation* t = a.lookup(addr_of(0x1234, PageSize::k4K, 0xABC), Asid(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->pfn, Pfn(0x777));
  EXPECT_EQ(t->phys(addr_of(0x1234, PageSize::k4K, 0xABC)), PhysAddr(0x777ABC));
  EXPECT_EQ(a.lookup(addr_of(0x1235), Asid(0)), nullptr);
}

TEST(TlbArray, MultiSizeSharedArrayProbesEachSize) {
  TlbArray a(array_cfg(16, 4, ReplPolicy::kLru, kHolds4K | kHolds2M));
  EXPECT_TRUE(a.holds(PageSize::k4K));
  EXPECT_TRUE(a.holds(PageSize::k2M));
  EXPECT_TRUE(a.holds(PageSize::k4M));
  EXPECT_FALSE(a.holds(PageSize::k1G));
  // 2M page 1 covers 0x200000..0x3FFFFF; its set is 1 & 3 = 1.
  ASSERT_TRUE(a.insert(make_tr(1, PageSize::k2M)));
  // 4K page 0x201 (inside the 2M page) lives in set 0x201 & 3 = 1 too; 0x202 -> set 2.
  ASSERT_TRUE(a.insert(make_tr(0x202, PageSize::k4K, 0, false, 0x999)));
  EXPECT_FALSE(a.insert(make_tr(0, PageSize::k1G)));
  auto c = a.contents();
  ASSERT_EQ(c.size(), 2U);
  EXPECT_EQ(c[0].index, 4U);  // 2M entry, set 1 way 0
  EXPECT_EQ(c[0].t.size, PageSize::k2M);
  EXPECT_EQ(c[1].index, 8U);  // 4K entry, set 2 way 0
  // The 4K probe comes first: 0x202000 hits the 4K entry, 0x201000 the 2M one.
  const Translation* t4k = a.lookup(addr_of(0x202), Asid(0));
  ASSERT_NE(t4k, nullptr);
  EXPECT_EQ(t4k->size, PageSize::k4K);
  EXPECT_EQ(t4k->pfn, Pfn(0x999));
  const Translation* t2m = a.lookup(addr_of(0x201), Asid(0));
  ASSERT_NE(t2m, nullptr);
  EXPECT_EQ(t2m->size, PageSize::k2M);
  EXPECT_EQ(t2m->phys(LinearAddr(0x3FFFFF)), PhysAddr((t2m->pfn.value() << 12) | 0x1FFFFF));
  EXPECT_EQ(a.lookup(LinearAddr(0x400000), Asid(0)), nullptr);
  // A 4K vpn numerically equal to the 2M vpn does not alias it (size is in the tag).
  EXPECT_EQ(a.lookup(addr_of(1), Asid(0)), nullptr);
  // 4M pages (32-bit PSE) share the 2M entries' array with their own vpn.
  ASSERT_TRUE(a.insert(make_tr(3, PageSize::k4M)));
  const Translation* t4m = a.lookup(LinearAddr(0xC00000 + 0x3FF000), Asid(0));
  ASSERT_NE(t4m, nullptr);
  EXPECT_EQ(t4m->size, PageSize::k4M);
  EXPECT_EQ(a.stats().hits, 3U);
  EXPECT_EQ(a.stats().misses, 2U);
}

TEST(TlbArray, AsidAndGlobalMatching) {
  TlbArray a(array_cfg(16, 4));
  a.insert(make_tr(7, PageSize::k4K, /*asid=*/1));
  a.insert(make_tr(9, PageSize::k4K, /*asid=*/1, /*global=*/true));
  EXPECT_NE(a.lookup(addr_of(7), Asid(1)), nullptr);
  EXPECT_EQ(a.lookup(addr_of(7), Asid(2)), nullptr);
  EXPECT_NE(a.lookup(addr_of(9), Asid(1)), nullptr);
  EXPECT_NE(a.lookup(addr_of(9), Asid(2)), nullptr);  // global matches any asid
  EXPECT_NE(a.lookup(addr_of(9), Asid(4095)), nullptr);
  // Same page for another asid coexists in the set.
  a.insert(make_tr(7, PageSize::k4K, 2, false, 0x5555));
  EXPECT_EQ(a.lookup(addr_of(7), Asid(2))->pfn, Pfn(0x5555));
  EXPECT_NE(a.lookup(addr_of(7), Asid(1))->pfn, Pfn(0x5555));
  EXPECT_EQ(a.valid_entries(), 3U);
  auto c = a.contents();  // index order: vpn 9 (set 1), then vpn 7 (set 3)
  EXPECT_TRUE(c[0].global);
  EXPECT_FALSE(c[1].global);
}

TEST(TlbArray, ReinsertRefreshesWithoutEviction) {
  TlbArray a(array_cfg(4, 4));
  a.insert(make_tr(1, PageSize::k4K, 3, false, 0x10));
  a.insert(make_tr(1, PageSize::k4K, 3, false, 0x20));
  EXPECT_EQ(a.valid_entries(), 1U);
  EXPECT_EQ(a.lookup(addr_of(1), Asid(3))->pfn, Pfn(0x20));
  EXPECT_EQ(a.stats().fills, 2U);
  EXPECT_EQ(a.stats().evictions, 0U);
}

TEST(TlbArray, InvalidatePageRemovesAllSizesForAsidAndGlobal) {
  TlbArray a(array_cfg(16, 4, ReplPolicy::kLru, kHolds4K | kHolds2M));
  a.insert(make_tr(0x201, PageSize::k4K, 1));    // asid 1
  a.insert(make_tr(0x201, PageSize::k4K, 2));    // asid 2: survives
  a.insert(make_tr(1, PageSize::k2M, 1));        // covers 0x201000, asid 1
  a.insert(make_tr(1, PageSize::k2M, 5, true));  // global, covers it
  a.insert(make_tr(0x202, PageSize::k4K, 1));    // other page: survives
  EXPECT_EQ(a.invalidate_page(addr_of(0x201, PageSize::k4K, 0x10), Asid(1)), 3U);
  EXPECT_EQ(a.stats().invalidations, 3U);
  EXPECT_EQ(a.valid_entries(), 2U);
  EXPECT_NE(a.lookup(addr_of(0x201), Asid(2)), nullptr);
  EXPECT_EQ(a.lookup(addr_of(0x201), Asid(1)), nullptr);  // neither 4K nor 2M left
  // 0x202 is in the same 2M page, but its own 4K entry was not covering 0x201000.
  EXPECT_EQ(a.lookup(addr_of(0x202), Asid(1))->size, PageSize::k4K);
}

TEST(TlbArray, InvalidateAsidKeepsGlobalAndOthers) {
  TlbArray a(array_cfg(16, 4));
  a.insert(make_tr(1, PageSize::k4K, 1));
  a.insert(make_tr(2, PageSize::k4K, 1));
  a.insert(make_tr(3, PageSize::k4K, 1, true));
  a.insert(make_tr(4, PageSize::k4K, 2));
  EXPECT_EQ(a.invalidate_asid(Asid(1)), 2U);
  EXPECT_EQ(a.lookup(addr_of(1), Asid(1)), nullptr);
  EXPECT_EQ(a.lookup(addr_of(2), Asid(1)), nullptr);
  EXPECT_NE(a.lookup(addr_of(3), Asid(1)), nullptr);
  EXPECT_NE(a.lookup(addr_of(4), Asid(2)), nullptr);
  EXPECT_EQ(a.stats().invalidations, 2U);
}

TEST(TlbArray, InvalidateAllWithAndWithoutGlobal) {
  TlbArray a(array_cfg(16, 4));
  a.insert(make_tr(1, PageSize::k4K, 1));
  a.insert(make_tr(2, PageSize::k4K, 2));
  a.insert(make_tr(3, PageSize::k4K, 1, true));
  EXPECT_EQ(a.invalidate_all(/*keep_global=*/true), 2U);
  EXPECT_EQ(a.valid_entries(), 1U);
  EXPECT_NE(a.lookup(addr_of(3), Asid(9)), nullptr);
  EXPECT_EQ(a.invalidate_all(/*keep_global=*/false), 1U);
  EXPECT_EQ(a.valid_entries(), 0U);
  EXPECT_EQ(a.stats().invalidations, 3U);
  // Refill after a flush goes to the lowest way again.
  a.insert(make_tr(8));
  EXPECT_EQ(a.contents()[0].index, 0U);
}

TEST(TlbArray, VisitEmitsNamedCounters) {
  TlbArray a(array_cfg(4, 4, ReplPolicy::kLru, kHolds4K, "tlb.l1d.4K"));
  for (uint64_t v = 0; v < 5; ++v) a.insert(make_tr(v));
  a.lookup(addr_of(0), Asid(0));
  a.lookup(addr_of(4), Asid(0));
  a.invalidate_page(addr_of(4), Asid(0));
  CollectVisitor cv;
  a.visit(cv);
  ASSERT_EQ(cv.values.size(), 5U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.hits"), 1U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.misses"), 1U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.fills"), 5U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.evictions"), 1U);
  EXPECT_EQ(cv.get("tlb.l1d.4K.invalidations"), 1U);
}

}  // namespace
}  // namespace mmusim
