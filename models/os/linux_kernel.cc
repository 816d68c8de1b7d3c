// The Linux model's fault entry (os-model.md §2.0: dispatch, access checks,
// stack growth, page locks, accounting), event dispatch, and statistics.
#include "models/os/linux_kernel.h"

#include <algorithm>
#include <stdexcept>

namespace mmusim {
namespace {

OvercommitConfig with_reserves(OvercommitConfig c, const PageFrameAllocator& frames,
                               const PressureConfig& pc) {
  // total_swap_pages: the swap area's slots, the header left out.
  c.swap_pages = pc.swap_slots() > 1 ? pc.swap_slots() - 1 : 0;
  // init_admin_reserve() / init_user_reserve(): min(free / 32, 8 MiB / 128 MiB).
  const uint64_t free_kb = frames.frames_free() * 4;
  c.admin_reserve_kb = std::min<uint64_t>(free_kb / 32, 8ULL << 10);
  c.user_reserve_kb = std::min<uint64_t>(free_kb / 32, 128ULL << 10);
  return c;
}

}  // namespace

LinuxKernel::LinuxKernel(const LinuxConfig& cfg, PhysMem& mem, PageFrameAllocator& frames,
                         FileCache& cache)
    : cfg_(cfg),
      mem_(mem),
      frames_(frames),
      cache_(cache),
      commit_(with_reserves(cfg.overcommit, frames, cfg.pressure), frames.frames_managed()) {
  auto z = frames_.allocate(0U);
  if (!z) throw std::runtime_error("physical memory exhausted: no frame for the zero page");
  zero_pfn_ = *z;
  frames_.meta(zero_pfn_).set(FrameFlag::kZeroPage);
  mem_.release(zero_pfn_);
  cache_.on_dirty([this](Cycle at) { dirtied(at); });
  init_pressure();
}

LinuxKernel::~LinuxKernel() = default;

// ---------------------------------------------------------------- processes

std::shared_ptr<AddressSpace> LinuxKernel::new_mm() const {
  const uint32_t id = next_mm_++;
  auto mm = std::make_shared<AddressSpace>(id, PageTable(cfg_.mode, mem_, frames_, id),
                                           mm_layout(cfg_.mode, cfg_.stack_limit));
  mm->stack_rlimit = cfg_.stack_limit;
  mm->implicit_anon = cfg_.implicit_anon;
  return mm;
}

Process& LinuxKernel::ensure_process(uint32_t pid) const {
  auto it = procs_.find(pid);
  if (it != procs_.end()) return it->second;
  Process p;
  p.pid = pid;
  p.threads.insert(pid);
  p.mm = new_mm();
  p.mm->users = 1;
  ++stats_.implicit_processes;
  return procs_.emplace(pid, std::move(p)).first->second;
}

PhysAddr LinuxKernel::root(uint32_t pid) const {
  const Process& p = ensure_process(pid);
  return p.mm ? p.mm->table().root() : PhysAddr();
}

std::vector<uint32_t> LinuxKernel::pids() const {
  std::vector<uint32_t> out;
  for (const auto& [pid, p] : procs_) out.push_back(pid);
  return out;
}

const Process* LinuxKernel::process(uint32_t pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

const AddressSpace* LinuxKernel::address_space(uint32_t pid) const {
  const Process* p = process(pid);
  return p != nullptr ? p->mm.get() : nullptr;
}

ProcessStats LinuxKernel::process_stats(uint32_t pid) const {
  const Process* p = process(pid);
  if (p == nullptr) return {};
  ProcessStats s = p->stats;
  s.rss = p->mm ? p->mm->rss.total() : 0;
  s.rss_peak = std::max(p->peak_before, p->mm ? p->mm->rss.hiwater : 0);
  return s;
}

void LinuxKernel::diverge(const std::string& reason) { ++stats_.divergence[reason]; }

// ---------------------------------------------------------------- faults

KernelStep LinuxKernel::fault(const FaultInfo& f, KernelServices& s) {
  pcid_[f.pid] = f.pcid;
  // Timed page locks every later fault is past.
  while (!expiry_.empty() && expiry_.top().first <= f.raised.count()) {
    auto it = locks_.find(expiry_.top().second);
    if (it != locks_.end() && !it->second.held && it->second.until.count() <= f.raised.count()) {
      locks_.erase(it);
    }
    expiry_.pop();
  }
  FaultState st;
  st.f = f;
  st.clk.t = f.raised;
  st.clk.add(FaultTiming::kTrap, cfg_.cost.trap);
  return handle(st, s);
}

void LinuxKernel::io_parts(Clock& clk, uint64_t key, Cycle now, FaultOutcome::IoSteps* io) const {
  auto sw = swap_tl_.find(key);
  const BlockTimeline* known = sw != swap_tl_.end() ? &sw->second : cache_.timeline(key);
  if (const BlockTimeline* t = known) {
    if (io != nullptr) {
      *io = FaultOutcome::IoSteps{true,
                                  t->dma_start < t->device_start,
                                  t->submitted,
                                  t->fetched,
                                  t->device_start,
                                  t->device_done,
                                  t->dma_start,
                                  t->dma_done,
                                  t->irq};
    }
    // Waits for a queue slot, the device or the link count with the step
    // they precede.
    if (t->dma_start < t->device_start) {  // a write: its data leaves memory first
      clk.until(FaultTiming::kIoQueue, t->dma_start);
      clk.until(FaultTiming::kDma, t->dma_done);
      clk.until(FaultTiming::kIoQueue, t->device_start);
      clk.until(FaultTiming::kDevice, t->device_done);
    } else {
      clk.until(FaultTiming::kIoQueue, t->device_start);
      clk.until(FaultTiming::kDevice, t->device_done);
      clk.until(FaultTiming::kDma, t->dma_done);
    }
    clk.until(FaultTiming::kInterrupt, t->irq);
  }
  clk.until(FaultTiming::kWake, now);  // the task runs again (another may have held the CPU)
  clk.add(FaultTiming::kInterrupt, cfg_.cost.io_complete);
  clk.add(FaultTiming::kWake, cfg_.cost.wake);
}

void LinuxKernel::io_done(uint64_t id, const BlockTimeline& t, KernelServices& s) {
  if (wb_waiters_ > 0) {  // reclaim throttled on writeback: a completion wakes it
    wb_waiters_ = 0;
    ++wb_wakes_;
    s.release(kWritebackWaitKey);
  }
  if (swap_io_done(id, t, s)) return;
  for (uint64_t key : cache_.io_done(id, t)) s.release(key);
  // Throttled writers waiting for a completion not known when they slept:
  // this one may bring dirty + writeback down to the limit.
  if (throttle_waiters_ > 0 &&
      cache_.stats().nr_dirty + cache_.nr_writeback(t.irq) <= dirty_limits().limit) {
    throttle_waiters_ = 0;
    s.release(kThrottleKey);
  }
}

KernelStep LinuxKernel::resume(const FaultInfo& f, uint64_t key, Cycle now, KernelServices& s) {
  auto it = faults_.find(FaultKey{f.pid, f.tid, f.cpu});
  if (it == faults_.end()) return fault(f, s);
  FaultState st = it->second;
  faults_.erase(it);
  if (st.wait == FaultState::Wait::kThrottle) {
    // Asleep in balance_dirty_pages: the fault is done but for the check.
    st.clk.until(FaultTiming::kWake, now);
    st.clk.add(FaultTiming::kWake, cfg_.cost.wake);
    st.wait = FaultState::Wait::kNone;
    const Process& p = ensure_process(f.pid);
    if (p.state == Process::State::kRunning && p.mm) return finish(st, st.cls, s);
    FaultOutcome o;  // killed meanwhile: nothing to resume
    o.action = FaultOutcome::Action::kKill;
    o.resume = st.clk.t;
    o.cls = FaultClass::kSegv;
    o.timing = st.clk.timing;
    return KernelStep::done(o);
  }
  switch (st.wait) {
    case FaultState::Wait::kIo:
      // The request's steps until its interrupt, the completion and the
      // wake-up; the fault is retried (VM_FAULT_RETRY).
      io_parts(st.clk, key, now, &st.io);
      st.retried = true;
      break;
    case FaultState::Wait::kHeldLock:
      // Asleep on the page lock until its holder's I/O completed.
      st.clk.until(FaultTiming::kWake, now);
      st.clk.add(FaultTiming::kWake, cfg_.cost.wake);
      st.retried = true;
      break;
    case FaultState::Wait::kReclaim: st.clk.until(FaultTiming::kReclaim, now); break;
    case FaultState::Wait::kTimedLock:
    case FaultState::Wait::kThrottle:
    case FaultState::Wait::kNone: st.clk.until(FaultTiming::kWake, now); break;
  }
  st.wait = FaultState::Wait::kNone;
  return handle(st, s);
}

KernelStep LinuxKernel::wait_lock(FaultState& st, const PageLock& l) {
  const FaultKey k{st.f.pid, st.f.tid, st.f.cpu};
  if (l.held) {
    st.wait = FaultState::Wait::kHeldLock;
    ++stats_.lock_waits;
    faults_[k] = st;
    return KernelStep::wait_page(l.key);
  }
  st.wait = FaultState::Wait::kTimedLock;
  ++stats_.timed_lock_waits;
  faults_[k] = st;
  return KernelStep::wait_io(l.key, l.until);
}

KernelStep LinuxKernel::wait_io(FaultState& st, uint64_t key, Cycle until, uint64_t page) {
  if (!st.holds_lock) {
    PageLock l;
    l.key = new_key(1, next_key_++);
    l.held = true;
    st.mm = ensure_process(st.f.pid).mm->id();
    st.page = page;
    locks_[{st.mm, page}] = l;
    st.holds_lock = true;
  }
  st.wait = FaultState::Wait::kIo;
  faults_[FaultKey{st.f.pid, st.f.tid, st.f.cpu}] = st;
  return KernelStep::wait_io(key, max(until, st.clk.t));
}

KernelStep LinuxKernel::handle(FaultState& st, KernelServices& s) {
  const FaultInfo& f = st.f;
  Process& p = ensure_process(f.pid);
  if (p.state != Process::State::kRunning || !p.mm) {
    // Killed meanwhile (another thread's SIGSEGV): nothing to resume.
    FaultOutcome o;
    o.action = FaultOutcome::Action::kKill;
    o.resume = st.clk.t;
    o.cls = FaultClass::kSegv;
    o.timing = st.clk.timing;
    return KernelStep::done(o);
  }
  {
    // The allocation path's watermark checks, before anything is taken.
    std::string why;
    const TaskCall c{TaskId{f.pid, f.tid}, f.cpu, st.clk.t};
    switch (reserve(st.clk, s, c, why)) {
      case Reserve::kOk: break;
      case Reserve::kKilledSelf: {
        FaultOutcome o;
        o.action = FaultOutcome::Action::kKill;
        o.resume = st.clk.t;
        o.cls = FaultClass::kSegv;
        o.timing = st.clk.timing;
        return KernelStep::done(o);
      }
      case Reserve::kStop: return stop(st, why);
      case Reserve::kWait:
        st.wait = FaultState::Wait::kReclaim;
        faults_[FaultKey{f.pid, f.tid, f.cpu}] = st;
        return KernelStep::wait_page(reserve_key_);
    }
  }
  AddressSpace& mm = *p.mm;
  st.clk.add(FaultTiming::kVmaLookup,
             cfg_.cost.vma_lookup + cfg_.cost.vma_level * mm.vmas().depth());
  const uint64_t addr = f.addr.value();
  const uint64_t page = page_down(addr);
  if (f.fault == FaultKind::kNonCanonical || f.fault == FaultKind::kReservedBit ||
      addr >= mm.layout().task_size) {
    return segv(st, s, false);
  }
  auto lk = locks_.find({mm.id(), page});
  if (lk != locks_.end() && !(st.holds_lock && st.mm == mm.id() && st.page == page)) {
    if (lk->second.held || lk->second.until > st.clk.t) return wait_lock(st, lk->second);
    locks_.erase(lk);
  }
  const Vma* v = mm.vmas().find(addr);
  std::optional<Vma> tmp;
  bool grew = false;
  if (v == nullptr) {
    tmp = mm.implicit_vma(addr);
    if (!tmp) {
      tmp = expand_stack(mm, addr, st.clk);
      grew = tmp.has_value();
    }
    if (!tmp) return segv(st, s, false);
    v = &*tmp;
  }
  // arch/x86/mm/fault.c:access_error(); an instruction fetch needs VM_EXEC.
  const bool write = f.kind == AccessKind::kWrite;
  const bool fetch = f.kind == AccessKind::kFetch;
  if ((write && !(v->flags & vm::kWrite)) || (fetch && !(v->flags & vm::kExec)) ||
      !(v->flags & vm::kAccessFlags) || f.fault == FaultKind::kUserSupervisor ||
      f.fault == FaultKind::kExecuteDisable) {
    return segv(st, s, false);
  }
  const Vma vma = *v;  // handlers may change the tree
  const auto m = mm.table().lookup(LinearAddr(page));
  if (!m) {
    if (vma.kind == VmaKind::kShmem) return shmem_fault(st, p, vma, s);
    if (vma.is_anon()) return anon_fault(st, p, vma, grew, s);
    return file_fault(st, p, vma, s);
  }
  if (write && !(m->entry & pte::kRW)) return wp_fault(st, p, vma, *m, s);
  // Present with the rights asked: another CPU or thread fixed it first.
  return finish(st, FaultClass::kSpurious, s);
}

std::optional<Vma> LinuxKernel::expand_stack(AddressSpace& mm, uint64_t addr, Clock& clk) {
  // mm/mmap.c:expand_downwards() and acct_stack_growth().
  const Vma* next = mm.vmas().find_next(addr);
  if (next == nullptr || !(next->flags & vm::kGrowsDown) || next->start <= addr) {
    return std::nullopt;
  }
  const uint64_t new_start = page_down(addr);
  if (new_start < mm.layout().mmap_min_addr) return std::nullopt;
  const uint64_t limit = next->max_size != 0 ? next->max_size : mm.stack_rlimit;
  if (next->end - new_start > limit) return std::nullopt;
  if (const Vma* prev = mm.vmas().find_prev(next->start)) {
    if (prev->end > new_start) return std::nullopt;
    if (!(prev->flags & vm::kGrowsDown) && (prev->flags & vm::kAccessFlags) &&
        new_start - prev->end < mm.layout().stack_guard_gap) {
      return std::nullopt;
    }
  }
  const uint64_t grow = (next->start - new_start) / kPageBytes;
  if (next->accounted() && !commit_.charge(grow, mm.vmas().total_pages())) return std::nullopt;
  Vma v = *next;
  mm.vmas().all().erase(next->start);
  v.start = new_start;
  v.pgoff -= std::min(v.pgoff, grow);
  mm.vmas().insert(v);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.stack_expand);
  return v;
}

KernelStep LinuxKernel::finish(FaultState& st, FaultClass cls, KernelServices& s) {
  if (st.balance) {
    KernelStep t = balance_dirty_ratelimited(st, s);
    if (t.kind != KernelStep::Kind::kDone) {
      st.cls = cls;
      st.wait = FaultState::Wait::kThrottle;
      faults_[FaultKey{st.f.pid, st.f.tid, st.f.cpu}] = st;
      return t;
    }
    st.balance = false;
  }
  st.clk.add(FaultTiming::kReturn, cfg_.cost.fault_return);
  Process& p = ensure_process(st.f.pid);
  const std::pair<uint32_t, uint64_t> where{p.mm->id(), page_down(st.f.addr.value())};
  if (st.holds_lock) {
    auto it = locks_.find({st.mm, st.page});
    if (it != locks_.end()) s.release(it->second.key);
    if (it != locks_.end() && st.mm == where.first && st.page == where.second) {
      it->second.held = false;  // now timed: faults before our return wait for it
      it->second.until = st.clk.t;
      expiry_.push({st.clk.t.count(), where});
    } else if (it != locks_.end()) {
      locks_.erase(it);
    }
    st.holds_lock = false;
  } else if (cls != FaultClass::kSpurious) {
    PageLock l;
    l.key = new_key(1, next_key_++);
    l.until = st.clk.t;
    locks_[where] = l;
    expiry_.push({st.clk.t.count(), where});
  }
  ++stats_.faults[static_cast<size_t>(cls)];
  ++stats_.pgfault;
  if (st.retried) {
    ++p.stats.maj_flt;
    ++stats_.maj_retried;
  } else {
    ++p.stats.min_flt;
  }
  FaultOutcome o;
  o.resume = st.clk.t;
  o.cls = cls;
  o.timing = st.clk.timing;
  o.tlb_flush_page = st.flush_page;
  o.flush = st.flush;  // writeback started by the dirty throttle
  if (st.flush_page && o.flush.kind != Flush::Kind::kNone) {
    Flush pg;
    pg.kind = Flush::Kind::kPages;
    pg.start = LinearAddr(where.second);
    pg.pages = 1;
    merge_flush(o.flush, pg);
  }
  o.io = st.io;
  return KernelStep::done(o);
}

KernelStep LinuxKernel::segv(FaultState& st, KernelServices& s, bool sigbus) {
  st.clk.add(FaultTiming::kReturn, cfg_.cost.segv);
  if (st.holds_lock) {
    auto it = locks_.find({st.mm, st.page});
    if (it != locks_.end()) {
      s.release(it->second.key);
      locks_.erase(it);
    }
    st.holds_lock = false;
  }
  Process& p = ensure_process(st.f.pid);
  FaultOutcome o;
  o.cls = FaultClass::kSegv;
  if (sigbus) {
    ++stats_.sigbus;
    ++stats_.pgfault;  // VM_FAULT_SIGBUS is still counted (mm_account_fault)
  } else {
    ++stats_.segv;
  }
  ++stats_.faults[static_cast<size_t>(FaultClass::kSegv)];
  if (cfg_.implicit_anon) {
    ++stats_.skipped;
    o.action = FaultOutcome::Action::kSkip;
  } else {
    ++stats_.kills;
    p.stats.segv = 1;
    const int32_t code = 128 + (sigbus ? 7 : 11);
    for (uint32_t tid : p.threads) s.task_exited(TaskId{p.pid, tid}, code, true, st.clk.t);
    p.threads.clear();
    process_exit(p, code, true, st.clk, s);
    o.action = FaultOutcome::Action::kKill;
  }
  o.resume = st.clk.t;
  o.timing = st.clk.timing;
  return KernelStep::done(o);
}

KernelStep LinuxKernel::stop(FaultState& st, const std::string& why) {
  FaultOutcome o;
  o.action = FaultOutcome::Action::kStop;
  o.resume = st.clk.t;
  o.timing = st.clk.timing;
  o.message = why + " (os.phys_mem = " + std::to_string(frames_.frames_total() * 4096) + " bytes)";
  return KernelStep::done(o);
}

// ---------------------------------------------------------------- statistics

void LinuxKernel::drain_uaccess_faults(
    const std::function<void(const FaultInfo&, const FaultOutcome&)>& f) {
  for (const auto& [info, outcome] : uaccess_done_) f(info, outcome);
  uaccess_done_.clear();
}

void LinuxKernel::visit(StatVisitor& v) const {
  const std::string p = "kernel.linux.";
  for (int c = 0; c < kNumFaultClasses; ++c) {
    const auto cls = static_cast<FaultClass>(c);
    // A uaccess fault is counted here under its Linux class.
    if (cls == FaultClass::kFirstTouch || cls == FaultClass::kUaccess) continue;
    v.counter(p + "faults." + std::string(fault_class_name(cls)), "faults",
              "faults completed of this class (copy_to/from_user faults included)",
              stats_.faults[static_cast<size_t>(c)]);
  }
  for (size_t e = 0; e < stats_.events.size(); ++e) {
    v.counter(p + "events." + std::string(os_event_name(e)), "events", "OS events handled",
              stats_.events[e]);
  }
  const struct {
    const char* name;
    const char* unit;
    const char* desc;
    uint64_t value;
  } counters[] = {
      {"maj_retried", "faults", "faults that waited for a page's I/O (getrusage majors)",
       stats_.maj_retried},
      {"segv", "faults", "bad accesses (SIGSEGV)", stats_.segv},
      {"sigbus", "faults", "file faults beyond the end of the file (SIGBUS)", stats_.sigbus},
      {"skipped", "faults", "bad accesses skipped (no process model)", stats_.skipped},
      {"kills", "processes", "processes killed by a signal", stats_.kills},
      {"fault_around_pages", "pages", "pages mapped by fault-around", stats_.fault_around_pages},
      {"lock_waits", "faults", "faults that slept on a page another fault held for I/O",
       stats_.lock_waits},
      {"timed_lock_waits", "faults", "faults that waited for a concurrent fault's install",
       stats_.timed_lock_waits},
      {"pte_lines", "lines", "page-table lines written through the memory model", stats_.pte_lines},
      {"tables_allocated", "frames", "page-table frames allocated", stats_.tables_allocated},
      {"tables_freed", "frames", "page-table frames freed", stats_.tables_freed},
      {"local_flushes", "flushes", "TLB invalidations of the calling CPU", stats_.local_flushes},
      {"shootdown_requests", "requests", "shootdown requests (per process using the mm)",
       stats_.shootdowns},
      {"forks", "processes", "fork/clone without CLONE_VM", stats_.forks},
      {"vforks", "processes", "vfork and CLONE_VFORK", stats_.vforks},
      {"clones", "processes", "clone(CLONE_VM) of a process", stats_.clones},
      {"threads", "threads", "threads created", stats_.threads},
      {"fork_ptes", "ptes", "present PTEs copied by fork", stats_.fork_ptes},
      {"execs", "calls", "execve", stats_.execs},
      {"exits", "processes", "processes that ended", stats_.exits},
      {"reaped", "processes", "zombies reaped", stats_.reaped},
      {"recorded_failures", "events", "events whose recorded call failed",
       stats_.recorded_failures},
      {"inline_faults", "faults", "faults taken by read()/write() on the user buffer",
       stats_.inline_faults},
      {"rw_buf_skipped", "pages", "user-buffer pages a read()/write() copy skipped",
       stats_.rw_buf_skipped},
      {"copy_lines", "lines", "lines copied by read()/write()", stats_.copy_lines},
      {"untracked_fd", "calls", "file calls on descriptors no OPEN made (std streams, pipes)",
       stats_.untracked_fd},
      {"writeback_mkclean", "ptes", "PTEs write-protected after writeback",
       stats_.writeback_mkclean},
      {"writeback.flusher_runs", "runs",
       "flusher runs (periodic or kicked by the background "
       "threshold)",
       stats_.flusher_runs},
      {"writeback.flusher_kupdate", "files",
       "files the flusher wrote because their dirty age reached dirty_expire_centisecs",
       stats_.flusher_kupdate},
      {"writeback.flusher_background", "files",
       "files the flusher wrote because nr_dirty exceeded the background threshold",
       stats_.flusher_background},
      {"writeback.flusher_pages", "pages", "pages the flusher wrote", stats_.flusher_pages},
      {"writeback.throttles", "calls",
       "write() calls and shared-write faults throttled above the dirty limit", stats_.throttles},
      {"writeback.throttle_pages", "pages", "pages throttled writers wrote themselves",
       stats_.throttle_pages},
      {"writeback.throttle_cycles", "cycles", "cycles throttled writers slept",
       stats_.throttle_cycles},
      {"implicit_processes", "processes", "processes created on first mention",
       stats_.implicit_processes},
      {"committed_as", "pages", "Committed_AS now", commit_.committed()},
      {"commit_limit", "pages", "CommitLimit", commit_.commit_limit()},
      {"rmap_walks", "walks", "reverse-map walks (reclaim's references and unmaps)",
       stats_.rmap_walks},
      {"rmap_ptes_checked", "ptes", "PTEs the reverse-map walks looked at",
       stats_.rmap_ptes_checked},
      {"pressure.direct_reclaims", "calls", "calls that entered direct reclaim",
       pst_.direct_reclaims},
      {"pressure.direct_resumes", "passes",
       "direct reclaim passes resumed after sleeping for their own writes (not new calls)",
       pst_.direct_resumes},
      {"pressure.direct_cycles", "cycles", "cycles tasks spent in direct reclaim",
       pst_.direct_cycles},
      {"pressure.kswapd_wakeups", "wakeups", "allocations that woke kswapd (below low)",
       pst_.kswapd_wakeups},
      {"pressure.kswapd_runs", "runs", "kswapd balance runs", pst_.kswapd_runs},
      {"pressure.kswapd_cycles", "cycles", "cycles kswapd spent reclaiming", pst_.kswapd_cycles},
      {"pressure.ra_refused", "pages", "readahead frames refused at or below the min watermark",
       pst_.ra_refused},
      {"pressure.oom_stops", "calls", "out of memory with os.linux.oom_kill off", pst_.oom_stops},

      {"swap.cache_hits", "faults", "swap faults that found their page in the swap cache",
       sws_.swapcache_hits},
      {"swap.cache_freed", "pages",
       "pages dropped from the swap cache at a swap-in, a write, a zap or reclaim's activation "
       "(their slot freed)",
       sws_.swapcache_freed},
      {"swap.activate_freed", "pages",
       "of swap.cache_freed: pages reclaim kept in memory that gave their slot back because "
       "swap was more than half full or the page mlocked (activate_locked)",
       sws_.activate_freed},
      {"swap.write_requests", "requests",
       "swap-out block requests submitted, after reclaim's plug merged adjacent slots",
       sws_.write_requests},
      {"swap.write_merges", "pages",
       "swap-out pages merged into the plugged request before them (adjacent slots)",
       sws_.write_merges},
      {"swap.reclaim_yields", "passes",
       "reclaim passes (direct or kswapd) that stopped for their writes' completions and "
       "resumed",
       sws_.reclaim_yields},
      {"pressure.wmark_min", "pages", "the min watermark (sum over zones)",
       zones_->sum(Wmark::kMin)},
      {"pressure.wmark_low", "pages", "the low watermark (sum over zones)",
       zones_->sum(Wmark::kLow)},
      {"pressure.wmark_high", "pages", "the high watermark (sum over zones)",
       zones_->sum(Wmark::kHigh)},
  };
  for (const auto& c : counters) v.counter(p + c.name, c.unit, c.desc, c.value);
  if (cfg_.pressure.memory_max != 0) {  // the memory cgroup's memory.events and memory.peak
    v.counter(p + "memcg.max", "calls",
              "fault and system-call entries that found the cgroup at os.linux.memory_max",
              pst_.memcg_max);
    v.counter(p + "memcg.reclaims", "passes", "reclaim passes for the cgroup's limit",
              pst_.memcg_reclaims);
    v.counter(p + "memcg.oom_kill", "processes", "processes killed for the cgroup's limit",
              pst_.memcg_oom_kill);
    v.counter(p + "memcg.peak", "pages", "the cgroup's peak usage seen at an entry (memory.peak)",
              std::max(pst_.memcg_peak, memcg_usage()));
  }
  uint64_t total = 0;
  for (const auto& [reason, n] : stats_.divergence) {
    v.counter(p + "divergence." + reason, "events",
              "recorded successes the model refuses, by reason", n);
    total += n;
  }
  v.counter(p + "divergences", "events", "recorded successes the model refuses", total);
  PrefixedVisitor r(v, p);
  reclaim_->visit(r);
}

void LinuxKernel::visit_vmstat(StatVisitor& v) const {
  const FileCacheStats& fc = cache_.stats();
  uint64_t tables = 0;
  std::vector<const AddressSpace*> seen;
  for (const auto& [pid, p] : procs_) {
    if (!p.mm || std::find(seen.begin(), seen.end(), p.mm.get()) != seen.end()) continue;
    seen.push_back(p.mm.get());
    tables += p.mm->table().table_frames();
  }
  const struct {
    const char* name;
    const char* unit;
    uint64_t value;
  } counters[] = {
      {"pgfault", "faults", stats_.pgfault},
      {"pgmajfault", "faults", stats_.pgmajfault},
      {"pgalloc_normal", "pages", stats_.pgalloc + stats_.tables_allocated + fc.pages_read},
      {"pgfree", "pages", stats_.pgfree + stats_.tables_freed + fc.pages_freed},
      {"pgreuse", "faults", stats_.pgreuse},
      {"cow_ksm", "faults", 0},
      {"thp_fault_alloc", "faults", 0},
      {"thp_fault_fallback", "faults", 0},
      {"pgpgin", "KiB", fc.pages_read * 4},
      {"pgpgout", "KiB", fc.pages_written * 4},
      {"nr_free_pages", "pages", frames_.frames_free()},
      {"nr_anon_pages", "pages", stats_.nr_anon_pages},
      {"nr_mapped", "pages", stats_.nr_mapped},
      {"nr_file_pages", "pages", fc.nr_file_pages + stats_.nr_shmem},
      {"nr_shmem", "pages", stats_.nr_shmem},
      {"nr_dirty", "pages", fc.nr_dirty},
      {"nr_writeback", "pages", cache_.nr_writeback(Cycle(~uint64_t{0}))},
      {"nr_dirtied", "pages", fc.nr_dirtied},
      {"nr_written", "pages", fc.nr_written},
      {"nr_dirty_threshold", "pages", dirty_limits().limit},
      {"nr_dirty_background_threshold", "pages", dirty_limits().background},
      {"nr_page_table_pages", "pages", tables},
      {"allocstall_normal", "stalls", pst_.allocstall},
      {"kswapd_low_wmark_hit_quickly", "naps", pst_.low_wmark_hit_quickly},
      {"kswapd_high_wmark_hit_quickly", "naps", pst_.high_wmark_hit_quickly},
      {"oom_kill", "processes", pst_.oom_kill},
      {"pswpin", "pages", sws_.pswpin},
      {"pswpout", "pages", sws_.pswpout},
      {"swap_ra", "pages", sws_.swap_ra},
      {"swap_ra_hit", "pages", sws_.swap_ra_hit},
      {"nr_swapcached", "pages", swap_cache_.size()},
      {"nr_swap_used", "pages", swap_ ? swap_->used() : 0},
      {"nr_swap_total", "pages", swap_ ? swap_->total() : 0},
  };
  for (const auto& c : counters) {
    v.counter(std::string("vmstat.") + c.name, c.unit, "as /proc/vmstat", c.value);
  }
  PrefixedVisitor r(v, "vmstat.");
  reclaim_->visit_vmstat(r);
}

}  // namespace mmusim
