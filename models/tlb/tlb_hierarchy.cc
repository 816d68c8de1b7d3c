#include "models/tlb/tlb_hierarchy.h"

#include <string>

namespace mmusim {
namespace {

// Per-array seed: the configured seed mixed with a hash of the array's name,
// so arrays draw independent but reproducible victim sequences.
uint64_t array_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return SplitMix64(seed ^ h).next();
}

std::string l2_name(uint8_t sizes) {
  std::string s = page_sizes_string(sizes);
  for (char& c : s) {
    if (c == '+') c = '_';
  }
  return "tlb.l2." + s;
}

}  // namespace

TlbHierarchy::TlbHierarchy(const TlbConfig& cfg)
    : fast_path_(cfg.fast_path), mshr_((validate_tlb_config(cfg), cfg.mshr_entries)) {
  arrays_.reserve(2 * kL1Slots + 2);  // pointers below stay valid
  for (int side = 0; side < 2; ++side) {
    const auto& l1 = side == kSideI ? cfg.l1i : cfg.l1d;
    const std::string level = side == kSideI ? "tlb.l1i." : "tlb.l1d.";
    for (int i = 0; i < kL1Slots; ++i) {
      if (l1[i].entries == 0) continue;
      TlbArrayConfig a = l1[i];
      a.name = level + std::string(kL1SlotNames[i]);
      TlbArray& arr = arrays_.emplace_back(a, array_seed(cfg.seed, a.name));
      l1_[side][n_l1_[side]++] = &arr;
      if (arr.latency() > l1_miss_latency_[side]) l1_miss_latency_[side] = arr.latency();
      for (int s = 0; s < kNumPageSizes; ++s) {
        if (arr.holds(static_cast<PageSize>(s))) l1_by_size_[side][s] = &arr;
      }
    }
  }
  for (const TlbArrayConfig* c : {&cfg.l2, &cfg.l2_1g}) {
    if (c->entries == 0) continue;
    TlbArrayConfig a = *c;
    a.name = l2_name(a.sizes);
    TlbArray& arr = arrays_.emplace_back(a, array_seed(cfg.seed, a.name));
    l2_[n_l2_++] = &arr;
    if (arr.latency() > l2_miss_latency_) l2_miss_latency_ = arr.latency();
    for (int s = 0; s < kNumPageSizes; ++s) {
      if (arr.holds(static_cast<PageSize>(s))) l2_by_size_[s] = &arr;
    }
  }
}

TlbLookup TlbHierarchy::lookup_slow(LinearAddr a, int side, Asid asid) {
  ++epoch_;
  for (uint32_t j = 0; j < n_l1_[side]; ++j) {
    TlbArray& arr = *l1_[side][j];
    const uint32_t idx = arr.find(a, asid);
    if (idx != TlbArray::kNone) return hit_l1(side, a, asid, L1Hit{j, idx, &arr.entry(idx)});
    ++arr.stats_.misses;
  }
  ++l1_misses_[side];
  memo_[side].vpn4k = kNoVpn;

  for (uint32_t j = 0; j < n_l2_; ++j) {
    TlbArray& arr = *l2_[j];
    const uint32_t idx = arr.find(a, asid);
    if (idx == TlbArray::kNone) {
      ++arr.stats_.misses;
      continue;
    }
    ++arr.stats_.hits;
    arr.touch(idx);
    ++l2_hits_;
    const Translation* t = &arr.entry(idx);
    // Refill L1 (an L1 array never aliases an L2 entry, so t stays valid).
    if (TlbArray* l1 = l1_by_size_[side][static_cast<unsigned>(t->size)]) {
      l1->insert(*t);
    }
    return TlbLookup{TlbLevel::kL2, t, l1_miss_latency_[side] + arr.latency()};
  }
  ++l2_misses_;
  return TlbLookup{TlbLevel::kMiss, nullptr, l1_miss_latency_[side] + l2_miss_latency_};
}

