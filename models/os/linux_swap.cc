// Swap in the Linux model (os-model.md §1.6; mm/swapfile.c, mm/swap_state.c,
// mm/page_io.c, mm/memory.c:do_swap_page): the swap area on its storage
// device, the swap cache, swap-out by reclaim and swap-in by the fault, with
// swap readahead.
//
// Slot references (SwapArea counts): the swap cache holds one while the page
// is cached (add_to_swap), every swap PTE one (try_to_unmap, fork's copy).
// A swapped-in page stays in the swap cache, so a clean re-eviction writes
// nothing, unless the fault writes (the copy on swap is then stale) or swap
// is more than half full (vm_swap_full): then it leaves the cache and, with
// no swap PTE left, its slot is free again.
//
// The area occupies the first os.linux.swap_size bytes of its device (the
// files on that device are laid out after it); one read request per run of
// consecutive slots. Reclaim's writes go through a plug (blk_start_plug in
// shrink_lruvec): a page whose slot follows the last plugged request's joins
// it up to the device's largest request (disk.max_sectors_kb); the plug is
// submitted at the end of each shrink_lruvec(), before a pass yields, and
// when a new request finds 32 requests plugged or the last one at 128 KiB
// (blk_add_rq_to_plug's BLK_MAX_REQUEST_COUNT and BLK_PLUG_FLUSH_SIZE).
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {
namespace {

constexpr unsigned kSwapType = 0;  // the one swap area
// Request ids and keys of swap I/O: the kernel's key space (bit 63), kind 7.
constexpr uint64_t kSwapIoTag = (uint64_t{1} << 63) | (uint64_t{7} << 56);
// blk_add_rq_to_plug(): the plug is flushed before a request joins when it
// holds BLK_MAX_REQUEST_COUNT requests or its last one is BLK_PLUG_FLUSH_SIZE
// bytes or more.
constexpr size_t kPlugMaxRequests = 32;
constexpr uint64_t kPlugFlushBytes = uint64_t{128} << 10;
constexpr Cycle kUnknownDone{~uint64_t{0}};

}  // namespace

void LinuxKernel::init_swap() {
  const PressureConfig& pc = cfg_.pressure;
  if (pc.swap_slots() < 2) return;
  const SwapKind kind =
      pc.swap_kind == SwapKindChoice::kRotational ? SwapKind::kRotational : SwapKind::kSolidState;
  swap_ = std::make_unique<SwapArea>(pc.swap_slots(), kind);
  swap_ra_.set_page_cluster(pc.page_cluster);
  // swap_use_vma_readahead(): VMA-based unless a rotational area is active.
  swap_vma_readahead_ = use_vma_readahead(pc.swap_vma_readahead, kind == SwapKind::kRotational);
  cache_.reserve_device(pc.swap_device, pc.swap_size);
}

std::optional<Pfn> LinuxKernel::swap_cache_page(uint64_t slot) const {
  auto it = swap_cache_.find(slot);
  if (it == swap_cache_.end()) return std::nullopt;
  return it->second.pfn;
}

bool LinuxKernel::swap_add(Pfn pfn) {
  if (!swap_) return false;
  const std::optional<uint64_t> slot = swap_->alloc(cpu_);
  if (!slot) return false;
  PageFrame& m = frames_.meta(pfn);
  m.set(FrameFlag::kSwapCache);
  m.set(FrameFlag::kDirty);  // nothing on swap yet: it must be written
  ++m.refcount;              // the swap cache's reference
  swap_cache_[*slot] = SwapPage{pfn, 0, Cycle(0), false};
  slot_of_[pfn.value()] = *slot;
  return true;
}

bool LinuxKernel::swap_unmap(Pfn pfn, Clock& clk, KernelServices& s) {
  const uint64_t slot = slot_of_.at(pfn.value());
  PageFrame& m = frames_.meta(pfn);
  const int32_t before = m.mapcount;
  Flush fl;
  const bool all = try_to_unmap(pfn, swp_entry(kSwapType, slot), clk, s, fl, nullptr);
  for (int32_t i = m.mapcount; i < before; ++i) swap_->dup(slot);  // one per swap PTE
  return all;
}

std::pair<uint64_t, Cycle> LinuxKernel::swap_submit(const std::vector<uint64_t>& slots, bool write,
                                                    const std::vector<Pfn>& frames, Cycle at) {
  BlockRequest r;
  r.id = kSwapIoTag | ++next_swap_id_;
  r.dev = cfg_.pressure.swap_device;
  r.offset = slots.front() * kPageBytes;
  r.bytes = slots.size() * kPageBytes;
  r.write = write;
  r.at = at;
  r.frames = frames;
  const std::optional<BlockTimeline> t = cache_.queue().submit(r);
  if (t) {
    if (!write) swap_tl_[r.id] = *t;
    return {r.id, t->irq};
  }
  swap_io_[r.id] = SwapIo{slots, write, at};
  return {r.id, kUnknownDone};
}

PageoutResult LinuxKernel::swap_pageout(Pfn pfn, Clock& clk) {
  PageFrame& m = frames_.meta(pfn);
  const uint64_t slot = slot_of_.at(pfn.value());
  clk.add(FaultTiming::kReclaim, cfg_.cost.io_submit);
  m.clear(FrameFlag::kDirty);
  m.set(FrameFlag::kWriteback);  // folio_start_writeback: until the request completes
  ++sws_.pswpout;
  const uint64_t max_pages = std::max<uint64_t>(1, cfg_.pressure.swap_max_request / kPageBytes);
  if (!swap_plug_.empty()) {
    PluggedWrite& last = swap_plug_.back();
    if (last.slots.back() + 1 == slot && last.slots.size() < max_pages) {  // back merge
      last.slots.push_back(slot);
      last.frames.push_back(pfn);
      ++sws_.write_merges;
      return PageoutResult::kStarted;
    }
    if (swap_plug_.size() >= kPlugMaxRequests ||
        last.slots.size() * kPageBytes >= kPlugFlushBytes) {
      swap_flush_plug(clk.t);
    }
  }
  swap_plug_.push_back(PluggedWrite{{slot}, {pfn}});
  return PageoutResult::kStarted;
}

void LinuxKernel::swap_flush_plug(Cycle at) {
  for (const PluggedWrite& w : swap_plug_) {
    const auto [id, done] = swap_submit(w.slots, true, w.frames, at);
    (void)id;
    ++sws_.write_requests;
    if (done == kUnknownDone) {  // completes later: swap_io_done()
      swap_writes_ += w.slots.size();
      swap_write_at_.insert(at);
      continue;
    }
    // Storage that answers at once (no controller): the pages are written.
    for (const Pfn p : w.frames) frames_.meta(p).clear(FrameFlag::kWriteback);
  }
  swap_plug_.clear();
}

bool LinuxKernel::swap_write_may_be_done(Cycle now) const {
  if (swap_write_at_.empty()) return false;
  const Cycles fastest = swap_write_min_ == Cycles(~uint64_t{0}) ? Cycles(0) : swap_write_min_;
  return *swap_write_at_.begin() + fastest <= now;
}

bool LinuxKernel::swap_remove(Pfn pfn, std::optional<ShadowKey>& shadow) {
  PageFrame& m = frames_.meta(pfn);
  auto so = slot_of_.find(pfn.value());
  if (so == slot_of_.end()) return false;
  const uint64_t slot = so->second;
  const SwapPage& sp = swap_cache_.at(slot);
  if (m.test(FrameFlag::kDirty) || m.test(FrameFlag::kWriteback) || m.mapcount > 0 ||
      m.refcount > 1 || sp.ready > now_hint_) {
    return false;
  }
  swap_cache_.erase(slot);
  slot_of_.erase(so);
  m.clear(FrameFlag::kSwapCache);
  m.refcount = 0;
  swap_->free(slot, cpu_);  // the cache's reference; swap PTEs keep the slot
  shadow = ShadowKey{ShadowOwner::kSwap, kSwapType, slot};
  free_frame(pfn);
  return true;
}

bool LinuxKernel::swap_try_free(uint64_t slot) {
  auto it = swap_cache_.find(slot);
  if (it == swap_cache_.end() || swap_->count(slot) != 1) return false;
  const Pfn pfn = it->second.pfn;
  PageFrame& m = frames_.meta(pfn);
  if (m.test(FrameFlag::kWriteback) || it->second.ready > now_hint_) return false;
  swap_cache_.erase(it);
  slot_of_.erase(pfn.value());
  m.clear(FrameFlag::kSwapCache);
  swap_->free(slot, cpu_);
  ++sws_.swapcache_freed;
  if (--m.refcount == 0) free_frame(pfn);  // unmapped: nothing else holds it
  return true;
}

void LinuxKernel::swap_put(uint64_t entry) {
  if (!swap_) return;
  const uint64_t slot = swp_offset(entry);
  swap_->free(slot, cpu_);
  swap_try_free(slot);  // only the cache holds it now: drop the page too
}

void LinuxKernel::swap_dup(uint64_t entry) {
  if (swap_) swap_->dup(swp_offset(entry));
}

bool LinuxKernel::swap_io_done(uint64_t id, const BlockTimeline& t, KernelServices& s) {
  auto it = swap_io_.find(id);
  if (it == swap_io_.end()) return false;
  const SwapIo io = std::move(it->second);
  swap_io_.erase(it);
  now_hint_ = max(now_hint_, t.irq);
  if (io.write) {
    swap_writes_ -= io.slots.size();
    swap_write_at_.erase(swap_write_at_.find(io.at));
    if (t.irq > io.at) swap_write_min_ = std::min(swap_write_min_, t.irq - io.at);
  }
  for (uint64_t slot : io.slots) {
    auto sp = swap_cache_.find(slot);
    if (sp == swap_cache_.end()) continue;
    if (io.write) {
      PageFrame& m = frames_.meta(sp->second.pfn);
      if (!m.test(FrameFlag::kWriteback)) continue;
      m.clear(FrameFlag::kWriteback);
      reclaim_->writeback_done(sp->second.pfn);
    } else if (sp->second.key == id) {
      sp->second.ready = t.irq;
    }
  }
  if (!io.write) {
    swap_tl_[id] = t;
    s.release(id);
  }
  return true;
}

KernelStep LinuxKernel::swap_fault(FaultState& st, Process& p, const Vma& v, uint64_t entry,
                                   KernelServices& s) {
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(st.f.addr.value());
  const uint64_t slot = swp_offset(entry);
  if (!swap_ || swp_type(entry) != kSwapType || slot == 0 || slot > swap_->total() ||
      swap_->count(slot) == 0) {
    return handle_swap_fault(st, entry);  // not an entry of this area: a model bug
  }
  const bool write = st.f.kind == AccessKind::kWrite;
  st.clk.add(FaultTiming::kAlloc, cfg_.cost.page_cache_lookup);  // swap cache lookup
  auto it = swap_cache_.find(slot);
  if (it == swap_cache_.end()) {
    // swapin_readahead(): the faulting slot and its window, each a new
    // swap-cache page, read in one request per run of consecutive slots.
    std::vector<uint64_t> slots;
    if (swap_vma_readahead_) {
      const VmaReadaheadWindow w =
          vma_readahead_window(swap_vma_ra_, page, v.start, v.end, cfg_.pressure.page_cluster);
      for (uint64_t va = w.start; va < w.end; va += kPageBytes) {
        if (va == page) {
          slots.push_back(slot);
          continue;
        }
        const std::optional<uint64_t> e = swap_pte(mm, va);
        if (e && swp_type(*e) == kSwapType && swap_->count(swp_offset(*e)) > 0) {
          slots.push_back(swp_offset(*e));
        }
      }
    } else {
      slots = cluster_readahead_slots(swap_ra_.range(slot, swap_->total() + 1), *swap_);
    }
    if (std::find(slots.begin(), slots.end(), slot) == slots.end()) slots.push_back(slot);
    std::sort(slots.begin(), slots.end());
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    const uint64_t min = zones_->sum(Wmark::kMin);
    std::vector<uint64_t> run;
    std::vector<Pfn> frames;
    uint64_t key = 0;
    Cycle until(0);
    auto flush = [&] {
      if (run.empty()) return;
      st.clk.add(FaultTiming::kIoQueue, cfg_.cost.io_submit);
      const auto [id, done] = swap_submit(run, false, frames, st.clk.t);
      for (uint64_t sl : run) {
        swap_cache_.at(sl).key = id;
        swap_cache_.at(sl).ready = done;
        if (sl == slot) {
          key = id;
          until = done;
        }
      }
      sws_.pswpin += run.size();
      run.clear();
      frames.clear();
    };
    for (uint64_t sl : slots) {
      if (swap_cache_.count(sl) != 0) {
        flush();
        continue;
      }
      const bool ra = sl != slot;
      if (ra && frames_.frames_free() <= min) continue;  // readahead: __GFP_NORETRY
      std::optional<Pfn> f = alloc_frame(st.clk, s, false);
      if (!f) {
        if (!ra) return stop(st, "physical memory exhausted: no frame for a swap-in");
        continue;
      }
      PageFrame& m = frames_.meta(*f);
      m.set(FrameFlag::kAnon);
      m.set(FrameFlag::kSwapBacked);
      m.set(FrameFlag::kSwapCache);
      m.owner = mm.anon_family;
      m.index = v.pgoff_of(page);  // set again when mapped
      m.refcount = 1;              // the swap cache's
      ++stats_.nr_anon_pages;
      swap_->dup(sl);  // the cache's reference
      swap_cache_[sl] = SwapPage{*f, 0, Cycle(0), ra};
      slot_of_[f->value()] = sl;
      if (ra) ++sws_.swap_ra;
      reclaim_->refault(ShadowKey{ShadowOwner::kSwap, kSwapType, sl}, *f);
      reclaim_->lru_add(*f);
      if (!run.empty() && run.back() + 1 != sl) flush();
      run.push_back(sl);
      frames.push_back(*f);
    }
    flush();
    ++stats_.pgmajfault;  // VM_FAULT_MAJOR: the page is read from swap
    return wait_io(st, key, until, page);
  }
  SwapPage& sp = it->second;
  if (sp.ready > st.clk.t) return wait_io(st, sp.key, sp.ready, page);  // read in flight
  if (!st.retried) ++sws_.swapcache_hits;
  if (sp.readahead) {
    sp.readahead = false;
    ++sws_.swap_ra_hit;
    swap_ra_.hit();
    vma_readahead_hit(swap_vma_ra_, page, true);
  }
  const Pfn pfn = sp.pfn;
  PageFrame& m = frames_.meta(pfn);
  // Exclusive: nothing but this PTE and the cache holds the slot and no other
  // PTE maps the page; then a writable VMA maps it writable (do_swap_page).
  // Otherwise it is mapped read-only, and a write faults again and copies
  // (do_wp_page).
  const bool exclusive = swap_->count(slot) == 2 && m.mapcount == 0;
  const bool writable = (v.flags & vm::kWrite) && exclusive;
  PageTableLog log;
  mm.table().write_leaf_entry(LinearAddr(page), PageSize::k4K, 0, &log);
  const MapResult r = mm.table().map(LinearAddr(page), pfn, PageSize::k4K,
                                     pte_flags(v, writable, write && writable), &log);
  charge_pt(st.clk, log, s);
  if (r != MapResult::kOk) return stop(st, "cannot map a swapped-in page");
  st.clk.add(FaultTiming::kPteInstall, cfg_.cost.anon_setup);
  m.owner = mm.anon_family;
  m.index = v.pgoff_of(page);
  ++m.mapcount;
  ++m.refcount;
  mm.rss.add_anon(1);
  --mm.rss.swapents;
  swap_->free(slot, cpu_);  // this PTE's reference
  // should_try_to_free_swap(): a write makes the swap copy stale; a full
  // swap wants its slots back.
  if ((write && writable) || swap_->full_over_half()) swap_try_free(slot);
  return finish(st, st.retried ? FaultClass::kSwapMajor : FaultClass::kSwapMinor, s);
}

}  // namespace mmusim
