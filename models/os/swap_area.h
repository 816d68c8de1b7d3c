// One swap area: its slots, their use counts and the order in which Linux
// 6.12 hands slots out (os-model.md §1.6; mm/swapfile.c, mm/swap_slots.c).
// Plain C++.
//
// Slots are 4 KiB pages of the area; slot 0 holds the swap header and is
// never handed out, so an area of N slots has N - 1 usable ones (total()).
// A slot's count is the number of references its user holds: alloc() hands
// a slot out with count 1 (the swap-cache copy, or the caller's first
// mapping), dup() adds one, free() drops one, and the slot returns to the
// area when the count reaches 0. (Linux keeps the swap cache's reference as
// a flag beside the count; here it is one of the references.)
//
// Order of allocation, one order-0 slot at a time:
//   - solid state (SWP_SOLIDSTATE, cluster_alloc_swap_entry): the area is cut
//     into clusters of 512 slots. Each CPU allocates sequentially in its
//     current cluster; when that is full it takes the first cluster of the
//     free list, then of the nonfull list (clusters with some free slots, moved
//     to the frag list as they are tried), then of the frag list. The free
//     list starts interleaved by 32 (clusters 32, 64, ... then 1, 33, ...)
//     as Linux lays it out against false sharing; the header's cluster 0 and
//     a partial last cluster start on the nonfull list.
//   - rotational (scan_swap_map_slots): sequential from cluster_next; after
//     512 slots it looks, from lowest_bit, for the first run of 512 free
//     slots (not aligned) and continues there; with no such run it takes the
//     first free slot from lowest_bit (with fewer than 512 free slots in all,
//     the next free one from cluster_next, wrapping to lowest_bit).
//   - the per-CPU slot cache (swap_slots.c), on by default as in 6.12: a CPU
//     takes 64 slots at once from the allocator above and hands them out one
//     by one; a slot whose count reaches 0 waits in the freeing CPU's return
//     cache until 64 have gathered, then they go back together. It changes
//     the order when CPUs interleave (on a rotational area each CPU gets runs
//     of 64 instead of alternating slots) and delays reuse; it is active
//     while more than 320 slots per CPU are free and is drained below 128.
// Slots held only by the swap cache are not reclaimed by the allocator when
// the area is more than half full (Linux's __try_to_reclaim_swap): the
// kernel model frees such slots itself (e.g. on swap-in when
// full_over_half()). No discard, no bad slots, no large (THP) allocations.
//
// Host memory follows the slots in use: 2 KiB of counts per cluster with a
// slot in use, plus 20 bytes per cluster (10 MiB for a 1 TiB area).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "models/common/stats.h"

namespace mmusim {

enum class SwapKind : uint8_t { kSolidState, kRotational };
[[nodiscard]] std::string_view swap_kind_name(SwapKind k);

struct SwapAreaStats {
  uint64_t allocs = 0;          // slots handed out by alloc()
  uint64_t alloc_failures = 0;  // alloc() calls that found no free slot
  uint64_t frees = 0;           // slots whose count fell to 0
  // Solid state: a CPU took another cluster (from the free, nonfull or frag
  // list). Rotational: a run of 512 free slots was found from lowest_bit.
  uint64_t cluster_switches = 0;
  // Solid state: slots taken from nonfull or frag clusters (no free cluster
  // left). Rotational: slots found by the first-free scan after the current
  // run hit a used slot.
  uint64_t fragment_allocs = 0;
  uint64_t cache_refills = 0;  // per-CPU slot cache refills (up to 64 slots each)
  uint64_t cache_returns = 0;  // return-cache batches given back to the area
  void visit(StatVisitor& v) const;
};

class SwapArea {
 public:
  static constexpr uint32_t kClusterSlots = 512;  // SWAPFILE_CLUSTER (HPAGE_PMD_NR, THP_SWAP)
  static constexpr uint32_t kSlotCache = 64;      // SWAP_SLOTS_CACHE_SIZE = SWAP_BATCH

  // An area of `slots` 4 KiB slots including the header (a swap file of
  // slots x 4 KiB), at least 2; `cpus` (>= 1) CPUs may allocate and free.
  // `slot_cache` turns the per-CPU slot cache on (Linux's default).
  // Throws std::invalid_argument for fewer than 2 slots, more than 2^40, or
  // no CPU.
  SwapArea(uint64_t slots, SwapKind kind, unsigned cpus = 1, bool slot_cache = true);
  ~SwapArea();
  SwapArea(const SwapArea&) = delete;
  SwapArea& operator=(const SwapArea&) = delete;

  // folio_alloc_swap() of one page on `cpu`: the slot, with count 1, or
  // nullopt when the area has no free slot (outside the per-CPU caches).
  std::optional<uint64_t> alloc(unsigned cpu);
  // One more reference (a further swap PTE). Throws std::invalid_argument
  // for a slot not handed out.
  void dup(uint64_t slot);
  // One reference less; at 0 the slot goes back to the area (through `cpu`'s
  // return cache while the slot cache is active). Throws
  // std::invalid_argument for a slot not handed out.
  void free(uint64_t slot, unsigned cpu = 0);
  // References held; 0 for a free slot, the header, and slots waiting in a
  // per-CPU cache.
  [[nodiscard]] uint32_t count(uint64_t slot) const;

