#include "models/cache/cache_module.h"

#include <algorithm>

namespace mmusim {

CacheModule::Writeback::Writeback() {
  gp.set_extension(&ext);
  gp.set_data_ptr(data);
  gp.set_data_length(sizeof data);
  gp.set_streaming_width(sizeof data);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_command(tlm::TLM_WRITE_COMMAND);
}
CacheModule::Writeback::~Writeback() { gp.clear_extension(&ext); }

CacheModule::CacheModule(const sc_core::sc_module_name& name, const CacheGeometry& g,
                         MemSource level, const ClockPeriod& clk, PhysMem* backing)
    : sc_module(name),
      upper("upper"),
      lower("lower"),
      level_(level),
      clk_(clk),
      backing_(backing),
      line_shift_(static_cast<unsigned>(__builtin_ctzll(g.line_bytes))) {
  if (g.size_bytes != 0) core_ = std::make_unique<Cache>(g);
  upper.register_b_transport(this, &CacheModule::b_transport);
  SC_METHOD(admit);
  sensitive << admit_event_;
  dont_initialize();
}

void CacheModule::move_data(tlm::tlm_generic_payload& p) { move_payload_data(backing_, p); }

void CacheModule::b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  if (p.get_command() == tlm::TLM_IGNORE_COMMAND) {
    lower->b_transport(p, delay);
    return;
  }
  MemExtension* x = nullptr;
  p.get_extension(x);
  if (x != nullptr) {
    timed(p, *x, static_cast<uint32_t>(id));
    return;
  }
  // A plain payload: timed from SystemC time plus its delay, its data moved
  // here (the levels below see a timing-only request).
  MemExtension local;
  local.arrival = clk_.now() + clk_.cycles(delay);
  p.set_extension(&local);
  timed(p, local, static_cast<uint32_t>(id));
  p.clear_extension(&local);
  if (p.get_response_status() != tlm::TLM_OK_RESPONSE) return;
  move_data(p);
  const Cycle now = clk_.now();
  delay = local.done > now ? clk_.span(local.done - now) : sc_core::SC_ZERO_TIME;
}

void CacheModule::snoop(Cache& c, const AgentSync* owner, SnoopInbox* inbox) {
  uint64_t bit = 0;
  if (owner != nullptr) {
    const auto it = std::find(owners_.begin(), owners_.end(), owner);
    const size_t i = static_cast<size_t>(it - owners_.begin());
    if (it == owners_.end()) owners_.push_back(owner);
    bit = uint64_t{1} << (i % 64);
    if (owner_bit_.size() <= owner->id()) owner_bit_.resize(owner->id() + 1, 0);
    owner_bit_[owner->id()] = bit;
  }
  snooped_.push_back(Snooped{&c, owner, inbox, bit});
}

bool CacheModule::serve_in_order(tlm::tlm_generic_payload& p, MemExtension& x) {
  // Only a shared level's turn (a lookup that depends on a fill not known
  // yet) makes a request in time order wait; the rest of timed() does not.
  if (shared_ && core_ != nullptr && x.who != Initiator::kDma && x.coh != CohRequest::kUpgrade &&
      must_wait(p.get_address() >> line_shift_, x.arrival)) {
    return false;
  }
  ++served_in_order_;
  timed(p, x, 0);  // (the socket index only orders a turn)
  return true;
}

void CacheModule::invalidate_above(uint64_t line, Cycle at, const AgentSync* writer) {
  for (const Snooped& s : snooped_) {
    if (s.inbox != nullptr && s.owner != writer) {
      // Another agent's cache: its owner takes the invalidation at a point
      // of its own time defined by `at` (not wherever it has run ahead to).
      s.inbox->post_invalidation(*s.cache, line, at, &snoop_invalidations_);
    } else if (s.cache->invalidate(line)) {
      ++snoop_invalidations_;
    }
  }
}

