#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <vector>

#include "models/os/page_table.h"
#include "models/walker/walker.h"
#include "tests/walker/fixed_memory.h"

namespace mmusim {
namespace {

constexpr uint64_t kUser = pte::kRW | pte::kUS;

// Memory, allocator and a way to walk any table with a fresh walker (no
// paging-structure caches, so every walk reads the tables as they are now).
struct Rig {
  explicit Rig(FramePlacement pl = FramePlacement::kSpread, uint64_t bytes = 4ULL << 30)
      : frames(bytes, 1ULL << 20, 7, pl) {}
  WalkResult walk(const PageTable& t, LinearAddr a, AccessKind k) {
    WalkerConfig c;
    c.mode = t.mode().mode;
    Walker w(c, mem, timing);
    w.set_root(t.root(), Asid(0));
    return w.walk(a, k, true, Cycle(0));
  }
  FaultKind fault(const PageTable& t, LinearAddr a, AccessKind k) { return walk(t, a, k).fault; }
  PhysMem mem;
  PageFrameAllocator frames;
  testing::FixedLatencyMemory timing{100};
};

struct Case {
  PagingMode mode;
  PageSize size;
  unsigned leaf_level;  // level index of a leaf of this size
};

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  return std::string(paging_mode_info(i.param.mode).name) + "_" +
         std::string(page_size_name(i.param.size));
}

// Tables a fresh table creates to map one page: one per level below the
// root down to the leaf's, except PAE's page directories (made with the root).
unsigned new_tables(const Case& c) {
  return c.mode == PagingMode::kPae ? c.leaf_level - 1 : c.leaf_level;
}
uint64_t root_tables(PagingMode m) { return m == PagingMode::kPae ? 5 : 1; }
// 32-bit paging keeps tables below 4 GiB; the others get room for three
// 1 GiB pages whatever the spread placement does to the rest.
uint64_t memory_for(PagingMode m) { return m == PagingMode::k32Bit ? 4ULL << 30 : 16ULL << 30; }

// A page of size `s` well inside the low 4 GiB (every mode can reach it).
LinearAddr page_at(PageSize s, uint64_t n = 0) {
  const uint64_t base = s == PageSize::k1G ? 0x40000000ULL : 0x12400000ULL;
  return LinearAddr(base + n * page_bytes(s));
}

class PageTableModes : public ::testing::TestWithParam<Case> {};

TEST_P(PageTableModes, MapLookupUnmapAndTablesFreedBack) {
  const Case c = GetParam();
  Rig rig(FramePlacement::kSpread, memory_for(c.mode));
  const uint64_t used0 = rig.frames.frames_used();
  PageTable t(c.mode, rig.mem, rig.frames, 9);
  EXPECT_EQ(t.table_frames(), root_tables(c.mode));
  EXPECT_EQ(rig.frames.frames_used(), used0 + root_tables(c.mode));
  EXPECT_TRUE(rig.frames.meta(pfn_of(t.root())).test(FrameFlag::kPageTable));
  EXPECT_EQ(rig.frames.meta(pfn_of(t.root())).owner, 9U);
  const uint64_t used_empty = rig.frames.frames_used();

  const Pfn data = *rig.frames.allocate(c.size);
  const LinearAddr a(page_at(c.size).value() + 0xABC);  // any address inside the page
  PageTableLog log;
  ASSERT_EQ(t.map(a, data, c.size, kUser, &log), MapResult::kOk);
  EXPECT_EQ(log.tables_allocated.size(), new_tables(c));
  EXPECT_EQ(log.reads.size(), c.leaf_level + 1);
  ASSERT_EQ(log.writes.size(), new_tables(c) + 1);  // a pointer per new table, then the leaf
  EXPECT_EQ(t.table_frames(), root_tables(c.mode) + new_tables(c));
  for (Pfn p : log.tables_allocated) {
    EXPECT_TRUE(rig.frames.meta(p).test(FrameFlag::kPageTable));
    EXPECT_EQ(rig.frames.meta(p).mapcount, 1);  // one entry in use
  }

  auto m = t.lookup(a);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pfn, data);
  EXPECT_EQ(m->size, c.size);
  EXPECT_EQ(m->level, c.leaf_level);
  EXPECT_EQ(m->entry_addr, log.writes.back());
  EXPECT_EQ(rig.mem.read_entry(m->entry_addr, t.mode().entry_bytes), m->entry);
  EXPECT_EQ(m->entry & (pte::kP | pte::kRW | pte::kUS), pte::kP | pte::kRW | pte::kUS);
  EXPECT_FALSE(t.lookup(LinearAddr(page_at(c.size, 1).value())));