  // Usable slots (the header left out): Linux's si->pages.
  [[nodiscard]] uint64_t total() const { return pages_; }
  // Slots not free, including those waiting in per-CPU caches
  // (si->inuse_pages; SwapTotal - SwapFree in /proc/meminfo).
  [[nodiscard]] uint64_t used() const { return inuse_; }
  [[nodiscard]] uint64_t free_slots() const { return pages_ - inuse_; }
  // Slots waiting in per-CPU caches (allocation and return caches).
  [[nodiscard]] uint64_t cached() const;
  // vm_swap_full(): more than half the slots used (free x 2 < total).
  [[nodiscard]] bool full_over_half() const { return free_slots() * 2 < pages_; }
  // Gives every cached slot back to the area (as swapoff, or the cache's
  // deactivation, does).
  void drain_caches();
  [[nodiscard]] bool slot_cache_active() const { return cache_active_; }

  [[nodiscard]] SwapKind kind() const { return kind_; }
  [[nodiscard]] unsigned cpus() const { return static_cast<unsigned>(caches_.size()); }
  [[nodiscard]] const SwapAreaStats& stats() const { return stats_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr uint32_t kHeld = UINT32_MAX;  // a map value: not free, no reference
  enum class List : uint8_t { kNone, kFree, kNonfull, kFrag, kFull };
  static constexpr size_t kLists = 5;
  struct Cluster {
    uint32_t prev = kNil, next = kNil;  // links in its list
    uint16_t live = 0;                  // slots below max_ not free (header included)
    List list = List::kNone;
  };
  struct Cache {
    std::vector<uint64_t> slots;  // allocation cache, handed out from `cur`
    size_t cur = 0;
    std::vector<uint64_t> ret;  // freed slots waiting to go back
  };

  // Slot map.
  [[nodiscard]] bool used(uint64_t off) const;
  // First used (free) slot in [from, to], or nullopt.
  [[nodiscard]] std::optional<uint64_t> next_used(uint64_t from, uint64_t to) const;
  [[nodiscard]] std::optional<uint64_t> next_free(uint64_t from, uint64_t to) const;
  void set_map(uint64_t off, uint32_t v);
  uint32_t& map_at(uint64_t off);
  // Slots of cluster c at or beyond max_ (only the last cluster has any).
  [[nodiscard]] uint32_t tail(uint64_t c) const;
  // Linux's cluster count: slots not free, counting the tail beyond max_.
  [[nodiscard]] uint32_t ccount(uint64_t c) const { return clusters_[c].live + tail(c); }

  // Cluster lists.
  void unlink(uint32_t c);
  void push_tail(List l, uint32_t c);
  void move_tail(List l, uint32_t c);
  [[nodiscard]] uint32_t head(List l) const { return heads_[static_cast<size_t>(l)]; }

  // The allocator (Linux's functions of the same names, order 0).
  uint64_t get_swap_pages(uint64_t n_goal, std::vector<uint64_t>& out, unsigned cpu);
  std::optional<uint64_t> cluster_alloc_swap_entry(unsigned cpu);
  uint64_t alloc_swap_scan_cluster(uint64_t offset, std::optional<uint64_t>& found);
  void cluster_alloc_range(uint64_t off);
  uint64_t scan_swap_map_slots(uint64_t nr, std::vector<uint64_t>& out);
  void swap_range_alloc(uint64_t off);
  // A slot back to the area (swap_entry_range_free of one slot).
  void release(uint64_t off);
  void free_swap_slot(uint64_t off, unsigned cpu);
  bool check_cache_active();

  SwapKind kind_;
  uint64_t max_;    // slots, header included (si->max)
  uint64_t pages_;  // usable slots (si->pages)
  uint64_t inuse_ = 0;
  uint64_t lowest_bit_ = 1, highest_bit_;
  uint64_t cluster_next_ = 1;  // rotational: where the next scan starts
  uint32_t cluster_nr_ = 0;    // rotational: slots left in the current run
  std::vector<Cluster> clusters_;
  std::vector<std::unique_ptr<uint32_t[]>> maps_;  // per cluster, while live > 0
  uint32_t heads_[kLists], tails_[kLists];
  uint64_t frag_nr_ = 0;        // clusters on the frag list
  std::vector<uint64_t> next_;  // per CPU: the next slot of its cluster (0 = none)
  std::vector<Cache> caches_;   // per CPU
  std::vector<uint64_t> one_;   // a direct allocation's result (kept to avoid reallocating)
  bool cache_enabled_;
  bool cache_active_ = false;
  SwapAreaStats stats_;
};

}  // namespace mmusim
