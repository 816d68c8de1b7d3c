#include <gtest/gtest.h>

#include "models/arch/paging.h"
#include "models/common/error.h"
#include "models/os/first_touch.h"

namespace mmusim {
namespace {

TEST(PagingTable, ModesAndSizes) {
  EXPECT_EQ(parse_paging_mode("4level"), PagingMode::k4Level);
  EXPECT_EQ(parse_paging_mode("five"), std::nullopt);
  EXPECT_TRUE(mode_supports(PagingMode::k4Level, PageSize::k1G));
  EXPECT_FALSE(mode_supports(PagingMode::k4Level, PageSize::k4M));
  EXPECT_TRUE(mode_supports(PagingMode::k32Bit, PageSize::k4M));
  EXPECT_FALSE(mode_supports(PagingMode::k32Bit, PageSize::k2M));
  EXPECT_TRUE(mode_supports(PagingMode::kPae, PageSize::k2M));
  EXPECT_FALSE(mode_supports(PagingMode::kPae, PageSize::k1G));
  EXPECT_EQ(paging_mode_info(PagingMode::k5Level).linear_bits, 57U);
}

TEST(PagingTable, EntryFormatsRoundTrip) {
  const auto& m4 = paging_mode_info(PagingMode::k4Level);
  uint64_t e = make_entry(m4, 2, true, 0x40000000ULL, pte::kRW | pte::kUS | pte::kXD);
  EXPECT_EQ(e, (0x80000000400000C7ULL & ~pte::kD & ~pte::kA) | pte::kP | pte::kRW | pte::kUS);
  EXPECT_EQ(entry_address(m4, 2, e, true), 0x40000000ULL);
  // 32-bit 4 MiB PDE with PSE-36 high bits: phys 0x1_2340_0000 -> bits 31:22 and 20:13.
  const auto& m32 = paging_mode_info(PagingMode::k32Bit);
  uint64_t p = make_entry(m32, 0, true, 0x123400000ULL, pte::kRW);
  EXPECT_EQ(p, 0x23400000ULL | (1ULL << 13) | pte::kPS | pte::kRW | pte::kP);
  EXPECT_EQ(entry_address(m32, 0, p, true), 0x123400000ULL);
}

TEST(PagingTable, ReservedMasks) {
  const auto& m4 = paging_mode_info(PagingMode::k4Level);
  EXPECT_EQ(reserved_mask(m4, 3, true, 46), 0x000FC00000000000ULL);
  EXPECT_EQ(reserved_mask(m4, 2, true, 46), 0x000FC00000000000ULL | 0x1FE000ULL);
  EXPECT_EQ(reserved_mask(m4, 0, false, 52), pte::kPS);
  const auto& pae = paging_mode_info(PagingMode::kPae);
  EXPECT_EQ(reserved_mask(pae, 0, false, 52), 0x80000000000001E6ULL);
}

TEST(PagingTable, CanonicalAddresses) {
  EXPECT_TRUE(is_canonical(0x00007FFFFFFFFFFFULL, 48));
  EXPECT_FALSE(is_canonical(0x0000800000000000ULL, 48));
  EXPECT_TRUE(is_canonical(0xFFFF800000000000ULL, 48));
  EXPECT_TRUE(is_canonical(0x00FFFFFFFFFFFFFFULL >> 1, 57));
}

TEST(HugeRegions, ParseAndValidate) {
  auto r = parse_huge_regions(
      "os.huge_regions", "0x40000000-0x80000000:2M,0x80000000-0xC0000000:1G", PagingMode::k4Level);
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0].size, PageSize::k2M);
  EXPECT_EQ(r[1].start, 0x80000000ULL);
  EXPECT_TRUE(parse_huge_regions("k", "", PagingMode::k4Level).empty());
  try {
    parse_huge_regions("os.huge_regions", "0x1000-0x200000:2M", PagingMode::k4Level);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(
        e.what(),
        "os.huge_regions: region '0x1000-0x200000:2M' must be non-empty and aligned to 2M");
  }
  try {
    parse_huge_regions("os.huge_regions", "0x0-0x40000000:1G", PagingMode::kPae);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "os.huge_regions: paging mode 'pae' cannot map 1G pages");
  }
  EXPECT_THROW(parse_huge_regions("k", "junk", PagingMode::k4Level), InputError);
}

TEST(FirstTouch, MapsOnNotPresentAndSkipsOthers) {
  PhysMem mem;
  FirstTouchConfig c;
  c.phys_bytes = 1ULL << 30;
  c.minor_fault_cost = Cycles(1234);
  c.regions = {{0x40000000, 0x80000000, PageSize::k2M}};
  FirstTouchMapper os(c, mem);
  FaultInfo f;
  f.addr = LinearAddr(0x1000);
  f.fault = FaultKind::kNotPresent;
  f.raised = Cycle(500);
  FaultOutcome o = os.handle(f);
  EXPECT_EQ(o.action, FaultOutcome::Action::kRetry);
  EXPECT_EQ(o.resume, Cycle(500 + 1234));
  EXPECT_EQ(o.cls, FaultClass::kFirstTouch);
  EXPECT_EQ(o.timing.total(), 1234U);
  EXPECT_TRUE(os.page_table().is_mapped(LinearAddr(0x1000)));
  EXPECT_FALSE(os.page_table().is_mapped(LinearAddr(0x2000)));
  f.addr = LinearAddr(0x40123456);
  os.handle(f);
  EXPECT_TRUE(os.page_table().is_mapped(LinearAddr(0x40000000)));
  EXPECT_TRUE(os.page_table().is_mapped(LinearAddr(0x401FFFFF)));
  EXPECT_FALSE(os.page_table().is_mapped(LinearAddr(0x40200000)));
  f.fault = FaultKind::kWriteProtect;
  EXPECT_EQ(os.handle(f).action, FaultOutcome::Action::kSkip);
  EXPECT_EQ(os.stats().faults, 3U);
  EXPECT_EQ(os.stats().mapped_pages[0], 1U);
  EXPECT_EQ(os.stats().mapped_pages[1], 1U);
  EXPECT_EQ(os.stats().skipped, 1U);
}

}  // namespace
}  // namespace mmusim
