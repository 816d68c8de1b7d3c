#include "models/os/lru.h"

#include <stdexcept>
#include <string>

namespace mmusim {

std::string_view lru_list_name(LruList l) {
  switch (l) {
    case LruList::kNone: return "none";
    case LruList::kInactiveAnon: return "inactive_anon";
    case LruList::kActiveAnon: return "active_anon";
    case LruList::kInactiveFile: return "inactive_file";
    case LruList::kActiveFile: return "active_file";
    case LruList::kUnevictable: return "unevictable";
  }
  return "none";
}

LruList lru_list_for(const PageFrame& f) {
  if (f.test(FrameFlag::kUnevictable)) return LruList::kUnevictable;
  const bool active = f.test(FrameFlag::kActive);
  if (f.test(FrameFlag::kFileLru)) return active ? LruList::kActiveFile : LruList::kInactiveFile;
  return active ? LruList::kActiveAnon : LruList::kInactiveAnon;
}

// --- LruVec -----------------------------------------------------------------

uint32_t LruVec::node_of(Pfn pfn) const {
  const uint32_t* n = index_.find(pfn.value());
  return n ? *n : kNil;
}

uint32_t LruVec::make_node(Pfn pfn) {
  uint32_t n = free_;
  if (n != kNil) {
    free_ = nodes_[n].next;
  } else {
    if (nodes_.size() >= kNil) throw std::length_error("LruVec: more than 2^32 - 1 pages");
    n = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[n] = Node{pfn.value(), kNil, kNil, static_cast<uint8_t>(LruList::kNone), false};
  index_.insert(pfn.value(), n);
  return n;
}

void LruVec::link_head(uint32_t n, LruList l) {
  Ends& e = ends_[lru_index(l)];
  Node& x = nodes_[n];
  x.list = static_cast<uint8_t>(l);
  x.prev = kNil;
  x.next = e.head;
  if (e.head != kNil) {
    nodes_[e.head].prev = n;
  } else {
    e.tail = n;
  }
  e.head = n;
  ++size_[lru_index(l)];
}

void LruVec::link_tail(uint32_t n, LruList l) {
  Ends& e = ends_[lru_index(l)];
  Node& x = nodes_[n];
  x.list = static_cast<uint8_t>(l);
  x.next = kNil;
  x.prev = e.tail;
  if (e.tail != kNil) {
    nodes_[e.tail].next = n;
  } else {
    e.head = n;
  }
  e.tail = n;
  ++size_[lru_index(l)];
}

void LruVec::unlink(uint32_t n) {
  Node& x = nodes_[n];
  const auto l = static_cast<LruList>(x.list);
  if (l == LruList::kNone) return;
  Ends& e = ends_[lru_index(l)];
  if (x.prev != kNil) {
    nodes_[x.prev].next = x.next;
  } else {
    e.head = x.next;
  }
  if (x.next != kNil) {
    nodes_[x.next].prev = x.prev;
  } else {
    e.tail = x.prev;
  }
  x.prev = x.next = kNil;
  x.list = static_cast<uint8_t>(LruList::kNone);
  --size_[lru_index(l)];
}

void LruVec::drop(uint32_t n) {
  unlink(n);
  index_.erase(nodes_[n].pfn);
  nodes_[n].reclaim = false;
  nodes_[n].next = free_;
  free_ = n;
}

void LruVec::insert(Pfn pfn, PageFrame& f, bool at_head) {
  uint32_t n = node_of(pfn);
  if (n == kNil) {
    n = make_node(pfn);
  } else if (static_cast<LruList>(nodes_[n].list) != LruList::kNone) {
    throw std::invalid_argument("LruVec::add: frame " + std::to_string(pfn.value()) +
                                " is on a list already");
  }
  const LruList l = lru_list_for(f);
  if (at_head) {
    link_head(n, l);
  } else {
    link_tail(n, l);
  }
  f.set(FrameFlag::kLru);
}

void LruVec::add(Pfn pfn, PageFrame& f) { insert(pfn, f, true); }
void LruVec::add_tail(Pfn pfn, PageFrame& f) { insert(pfn, f, false); }

LruList LruVec::del(Pfn pfn, PageFrame& f) {
  f.clear(FrameFlag::kLru);
  const uint32_t n = node_of(pfn);
  if (n == kNil) return LruList::kNone;
  const auto l = static_cast<LruList>(nodes_[n].list);
  drop(n);
  return l;
}

void LruVec::forget(Pfn pfn) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) return;
  if (static_cast<LruList>(nodes_[n].list) != LruList::kNone) {
    throw std::invalid_argument("LruVec::forget: frame " + std::to_string(pfn.value()) +
                                " is on a list");
  }
  drop(n);
}