  WalkResult w = rig.walk(t, a, AccessKind::kWrite);
  ASSERT_EQ(w.fault, FaultKind::kNone);
  EXPECT_EQ(w.translation.pfn, data);
  EXPECT_EQ(w.translation.size, c.size);

  log.clear();
  auto gone = t.unmap(a, &log);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->pfn, data);
  EXPECT_TRUE(gone->entry & pte::kD);  // the walker's write set D before the unmap
  EXPECT_EQ(log.reads.size(), c.leaf_level + 1);
  ASSERT_EQ(log.writes.size(), 1U);
  EXPECT_EQ(log.writes[0], gone->entry_addr);
  EXPECT_EQ(rig.mem.read_entry(gone->entry_addr, t.mode().entry_bytes), 0U);
  EXPECT_FALSE(t.lookup(a));
  EXPECT_FALSE(t.unmap(a));
  EXPECT_EQ(rig.fault(t, a, AccessKind::kRead), FaultKind::kNotPresent);

  log.clear();
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end()), &log), new_tables(c));
  EXPECT_EQ(log.tables_freed.size(), new_tables(c));
  EXPECT_EQ(log.writes.size(), new_tables(c));  // each pointer to a freed table cleared
  EXPECT_EQ(t.table_frames(), root_tables(c.mode));
  rig.frames.free(data, c.size);
  EXPECT_EQ(rig.frames.frames_used(), used_empty);
  EXPECT_EQ(rig.fault(t, a, AccessKind::kRead), FaultKind::kNotPresent);
  // The empty table maps again.
  ASSERT_EQ(t.map(a, data, c.size, kUser), MapResult::kOk);
  EXPECT_EQ(rig.fault(t, a, AccessKind::kRead), FaultKind::kNone);
  t.unmap(a);

  const DestroyStats d = t.destroy();
  EXPECT_EQ(d.tables_freed, root_tables(c.mode) + new_tables(c));
  EXPECT_EQ(d.entries_dropped, 0U);
  EXPECT_FALSE(t.alive());
  EXPECT_EQ(t.table_frames(), 0U);
  EXPECT_EQ(rig.frames.frames_used(), used0);
  EXPECT_EQ(rig.mem.frames_materialized(), 0U);  // table contents released
}

TEST_P(PageTableModes, ProtectRewritesRightsAndKeepsTheFrame) {
  const Case c = GetParam();
  Rig rig(FramePlacement::kSpread, memory_for(c.mode));
  PageTable t(c.mode, rig.mem, rig.frames);
  const LinearAddr a = page_at(c.size);
  const Pfn data = *rig.frames.allocate(c.size);
  ASSERT_EQ(t.map(a, data, c.size, kUser | pte::kA), MapResult::kOk);
  EXPECT_EQ(rig.fault(t, a, AccessKind::kWrite), FaultKind::kNone);

  PageTableLog log;
  auto old = t.protect(a, pte::kUS, &log);  // read-only
  ASSERT_TRUE(old);
  EXPECT_TRUE(*old & pte::kRW);
  EXPECT_TRUE(*old & pte::kD);  // set by the write above
  ASSERT_EQ(log.writes.size(), 1U);
  auto m = t.lookup(a);
  EXPECT_EQ(m->pfn, data);
  EXPECT_EQ(m->entry, *old & ~pte::kRW);  // every other bit kept (A, D, PS, frame)
  EXPECT_EQ(log.writes[0], m->entry_addr);
  EXPECT_EQ(rig.fault(t, a, AccessKind::kWrite), FaultKind::kWriteProtect);
  EXPECT_EQ(rig.fault(t, a, AccessKind::kRead), FaultKind::kNone);

  ASSERT_TRUE(t.protect(a, pte::kRW));  // supervisor-only, writable
  EXPECT_EQ(rig.fault(t, a, AccessKind::kRead), FaultKind::kUserSupervisor);
  ASSERT_TRUE(t.protect(a, kUser | pte::kXD));
  EXPECT_EQ(rig.fault(t, a, AccessKind::kWrite), FaultKind::kNone);
  const bool xd = t.mode().has_xd && t.mode().entry_bytes == 8;
  EXPECT_EQ(rig.fault(t, a, AccessKind::kFetch),
            xd ? FaultKind::kExecuteDisable : FaultKind::kNone);
  EXPECT_EQ(t.lookup(a)->pfn, data);
  EXPECT_FALSE(t.protect(page_at(c.size, 1), kUser));  // nothing mapped there
}

