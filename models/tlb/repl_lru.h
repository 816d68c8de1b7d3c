// True LRU. A hit on the entry that was touched last changes nothing
// (idempotent), which the hierarchy's last-hit memo relies on.
//
// Up to 16 ways, each set keeps its ways in recency order, packed four bits
// per way in one word (nibble 0 = least recently used, nibble ways-1 = most
// recently used; initially way i at nibble i): a touch moves the way's nibble
// to the top, the victim is nibble 0, no scan. Wider sets keep a recency
// stamp per entry and the victim is the smallest stamp. Both give the same
// victims: ways never filled or touched come first, in index order.
#pragma once

#include <cstdint>
#include <vector>

#include "models/tlb/repl_stamps.h"

namespace mmusim {

class LruPolicy {
 public:
  static constexpr uint32_t kMaxPackedWays = 16;

  void reset(uint32_t sets, uint32_t ways) {
    ways_ = ways;
    packed_ = ways <= kMaxPackedWays;
    if (!packed_) {
      stamps_.reset(sets, ways);
      return;
    }
    // idx / ways as (idx * recip_) >> 32: exact for idx < 2^32 / ways.
    recip_ = (uint64_t{1} << 32) / ways + 1;
    top_ = 4 * (ways - 1);
    uint64_t initial = 0;
    for (uint32_t w = 0; w < ways; ++w) initial |= uint64_t{w} << (4 * w);
    order_.assign(sets, initial);
  }
  void on_hit(uint32_t idx) {
    if (packed_) {
      const uint32_t set = set_of(idx);
      touch(set, idx - set * ways_);
    } else if (!stamps_.is_newest(idx)) {
      stamps_.stamp(idx);
    }
  }
  void on_fill(uint32_t idx) {
    if (packed_) {
      const uint32_t set = set_of(idx);
      touch(set, idx - set * ways_);
    } else {
      stamps_.stamp(idx);
    }
  }
  // Fills for TlbArray::insert, which knows the set: entry `idx` = way `way`
  // of set `set` was written (fill_victim: over victim_of(set, ...)).
  void fill(uint32_t set, uint32_t way, uint32_t idx) {
    if (packed_) {
      touch(set, way);
    } else {
      stamps_.stamp(idx);
    }
  }
  void fill_victim(uint32_t set, uint32_t way, uint32_t idx) {
    if (packed_) {
      // The victim is the lowest nibble: every other way moves down one.
      order_[set] = (order_[set] >> 4) | (uint64_t{way} << top_);
    } else {
      stamps_.stamp(idx);
    }
  }
  [[nodiscard]] uint32_t victim_of(uint32_t set, uint32_t set_base) const {
    if (packed_) return static_cast<uint32_t>(order_[set] & 0xF);
    return stamps_.oldest(set_base);
  }
  // The least recently used way of the set starting at entry `set_base`.
  [[nodiscard]] uint32_t victim(uint32_t set_base) const {
    if (packed_) return static_cast<uint32_t>(order_[set_of(set_base)] & 0xF);
    return stamps_.oldest(set_base);
  }

 private:
  [[nodiscard]] uint32_t set_of(uint32_t idx) const {
    return static_cast<uint32_t>((uint64_t{idx} * recip_) >> 32);
  }
  // Makes `way` the most recently used of `set`.
  void touch(uint32_t set, uint32_t way) {
    uint64_t o = order_[set];
    if (((o >> top_) & 0xF) == way) return;  // already the most recent
    // The nibble holding `way`: the lowest zero nibble of o ^ (way in every
    // nibble) (a borrow can only mark nibbles above the first zero one).
    constexpr uint64_t kOnes = 0x1111111111111111ULL;
    const uint64_t x = o ^ (kOnes * way);
    const uint64_t z = (x - kOnes) & ~x & (kOnes << 3);
    const unsigned p = static_cast<unsigned>(__builtin_ctzll(z)) & ~3U;  // 4 * position
    // Drop it (the nibbles above move down by one), put it on top. The
    // position is below the top one, so p + 4 < 64.
    const uint64_t low = o & ((uint64_t{1} << p) - 1);
    const uint64_t high = (o >> (p + 4)) << p;
    o = ((low | high) & ~(uint64_t{0xF} << top_)) | (uint64_t{way} << top_);
    order_[set] = o;
  }

  uint32_t ways_ = 1;
  bool packed_ = true;
  uint64_t recip_ = 0;
  unsigned top_ = 0;
  std::vector<uint64_t> order_;  // packed recency order per set (packed_)
  StampedWays stamps_;           // per-entry stamps (!packed_)
};

}  // namespace mmusim
