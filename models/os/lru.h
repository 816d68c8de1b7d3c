// The classic two-list LRU of Linux 6.12 (os-model.md §1.3): per node, the
// lists inactive/active x anon/file plus unevictable, and the pure functions
// reclaim sizes its work with: inactive_is_low(), the anon/file cost
// bookkeeping (ScanCosts, lru_note_cost) and get_scan_count(). Plain C++, no
// SystemC; off the per-access path (allocations and reclaim call it).
//
// LruVec. Every operation is O(1) per page (one hash lookup of the frame
// number, then index links); no heap allocation per page: the links live in
// one growable array of nodes indexed by a dense handle (freed handles are
// reused), found through a FlatMap<pfn, handle>. Host memory: 24 bytes per
// node plus a 16-byte hash slot (the table 3/8 to 3/4 full), about 50-70
// bytes per page on a list. The head of a list is its most recently added
// end; reclaim takes pages from the tail.
//
// Flags. LruVec keeps the frame's kLru set exactly while the page is on one
// of its lists, and chooses the list from the frame as Linux's
// folio_lru_list() does: kUnevictable -> unevictable; else kFileLru (the
// page's type, set by whoever creates the page: page-cache pages; clear for
// anon and shmem) picks file or anon, and kActive picks active or inactive.
// Operations that move a page between lists (activate, move_tail, move) set
// kActive / kUnevictable to match the new list; nothing here changes
// kFileLru except move() to a list of the other type. A page taken off its
// list for reclaim (isolate, take_tail) keeps its node (and its PG_reclaim
// mark) until it is put back (add) or dropped (del, forget).
//
// PG_reclaim (Linux's "reclaim this page as soon as its writeback ends") has
// no FrameFlag: LruVec keeps it in the page's node (set_reclaim_mark()), so it
// disappears with the node when the page leaves the LRU for good.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "models/common/flat_map.h"
#include "models/common/types.h"
#include "models/os/page_frame.h"

namespace mmusim {

// SWAP_CLUSTER_MAX: reclaim's batch size, and the unit of the I/O cost.
constexpr uint64_t kSwapClusterMax = 32;
// DEF_PRIORITY: reclaim scans size >> priority of each list per pass.
constexpr unsigned kDefPriority = 12;
// MAX_SWAPPINESS: vm.swappiness ranges over 0..200 (100 = equal I/O cost).
constexpr unsigned kMaxSwappiness = 200;

// The lists, indexed as Linux's enum lru_list: inactive anon 0, active anon 1,
// inactive file 2, active file 3 (the evictable ones), unevictable 4.
constexpr size_t kNumLruLists = 5;
constexpr size_t kNumEvictableLists = 4;
constexpr size_t lru_index(LruList l) { return static_cast<size_t>(l) - 1; }
constexpr LruList lru_at(size_t i) { return static_cast<LruList>(i + 1); }
constexpr bool is_file_lru(LruList l) {
  return l == LruList::kInactiveFile || l == LruList::kActiveFile;
}
constexpr bool is_active_lru(LruList l) {
  return l == LruList::kActiveAnon || l == LruList::kActiveFile;
}
std::string_view lru_list_name(LruList l);  // "inactive_anon", ..., "unevictable"

// Page counts of the lists, by lru_index().
using LruSizes = std::array<uint64_t, kNumLruLists>;

class LruVec {
 public:
  LruVec() = default;
  LruVec(const LruVec&) = delete;
  LruVec& operator=(const LruVec&) = delete;