TEST_P(PageTableModes, CloneCopiesWriteProtectsAndDestroysBack) {
  const Case c = GetParam();
  Rig rig(FramePlacement::kSpread, memory_for(c.mode));
  const uint64_t used0 = rig.frames.frames_used();
  PageTable parent(c.mode, rig.mem, rig.frames, 1);
  const LinearAddr cow = page_at(c.size, 0), shared = page_at(c.size, 1),
                   skipped = page_at(c.size, 2);
  std::vector<Pfn> data;
  for (LinearAddr a : {cow, shared, skipped}) {
    data.push_back(*rig.frames.allocate(c.size));
    ASSERT_EQ(parent.map(a, data.back(), c.size, kUser), MapResult::kOk);
    ASSERT_EQ(rig.fault(parent, a, AccessKind::kRead), FaultKind::kNone);  // sets A
  }
  const uint64_t parent_tables = parent.table_frames();
  const uint64_t used_before = rig.frames.frames_used();

  std::vector<uint64_t> offered;
  auto decide = [&](LinearAddr a, PageSize s, uint64_t e) {
    EXPECT_EQ(s, c.size);
    EXPECT_TRUE(e & pte::kP);
    offered.push_back(a.value());
    CloneDecision d;
    if (a == cow) d.write_protect = true;
    if (a == skipped) d.copy = false;
    d.child_clear = pte::kA;  // the child's entries start old
    return d;
  };
  PageTableLog log;
  CloneResult r = PageTable::clone(parent, decide, &log, 2);
  ASSERT_TRUE(r.table);
  PageTable& child = *r.table;
  EXPECT_EQ(offered, (std::vector<uint64_t>{cow.value(), shared.value(), skipped.value()}));
  EXPECT_EQ(r.stats.leaves_copied, 2U);
  EXPECT_EQ(r.stats.nonpresent_copied, 0U);
  EXPECT_EQ(r.stats.write_protected, 1U);
  EXPECT_EQ(r.stats.tables_created, child.table_frames());
  EXPECT_EQ(child.table_frames(), parent_tables);  // same shape here
  EXPECT_EQ(log.tables_allocated.size(), child.table_frames());
  EXPECT_EQ(rig.frames.meta(pfn_of(child.root())).owner, 2U);
  // Writes: a pointer per new table below the root (PAE: the 4 PDPTEs too),
  // the parent's write-protect, the two child leaves.
  EXPECT_EQ(log.writes.size(), (child.table_frames() - 1) + 1 + 2);

  auto pc = parent.lookup(cow), cc = child.lookup(cow);
  ASSERT_TRUE(pc && cc);
  EXPECT_EQ(cc->pfn, data[0]);
  EXPECT_FALSE(pc->entry & pte::kRW);
  EXPECT_FALSE(cc->entry & pte::kRW);
  EXPECT_TRUE(pc->entry & pte::kA);
  EXPECT_FALSE(cc->entry & pte::kA);
  EXPECT_EQ(child.lookup(shared)->pfn, data[1]);
  EXPECT_TRUE(child.lookup(shared)->entry & pte::kRW);
  EXPECT_FALSE(child.lookup(skipped));
  EXPECT_TRUE(parent.lookup(skipped));

  EXPECT_EQ(rig.fault(parent, cow, AccessKind::kWrite), FaultKind::kWriteProtect);
  EXPECT_EQ(rig.fault(child, cow, AccessKind::kWrite), FaultKind::kWriteProtect);
  EXPECT_EQ(rig.walk(child, cow, AccessKind::kRead).translation.pfn, data[0]);
  EXPECT_EQ(rig.fault(child, shared, AccessKind::kWrite), FaultKind::kNone);
  EXPECT_EQ(rig.fault(child, skipped, AccessKind::kRead), FaultKind::kNotPresent);
  EXPECT_EQ(rig.fault(parent, skipped, AccessKind::kWrite), FaultKind::kNone);

  const DestroyStats dc = child.destroy();
  EXPECT_EQ(dc.tables_freed, parent_tables);
  EXPECT_EQ(dc.entries_dropped, 2U);
  EXPECT_EQ(rig.frames.frames_used(), used_before);
  EXPECT_EQ(rig.fault(parent, shared, AccessKind::kRead), FaultKind::kNone);  // untouched
  const DestroyStats dp = parent.destroy();
  EXPECT_EQ(dp.entries_dropped, 3U);
  for (Pfn p : data) rig.frames.free(p, c.size);
  EXPECT_EQ(rig.frames.frames_used(), used0);
}

