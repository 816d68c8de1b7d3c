// Memory pressure in the Linux model (os-model.md §1.1-§1.4, §1.7): the
// watermark checks of the allocation path, direct reclaim in the allocating
// task's time, kswapd in its own, the OOM killer, and the kernel's side of
// the reclaim engine (reclaim.h): the rmap walks, unmapping, page-cache
// eviction and writeback that reclaim asks for, and the LRU reports of the
// page cache (PageCacheObserver).
//
// Where the checks run: at the entry of every fault and system call
// (reserve()), before the call may allocate, rather than inside each
// allocation, so that reclaim never runs in the middle of a handler that
// holds pages or iterators (a simplification: Linux checks per allocation,
// which our entry check approximates for the one page a fault needs).
// Readahead pages ask the observer for frames one by one and are refused at
// or below the min watermark (readahead_gfp_mask's __GFP_NORETRY: the
// window stops short), which is where the entry check leaves memory when
// reclaim cannot keep up.
#include <algorithm>

#include "models/os/linux_kernel.h"
#include "models/os/oom.h"

namespace mmusim {

namespace {

// The services a reclaim pass uses: its memory traffic (the rmap's PTE reads
// and writes) is recorded and answered after a fixed latency, so that no
// other thread runs while pages are isolated from their lists (a request
// through the memory model may wait for the other agents); replay() then
// sends the requests, in order, through the real services once the pass is
// over, so the DRAM still sees them. Everything else goes straight through.
class DeferredServices : public KernelServices {
 public:
  DeferredServices(KernelServices& real, Cycles latency) : real_(real), latency_(latency) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    log_.push_back(Req{line, is_write, at, false});
    return at + latency_;
  }
  Cycle mem_write_line(PhysAddr line, Cycle at) override {
    log_.push_back(Req{line, true, at, true});
    return at + latency_;
  }
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    return real_.shootdown(s, pid, self);
  }
  void release(uint64_t key) override { real_.release(key); }
  void task_created(TaskId parent, TaskId child, Cycle at) override {
    real_.task_created(parent, child, at);
  }
  void task_exited(TaskId t, int32_t code, bool killed, Cycle at) override {
    real_.task_exited(t, code, killed, at);
  }
  // Sends the recorded requests, in order (their completions are not
  // waited for: the session's time was charged per line already).
  void replay() {
    for (const Req& r : log_) {
      if (r.whole) {
        real_.mem_write_line(r.line, r.at);
      } else {
        real_.mem_access(r.line, r.write, r.at);
      }
    }
    log_.clear();
  }

 private:
  struct Req {
    PhysAddr line;
    bool write;
    Cycle at;
    bool whole;  // a whole-line write
  };
  KernelServices& real_;
  Cycles latency_;
  std::vector<Req> log_;
};

}  // namespace

// What the kernel lends the reclaim engine and the page cache. Host calls
// are timed in the context set by LinuxKernel before it runs reclaim.
class LinuxKernel::Pressure : public ReclaimHost, public PageCacheObserver {
 public:
  explicit Pressure(LinuxKernel& k) : k_(k) {}

  // The reclaim in progress: its clock, services and caller (null: kswapd).
  void begin(Clock& clk, KernelServices& s, const TaskCall* caller) {
    clk_ = &clk;
    s_ = &s;
    caller_ = caller;
  }
  void end() {
    clk_ = nullptr;
    s_ = nullptr;
    caller_ = nullptr;
  }

