// Selector loads through the memory model: the descriptor read (translated
// like any access, then a timed DRAM read), the Accessed-bit write-back, the
// load cost, descriptor-cache hits, descriptor rewrites by trace records, and
// descriptor tables behind 32-bit paging.
#include <gtest/gtest.h>

#include "tests/segint/segint_test_util.h"

namespace mmusim {
namespace {

using segint::desc;
using segint::load;
using segint::R;
using segint::rd;
using segint::Rig;

constexpr uint64_t kGdt = 0x2000;
constexpr uint64_t kLat = 100;
// GDT[5], selector 0x2B: user data at base 0x8000, 64 KiB, Accessed bit clear.
const uint64_t kUserData = make_segment(0x8000, 0x10000, kDataReadWrite, 3).encode();

SegConfig user_protected(uint64_t gdt_base = kGdt) {
  SegConfig c;
  c.mode = SegMode::kProtected32;
  c.cpl = 3;
  c.gdt_base = gdt_base;
  c.gdt_limit = 8 * 6 - 1;
  return c;
}

DescriptorTables tables_for(const SegConfig& c) {
  DescriptorTables t = DescriptorTables::defaults(c);
  t.set(LinearAddr(c.gdt_base + uint64_t{8} * 5), kUserData);
  return t;
}

// Cold load: read 0 -> L, A-bit write L -> 2L, + load_cost; the next access
// issues when the load is done.
TEST(SegLoadTiming, ReadThenAccessedBitWriteThenLoadCost) {
  SegConfig c = user_protected();
  c.load_cost = Cycles(3);
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 0, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), rd(0x10, 4, R(SegReg::kFS))});
  ASSERT_EQ(rig.env.log.size(), 2u);
  EXPECT_EQ(rig.env.log[0].addr.value(), kGdt + 0x28);
  EXPECT_FALSE(rig.env.log[0].write);
  EXPECT_EQ(rig.env.log[0].at, Cycle(0));
  EXPECT_EQ(rig.env.log[1].addr.value(), kGdt + 0x28);
  EXPECT_TRUE(rig.env.log[1].write);
  EXPECT_EQ(rig.env.log[1].at, Cycle(kLat));
  // Memory now holds the descriptor with the Accessed bit set.
  EXPECT_EQ(rig.mem.read64(PhysAddr(kGdt + 0x28)), kUserData | kDescAccessedBit);
  EXPECT_EQ(t.get(LinearAddr(kGdt + 0x28)), kUserData | kDescAccessedBit);
  auto s = rig.stats();
  EXPECT_EQ(s["cpu.cycles"], 2 * kLat + 3 + 1);  // the read issues at 203, base cost 1
  EXPECT_EQ(s["seg.accessed_bit_writes"], 1u);
  EXPECT_EQ(s["seg.desc_cache.misses"], 1u);
  EXPECT_EQ(s["seg.cycles"], 3u + 1u);
  EXPECT_EQ(s["seg.loads.fs"], 1u);
  EXPECT_EQ(s["cpu.seg_records"], 1u);
  EXPECT_EQ(s["cpu.records"], 1u);
  EXPECT_EQ(s["cpu.translations"], 2u);  // the descriptor's linear address, then the read
}

// Boundary of the load cost: 0 extra cycles -> the next access issues at 2L.
TEST(SegLoadTiming, NoLoadCostNextAccessAtTwiceTheLatency) {
  SegConfig c = user_protected();
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 100, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), rd(0x10, 4, R(SegReg::kFS))});
  EXPECT_NE(rig.explained().find("#2 cpu0 R 0x8010 issue@200\n"), std::string::npos)
      << rig.explained();
  EXPECT_NE(rig.explained().find("  A bit: set, descriptor written back 100->200 (100 cycles)\n"),
            std::string::npos);
}

// Accessed already set: only the read. Same selector again: free.
TEST(SegLoadTiming, AccessedSetReadsOnlyAndSameSelectorIsFree) {
  SegConfig c = user_protected();
  c.load_cost = Cycles(3);
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 0, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), rd(0x10, 4, R(SegReg::kFS)), load(SegReg::kGS, 0x2B),
           load(SegReg::kGS, 0x2B)});
  ASSERT_EQ(rig.env.log.size(), 3u);  // read, write (FS), read (GS)
  EXPECT_EQ(rig.env.log[2].at, Cycle(204));
  EXPECT_FALSE(rig.env.log[2].write);
  auto s = rig.stats();
  EXPECT_EQ(s["cpu.cycles"], 204 + kLat + 3);  // GS: 204 -> 304, + 3; the reload adds nothing
  EXPECT_EQ(s["seg.accessed_bit_writes"], 1u);
  EXPECT_EQ(s["seg.desc_cache.misses"], 2u);
  EXPECT_EQ(s["seg.desc_cache.hits"], 1u);
  EXPECT_EQ(s["seg.cycles"], 3u + 1u + 3u);
}

TEST(SegLoadTiming, ArchitecturalReReadWhenSameSelectorIsNotFree) {
  SegConfig c = user_protected();
  c.reload_same_selector_free = false;
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 0, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), load(SegReg::kFS, 0x2B)});
  EXPECT_EQ(rig.env.log.size(), 3u);
  EXPECT_EQ(rig.stats()["cpu.cycles"], 3 * kLat);
}

TEST(SegLoadTiming, UnitDescriptorCacheServesOtherRegisters) {
  SegConfig c = user_protected();
  c.desc_cache_entries = 4;
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 0, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), load(SegReg::kGS, 0x2B)});
  EXPECT_EQ(rig.env.log.size(), 2u);
  auto s = rig.stats();
  EXPECT_EQ(s["seg.desc_cache.hits"], 1u);
  EXPECT_EQ(s["cpu.cycles"], 2 * kLat);  // the GS load issues at 200 and costs nothing
}

