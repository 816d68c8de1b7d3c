// 32-bit protected mode: limit, type and null checks on access, fault kinds.
#include <gtest/gtest.h>

#include "tests/seg/seg_test_util.h"

namespace mmusim {
namespace {

using seg_test::FakeMemory;
using seg_test::load;
using seg_test::loaded;

constexpr uint64_t kGdtBase = 0x8000;

SegmentDescriptor seg(uint32_t base, uint32_t limit, uint8_t type, uint8_t dpl = 0, bool db = true,
                      bool g = false) {
  SegmentDescriptor d;
  d.base = base;
  d.limit = limit;
  d.type = type;
  d.dpl = dpl;
  d.db = db;
  d.g = g;
  return d;
}

// GDT used by the protected-mode tests; selector → purpose.
struct SegProtected : ::testing::Test {
  static constexpr Selector kCode{0x08};       // flat code, DPL 0
  static constexpr Selector kData{0x10};       // flat data, DPL 0
  static constexpr Selector kRw4K{0x18};       // RW data, base 0x10000, limit 0xFFF
  static constexpr Selector kRo4K{0x20};       // RO data, base 0x20000, limit 0xFFF
  static constexpr Selector kExecOnly{0x28};   // execute-only code, base 0x30000
  static constexpr Selector kDown16{0x30};     // RW expand-down, limit 0xFFF, B = 0
  static constexpr Selector kDown32{0x38};     // RW expand-down, limit 0xFFF, B = 1
  static constexpr Selector kGran{0x40};       // RW, limit field 1, G = 1 (0x1FFF)
  static constexpr Selector kByte{0x48};       // RW, limit field 1, G = 0 (0x1)
  static constexpr Selector kStack{0x50};      // RW stack, base 0x50000, limit 0xFFF
  static constexpr Selector kStackDown{0x58};  // RW expand-down stack, limit 0xFFF, B = 1

  FakeMemory mem;
  SegConfig cfg;

  void SetUp() override {
    DescriptorTableBuilder gdt;
    gdt.add(flat_code(0));
    gdt.add(flat_data(0));
    gdt.add(seg(0x10000, 0xFFF, kDataReadWrite));
    gdt.add(seg(0x20000, 0xFFF, kDataReadOnly));
    gdt.add(seg(0x30000, 0xFFF, kCodeExecOnly));
    gdt.add(seg(0, 0xFFF, kDataReadWriteDown, 0, false));
    gdt.add(seg(0, 0xFFF, kDataReadWriteDown, 0, true));
    gdt.add(seg(0x40000, 1, kDataReadWrite, 0, true, true));
    gdt.add(seg(0x40000, 1, kDataReadWrite, 0, true, false));
    gdt.add(seg(0x50000, 0xFFF, kDataReadWrite));
    gdt.add(seg(0x60000, 0xFFF, kDataReadWriteDown, 0, true));
    mem.place(kGdtBase, gdt);
    cfg.mode = SegMode::kProtected32;
    cfg.gdt_base = kGdtBase;
    cfg.gdt_limit = gdt.limit();
  }