LruList LruVec::isolate(Pfn pfn, PageFrame& f) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) return LruList::kNone;
  const auto l = static_cast<LruList>(nodes_[n].list);
  unlink(n);
  f.clear(FrameFlag::kLru);
  return l;
}

bool LruVec::rotate(Pfn pfn) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) return false;
  const auto l = static_cast<LruList>(nodes_[n].list);
  if (l == LruList::kNone) return false;
  unlink(n);
  link_head(n, l);
  return true;
}

bool LruVec::activate(Pfn pfn, PageFrame& f) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) return false;
  const auto l = static_cast<LruList>(nodes_[n].list);
  if (l != LruList::kInactiveAnon && l != LruList::kInactiveFile) return false;
  unlink(n);
  f.set(FrameFlag::kActive);
  link_head(n, l == LruList::kInactiveFile ? LruList::kActiveFile : LruList::kActiveAnon);
  return true;
}

bool LruVec::move_tail(Pfn pfn, PageFrame& f) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) return false;
  const auto l = static_cast<LruList>(nodes_[n].list);
  if (l == LruList::kNone || l == LruList::kUnevictable) return false;
  unlink(n);
  f.clear(FrameFlag::kActive);
  link_tail(n, is_file_lru(l) ? LruList::kInactiveFile : LruList::kInactiveAnon);
  return true;
}

bool LruVec::move(Pfn pfn, PageFrame& f, LruList to) {
  if (to == LruList::kNone) throw std::invalid_argument("LruVec::move: no list given");
  const uint32_t n = node_of(pfn);
  if (n == kNil || static_cast<LruList>(nodes_[n].list) == LruList::kNone) return false;
  unlink(n);
  if (to == LruList::kUnevictable) {
    f.set(FrameFlag::kUnevictable);
    f.clear(FrameFlag::kActive);
  } else {
    f.clear(FrameFlag::kUnevictable);
    if (is_active_lru(to)) {
      f.set(FrameFlag::kActive);
    } else {
      f.clear(FrameFlag::kActive);
    }
    if (is_file_lru(to)) {
      f.set(FrameFlag::kFileLru);
    } else {
      f.clear(FrameFlag::kFileLru);
    }
  }
  link_head(n, to);
  return true;
}

void LruVec::set_reclaim_mark(Pfn pfn, bool on) {
  const uint32_t n = node_of(pfn);
  if (n == kNil) {
    if (!on) return;
    throw std::invalid_argument("LruVec::set_reclaim_mark: frame " + std::to_string(pfn.value()) +
                                " is not on the LRU");
  }
  nodes_[n].reclaim = on;
}

bool LruVec::reclaim_mark(Pfn pfn) const {
  const uint32_t n = node_of(pfn);
  return n != kNil && nodes_[n].reclaim;
}

LruList LruVec::list_of(Pfn pfn) const {
  const uint32_t n = node_of(pfn);
  return n == kNil ? LruList::kNone : static_cast<LruList>(nodes_[n].list);
}

std::optional<Pfn> LruVec::head(LruList l) const {
  const uint32_t n = ends_.at(lru_index(l)).head;
  if (n == kNil) return std::nullopt;
  return Pfn(nodes_[n].pfn);
}

std::optional<Pfn> LruVec::tail(LruList l) const {
  const uint32_t n = ends_.at(lru_index(l)).tail;
  if (n == kNil) return std::nullopt;
  return Pfn(nodes_[n].pfn);
}

