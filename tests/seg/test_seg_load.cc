// Selector loads: GDT/LDT, table limits, privilege and type checks, #NP/#SS,
// Accessed-bit reporting, descriptor-cache hits and misses.
#include <gtest/gtest.h>

#include <string>

#include "models/common/error.h"
#include "tests/seg/seg_test_util.h"

namespace mmusim {
namespace {

using seg_test::FakeMemory;
using seg_test::fault_of;
using seg_test::load;
using seg_test::loaded;

constexpr uint64_t kGdtBase = 0x8000;
constexpr uint64_t kLdtBase = 0x9000;

SegmentDescriptor seg(uint32_t base, uint8_t type, uint8_t dpl, bool present = true) {
  SegmentDescriptor d;
  d.base = base;
  d.limit = 0xFFF;
  d.type = type;
  d.dpl = dpl;
  d.present = present;
  d.db = true;
  return d;
}

struct SegLoad : ::testing::Test {
  // GDT layout (selectors with RPL 0).
  static constexpr uint16_t kCode0 = 0x08;       // exec/read code, DPL 0
  static constexpr uint16_t kData0 = 0x10;       // RW data, DPL 0, base 0x10000
  static constexpr uint16_t kData3 = 0x18;       // RW data, DPL 3, base 0x30000
  static constexpr uint16_t kCode3 = 0x20;       // exec/read code, DPL 3
  static constexpr uint16_t kConf0 = 0x28;       // conforming exec/read code, DPL 0
  static constexpr uint16_t kExecOnly = 0x30;    // execute-only code, DPL 0
  static constexpr uint16_t kRoData0 = 0x38;     // RO data, DPL 0
  static constexpr uint16_t kAbsent = 0x40;      // RW data, DPL 0, not present
  static constexpr uint16_t kAbsentCode = 0x48;  // code, DPL 0, not present
  static constexpr uint16_t kSystem = 0x50;      // S = 0 (an LDT descriptor)
  static constexpr uint16_t kData1 = 0x58;       // RW data, DPL 1
  static constexpr uint16_t kLongBad = 0x60;     // code with L = 1 and D = 1
  static constexpr uint16_t kConfExec3 = 0x68;   // conforming execute-only code, DPL 3
  static constexpr uint16_t kBeyond = 0x70;      // first index beyond the GDT limit

  FakeMemory mem;
  SegConfig cfg;
  uint32_t gdt_limit = 0;

  void SetUp() override {
    DescriptorTableBuilder gdt;
    gdt.add(seg(0, kCodeExecRead, 0));
    gdt.add(seg(0x10000, kDataReadWrite, 0));
    gdt.add(seg(0x30000, kDataReadWrite, 3));
    gdt.add(seg(0, kCodeExecRead, 3));
    gdt.add(seg(0, kCodeExecReadConforming, 0));
    gdt.add(seg(0, kCodeExecOnly, 0));
    gdt.add(seg(0, kDataReadOnly, 0));
    gdt.add(seg(0, kDataReadWrite, 0, false));
    gdt.add(seg(0, kCodeExecRead, 0, false));
    SegmentDescriptor sys = seg(0, 0x2, 0);
    sys.s = false;
    gdt.add(sys);
    gdt.add(seg(0, kDataReadWrite, 1));
    SegmentDescriptor bad = seg(0, kCodeExecRead, 0);
    bad.l = true;
    gdt.add(bad);
    gdt.add(seg(0, kCodeExecOnlyConforming, 3));
    mem.place(kGdtBase, gdt);
    gdt_limit = gdt.limit();
    DescriptorTableBuilder ldt(DescriptorTableBuilder::Table::kLdt);
    ldt.add(seg(0x60000, kDataReadWrite, 3));  // selector 0x04 / 0x07
    ldt.add(seg(0x70000, kDataReadWrite, 0));  // selector 0x0C
    mem.place(kLdtBase, ldt);
    cfg.mode = SegMode::kProtected32;
    cfg.gdt_base = kGdtBase;
    cfg.gdt_limit = gdt.limit();
    cfg.ldt_base = kLdtBase;
    cfg.ldt_limit = ldt.limit();
    cfg.selectors[seg_index(SegReg::kCS)] = Selector(kCode0);
    cfg.selectors[seg_index(SegReg::kSS)] = Selector(kData0);
    cfg.selectors[seg_index(SegReg::kDS)] = Selector(kData0);
    cfg.selectors[seg_index(SegReg::kES)] = Selector(kData0);
  }

