#include "models/os/reclaim.h"

#include <algorithm>
#include <string>
#include <utility>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {

void add_keys(ConfigSchema& s, ReclaimConfig& c) {
  s.add_unsigned("os.linux.swappiness", &c.swappiness, "weight",
                 "vm.swappiness: the I/O cost of swapping anon pages relative to reading file "
                 "pages back, 0..200 (100 = equal; 0 = swap only near OOM)",
                 0, kMaxSwappiness);
  s.add_bool("os.linux.laptop_mode", &c.laptop_mode,
             "vm.laptop_mode (as on/off): reclaim writes no page before its priority drops "
             "below 10");
  s.add_bool("os.linux.file_writepage", &c.file_writepage,
             "the files' file system has ->writepage (f2fs): kswapd may write dirty file pages; "
             "off (ext4, xfs, btrfs in Linux 6.12): reclaim leaves them to the flusher");
}

void validate_reclaim_config(const ReclaimConfig& c) {
  if (c.swappiness > kMaxSwappiness) {
    throw InputError("os.linux.swappiness: expected 0..200, got " + std::to_string(c.swappiness));
  }
}

ReclaimResult& ReclaimResult::operator+=(const ReclaimResult& o) {
  scanned += o.scanned;
  reclaimed += o.reclaimed;
  refilled += o.refilled;
  deactivated += o.deactivated;
  activated += o.activated;
  kept += o.kept;
  written += o.written;
  batches += o.batches;
  priority = std::min(priority, o.priority);
  shrink_passes += o.shrink_passes;
  priority_loops += o.priority_loops;
  throttle_writeback += o.throttle_writeback;
  throttle_congested += o.throttle_congested;
  throttle_noprogress += o.throttle_noprogress;
  flusher_wakeups += o.flusher_wakeups;
  balanced = o.balanced;
  yielded = yielded || o.yielded;
  return *this;
}

// The state of one reclaim run (Linux's struct scan_control).
struct Reclaimer::ScanControl {
  uint64_t nr_to_reclaim = kSwapClusterMax;
  int priority = kDefPriority;
  bool kswapd = false;
  bool cgroup = false;  // a memory cgroup's limit (cgroup_reclaim): not in pgscan/pgsteal_direct
  bool may_writepage = true;
  bool may_swap = true;
  bool deactivate_anon = false, deactivate_file = false;  // may_deactivate
  bool force_deactivate = false, skipped_deactivate = false;
  bool cache_trim_mode = false, cache_trim_mode_failed = false, no_cache_trim_mode = false;
  bool file_is_tiny = false;
  uint64_t nr_scanned = 0;       // pages examined (reset by the priority loops)
  uint64_t nr_reclaimed = 0;     // pages freed in this run
  uint64_t call_batches = 0;     // inactive batches taken in this call (a yield needs one)
  bool yielded = false;          // stopped for write completions (ReclaimHost::yield)
  uint64_t level_reclaimed = 0;  // freed by shrink_lruvec() at this priority before a yield
  struct {                       // one shrink_node() pass
    uint64_t dirty = 0, unqueued_dirty = 0, congested = 0, writeback = 0, immediate = 0;
    uint64_t taken = 0, file_taken = 0;
  } nr;
};

// What one batch of shrink_page_list() saw (struct reclaim_stat).
struct Reclaimer::BatchStat {
  uint64_t nr_dirty = 0, nr_unqueued_dirty = 0, nr_congested = 0, nr_writeback = 0;
  uint64_t nr_immediate = 0, nr_pageout = 0;
};

Reclaimer::Reclaimer(const ReclaimConfig& cfg, PageFrameAllocator& frames, ReclaimHost& host)
    : cfg_(cfg), frames_(frames), host_(host) {
  validate_reclaim_config(cfg_);
  batch_.reserve(kSwapClusterMax);
  keep_.reserve(kSwapClusterMax);
}

PageFrame& Reclaimer::frame(Pfn pfn) { return frames_.meta(pfn); }

// --- hooks ------------------------------------------------------------------