  SegmentationUnit make() {
    SegmentationUnit u(cfg);
    u.load_initial_registers([this](LinearAddr a) { return mem.read(a); },
                             [this](LinearAddr a, uint64_t v) { mem.write(a, v); });
    return u;
  }
  void use(SegmentationUnit& u, SegReg r, Selector s) { ASSERT_TRUE(loaded(load(u, mem, r, s))); }
};

void expect_ok(const SegResult& res, uint64_t linear) {
  EXPECT_TRUE(res.ok()) << seg_fault_reason_name(res.fault.reason);
  EXPECT_EQ(res.linear.value(), linear);
}
void expect_fault(const SegResult& res, SegFaultKind kind, SegFaultReason why) {
  EXPECT_FALSE(res.ok());
  EXPECT_EQ(res.fault.kind, kind) << seg_fault_kind_name(res.fault.kind);
  EXPECT_EQ(res.fault.reason, why) << seg_fault_reason_name(res.fault.reason);
  EXPECT_EQ(res.fault.error_code, 0);
}

constexpr auto R = AccessKind::kRead;
constexpr auto W = AccessKind::kWrite;
constexpr auto X = AccessKind::kFetch;
constexpr auto GP = SegFaultKind::kGP;
constexpr auto SS = SegFaultKind::kSS;

TEST_F(SegProtected, InitialFlatRegisters) {
  SegmentationUnit u = make();
  EXPECT_EQ(u.reg(SegReg::kCS).selector, Selector(0x08));
  EXPECT_EQ(u.reg(SegReg::kDS).selector, Selector(0x10));
  EXPECT_FALSE(u.reg(SegReg::kFS).usable);  // null by default
  const SegResult r = u.translate(SegReg::kDS, VirtAddr(0x1234), 4, W);
  expect_ok(r, 0x1234);
  EXPECT_EQ(r.cost, Cycles(0));  // base 0: no extra cycle
  expect_ok(u.translate(SegReg::kCS, VirtAddr(0xFFFFFFFF), 1, X), 0xFFFFFFFF);
  EXPECT_EQ(u.stats().translations, 2U);
  EXPECT_EQ(u.stats().loads[seg_index(SegReg::kDS)], 0U);  // setup loads not counted
}

TEST_F(SegProtected, BaseAddedWithCost) {
  cfg.base_cost = Cycles(3);
  SegmentationUnit u = make();
  use(u, SegReg::kDS, kRw4K);
  const SegResult r = u.translate(SegReg::kDS, VirtAddr(0x10), 2, R);
  expect_ok(r, 0x10010);
  EXPECT_EQ(r.cost, Cycles(3));
  EXPECT_EQ(u.stats().cycles, 3U);
}

TEST_F(SegProtected, LinearWrapsAt4G) {
  SegmentationUnit u = make();
  u.set_register(SegReg::kES, Selector(0x10),
                 seg(0xFFFFF000, 0xFFFFF, kDataReadWrite, 0, true, true));
  expect_ok(u.translate(SegReg::kES, VirtAddr(0x2000), 1, R), 0x1000);
}

TEST_F(SegProtected, LimitBoundarySize1) {
  SegmentationUnit u = make();
  use(u, SegReg::kDS, kRw4K);
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0xFFE), 1, R), 0x10FFE);
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0xFFF), 1, R), 0x10FFF);
  const SegResult bad = u.translate(SegReg::kDS, VirtAddr(0x1000), 1, R);
  expect_fault(bad, GP, SegFaultReason::kLimit);
  EXPECT_EQ(bad.fault.reg, SegReg::kDS);
  EXPECT_EQ(bad.fault.selector, kRw4K);
  EXPECT_EQ(bad.fault.offset, VirtAddr(0x1000));
}

TEST_F(SegProtected, LimitBoundarySize4) {
  SegmentationUnit u = make();
  use(u, SegReg::kDS, kRw4K);
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0xFFC), 4, W), 0x10FFC);  // last byte = limit
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0xFFD), 4, W), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0xFFE), 4, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0xFFF), 4, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0x1000), 4, R), GP, SegFaultReason::kLimit);
  EXPECT_EQ(u.stats().faults_by_kind[0], 4U);
}

TEST_F(SegProtected, SizeZeroIsOneByte) {
  SegmentationUnit u = make();
  use(u, SegReg::kDS, kRw4K);
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0xFFF), 0, R), 0x10FFF);
}

TEST_F(SegProtected, Flat4GLimitAtTop) {
  SegmentationUnit u = make();
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0xFFFFFFFC), 4, R), 0xFFFFFFFC);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0xFFFFFFFD), 4, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0x100000000ULL), 1, R), GP,
               SegFaultReason::kLimit);
}

TEST_F(SegProtected, GranularityG1VersusG0) {
  SegmentationUnit u = make();
  use(u, SegReg::kES, kGran);  // limit field 1, G = 1 → 0x1FFF
  expect_ok(u.translate(SegReg::kES, VirtAddr(0x1FFF), 1, R), 0x41FFF);
  expect_fault(u.translate(SegReg::kES, VirtAddr(0x2000), 1, R), GP, SegFaultReason::kLimit);
  use(u, SegReg::kES, kByte);  // limit field 1, G = 0 → 0x1
  expect_ok(u.translate(SegReg::kES, VirtAddr(0x1), 1, R), 0x40001);
  expect_fault(u.translate(SegReg::kES, VirtAddr(0x2), 1, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kES, VirtAddr(0x0), 4, R), GP, SegFaultReason::kLimit);
}

