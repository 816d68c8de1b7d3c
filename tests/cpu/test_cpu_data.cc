// The CPU core's data side (cache.data): once an access has its physical
// address it reads or writes the L1D line by line (fetches the L1I), and
// retires when its data is there. Plain C++ with a fixed-latency memory below
// the first level (the Env's default data_miss), so every cycle is a formula.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "models/arch/paging.h"
#include "models/cache/cache.h"
#include "models/common/phys_mem.h"
#include "models/cpu/cpu_core.h"
#include "tests/common/cpu_fakes.h"

namespace mmusim {
namespace {

using testing::FakeEnv;

constexpr uint64_t kMem = 100;  // every reference below the L1: 100 cycles
constexpr uint64_t kL1 = 4;     // L1D and L1I lookup
constexpr uint64_t kTlbL1 = 1, kTlbL2 = 9;
constexpr uint64_t kPfn1 = 0x100, kPfn2 = 0x205;  // frames of pages 0x1000, 0x2000

TraceRecord rec(uint64_t addr, AccessKind k = AccessKind::kRead, uint32_t size = 8) {
  TraceRecord r;
  r.addr = addr;
  r.size = size;
  r.kind = k;
  return r;
}

// Pages 0x1000 and 0x2000 mapped (A and D preset: walks only read), a core
// with one access in flight (window 1: each access issues when the one
// before retired), an L1D and an L1I of 2 sets x 2 ways of 64-byte lines.
struct DataCore {
  PhysMem mem;
  FakeEnv env{kMem};
  Cache l1d{CacheGeometry{256, 2, 64, Cycles(kL1), 4}};
  Cache l1i{CacheGeometry{256, 2, 64, Cycles(kL1), 4}};
  ExplainLog log;
  std::unique_ptr<CpuCore> core;