void Reclaimer::lru_add(Pfn pfn) { lru_.add(pfn, frame(pfn)); }

void Reclaimer::lru_del(Pfn pfn) { lru_.del(pfn, frame(pfn)); }

void Reclaimer::mark_accessed(Pfn pfn) {
  PageFrame& f = frame(pfn);
  if (!f.test(FrameFlag::kReferenced)) {
    f.set(FrameFlag::kReferenced);
    return;
  }
  if (f.test(FrameFlag::kUnevictable) || f.test(FrameFlag::kActive)) return;
  // Second reference on the inactive list: promote.
  if (f.test(FrameFlag::kLru)) {
    if (lru_.activate(pfn, f)) ++st_.pgactivate;
  } else if (!lru_.contains(pfn)) {
    f.set(FrameFlag::kActive);  // not on the LRU yet: lru_add() puts it on the active list
  }
  f.clear(FrameFlag::kReferenced);
  ws_.age_nonresident(1);
}

RefaultResult Reclaimer::refault(const ShadowKey& key, Pfn pfn) {
  return ws_.refault(key, frame(pfn), lru_, host_.free_swap_pages() > 0, costs_);
}

void Reclaimer::writeback_done(Pfn pfn) {
  PageFrame& f = frame(pfn);
  if (lru_.reclaim_mark(pfn)) {
    lru_.set_reclaim_mark(pfn, false);
    // Reclaim wanted this page gone: put it where the next scan starts.
    if (!f.test(FrameFlag::kLocked) && !f.test(FrameFlag::kDirty) &&
        !f.test(FrameFlag::kUnevictable) && f.test(FrameFlag::kLru) && lru_.move_tail(pfn, f)) {
      ++st_.pgrotated;
    }
  }
  f.clear(FrameFlag::kWriteback);
}

// --- reclaim ----------------------------------------------------------------

ReclaimResult Reclaimer::shrink_node(unsigned priority, uint64_t nr_to_reclaim, bool kswapd) {
  ScanControl sc;
  sc.priority = static_cast<int>(std::min(priority, kDefPriority));
  sc.nr_to_reclaim = nr_to_reclaim;
  sc.kswapd = kswapd;
  sc.may_writepage = !cfg_.laptop_mode;
  ReclaimResult r;
  shrink_node_pass(sc, r);
  r.yielded = sc.yielded;
  return r;
}

ReclaimResult Reclaimer::try_to_free_pages(uint64_t nr_to_reclaim, bool cgroup, bool resume) {
  ScanControl sc;
  sc.nr_to_reclaim = nr_to_reclaim;
  sc.cgroup = cgroup;
  sc.may_writepage = !cfg_.laptop_mode;
  ReclaimResult r;
  bool full_walk = false;
  int start = kDefPriority;
  const bool resumed = resume && susp_.valid && !susp_.kswapd;
  if (resumed) {  // the same do_try_to_free_pages() call, after its yield
    start = susp_.priority;
    sc.nr_reclaimed = susp_.nr_reclaimed;
    sc.may_writepage = susp_.may_writepage;
    sc.force_deactivate = susp_.force_deactivate;
    sc.level_reclaimed = susp_.level_reclaimed;
    full_walk = susp_.full_walk;
  }
  susp_.valid = false;
  // do_try_to_free_pages() in 6.12: when a whole priority walk frees
  // nothing, it walks again from the initial priority with memcg_full_walk
  // set (the retry for direct reclaimers' partial cgroup walks runs whatever
  // the cgroup tree, one root cgroup included: mm/vmscan.c, the
  // !sc->memcg_full_walk test), then once more with forced deactivation if
  // an active list was skipped. Each walk counts an ALLOCSTALL.
  for (bool first = true;; first = false) {
    if (!first || !resumed) ++r.priority_loops;
    for (sc.priority = first ? start : static_cast<int>(kDefPriority); sc.priority >= 0;
         --sc.priority) {
      sc.nr_scanned = 0;
      shrink_node_pass(sc, r);
      if (sc.yielded) {
        suspend(sc, false, full_walk);
        r.yielded = true;
        return r;
      }
      // consider_reclaim_throttle(): no progress at priority 1 sleeps a jiffy.
      const bool progress = sc.nr_reclaimed > (sc.nr_scanned >> 3);
      if (!progress && sc.priority == 1 && sc.nr_reclaimed == 0) ++r.throttle_noprogress;
      if (sc.nr_reclaimed >= sc.nr_to_reclaim) break;
      // In trouble: write pages even in laptop mode.
      if (sc.priority < static_cast<int>(kDefPriority) - 2) sc.may_writepage = true;
    }
    snapshot_refaults();
    if (sc.nr_reclaimed != 0) break;
    if (!full_walk) {
      full_walk = true;
      continue;
    }
    if (sc.skipped_deactivate) {
      sc.force_deactivate = true;
      sc.skipped_deactivate = false;
      continue;
    }
    break;
  }
  return r;
}

