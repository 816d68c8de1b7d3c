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
// as the previous access) skips the set search; else the set's most recently
// used way is compared first (a hit there leaves the order as it is), then
// the others until the line's. Each way also keeps the
// cycle its line's fill completes, so a hit on a line still being filled
// (a merged miss) costs one comparison, and the miss-status registers whose
// release time is known are a min-heap of their busy-until cycles (the
// earliest to free on top), the others (waiting for a fill not known yet)
// only a count: no per-access scan of either.
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
//
// Prefetchers (CacheGeometry::prefetch; the owner issues what they propose,
// CacheModule::issue_prefetches()): next_line proposes line X + 1 on a demand
// miss of X; stream trains on every lookup (train()) and, once two lookups of
// a 4 KiB page give a direction, proposes up to `prefetch_degree` lines ahead
// in it, at most `prefetch_distance` lines past the lookup. Neither crosses a
// 4 KiB page. prefetch() takes a free MSHR for a proposed line (none free at
// the issue time: dropped) and allocates it marked as prefetched: its tag
// carries kPrefetched, so the last-line and most-recently-used checks of a
// demand lookup do not match it; the search of the set's other ways finds it
// (the first demand use: useful, late when its fill was still in flight)
// and clears the mark.
// A marked line evicted is useless.
// Coherence between CPUs (set_shared()): a line held shared with another
// CPU's private caches carries kShared in its tag the same way, so the fast
// paths of a demand lookup never see it: the search finds it, a read stays
// shared, and a write makes it exclusive and reports CacheResult::upgrade.
// A single CPU never marks a line: its hit path is unchanged.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

// A level's hardware prefetcher (cache.<level>.prefetch).
enum class PrefetchKind : uint8_t { kNone, kNextLine, kStream };

struct CacheGeometry {
  uint64_t size_bytes = 32768;  // 0: the level is absent
  uint32_t ways = 8;            // 1..16
  uint32_t line_bytes = 64;     // power of two
  Cycles latency{4};            // lookup (hit) latency of this level, cycles
  uint32_t mshrs = 16;          // misses in flight at once (1..64)
  PrefetchKind prefetch = PrefetchKind::kNone;
  uint32_t prefetch_streams = 32;   // stream: pages tracked at once (1..64)
  uint32_t prefetch_degree = 2;     // stream: lines proposed per trigger (1..lines of a page)
  uint32_t prefetch_distance = 20;  // stream: lines ahead of the lookup (1..lines of a page)
  [[nodiscard]] uint64_t sets() const { return size_bytes / (uint64_t{ways} * line_bytes); }
};

struct CacheCounts {
  uint64_t accesses = 0, hits = 0, misses = 0;
};

// A level's prefetch counts (lines).
struct PrefetchCounts {
  uint64_t issued = 0;   // sent below (an MSHR taken)
  uint64_t dropped = 0;  // proposed, absent, but no MSHR free at the issue time
  uint64_t useful = 0;   // first demand lookups of a prefetched line (late ones too)
  uint64_t late = 0;     // of them, merged with the prefetch's fill in flight
  uint64_t useless = 0;  // prefetched lines evicted before any demand lookup
};

// The outcome of one access.
struct CacheResult {
  bool hit = false;
  bool writeback = false;  // a dirty victim was evicted (its line: victim)
  // A write hit on a line held shared (set_shared()): the line is here, now
  // exclusive and dirty, and the caller must send the upgrade below. `hit` is
  // false with it, so that callers' hit paths stay as they were.
  bool upgrade = false;
  uint64_t victim = 0;  // line number (address >> line shift)
  Cycle ready;          // hit: when the data is there; miss: when the miss is passed on
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
    ++c.accesses;              // (hits: accesses - misses, counted when read)
    if (line == last_line_) {  // same line as the previous access: the MRU way
      dirty_[last_index_] |= static_cast<uint8_t>(write);
      return hit_result(last_index_, at);
    }
    const uint64_t set = line & set_mask_;
    const uint64_t base = set * ways_;
    const uint64_t* t = &tags_[base];
    // The set's most recently used way first (a hit there leaves the order
    // as it is), then the others until the line's (a line is in one way).
    const uint32_t m = order_[base];
    if (t[m] == line) {
      dirty_[base + m] |= static_cast<uint8_t>(write);
      remember(line, base + m);
      return hit_result(base + m, at);
    }
    return search(line, write, at, base, c);
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
  [[nodiscard]] Cycle mshr_wait(Cycle at) const {
    if (!top_taken_) return known_ != 0 ? max(at, busy_[0]) : kPending;
    // The heap without its taken top: the least of the top's children.
    if (known_ < 2) return kPending;
    return max(at, known_ > 2 ? min(busy_[1], busy_[2]) : busy_[1]);
  }
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
  // Coherence between the private caches of different CPUs: marks `line`, if
  // present, as held shared (a write to it then needs an upgrade) or
  // exclusive; returns whether its state changed.
  bool set_shared(uint64_t line, bool shared);
  [[nodiscard]] bool shared(uint64_t line) const;
  // The ways of `line`'s set from most to least recently used (-1: invalid),
  // for tests.
  [[nodiscard]] std::vector<int64_t> set_order(uint64_t line) const;

  [[nodiscard]] const CacheGeometry& geometry() const { return g_; }
  [[nodiscard]] CacheCounts counts(unsigned who) const {
    CacheCounts k = by_who_[who & 7];
    k.hits = k.accesses - k.misses;
    return k;
  }
  [[nodiscard]] CacheCounts total() const;
  [[nodiscard]] uint64_t writebacks() const { return writebacks_; }
  [[nodiscard]] uint64_t merged() const { return merged_; }
  [[nodiscard]] uint64_t mshr_full() const { return mshr_full_; }
  [[nodiscard]] uint64_t invalidations() const { return invalidations_; }
  // Misses of write_whole(): lines allocated without a fetch.
  [[nodiscard]] uint64_t whole_line_allocs() const { return whole_line_allocs_; }