void CacheModule::post_owners(uint64_t owners, const AgentSync* except, uint64_t line, Cycle at,
                              bool downgrade) {
  for (const Snooped& s : snooped_) {
    if ((s.bit & owners) == 0 || s.owner == except) continue;
    uint64_t* counter = downgrade ? &downgrades_ : &coh_invalidations_;
    if (s.inbox != nullptr) {
      if (downgrade) {
        s.inbox->post_downgrade(*s.cache, line, at, counter);
      } else {
        s.inbox->post_invalidation(*s.cache, line, at, counter);
      }
    } else if (downgrade ? s.cache->set_shared(line, true) : s.cache->invalidate(line)) {
      ++*counter;
    }
  }
}

bool CacheModule::directory(tlm::tlm_generic_payload& p, MemExtension& x, uint64_t line) {
  const Initiator who = x.who;
  if (who == Initiator::kKernel || who == Initiator::kDma) {
    // Its write invalidated every private copy (invalidate_above()).
    if (p.is_write()) sf_->erase(line);
    return false;
  }
  if (x.sync == nullptr || x.sync->id() >= owner_bit_.size()) return false;
  const uint64_t bit = owner_bit_[x.sync->id()];
  if (bit == 0) return false;  // not a CPU with private caches
  // Above 64 CPUs an owner's bit is shared with others: they count as others.
  const uint64_t self = owners_.size() > 64 ? 0 : bit;
  const Cycle at = x.arrival;
  switch (x.coh) {
    case CohRequest::kWriteback: return false;
    case CohRequest::kRead: {
      SnoopFilter::Entry& e = track(line, at);
      const uint64_t others = e.owners & ~self;
      if (others == 0) {
        e.exclusive = true;
        x.shared = false;
      } else {
        if (e.exclusive) post_owners(others, x.sync, line, at, true);
        e.exclusive = false;
        x.shared = true;
        ++shared_fills_;
      }
      e.owners |= bit;
      return false;
    }
    case CohRequest::kOwn:
    case CohRequest::kUpgrade: {
      SnoopFilter::Entry& e = track(line, at);
      const uint64_t others = e.owners & ~self;
      if (others != 0) post_owners(others, x.sync, line, at, false);
      e.owners = bit;
      e.exclusive = true;
      x.shared = false;
      if (x.coh == CohRequest::kOwn) return false;
      ++upgrades_;
      x.done = at + core_->geometry().latency;
      x.served = level_;
      p.set_response_status(tlm::TLM_OK_RESPONSE);
      return true;
    }
    case CohRequest::kNone:
      // A CPU's own write arriving here (page-walk A/D writes entering at
      // this level): the other CPUs' copies go.
      if (p.is_write()) {
        if (SnoopFilter::Entry* e = sf_->find(line)) {
          const uint64_t others = e->owners & ~self;
          if (others != 0) post_owners(others, x.sync, line, at, false);
          e->owners &= bit;
          if (e->owners == 0) sf_->erase(line);
        }
      }
      return false;
  }
  return false;
}

SnoopFilter::Entry& CacheModule::track(uint64_t line, Cycle at) {
  SnoopFilter::Entry evicted;
  SnoopFilter::Entry& e = sf_->insert(line, &evicted);
  if (evicted.line != SnoopFilter::kEmpty && evicted.owners != 0) {
    ++filter_evictions_;
    post_owners(evicted.owners, nullptr, evicted.line, at, false);
  }
  return e;
}

Cycle CacheModule::upgrade_below(tlm::tlm_generic_payload& p, MemExtension& x, Cycle at) {
  const CohRequest c = x.coh;
  x.coh = CohRequest::kUpgrade;
  const Cycle done = pass_down(p, x, at);
  x.coh = c;
  x.shared = false;
  ++upgrades_sent_;
  return done;
}

void CacheModule::private_hit(tlm::tlm_generic_payload& p, MemExtension& x, const CacheResult& r) {
  const uint64_t line = core_->line_of(p.get_address());
  if (x.coh == CohRequest::kWriteback) {
    // A victim of the level above, written back: no new ownership (the line
    // stays as it was).
    if (r.upgrade) core_->set_shared(line, true);
    return;
  }
  if (r.upgrade || (x.coh == CohRequest::kOwn && core_->set_shared(line, false))) {
    x.done = max(x.done, upgrade_below(p, x, r.ready));
  } else if (x.coh == CohRequest::kRead) {
    x.shared = core_->shared(line);
  }
}

