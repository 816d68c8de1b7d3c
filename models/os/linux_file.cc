// File calls of the Linux model: FILE, OPEN, CLOSE, read/write through the
// page cache with the copy to or from the user buffer (os-model.md §4.2:
// the kernel-side accesses a trace lacks), LSEEK, FADVISE, FSYNC and the
// writeback shared with msync (os-model.md §2.7: mkclean write-protects the
// written pages' shared PTEs, so the next write faults again). A call on a
// descriptor no OPEN made (stdin/stdout/stderr, pipes, sockets) is counted
// (kernel.linux.untracked_fd) and costs only its entry, base and exit.
#include <algorithm>

#include "models/os/linux_kernel.h"

namespace mmusim {

KernelStep LinuxKernel::ev_file(const FileEvent& b, Clock& /*clk*/) {
  const uint32_t devices = cfg_.file_cache.devices;
  if (devices != 0 && b.dev >= devices) {
    FaultOutcome o;
    o.action = FaultOutcome::Action::kStop;
    o.message = "FILE event: file_id " + std::to_string(b.file_id) + " is on device " +
                std::to_string(b.dev) + ", but disk.model lists " + std::to_string(devices) +
                " device(s), numbered from 0";
    return KernelStep::done(o);
  }
  if (!cache_.add_file(b)) {
    FaultOutcome o;
    o.action = FaultOutcome::Action::kStop;
    o.message = "FILE event: file_id " + std::to_string(b.file_id) +
                " declared again with another size (" + std::to_string(b.size) + " bytes)";
    return KernelStep::done(o);
  }
  return KernelStep::done(FaultOutcome{});
}

void LinuxKernel::ensure_file(uint32_t id) {
  if (id == 0 || cache_.file_size(id) != 0) return;
  FileEvent f;
  f.file_id = id;
  cache_.add_file(f);  // a no-op when it was declared with size 0
}

KernelStep LinuxKernel::ev_open(const OsEvent& e, const OpenEvent& b, Clock& clk) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.open);
  if (b.ret < 0) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  ensure_file(b.file_id);
  auto of = std::make_shared<OpenFile>();
  of->file_id = b.file_id;
  of->flags = b.flags;
  const auto fd = static_cast<int32_t>(b.ret);
  if (p.fds.count(fd) != 0) diverge("open_fd_in_use");
  p.fds[fd] = of;
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_close(const OsEvent& e, const CloseEvent& b, Clock& clk) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.close);
  if (b.ret < 0) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  if (p.fds.erase(b.fd) == 0) ++stats_.untracked_fd;  // stdin/out/err, pipes, ...
  return KernelStep::done(FaultOutcome{});
}

OpenFile* LinuxKernel::open_file(const Process& p, int32_t fd) {
  auto it = p.fds.find(fd);
  if (it != p.fds.end()) return it->second.get();
  ++stats_.untracked_fd;  // stdin/out/err, pipes, sockets: calls the model does not follow
  return nullptr;
}

KernelStep LinuxKernel::ev_lseek(const OsEvent& e, const LseekEvent& b, Clock& clk) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.lseek);
  if (b.ret < 0) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  OpenFile* f = open_file(p, b.fd);
  if (f == nullptr) return KernelStep::done(FaultOutcome{});
  f->pos = static_cast<uint64_t>(b.ret);  // the recorded position
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_fadvise(const OsEvent& e, const FadviseEvent& b, Clock& clk) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.fadvise);
  OpenFile* f = open_file(p, b.fd);
  if (f == nullptr) return KernelStep::done(FaultOutcome{});
  cache_.fadvise(*f, b, clk.t);  // readahead is not waited for
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::ev_fsync(const OsEvent& e, const FsyncEvent& b, const TaskCall& c,
                                 Clock& clk, KernelServices& s, Flush& fl) {
  Process& p = procs_.at(e.pid);
  clk.add(FaultTiming::kVmaLookup, cfg_.cost.fsync);
  if (b.ret < 0) {
    ++stats_.recorded_failures;
    return KernelStep::done(FaultOutcome{});
  }
  const OpenFile* f = open_file(p, b.fd);
  if (f == nullptr) return KernelStep::done(FaultOutcome{});
  const uint32_t id = f->file_id;
  const uint64_t size = cache_.file_size(id);
  if (size == 0) return KernelStep::done(FaultOutcome{});
  const uint64_t group = new_key(4, next_key_++);
  writeback(id, 0, (size - 1) / kPageBytes, c, clk, s, fl, group);
  return wait_group(group, clk);
}

