// The reclaim engine (os-model.md §1.2, §1.3, §1.5, §7 step 5) against a
// fake kernel: a table of pages with their Accessed-bit counts, exec and
// mlock flags, a swap area of some slots, and a page cache that frees frames.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/os/page_frame.h"
#include "models/os/reclaim.h"

namespace mmusim {
namespace {

class FakeHost : public ReclaimHost {
 public:
  struct Page {
    unsigned a_bits = 0;  // PTEs with the Accessed bit set (cleared by referenced())
    unsigned always = 0;  // Accessed bits that come back after each look (a hot page)
    bool exec = false, mlocked = false;
    bool pte_dirty = false;  // moved into kDirty by unmap()
    bool pinned = false;     // remove_mapping() fails
    PageoutResult pageout = PageoutResult::kStarted;
  };

  explicit FakeHost(PageFrameAllocator& frames) : frames_(frames) {}

  PteRefs referenced(Pfn pfn) override {
    Page& p = pages.at(pfn.value());
    ++rmap_walks;
    PteRefs r{p.a_bits, p.exec, p.mlocked};
    p.a_bits = p.always;
    return r;
  }
  bool unmap(Pfn pfn) override {
    Page& p = pages.at(pfn.value());
    PageFrame& f = frames_.meta(pfn);
    if (p.pte_dirty) f.set(FrameFlag::kDirty);
    f.mapcount = 0;
    ++unmaps;
    ++pending_flush;
    return true;
  }
  void flush_unmaps() override {
    ++flush_calls;
    if (pending_flush) ++tlb_flushes;
    pending_flush = 0;
  }
  bool add_to_swap(Pfn pfn) override {
    if (swap_free == 0) return false;
    --swap_free;
    PageFrame& f = frames_.meta(pfn);
    f.set(FrameFlag::kSwapCache);
    f.set(FrameFlag::kDirty);
    slot[pfn.value()] = next_slot++;
    return true;
  }
  PageoutResult pageout(Pfn pfn) override {
    const PageoutResult r = pages.at(pfn.value()).pageout;
    PageFrame& f = frames_.meta(pfn);
    written.push_back(pfn);
    if (r == PageoutResult::kStarted) {
      f.clear(FrameFlag::kDirty);
      f.set(FrameFlag::kWriteback);
      inflight.emplace_back(now + write_latency, pfn);
    } else if (r == PageoutResult::kDone) {
      f.clear(FrameFlag::kDirty);
    }
    return r;
  }
  bool remove_mapping(Pfn pfn, std::optional<ShadowKey>& shadow) override {
    const Page& p = pages.at(pfn.value());
    if (p.pinned) return false;
    const PageFrame& f = frames_.meta(pfn);
    if (f.test(FrameFlag::kSwapCache)) {
      shadow = ShadowKey{ShadowOwner::kSwap, 0, slot.at(pfn.value())};
    } else if (f.test(FrameFlag::kFileLru)) {
      shadow = ShadowKey{ShadowOwner::kFile, f.owner, f.index};
      cache.erase({f.owner, f.index});
    }
    pages.erase(pfn.value());
    freed.push_back(pfn);
    frames_.free(pfn, 0);
    return true;
  }
  void free_swap_cache(Pfn pfn) override {
    PageFrame& f = frames_.meta(pfn);
    if (f.test(FrameFlag::kWriteback)) return;
    f.clear(FrameFlag::kSwapCache);
    slot.erase(pfn.value());
    ++swap_free;
    ++swap_cache_frees;
  }
  uint64_t free_swap_pages() override { return swap_free; }
  uint64_t total_swap_pages() override { return swap_total; }
  uint64_t free_pages() override { return frames_.frames_free(); }
  uint64_t high_wmark_pages() override { return high_wmark; }
  // The pass's clock: scan_cost per page taken; a write started at `now`
  // completes at now + write_latency.
  void scanned(uint64_t pages) override { now += pages * scan_cost; }
  bool yield() override {
    if (deliver_in_yield) {  // storage that reports completions at once
      deliver(now);
      return false;
    }
    for (const auto& w : inflight) {  // completions the pass cannot see yet
      if (w.first <= now) return true;
    }
    return false;
  }
  void flush_writes() override { ++plug_flushes; }
  // Delivers the completions due by `upto` (writeback_done), in submission
  // order.
  uint64_t deliver(uint64_t upto) {
    uint64_t n = 0;
    std::vector<std::pair<uint64_t, Pfn>> rest;
    for (const auto& w : inflight) {
      if (w.first <= upto) {
        rec->writeback_done(w.second);
        ++n;
      } else {
        rest.push_back(w);
      }
    }
    inflight = rest;
    return n;
  }

  std::map<uint64_t, Page> pages;
  std::map<std::pair<uint32_t, uint64_t>, Pfn> cache;  // (file, index) -> frame
  std::map<uint64_t, uint64_t> slot;                   // swap slot of a frame
  uint64_t swap_total = 0, swap_free = 0, next_slot = 1;
  uint64_t high_wmark = 0;
  uint64_t swap_cache_frees = 0;
  uint64_t rmap_walks = 0, unmaps = 0, flush_calls = 0, tlb_flushes = 0, pending_flush = 0;
  std::vector<Pfn> written, freed;
  uint64_t now = 0, scan_cost = 0, write_latency = 0, plug_flushes = 0;
  bool deliver_in_yield = false;
  std::vector<std::pair<uint64_t, Pfn>> inflight;  // (completion, page)
  Reclaimer* rec = nullptr;

