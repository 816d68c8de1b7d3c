// The memory-mapping calls of the Linux model (os-model.md §2.6-§2.8):
// VMA_INIT (the loader's image), mmap, munmap, mprotect, mremap, brk,
// madvise, msync. A call that failed in the recording fails here (nothing
// changes); a recorded success the model would refuse is counted as a
// divergence (with its reason) and applied as recorded where possible.
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {
namespace {

bool recorded_failure(int64_t ret) { return ret < 0; }

}  // namespace

KernelStep LinuxKernel::ev_vma_init(const OsEvent& e, const VmaInitEvent& b, Clock& /*clk*/) {
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  const uint64_t start = page_down(b.start), end = page_up(b.end);
  if (start >= end || !mm.in_user_space(start, end - start) || end > mm.table().user_end()) {
    diverge("vma_init_out_of_range");
    return KernelStep::done(FaultOutcome{});
  }
  if (!mm.vmas().is_free(start, end)) {
    diverge("vma_init_overlap");
    mm.vmas().remove_range(start, end);
  }
  Vma v;
  v.start = start;
  v.end = end;
  v.flags = vm_flags_for(b.prot, b.shared);
  v.pgoff = start / kPageBytes;
  switch (b.kind) {
    case VmaInitEvent::Kind::kFile: {
      v.kind = VmaKind::kFile;
      v.file_id = b.file_id;
      v.pgoff = b.offset / kPageBytes;
      ensure_file(b.file_id);
      auto& of = p.loader_files[b.file_id];
      if (!of) {
        of = std::make_shared<OpenFile>();
        of->file_id = b.file_id;
        of->flags = b.shared ? linux_abi::kORdWr : linux_abi::kORdOnly;
      }
      v.file = of;
      break;
    }
    case VmaInitEvent::Kind::kAnon: v.kind = VmaKind::kAnon; break;
    case VmaInitEvent::Kind::kBrk:
      v.kind = VmaKind::kBrk;
      mm.start_brk = start;
      mm.brk = end;
      break;
    case VmaInitEvent::Kind::kStack:
      v.kind = VmaKind::kStack;
      v.flags |= vm::kGrowsDown;
      if (b.max_size != 0) mm.stack_rlimit = b.max_size;
      break;
    case VmaInitEvent::Kind::kVdso: v.kind = VmaKind::kVdso; break;
  }
  if (b.grows_down) v.flags |= vm::kGrowsDown;
  v.max_size = b.max_size;
  if (b.shared && b.kind != VmaInitEvent::Kind::kFile) {
    v.kind = VmaKind::kShmem;
    v.shmem = std::make_shared<ShmemObject>();
    v.shmem->id = next_shmem_++;
    v.pgoff = 0;
  }
  if ((v.flags & vm::kWrite) && !(v.flags & vm::kShared)) {
    v.flags |= vm::kAccount;
    commit_.force(v.pages());  // the loader's image was accounted when it was built
  }
  rmap_attach(mm);
  mm.vmas().insert(std::move(v));
  return KernelStep::done(FaultOutcome{});
}

void LinuxKernel::unmap_range(Process& p, uint64_t start, uint64_t end, Clock& clk,
                              KernelServices& s, Flush& fl) {
  AddressSpace& mm = *p.mm;
  if (start >= end) return;
  PageTableLog log;
  std::vector<Vma> gone = mm.vmas().remove_range(start, end);
  uint64_t zapped = 0, charged = 0;
  std::vector<std::shared_ptr<ShmemObject>> objs;
  for (const Vma& v : gone) {
    zapped += zap(mm, v, v.start, v.end, log);
    if (v.accounted()) charged += v.pages();
    if (v.shmem) objs.push_back(v.shmem);
  }
  if (mm.implicit_anon) {
    // Pages of the implicit anonymous memory in the range.
    std::optional<Vma> imp = mm.implicit_vma(start);
    Vma anon;
    anon.start = start;
    anon.end = end;
    zapped += zap(mm, imp ? *imp : anon, start, end, log);
  }
  gone.clear();
  release_shmem(objs);
  commit_.uncharge(charged);
  mm.table().free_empty_tables(LinearAddr(start), LinearAddr(end), &log);
  clk.add(FaultTiming::kPteInstall, cfg_.cost.zap_pte * zapped);
  charge_pt(clk, log, s);
  if (zapped > 0) flush_range(mm, cpu_, start, end, clk, s, fl, true);
}

KernelStep LinuxKernel::ev_mmap(const OsEvent& e, const MmapEvent& b, Clock& clk, KernelServices& s,
                                Flush& fl) {
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.mmap);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const bool recorded = b.ret > 0;
  const uint64_t len = page_up(b.len);
  const bool anon = (b.flags & linux_abi::kMapAnonymous) != 0;
  const uint32_t type = b.flags & linux_abi::kMapTypeMask;
  const bool shared = type == linux_abi::kMapShared || type == linux_abi::kMapSharedValidate;
  if (len == 0) {
    if (recorded) diverge("mmap_bad_length");
    return KernelStep::done(FaultOutcome{});
  }
  std::shared_ptr<OpenFile> of;
  if (!anon) {
    auto it = p.fds.find(b.fd);
    if (it != p.fds.end()) {
      of = it->second;
      if (b.file_id != 0 && b.file_id != of->file_id) diverge("mmap_file_id_mismatch");
    } else {
      // A descriptor the trace never opened: a description of its own.
      diverge("mmap_fd_not_open");
      of = std::make_shared<OpenFile>();
      of->file_id = b.file_id;
      of->flags = linux_abi::kORdWr;
    }
    ensure_file(of->file_id);
  }
  uint64_t flags = vm_flags_for(b.prot, shared,
                                anon || (of->flags & linux_abi::kOAccMode) != linux_abi::kORdOnly);
  if (b.flags & linux_abi::kMapGrowsDown) flags |= vm::kGrowsDown;
  if (b.flags & linux_abi::kMapLocked) flags |= vm::kLocked;
  if ((b.flags & linux_abi::kMapNoReserve) && commit_.config().mode != 2) {
    flags |= vm::kNoReserve;
  }
  // Placement.
  uint64_t addr = 0;
  const bool fixed = (b.flags & (linux_abi::kMapFixed | linux_abi::kMapFixedNoReplace)) != 0;
  if (recorded) {
    addr = static_cast<uint64_t>(b.ret);
    if (addr % kPageBytes != 0 || !mm.in_user_space(addr, len)) {
      diverge("mmap_beyond_task_size");
      if (addr % kPageBytes != 0 || addr + len > mm.table().user_end() || addr + len < addr) {
        return KernelStep::done(FaultOutcome{});  // cannot be mapped at all
      }
    }
    if (!mm.vmas().is_free(addr, addr + len) && !(b.flags & linux_abi::kMapFixed)) {
      diverge("mmap_overlap");
    }
  } else if (fixed) {
    addr = page_down(b.addr);
    if (!mm.in_user_space(addr, len) || addr < mm.layout().mmap_min_addr ||
        ((b.flags & linux_abi::kMapFixedNoReplace) && !mm.vmas().is_free(addr, addr + len))) {
      return KernelStep::done(FaultOutcome{});  // -EINVAL / -EEXIST / -ENOMEM
    }
  } else {
    auto a = mm.unmapped_area(b.addr, len);
    if (!a) return KernelStep::done(FaultOutcome{});  // -ENOMEM
    addr = *a;
  }
  // Accounting (os-model.md §1.8): private writable, not NORESERVE.
  if ((flags & vm::kWrite) && !(flags & (vm::kShared | vm::kNoReserve))) {
    const uint64_t pages = len / kPageBytes;
    if (!commit_.charge(pages, mm.vmas().total_pages())) {
      if (!recorded) return KernelStep::done(FaultOutcome{});
      diverge("mmap_overcommit");
      commit_.force(pages);
    }
    flags |= vm::kAccount;
  }
  // MAP_FIXED semantics: whatever is there goes.
  if (!mm.vmas().is_free(addr, addr + len)) unmap_range(p, addr, addr + len, clk, s, fl);
  Vma v;
  v.start = addr;
  v.end = addr + len;
  v.flags = flags;
  if (anon && shared) {
    v.kind = VmaKind::kShmem;
    v.shmem = std::make_shared<ShmemObject>();
    v.shmem->id = next_shmem_++;
    v.pgoff = 0;
  } else if (anon) {
    v.kind = (flags & vm::kGrowsDown) ? VmaKind::kStack : VmaKind::kAnon;
    v.pgoff = addr / kPageBytes;
  } else {
    v.kind = VmaKind::kFile;
    v.file_id = of->file_id;
    v.pgoff = b.offset / kPageBytes;
    v.file = of;
  }
  rmap_attach(mm);
  mm.vmas().insert(std::move(v));
  mm.vmas().merge_range(addr, addr + len);
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_munmap(const OsEvent& e, const MunmapEvent& b, Clock& clk,
                                  KernelServices& s, Flush& fl) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.munmap);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  if (b.addr % kPageBytes != 0 || b.len == 0) {
    diverge("munmap_bad_range");
    return KernelStep::done(FaultOutcome{});
  }
  unmap_range(p, b.addr, b.addr + page_up(b.len), clk, s, fl);
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_mprotect(const OsEvent& e, const MprotectEvent& b, Clock& clk,
                                    KernelServices& s, Flush& fl) {
  // mm/mprotect.c:mprotect_fixup() and change_protection() (os-model.md §2.7).
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.mprotect);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const uint64_t start = b.addr, end = b.addr + page_up(b.len);
  if (start % kPageBytes != 0 || start >= end) {
    diverge("mprotect_bad_range");
    return KernelStep::done(FaultOutcome{});
  }
  // Every page must be mapped (-ENOMEM) and the new rights allowed by the
  // VM_MAY* bits (-EACCES).
  uint64_t covered = 0;
  bool denied = false;
  const uint64_t want = vm_flags_for(b.prot, false) & vm::kAccessFlags;
  for (const Vma* v : mm.vmas().overlapping(start, end)) {
    covered += std::min(end, v->end) - std::max(start, v->start);
    if (want & ~(v->flags >> 4) & vm::kAccessFlags) denied = true;
  }
  if (covered != end - start) diverge("mprotect_unmapped");
  if (denied) diverge("mprotect_denied");
  uint64_t vmas = 0;
  mm.vmas().for_range(start, end, [&](Vma& v) {
    ++vmas;
    uint64_t nf = (v.flags & ~vm::kAccessFlags) | want;
    if ((nf & vm::kWrite) &&
        !(v.flags & (vm::kAccount | vm::kWrite | vm::kShared | vm::kNoReserve))) {
      if (!commit_.charge(v.pages(), mm.vmas().total_pages())) {
        diverge("mprotect_overcommit");
        commit_.force(v.pages());
      }
      nf |= vm::kAccount;
    } else if (!(nf & vm::kWrite) && (v.flags & vm::kAccount) && v.is_anon() && !v.anon_vma) {
      commit_.uncharge(v.pages());
      nf &= ~vm::kAccount;
    }
    v.flags = nf;
  });
  // Rewrite the PTEs: the new rights, writable only where the write fault
  // would make it so at once (can_change_pte_writable): an exclusive
  // anonymous page of a private mapping, a dirty page of a shared one;
  // shmem has no write-notify.
  PageTableLog log;
  uint64_t changed = 0;
  bool lost = false;
  for (const auto& [va, e0] : present_ptes(mm, start, end)) {
    const Vma* v = mm.vmas().find(va);
    if (v == nullptr) continue;
    const Pfn pfn = mm.table().lookup(LinearAddr(va))->pfn;
    bool writable = false;
    if ((v->flags & vm::kWrite) && pfn != zero_pfn_) {
      if (v->kind == VmaKind::kShmem) {
        writable = true;
      } else if (v->shared()) {
        writable = (e0 & pte::kD) != 0;
      } else {
        const PageFrame& m = frames_.meta(pfn);
        writable = m.test(FrameFlag::kAnon) && m.refcount == 1;
      }
    }
    const uint64_t bits = pte::kRW | pte::kUS | pte::kXD;
    const uint64_t nb = pte_flags(*v, writable, false) & bits;
    uint64_t ne = (e0 & ~bits) | nb;
    if (mm.table().mode().entry_bytes == 4 || !mm.table().mode().has_xd) ne &= ~pte::kXD;
    if (ne == e0) continue;
    if (((e0 & pte::kRW) && !(ne & pte::kRW)) || ((e0 & pte::kUS) && !(ne & pte::kUS)) ||
        (!(e0 & pte::kXD) && (ne & pte::kXD))) {
      lost = true;
    }
    mm.table().write_leaf_entry(LinearAddr(va), PageSize::k4K, ne, &log);
    ++changed;
  }
  mm.vmas().merge_range(start, end);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.vma_op * (vmas > 0 ? vmas - 1 : 0));
  clk.add(FaultTiming::kPteInstall, cfg_.cost.change_pte * changed);
  charge_pt(clk, log, s);
  if (lost) flush_range(mm, cpu_, start, end, clk, s, fl, true);
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_mremap(const OsEvent& e, const MremapEvent& b, Clock& clk,
                                  KernelServices& s, Flush& fl) {
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.mremap);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const uint64_t oa = b.old_addr, old_len = page_up(b.old_len), new_len = page_up(b.new_len);
  const Vma* v0 = mm.vmas().find(oa);
  if (oa % kPageBytes != 0 || new_len == 0 || v0 == nullptr) {
    diverge("mremap_no_vma");
    return KernelStep::done(FaultOutcome{});
  }
  if (old_len > new_len) {  // shrink: the tail goes first
    unmap_range(p, oa + new_len, oa + old_len, clk, s, fl);
  }
  const uint64_t kept = std::min(old_len, new_len);
  uint64_t target = oa;
  if (b.ret > 0) {
    target = static_cast<uint64_t>(b.ret);
  } else if (b.flags & linux_abi::kMremapFixed) {
    target = b.new_addr;
  } else if (new_len > old_len && !mm.vmas().is_free(oa + old_len, oa + new_len)) {
    if (!(b.flags & linux_abi::kMremapMayMove)) return KernelStep::done(FaultOutcome{});
    auto a = mm.unmapped_area(0, new_len);
    if (!a) return KernelStep::done(FaultOutcome{});
    target = *a;
  }
  const Vma* last = mm.vmas().find(oa + kept - 1);
  const uint64_t grow = new_len > old_len ? (new_len - old_len) / kPageBytes : 0;
  if (grow > 0 && last != nullptr && last->accounted() &&
      !commit_.charge(grow, mm.vmas().total_pages())) {
    if (b.ret <= 0) return KernelStep::done(FaultOutcome{});
    diverge("mremap_overcommit");
    commit_.force(grow);
  }
  if (target == oa) {
    // Grow in place (vma_expand).
    if (grow > 0 && last != nullptr) {
      if (!mm.vmas().is_free(oa + old_len, oa + new_len)) {
        diverge("mremap_grow_overlap");
        unmap_range(p, oa + old_len, oa + new_len, clk, s, fl);
        last = mm.vmas().find(oa + kept - 1);
      }
      mm.vmas().find(last->start)->end = oa + new_len;
      mm.vmas().merge_range(oa, oa + new_len);
    }
    return KernelStep::done(FaultOutcome{});
  }
  // Move: the VMAs go to the target, their PTEs move with them (no copy).
  if (!mm.vmas().is_free(target, target + new_len)) {
    if (b.ret > 0 && !(b.flags & linux_abi::kMremapFixed)) diverge("mremap_overlap");
    unmap_range(p, target, target + new_len, clk, s, fl);
  }
  std::vector<Vma> parts = mm.vmas().remove_range(oa, oa + kept);
  std::vector<std::pair<uint64_t, uint64_t>> swap;
  const auto ptes = leaf_ptes(mm, oa, oa + kept, swap);
  PageTableLog log;
  uint64_t moved = 0;
  for (const auto& [va, e0] : ptes) {
    auto old = mm.table().unmap(LinearAddr(va), &log);
    if (!old) continue;
    const uint64_t keep =
        e0 & (pte::kRW | pte::kUS | pte::kA | pte::kD | pte::kG | pte::kPWT | pte::kPCD | pte::kXD);
    mm.table().map(LinearAddr(va - oa + target), old->pfn, PageSize::k4K, keep, &log);
    ++moved;
  }
  // Swap entries move as they are. The frames keep their index: the moved
  // VMAs keep their page offsets (vm_pgoff), which is how the reverse map
  // finds the pages at their new addresses.
  for (const auto& [va, e0] : swap) {
    mm.table().write_leaf_entry(LinearAddr(va), PageSize::k4K, 0, &log);
    mm.table().write_leaf_entry(LinearAddr(va - oa + target), PageSize::k4K, e0, &log);
    ++moved;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    Vma nv = parts[i];
    nv.start = nv.start - oa + target;
    nv.end = nv.end - oa + target;
    if (i + 1 == parts.size() && new_len > old_len) nv.end = target + new_len;
    if (b.flags & linux_abi::kMremapDontUnmap) {
      Vma stay = parts[i];
      stay.anon_vma = false;
      mm.vmas().insert(std::move(stay));
    }
    mm.vmas().insert(std::move(nv));
  }
  mm.table().free_empty_tables(LinearAddr(oa), LinearAddr(oa + kept), &log);
  mm.vmas().merge_range(target, target + new_len);
  clk.add(FaultTiming::kPteInstall, cfg_.cost.move_pte * moved);
  charge_pt(clk, log, s);
  if (moved > 0) flush_range(mm, cpu_, oa, oa + kept, clk, s, fl, true);
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_brk(const OsEvent& e, const BrkEvent& b, Clock& clk, KernelServices& s,
                               Flush& fl) {
  // mm/mmap.c:brk(): the heap VMA grows (do_brk_flags: the brk VMA is
  // extended when its flags match, else a new one) or shrinks (munmap).
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.brk);
  if (b.req == 0 || (b.ret > 0 && static_cast<uint64_t>(b.ret) != b.req)) {
    // A query, or a refused request (brk returns the old break).
    if (b.ret > 0) {
      const auto r = static_cast<uint64_t>(b.ret);
      if (mm.start_brk == 0) {
        mm.start_brk = mm.brk = r;
      } else if (r >= mm.start_brk && r <= page_up(mm.brk)) {
        mm.brk = r;  // inside the initial heap VMA (valgrind's brk page starts there)
      } else if (r != mm.brk) {
        diverge("brk_mismatch");
        mm.brk = r;
      }
    }
    return KernelStep::done(FaultOutcome{});
  }
  const uint64_t target = b.req;
  const bool recorded = b.ret > 0;
  if (mm.start_brk == 0) mm.start_brk = mm.brk = target;
  if (target < mm.start_brk) {
    if (recorded) diverge("brk_below_start");
    return KernelStep::done(FaultOutcome{});
  }
  const uint64_t old_top = page_up(mm.brk), new_top = page_up(target);
  if (new_top > old_top) {
    // The first VMA beyond the heap's own must stay a page (and a stack's
    // guard gap) above the new top.
    const auto& all = mm.vmas().all();
    auto it = all.upper_bound(old_top);
    if (it != all.begin() && std::prev(it)->second.end > old_top) --it;
    uint64_t gap = UINT64_MAX;
    for (; it != all.end(); ++it) {
      const Vma& v = it->second;
      if (v.kind == VmaKind::kBrk) continue;
      gap = (v.flags & vm::kGrowsDown) ? v.start - std::min(v.start, mm.layout().stack_guard_gap)
                                       : v.start;
      break;
    }
    if (new_top + kPageBytes > gap) {
      if (!recorded) return KernelStep::done(FaultOutcome{});
      diverge("brk_overlap");
      unmap_range(p, old_top, new_top, clk, s, fl);
    }
    uint64_t covered = 0;
    for (const Vma* v : mm.vmas().overlapping(old_top, new_top)) {
      covered += std::min(new_top, v->end) - std::max(old_top, v->start);
    }
    const uint64_t pages = (new_top - old_top - covered) / kPageBytes;
    if (!commit_.charge(pages, mm.vmas().total_pages())) {
      if (!recorded) return KernelStep::done(FaultOutcome{});
      diverge("brk_overcommit");
      commit_.force(pages);
    }
    // do_brk_flags() for each hole: the heap VMA below is extended when its
    // flags match, else a new one is made.
    const uint64_t flags =
        vm::kRead | vm::kWrite | vm::kMayRead | vm::kMayWrite | vm::kMayExec | vm::kAccount;
    for (uint64_t a = old_top; a < new_top;) {
      const Vma* v = mm.vmas().find_next(a);
      if (v != nullptr && v->start <= a) {
        a = v->end;
        continue;
      }
      const uint64_t z = v != nullptr ? std::min(new_top, v->start) : new_top;
      Vma* prev = mm.vmas().find(a - 1);
      if (prev != nullptr && prev->kind == VmaKind::kBrk && prev->flags == flags) {
        prev->end = z;
      } else {
        Vma h;
        h.start = a;
        h.end = z;
        h.flags = flags;
        h.kind = VmaKind::kBrk;
        h.pgoff = a / kPageBytes;
        mm.vmas().insert(std::move(h));
      }
      a = z;
    }
  } else if (new_top < old_top) {
    unmap_range(p, new_top, old_top, clk, s, fl);
  }
  mm.brk = target;
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_madvise(const OsEvent& e, const MadviseEvent& b, Clock& clk,
                                   KernelServices& s, Flush& fl) {
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.madvise);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const uint64_t start = page_down(b.addr), end = page_up(b.addr + b.len);
  if (start >= end) return KernelStep::done(FaultOutcome{});
  auto set_flags = [&](uint64_t clear, uint64_t set) {
    mm.vmas().for_range(start, end, [&](Vma& v) { v.flags = (v.flags & ~clear) | set; });
    mm.vmas().merge_range(start, end);
  };
  switch (b.advice) {
    case linux_abi::kMadvNormal: set_flags(vm::kReadHints, 0); break;
    case linux_abi::kMadvRandom: set_flags(vm::kReadHints, vm::kRandRead); break;
    case linux_abi::kMadvSequential: set_flags(vm::kReadHints, vm::kSeqRead); break;
    case linux_abi::kMadvDontFork: set_flags(0, vm::kDontCopy); break;
    case linux_abi::kMadvDoFork: set_flags(vm::kDontCopy, 0); break;
    case linux_abi::kMadvHugePage: set_flags(vm::kNoHugePage, vm::kHugePage); break;
    case linux_abi::kMadvNoHugePage: set_flags(vm::kHugePage, vm::kNoHugePage); break;
    case linux_abi::kMadvWillNeed:
      // madvise_willneed(): readahead of the file range, not waited for.
      for (const Vma* v : mm.vmas().overlapping(start, end)) {
        if (!v->is_file() || !v->file) continue;
        const uint64_t a = std::max(start, v->start), z = std::min(end, v->end);
        FadviseEvent fa;
        fa.offset = v->pgoff_of(a) * kPageBytes;
        fa.len = z - a;
        fa.advice = linux_abi::kFadvWillNeed;
        cache_.fadvise(*v->file, fa, clk.t);
      }
      break;
    case linux_abi::kMadvDontNeed:
    case linux_abi::kMadvFree: {
      // DONTNEED zaps the range (anonymous pages freed, file pages dropped
      // from the mapping). FREE is lazy in Linux (pages go at reclaim unless
      // written again); the model frees them at once, like DONTNEED, and only
      // in private anonymous VMAs.
      PageTableLog log;
      uint64_t zapped = 0;
      for (const Vma* v : mm.vmas().overlapping(start, end)) {
        if (b.advice == linux_abi::kMadvFree && !v->is_anon()) continue;
        const Vma copy = *v;
        zapped += zap(mm, copy, start, end, log);
      }
      if (mm.implicit_anon) {
        if (auto imp = mm.implicit_vma(start)) zapped += zap(mm, *imp, start, end, log);
      }
      mm.table().free_empty_tables(LinearAddr(start), LinearAddr(end), &log);
      clk.add(FaultTiming::kPteInstall, cfg_.cost.zap_pte * zapped);
      charge_pt(clk, log, s);
      if (zapped > 0) flush_range(mm, cpu_, start, end, clk, s, fl, true);
      break;
    }
    default: diverge("madvise_ignored"); break;
  }
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_msync(const OsEvent& e, const MsyncEvent& b, const TaskCall& c,
                                 Clock& clk, KernelServices& s, Flush& fl) {
  // mm/msync.c: MS_SYNC writes the file range back (vfs_fsync_range) and
  // waits; MS_ASYNC does nothing since 2.6.19.
  Process& p = procs_.at(e.pid);
  AddressSpace& mm = *p.mm;
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.msync);
  if (recorded_failure(b.ret)) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  if (!(b.flags & linux_abi::kMsSync)) return KernelStep::done(FaultOutcome{});
  const uint64_t start = page_down(b.addr), end = page_up(b.addr + b.len);
  const uint64_t group = new_key(4, next_key_++);
  std::vector<Vma> files;
  for (const Vma* v : mm.vmas().overlapping(start, end)) {
    if (v->is_file() && v->shared()) files.push_back(*v);
  }
  for (const Vma& v : files) {
    const uint64_t a = std::max(start, v.start), z = std::min(end, v.end);
    writeback(v.file_id, v.pgoff_of(a), v.pgoff_of(z - 1), c, clk, s, fl, group);
  }
  return wait_group(group, clk);
}

}  // namespace mmusim