INSTANTIATE_TEST_SUITE_P(AllModes, PageTableModes,
                         ::testing::Values(Case{PagingMode::k32Bit, PageSize::k4K, 1},
                                           Case{PagingMode::k32Bit, PageSize::k4M, 0},
                                           Case{PagingMode::kPae, PageSize::k4K, 2},
                                           Case{PagingMode::kPae, PageSize::k2M, 1},
                                           Case{PagingMode::k4Level, PageSize::k4K, 3},
                                           Case{PagingMode::k4Level, PageSize::k2M, 2},
                                           Case{PagingMode::k4Level, PageSize::k1G, 1},
                                           Case{PagingMode::k5Level, PageSize::k4K, 4},
                                           Case{PagingMode::k5Level, PageSize::k2M, 3},
                                           Case{PagingMode::k5Level, PageSize::k1G, 2}),
                         case_name);

class PageTableEveryMode : public ::testing::TestWithParam<PagingMode> {};

// Many pages over many tables: unmapping them all and freeing the empty
// tables returns every table frame; destroying returns the root.
TEST_P(PageTableEveryMode, ManyTablesAllFreedBack) {
  Rig rig;
  const uint64_t used0 = rig.frames.frames_used();
  PageTable t(GetParam(), rig.mem, rig.frames);
  const uint64_t empty = t.table_frames();
  std::vector<LinearAddr> pages;
  for (uint64_t i = 0; i < 64; ++i) pages.emplace_back((i * 0x2345000ULL) & 0xFFFFF000ULL);
  std::set<uint64_t> distinct;
  for (LinearAddr a : pages) {
    if (!distinct.insert(a.value()).second) continue;
    ASSERT_EQ(t.map(a, Pfn(0x100 + distinct.size()), PageSize::k4K, kUser), MapResult::kOk);
  }
  EXPECT_GT(t.table_frames(), empty + 10);
  for (uint64_t v : distinct) {
    ASSERT_EQ(rig.fault(t, LinearAddr(v + 0x10), AccessKind::kRead), FaultKind::kNone);
  }
  // Half unmapped: tables still in use stay.
  size_t k = 0;
  for (uint64_t v : distinct) {
    if (k++ % 2 == 0) {
      ASSERT_TRUE(t.unmap(LinearAddr(v)));
    }
  }
  t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end()));
  k = 0;
  for (uint64_t v : distinct) {
    EXPECT_EQ(rig.fault(t, LinearAddr(v), AccessKind::kRead),
              k++ % 2 == 0 ? FaultKind::kNotPresent : FaultKind::kNone);
  }
  for (uint64_t v : distinct) t.unmap(LinearAddr(v));
  t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end()));
  EXPECT_EQ(t.table_frames(), empty);
  EXPECT_EQ(rig.frames.frames_used(), used0 + empty);
  EXPECT_EQ(t.destroy().tables_freed, empty);
  EXPECT_EQ(rig.frames.frames_used(), used0);
}

