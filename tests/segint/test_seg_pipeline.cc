// The segmentation stage inside CpuCore: every mode, check and fault kind
// through the pipeline (paging off: the linear address is what the explain
// header shows), fault accounting, segment costs, the fast path, and
// 32-bit / PAE / 4-level walks behind segmentation.
#include <gtest/gtest.h>

#include <regex>

#include "models/common/parse.h"
#include "tests/segint/segint_test_util.h"

namespace mmusim {
namespace {

using segint::fx;
using segint::load;
using segint::R;
using segint::rd;
using segint::Rig;
using segint::wr;

// Linear addresses of the explained translations, in order.
std::vector<uint64_t> linears(const Rig& rig) {
  std::vector<uint64_t> v;
  const std::regex head(R"(^#\d+ cpu0 [RWX] 0x([0-9a-f]+) issue@)");
  for (const std::string& block : rig.explain.blocks()) {
    std::smatch m;
    if (std::regex_search(block, m, head))
      v.push_back(to_u64(m[1].str(), IntSyntax::kBareHex).value());
  }
  return v;
}

SegConfig seg_config(SegMode m) {
  SegConfig c;
  c.mode = m;
  return c;
}

// ---- real mode ----

TEST(SegPipeline, RealModeSegmentTimesSixteenPlusOffset) {
  SegConfig c = seg_config(SegMode::kReal);
  Rig rig(PagingMode::kOff, c, 100, 100, false);
  rig.run({load(SegReg::kDS, 0x1234), rd(0x40), load(SegReg::kCS, 0xF000), fx(0xFFF0, 1),
           load(SegReg::kDS, 0xFFFF), rd(0x10, 1), rd(0xFFFF, 1)});
  EXPECT_EQ(linears(rig), (std::vector<uint64_t>{0x12380, 0xFFFF0, 0x100000, 0x10FFEF}));
  auto s = rig.stats();
  EXPECT_EQ(s["seg.faults.gp"], 0u);
  EXPECT_EQ(s["seg.loads.ds"], 2u);
  EXPECT_EQ(s["cpu.seg_records"], 3u);
  EXPECT_EQ(s["cpu.records"], 4u);
  EXPECT_EQ(s["seg.translations"], 4u);
  EXPECT_EQ(s["seg.cycles"], 4u);  // base_cost 1 per access through a non-zero base
}

TEST(SegPipeline, RealModeA20MaskWrapsAtOneMegabyte) {
  SegConfig c = seg_config(SegMode::kReal);
  c.a20_mask = true;
  Rig rig(PagingMode::kOff, c, 100, 100, false);
  rig.run({load(SegReg::kDS, 0xFFFF), rd(0x10, 1), rd(0x20, 1)});
  EXPECT_EQ(linears(rig), (std::vector<uint64_t>{0x0, 0x10}));
  EXPECT_NE(rig.explained().find("(0x100000 with bit 20 cleared: A20M#)"), std::string::npos);
}

TEST(SegPipeline, RealModeLimitFaultsAreGpOrSsThroughSs) {
  SegConfig c = seg_config(SegMode::kReal);
  Rig rig(PagingMode::kOff, c, 100, 0, false);
  rig.run({load(SegReg::kDS, 0x100), rd(0xFFFF, 2), wr(0xFFFE, 4, R(SegReg::kSS)), rd(0xFFFE, 2)});
  auto s = rig.stats();
  EXPECT_EQ(s["seg.faults.gp"], 1u);
  EXPECT_EQ(s["seg.faults.ss"], 1u);
  EXPECT_EQ(s["seg.faults.reg.ds"], 1u);
  EXPECT_EQ(s["seg.faults.reg.ss"], 1u);
  EXPECT_EQ(s["seg.faults.reason.limit"], 2u);
  EXPECT_EQ(s["cpu.seg_skipped"], 2u);
  EXPECT_EQ(s["cpu.translations"], 1u);  // only the last access reached the TLB stage
  EXPECT_EQ(s["cpu.records"], 3u);
}

// ---- protected mode: one GDT with every kind of segment ----

constexpr uint64_t kGdtBase = 0x1000;

struct ProtCase {
  const char* name;
  std::vector<TraceRecord> setup;  // selector loads before the record under test
  TraceRecord record;
  const char* kind;    // "gp", "ss", "np" or "" (no fault)
  const char* reg;     // register the fault names
  const char* reason;  // fault reason
  uint64_t linear;     // for "": the linear address
};

void PrintTo(const ProtCase& c, std::ostream* os) { *os << c.name; }

class SegProtected : public ::testing::TestWithParam<ProtCase> {
 protected:
  static DescriptorTables tables(const SegConfig& c) {
    DescriptorTables t = DescriptorTables::defaults(c);
    auto put = [&](unsigned i, const SegmentDescriptor& d) {
      t.set(LinearAddr(kGdtBase + uint64_t{8} * i), d.encode());
    };
    put(5, make_segment(0x10000, 0x1000, kDataReadWrite, 0));
    put(6, make_segment(0x20000, 0x1000, kCodeExecOnly, 0));
    put(7, make_segment(0x30000, 0x1000, kDataReadOnly, 0));
    put(8, make_segment(0x40000, 0x1000, kDataReadWriteDown, 0));
    SegmentDescriptor np = make_segment(0x50000, 0x1000, kDataReadWrite, 0);
    np.present = false;
    put(9, np);
    SegmentDescriptor sys = make_segment(0x60000, 0x1000, 0x2, 0);
    sys.s = false;  // an LDT descriptor
    put(10, sys);
    return t;
  }
};

TEST_P(SegProtected, CheckThroughThePipeline) {
  const ProtCase& pc = GetParam();
  SegConfig c = seg_config(SegMode::kProtected32);
  c.gdt_base = kGdtBase;
  c.gdt_limit = 8 * 16 - 1;
  DescriptorTables t = tables(c);
  Rig rig(PagingMode::kOff, c, 100, 100, false, &t);
  rig.run(pc.setup);
  const size_t before = linears(rig).size();
  rig.run(pc.record);
  auto s = rig.stats();
  const std::string kind = pc.kind;
  if (kind.empty()) {
    EXPECT_EQ(s["cpu.seg_skipped"], 0u);
    ASSERT_EQ(linears(rig).size(), before + 1);
    EXPECT_EQ(linears(rig).back(), pc.linear);
    return;
  }
  EXPECT_EQ(s["seg.faults." + kind], 1u);
  EXPECT_EQ(s["seg.faults.gp"] + s["seg.faults.ss"] + s["seg.faults.np"], 1u);
  EXPECT_EQ(s["seg.faults.reg." + std::string(pc.reg)], 1u);
  EXPECT_EQ(s["seg.faults.reason." + std::string(pc.reason)], 1u);
  EXPECT_EQ(s["cpu.seg_skipped"], 1u);
  if (trace_flags::op_of(pc.record.flags) == trace_flags::kOpAccess) {
    EXPECT_EQ(linears(rig).size(), before);  // never reached the TLB stage
  }
}

const ProtCase kProtCases[] = {
    {"DataWithinLimit", {load(SegReg::kDS, 0x28)}, rd(0xFFC), "", "", "", 0x10FFC},
    {"DataPastLimit", {load(SegReg::kDS, 0x28)}, rd(0xFFD), "gp", "ds", "limit", 0},
    {"DataFirstByteOut", {load(SegReg::kDS, 0x28)}, rd(0x1000, 1), "gp", "ds", "limit", 0},
    {"StackPastLimit",
     {load(SegReg::kSS, 0x28)},
     wr(0xFFE, 4, R(SegReg::kSS)),
     "ss",
     "ss",
     "limit",
     0},
    {"StackWithinLimit",
     {load(SegReg::kSS, 0x28)},
     wr(0x0, 4, R(SegReg::kSS)),
     "",
     "",
     "",
     0x10000},
    {"FetchExecOnly", {load(SegReg::kCS, 0x30)}, fx(0x10), "", "", "", 0x20010},
    {"ReadExecOnly",
     {load(SegReg::kCS, 0x30)},
     rd(0x10, 4, R(SegReg::kCS)),
     "gp",
     "cs",
     "read_from_exec_only",
     0},
    {"WriteToCode",
     {load(SegReg::kCS, 0x30)},
     wr(0x10, 4, R(SegReg::kCS)),
     "gp",
     "cs",
     "write_to_code",
     0},
    {"FetchFromData",
     {load(SegReg::kDS, 0x28)},
     fx(0x0, 4, R(SegReg::kDS)),
     "gp",
     "ds",
     "execute_from_data",
     0},
    {"WriteReadOnly",
     {load(SegReg::kES, 0x38)},
     wr(0x0, 4, R(SegReg::kES)),
     "gp",
     "es",
     "write_to_readonly",
     0},
    {"ReadReadOnly", {load(SegReg::kES, 0x38)}, rd(0x8, 4, R(SegReg::kES)), "", "", "", 0x30008},
    {"ExpandDownBelow",
     {load(SegReg::kFS, 0x40)},
     rd(0xFFF, 1, R(SegReg::kFS)),
     "gp",
     "fs",
     "limit",
     0},
    {"ExpandDownAbove",
     {load(SegReg::kFS, 0x40)},
     rd(0x1000, 4, R(SegReg::kFS)),
     "",
     "",
     "",
     0x41000},
    {"NullSelectorUse",
     {load(SegReg::kGS, 0x0)},
     rd(0x0, 4, R(SegReg::kGS)),
     "gp",
     "gs",
     "null_selector",
     0},
    {"LoadNotPresent", {}, load(SegReg::kDS, 0x48), "np", "ds", "not_present", 0},
    {"LoadStackNotPresent", {}, load(SegReg::kSS, 0x48), "ss", "ss", "not_present", 0},
    {"LoadSystemDescriptor", {}, load(SegReg::kDS, 0x50), "gp", "ds", "system_descriptor", 0},
    {"LoadBeyondTable", {}, load(SegReg::kDS, 0x80), "gp", "ds", "table_limit", 0},
    {"LoadReadOnlyStack", {}, load(SegReg::kSS, 0x38), "gp", "ss", "load_type", 0},
    {"LoadNullCode", {}, load(SegReg::kCS, 0x0), "gp", "cs", "null_selector", 0},
    {"LoadRplAboveDpl", {}, load(SegReg::kDS, 0x2B), "gp", "ds", "privilege", 0},
};

INSTANTIATE_TEST_SUITE_P(SegPipeline, SegProtected, ::testing::ValuesIn(kProtCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SegPipeline, ProtectedFaultCompletesAtIssuePlusSegmentCost) {
  SegConfig c = seg_config(SegMode::kProtected32);
  c.base_cost = Cycles(3);
  DescriptorTables t = DescriptorTables::defaults(c);
  t.set(LinearAddr(uint64_t{8} * 2), make_segment(0x10000, 0x100, kDataReadWrite, 0).encode());
  Rig rig(PagingMode::kOff, c, 100, 100, false, &t);
  rig.run({rd(0x0), rd(0x100), rd(0x4)});
  const std::string e = rig.explained();
  EXPECT_NE(e.find("#GP cpu0 R DS:0x100 (4 bytes) issue@1\n"), std::string::npos) << e;
  EXPECT_NE(e.find("  fault: #GP(0x0) limit -> access skipped, done@4\n"), std::string::npos) << e;
  auto s = rig.stats();
  EXPECT_EQ(s["seg.cycles"], 9u);  // three accesses through base 0x10000
  // The two that reached the (paging-off) TLB stage: their latency starts
  // after segmentation and paging is off, so it is 0 (seg.cycles has the 6).
  EXPECT_EQ(rig.core->stats().translation_latency.count(), 2u);
  EXPECT_EQ(rig.core->stats().translation_latency.sum(), 0u);
  EXPECT_EQ(s["cpu.cycles"], 5u);  // last access: issue 2 + 3
}

TEST(SegPipeline, ZeroBaseCostsNothing) {
  SegConfig c = seg_config(SegMode::kProtected32);
  Rig rig(PagingMode::kOff, c, 100, 0, false);
  rig.run({rd(0x10), wr(0x20), fx(0x30)});
  auto s = rig.stats();
  EXPECT_EQ(s["seg.cycles"], 0u);
  EXPECT_EQ(rig.core->stats().translation_latency.sum(), 0u);
  EXPECT_EQ(s["seg.translations"], 3u);
}

TEST(SegPipeline, StopOnFaultThrowsAOneLineReport) {
  SegConfig c = seg_config(SegMode::kReal);
  c.stop_on_fault = true;
  Rig rig(PagingMode::kOff, c, 100, 0, false);
  rig.core->set_record_base(2);
  rig.run(rd(0x10));
  try {
    rig.run(rd(0xFFFF, 4));
    FAIL() << "no stop";
  } catch (const SegmentationStop& e) {
    EXPECT_STREQ(e.what(),
                 "segmentation fault stopped the run (seg.stop_on_fault): cpu0 record 4: R "
                 "DS:0xffff (4 bytes): #GP(0x0) limit at cycle 1");
  }
}

// ---- long mode ----

TEST(SegPipeline, LongModeNonCanonicalIsGpBeforeTheTlb) {
  SegConfig c = seg_config(SegMode::kLong64);
  Rig rig(PagingMode::k4Level, c);
  rig.run({rd(0x1000), rd(0x800000000000ULL), rd(0x7FFFFFFFFFFCULL, 8),
           wr(0xFFFF800000000000ULL - 8, 8, R(SegReg::kSS)), rd(0xFFFF800000000000ULL, 8)});
  auto s = rig.stats();
  EXPECT_EQ(s["seg.faults.gp"], 2u);  // the hole, and a read whose last byte is in it
  EXPECT_EQ(s["seg.faults.ss"], 1u);
  EXPECT_EQ(s["seg.faults.reason.non_canonical"], 3u);
  EXPECT_EQ(s["cpu.seg_skipped"], 3u);
  EXPECT_EQ(s["cpu.faults.non_canonical"], 0u);  // the walker's check never fires
  EXPECT_EQ(s["cpu.faults"], 2u);                // first touches of the two good pages
  EXPECT_EQ(s["cpu.translations"], 2u);
  EXPECT_EQ(s["seg.translations"], 5u);
}

TEST(SegPipeline, LongModeFsBaseAndLa57) {
  SegConfig c = seg_config(SegMode::kLong64);
  c.canonical_bits = 57;
  c.fs_base = 0x7F0000001000ULL;
  Rig rig(PagingMode::k5Level, c);
  rig.run({rd(0x800000000000ULL), rd(0x28, 8, R(SegReg::kFS))});
  auto s = rig.stats();
  EXPECT_EQ(s["seg.faults.gp"], 0u);
  EXPECT_EQ(s["seg.cycles"], 1u);  // only FS has a base
  EXPECT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x800000000000ULL)));
  EXPECT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x7F0000001028ULL)));
}