std::vector<Pfn> LruVec::pages(LruList l) const {
  std::vector<Pfn> out;
  out.reserve(size(l));
  for (uint32_t n = ends_.at(lru_index(l)).head; n != kNil; n = nodes_[n].next) {
    out.emplace_back(nodes_[n].pfn);
  }
  return out;
}

// --- sizing functions -------------------------------------------------------

uint64_t int_sqrt(uint64_t x) {
  // Bit by bit from the top: r stays the largest root of what has been seen.
  uint64_t r = 0;
  for (int b = 31; b >= 0; --b) {
    const uint64_t c = r | (uint64_t{1} << b);
    if (c <= x / c) r = c;  // c * c <= x without overflow
  }
  return r;
}

uint64_t inactive_ratio(uint64_t inactive, uint64_t active) {
  const uint64_t gib = (inactive + active) >> (30 - 12);  // 4 KiB pages per GiB: 2^18
  return gib != 0 ? int_sqrt(10 * gib) : 1;
}

bool inactive_is_low(uint64_t inactive, uint64_t active) {
  return inactive * inactive_ratio(inactive, active) < active;
}

void ScanCosts::note(bool is_file, uint64_t nr_io, uint64_t nr_rotated, uint64_t lru_pages) {
  const uint64_t cost = nr_io * kSwapClusterMax + nr_rotated;
  if (is_file) {
    file += cost;
  } else {
    anon += cost;
  }
  // A floating average: older events weigh half at each decay.
  if (anon + file > lru_pages / 4) {
    anon /= 2;
    file /= 2;
  }
}

std::string_view scan_balance_name(ScanBalance b) {
  switch (b) {
    case ScanBalance::kEqual: return "equal";
    case ScanBalance::kFract: return "fract";
    case ScanBalance::kAnon: return "anon";
    case ScanBalance::kFile: return "file";
  }
  return "fract";
}

namespace {

// The first mode that applies, in get_scan_count()'s order.
ScanBalance scan_balance(const ScanInput& in) {
  if (!in.can_reclaim_anon) return ScanBalance::kFile;  // no swap space: anon stays
  if (in.priority == 0 && in.swappiness != 0) return ScanBalance::kEqual;  // near OOM
  if (in.file_is_tiny) return ScanBalance::kAnon;
  if (in.cache_trim_mode) return ScanBalance::kFile;
  return ScanBalance::kFract;
}

}  // namespace

ScanCount get_scan_count(const ScanInput& in) {
  if (in.priority > kDefPriority || in.swappiness > kMaxSwappiness) {
    throw std::invalid_argument("get_scan_count: priority " + std::to_string(in.priority) +
                                " (0..12) or swappiness " + std::to_string(in.swappiness) +
                                " (0..200) out of range");
  }
  ScanCount out;
  out.balance = scan_balance(in);
  if (out.balance == ScanBalance::kFract) {
    // Each side's cost counts against it, but only up to a bound: the
    // "total +" terms keep at least about a third of the pressure on the
    // cheaper side before swappiness weighs in.
    const uint64_t total = in.costs.anon + in.costs.file;
    const uint64_t a = total + in.costs.anon;
    const uint64_t f = total + in.costs.file;
    const uint64_t t2 = a + f;
    out.anon_fraction = in.swappiness * (t2 + 1) / (a + 1);
    out.file_fraction = (kMaxSwappiness - in.swappiness) * (t2 + 1) / (f + 1);
  }
  const uint64_t denominator = out.anon_fraction + out.file_fraction;
  for (size_t i = 0; i < kNumEvictableLists; ++i) {
    const bool file = is_file_lru(lru_at(i));
    uint64_t scan = in.size[i] >> in.priority;
    switch (out.balance) {
      case ScanBalance::kEqual: break;
      case ScanBalance::kFract:
        scan =
            denominator ? scan * (file ? out.file_fraction : out.anon_fraction) / denominator : 0;
        break;
      case ScanBalance::kAnon:
      case ScanBalance::kFile:
        if ((out.balance == ScanBalance::kFile) != file) scan = 0;
        break;
    }
    out.nr[i] = scan;
  }
  return out;
}

}  // namespace mmusim