void Reclaimer::suspend(const ScanControl& sc, bool kswapd, bool full_walk) {
  // Each resume reads what its own caller needs (direct reclaim: the write
  // and deactivation modes and the full walk; kswapd: the cache-trim mode).
  susp_ = Suspended{true,
                    kswapd,
                    sc.priority,
                    sc.nr_reclaimed,
                    sc.level_reclaimed,
                    sc.may_writepage,
                    full_walk,
                    sc.force_deactivate,
                    sc.no_cache_trim_mode};
}

ReclaimResult Reclaimer::balance(uint64_t high_target, const std::function<bool()>& balanced,
                                 bool resume) {
  const bool resumed = resume && susp_.valid && susp_.kswapd;
  if (!resumed) ++st_.pageoutrun;
  ScanControl sc;
  sc.kswapd = true;
  int start = kDefPriority;
  if (resumed) {  // the same balance_pgdat() run, after its yield
    start = susp_.priority;
    sc.nr_reclaimed = susp_.nr_reclaimed;
    sc.no_cache_trim_mode = susp_.no_cache_trim_mode;
    sc.level_reclaimed = susp_.level_reclaimed;
  }
  susp_.valid = false;
  ReclaimResult r;
  for (bool first = true;; first = false) {  // restart
    for (sc.priority = first ? start : static_cast<int>(kDefPriority); sc.priority >= 1;) {
      if (balanced()) {
        r.balanced = true;
        snapshot_refaults();
        return r;
      }
      sc.may_writepage = !cfg_.laptop_mode;
      sc.may_swap = true;
      // kswapd_age_node(): keep the anon inactive list from running low.
      const LruSizes& s = lru_.sizes();
      if (can_age_anon() && inactive_is_low(s[0], s[1])) {
        shrink_active(LruList::kActiveAnon, kSwapClusterMax, r);
      }
      if (sc.priority < static_cast<int>(kDefPriority) - 2) sc.may_writepage = true;
      sc.nr_scanned = 0;
      const uint64_t before = sc.nr_reclaimed;
      sc.nr_to_reclaim = high_target;
      shrink_node_pass(sc, r);
      if (sc.yielded) {
        suspend(sc, true, false);
        r.yielded = true;
        return r;
      }
      const uint64_t freed = sc.nr_reclaimed - before;
      // Enough scanned to meet the target at full efficiency: stay here.
      const bool raise = std::max(sc.nr_scanned, freed) < high_target;
      if (raise || freed == 0) --sc.priority;
    }
    if (sc.nr_reclaimed == 0 && !sc.no_cache_trim_mode && sc.cache_trim_mode_failed) {
      sc.no_cache_trim_mode = true;  // cache trimming did not work: try with anon
      continue;
    }
    break;
  }
  if (sc.nr_reclaimed == 0) {
    ++kswapd_failures_;
    ++st_.kswapd_failures;
  }
  snapshot_refaults();
  r.balanced = balanced();
  return r;
}