TEST_F(SegProtected, ExpandDownB0) {
  SegmentationUnit u = make();
  use(u, SegReg::kFS, kDown16);  // valid offsets 0x1000..0xFFFF
  expect_fault(u.translate(SegReg::kFS, VirtAddr(0xFFF), 1, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kFS, VirtAddr(0x0), 1, R), GP, SegFaultReason::kLimit);
  expect_ok(u.translate(SegReg::kFS, VirtAddr(0x1000), 1, R), 0x1000);
  expect_fault(u.translate(SegReg::kFS, VirtAddr(0xFFE), 4, R), GP, SegFaultReason::kLimit);
  expect_ok(u.translate(SegReg::kFS, VirtAddr(0xFFFC), 4, W), 0xFFFC);
  expect_ok(u.translate(SegReg::kFS, VirtAddr(0xFFFF), 1, W), 0xFFFF);
  expect_fault(u.translate(SegReg::kFS, VirtAddr(0xFFFF), 2, R), GP, SegFaultReason::kLimit);
  expect_fault(u.translate(SegReg::kFS, VirtAddr(0x10000), 1, R), GP, SegFaultReason::kLimit);
}

TEST_F(SegProtected, ExpandDownB1) {
  SegmentationUnit u = make();
  use(u, SegReg::kGS, kDown32);  // valid offsets 0x1000..0xFFFFFFFF
  expect_fault(u.translate(SegReg::kGS, VirtAddr(0xFFF), 1, R), GP, SegFaultReason::kLimit);
  expect_ok(u.translate(SegReg::kGS, VirtAddr(0x1000), 1, R), 0x1000);
  expect_ok(u.translate(SegReg::kGS, VirtAddr(0x10000), 4, R), 0x10000);
  expect_ok(u.translate(SegReg::kGS, VirtAddr(0xFFFFFFFC), 4, R), 0xFFFFFFFC);
  expect_ok(u.translate(SegReg::kGS, VirtAddr(0xFFFFFFFF), 1, R), 0xFFFFFFFF);
  expect_fault(u.translate(SegReg::kGS, VirtAddr(0xFFFFFFFE), 4, R), GP, SegFaultReason::kLimit);
}

TEST_F(SegProtected, ExpandDownG1Scaling) {
  SegmentationUnit u = make();
  // limit field 0xFFFFE, G = 1 → effective 0xFFFFEFFF: valid 0xFFFFF000..0xFFFFFFFF.
  u.set_register(SegReg::kES, Selector(0x10), seg(0, 0xFFFFE, kDataReadWriteDown, 0, true, true));
  expect_fault(u.translate(SegReg::kES, VirtAddr(0xFFFFEFFF), 1, R), GP, SegFaultReason::kLimit);
  expect_ok(u.translate(SegReg::kES, VirtAddr(0xFFFFF000), 1, R), 0xFFFFF000);
  // limit field 0xFFFFF, G = 1: no valid offset at all.
  u.set_register(SegReg::kES, Selector(0x10), seg(0, 0xFFFFF, kDataReadWriteDown, 0, true, true));
  expect_fault(u.translate(SegReg::kES, VirtAddr(0xFFFFFFFF), 1, R), GP, SegFaultReason::kLimit);
}