// A table frame freed and handed out again (sequential placement reuses the
// lowest frames) shows none of its previous entries.
TEST_P(PageTableEveryMode, RecycledTableFramesShowNoStaleEntries) {
  Rig rig(FramePlacement::kSequential);
  const LinearAddr a(0x00403000);
  PhysAddr old_root;
  {
    PageTable t(GetParam(), rig.mem, rig.frames);
    ASSERT_EQ(t.map(a, Pfn(0x777), PageSize::k4K, kUser), MapResult::kOk);
    old_root = t.root();
    t.destroy();  // the leaf is still there when the frames go back
  }
  // Meanwhile the frames held other data: present-looking entries everywhere.
  for (uint64_t p = 256; p < 272; ++p) {
    for (uint64_t off = 0; off < 4096; off += 8) {
      rig.mem.write64(PhysAddr((p << 12) + off), 0x00000000777000E7ULL);
    }
  }
  PageTable u(GetParam(), rig.mem, rig.frames);
  EXPECT_EQ(u.root(), old_root);
  EXPECT_FALSE(u.lookup(a));
  EXPECT_EQ(rig.fault(u, a, AccessKind::kRead), FaultKind::kNotPresent);
  // Its next tables reuse the old ones' frames, again empty.
  ASSERT_EQ(u.map(LinearAddr(0x00402000), Pfn(0x778), PageSize::k4K, kUser), MapResult::kOk);
  EXPECT_FALSE(u.lookup(a));
  EXPECT_EQ(rig.fault(u, a, AccessKind::kRead), FaultKind::kNotPresent);
  u.destroy();
}

// Non-present software entries (future swap entries) are offered to the
// decider and copied as they are.
TEST_P(PageTableEveryMode, CloneCopiesNonPresentSoftwareEntries) {
  Rig rig;
  PageTable t(GetParam(), rig.mem, rig.frames);
  const LinearAddr swapped(0x00200000), mapped(0x00201000);
  const uint64_t swap_entry = 0xABC0;  // P = 0
  ASSERT_EQ(t.write_leaf_entry(swapped, PageSize::k4K, swap_entry), 0U);
  ASSERT_EQ(t.map(mapped, Pfn(0x900), PageSize::k4K, kUser), MapResult::kOk);
  EXPECT_FALSE(t.lookup(swapped));
  EXPECT_EQ(rig.fault(t, swapped, AccessKind::kRead), FaultKind::kNotPresent);
  CloneResult r = PageTable::clone(t, nullptr);  // an empty decider copies everything
  ASSERT_TRUE(r.table);
  EXPECT_EQ(r.stats.leaves_copied, 1U);
  EXPECT_EQ(r.stats.nonpresent_copied, 1U);
  EXPECT_EQ(r.stats.write_protected, 0U);
  const PhysAddr ea = *r.table->leaf_entry_address(swapped, PageSize::k4K);
  EXPECT_EQ(rig.mem.read_entry(ea, t.mode().entry_bytes), swap_entry);
  EXPECT_EQ(r.table->lookup(mapped)->entry, t.lookup(mapped)->entry);
  // The software entry keeps its table alive; cleared, the table can go.
  EXPECT_EQ(r.table->destroy().entries_dropped, 2U);
  t.unmap(mapped);
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end())), 0U);
  ASSERT_EQ(t.write_leaf_entry(swapped, PageSize::k4K, 0), swap_entry);
  const uint64_t below_root = GetParam() == PagingMode::k4Level   ? 3
                              : GetParam() == PagingMode::k5Level ? 4
                                                                  : 1;  // the PT
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end())), below_root);
  t.destroy();
}

INSTANTIATE_TEST_SUITE_P(AllModes, PageTableEveryMode,
                         ::testing::Values(PagingMode::k32Bit, PagingMode::kPae,
                                           PagingMode::k4Level, PagingMode::k5Level),
                         [](const ::testing::TestParamInfo<PagingMode>& i) {
                           return std::string(paging_mode_info(i.param).name);
                         });