 private:
  PageFrameAllocator& frames_;
};

// A machine of `pages` frames, allocated in address order.
struct Rig {
  explicit Rig(uint64_t pages, ReclaimConfig cfg = {})
      : frames(pages * 4096, 0, 1, FramePlacement::kSequential),
        host(frames),
        rec(cfg, frames, host) {
    host.rec = &rec;
  }

  void swap(uint64_t slots) { host.swap_total = host.swap_free = slots; }

  // A page-cache page of `file` at `index`, mapped by `mapcount` PTEs (each
  // set its Accessed bit when the fault mapped it), on the inactive list.
  Pfn file_page(uint32_t file, uint64_t index, int mapcount = 0) {
    const Pfn p = *frames.allocate(0);
    PageFrame& f = frames.meta(p);
    f.set(FrameFlag::kFileLru);
    f.owner = file;
    f.index = index;
    f.mapcount = mapcount;
    host.pages[p.value()].a_bits = static_cast<unsigned>(mapcount);
    host.cache[{file, index}] = p;
    rec.lru_add(p);
    return p;
  }
  // An anonymous page mapped once (its Accessed bit set by the fault).
  Pfn anon_page(int mapcount = 1) {
    const Pfn p = *frames.allocate(0);
    PageFrame& f = frames.meta(p);
    f.set(FrameFlag::kAnon);
    f.set(FrameFlag::kSwapBacked);
    f.mapcount = mapcount;
    host.pages[p.value()].a_bits = static_cast<unsigned>(mapcount);
    rec.lru_add(p);
    return p;
  }
  PageFrame& meta(Pfn p) { return frames.meta(p); }
  LruList list(Pfn p) { return rec.lru().list_of(p); }

  PageFrameAllocator frames;
  FakeHost host;
  Reclaimer rec;
};

constexpr uint64_t kBig = 1U << 30;  // a target no test reaches

// ---------------------------------------------------------------------------
// Promotion (folio_check_references, folio_mark_accessed, shrink_active_list)

TEST(Reclaim, MappedFilePageTouchedOnceIsKeptThenActivatedIfTouchedAgain) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0, 1);  // the fault set one Accessed bit
  // First scan (kswapd, priority 0, no swap: the whole file list): one PTE
  // reference and no PG_referenced: mark it and keep it for another trip.
  ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.scanned, 1U);
  EXPECT_EQ(r.kept, 1U);
  EXPECT_EQ(r.activated, 0U);
  EXPECT_EQ(m.list(p), LruList::kInactiveFile);
  EXPECT_TRUE(m.meta(p).test(FrameFlag::kReferenced));
  // Touched again: the second scan sees the Accessed bit and PG_referenced.
  m.host.pages[p.value()].a_bits = 1;
  r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.activated, 1U);
  EXPECT_EQ(m.list(p), LruList::kActiveFile);
  EXPECT_EQ(m.rec.stats().pgactivate, 1U);
  EXPECT_EQ(m.rec.stats().pgscan_kswapd, 2U);
  EXPECT_EQ(m.rec.stats().pgsteal_kswapd, 0U);
  EXPECT_EQ(m.host.rmap_walks, 2U);
}

TEST(Reclaim, MappedFilePageNotTouchedAgainIsReclaimedOnTheSecondScan) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0, 1);
  m.rec.shrink_node(0, kBig, true);  // kept, PG_referenced set
  // No new Accessed bit: PG_referenced alone on a file page means "reclaim
  // if clean". It is unmapped (one PTE) and freed; its shadow stays.
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.reclaimed, 1U);
  EXPECT_EQ(m.host.unmaps, 1U);
  EXPECT_EQ(m.host.tlb_flushes, 1U);
  EXPECT_EQ(m.host.freed, std::vector<Pfn>{p});
  EXPECT_TRUE(m.rec.workingset().shadow({ShadowOwner::kFile, 1, 0}).has_value());
  EXPECT_EQ(m.rec.stats().pgsteal_file, 1U);
  EXPECT_EQ(m.rec.lru().nodes(), 0U);
}

TEST(Reclaim, ExecFilePageIsActivatedOnItsFirstReferencedScan) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0, 1);
  m.host.pages[p.value()].exec = true;
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.activated, 1U);
  EXPECT_EQ(m.list(p), LruList::kActiveFile);
}

TEST(Reclaim, ExecAnonPageNeedsTwoLooksLikeAnyMappedPage) {
  Rig m(256);
  m.swap(10);
  const Pfn p = m.anon_page();
  m.host.pages[p.value()].exec = true;                       // JIT code: no exception for anon
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);  // SCAN_EQUAL (swap, priority 0)
  EXPECT_EQ(r.scanned, 1U);
  EXPECT_EQ(r.kept, 1U);
  EXPECT_EQ(r.activated, 0U);
  EXPECT_EQ(m.list(p), LruList::kInactiveAnon);
}

