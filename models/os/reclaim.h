// Page reclaim of Linux 6.12's classic LRU (mm/vmscan.c; os-model.md §1.2,
// §1.3, §1.5), plain C++: the engine that kswapd and direct reclaim run. It
// owns the LRU lists (LruVec), the workingset clock and shadows (Workingset)
// and the scan costs; the kernel supplies what reclaim needs from the rest of
// the system through ReclaimHost (the rmap, unmapping, swap slots, I/O, the
// page cache) and calls the hooks below when pages appear, are touched, end
// their writeback or go away.
//
// Time is the caller's: every call returns counts (ReclaimResult) and the
// host's callbacks run synchronously, so the host or the caller charges
// cycles for
//  - each page scanned (isolation, the flag checks), as the pass goes:
//    ReclaimHost::scanned() for each batch taken (ReclaimResult::scanned
//    inactive and ::refilled active pages count them too);
//  - each rmap walk with its PTE reads and Accessed-bit clears
//    (ReclaimHost::referenced), each unmap with its PTE writes
//    (ReclaimHost::unmap) and the TLB flushes (shootdowns) that
//    ReclaimHost::flush_unmaps() performs;
//  - each page written (ReclaimHost::pageout queues the I/O, submitted at
//    the latest by ReclaimHost::flush_writes() at the end of each
//    shrink_lruvec(), as Linux's plug; the page is freed after its
//    completion, which rotates it to the inactive tail: writeback_done());
//  - each page freed (ReclaimHost::remove_mapping);
//  - the throttle sleeps the result asks for: ReclaimResult::throttle_writeback
//    (HZ/10 = 100 ms each), ::throttle_congested and ::throttle_noprogress
//    (1 jiffy each), and waking the flusher (::flusher_wakeups).
// allocstall_* is the caller's too (one per ReclaimResult::priority_loops of
// try_to_free_pages()).
//
// A pass is not atomic in time with respect to its own writes: between two
// batches of inactive pages it asks ReclaimHost::yield() whether one of its
// writes may have completed by now. If so it stops (ReclaimResult::yielded,
// its plug flushed); the caller lets the completions in (they rotate the
// written pages to the inactive tail) and calls again with `resume`, which
// continues at the priority the pass stopped at, with the pages it already
// freed counted toward its target (Linux's pass simply goes on while the
// completion interrupts arrive; the resumed level recomputes its scan
// targets from the lists as they are then).
//
// Not modelled: memory cgroups, zones (one node, every page eligible),
// high-order (compaction) reclaim, watermark boosting, MGLRU, the shadow
// shrinker, slab shrinkers, lazy-free (MADV_FREE) pages, too_many_isolated()
// (one reclaimer runs at a time), the per-CPU LRU batches (pages join and
// move at once), freeing the swap slot of an activated swap-cache page when
// swap is more than half full. laptop_mode only gates reclaim's writes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/os/lru.h"
#include "models/os/page_frame.h"
#include "models/os/workingset.h"

