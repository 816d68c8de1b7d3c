// True LRU: a recency stamp per entry, refreshed on fill and hit; the victim
// is the way with the smallest stamp. A hit on the entry that was touched last
// changes nothing (idempotent), which the hierarchy's last-hit memo relies on.
#pragma once

#include <cstdint>

#include "models/tlb/repl_stamps.h"

namespace mmusim {

class LruPolicy {
 public:
  void reset(uint32_t sets, uint32_t ways) { stamps_.reset(sets, ways); }
  void on_hit(uint32_t idx) {
    if (!stamps_.is_newest(idx)) stamps_.stamp(idx);
  }
  void on_fill(uint32_t idx) { stamps_.stamp(idx); }
  [[nodiscard]] uint32_t victim(uint32_t set_base) const { return stamps_.oldest(set_base); }
  // Entry idx's recency stamp (larger = more recent; unique among valid entries).
  [[nodiscard]] uint64_t stamp_of(uint32_t idx) const { return stamps_.at(idx); }

 private:
  StampedWays stamps_;
};

}  // namespace mmusim