bool Reclaimer::kswapd_may_sleep(bool balanced) {
  if (hopeless()) return true;
  if (!balanced) return false;
  node_dirty_ = node_writeback_ = node_congested_ = false;
  return true;
}

void Reclaimer::snapshot_refaults() {
  refaults_anon_ = ws_.stats().activate_anon;
  refaults_file_ = ws_.stats().activate_file;
}

void Reclaimer::shrink_node_pass(ScanControl& sc, ReclaimResult& r) {
  sc.nr = {};
  const uint64_t before = sc.nr_reclaimed;
  prepare_scan(sc);
  shrink_lruvec(sc, r);
  ++r.shrink_passes;
  r.priority = std::min(r.priority, static_cast<unsigned>(sc.priority));
  const uint64_t freed = sc.nr_reclaimed - before;
  if (sc.kswapd) {
    // Everything taken was under writeback: pages are allocated faster than
    // they can be cleaned.
    if (sc.nr.writeback != 0 && sc.nr.writeback == sc.nr.taken) node_writeback_ = true;
    // The file tail was all dirty pages nobody is writing: kswapd may write.
    if (sc.nr.unqueued_dirty == sc.nr.file_taken) node_dirty_ = true;
    // Pages marked for immediate reclaim came round again still under
    // writeback: wait for some to complete.
    if (sc.nr.immediate != 0) ++r.throttle_writeback;
    if (sc.nr.dirty != 0 && sc.nr.dirty == sc.nr.congested) node_congested_ = true;
  } else if (node_congested_) {
    ++r.throttle_congested;
  }
  if (freed != 0) {
    kswapd_failures_ = 0;  // any progress revives kswapd
  } else if (sc.cache_trim_mode) {
    sc.cache_trim_mode_failed = true;
  }
}

void Reclaimer::prepare_scan(ScanControl& sc) {
  const LruSizes& s = lru_.sizes();
  const uint64_t ia = s[lru_index(LruList::kInactiveAnon)];
  const uint64_t aa = s[lru_index(LruList::kActiveAnon)];
  const uint64_t inf = s[lru_index(LruList::kInactiveFile)];
  const uint64_t af = s[lru_index(LruList::kActiveFile)];
  if (sc.force_deactivate) {
    sc.deactivate_anon = sc.deactivate_file = true;
  } else {
    // Refault activations since the last run mean a new workingset is being
    // established: deactivate to get rid of stale active pages.
    sc.deactivate_anon = ws_.stats().activate_anon != refaults_anon_ || inactive_is_low(ia, aa);
    sc.deactivate_file = ws_.stats().activate_file != refaults_file_ || inactive_is_low(inf, af);
  }
  // Plenty of inactive cache that is not thrashing: trim it before anon.
  sc.cache_trim_mode = (inf >> sc.priority) != 0 && !sc.deactivate_file && !sc.no_cache_trim_mode;
  // Almost no file pages left (and anon is not being aged): scan anon.
  sc.file_is_tiny = af + inf + host_.free_pages() <= host_.high_wmark_pages() &&
                    !sc.deactivate_anon && (ia >> sc.priority) != 0;
}