TEST(Reclaim, UnmappedPageAccessedTwiceThroughReadIsActivated) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0);
  m.rec.mark_accessed(p);  // inactive, unreferenced -> referenced
  EXPECT_TRUE(m.meta(p).test(FrameFlag::kReferenced));
  EXPECT_EQ(m.list(p), LruList::kInactiveFile);
  const uint64_t age = m.rec.workingset().age();
  m.rec.mark_accessed(p);  // inactive, referenced -> active, unreferenced
  EXPECT_EQ(m.list(p), LruList::kActiveFile);
  EXPECT_FALSE(m.meta(p).test(FrameFlag::kReferenced));
  EXPECT_EQ(m.rec.stats().pgactivate, 1U);
  EXPECT_EQ(m.rec.workingset().age(), age + 1);  // workingset_activation
  m.rec.mark_accessed(p);                        // active, unreferenced -> active, referenced
  EXPECT_TRUE(m.meta(p).test(FrameFlag::kReferenced));
  EXPECT_EQ(m.rec.stats().pgactivate, 1U);

  // Read once: a use-once page is reclaimed at its first scan (clean).
  const Pfn q = m.file_page(1, 1);
  m.rec.mark_accessed(q);
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.reclaimed, 1U);
  EXPECT_EQ(m.host.freed, std::vector<Pfn>{q});
}

TEST(Reclaim, DeactivationSparesOnlyReferencedExecFilePages) {
  Rig m(256);
  m.swap(100);  // anon pages are aged only with swap
  // Active pages, each referenced by one PTE: anon exec, file exec, file.
  const Pfn anon = m.anon_page();
  const Pfn exec = m.file_page(1, 0, 1);
  const Pfn data = m.file_page(1, 1, 1);
  for (Pfn p : {anon, exec, data}) m.rec.lru().activate(p, m.meta(p));
  m.host.pages[anon.value()].exec = true;
  m.host.pages[exec.value()].exec = true;
  // Inactive lists empty, active ones not: both are "low" (0 x 1 < n), and
  // priority 0 with swap scans every list in full (SCAN_EQUAL).
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.refilled, 3U);
  EXPECT_EQ(r.deactivated, 2U);
  // Referenced anon pages are deactivated anyway, exec or not.
  EXPECT_EQ(m.list(anon), LruList::kInactiveAnon);
  EXPECT_TRUE(m.meta(anon).test(FrameFlag::kWorkingset));
  EXPECT_EQ(m.list(exec), LruList::kActiveFile);  // one more trip (a rotation)
  EXPECT_FALSE(m.meta(exec).test(FrameFlag::kWorkingset));
  EXPECT_EQ(m.list(data), LruList::kInactiveFile);
  EXPECT_TRUE(m.meta(data).test(FrameFlag::kWorkingset));
  EXPECT_EQ(m.rec.stats().pgdeactivate, 2U);
  EXPECT_EQ(m.rec.stats().pgrefill, 3U);
  // The rotation costs the file side 1; the 3 pages give 3 / 4 = 0 < 1: halved to 0.
  EXPECT_EQ(m.rec.costs().file, 0U);
}

TEST(Reclaim, MlockedPageGoesToTheUnevictableList) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0, 1);
  m.host.pages[p.value()].mlocked = true;
  const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(m.list(p), LruList::kUnevictable);
  EXPECT_EQ(r.activated, 0U);  // not counted in pgactivate
  m.rec.mark_accessed(p);
  m.rec.mark_accessed(p);
  EXPECT_EQ(m.list(p), LruList::kUnevictable);
}

// ---------------------------------------------------------------------------
// Dirty pages and writeback (os-model.md §1.5)

TEST(Reclaim, DirectReclaimNeverWritesADirtyFilePage) {
  Rig m(256);
  std::vector<Pfn> dirty;
  for (uint64_t i = 0; i < 4; ++i) {
    dirty.push_back(m.file_page(1, i));
    m.meta(dirty.back()).set(FrameFlag::kDirty);
  }
  const ReclaimResult r = m.rec.shrink_node(0, kBig, false);
  EXPECT_EQ(r.scanned, 4U);
  EXPECT_EQ(r.written, 0U);
  EXPECT_EQ(r.activated, 4U);        // out of the way of the clean pages
  EXPECT_EQ(r.flusher_wakeups, 1U);  // the batch was all dirty, none queued
  for (Pfn p : dirty) {
    EXPECT_TRUE(m.rec.lru().reclaim_mark(p));
    EXPECT_EQ(m.list(p), LruList::kActiveFile);
  }
  EXPECT_EQ(m.rec.stats().nr_vmscan_immediate_reclaim, 4U);
  // A whole direct reclaim run writes none of them either.
  const ReclaimResult all = m.rec.try_to_free_pages();
  EXPECT_EQ(all.reclaimed, 0U);
  EXPECT_EQ(all.written, 0U);
  EXPECT_TRUE(m.host.written.empty());
}