TEST(PageTable, MapFailuresAreValues) {
  Rig rig;
  PageTable t(PagingMode::k4Level, rig.mem, rig.frames);
  const LinearAddr a(0x40000000);
  ASSERT_EQ(t.map(a, Pfn(0x200), PageSize::k2M, kUser), MapResult::kOk);
  EXPECT_EQ(t.map(a, Pfn(0x400), PageSize::k2M, kUser), MapResult::kAlreadyMapped);
  EXPECT_EQ(t.map(LinearAddr(0x40001000), Pfn(1), PageSize::k4K, kUser),
            MapResult::kSizeConflict);  // inside the 2 MiB page
  EXPECT_EQ(t.map(a, Pfn(0x40000), PageSize::k1G, kUser),
            MapResult::kSizeConflict);  // a PD is below that PDPTE
  ASSERT_EQ(t.map(LinearAddr(0x80000000), Pfn(5), PageSize::k4K, kUser), MapResult::kOk);
  EXPECT_EQ(t.map(LinearAddr(0x80000000), Pfn(0x200), PageSize::k2M, kUser),
            MapResult::kSizeConflict);  // a PT is below that PDE
  EXPECT_EQ(t.map(LinearAddr(0x80200000), Pfn(0x201), PageSize::k2M, kUser),
            MapResult::kMisaligned);
  EXPECT_EQ(t.map(LinearAddr(0x80400000), Pfn(0), PageSize::k4M, kUser),
            MapResult::kUnsupportedSize);
  EXPECT_EQ(t.lookup(a)->pfn, Pfn(0x200));  // untouched by the failures
  EXPECT_FALSE(t.leaf_entry_address(LinearAddr(0x40002000), PageSize::k4K));
  PageTable pae(PagingMode::kPae, rig.mem, rig.frames);
  EXPECT_EQ(pae.map(a, Pfn(0x40000), PageSize::k1G, kUser), MapResult::kUnsupportedSize);
  PageTable off(PagingMode::kOff, rig.mem, rig.frames);
  EXPECT_FALSE(off.alive());
  EXPECT_EQ(off.map(a, Pfn(0), PageSize::k4K, kUser), MapResult::kUnsupportedSize);
  EXPECT_FALSE(off.lookup(a));
  EXPECT_STREQ(std::string(map_result_name(MapResult::kSizeConflict)).c_str(),
               "page-size conflict");
}

TEST(PageTable, OutOfMemoryIsAValue) {
  PhysMem mem;
  PageFrameAllocator two(2ULL * 4096, 0, 1);  // the root and one more table
  PageTable t(PagingMode::k4Level, mem, two);
  PageTableLog log;
  EXPECT_EQ(t.map(LinearAddr(0x1000), Pfn(0x10), PageSize::k4K, kUser, &log), MapResult::kNoMemory);
  EXPECT_EQ(log.tables_allocated.size(), 1U);  // the PDPT stays, empty
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0), LinearAddr(t.user_end())), 1U);
  EXPECT_EQ(two.frames_used(), 1U);
  EXPECT_FALSE(PageTable::create(PagingMode::kPae, mem, two));  // needs 5 frames
  EXPECT_EQ(two.frames_used(), 1U);                             // nothing leaked
  EXPECT_THROW({ PageTable p(PagingMode::kPae, mem, two); }, std::runtime_error);
  t.destroy();
  EXPECT_EQ(two.frames_used(), 0U);
}

TEST(PageTable, CloneOutOfMemoryFreesThePartialChild) {
  PhysMem mem;
  PageFrameAllocator frames(16ULL * 4096, 0, 1, FramePlacement::kSequential);
  PageTable t(PagingMode::k4Level, mem, frames);
  ASSERT_EQ(t.map(LinearAddr(0x1000), Pfn(0x40), PageSize::k4K, kUser), MapResult::kOk);
  ASSERT_EQ(t.map(LinearAddr(0x8000000000ULL), Pfn(0x41), PageSize::k4K, kUser), MapResult::kOk);
  ASSERT_EQ(t.table_frames(), 7U);
  // 9 frames left: the child needs 7 tables. Take 3 so that it runs out.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(frames.allocate(0U));
  const uint64_t used = frames.frames_used();
  auto cow = [](LinearAddr, PageSize, uint64_t) { return CloneDecision{true, true, 0}; };
  CloneResult r = PageTable::clone(t, cow);
  EXPECT_FALSE(r.table);
  EXPECT_EQ(frames.frames_used(), used);
  EXPECT_EQ(r.stats.leaves_copied, 1U);  // the first subtree made it
  // Write-protected in the parent before the abort: stays so (a fault reuses it).
  EXPECT_FALSE(t.lookup(LinearAddr(0x1000))->entry & pte::kRW);
}