namespace mmusim {

class ConfigSchema;

// os.linux.swappiness, os.linux.laptop_mode (Linux's vm.* sysctls and their
// defaults).
struct ReclaimConfig {
  // vm.swappiness: the relative I/O cost of anon (swap) against file pages,
  // 0..200 (100 = equal).
  unsigned swappiness = 60;
  // vm.laptop_mode: reclaim does not write pages until its priority drops
  // below 10 (DEF_PRIORITY - 2).
  bool laptop_mode = false;
  // Whether the file system of the mapped and read files has ->writepage.
  // Linux 6.12's ext4, xfs and btrfs do not (only f2fs and a few others
  // do, besides shmem and swap): pageout() of a dirty file page then
  // activates it and leaves it to the flusher, so reclaim never writes one.
  // true: kswapd writes a dirty file page it has met before while the
  // node's inactive file tail is all dirty (os-model.md §1.5).
  bool file_writepage = false;
};
// Binds os.linux.swappiness, os.linux.laptop_mode and
// os.linux.file_writepage to `c` (which must outlive the schema).
void add_keys(ConfigSchema& s, ReclaimConfig& c);
// Throws InputError naming the key for a value out of range.
void validate_reclaim_config(const ReclaimConfig& c);

// What folio_referenced() found.
struct PteRefs {
  unsigned referenced = 0;  // PTEs mapping the page whose Accessed bit was set (now cleared)
  bool exec = false;        // some mapping VMA is VM_EXEC
  bool mlocked = false;     // some mapping VMA is VM_LOCKED
};

// What pageout() did with a dirty page.
enum class PageoutResult : uint8_t {
  kStarted,   // write submitted: kDirty cleared, kWriteback set (freed on a later pass)
  kDone,      // written synchronously: clean and not under writeback (freed now)
  kKeep,      // not written now (kept on the inactive list)
  kActivate,  // cannot be written (activated)
};

// What the kernel does for reclaim. Every call is about one page that reclaim
// has taken off the LRU (isolated); the page's PageFrame flags are the
// kernel's and reclaim's shared state.
class ReclaimHost {
 public:
  virtual ~ReclaimHost() = default;
  // folio_referenced(), for a page with mapcount > 0: walk its rmap, test
  // and clear the Accessed bit of every PTE mapping it, and report the count
  // and the mapping VMAs' VM_EXEC / VM_LOCKED. (The host flushes the TLB
  // entries of cleared bits as Linux does, or not: x86 does not.)
  virtual PteRefs referenced(Pfn pfn) = 0;
  // try_to_unmap(), for a page with mapcount > 0: clear every PTE mapping
  // it (an anon page in the swap cache leaves swap entries), move the PTE
  // dirty bits into kDirty, drop mapcount. TLB flushes may wait for
  // flush_unmaps(). False if some mapping remains (the page is activated).
  virtual bool unmap(Pfn pfn) = 0;
  // try_to_unmap_flush(): flush the TLB entries of the PTEs unmapped since
  // the last call (nothing if none). Called before each pageout() and at the
  // end of each batch of up to 32 pages.
  virtual void flush_unmaps() = 0;
  // add_to_swap(), for an anon page (kAnon and kSwapBacked) without
  // kSwapCache: allocate a swap slot and add the page to the swap cache
  // (set kSwapCache and kDirty). False: no slot (the page is activated).
  virtual bool add_to_swap(Pfn pfn) = 0;
  // pageout(): write a dirty, unmapped page to its file or its swap slot.
  virtual PageoutResult pageout(Pfn pfn) = 0;
  // __remove_mapping() and the free: detach a clean, unmapped page not under
  // writeback from its page cache or swap cache and free its frame. False
  // if it cannot (still referenced: the page is kept). On success, set
  // `shadow` to where the page lived for its shadow entry (nullopt: none).
  virtual bool remove_mapping(Pfn pfn, std::optional<ShadowKey>& shadow) = 0;
  // folio_free_swap() on reclaim's activate path: a page in the swap cache
  // that stays in memory gives its slot back (removed from the swap cache,
  // kSwapCache cleared; it is written to a new slot if reclaimed later),
  // unless a swap PTE still references the slot or the page is under
  // writeback. Called only when swap is more than half full or the page is
  // mlocked (see shrink_page_list).
  virtual void free_swap_cache(Pfn pfn) = 0;
  // get_nr_swap_pages(): free swap slots.
  virtual uint64_t free_swap_pages() = 0;
  // total_swap_pages: all swap slots (0: anon pages are not even aged).
  virtual uint64_t total_swap_pages() = 0;
  // Free page frames now, and the sum of the zones' high watermarks (for
  // file_is_tiny).
  virtual uint64_t free_pages() = 0;
  virtual uint64_t high_wmark_pages() = 0;
  // The pass took `pages` more pages off a list to examine them: charge
  // their scan cost now, so that the pass's clock runs as it goes.
  virtual void scanned(uint64_t /*pages*/) {}
  // Between two batches of inactive pages: deliver the write completions
  // due by now (writeback_done()), and return true if the pass should stop
  // here for completions it cannot see yet (one of its writes may have
  // completed). The reclaimer ignores true before the call's first batch.
  virtual bool yield() { return false; }
  // blk_finish_plug(): submit the writes pageout() queued. Called at the end
  // of each shrink_lruvec() and before the pass yields.
  virtual void flush_writes() {}
};

// What one reclaim call did (also the caller's bill: see the header comment).
struct ReclaimResult {
  uint64_t scanned = 0;    // inactive pages taken off their list and examined (pgscan)
  uint64_t reclaimed = 0;  // pages freed (pgsteal)
  uint64_t refilled = 0;   // active pages examined by deactivation (pgrefill)
  uint64_t deactivated = 0;
  uint64_t activated = 0;            // inactive pages promoted by reclaim (pgactivate)
  uint64_t kept = 0;                 // referenced once: back to the inactive head for one more trip
  uint64_t written = 0;              // pageouts started (nr_vmscan_write)
  uint64_t batches = 0;              // shrink_inactive_list() batches (each <= 32 pages)
  unsigned priority = kDefPriority;  // the last (lowest) priority scanned at
  uint64_t shrink_passes = 0;        // shrink_node() passes
  uint64_t priority_loops = 0;       // try_to_free_pages(): priority loops (allocstall each)
  uint64_t throttle_writeback = 0;   // reclaim_throttle(WRITEBACK) sleeps asked for
  uint64_t throttle_congested = 0;   // reclaim_throttle(CONGESTED) sleeps asked for
  uint64_t throttle_noprogress = 0;  // reclaim_throttle(NOPROGRESS) sleeps asked for
  uint64_t flusher_wakeups = 0;      // wakeup_flusher_threads(WB_REASON_VMSCAN)
  bool balanced = false;             // balance(): the predicate held when it returned
  bool yielded = false;              // stopped for write completions: call again with resume

