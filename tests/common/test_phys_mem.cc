#include <gtest/gtest.h>

#include "models/common/phys_mem.h"

namespace mmusim {
namespace {

TEST(PhysMem, UnwrittenFramesReadZeroAndCostNothing) {
  PhysMem m;
  EXPECT_EQ(m.read64(PhysAddr(0x123456000)), 0U);
  EXPECT_EQ(m.read32(PhysAddr(0x123456004)), 0U);
  EXPECT_EQ(m.frames_materialized(), 0U);
  m.write32(PhysAddr(0x5004), 0xAABBCCDD);
  m.write32(PhysAddr(0x5000), 0x11223344);
  EXPECT_EQ(m.read64(PhysAddr(0x5000)), 0xAABBCCDD11223344ULL);
  EXPECT_EQ(m.frames_materialized(), 1U);
}

TEST(PhysMem, ReleaseDropsContentsAndHostMemory) {
  PhysMem m;
  m.write64(PhysAddr(0x7000), 0xDEADBEEF);
  m.write64(PhysAddr(0x7FF8), 42);
  m.write64(PhysAddr(0x8000), 7);
  ASSERT_EQ(m.frames_materialized(), 2U);
  m.release(Pfn(7));
  EXPECT_EQ(m.frames_materialized(), 1U);
  EXPECT_EQ(m.read64(PhysAddr(0x7000)), 0U);
  EXPECT_EQ(m.read64(PhysAddr(0x7FF8)), 0U);
  EXPECT_EQ(m.read64(PhysAddr(0x8000)), 7U);  // the neighbour is untouched
  m.release(Pfn(7));                          // releasing an absent frame: no-op
  m.release(Pfn(99));
  EXPECT_EQ(m.frames_materialized(), 1U);
  // Written again, the frame starts from zero: no stale entry survives.
  m.write64(PhysAddr(0x7008), 1);
  EXPECT_EQ(m.read64(PhysAddr(0x7000)), 0U);
  EXPECT_EQ(m.read64(PhysAddr(0x7008)), 1U);
  EXPECT_EQ(m.read64(PhysAddr(0x7FF8)), 0U);
}

TEST(PhysMem, ZeroClearsEveryByte) {
  PhysMem m;
  for (uint64_t off = 0; off < 4096; off += 8) m.write64(PhysAddr(0x3000 + off), ~0ULL);
  m.zero(Pfn(3));
  for (uint64_t off = 0; off < 4096; off += 8) ASSERT_EQ(m.read64(PhysAddr(0x3000 + off)), 0U);
  EXPECT_EQ(m.frames_materialized(), 0U);
  m.write_entry(PhysAddr(0x3010), 4, 0x1234);
  EXPECT_EQ(m.read_entry(PhysAddr(0x3010), 4), 0x1234U);
  EXPECT_EQ(m.read_entry(PhysAddr(0x3000), 8), 0U);
}

}  // namespace
}  // namespace mmusim
