// MissStatusTable: entries keyed by the page the walk will map (any access
// kind merges; a 2M/1G entry covers every 4 KiB part), full, free and reuse.
#include <gtest/gtest.h>

#include <vector>

#include "models/common/error.h"
#include "models/tlb/miss_status_table.h"
#include "models/tlb/tlb_hierarchy.h"
#include "tests/tlb/tlb_test_util.h"

namespace mmusim {
namespace {

using tlbtest::addr_of;
using tlbtest::CollectVisitor;
using tlbtest::make_tr;

TEST(TlbMshr, KeyedByFourKPageAndAsid) {
  MissStatusTable m(4);
  EXPECT_EQ(m.find(addr_of(1), Asid(0)), -1);
  const int i =
      m.allocate(addr_of(1, PageSize::k4K, 0x10), Asid(0), make_tr(1), AccessKind::kRead, 7);
  ASSERT_EQ(i, 0);
  EXPECT_EQ(m.find(addr_of(1, PageSize::k4K, 0xFF8), Asid(0)), i);
  const MshrEntry& e = m.at(i);
  EXPECT_EQ(e.vpn, Vpn(1));
  EXPECT_EQ(e.owner, 7U);
  EXPECT_EQ(e.sides, MissStatusTable::kSideD);
  EXPECT_EQ(e.result.vpn, Vpn(1));
  EXPECT_EQ(m.find(addr_of(1), Asid(1)), -1);  // other asid
  EXPECT_EQ(m.find(addr_of(2), Asid(0)), -1);  // other page
  EXPECT_EQ(m.stats().merges, 0U);             // find() alone is not a merge
  m.count_merge();
  EXPECT_EQ(m.stats().merges, 1U);
  EXPECT_EQ(m.stats().allocations, 1U);
  EXPECT_EQ(m.size(), 1U);
}

TEST(TlbMshr, LargePageEntryCoversEveryFourKPart) {
  MissStatusTable m(2);
  const Translation t2m = make_tr(3, PageSize::k2M);  // the 2 MiB page number 3
  const int i = m.allocate(addr_of(3, PageSize::k2M, 0x5000), Asid(0), t2m, AccessKind::kFetch, 1);
  EXPECT_EQ(m.at(i).shift, 21U);
  EXPECT_EQ(m.at(i).sides, MissStatusTable::kSideI);
  EXPECT_EQ(m.find(addr_of(3, PageSize::k2M, 0x0), Asid(0)), i);
  EXPECT_EQ(m.find(addr_of(3, PageSize::k2M, 0x1FFFFF), Asid(0)), i);
  EXPECT_EQ(m.find(addr_of(4, PageSize::k2M, 0x0), Asid(0)), -1);
  const Translation t1g = make_tr(1, PageSize::k1G);
  const int j =
      m.allocate(addr_of(1, PageSize::k1G, 0x12345000), Asid(0), t1g, AccessKind::kRead, 2);
  EXPECT_EQ(m.find(addr_of(1, PageSize::k1G, 0x3FFFF000), Asid(0)), j);
}

TEST(TlbMshr, FullFreeAndReuse) {
  MissStatusTable m(2);
  EXPECT_EQ(m.first_free(), 0);
  EXPECT_EQ(m.allocate(addr_of(1), Asid(0), make_tr(1), AccessKind::kRead, 1), 0);
  EXPECT_EQ(m.allocate(addr_of(2), Asid(0), make_tr(2), AccessKind::kRead, 2), 1);
  EXPECT_TRUE(m.full());
  EXPECT_EQ(m.first_free(), -1);
  EXPECT_EQ(m.allocate(addr_of(3), Asid(0), make_tr(3), AccessKind::kRead, 3), -1);
  m.count_stall();
  m.free(0);
  EXPECT_FALSE(m.full());
  EXPECT_EQ(m.find(addr_of(1), Asid(0)), -1);
  EXPECT_EQ(m.first_free(), 0);
  EXPECT_EQ(m.allocate(addr_of(3), Asid(0), make_tr(3), AccessKind::kWrite, 3), 0);
  EXPECT_EQ(m.find(addr_of(3), Asid(0)), 0);
  m.free(0);
  m.free(0);  // freeing a free entry changes nothing
  EXPECT_EQ(m.size(), 1U);
  m.clear();
  EXPECT_EQ(m.size(), 0U);
  CollectVisitor cv;
  TlbHierarchy h{TlbConfig{}};
  EXPECT_EQ(h.mshr().capacity(), 4U);
  m.visit(cv, "tlb.mshr");
  EXPECT_EQ(cv.get("tlb.mshr.allocations"), 3U);
  EXPECT_EQ(cv.get("tlb.mshr.merges"), 0U);
  EXPECT_EQ(cv.get("tlb.mshr.stalls"), 1U);
}

TEST(TlbMshr, FillSidesFillsL2OnceAndEachNamedL1) {
  TlbHierarchy h{TlbConfig{}};
  h.fill_sides(make_tr(5), MissStatusTable::kSideI | MissStatusTable::kSideD);
  EXPECT_EQ(h.lookup(addr_of(5), AccessKind::kRead, Asid(0)).level, TlbLevel::kL1);
  EXPECT_EQ(h.lookup(addr_of(5), AccessKind::kFetch, Asid(0)).level, TlbLevel::kL1);
  h.fill_sides(make_tr(6), MissStatusTable::kSideD);
  EXPECT_EQ(h.lookup(addr_of(6), AccessKind::kFetch, Asid(0)).level, TlbLevel::kL2);
}

TEST(TlbMshr, ZeroCapacityIsAnInputError) { EXPECT_THROW(MissStatusTable(0), InputError); }

}  // namespace
}  // namespace mmusim
