// File-backed faults (os-model.md §2.2): do_read_fault with fault-around,
// do_cow_fault (a private write), do_shared_fault (a shared write); a page
// not in the page cache waits for its read and the fault is retried
// (VM_FAULT_RETRY), which makes it major.
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {

KernelStep LinuxKernel::file_fault(FaultState& st, Process& p, const Vma& v, KernelServices& s) {
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(st.f.addr.value());
  const uint64_t index = v.pgoff_of(page);
  const bool write = st.f.kind == AccessKind::kWrite;
  // A private page (a COW copy) may be out on swap.
  if (auto e = swap_pte(mm, page)) return swap_fault(st, p, v, *e, s);
  // No description, or a file the cache does not know (size 0): no page
  // exists there (SIGBUS).
  if (!v.file || cache_.file_size(v.file->file_id) == 0) return segv(st, s, true);
  OpenFile& of = *v.file;
  const RaHint hint = (v.flags & vm::kRandRead)  ? RaHint::kRandom
                      : (v.flags & vm::kSeqRead) ? RaHint::kSequential
                                                 : RaHint::kNormal;
  PageTableLog log;
  const uint32_t nr = cfg_.file_cache.fault_around_pages;
  if (!write && nr > 1) {
    // do_fault_around(): the nr-aligned block of PTEs holding the fault,
    // clamped to the VMA and to the page table.
    const PagingModeInfo& mode = mm.table().mode();
    const auto ptrs = static_cast<uint32_t>(1U << mode.level[mode.levels - 1].bits);
    const uint64_t pte_off = (page / kPageBytes) % ptrs;
    const PageRange w =
        fault_around_window(index, v.pgoff, v.pgoff + v.pages() - 1, index - pte_off, nr, ptrs);
    std::vector<CachedPage> around;
    cache_.map_around(of, w.first, w.last, index, around, st.clk.t);
    uint64_t mapped = 0;
    for (const CachedPage& pg : around) {
      const uint64_t va = v.start + (pg.index - v.pgoff) * kPageBytes;
      // Not pte_none (present, or a swapped-out private copy): skipped.
      if (mm.table().lookup(LinearAddr(va)) || swap_pte(mm, va)) continue;
      if (mm.table().map(LinearAddr(va), pg.frame, PageSize::k4K, pte_flags(v, false, false),
                         &log) != MapResult::kOk) {
        continue;
      }
      map_file_page(mm, pg);
      ++mapped;
    }
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.fault_around_page * mapped);
    stats_.fault_around_pages += mapped;
  }
  // filemap_fault(): the page-cache lookup; a miss starts the read (a
  // request reaches the device once submitted) and the fault waits for it.
  st.clk.add(FaultTiming::kAlloc, cfg_.cost.page_cache_lookup);
  const FilePageResult r = cache_.fault_page(of, index, hint, st.clk.t + cfg_.cost.io_submit);
  if (r.ios > 0) st.clk.add(FaultTiming::kIoQueue, cfg_.cost.io_submit);
  if (r.major) ++stats_.pgmajfault;
  switch (r.status) {
    case FilePageResult::Status::kBeyondEof: charge_pt(st.clk, log, s); return segv(st, s, true);
    case FilePageResult::Status::kNoMemory:
      charge_pt(st.clk, log, s);
      return stop(st, "physical memory exhausted: no frame for a page-cache page");
    case FilePageResult::Status::kWait:
      charge_pt(st.clk, log, s);
      return wait_io(st, r.key, r.until, page);
    case FilePageResult::Status::kReady: break;
  }
  FaultClass cls = FaultClass::kFileMinor;
  MapResult mr = MapResult::kOk;
  if (write && !v.shared()) {
    // do_cow_fault(): a private copy of the file page.
    auto pfn = alloc_frame(st.clk, s, false);
    if (!pfn) return stop(st, "physical memory exhausted: no frame for a COW copy");
    st.clk.until(FaultTiming::kZeroCopy, s.copy_page(r.page.frame, *pfn, st.clk.t, cfg_.lines));
    new_anon_page(st.clk, *pfn, mm, v, page, cfg_.cost.cow_setup);
    mr = mm.table().map(LinearAddr(page), *pfn, PageSize::k4K, pte_flags(v, true, true), &log);
    if (mr == MapResult::kOk) {
      mm.rss.add_anon(1);
      if (Vma* real = mm.vmas().find(page)) real->anon_vma = true;
    }
    cls = FaultClass::kCowCopy;
  } else if (write) {
    // do_shared_fault(): page_mkwrite, dirty, a writable PTE.
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.wp_shared);
    cache_.set_dirty(v.file_id, index);
    st.balance = true;  // fault_dirty_shared_page
    mr = mm.table().map(LinearAddr(page), r.page.frame, PageSize::k4K, pte_flags(v, true, true),
                        &log);
    if (mr == MapResult::kOk) map_file_page(mm, r.page);
    cls = FaultClass::kSharedWrite;
  } else {
    // finish_fault(): read-only (private, or shared with write-notify).
    st.clk.add(FaultTiming::kPteInstall, cfg_.cost.file_map);
    mr = mm.table().map(LinearAddr(page), r.page.frame, PageSize::k4K, pte_flags(v, false, false),
                        &log);
    if (mr == MapResult::kOk) map_file_page(mm, r.page);
  }
  charge_pt(st.clk, log, s);
  if (mr != MapResult::kOk) {
    return stop(st, "cannot map the file page at linear address " + std::to_string(page) + ": " +
                        std::string(map_result_name(mr)));
  }
  return finish(st, st.retried ? FaultClass::kFileMajor : cls, s);
}

}  // namespace mmusim
