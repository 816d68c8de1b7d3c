// The Linux model's events: dispatch and waits, and the process events
// (START, PROC_CREATE: fork/vfork/clone with dup_mmap, os-model.md §2.5;
// THREAD_CREATE, EXEC §2.6, EXIT, WAIT).
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {
namespace {

bool is_syscall(const OsEvent& e) {
  return !std::holds_alternative<FileEvent>(e.body) &&
         !std::holds_alternative<StartEvent>(e.body) &&
         !std::holds_alternative<VmaInitEvent>(e.body) &&
         !std::holds_alternative<CtxSwitchEvent>(e.body);
}

// The frame a present leaf of size `s` maps.
Pfn leaf_pfn(const PagingModeInfo& m, PageSize s, uint64_t e) {
  for (unsigned l = 0; l < m.levels; ++l) {
    if ((m.level[l].may_be_leaf || l + 1 == m.levels) && m.level[l].leaf_size == s) {
      return Pfn(entry_address(m, l, e, true) >> 12);
    }
  }
  return Pfn(entry_address(m, m.levels - 1, e, true) >> 12);
}

}  // namespace

KernelStep LinuxKernel::event(const OsEvent& e, const TaskCall& c, KernelServices& s) {
  ++stats_.events[e.body.index()];
  cpu_ = c.cpu;
  EventState st;
  st.clk.t = c.at;
  if (!std::holds_alternative<FileEvent>(e.body)) {
    Process& p = ensure_process(e.pid);
    if (p.state != Process::State::kRunning) {
      FaultOutcome o;
      o.resume = c.at;
      return KernelStep::done(o);  // a dead process's leftovers
    }
    if (e.tid != 0 && p.threads.count(e.tid) == 0) p.threads.insert(e.tid);
  }
  if (is_syscall(e)) st.clk.add(FaultTiming::kTrap, cfg_.cost.syscall_entry);
  return event_body(e, c, st, s);
}

KernelStep LinuxKernel::event_body(const OsEvent& e, const TaskCall& c, EventState& st,
                                   KernelServices& s) {
  if (!std::holds_alternative<FileEvent>(e.body)) {
    // The allocation path's watermark checks, before the call allocates.
    std::string why;
    const TaskCall now{c.task, c.cpu, st.clk.t};
    switch (reserve(st.clk, s, now, why)) {
      case Reserve::kOk: break;
      case Reserve::kKilledSelf: {
        FaultOutcome o;
        o.action = FaultOutcome::Action::kKill;
        o.resume = st.clk.t;
        o.timing = st.clk.timing;
        return KernelStep::done(o);
      }
      case Reserve::kStop: {
        FaultOutcome o;
        o.action = FaultOutcome::Action::kStop;
        o.message = why;
        o.resume = st.clk.t;
        return KernelStep::done(o);
      }
      case Reserve::kWait:
        st.stage = EventState::Stage::kReclaim;
        return complete_event(e, c, st, KernelStep::wait_page(reserve_key_));
    }
  }
  KernelStep r = dispatch(e, c, st, s);
  return complete_event(e, c, st, std::move(r));
}

KernelStep LinuxKernel::complete_event(const OsEvent& e, const TaskCall& c, EventState& st,
                                       KernelStep r) {
  if (r.kind != KernelStep::Kind::kDone) {
    events_[c.task] = st;
    return r;
  }
  FaultOutcome o = std::move(r.outcome);
  if (is_syscall(e) && o.action == FaultOutcome::Action::kRetry &&
      !std::holds_alternative<ExitEvent>(e.body)) {
    st.clk.add(FaultTiming::kReturn, cfg_.cost.syscall_exit);
  }
  o.resume = st.clk.t;
  o.timing = st.clk.timing;
  o.flush = st.flush;
  return KernelStep::done(o);
}

KernelStep LinuxKernel::dispatch(const OsEvent& e, const TaskCall& c, EventState& st,
                                 KernelServices& s) {
  Clock& clk = st.clk;
  Flush& fl = st.flush;
  const OsEventBody& b = e.body;
  if (const auto* x = std::get_if<FileEvent>(&b)) return ev_file(*x, clk);
  if (const auto* x = std::get_if<StartEvent>(&b)) return ev_start(e, *x, clk);
  if (const auto* x = std::get_if<ProcCreateEvent>(&b)) return ev_proc_create(e, *x, c, st, s);
  if (const auto* x = std::get_if<ThreadCreateEvent>(&b)) return ev_thread_create(e, *x, clk, s);
  if (const auto* x = std::get_if<ExecEvent>(&b)) return ev_exec(e, *x, clk, s);
  if (const auto* x = std::get_if<VmaInitEvent>(&b)) return ev_vma_init(e, *x, clk);
  if (const auto* x = std::get_if<ExitEvent>(&b)) return ev_exit(e, *x, clk, s);
  if (const auto* x = std::get_if<WaitEvent>(&b)) return ev_wait(e, *x, st);
  if (const auto* x = std::get_if<MmapEvent>(&b)) return ev_mmap(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<MunmapEvent>(&b)) return ev_munmap(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<MprotectEvent>(&b)) return ev_mprotect(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<MremapEvent>(&b)) return ev_mremap(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<BrkEvent>(&b)) return ev_brk(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<MsyncEvent>(&b)) return ev_msync(e, *x, c, clk, s, fl);
  if (const auto* x = std::get_if<MadviseEvent>(&b)) return ev_madvise(e, *x, clk, s, fl);
  if (const auto* x = std::get_if<OpenEvent>(&b)) return ev_open(e, *x, clk);
  if (const auto* x = std::get_if<CloseEvent>(&b)) return ev_close(e, *x, clk);
  if (const auto* x = std::get_if<RwEvent>(&b)) return ev_rw(e, *x, c, st, s);
  if (const auto* x = std::get_if<LseekEvent>(&b)) return ev_lseek(e, *x, clk);
  if (const auto* x = std::get_if<FadviseEvent>(&b)) return ev_fadvise(e, *x, clk);
  if (const auto* x = std::get_if<FsyncEvent>(&b)) return ev_fsync(e, *x, c, clk, s, fl);
  // CTXSW: the scheduler's (kernel module); nothing for the core.
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::resume_event(const OsEvent& e, const TaskCall& c, uint64_t key, Cycle now,
                                     KernelServices& s) {
  auto it = events_.find(c.task);
  if (it == events_.end()) {
    TaskCall later = c;
    later.at = now;
    return event(e, later, s);
  }
  EventState st = it->second;
  events_.erase(it);
  cpu_ = c.cpu;
  KernelStep r = KernelStep::done(FaultOutcome{});
  switch (st.stage) {
    case EventState::Stage::kChild: {
      st.clk.until(FaultTiming::kWake, now);
      st.clk.add(FaultTiming::kWake, cfg_.cost.wake);
      const auto* w = std::get_if<WaitEvent>(&e.body);
      const Process* child = w ? process(static_cast<uint32_t>(w->ret)) : nullptr;
      if (child != nullptr && child->state == Process::State::kRunning) {
        r = KernelStep::wait_page(child_key(child->pid));  // woken early: wait on
      } else {
        if (child != nullptr && child->state == Process::State::kZombie) reap(child->pid);
        st.clk.add(FaultTiming::kAlloc, cfg_.cost.wait);
      }
      break;
    }
    case EventState::Stage::kVfork:
      st.clk.until(FaultTiming::kWake, now);
      st.clk.add(FaultTiming::kWake, cfg_.cost.wake);
      break;
    case EventState::Stage::kReadIo:
    case EventState::Stage::kWriteIo:
      io_parts(st.clk, key, now);
      if (const auto* rw = std::get_if<RwEvent>(&e.body)) r = ev_rw(e, *rw, c, st, s);
      break;
    case EventState::Stage::kSync:
      io_parts(st.clk, key, now);
      cache_.forget(key);
      break;
    case EventState::Stage::kReclaim:
      st.clk.until(FaultTiming::kReclaim, now);
      return event_body(e, c, st, s);
  }
  return complete_event(e, c, st, std::move(r));
}

// ---------------------------------------------------------------- processes

KernelStep LinuxKernel::ev_start(const OsEvent& e, const StartEvent& b, Clock& /*clk*/) {
  Process& p = ensure_process(e.pid);
  p.implicit = false;
  p.name = b.name;
  p.oom_score_adj = b.oom_score_adj;
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_proc_create(const OsEvent& e, const ProcCreateEvent& b,
                                       const TaskCall& c, EventState& st, KernelServices& s) {
  Clock& clk = st.clk;
  const uint32_t cp = b.child_pid;
  const uint32_t ctid = b.child_tid != 0 ? b.child_tid : cp;
  if (cp == 0 || cp == e.pid) {
    diverge("proc_create_bad_pid");
    return KernelStep::done(FaultOutcome{});
  }
  if (auto it = procs_.find(cp); it != procs_.end()) {
    Process& old = it->second;
    const bool pristine = old.implicit && old.mm && old.mm->vmas().empty() &&
                          old.mm->rss.total() == 0 && old.state == Process::State::kRunning;
    if (!pristine && old.state != Process::State::kReaped) {
      diverge("proc_create_pid_in_use");
      return KernelStep::done(FaultOutcome{});
    }
    if (old.mm) detach_mm(old, clk, nullptr);
    procs_.erase(it);
  }
  Process& parent = procs_.at(e.pid);
  const bool vfork =
      b.kind == ProcCreateEvent::Kind::kVfork || (b.clone_flags & linux_abi::kCloneVfork) != 0;
  const bool share_vm = vfork || (b.clone_flags & linux_abi::kCloneVm) != 0;
  clk.add(FaultTiming::kAlloc, cfg_.cost.fork);
  Process child;
  child.pid = cp;
  child.ppid = e.pid;
  child.name = parent.name;
  child.oom_score_adj = parent.oom_score_adj;
  child.threads.insert(ctid);
  child.fds = parent.fds;  // the descriptions are shared, as fork's dup of the table does
  child.loader_files = parent.loader_files;
  child.implicit = false;
  if (share_vm) {
    child.mm = parent.mm;
    ++child.mm->users;
    ++(vfork ? stats_.vforks : stats_.clones);
  } else {
    child.mm = dup_mm(parent, c, clk, s, st.flush);
    if (!child.mm) {
      FaultOutcome o;
      o.action = FaultOutcome::Action::kStop;
      o.message = "physical memory exhausted while forking process " + std::to_string(e.pid);
      return KernelStep::done(o);
    }
    ++stats_.forks;
  }
  if (vfork) {
    child.vfork_pending = true;
    child.vfork_parent_tid = e.tid;
  }
  procs_.at(e.pid).children.push_back(cp);
  procs_.emplace(cp, std::move(child));
  s.task_created(TaskId{e.pid, e.tid}, TaskId{cp, ctid}, clk.t);
  if (vfork) {
    st.stage = EventState::Stage::kVfork;
    return KernelStep::wait_page(vfork_key(cp));
  }
  return KernelStep::done(FaultOutcome{});
}

std::shared_ptr<AddressSpace> LinuxKernel::dup_mm(Process& parent, const TaskCall& c, Clock& clk,
                                                  KernelServices& s, Flush& fl) {
  // kernel/fork.c:dup_mmap(), mm/memory.c:copy_page_range() (os-model.md §2.5).
  AddressSpace& pm = *parent.mm;
  const uint32_t id = next_mm_++;
  PageTableLog log;
  uint64_t anon = 0, file = 0, ptes = 0, swapents = 0;
  std::optional<Vma> imp;
  const PagingModeInfo& mode = pm.table().mode();
  const CloneDecider decide = [&](LinearAddr a, PageSize sz, uint64_t e) {
    CloneDecision out;
    out.copy = false;
    const Vma* v = pm.vmas().find(a.value());
    if (v == nullptr) {
      imp = pm.implicit_vma(a.value());
      if (!imp) return out;
      v = &*imp;
    }
    // vma_needs_copy(): only VMAs with anonymous pages (an anon_vma) copy
    // their page tables; file and shared VMAs refault in the child.
    if ((v->flags & (vm::kDontCopy | vm::kWipeOnFork)) || !v->anon_vma) return out;
    out.copy = true;
    if (!(e & pte::kP)) {  // a swap entry: copied, one more reference to its slot
      ++swapents;
      if (auto se = pte_to_swp_entry(mode, e)) swap_dup(*se);
      return out;
    }
    const Pfn pfn = leaf_pfn(mode, sz, e);
    if (pfn != zero_pfn_) {
      PageFrame& m = frames_.meta(pfn);
      if (m.test(FrameFlag::kAnon)) {
        ++m.refcount;
        ++m.mapcount;
        ++anon;
      } else {
        cache_.get(CachedPage{m.index, pfn});
        ++file;
      }
    }
    // A COW mapping's writable PTE is write-protected in both; a shared
    // mapping's child PTE is clean; every child PTE is old.
    out.write_protect = v->is_cow();
    out.child_clear = pte::kA | (v->shared() ? pte::kD : 0);
    ++ptes;
    return out;
  };
  CloneResult cr = PageTable::clone(pm.table(), decide, &log, id);
  if (!cr.table) return nullptr;
  auto mm = std::make_shared<AddressSpace>(id, std::move(*cr.table), pm.layout());
  mm->start_brk = pm.start_brk;
  mm->brk = pm.brk;
  mm->stack_rlimit = pm.stack_rlimit;
  mm->implicit_anon = pm.implicit_anon;
  mm->users = 1;
  mm->rss.add_anon(static_cast<int64_t>(anon));
  mm->rss.add_file(static_cast<int64_t>(file));
  mm->rss.swapents = swapents;
  rmap_attach(pm);
  rmap_attach(*mm, pm.anon_family);  // the child joins the parent's anon family
  uint64_t nvmas = 0, charged = 0;
  for (const auto& [start, v] : pm.vmas().all()) {
    if (v.flags & vm::kDontCopy) continue;
    Vma cv = v;
    if (v.flags & vm::kWipeOnFork) cv.anon_vma = false;
    if (cv.accounted()) charged += cv.pages();
    mm->vmas().insert(std::move(cv));
    ++nvmas;
  }
  if (charged > 0 && !commit_.charge(charged, pm.vmas().total_pages())) {
    diverge("fork_overcommit");
    commit_.force(charged);
  }
  clk.add(FaultTiming::kAlloc, cfg_.cost.fork_vma * nvmas);
  clk.add(FaultTiming::kPteInstall, cfg_.cost.fork_pte * ptes);
  charge_pt(clk, log, s);
  stats_.fork_ptes += ptes;
  // flush_tlb_mm(oldmm): the parent's PTEs lost write permission.
  flush_range(pm, c.cpu, 0, pm.layout().task_size, clk, s, fl, true);
  return mm;
}

KernelStep LinuxKernel::ev_thread_create(const OsEvent& e, const ThreadCreateEvent& b, Clock& clk,
                                         KernelServices& s) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kAlloc, cfg_.cost.clone_thread);
  if (b.child_tid == 0 || p.threads.count(b.child_tid) != 0) {
    diverge("thread_create_bad_tid");
    return KernelStep::done(FaultOutcome{});
  }
  p.threads.insert(b.child_tid);
  ++stats_.threads;
  s.task_created(TaskId{e.pid, e.tid}, TaskId{e.pid, b.child_tid}, clk.t);
  return KernelStep::done(FaultOutcome{});
}

void LinuxKernel::release_shmem(std::vector<std::shared_ptr<ShmemObject>>& objs) {
  std::sort(objs.begin(), objs.end());
  objs.erase(std::unique(objs.begin(), objs.end()), objs.end());
  for (auto& o : objs) {
    if (o.use_count() > 1) continue;  // still mapped somewhere
    for (const auto& [off, pfn] : o->pages) {
      PageFrame& m = frames_.meta(pfn);
      if (--m.refcount == 0) free_frame(pfn);
    }
    o->pages.clear();
  }
  objs.clear();
}

void LinuxKernel::teardown(AddressSpace& mm, Clock& clk) {
  // exit_mmap(): every page dropped, every swap entry's slot reference
  // released (free_swap_and_cache), every table freed. The entries are not
  // rewritten one by one (the tables go whole), so no PTE traffic is timed.
  const PagingModeInfo& mode = mm.table().mode();
  std::vector<std::pair<uint64_t, uint64_t>> swap;
  const auto ptes = leaf_ptes(mm, 0, mm.layout().task_size, swap);
  for (const auto& [va, e] : ptes) {
    const Vma* v = mm.vmas().find(va);
    std::optional<Vma> imp;
    if (v == nullptr) {
      imp = mm.implicit_vma(va);
      if (!imp) {
        Vma anon;  // a page outside every VMA (should not happen): drop as anonymous
        anon.start = va;
        anon.end = va + kPageBytes;
        imp = anon;
      }
      v = &*imp;
    }
    drop_page(mm, *v, leaf_pfn(mode, PageSize::k4K, e), e);
  }
  for (const auto& [va, e] : swap) {
    --mm.rss.swapents;
    if (auto se = pte_to_swp_entry(mode, e)) swap_put(*se);
  }
  std::vector<std::shared_ptr<ShmemObject>> objs;
  uint64_t charged = 0;
  for (const auto& [start, v] : mm.vmas().all()) {
    if (v.accounted()) charged += v.pages();
    if (v.shmem) objs.push_back(v.shmem);
  }
  commit_.uncharge(charged);
  mm.vmas().clear();
  rmap_detach(mm);
  release_shmem(objs);
  const DestroyStats ds = mm.table().destroy();
  stats_.tables_freed += ds.tables_freed;
  clk.add(FaultTiming::kPteInstall, cfg_.cost.zap_pte * (ptes.size() + swap.size()));
  clk.add(FaultTiming::kAlloc, cfg_.cost.page_free * ds.tables_freed);
}

void LinuxKernel::detach_mm(Process& p, Clock& clk, KernelServices* /*s*/) {
  std::shared_ptr<AddressSpace> mm = std::move(p.mm);
  p.mm.reset();
  if (!mm) return;
  p.peak_before = std::max(p.peak_before, mm->rss.hiwater);
  if (--mm->users == 0) teardown(*mm, clk);
}

KernelStep LinuxKernel::ev_exec(const OsEvent& e, const ExecEvent& b, Clock& clk,
                                KernelServices& s) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kAlloc, cfg_.cost.exec);
  // de_thread(): the other threads end.
  for (uint32_t tid : p.threads) {
    if (tid != e.tid) s.task_exited(TaskId{p.pid, tid}, 0, true, clk.t);
  }
  p.threads = {e.tid};
  // The new mm is made before the old one goes (bprm_mm_init, exec_mmap).
  std::shared_ptr<AddressSpace> fresh = new_mm();
  detach_mm(p, clk, &s);
  p.mm = std::move(fresh);
  p.mm->users = 1;
  p.loader_files.clear();
  p.name = b.argv0;
  p.implicit = false;
  ++stats_.execs;
  if (p.vfork_pending) {
    p.vfork_pending = false;
    s.release(vfork_key(p.pid));
  }
  return KernelStep::done(FaultOutcome{});
}

