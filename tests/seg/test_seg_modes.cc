// Real mode (8086 segment:offset, A20), long mode (FS/GS bases, canonical
// checks), flat mode, and document 000's relocation example.
#include <gtest/gtest.h>

#include "tests/seg/seg_test_util.h"

namespace mmusim {
namespace {

using seg_test::FakeMemory;
using seg_test::load;
using seg_test::loaded;

constexpr auto R = AccessKind::kRead;
constexpr auto W = AccessKind::kWrite;
constexpr auto X = AccessKind::kFetch;

SegConfig real_config(bool a20_mask) {
  SegConfig c;
  c.mode = SegMode::kReal;
  c.a20_mask = a20_mask;
  return c;
}

// ---- real mode -------------------------------------------------------------

TEST(SegReal, Example8086) {
  SegConfig c = real_config(false);
  c.selectors[seg_index(SegReg::kDS)] = Selector(0x1234);
  SegmentationUnit u(c);
  const SegResult r = u.translate(SegReg::kDS, VirtAddr(0x0010), 1, R);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.linear.value(), 0x12350U);  // 0x1234 * 16 + 0x10
  EXPECT_EQ(r.cost, Cycles(1));           // non-zero base
  const SegResult zero = u.translate(SegReg::kES, VirtAddr(0x10), 1, R);
  EXPECT_EQ(zero.linear.value(), 0x10U);
  EXPECT_EQ(zero.cost, Cycles(0));
}

TEST(SegReal, WrapAroundWithA20Masked) {
  SegConfig c = real_config(true);
  c.selectors[seg_index(SegReg::kES)] = Selector(0xFFFF);
  SegmentationUnit u(c);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(0x0010), 1, R).linear.value(), 0x00000U);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(0x000F), 1, R).linear.value(), 0xFFFFFU);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(0xFFFF), 1, R).linear.value(), 0x0FFEFU);
}

TEST(SegReal, NoWrapWithA20Enabled) {
  SegConfig c = real_config(false);
  c.selectors[seg_index(SegReg::kES)] = Selector(0xFFFF);
  SegmentationUnit u(c);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(0x0010), 1, R).linear.value(), 0x100000U);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(0xFFFF), 1, R).linear.value(), 0x10FFEFU);
}

TEST(SegReal, OffsetLimit64K) {
  SegConfig c = real_config(false);
  c.selectors[seg_index(SegReg::kDS)] = Selector(0x1000);
  c.selectors[seg_index(SegReg::kSS)] = Selector(0x2000);
  SegmentationUnit u(c);
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFFFE), 1, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFFFF), 1, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFFFE), 2, W).ok());
  const SegResult cross = u.translate(SegReg::kDS, VirtAddr(0xFFFF), 2, R);
  EXPECT_EQ(cross.fault.kind, SegFaultKind::kGP);
  EXPECT_EQ(cross.fault.reason, SegFaultReason::kLimit);
  EXPECT_EQ(u.translate(SegReg::kDS, VirtAddr(0x10000), 1, R).fault.kind, SegFaultKind::kGP);
  const SegResult stack = u.translate(SegReg::kSS, VirtAddr(0xFFFD), 4, W);
  EXPECT_EQ(stack.fault.kind, SegFaultKind::kSS);
  EXPECT_EQ(stack.fault.reason, SegFaultReason::kLimit);
}

TEST(SegReal, NoTypeChecks) {
  SegConfig c = real_config(false);
  c.selectors[seg_index(SegReg::kCS)] = Selector(0xF000);
  SegmentationUnit u(c);
  EXPECT_EQ(u.translate(SegReg::kCS, VirtAddr(0xFFF0), 1, X).linear.value(), 0xFFFF0U);
  EXPECT_TRUE(u.translate(SegReg::kCS, VirtAddr(0x10), 2, W).ok());  // self-modifying code
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0x10), 1, X).ok());
}

TEST(SegReal, SelectorLoadNeedsNoMemory) {
  SegmentationUnit u(real_config(false));
  const SelectorLoad step = u.begin_load(SegReg::kDS, Selector(0x2000));
  ASSERT_TRUE(std::holds_alternative<LoadDone>(step));
  EXPECT_FALSE(std::get<LoadDone>(step).desc_read);
  EXPECT_EQ(u.reg(SegReg::kDS).base, 0x20000U);
  EXPECT_EQ(u.reg(SegReg::kDS).limit, 0xFFFFU);
  EXPECT_EQ(u.translate(SegReg::kDS, VirtAddr(0x10), 1, R).linear.value(), 0x20010U);
  EXPECT_EQ(u.stats().loads[seg_index(SegReg::kDS)], 1U);
  EXPECT_EQ(u.stats().desc_cache_misses, 0U);
}

// ---- long mode -------------------------------------------------------------

constexpr uint64_t kGdtBase = 0x1000;