  // --- ReclaimHost ---
  PteRefs referenced(Pfn pfn) override {
    PageTableLog log;
    uint64_t flags = 0;
    PteRefs r;
    r.referenced = k_.referenced_ptes(pfn, clk_, &log, &flags);
    r.exec = (flags & vm::kExec) != 0;
    r.mlocked = (flags & vm::kLocked) != 0;
    k_.charge_pt(*clk_, log, *s_);
    return r;
  }
  bool unmap(Pfn pfn) override {
    PageFrame& m = k_.frames_.meta(pfn);
    ++m.refcount;  // isolation's reference (folio_isolate_lru)
    k_.reclaim_unmap_ = true;
    bool all = false;
    if (m.test(FrameFlag::kAnon)) {  // in the swap cache (add_to_swap came first)
      all = m.test(FrameFlag::kSwapCache) && k_.swap_unmap(pfn, *clk_, *s_);
    } else {
      Flush fl;
      all = k_.try_to_unmap(pfn, 0, *clk_, *s_, fl, nullptr);
    }
    k_.reclaim_unmap_ = false;
    --m.refcount;
    return all;
  }
  void flush_unmaps() override {}  // try_to_unmap flushes each page itself
  bool add_to_swap(Pfn pfn) override { return k_.swap_add(pfn); }
  PageoutResult pageout(Pfn pfn) override {
    const PageFrame& m = k_.frames_.meta(pfn);
    if (m.test(FrameFlag::kSwapCache)) return k_.swap_pageout(pfn, *clk_);
    if (m.test(FrameFlag::kSwapBacked)) return PageoutResult::kActivate;  // shmem: not swapped
    // No ->writepage (ext4, xfs, btrfs): activated, the flusher writes it.
    if (!k_.cfg_.reclaim.file_writepage) return PageoutResult::kActivate;
    clk_->add(FaultTiming::kReclaim, k_.cfg_.cost.io_submit);
    const std::optional<Cycle> done = k_.cache_.pageout(pfn, clk_->t);
    if (!done) return PageoutResult::kDone;  // clean after all
    return PageoutResult::kStarted;
  }
  bool remove_mapping(Pfn pfn, std::optional<ShadowKey>& shadow) override {
    const PageFrame& m = k_.frames_.meta(pfn);
    if (m.test(FrameFlag::kSwapCache)) {
      if (!k_.swap_remove(pfn, shadow)) return false;
      clk_->add(FaultTiming::kReclaim, k_.cfg_.cost.reclaim_free);
      return true;
    }
    if (m.test(FrameFlag::kSwapBacked)) return false;
    const ShadowKey key{ShadowOwner::kFile, m.owner, m.index};
    if (!k_.cache_.remove_page(pfn, clk_->t)) return false;
    clk_->add(FaultTiming::kReclaim, k_.cfg_.cost.reclaim_free);
    shadow = key;
    return true;
  }
  void free_swap_cache(Pfn pfn) override {
    PageFrame& m = k_.frames_.meta(pfn);
    // The page stays on the LRU: only a page someone else holds too (its
    // mappings) may lose the swap cache's reference here.
    if (!k_.swap_ || !m.test(FrameFlag::kSwapCache) || m.refcount < 2) return;
    if (k_.swap_try_free(k_.slot_of_.at(pfn.value()))) ++k_.sws_.activate_freed;
  }
  uint64_t free_swap_pages() override { return k_.swap_ ? k_.swap_->free_slots() : 0; }
  uint64_t total_swap_pages() override { return k_.swap_ ? k_.swap_->total() : 0; }
  uint64_t free_pages() override { return k_.frames_.frames_free(); }
  uint64_t high_wmark_pages() override { return k_.zones_->sum(Wmark::kHigh); }
  void scanned(uint64_t pages) override {
    clk_->add(FaultTiming::kReclaim, Cycles(k_.cfg_.cost.reclaim_scan.count() * pages));
  }
  bool yield() override { return k_.swap_write_may_be_done(clk_->t); }
  void flush_writes() override { k_.swap_flush_plug(clk_->t); }