// A load that faults after the read completes then; the register is unchanged.
TEST(SegLoadTiming, NotPresentFaultsAfterTheReadWithoutAWrite) {
  SegConfig c = user_protected();
  DescriptorTables t = tables_for(c);
  SegmentDescriptor np = SegmentDescriptor::decode(kUserData);
  np.present = false;
  t.set(LinearAddr(kGdt + 0x28), np.encode());
  Rig rig(PagingMode::kOff, c, kLat, 100, true, &t);
  rig.run({load(SegReg::kFS, 0x2B), rd(0x0, 4, R(SegReg::kFS))});
  EXPECT_EQ(rig.env.log.size(), 1u);
  const std::string e = rig.explained();
  EXPECT_NE(e.find("  fault: #NP(0x28) not_present -> load skipped, register unchanged, done@100"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("#GP cpu0 R FS:0x0 (4 bytes) issue@100\n"), std::string::npos) << e;
  auto s = rig.stats();
  EXPECT_EQ(s["seg.faults.np"], 1u);
  EXPECT_EQ(s["seg.faults.reason.null_selector"], 1u);
  EXPECT_EQ(s["cpu.seg_skipped"], 2u);
}

// A GDT record mid-trace rewrites the descriptor; the next load reads it again.
TEST(SegLoadTiming, DescriptorRecordInvalidatesCachedDescriptors) {
  SegConfig c = user_protected();
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::kOff, c, kLat, 100, true, &t);
  const uint64_t moved =
      make_segment(0x9000, 0x1000, kDataReadWrite, 3).encode() | kDescAccessedBit;
  rig.run({load(SegReg::kFS, 0x2B), rd(0x0, 4, R(SegReg::kFS)), desc(5, moved),
           load(SegReg::kFS, 0x2B), rd(0x0, 4, R(SegReg::kFS))});
  EXPECT_EQ(rig.mem.read64(PhysAddr(kGdt + 0x28)), moved);
  const std::string e = rig.explained();
  EXPECT_NE(e.find(" cpu0 R 0x8000 issue@"), std::string::npos) << e;
  EXPECT_NE(e.find(" cpu0 R 0x9000 issue@"), std::string::npos) << e;
  auto s = rig.stats();
  EXPECT_EQ(s["seg.desc_cache.misses"], 2u);
  EXPECT_EQ(s["cpu.seg_records"], 3u);
  EXPECT_EQ(s["cpu.translations"], 5u);  // 2 descriptor reads, the GDT store, 2 reads
}

// Two CPUs share the tables (one address space): a rewrite by one is seen by
// the other's next load, even of the selector it already holds.
TEST(SegLoadTiming, RewriteIsSeenByEveryCpu) {
  SegConfig c = user_protected();
  DescriptorTables t = tables_for(c);
  PhysMem mem;
  segint::PlainEnv env(kLat);
  CpuCoreConfig cc;
  cc.walker.mode = PagingMode::kOff;
  cc.seg = c;
  ExplainLog ex;  // every block kept
  CpuCore a(0, cc, mem, env, 0, nullptr, &t), b(1, cc, mem, env, 100, &ex, &t);
  b.process(load(SegReg::kFS, 0x2B));
  a.process(desc(5, make_segment(0x9000, 0x1000, kDataReadWrite, 3).encode()));
  b.process(load(SegReg::kFS, 0x2B));
  b.process(rd(0x4, 4, R(SegReg::kFS)));
  std::string e;
  for (const auto& s : ex.blocks()) e += s;
  EXPECT_NE(e.find(" cpu1 R 0x9004 issue@"), std::string::npos) << e;
}

// The table behind 32-bit paging: its page is mapped on first touch by the
// descriptor read itself, and the image is copied into the new frame.
TEST(SegLoadTiming, DescriptorTablePageFaultsInThroughPaging) {
  SegConfig c = user_protected(0x10000);
  DescriptorTables t = tables_for(c);
  Rig rig(PagingMode::k32Bit, c, kLat, 0, true, &t);
  rig.run(load(SegReg::kFS, 0x2B));
  ASSERT_EQ(rig.env.faults.size(), 1u);
  EXPECT_EQ(rig.env.faults[0].addr.value(), 0x10028u);
  ASSERT_TRUE(rig.os->page_table().is_mapped(LinearAddr(0x10000)));
  PageTable& pt = rig.os->page_table();
  const PhysAddr pte = *pt.leaf_entry_address(LinearAddr(0x10000), PageSize::k4K);
  const uint64_t frame = entry_address(pt.mode(), 1, rig.mem.read32(pte), true);
  EXPECT_EQ(rig.mem.read64(PhysAddr(frame + 0x28)), kUserData | kDescAccessedBit);
  EXPECT_EQ(rig.mem.read64(PhysAddr(frame + 0x20)), flat_data(3).encode() | kDescAccessedBit);
  // The last two DRAM accesses are the descriptor read and its write-back.
  ASSERT_GE(rig.env.log.size(), 2u);
  const auto& r = rig.env.log[rig.env.log.size() - 2];
  const auto& w = rig.env.log.back();
  EXPECT_EQ(r.addr.value(), frame + 0x28);
  EXPECT_FALSE(r.write);
  EXPECT_EQ(w.addr.value(), frame + 0x28);
  EXPECT_EQ(w.at, r.at + Cycles(kLat));
  EXPECT_EQ(rig.stats()["cpu.cycles"], w.at.count() + kLat);
}

}  // namespace
}  // namespace mmusim