TEST(Reclaim, KswapdWritesADirtyFilePageOnlyOnItsSecondEncounter) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0);
  m.meta(p).set(FrameFlag::kDirty);
  // 1st encounter: marked PG_reclaim and activated; the file tail was all
  // unqueued dirty pages (1 of 1 taken), so the node is flagged dirty.
  ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.written, 0U);
  EXPECT_EQ(m.list(p), LruList::kActiveFile);
  EXPECT_TRUE(m.rec.lru().reclaim_mark(p));
  EXPECT_TRUE(m.rec.node_dirty());
  // Deactivation (inactive 0 < active 1) brings it back to the inactive list.
  r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.deactivated, 1U);
  EXPECT_EQ(m.list(p), LruList::kInactiveFile);
  // 2nd encounter: kswapd, PG_reclaim, node dirty: written out. The page
  // stays (under writeback) until its write completes.
  r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.written, 1U);
  EXPECT_EQ(r.reclaimed, 0U);
  EXPECT_EQ(m.host.written, std::vector<Pfn>{p});
  EXPECT_TRUE(m.meta(p).test(FrameFlag::kWriteback));
  EXPECT_EQ(m.rec.stats().nr_vmscan_write, 1U);
  // Completion: PG_reclaim rotates it to the inactive tail ...
  const Pfn clean = m.file_page(1, 1);  // at the head, in front of it
  m.rec.writeback_done(p);
  EXPECT_FALSE(m.meta(p).test(FrameFlag::kWriteback));
  EXPECT_FALSE(m.rec.lru().reclaim_mark(p));
  EXPECT_EQ(*m.rec.lru().tail(LruList::kInactiveFile), p);
  EXPECT_EQ(m.rec.stats().pgrotated, 1U);
  // ... where the next scan frees it first.
  r = m.rec.shrink_node(0, 1, true);
  EXPECT_EQ(m.host.freed.front(), p);
  (void)clean;
}

// activate_locked: an activated page in the swap cache gives its slot back
// when swap is more than half full (vm_swap_full: free x 2 < total).
TEST(Reclaim, ActivatedSwapCachePageFreesItsSlotOnlyWhenSwapIsOverHalfFull) {
  for (const uint64_t free_after : {uint64_t{1}, uint64_t{2}}) {
    Rig m(256);
    m.swap(4);
    const Pfn p = m.anon_page(2);  // two PTEs with their Accessed bits: activated
    ASSERT_TRUE(m.host.add_to_swap(p));
    m.host.swap_free = free_after;  // the other slots are taken
    const ReclaimResult r = m.rec.shrink_node(0, kBig, true);
    EXPECT_EQ(r.activated, 1U);                 // (the pass's anon aging then deactivates it again)
    const bool over_half = free_after * 2 < 4;  // 1 free of 4: yes; 2 of 4: no
    EXPECT_EQ(m.host.swap_cache_frees, over_half ? 1U : 0U) << free_after;
    EXPECT_EQ(m.meta(p).test(FrameFlag::kSwapCache), !over_half) << free_after;
    EXPECT_EQ(m.host.swap_free, 2U) << free_after;  // 1 + the slot given back, or 2 kept
  }
}

TEST(Reclaim, PageUnderWritebackIsMarkedAndActivatedThenThrottlesKswapd) {
  Rig m(256);
  const Pfn p = m.file_page(1, 0);
  m.meta(p).set(FrameFlag::kWriteback);
  // kswapd meets it: PG_reclaim, activated; everything taken was under
  // writeback, so the node is flagged.
  ReclaimResult r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.activated, 1U);
  EXPECT_TRUE(m.rec.lru().reclaim_mark(p));
  EXPECT_TRUE(m.rec.node_writeback());
  EXPECT_FALSE(m.rec.node_congested());  // not marked when it was looked at
  EXPECT_EQ(r.throttle_writeback, 0U);
  m.rec.shrink_node(0, kBig, true);  // deactivated
  // Seen again still under writeback and marked: kswapd waits (HZ/10) for
  // completions, and the node is congested (every dirty/writeback page
  // seen was marked).
  r = m.rec.shrink_node(0, kBig, true);
  EXPECT_EQ(r.throttle_writeback, 1U);
  EXPECT_TRUE(m.rec.node_congested());
  // Direct reclaim on a congested node sleeps a jiffy per pass.
  r = m.rec.shrink_node(0, kBig, false);
  EXPECT_EQ(r.throttle_congested, 1U);
  EXPECT_TRUE(m.rec.kswapd_may_sleep(true));
  EXPECT_FALSE(m.rec.node_congested());
}

TEST(Reclaim, AnonPagesGoToSwapWhileSlotsLast) {
  Rig m(256);
  m.swap(1);
  const Pfn a = m.anon_page(0);  // unmapped anon, unreferenced
  const Pfn b = m.anon_page(0);
  m.host.pages[a.value()].pageout = PageoutResult::kDone;  // a synchronous swap device
  m.host.pages[b.value()].pageout = PageoutResult::kDone;
  // Priority 0 with swap: SCAN_EQUAL; a is at the tail: a slot, written,
  // freed (shadow at its slot); b finds no slot left and is activated. The
  // pass ends by aging anon (inactive 0 < active 1): b is deactivated again.
  const ReclaimResult r = m.rec.shrink_node(0, kBig, false);
  EXPECT_EQ(r.reclaimed, 1U);
  EXPECT_EQ(r.written, 1U);
  EXPECT_EQ(r.activated, 1U);
  EXPECT_EQ(r.deactivated, 1U);
  EXPECT_EQ(m.host.freed, std::vector<Pfn>{a});
  EXPECT_TRUE(m.rec.workingset().shadow({ShadowOwner::kSwap, 0, 1}).has_value());
  EXPECT_EQ(m.list(b), LruList::kInactiveAnon);
  EXPECT_TRUE(m.meta(b).test(FrameFlag::kWorkingset));
  EXPECT_EQ(m.rec.stats().pgsteal_anon, 1U);
}

// ---------------------------------------------------------------------------
// Batching and the priority loops

