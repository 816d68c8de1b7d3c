#include "models/os/swap_area.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mmusim {
namespace {

// Linux spreads the initial free-cluster list over this many columns:
// max(64-byte line / 24-byte cluster record rounded up = 3, one swap-cache
// address space of 2^14 slots / 512 = 32).
constexpr uint64_t kClusterCols = 32;
// The rotational scan's step budget before it yields (LATENCY_LIMIT). It
// also ends a batch of several slots early, which the per-CPU cache sees.
constexpr int kLatencyLimit = 256;
// The slot cache is switched on while more than 5 x 64 slots per CPU are
// free and off (and drained) below 2 x 64.
constexpr uint64_t kCacheOnPerCpu = uint64_t{5} * SwapArea::kSlotCache;
constexpr uint64_t kCacheOffPerCpu = uint64_t{2} * SwapArea::kSlotCache;

// `k` steps of the budget `r`, each `if (--r < 0) r = kLatencyLimit`;
// true if it was refilled at least once.
bool spend(int& r, uint64_t k) {
  if (r >= 0 && k <= static_cast<uint64_t>(r)) {
    r -= static_cast<int>(k);
    return false;
  }
  const uint64_t first = r >= 0 ? static_cast<uint64_t>(r) + 1 : 1;  // steps to the first refill
  const uint64_t after = k - first;                                  // steps after it
  r = kLatencyLimit - static_cast<int>(after % (kLatencyLimit + 1));
  return true;
}

}  // namespace

std::string_view swap_kind_name(SwapKind k) { return k == SwapKind::kSolidState ? "ssd" : "hdd"; }

void SwapAreaStats::visit(StatVisitor& v) const {
  v.counter("allocs", "slots", "slots handed out", allocs);
  v.counter("alloc_failures", "allocs", "allocations that found no free slot", alloc_failures);
  v.counter("frees", "slots", "slots whose last reference was dropped", frees);
  v.counter("cluster_switches", "switches",
            "SSD: a CPU took another cluster; HDD: a new run of 512 free slots", cluster_switches);
  v.counter("fragment_allocs", "slots",
            "SSD: slots from nonfull or fragmented clusters; HDD: slots found by the first-free "
            "scan",
            fragment_allocs);
  v.counter("cache_refills", "refills", "per-CPU slot cache refills (up to 64 slots)",
            cache_refills);
  v.counter("cache_returns", "batches", "per-CPU return-cache batches given back", cache_returns);
}

SwapArea::SwapArea(uint64_t slots, SwapKind kind, unsigned cpus, bool slot_cache)
    : kind_(kind),
      max_(slots),
      pages_(slots - 1),
      highest_bit_(slots - 1),
      cache_enabled_(slot_cache) {
  if (slots < 2 || slots > (uint64_t{1} << 40)) {
    throw std::invalid_argument("SwapArea: 2 .. 2^40 slots, got " + std::to_string(slots));
  }
  if (cpus == 0) throw std::invalid_argument("SwapArea: at least one CPU");
  std::fill(std::begin(heads_), std::end(heads_), kNil);
  std::fill(std::begin(tails_), std::end(tails_), kNil);
  const uint64_t n = (max_ + kClusterSlots - 1) / kClusterSlots;
  clusters_.resize(n);
  maps_.resize(n);
  next_.assign(cpus, 0);
  caches_.resize(cpus);
  for (Cache& c : caches_) {
    c.slots.reserve(kSlotCache);
    c.ret.reserve(kSlotCache);
  }
  set_map(0, kHeld);  // the header
  if (kind_ == SwapKind::kSolidState) {
    // Column by column: clusters k, k + 32, k + 64, ... for k = 0 .. 31.
    // Clusters with unusable slots (the header's, a partial last one) start
    // on the nonfull list, the others on the free list.
    const uint64_t rows = (n + kClusterCols - 1) / kClusterCols;
    for (uint64_t k = 0; k < kClusterCols; ++k) {
      for (uint64_t i = 0; i < rows; ++i) {
        const uint64_t c = i * kClusterCols + k;
        if (c >= n) continue;
        push_tail(ccount(c) != 0 ? List::kNonfull : List::kFree, static_cast<uint32_t>(c));
      }
    }
  }
}

SwapArea::~SwapArea() = default;

// ---- the slot map ----

uint32_t SwapArea::tail(uint64_t c) const {
  const uint64_t end = (c + 1) * kClusterSlots;
  return end > max_ ? static_cast<uint32_t>(end - max_) : 0;
}

bool SwapArea::used(uint64_t off) const {
  if (off >= max_) return true;
  const auto& m = maps_[off / kClusterSlots];
  return m && m[off % kClusterSlots] != 0;
}

