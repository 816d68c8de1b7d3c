#include "models/os/kernel_module.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

namespace mmusim {

// The module's services to the core, for one fault: memory through the
// kernel socket in the caller's time, shootdowns through the CPU ports.
class KernelModule::Services : public KernelServices {
 public:
  Services(KernelModule& m, AgentSync& caller) : m_(m), caller_(caller) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    return send(line, is_write, at, false);
  }
  Cycle mem_write_line(PhysAddr line, Cycle at) override { return send(line, true, at, true); }
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    // The address space's generation moves on: CPUs not running it flush its
    // PCID when they switch to it again; the initiator (its local flush) and
    // the CPUs that take the IPI are up to date (Linux's tlb_gen).
    const uint64_t gen = ++m_.gen_[pid];
    if (m_.sched_) m_.sched_->refresh_pcid(self, pid, gen);
    bool any = false;
    for (int i = 0; i < m_.cpus.size(); ++i) {
      if (static_cast<uint32_t>(i) == self || m_.cpus[i]->running_pid() != pid) continue;
      Shootdown t = s;  // under the target CPU's PCID for the process
      t.pcid = m_.cpus[i]->running_pcid();
      m_.cpus[i]->post_shootdown(t);
      if (m_.sched_) m_.sched_->refresh_pcid(static_cast<uint32_t>(i), pid, gen);
      ++m_.stats_.shootdowns;
      any = true;
    }
    return any ? s.at + m_.cfg_.shootdown_cost : s.at;
  }
  void release(uint64_t key) override { m_.release(key, &caller_.clock()); }
  void task_created(TaskId /*parent*/, TaskId child, Cycle at) override {
    if (!m_.sched_) return;
    m_.sched_->add(child, at);
    m_.changed();
  }
  void task_exited(TaskId t, int32_t /*code*/, bool killed, Cycle /*at*/) override {
    if (!m_.sched_) return;
    m_.sched_->exit(t, killed);
    m_.pending_.erase(t);
    m_.changed();
  }

 private:
  Cycle send(PhysAddr line, bool is_write, Cycle at, bool whole_line) {
    ++m_.stats_.mem_requests;
    return m_.kernel_done(
        caller_, m_.request_for(caller_).access(m_.mem, caller_, line, is_write, at, whole_line));
  }

  KernelModule& m_;
  AgentSync& caller_;
};

// The services of a completion interrupt: it only releases keys (the core
// makes no memory traffic and sends no IPI from there).
class KernelModule::CompletionServices : public KernelServices {
 public:
  explicit CompletionServices(KernelModule& m) : m_(m) {}
  Cycle mem_access(PhysAddr /*line*/, bool /*is_write*/, Cycle /*at*/) override {
    throw std::logic_error("kernel: memory traffic from an I/O completion");
  }
  Cycle shootdown(const Shootdown& /*s*/, uint32_t /*pid*/, uint32_t /*self*/) override {
    throw std::logic_error("kernel: a shootdown from an I/O completion");
  }
  void release(uint64_t key) override { m_.release(key, m_.clk_); }

 private:
  KernelModule& m_;
};

std::optional<BlockTimeline> KernelModule::PortQueue::submit(const BlockRequest& r) {
  if (m_.disk.size() == 0) {
    throw std::logic_error("kernel: a block request with no disk controller bound");
  }
  m_.disk->submit(r);
  return std::nullopt;
}

void KernelModule::release(uint64_t key, const ClockPeriod* clk) {
  auto it = waits_.find(key);
  if (it != waits_.end()) {
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    if (clk != nullptr) {
      const Cycle t = clk->now();
      if (now_ > t) delay = clk->span(now_ - t);
    }
    events_[it->second].notify(delay);
  }
  if (sched_ && sched_->wake(key, now_) > 0) changed();
}

void KernelModule::complete(uint64_t id, const BlockTimeline& t) {
  now_ = t.irq;
  ++completions_;
  CompletionServices s(*this);
  core_.io_done(id, t, s);
}