  // --- PageCacheObserver ---
  std::optional<Pfn> alloc(bool readahead) override {
    const uint64_t free = k_.frames_.frames_free();
    if (readahead && free <= k_.zones_->sum(Wmark::kMin)) {
      ++k_.pst_.ra_refused;
      return std::nullopt;
    }
    if (free <= k_.zones_->sum(Wmark::kLow)) k_.wake_kswapd(k_.now_hint_);
    return k_.frames_.allocate(0U);
  }
  void added(Pfn pfn, uint32_t file_id, uint64_t index) override {
    k_.reclaim_->refault(ShadowKey{ShadowOwner::kFile, file_id, index}, pfn);
    k_.reclaim_->lru_add(pfn);
  }
  void removed(Pfn pfn) override {
    if (k_.frames_.meta(pfn).test(FrameFlag::kLru)) k_.reclaim_->lru_del(pfn);
  }
  void accessed(Pfn pfn) override {
    if (k_.frames_.meta(pfn).test(FrameFlag::kLru)) k_.reclaim_->mark_accessed(pfn);
  }
  void written(Pfn pfn) override { k_.reclaim_->writeback_done(pfn); }

 private:
  LinuxKernel& k_;
  Clock* clk_ = nullptr;
  KernelServices* s_ = nullptr;
  const TaskCall* caller_ = nullptr;
};

void LinuxKernel::PressureDelete::operator()(Pressure* p) const { delete p; }

void LinuxKernel::init_pressure() {
  const PressureConfig& pc = cfg_.pressure;
  std::vector<ZoneSpec> specs = pc.zone_specs;
  if (specs.empty()) specs.push_back(ZoneSpec{"normal", frames_.frames_managed(), false});
  uint64_t min_kb = pc.effective_min_free_kbytes;
  if (min_kb == 0) min_kb = boot_min_free_kbytes(specs, pc.watermark_scale_factor, pc.thp_enabled);
  zones_ = std::make_unique<Zones>(std::move(specs), min_kb, pc.watermark_scale_factor);
  pressure_.reset(new Pressure(*this));  // NOLINT(cppcoreguidelines-owning-memory)
  reclaim_ = std::make_unique<Reclaimer>(cfg_.reclaim, frames_, *pressure_);
  cache_.set_observer(pressure_.get());
  init_swap();
  memcg_base_ = frames_.frames_used();
}

uint64_t LinuxKernel::memcg_usage() const {
  const uint64_t used = frames_.frames_used();
  return used > memcg_base_ ? used - memcg_base_ : 0;
}

bool LinuxKernel::memcg_over() const {
  // try_charge_memcg: one more page would pass memory.max.
  const uint64_t max = cfg_.pressure.memory_max_pages();
  return max != 0 && memcg_usage() >= max;
}

void LinuxKernel::lru_add_anon(Pfn pfn) { reclaim_->lru_add(pfn); }

void LinuxKernel::set_kswapd(const std::function<void(Cycle at)>& wake) { wake_kswapd_ = wake; }

bool LinuxKernel::wake_kswapd(Cycle at) {
  if (!wake_kswapd_ || kswapd_due_ || reclaim_->hopeless()) return false;
  kswapd_due_ = true;
  ++pst_.kswapd_wakeups;
  wake_kswapd_(at);
  return true;
}

void LinuxKernel::charge_reclaim(Clock& clk, const ReclaimResult& r, FaultTiming::Part part) {
  // The scan cost was charged as the pass went (Pressure::scanned).
  // reclaim_throttle(): WRITEBACK sleeps HZ/10, CONGESTED and NOPROGRESS one
  // jiffy (mm/vmscan.c); the model sleeps the whole timeout.
  const uint64_t jiffies = r.throttle_writeback * 25 + r.throttle_congested + r.throttle_noprogress;
  clk.add(part, Cycles(cfg_.cost.jiffy.count() * jiffies));
}

