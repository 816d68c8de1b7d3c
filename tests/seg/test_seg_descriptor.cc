// Descriptor encode/decode, G scaling, type helpers, table builder.
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/arch/descriptor.h"

namespace mmusim {
namespace {

TEST(SegDescriptor, FlatConstants) {
  EXPECT_EQ(flat_code(0).encode(), 0x00CF9A000000FFFFULL);
  EXPECT_EQ(flat_data(0).encode(), 0x00CF92000000FFFFULL);
  EXPECT_EQ(flat_code(3).encode(), 0x00CFFA000000FFFFULL);
  EXPECT_EQ(flat_data(3).encode(), 0x00CFF2000000FFFFULL);
  EXPECT_EQ(long_code(0).encode(), 0x00AF9A000000FFFFULL);
  EXPECT_EQ(long_code(3).encode(), 0x00AFFA000000FFFFULL);
}

TEST(SegDescriptor, HandComputedFields) {
  SegmentDescriptor d;
  d.base = 0x12345678;
  d.limit = 0xABCDE;
  d.type = 0x3;  // read/write data, accessed
  d.s = true;
  d.dpl = 2;
  d.present = true;
  d.avl = true;
  d.db = true;
  // limit 15:0 = BCDE, base 23:0 = 345678, byte 5 = P|DPL2|S|3 = D3,
  // byte 6 = G0 D1 L0 AVL1 | limit 19:16 A = 5A, byte 7 = base 31:24 = 12.
  EXPECT_EQ(d.encode(), 0x125AD3345678BCDEULL);
  const SegmentDescriptor back = SegmentDescriptor::decode(0x125AD3345678BCDEULL);
  EXPECT_EQ(back.base, 0x12345678U);
  EXPECT_EQ(back.limit, 0xABCDEU);
  EXPECT_EQ(back.type, 0x3);
  EXPECT_TRUE(back.s);
  EXPECT_EQ(back.dpl, 2);
  EXPECT_TRUE(back.present);
  EXPECT_TRUE(back.avl);
  EXPECT_FALSE(back.l);
  EXPECT_TRUE(back.db);
  EXPECT_FALSE(back.g);
}

TEST(SegDescriptor, DecodeFlatCode) {
  const SegmentDescriptor d = SegmentDescriptor::decode(0x00CF9A000000FFFFULL);
  EXPECT_EQ(d.base, 0U);
  EXPECT_EQ(d.limit, 0xFFFFFU);
  EXPECT_EQ(d.type, kCodeExecRead);
  EXPECT_TRUE(d.s && d.present && d.db && d.g);
  EXPECT_FALSE(d.l || d.avl);
  EXPECT_EQ(d.dpl, 0);
  EXPECT_EQ(d.effective_limit(), 0xFFFFFFFFU);
}

TEST(SegDescriptor, RoundTripManyCombinations) {
  const uint32_t bases[] = {0, 1, 0x00FF0000, 0x12345678, 0xFF000000, 0xFFFFFFFF};
  const uint32_t limits[] = {0, 1, 0xFFFF, 0x10000, 0xF0F0F, 0xFFFFF};
  int n = 0;
  for (uint32_t base : bases) {
    for (uint32_t limit : limits) {
      for (unsigned type = 0; type < 16; ++type) {
        for (unsigned bits = 0; bits < 256; ++bits) {
          SegmentDescriptor d;
          d.base = base;
          d.limit = limit;
          d.type = static_cast<uint8_t>(type);
          d.s = bits & 1;
          d.dpl = static_cast<uint8_t>((bits >> 1) & 3);
          d.present = bits & 8;
          d.avl = bits & 16;
          d.l = bits & 32;
          d.db = bits & 64;
          d.g = bits & 128;
          const uint64_t raw = d.encode();
          const SegmentDescriptor e = SegmentDescriptor::decode(raw);
          ASSERT_EQ(e.base, d.base);
          ASSERT_EQ(e.limit, d.limit);
          ASSERT_EQ(e.type, d.type);
          ASSERT_EQ(e.s, d.s);
          ASSERT_EQ(e.dpl, d.dpl);
          ASSERT_EQ(e.present, d.present);
          ASSERT_EQ(e.avl, d.avl);
          ASSERT_EQ(e.l, d.l);
          ASSERT_EQ(e.db, d.db);
          ASSERT_EQ(e.g, d.g);
          ASSERT_EQ(e.encode(), raw);
          ++n;
        }
      }
    }
  }
  EXPECT_EQ(n, 6 * 6 * 16 * 256);
}

TEST(SegDescriptor, EveryRawValueRoundTrips) {
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 100000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ASSERT_EQ(SegmentDescriptor::decode(x).encode(), x);
  }
}

TEST(SegDescriptor, AccessedIsBit40) {
  SegmentDescriptor d = flat_data(0);
  EXPECT_FALSE(d.accessed());
  EXPECT_EQ(d.encode() & kDescAccessedBit, 0U);
  d.type |= kDescTypeAccessed;
  EXPECT_TRUE(d.accessed());
  EXPECT_EQ(d.encode(), 0x00CF92000000FFFFULL | (uint64_t{1} << 40));
  EXPECT_EQ(d.encode(), 0x00CF93000000FFFFULL);
}

TEST(SegDescriptor, GranularityScaling) {
  SegmentDescriptor d;
  d.limit = 0x12;
  EXPECT_EQ(d.effective_limit(), 0x12U);
  d.g = true;
  EXPECT_EQ(d.effective_limit(), 0x12FFFU);
  d.limit = 0;
  EXPECT_EQ(d.effective_limit(), 0xFFFU);
  d.limit = 0xFFFFF;
  EXPECT_EQ(d.effective_limit(), 0xFFFFFFFFU);
  d.g = false;
  EXPECT_EQ(d.effective_limit(), 0xFFFFFU);
}

TEST(SegDescriptor, TypeHelpers) {
  struct Row {
    uint8_t type;
    bool code, readable, writable, down, conforming;
  };
  const Row rows[] = {
      {kDataReadOnly, false, true, false, false, false},
      {kDataReadWrite, false, true, true, false, false},
      {kDataReadOnlyDown, false, true, false, true, false},
      {kDataReadWriteDown, false, true, true, true, false},
      {kCodeExecOnly, true, false, false, false, false},
      {kCodeExecRead, true, true, false, false, false},
      {kCodeExecOnlyConforming, true, false, false, false, true},
      {kCodeExecReadConforming, true, true, false, false, true},
  };
  for (const Row& row : rows) {
    for (uint8_t a = 0; a < 2; ++a) {
      SegmentDescriptor d;
      d.type = static_cast<uint8_t>(row.type | a);
      SCOPED_TRACE(static_cast<int>(d.type));
      EXPECT_EQ(d.is_code(), row.code);
      EXPECT_EQ(d.is_data(), !row.code);
      EXPECT_EQ(d.readable(), row.readable);
      EXPECT_EQ(d.writable(), row.writable);
      EXPECT_EQ(d.expand_down(), row.down);
      EXPECT_EQ(d.conforming(), row.conforming);
      EXPECT_EQ(d.accessed(), a == 1);
    }
  }
  SegmentDescriptor sys;  // S = 0: neither code nor data
  sys.s = false;
  sys.type = 0xA;
  EXPECT_FALSE(sys.is_code() || sys.is_data() || sys.readable() || sys.writable());
}

TEST(SegDescriptor, MakeSegmentPicksGranularity) {
  const SegmentDescriptor small = make_segment(1000, 1000, kDataReadWrite, 0);
  EXPECT_EQ(small.limit, 999U);
  EXPECT_FALSE(small.g);
  EXPECT_EQ(small.effective_limit(), 999U);
  const SegmentDescriptor mib = make_segment(0, 1 << 20, kDataReadWrite, 0);
  EXPECT_EQ(mib.limit, 0xFFFFFU);
  EXPECT_FALSE(mib.g);
  const SegmentDescriptor big = make_segment(0, 2 << 20, kCodeExecRead, 3);
  EXPECT_TRUE(big.g);
  EXPECT_EQ(big.limit, 511U);
  EXPECT_EQ(big.effective_limit(), (2U << 20) - 1);
  EXPECT_EQ(make_segment(0, uint64_t{1} << 32, kDataReadWrite, 0).encode(), flat_data(0).encode());
  EXPECT_THROW(make_segment(0, 0, kDataReadWrite, 0), std::invalid_argument);
  EXPECT_THROW(make_segment(0, (1 << 20) + 1, kDataReadWrite, 0), std::invalid_argument);
  EXPECT_THROW(make_segment(0, (uint64_t{1} << 32) + 4096, kDataReadWrite, 0),
               std::invalid_argument);
}

TEST(SegDescriptor, FlatGdtBytes) {
  const DescriptorTableBuilder gdt = flat_gdt();
  EXPECT_EQ(gdt.entries(), 5U);
  EXPECT_EQ(gdt.limit(), 39U);
  const std::vector<uint8_t> bytes = gdt.bytes();
  ASSERT_EQ(bytes.size(), 40U);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bytes[i], 0) << i;
  const uint8_t code[8] = {0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
  const uint8_t udata[8] = {0xFF, 0xFF, 0x00, 0x00, 0x00, 0xF2, 0xCF, 0x00};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(bytes[8 + i], code[i]) << i;
    EXPECT_EQ(bytes[32 + i], udata[i]) << i;
  }
  EXPECT_EQ(gdt.descriptors()[3], 0x00CFFA000000FFFFULL);
  EXPECT_EQ(flat_gdt(true).descriptors()[1], 0x00AF9A000000FFFFULL);
}