KernelModule::KernelModule(const sc_core::sc_module_name& name, Kernel& core,
                           const KernelModuleConfig& cfg)
    : sc_module(name), target("target"), mem("mem"), cpus("cpus"), core_(core), cfg_(cfg) {
  target.bind(*this);
  tasks.bind(*this);
  io.bind(*this);
}

void KernelModule::use_scheduler(const SchedConfig& cfg, uint32_t cpus, uint64_t slice_cycles) {
  sched_ = std::make_unique<Scheduler>(cfg, cpus, slice_cycles);
  switch_cost_ = cfg.switch_cost;
}

void KernelModule::changed() {
  // Every task ended: the flusher stops (its pending wake-up is cancelled).
  if (!tasks_alive()) {
    if (flusher_.agent) flusher_.event.notify(sc_core::SC_ZERO_TIME);
    if (kswapd_.agent) kswapd_.event.notify(sc_core::SC_ZERO_TIME);
  }
  if (idle_.empty()) return;
  Cycle now = Cycle(0);
  for (AgentSync* a : idle_) now = a->clock().now();
  const Cycle at = max(now_, now);
  for (AgentSync* a : idle_) a->expect(at);
  sched_event_.notify(idle_.front()->clock().span(at - now));
}

void KernelModule::start_kthread(KThread& t, const char* name, SyncHorizon& horizon,
                                 const ClockPeriod& clk, bool reference) {
  t.agent =
      std::make_unique<AgentSync>(horizon, std::string(this->name()) + "." + name, clk, reference);
  t.agent->finish();  // idle until the core asks
}

void KernelModule::use_flusher(SyncHorizon& horizon, const ClockPeriod& clk, bool reference) {
  flusher_.body = [this](Cycle now, KernelServices& s) { return core_.flush(now, s); };
  start_kthread(flusher_, "flusher", horizon, clk, reference);
  core_.set_flusher([this](Cycle at) { wake_kthread(flusher_, at); });
  SC_THREAD(flusher_run);
}

void KernelModule::use_kswapd(SyncHorizon& horizon, const ClockPeriod& clk, bool reference) {
  kswapd_.body = [this](Cycle now, KernelServices& s) { return core_.kswapd(now, s); };
  start_kthread(kswapd_, "kswapd", horizon, clk, reference);
  core_.set_kswapd([this](Cycle at) { wake_kthread(kswapd_, at); });
  SC_THREAD(kswapd_run);
}

void KernelModule::wake_kthread(KThread& t, Cycle at) {
  if (at >= t.due) return;
  t.due = at;
  t.agent->expect(at);  // the horizon holds `at` until it runs
  const Cycle now = t.agent->clock().now();
  t.event.notify(at > now ? t.agent->clock().span(at - now) : sc_core::SC_ZERO_TIME);
}

void KernelModule::kthread_run(KThread& t) {
  // A kernel thread (wb_workfn, kswapd): sleeps until its due cycle or a
  // wake-up, runs its body in its own time, and re-arms as the core says.
  // Its memory traffic and block submissions are its own agent's.
  AgentSync& a = *t.agent;
  for (;;) {
    if (!tasks_alive() || t.due == kNeverCycle) {
      a.idle_wait(t.event);
      continue;
    }
    const Cycle now = a.clock().now();
    if (t.due > now) {
      a.idle_wait_until(t.event, t.due);
      continue;
    }
    t.due = kNeverCycle;
    ++t.runs;
    now_ = now;
    Services s(*this, a);
    const Kernel::FlushRun r = t.body(now, s);
    if (r.next < t.due) t.due = r.next;
    if (r.busy_until > now) a.wait_until(r.busy_until);  // its own work takes this long
    if (t.due != kNeverCycle) a.expect(t.due);
  }
}

void KernelModule::finish() {
  if (sched_) sched_->finish();
}