TEST(PageTable, CloneCreatesChildTablesOnlyWhereSomethingIsCopied) {
  Rig rig;
  PageTable t(PagingMode::k4Level, rig.mem, rig.frames);
  const LinearAddr keep(0x1000), drop(0x7F0000000000ULL);
  ASSERT_EQ(t.map(keep, Pfn(0x40), PageSize::k4K, kUser), MapResult::kOk);
  ASSERT_EQ(t.map(drop, Pfn(0x41), PageSize::k4K, kUser), MapResult::kOk);
  // A kernel-half mapping is not user space: never offered.
  ASSERT_EQ(t.map(LinearAddr(0xFFFF800000000000ULL), Pfn(0x42), PageSize::k4K, pte::kRW),
            MapResult::kOk);
  ASSERT_EQ(t.table_frames(), 10U);
  uint64_t offered = 0;
  CloneResult r = PageTable::clone(t, [&](LinearAddr a, PageSize, uint64_t) {
    ++offered;
    return CloneDecision{a == keep, false, 0};
  });
  ASSERT_TRUE(r.table);
  EXPECT_EQ(offered, 2U);
  EXPECT_EQ(r.table->table_frames(), 4U);  // root, PDPT, PD, PT of `keep`
  EXPECT_EQ(r.stats.tables_created, 4U);
  EXPECT_TRUE(r.table->lookup(keep));
  EXPECT_FALSE(r.table->lookup(drop));
  EXPECT_FALSE(r.table->lookup(LinearAddr(0xFFFF800000000000ULL)));
  r.table->destroy();
  t.destroy();
}

TEST(PageTable, FreeEmptyTablesStaysInsideTheRange) {
  Rig rig;
  PageTable t(PagingMode::k4Level, rig.mem, rig.frames);
  const LinearAddr lo(0x1000), hi(0x7F0000001000ULL);
  ASSERT_EQ(t.map(lo, Pfn(0x40), PageSize::k4K, kUser), MapResult::kOk);
  ASSERT_EQ(t.map(hi, Pfn(0x41), PageSize::k4K, kUser), MapResult::kOk);
  t.unmap(lo);
  t.unmap(hi);
  EXPECT_EQ(t.table_frames(), 7U);
  PageTableLog log;
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0), LinearAddr(0x200000), &log), 3U);
  EXPECT_EQ(t.table_frames(), 4U);
  EXPECT_EQ(log.tables_freed.size(), 3U);
  // The upper region's tables are still there: mapping next to `hi` adds none.
  log.clear();
  ASSERT_EQ(t.map(LinearAddr(hi.value() + 0x1000), Pfn(0x42), PageSize::k4K, kUser, &log),
            MapResult::kOk);
  EXPECT_TRUE(log.tables_allocated.empty());
  t.unmap(LinearAddr(hi.value() + 0x1000));
  EXPECT_EQ(t.free_empty_tables(LinearAddr(0x7F0000000000ULL), LinearAddr(0x7F0000200000ULL)), 3U);
  EXPECT_EQ(t.table_frames(), 1U);
  EXPECT_EQ(t.free_empty_tables(LinearAddr(5), LinearAddr(5)), 0U);  // empty range
  t.destroy();
}

TEST(PageTable, MovedFromTableIsEmpty) {
  Rig rig;
  auto t = PageTable::create(PagingMode::k4Level, rig.mem, rig.frames);
  ASSERT_TRUE(t);
  PageTable u(std::move(*t));
  EXPECT_FALSE(t->alive());
  EXPECT_EQ(t->destroy().tables_freed, 0U);
  EXPECT_TRUE(u.alive());
  EXPECT_EQ(u.destroy().tables_freed, 1U);
}

}  // namespace
}  // namespace mmusim
