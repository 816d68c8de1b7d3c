#include "models/tlb/tlb_array.h"

namespace mmusim {

TlbArray::TlbArray(const TlbArrayConfig& cfg, uint64_t seed)
    : name_(cfg.name), latency_(cfg.latency), policy_(cfg.replacement), sizes_(cfg.sizes) {
  validate_tlb_array(cfg, cfg.name);
  ways_ = cfg.ways;
  sets_ = cfg.entries / cfg.ways;
  set_mask_ = sets_ == 0 ? 0 : sets_ - 1;
  // Probe order: smallest page first.
  for (PageSize s : {PageSize::k4K, PageSize::k2M, PageSize::k4M, PageSize::k1G}) {
    if (!holds(s)) continue;
    probes_[n_probes_++] =
        Probe{static_cast<uint8_t>(page_shift(s)), static_cast<uint8_t>(static_cast<unsigned>(s))};
  }
  if (sets_ == 0) n_probes_ = 0;  // disabled
  const size_t n = size_t{sets_} * ways_;
  slots_.assign(n, Slot{});
  data_.assign(n, Translation{});
  valid_.assign(sets_, 0);
  switch (policy_) {
    case ReplPolicy::kLru: lru_.reset(sets_, ways_); break;
    case ReplPolicy::kPlru: plru_.reset(sets_, ways_); break;
    case ReplPolicy::kFifo: fifo_.reset(sets_, ways_); break;
    case ReplPolicy::kRandom: random_.reset(sets_, ways_, seed); break;
  }
}

uint32_t TlbArray::choose_victim(uint32_t base) {
  switch (policy_) {
    case ReplPolicy::kLru: return lru_.victim(base);
    case ReplPolicy::kPlru: return plru_.victim(base);
    case ReplPolicy::kFifo: return fifo_.victim(base);
    case ReplPolicy::kRandom: return random_.victim(base);
  }
  return 0;
}

bool TlbArray::insert(const Translation& t) {
  if (sets_ == 0 || !holds(t.size)) return false;
  const uint32_t sz = static_cast<uint32_t>(t.size);
  const uint64_t vpn = t.vpn.value();
  const uint32_t set = static_cast<uint32_t>(vpn & set_mask_);
  const uint32_t base = set * ways_;
  const uint64_t key = make_key(vpn, sz);
  const uint32_t tag = (t.perms & kPermGlobal) ? (kGlobalTag | t.asid.value()) : t.asid.value();
  Slot* s = &slots_[base];

  // An entry of the same page for the same asid (or covered by a global
  // entry) is refreshed; else the lowest invalid way is used (there is one
  // while the set is not full); else the policy's victim.
  uint32_t way = match(base, key, t.asid.value());
  bool evict = false;
  if (way == ways_) {
    if (valid_[set] < ways_) {
      way = 0;
      while (s[way].key != 0) ++way;
      ++valid_[set];
    } else {
      evict = true;
      way = policy_ == ReplPolicy::kLru ? lru_.victim_of(set, base) : choose_victim(base);
      --present_[key_size(s[way].key)];
      ++stats_.evictions;
    }
    ++present_[sz];
  }
  const uint32_t idx = base + way;
  s[way] = Slot{key, tag};
  data_[idx] = t;
  ++stats_.fills;
  switch (policy_) {
    case ReplPolicy::kLru:
      if (evict) {
        lru_.fill_victim(set, way, idx);
      } else {
        lru_.fill(set, way, idx);
      }
      break;
    case ReplPolicy::kPlru: plru_.on_fill(idx); break;
    case ReplPolicy::kFifo: fifo_.on_fill(idx); break;
    case ReplPolicy::kRandom: random_.on_fill(idx); break;
  }
  return true;
}

void TlbArray::remove(uint32_t idx) {
  --present_[key_size(slots_[idx].key)];
  --valid_[idx / ways_];
  slots_[idx] = Slot{};
  ++stats_.invalidations;
}

uint32_t TlbArray::invalidate_page(LinearAddr a, Asid asid) {
  uint32_t removed = 0;
  for (uint32_t p = 0; p < n_probes_; ++p) {
    const Probe pr = probes_[p];
    const uint64_t vpn = a.value() >> pr.shift;
    const uint32_t base = static_cast<uint32_t>(vpn & set_mask_) * ways_;
    const uint64_t key = make_key(vpn, pr.size);
    for (uint32_t w = 0; w < ways_; ++w) {
      const Slot& s = slots_[base + w];
      if (s.key == key && tag_matches(s.asid_tag, asid.value())) {
        remove(base + w);
        ++removed;
      }
    }
  }
  return removed;
}

uint32_t TlbArray::invalidate_asid(Asid asid) {
  uint32_t removed = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].key != 0 && slots_[i].asid_tag == asid.value()) {
      remove(i);
      ++removed;
    }
  }
  return removed;
}

uint32_t TlbArray::invalidate_all(bool keep_global) {
  uint32_t removed = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].key == 0) continue;
    if (keep_global && slots_[i].asid_tag >= kGlobalTag) continue;
    remove(i);
    ++removed;
  }
  return removed;
}

std::vector<TlbEntryView> TlbArray::contents() const {
  std::vector<TlbEntryView> out;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].key == 0) continue;
    out.push_back(TlbEntryView{i, slots_[i].asid_tag >= kGlobalTag, data_[i]});
  }
  return out;
}

uint32_t TlbArray::valid_entries() const {
  uint32_t n = 0;
  for (uint32_t c : present_) n += c;
  return n;
}

void TlbArray::visit(StatVisitor& v) const {
  v.counter(name_ + ".hits", "accesses", "lookups that hit in this array", stats_.hits);
  v.counter(name_ + ".misses", "accesses", "lookups that probed this array and missed",
            stats_.misses);
  v.counter(name_ + ".fills", "entries", "entries written (after a walk or an L2 hit)",
            stats_.fills);
  v.counter(name_ + ".evictions", "entries", "valid entries displaced by a fill", stats_.evictions);
  v.counter(name_ + ".invalidations", "entries", "valid entries removed by invalidations",
            stats_.invalidations);
}

}  // namespace mmusim