sc_core::sc_event& KernelModule::event_for(uint64_t key) {
  auto it = waits_.find(key);
  if (it == waits_.end()) {
    events_.emplace_back();
    it = waits_.emplace(key, events_.size() - 1).first;
  }
  return events_[it->second];
}

Cycle KernelModule::kernel_done(const AgentSync& caller, Cycle done) {
  const size_t i = caller.id();
  if (i >= kernel_done_.size()) kernel_done_.resize(i + 1);
  kernel_done_[i] = max(kernel_done_[i], done);
  return done;
}

Cycle KernelModule::kernel_busy(const AgentSync& caller) const {
  const size_t i = caller.id();
  return i < kernel_done_.size() ? kernel_done_[i] : Cycle(0);
}

TimedMemRequest& KernelModule::request_for(const AgentSync& caller) {
  const size_t i = caller.id();
  if (i >= requests_.size()) requests_.resize(i + 1);
  if (!requests_[i]) {
    requests_[i] = std::make_unique<TimedMemRequest>(Initiator::kKernel);
    requests_[i]->serve_directly(direct_);
  }
  return *requests_[i];
}

FaultOutcome KernelModule::fault(const FaultInfo& f, AgentSync& caller) {
  now_ = f.raised;
  Services s(*this, caller);
  KernelStep st = core_.fault(f, s);
  for (;;) {
    if (st.kind == KernelStep::Kind::kDone) break;
    if (sched_ && f.can_block) return sleep_in_fault(f, st);
    const Cycle from = caller.clock().now();
    if (timed(st)) {
      ++stats_.io_waits;
      caller.wait_until(st.until);
    } else {
      ++(st.kind == KernelStep::Kind::kWaitIo ? stats_.io_waits : stats_.page_waits);
      caller.wait_event(event_for(st.key), from);
    }
    const Cycle now = caller.clock().now();
    stats_.wait_cycles += (now - from).count();
    st = core_.resume(f, st.key, now, s);
  }
  complete_fault(f, st.outcome);
  return st.outcome;
}

FaultOutcome KernelModule::sleep_in_fault(const FaultInfo& f, const KernelStep& st) {
  const TaskId t{f.pid, f.tid};
  pending_faults_[t] = PendingFault{f, st.key};
  if (timed(st)) {
    ++stats_.io_waits;
    sched_->block_until(t, st.until);
  } else {
    ++(st.kind == KernelStep::Kind::kWaitIo ? stats_.io_waits : stats_.page_waits);
    sched_->block(t, st.key, st.kind == KernelStep::Kind::kWaitIo);
  }
  changed();
  FaultOutcome o;
  o.action = FaultOutcome::Action::kBlock;
  o.resume = f.raised;
  return o;
}

void KernelModule::complete_fault(const FaultInfo& f, const FaultOutcome& o) {
  if (o.action == FaultOutcome::Action::kKill && sched_) {
    sched_->exit(TaskId{f.pid, f.tid}, true);
    pending_.erase(TaskId{f.pid, f.tid});
    changed();
  }
  if (sink_ != nullptr) sink_->add(FaultRecord{f, o});
  const auto c = static_cast<size_t>(o.cls);
  ++stats_.faults[c];
  stats_.latency[c].add((o.resume - f.raised).count());
  for (size_t p = 0; p < FaultTiming::kNumParts; ++p) {
    stats_.breakdown[c].part[p] += o.timing.part[p];
  }
}

void KernelModule::add_task(TaskId t, Cycle at, AgentSync& caller) {
  caller.before(at);
  sched_->add(t, at);
  changed();
}