KernelStep LinuxKernel::wait_group(uint64_t group, Clock& clk) {
  const Cycle done = cache_.close_group(group);
  if (done > clk.t) return KernelStep::wait_io(group, done);  // the maximum: its release
  cache_.forget(group);
  return KernelStep::done(FaultOutcome{});
}

void LinuxKernel::writeback(uint32_t file_id, uint64_t first, uint64_t last, const TaskCall& c,
                            Clock& clk, KernelServices& s, Flush& fl, uint64_t group) {
  std::vector<uint64_t> cleaned;
  cache_.writeback(
      file_id, first, last, clk.t, [&cleaned](uint64_t index) { cleaned.push_back(index); }, group);
  if (cleaned.empty()) return;
  std::sort(cleaned.begin(), cleaned.end());
  // folio_mkclean(): every shared PTE of a written page is write-protected
  // and cleaned, in every address space that maps it.
  const AddressSpace* caller = address_space(c.task.pid);
  std::vector<AddressSpace*> seen;
  for (auto& [pid, q] : procs_) {
    if (!q.mm || std::find(seen.begin(), seen.end(), q.mm.get()) != seen.end()) continue;
    AddressSpace& mm = *q.mm;
    seen.push_back(&mm);
    PageTableLog log;
    uint64_t count = 0, lo = UINT64_MAX, hi = 0;
    for (const auto& [start, v] : mm.vmas().all()) {
      if (!v.is_file() || !v.shared() || v.file_id != file_id) continue;
      auto from = std::lower_bound(cleaned.begin(), cleaned.end(), v.pgoff);
      for (auto i = from; i != cleaned.end() && *i < v.pgoff + v.pages(); ++i) {
        const uint64_t va = v.start + (*i - v.pgoff) * kPageBytes;
        const auto m = mm.table().lookup(LinearAddr(va));
        if (!m || !(m->entry & (pte::kRW | pte::kD))) continue;
        mm.table().write_leaf_entry(LinearAddr(va), PageSize::k4K, m->entry & ~(pte::kRW | pte::kD),
                                    &log);
        ++count;
        lo = std::min(lo, va);
        hi = std::max(hi, va + kPageBytes);
      }
    }
    if (count == 0) continue;
    stats_.writeback_mkclean += count;
    clk.add(FaultTiming::kPteInstall, cfg_.cost.change_pte * count);
    charge_pt(clk, log, s);
    flush_range(mm, c.cpu, lo, hi, clk, s, fl, &mm == caller);
  }
}

bool LinuxKernel::fault_inline(Process& p, const TaskCall& c, uint64_t va, bool write, Clock& clk,
                               KernelServices& s, Flush& fl) {
  // A copy_to_user/copy_from_user fault: handled as the CPU's would be, in
  // the call's time, when it needs no I/O; otherwise (or for a bad address:
  // -EFAULT, no signal) the page is skipped.
  AddressSpace& mm = *p.mm;
  const uint64_t page = page_down(va);
  const auto m = mm.table().lookup(LinearAddr(page));
  const Vma* v = mm.vmas().find(va);
  std::optional<Vma> imp;
  if (v == nullptr) {
    imp = mm.implicit_vma(va);
    if (!imp) return false;
    v = &*imp;
  }
  if ((write && !(v->flags & vm::kWrite)) || !(v->flags & vm::kAccessFlags)) return false;
  if (v->is_file() && !m) return false;  // may need I/O
  FaultState st;
  st.f.addr = LinearAddr(va);
  st.f.kind = write ? AccessKind::kWrite : AccessKind::kRead;
  st.f.fault = m ? FaultKind::kWriteProtect : FaultKind::kNotPresent;
  st.f.user = false;
  st.f.cpu = c.cpu;
  st.f.pid = c.task.pid;
  st.f.tid = c.task.tid;
  st.f.pcid = pcid_of(c.task.pid);
  st.f.raised = clk.t;
  st.clk.t = clk.t;
  st.clk.add(FaultTiming::kTrap, cfg_.cost.trap);
  const KernelStep r = handle(st, s);
  if (r.kind != KernelStep::Kind::kDone) {
    faults_.erase(FaultKey{st.f.pid, st.f.tid, st.f.cpu});  // a concurrent fault holds it
    return false;
  }
  if (r.outcome.action != FaultOutcome::Action::kRetry) return false;
  for (size_t i = 0; i < FaultTiming::kNumParts; ++i) {
    clk.add(static_cast<FaultTiming::Part>(i), Cycles(r.outcome.timing.part[i]));
  }
  if (r.outcome.tlb_flush_page) {
    Flush f;
    f.kind = Flush::Kind::kPages;
    f.start = LinearAddr(page);
    f.pages = 1;
    merge_flush(fl, f);
  }
  ++stats_.inline_faults;
  FaultOutcome done = r.outcome;  // reported as its own class (kernel module)
  done.cls = FaultClass::kUaccess;
  uaccess_done_.emplace_back(st.f, done);
  return true;
}

