// One set-associative cache level as a plain C++ core: tags only (the model
// is timing-only; PhysMem holds the contents), true LRU, write-back and
// write-allocate, and a miss-status table that merges a second miss to a
// line whose fill is in flight.
//
// Layout for speed: per set a contiguous array of `ways` line tags (compared
// in one pass), a dirty byte per way, and an order byte array holding the
// ways from most to least recently used, so the victim is the last byte (no
// scan) and a hit moves at most `ways` - 1 bytes (no list, no allocation).
// A hit on the most recently touched line of the whole cache (the same line
// as the previous access) skips the set search. Each way also keeps the
// cycle its line's fill completes, so a hit on a line still being filled
// (a merged miss) costs one comparison, and the miss-status registers are a
// min-heap of their busy-until cycles (the earliest to free on top): no
// per-access scan of either.
//
// Timing: a lookup costs `latency` cycles. A hit completes at
// at + latency, or when the line's fill completes if that is later (a merged
// miss). A miss is passed on at at + latency; with every MSHR busy at that
// time, it waits for the earliest one to free (mshr_wait()). The miss takes
// that MSHR at once, busy until a completion not yet known (kPending), and
// the line's fill is kPending too; the caller reports the completion with
// filled(), which makes both known. A shared level whose requests may see
// another request's miss in between checks pending() and mshr_wait() first
// (CacheModule waits for the fill when either would be kPending).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

struct CacheGeometry {
  uint64_t size_bytes = 32768;  // 0: the level is absent
  uint32_t ways = 8;            // 1..16
  uint32_t line_bytes = 64;     // power of two
  Cycles latency{4};            // lookup (hit) latency of this level, cycles
  uint32_t mshrs = 16;          // misses in flight at once (1..64)
  [[nodiscard]] uint64_t sets() const { return size_bytes / (uint64_t{ways} * line_bytes); }
};

struct CacheCounts {
  uint64_t accesses = 0, hits = 0, misses = 0;
};

// The outcome of one access.
struct CacheResult {
  bool hit = false;
  bool writeback = false;  // a dirty victim was evicted (its line: victim)
  uint64_t victim = 0;     // line number (address >> line shift)
  Cycle ready;             // hit: when the data is there; miss: when the miss is passed on
};

class Cache {
 public:
  static constexpr uint32_t kMaxWays = 16;
  static constexpr uint32_t kMaxMshrs = 64;

  // `g` must be valid (checked by the configuration).
  explicit Cache(const CacheGeometry& g);

  [[nodiscard]] uint64_t line_of(uint64_t addr) const { return addr >> line_shift_; }
  [[nodiscard]] uint64_t addr_of(uint64_t line) const { return line << line_shift_; }

  // A demand access of `line` at `at` by initiator slot `who` (0..7, for the
  // per-initiator counts). A miss allocates the line (write-allocate) and
  // evicts the LRU way.
  __attribute__((always_inline)) CacheResult access(uint64_t line, bool write, Cycle at,
                                                    unsigned who) {
    CacheCounts& c = by_who_[who & 7];
    ++c.accesses;
    if (line == last_line_) {  // same line as the previous access: the MRU way
      ++c.hits;
      dirty_[last_index_] |= static_cast<uint8_t>(write);
      return hit_result(last_index_, at);
    }
    const uint64_t set = line & set_mask_;
    const uint64_t base = set * ways_;
    const uint64_t* t = &tags_[base];
    uint32_t w = ways_;
    for (uint32_t i = 0; i < ways_; ++i) {
      if (t[i] == line) w = i;
    }
    if (w != ways_) {
      ++c.hits;
      touch(base, w);
      dirty_[base + w] |= static_cast<uint8_t>(write);
      remember(line, base + w);
      return hit_result(base + w, at);
    }
    ++c.misses;
    return miss(line, write, at, base);
  }

  // A write of the whole of `line` at `at` by initiator slot `who`: a hit as
  // access() makes it; a miss allocates the line dirty without fetching it
  // (nothing of the old contents survives: no read for ownership, no MSHR),
  // ready after the lookup. Counted as an access and a hit or a miss.
  CacheResult write_whole(uint64_t line, Cycle at, unsigned who);

  // A fill or an MSHR release whose time is not known yet.
  static constexpr Cycle kPending = Cycle(~uint64_t{0});