void CacheModule::timed(tlm::tlm_generic_payload& p, MemExtension& x, uint32_t socket) {
  const Initiator who = x.who;
  const bool write = p.is_write();
  const Cycle at = x.arrival;
  if (write && (who == Initiator::kKernel || who == Initiator::kDma) && !snooped_.empty()) {
    // Before any wait here: posted at a SystemC time no later than `at`.
    invalidate_above(p.get_address() >> line_shift_, at, x.sync);
  }
  if (core_ == nullptr) {  // a coherence point only (DMA comes from the I/O side)
    x.done = pass_down(p, x, who == Initiator::kDma ? at : at + miss_path_);
    return;
  }
  // DMA comes from the I/O side: its reads snoop this level and go on to
  // memory at their own time (no lookup or miss-path delay: the DMA engine
  // plans its transfer on the memory's timing and must not wait here).
  if (who == Initiator::kDma && !write) {
    x.done = pass_down(p, x, at);
    return;
  }
  if (shared_) {
    timed_shared(p, x, socket);
    return;
  }
  if (x.coh == CohRequest::kUpgrade) {  // the level above's upgrade: exclusive here too
    core_->set_shared(core_->line_of(p.get_address()), false);
    x.done = pass_down(p, x, at + core_->geometry().latency);
    return;
  }
  CacheResult r;
  switch (lookup(p, x, r)) {
    case Lookup::kDone:
      if (coherent_) private_hit(p, x, r);
      if (core_->proposed() != 0) issue_prefetches(x);
      return;
    case Lookup::kAllocated:
      if (r.writeback) write_back(r.victim, x, r.ready + miss_path_);
      if (core_->proposed() != 0) issue_prefetches(x);
      return;
    case Lookup::kPassOn: x.done = pass_down(p, x, at); return;
    case Lookup::kMiss: break;
  }
  // A write miss fetches the line (read for ownership); it stays dirty here.
  const CohRequest coh = x.coh;
  x.coh = coh == CohRequest::kOwn || (write && coh != CohRequest::kWriteback) ? CohRequest::kOwn
                                                                              : CohRequest::kRead;
  if (write) p.set_command(tlm::TLM_READ_COMMAND);
  const Cycle done = after_miss(p, x, core_->line_of(p.get_address()), r);
  if (write) p.set_command(tlm::TLM_WRITE_COMMAND);
  x.coh = coh;
  // x.done is read back by the initiator: the prefetches' own requests
  // below do not touch it (they have their own extension).
  x.done = done;
  if (core_->proposed() != 0) issue_prefetches(x);
}

void CacheModule::issue_prefetches(const MemExtension& x) {
  Cache& c = *core_;
  const Cycle at = c.proposal_time();
  MemExtension& e = prefetch_.ext;
  for (uint32_t i = 0; i < c.proposed(); ++i) {
    const uint64_t line = c.proposal(i);
    CacheResult r;
    if (!c.prefetch(line, at, r)) continue;
    e.who = Initiator::kPrefetch;
    e.sync = x.sync;
    e.ordered = x.sync != nullptr;
    e.whole_line = false;
    e.served = MemSource::kDram;
    e.coh = CohRequest::kRead;
    e.shared = false;
    prefetch_.gp.set_command(tlm::TLM_READ_COMMAND);
    prefetch_.gp.set_address(c.addr_of(line));
    prefetch_.gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const Cycle pass = r.ready + miss_path_;
    const Cycle done = pass_down(prefetch_.gp, e, pass);
    c.filled(line, done);
    if (coherent_ && e.shared) c.set_shared(line, true);
    if (r.writeback) write_back(r.victim, x, pass);
  }
  c.clear_proposals();
}