LinuxKernel::Reserve LinuxKernel::reserve(Clock& clk, KernelServices& s, const TaskCall& c,
                                          std::string& why) {
  now_hint_ = max(now_hint_, clk.t);
  pst_.memcg_peak = std::max(pst_.memcg_peak, memcg_usage());
  // This task's pass that stopped for its writes' completions goes on where
  // it stopped, if it still needs to and no other pass ran since.
  const uint64_t owner = (uint64_t{c.task.pid} << 32) | c.task.tid;
  bool resume = false;
  if (reclaim_resume_ && reclaim_owner_ == owner) {
    reclaim_resume_ = false;
    resume = reclaim_->suspended(false);
  }
  // The memory cgroup's charge (os.linux.memory_max) comes first: at the
  // limit, the cgroup reclaims from itself in the caller's time
  // (try_to_free_mem_cgroup_pages), whatever the zones' free memory.
  const bool memcg = memcg_over();
  if (memcg) ++pst_.memcg_max;
  // __alloc_pages: the fast path passes the low watermark.
  const uint64_t low = zones_->sum(Wmark::kLow), min = zones_->sum(Wmark::kMin);
  if (!memcg && frames_.frames_free() > low) return Reserve::kOk;
  // The slow path: kswapd, then the min watermark.
  if (frames_.frames_free() <= low && wake_kswapd(clk.t)) {
    clk.add(FaultTiming::kAlloc, cfg_.cost.kswapd_wake);
  }
  if (!memcg && frames_.frames_free() > min) return Reserve::kOk;
  if (reclaim_busy_) {
    ++reclaim_waiters_;
    reserve_key_ = kReclaimKey;
    return Reserve::kWait;
  }
  reclaim_busy_ = true;
  // Direct reclaim (__alloc_pages_direct_reclaim), retried while it makes
  // progress, at most MAX_RECLAIM_RETRIES rounds without (should_reclaim_retry).
  const Cycle start = clk.t;
  // A resumed pass belongs to the call that slept in it: not a new one.
  ++(resume ? pst_.direct_resumes : pst_.direct_reclaims);
  unsigned no_progress = 0;
  Reserve out = Reserve::kOk;
  // The session's memory traffic, sent once the session is over (below).
  DeferredServices ds(s, cfg_.cost.reclaim_line);
  for (;;) {
    const bool global = frames_.frames_free() <= min;
    const bool limit = memcg_over();
    if (!global && !limit) break;
    pressure_->begin(clk, ds, &c);
    const ReclaimResult r = reclaim_->try_to_free_pages(kSwapClusterMax, !global, resume);
    resume = false;
    pressure_->end();
    // ALLOCSTALL counts global reclaim only; a cgroup's own is the memcg's.
    if (global) {
      pst_.allocstall += r.priority_loops;
    } else {
      ++pst_.memcg_reclaims;
    }
    charge_reclaim(clk, r, FaultTiming::kReclaim);
    if (r.yielded) {
      // One of the pass's writes may have completed: sleep until a
      // completion is delivered (it rotates its pages to the inactive tail),
      // then resume the pass. If they were all delivered meanwhile, resume
      // at once. (Nothing lets another thread run during a session in the
      // simulator: its memory traffic is deferred and a shootdown only posts
      // IPIs; these checks keep the session sound for services that do.)
      ++sws_.reclaim_yields;
      if (swap_writes_ == 0) {
        resume = reclaim_->suspended(false);
        continue;
      }
      reclaim_owner_ = owner;
      reclaim_resume_ = true;
      ++wb_waiters_;
      out = Reserve::kWait;  // on kWritebackWaitKey
      break;
    }
    if (r.reclaimed > 0) {
      no_progress = 0;
      continue;
    }
    // reclaim_throttle(WRITEBACK): pages are on their way out; sleep until a
    // write completes (its completion cannot come while this pass runs).
    if (swap_writes_ > 0 || cache_.nr_writeback(clk.t) > 0) {
      ++wb_waiters_;
      out = Reserve::kWait;  // on kWritebackWaitKey
      break;
    }
    if (++no_progress < Reclaimer::kMaxReclaimRetries) continue;
    // __alloc_pages_may_oom, or mem_cgroup_out_of_memory at the limit.
    if (!cfg_.pressure.oom_kill) {
      ++pst_.oom_stops;
      why = global ? "out of memory: " + std::to_string(frames_.frames_free()) +
                         " free pages, at or below the min watermark (" + std::to_string(min) +
                         "), and reclaim freed nothing (os.linux.oom_kill is off)"
                   : "out of memory in the memory cgroup: " + std::to_string(memcg_usage()) +
                         " pages charged at os.linux.memory_max (" +
                         std::to_string(cfg_.pressure.memory_max_pages()) +
                         " pages), and reclaim freed nothing (os.linux.oom_kill is off)";
      out = Reserve::kStop;
      break;
    }
    bool self = false;
    if (!global) ++pst_.memcg_oom_kill;
    if (!oom_kill(clk, s, c.task.pid, self)) {  // no memory traffic: no yield
      why = "out of memory: nothing left to reclaim and no process the OOM killer may kill";
      out = Reserve::kStop;
      break;
    }
    if (self) {
      out = Reserve::kKilledSelf;
      break;
    }
    no_progress = 0;
  }
  pst_.direct_cycles += (clk.t - start).count();
  end_reclaim(s);
  // The session ends at its own time, whatever the memory does with its
  // traffic: sending it may let other threads run (in the reference mode,
  // up to each request's time), and they find no session in progress in
  // either mode. Nothing the session decided is read back from shared state
  // after the replay (reserve_key_ may be another task's by then).
  const uint64_t wb_wakes = wb_wakes_;
  ds.replay();
  if (out == Reserve::kKilledSelf || out == Reserve::kStop) return out;
  // Another task's OOM kill or SIGSEGV may have ended this process while
  // the traffic was sent: as a task woken after it was killed.
  const Process& p = ensure_process(c.task.pid);
  if (p.state != Process::State::kRunning || !p.mm) return Reserve::kKilledSelf;
  if (out == Reserve::kWait) {
    // A completion delivered meanwhile woke the writeback waiters before
    // this task slept: it would have woken this task too, so the task goes
    // on at once, as if woken then (a reclaim wait adds no wake-up cost;
    // the CPU's page-wait count and a switch under the scheduler are what
    // differ from a real sleep of no time).
    if (wb_wakes_ != wb_wakes) return reserve(clk, s, c, why);
    reserve_key_ = kWritebackWaitKey;
  }
  return out;
}