  // The stream prefetcher's training on a lookup of `line` at `at` (any
  // request but DMA; after access()): may propose lines.
  void train(uint64_t line, Cycle at);
  // Lines proposed by the last miss (next_line) or train() (stream), not
  // issued yet, and when they are issued (the proposing lookup's end).
  [[nodiscard]] uint32_t proposed() const { return proposed_; }
  [[nodiscard]] uint64_t proposal(uint32_t i) const { return proposals_[i]; }
  [[nodiscard]] Cycle proposal_time() const { return proposal_at_; }
  void clear_proposals() { proposed_ = 0; }
  // Prefetches `line` at `at`: false when it is present (nothing done) or no
  // MSHR is free at `at` (dropped). Else allocates it marked as prefetched,
  // fill and MSHR pending as a miss's (report the fill with filled()); `r`
  // holds its dirty victim, if any, and r.ready = at, when it is passed on.
  bool prefetch(uint64_t line, Cycle at, CacheResult& r);
  [[nodiscard]] const PrefetchCounts& prefetch_counts() const { return pf_; }
  // True when `line` is present, prefetched and not yet looked up by a demand.
  [[nodiscard]] bool prefetched(uint64_t line) const;

 private:
  static constexpr uint64_t kInvalid = ~uint64_t{0};
  // The mark of a prefetched line not yet used, in its tag (line numbers
  // stay far below it).
  static constexpr uint64_t kPrefetched = uint64_t{1} << 62;
  static constexpr uint64_t kShared = uint64_t{1} << 61;
  static constexpr uint64_t kTagMask = ~(kPrefetched | kShared);
  // Most lines a prefetcher proposes at once: a page's lines (16-byte lines).
  static constexpr uint32_t kMaxProposals = 256;
  struct Stream {       // (its page: stream_pages_)
    uint64_t last = 0;  // the line of its last lookup
    uint64_t next = 0;  // the next line to propose
    int dir = 0;        // +1 ascending, -1 descending, 0 not known yet
    uint64_t used = 0;  // when last trained (LRU replacement)
  };
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
    if (order_[base] != w) touch_behind(base, w);
  }
  // touch() for a way `w` that is not the most recently used.
  void touch_behind(uint64_t base, uint32_t w) {
    uint8_t* o = &order_[base];
    uint32_t p = 1;
    while (o[p] != w) ++p;
    for (; p > 0; --p) o[p] = o[p - 1];
    o[0] = static_cast<uint8_t>(w);
  }
  void remember(uint64_t line, uint64_t index) {
    last_line_ = line;
    last_index_ = index;
  }
  // access() past the set's most recently used way: the other ways (a
  // prefetched line among them too), then miss() (out of line: the inline
  // part stays small where it is inlined).
  CacheResult search(uint64_t line, bool write, Cycle at, uint64_t base, CacheCounts& c);
  // A demand hit on way `w` whose tag carries a mark (prefetched, shared).
  CacheResult marked_hit(uint64_t line, bool write, Cycle at, uint64_t base, uint32_t w);
  // A line absent from its set: allocated, and a next-line proposal.
  CacheResult miss(uint64_t line, bool write, Cycle at, uint64_t base, CacheCounts& c);
  // A miss's allocation: the LRU way, an MSHR, the fill pending (inlined
  // into miss(): no call on the path without a prefetcher).
  __attribute__((always_inline)) inline CacheResult fetch(uint64_t line, bool write, Cycle at,
                                                          uint64_t base);
  // Takes the MSHR that frees first (the heap's top) for a miss whose fill
  // is not known yet: it leaves the heap until filled() reports it. The
  // top is only marked taken (top_taken_); the next filled() replaces it
  // with the fill's release (one pass down the heap instead of a removal
  // and an insertion), anything else removes it first (remove_top()).
  void take_mshr();
  void remove_top();
  // Puts `v` at the top of the heap busy_[0, n) and moves it down to its place.
  void sift_down(Cycle v, uint32_t n);
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
  // The busy-until cycles of the MSHRs whose release is known, as a min-heap
  // in busy_[0, known_); the other g_.mshrs - known_ wait for their fills.
  std::array<Cycle, kMaxMshrs> busy_{};
  uint32_t known_;
  // busy_[0] is taken by a miss (not part of the heap any more; known_
  // still counts it).
  bool top_taken_ = false;
  // By initiator slot: accesses and misses (hits left 0: counts() and
  // total() derive them, one increment less per hit).
  std::array<CacheCounts, 8> by_who_{};
  uint64_t writebacks_ = 0, merged_ = 0, mshr_full_ = 0, invalidations_ = 0;
  uint64_t whole_line_allocs_ = 0;
  // Prefetching (g_.prefetch != kNone).
  unsigned page_shift_;  // line number -> 4 KiB page number
  PrefetchCounts pf_;
  uint32_t proposed_ = 0;
  Cycle proposal_at_;
  std::vector<uint64_t> proposals_;     // kMaxProposals when prefetching
  std::vector<Stream> streams_;         // g_.prefetch_streams for kStream
  std::vector<uint64_t> stream_pages_;  // each stream's 4 KiB page number (kInvalid: none)
  uint64_t train_clock_ = 0;
  uint32_t last_stream_ = 0;  // the stream train() found or replaced last
};

}  // namespace mmusim
