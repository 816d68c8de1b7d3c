#include "models/cpu/cpu_core.h"

#include <algorithm>
#include <stdexcept>

namespace mmusim {

struct CpuCore::Owned {
  AddressGenerator ag;
  SegmentationUnit seg;
  TlbHierarchy tlb;
  Walker walker;
  Owned(const CpuCoreConfig& c, PhysMem& mem, MemoryTiming& timing)
      : ag(c.ag), seg(c.seg), tlb(c.tlb), walker(c.walker, mem, timing) {}
};

namespace {

uint64_t linear_mask_of(PagingMode mode) {
  const PagingModeInfo& m = paging_mode_info(mode);
  if (m.linear_bits >= 64 || m.canonical) return ~uint64_t{0};
  return (uint64_t{1} << m.linear_bits) - 1;
}

}  // namespace

CpuCore::CpuCore(uint32_t id, const CpuCoreConfig& cfg, CpuUnits units, PhysMem& mem, Env& env,
                 uint64_t explain, ExplainLog* explain_out, DescriptorTables* tables)
    : CpuCore(id, cfg, nullptr, &units, mem, env, explain, explain_out, tables) {}

CpuCore::CpuCore(uint32_t id, const CpuCoreConfig& cfg, PhysMem& mem, Env& env, uint64_t explain,
                 ExplainLog* explain_out, DescriptorTables* tables)
    : CpuCore(id, cfg, std::make_unique<Owned>(cfg, mem, env), nullptr, mem, env, explain,
              explain_out, tables) {}

CpuCore::CpuCore(uint32_t id, const CpuCoreConfig& cfg, std::unique_ptr<Owned> owned,
                 const CpuUnits* units, PhysMem& mem, Env& env, uint64_t explain,
                 ExplainLog* explain_out, DescriptorTables* tables)
    : id_(id),
      cfg_(cfg),
      env_(env),
      owned_(std::move(owned)),
      ag_(units ? units->ag : owned_->ag),
      seg_(units ? units->seg : owned_->seg),
      tlb_(units ? units->tlb : owned_->tlb),
      walker_(units ? units->walker : owned_->walker),
      ctx_{cfg.pid, cfg.pid, cfg.asid, PhysAddr(0)},
      mem_(mem),
      own_tables_(tables != nullptr ? DescriptorTables{} : DescriptorTables::defaults(cfg.seg)),
      tables_(tables != nullptr ? tables : &own_tables_),
      slow_(cfg.seg.mode == SegMode::kFlat || cfg.seg.mode == SegMode::kLong64 ? 0 : 0xFF),
      canon_half_(cfg.seg.mode == SegMode::kLong64 ? uint64_t{1} << (cfg.seg.canonical_bits - 1)
                                                   : 0),
      canon_mask_(cfg.seg.mode == SegMode::kLong64 ? ~((uint64_t{1} << cfg.seg.canonical_bits) - 1)
                                                   : 0),
      slow_xlat_(cfg.walker.mode == PagingMode::kOff ? kPagingOff : 0),
      linear_mask_(linear_mask_of(cfg.walker.mode)),
      explain_(explain, explain_out),
      pending_(tlb_.mshr().capacity()),
      stall_(stats_.translation_stall, stats_.fault_stall, 2 * size_t{cfg.ag.window}) {
  for (PendingMiss& p : pending_) {
    p.plain.reserve(cfg.ag.window);
    p.waiters.reserve(8);
  }
  scratch_.reserve(cfg.ag.window);
  tables_gen_ = tables_->generation();
  load_initial_registers();
}

CpuCore::~CpuCore() = default;

void CpuCore::wait_for_window() {
  while (ag_.issued() >= block_at_) step_walker();
}

void CpuCore::recompute_oldest() {
  const MissStatusTable& mshr = tlb_.mshr();
  uint64_t oldest = ~uint64_t{0};
  for (uint32_t i = 0; i < mshr.capacity(); ++i) {
    const MshrEntry& e = mshr.at(static_cast<int>(i));
    if (e.busy && e.owner < oldest) oldest = e.owner;
  }
  oldest_owner_ = oldest;
  block_at_ = oldest == ~uint64_t{0} ? oldest : oldest + cfg_.ag.window;
}

Cycle CpuCore::translate_slow(LinearAddr a, AccessKind k, Cycles seg) {
  ++stats_.translations;
  const Cycle issue = this->issue();
  last_issue_ = issue;
  const Cycle start = issue + seg;       // segmentation precedes the TLB lookup
  if ((slow_xlat_ & kPagingOff) != 0) {  // CR0.PG = 0: linear = physical, no TLB
    if (want_phys_) {
      phys_ = PhysAddr(a.value());
      phys_ok_ = true;
    }
    const bool data = data_ && !want_phys_;
    const Cycle retire = data ? this->data(PhysAddr(a.value()), k, start) : start;
    if (const int64_t b = open_block(k, a, issue); b >= 0) {
      explain_.append_to(static_cast<size_t>(b), explain::paging_off(a, seg));
      if (data) {
        explain_.append_to(static_cast<size_t>(b),
                           data_line(PhysAddr(a.value()), span_, k, start, retire));
      }
      explain_.close(static_cast<size_t>(b));
    }
    ag_.complete(retire);
    stats_.translation_latency.add(0);  // the linear address is the physical one
    return start;
  }
  const Cycles carry = take_carry();
  if (tlb_.mshr().size() != 0) {
    // Walk events up to now happen first (fills at their cycle); a miss to a
    // page whose walk is still pending merges into it.
    advance(issue);
    if (tlb_.mshr().size() != 0) {
      const int i = tlb_.mshr().find(a, ctx_.pcid);
      // (a task asleep in a late fault merges into nothing: translate_lookup)
      if (i >= 0 && !late_blocked_ && merge(i, a, k, issue, seg, carry)) return kPending;
    }
  }
  return translate_lookup(a, k, seg, issue, carry);
}

Cycle CpuCore::translate_lookup(LinearAddr a, AccessKind k, Cycles seg, Cycle issue, Cycles carry) {
  // (after a wait for a fill that may have found a late fault)
  if (late_blocked_ && !want_phys_) return given_back(issue, a, k);
  const Cycle start = issue + seg;
  const TlbLookup l = tlb_.lookup(a, k, ctx_.pcid);
  if (l.level != TlbLevel::kMiss) {
    const uint8_t p = l.t->perms;
    if (rights_ok(p, k) && (k != AccessKind::kWrite || (p & kPermDirty))) {
      (l.level == TlbLevel::kL1 ? stats_.l1_hits : stats_.l2_hits)++;
      const PhysAddr pa = l.t->phys(a);
      const Cycle done = start + l.latency;
      const bool data = data_ && !want_phys_;
      const Cycle retire = data ? data_after_hit(l, a, k, start, done) : done;
      if (const int64_t b = open_block(k, a, issue); b >= 0) {
        explain_.append_to(static_cast<size_t>(b), explain::hit(tlb_, k, a, l, seg));
        if (data) {
          explain_.append_to(
              static_cast<size_t>(b),
              data_line(pa, span_, k, l.level == TlbLevel::kL1 ? start : done, retire));
        }
        explain_.close(static_cast<size_t>(b));
      }
      if (want_phys_) {
        phys_ = pa;
        phys_ok_ = true;
      }
      if (l.level != TlbLevel::kL1) stalled(start, done, k, retire);
      ag_.complete(retire);
      latency(start, done, Cycles{}, carry);
      return done;
    }
  }
  return after_lookup(a, k, seg, issue, l, carry);
}

Cycle CpuCore::after_lookup(LinearAddr a, AccessKind k, Cycles seg, Cycle issue, const TlbLookup& l,
                            Cycles carry) {
  if (l.level != TlbLevel::kMiss) {
    // A permission failure or a clean page being written: the processor
    // re-walks (and faults or sets D) as the SDM requires.
    (l.level == TlbLevel::kL1 ? stats_.l1_hits : stats_.l2_hits)++;
    if (rights_ok(l.t->perms, k)) ++stats_.dirty_assists;
    return miss(a, k, issue, l.latency, true, seg, carry);
  }
  ++stats_.tlb_misses;
  return miss(a, k, issue, l.latency, false, seg, carry);
}

bool CpuCore::merge(int i, LinearAddr a, AccessKind k, Cycle issue, Cycles seg, Cycles carry) {
  MshrEntry& e = tlb_.mshr().at(i);
  const uint8_t p = e.result.perms;
  const bool needs_dirty = k == AccessKind::kWrite && !(p & kPermDirty);
  if (needs_dirty || want_phys_ || explain_.on() || !rights_ok(p, k) || carry != Cycles{}) {
    return merge_special(i, a, k, issue, seg, carry);
  }
  // The common case: the access completes when the walk does.
  tlb_.mshr().count_merge();
  e.sides |= MissStatusTable::side_bit(k);
  if (data_) {
    pending_[static_cast<size_t>(i)].data_waiters.push_back(
        DataWaiter{ag_.issued(), issue, issue + seg, a, span_, k});
  } else {
    pending_[static_cast<size_t>(i)].plain.push_back(PlainWaiter{ag_.issued(), issue, issue + seg});
  }
  stall_open(issue + seg, k);
  ag_.complete(issue + seg);  // the walk's completion resolves the rest
  return true;
}

bool CpuCore::merge_special(int i, LinearAddr a, AccessKind k, Cycle issue, Cycles seg,
                            Cycles carry) {
  MissStatusTable& mshr = tlb_.mshr();
  MshrEntry& e = mshr.at(i);
  const uint8_t p = e.result.perms;
  if (!rights_ok(p, k)) {
    // The access faults once the translation is filled: wait for the fill,
    // then take the TLB path (re-walk, precise fault).
    const uint64_t serial = pending_[static_cast<size_t>(i)].serial;
    while (e.busy && pending_[static_cast<size_t>(i)].serial == serial) step_walker();
    return false;
  }
  mshr.count_merge();
  e.sides |= MissStatusTable::side_bit(k);
  const int64_t block = open_block(k, a, issue);
  const bool needs_dirty = k == AccessKind::kWrite && !(p & kPermDirty);
  pending_[static_cast<size_t>(i)].waiters.push_back(
      Waiter{ag_.issued(), issue, issue + seg, a, k, needs_dirty, want_phys_, block, carry, span_});
  if (want_phys_) {
    phys_ = e.result.phys(a);
    phys_ok_ = true;
  }
  stall_open(issue + seg, k);
  ag_.complete(issue + seg);  // the walk's completion resolves the rest
  return true;
}

int64_t CpuCore::open_block(AccessKind k, LinearAddr a, Cycle issue) {
  if (!explain_.on()) return -1;
  const size_t b = explain_.open();
  explain_.fill(
      b, explain::head(stats_.translations + blocked_attempts_, id_, k, a, issue) + explain_seg_);
  explain_seg_.clear();
  return static_cast<int64_t>(b);
}

int CpuCore::track(const WalkTicket& t, LinearAddr a, AccessKind k, uint64_t owner, Cycle issue,
                   Cycle start, Cycles tlb_latency, explain::WalkReason why, bool want_phys,
                   int64_t block) {
  MissStatusTable& mshr = tlb_.mshr();
  const int i = mshr.allocate(a, ctx_.pcid, t.translation, k, owner);
  PendingMiss& p = pending_[static_cast<size_t>(i)];
  p.issue = issue;
  p.start = start;
  p.addr = a;
  p.kind = k;
  p.tlb_latency = tlb_latency;
  p.why = why;
  p.want_phys = want_phys;
  p.block = block;
  p.walk = t.id;
  ++p.serial;
  p.span = span_;
  p.data = data_ && !want_phys;
  p.plain.clear();
  p.data_waiters.clear();
  p.waiters.clear();
  p.lookup = start;
  p.fault = Cycles{};
  p.carry = Cycles{};
  if (owner < oldest_owner_) {
    oldest_owner_ = owner;
    block_at_ = owner + cfg_.ag.window;
  }
  return i;
}

Cycle CpuCore::miss(LinearAddr a, AccessKind k, Cycle issue, Cycles tlb_latency, bool assist,
                    Cycles seg, Cycles carry) {
  MissStatusTable& mshr = tlb_.mshr();
  Cycle start = issue + seg;
  Cycle request = start + tlb_latency;
  // The access's latency runs from its first lookup; fault handling (raise
  // to resumption, summed over its faults) is taken out.
  const Cycle lookup = start;
  Cycles fault{};
  Cycle retired{0};  // R(i-1) once a fault drained the older accesses
  if (mshr.full()) {
    mshr.count_stall();
    while (mshr.full()) step_walker();
    // (that may have found a late fault the task now sleeps in)
    if (late_blocked_ && !want_phys_) return given_back(issue, a, k);
    request = max(request, walker_.now());
  }
  for (;;) {
    const int64_t block = open_block(k, a, issue);
    const WalkTicket t = walker_.request(a, k, cfg_.user, request, block >= 0);
    if (t.fault == FaultKind::kNone) {
      const int i = track(t, a, k, ag_.issued(), issue, start, tlb_latency,
                          assist ? explain::WalkReason::kReWalk : explain::WalkReason::kMiss,
                          want_phys_, block);
      PendingMiss& p = pending_[static_cast<size_t>(i)];
      p.lookup = lookup;
      p.fault = fault;
      p.carry = carry;
      if (fault == Cycles{}) {
        stall_open(lookup, k);
      } else {
        stall_.open(ag_.issued(), retired, lookup + tlb_.l1_latency(k));
      }
      if (want_phys_) {
        phys_ = t.translation.phys(a);
        phys_ok_ = true;
      }
      ag_.complete(request);  // the walk's completion resolves the rest
      return kPending;
    }
    // A page fault is precise: every walk completes (this one included),
    // older accesses retire, then the handler runs.
    sync_walk_ = t.id;
    drain_walks();
    const WalkResult& w = sync_result_;
    if (block >= 0) {
      explain_.append_to(
          static_cast<size_t>(block),
          explain::walk(tlb_, walker_.mode(), a, k, issue, w, tlb_latency,
                        assist ? explain::WalkReason::kReWalk : explain::WalkReason::kMiss));
    }
    if (fault == Cycles{}) retired = ag_.drained();
    const Cycle raised = raise_cycle(w);
    const FaultOutcome o = deliver(a, k, w, can_block_ && !want_phys_, block,
                                   Cycles((raised - lookup).count() - fault.count()) + carry);
    fault = fault + (o.resume - raised);
    if (block >= 0) {
      explain_.append_to(static_cast<size_t>(block), explain::kernel(o));
      // A sleeping task's block is completed when it wakes (explain_resumed);
      // one given back without a fault of its own is complete now.
      if (o.action != FaultOutcome::Action::kBlock || o.message == kNotDelivered) {
        explain_.close(static_cast<size_t>(block));
      }
    }
    if (o.action == FaultOutcome::Action::kBlock) {  // the task sleeps: replayed later
      // This CPU stops waiting for the access here; FaultInfo::translated
      // carries its translation cycles to the replay.
      blocked_ = true;
      stall_.known(ag_.issued(), retired, lookup + tlb_.l1_latency(k), o.resume, fault, o.resume);
      ag_.complete(o.resume);
      return o.resume;
    }
    if (o.action == FaultOutcome::Action::kSkip) {
      ++stats_.skipped;
      stall_.known(ag_.issued(), retired, lookup + tlb_.l1_latency(k), o.resume, fault, o.resume);
      ag_.complete(o.resume);
      latency(lookup, o.resume, fault, carry);
      return o.resume;
    }
    // Replay the access: it walks again from the resumption cycle.
    issue = o.resume;
    start = o.resume;
    request = o.resume + tlb_latency;
  }
}

void CpuCore::explain_resumed(int64_t block, const FaultOutcome& o) {
  if (block >= 0) {
    explain_.append_to(static_cast<size_t>(block), explain::resumed(o));
    explain_.close(static_cast<size_t>(block));
  }
}

FaultOutcome CpuCore::deliver(LinearAddr a, AccessKind k, const WalkResult& w, bool can_block,
                              int64_t block, Cycles translated) {
  if (late_blocked_ && can_block) {
    // The task already sleeps in a late fault: this access is given back
    // (replayed after it), its fault not delivered.
    return not_delivered(raise_cycle(w));
  }
  ++stats_.faults;
  ++stats_.faults_by_kind[static_cast<int>(w.fault)];
  const Cycle raised = raise_cycle(w);
  env_.sync(raised);
  FaultInfo f;
  f.addr = a;
  f.kind = k;
  f.fault = w.fault;
  f.user = cfg_.user;
  f.cpu = id_;
  f.pid = ctx_.pid;
  f.tid = ctx_.tid;
  f.pcid = ctx_.pcid;
  f.raised = raised;
  f.can_block = can_block;
  f.explain_block = block;
  f.translated = translated;
  FaultOutcome o = env_.fault(f);
  if (o.resume < raised) o.resume = raised;  // the kernel's time is never ignored
  if (o.action == FaultOutcome::Action::kBlock) {
    // Its latency is counted when the kernel completes it (the task resumes).
    ag_.resume_at(o.resume);
    return o;
  }
  stats_.fault_cycles += (o.resume - raised).count();
  stats_.fault_latency.add((o.resume - raised).count());
  if (o.tlb_flush_page) {
    tlb_.invalidate_page(a, ctx_.pcid);
    walker_.flush_pwc();
  }
  apply_flush(o.flush);
  ag_.resume_at(o.resume);
  if (o.action == FaultOutcome::Action::kStop) throw std::runtime_error(o.message);
  return o;
}

const WalkResult& CpuCore::sync_walk(LinearAddr a, AccessKind k, Cycle at, bool explain) {
  sync_walk_ = walker_.request(a, k, cfg_.user, at, explain).id;
  drain_walks();
  return sync_result_;
}

void CpuCore::step_walker() {
  if (const WalkResult* w = walker_.step()) complete(*w);
  if (!late_.empty()) handle_late_faults();
}

void CpuCore::complete(const WalkResult& w) {
  if (w.id == sync_walk_) {
    sync_result_ = w;
    sync_walk_ = 0;
    return;
  }
  MissStatusTable& mshr = tlb_.mshr();
  const int i = entry_of(w.id);
  MshrEntry& e = mshr.at(i);
  PendingMiss& p = pending_[static_cast<size_t>(i)];
  const uint64_t owner = e.owner;
  if (w.fault != FaultKind::kNone) {
    // The tables changed under the walk: deliver the fault after this event.
    // Its explain block stays open for the handling; the merged accesses'
    // blocks say what they wait for.
    ++stats_.late_faults;
    if (p.block >= 0) {
      explain_.append_to(
          static_cast<size_t>(p.block),
          explain::walk(tlb_, walker_.mode(), p.addr, p.kind, p.issue, w, p.tlb_latency, p.why) +
              explain::late_found());
    }
    for (const Waiter& x : p.waiters) {
      if (x.block < 0) continue;
      explain_.append_to(static_cast<size_t>(x.block), explain::merged_into_late());
      explain_.close(static_cast<size_t>(x.block));
    }
    late_.push_back(LateFault{p.addr, p.kind, w.fault, p.issue, w.done, owner, p.tlb_latency,
                              p.waiters, p.lookup, p.fault, p.carry, p.span, p.data, p.want_phys,
                              p.block});
    for (const PlainWaiter& x : p.plain) {
      late_.back().waiters.push_back(
          Waiter{x.seq, x.issue, x.start, p.addr, p.kind, false, false, -1, Cycles{}});
    }
    for (const DataWaiter& x : p.data_waiters) {
      late_.back().waiters.push_back(
          Waiter{x.seq, x.issue, x.start, x.addr, x.kind, false, false, -1, Cycles{}, x.span});
    }
    p.plain.clear();
    p.data_waiters.clear();
    p.waiters.clear();
    mshr.free(i);
    recompute_oldest();
    return;
  }
  tlb_.fill_sides(w.translation, e.sides);
  latency(p.lookup, w.done, p.fault, p.carry);
  if (p.want_phys) phys_done_ = w.done;
  // The access's data, now that its page is known (cache.data).
  const Cycle retire =
      p.data ? data_span(w.translation.phys(p.addr), p.span, p.kind, w.done) : w.done;
  stall_.close(owner, w.done, p.fault, retire);
  if (p.block >= 0) {
    explain_.append_to(
        static_cast<size_t>(p.block),
        explain::walk(tlb_, walker_.mode(), p.addr, p.kind, p.issue, w, p.tlb_latency, p.why));
    if (p.data) {
      explain_.append_to(static_cast<size_t>(p.block),
                         data_line(w.translation.phys(p.addr), p.span, p.kind, w.done, retire));
    }
    explain_.close(static_cast<size_t>(p.block));
  }
  ag_.resolve(owner, retire);
  // Accesses that merged: done when the walk is (or at their own start).
  const PlainWaiter* x = p.plain.data();
  const PlainWaiter* const end = x + p.plain.size();
  stall_.close_each([&](uint64_t& seq, Cycle& done) {
    if (x == end) return false;
    seq = x->seq;
    done = max(x->start, w.done);
    latency(x->start, done);
    ++x;
    return true;
  });
  p.plain.clear();
  // With the data side: each reads or writes its data then, and retires no
  // earlier than that (a floor only where it is later than the ones before).
  Cycle floor = retire;
  for (const DataWaiter& x : p.data_waiters) {
    const Cycle done = max(x.start, w.done);
    latency(x.start, done);
    const Cycle d = data_span(w.translation.phys(x.addr), x.span, x.kind, done);
    stall_.close(x.seq, done, Cycles{}, d);
    if (d > floor) {
      ag_.resolve(x.seq, d);
      floor = d;
    }
  }
  p.data_waiters.clear();
  scratch_.swap(p.waiters);
  p.waiters.clear();
  mshr.free(i);
  // The others; writes that find D = 0 re-walk to set it, one walk for all
  // of them.
  const bool dirty = (w.translation.perms & kPermDirty) != 0;
  int assist = -1;
  for (const Waiter& x : scratch_) {
    if (x.kind == AccessKind::kWrite && !dirty) {
      if (assist < 0) {
        ++stats_.dirty_assists;
        if (x.block >= 0) {
          explain_.append_to(static_cast<size_t>(x.block),
                             "  tlb:  merged into the pending miss to this page (MSHR), its walk "
                             "done@" +
                                 std::to_string(w.done.count()) +
                                 " with D clear: re-walk to set D\n");
        }
        const WalkTicket t =
            walker_.request(x.addr, AccessKind::kWrite, cfg_.user, w.done, x.block >= 0);
        assist = track(t, x.addr, AccessKind::kWrite, x.seq, x.issue, x.start, Cycles(0),
                       explain::WalkReason::kDirtyAfterMerge, x.want_phys, x.block);
        pending_[static_cast<size_t>(assist)].carry = x.carry;
        pending_[static_cast<size_t>(assist)].span = x.span;
        pending_[static_cast<size_t>(assist)].data = data_ && !x.want_phys;
        continue;
      }
      Waiter y = x;
      y.needs_dirty = false;
      pending_[static_cast<size_t>(assist)].waiters.push_back(y);
      continue;
    }
    const Cycle done = max(x.start, w.done);
    latency(x.start, done, Cycles{}, x.carry);
    if (x.want_phys) phys_done_ = done;
    const bool data = data_ && !x.want_phys;
    const PhysAddr pa = w.translation.phys(x.addr);
    const Cycle d = data ? data_span(pa, x.span, x.kind, done) : done;
    stall_.close(x.seq, done, Cycles{}, d);
    if (data) ag_.resolve(x.seq, d);
    if (x.block >= 0) {
      explain_.append_to(static_cast<size_t>(x.block), explain::merged(w.done, pa, done - x.issue));
      if (data)
        explain_.append_to(static_cast<size_t>(x.block), data_line(pa, x.span, x.kind, done, d));
      explain_.close(static_cast<size_t>(x.block));
    }
  }
  scratch_.clear();
  if (owner == oldest_owner_) recompute_oldest();  // else the oldest is still pending
}

Cycle CpuCore::data_miss(Cache& c, uint64_t line, const CacheResult& r, Cycle issued,
                         AccessKind k) {
  if (r.upgrade) {  // a store's hit on a line held shared with another CPU
    data_served_ = MemSource::kL1;
    data_upgraded_ = true;
    return env_.data_upgrade(line, issued, r.ready);
  }
  MemSource served = MemSource::kDram;
  const Cycle done =
      env_.data_miss(c, line, r, issued, k == AccessKind::kFetch, k == AccessKind::kWrite, served);
  data_served_ = served;
  return done;
}

Cycle CpuCore::buffered_store(PhysAddr pa, uint32_t span, Cycle at) {
  const size_t n = sb_.size();
  const auto pop_done_by = [&](Cycle c) {
    while (sb_count_ != 0 && sb_[sb_head_] <= c) {
      sb_head_ = sb_head_ + 1 == n ? 0 : sb_head_ + 1;
      --sb_count_;
    }
  };
  pop_done_by(at);
  Cycle entry = at;
  if (sb_count_ == n) {  // every entry taken: wait for the oldest write
    entry = sb_[sb_head_];
    ++stats_.store_buffer_full;
    stats_.store_buffer_wait_cycles += (entry - at).count();
    pop_done_by(entry);
  }
  sb_ready_ = line_access(pa, span, AccessKind::kWrite, entry);
  const Cycle written = max(sb_last_, sb_ready_);
  sb_last_ = written;
  size_t tail = sb_head_ + sb_count_;
  if (tail >= n) tail -= n;
  sb_[tail] = written;
  ++sb_count_;
  ++stats_.stores_buffered;
  sb_entry_ = entry;
  return entry;
}

Cycle CpuCore::data_lines(PhysAddr pa, uint32_t span, AccessKind k, Cycle at) {
  Cache& c = k == AccessKind::kFetch ? *l1i_ : *l1d_;
  const bool write = k == AccessKind::kWrite;
  const uint64_t end = c.line_of(pa.value() + span);
  Cycle done = at;
  MemSource deepest = MemSource::kL1;
  for (uint64_t line = c.line_of(pa.value()); line <= end; ++line) {
    const CacheResult r = c.access(line, write, at, who_of(k));
    const Cycle d = r.hit ? r.ready : data_miss(c, line, r, at, k);
    if (!r.hit && data_served_ > deepest) deepest = data_served_;
    done = max(done, d);
  }
  data_served_ = deepest;
  return done;
}

std::string CpuCore::data_line(PhysAddr pa, uint32_t span, AccessKind k, Cycle at,
                               Cycle done) const {
  // A buffered store: its line from its entry on; it retired at its entry.
  const bool buffered = k == AccessKind::kWrite && !sb_.empty();
  if (buffered) {
    at = sb_entry_;
    done = sb_ready_;
  }
  const Cache& c = k == AccessKind::kFetch ? *l1i_ : *l1d_;
  const char* l1 = k == AccessKind::kFetch ? "L1I" : "L1D";
  const uint64_t lines = c.line_of(pa.value() + span) - c.line_of(pa.value()) + 1;
  std::string s = "  data: " + explain::hex(pa.value());
  if (lines > 1) s += " (" + std::to_string(lines) + " lines)";
  switch (data_served_) {
    case MemSource::kL1:
      s += std::string(" ") + l1 +
           (data_upgraded_                     ? " hit on a shared line, upgraded"
            : done > at + c.geometry().latency ? " hit on a line being filled"
                                               : " hit");
      break;
    case MemSource::kL2: s += std::string(" ") + l1 + " miss, from L2"; break;
    case MemSource::kLlc: s += std::string(" ") + l1 + " miss, from LLC"; break;
    case MemSource::kDram: s += std::string(" ") + l1 + " miss, from DRAM"; break;
  }
  data_upgraded_ = false;
  s += ", " + std::to_string(at.count()) + "->" + std::to_string(done.count()) + " (" +
       std::to_string((done - at).count()) + " cycles)";
  if (buffered) {
    s += "; store buffer: retired at " + std::to_string(at.count());
    if (sb_last_ > done)
      s += ", written after the older stores at " + std::to_string(sb_last_.count());
  }
  return s + "\n";
}

int CpuCore::entry_of(uint64_t id) const {
  const MissStatusTable& mshr = tlb_.mshr();
  int i = 0;
  while (!(mshr.at(i).busy && pending_[static_cast<size_t>(i)].walk == id)) ++i;
  return i;
}

void CpuCore::handle_late_faults() {
  // A late fault found while another is handled (a walk its replay drained)
  // is handled in place: the kernel holds one sleeping fault per task.
  const bool outer = !in_late_;
  in_late_ = true;
  while (!late_.empty()) {
    LateFault f = std::move(late_.back());
    late_.pop_back();
    drain_walks();
    WalkResult w;
    w.fault = f.fault;
    w.done = f.done;
    // Its explain block: lines appended, closed once the fault is handled.
    const auto explain_late = [&](const std::string& text, bool close) {
      if (f.block < 0) return;
      if (!text.empty()) explain_.append_to(static_cast<size_t>(f.block), text);
      if (close) explain_.close(static_cast<size_t>(f.block));
    };
    if (late_blocked_) {  // the task sleeps already: this access replays too
      explain_late(explain::kernel(not_delivered(raise_cycle(w))), true);
      give_back_late(f, raise_cycle(w));
      continue;
    }
    Cycle done;
    Cycles fault = f.fault_cycles;  // handling time, taken out of the latencies
    bool mapped = false;
    bool slept = false;
    Translation tr;
    for (bool first = true;; first = false) {
      const Cycle raised = raise_cycle(w);
      // The first attempt may sleep; its translation cycles go to the
      // replay. Only where a plain record replays it exactly (flat or long
      // mode: linear = offset) and not for a descriptor read (part of a
      // selector load, which cannot be given back).
      const bool may_block = can_block_ && first && outer && slow_ == 0 && !f.want_phys;
      const FaultOutcome o =
          may_block
              ? deliver(f.addr, f.kind, w, true, -1,
                        Cycles((raised - f.lookup).count() - f.fault_cycles.count()) + f.carry)
              : deliver(f.addr, f.kind, w);
      explain_late(explain::kernel(o), o.action == FaultOutcome::Action::kBlock);
      if (o.action == FaultOutcome::Action::kBlock) {
        late_blocked_ = true;
        give_back_late(f, o.resume);
        slept = true;
        break;
      }
      fault = fault + (o.resume - raised);
      done = o.resume;
      if (o.action == FaultOutcome::Action::kSkip) {
        ++stats_.skipped;
        break;
      }
      const WalkResult& r = sync_walk(f.addr, f.kind, o.resume + f.tlb_latency, f.block >= 0);
      explain_late(explain::walk(tlb_, walker_.mode(), f.addr, f.kind, f.issue, r, f.tlb_latency,
                                 explain::WalkReason::kMiss),
                   false);
      if (r.fault == FaultKind::kNone) {
        tlb_.fill(r.translation, f.kind);
        done = r.done;
        mapped = true;
        tr = r.translation;
        break;
      }
      w = r;
    }
    if (slept) continue;
    // The data side after the replay found the page (none when skipped).
    const bool data = mapped && f.data;
    const Cycle retire = data ? data_span(tr.phys(f.addr), f.span, f.kind, done) : done;
    explain_late(data ? data_line(tr.phys(f.addr), f.span, f.kind, done, retire) : std::string(),
                 true);
    ag_.resolve(f.owner, retire);
    latency(f.lookup, done, fault, f.carry);
    stall_.close(f.owner, done, fault, retire);
    // The accesses merged into the walk waited for the same handling.
    for (const Waiter& x : f.waiters) {
      const Cycle d = max(x.start, done);
      latency(x.start, d, std::min(fault, d - x.start), x.carry);
      Cycle r = d;
      if (mapped && data_ && !x.want_phys && x.seq != 0) {
        r = data_span(tr.phys(x.addr), x.span, x.kind, d);
        ag_.resolve(x.seq, r);
      }
      stall_.close(x.seq, d, Cycles{}, r);
    }
  }
  in_late_ = !outer;
}

void CpuCore::give_back_late(const LateFault& f, Cycle at) {
  uncount_attempt(f.kind, true);
  TraceRecord r;
  r.addr = record_address(f.addr.value());
  r.size = f.span + 1;
  r.kind = f.kind;
  late_replays_.emplace_back(f.owner, r);
  // It stops holding the younger accesses back at `at`; those merged into
  // its walk stand, done then.
  ag_.resolve(f.owner, at);
  stall_.close(f.owner, at, f.fault_cycles, at);
  for (const Waiter& x : f.waiters) {
    const Cycle d = max(x.start, at);
    latency(x.start, d, Cycles{}, x.carry);
    if (data_ && !x.want_phys && x.seq != 0) ag_.resolve(x.seq, d);
    stall_.close(x.seq, d, Cycles{}, d);
  }
}

std::vector<TraceRecord> CpuCore::take_late_replays() {
  std::sort(late_replays_.begin(), late_replays_.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<TraceRecord> out;
  out.reserve(late_replays_.size());
  for (const auto& x : late_replays_) out.push_back(x.second);
  late_replays_.clear();
  late_blocked_ = false;
  return out;
}

Cycle CpuCore::given_back(Cycle issue, LinearAddr a, AccessKind k) {
  // (take_blocked() un-counts the access; nothing of it ran.)
  if (const int64_t b = open_block(k, a, issue); b >= 0) {
    explain_.append_to(static_cast<size_t>(b), explain::kernel(not_delivered(issue)));
    explain_.close(static_cast<size_t>(b));
  }
  blocked_ = true;
  stall_.known(ag_.issued(), ag_.drained(), issue, issue, Cycles{}, issue);
  ag_.complete(issue);
  return issue;
}

void CpuCore::invalidate(const TraceRecord& r) {
  using namespace trace_flags;
  // Serializing: every older access retires and every pending walk fills its
  // TLB entry first (a fill after the invalidation would bring it back).
  drain_walks();
  // (The store buffer drains too: sb_last_ is 0 without one.)
  const Cycle start = max(max(ag_.drained(), ag_.next_issue()), sb_last_);
  const uint8_t op = op_of(r.flags);
  std::string what;
  if (op == kOpInvlpg) {
    const LinearAddr a(r.addr & linear_mask_);
    tlb_.invalidate_page(a, ctx_.pcid);  // every page size, global entries too
    ++stats_.inv_page;
    if (explain_.on()) {
      what = "INVLPG " + explain::hex(a.value()) + ": the page's translations (any size, PCID " +
             std::to_string(ctx_.pcid.value()) + ")";
    }
  } else if (op == kOpInvpcid) {
    tlb_.invalidate_asid(Asid(static_cast<uint16_t>(r.addr)));
    ++stats_.inv_pcid;
    what = "INVPCID " + std::to_string(r.addr) + ": that PCID's non-global translations";
  } else if (r.addr == 0) {
    tlb_.invalidate_all(true);
    ++stats_.inv_all;
    what = "FLUSH: every non-global translation";
  } else {
    tlb_.invalidate_all(false);
    ++stats_.inv_global;
    what = "FLUSH GLOBAL: every translation";
  }
  walker_.flush_pwc();  // INVLPG, INVPCID and CR3 writes all flush the PSCs (SDM 4.10.4)
  const Cycle done = start + cfg_.ag.invalidation_cost;
  ag_.resume_at(done);
  last_issue_ = start;
  stats_.invalidation_cycles += (done - start).count();
  if (explain_.on()) {
    const size_t b = explain_.open();
    explain_.fill(b, "INV cpu" + std::to_string(id_) + " issue@" + std::to_string(start.count()) +
                         " (after the pipeline drained)\n  " + what +
                         "; paging-structure caches flushed; done@" + std::to_string(done.count()) +
                         "\n");
    explain_.close(b);
  }
}

Cycle CpuCore::switch_to(const CpuContext& next, Cycle at) {
  drain_walks();  // MOV CR3 is serializing (the store buffer drains too)
  const Cycle t = max(max(max(at, ag_.drained()), ag_.next_issue()), sb_last_);
  ctx_ = next;
  walker_.set_root(next.cr3, next.pcid);
  if (cfg_.ctx_switch == CtxSwitchTlb::kFlush) tlb_.invalidate_all(true);
  walker_.flush_pwc();
  ++stats_.context_switches;
  ag_.resume_at(t);
  last_issue_ = t;
  return t;
}

Cycle CpuCore::quiesce() {
  drain_walks();
  return max(ag_.drained(), ag_.next_issue());
}

void CpuCore::resume_at(Cycle t) {
  ag_.resume_at(t);
  last_issue_ = t;
}

void CpuCore::apply_flush(const FaultOutcome::LocalFlush& f) {
  using K = FaultOutcome::LocalFlush::Kind;
  if (f.kind == K::kNone) return;
  // Linux flushes page by page up to tlb_single_page_flush_ceiling (33
  // pages), the whole PCID above (arch/x86/mm/tlb.c, flush_tlb_mm_range).
  constexpr uint64_t kCeiling = 33;
  if (f.kind == K::kPcid || f.pages > kCeiling) {
    tlb_.invalidate_asid(ctx_.pcid);
  } else {
    for (uint64_t i = 0; i < f.pages; ++i) {
      tlb_.invalidate_page(LinearAddr(f.start.value() + (i << 12)), ctx_.pcid);
    }
  }
  walker_.flush_pwc();
}

void CpuCore::receive_shootdowns(Cycle now) {
  bool any = false;
  for (const Pending& p : inbox_) any = any || p.due <= now;
  if (!any) return;
  // An interrupt: the pipeline drains, the handler invalidates, returns.
  drain_walks();
  const Cycle t = max(ag_.drained(), ag_.next_issue());
  size_t kept = 0;
  for (const Pending& p : inbox_) {
    if (p.due > now) {
      inbox_[kept++] = p;
      continue;
    }
    const Shootdown& s = p.s;
    switch (s.kind) {
      case Shootdown::Kind::kPage:
        if (tlb_.invalidate_page(s.addr, s.pcid) > 0 && s.reclaim) ++stats_.reclaim_tlb_resident;
        stats_.reclaim_shootdowns += s.reclaim ? 1 : 0;
        break;
      case Shootdown::Kind::kPcid: tlb_.invalidate_asid(s.pcid); break;
      case Shootdown::Kind::kAll: tlb_.invalidate_all(true); break;
    }
    ++stats_.shootdowns;
  }
  inbox_.resize(kept);
  walker_.flush_pwc();
  const Cycle done = t + cfg_.ipi_cost;
  stats_.shootdown_cycles += (done - t).count();
  ag_.resume_at(done);
}

void CpuCore::finish() {
  drain_walks();
  stats_.cycles = ag_.drained().count();
}

namespace {

double share(uint64_t part, uint64_t whole) {
  return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// `cycles`: the cycles the stall shares are of (one CPU's, or the sum over
// the CPUs for the totals).
void emit_cpu(StatVisitor& v, const std::string& p, const CpuStats& s, uint64_t cycles) {
  v.counter(p + ".records", "accesses", "trace records simulated", s.records);
  v.counter(p + ".reads", "accesses", "loads (R)", s.by_kind[0]);
  v.counter(p + ".writes", "accesses", "stores (W)", s.by_kind[1]);
  v.counter(p + ".fetches", "accesses", "instruction fetches (X)", s.by_kind[2]);
  v.counter(p + ".translations", "translations",
            "address translations (page-crossing accesses count twice)", s.translations);
  v.counter(p + ".page_splits", "accesses", "accesses split at a 4 KiB page boundary",
            s.page_splits);
  v.counter(p + ".l1_hits", "translations", "translations served by an L1 TLB", s.l1_hits);
  v.counter(p + ".l2_hits", "translations", "translations served by the L2 STLB", s.l2_hits);
  v.counter(p + ".tlb_misses", "translations", "translations that missed every TLB level",
            s.tlb_misses);
  v.counter(p + ".dirty_assists", "walks", "walks that set D for writes that found it clear",
            s.dirty_assists);
  v.counter(p + ".faults", "faults", "page faults raised", s.faults);
  for (int f = 1; f < kNumFaultKinds; ++f) {
    v.counter(p + ".faults." + std::string(fault_kind_name(static_cast<FaultKind>(f))), "faults",
              "page faults of this kind", s.faults_by_kind[f]);
  }
  if (s.store_buffer) {
    v.counter(p + ".store_buffer.stores", "accesses",
              "stores that took a store-buffer entry (cpu.store_buffer)", s.stores_buffered);
    v.counter(p + ".store_buffer.full", "accesses",
              "stores that found every entry taken and waited for the oldest write",
              s.store_buffer_full);
    v.counter(
        p + ".store_buffer.wait_cycles", "cycles",
        "cycles stores waited for a store-buffer entry, summed over the stores (waits overlap)",
        s.store_buffer_wait_cycles);
  }
  v.counter(p + ".late_faults", "faults",
            "faults found by a walk after the page tables changed under it", s.late_faults);
  v.counter(p + ".skipped", "accesses", "accesses dropped after an unresolved fault", s.skipped);
  v.counter(p + ".seg_records", "records",
            "segment records simulated (selector loads, descriptor writes)", s.seg_records);
  v.counter(p + ".seg_skipped", "records",
            "accesses and selector loads dropped by a segmentation fault", s.seg_skipped);
  v.counter(p + ".invalidations.page", "records", "INVLPG records (one page, any size)",
            s.inv_page);
  v.counter(p + ".invalidations.pcid", "records", "INVPCID records (one PCID, non-global)",
            s.inv_pcid);
  v.counter(p + ".invalidations.all", "records", "FLUSH records (every non-global translation)",
            s.inv_all);
  v.counter(p + ".invalidations.global", "records",
            "FLUSH GLOBAL records (every translation, global ones too)", s.inv_global);
  v.counter(p + ".invalidation_cycles", "cycles",
            "cycles of TLB-maintenance records after the pipeline drained", s.invalidation_cycles);
  v.counter(p + ".context_switches", "switches", "address-space switches (MOV CR3)",
            s.context_switches);
  v.counter(p + ".shootdowns", "invalidations", "TLB shootdowns received from other CPUs",
            s.shootdowns);
  v.counter(p + ".shootdown_cycles", "cycles", "interrupt cycles spent applying shootdowns",
            s.shootdown_cycles);
  v.counter(p + ".reclaim_shootdowns", "pages", "shootdowns of pages reclaim unmapped",
            s.reclaim_shootdowns);
  v.counter(p + ".reclaim_tlb_resident", "pages",
            "pages reclaim unmapped (Accessed bit clear) that this CPU's TLBs still held: the "
            "bit was cleared without a flush, so accesses through the TLB could not set it again",
            s.reclaim_tlb_resident);
  v.counter(p + ".fault_cycles", "cycles", "cycles from fault raise to resumption, summed",
            s.fault_cycles);
  v.counter(p + ".cycles", "cycles", "retire cycle of the last access", s.cycles);
  v.counter(p + ".translation_stall", "cycles",
            "cycles the oldest unretired access waited for its translation (past its L1 TLB "
            "lookup, fault handling excluded)",
            s.translation_stall);
  v.real(p + ".translation_stall_share", "fraction", "translation_stall / cycles",
         share(s.translation_stall, cycles));
  v.counter(p + ".fault_stall", "cycles",
            "cycles the oldest unretired access waited for a fault of it to be handled",
            s.fault_stall);
  v.real(p + ".fault_stall_share", "fraction", "fault_stall / cycles",
         share(s.fault_stall, cycles));
  v.histogram(p + ".translation_latency", "cycles",
              "per translation: TLB lookup start to physical address, fault handling excluded",
              s.translation_latency);
  v.histogram(p + ".fault_latency", "cycles", "cost of each fault, raise to resumption",
              s.fault_latency);
}

}  // namespace

void CpuCore::visit(StatVisitor& v, const std::string& prefix) const {
  emit_cpu(v, prefix, stats_, stats_.cycles);
}

void CpuCore::visit_units(StatVisitor& v) const {
  tlb_.visit(v);
  walker_.visit(v);
  seg_stats().visit(v);
}

SegStats CpuCore::seg_stats() const {
  // Every access record passes the segmentation stage (the fast path only
  // skips the call); faulting accesses' base costs are segmentation cycles too.
  SegStats seg = seg_.stats();
  seg.translations = stats_.records;
  seg.cycles += seg_fault_cycles_;
  return seg;
}

void CpuCore::visit_total(StatVisitor& v, const std::string& prefix, size_t n,
                          const std::function<const CpuCore&(size_t)>& at) {
  CpuStats t;
  uint64_t cycles = 0;  // the shares' base: every CPU's cycles
  for (size_t i = 0; i < n; ++i) {
    const CpuStats& s = at(i).stats();
    t.records += s.records;
    for (int k = 0; k < kNumAccessKinds; ++k) t.by_kind[k] += s.by_kind[k];
    t.translations += s.translations;
    t.page_splits += s.page_splits;
    t.l1_hits += s.l1_hits;
    t.l2_hits += s.l2_hits;
    t.tlb_misses += s.tlb_misses;
    t.dirty_assists += s.dirty_assists;
    t.faults += s.faults;
    for (int f = 0; f < kNumFaultKinds; ++f) t.faults_by_kind[f] += s.faults_by_kind[f];
    t.late_faults += s.late_faults;
    t.skipped += s.skipped;
    t.seg_records += s.seg_records;
    t.seg_skipped += s.seg_skipped;
    t.inv_page += s.inv_page;
    t.inv_pcid += s.inv_pcid;
    t.inv_all += s.inv_all;
    t.inv_global += s.inv_global;
    t.invalidation_cycles += s.invalidation_cycles;
    t.context_switches += s.context_switches;
    t.shootdowns += s.shootdowns;
    t.shootdown_cycles += s.shootdown_cycles;
    t.reclaim_shootdowns += s.reclaim_shootdowns;
    t.reclaim_tlb_resident += s.reclaim_tlb_resident;
    t.fault_cycles += s.fault_cycles;
    t.cycles = std::max(t.cycles, s.cycles);
    cycles += s.cycles;
    t.translation_stall += s.translation_stall;
    t.fault_stall += s.fault_stall;
    t.store_buffer = t.store_buffer || s.store_buffer;
    t.stores_buffered += s.stores_buffered;
    t.store_buffer_full += s.store_buffer_full;
    t.store_buffer_wait_cycles += s.store_buffer_wait_cycles;
    t.translation_latency.merge(s.translation_latency);
    t.fault_latency.merge(s.fault_latency);
  }
  emit_cpu(v, prefix, t, cycles);
}

}  // namespace mmusim
