// Shadow entries and the refault test (os-model.md §1.4): the refault
// distance against the workingset size of each type, activation, restore,
// the cost it adds, and dropping shadows on truncate / close.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/os/lru.h"
#include "models/os/workingset.h"

namespace mmusim {
namespace {

// An LruVec holding `n[i]` pages on list i (frames kept here).
struct Lists {
  LruVec lru;
  std::vector<PageFrame> frames = std::vector<PageFrame>(1000);
  uint64_t next = 0;
  void fill(LruList l, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i, ++next) {
      PageFrame& f = frames.at(next);
      if (is_file_lru(l)) f.set(FrameFlag::kFileLru);
      if (is_active_lru(l)) f.set(FrameFlag::kActive);
      lru.add(Pfn(next), f);
    }
  }
};

PageFrame file_page() {
  PageFrame f;
  f.set(FrameFlag::kFileLru);
  return f;
}

ShadowKey file_key(uint32_t file, uint64_t index) { return {ShadowOwner::kFile, file, index}; }

TEST(Workingset, RefaultDistanceAgainstActiveFile) {
  Workingset ws;
  Lists l;
  l.fill(LruList::kActiveFile, 5);
  ScanCosts costs;
  ws.evict(file_key(1, 7), false);  // E = 0, age -> 1
  ws.evict(file_key(1, 8), true);   // E = 1, age -> 2 (was active before: PG_workingset)
  EXPECT_EQ(ws.age(), 2U);
  EXPECT_EQ(ws.shadows(), 2U);
  ws.age_nonresident(4);  // four activations: age 6
  EXPECT_EQ(ws.shadow(file_key(1, 8))->eviction, 1U);
  EXPECT_TRUE(ws.shadow(file_key(1, 8))->workingset);

  // Page 7: distance 6 - 0 = 6 > active_file = 5: not recent.
  PageFrame f7 = file_page();
  RefaultResult r = ws.refault(file_key(1, 7), f7, l.lru, false, costs);
  EXPECT_TRUE(r.refault);
  EXPECT_FALSE(r.activate);
  EXPECT_EQ(r.distance, 6U);
  EXPECT_EQ(r.workingset_size, 5U);
  EXPECT_FALSE(f7.test(FrameFlag::kActive));
  EXPECT_EQ(ws.age(), 6U);

  // Page 8: distance 6 - 1 = 5 <= 5: activated, and it was active before
  // eviction: restored. The refault costs 1 x 32 on the file side; the lists
  // hold 5 pages, 32 > 5 / 4, so both costs halve: file = 16.
  PageFrame f8 = file_page();
  r = ws.refault(file_key(1, 8), f8, l.lru, false, costs);
  EXPECT_TRUE(r.activate);
  EXPECT_TRUE(r.restore);
  EXPECT_EQ(r.distance, 5U);
  EXPECT_TRUE(f8.test(FrameFlag::kActive));
  EXPECT_TRUE(f8.test(FrameFlag::kWorkingset));
  EXPECT_EQ(ws.age(), 7U);  // the activation ages the clock
  EXPECT_EQ(costs.file, 16U);
  EXPECT_EQ(costs.anon, 0U);

  const WorkingsetStats& s = ws.stats();
  EXPECT_EQ(s.refault_file, 2U);
  EXPECT_EQ(s.activate_file, 1U);
  EXPECT_EQ(s.restore_file, 1U);
  EXPECT_EQ(s.refault_anon + s.activate_anon + s.restore_anon, 0U);
  EXPECT_EQ(ws.shadows(), 0U);

  // The shadow was consumed: reading page 8 again is no refault.
  PageFrame again = file_page();
  EXPECT_FALSE(ws.refault(file_key(1, 8), again, l.lru, false, costs).refault);
  EXPECT_EQ(ws.stats().refault_file, 2U);
}

TEST(Workingset, WorkingsetSizePerTypeAndSwap) {
  // inactive anon 2, active anon 3, inactive file 4, active file 5.
  Lists l;
  l.fill(LruList::kInactiveAnon, 2);
  l.fill(LruList::kActiveAnon, 3);
  l.fill(LruList::kInactiveFile, 4);
  l.fill(LruList::kActiveFile, 5);
  ScanCosts costs;
  auto size_of = [&](bool file, bool swap_free) {
    Workingset ws;
    const ShadowKey key =
        file ? file_key(3, 0) : ShadowKey{ShadowOwner::kSwap, 0, 42};  // a swap slot
    ws.evict(key, false);
    PageFrame f = file ? file_page() : PageFrame{};
    return ws.refault(key, f, l.lru, swap_free, costs).workingset_size;
  };
  EXPECT_EQ(size_of(true, false), 5U);   // active_file
  EXPECT_EQ(size_of(true, true), 10U);   // + active_anon 3 + inactive_anon 2
  EXPECT_EQ(size_of(false, false), 9U);  // active_file 5 + inactive_file 4
  EXPECT_EQ(size_of(false, true), 12U);  // + active_anon 3
}

TEST(Workingset, AnonRefaultCountsOnTheAnonSide) {
  Lists l;
  l.fill(LruList::kActiveFile, 1);
  Workingset ws;
  ScanCosts costs;
  const ShadowKey slot{ShadowOwner::kSwap, 1, 9};
  ws.evict(slot, true);  // E = 0, age 1: distance 1 <= active_file 1
  PageFrame f;           // anon: no kFileLru
  const RefaultResult r = ws.refault(slot, f, l.lru, false, costs);
  EXPECT_TRUE(r.restore);
  EXPECT_EQ(ws.stats().refault_anon, 1U);
  EXPECT_EQ(ws.stats().activate_anon, 1U);
  EXPECT_EQ(ws.stats().restore_anon, 1U);
  EXPECT_EQ(costs.anon, 16U);  // 32, halved (32 > 1 / 4)
}

TEST(Workingset, EvictReplacesTheShadowOfTheSameSlot) {
  Workingset ws;
  ws.evict(file_key(1, 1), true);
  ws.evict(file_key(1, 1), false);
  EXPECT_EQ(ws.shadows(), 1U);
  EXPECT_EQ(ws.shadow(file_key(1, 1))->eviction, 1U);
  EXPECT_FALSE(ws.shadow(file_key(1, 1))->workingset);
  EXPECT_EQ(ws.stats().evictions, 2U);
  EXPECT_THROW(ws.evict(file_key(1, ~uint64_t{0}), false), std::invalid_argument);
}

TEST(Workingset, ShadowsDroppedOnTruncateCloseAndSlotReuse) {
  Workingset ws;
  for (uint64_t i = 0; i < 100; ++i) ws.evict(file_key(1, i), false);
  for (uint64_t i = 0; i < 10; ++i) ws.evict(file_key(2, i), false);
  ws.evict({ShadowOwner::kSwap, 1, 5}, false);  // same id, other owner
  EXPECT_EQ(ws.shadows(), 111U);

  EXPECT_TRUE(ws.forget(file_key(1, 99)));
  EXPECT_FALSE(ws.forget(file_key(1, 99)));
  // Truncate file 1 to 90 pages: a small range (looked up index by index).
  EXPECT_EQ(ws.forget_range(ShadowOwner::kFile, 1, 90, 98), 9U);
  // Truncate to 50 pages: a range far larger than the table (scanned).
  EXPECT_EQ(ws.forget_range(ShadowOwner::kFile, 1, 50, ~uint64_t{0} - 1), 40U);
  EXPECT_EQ(ws.forget_range(ShadowOwner::kFile, 1, 5, 4), 0U);  // empty range
  EXPECT_EQ(ws.shadows(), 61U);                                 // 50 + 10 + 1
  EXPECT_FALSE(ws.shadow(file_key(1, 50)).has_value());
  EXPECT_TRUE(ws.shadow(file_key(1, 49)).has_value());
  // Close (inode evicted): all of file 2; the swap shadow with id 1 stays.
  EXPECT_EQ(ws.forget_owner(ShadowOwner::kFile, 2), 10U);
  EXPECT_EQ(ws.forget_owner(ShadowOwner::kFile, 1), 50U);
  EXPECT_EQ(ws.shadows(), 1U);
  EXPECT_TRUE(ws.shadow({ShadowOwner::kSwap, 1, 5}).has_value());
  EXPECT_EQ(ws.stats().shadows_dropped, 110U);
}

TEST(Workingset, VmstatNames) {
  struct Names : StatVisitor {
    std::map<std::string, uint64_t> c;
    void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
      c[std::string(n)] = v;
    }
    void real(std::string_view, std::string_view, std::string_view, double) override {}
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram&) override {}
  } names;
  Workingset ws;
  ws.visit_vmstat(names);
  for (const char* n :
       {"workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
        "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file"}) {
    EXPECT_EQ(names.c.count(n), 1U) << n;
  }
}

}  // namespace
}  // namespace mmusim