TaskDispatch KernelModule::dispatch(uint32_t cpu, TaskId prev, bool prev_running, Cycle at,
                                    bool idle_ok, AgentSync& caller) {
  TaskDispatch d;
  for (;;) {
    caller.before(at);
    std::optional<TaskId> t;
    auto pin = pinned_next_.find(cpu);
    if (pin == pinned_next_.end()) {
      t = sched_->pick(cpu, at);
    } else if (sched_->pick_task(pin->second, at)) {  // the recorded schedule's next task
      t = pin->second;
      pinned_next_.erase(pin);
    } else {
      const auto st = sched_->state(pin->second);
      if (!st || (*st != Scheduler::State::kRunnable && *st != Scheduler::State::kBlocked)) {
        pinned_next_.erase(pin);  // unknown, ended or running elsewhere: schedule freely
        continue;
      }
    }
    if (!t) {
      if (!sched_->any_alive()) {
        d.kind = idle_ok ? TaskDispatch::Kind::kEnd : TaskDispatch::Kind::kIdle;
        return d;
      }
      // Idle from when its kernel work ended: a call that blocked may have
      // made memory requests after the cycle it was made at. The CPU's
      // SystemC time may be later still (its thread waited for a posted
      // writeback's arrival, or synchronizes on every access in reference
      // mode): the wait starts there, but those cycles are idle too.
      const Cycle idle_from = max(at, kernel_busy(caller));
      const Cycle from = max(idle_from, caller.clock().now());
      idle_.push_back(&caller);
      // A CPU the recorded schedule holds for one task waits for that task
      // (its ready cycle, or its wake-up while it sleeps), not for the
      // others: their ready cycles may have passed, and waiting until them
      // would not move time on.
      std::optional<Cycle> ready;
      if (pin == pinned_next_.end()) {
        ready = sched_->earliest_ready();
      } else if (sched_->state(pin->second) == Scheduler::State::kRunnable &&
                 sched_->ready(pin->second) > from) {
        ready = sched_->ready(pin->second);
      }
      if (ready) {
        caller.idle_wait_until(sched_event_, max(*ready, from));  // a sleeping fault's I/O ends
      } else {
        caller.idle_wait(sched_event_);
      }
      idle_.erase(std::find(idle_.begin(), idle_.end(), &caller));
      const Cycle now = caller.clock().now();
      if (now > idle_from) sched_->add_idle((now - idle_from).count());
      at = max(at, now);
      continue;
    }
    Cycle start = max(at, sched_->ready(*t));
    d.switched = !prev_running || *t != prev;
    if (d.switched) {
      start = start + switch_cost_;
      sched_->count_switch();
    }
    d.flush = FaultOutcome::LocalFlush{};
    d.fault_done = false;
    auto pf = pending_faults_.find(*t);
    if (pf != pending_faults_.end()) {  // the fault it slept in completes first
      const PendingFault held = pf->second;
      pending_faults_.erase(pf);
      now_ = start;
      Services s(*this, caller);
      KernelStep st = core_.resume(held.info, held.key, start, s);
      if (st.kind != KernelStep::Kind::kDone) {
        sleep_in_fault(held.info, st);
        prev_running = false;
        at = start;
        continue;
      }
      complete_fault(held.info, st.outcome);
      if (st.outcome.action == FaultOutcome::Action::kStop) {
        throw std::runtime_error(st.outcome.message);
      }
      if (st.outcome.action == FaultOutcome::Action::kKill) {
        d.kind = TaskDispatch::Kind::kEnded;  // killed: the CPU drops its records
        d.task = *t;
        return d;
      }
      start = max(start, st.outcome.resume);
      d.flush = st.outcome.flush;
      d.fault_done = true;
      d.fault = st.outcome;
      d.fault_block = held.info.explain_block;
      d.fault_translated = held.info.translated;
      if (st.outcome.tlb_flush_page && d.flush.kind == FaultOutcome::LocalFlush::Kind::kNone) {
        d.flush.kind = FaultOutcome::LocalFlush::Kind::kPages;
        d.flush.start = LinearAddr(held.info.addr.value() & ~uint64_t{0xFFF});
        d.flush.pages = 1;
      }
    }
    auto p = pending_.find(*t);
    if (p != pending_.end()) {  // the system call it slept in goes on
      const Pending held = p->second;
      pending_.erase(p);
      now_ = start;
      Services s(*this, caller);
      TaskCall c{*t, cpu, start};
      KernelStep st = core_.resume_event(held.event, c, held.key, start, s);
      const TaskEventResult r = finish_event(held.event, *t, start, st);
      if (r.next == TaskEventResult::Next::kEnded) {
        d.kind = TaskDispatch::Kind::kEnded;  // the CPU drops its records
        d.task = *t;
        return d;
      }
      if (r.next == TaskEventResult::Next::kBlocked) {
        prev_running = false;
        at = start;
        continue;  // it sleeps again
      }
      start = max(start, r.outcome.resume);
      if (r.outcome.flush.kind != FaultOutcome::LocalFlush::Kind::kNone) d.flush = r.outcome.flush;
    }
    const Scheduler::PcidChoice pc = sched_->choose_pcid(cpu, t->pid, gen_[t->pid]);
    d.kind = TaskDispatch::Kind::kRun;
    d.task = *t;
    d.pcid = pc.pcid;
    d.flush_pcid = pc.flush;
    d.cr3 = core_.root(t->pid);
    d.at = start;
    d.slice_end = start + Cycles(sched_->slice());
    return d;
  }
}

