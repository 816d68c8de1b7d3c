// The TLBs of one simulated CPU: an L1 ITLB and an L1 DTLB with one array
// per page size (4K, 2M/4M, 1G; 0 entries = that size is not cached in L1),
// a unified L2 STLB of one or two arrays (default: 4K+2M shared, 1G apart),
// and the MSHRs of pending misses. Fetches use the ITLB, reads and writes the
// DTLB. Latencies are core cycles:
//   L1 hit:  latency of the L1 array that hit;
//   L2 hit:  L1 miss latency (max over the side's L1 arrays, probed in
//            parallel) + latency of the L2 array that hit;
//   miss:    L1 miss latency + max over the L2 arrays (time before the walk).
// Arrays of a level are probed smallest page size first and the first hit
// wins; an array's `misses` counts probes that reached it and missed.
// Exact fast path: the last (4K page, asid) that hit in L1 on each side and
// the entry it hit are remembered; a repeat hits the same entry with the same
// (idempotent) replacement update, so only the counters move. The memo of a
// side is dropped on any fill of that side and on any invalidation.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/common/types.h"
#include "models/tlb/miss_status_table.h"
#include "models/tlb/tlb_array.h"
#include "models/tlb/tlb_config.h"

namespace mmusim {

enum class TlbLevel : uint8_t { kL1, kL2, kMiss };

struct TlbLookup {
  TlbLevel level = TlbLevel::kMiss;
  const Translation* t = nullptr;  // valid until the next fill/invalidate; null on a miss
  Cycles latency;                  // cycles spent in the TLBs
};

// Level totals (per-array counters are in each TlbArray::stats()).
struct TlbLevelStats {
  uint64_t l1i_hits = 0, l1i_misses = 0;
  uint64_t l1d_hits = 0, l1d_misses = 0;
  uint64_t l2_hits = 0, l2_misses = 0;
};

class TlbHierarchy {
 public:
  // Validates cfg (throws InputError naming the key).
  explicit TlbHierarchy(const TlbConfig& cfg);
  TlbHierarchy(const TlbHierarchy&) = delete;
  TlbHierarchy& operator=(const TlbHierarchy&) = delete;

  // The per-access path. On an L2 hit the translation is also filled into the
  // L1 array of its page size on the access side (if that side caches it).
  TlbLookup lookup(LinearAddr a, AccessKind k, Asid asid) {
    const int side = side_of(k);
    const Memo& m = memo_[side];
    if ((a.value() >> 12) == m.vpn4k && asid == m.asid) {
      ++m.array->stats_.hits;
      for (uint32_t j = 0; j < m.pos; ++j) ++l1_[side][j]->stats_.misses;
      ++fast_path_hits_;
      return TlbLookup{TlbLevel::kL1, m.t, m.latency};
    }
    return lookup_slow(a, side, asid);
  }

  // The last-hit memo of `k`'s side: a lookup of 4 KiB page `vpn4k` (the
  // linear address >> 12) for `asid` hits entry `t` in L1 with `latency`
  // (vpn4k = kNoPage: nothing remembered). Valid until the next fill or
  // invalidation; lookup() of such a page changes nothing but counters, so a
  // caller may serve a run of them itself and count them with count_memo_hits.
  // `array` is the L1 array holding t; when it holds 4 KiB pages only, it
  // has sets_4k sets (a power of two) and t's set in it is vpn4k % sets_4k
  // (else sets_4k is 0). A caller that serves several such pages itself
  // relies on this: a lookup of a page whose entry was the last one touched
  // in its set changes nothing but counters either.
  struct MemoView {
    uint64_t vpn4k;
    Asid asid;
    const Translation* t;
    Cycles latency;
    const TlbArray* array;
    uint32_t sets_4k;
  };
  static constexpr uint64_t kNoPage = ~uint64_t{0};  // no 4K vpn has all 64 bits set
  [[nodiscard]] MemoView memo(AccessKind k) const {
    const Memo& m = memo_[side_of(k)];
    const TlbArray* a = m.array;
    const uint32_t sets =
        a != nullptr && a->sizes() == page_size_bit(PageSize::k4K) ? a->sets() : 0;
    return MemoView{m.vpn4k, m.asid, m.t, m.latency, a, sets};
  }
  // Counts `n` lookups on `k`'s side that the memo served (what lookup()
  // counts for each of them).
  void count_memo_hits(AccessKind k, uint64_t n) {
    const int side = side_of(k);
    const Memo& m = memo_[side];
    if (n == 0) return;
    m.array->stats_.hits += n;
    for (uint32_t j = 0; j < m.pos; ++j) l1_[side][j]->stats_.misses += n;
    fast_path_hits_ += n;
  }