uint32_t& SwapArea::map_at(uint64_t off) { return maps_[off / kClusterSlots][off % kClusterSlots]; }

void SwapArea::set_map(uint64_t off, uint32_t v) {
  const uint64_t c = off / kClusterSlots;
  auto& m = maps_[c];
  if (!m) {
    if (v == 0) return;
    m = std::make_unique<uint32_t[]>(kClusterSlots);  // zeroed
  }
  uint32_t& e = m[off % kClusterSlots];
  if (e == 0 && v != 0) ++clusters_[c].live;
  if (e != 0 && v == 0) --clusters_[c].live;
  e = v;
  if (clusters_[c].live == 0) m.reset();
}

std::optional<uint64_t> SwapArea::next_used(uint64_t from, uint64_t to) const {
  if (from >= max_) return from <= to ? std::optional<uint64_t>(from) : std::nullopt;
  const uint64_t last = std::min(to, max_ - 1);
  uint64_t off = from;
  while (off <= last) {
    const uint64_t c = off / kClusterSlots;
    const uint64_t end = std::min(last, (c + 1) * kClusterSlots - 1);
    if (const auto& m = maps_[c]) {
      for (; off <= end; ++off) {
        if (m[off % kClusterSlots] != 0) return off;
      }
    }
    off = end + 1;
  }
  if (to >= max_) return max_;  // slots beyond the area count as used
  return std::nullopt;
}

std::optional<uint64_t> SwapArea::next_free(uint64_t from, uint64_t to) const {
  const uint64_t last = std::min(to, max_ - 1);
  uint64_t off = from;
  while (off <= last) {
    const uint64_t c = off / kClusterSlots;
    const uint64_t end = std::min(last, (c + 1) * kClusterSlots - 1);
    const auto& m = maps_[c];
    if (!m) return off;
    if (clusters_[c].live + tail(c) < kClusterSlots) {  // not wholly used
      for (; off <= end; ++off) {
        if (m[off % kClusterSlots] == 0) return off;
      }
    }
    off = end + 1;
  }
  return std::nullopt;
}

// ---- cluster lists ----

void SwapArea::unlink(uint32_t c) {
  Cluster& k = clusters_[c];
  if (k.list == List::kNone) return;
  const auto l = static_cast<size_t>(k.list);
  (k.prev == kNil ? heads_[l] : clusters_[k.prev].next) = k.next;
  (k.next == kNil ? tails_[l] : clusters_[k.next].prev) = k.prev;
  k.prev = k.next = kNil;
  k.list = List::kNone;
}

void SwapArea::push_tail(List l, uint32_t c) {
  const auto i = static_cast<size_t>(l);
  Cluster& k = clusters_[c];
  k.list = l;
  k.prev = tails_[i];
  k.next = kNil;
  (tails_[i] == kNil ? heads_[i] : clusters_[tails_[i]].next) = c;
  tails_[i] = c;
}

void SwapArea::move_tail(List l, uint32_t c) {
  unlink(c);
  push_tail(l, c);
}

// ---- allocation ----

void SwapArea::swap_range_alloc(uint64_t off) {
  if (off == lowest_bit_) ++lowest_bit_;
  if (off == highest_bit_) --highest_bit_;
  ++inuse_;
  if (inuse_ == pages_) {  // full: the bounds say "nothing free"
    lowest_bit_ = max_;
    highest_bit_ = 0;
  }
}

void SwapArea::release(uint64_t off) {
  set_map(off, 0);
  if (kind_ == SwapKind::kSolidState) {
    const auto c = static_cast<uint32_t>(off / kClusterSlots);
    const List l = clusters_[c].list;
    if (ccount(c) == 0) {  // wholly free again: back to the free list's tail
      if (l == List::kFrag) --frag_nr_;
      move_tail(List::kFree, c);
    } else if (l != List::kNonfull) {  // a full or fragmented cluster has room again
      if (l == List::kFrag) --frag_nr_;
      move_tail(List::kNonfull, c);
    }
  }
  lowest_bit_ = std::min(lowest_bit_, off);
  highest_bit_ = std::max(highest_bit_, off);
  --inuse_;
}

void SwapArea::cluster_alloc_range(uint64_t off) {
  const auto c = static_cast<uint32_t>(off / kClusterSlots);
  if (clusters_[c].list == List::kFree) move_tail(List::kNonfull, c);
  set_map(off, kHeld);
  swap_range_alloc(off);
  if (ccount(c) == kClusterSlots) {
    if (clusters_[c].list == List::kFrag) --frag_nr_;
    move_tail(List::kFull, c);
  }
}