TEST_F(SegProtected, StackFaultsAreSS) {
  SegmentationUnit u = make();
  use(u, SegReg::kSS, kStack);
  expect_ok(u.translate(SegReg::kSS, VirtAddr(0xFFC), 4, W), 0x50FFC);
  const SegResult r = u.translate(SegReg::kSS, VirtAddr(0xFFE), 4, W);
  expect_fault(r, SS, SegFaultReason::kLimit);
  EXPECT_EQ(r.fault.reg, SegReg::kSS);
  use(u, SegReg::kSS, kStackDown);  // expand-down stack: valid 0x1000..0xFFFFFFFF
  expect_ok(u.translate(SegReg::kSS, VirtAddr(0x1000), 4, W), 0x61000);
  expect_fault(u.translate(SegReg::kSS, VirtAddr(0xFFC), 4, W), SS, SegFaultReason::kLimit);
  EXPECT_EQ(u.stats().faults_by_kind[1], 2U);
  EXPECT_EQ(u.stats().faults_by_reg[seg_index(SegReg::kSS)], 2U);
}

TEST_F(SegProtected, WriteToCode) {
  SegmentationUnit u = make();
  expect_fault(u.translate(SegReg::kCS, VirtAddr(0x100), 4, W), GP, SegFaultReason::kWriteToCode);
  use(u, SegReg::kDS, kCode);  // readable code may be loaded into DS ...
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0x100), 4, R), 0x100);
  // ... but never written through.
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0x100), 4, W), GP, SegFaultReason::kWriteToCode);
}

TEST_F(SegProtected, WriteToReadOnlyData) {
  SegmentationUnit u = make();
  use(u, SegReg::kDS, kRo4K);
  expect_ok(u.translate(SegReg::kDS, VirtAddr(0x10), 4, R), 0x20010);
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0x10), 4, W), GP,
               SegFaultReason::kWriteToReadOnly);
}

TEST_F(SegProtected, ExecuteFromData) {
  SegmentationUnit u = make();
  expect_fault(u.translate(SegReg::kDS, VirtAddr(0x10), 1, X), GP,
               SegFaultReason::kExecuteFromData);
  // A CS forced to hold a data descriptor (not loadable architecturally).
  u.set_register(SegReg::kCS, kData, flat_data(0));
  expect_fault(u.translate(SegReg::kCS, VirtAddr(0x10), 1, X), GP,
               SegFaultReason::kExecuteFromData);
}

TEST_F(SegProtected, ReadFromExecuteOnlyCode) {
  SegmentationUnit u = make();
  u.set_register(SegReg::kCS, kExecOnly, seg(0x30000, 0xFFF, kCodeExecOnly));
  expect_ok(u.translate(SegReg::kCS, VirtAddr(0x10), 4, X), 0x30010);
  expect_fault(u.translate(SegReg::kCS, VirtAddr(0x10), 4, R), GP,
               SegFaultReason::kReadFromExecOnly);
  expect_fault(u.translate(SegReg::kCS, VirtAddr(0x10), 4, W), GP, SegFaultReason::kWriteToCode);
  expect_fault(u.translate(SegReg::kCS, VirtAddr(0x1000), 1, X), GP, SegFaultReason::kLimit);
}

TEST_F(SegProtected, NullSelectorUse) {
  SegmentationUnit u = make();
  for (SegReg r : {SegReg::kDS, SegReg::kES, SegReg::kFS, SegReg::kGS}) {
    for (uint16_t null : {0, 1, 2, 3}) {
      ASSERT_TRUE(loaded(load(u, mem, r, Selector(null))));  // loading null is allowed
      const SegResult res = u.translate(r, VirtAddr(0), 1, R);
      expect_fault(res, GP, SegFaultReason::kNullSelector);
      EXPECT_EQ(res.fault.selector, Selector(null));
    }
  }
  EXPECT_EQ(u.stats().faults_by_reason[static_cast<size_t>(SegFaultReason::kNullSelector)], 16U);
}

TEST_F(SegProtected, FirstFaultAndStop) {
  cfg.stop_on_fault = true;
  SegmentationUnit u = make();
  EXPECT_FALSE(u.stopped());
  use(u, SegReg::kDS, kRo4K);
  u.translate(SegReg::kDS, VirtAddr(0), 1, W);
  u.translate(SegReg::kDS, VirtAddr(0x5000), 1, R);
  ASSERT_TRUE(u.first_fault().has_value());
  EXPECT_EQ(u.first_fault()->reason, SegFaultReason::kWriteToReadOnly);
  EXPECT_TRUE(u.stopped());
}

}  // namespace
}  // namespace mmusim