  // The fill of a miss of `line` completes at `done` (after access() missed):
  // the MSHR the miss took is busy until then.
  void filled(uint64_t line, Cycle done);
  // When a miss detected at `at` can be passed on (every MSHR busy: when the
  // earliest frees; kPending when every MSHR waits for a fill not yet known).
  [[nodiscard]] Cycle mshr_wait(Cycle at) const { return max(at, busy_[0]); }
  // True when `line` is present with its fill not known yet (a miss of it is
  // in flight and filled() has not been called).
  [[nodiscard]] bool pending(uint64_t line) const {
    const uint64_t i = find(line);
    return i != kInvalid && fill_[i] == kPending;
  }

  // Installs `line` (dirty or clean) as most recently used without a demand
  // access; returns the dirty victim it evicted, if any (CacheResult.hit =
  // true when the line was already present).
  CacheResult install(uint64_t line, bool dirty);
  // Removes `line`; true when it was present. `*was_dirty` (optional) says
  // whether it held data newer than memory.
  bool invalidate(uint64_t line, bool* was_dirty = nullptr);
  [[nodiscard]] bool contains(uint64_t line) const;
  [[nodiscard]] bool dirty(uint64_t line) const;
  // The ways of `line`'s set from most to least recently used (-1: invalid),
  // for tests.
  [[nodiscard]] std::vector<int64_t> set_order(uint64_t line) const;

  [[nodiscard]] const CacheGeometry& geometry() const { return g_; }
  [[nodiscard]] CacheCounts counts(unsigned who) const { return by_who_[who & 7]; }
  [[nodiscard]] CacheCounts total() const;
  [[nodiscard]] uint64_t writebacks() const { return writebacks_; }
  [[nodiscard]] uint64_t merged() const { return merged_; }
  [[nodiscard]] uint64_t mshr_full() const { return mshr_full_; }
  [[nodiscard]] uint64_t invalidations() const { return invalidations_; }
  // Misses of write_whole(): lines allocated without a fetch.
  [[nodiscard]] uint64_t whole_line_allocs() const { return whole_line_allocs_; }

 private:
  static constexpr uint64_t kInvalid = ~uint64_t{0};
  // A hit on way `index`: done after the lookup, or when the line's fill
  // completes if that is later.
  CacheResult hit_result(uint64_t index, Cycle at) {
    CacheResult r;
    r.hit = true;
    r.ready = at + g_.latency;
    if (fill_[index] > r.ready) {
      r.ready = fill_[index];
      ++merged_;
    }
    return r;
  }
  // Moves way `w` of the set at `base` to the front of its order.
  void touch(uint64_t base, uint32_t w) {
    uint8_t* o = &order_[base];
    if (o[0] == w) return;
    uint32_t p = 1;
    while (o[p] != w) ++p;
    for (; p > 0; --p) o[p] = o[p - 1];
    o[0] = static_cast<uint8_t>(w);
  }
  void remember(uint64_t line, uint64_t index) {
    last_line_ = line;
    last_index_ = index;
  }
  CacheResult miss(uint64_t line, bool write, Cycle at, uint64_t base);
  // Replaces the MSHR heap's top with `v` and moves it down to its place.
  void sift_down(Cycle v);
  // Evicts the LRU way of the set at `base` for `line`; returns its index.
  uint64_t replace(uint64_t line, uint64_t base, CacheResult& r);
  // Index of `line`'s way, or kInvalid.
  [[nodiscard]] uint64_t find(uint64_t line) const;

  CacheGeometry g_;
  uint32_t ways_;
  unsigned line_shift_;
  uint64_t set_mask_;
  std::vector<uint64_t> tags_;  // sets x ways, kInvalid when empty
  std::vector<uint8_t> dirty_;  // sets x ways
  std::vector<uint8_t> order_;  // sets x ways: way numbers, MRU first
  std::vector<Cycle> fill_;     // sets x ways: when the line's fill completes
  uint64_t last_line_ = kInvalid;
  uint64_t last_index_ = 0;
  // The MSHRs' busy-until cycles as a min-heap (g_.mshrs of them).
  std::array<Cycle, kMaxMshrs> busy_{};
  std::array<CacheCounts, 8> by_who_{};
  uint64_t writebacks_ = 0, merged_ = 0, mshr_full_ = 0, invalidations_ = 0;
  uint64_t whole_line_allocs_ = 0;
};

}  // namespace mmusim
