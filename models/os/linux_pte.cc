// The Linux model's page-table work: leaf flags, timing of what a page-table
// operation logged, enumerating present PTEs, zapping them (zap_pte_range,
// os-model.md §2.7), frame allocation and release, TLB flushes.
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {

uint64_t LinuxKernel::pte_flags(const Vma& v, bool writable, bool dirty) {
  uint64_t fl = pte::kUS | pte::kA;  // young on x86 (os-model.md §2.2)
  if (writable) fl |= pte::kRW;
  if (dirty) fl |= pte::kD;
  if (!(v.flags & vm::kExec)) fl |= pte::kXD;
  // PROT_NONE: the page stays mapped but user accesses fault (Linux uses a
  // non-present PROTNONE entry; a supervisor-only entry faults the same way).
  if (!(v.flags & vm::kAccessFlags)) fl &= ~(pte::kUS | pte::kRW);
  return fl;
}

void LinuxKernel::charge_pt(Clock& clk, PageTableLog& log, KernelServices& s) {
  for (Pfn t : log.tables_allocated) {
    clk.add(FaultTiming::kAlloc, cfg_.cost.page_alloc);
    clk.until(FaultTiming::kAlloc, s.zero_page(t, clk.t, cfg_.lines));
    ++stats_.tables_allocated;
  }
  for (size_t i = 0; i < log.tables_freed.size(); ++i) {
    clk.add(FaultTiming::kAlloc, cfg_.cost.page_free);
    ++stats_.tables_freed;
  }
  // Inline up to 16 lines (a fault's few PTE writes): no allocation.
  boost::container::small_vector<uint64_t, 16> lines;
  lines.reserve(log.writes.size());
  for (PhysAddr w : log.writes) lines.push_back(w.value() & ~uint64_t{63});
  if (lines.size() <= 16) {
    boost::container::small_vector<uint64_t, 16> uniq;
    for (uint64_t l : lines) {
      if (std::find(uniq.begin(), uniq.end(), l) == uniq.end()) uniq.push_back(l);
    }
    lines.swap(uniq);
  } else {
    std::sort(lines.begin(), lines.end());
    lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  }
  clk.until(FaultTiming::kPteInstall, s.write_lines(lines.data(), lines.size(), clk.t, cfg_.lines));
  stats_.pte_lines += lines.size();
  log.clear();
}

namespace {

// Present leaves into `out`; with `swap`, the non-zero non-present entries
// of the last level (swap entries) into it.
void walk_leaves(const PagingModeInfo& m, const PhysMem& mem, uint64_t table, unsigned l,
                 uint64_t base, uint64_t first, uint64_t last,
                 std::vector<std::pair<uint64_t, uint64_t>>& out,
                 std::vector<std::pair<uint64_t, uint64_t>>* swap) {
  const PagingLevel& lv = m.level[l];
  const uint64_t n = uint64_t{1} << lv.bits;
  const uint64_t i0 = first <= base ? 0 : (first - base) >> lv.shift;
  const uint64_t i1 = std::min(n - 1, (last - base) >> lv.shift);
  for (uint64_t i = i0; i <= i1; ++i) {
    const uint64_t e = mem.read_entry(PhysAddr(table + i * m.entry_bytes), m.entry_bytes);
    const uint64_t va = base + (i << lv.shift);
    if (!(e & pte::kP)) {
      if (swap != nullptr && e != 0 && l + 1 == m.levels) swap->emplace_back(va, e);
      continue;
    }
    const bool leaf = l + 1 == m.levels || (lv.may_be_leaf && (e & pte::kPS));
    if (leaf) {
      out.emplace_back(va, e);
    } else {
      walk_leaves(m, mem, entry_address(m, l, e, false), l + 1, va, first, last, out, swap);
    }
  }
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> LinuxKernel::present_ptes(const AddressSpace& mm,
                                                                     uint64_t start,
                                                                     uint64_t end) const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const PageTable& t = mm.table();
  if (!t.alive() || start >= end) return out;
  end = std::min(end, t.user_end());
  if (start >= end) return out;
  walk_leaves(t.mode(), mem_, t.root().value(), 0, 0, start, end - 1, out, nullptr);
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> LinuxKernel::leaf_ptes(
    const AddressSpace& mm, uint64_t start, uint64_t end,
    std::vector<std::pair<uint64_t, uint64_t>>& swap) const {
  if (mm.rss.swapents == 0) return present_ptes(mm, start, end);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const PageTable& t = mm.table();
  if (!t.alive() || start >= end) return out;
  end = std::min(end, t.user_end());
  if (start >= end) return out;
  walk_leaves(t.mode(), mem_, t.root().value(), 0, 0, start, end - 1, out, &swap);
  return out;
}

std::optional<uint64_t> LinuxKernel::swap_pte(const AddressSpace& mm, uint64_t page) const {
  const PageTable& t = mm.table();
  if (mm.rss.swapents == 0 || !t.alive() || page >= t.user_end()) return std::nullopt;
  const PagingModeInfo& m = t.mode();
  uint64_t table = t.root().value();
  for (unsigned l = 0; l < m.levels; ++l) {
    const uint64_t e = mem_.read_entry(
        PhysAddr(table + uint64_t{level_index(m, l, LinearAddr(page))} * m.entry_bytes),
        m.entry_bytes);
    if (l + 1 == m.levels) return pte_to_swp_entry(m, e);
    if (!(e & pte::kP) || (m.level[l].may_be_leaf && (e & pte::kPS))) return std::nullopt;
    table = entry_address(m, l, e, false);
  }
  return std::nullopt;
}

void LinuxKernel::free_frame(Pfn pfn) {
  const PageFrame& m = frames_.meta(pfn);
  if (m.test(FrameFlag::kLru)) reclaim_->lru_del(pfn);
  if (m.test(FrameFlag::kAnon)) {
    --stats_.nr_anon_pages;
  } else if (m.test(FrameFlag::kSwapBacked)) {
    --stats_.nr_shmem;
  }
  mem_.release(pfn);
  frames_.free(pfn, 0U);
  ++stats_.pgfree;
}

std::optional<Pfn> LinuxKernel::alloc_frame(Clock& clk, KernelServices& s, bool zero) {
  clk.add(FaultTiming::kAlloc, cfg_.cost.page_alloc);
  auto pfn = frames_.allocate(0U);
  if (!pfn) return std::nullopt;
  ++stats_.pgalloc;
  mem_.release(*pfn);  // a recycled frame holds no stale contents
  if (zero) clk.until(FaultTiming::kZeroCopy, s.zero_page(*pfn, clk.t, cfg_.lines));
  return pfn;
}

void LinuxKernel::new_anon_page(Clock& clk, Pfn pfn, AddressSpace& mm, const Vma& v, uint64_t page,
                                Cycles setup) {
  rmap_attach(mm);
  PageFrame& m = frames_.meta(pfn);
  m.set(FrameFlag::kAnon);
  m.set(FrameFlag::kSwapBacked);
  m.owner = mm.anon_family;
  m.index = v.pgoff_of(page);  // linear_page_index(): stays right when mremap moves the VMA
  m.mapcount = 1;
  ++stats_.nr_anon_pages;
  lru_add_anon(pfn);  // folio_add_lru_vma: the inactive anon list
  clk.add(FaultTiming::kPteInstall, setup);
}

void LinuxKernel::map_file_page(AddressSpace& mm, const CachedPage& page) {
  cache_.get(page);
  if (frames_.meta(page.frame).mapcount == 1) ++stats_.nr_mapped;
  mm.rss.add_file(1);
}

void LinuxKernel::drop_page(AddressSpace& mm, const Vma& v, Pfn pfn, uint64_t e) {
  if (pfn == zero_pfn_) return;
  PageFrame& m = frames_.meta(pfn);
  if (m.test(FrameFlag::kAnon)) {
    mm.rss.add_anon(-1);
    --m.mapcount;
    if (--m.refcount == 0) free_frame(pfn);
  } else if (v.kind == VmaKind::kShmem) {
    mm.rss.add_shmem(-1);
    --m.mapcount;
    if (--m.refcount == 0) free_frame(pfn);
  } else {
    // A page-cache page: a dirty PTE of a shared mapping dirties the page
    // (munmap never writes it back, os-model.md "Corrections").
    if ((e & pte::kD) && v.shared()) cache_.set_dirty(v.file_id, m.index);
    mm.rss.add_file(-1);
    if (m.mapcount == 1) --stats_.nr_mapped;
    cache_.put(CachedPage{m.index, pfn});
  }
}

uint64_t LinuxKernel::zap(AddressSpace& mm, const Vma& v, uint64_t start, uint64_t end,
                          PageTableLog& log) {
  std::vector<std::pair<uint64_t, uint64_t>> swap;
  const auto ptes = leaf_ptes(mm, std::max(start, v.start), std::min(end, v.end), swap);
  for (const auto& [va, e] : ptes) {
    auto old = mm.table().unmap(LinearAddr(va), &log);
    if (!old) continue;
    drop_page(mm, v, old->pfn, e);
  }
  // Swap entries go too (releasing their slots, free_swap_and_cache, is the
  // swap model's).
  for (const auto& [va, e] : swap) {
    mm.table().write_leaf_entry(LinearAddr(va), PageSize::k4K, 0, &log);
    --mm.rss.swapents;
    if (auto se = pte_to_swp_entry(mm.table().mode(), e)) swap_put(*se);
  }
  return ptes.size() + swap.size();
}

void LinuxKernel::merge_flush(Flush& into, const Flush& f) {
  if (f.kind == Flush::Kind::kNone) return;
  if (into.kind == Flush::Kind::kNone) {
    into = f;
    return;
  }
  if (into.kind == Flush::Kind::kPages && f.kind == Flush::Kind::kPages) {
    const uint64_t a0 = into.start.value(), a1 = a0 + into.pages * kPageBytes;
    const uint64_t b0 = f.start.value(), b1 = b0 + f.pages * kPageBytes;
    const uint64_t lo = std::min(a0, b0), hi = std::max(a1, b1);
    if (hi - lo <= 33 * kPageBytes) {
      into.start = LinearAddr(lo);
      into.pages = (hi - lo) / kPageBytes;
      return;
    }
  }
  into.kind = Flush::Kind::kPcid;
  into.pages = 0;
}

void LinuxKernel::flush_range(const AddressSpace& mm, uint32_t self_cpu, uint64_t start,
                              uint64_t end, Clock& clk, KernelServices& s, Flush& fl, bool local) {
  const uint64_t pages = (end - start) / kPageBytes;
  if (pages == 0) return;
  if (local) {
    Flush f;
    // tlb_single_page_flush_ceiling: above 33 pages Linux flushes everything.
    if (pages <= 33) {
      f.kind = Flush::Kind::kPages;
      f.start = LinearAddr(start);
      f.pages = pages;
    } else {
      f.kind = Flush::Kind::kPcid;
    }
    merge_flush(fl, f);
    clk.add(FaultTiming::kPteInstall, cfg_.cost.local_flush);
    ++stats_.local_flushes;
  }
  Shootdown sd;
  sd.kind = pages == 1 ? Shootdown::Kind::kPage : Shootdown::Kind::kPcid;
  sd.addr = LinearAddr(start);
  sd.reclaim = reclaim_unmap_;
  for (const auto& [pid, q] : procs_) {
    if (q.mm.get() != &mm || q.state != Process::State::kRunning) continue;
    sd.pcid = pcid_of(pid);
    sd.at = clk.t;
    clk.until(FaultTiming::kShootdown, s.shootdown(sd, pid, self_cpu));
    ++stats_.shootdowns;
  }
}

uint64_t LinuxKernel::new_key(uint8_t kind, uint64_t v) {
  return (uint64_t{1} << 63) | (uint64_t{kind} << 56) | (v & ((uint64_t{1} << 56) - 1));
}
uint64_t LinuxKernel::child_key(uint32_t pid) {
  return (uint64_t{1} << 63) | (uint64_t{2} << 56) | pid;
}
uint64_t LinuxKernel::vfork_key(uint32_t pid) {
  return (uint64_t{1} << 63) | (uint64_t{3} << 56) | pid;
}

Asid LinuxKernel::pcid_of(uint32_t pid) const {
  auto it = pcid_.find(pid);
  return it == pcid_.end() ? Asid(0) : it->second;
}

}  // namespace mmusim