TaskEventResult KernelModule::finish_event(const OsEvent& e, TaskId t, Cycle at,
                                           const KernelStep& st) {
  // Faults the call took on the user buffer: fault classes and the log.
  core_.drain_uaccess_faults(
      [this](const FaultInfo& f, const FaultOutcome& o) { complete_fault(f, o); });
  if (st.kind != KernelStep::Kind::kDone) {
    // The task sleeps: on a key (wait4, vfork: released by the child) or
    // until an I/O inside the call completes (read, fsync, msync); the CPU
    // runs others, and the call goes on when the task runs again.
    if (timed(st)) {
      ++stats_.io_waits;
      sched_->block_until(t, st.until);
    } else {
      if (st.kind == KernelStep::Kind::kWaitIo) ++stats_.io_waits;
      sched_->block(t, st.key, st.kind == KernelStep::Kind::kWaitIo);
    }
    pending_[t] = Pending{e, st.key};
    changed();
    TaskEventResult r;
    r.next = TaskEventResult::Next::kBlocked;
    return r;
  }
  TaskEventResult r;
  r.outcome = st.outcome;
  if (r.outcome.resume < at) r.outcome.resume = at;
  const size_t k = e.body.index();
  ++event_count_[k];
  event_cycles_[k] += (r.outcome.resume - at).count();
  if (r.outcome.action == FaultOutcome::Action::kStop) throw std::runtime_error(r.outcome.message);
  if (r.outcome.action == FaultOutcome::Action::kKill) sched_->exit(t, true);
  const auto state = sched_->state(t);
  if (!state || *state == Scheduler::State::kExited) {
    pending_.erase(t);
    changed();
    r.next = TaskEventResult::Next::kEnded;
    return r;
  }
  if (std::holds_alternative<ExecEvent>(e.body)) {
    ++gen_[t.pid];
    r.new_root = true;
    r.cr3 = core_.root(t.pid);
  }
  return r;
}

TaskEventResult KernelModule::os_event(const OsEvent& e, TaskId t, uint32_t cpu, Cycle at,
                                       AgentSync& caller) {
  caller.before(at);
  now_ = at;
  if (const auto* sw = std::get_if<CtxSwitchEvent>(&e.body)) {
    // A recorded schedule: from now on the trace's switches decide (no slice
    // preemption); this CPU runs `to` next, the caller goes back to the queue.
    pinned_ = true;
    ++event_count_[e.body.index()];
    TaskEventResult r;
    r.outcome.resume = at;
    const TaskId to{sw->to_pid, sw->to_tid != 0 ? sw->to_tid : sw->to_pid};
    if (to == t) return r;
    pinned_next_[cpu] = to;
    sched_->requeue(t, at);
    sched_->count_preemption();
    changed();
    r.next = TaskEventResult::Next::kBlocked;
    return r;
  }
  Services s(*this, caller);
  KernelStep st = core_.event(e, TaskCall{t, cpu, at}, s);
  return finish_event(e, t, at, st);
}