void Reclaimer::shrink_lruvec(ScanControl& sc, ReclaimResult& r) {
  ScanInput in;
  const LruSizes& s = lru_.sizes();
  std::copy_n(s.begin(), kNumEvictableLists, in.size.begin());
  in.priority = static_cast<unsigned>(sc.priority);
  in.swappiness = cfg_.swappiness;
  in.can_reclaim_anon = sc.may_swap && host_.free_swap_pages() > 0;
  in.file_is_tiny = sc.file_is_tiny;
  in.cache_trim_mode = sc.cache_trim_mode;
  in.costs = costs_;
  const std::array<uint64_t, kNumEvictableLists> targets = get_scan_count(in).nr;
  std::array<uint64_t, kNumEvictableLists> nr = targets;

  constexpr size_t kIA = 0, kAA = 1, kIF = 2, kAF = 3;
  // Direct reclaim at the first priority does a full batch of work at once.
  const bool proportional = !sc.kswapd && sc.priority == static_cast<int>(kDefPriority);
  uint64_t reclaimed = 0;
  // A resumed level: what it freed before its yield counts toward the target.
  const uint64_t carried = std::exchange(sc.level_reclaimed, 0);
  while (nr[kIA] != 0 || nr[kAF] != 0 || nr[kIF] != 0) {
    for (size_t i = 0; i < kNumEvictableLists; ++i) {
      if (nr[i] == 0) continue;
      // Between batches, the pass's own writes may complete: stop for them
      // (after at least one batch of this call, so that it always moves on).
      if (!is_active_lru(lru_at(i)) && sc.call_batches != 0 && host_.yield()) {
        sc.yielded = true;
        break;
      }
      const uint64_t n = std::min(nr[i], kSwapClusterMax);
      nr[i] -= n;
      reclaimed += shrink_list(lru_at(i), n, sc, r);
    }
    if (sc.yielded) break;
    if (carried + reclaimed < sc.nr_to_reclaim || proportional) continue;
    // Target met: stop the type with less left to scan, and scan the other
    // only as far as keeps the two in their planned proportion.
    const uint64_t nr_file = nr[kIF] + nr[kAF];
    const uint64_t nr_anon = nr[kIA] + nr[kAA];
    if (nr_file == 0 || nr_anon == 0) break;
    size_t stop = kIF, other = kIA;
    uint64_t percentage = 0;
    if (nr_file > nr_anon) {
      stop = kIA;
      other = kIF;
      percentage = nr_anon * 100 / (targets[kIA] + targets[kAA] + 1);
    } else {
      percentage = nr_file * 100 / (targets[kIF] + targets[kAF] + 1);
    }
    nr[stop] = nr[stop + 1] = 0;
    for (size_t i = other; i <= other + 1; ++i) {
      const uint64_t scanned = targets[i] - nr[i];
      nr[i] = targets[i] * (100 - percentage) / 100;
      nr[i] -= std::min(nr[i], scanned);
    }
  }
  sc.nr_reclaimed += reclaimed;
  host_.flush_writes();  // blk_finish_plug()
  if (sc.yielded) {
    sc.level_reclaimed = carried + reclaimed;
    return;
  }
  // Rebalance the anon lists even when anon was not scanned.
  const LruSizes& now = lru_.sizes();
  if (can_age_anon() && inactive_is_low(now[kIA], now[kAA])) {
    shrink_active(LruList::kActiveAnon, kSwapClusterMax, r);
  }
}

uint64_t Reclaimer::shrink_list(LruList l, uint64_t n, ScanControl& sc, ReclaimResult& r) {
  if (is_active_lru(l)) {
    if (is_file_lru(l) ? sc.deactivate_file : sc.deactivate_anon) {
      shrink_active(l, n, r);
    } else {
      sc.skipped_deactivate = true;
    }
    return 0;
  }
  return shrink_inactive(l, n, sc, r);
}

uint64_t Reclaimer::shrink_inactive(LruList l, uint64_t n, ScanControl& sc, ReclaimResult& r) {
  const bool file = is_file_lru(l);
  batch_.clear();
  const uint64_t taken =
      lru_.take_tail(l, n, batch_, [this](Pfn p) -> PageFrame& { return frame(p); });
  if (!sc.cgroup) (sc.kswapd ? st_.pgscan_kswapd : st_.pgscan_direct) += taken;
  (file ? st_.pgscan_file : st_.pgscan_anon) += taken;
  r.scanned += taken;
  if (taken == 0) return 0;
  host_.scanned(taken);
  ++r.batches;
  ++sc.call_batches;

  BatchStat bs;
  const uint64_t reclaimed = shrink_page_list(sc, bs, r);
  putback(keep_);

  if (!sc.cgroup) (sc.kswapd ? st_.pgsteal_kswapd : st_.pgsteal_direct) += reclaimed;
  (file ? st_.pgsteal_file : st_.pgsteal_anon) += reclaimed;
  r.reclaimed += reclaimed;
  // Pages written cost I/O; pages looked at and kept cost a rotation.
  costs_.note(file, bs.nr_pageout, taken - reclaimed, lru_.evictable());
  // The whole batch was dirty and not queued: the flusher is behind.
  if (bs.nr_unqueued_dirty == taken) ++r.flusher_wakeups;

  sc.nr.dirty += bs.nr_dirty;
  sc.nr.congested += bs.nr_congested;
  sc.nr.unqueued_dirty += bs.nr_unqueued_dirty;
  sc.nr.writeback += bs.nr_writeback;
  sc.nr.immediate += bs.nr_immediate;
  sc.nr.taken += taken;
  if (file) sc.nr.file_taken += taken;
  return reclaimed;
}