TEST(Reclaim, ScansInBatchesOfThirtyTwo) {
  Rig m(1024);
  for (uint64_t i = 0; i < 400; ++i) m.file_page(1, i);
  // Priority 2: 400 >> 2 = 100 pages, in batches 32 + 32 + 32 + 4; every
  // batch ends with one TLB flush call.
  const ReclaimResult r = m.rec.shrink_node(2, kBig, true);
  EXPECT_EQ(r.scanned, 100U);
  EXPECT_EQ(r.reclaimed, 100U);
  EXPECT_EQ(r.batches, 4U);
  EXPECT_EQ(m.host.flush_calls, 4U);
  EXPECT_EQ(m.rec.lru().size(LruList::kInactiveFile), 300U);
  EXPECT_EQ(m.host.freed.front(), Pfn(0));  // the oldest page first
}

TEST(Reclaim, DirectReclaimStopsOnceThirtyTwoAreFreed) {
  Rig m(40960 + 64);
  for (uint64_t i = 0; i < 40960; ++i) m.file_page(1, i);
  // Priority 12 scans 40960 >> 12 = 10 (10 freed), priority 11 scans
  // 40950 >> 11 = 19 (29 in all, short of 32), priority 10 targets
  // 40931 >> 10 = 39: after its first batch of 32 the pass has freed 32 >= 32
  // with no anon left to balance: stop.
  const ReclaimResult r = m.rec.try_to_free_pages();
  EXPECT_EQ(r.scanned, 61U);  // 10 + 19 + 32
  EXPECT_EQ(r.reclaimed, 61U);
  EXPECT_EQ(r.priority, 10U);
  EXPECT_EQ(r.shrink_passes, 3U);
  EXPECT_EQ(r.priority_loops, 1U);
  EXPECT_EQ(m.rec.stats().pgscan_direct, 61U);
  EXPECT_EQ(m.rec.stats().pgsteal_direct, 61U);
}

TEST(Reclaim, NothingReclaimableWalksEveryPriorityTwice) {
  Rig m(4096 + 64);
  for (uint64_t i = 0; i < 4096; ++i) {
    const Pfn p = m.file_page(1, i);
    m.host.pages[p.value()].pinned = true;
  }
  // Each loop scans 4096 >> p for p = 12 .. 0: 1 + 2 + ... + 4096 = 8191;
  // nothing freed, so Linux walks again (its full-walk retry): 16382. No
  // active list was skipped (they are empty), so no third loop. At priority
  // 1 of each loop it asks for a NOPROGRESS throttle.
  const ReclaimResult r = m.rec.try_to_free_pages();
  EXPECT_EQ(r.reclaimed, 0U);
  EXPECT_EQ(r.scanned, 16382U);
  EXPECT_EQ(r.priority, 0U);
  EXPECT_EQ(r.priority_loops, 2U);
  EXPECT_EQ(r.shrink_passes, 26U);
  EXPECT_EQ(r.throttle_noprogress, 2U);
}

// ---------------------------------------------------------------------------
// A pass that sees its own writes complete (ReclaimHost::yield)

TEST(Reclaim, WritesThatCompleteDuringThePassAreFreedByIt) {
  // 128 unmapped, unreferenced anon pages, a slot for each, writes that take
  // 5000 cycles, 100 cycles of scan per page, completions delivered at each
  // yield point (between batches). Priority 0 (SCAN_EQUAL): 128 pages in
  // four batches of 32, target 32.
  //   batch 1 ends at t = 3200: pages 0-31 written, done at 8200;
  //   batch 2 (nothing due at 3200) ends at 6400: pages 32-63, done at 11400;
  //   batch 3 (nothing due at 6400) ends at 9600: pages 64-95, done at 14600;
  //   before batch 4 (t = 9600): pages 0-31 are done (8200 <= 9600) and
  //   rotate to the inactive tail; batch 4 takes them, clean: 32 freed, the
  //   target is met and the pass stops. Pages 96-127 are never looked at.
  Rig m(128 + 64);
  m.swap(1000);
  m.host.scan_cost = 100;
  m.host.write_latency = 5000;
  m.host.deliver_in_yield = true;
  std::vector<Pfn> pages;
  for (int i = 0; i < 128; ++i) pages.push_back(m.anon_page(0));
  const ReclaimResult r = m.rec.shrink_node(0, 32, false);
  EXPECT_FALSE(r.yielded);
  EXPECT_EQ(r.scanned, 128U);
  EXPECT_EQ(r.batches, 4U);
  EXPECT_EQ(r.written, 96U);
  EXPECT_EQ(r.reclaimed, 32U);
  EXPECT_EQ(m.host.now, 12800U);
  EXPECT_EQ(m.rec.stats().pgrotated, 32U);
  ASSERT_EQ(m.host.freed.size(), 32U);
  std::vector<Pfn> freed = m.host.freed;
  std::sort(freed.begin(), freed.end());
  EXPECT_EQ(freed, std::vector<Pfn>(pages.begin(), pages.begin() + 32));
  EXPECT_EQ(m.host.inflight.size(), 64U);  // pages 32-95 still being written
  EXPECT_EQ(m.host.plug_flushes, 1U);      // one shrink_lruvec()
  EXPECT_EQ(m.rec.lru().size(LruList::kInactiveAnon), 96U);
}

