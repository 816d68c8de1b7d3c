// MissStatusTable: merge, full, retire order (ready, then allocation order).
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

TEST(TlbMshr, MergeByFourKPageAndAsid) {
  MissStatusTable m(4);
  EXPECT_EQ(m.find(addr_of(1), Asid(0)), nullptr);
  ASSERT_TRUE(m.allocate(addr_of(1, PageSize::k4K, 0x10), Asid(0), Cycle(100), make_tr(1), 7));
  const MshrEntry* e = m.find(addr_of(1, PageSize::k4K, 0xFF8), Asid(0));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->vpn, Vpn(1));
  EXPECT_EQ(e->ready, Cycle(100));
  EXPECT_EQ(e->cookie, 7U);
  EXPECT_EQ(e->result.vpn, Vpn(1));
  EXPECT_EQ(m.find(addr_of(1), Asid(1)), nullptr);  // other asid
  EXPECT_EQ(m.find(addr_of(2), Asid(0)), nullptr);  // other page
  EXPECT_EQ(m.stats().merges, 1U);
  EXPECT_EQ(m.stats().allocations, 1U);
  EXPECT_EQ(m.size(), 1U);
}

TEST(TlbMshr, FullRefusesAndCountsStall) {
  MissStatusTable m(2);
  EXPECT_FALSE(m.earliest_ready().has_value());
  EXPECT_TRUE(m.allocate(addr_of(1), Asid(0), Cycle(50), make_tr(1)));
  EXPECT_TRUE(m.allocate(addr_of(2), Asid(0), Cycle(30), make_tr(2)));
  EXPECT_TRUE(m.full());
  EXPECT_FALSE(m.allocate(addr_of(3), Asid(0), Cycle(10), make_tr(3)));
  EXPECT_FALSE(m.allocate(addr_of(3), Asid(0), Cycle(10), make_tr(3)));
  EXPECT_EQ(m.stats().full_stalls, 2U);
  EXPECT_EQ(m.stats().allocations, 2U);
  ASSERT_TRUE(m.earliest_ready().has_value());
  EXPECT_EQ(*m.earliest_ready(), Cycle(30));
  // The caller stalls until the earliest ready, retires, and retries.
  std::vector<uint64_t> got;
  EXPECT_EQ(m.retire_until(Cycle(30), [&](const MshrEntry& e) { got.push_back(e.vpn.value()); }),
            1U);
  EXPECT_EQ(got, std::vector<uint64_t>{2});
  EXPECT_TRUE(m.allocate(addr_of(3), Asid(0), Cycle(60), make_tr(3)));
  EXPECT_EQ(*m.earliest_ready(), Cycle(50));
}

TEST(TlbMshr, RetireOrderByReadyThenAllocation) {
  MissStatusTable m(8);
  // vpn: ready
  const std::vector<std::pair<uint64_t, uint64_t>> allocs = {{10, 40}, {11, 20}, {12, 40},
                                                             {13, 5},  {14, 20}, {15, 100}};
  for (const auto& [vpn, ready] : allocs) {
    ASSERT_TRUE(m.allocate(addr_of(vpn), Asid(0), Cycle(ready), make_tr(vpn)));
  }
  std::vector<uint64_t> order;
  auto take = [&](const MshrEntry& e) { order.push_back(e.vpn.value()); };
  EXPECT_EQ(m.retire_until(Cycle(4), take), 0U);
  EXPECT_EQ(m.retire_until(Cycle(40), take), 5U);
  EXPECT_EQ(order, (std::vector<uint64_t>{13, 11, 14, 10, 12}));
  EXPECT_EQ(m.size(), 1U);
  EXPECT_EQ(*m.earliest_ready(), Cycle(100));
  // Freed slots are reused; a tie with an older survivor retires after it.
  ASSERT_TRUE(m.allocate(addr_of(16), Asid(0), Cycle(100), make_tr(16)));
  order.clear();
  EXPECT_EQ(m.retire_until(Cycle(1000), take), 2U);
  EXPECT_EQ(order, (std::vector<uint64_t>{15, 16}));
  EXPECT_EQ(m.size(), 0U);
  EXPECT_FALSE(m.earliest_ready().has_value());
}

TEST(TlbMshr, CallbackMayAllocateAndFillTlbs) {
  TlbHierarchy h{TlbConfig{}};
  MissStatusTable& m = h.mshr();
  EXPECT_EQ(m.capacity(), 4U);
  ASSERT_TRUE(m.allocate(addr_of(1), Asid(0), Cycle(10), make_tr(1)));
  int calls = 0;
  m.retire_until(Cycle(10), [&](const MshrEntry& e) {
    ++calls;
    h.fill(e.result, AccessKind::kRead);
    EXPECT_TRUE(m.allocate(addr_of(2), Asid(0), Cycle(20), make_tr(2)));  // not yet ready
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(m.size(), 1U);
  EXPECT_EQ(h.lookup(addr_of(1), AccessKind::kRead, Asid(0)).level, TlbLevel::kL1);
  m.clear();
  EXPECT_EQ(m.size(), 0U);
  CollectVisitor cv;
  h.visit(cv);
  EXPECT_EQ(cv.get("tlb.mshr.allocations"), 2U);
  EXPECT_EQ(cv.get("tlb.mshr.merges"), 0U);
  EXPECT_EQ(cv.get("tlb.mshr.full_stalls"), 0U);
}

TEST(TlbMshr, ZeroCapacityIsAnInputError) { EXPECT_THROW(MissStatusTable(0), InputError); }

}  // namespace
}  // namespace mmusim
