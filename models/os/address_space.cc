#include "models/os/address_space.h"

#include <algorithm>

namespace mmusim {

MmLayout mm_layout(PagingMode mode, uint64_t stack_rlimit_bytes) {
  MmLayout l;
  switch (mode) {
    case PagingMode::kOff:
    case PagingMode::k32Bit:
    case PagingMode::kPae:
      l.task_size = 0xC0000000ULL;  // PAGE_OFFSET of a 3G/1G 32-bit kernel
      l.map_window = l.task_size;
      break;
    case PagingMode::k4Level:
      l.task_size = (1ULL << 47) - kPageBytes;  // TASK_SIZE_MAX
      l.map_window = l.task_size;
      break;
    case PagingMode::k5Level:
      l.task_size = (1ULL << 56) - kPageBytes;   // TASK_SIZE_MAX with LA57
      l.map_window = (1ULL << 47) - kPageBytes;  // DEFAULT_MAP_WINDOW
      break;
  }
  // arch/x86/mm/mmap.c:mmap_base() without randomization.
  uint64_t gap = stack_rlimit_bytes;
  if (gap + l.stack_guard_gap > gap) gap += l.stack_guard_gap;
  const uint64_t gap_min = 128ULL << 20, gap_max = (l.map_window / 6) * 5;
  gap = std::clamp(gap, gap_min, gap_max);
  l.mmap_base = page_up(l.map_window - gap);
  l.legacy_base = page_up(l.map_window / 3);  // TASK_UNMAPPED_BASE
  return l;
}

CommitAccounting::CommitAccounting(const OvercommitConfig& c, uint64_t totalram_pages)
    : cfg_(c), totalram_(totalram_pages) {}

uint64_t CommitAccounting::commit_limit() const {
  // Any ratio is accepted (Linux takes any int): totalram x ratio / 100 is
  // computed as q x ratio + m x ratio / 100 (totalram = 100 q + m), exact and
  // without wrapping; a limit beyond 2^64 - 1 pages saturates there.
  constexpr uint64_t kMax = ~uint64_t{0};
  uint64_t base = cfg_.kbytes / 4;
  if (cfg_.kbytes == 0 &&
      (__builtin_mul_overflow(totalram_ / 100, uint64_t{cfg_.ratio}, &base) ||
       __builtin_add_overflow(base, totalram_ % 100 * cfg_.ratio / 100, &base))) {
    base = kMax;
  }
  uint64_t limit = 0;
  return __builtin_add_overflow(base, cfg_.swap_pages, &limit) ? kMax : limit;
}

bool CommitAccounting::charge(uint64_t pages, uint64_t total_vm) {
  committed_ += pages;  // vm_acct_memory() first, as Linux does
  if (cfg_.mode == 1) return true;
  if (cfg_.mode == 0) {
    if (pages > totalram_ + cfg_.swap_pages) {
      committed_ -= pages;
      return false;
    }
    return true;
  }
  auto allowed = static_cast<int64_t>(commit_limit());
  if (!cfg_.cap_sys_admin) allowed -= static_cast<int64_t>(cfg_.admin_reserve_kb / 4);
  allowed -= static_cast<int64_t>(std::min(total_vm / 32, cfg_.user_reserve_kb / 4));
  if (static_cast<int64_t>(committed_) < allowed) return true;
  committed_ -= pages;
  return false;
}

AddressSpace::AddressSpace(uint32_t id, PageTable table, const MmLayout& layout)
    : id_(id), table_(std::move(table)), layout_(layout) {}

bool AddressSpace::in_user_space(uint64_t start, uint64_t len) const {
  return len <= layout_.task_size && start <= layout_.task_size - len;
}

namespace {

// vm_start_gap(): a grows-down VMA keeps stack_guard_gap free below it.
uint64_t start_gap(const Vma& v, uint64_t guard) {
  if (!(v.flags & vm::kGrowsDown)) return v.start;
  return v.start > guard ? v.start - guard : 0;
}

}  // namespace

std::optional<uint64_t> AddressSpace::unmapped_area(uint64_t hint, uint64_t len) const {
  len = page_up(len);
  if (len == 0 || len > layout_.task_size) return std::nullopt;
  const uint64_t guard = layout_.stack_guard_gap;
  if (hint != 0) {
    const uint64_t a = page_down(hint);
    if (a >= layout_.mmap_min_addr && in_user_space(a, len)) {
      const Vma* next = vmas_.find_next(a);
      if (next == nullptr || a + len <= start_gap(*next, guard)) return a;
    }
  }
  // Top-down: the highest gap [prev.end, start_gap(next)) below mmap_base
  // (unmapped_area_topdown()).
  const uint64_t low = std::max<uint64_t>(layout_.mmap_min_addr, kPageBytes);
  const uint64_t high = hint > layout_.map_window && in_user_space(page_down(hint), len)
                            ? layout_.task_size
                            : layout_.mmap_base;
  const auto& all = vmas_.all();
  uint64_t top = high;  // the gap's end so far (a VMA above may lower it)
  auto it = all.lower_bound(high);
  // The first VMA at or above `high` may still reach below it with its gap.
  if (it != all.end()) top = std::min(top, start_gap(it->second, guard));
  while (true) {
    const Vma* prev = it == all.begin() ? nullptr : &std::prev(it)->second;
    const uint64_t bottom = std::max(low, prev != nullptr ? prev->end : 0);
    if (top > bottom && top - bottom >= len) return top - len;
    if (prev == nullptr) break;
    --it;
    top = std::min(high, start_gap(*prev, guard));
  }
  // Bottom-up fallback from legacy_base (arch_get_unmapped_area()).
  uint64_t bottom = layout_.legacy_base;
  for (const auto& [s, v] : all) {
    if (v.end <= bottom) continue;
    const uint64_t gap_top = start_gap(v, guard);
    if (gap_top > bottom && gap_top - bottom >= len) return bottom;
    bottom = std::max(bottom, v.end);
  }
  if (in_user_space(bottom, len) && bottom + len <= layout_.map_window) return bottom;
  return std::nullopt;
}

std::optional<Vma> AddressSpace::implicit_vma(uint64_t addr) const {
  if (!implicit_anon || addr >= layout_.task_size) return std::nullopt;
  Vma v;
  const Vma* prev = vmas_.find_prev(addr + 1);
  const Vma* next = vmas_.find_next(addr);
  v.start = prev != nullptr && prev->end <= addr ? prev->end : 0;
  v.end = next != nullptr ? next->start : layout_.task_size;
  v.flags = vm::kRead | vm::kWrite | vm::kExec | vm::kMayRead | vm::kMayWrite | vm::kMayExec;
  v.kind = VmaKind::kAnon;
  v.pgoff = v.start / kPageBytes;
  v.anon_vma = true;
  return v;
}

}  // namespace mmusim