  explicit DataCore(uint32_t window = 1, uint32_t store_buffer = 0) {
    const PagingModeInfo& m = paging_mode_info(PagingMode::k4Level);
    const uint64_t flags = pte::kRW | pte::kUS | pte::kA;
    const uint64_t root = 0x10000;
    auto map = [&](uint64_t va, uint64_t pfn) {
      uint64_t table = root;
      for (unsigned l = 0; l < 4; ++l) {
        const PhysAddr ea(table + 8 * uint64_t{level_index(m, l, LinearAddr(va))});
        const bool leaf = l == 3;
        const uint64_t next = leaf ? pfn << 12 : root + ((l + 1) << 12);
        mem.write64(ea, make_entry(m, l, leaf, next, flags | (leaf ? pte::kD : 0)));
        table = next;
      }
    };
    map(0x1000, kPfn1);
    map(0x2000, kPfn2);
    CpuCoreConfig c;
    c.ag.issue_width = 1;
    c.ag.window = window;
    c.ag.store_buffer = store_buffer;
    core = std::make_unique<CpuCore>(0, c, mem, env, 100, &log);
    core->set_root(PhysAddr(root));
    core->use_data_caches(l1d, l1i);
  }
  // The explain block of translation n (1-based), its data line.
  [[nodiscard]] std::string data_line(size_t n) const {
    const std::string& b = log.blocks().at(n - 1);
    const size_t p = b.find("  data: ");
    return p == std::string::npos ? "" : b.substr(p, b.find('\n', p) - p);
  }
  [[nodiscard]] uint64_t issue(size_t n) const {
    const std::string& b = log.blocks().at(n - 1);
    return std::stoull(b.substr(b.find("issue@") + 6));
  }
};

// A cold walk: 4 reads of kMem after the TLB misses (1 + 9) and the walker's
// overhead (2); the data read then misses the L1D (kL1) and reads memory.
constexpr uint64_t kWalkDone = kTlbL1 + kTlbL2 + 2 + 4 * kMem;

// A store buffer of two entries (cpu.store_buffer = 2): a store retires once
// translated and holding an entry; its line is written from the entry on, in
// order after the stores before it; a store finding both entries taken waits
// for the oldest write; INVLPG (serializing) waits for the buffer to drain.
TEST(CpuData, StoresRetireIntoTheStoreBufferByHand) {
  DataCore d(1, 2);
  d.core->process(rec(0x1000));                      // 1: walk, L1D miss (line 0, set 0)
  d.core->process(rec(0x1040, AccessKind::kWrite));  // 2: line 1 (set 1): write miss
  d.core->process(rec(0x1008, AccessKind::kWrite));  // 3: line 0: hit, written after 2
  d.core->process(rec(0x1080, AccessKind::kWrite));  // 4: line 2 (set 0): both entries taken
  d.core->process(rec(0x1048));                      // 5: line 1: hit
  TraceRecord inv;
  inv.addr = 0x5000;
  inv.flags = trace_flags::kOpInvlpg;
  d.core->process(inv);          // block 6: drains the pipeline and the buffer
  d.core->process(rec(0x1050));  // 7: line 1 again, after the INVLPG
  d.core->finish();
  const uint64_t r1 = kWalkDone + kL1 + kMem;
  const auto c = [](uint64_t v) { return std::to_string(v); };
  // 2: an L1 TLB hit at r1 (its L1D lookup overlaps: from r1): retires at the
  // translation, r1 + 1; its line is there at r1 + 104.
  EXPECT_EQ(d.issue(2), r1);
  EXPECT_EQ(d.data_line(2), "  data: 0x100040 L1D miss, from DRAM, " + c(r1) + "->" +
                                c(r1 + kL1 + kMem) + " (104 cycles); store buffer: retired at " +
                                c(r1));
  // 3: issues at r1 + 1, hits at r1 + 5, written once 2 is (r1 + 104).
  EXPECT_EQ(d.issue(3), r1 + kTlbL1);
  EXPECT_EQ(d.data_line(3), "  data: 0x100008 L1D hit, " + c(r1 + 1) + "->" + c(r1 + 1 + kL1) +
                                " (4 cycles); store buffer: retired at " + c(r1 + 1) +
                                ", written after the older stores at " + c(r1 + 104));
  // 4: issues at r1 + 2; both entries are taken until r1 + 104: its entry
  // and lookup start then (102 cycles of waiting), its line is written at
  // r1 + 208; it retires at r1 + 104.
  EXPECT_EQ(d.issue(4), r1 + 2);
  EXPECT_EQ(d.data_line(4), "  data: 0x100080 L1D miss, from DRAM, " + c(r1 + 104) + "->" +
                                c(r1 + 208) + " (104 cycles); store buffer: retired at " +
                                c(r1 + 104));
  EXPECT_EQ(d.issue(5), r1 + 104);
  // The INVLPG starts when the buffer's last write is done (r1 + 208), not
  // when 5 retired (r1 + 108); 7 issues after its 200 cycles.
  EXPECT_NE(d.log.blocks().at(5).find("INV cpu0 issue@" + c(r1 + 208)), std::string::npos)
      << d.log.blocks().at(5);
  EXPECT_EQ(d.issue(7), r1 + 208 + 200);
  EXPECT_EQ(d.core->stats().cycles, r1 + 408 + kL1);
  EXPECT_TRUE(d.core->stats().store_buffer);
  EXPECT_EQ(d.core->stats().stores_buffered, 3U);
  EXPECT_EQ(d.core->stats().store_buffer_full, 1U);
  EXPECT_EQ(d.core->stats().store_buffer_wait_cycles, 102U);
  // Without the buffer every store retires when its line is there.
  DataCore n(1, 0);
  for (uint64_t a : {0x1000, 0x1040, 0x1008, 0x1080, 0x1048}) {
    n.core->process(rec(a, a == 0x1000 || a == 0x1048 ? AccessKind::kRead : AccessKind::kWrite));
  }
  n.core->finish();
  EXPECT_EQ(n.issue(3), r1 + kL1 + kMem);
  EXPECT_FALSE(n.core->stats().store_buffer);
  EXPECT_EQ(n.core->stats().stores_buffered, 0U);
}

TEST(CpuData, RetiresWhenTheDataIsThereHitsAndMissesByHand) {
  DataCore d;
  const uint64_t a1 = kPfn1 << 12;
  d.core->process(rec(0x1000));                      // 1: walk, L1D miss (set 0, line 0)
  d.core->process(rec(0x1008));                      // 2: L1 TLB hit, same line: L1D hit
  d.core->process(rec(0x1040));                      // 3: line 1 (set 1): miss
  d.core->process(rec(0x1080, AccessKind::kWrite));  // 4: line 2 (set 0): write miss, dirty
  d.core->process(rec(0x1100));                      // 5: line 4 (set 0): evicts line 0 (clean)
  d.core->process(rec(0x1180));                      // 6: line 6 (set 0): evicts line 2 (dirty)
  d.core->finish();
  // 1: the data read is made when the walk completes.
  const uint64_t r1 = kWalkDone + kL1 + kMem;
  EXPECT_EQ(d.data_line(1), "  data: 0x100000 L1D miss, from DRAM, " + std::to_string(kWalkDone) +
                                "->" + std::to_string(r1) + " (104 cycles)");
  // 2: issues when 1 retired; the L1D lookup overlaps the L1 TLB's (VIPT).
  EXPECT_EQ(d.issue(2), r1);
  EXPECT_EQ(d.data_line(2), "  data: 0x100008 L1D hit, " + std::to_string(r1) + "->" +
                                std::to_string(r1 + kL1) + " (4 cycles)");
  const uint64_t r2 = r1 + kL1, r3 = r2 + kL1 + kMem, r4 = r3 + kL1 + kMem;
  const uint64_t r5 = r4 + kL1 + kMem, r6 = r5 + kL1 + kMem;
  EXPECT_EQ(d.issue(3), r2);
  EXPECT_EQ(d.issue(4), r3);
  EXPECT_EQ(d.issue(5), r4);
  EXPECT_EQ(d.issue(6), r5);
  EXPECT_EQ(d.core->stats().cycles, r6);
  // Counts of initiator "data" (slot 1): 6 accesses, 1 hit.
  EXPECT_EQ(d.l1d.counts(1).accesses, 6U);
  EXPECT_EQ(d.l1d.counts(1).hits, 1U);
  EXPECT_EQ(d.l1d.counts(1).misses, 5U);
  EXPECT_EQ(d.l1d.writebacks(), 1U);
  // Below the L1: 4 walk reads, 5 line reads, 1 writeback of line 2 when
  // access 6's miss was passed on.
  ASSERT_EQ(d.env.log.size(), 10U);
  const FakeEnv::Access& wb = d.env.log.back();
  EXPECT_TRUE(wb.write);
  EXPECT_EQ(wb.addr.value(), a1 + 0x80);
  EXPECT_EQ(wb.at.count(), r5 + kL1);
  EXPECT_EQ(d.env.writes, 1U);
  EXPECT_TRUE(d.l1d.contains((a1 + 0x100) >> 6));
  EXPECT_TRUE(d.l1d.contains((a1 + 0x180) >> 6));
  EXPECT_FALSE(d.l1d.contains((a1 + 0x80) >> 6));
}

// An access that crosses a line touches both lines; one that crosses a page
// touches each half at its own physical address (the second half after its
// own walk).
TEST(CpuData, LineAndPageCrossingAccessesTouchEveryLine) {
  DataCore d;
  d.core->process(rec(0x1000));                         // 1: walk, line 0
  d.core->process(rec(0x1038, AccessKind::kRead, 16));  // 2: lines 0 (hit) and 1 (miss)
  d.core->process(rec(0x1FFC, AccessKind::kRead, 8));   // 3: page 1's last line, page 2's first
  d.core->finish();
  const uint64_t r1 = kWalkDone + kL1 + kMem;
  EXPECT_EQ(d.data_line(2), "  data: 0x100038 (2 lines) L1D miss, from DRAM, " +
                                std::to_string(r1) + "->" + std::to_string(r1 + kL1 + kMem) +
                                " (104 cycles)");
  const uint64_t r2 = r1 + kL1 + kMem;
  // 3's first half: an L1 TLB hit, line 0x3f of page 1 (a miss); its second
  // half walks page 2 (PML4/PDPT/PD entries shared, 4 reads: no PWC) and
  // reads page 2's line 0.
  EXPECT_EQ(d.issue(3), r2);
  EXPECT_EQ(d.data_line(3), "  data: 0x100ffc L1D miss, from DRAM, " + std::to_string(r2) + "->" +
                                std::to_string(r2 + kL1 + kMem) + " (104 cycles)");
  // The second half is translation 4: it issues when the first half
  // retired (window 1), walks, and reads its line at page 2's frame.
  const uint64_t r3 = r2 + kL1 + kMem;
  EXPECT_EQ(d.issue(4), r3);
  EXPECT_EQ(d.data_line(4), "  data: 0x205000 L1D miss, from DRAM, " +
                                std::to_string(r3 + kWalkDone) + "->" +
                                std::to_string(r3 + kWalkDone + kL1 + kMem) + " (104 cycles)");
  EXPECT_EQ(d.core->stats().page_splits, 1U);
  EXPECT_EQ(d.core->stats().translations, 4U);
  // Data accesses: 1 + 2 + 2 lines; hits: line 0 in access 2.
  EXPECT_EQ(d.l1d.counts(1).accesses, 5U);
  EXPECT_EQ(d.l1d.counts(1).hits, 1U);
  EXPECT_TRUE(d.l1d.contains((kPfn2 << 12) >> 6));
  EXPECT_TRUE(d.l1d.contains(((kPfn1 << 12) + 0xFC0) >> 6));
}

// X fetches go through the L1I (initiator "instruction", slot 2), not the L1D.
TEST(CpuData, FetchesGoThroughTheL1i) {
  DataCore d;
  d.core->process(rec(0x1000, AccessKind::kFetch));
  d.core->process(rec(0x1004, AccessKind::kFetch));
  d.core->process(rec(0x1000));
  d.core->finish();
  EXPECT_EQ(d.l1i.counts(2).accesses, 2U);
  EXPECT_EQ(d.l1i.counts(2).hits, 1U);
  EXPECT_EQ(d.l1i.counts(1).accesses, 0U);
  EXPECT_EQ(d.l1d.counts(1).accesses, 1U);
  EXPECT_EQ(d.l1d.counts(1).misses, 1U);  // the L1I's copy does not serve data reads
  EXPECT_EQ(d.l1d.counts(2).accesses, 0U);
  EXPECT_NE(d.data_line(1).find("L1I miss, from DRAM"), std::string::npos) << d.data_line(1);
  EXPECT_NE(d.data_line(2).find("L1I hit"), std::string::npos) << d.data_line(2);
}

// With a window, independent misses overlap: four accesses to four lines of
// one page issue one a cycle and their misses are in flight together,
// bounded by the L1D's MSHRs (4, then 2).
TEST(CpuData, WindowAndMshrsBoundTheMemoryLevelParallelism) {
  for (const uint32_t mshrs : {4U, 2U}) {
    DataCore d(8);
    d.l1d = Cache(CacheGeometry{1024, 2, 64, Cycles(kL1), mshrs});
    d.core->process(rec(0x1000));  // walk; line 0
    const uint64_t r1 = kWalkDone + kL1 + kMem;
    for (uint64_t i = 1; i <= 3; ++i) d.core->process(rec(0x1000 + 64 * i));
    d.core->finish();
    // Accesses 2-4 find the page's walk pending: they merge into it and read
    // their lines when it completes, as access 1 does.
    if (mshrs == 4) {
      EXPECT_EQ(d.core->stats().cycles, r1) << "four misses in flight at once";
    } else {
      // Two MSHRs: line 0 and line 1 go at kWalkDone + kL1; lines 2 and 3 wait
      // for the first fills (at r1) and complete kMem later.
      EXPECT_EQ(d.core->stats().cycles, r1 + kMem);
      EXPECT_EQ(d.l1d.mshr_full(), 2U);
    }
  }
}

}  // namespace
}  // namespace mmusim