void LinuxKernel::copy_user(Process& p, const TaskCall& c, uint64_t va, PhysAddr phys, uint64_t len,
                            bool to_user, Clock& clk, KernelServices& s, Flush& fl) {
  for (uint64_t off = 0; off < len;) {
    const uint64_t uva = va + off;
    const uint64_t upage = page_down(uva);
    const uint64_t chunk = std::min(len - off, upage + kPageBytes - uva);
    auto m = p.mm->table().lookup(LinearAddr(upage));
    if (!m || (to_user && !(m->entry & pte::kRW)) || !(m->entry & pte::kUS)) {
      if (fault_inline(p, c, uva, to_user, clk, s, fl)) m = p.mm->table().lookup(LinearAddr(upage));
      if (!m || (to_user && !(m->entry & pte::kRW))) {
        ++stats_.rw_buf_skipped;
        off += chunk;
        continue;
      }
    }
    // The lines of the user range, each read from one side and written to
    // the other (copy_to_user / copy_from_user: rep movsb), each write once
    // its read completed; a destination line the chunk covers entirely is a
    // whole-line write.
    const uint64_t ubase = (m->pfn.value() << 12) + (uva - upage);
    const uint64_t kbase = phys.value() + off;
    const uint64_t lines = ((uva + chunk - 1) >> 6) - (uva >> 6) + 1;
    const uint64_t from = to_user ? kbase : ubase;
    const uint64_t to = to_user ? ubase : kbase;
    std::vector<uint64_t> src(lines), dst(lines);
    std::vector<uint8_t> whole(lines);
    for (uint64_t i = 0; i < lines; ++i) {
      src[i] = (from + i * 64) & ~uint64_t{63};
      dst[i] = (to + i * 64) & ~uint64_t{63};
      whole[i] = dst[i] >= to && dst[i] + 64 <= to + chunk ? 1 : 0;
    }
    clk.until(FaultTiming::kZeroCopy,
              s.copy_lines(src.data(), dst.data(), whole.data(), lines, clk.t, cfg_.lines));
    stats_.copy_lines += lines;
    off += chunk;
  }
}

KernelStep LinuxKernel::ev_rw(const OsEvent& e, const RwEvent& b, const TaskCall& c, EventState& st,
                              KernelServices& s) {
  Process& p = procs_.at(e.pid);
  Clock& clk = st.clk;
  const bool read = b.op == RwEvent::Op::kRead || b.op == RwEvent::Op::kPread;
  const bool positional = b.op == RwEvent::Op::kPread || b.op == RwEvent::Op::kPwrite;
  const bool resumed =
      st.stage == EventState::Stage::kReadIo || st.stage == EventState::Stage::kWriteIo;
  auto it = p.fds.find(b.fd);
  if (!resumed) {
    clk.add(FaultTiming::kVmaLookup, cfg_.cost.rw);
    if (b.ret < 0) {
      ++stats_.recorded_failures;
      return KernelStep::done(FaultOutcome{});
    }
    if (it == p.fds.end()) {
      ++stats_.untracked_fd;
      return KernelStep::done(FaultOutcome{});
    }
    OpenFile& of = *it->second;
    uint64_t offset = of.pos;
    if (positional) {
      offset = b.offset;
    } else if (!read && (of.flags & linux_abi::kOAppend)) {
      offset = cache_.file_size(of.file_id);
    }
    st.offset = offset;
    st.done = 0;
  }
  if (it == p.fds.end() || it->second->file_id == 0) {
    return KernelStep::done(FaultOutcome{});  // closed meanwhile, or no file behind it
  }
  OpenFile& of = *it->second;
  const auto n = static_cast<uint64_t>(b.ret);
  const uint64_t call_start = st.offset - st.done;
  const uint64_t call_end = call_start + n;
  while (st.offset < call_end) {
    std::vector<CachedPage> pages;
    const FilePageResult r = read ? cache_.read(of, st.offset, call_end - st.offset, clk.t, pages)
                                  : cache_.write(of, st.offset, call_end - st.offset, clk.t, pages);
    if (r.ios > 0) clk.add(FaultTiming::kIoQueue, cfg_.cost.io_submit);
    clk.add(FaultTiming::kVmaLookup, cfg_.cost.rw_page * pages.size());
    uint64_t cur = st.offset;
    for (const CachedPage& pg : pages) {
      const uint64_t a = std::max(cur, pg.index * kPageBytes);
      const uint64_t z = std::min(call_end, (pg.index + 1) * kPageBytes);
      if (z <= a) continue;
      copy_user(p, c, b.buf + (a - call_start), PhysAddr((pg.frame.value() << 12) + a % kPageBytes),
                z - a, read, clk, s, st.flush);
      cur = z;
    }
    st.done += cur - st.offset;
    st.offset = cur;
    if (r.status == FilePageResult::Status::kWait) {
      st.stage = read ? EventState::Stage::kReadIo : EventState::Stage::kWriteIo;
      return KernelStep::wait_io(r.key, max(r.until, clk.t));
    }
    if (r.status == FilePageResult::Status::kNoMemory) {
      FaultOutcome o;
      o.action = FaultOutcome::Action::kStop;
      o.message = "physical memory exhausted: no frame for a page-cache page";
      return KernelStep::done(o);
    }
    // kReady (every page delivered) or kBeyondEof: the model's file ends
    // before the recorded count; the rest is not copied.
    break;
  }
  if (!read) {
    KernelStep t = balance_dirty(st.throttle, st.clk, st.flush, c, s);
    if (t.kind != KernelStep::Kind::kDone) {
      st.stage = EventState::Stage::kWriteIo;
      return t;
    }
  }
  if (!positional) of.pos = call_end;  // the recorded count moves the position
  return KernelStep::done(FaultOutcome{});
}

}  // namespace mmusim