Reclaimer::Ref Reclaimer::check_references(Pfn pfn, PageFrame& f) {
  PteRefs refs;
  if (f.mapcount > 0) refs = host_.referenced(pfn);
  const bool referenced_page = f.test(FrameFlag::kReferenced);
  f.clear(FrameFlag::kReferenced);
  const bool file = f.test(FrameFlag::kFileLru);
  if (refs.mlocked) {
    // Found in a VM_LOCKED mapping: to the unevictable list.
    f.set(FrameFlag::kUnevictable);
    f.clear(FrameFlag::kActive);
    return Ref::kActivate;
  }
  if (refs.referenced > 0) {
    // Every mapped page starts with the Accessed bit of the fault that
    // mapped it, so one PTE reference alone earns another trip, marked;
    // a second reference (marked before, or two PTEs) activates.
    f.set(FrameFlag::kReferenced);
    if (referenced_page || refs.referenced > 1) return Ref::kActivate;
    if (refs.exec && file) return Ref::kActivate;  // executable code: on first use
    return Ref::kKeep;
  }
  // Used once through read()/write(): reclaim if clean, leave dirty to the flusher.
  if (referenced_page && file) return Ref::kReclaimClean;
  return Ref::kReclaim;
}

uint64_t Reclaimer::shrink_page_list(ScanControl& sc, BatchStat& bs, ReclaimResult& r) {
  keep_.clear();
  uint64_t reclaimed = 0;
  for (const Pfn pfn : batch_) {
    PageFrame& f = frame(pfn);
    if (f.test(FrameFlag::kLocked)) {  // busy (I/O, a state change): not now
      keep_.push_back(pfn);
      continue;
    }
    ++sc.nr_scanned;
    const bool file = f.test(FrameFlag::kFileLru);
    bool activate = false;
    Ref ref = Ref::kReclaim;
    // The flusher's pages (file): dirty or under writeback.
    const bool dirty = file && f.test(FrameFlag::kDirty);
    const bool writeback = file && f.test(FrameFlag::kWriteback);
    if (dirty || writeback) ++bs.nr_dirty;
    if (dirty && !writeback) ++bs.nr_unqueued_dirty;
    if (writeback && lru_.reclaim_mark(pfn)) ++bs.nr_congested;

    if (f.test(FrameFlag::kWriteback)) {
      if (sc.kswapd && lru_.reclaim_mark(pfn) && node_writeback_) {
        ++bs.nr_immediate;  // seen again before its write completed
      } else {
        lru_.set_reclaim_mark(pfn, true);  // reclaim it when the write ends
        ++bs.nr_writeback;
      }
      activate = true;
    } else {
      ref = check_references(pfn, f);
      if (ref == Ref::kActivate) {
        activate = true;
      } else if (ref == Ref::kKeep) {
        ++r.kept;
        keep_.push_back(pfn);
        continue;
      }
    }
    if (!activate && f.test(FrameFlag::kAnon) && f.test(FrameFlag::kSwapBacked) &&
        !f.test(FrameFlag::kSwapCache) && !host_.add_to_swap(pfn)) {
      activate = true;  // no swap slot
    }
    if (!activate && f.mapcount > 0 && !host_.unmap(pfn)) activate = true;
    bool free_it = !activate;
    if (free_it && f.test(FrameFlag::kDirty)) {
      free_it = false;
      if (file && (!sc.kswapd || !lru_.reclaim_mark(pfn) || !node_dirty_)) {
        // Only kswapd writes file pages, and only ones it has seen dirty
        // before while the tail is full of them; otherwise the flusher
        // should: mark the page for reclaim when it is clean, and move on.
        ++st_.nr_vmscan_immediate_reclaim;
        lru_.set_reclaim_mark(pfn, true);
        activate = true;
      } else if (ref != Ref::kReclaimClean && sc.may_writepage) {
        host_.flush_unmaps();  // no CPU may write through a stale TLB entry during the write
        switch (host_.pageout(pfn)) {
          case PageoutResult::kKeep: break;
          case PageoutResult::kActivate: activate = true; break;
          case PageoutResult::kStarted:
            lru_.set_reclaim_mark(pfn, true);
            ++bs.nr_pageout;
            ++st_.nr_vmscan_write;
            ++r.written;
            break;
          case PageoutResult::kDone:
            ++bs.nr_pageout;
            ++st_.nr_vmscan_write;
            ++r.written;
            free_it = !f.test(FrameFlag::kDirty) && !f.test(FrameFlag::kWriteback);
            break;
        }
      }
    }
    if (free_it) {
      const bool workingset = f.test(FrameFlag::kWorkingset);
      std::optional<ShadowKey> shadow;
      if (host_.remove_mapping(pfn, shadow)) {  // the frame is gone now
        lru_.forget(pfn);
        if (shadow) ws_.evict(*shadow, workingset);
        ++reclaimed;
        continue;
      }
    }
    // activate_locked: a page that stays is no swap candidate, so its slot
    // is freed when swap is more than half full (vm_swap_full) or the page
    // is mlocked: otherwise pages swapped in or written to during their
    // writeback would hold slots until swap is full of resident pages.
    if (activate && f.test(FrameFlag::kSwapCache)) {
      const uint64_t total = host_.total_swap_pages();
      if (f.test(FrameFlag::kUnevictable) || host_.free_swap_pages() * 2 < total) {
        host_.free_swap_cache(pfn);
      }
    }
    if (activate && !f.test(FrameFlag::kUnevictable)) {
      f.set(FrameFlag::kActive);
      ++st_.pgactivate;
      ++r.activated;
    }
    keep_.push_back(pfn);
  }
  host_.flush_unmaps();
  return reclaimed;
}