  // Adds the page at the head (most recent end) of the list its flags name
  // and sets kLru. The page may be new or taken off by isolate()/take_tail()
  // (its PG_reclaim mark is kept). Throws std::invalid_argument if it is on
  // a list already.
  void add(Pfn pfn, PageFrame& f);
  // As add(), at the tail (the next to be scanned).
  void add_tail(Pfn pfn, PageFrame& f);
  // Takes the page off its list for good (freed, truncated) and forgets it;
  // clears kLru. Returns the list it was on (kNone: it was isolated or
  // unknown; an isolated page's node is dropped too).
  LruList del(Pfn pfn, PageFrame& f);
  // Forgets a page taken off by isolate()/take_tail() whose frame is gone
  // (reclaim freed it). Throws std::invalid_argument if the page is on a list.
  void forget(Pfn pfn);
  // folio_isolate_lru(): takes the page off its list, keeping its node;
  // clears kLru. Returns the list it was on (kNone: not on a list).
  LruList isolate(Pfn pfn, PageFrame& f);
  // Takes up to `n` pages from the tail of `l`, tail first, appending them to
  // `out` (isolated: kLru cleared through `frame_of(pfn)`, which returns the
  // page's PageFrame&). Returns how many.
  template <class FrameOf>
  uint64_t take_tail(LruList l, uint64_t n, std::vector<Pfn>& out, FrameOf&& frame_of) {
    uint64_t taken = 0;
    for (; taken < n; ++taken) {
      const uint32_t t = ends_[lru_index(l)].tail;
      if (t == kNil) break;
      const Pfn pfn(nodes_[t].pfn);
      unlink(t);
      frame_of(pfn).clear(FrameFlag::kLru);
      out.push_back(pfn);
    }
    return taken;
  }

  // To the head of its own list (a second trip). False if not on a list.
  bool rotate(Pfn pfn);
  // lru_activate(): an inactive evictable page to the head of the active list
  // of its type, setting kActive. False (nothing done) if the page is not on
  // an inactive list.
  bool activate(Pfn pfn, PageFrame& f);
  // lru_move_tail(): an evictable page to the tail of the inactive list of
  // its type, clearing kActive. False if not on an evictable list.
  bool move_tail(Pfn pfn, PageFrame& f);
  // To the head of `to` (not kNone), setting kActive, kUnevictable and (for
  // an evictable list) kFileLru to match. False if the page is not on a list.
  bool move(Pfn pfn, PageFrame& f, LruList to);

  // PG_reclaim of a page LruVec knows (on a list or isolated); setting it on
  // an unknown page throws std::invalid_argument, testing gives false.
  void set_reclaim_mark(Pfn pfn, bool on);
  [[nodiscard]] bool reclaim_mark(Pfn pfn) const;

  [[nodiscard]] bool contains(Pfn pfn) const { return index_.contains(pfn.value()); }
  // The list the page is on; kNone if isolated or unknown.
  [[nodiscard]] LruList list_of(Pfn pfn) const;
  [[nodiscard]] uint64_t size(LruList l) const { return size_.at(lru_index(l)); }
  [[nodiscard]] const LruSizes& sizes() const { return size_; }
  // Pages on the four evictable lists.
  [[nodiscard]] uint64_t evictable() const { return size_[0] + size_[1] + size_[2] + size_[3]; }
  [[nodiscard]] std::optional<Pfn> head(LruList l) const;
  [[nodiscard]] std::optional<Pfn> tail(LruList l) const;
  // The pages of `l`, head first. O(list size): for tests and inspection.
  [[nodiscard]] std::vector<Pfn> pages(LruList l) const;
  // Nodes held (pages on a list or isolated).
  [[nodiscard]] uint64_t nodes() const { return index_.size(); }

 private:
  static constexpr uint32_t kNil = ~uint32_t{0};
  struct Node {
    uint64_t pfn = 0;
    uint32_t prev = kNil, next = kNil;  // prev: towards the head
    uint8_t list = 0;                   // LruList (kNone: isolated)
    bool reclaim = false;               // PG_reclaim
  };
  struct Ends {
    uint32_t head = kNil, tail = kNil;
  };

  uint32_t node_of(Pfn pfn) const;  // kNil if unknown
  uint32_t make_node(Pfn pfn);
  void link_head(uint32_t n, LruList l);
  void link_tail(uint32_t n, LruList l);
  void unlink(uint32_t n);
  void drop(uint32_t n);
  void insert(Pfn pfn, PageFrame& f, bool at_head);