void LinuxKernel::end_reclaim(KernelServices& s) {
  reclaim_busy_ = false;
  if (reclaim_waiters_ == 0) return;
  reclaim_waiters_ = 0;
  s.release(kReclaimKey);
}

bool LinuxKernel::oom_kill(Clock& clk, KernelServices& s, uint32_t self_pid, bool& killed_self) {
  // out_of_memory() -> select_bad_process() -> oom_kill_process().
  std::vector<OomCandidate> cand;
  for (const auto& [pid, p] : procs_) {
    if (p.state != Process::State::kRunning || !p.mm) continue;
    OomCandidate o;
    o.pid = pid;
    o.rss = p.mm->rss.total();
    o.swapents = p.mm->rss.swapents;
    o.pgtable_bytes = p.mm->table().table_frames() * 4096;
    o.vfork_pending = p.vfork_pending;
    o.oom_score_adj = p.oom_score_adj;
    cand.push_back(o);
  }
  const uint64_t totalpages = frames_.frames_managed();
  const std::optional<uint32_t> victim = select_victim(cand, totalpages);
  if (!victim) return false;
  Process& p = procs_.at(*victim);
  ++pst_.oom_kill;
  constexpr int32_t kSigkill = 128 + 9;
  for (uint32_t tid : p.threads) s.task_exited(TaskId{p.pid, tid}, kSigkill, true, clk.t);
  p.threads.clear();
  process_exit(p, kSigkill, true, clk, s);
  killed_self = *victim == self_pid;
  return true;
}

