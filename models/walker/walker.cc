#include "models/walker/walker.h"

#include <algorithm>
#include <string>

namespace mmusim {

Walker::Walker(const WalkerConfig& cfg, PhysMem& mem, MemoryTiming& timing)
    : cfg_(cfg), mode_(&paging_mode_info(cfg.mode)), mem_(mem), timing_(timing) {
  for (unsigned l = 0; l + 1 < mode_->levels; ++l) {
    if (!mode_->level[l].in_registers) pwc_[l] = PagingStructureCache(cfg.pwc[l]);
  }
  for (unsigned l = 0; l < mode_->levels; ++l) {
    for (int leaf = 0; leaf < 2; ++leaf) {
      reserved_[l][leaf] = reserved_mask(*mode_, l, leaf != 0, cfg.maxphyaddr);
    }
  }
  for (unsigned l = 0; l < mode_->levels; ++l) {
    const std::string_view n = mode_->level[l].name;
    structure_[l] = n == "PML5"                   ? 0
                    : n == "PML4"                 ? 1
                    : n == "PDPT" || n == "PDPTE" ? 2
                    : n == "PD"                   ? 3
                                                  : 4;
  }
  for (unsigned l = 0; l + 1 < mode_->levels; ++l) {
    if (pwc_[l].enabled() && pwc_[l].latency() > probe_) probe_ = pwc_[l].latency();
  }
  slots_.resize(cfg.max_walks == 0 ? 1 : cfg.max_walks);
  queue_.reserve(16);
}

void Walker::set_root(PhysAddr root, Asid asid) {
  root_ = root;
  asid_ = asid;
  if (mode_->mode == PagingMode::kPae) {
    // CR3 bits 31:5 locate the 32-byte-aligned PDPT; its four entries are
    // loaded into registers when CR3 is written (SDM 4.4.1).
    uint64_t base = root.value() & ~uint64_t{31};
    for (unsigned i = 0; i < 4; ++i) pdpte_[i] = mem_.read64(PhysAddr(base + uint64_t{8} * i));
  }
}

void Walker::flush_pwc() {
  for (auto& c : pwc_) c.flush();
  // Fills of reads still in flight belong to the flushed state.
  for (Slot& s : slots_) {
    if (s.busy && s.pos > 0) s.refs[s.pos - 1].pwc_fill = false;
  }
}

WalkTicket Walker::outlook(LinearAddr a, AccessKind k, bool user) const {
  const PagingModeInfo& m = *mode_;
  WalkTicket o;
  if (m.canonical && !is_canonical(a.value(), m.linear_bits)) {
    o.fault = FaultKind::kNonCanonical;
    return o;
  }
  uint64_t table = root_.value() & (m.entry_bytes == 4 ? ~uint64_t{0xFFF} : 0x000FFFFFFFFFF000);
  uint8_t perms = kPermWrite | kPermUser;
  // Levels a paging-structure cache holds need not be read again (the cache
  // keeps the next table and the rights above it).
  unsigned first = 0;
  for (int l = static_cast<int>(m.levels) - 2; l >= 0; --l) {
    const PwcEntry* e =
        pwc_[l].peek(PagingStructureCache::make_tag(a.value() >> m.level[l].shift, asid_));
    if (e != nullptr) {
      first = static_cast<unsigned>(l) + 1;
      table = e->next_table;
      perms = e->perms;
      break;
    }
  }
  for (unsigned l = first; l < m.levels; ++l) {
    const PagingLevel& lv = m.level[l];
    const unsigned idx = level_index(m, l, a);
    const uint64_t e =
        lv.in_registers
            ? pdpte_[idx]
            : mem_.read_entry(PhysAddr(table + uint64_t{idx} * m.entry_bytes), m.entry_bytes);
    if (!(e & pte::kP)) {
      o.fault = FaultKind::kNotPresent;
      return o;
    }
    const bool leaf = (l + 1 == m.levels) || (lv.may_be_leaf && (e & pte::kPS));
    if (e & reserved_[l][leaf ? 1 : 0]) {
      o.fault = FaultKind::kReservedBit;
      return o;
    }
    if (!lv.in_registers) {
      if (!(e & pte::kRW)) perms &= static_cast<uint8_t>(~kPermWrite);
      if (!(e & pte::kUS)) perms &= static_cast<uint8_t>(~kPermUser);
      if (m.has_xd && (e & pte::kXD)) perms |= kPermNx;
    }
    if (!leaf) {
      table = entry_address(m, l, e, false);
      continue;
    }
    const bool write = k == AccessKind::kWrite;
    if (user && !(perms & kPermUser)) {
      o.fault = FaultKind::kUserSupervisor;
    } else if (write && !(perms & kPermWrite) && (user || cfg_.write_protect)) {
      o.fault = FaultKind::kWriteProtect;
    } else if (k == AccessKind::kFetch && (perms & kPermNx)) {
      o.fault = FaultKind::kExecuteDisable;
    }
    if (o.fault != FaultKind::kNone) return o;
    if (write || (e & pte::kD)) perms |= kPermDirty;  // a write walk sets D
    if (e & pte::kG) perms |= kPermGlobal;
    Translation& tr = o.translation;
    tr.size = lv.leaf_size;
    tr.vpn = vpn_of(a, lv.leaf_size);
    tr.pfn = Pfn(entry_address(m, l, e, true) >> 12);
    tr.perms = perms;
    tr.asid = asid_;
    return o;
  }
  return o;
}

WalkTicket Walker::request(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain) {
  const Request r{a, k, user, explain, at, next_id_++};
  Slot* best = nullptr;
  for (Slot& s : slots_) {
    if (!s.busy && (best == nullptr || s.busy_until < best->busy_until)) best = &s;
  }
  ++active_;
  if (best == nullptr || queue_head_ < queue_.size()) {
    // Every slot is busy: wait, in request order, for one to free. The
    // queue is a vector consumed from queue_head_; its front is dropped once
    // it is empty or mostly consumed, so it stays small and allocation-free.
    if (queue_head_ == queue_.size()) {
      queue_.clear();
      queue_head_ = 0;
    } else if (queue_head_ >= 16 && 2 * queue_head_ >= queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
      queue_head_ = 0;
    }
    queue_.push_back(r);
    WalkTicket t = outlook(a, k, user);
    t.id = r.id;
    return t;
  }
  begin(*best, r, max(max(at, best->busy_until), now_));
  recompute_next();
  const WalkResult& w = best->result;
  return WalkTicket{r.id, w.fault, w.translation};
}

void Walker::begin(Slot& s, const Request& r, Cycle start) {
  const PagingModeInfo& m = *mode_;
  s.busy = true;
  s.req = r;
  s.num_refs = 0;
  s.pos = 0;
  WalkResult& w = s.result;
  // Reset what this walk sets (not the explain steps: num_steps says how
  // many are valid).
  w.fault = FaultKind::kNone;
  w.fault_level = 0;
  w.translation = Translation{};
  w.mem_refs = 0;
  w.ad_writes = 0;
  w.num_steps = 0;
  w.request = r.at;
  w.start = start;
  w.id = r.id;
  stats_.queue_cycles += (start - r.at).count();
  auto step = [&](WalkStep::Kind kind, unsigned level, PhysAddr addr, uint64_t value, Cycle b,
                  Cycle d) {
    if (r.explain && w.num_steps < w.steps.size()) {
      w.steps[w.num_steps++] = WalkStep{kind, level, addr, value, b, d};
    }
  };
  Cycle t = start + cfg_.overhead;
  s.next = t;
  if (m.canonical && !is_canonical(r.a.value(), m.linear_bits)) {
    w.fault = FaultKind::kNonCanonical;
    return;
  }
  // Reads of other walks that completed by now have filled their PWC entry.
  for (Slot& o : slots_) {
    if (&o == &s || !o.busy || o.pos == 0) continue;
    Ref& last = o.refs[o.pos - 1];
    if (last.pwc_fill && o.next <= t) {
      pwc_[last.level].insert(
          PagingStructureCache::make_tag(o.req.a.value() >> m.level[last.level].shift, asid_),
          last.next_table, last.perms);
      last.pwc_fill = false;
    }
  }
  // Paging-structure caches: probed in parallel, the deepest hit wins.
  unsigned first = 0;
  uint64_t table = root_.value() & (m.entry_bytes == 4 ? ~uint64_t{0xFFF} : 0x000FFFFFFFFFF000);
  uint8_t perms = kPermWrite | kPermUser;  // accumulated; XD is OR-ed in
  const Cycles probe = probe_;
  for (int l = static_cast<int>(m.levels) - 2; l >= 0; --l) {
    if (!pwc_[l].enabled()) continue;
    uint64_t tag = PagingStructureCache::make_tag(r.a.value() >> m.level[l].shift, asid_);
    if (const PwcEntry* e = pwc_[l].lookup(tag)) {
      ++stats_.pwc_hits[l];
      first = static_cast<unsigned>(l) + 1;
      table = e->next_table;
      perms = e->perms;
      step(WalkStep::Kind::kPwcHit, static_cast<unsigned>(l), PhysAddr(0), e->next_table, t,
           t + probe);
      break;
    }
    ++stats_.pwc_misses[l];
  }
  t += probe;
  s.next = t;

  auto add_ref = [&s](const Ref& ref) { s.refs[s.num_refs++] = ref; };
  for (unsigned l = first; l < m.levels; ++l) {
    const PagingLevel& lv = m.level[l];
    const unsigned idx = level_index(m, l, r.a);
    uint64_t e = 0;
    const PhysAddr ea(table + uint64_t{idx} * m.entry_bytes);
    if (lv.in_registers) {
      e = pdpte_[idx];
      step(WalkStep::Kind::kRegister, l, PhysAddr(0), e, t, t);
    } else {
      e = mem_.read_entry(ea, m.entry_bytes);
      add_ref(Ref{ea, e, static_cast<uint8_t>(l), false, false, 0, 0});
    }
    if (!(e & pte::kP)) {
      w.fault = FaultKind::kNotPresent;
      w.fault_level = l;
      return;
    }
    const bool leaf = (l + 1 == m.levels) || (lv.may_be_leaf && (e & pte::kPS));
    if (e & reserved_[l][leaf ? 1 : 0]) {
      w.fault = FaultKind::kReservedBit;
      w.fault_level = l;
      return;
    }
    if (!lv.in_registers) {
      if (!(e & pte::kRW)) perms &= static_cast<uint8_t>(~kPermWrite);
      if (!(e & pte::kUS)) perms &= static_cast<uint8_t>(~kPermUser);
      if (m.has_xd && (e & pte::kXD)) perms |= kPermNx;
    }
    if (!leaf) {
      const uint64_t next_table = entry_address(m, l, e, false);
      if (!lv.in_registers) {
        if (pwc_[l].enabled()) {  // filled when the read completes
          Ref& read = s.refs[s.num_refs - 1];
          read.pwc_fill = true;
          read.perms = perms;
          read.next_table = next_table;
        }
        // The walker sets A in every paging-structure entry it uses (SDM 4.8),
        // with a locked read-modify-write that the walk waits for.
        if (!(e & pte::kA)) add_ref(Ref{ea, e | pte::kA, static_cast<uint8_t>(l), true});
      }
      table = next_table;
      continue;
    }
    // Leaf: permission checks on the accumulated rights (SDM 4.6).
    const bool write = r.k == AccessKind::kWrite;
    if (r.user && !(perms & kPermUser)) {
      w.fault = FaultKind::kUserSupervisor;
    } else if (write && !(perms & kPermWrite) && (r.user || cfg_.write_protect)) {
      w.fault = FaultKind::kWriteProtect;
    } else if (r.k == AccessKind::kFetch && (perms & kPermNx)) {
      w.fault = FaultKind::kExecuteDisable;
    }
    if (w.fault != FaultKind::kNone) {
      w.fault_level = l;
      return;
    }
    const uint64_t want = pte::kA | (write ? pte::kD : 0);
    if ((e & want) != want) add_ref(Ref{ea, e | want, static_cast<uint8_t>(l), true});
    if ((e | want) & pte::kD) perms |= kPermDirty;
    if (e & pte::kG) perms |= kPermGlobal;
    Translation& tr = w.translation;
    tr.size = lv.leaf_size;
    tr.vpn = vpn_of(r.a, lv.leaf_size);
    tr.pfn = Pfn(entry_address(m, l, e, true) >> 12);
    tr.perms = perms;
    tr.asid = asid_;
    return;
  }
}

const WalkResult* Walker::step() {
  // The earliest event; at equal times the older walk first.
  Slot* s = nullptr;
  for (Slot& x : slots_) {
    if (x.busy &&
        (s == nullptr || x.next < s->next || (x.next == s->next && x.result.id < s->result.id))) {
      s = &x;
    }
  }
  if (s == nullptr) return nullptr;
  const Cycle t = s->next;
  now_ = max(now_, t);
  WalkResult& w = s->result;
  if (s->pos > 0) {  // the previous reference completed at t
    Ref& prev = s->refs[s->pos - 1];
    if (prev.pwc_fill) {
      pwc_[prev.level].insert(
          PagingStructureCache::make_tag(s->req.a.value() >> mode_->level[prev.level].shift, asid_),
          prev.next_table, prev.perms);
      prev.pwc_fill = false;
    }
  }
  if (s->pos < s->num_refs) {
    const Ref& ref = s->refs[s->pos++];
    if (ref.write) mem_.write_entry(ref.addr, mode_->entry_bytes, ref.value);
    const Cycle done = timing_.access(ref.addr, ref.write, t);
    const MemSource served = timing_.served();
    ++stats_.refs_served[structure_[ref.level]][static_cast<size_t>(served)];
    ++w.mem_refs;
    if (ref.write) ++w.ad_writes;
    if (s->req.explain && w.num_steps < w.steps.size()) {
      w.steps[w.num_steps++] =
          WalkStep{ref.write ? WalkStep::Kind::kAdWrite : WalkStep::Kind::kRead,
                   ref.level,
                   ref.addr,
                   ref.value,
                   t,
                   done,
                   served};
    }
    s->next = done;
    recompute_next();
    return nullptr;
  }
  finish(*s, t);
  recompute_next();
  return &completed_;
}

void Walker::finish(Slot& s, Cycle done) {
  WalkResult& w = s.result;
  w.done = done;
  ++stats_.walks;
  stats_.mem_refs += w.mem_refs;
  stats_.ad_writes += w.ad_writes;
  stats_.entry_reads += w.mem_refs - w.ad_writes;
  ++stats_.faults[static_cast<int>(w.fault)];
  stats_.latency.add((done - w.request).count());
  stats_.refs_per_walk.add(w.mem_refs);
  // The slot may take a queued walk below: hand out a copy (the explain
  // steps only when there are some).
  completed_.fault = w.fault;
  completed_.fault_level = w.fault_level;
  completed_.translation = w.translation;
  completed_.request = w.request;
  completed_.start = w.start;
  completed_.done = w.done;
  completed_.id = w.id;
  completed_.mem_refs = w.mem_refs;
  completed_.ad_writes = w.ad_writes;
  completed_.num_steps = w.num_steps;
  std::copy_n(w.steps.begin(), w.num_steps, completed_.steps.begin());
  s.busy = false;
  s.busy_until = done;
  --active_;
  if (queue_head_ < queue_.size()) {  // the oldest waiting request takes the slot
    const Request r = queue_[queue_head_++];
    begin(s, r, max(max(r.at, done), now_));
  }
}

void Walker::recompute_next() {
  Cycle n = kNever;
  for (const Slot& s : slots_) {
    if (s.busy && s.next < n) n = s.next;
  }
  next_event_ = n;
}

WalkResult Walker::walk(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain) {
  const uint64_t id = request(a, k, user, at, explain).id;
  for (;;) {
    const WalkResult* w = step();
    if (w != nullptr && w->id == id) return *w;
  }
}

void Walker::visit(StatVisitor& v) const {
  v.counter("walker.walks", "walks", "page walks completed", stats_.walks);
  v.counter("walker.mem_refs", "refs", "memory references made by walks (reads + A/D writes)",
            stats_.mem_refs);
  v.counter("walker.entry_reads", "refs", "paging-structure entries read from memory",
            stats_.entry_reads);
  v.counter("walker.ad_writes", "refs", "accessed/dirty-bit updates written to memory",
            stats_.ad_writes);
  v.counter("walker.queue_cycles", "cycles", "cycles walks waited for a free walker slot",
            stats_.queue_cycles);
  v.real("walker.refs_per_walk", "refs", "average memory references per walk",
         stats_.walks ? static_cast<double>(stats_.mem_refs) / static_cast<double>(stats_.walks)
                      : 0.0);
  static constexpr std::array<std::string_view, 5> kStructures{"PML5", "PML4", "PDPT", "PD", "PT"};
  static constexpr std::array<std::string_view, kNumMemSources> kSources{"l1d", "l2", "llc",
                                                                         "dram"};
  for (size_t l = 0; l < kStructures.size(); ++l) {
    for (size_t w = 0; w < kSources.size(); ++w) {
      v.counter("walker.refs." + std::string(kStructures[l]) + "." + std::string(kSources[w]),
                "refs",
                "walk references (entry reads and A/D writes) to this paging structure served "
                "there",
                stats_.refs_served[l][w]);
    }
  }
  const PagingModeInfo& m = *mode_;
  for (unsigned l = 0; l + 1 < m.levels; ++l) {
    if (!pwc_[l].enabled()) continue;
    std::string base = "walker.pwc." + std::string(m.level[l].name);
    v.counter(base + ".hits", "lookups", "paging-structure-cache hits at this level",
              stats_.pwc_hits[l]);
    v.counter(base + ".misses", "lookups", "paging-structure-cache misses at this level",
              stats_.pwc_misses[l]);
  }
  for (int f = 1; f < kNumFaultKinds; ++f) {
    v.counter("walker.faults." + std::string(fault_kind_name(static_cast<FaultKind>(f))), "walks",
              "walks that ended in this fault kind", stats_.faults[f]);
  }
  v.histogram("walker.latency", "cycles", "walk latency from request to result, incl. queueing",
              stats_.latency);
  v.histogram("walker.refs", "refs", "memory references per walk", stats_.refs_per_walk);
}

}  // namespace mmusim
