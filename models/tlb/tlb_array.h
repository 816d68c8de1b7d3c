// One set-associative TLB array. Entries are tagged by (vpn, page size, asid)
// plus a global bit (global entries match any asid); the payload is the
// Translation. Fixed storage sized at construction: sets = entries / ways is
// a power of two and the set of a page is vpn & (sets - 1), with the vpn at
// the entry's own page size (a 4K+2M array probes once per held size).
// lookup()/find() allocate nothing, call nothing virtual; the replacement
// policy is a switch on an enum. Invalid ways are filled first (lowest
// index) before the policy picks a victim.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/common/types.h"
#include "models/tlb/repl_fifo.h"
#include "models/tlb/repl_lru.h"
#include "models/tlb/repl_random.h"
#include "models/tlb/repl_tree_plru.h"
#include "models/tlb/tlb_config.h"

namespace mmusim {

struct TlbArrayStats {
  uint64_t hits = 0;           // lookups that found an entry
  uint64_t misses = 0;         // lookups that did not
  uint64_t fills = 0;          // insert() calls that wrote an entry
  uint64_t evictions = 0;      // valid entries displaced by a fill
  uint64_t invalidations = 0;  // valid entries removed by invalidate_*()
};

// A valid entry as contents() reports it (tests, debugging; not hot).
struct TlbEntryView {
  uint32_t index = 0;  // set * ways + way
  bool global = false;
  Translation t;
  friend bool operator==(const TlbEntryView& a, const TlbEntryView& b) {
    return a.index == b.index && a.global == b.global && a.t.vpn == b.t.vpn && a.t.pfn == b.t.pfn &&
           a.t.size == b.t.size && a.t.perms == b.t.perms && a.t.asid == b.t.asid;
  }
};

class TlbArray {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Validates cfg (InputError keyed by cfg.name). `seed` feeds random replacement.
  explicit TlbArray(const TlbArrayConfig& cfg, uint64_t seed = 1);

  // Counts a hit or a miss; on a hit updates the replacement state. The
  // pointer stays valid until the next insert/invalidate on this array.
  const Translation* lookup(LinearAddr a, Asid asid) {
    const uint32_t idx = find(a, asid);
    if (idx == kNone) {
      ++stats_.misses;
      return nullptr;
    }
    ++stats_.hits;
    touch(idx);
    return &data_[idx];
  }

  // Index of the entry translating `a` for `asid`, or kNone. No side effects.
  // Sizes are probed smallest first; a size with no valid entry is skipped.
  [[nodiscard]] uint32_t find(LinearAddr a, Asid asid) const {
    for (uint32_t p = 0; p < n_probes_; ++p) {
      const Probe pr = probes_[p];
      if (present_[pr.size] == 0) continue;
      const uint64_t vpn = a.value() >> pr.shift;
      const uint32_t base = static_cast<uint32_t>(vpn & set_mask_) * ways_;
      const uint64_t key = make_key(vpn, pr.size);
      const Slot* s = &slots_[base];
      for (uint32_t w = 0; w < ways_; ++w) {
        if (s[w].key == key && tag_matches(s[w].asid_tag, asid.value())) return base + w;
      }
    }
    return kNone;
  }

  // Replacement update for a hit on entry idx (idempotent for LRU and PLRU
  // when idx was the last entry touched; nothing for FIFO and random).
  void touch(uint32_t idx) {
    switch (policy_) {
      case ReplPolicy::kLru: lru_.on_hit(idx); break;
      case ReplPolicy::kPlru: plru_.on_hit(idx); break;
      case ReplPolicy::kFifo:  // hits do not reorder
      case ReplPolicy::kRandom: break;
    }
  }

  // Writes t (t.vpn at t.size) into its set: over an entry of the same page
  // and asid (or a global one) if present, else into the lowest invalid way,
  // else over the policy's victim. Returns false (and does nothing) when the
  // array is disabled or does not hold t.size.
  bool insert(const Translation& t);

  // INVLPG: removes entries of any held size covering `a` whose asid is
  // `asid` or that are global. Returns the number removed.
  uint32_t invalidate_page(LinearAddr a, Asid asid);
  // Removes the non-global entries of `asid`.
  uint32_t invalidate_asid(Asid asid);
  // Removes every entry, or every non-global one when keep_global.
  uint32_t invalidate_all(bool keep_global);

  [[nodiscard]] const Translation& entry(uint32_t idx) const { return data_[idx]; }
  [[nodiscard]] bool holds(PageSize s) const { return (sizes_ & page_size_bit(s)) != 0; }
  [[nodiscard]] bool enabled() const { return sets_ != 0; }
  [[nodiscard]] std::vector<TlbEntryView> contents() const;
  [[nodiscard]] uint32_t valid_entries() const;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] uint32_t entries() const { return sets_ * ways_; }
  [[nodiscard]] uint32_t ways() const { return ways_; }
  [[nodiscard]] uint32_t sets() const { return sets_; }
  [[nodiscard]] Cycles latency() const { return latency_; }
  [[nodiscard]] ReplPolicy replacement() const { return policy_; }
  [[nodiscard]] uint8_t sizes() const { return sizes_; }
  [[nodiscard]] const TlbArrayStats& stats() const { return stats_; }
  // "<name>.hits", ".misses", ".fills", ".evictions", ".invalidations".
  void visit(StatVisitor& v) const;

 private:
  friend class TlbHierarchy;  // counts the hits of its exact last-hit memo

  // key = vpn << 3 | size << 1 | 1; 0 marks an invalid way.
  static constexpr uint64_t make_key(uint64_t vpn, uint32_t size) {
    return (vpn << 3) | (uint64_t{size} << 1) | 1U;
  }
  static constexpr uint32_t key_size(uint64_t key) { return (key >> 1) & 3U; }
  // asid_tag = asid, or kGlobalTag | asid for a global entry.
  static constexpr uint32_t kGlobalTag = 0x10000;

  static constexpr bool tag_matches(uint32_t tag, uint32_t asid) {
    return tag == asid || tag >= kGlobalTag;
  }
  // The first way of the set at `base` holding `key` for `asid` (or a global
  // entry), or ways_.
  [[nodiscard]] uint32_t match(uint32_t base, uint64_t key, uint32_t asid) const {
    const Slot* s = &slots_[base];
    for (uint32_t w = 0; w < ways_; ++w) {
      if (s[w].key == key && tag_matches(s[w].asid_tag, asid)) return w;
    }
    return ways_;
  }

  struct Slot {
    uint64_t key = 0;
    uint32_t asid_tag = 0;
  };
  struct Probe {
    uint8_t shift = 12;
    uint8_t size = 0;  // PageSize as an integer
  };

  uint32_t choose_victim(uint32_t base);
  void remove(uint32_t idx);

  std::string name_;
  uint32_t ways_ = 1;
  uint32_t sets_ = 0;
  uint64_t set_mask_ = 0;
  Cycles latency_;
  ReplPolicy policy_ = ReplPolicy::kLru;
  uint8_t sizes_ = 0;
  uint32_t n_probes_ = 0;
  std::array<Probe, kNumPageSizes> probes_{};
  std::array<uint32_t, kNumPageSizes> present_{};  // valid entries per page size
  // Per entry (index = set * ways + way): the tag, the payload.
  std::vector<Slot> slots_;
  std::vector<Translation> data_;
  std::vector<uint32_t> valid_;  // valid ways per set
  LruPolicy lru_;
  TreePlruPolicy plru_;
  FifoPolicy fifo_;
  RandomPolicy random_;
  TlbArrayStats stats_;
};

}  // namespace mmusim