Kernel::FlushRun LinuxKernel::kswapd(Cycle now, KernelServices& s) {
  // kswapd(): balance_pgdat until a zone is balanced at the high watermark,
  // then kswapd_try_to_sleep(): a nap of HZ/10 first, and sleep until woken
  // only if the node is still balanced (or hopeless) when the nap ends.
  kswapd_due_ = false;
  now_hint_ = max(now_hint_, now);
  Clock clk{now, {}};
  const uint64_t high = zones_->sum(Wmark::kHigh);
  auto balanced = [&] { return frames_.frames_free() >= high; };
  FlushRun run{now};
  auto nap = [&](Cycle from) {
    kswapd_nap_end_ = from + Cycles(cfg_.cost.jiffy.count() * kKswapdNapJiffies);
    run.next = kswapd_nap_end_;
  };
  const Cycle nap_end = kswapd_nap_end_;
  kswapd_nap_end_ = kNeverCycle;
  if (nap_end != kNeverCycle) {
    if (now < nap_end) {
      ++pst_.low_wmark_hit_quickly;  // woken during the nap (an allocation below low)
    } else if (balanced() || reclaim_->hopeless()) {
      return run;  // asleep until an allocation wakes it
    } else {
      ++pst_.high_wmark_hit_quickly;  // below high after the nap: runs unwoken
    }
  }
  if (balanced()) {
    if (reclaim_->suspended(true)) reclaim_->drop_suspended();  // done without it
    nap(now);
    return run;
  }
  if (reclaim_busy_) {
    // A task is in direct reclaim (only services that let other threads
    // run during a session get here, none of the simulator's): look again
    // in a jiffy.
    // Linux runs both at once on the node's lists; the model runs one
    // reclaim session at a time (a task's passes and retries, or a kswapd
    // run, the pass that yielded kept for its owner), as it does for two
    // tasks. At least one cycle later, so that the session can end
    // (a LinuxConfig built in code may have a jiffy of 0; the configuration
    // refuses os.linux.cost.jiffy=0).
    run.next = now + std::max(cfg_.cost.jiffy, Cycles(1));
    kswapd_due_ = true;
    return run;
  }
  reclaim_busy_ = true;
  const bool resume = reclaim_->suspended(true);  // the run that stopped for its writes
  if (!resume) ++pst_.kswapd_runs;
  DeferredServices ds(s, cfg_.cost.reclaim_line);
  pressure_->begin(clk, ds, nullptr);
  const ReclaimResult r =
      reclaim_->balance(std::max<uint64_t>(high, kSwapClusterMax), balanced, resume);
  pressure_->end();
  charge_reclaim(clk, r, FaultTiming::kReclaim);
  pst_.kswapd_cycles += (clk.t - now).count();
  end_reclaim(s);
  ds.replay();  // after the session, as in reserve()
  run.busy_until = clk.t;
  if (r.yielded) {
    // One of its writes may have completed: the completions up to the end
    // of this run are delivered while it is busy, then the run goes on.
    ++sws_.reclaim_yields;
    run.next = clk.t;
    kswapd_due_ = true;
    return run;
  }
  // Not balanced and not hopeless: kswapd_try_to_sleep() counts the quick
  // return and does not nap (prepare_kswapd_sleep() says no), and kswapd()
  // calls balance_pgdat() again: the next run starts where this one ends.
  // Runs at one cycle cannot go on for ever: a run that frees nothing is a
  // kswapd failure (kMaxReclaimRetries of them in a row make the node
  // hopeless, and kswapd naps, then sleeps), and one that frees pages
  // brings free memory toward high.
  if (!reclaim_->kswapd_may_sleep(balanced())) {
    ++pst_.high_wmark_hit_quickly;
    run.next = clk.t;
    kswapd_due_ = true;
  } else {
    nap(clk.t);
  }
  return run;
}

}  // namespace mmusim
