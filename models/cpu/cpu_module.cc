#include "models/cpu/cpu_module.h"

namespace mmusim {

CpuModule::CpuModule(const sc_core::sc_module_name& name, uint32_t id, const CpuModuleConfig& cfg,
                     PhysMem& phys, SyncHorizon& horizon, const ClockPeriod& clk,
                     RecordSource& source, uint64_t explain, ExplainLog* explain_out,
                     DescriptorTables* tables)
    : sc_module(name),
      agu("agu", cfg.core.ag),
      seg("seg", cfg.core.seg),
      tlb("tlb", cfg.core.tlb),
      walker("walker", cfg.core.walker, phys, sync_),
      mem("mem"),
      kernel("kernel"),
      tasks("tasks"),
      control("control"),
      sync_(horizon, basename(), clk, cfg.quantum == 0),
      source_(source),
      quantum_(cfg.quantum),
      ipi_period_(cfg.ipi_period),
      next_interrupt_(Cycle(cfg.ipi_period)),
      request_(Initiator::kData) {
  core_ = std::make_unique<CpuCore>(
      id, cfg.core, CpuUnits{agu.core(), seg.core(), tlb.core(), walker.core()}, phys,
      static_cast<CpuCore::Env&>(*this), explain, explain_out, tables);
  control.bind(*this);
  if (cfg.cache.enabled) {
    const CacheConfig& c = cfg.cache;
    walker_entry_ = c.walker_entry;
    if (c.l1d.size_bytes != 0) {
      l1d = std::make_unique<CacheModule>("l1d", c.l1d, MemSource::kL1, clk, &phys);
    }
    if (c.data && c.l1i.size_bytes != 0) {
      l1i = std::make_unique<CacheModule>("l1i", c.l1i, MemSource::kL1, clk, &phys);
      fetch = std::make_unique<tlm_utils::simple_initiator_socket<CpuModule>>("fetch");
    }
    if (c.l2.size_bytes != 0) {
      l2 = std::make_unique<CacheModule>("l2", c.l2, MemSource::kL2, clk, &phys);
    }
    if (c.data) core_->use_data_caches(l1d->core(), l1i->core());
  }
  SC_THREAD(run);
}

void CpuModule::bind_memory(MemTargetSocket& below, InOrderMemTarget* direct,
                            CacheModule* below_cache) {
  // Each level's lower side: the next private level, else `below`.
  MemTargetSocket& after_l1 = l2 ? static_cast<MemTargetSocket&>(l2->upper) : below;
  if (l1d) l1d->lower.bind(after_l1);
  if (l1i) l1i->lower.bind(after_l1);
  if (l2) l2->lower.bind(below);
  // The same chain for in-order requests, by plain calls.
  const auto chain = [&](CacheModule& m, CacheModule* next) {
    if (next != nullptr) {
      m.serve_below(next);
    } else if (below_cache != nullptr) {
      m.serve_below(below_cache);
    } else if (direct != nullptr) {
      m.serve_below(direct);
    }
  };
  if (l1d) chain(*l1d, l2.get());
  if (l1i) chain(*l1i, l2.get());
  if (l2) chain(*l2, nullptr);
  MemTargetSocket& first = l1d ? static_cast<MemTargetSocket&>(l1d->upper) : after_l1;
  mem.bind(first);
  if (fetch) fetch->bind(l1i->upper);
  MemTargetSocket* walks = &below;
  switch (walker_entry_) {
    case CacheEntry::kL1d: walks = &first; break;
    case CacheEntry::kL2: walks = &after_l1; break;
    case CacheEntry::kLlc: break;
  }
  walker.mem.bind(*walks);
  if (walks == &below && direct != nullptr) walker.serve_directly(direct);
}

std::vector<Cache*> CpuModule::private_caches() {
  std::vector<Cache*> out;
  for (auto* m : {l1d.get(), l1i.get(), l2.get()}) {
    if (m != nullptr && m->present()) out.push_back(&m->core());
  }
  return out;
}

void CpuModule::post_shootdown(const Shootdown& s) {
  core_->post(s, multiple_above(s.at, ipi_period_));
}

void CpuModule::post_invalidation(Cache& c, uint64_t line, Cycle at, uint64_t* counter) {
  snoops_.push_back(SnoopInvalidation{&c, line, snoop_due(at), counter, false});
}

void CpuModule::post_downgrade(Cache& c, uint64_t line, Cycle at, uint64_t* counter) {
  snoops_.push_back(SnoopInvalidation{&c, line, snoop_due(at), counter, true});
}

void CpuModule::interrupt_boundary(Cycle t, Cycle& synced) {
  // Every shootdown sent before the boundary was posted at a SystemC time
  // before it: waiting until t (past the boundary) makes sure it is here.
  if (synced < t && !sync_.alone()) {
    sync_.wait_until(t);
    synced = t;
  }
  next_interrupt_ = next_boundary(t);
  if (!snoops_.empty()) {
    size_t kept = 0;
    for (const SnoopInvalidation& s : snoops_) {
      if (s.due > t) {
        snoops_[kept++] = s;
      } else if (s.downgrade ? s.cache->set_shared(s.line, true) : s.cache->invalidate(s.line)) {
        ++*s.counter;
      }
    }
    snoops_.resize(kept);
  }
  if (core_->has_shootdowns()) core_->receive_shootdowns(t);
}

void CpuModule::run() {
  try {
    synced_ = sync_.clock().now();
    if (task_source_ != nullptr) {
      run_tasks();
    } else {
      run_records();
    }
    core_->finish();
  } catch (...) {
    error_ = std::current_exception();
    if (sc_core::sc_get_status() != sc_core::SC_STOPPED) sc_core::sc_stop();
  }
  finished_ = true;
  sync_.finish();
}

void CpuModule::finish_idle() {
  if (finished_) return;
  core_->finish();
  finished_ = true;
}

void CpuModule::run_records() {
  TraceRecord buf[1024];
  Cycle synced = synced_;
  for (;;) {
    size_t n = 0;
    const TraceRecord* const recs = source_.next(core_->id(), buf, 1024, n);
    if (n == 0) break;
    Cycle t;
    for (size_t i = 0; i < n;) {
      // After a record issued at cycle c: the run-ahead bound (c - synced >
      // quantum) or an interrupt boundary is reached (the checks below act).
      // One bound, in a register in the tight loops: a member read through
      // `this` is reloaded after every store of theirs.
      const Cycle bound = quantum_ == 0 ? Cycle(0) : min(run_ahead_end(synced), next_interrupt_);
      const auto stop = [bound](Cycle c) { return c >= bound; };
      // The steady hit path and runs of merges into a pending walk in tight
      // loops; anything else one by one. (With quantum 0 every record stops
      // a run: the merge loop would only add its setup.)
      size_t run = core_->process_hits(recs + i, n - i, t, stop);
      if (run == 0 && quantum_ != 0) run = core_->process_merges(recs + i, n - i, t, stop);
      if (run != 0) {
        i += run;
      } else {
        t = core_->process(recs[i]);
        ++i;
      }
      // Bound the run-ahead when another agent may act (descriptor rewrites
      // become visible at these points).
      if (t - synced > Cycles(quantum_) || quantum_ == 0) {
        if (quantum_ == 0 || !sync_.alone()) sync_.wait_until(t);
        synced = t;
      }
      take_interrupts(t, synced);
    }
    sync_.clock().check(t);  // once per batch: a CPU alone never calls SystemC
  }
  synced_ = synced;
}

void CpuModule::forward_new_tasks(bool look, bool* exhausted) {
  found_.clear();
  const bool any = task_source_->new_tasks(found_, look);
  if (!any && exhausted != nullptr) *exhausted = true;
  for (const TaskId& t : found_) tasks->add_task(t, Cycle(0), sync_);
}

void CpuModule::run_tasks() {
  core_->set_can_block(true);
  TaskId prev;
  bool prev_running = false;
  bool exhausted = false;
  Cycle t = core_->quiesce();
  for (;;) {
    if (task_source_->has_new_tasks()) forward_new_tasks(false, nullptr);
    const TaskDispatch d = tasks->dispatch(core_->id(), prev, prev_running, t, exhausted, sync_);
    if (d.kind == TaskDispatch::Kind::kEnd) break;
    if (d.kind == TaskDispatch::Kind::kIdle) {
      forward_new_tasks(true, &exhausted);
      continue;
    }
    if (d.kind == TaskDispatch::Kind::kEnded) {
      task_source_->drop(d.task);
      prev_running = false;
      continue;
    }
    run_task(d);
    prev = d.task;
    prev_running = true;
    t = core_->quiesce();
    give_back_late(d.task, nullptr, 0);  // (run_task() drained its walks: none expected)
  }
}

void CpuModule::run_task(const TaskDispatch& d) {
  using trace_flags::kOpEvent;
  TaskRecordSource& src = *task_source_;
  if (d.switched || core_->context().pid != d.task.pid || core_->context().tid != d.task.tid) {
    core_->switch_to(CpuContext{d.task.pid, d.task.tid, d.pcid, d.cr3}, d.at);
  } else {
    core_->resume_at(d.at);
  }
  if (d.flush_pcid) {
    FaultOutcome::LocalFlush all;
    all.kind = FaultOutcome::LocalFlush::Kind::kPcid;
    core_->apply_flush(all);
  }
  core_->apply_flush(d.flush);
  if (d.fault_done) {
    core_->explain_resumed(d.fault_block, d.fault);
    core_->resume_fault(d.fault_translated);
  }
  Cycle slice_end = d.slice_end;
  killed_ = false;
  core_->set_can_block(true);
  constexpr size_t kBatch = kRecordBatch;
  TraceRecord* const buf = batch_.get();  // allocated once: a dispatch per major fault
  Cycle last = d.at;
  for (;;) {
    const size_t n = src.next(d.task, buf, kBatch);
    sync_.clock().check(last);  // once per batch, as in run_records()
    if (task_source_->has_new_tasks()) forward_new_tasks(false, nullptr);
    if (n == 0) {
      const Cycle at = core_->quiesce();
      if (give_back_late(d.task, nullptr, 0)) return;
      tasks->task_done(d.task, core_->id(), at, sync_);
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      const TraceRecord& r = buf[i];
      Cycle t;
      if (trace_flags::op_of(r.flags) == kOpEvent) {
        const Cycle at = core_->quiesce();
        if (give_back_late(d.task, buf + i, n - i)) return;  // the event runs after the replay
        const TaskEventResult e =
            tasks->os_event(src.take_event(r.addr), d.task, core_->id(), at, sync_);
        if (e.next == TaskEventResult::Next::kEnded) {
          core_->resume_at(max(e.outcome.resume, at));
          src.unread(d.task, buf + i + 1, n - i - 1);
          src.drop(d.task);
          return;
        }
        if (e.next == TaskEventResult::Next::kBlocked) {
          src.unread(d.task, buf + i + 1, n - i - 1);
          return;
        }
        if (e.new_root) {  // exec: a new address space under the same PCID, flushed
          CpuContext c = core_->context();
          c.cr3 = e.cr3;
          core_->switch_to(c, e.outcome.resume);
          FaultOutcome::LocalFlush all;
          all.kind = FaultOutcome::LocalFlush::Kind::kPcid;
          core_->apply_flush(all);
        }
        core_->apply_flush(e.outcome.flush);
        t = max(e.outcome.resume, at);
        core_->resume_at(t);
      } else {
        t = core_->process(r);
        // The task sleeps in a fault: the record replays (else it stands,
        // and a late fault's access replays before the records not run).
        const bool replay = core_->take_blocked(r);
        const size_t from = replay ? i : i + 1;
        if (give_back_late(d.task, buf + from, n - from)) return;
        if (replay) {
          src.unread(d.task, buf + i, n - i);
          return;
        }
        if (killed_) {
          killed_ = false;
          src.unread(d.task, buf + i + 1, n - i - 1);
          src.drop(d.task);
          return;
        }
      }
      if (t - synced_ > Cycles(quantum_) || quantum_ == 0) {
        if (quantum_ == 0 || !sync_.alone()) sync_.wait_until(t);
        synced_ = t;
      }
      take_interrupts(t, synced_);  // (a shootdown drains the walks: a late fault may sleep)
      if (give_back_late(d.task, buf + i + 1, n - i - 1)) return;
      last = t;
      if (t >= slice_end) {
        const Cycle at = core_->quiesce();
        if (give_back_late(d.task, buf + i + 1, n - i - 1)) return;
        if (tasks->slice_end(core_->id(), d.task, at, slice_end, sync_)) {
          src.unread(d.task, buf + i + 1, n - i - 1);
          return;
        }
      }
    }
  }
}

bool CpuModule::give_back_late(TaskId task, const TraceRecord* rest, size_t n) {
  if (!core_->late_blocked()) return false;
  // The core drained its walks before the task went to sleep and starts
  // none since, so this finds nothing to wait for; a late fault it found
  // would be given back too (late_blocked() holds until the take).
  core_->quiesce();
  const std::vector<TraceRecord> replay = core_->take_late_replays();
  task_source_->unread(task, rest, n);
  task_source_->unread(task, replay.data(), replay.size());
  return true;
}

void CpuModule::visit(StatVisitor& v) const {
  const std::string p = std::string(name());
  core_->visit(v, p);
  PrefixedVisitor units(v, p + ".");
  core_->visit_units(units);
  const uint64_t records = core_->stats().records;
  if (l1d) l1d->visit(v, p + ".l1d.", records);
  if (l1i) l1i->visit(v, p + ".l1i.", records);
  if (l2) l2->visit(v, p + ".l2.", records);
}

}  // namespace mmusim