uint64_t SwapArea::alloc_swap_scan_cluster(uint64_t offset, std::optional<uint64_t>& found) {
  const uint64_t start = offset & ~uint64_t{kClusterSlots - 1};
  if (start >= max_) return 0;
  const uint64_t end = std::min(start + kClusterSlots, max_) - 1;
  const uint64_t c = start / kClusterSlots;
  if (ccount(c) + 1 > kClusterSlots) return 0;
  while (offset <= end) {
    if (!used(offset)) {
      cluster_alloc_range(offset);
      found = offset;
      if (ccount(c) == kClusterSlots) return 0;
      ++offset;
      break;
    }
    ++offset;
  }
  return offset > end ? 0 : offset;  // where this cluster continues, 0 = nowhere
}

std::optional<uint64_t> SwapArea::cluster_alloc_swap_entry(unsigned cpu) {
  std::optional<uint64_t> found;
  uint64_t offset = next_[cpu];
  if (offset != 0) offset = alloc_swap_scan_cluster(offset, found);
  if (!found) {
    if (head(List::kFree) != kNil) {
      offset = alloc_swap_scan_cluster(uint64_t{head(List::kFree)} * kClusterSlots, found);
      if (found) ++stats_.cluster_switches;
    } else {
      // Every nonfull cluster is tried once, moving to the frag list's tail;
      // then the frag list is rotated, each of its clusters tried at most once.
      uint64_t tried = 0;
      while (!found && head(List::kNonfull) != kNil) {
        const uint32_t c = head(List::kNonfull);
        move_tail(List::kFrag, c);
        ++frag_nr_;
        offset = alloc_swap_scan_cluster(uint64_t{c} * kClusterSlots, found);
        ++tried;
      }
      while (!found && tried < frag_nr_) {
        const uint32_t c = head(List::kFrag);
        move_tail(List::kFrag, c);
        offset = alloc_swap_scan_cluster(uint64_t{c} * kClusterSlots, found);
        ++tried;
      }
      if (found) {
        ++stats_.cluster_switches;
        ++stats_.fragment_allocs;
      }
    }
  }
  next_[cpu] = offset;
  return found;
}

uint64_t SwapArea::scan_swap_map_slots(uint64_t nr, std::vector<uint64_t>& out) {
  uint64_t n_ret = 0;
  int budget = kLatencyLimit;
  bool scanned_many = false;
  bool by_scan = false;
  uint64_t scan_base = cluster_next_;
  uint64_t offset = scan_base;

  // A run ends after 512 slots: look for the first 512 free slots in a row
  // from lowest_bit (keeping swap compact on the disk), unless fewer than
  // 512 are free at all.
  if (cluster_nr_-- == 0) {
    if (pages_ - inuse_ >= kClusterSlots) {
      scan_base = offset = lowest_bit_;
      uint64_t last = offset + kClusterSlots - 1;
      bool run = false;
      while (last <= highest_bit_) {
        const std::optional<uint64_t> u = next_used(offset, last);
        if (!u) {  // [last - 511, last] all free
          spend(budget, last - offset);
          offset = last - (kClusterSlots - 1);
          run = true;
          break;
        }
        spend(budget, *u - offset + 1);
        offset = *u + 1;
        last = *u + kClusterSlots;
      }
      if (run) {
        cluster_next_ = offset;
        ++stats_.cluster_switches;
      } else {
        offset = scan_base;
      }
    }
    cluster_nr_ = kClusterSlots - 1;
  }

  for (;;) {
    if (highest_bit_ == 0) return n_ret;  // full
    if (offset > highest_bit_) scan_base = offset = lowest_bit_;
    if (used(offset)) {
      if (n_ret != 0) break;
      // The next free slot after offset up to highest_bit, then from
      // lowest_bit below scan_base; none: nothing is free.
      std::optional<uint64_t> f;
      if (offset < highest_bit_) f = next_free(offset + 1, highest_bit_);
      if (f) {
        scanned_many |= spend(budget, *f - offset);
      } else {
        if (offset < highest_bit_) scanned_many |= spend(budget, highest_bit_ - offset);
        if (lowest_bit_ < scan_base) f = next_free(lowest_bit_, scan_base - 1);
        if (!f) return n_ret;
        scanned_many |= spend(budget, *f - lowest_bit_ + 1);
      }
      offset = *f;
      by_scan = true;
      continue;
    }
    set_map(offset, kHeld);
    swap_range_alloc(offset);
    out.push_back(offset);
    ++n_ret;
    if (by_scan) {
      ++stats_.fragment_allocs;
      by_scan = false;
    }
    if (n_ret == nr || offset >= highest_bit_) break;
    if (--budget < 0) break;                    // a batch ends when the step budget runs out
    if (cluster_nr_ != 0 && !used(++offset)) {  // the run goes on
      --cluster_nr_;
      continue;
    }
    // Run over or blocked: a short look ahead for a free slot (a batch only).
    bool again = false;
    if (!scanned_many) {
      const uint64_t limit = offset < scan_base ? scan_base : highest_bit_;
      while (offset <= limit) {
        if (--budget <= 0) break;
        if (!used(offset)) {
          again = true;
          break;
        }
        ++offset;
      }
    }
    if (!again) break;
  }
  cluster_next_ = offset + 1;
  return n_ret;
}