struct SegLong : ::testing::Test {
  FakeMemory mem;
  SegConfig cfg;
  void SetUp() override {
    DescriptorTableBuilder gdt = flat_gdt(true);
    SegmentDescriptor based = flat_data(0);  // index 5: data with base 0x12345000
    based.base = 0x12345000;
    based.limit = 0xF;
    based.g = false;
    gdt.add(based);
    SegmentDescriptor bad = long_code(0);  // index 6: L = 1 and D = 1
    bad.db = true;
    gdt.add(bad);
    mem.place(kGdtBase, gdt);
    cfg.mode = SegMode::kLong64;
    cfg.gdt_base = kGdtBase;
    cfg.gdt_limit = gdt.limit();
    cfg.fs_base = 0x00007F0000000000ULL;
    cfg.gs_base = 0xFFFF800000001000ULL;
  }
  SegmentationUnit make() {
    SegmentationUnit u(cfg);
    u.load_initial_registers([this](LinearAddr a) { return mem.read(a); });
    return u;
  }
};

TEST_F(SegLong, FsGsBasesApplied) {
  SegmentationUnit u = make();
  const SegResult fs = u.translate(SegReg::kFS, VirtAddr(0x28), 8, R);
  ASSERT_TRUE(fs.ok());
  EXPECT_EQ(fs.linear.value(), 0x00007F0000000028ULL);
  EXPECT_EQ(fs.cost, Cycles(1));
  EXPECT_EQ(u.translate(SegReg::kGS, VirtAddr(0x8), 8, W).linear.value(), 0xFFFF800000001008ULL);
  ASSERT_TRUE(u.set_segment_base(SegReg::kFS, 0));
  EXPECT_EQ(u.translate(SegReg::kFS, VirtAddr(0x28), 8, R).cost, Cycles(0));
}

TEST_F(SegLong, OtherBasesAndLimitsIgnored) {
  SegmentationUnit u = make();
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(0x28))));  // base 0x12345000, limit 0xF
  const SegResult r = u.translate(SegReg::kDS, VirtAddr(0x100000), 8, W);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.linear.value(), 0x100000U);
  EXPECT_EQ(r.cost, Cycles(0));
  EXPECT_TRUE(u.translate(SegReg::kCS, VirtAddr(0x400000), 4, W).ok());  // no type checks
  // Loading FS from a descriptor takes its 32-bit base.
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kFS, Selector(0x28))));
  EXPECT_EQ(u.translate(SegReg::kFS, VirtAddr(0x10), 1, R).linear.value(), 0x12345010U);
}

TEST_F(SegLong, NonCanonical) {
  SegmentationUnit u = make();
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0x00007FFFFFFFFFF8ULL), 8, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFFFF800000000000ULL), 8, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFFFFFFFFFFFFFFFFULL), 1, R).ok());
  const SegResult gp = u.translate(SegReg::kDS, VirtAddr(0x0000800000000000ULL), 1, R);
  EXPECT_EQ(gp.fault.kind, SegFaultKind::kGP);
  EXPECT_EQ(gp.fault.reason, SegFaultReason::kNonCanonical);
  const SegResult cross = u.translate(SegReg::kES, VirtAddr(0x00007FFFFFFFFFFCULL), 8, R);
  EXPECT_EQ(cross.fault.kind, SegFaultKind::kGP);  // last byte non-canonical
  const SegResult ss = u.translate(SegReg::kSS, VirtAddr(0xFFFF7FFFFFFFFFF8ULL), 8, W);
  EXPECT_EQ(ss.fault.kind, SegFaultKind::kSS);
  EXPECT_EQ(ss.fault.reason, SegFaultReason::kNonCanonical);
  // FS base + offset leaving the canonical range.
  EXPECT_EQ(u.translate(SegReg::kFS, VirtAddr(0x0000010000000000ULL), 1, R).fault.kind,
            SegFaultKind::kGP);
  EXPECT_EQ(u.stats().faults_by_kind[0], 3U);
  EXPECT_EQ(u.stats().faults_by_kind[1], 1U);
}

TEST_F(SegLong, La57CanonicalWidth) {
  cfg.canonical_bits = 57;
  SegmentationUnit u = make();
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0x0000800000000000ULL), 8, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0x00FFFFFFFFFFFFF8ULL), 8, R).ok());
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0xFF00000000000000ULL), 8, R).ok());
  EXPECT_EQ(u.translate(SegReg::kDS, VirtAddr(0x0100000000000000ULL), 1, R).fault.reason,
            SegFaultReason::kNonCanonical);
}