// The fast path (no flags) and the seg core give the same result.
TEST(SegPipeline, LongModeFastPathEqualsSegmentedPath) {
  std::vector<TraceRecord> plain, named;
  uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t a = 0x10000000 + ((x >> 20) & 0xFFFFFF);
    const auto k = static_cast<AccessKind>((x >> 8) % 3);
    TraceRecord r = segint::acc(k, (x >> 62) == 3 ? a | 0x800000000000ULL : a, 8);
    plain.push_back(r);
    r.flags = trace_flags::reg_bits(k == AccessKind::kFetch ? 1 : 3);  // CS / DS
    named.push_back(r);
  }
  SegConfig c = seg_config(SegMode::kLong64);
  Rig a(PagingMode::k4Level, c), b(PagingMode::k4Level, c);
  a.run(plain);
  b.run(named);
  EXPECT_EQ(a.stats(), b.stats());
  EXPECT_GT(a.stats()["seg.faults.gp"], 100u);
}

// ---- flat mode ----

TEST(SegPipeline, FlatModeWrapsAt4GiBWithOrWithoutARegister) {
  SegConfig c = seg_config(SegMode::kFlat);
  Rig rig(PagingMode::k32Bit, c);
  rig.run({rd(0x100002000ULL), rd(0x100005000ULL, 4, R(SegReg::kES)), load(SegReg::kDS, 0x7)});
  EXPECT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x2000)));
  EXPECT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x5000)));
  auto s = rig.stats();
  EXPECT_EQ(s["seg.loads.ds"], 1u);
  EXPECT_EQ(s["seg.desc_cache.misses"], 0u);  // flat loads read no descriptor
  EXPECT_EQ(s["seg.faults.gp"], 0u);
  EXPECT_EQ(s["seg.translations"], 2u);
}

