// Anonymous faults (os-model.md §2.1: do_anonymous_page, the zero page),
// shared anonymous memory (shmem), and write-protect faults (§2.4:
// do_wp_page: COW copy, COW reuse, write-notify on shared file pages).
#include "models/os/linux_kernel.h"

namespace mmusim {
namespace {

std::string map_error(MapResult r, uint64_t page) {
  return "cannot map the page at linear address " + std::to_string(page) + ": " +
         std::string(map_result_name(r));
}

}  // namespace

KernelStep LinuxKernel::anon_fault(FaultState& st, Process& p, const Vma& v, bool grew,
                                   KernelServices& s) {
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(st.f.addr.value());
  // Not present is not absent: the page may be out on swap.
  if (auto e = swap_pte(mm, page)) return swap_fault(st, p, v, *e, s);
  PageTableLog log;
  if (st.f.kind != AccessKind::kWrite) {
    // A read maps the shared zero page read-only (pte_mkspecial): no
    // allocation, no RSS.
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.zero_map);
    const MapResult r = mm.table().map(LinearAddr(page), zero_pfn_, PageSize::k4K,
                                       pte_flags(v, false, false), &log);
    charge_pt(st.clk, log, s);
    if (r != MapResult::kOk) return stop(st, map_error(r, page));
    return finish(st, grew ? FaultClass::kStackGrowth : FaultClass::kAnonZero, s);
  }
  // A write: a new zeroed frame, mapped writable, dirty and young.
  auto pfn = alloc_frame(st.clk, s, true);
  if (!pfn) return stop(st, "physical memory exhausted: no frame for an anonymous page");
  new_anon_page(st.clk, *pfn, mm, v, page, cfg_.cost.anon_setup);
  const MapResult r =
      mm.table().map(LinearAddr(page), *pfn, PageSize::k4K, pte_flags(v, true, true), &log);
  charge_pt(st.clk, log, s);
  if (r != MapResult::kOk) {
    free_frame(*pfn);
    return stop(st, map_error(r, page));
  }
  mm.rss.add_anon(1);
  if (Vma* real = mm.vmas().find(page)) real->anon_vma = true;
  return finish(st, grew ? FaultClass::kStackGrowth : FaultClass::kAnonWrite, s);
}

KernelStep LinuxKernel::handle_swap_fault(FaultState& st, uint64_t entry) {
  // do_swap_page() belongs to the swap model: until it exists, a swapped-out
  // page cannot come back and the run stops here.
  FaultOutcome o;
  o.action = FaultOutcome::Action::kStop;
  o.cls = FaultClass::kSwapMajor;
  o.resume = st.clk.t;
  o.timing = st.clk.timing;
  o.message = "page fault on a swapped-out page (process " + std::to_string(st.f.pid) +
              ", linear address " + std::to_string(page_down(st.f.addr.value())) +
              ", swap entry type " + std::to_string(swp_type(entry)) + " slot " +
              std::to_string(swp_offset(entry)) + "): swap-in is not modelled yet";
  return KernelStep::done(o);
}

KernelStep LinuxKernel::shmem_fault(FaultState& st, Process& p, const Vma& v, KernelServices& s) {
  // A tmpfs object: the page is found or allocated (zeroed) in the object,
  // then mapped; shmem has no write-notify, so a writable VMA maps it
  // writable at once. Fault-around is not modelled for shmem.
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(st.f.addr.value());
  const uint64_t off = v.pgoff_of(page);
  const bool write = st.f.kind == AccessKind::kWrite;
  st.clk.add(FaultTiming::kAlloc, cfg_.cost.page_cache_lookup);
  FaultClass cls = FaultClass::kFileMinor;
  Pfn pfn;
  auto it = v.shmem->pages.find(off);
  if (it != v.shmem->pages.end()) {
    pfn = it->second;
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.file_map);
  } else {
    auto f = alloc_frame(st.clk, s, true);
    if (!f) return stop(st, "physical memory exhausted: no frame for a shared anonymous page");
    pfn = *f;
    PageFrame& m = frames_.meta(pfn);
    m.set(FrameFlag::kSwapBacked);
    m.owner = v.shmem->id;
    m.index = off;
    v.shmem->pages.emplace(off, pfn);  // the object's reference is the allocation's
    ++stats_.nr_shmem;
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.anon_setup);
    cls = FaultClass::kAnonWrite;
  }
  PageTableLog log;
  const MapResult r = mm.table().map(LinearAddr(page), pfn, PageSize::k4K,
                                     pte_flags(v, (v.flags & vm::kWrite) != 0, write), &log);
  charge_pt(st.clk, log, s);
  if (r != MapResult::kOk) return stop(st, map_error(r, page));
  PageFrame& m = frames_.meta(pfn);
  ++m.refcount;
  ++m.mapcount;
  mm.rss.add_shmem(1);
  return finish(st, cls, s);
}