TEST_F(SegLong, NullSelectorsInLongMode) {
  SegmentationUnit u = make();
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(0))));
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(0x10), 1, R).ok());  // no null check
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kSS, Selector(0))));       // CPL 0, RPL 0
  EXPECT_FALSE(loaded(load(u, mem, SegReg::kSS, Selector(3))));      // RPL ≠ CPL
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kFS, Selector(0))));
  EXPECT_EQ(u.translate(SegReg::kFS, VirtAddr(0x10), 1, R).linear.value(), 0x10U);
  u.set_cpl(3);
  EXPECT_FALSE(loaded(load(u, mem, SegReg::kSS, Selector(3))));  // never at CPL 3
}

TEST_F(SegLong, CodeWithLAndDReserved) {
  SegmentationUnit u = make();
  const LoadResult r = load(u, mem, SegReg::kCS, Selector(0x30));
  ASSERT_FALSE(loaded(r));
  EXPECT_EQ(std::get<SegFault>(r).reason, SegFaultReason::kReservedBits);
}

TEST_F(SegLong, SetSegmentBaseRules) {
  SegmentationUnit u = make();
  EXPECT_FALSE(u.set_segment_base(SegReg::kDS, 0x1000));                 // only FS/GS
  EXPECT_FALSE(u.set_segment_base(SegReg::kFS, 0x0000800000000000ULL));  // non-canonical
  EXPECT_TRUE(u.set_segment_base(SegReg::kGS, 0x1000));
  EXPECT_EQ(u.translate(SegReg::kGS, VirtAddr(1), 1, R).linear.value(), 0x1001U);
}

// ---- flat mode -------------------------------------------------------------

TEST(SegFlat, IdentityWithoutChecks) {
  SegmentationUnit u{SegConfig{}};
  EXPECT_EQ(u.mode(), SegMode::kFlat);
  for (SegReg r : {SegReg::kCS, SegReg::kDS, SegReg::kSS, SegReg::kES, SegReg::kFS, SegReg::kGS}) {
    for (AccessKind k : {R, W, X}) {
      const SegResult res = u.translate(r, VirtAddr(0xDEADBEEF), 8, k);
      ASSERT_TRUE(res.ok());
      EXPECT_EQ(res.linear.value(), 0xDEADBEEFU);
      EXPECT_EQ(res.cost, Cycles(0));
    }
  }
  EXPECT_EQ(u.translate(SegReg::kDS, VirtAddr(0x100000010ULL), 1, R).linear.value(), 0x10U);
  EXPECT_EQ(u.stats().translations, 19U);
  EXPECT_EQ(u.stats().faults(), 0U);
  EXPECT_TRUE(std::holds_alternative<LoadDone>(u.begin_load(SegReg::kDS, Selector(0x2B))));
  EXPECT_EQ(u.reg(SegReg::kDS).selector, Selector(0x2B));
}

// ---- document 000: one program relocated to base 1000 ----------------------

// The seed document loads a program at address 1000 and shows `call 40`
// executing at 1000 + 40 = 1040. The numbers are decimal as written there:
// base 1000 (0x3E8), target 40 (0x28), linear 1040 (0x410). The program's
// segments are 1000 bytes long, so offset 1000 is the first one outside.
TEST(SegExample, RelocatedProgramCall40) {
  FakeMemory mem;
  const DescriptorTableBuilder gdt = relocated_program_gdt(1000, 1000);
  mem.place(0x100000, gdt);
  SegConfig c;
  c.mode = SegMode::kProtected32;
  c.gdt_base = 0x100000;
  c.gdt_limit = gdt.limit();
  SegmentationUnit u(c);
  u.load_initial_registers([&](LinearAddr a) { return mem.read(a); });
  EXPECT_EQ(u.reg(SegReg::kCS).base, 1000U);
  const SegResult call = u.translate(SegReg::kCS, VirtAddr(40), 1, X);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call.linear.value(), 1040U);
  EXPECT_TRUE(u.translate(SegReg::kDS, VirtAddr(999), 1, R).ok());
  const SegResult beyond = u.translate(SegReg::kDS, VirtAddr(1000), 1, R);
  EXPECT_EQ(beyond.fault.kind, SegFaultKind::kGP);
  EXPECT_EQ(beyond.fault.reason, SegFaultReason::kLimit);
  const SegResult jump_out = u.translate(SegReg::kCS, VirtAddr(1040), 1, X);
  EXPECT_EQ(jump_out.fault.reason, SegFaultReason::kLimit);  // isolation by the limit
}

TEST(SegExample, RealModeRelocation) {
  // The same idea in real mode: a segment register as a relocation base.
  // 1000 is not a multiple of 16, so use paragraph 0x3E (linear 0x3E0 = 992).
  SegConfig c;
  c.mode = SegMode::kReal;
  c.selectors[seg_index(SegReg::kCS)] = Selector(0x3E);
  SegmentationUnit u(c);
  EXPECT_EQ(u.translate(SegReg::kCS, VirtAddr(40), 1, X).linear.value(), 992U + 40U);
}

}  // namespace
}  // namespace mmusim