CacheModule::Lookup CacheModule::lookup(tlm::tlm_generic_payload& p, MemExtension& x,
                                        CacheResult& r) {
  Cache& c = *core_;
  const Initiator who = x.who;
  const bool write = p.is_write();
  const Cycle at = x.arrival;
  const uint64_t line = c.line_of(p.get_address());
  if (coherent_ && shared_ && directory(p, x, line)) return Lookup::kDone;
  if (who == Initiator::kDma) {
    if (!dma_allocate_) {  // write-invalidate: the line goes to memory
      if (c.invalidate(line)) ++dma_invalidations_;
      return Lookup::kPassOn;
    }
    // DDIO-like: the line is written into the LLC, not to memory.
    const CacheResult i = c.install(line, true);
    if (i.writeback) write_back(i.victim, x, at);
    x.done = at + c.geometry().latency;
    x.served = level_;
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return Lookup::kDone;
  }
  if (write && x.whole_line) {
    // A whole-line write: a miss takes the line here without fetching it;
    // its dirty victim, if any, goes below (Lookup::kAllocated).
    r = c.write_whole(line, at, static_cast<unsigned>(who));
    x.done = r.ready;
    x.served = level_;
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return r.hit ? Lookup::kDone : Lookup::kAllocated;
  }
  r = c.access(line, write, at, static_cast<unsigned>(who));
  // The stream trains on demand reads (and reads for ownership), not on
  // writebacks nor on the prefetches of the level above.
  if (c.geometry().prefetch == PrefetchKind::kStream && !write && who != Initiator::kPrefetch) {
    c.train(line, at);
  }
  if (r.hit || r.upgrade) {  // (an upgrade: the line is here; timed() sends it below)
    x.done = r.ready;
    x.served = level_;
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return Lookup::kDone;
  }
  return Lookup::kMiss;
}

void CacheModule::timed_shared(tlm::tlm_generic_payload& p, MemExtension& x, uint32_t socket) {
  const Cycle at = x.arrival;
  const uint64_t line = core_->line_of(p.get_address());
  const bool demand = x.who != Initiator::kDma;
  // A request in time order is looked up at once, unless its lookup depends
  // on a fill not known yet: then it waits for its turn like the others.
  // (An upgrade looks no line up: it depends on no fill.)
  const bool fills = demand && x.coh != CohRequest::kUpgrade;
  bool turn = !x.ordered;
  if (!turn && fills && must_wait(line, at)) {
    turn = true;
    x.ordered = false;
  }
  if (turn) {
    // At the arrival, with the others arriving then.
    if (x.sync != nullptr) {
      x.sync->wait_until(at);
    } else if (at > clk_.now()) {
      sc_core::wait(clk_.span(at - clk_.now()));
    }
    take_turn(at, socket, x.sync, demand);
    while (fills && must_wait(line, at)) {
      // Holding the turn: the lookups behind this one wait too.
      ++fill_waiters_;
      if (x.sync != nullptr) {
        x.sync->wait_event(fill_event_, at);
      } else {
        sc_core::wait(fill_event_);
      }
      --fill_waiters_;
    }
  }
  CacheResult r;
  const Lookup l = lookup(p, x, r);
  const Cycle pass = r.ready + miss_path_;
  if (l == Lookup::kMiss) unknown_fills_.push_back(pass);
  if (turn) release_turn();
  if (l == Lookup::kDone) return;
  if (l == Lookup::kAllocated) {
    if (r.writeback) write_back(r.victim, x, pass);
    return;
  }
  if (l == Lookup::kPassOn) {
    x.done = pass_down(p, x, at);
    return;
  }
  const bool write = p.is_write();
  if (write) p.set_command(tlm::TLM_READ_COMMAND);
  const Cycle done = pass_down(p, x, pass);
  if (write) p.set_command(tlm::TLM_WRITE_COMMAND);
  core_->filled(line, done);
  *std::find(unknown_fills_.begin(), unknown_fills_.end(), pass) = unknown_fills_.back();
  unknown_fills_.pop_back();
  if (fill_waiters_ > 0) fill_event_.notify(sc_core::SC_ZERO_TIME);
  if (r.writeback) write_back(r.victim, x, pass);
  x.done = done;
}