  ReclaimResult& operator+=(const ReclaimResult& o);
};

// /proc/vmstat counters of reclaim (allocstall_* and kswapd_*_wmark_hit_quickly
// are the caller's).
struct ReclaimStats {
  uint64_t pgscan_kswapd = 0, pgscan_direct = 0;
  uint64_t pgsteal_kswapd = 0, pgsteal_direct = 0;
  uint64_t pgscan_anon = 0, pgscan_file = 0;
  uint64_t pgsteal_anon = 0, pgsteal_file = 0;
  uint64_t pgactivate = 0, pgdeactivate = 0, pgrefill = 0, pgrotated = 0;
  uint64_t pageoutrun = 0;
  uint64_t nr_vmscan_write = 0;              // pages written by reclaim
  uint64_t nr_vmscan_immediate_reclaim = 0;  // dirty/writeback pages marked PG_reclaim
  uint64_t kswapd_failures = 0;              // balance() runs that reclaimed nothing (total)
};

class Reclaimer {
 public:
  // MAX_RECLAIM_RETRIES: kswapd gives up on a node after this many failed runs.
  static constexpr unsigned kMaxReclaimRetries = 16;

  // `frames` holds the pages' metadata (PageFrame flags, mapcount); `host`
  // is the kernel. Both must outlive the Reclaimer. Validates `cfg`.
  Reclaimer(const ReclaimConfig& cfg, PageFrameAllocator& frames, ReclaimHost& host);

  // --- hooks for the kernel ---
  // folio_add_lru(): a new page (anon fault, page-cache fill, swap-in) joins
  // the head of the inactive list of its type (kFileLru), or of the active
  // list if kActive is set (a refault activation), or the unevictable list.
  void lru_add(Pfn pfn);
  // The page leaves the LRU for good (freed, truncated): off its list.
  void lru_del(Pfn pfn);
  // folio_mark_accessed() (read()/write() hits, not mapped accesses):
  // unreferenced -> kReferenced; referenced and inactive -> activated
  // (pgactivate, the workingset clock ticks), kReferenced cleared; active ->
  // kReferenced. No effect on unevictable pages beyond kReferenced.
  void mark_accessed(Pfn pfn);
  // workingset_refault() for a new page `pfn` at `key`, before lru_add().
  RefaultResult refault(const ShadowKey& key, Pfn pfn);
  // folio_end_writeback(): the page's write completed. Clears kWriteback;
  // if reclaim marked it (PG_reclaim), clears the mark and, if it is on an
  // evictable list, clean and not locked, moves it to the tail of its
  // inactive list for immediate reclaim (pgrotated).
  void writeback_done(Pfn pfn);

  // --- reclaim ---
  // One shrink_node() pass at `priority` (0..12) for `nr_to_reclaim` pages,
  // as kswapd (true) or direct reclaim: get_scan_count(), then 32-page
  // batches round-robin over the lists (kswapd stops at the target and
  // rescales the remaining scans proportionally; direct reclaim at priority
  // 12 does not stop early), deactivation where the inactive list is low or
  // refaults changed, and the node flags (dirty, writeback, congested).
  ReclaimResult shrink_node(unsigned priority, uint64_t nr_to_reclaim, bool kswapd);
  // Direct reclaim (do_try_to_free_pages): priority 12 down to 0 until
  // `nr_to_reclaim` pages are freed; pages are written only from priority 9
  // under laptop_mode. Without progress the loop runs again (Linux's
  // full-walk retry, then once more with forced deactivation if an active
  // list was skipped).
  // `cgroup`: for a memory cgroup's limit (try_to_free_mem_cgroup_pages): the
  // same passes, left out of pgscan_direct/pgsteal_direct as Linux leaves
  // cgroup reclaim out of them (pgscan_anon/file still count).
  // `resume`: continue the pass that last yielded (a direct-reclaim pass;
  // ignored if none), rather than starting at priority 12.
  ReclaimResult try_to_free_pages(uint64_t nr_to_reclaim = kSwapClusterMax, bool cgroup = false,
                                  bool resume = false);
  // kswapd (balance_pgdat): priority 12 down to 1 until `balanced()` holds
  // (checked before each pass), each pass aiming at `high_target` pages
  // (Σ zones max(high watermark, 32)); the priority drops only when a pass
  // scanned less than the target or freed nothing. A run that frees nothing
  // counts a kswapd failure; any progress (here or in direct reclaim) resets
  // the count.
  // `resume`: continue the kswapd run that last yielded (ignored if none).
  ReclaimResult balance(uint64_t high_target, const std::function<bool()>& balanced,
                        bool resume = false);
  // Whether the last pass yielded and can be resumed, and by whom.
  [[nodiscard]] bool suspended(bool kswapd) const { return susp_.valid && susp_.kswapd == kswapd; }
  // Forget a yielded pass (its caller went away, or another pass ran).
  void drop_suspended() { susp_.valid = false; }
  // prepare_kswapd_sleep(): kswapd may sleep if the node is hopeless or
  // `balanced`; balanced also clears the node's dirty/writeback/congested
  // flags.
  bool kswapd_may_sleep(bool balanced);
  // kswapd failed kMaxReclaimRetries times in a row: leave the node to
  // direct reclaim (wakeup_kswapd does not wake it).
  [[nodiscard]] bool hopeless() const { return kswapd_failures_ >= kMaxReclaimRetries; }
  [[nodiscard]] unsigned kswapd_failures() const { return kswapd_failures_; }