TlbLookup TlbHierarchy::take_l1(LinearAddr a, AccessKind k, Asid asid, const L1Hit& h) {
  ++epoch_;
  const int side = side_of(k);
  for (uint32_t j = 0; j < h.pos; ++j) ++l1_[side][j]->stats_.misses;
  return hit_l1(side, a, asid, h);
}

TlbLookup TlbHierarchy::hit_l1(int side, LinearAddr a, Asid asid, const L1Hit& h) {
  TlbArray& arr = *l1_[side][h.pos];
  ++arr.stats_.hits;
  arr.touch(h.idx);
  if (fast_path_) memo_[side] = Memo{a.value() >> 12, asid, &arr, h.pos, h.t, arr.latency()};
  return TlbLookup{TlbLevel::kL1, h.t, arr.latency()};
}

void TlbHierarchy::fill(const Translation& t, AccessKind k) {
  ++epoch_;
  const int side = side_of(k);
  const unsigned sz = static_cast<unsigned>(t.size);
  memo_[side].vpn4k = kNoVpn;
  if (TlbArray* l2 = l2_by_size_[sz]) l2->insert(t);
  if (TlbArray* l1 = l1_by_size_[side][sz]) l1->insert(t);
}

void TlbHierarchy::fill_sides(const Translation& t, uint8_t sides) {
  ++epoch_;
  const unsigned sz = static_cast<unsigned>(t.size);
  if (TlbArray* l2 = l2_by_size_[sz]) l2->insert(t);
  for (int side = 0; side < 2; ++side) {
    const uint8_t bit = side == kSideI ? MissStatusTable::kSideI : MissStatusTable::kSideD;
    if ((sides & bit) == 0) continue;
    memo_[side].vpn4k = kNoVpn;
    if (TlbArray* l1 = l1_by_size_[side][sz]) l1->insert(t);
  }
}

uint32_t TlbHierarchy::invalidate_page(LinearAddr a, Asid asid) {
  ++epoch_;
  drop_memos();
  uint32_t dropped = 0;
  for (TlbArray& arr : arrays_) dropped += arr.invalidate_page(a, asid);
  return dropped;
}

void TlbHierarchy::invalidate_asid(Asid asid) {
  ++epoch_;
  drop_memos();
  for (TlbArray& arr : arrays_) arr.invalidate_asid(asid);
}

void TlbHierarchy::invalidate_all(bool keep_global) {
  ++epoch_;
  drop_memos();
  for (TlbArray& arr : arrays_) arr.invalidate_all(keep_global);
}

TlbLevelStats TlbHierarchy::level_stats() const {
  TlbLevelStats s;
  for (uint32_t j = 0; j < n_l1_[kSideI]; ++j) s.l1i_hits += l1_[kSideI][j]->stats().hits;
  for (uint32_t j = 0; j < n_l1_[kSideD]; ++j) s.l1d_hits += l1_[kSideD][j]->stats().hits;
  s.l1i_misses = l1_misses_[kSideI];
  s.l1d_misses = l1_misses_[kSideD];
  s.l2_hits = l2_hits_;
  s.l2_misses = l2_misses_;
  return s;
}

void TlbHierarchy::visit(StatVisitor& v) const {
  for (const TlbArray& arr : arrays_) arr.visit(v);
  const TlbLevelStats s = level_stats();
  v.counter("tlb.l1i.hits", "accesses", "instruction fetches that hit the L1 ITLB", s.l1i_hits);
  v.counter("tlb.l1i.misses", "accesses", "instruction fetches that missed the L1 ITLB",
            s.l1i_misses);
  v.counter("tlb.l1d.hits", "accesses", "reads and writes that hit the L1 DTLB", s.l1d_hits);
  v.counter("tlb.l1d.misses", "accesses", "reads and writes that missed the L1 DTLB", s.l1d_misses);
  v.counter("tlb.l2.hits", "accesses", "L1 TLB misses that hit the STLB", s.l2_hits);
  v.counter("tlb.l2.misses", "accesses", "L1 TLB misses that missed the STLB (walk needed)",
            s.l2_misses);
  mshr_.visit(v, "tlb.mshr");
}

}  // namespace mmusim