bool LinuxKernel::reap(uint32_t pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || it->second.state != Process::State::kZombie) return false;
  it->second.state = Process::State::kReaped;
  ++stats_.reaped;
  return true;
}

void LinuxKernel::process_exit(Process& p, int32_t code, bool killed, Clock& clk,
                               KernelServices& s) {
  clk.add(FaultTiming::kAlloc, cfg_.cost.exit);
  detach_mm(p, clk, &s);
  p.fds.clear();
  p.loader_files.clear();
  p.state = Process::State::kZombie;
  p.exit_code = code;
  p.killed = killed;
  ++stats_.exits;
  if (p.vfork_pending) {
    p.vfork_pending = false;
    s.release(vfork_key(p.pid));
  }
  for (uint32_t c : p.children) {
    auto it = procs_.find(c);
    if (it == procs_.end()) continue;
    if (it->second.state == Process::State::kZombie) {
      reap(c);  // init reaps orphans
    } else {
      it->second.ppid = 1;
    }
  }
  auto pp = procs_.find(p.ppid);
  const bool parent_waits =
      pp != procs_.end() && pp->second.state == Process::State::kRunning && p.ppid != p.pid;
  if (!parent_waits) reap(p.pid);
  s.release(child_key(p.pid));
}

KernelStep LinuxKernel::ev_exit(const OsEvent& e, const ExitEvent& b, Clock& clk,
                                KernelServices& s) {
  Process& p = procs_.at(e.pid);
  std::vector<uint32_t> tids;
  if (b.group) {
    tids.assign(p.threads.begin(), p.threads.end());
  } else {
    tids.push_back(e.tid);
  }
  for (uint32_t tid : tids) p.threads.erase(tid);
  if (p.threads.empty()) process_exit(p, b.code, false, clk, s);
  for (uint32_t tid : tids) s.task_exited(TaskId{e.pid, tid}, b.code, false, clk.t);
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_wait(const OsEvent& /*e*/, const WaitEvent& b, EventState& st) {
  if (b.ret <= 0) {
    if (b.ret < 0) ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const auto cp = static_cast<uint32_t>(b.ret);
  auto it = procs_.find(cp);
  if (it == procs_.end()) {
    diverge("wait_unknown_child");
    return KernelStep::done(FaultOutcome{});
  }
  switch (it->second.state) {
    case Process::State::kZombie:
      reap(cp);
      st.clk.add(FaultTiming::kAlloc, cfg_.cost.wait);
      return KernelStep::done(FaultOutcome{});
    case Process::State::kReaped:
      diverge("wait_reaped_child");
      return KernelStep::done(FaultOutcome{});
    case Process::State::kRunning: break;
  }
  st.stage = EventState::Stage::kChild;
  return KernelStep::wait_page(child_key(cp));
}

}  // namespace mmusim