  // --- state ---
  [[nodiscard]] LruVec& lru() { return lru_; }
  [[nodiscard]] const LruVec& lru() const { return lru_; }
  [[nodiscard]] Workingset& workingset() { return ws_; }
  [[nodiscard]] const Workingset& workingset() const { return ws_; }
  [[nodiscard]] const ScanCosts& costs() const { return costs_; }
  [[nodiscard]] ScanCosts& costs() { return costs_; }
  [[nodiscard]] const ReclaimStats& stats() const { return st_; }
  [[nodiscard]] const ReclaimConfig& config() const { return cfg_; }
  // The node flags kswapd sets (PGDAT_DIRTY, PGDAT_WRITEBACK,
  // LRUVEC_NODE_CONGESTED).
  [[nodiscard]] bool node_dirty() const { return node_dirty_; }
  [[nodiscard]] bool node_writeback() const { return node_writeback_; }
  [[nodiscard]] bool node_congested() const { return node_congested_; }

  // /proc/vmstat names: pgscan_*, pgsteal_*, pgactivate, pgdeactivate,
  // pgrefill, pgrotated, pageoutrun, nr_vmscan_*, nr_{in,}active_{anon,file},
  // nr_unevictable, workingset_*.
  void visit_vmstat(StatVisitor& v) const;
  // reclaim.* : kswapd failures now, shadow entries, the scan costs.
  void visit(StatVisitor& v) const;

 private:
  struct ScanControl;
  struct BatchStat;
  enum class Ref : uint8_t { kActivate, kKeep, kReclaim, kReclaimClean };

  PageFrame& frame(Pfn pfn);
  void shrink_node_pass(ScanControl& sc, ReclaimResult& r);
  // A pass that yielded: where its caller resumes (try_to_free_pages or
  // balance with `resume`).
  void suspend(const ScanControl& sc, bool kswapd, bool full_walk);
  void prepare_scan(ScanControl& sc);
  void shrink_lruvec(ScanControl& sc, ReclaimResult& r);
  uint64_t shrink_list(LruList l, uint64_t n, ScanControl& sc, ReclaimResult& r);
  uint64_t shrink_inactive(LruList l, uint64_t n, ScanControl& sc, ReclaimResult& r);
  uint64_t shrink_page_list(ScanControl& sc, BatchStat& st, ReclaimResult& r);
  void shrink_active(LruList l, uint64_t n, ReclaimResult& r);
  Ref check_references(Pfn pfn, PageFrame& f);
  void putback(const std::vector<Pfn>& pages);
  void snapshot_refaults();
  [[nodiscard]] bool can_age_anon() { return host_.total_swap_pages() > 0; }

  ReclaimConfig cfg_;
  PageFrameAllocator& frames_;
  ReclaimHost& host_;
  LruVec lru_;
  Workingset ws_;
  ScanCosts costs_;
  ReclaimStats st_;
  unsigned kswapd_failures_ = 0;
  bool node_dirty_ = false, node_writeback_ = false, node_congested_ = false;
  // The pass that yielded last, to resume (see yield()).
  struct Suspended {
    bool valid = false;
    bool kswapd = false;
    int priority = 0;
    uint64_t nr_reclaimed = 0;
    uint64_t level_reclaimed = 0;  // freed at `priority` before the yield
    bool may_writepage = true, full_walk = false, force_deactivate = false;
    bool no_cache_trim_mode = false;
  };
  Suspended susp_;
  // workingset_activate_{anon,file} at the end of the last reclaim run.
  uint64_t refaults_anon_ = 0, refaults_file_ = 0;
  std::vector<Pfn> batch_, keep_;  // reused buffers: no allocation per batch
};

}  // namespace mmusim