uint64_t SwapArea::get_swap_pages(uint64_t n_goal, std::vector<uint64_t>& out, unsigned cpu) {
  const uint64_t avail = pages_ - inuse_;
  if (avail == 0 || highest_bit_ == 0) return 0;
  n_goal = std::min({n_goal, uint64_t{kSlotCache}, avail});
  if (kind_ == SwapKind::kRotational) return scan_swap_map_slots(n_goal, out);
  uint64_t n = 0;
  while (n < n_goal) {
    const std::optional<uint64_t> s = cluster_alloc_swap_entry(cpu);
    if (!s) break;
    out.push_back(*s);
    ++n;
  }
  return n;
}

bool SwapArea::check_cache_active() {
  if (!cache_enabled_) return false;
  const uint64_t free = pages_ - inuse_;
  const uint64_t ncpu = caches_.size();
  if (!cache_active_) {
    if (free > ncpu * kCacheOnPerCpu) cache_active_ = true;
    return cache_active_;
  }
  if (free < ncpu * kCacheOffPerCpu) {
    cache_active_ = false;
    drain_caches();
  }
  return cache_active_;
}

std::optional<uint64_t> SwapArea::alloc(unsigned cpu) {
  if (cpu >= caches_.size()) throw std::invalid_argument("SwapArea::alloc: no such CPU");
  std::optional<uint64_t> slot;
  if (check_cache_active()) {
    Cache& c = caches_[cpu];
    if (c.cur == c.slots.size()) {
      c.slots.clear();
      c.cur = 0;
      if (get_swap_pages(kSlotCache, c.slots, cpu) != 0) ++stats_.cache_refills;
    }
    if (c.cur < c.slots.size()) slot = c.slots[c.cur++];
  }
  if (!slot) {
    one_.clear();
    if (get_swap_pages(1, one_, cpu) != 0) slot = one_.front();
  }
  if (!slot) {
    ++stats_.alloc_failures;
    return std::nullopt;
  }
  map_at(*slot) = 1;
  ++stats_.allocs;
  return slot;
}

uint32_t SwapArea::count(uint64_t slot) const {
  if (slot == 0 || slot >= max_ || !used(slot)) return 0;
  const uint32_t v = maps_[slot / kClusterSlots][slot % kClusterSlots];
  return v == kHeld ? 0 : v;
}

void SwapArea::dup(uint64_t slot) {
  if (count(slot) == 0) {
    throw std::invalid_argument("SwapArea::dup: slot " + std::to_string(slot) +
                                " is not handed out");
  }
  uint32_t& m = map_at(slot);
  if (m + 1 == kHeld) throw std::invalid_argument("SwapArea::dup: count overflow");
  ++m;
}

void SwapArea::free(uint64_t slot, unsigned cpu) {
  if (cpu >= caches_.size()) throw std::invalid_argument("SwapArea::free: no such CPU");
  if (count(slot) == 0) {
    throw std::invalid_argument("SwapArea::free: slot " + std::to_string(slot) +
                                " is not handed out");
  }
  uint32_t& m = map_at(slot);
  if (m > 1) {
    --m;
    return;
  }
  m = kHeld;
  ++stats_.frees;
  free_swap_slot(slot, cpu);
}

void SwapArea::free_swap_slot(uint64_t off, unsigned cpu) {
  if (!(cache_enabled_ && cache_active_)) {
    release(off);
    return;
  }
  Cache& c = caches_[cpu];
  if (c.ret.size() >= kSlotCache) {  // a full batch goes back, in the order freed
    for (uint64_t s : c.ret) release(s);
    c.ret.clear();
    ++stats_.cache_returns;
  }
  c.ret.push_back(off);
}

uint64_t SwapArea::cached() const {
  uint64_t n = 0;
  for (const Cache& c : caches_) n += (c.slots.size() - c.cur) + c.ret.size();
  return n;
}

void SwapArea::drain_caches() {
  for (Cache& c : caches_) {
    for (size_t i = c.cur; i < c.slots.size(); ++i) release(c.slots[i]);
    c.slots.clear();
    c.cur = 0;
    if (!c.ret.empty()) ++stats_.cache_returns;
    for (uint64_t s : c.ret) release(s);
    c.ret.clear();
  }
}

}  // namespace mmusim