namespace mmusim {

// ------------------------------------------------------ dirty writeback

LinuxKernel::DirtyLimits LinuxKernel::dirty_limits() const {
  // domain_dirty_limits: ratios in 1/4096 units (per PAGE_SIZE) of the
  // dirtyable memory; *_bytes rounded up to pages; bg below thresh.
  const WritebackConfig& w = cfg_.writeback;
  const uint64_t avail = frames_.frames_free() + cache_.stats().nr_file_pages;
  const uint64_t ratio = uint64_t{w.dirty_ratio} * kPageBytes / 100;
  const uint64_t bg_ratio = uint64_t{w.dirty_background_ratio} * kPageBytes / 100;
  DirtyLimits l;
  l.limit = w.dirty_bytes != 0 ? (w.dirty_bytes + kPageBytes - 1) / kPageBytes
                               : ratio * avail / kPageBytes;
  l.background = w.dirty_background_bytes != 0
                     ? (w.dirty_background_bytes + kPageBytes - 1) / kPageBytes
                     : bg_ratio * avail / kPageBytes;
  if (l.background >= l.limit) l.background = l.limit / 2;
  return l;
}

void LinuxKernel::set_flusher(const std::function<void(Cycle)>& wake) { wake_flusher_ = wake; }

void LinuxKernel::dirtied(Cycle at) {
  if (!wake_flusher_) return;
  const WritebackConfig& w = cfg_.writeback;
  // __mark_inode_dirty -> wb_wakeup_delayed: the flusher runs one period
  // after dirty pages appear (queue_delayed_work: no change when pending).
  if (next_flush_ == kNeverCycle && w.dirty_writeback_centisecs != 0) {
    next_flush_ = at + w.interval();
    wake_flusher_(next_flush_);
  }
  // balance_dirty_pages -> wb_start_background_writeback: at once.
  if (!bg_kicked_ && cache_.stats().nr_dirty > dirty_limits().background) {
    bg_kicked_ = true;
    next_flush_ = min(next_flush_, at);
    wake_flusher_(at);
  }
}

uint64_t LinuxKernel::write_file(uint32_t id, const TaskCall& c, Clock& clk, KernelServices& s,
                                 Flush& fl) {
  const uint64_t before = cache_.stats().pages_written;
  writeback(id, 0, ~uint64_t{0}, c, clk, s, fl, 0);
  return cache_.stats().pages_written - before;
}

LinuxKernel::FlushRun LinuxKernel::flush(Cycle now, KernelServices& s) {
  // wb_workfn -> wb_do_writeback: wb_check_old_data_flush (kupdate), then
  // wb_check_background_flush; WB_SYNC_NONE (no wait for completions).
  const WritebackConfig& w = cfg_.writeback;
  ++stats_.flusher_runs;
  bg_kicked_ = false;
  Clock clk;
  clk.t = now;
  TaskCall c;  // no task, no CPU of its own: every CPU running a process takes the IPI
  c.task = TaskId{0, 0};
  c.cpu = ~uint32_t{0};
  c.at = now;
  Flush fl;
  if (w.dirty_writeback_centisecs != 0 && now >= last_old_flush_ + w.interval()) {
    last_old_flush_ = now;
    // Files whose dirtied_when is at least dirty_expire before now, oldest
    // first (move_expired_inodes).
    for (uint32_t id : cache_.dirty_files()) {
      const std::optional<Cycle> since = cache_.dirtied_when(id);
      if (!since || *since + w.expire() > now) break;
      stats_.flusher_pages += write_file(id, c, clk, s, fl);
      ++stats_.flusher_kupdate;
    }
  }
  // wb_over_bg_thresh: nr_dirty (writeback excluded) above bg_thresh.
  while (cache_.stats().nr_dirty > dirty_limits().background) {
    const std::vector<uint32_t> files = cache_.dirty_files();
    if (files.empty()) break;
    stats_.flusher_pages += write_file(files.front(), c, clk, s, fl);
    ++stats_.flusher_background;
  }
  FlushRun r;
  r.busy_until = clk.t;
  // wb_workfn's tail: re-armed one period later while dirty pages remain.
  next_flush_ = cache_.stats().nr_dirty > 0 && w.dirty_writeback_centisecs != 0 ? now + w.interval()
                                                                                : kNeverCycle;
  r.next = next_flush_;
  return r;
}

KernelStep LinuxKernel::balance_dirty(DirtyThrottle& th, Clock& clk, Flush& fl, const TaskCall& c,
                                      KernelServices& s) {
  // balance_dirty_pages, simplified (README "Dirty page writeback"): above
  // the limit (dirty + writeback > thresh) the writer writes the oldest
  // dirty files until nr_dirty <= bg_thresh, then sleeps until enough of
  // the writeback completes to bring dirty + writeback to the limit, at
  // most MAX_PAUSE per sleep, and checks again.
  for (;;) {
    const DirtyLimits lim = dirty_limits();
    dirty_exceeded_ = cache_.stats().nr_dirty + cache_.nr_writeback(clk.t) > lim.limit;
    if (!dirty_exceeded_) break;
    if (!th.throttled) {
      th.throttled = true;
      th.from = clk.t;
      ++stats_.throttles;
    }
    while (cache_.stats().nr_dirty > lim.background) {
      const std::vector<uint32_t> files = cache_.dirty_files();
      if (files.empty()) break;
      stats_.throttle_pages += write_file(files.front(), c, clk, s, fl);
    }
    const uint64_t dirty = cache_.stats().nr_dirty;
    const uint64_t room = lim.limit > dirty ? lim.limit - dirty : 0;
    const std::optional<Cycle> t = cache_.writeback_below(room, clk.t);
    if (!t) {
      ++throttle_waiters_;
      return KernelStep::wait_io(kThrottleKey, kNeverCycle);
    }
    if (*t > clk.t) {
      return KernelStep::wait_io(kThrottleKey, min(*t, clk.t + cfg_.writeback.max_pause()));
    }
  }
  if (th.throttled) {
    th.throttled = false;
    stats_.throttle_cycles += (clk.t - th.from).count();
  }
  return KernelStep::done(FaultOutcome{});
}

KernelStep LinuxKernel::balance_dirty_ratelimited(FaultState& st, KernelServices& s) {
  // balance_dirty_pages_ratelimited: a task checks the limits once per
  // nr_dirtied_pause pages it dirtied (32 at 4 KiB pages; 8 while the last
  // check found the limit exceeded), or sooner when its CPU has dirtied
  // ratelimit_pages (the limit / (32 x online CPUs), at least 16) since a
  // check there. The check throttles as a write()'s does; a wake-up
  // re-enters it (th.throttled).
  const TaskCall c{TaskId{st.f.pid, st.f.tid}, st.f.cpu, st.clk.t};
  if (!st.throttle.throttled) {
    uint32_t& n = nr_dirtied_[c.task];
    uint64_t& on_cpu = bdp_ratelimits_[c.cpu];
    ++n;
    ++on_cpu;
    uint32_t ratelimit = dirty_exceeded_ ? kDirtyRatelimitExceeded : kDirtyRatelimit;
    const uint64_t ratelimit_pages =
        std::max<uint64_t>(dirty_limits().limit / (uint64_t{32} * cfg_.writeback.online_cpus), 16);
    if (n >= ratelimit) {
      on_cpu = 0;
    } else if (on_cpu >= ratelimit_pages) {
      on_cpu = 0;
      ratelimit = 0;
    }
    if (n < ratelimit) return KernelStep::done(FaultOutcome{});
    n = 0;
  }
  return balance_dirty(st.throttle, st.clk, st.flush, c, s);
}

}  // namespace mmusim