bool KernelModule::slice_end(uint32_t /*cpu*/, TaskId t, Cycle at, Cycle& next_end,
                             AgentSync& caller) {
  caller.before(at);
  if (!pinned_ && sched_->others_waiting(at)) {
    sched_->requeue(t, at);
    sched_->count_preemption();
    return true;
  }
  next_end = at + Cycles(sched_->slice());
  return false;
}

void KernelModule::task_done(TaskId t, uint32_t cpu, Cycle at, AgentSync& caller) {
  // The records ended without EXIT (a truncated or partial trace): the task
  // exits there, so its address space is freed and its parent's wait ends.
  ++implicit_exits_;
  OsEvent e;
  e.pid = t.pid;
  e.tid = t.tid;
  e.body = ExitEvent{0, false};
  const TaskEventResult r = os_event(e, t, cpu, at, caller);
  if (r.next != TaskEventResult::Next::kEnded) {
    sched_->exit(t, false);
    pending_.erase(t);
    changed();
  }
}

void KernelModule::visit(StatVisitor& v, const std::string& prefix) const {
  const std::string p = prefix + "kernel.";
  for (int c = 0; c < kNumFaultClasses; ++c) {
    if (stats_.faults[static_cast<size_t>(c)] == 0) continue;
    const std::string base =
        p + "fault_class." + std::string(fault_class_name(static_cast<FaultClass>(c)));
    const uint64_t n = stats_.faults[static_cast<size_t>(c)];
    v.counter(base + ".count", "faults", "faults of this class", n);
    v.histogram(base + ".latency", "cycles", "raise to resume, per fault of this class",
                stats_.latency[static_cast<size_t>(c)]);
    for (size_t part = 0; part < FaultTiming::kNumParts; ++part) {
      const uint64_t sum = stats_.breakdown[static_cast<size_t>(c)].part[part];
      if (sum == 0) continue;
      v.real(base + ".mean." + std::string(FaultTiming::name(static_cast<FaultTiming::Part>(part))),
             "cycles", "mean cycles of this part of the handling", static_cast<double>(sum) / n);
    }
  }
  v.counter(p + "waits.io", "waits", "faults that waited for an I/O", stats_.io_waits);
  v.counter(p + "waits.page", "waits", "faults that waited for a page another fault held",
            stats_.page_waits);
  v.counter(p + "wait_cycles", "cycles", "cycles faults spent waiting", stats_.wait_cycles);
  v.counter(p + "mem_requests", "requests", "the kernel's own memory requests (lines)",
            stats_.mem_requests);
  v.counter(p + "shootdowns", "ipis", "TLB shootdown IPIs sent to other CPUs", stats_.shootdowns);
  if (clk_ != nullptr) {
    v.counter(p + "io_completions", "requests", "block request completions (interrupts) handled",
              completions_);
  }
  if (flusher_.agent) {
    v.counter(p + "writeback.flusher_wakes", "runs", "times the flusher thread ran", flusher_.runs);
  }
  if (kswapd_.agent) {
    v.counter(p + "kswapd_wakes", "runs", "times the kswapd thread ran", kswapd_.runs);
  }
  for (size_t k = 0; k < event_count_.size(); ++k) {
    if (event_count_[k] == 0) continue;
    std::string n(os_event_name(k));
    for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    v.counter(p + "events." + n + ".count", "events", "OS events of this kind handled",
              event_count_[k]);
    v.counter(p + "events." + n + ".cycles", "cycles",
              "cycles from the call to its return, summed (blocked time excluded)",
              event_cycles_[k]);
  }
  if (sched_) {
    v.counter(p + "implicit_exits", "tasks", "tasks whose records ended without an EXIT event",
              implicit_exits_);
    sched_->visit(v, p);
  }
  PrefixedVisitor pv(v, prefix);
  core_.visit(pv);
}

}  // namespace mmusim