  // An L1 entry a lookup would hit: its array's position in the side's
  // probe order, its index there, the entry.
  struct L1Hit {
    uint32_t pos = 0, idx = 0;
    const Translation* t = nullptr;
  };
  // The entry an L1 lookup of `a` on `k`'s side would hit (the first array
  // in probe order holding it): true, in `h`; false when none does. No side
  // effects.
  bool l1_find(LinearAddr a, AccessKind k, Asid asid, L1Hit& h) const {
    return find_l1(side_of(k), a, asid, h);
  }
  // lookup() of `a` once l1_find() found it (`h`, nothing changed since):
  // the same counters, replacement update and memo, without probing again.
  TlbLookup take_l1(LinearAddr a, AccessKind k, Asid asid, const L1Hit& h);

  // After a walk: fills the L2 array holding t.size (if any) and the L1 array
  // of t.size on the access side (if any).
  void fill(const Translation& t, AccessKind k);
  // The same for the sides named by `sides` (MissStatusTable::kSideI/kSideD):
  // one L2 fill, and the L1 array of t.size on each named side.
  void fill_sides(const Translation& t, uint8_t sides);

  // Broadcast to every array (see TlbArray for the matching rules).
  // Returns the entries dropped (every array, every page size).
  uint32_t invalidate_page(LinearAddr a, Asid asid);
  void invalidate_asid(Asid asid);
  void invalidate_all(bool keep_global);

  // Changes whenever an L1 entry may have been touched, filled or dropped
  // (every lookup but the memo's, every fill and invalidation): pages a
  // caller found to be their set's last stay so while it is the same.
  [[nodiscard]] uint64_t epoch() const { return epoch_; }

  MissStatusTable& mshr() { return mshr_; }
  [[nodiscard]] const MissStatusTable& mshr() const { return mshr_; }
  // The L1 lookup latency of `k`'s side when it misses (max over its arrays).
  [[nodiscard]] Cycles l1_latency(AccessKind k) const { return l1_miss_latency_[side_of(k)]; }

  // The L1 array caching page size s for accesses of kind k, or nullptr.
  [[nodiscard]] const TlbArray* l1_array(AccessKind k, PageSize s) const {
    return l1_by_size_[side_of(k)][static_cast<unsigned>(s)];
  }
  // The L2 array holding page size s, or nullptr.
  [[nodiscard]] const TlbArray* l2_array(PageSize s) const {
    return l2_by_size_[static_cast<unsigned>(s)];
  }
  // Every enabled array: L1I, L1D (4K, 2M, 1G), then L2.
  [[nodiscard]] const std::vector<TlbArray>& arrays() const { return arrays_; }

  [[nodiscard]] TlbLevelStats level_stats() const;
  // Lookups served by the memo (simulator-internal; not part of visit()).
  [[nodiscard]] uint64_t fast_path_hits() const { return fast_path_hits_; }
  // Per-array counters, level totals (tlb.l1i/l1d/l2.{hits,misses}), tlb.mshr.*.
  void visit(StatVisitor& v) const;

 private:
  static constexpr int kSideI = 0;
  static constexpr int kSideD = 1;
  static constexpr uint64_t kNoVpn = kNoPage;

  struct Memo {
    uint64_t vpn4k = kNoVpn;
    Asid asid;
    TlbArray* array = nullptr;
    uint32_t pos = 0;  // index of `array` in the side's probe order
    const Translation* t = nullptr;
    Cycles latency;
  };

  static constexpr int side_of(AccessKind k) { return k == AccessKind::kFetch ? kSideI : kSideD; }
  TlbLookup lookup_slow(LinearAddr a, int side, Asid asid);
  bool find_l1(int side, LinearAddr a, Asid asid, L1Hit& h) const {
    for (uint32_t j = 0; j < n_l1_[side]; ++j) {
      const uint32_t idx = l1_[side][j]->find(a, asid);
      if (idx != TlbArray::kNone) {
        h = L1Hit{j, idx, &l1_[side][j]->entry(idx)};
        return true;
      }
    }
    return false;
  }
  // The L1 hit `h` (the arrays probed before it counted as misses): its
  // array's hit, replacement update and the memo.
  TlbLookup hit_l1(int side, LinearAddr a, Asid asid, const L1Hit& h);
  void drop_memos() {
    memo_[kSideI].vpn4k = kNoVpn;
    memo_[kSideD].vpn4k = kNoVpn;
  }

  std::vector<TlbArray> arrays_;  // reserved at construction, never reallocated
  std::array<std::array<TlbArray*, kL1Slots>, 2> l1_{};  // probe order per side
  std::array<uint32_t, 2> n_l1_{};
  std::array<TlbArray*, 2> l2_{};
  uint32_t n_l2_ = 0;
  std::array<std::array<TlbArray*, kNumPageSizes>, 2> l1_by_size_{};
  std::array<TlbArray*, kNumPageSizes> l2_by_size_{};
  std::array<Cycles, 2> l1_miss_latency_{};
  Cycles l2_miss_latency_;
  bool fast_path_ = true;
  std::array<Memo, 2> memo_{};
  std::array<uint64_t, 2> l1_misses_{};
  uint64_t l2_hits_ = 0;
  uint64_t l2_misses_ = 0;
  uint64_t fast_path_hits_ = 0;
  uint64_t epoch_ = 0;
  MissStatusTable mshr_;
};

}  // namespace mmusim