  SegmentationUnit make(uint8_t cpl = 0) {
    const bool user = cpl == 3;
    cfg.selectors[seg_index(SegReg::kCS)] = Selector(user ? kCode3 | 3 : kCode0);
    for (SegReg r : {SegReg::kSS, SegReg::kDS, SegReg::kES}) {
      cfg.selectors[seg_index(r)] = Selector(user ? kData3 | 3 : kData0);
    }
    cfg.cpl = cpl;
    SegmentationUnit u(cfg);
    u.load_initial_registers([this](LinearAddr a) { return mem.read(a); },
                             [this](LinearAddr a, uint64_t v) { mem.write(a, v); });
    mem.reads = mem.writes = 0;
    return u;
  }

  static void expect_load_fault(const LoadResult& r, SegFaultKind k, SegFaultReason why,
                                uint16_t error_code) {
    ASSERT_FALSE(loaded(r));
    const SegFault f = fault_of(r);
    EXPECT_EQ(f.kind, k) << seg_fault_kind_name(f.kind);
    EXPECT_EQ(f.reason, why) << seg_fault_reason_name(f.reason);
    EXPECT_EQ(f.error_code, error_code);
  }
};

constexpr auto GP = SegFaultKind::kGP;

TEST_F(SegLoad, GdtVersusLdt) {
  SegmentationUnit u = make();
  SelectorLoad step = u.begin_load(SegReg::kGS, Selector(kData0));  // GS holds null
  ASSERT_TRUE(std::holds_alternative<ReadDescriptor>(step));
  EXPECT_EQ(std::get<ReadDescriptor>(step).addr.value(), kGdtBase + 0x10);
  step = u.begin_load(SegReg::kES, Selector(0x0C));  // LDT index 1
  ASSERT_TRUE(std::holds_alternative<ReadDescriptor>(step));
  EXPECT_EQ(std::get<ReadDescriptor>(step).addr.value(), kLdtBase + 8);
  const LoadResult res = u.finish_load(SegReg::kES, Selector(0x0C), mem.words[kLdtBase + 8]);
  ASSERT_TRUE(loaded(res));
  EXPECT_EQ(u.reg(SegReg::kES).base, 0x70000U);
  EXPECT_EQ(u.translate(SegReg::kES, VirtAddr(4), 4, AccessKind::kWrite).linear.value(), 0x70004U);
  // LDT index 0 is an ordinary descriptor (only GDT index 0 is null).
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kFS, Selector(0x04))));
  EXPECT_EQ(u.reg(SegReg::kFS).base, 0x60000U);
}

TEST_F(SegLoad, IndexBeyondLimit) {
  SegmentationUnit u = make();
  // Last entry loads (index*8+7 == limit); the next one faults.
  EXPECT_EQ(uint32_t{kConfExec3} + 7, gdt_limit);
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(kBeyond)), GP, SegFaultReason::kTableLimit,
                    kBeyond);
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(kBeyond | 3)), GP,
                    SegFaultReason::kTableLimit, kBeyond);
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(0x14)), GP, SegFaultReason::kTableLimit,
                    0x14);  // LDT index 2 beyond its limit 15
  EXPECT_EQ(mem.reads, 0);
  u.set_ldt(0, 0);  // no LDT: every TI=1 selector faults
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(0x04)), GP, SegFaultReason::kTableLimit,
                    0x04);
}