TEST(Reclaim, APassStopsForCompletionsItCannotSeeAndResumesAtItsPriority) {
  // 4096 unmapped, unreferenced anon pages, swappiness 200 (each priority
  // scans exactly size >> priority of them), 100 cycles of scan per page,
  // writes of 5000 cycles, completions delivered only between calls.
  ReclaimConfig cfg;
  cfg.swappiness = 200;
  Rig m(4096 + 64, cfg);
  m.swap(8192);
  m.host.scan_cost = 100;
  m.host.write_latency = 5000;
  for (int i = 0; i < 4096; ++i) m.anon_page(0);
  // Call 1: priorities 12..7 scan 1, 2, 4, 8, 16, 32 pages (one batch each,
  // all written) ending at t = 100, 300, 700, 1500, 3100, 6300. Before the
  // first batch of priority 6 (t = 6300) the write from t = 100 is done
  // (5100): the pass stops with nothing freed.
  ReclaimResult r = m.rec.try_to_free_pages();
  EXPECT_TRUE(r.yielded);
  EXPECT_TRUE(m.rec.suspended(false));
  EXPECT_EQ(r.scanned, 63U);
  EXPECT_EQ(r.written, 63U);
  EXPECT_EQ(r.reclaimed, 0U);
  EXPECT_EQ(r.priority, 6U);
  EXPECT_EQ(r.priority_loops, 1U);
  EXPECT_EQ(m.host.plug_flushes, 7U);  // every shrink_lruvec (12 .. 6), the stopped one too
  // Completions by 6300: the writes of t = 100, 300, 700 (7 pages).
  EXPECT_EQ(m.host.deliver(m.host.now), 7U);
  // Call 2 resumes at priority 6: (4096 >> 6) = 64 to scan; its first batch
  // frees the 7 rotated pages and writes 25 more (t = 9500). The write of
  // t = 1500 is done by then (6500): stop again, 7 freed.
  r = m.rec.try_to_free_pages(32, false, true);
  EXPECT_TRUE(r.yielded);
  EXPECT_EQ(r.priority_loops, 0U);  // the same do_try_to_free_pages() call
  EXPECT_EQ(r.scanned, 32U);
  EXPECT_EQ(r.reclaimed, 7U);
  EXPECT_EQ(r.written, 25U);
  EXPECT_EQ(r.priority, 6U);
  // Completions by 9500: t = 1500 (8 pages) and t = 3100 (16).
  EXPECT_EQ(m.host.deliver(m.host.now), 24U);
  // Call 3: the level again, 4089 >> 6 = 63 to scan: 24 freed and 8 written
  // in its first batch (t = 12700); 7 + 24 = 31 of this level's 32: on, but
  // the writes of t = 6300 are done (11300): stop.
  r = m.rec.try_to_free_pages(32, false, true);
  EXPECT_TRUE(r.yielded);
  EXPECT_EQ(r.reclaimed, 24U);
  EXPECT_EQ(r.written, 8U);
  EXPECT_EQ(m.host.deliver(m.host.now), 32U);  // the 32 of t = 6300
  // Call 4: its first batch frees those 32: 63 freed at this level >= 32,
  // no file pages to balance: done, at priority 6.
  r = m.rec.try_to_free_pages(32, false, true);
  EXPECT_FALSE(r.yielded);
  EXPECT_FALSE(m.rec.suspended(false));
  EXPECT_EQ(r.reclaimed, 32U);
  EXPECT_EQ(r.written, 0U);
  EXPECT_EQ(r.priority, 6U);
  EXPECT_EQ(m.host.freed.size(), 63U);
  EXPECT_EQ(m.rec.stats().pgsteal_direct, 63U);
  EXPECT_EQ(m.rec.stats().nr_vmscan_write, 96U);
  // A new call (resume = false) starts over at priority 12.
  r = m.rec.try_to_free_pages();
  EXPECT_EQ(r.priority_loops, 1U);
}

TEST(Reclaim, LaptopModeWritesOnlyBelowPriorityTen) {
  // 2^17 unmapped anon pages, a swap slot for each, a synchronous swap device
  // (a written page is freed at once) and swappiness 200 (all pressure on
  // anon: ap = 200 (T2 + 1) / (A + 1), fp = 0, so each pass scans exactly
  // 2^17 >> priority).
  const uint64_t n = uint64_t{1} << 17;
  ReclaimConfig cfg;
  cfg.swappiness = 200;
  for (bool laptop : {false, true}) {
    cfg.laptop_mode = laptop;
    Rig m(n + 64, cfg);
    m.swap(n);
    for (uint64_t i = 0; i < n; ++i) {
      const Pfn p = m.anon_page(0);
      m.host.pages[p.value()].pageout = PageoutResult::kDone;
    }
    const ReclaimResult r = m.rec.try_to_free_pages();
    if (!laptop) {
      // Priority 12 scans 2^17 >> 12 = 32, writes and frees them all.
      EXPECT_EQ(r.priority, 12U);
      EXPECT_EQ(r.scanned, 32U);
      EXPECT_EQ(r.written, 32U);
      EXPECT_EQ(r.reclaimed, 32U);
      continue;
    }
    // laptop_mode: the passes at 12, 11, 10 and 9 give the pages slots but
    // may not write them (32 + 64 + 128 + 256 = 480 pages back to the head);
    // may_writepage is forced after the pass at 9 (9 < 10), so the pass at 8
    // writes and frees its first batch of 32 fresh tail pages and stops.
    EXPECT_EQ(r.priority, 8U);
    EXPECT_EQ(r.scanned, 512U);  // 480 + 32
    EXPECT_EQ(r.written, 32U);
    EXPECT_EQ(r.reclaimed, 32U);
    EXPECT_EQ(m.host.swap_free, n - 512);  // every scanned page got a slot
  }
}