KernelStep LinuxKernel::wp_fault(FaultState& st, Process& p, const Vma& v, const Mapping& m,
                                 KernelServices& s) {
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(st.f.addr.value());
  PageTableLog log;
  const uint64_t upgraded = m.entry | pte::kRW | pte::kD | pte::kA;
  if (v.shared()) {
    // wp_page_shared(): write-notify; the page becomes dirty (page_mkwrite,
    // folio_mark_dirty) and the PTE writable. shmem has no dirty tracking.
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.wp_shared);
    if (v.kind == VmaKind::kFile) {
      cache_.set_dirty(v.file_id, v.pgoff_of(page));
      st.balance = true;  // fault_dirty_shared_page
    }
    mm.table().write_leaf_entry(LinearAddr(page), PageSize::k4K, upgraded, &log);
    charge_pt(st.clk, log, s);
    return finish(st, FaultClass::kSharedWrite, s);
  }
  const Pfn old = m.pfn;
  const bool from_zero = old == zero_pfn_;
  if (!from_zero) {
    const PageFrame& om = frames_.meta(old);
    // wp_can_reuse_anon_folio() first drops a swap-cache copy no swap PTE
    // shares (it would be stale after the write).
    if (om.test(FrameFlag::kSwapCache) && om.refcount == 2) swap_try_free(slot_of_.at(old.value()));
    if (om.test(FrameFlag::kAnon) && om.refcount == 1) {
      // wp_can_reuse_anon_folio(): the page is exclusive again (the other
      // side copied or exited): make it writable, no copy, no flush.
      st.clk.add(FaultTiming::kPteInstall, cfg_.cost.cow_reuse);
      mm.table().write_leaf_entry(LinearAddr(page), PageSize::k4K, upgraded, &log);
      charge_pt(st.clk, log, s);
      ++stats_.pgreuse;
      if (Vma* real = mm.vmas().find(page)) real->anon_vma = true;
      return finish(st, FaultClass::kCowReuse, s);
    }
  }
  // wp_page_copy(): a new page, copied (or zero-filled when the old one is
  // the zero page), the old PTE cleared and flushed, the new one installed.
  auto pfn = alloc_frame(st.clk, s, from_zero);
  if (!pfn) return stop(st, "physical memory exhausted: no frame for a COW copy");
  if (!from_zero)
    st.clk.until(FaultTiming::kZeroCopy, s.copy_page(old, *pfn, st.clk.t, cfg_.lines));
  new_anon_page(st.clk, *pfn, mm, v, page, cfg_.cost.cow_setup);
  mm.table().unmap(LinearAddr(page), &log);
  // ptep_clear_flush(): the faulting CPU's entry, and the other CPUs' that run
  // this address space.
  st.flush_page = true;
  st.clk.add(FaultTiming::kPteInstall, cfg_.cost.local_flush);
  ++stats_.local_flushes;
  Flush ignored;
  flush_range(mm, st.f.cpu, page, page + kPageBytes, st.clk, s, ignored, false);
  const MapResult r =
      mm.table().map(LinearAddr(page), *pfn, PageSize::k4K, pte_flags(v, true, true), &log);
  charge_pt(st.clk, log, s);
  if (r != MapResult::kOk) return stop(st, map_error(r, page));
  drop_page(mm, v, old, m.entry);
  mm.rss.add_anon(1);
  if (Vma* real = mm.vmas().find(page)) real->anon_vma = true;
  return finish(st, FaultClass::kCowCopy, s);
}

}  // namespace mmusim