TEST_F(SegLoad, NullSelectors) {
  SegmentationUnit u = make();
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(0)), GP, SegFaultReason::kNullSelector, 0);
  expect_load_fault(load(u, mem, SegReg::kCS, Selector(3)), GP, SegFaultReason::kNullSelector, 0);
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(0))));
  EXPECT_FALSE(u.reg(SegReg::kDS).usable);
  EXPECT_EQ(mem.reads, 0);
}

TEST_F(SegLoad, DataPrivilege) {
  SegmentationUnit u = make(0);
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(kData3))));      // CPL 0 ≤ DPL 3
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(kData3 | 3))));  // RPL 3 ≤ DPL 3
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(kData0 | 3)), GP, SegFaultReason::kPrivilege,
                    kData0);  // RPL 3 > DPL 0
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(kData1 | 1))));
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(kData1 | 2)), GP, SegFaultReason::kPrivilege,
                    kData1);

  SegmentationUnit user = make(3);
  expect_load_fault(load(user, mem, SegReg::kES, Selector(kData0)), GP, SegFaultReason::kPrivilege,
                    kData0);  // CPL 3 > DPL 0
  expect_load_fault(load(user, mem, SegReg::kES, Selector(kData1 | 3)), GP,
                    SegFaultReason::kPrivilege, kData1);
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kES, Selector(kData3 | 3))));
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kES, Selector(0x07))));  // LDT, DPL 3
  expect_load_fault(load(user, mem, SegReg::kES, Selector(0x0F)), GP, SegFaultReason::kPrivilege,
                    0x0C);  // LDT, DPL 0
}

TEST_F(SegLoad, CodeIntoDataRegister) {
  SegmentationUnit user = make(3);
  // Conforming readable code: no privilege check.
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kDS, Selector(kConf0 | 3))));
  // Non-conforming readable code: CPL/RPL ≤ DPL required.
  expect_load_fault(load(user, mem, SegReg::kDS, Selector(kCode0 | 3)), GP,
                    SegFaultReason::kPrivilege, kCode0);
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kDS, Selector(kCode3 | 3))));
  // Execute-only code cannot be loaded into a data register.
  expect_load_fault(load(user, mem, SegReg::kDS, Selector(kConfExec3 | 3)), GP,
                    SegFaultReason::kLoadType, kConfExec3);
  SegmentationUnit u = make(0);
  expect_load_fault(load(u, mem, SegReg::kGS, Selector(kExecOnly)), GP, SegFaultReason::kLoadType,
                    kExecOnly);
}

TEST_F(SegLoad, StackSegment) {
  SegmentationUnit u = make(0);
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kSS, Selector(kData0))));
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(kData0 | 3)), GP, SegFaultReason::kPrivilege,
                    kData0);  // RPL ≠ CPL
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(kRoData0)), GP, SegFaultReason::kLoadType,
                    kRoData0);
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(kCode0)), GP, SegFaultReason::kLoadType,
                    kCode0);
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(kData3)), GP, SegFaultReason::kPrivilege,
                    kData3);  // DPL 3 ≠ CPL 0
  expect_load_fault(load(u, mem, SegReg::kSS, Selector(kAbsent)), SegFaultKind::kSS,
                    SegFaultReason::kNotPresent, kAbsent);
  SegmentationUnit user = make(3);
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kSS, Selector(kData3 | 3))));
  expect_load_fault(load(user, mem, SegReg::kSS, Selector(kData0)), GP, SegFaultReason::kPrivilege,
                    kData0);
}

