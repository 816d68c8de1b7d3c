#include "models/os/workingset.h"

#include <stdexcept>
#include <vector>

namespace mmusim {

Workingset::~Workingset() = default;

Workingset::Table* Workingset::table(ShadowOwner o, uint32_t id) const {
  const std::unique_ptr<Table>* t = owners_.find(owner_key(o, id));
  return t ? t->get() : nullptr;
}

void Workingset::evict(const ShadowKey& key, bool workingset) {
  if (key.index == Table::kEmptyKey) {
    throw std::invalid_argument("Workingset::evict: page index 2^64 - 1");
  }
  Table* t = table(key.owner, key.id);
  if (!t) {
    t = owners_.insert(owner_key(key.owner, key.id), std::make_unique<Table>()).first->get();
  }
  const uint64_t packed = (age_ << 1) | (workingset ? 1 : 0);
  auto [v, inserted] = t->insert(key.index, packed);
  if (inserted) {
    ++shadows_;
  } else {
    *v = packed;
  }
  ++st_.evictions;
  age_ += 1;
}

std::optional<Shadow> Workingset::shadow(const ShadowKey& key) const {
  const Table* t = table(key.owner, key.id);
  const uint64_t* v = t ? t->find(key.index) : nullptr;
  if (!v) return std::nullopt;
  return Shadow{*v >> 1, (*v & 1) != 0};
}

RefaultResult Workingset::refault(const ShadowKey& key, PageFrame& f, const LruVec& lru,
                                  bool swap_free, ScanCosts& costs) {
  RefaultResult r;
  Table* t = table(key.owner, key.id);
  if (!t) return r;
  const std::optional<uint64_t> packed = t->extract(key.index);
  if (!packed) return r;
  --shadows_;
  if (t->empty()) owners_.erase(owner_key(key.owner, key.id));

  r.refault = true;
  const bool file = f.test(FrameFlag::kFileLru);
  ++(file ? st_.refault_file : st_.refault_anon);

  const uint64_t eviction = *packed >> 1;
  const bool workingset = (*packed & 1) != 0;
  r.distance = age_ - eviction;
  // The pages the refaulting page competes with: those that would have had
  // to give way for it to stay (the active pages, and the other type's
  // lists where reclaim can reach them).
  uint64_t size = lru.size(LruList::kActiveFile);
  if (!file) size += lru.size(LruList::kInactiveFile);
  if (swap_free) {
    size += lru.size(LruList::kActiveAnon);
    if (file) size += lru.size(LruList::kInactiveAnon);
  }
  r.workingset_size = size;
  if (r.distance > size) return r;

  r.activate = true;
  f.set(FrameFlag::kActive);
  age_ += 1;
  ++(file ? st_.activate_file : st_.activate_anon);
  if (workingset) {
    r.restore = true;
    f.set(FrameFlag::kWorkingset);
    costs.note_refault(file, 1, lru.evictable());
    ++(file ? st_.restore_file : st_.restore_anon);
  }
  return r;
}

bool Workingset::forget(const ShadowKey& key) {
  Table* t = table(key.owner, key.id);
  if (!t || !t->erase(key.index)) return false;
  --shadows_;
  ++st_.shadows_dropped;
  if (t->empty()) owners_.erase(owner_key(key.owner, key.id));
  return true;
}

uint64_t Workingset::forget_range(ShadowOwner owner, uint32_t id, uint64_t first, uint64_t last) {
  Table* t = table(owner, id);
  if (!t || first > last) return 0;
  uint64_t dropped = 0;
  if (last - first < t->size()) {
    for (uint64_t i = first;; ++i) {
      if (i != Table::kEmptyKey && t->erase(i)) ++dropped;
      if (i == last) break;
    }
  } else {
    // Fewer shadows than indexes in the range: collect the keys first (the
    // table may not change during for_each), then erase them.
    std::vector<uint64_t> keys;
    t->for_each([&](uint64_t i, uint64_t) {
      if (i >= first && i <= last) keys.push_back(i);
    });
    for (uint64_t i : keys) t->erase(i);
    dropped = keys.size();
  }
  shadows_ -= dropped;
  st_.shadows_dropped += dropped;
  if (t->empty()) owners_.erase(owner_key(owner, id));
  return dropped;
}

uint64_t Workingset::forget_owner(ShadowOwner owner, uint32_t id) {
  const std::optional<std::unique_ptr<Table>> t = owners_.extract(owner_key(owner, id));
  if (!t) return 0;
  const uint64_t dropped = (*t)->size();
  shadows_ -= dropped;
  st_.shadows_dropped += dropped;
  return dropped;
}

void Workingset::visit_vmstat(StatVisitor& v) const {
  v.counter("workingset_refault_anon", "pages", "anon pages read back that left a shadow",
            st_.refault_anon);
  v.counter("workingset_refault_file", "pages", "file pages read back that left a shadow",
            st_.refault_file);
  v.counter("workingset_activate_anon", "pages",
            "anon refaults within the workingset size, activated at once", st_.activate_anon);
  v.counter("workingset_activate_file", "pages",
            "file refaults within the workingset size, activated at once", st_.activate_file);
  v.counter("workingset_restore_anon", "pages",
            "activated anon refaults that were active before eviction", st_.restore_anon);
  v.counter("workingset_restore_file", "pages",
            "activated file refaults that were active before eviction", st_.restore_file);
}

}  // namespace mmusim