// ---- paging behind segmentation ----

// Physical address that `a` maps to (functional walk of the OS's table).
uint64_t phys_of(Rig& rig, uint64_t a) {
  PageTable& pt = rig.os->page_table();
  const PagingModeInfo& m = pt.mode();
  const PhysAddr e = *pt.leaf_entry_address(LinearAddr(a), PageSize::k4K);
  const uint64_t entry = rig.mem.read_entry(e, m.entry_bytes);
  return entry_address(m, m.levels - 1, entry, true) | (a & 0xFFF);
}

void expect_walk_behind_segment(PagingMode pm) {
  SegConfig c = seg_config(SegMode::kProtected32);
  c.cpl = 3;  // user: DS = 0x23, GDT[4]
  DescriptorTables t = DescriptorTables::defaults(c);
  t.set(LinearAddr(uint64_t{8} * 4),
        make_segment(0x00400000, 0x100000, kDataReadWrite, 3).encode());
  Rig rig(pm, c, 100, 100, true, &t);
  rig.run(rd(0x1040));
  ASSERT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x401040)));
  EXPECT_FALSE(rig.os->page_table().is_mapped(LinearAddr(0x1040)));
  ASSERT_EQ(rig.env.faults.size(), 1u);
  EXPECT_EQ(rig.env.faults[0].addr.value(), 0x401040u);
  char want[64];
  std::snprintf(want, sizeof want, "  phys: 0x%llx (4K page), done@",
                static_cast<unsigned long long>(phys_of(rig, 0x401040)));
  EXPECT_NE(rig.explained().find(want), std::string::npos) << rig.explained();
  auto s = rig.stats();
  // 32-bit paging reads PD and PT; PAE's PDPTEs are registers: also 2 reads.
  EXPECT_EQ(s["walker.entry_reads"], 3u) << "fault walk (1 read) + replay (2 reads)";
}

TEST(SegPipeline, ThirtyTwoBitWalkBehindASegment) {
  expect_walk_behind_segment(PagingMode::k32Bit);
}

TEST(SegPipeline, PaeWalkBehindASegment) { expect_walk_behind_segment(PagingMode::kPae); }

}  // namespace
}  // namespace mmusim
