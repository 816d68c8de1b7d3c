#include "models/os/vma.h"

#include <iterator>
#include <stdexcept>

#include "models/common/os_event.h"

namespace mmusim {

uint64_t vm_flags_for(uint32_t prot, bool shared, bool may_write_shared) {
  // calc_vm_prot_bits() plus the VM_MAY* bits do_mmap() adds; a shared
  // mapping of a file opened without write access loses VM_SHARED and
  // VM_MAYWRITE (it cannot become writable).
  uint64_t f = 0;
  if (prot & linux_abi::kProtRead) f |= vm::kRead;
  if (prot & linux_abi::kProtWrite) f |= vm::kWrite;
  if (prot & linux_abi::kProtExec) f |= vm::kExec;
  f |= vm::kMayRead | vm::kMayWrite | vm::kMayExec;
  if (shared) {
    f |= vm::kShared | vm::kMayShare;
    if (!may_write_shared) f &= ~(vm::kMayWrite | vm::kShared);
  }
  return f;
}

uint32_t prot_of(uint64_t flags) {
  uint32_t p = 0;
  if (flags & vm::kRead) p |= linux_abi::kProtRead;
  if (flags & vm::kWrite) p |= linux_abi::kProtWrite;
  if (flags & vm::kExec) p |= linux_abi::kProtExec;
  return p;
}

bool can_merge(const Vma& a, const Vma& b) {
  return a.end == b.start && a.flags == b.flags && a.kind == b.kind && a.file == b.file &&
         a.shmem == b.shmem && a.file_id == b.file_id && a.pgoff + a.pages() == b.pgoff &&
         a.max_size == b.max_size;
}

std::optional<uint64_t> backing_key(const Vma& v) {
  if (v.kind == VmaKind::kFile) return kBackingFile | v.file_id;
  if (v.kind == VmaKind::kShmem && v.shmem) return kBackingShmem | v.shmem->id;
  return std::nullopt;
}

void VmaTree::count(const Vma& v, int d) {
  const auto key = backing_key(v);
  if (!key) return;
  uint32_t& n = backing_[*key];
  if (d > 0) {
    if (n++ == 0 && hook_) hook_(*key, true);
  } else if (n > 0 && --n == 0) {
    backing_.erase(*key);
    if (hook_) hook_(*key, false);
  }
}

void VmaTree::clear() {
  map_.clear();
  const std::map<uint64_t, uint32_t> gone = std::move(backing_);
  backing_.clear();
  if (hook_) {
    for (const auto& [key, n] : gone) hook_(key, false);
  }
}

const Vma* VmaTree::find(uint64_t addr) const {
  auto it = map_.upper_bound(addr);
  if (it == map_.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

Vma* VmaTree::find(uint64_t addr) {
  return const_cast<Vma*>(static_cast<const VmaTree*>(this)->find(addr));
}

const Vma* VmaTree::find_next(uint64_t addr) const {
  if (const Vma* v = find(addr)) return v;
  auto it = map_.upper_bound(addr);
  return it == map_.end() ? nullptr : &it->second;
}

const Vma* VmaTree::find_prev(uint64_t addr) const {
  auto it = map_.lower_bound(addr);
  if (it == map_.begin()) return nullptr;
  return &std::prev(it)->second;
}

bool VmaTree::is_free(uint64_t start, uint64_t end) const {
  const Vma* v = find_next(start);
  return v == nullptr || v->start >= end;
}

void VmaTree::insert(Vma v) {
  if (v.start >= v.end || !is_free(v.start, v.end)) {
    throw std::logic_error("VmaTree::insert: empty or overlapping VMA");
  }
  const uint64_t s = v.start;
  count(map_.emplace(s, std::move(v)).first->second, +1);
}

bool VmaTree::split(uint64_t addr) {
  Vma* v = find(addr);
  if (v == nullptr || v->start == addr) return false;
  Vma hi = *v;
  hi.start = addr;
  hi.pgoff = v->pgoff_of(addr);
  v->end = addr;
  count(map_.emplace(addr, std::move(hi)).first->second, +1);
  return true;
}

std::vector<Vma> VmaTree::remove_range(uint64_t start, uint64_t end) {
  std::vector<Vma> out;
  if (start >= end) return out;
  split(start);
  split(end);
  auto it = map_.lower_bound(start);
  while (it != map_.end() && it->second.start < end) {
    count(it->second, -1);
    out.push_back(std::move(it->second));
    it = map_.erase(it);
  }
  return out;
}

void VmaTree::for_range(uint64_t start, uint64_t end, const std::function<void(Vma&)>& f) {
  if (start >= end) return;
  split(start);
  split(end);
  for (auto it = map_.lower_bound(start); it != map_.end() && it->second.start < end; ++it) {
    f(it->second);
  }
}

std::vector<const Vma*> VmaTree::overlapping(uint64_t start, uint64_t end) const {
  std::vector<const Vma*> out;
  for (const Vma* v = find_next(start); v != nullptr && v->start < end;) {
    out.push_back(v);
    auto it = map_.upper_bound(v->start);
    v = it == map_.end() ? nullptr : &it->second;
  }
  return out;
}

bool VmaTree::merge_at(uint64_t addr) {
  auto hi = map_.find(addr);
  if (hi == map_.end() || hi == map_.begin()) return false;
  auto lo = std::prev(hi);
  Vma& a = lo->second;
  const Vma& b = hi->second;
  if (!can_merge(a, b)) return false;
  a.end = b.end;
  a.anon_vma = a.anon_vma || b.anon_vma;
  count(b, -1);
  map_.erase(hi);
  return true;
}

uint64_t VmaTree::merge_range(uint64_t start, uint64_t end) {
  uint64_t merged = 0;
  // Boundaries inside [start, end], plus the VMA starting at `end`.
  std::vector<uint64_t> bounds;
  for (auto it = map_.lower_bound(start); it != map_.end() && it->first <= end; ++it) {
    bounds.push_back(it->first);
  }
  for (uint64_t b : bounds) merged += merge_at(b) ? 1 : 0;
  return merged;
}

unsigned VmaTree::depth() const {
  unsigned d = 1;
  for (uint64_t cap = 16; cap < map_.size(); cap *= 16) ++d;
  return d;
}

uint64_t VmaTree::total_pages() const {
  uint64_t n = 0;
  for (const auto& [s, v] : map_) n += v.pages();
  return n;
}

}  // namespace mmusim