void Reclaimer::putback(const std::vector<Pfn>& pages) {
  for (const Pfn pfn : pages) {
    PageFrame& f = frame(pfn);
    lru_.add(pfn, f);
    if (f.test(FrameFlag::kActive) && !f.test(FrameFlag::kUnevictable)) ws_.age_nonresident(1);
  }
}

void Reclaimer::shrink_active(LruList l, uint64_t n, ReclaimResult& r) {
  const bool file = is_file_lru(l);
  batch_.clear();
  const uint64_t taken =
      lru_.take_tail(l, n, batch_, [this](Pfn p) -> PageFrame& { return frame(p); });
  st_.pgrefill += taken;
  r.refilled += taken;
  if (taken != 0) host_.scanned(taken);
  uint64_t rotated = 0, deactivated = 0;
  // The whole batch is off the list: putting pages back at the heads
  // cannot bring them round again in this call.
  for (const Pfn pfn : batch_) {
    PageFrame& f = frame(pfn);
    if (!f.test(FrameFlag::kUnevictable) && f.mapcount > 0) {
      const PteRefs refs = host_.referenced(pfn);
      if (refs.mlocked) {
        f.set(FrameFlag::kUnevictable);
        f.clear(FrameFlag::kActive);
      } else if (refs.referenced > 0 && refs.exec && file) {
        // Referenced executable file pages get one more trip on the active
        // list (anon exec pages do not: JITs make lots of them).
        ++rotated;
        lru_.add(pfn, f);
        ws_.age_nonresident(1);
        continue;
      }
    }
    if (!f.test(FrameFlag::kUnevictable)) {
      f.clear(FrameFlag::kActive);
      f.set(FrameFlag::kWorkingset);
      ++deactivated;
    }
    lru_.add(pfn, f);
  }
  st_.pgdeactivate += deactivated;
  r.deactivated += deactivated;
  if (rotated != 0) costs_.note(file, 0, rotated, lru_.evictable());
}