bool CacheModule::must_wait(uint64_t line, Cycle at) const {
  if (unknown_fills_.empty()) return false;
  const Cache& c = *core_;
  if (c.pending(line)) return true;  // a hit that completes with that fill
  if (c.contains(line)) return false;
  // A miss: the MSHR it gets frees at `ready`, unless a fill not known yet
  // frees one earlier (a fill completes after its pass).
  const Cycle detected = at + c.geometry().latency;
  const Cycle ready = c.mshr_wait(detected);
  if (ready == detected) return false;
  return std::any_of(unknown_fills_.begin(), unknown_fills_.end(),
                     [ready](Cycle pass) { return pass < ready; });
}

size_t CacheModule::take_event() {
  if (free_events_.empty()) {
    turn_events_.emplace_back();
    return turn_events_.size() - 1;
  }
  const size_t e = free_events_.back();
  free_events_.pop_back();
  return e;
}

void CacheModule::take_turn(Cycle at, uint32_t socket, const AgentSync* sync, bool demand) {
  const size_t ev = take_event();
  if (arrivals_.empty()) admit_event_.notify(sc_core::SC_ZERO_TIME);
  const uint32_t agent = sync != nullptr ? sync->id() : 0;
  if (sync != nullptr) {
    if (horizon_ == nullptr) {
      horizon_ = &sync->horizon();
      sync->horizon().watch(this);
    }
    if (queued_.size() <= agent) queued_.resize(agent + 1);
    ++queued_[agent];
  }
  arrivals_.push_back(Arrival{at, socket, agent, ev, sync != nullptr && demand, sync != nullptr});
  sc_core::wait(turn_events_[ev]);
  free_events_.push_back(ev);
}

void CacheModule::admit() {
  // Arrival order, ties by upper socket and then by the requesting agent:
  // the order in which SystemC ran the initiators never matters. A request
  // of an agent that lags behind SystemC time (the kernel's line loops) may
  // arrive before requests already queued: it goes ahead of them.
  const auto before = [](const Arrival& a, const Arrival& b) {
    if (a.at != b.at) return a.at < b.at;
    return a.socket != b.socket ? a.socket < b.socket : a.agent < b.agent;
  };
  std::stable_sort(arrivals_.begin(), arrivals_.end(), before);
  // The front keeps the turn it was given.
  size_t from = turn_taken_ ? 1 : 0;
  for (const Arrival& a : arrivals_) {
    const auto pos = std::upper_bound(queue_.begin() + static_cast<std::ptrdiff_t>(from),
                                      queue_.end(), a, before);
    from = static_cast<size_t>(pos - queue_.begin()) + 1;
    queue_.insert(pos, a);
  }
  arrivals_.clear();
  grant();
}

void CacheModule::grant() {
  if (turn_taken_ || queue_.empty() || !arrivals_.empty()) return;
  const Arrival& f = queue_.front();
  if (f.held) {
    // Every other agent's next request arrives after this one: it is queued
    // (behind it), or its agent acts later, or waits for an event another
    // agent causes (it is woken no earlier than now).
    for (SyncHorizon::Agent g = 0; g < horizon_->agents(); ++g) {
      if (g == f.agent || (g < queued_.size() && queued_[g] != 0) || horizon_->event_wait(g)) {
        continue;
      }
      if (horizon_->next(g) <= f.at) return;  // horizon_moved() comes back
    }
  }
  turn_taken_ = true;
  turn_events_[f.event].notify(sc_core::SC_ZERO_TIME);
}

void CacheModule::horizon_moved() {
  if (!turn_taken_ && !queue_.empty()) admit_event_.notify(sc_core::SC_ZERO_TIME);
}

void CacheModule::release_turn() {
  if (queue_.front().counted) --queued_[queue_.front().agent];
  queue_.pop_front();
  turn_taken_ = false;
  grant();
}

Cycle CacheModule::after_miss(tlm::tlm_generic_payload& p, MemExtension& x, uint64_t line,
                              const CacheResult& r) {
  const Cycle pass = r.ready + miss_path_;
  const Cycle done = pass_down(p, x, pass);
  core_->filled(line, done);
  if (coherent_ && x.shared) core_->set_shared(line, true);
  if (r.writeback) write_back(r.victim, x, pass);
  return done;
}

