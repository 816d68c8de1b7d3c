// The reverse map of the Linux model (mm/rmap.c, os-model.md §1.3): for a
// physical frame, every PTE that maps it, for reclaim's Accessed-bit aging
// (folio_referenced) and unmapping (try_to_unmap); and x86's swap PTEs.
//
// Anonymous frames: an anon family per exec'd image (Linux's root anon_vma,
// without the per-VMA chains): fork adds the child to the parent's family,
// exec and a new process start their own. A frame's owner is its family and
// its index the page's linear index in its VMA (vma->vm_pgoff based: mremap
// keeps a moved VMA's page offsets, so the index still leads to the page).
// A walk looks in every address space of the family, in every VMA with
// anonymous pages whose page offsets hold the index, and keeps the PTEs that
// map the frame (a family member that copied the page, or a VMA whose page
// offsets overlap after a move, maps another frame there).
//
// Page-cache and shmem frames: the registry of the address spaces mapping
// each file (shmem object), kept by the VMA trees' backing counts (mmap,
// munmap, mremap, fork, exec, exit all go through them), so a walk visits
// those address spaces only, and in each the VMAs of that object whose file
// offsets hold the page. A private mapping's COW copies are anonymous frames,
// not the file's.
//
// Like Linux, a walk stops once it found as many PTEs as the frame's
// mapcount. Host cost: the VMAs of each address space visited are scanned
// (Linux keeps interval trees), and one page-table lookup per candidate.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/os/linux_kernel.h"