// --- statistics ---------------------------------------------------------------

void Reclaimer::visit_vmstat(StatVisitor& v) const {
  const ReclaimStats& s = st_;
  v.counter("pgscan_kswapd", "pages", "inactive pages scanned by kswapd", s.pgscan_kswapd);
  v.counter("pgscan_direct", "pages", "inactive pages scanned by direct reclaim", s.pgscan_direct);
  v.counter("pgsteal_kswapd", "pages", "pages freed by kswapd", s.pgsteal_kswapd);
  v.counter("pgsteal_direct", "pages", "pages freed by direct reclaim", s.pgsteal_direct);
  v.counter("pgscan_anon", "pages", "inactive anon pages scanned", s.pgscan_anon);
  v.counter("pgscan_file", "pages", "inactive file pages scanned", s.pgscan_file);
  v.counter("pgsteal_anon", "pages", "anon pages freed by reclaim", s.pgsteal_anon);
  v.counter("pgsteal_file", "pages", "file pages freed by reclaim", s.pgsteal_file);
  v.counter("pgactivate", "pages", "pages moved to an active list (second reference)",
            s.pgactivate);
  v.counter("pgdeactivate", "pages", "active pages moved to an inactive list", s.pgdeactivate);
  v.counter("pgrefill", "pages", "active pages scanned for deactivation", s.pgrefill);
  v.counter("pgrotated", "pages", "pages moved to the inactive tail when their writeback ended",
            s.pgrotated);
  v.counter("pageoutrun", "runs", "kswapd balancing runs", s.pageoutrun);
  v.counter("nr_vmscan_write", "pages", "pages reclaim wrote out (file or swap)",
            s.nr_vmscan_write);
  v.counter("nr_vmscan_immediate_reclaim", "pages",
            "dirty or writeback pages marked to be reclaimed when their write ends",
            s.nr_vmscan_immediate_reclaim);
  const LruSizes& n = lru_.sizes();
  v.counter("nr_inactive_anon", "pages", "pages on the inactive anon list now",
            n[lru_index(LruList::kInactiveAnon)]);
  v.counter("nr_active_anon", "pages", "pages on the active anon list now",
            n[lru_index(LruList::kActiveAnon)]);
  v.counter("nr_inactive_file", "pages", "pages on the inactive file list now",
            n[lru_index(LruList::kInactiveFile)]);
  v.counter("nr_active_file", "pages", "pages on the active file list now",
            n[lru_index(LruList::kActiveFile)]);
  v.counter("nr_unevictable", "pages", "pages on the unevictable list now",
            n[lru_index(LruList::kUnevictable)]);
  ws_.visit_vmstat(v);
}

void Reclaimer::visit(StatVisitor& v) const {
  v.counter("reclaim.kswapd_failures", "runs",
            "consecutive kswapd runs that freed nothing (16: the node is left to direct reclaim)",
            kswapd_failures_);
  v.counter("reclaim.kswapd_failures_total", "runs", "kswapd runs that freed nothing",
            st_.kswapd_failures);
  v.counter("reclaim.anon_cost", "pages", "recent cost of reclaiming anon pages (lru_note_cost)",
            costs_.anon);
  v.counter("reclaim.file_cost", "pages", "recent cost of reclaiming file pages (lru_note_cost)",
            costs_.file);
  v.counter("reclaim.shadows", "entries", "shadow entries of evicted pages held now",
            ws_.shadows());
  v.counter("reclaim.shadow_evictions", "pages", "shadow entries stored", ws_.stats().evictions);
  v.counter("reclaim.nonresident_age", "pages", "the workingset clock: evictions + activations",
            ws_.age());
}

}  // namespace mmusim