TEST(Reclaim, KswapdBalancesAtTheTargetAndHoldsItsPriority) {
  Rig m(40960 + 64);
  for (uint64_t i = 0; i < 40960; ++i) m.file_page(1, i);
  uint64_t checks = 0;
  // Balanced once 100 pages are free. Target 32 per pass: priority 12 frees
  // 40960 >> 12 = 10, 11 frees 40950 >> 11 = 19 (the priority drops: fewer
  // scanned than 32), 10 stops at 32 of 39 (scanned 32 >= 32: the priority
  // holds), then two more passes at 10 free 32 each:
  // 10 + 19 + 32 + 32 + 32 = 125 >= 100.
  const ReclaimResult r = m.rec.balance(32, [&] {
    ++checks;
    return m.host.freed.size() >= 100;
  });
  EXPECT_TRUE(r.balanced);
  EXPECT_EQ(r.reclaimed, 125U);
  EXPECT_EQ(r.priority, 10U);
  EXPECT_EQ(r.shrink_passes, 5U);
  EXPECT_EQ(checks, 6U);
  EXPECT_EQ(m.rec.stats().pageoutrun, 1U);
  EXPECT_EQ(m.rec.stats().pgsteal_kswapd, 125U);
  EXPECT_EQ(m.rec.kswapd_failures(), 0U);
}

TEST(Reclaim, KswapdFailuresMakeTheNodeHopelessUntilProgress) {
  Rig m(4096 + 64);
  for (uint64_t i = 0; i < 4096; ++i) {
    const Pfn p = m.file_page(1, i);
    m.host.pages[p.value()].pinned = true;
  }
  // Priorities 12 .. 1 scan 1 + 2 + ... + 2048 = 4095 pages and free none.
  // Cache trimming was on (plenty of inactive file, no refaults) and failed,
  // so kswapd runs the loop once more without it: 8190.
  const auto never = [] { return false; };
  ReclaimResult r = m.rec.balance(kBig, never);
  EXPECT_EQ(r.scanned, 8190U);
  EXPECT_FALSE(r.balanced);
  EXPECT_EQ(r.priority, 1U);
  EXPECT_EQ(m.rec.kswapd_failures(), 1U);
  for (int i = 1; i < 16; ++i) m.rec.balance(kBig, never);
  EXPECT_EQ(m.rec.kswapd_failures(), 16U);
  EXPECT_TRUE(m.rec.hopeless());
  EXPECT_TRUE(m.rec.kswapd_may_sleep(false));
  // Progress (here by direct reclaim) revives kswapd.
  m.file_page(2, 0);
  EXPECT_EQ(m.rec.shrink_node(0, kBig, false).reclaimed, 1U);
  EXPECT_EQ(m.rec.kswapd_failures(), 0U);
  EXPECT_FALSE(m.rec.kswapd_may_sleep(false));
}

TEST(Reclaim, ConfigBounds) {
  ReclaimConfig c;
  c.swappiness = 201;
  PageFrameAllocator frames(1 << 20, 0, 1);
  FakeHost host(frames);
  EXPECT_THROW(Reclaimer(c, frames, host), InputError);
  std::string what;
  try {
    validate_reclaim_config(c);
  } catch (const InputError& e) {
    what = e.what();
  }
  EXPECT_EQ(what, "os.linux.swappiness: expected 0..200, got 201");
  c.swappiness = 200;
  EXPECT_NO_THROW(validate_reclaim_config(c));
}

}  // namespace
}  // namespace mmusim

// ---------------------------------------------------------------------------
// Working-set detection end to end (os-model.md §7 step 5): a page cache of M
// frames read through read() (folio_mark_accessed), direct reclaim when no
// frame is free, shadows consulted on every miss.