namespace mmusim {
namespace {

constexpr unsigned kSwapPteOffsetShift = 9;                         // _PAGE_BIT_PROTNONE + 1
constexpr uint64_t kSwapPteOffsetMask64 = (uint64_t{1} << 50) - 1;  // bits 9..58
constexpr unsigned kSwapPteTypeShift64 = 64 - kSwapTypeBits;        // bits 59..63
constexpr unsigned kSwapPteTypeShift32 = 1;                         // bits 1..5

}  // namespace

// ---------------------------------------------------------------- swap PTEs

uint64_t swp_max_offset(const PagingModeInfo& m) {
  if (m.entry_bytes == 4) return (uint64_t{1} << (32 - kSwapPteOffsetShift)) - 1;
  if (m.mode == PagingMode::kPae) return (uint64_t{1} << (32 - kSwapTypeBits)) - 1;
  return kSwapPteOffsetMask64;
}

uint64_t swp_entry_to_pte(const PagingModeInfo& m, uint64_t e) {
  const uint64_t type = swp_type(e), offset = swp_offset(e);
  if (e == 0 || type >= (uint64_t{1} << kSwapTypeBits) || offset > swp_max_offset(m)) {
    throw std::invalid_argument(
        "swap entry of type " + std::to_string(type) + ", slot " + std::to_string(offset) +
        ": not representable in a " + std::string(m.name) +
        " swap PTE (type < 32, 0 < slot <= " + std::to_string(swp_max_offset(m)) + ")");
  }
  if (m.entry_bytes == 4) return (type << kSwapPteTypeShift32) | (offset << kSwapPteOffsetShift);
  return ((~offset & kSwapPteOffsetMask64) << kSwapPteOffsetShift) | (type << kSwapPteTypeShift64);
}

std::optional<uint64_t> pte_to_swp_entry(const PagingModeInfo& m, uint64_t pte) {
  if (pte == 0 || (pte & pte::kP)) return std::nullopt;
  if (m.entry_bytes == 4) {
    const auto v = static_cast<uint32_t>(pte);
    return swp_entry((v >> kSwapPteTypeShift32) & ((1U << kSwapTypeBits) - 1),
                     v >> kSwapPteOffsetShift);
  }
  return swp_entry(static_cast<unsigned>(pte >> kSwapPteTypeShift64),
                   (~pte >> kSwapPteOffsetShift) & kSwapPteOffsetMask64);
}

// ---------------------------------------------------------------- registries

void LinuxKernel::rmap_attach(AddressSpace& mm, uint32_t family) {
  if (mm.anon_family != 0) return;
  mm.anon_family = family != 0 ? family : mm.id();
  anon_families_[mm.anon_family].push_back(&mm);
  AddressSpace* const self = &mm;
  mm.vmas().set_backing_hook([this, self](uint64_t key, bool mapped) {
    if (mapped) {
      mappers_[key][self->id()] = self;
      return;
    }
    auto it = mappers_.find(key);
    if (it == mappers_.end()) return;
    it->second.erase(self->id());
    if (it->second.empty()) mappers_.erase(it);
  });
  // Objects it mapped before it registered.
  for (const auto& [key, n] : mm.vmas().backing()) mappers_[key][mm.id()] = &mm;
}

void LinuxKernel::rmap_detach(AddressSpace& mm) {
  if (mm.anon_family == 0) return;
  auto fam = anon_families_.find(mm.anon_family);
  if (fam != anon_families_.end()) {
    auto& members = fam->second;
    members.erase(std::remove(members.begin(), members.end(), &mm), members.end());
    if (members.empty()) anon_families_.erase(fam);
  }
  for (const auto& [key, n] : mm.vmas().backing()) {
    auto it = mappers_.find(key);
    if (it == mappers_.end()) continue;
    it->second.erase(mm.id());
    if (it->second.empty()) mappers_.erase(it);
  }
  mm.vmas().set_backing_hook(nullptr);
}

// ---------------------------------------------------------------- the walk

unsigned LinuxKernel::rmap_walk(Pfn pfn, PageTableLog* log, const RmapVisit& f) const {
  const PageFrame* m = frames_.find_meta(pfn);
  if (m == nullptr || m->state != FrameState::kHead || m->test(FrameFlag::kZeroPage) ||
      m->test(FrameFlag::kPageTable) || m->mapcount <= 0) {
    return 0;
  }
  ++stats_.rmap_walks;
  const uint64_t index = m->index;
  int64_t left = m->mapcount;
  // Looks at the PTE of `addr`; false once the walk is over.
  auto check = [&](AddressSpace& mm, const Vma& v, uint64_t addr) {
    ++stats_.rmap_ptes_checked;
    const auto mp = mm.table().lookup(LinearAddr(addr), log);
    if (!mp || mp->pfn != pfn || mp->size != PageSize::k4K) return true;
    --left;
    return f(mm, v, addr, *mp) && left > 0;
  };
  // The page of `v` that holds `index` (its page offsets), if any.
  auto page_in = [index](const Vma& v) -> std::optional<uint64_t> {
    if (index < v.pgoff || index - v.pgoff >= v.pages()) return std::nullopt;
    return v.start + (index - v.pgoff) * kPageBytes;
  };
  unsigned visited = 0;
  if (m->test(FrameFlag::kAnon)) {
    auto fam = anon_families_.find(m->owner);
    if (fam == anon_families_.end()) return 0;
    // Visiting changes PTEs and page counts, never VMAs or registries.
    for (AddressSpace* mm : fam->second) {
      ++visited;
      for (const auto& [start, v] : mm->vmas().all()) {
        if (!v.anon_vma) continue;
        if (auto a = page_in(v); a && !check(*mm, v, *a)) return visited;
      }
      // A plain trace's implicit anonymous memory (between the VMAs).
      const uint64_t a = index * kPageBytes;
      if (mm->implicit_anon && index < mm->layout().task_size / kPageBytes &&
          mm->vmas().find(a) == nullptr) {
        if (auto imp = mm->implicit_vma(a); imp && !check(*mm, *imp, a)) return visited;
      }
    }
    return visited;
  }
  const uint64_t key =
      (m->test(FrameFlag::kSwapBacked) ? kBackingShmem : kBackingFile) | uint64_t{m->owner};
  auto reg = mappers_.find(key);
  if (reg == mappers_.end()) return 0;
  for (const auto& [id, mm] : reg->second) {
    ++visited;
    for (const auto& [start, v] : mm->vmas().all()) {
      if (backing_key(v) != key) continue;
      if (auto a = page_in(v); a && !check(*mm, v, *a)) return visited;
    }
  }
  return visited;
}

std::vector<LinuxKernel::PteRef> LinuxKernel::mappings(Pfn pfn, PageTableLog* log) const {
  std::vector<PteRef> out;
  rmap_walk(pfn, log, [&](AddressSpace& mm, const Vma& v, uint64_t addr, const Mapping& mp) {
    out.push_back(PteRef{mm.id(), addr, mp.entry, v.flags});
    return true;
  });
  return out;
}

bool LinuxKernel::page_mapped(Pfn pfn) const {
  const PageFrame* m = frames_.find_meta(pfn);
  return m != nullptr && !m->test(FrameFlag::kZeroPage) && !m->test(FrameFlag::kPageTable) &&
         m->mapcount > 0;
}

bool LinuxKernel::exec_mapped(Pfn pfn) const {
  bool exec = false;
  rmap_walk(pfn, nullptr, [&](AddressSpace&, const Vma& v, uint64_t, const Mapping&) {
    exec = (v.flags & vm::kExec) != 0;
    return !exec;
  });
  return exec;
}

// ---------------------------------------------------------------- aging

unsigned LinuxKernel::referenced_ptes(Pfn pfn, Clock* clk, PageTableLog* log, uint64_t* vm_flags) {
  // folio_referenced() / folio_referenced_one(): ptep_clear_flush_young()
  // on x86 clears the bit without a TLB flush (a stale young entry only
  // delays the next reference's A bit).
  if (vm_flags != nullptr) *vm_flags = 0;
  unsigned referenced = 0;
  uint64_t ptes = 0;
  const unsigned visited =
      rmap_walk(pfn, log, [&](AddressSpace& mm, const Vma& v, uint64_t, const Mapping& mp) {
        if (v.flags & vm::kReadHints) return true;  // !vma_has_recency(): not looked at
        if (v.flags & vm::kLocked) {                // mlocked: reclaim moves it aside
          if (vm_flags != nullptr) *vm_flags |= vm::kLocked;
          return false;
        }
        ++ptes;
        if (!(mp.entry & pte::kA)) return true;
        // The walker sets A in the entry; clearing it is a plain rewrite of
        // a present entry (the table's count of non-zero entries is kept).
        mem_.write_entry(mp.entry_addr, mm.table().mode().entry_bytes, mp.entry & ~pte::kA);
        if (log != nullptr) log->writes.push_back(mp.entry_addr);
        ++referenced;
        if (vm_flags != nullptr) *vm_flags |= v.flags;
        return true;
      });
  if (clk != nullptr) {
    clk->add(FaultTiming::kVmaLookup, cfg_.cost.vma_lookup * visited);
    clk->add(FaultTiming::kPteInstall, cfg_.cost.change_pte * ptes);
  }
  return referenced;
}

// ---------------------------------------------------------------- unmapping

bool LinuxKernel::try_to_unmap(Pfn pfn, uint64_t swap_entry, Clock& clk, KernelServices& s,
                               Flush& fl, const TaskCall* caller) {
  const PageFrame* pm = frames_.find_meta(pfn);
  if (pm == nullptr) return true;  // a free frame: nothing maps it
  if (pm->test(FrameFlag::kZeroPage) || pm->test(FrameFlag::kPageTable)) return false;
  PageFrame& m = frames_.meta(pfn);
  if (m.mapcount <= 0) return true;
  const bool anon = m.test(FrameFlag::kAnon);
  // An anonymous page leaves its PTEs only for a swap entry (in Linux it is
  // in the swap cache first).
  if (anon && swap_entry == 0) return false;
  if (m.refcount <= static_cast<uint32_t>(m.mapcount)) {
    throw std::logic_error("try_to_unmap of frame " + std::to_string(pfn.value()) +
                           ": the caller holds no reference of its own (refcount " +
                           std::to_string(m.refcount) + ", mapcount " + std::to_string(m.mapcount) +
                           ")");
  }
  // Every address space has the CPUs' paging mode: one swap PTE for all
  // (an entry the mode cannot hold throws before anything changed).
  const uint64_t swp =
      anon ? swp_entry_to_pte(paging_mode_info(cfg_.mode), swap_entry) : uint64_t{0};
  const bool page_cache = !anon && !m.test(FrameFlag::kSwapBacked);
  const AddressSpace* self = caller != nullptr ? address_space(caller->task.pid) : nullptr;
  const uint32_t self_cpu = caller != nullptr ? caller->cpu : ~uint32_t{0};
  PageTableLog log;
  std::vector<std::pair<AddressSpace*, uint64_t>> gone;
  const unsigned visited =
      rmap_walk(pfn, &log, [&](AddressSpace& mm, const Vma& v, uint64_t addr, const Mapping& mp) {
        if (v.flags & vm::kLocked) return false;  // mlocked: stays mapped (walk_abort)
        if (anon) {
          mm.table().write_leaf_entry(LinearAddr(addr), PageSize::k4K, swp, &log);
          ++mm.rss.swapents;
        } else {
          mm.table().unmap(LinearAddr(addr), &log);
        }
        // The PTE's dirty bit moves to the page (drop_page dirties a shared
        // file mapping's page itself).
        if (mp.entry & pte::kD) {
          if (!page_cache) {
            m.set(FrameFlag::kDirty);
          } else if (!v.shared()) {
            cache_.set_dirty(m.owner, m.index);
          }
        }
        drop_page(mm, v, pfn, mp.entry);  // never the last reference: the caller holds one
        gone.emplace_back(&mm, addr);
        return true;
      });
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.vma_lookup * visited);
  clk.add(FaultTiming::kPteInstall, cfg_.cost.zap_pte * gone.size());
  charge_pt(clk, log, s);
  for (const auto& [mm, addr] : gone) {
    flush_range(*mm, self_cpu, addr, addr + kPageBytes, clk, s, fl, mm == self);
  }
  return m.mapcount <= 0;
}

}  // namespace mmusim
