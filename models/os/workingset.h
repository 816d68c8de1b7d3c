// Workingset detection (Linux 6.12 mm/workingset.c; os-model.md §1.4), plain
// C++: shadow entries left where evicted pages lived, and the refault test
// that activates a page coming back soon enough.
//
// The clock, nonresident_age, counts inactive-list evictions and activations
// (of any kind: mark_accessed, reclaim's activations and rotations of active
// pages put back, refault activations). An eviction stores E = the age then
// (and ages the clock by one); a later miss on the same slot reads the
// distance R - E, the least number of pages that entered or were promoted
// while this one was out. It is "recent" if the distance is at most the
// memory the page could have had instead of the active pages:
//   file page: active_file (+ active_anon + inactive_anon with free swap),
//   anon page: active_file + inactive_file (+ active_anon with free swap).
// A recent refault is activated (kActive: it goes straight to the active
// list) and ages the clock; if the page was also active before it was evicted
// (kWorkingset at eviction), it is a restore: kWorkingset is set again and
// the refault counts as I/O cost of its type (ScanCosts::note_refault).
//
// Shadows are kept per owner (a file, or a swap area) in a hash table of page
// index -> (E, workingset bit): 16 bytes per shadow in a table 3/8 to 3/4
// full; no per-shadow allocation. Linux also reclaims shadow nodes under
// memory pressure (the shadow shrinker); this model keeps every shadow until
// the page is read again or its owner drops it (truncate, close, swapoff).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "models/common/flat_map.h"
#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/os/lru.h"
#include "models/os/page_frame.h"

namespace mmusim {

// Where an evicted page lived: a file page (id = file id, index = page index
// in the file) or a swap-cache page (id = swap area, index = slot).
enum class ShadowOwner : uint8_t { kFile, kSwap };

struct ShadowKey {
  ShadowOwner owner = ShadowOwner::kFile;
  uint32_t id = 0;
  uint64_t index = 0;  // below 2^64 - 1
};

// A stored shadow: the age at eviction and whether the page was active
// before (PG_workingset).
struct Shadow {
  uint64_t eviction = 0;
  bool workingset = false;
};

struct RefaultResult {
  bool refault = false;   // a shadow was found (and consumed)
  bool activate = false;  // recent: the page was given kActive
  bool restore = false;   // ... and it was workingset before eviction
  uint64_t distance = 0;  // R - E (refault only)
  uint64_t workingset_size = 0;
};

// /proc/vmstat's workingset_* counters.
struct WorkingsetStats {
  uint64_t refault_anon = 0, refault_file = 0;
  uint64_t activate_anon = 0, activate_file = 0;
  uint64_t restore_anon = 0, restore_file = 0;
  uint64_t evictions = 0;        // shadows stored
  uint64_t shadows_dropped = 0;  // removed by forget*(), not by a refault
};

class Workingset {
 public:
  Workingset() = default;
  ~Workingset();
  Workingset(const Workingset&) = delete;
  Workingset& operator=(const Workingset&) = delete;

  // nonresident_age: evictions + activations so far.
  [[nodiscard]] uint64_t age() const { return age_; }
  // workingset_age_nonresident(): an activation of `pages` pages.
  void age_nonresident(uint64_t pages) { age_ += pages; }

  // workingset_eviction(): a page of `key` leaves memory; stores a shadow
  // with E = the current age and the page's kWorkingset, then ages the clock
  // by one. Replaces an older shadow of the same slot. Throws
  // std::invalid_argument for index 2^64 - 1.
  void evict(const ShadowKey& key, bool workingset);

  // workingset_refault(): page `f` (new, not yet on the LRU) is being added
  // at `key`. Without a shadow: nothing (refault = false). With one: the
  // shadow is consumed, the refault counted by the page's type (kFileLru),
  // and a recent page activated as described above, with `lru`'s list sizes
  // (without this page) and `swap_free` (a free swap slot exists). Sets
  // kActive (and kWorkingset for a restore) on `f`; the caller then adds the
  // page to the LRU, which puts it on the active list.
  RefaultResult refault(const ShadowKey& key, PageFrame& f, const LruVec& lru, bool swap_free,
                        ScanCosts& costs);

  // The shadow at `key`, if any (inspection).
  [[nodiscard]] std::optional<Shadow> shadow(const ShadowKey& key) const;
  // Drops the shadow at `key` (the slot was reused without a refault check,
  // or a swap slot was freed); false if there was none.
  bool forget(const ShadowKey& key);
  // Drops the shadows of `owner`/`id` at indexes [first, last] (truncate);
  // returns how many.
  uint64_t forget_range(ShadowOwner owner, uint32_t id, uint64_t first, uint64_t last);
  // Drops every shadow of `owner`/`id` (the file's inode is evicted, the swap
  // area is switched off); returns how many.
  uint64_t forget_owner(ShadowOwner owner, uint32_t id);

  [[nodiscard]] uint64_t shadows() const { return shadows_; }
  [[nodiscard]] const WorkingsetStats& stats() const { return st_; }
  // workingset_refault_{anon,file}, workingset_activate_*, workingset_restore_*.
  void visit_vmstat(StatVisitor& v) const;

 private:
  using Table = FlatMap<uint64_t, uint64_t>;  // index -> E << 1 | workingset
  static uint64_t owner_key(ShadowOwner o, uint32_t id) {
    return (static_cast<uint64_t>(o) << 32) | id;
  }
  [[nodiscard]] Table* table(ShadowOwner o, uint32_t id) const;

  uint64_t age_ = 0;
  uint64_t shadows_ = 0;
  FlatMap<uint64_t, std::unique_ptr<Table>> owners_;
  WorkingsetStats st_;
};

}  // namespace mmusim