namespace mmusim {
namespace {

struct CacheSim {
  explicit CacheSim(uint64_t frames) : m(frames) {}
  // read() of one page of `file`.
  bool read(uint32_t file, uint64_t index) {
    const auto it = m.host.cache.find({file, index});
    if (it != m.host.cache.end()) {
      ++hits;
      m.rec.mark_accessed(it->second);
      return true;
    }
    ++misses;
    while (m.frames.frames_free() == 0) {
      const ReclaimResult r = m.rec.try_to_free_pages();
      ++stalls;
      if (r.reclaimed == 0) throw std::runtime_error("nothing reclaimable");
    }
    const Pfn p = *m.frames.allocate(0);
    PageFrame& f = m.frames.meta(p);
    f.set(FrameFlag::kFileLru);
    f.owner = file;
    f.index = index;
    m.host.pages[p.value()] = {};
    m.host.cache[{file, index}] = p;
    last = m.rec.refault({ShadowOwner::kFile, file, index}, p);
    m.rec.lru_add(p);
    m.rec.mark_accessed(p);
    return false;
  }
  // One sequential pass over pages [0, w) of `file`; returns its hits.
  uint64_t pass(uint32_t file, uint64_t w) {
    uint64_t h = 0;
    for (uint64_t i = 0; i < w; ++i) h += read(file, i) ? 1 : 0;
    return h;
  }
  Rig m;
  uint64_t hits = 0, misses = 0, stalls = 0;
  RefaultResult last;  // of the last miss
};

TEST(WorkingsetCycle, LargerThanMemoryMissesEverywhereAndNeverActivates) {
  // M = 1024 frames, W = 1200 pages read in order, 8 times. Eviction is in
  // list order (each page is read once per pass: PG_referenced only, so
  // reclaim frees it when clean), and a page is always evicted before its
  // next read (1200 > 1024 pages are read in between): every read misses.
  // No page is ever read twice while resident, so nothing is active, the
  // workingset size (active_file, no swap) is 0 and no refault distance
  // (>= 1) fits in it.
  CacheSim c(1024);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(c.pass(1, 1200), 0U) << "pass " << r;
  const WorkingsetStats& s = c.m.rec.workingset().stats();
  EXPECT_EQ(c.misses, 9600U);        // 8 x 1200
  EXPECT_EQ(s.refault_file, 8400U);  // passes 2..8 find every page's shadow: 7 x 1200
  EXPECT_EQ(s.activate_file, 0U);
  EXPECT_EQ(s.restore_file, 0U);
  EXPECT_EQ(c.m.rec.stats().pgactivate, 0U);
  EXPECT_EQ(c.m.rec.lru().size(LruList::kActiveFile), 0U);
}

TEST(WorkingsetCycle, RefaultsActivateAWorkingSetThatFitsInMemory) {
  // M = 1024 frames. A stale set S of 480 pages is read twice (activated),
  // then a new set W of 600 pages is cycled. W does not fit the 544 pages
  // left to the inactive list, but fits memory once S goes.
  CacheSim c(1024);
  c.pass(1, 480);
  EXPECT_EQ(c.pass(1, 480), 480U);
  EXPECT_EQ(c.m.rec.lru().size(LruList::kActiveFile), 480U);

  // Pass 1 of W: 544 reads fill the free frames; the 545th finds none and
  // direct reclaim runs. The inactive list (544, then fewer) never drops
  // below the active 480: no deactivation, file only (no swap). It scans
  // 544 >> p: nothing at 12..10, then 1 (p 9), 543 >> 8 = 2, 541 >> 7 = 4,
  // 537 >> 6 = 8, 529 >> 5 = 16 (31 freed, short of 32), and at p 4 its
  // first batch of 32 (of 513 >> 4) reaches the target: 63 freed, the
  // oldest W pages 0..62. The clock had 480 ticks from S's activations, so
  // their shadows hold E = 480..542. They leave room for the remaining 56
  // reads.
  EXPECT_EQ(c.pass(2, 600), 0U);
  EXPECT_EQ(c.stalls, 1U);
  EXPECT_EQ(c.m.rec.stats().pgscan_direct, 63U);
  EXPECT_EQ(c.m.rec.stats().pgsteal_direct, 63U);
  EXPECT_EQ(c.m.rec.stats().pgdeactivate, 0U);
  EXPECT_EQ(c.m.rec.workingset().age(), 543U);  // 480 + 63
  EXPECT_EQ(c.m.rec.workingset().shadows(), 63U);
  EXPECT_EQ(c.m.frames.frames_free(), 7U);  // 63 - 56

  // Pass 2: page 0 refaults at R = 543: distance 543 - 480 = 63 <= active_file
  // 480: activated at once (and the clock ticks).
  EXPECT_FALSE(c.read(2, 0));
  EXPECT_TRUE(c.last.refault);
  EXPECT_EQ(c.last.distance, 63U);
  EXPECT_EQ(c.last.workingset_size, 480U);
  EXPECT_TRUE(c.last.activate);
  EXPECT_EQ(c.m.rec.workingset().age(), 544U);
  // The refaults keep activating; each reclaim run then sees new refault
  // activations and deactivates the stale active pages, which go first.
  for (uint64_t i = 1; i < 600; ++i) c.read(2, i);
  const WorkingsetStats& s = c.m.rec.workingset().stats();
  EXPECT_GT(s.activate_file, 0U);
  EXPECT_GT(c.m.rec.stats().pgdeactivate, 0U);
  EXPECT_EQ(s.restore_file, 0U);  // W pages were never active before eviction
  // From then on W stays: every read hits. S keeps only what W left over.
  for (int r = 0; r < 4; ++r) EXPECT_EQ(c.pass(2, 600), 600U) << "pass " << r + 3;
  uint64_t s_left = 0;
  for (uint64_t i = 0; i < 480; ++i) s_left += c.m.host.cache.count({1, i});
  EXPECT_EQ(s_left + 600 + c.m.frames.frames_free(), 1024U);
  EXPECT_LT(s_left, 424U);  // S gave way to W
}

TEST(WorkingsetCycle, WithoutRefaultDistanceRoomTheStaleSetWouldStay) {
  // The same start, but W = 1200 > M: W's refault distances exceed the
  // workingset size, nothing of W is activated, and the stale set S is
  // never deactivated by refaults (the inactive list is never low while W
  // streams through it at 544 and more pages).
  CacheSim c(1024);
  c.pass(1, 480);
  c.pass(1, 480);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(c.pass(2, 1200), 0U);
  EXPECT_EQ(c.m.rec.workingset().stats().activate_file, 0U);
  EXPECT_EQ(c.m.rec.stats().pgdeactivate, 0U);
  EXPECT_EQ(c.m.rec.lru().size(LruList::kActiveFile), 480U);
  EXPECT_EQ(c.pass(1, 480), 480U);  // S is all still cached
}

}  // namespace
}  // namespace mmusim