  std::vector<Node> nodes_;
  uint32_t free_ = kNil;  // chain of unused nodes through `next`
  FlatMap<uint64_t, uint32_t> index_;
  std::array<Ends, kNumLruLists> ends_{};
  LruSizes size_{};
};

// The list a page belongs on by its flags (folio_lru_list()).
LruList lru_list_for(const PageFrame& f);

// int_sqrt(): the largest r with r * r <= x.
uint64_t int_sqrt(uint64_t x);
// inactive_is_low()'s target ratio active:inactive for a list pair of
// `inactive + active` pages: int_sqrt(10 x GiB), 1 below 1 GiB.
uint64_t inactive_ratio(uint64_t inactive, uint64_t active);
// The inactive list is low (deactivate some active pages) iff
// inactive x ratio < active.
bool inactive_is_low(uint64_t inactive, uint64_t active);

// lru_note_cost(): the recent cost of reclaiming each type, in pages: I/O
// (pages written out by reclaim, and refaults of workingset pages) costs
// SWAP_CLUSTER_MAX each, a rotation 1. get_scan_count() shifts pressure
// away from the costlier type. Both decay by half when their sum exceeds a
// quarter of the evictable pages.
struct ScanCosts {
  uint64_t anon = 0, file = 0;
  // Adds nr_io x 32 + nr_rotated to `file`'s cost, then halves both if
  // anon + file > lru_pages / 4 (lru_pages: the four evictable lists).
  void note(bool file, uint64_t nr_io, uint64_t nr_rotated, uint64_t lru_pages);
  // lru_note_cost_refault(): a refault of a page that was active before its
  // eviction counts as I/O.
  void note_refault(bool file, uint64_t nr_pages, uint64_t lru_pages) {
    note(file, nr_pages, 0, lru_pages);
  }
};

// How get_scan_count() splits the pressure.
enum class ScanBalance : uint8_t {
  kEqual,  // near OOM (priority 0): every list by its size
  kFract,  // by swappiness and the costs
  kAnon,   // anon only (file_is_tiny)
  kFile,   // file only (no swap, or cache_trim_mode)
};
std::string_view scan_balance_name(ScanBalance b);

struct ScanInput {
  std::array<uint64_t, kNumEvictableLists> size{};  // pages per evictable list, by lru_index()
  unsigned priority = kDefPriority;                 // 0..12
  unsigned swappiness = 60;                         // 0..200
  bool can_reclaim_anon = true;  // may_swap and a free swap slot (can_reclaim_anon_pages)
  bool file_is_tiny = false;     // prepare_scan_control's file_is_tiny
  bool cache_trim_mode = false;  // prepare_scan_control's cache_trim_mode
  ScanCosts costs;
};

struct ScanCount {
  std::array<uint64_t, kNumEvictableLists> nr{};  // pages to scan per list, by lru_index()
  ScanBalance balance = ScanBalance::kFract;
  // kFract: the anon and file fractions (ap, fp); the scan of a list is
  // (size >> priority) x fraction / (ap + fp). Zero otherwise.
  uint64_t anon_fraction = 0, file_fraction = 0;
};

// get_scan_count() for global reclaim (no memory cgroups): the balance mode,
// first of SCAN_FILE (no anon reclaim possible), SCAN_EQUAL (priority 0,
// swappiness > 0), SCAN_ANON (file_is_tiny), SCAN_FILE (cache_trim_mode),
// else SCAN_FRACT with
//   T = a + f, A = T + a, F = T + f,
//   ap = s (A + F + 1) / (A + 1), fp = (200 - s) (A + F + 1) / (F + 1),
// and each list's target (size >> priority) scaled by its type's share.
// The costs must stay below 2^48 pages (ScanCosts::note() keeps them near a
// quarter of the lists). Throws std::invalid_argument for a priority above
// 12 or a swappiness above 200 (a bug in the caller).
ScanCount get_scan_count(const ScanInput& in);

}  // namespace mmusim