TEST(SegDescriptor, BuilderSelectors) {
  DescriptorTableBuilder gdt;
  EXPECT_EQ(gdt.add(flat_code(0)), Selector(0x08));
  EXPECT_EQ(gdt.add(flat_data(3), 3), Selector(0x13));
  DescriptorTableBuilder ldt(DescriptorTableBuilder::Table::kLdt);
  EXPECT_EQ(ldt.entries(), 0U);  // an LDT has no null entry
  EXPECT_EQ(ldt.add(flat_data(3), 3), Selector(0x07));
  EXPECT_EQ(ldt.add(flat_data(0)), Selector(0x0C));
  EXPECT_EQ(ldt.limit(), 15U);
  EXPECT_EQ(FlatGdt::kUserCode.index(), 3);
  EXPECT_EQ(FlatGdt::kUserData.rpl(), 3);
}

TEST(SegDescriptor, RelocatedProgramGdt) {
  const DescriptorTableBuilder gdt = relocated_program_gdt(1000, 1000);
  ASSERT_EQ(gdt.entries(), 3U);
  const SegmentDescriptor code = SegmentDescriptor::decode(gdt.descriptors()[1]);
  const SegmentDescriptor data = SegmentDescriptor::decode(gdt.descriptors()[2]);
  EXPECT_EQ(code.base, 1000U);
  EXPECT_EQ(code.effective_limit(), 999U);
  EXPECT_TRUE(code.is_code() && code.readable());
  EXPECT_EQ(data.base, 1000U);
  EXPECT_TRUE(data.writable());
}

}  // namespace
}  // namespace mmusim