TEST_F(SegLoad, CodeSegment) {
  SegmentationUnit u = make(0);
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kCS, Selector(kCode0))));
  expect_load_fault(load(u, mem, SegReg::kCS, Selector(kData0)), GP, SegFaultReason::kLoadType,
                    kData0);
  expect_load_fault(load(u, mem, SegReg::kCS, Selector(kCode3)), GP, SegFaultReason::kPrivilege,
                    kCode3);  // non-conforming: DPL must equal CPL
  expect_load_fault(load(u, mem, SegReg::kCS, Selector(kAbsentCode)), SegFaultKind::kNP,
                    SegFaultReason::kNotPresent, kAbsentCode);
  SegmentationUnit user = make(3);
  expect_load_fault(load(user, mem, SegReg::kCS, Selector(kCode0 | 3)), GP,
                    SegFaultReason::kPrivilege, kCode0);
  // Conforming DPL 0 ≤ CPL 3: allowed; CS.RPL becomes the CPL.
  EXPECT_TRUE(loaded(load(user, mem, SegReg::kCS, Selector(kConf0))));
  EXPECT_EQ(user.reg(SegReg::kCS).selector, Selector(kConf0 | 3));
  EXPECT_EQ(user.cpl(), 3);
  // L = 1 is only reserved-with-D in long mode; in protected mode it loads.
  EXPECT_TRUE(loaded(load(u, mem, SegReg::kCS, Selector(kLongBad))));
}

TEST_F(SegLoad, NotPresentAndSystem) {
  SegmentationUnit u = make(0);
  expect_load_fault(load(u, mem, SegReg::kDS, Selector(kAbsent)), SegFaultKind::kNP,
                    SegFaultReason::kNotPresent, kAbsent);
  expect_load_fault(load(u, mem, SegReg::kFS, Selector(kSystem)), GP,
                    SegFaultReason::kSystemDescriptor, kSystem);
  EXPECT_EQ(u.stats().faults_by_kind[2], 1U);
  EXPECT_EQ(u.stats().faults_by_reg[seg_index(SegReg::kFS)], 1U);
  // A failed load leaves the register unchanged.
  EXPECT_EQ(u.reg(SegReg::kDS).selector, Selector(kData0));
}

TEST_F(SegLoad, AccessedBit) {
  SegmentationUnit u = make(0);
  const uint64_t before = mem.words[kGdtBase + kData3];
  ASSERT_EQ(before & kDescAccessedBit, 0U);
  const LoadResult first = load(u, mem, SegReg::kDS, Selector(kData3));
  ASSERT_TRUE(loaded(first));
  const LoadDone& d = std::get<LoadDone>(first);
  EXPECT_TRUE(d.write_accessed);
  EXPECT_TRUE(d.desc_read);
  EXPECT_EQ(d.desc_addr.value(), kGdtBase + kData3);
  EXPECT_EQ(d.descriptor, before | kDescAccessedBit);
  EXPECT_EQ(mem.words[kGdtBase + kData3], before | kDescAccessedBit);
  // Another register reads the descriptor again, now with A set: no write.
  const LoadResult second = load(u, mem, SegReg::kES, Selector(kData3));
  ASSERT_TRUE(loaded(second));
  EXPECT_FALSE(std::get<LoadDone>(second).write_accessed);
  EXPECT_EQ(u.stats().accessed_bit_writes, 1U);
  EXPECT_EQ(mem.writes, 1);
  // A faulting load does not set A.
  load(u, mem, SegReg::kSS, Selector(kData3));
  EXPECT_EQ(u.stats().accessed_bit_writes, 1U);
}

