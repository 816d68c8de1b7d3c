// A paging-structure cache (Intel SDM 4.10.3): a small set-associative LRU
// array from (ASID, upper linear-address bits) to the physical base of the
// next paging structure and the permissions accumulated above it.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

struct PwcConfig {
  uint32_t entries = 0;  // 0 disables this level's cache
  uint32_t ways = 1;
  Cycles latency{1};
};

struct PwcEntry {
  uint64_t tag = 0;  // (linear >> shift) with the ASID in the top bits
  uint64_t next_table = 0;
  uint8_t perms = 0;  // accumulated PermBits-like flags (write, user, nx)
  bool valid = false;
  uint32_t lru = 0;  // larger = more recently used
};

class PagingStructureCache {
 public:
  PagingStructureCache() = default;
  explicit PagingStructureCache(const PwcConfig& c)
      : cfg_(c),
        sets_(c.entries ? c.entries / c.ways : 0),
        mask_(sets_ != 0 && (sets_ & (sets_ - 1)) == 0 ? sets_ - 1 : 0),
        e_(c.entries) {}
  [[nodiscard]] bool enabled() const { return cfg_.entries != 0; }
  [[nodiscard]] Cycles latency() const { return cfg_.latency; }
  static uint64_t make_tag(uint64_t linear_upper, Asid asid) {
    return linear_upper ^ (uint64_t{asid.value()} << 52);
  }
  const PwcEntry* lookup(uint64_t tag) {
    if (!enabled()) return nullptr;
    PwcEntry* set = set_of(tag);
    for (uint32_t w = 0; w < cfg_.ways; ++w) {
      if (set[w].valid && set[w].tag == tag) {
        set[w].lru = ++clock_;
        return &set[w];
      }
    }
    return nullptr;
  }
  // lookup() without touching the replacement state (a functional peek).
  [[nodiscard]] const PwcEntry* peek(uint64_t tag) const {
    if (!enabled()) return nullptr;
    const PwcEntry* set = &e_[set_index(tag)];
    for (uint32_t w = 0; w < cfg_.ways; ++w) {
      if (set[w].valid && set[w].tag == tag) return &set[w];
    }
    return nullptr;
  }
  void insert(uint64_t tag, uint64_t next_table, uint8_t perms) {
    if (!enabled()) return;
    PwcEntry* set = set_of(tag);
    PwcEntry* victim = &set[0];
    for (uint32_t w = 0; w < cfg_.ways; ++w) {
      if (set[w].valid && set[w].tag == tag) {
        victim = &set[w];
        break;
      }
      if (!set[w].valid) {
        if (victim->valid) victim = &set[w];
      } else if (victim->valid && set[w].lru < victim->lru) {
        victim = &set[w];
      }
    }
    *victim = PwcEntry{tag, next_table, perms, true, ++clock_};
  }
  void flush() {
    for (auto& e : e_) e.valid = false;
  }

 private:
  [[nodiscard]] size_t set_index(uint64_t tag) const {
    const uint64_t h = tag * 0x9E3779B97F4A7C15ULL;
    // The same set as (h >> 32) % sets_, without a 64-bit division on
    // every probe (tens of cycles): a mask when the count is a power of
    // two, as in every preset, else a 32-bit remainder.
    const auto x = static_cast<uint32_t>(h >> 32);
    return static_cast<size_t>(mask_ != 0 || sets_ == 1 ? x & mask_ : x % sets_) * cfg_.ways;
  }
  PwcEntry* set_of(uint64_t tag) { return &e_[set_index(tag)]; }
  PwcConfig cfg_;
  uint32_t sets_ = 0;
  uint32_t mask_ = 0;  // sets_ - 1 when sets_ is a power of two (0 for one set)
  std::vector<PwcEntry> e_;
  uint32_t clock_ = 0;
};

}  // namespace mmusim