MemExtension& CacheModule::own_request(uint64_t line, Initiator who, AgentSync& sync,
                                       CohRequest coh, tlm::tlm_command command) {
  MemExtension& x = own_.ext;
  x.who = who;
  x.sync = &sync;
  x.coh = coh;
  x.shared = false;
  // In order unless the agent says otherwise at the time it is passed on
  // (pass_down asks).
  x.ordered = true;
  x.served = MemSource::kDram;
  own_.gp.set_command(command);
  own_.gp.set_address(core_->addr_of(line));
  own_.gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return x;
}

Cycle CacheModule::fetch_line(uint64_t line, const CacheResult& r, Initiator who, AgentSync& sync,
                              MemSource& served, bool own) {
  MemExtension& x = own_request(line, who, sync, own ? CohRequest::kOwn : CohRequest::kRead,
                                tlm::TLM_READ_COMMAND);
  const Cycle done = after_miss(own_.gp, x, line, r);
  served = x.served;
  if (core_->proposed() != 0) issue_prefetches(x);
  return done;
}

Cycle CacheModule::upgrade_line(uint64_t line, Cycle at, Initiator who, AgentSync& sync) {
  MemExtension& x = own_request(line, who, sync, CohRequest::kNone, tlm::TLM_WRITE_COMMAND);
  return max(at, upgrade_below(own_.gp, x, at));
}

Cycle CacheModule::pass_down(tlm::tlm_generic_payload& p, MemExtension& x, Cycle at) {
  x.arrival = at;
  // A request that was in order at its arrival here asks its agent again for
  // the later arrival below; one that was not is made to wait by the target.
  x.ordered = x.ordered && x.sync != nullptr && x.sync->before(at);
  if (x.ordered) {  // by a plain call when the level below serves it at once
    if (below_cache_ != nullptr) {
      if (below_cache_->serve_in_order(p, x)) return x.done;
    } else if (below_mem_ != nullptr && p.get_data_length() <= 8) {
      // (The DRAM's plain call checks 8 bytes from the address: never wider
      // than the payload's own check.)
      Cycle done;
      if (below_mem_->serve_in_order(PhysAddr(p.get_address()), p.is_write(), at, x.who, done)) {
        x.done = done;
        p.set_response_status(tlm::TLM_OK_RESPONSE);
        return done;
      }
    }
  }
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  if (!x.ordered) {
    const Cycle now = clk_.now();
    if (at > now) d = clk_.span(at - now);
  }
  lower->b_transport(p, d);
  return x.done;
}

void CacheModule::write_back(uint64_t line, const MemExtension& x, Cycle at) {
  size_t i = 0;
  if (wb_free_.empty()) {
    wb_.push_back(std::make_unique<Writeback>());
    i = wb_.size() - 1;
  } else {
    i = wb_free_.back();
    wb_free_.pop_back();
  }
  Writeback& w = *wb_[i];
  w.ext.who = x.who;
  w.ext.sync = x.sync;
  // In time order when the request that evicted the line was: pass_down()
  // asks the agent again for the writeback's own arrival.
  w.ext.ordered = x.ordered;
  w.ext.coh = CohRequest::kWriteback;
  w.ext.shared = false;
  w.ext.served = MemSource::kDram;
  w.gp.set_address(core_->addr_of(line));
  w.gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  ++writebacks_sent_;
  pass_down(w.gp, w.ext, at);
  wb_free_.push_back(i);
}