TEST_F(SegLoad, ReloadSameSelectorIsFree) {
  cfg.load_cost = Cycles(7);
  SegmentationUnit u = make(0);
  const LoadResult miss = load(u, mem, SegReg::kDS, Selector(kData3));
  EXPECT_EQ(std::get<LoadDone>(miss).cost, Cycles(7));
  EXPECT_EQ(mem.reads, 1);
  const SelectorLoad hit = u.begin_load(SegReg::kDS, Selector(kData3));
  ASSERT_TRUE(std::holds_alternative<LoadDone>(hit));
  EXPECT_TRUE(std::get<LoadDone>(hit).desc_cache_hit);
  EXPECT_EQ(std::get<LoadDone>(hit).cost, Cycles(0));
  EXPECT_FALSE(std::get<LoadDone>(hit).write_accessed);
  // Different RPL: a different selector value, so it reads again.
  EXPECT_TRUE(
      std::holds_alternative<ReadDescriptor>(u.begin_load(SegReg::kDS, Selector(kData3 | 3))));
  EXPECT_EQ(u.stats().desc_cache_hits, 1U);
  EXPECT_EQ(u.stats().desc_cache_misses, 2U);
  EXPECT_EQ(u.stats().loads[seg_index(SegReg::kDS)], 3U);
  EXPECT_EQ(u.stats().cycles, 7U);
}

TEST_F(SegLoad, ReloadHitStillChecksPrivilege) {
  SegmentationUnit u = make(0);
  ASSERT_TRUE(loaded(load(u, mem, SegReg::kDS, Selector(kData0))));
  u.set_cpl(3);
  const SelectorLoad again = u.begin_load(SegReg::kDS, Selector(kData0));
  ASSERT_TRUE(std::holds_alternative<SegFault>(again));
  EXPECT_EQ(std::get<SegFault>(again).reason, SegFaultReason::kPrivilege);
}

TEST_F(SegLoad, ReloadAlwaysReadsWhenDisabled) {
  cfg.reload_same_selector_free = false;
  SegmentationUnit u = make(0);
  load(u, mem, SegReg::kDS, Selector(kData3));
  load(u, mem, SegReg::kDS, Selector(kData3));
  EXPECT_EQ(mem.reads, 2);
  EXPECT_EQ(u.stats().desc_cache_hits, 0U);
  EXPECT_EQ(u.stats().desc_cache_misses, 2U);
}

TEST_F(SegLoad, DescriptorCacheLru) {
  cfg.desc_cache_entries = 2;
  cfg.reload_same_selector_free = false;
  SegmentationUnit u = make(0);
  load(u, mem, SegReg::kDS, Selector(kData3));      // miss
  load(u, mem, SegReg::kES, Selector(kData3));      // hit (same descriptor, other register)
  load(u, mem, SegReg::kFS, Selector(kData1));      // miss
  load(u, mem, SegReg::kGS, Selector(kData3));      // hit, kData3 most recent
  load(u, mem, SegReg::kDS, Selector(kData0));      // miss, evicts kData1
  load(u, mem, SegReg::kES, Selector(kData1 | 1));  // miss (was evicted)
  load(u, mem, SegReg::kFS, Selector(kData0 | 0));  // hit
  EXPECT_EQ(u.stats().desc_cache_hits, 3U);
  EXPECT_EQ(u.stats().desc_cache_misses, 4U);
  EXPECT_EQ(mem.reads, 4);
  u.set_gdt(kGdtBase, gdt_limit);  // LGDT invalidates
  load(u, mem, SegReg::kGS, Selector(kData0));
  EXPECT_EQ(u.stats().desc_cache_misses, 5U);
}

TEST_F(SegLoad, InvalidateForgetsSameSelector) {
  SegmentationUnit u = make(0);
  load(u, mem, SegReg::kDS, Selector(kData3));
  u.invalidate_descriptor_cache();
  EXPECT_TRUE(std::holds_alternative<ReadDescriptor>(u.begin_load(SegReg::kDS, Selector(kData3))));
}

TEST_F(SegLoad, InitialLoadErrorsNameTheKey) {
  cfg.selectors[seg_index(SegReg::kDS)] = Selector(kAbsent);
  SegmentationUnit u(cfg);
  try {
    u.load_initial_registers([this](LinearAddr a) { return mem.read(a); });
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "seg.ds: cannot load selector 0x0040: #np (not_present)");
  }
}

}  // namespace
}  // namespace mmusim