void CacheModule::visit(StatVisitor& v, const std::string& prefix, uint64_t records) const {
  PrefixedVisitor pv(v, prefix);
  const double k = records != 0 ? 1000.0 / static_cast<double>(records) : 0.0;
  if (core_ != nullptr) {
    const CacheCounts t = core_->total();
    pv.counter("accesses", "requests", "requests that looked this level up", t.accesses);
    pv.counter("hits", "requests", "requests this level served", t.hits);
    pv.counter("misses", "requests",
               "requests that missed: passed to the level below, or allocated (whole_line_allocs)",
               t.misses);
    pv.real("mpka", "misses/1000", "misses per thousand trace records",
            static_cast<double>(t.misses) * k);
    pv.counter("writebacks", "lines", "dirty lines evicted and written to the level below",
               core_->writebacks());
    pv.counter("merged", "requests",
               "hits on a line whose fill was still in flight (they wait for the fill)",
               core_->merged());
    pv.counter("mshr_full", "requests", "misses that waited for a free miss-status register",
               core_->mshr_full());
    pv.counter("invalidations", "lines",
               "lines removed by coherence (kernel, DMA or another CPU's writes)",
               core_->invalidations());
    pv.counter("whole_line_allocs", "requests",
               "misses of whole-line writes, allocated here without a fetch (in misses too)",
               core_->whole_line_allocs());
    if (core_->geometry().prefetch != PrefetchKind::kNone) {
      const PrefetchCounts& f = core_->prefetch_counts();
      pv.counter("prefetch_issued", "lines",
                 "lines this level's prefetcher sent below (each took a miss-status register)",
                 f.issued);
      pv.counter("prefetch_dropped", "lines",
                 "lines the prefetcher proposed but dropped: no miss-status register was free",
                 f.dropped);
      pv.counter("prefetch_useful", "lines",
                 "prefetched lines a demand request then looked up (late ones included)", f.useful);
      pv.counter("prefetch_late", "lines",
                 "prefetched lines a demand request looked up while their fill was in flight "
                 "(it waited for the rest of the fill)",
                 f.late);
      pv.counter("prefetch_useless", "lines",
                 "prefetched lines evicted before any demand request looked them up", f.useless);
    }
    for (int i = 0; i < kNumInitiators; ++i) {
      const auto who = static_cast<Initiator>(i);
      const CacheCounts c = core_->counts(static_cast<unsigned>(i));
      if ((who == Initiator::kOther || who == Initiator::kPrefetch) && c.accesses == 0) continue;
      const std::string base = "initiator." + std::string(initiator_name(who)) + ".";
      pv.counter(base + "accesses", "requests", "requests of this kind of initiator", c.accesses);
      pv.counter(base + "hits", "requests", "of them served by this level", c.hits);
      pv.counter(base + "misses", "requests", "of them missed", c.misses);
      pv.real(base + "mpka", "misses/1000",
              "this initiator's misses here per thousand trace records",
              static_cast<double>(c.misses) * k);
    }
  }
  if (!snooped_.empty()) {
    pv.counter("snoop_invalidations", "lines",
               "lines of the upper caches invalidated by kernel and DMA writes",
               snoop_invalidations_);
  }
  if (core_ != nullptr && coherent_ && !shared_) {
    pv.counter("upgrades", "requests",
               "writes to lines held shared with another CPU: upgrades sent below", upgrades_sent_);
  }
  if (core_ != nullptr && coherent_ && shared_) {
    pv.counter("coherence.upgrades", "requests",
               "upgrades received: a CPU's write to a line its private caches held shared",
               upgrades_);
    pv.counter(
        "coherence.shared_fills", "requests",
        "private-cache fills granted shared (another CPU's private caches may hold the line)",
        shared_fills_);
    pv.counter("coherence.invalidations", "lines",
               "lines of a CPU's private caches invalidated by another CPU's write (read for "
               "ownership, upgrade or page-walk write)",
               coh_invalidations_);
    pv.counter("coherence.downgrades", "lines",
               "lines of a CPU's private caches turned from exclusive to shared by another CPU's "
               "read",
               downgrades_);
    pv.counter("coherence.filter_evictions", "lines",
               "snoop-filter entries evicted to track another line (their holders' private "
               "copies invalidated: in coherence.invalidations)",
               filter_evictions_);
    pv.counter("coherence.filter_lines", "lines",
               "lines the snoop filter tracks at the end (cache.snoop_filter_entries at most)",
               sf_->size());
  }
  if (core_ != nullptr && !snooped_.empty()) {
    pv.counter("dma_invalidations", "lines", "lines of this level invalidated by DMA writes",
               dma_invalidations_);
  }
}

}  // namespace mmusim
