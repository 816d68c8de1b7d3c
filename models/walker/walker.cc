#include "models/walker/walker.h"

#include <string>

namespace mmusim {


Walker::Walker(const WalkerConfig& cfg, PhysMem& mem, MemoryTiming& timing)
    : cfg_(cfg), mode_(&paging_mode_info(cfg.mode)), mem_(mem), timing_(timing) {
  for (unsigned l = 0; l + 1 < mode_->levels; ++l) {
    if (!mode_->level[l].in_registers) pwc_[l] = PagingStructureCache(cfg.pwc[l]);
  }
  slots_.resize(cfg.max_walks == 0 ? 1 : cfg.max_walks);
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
}

WalkResult Walker::walk(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain) {
  WalkResult r;
  const uint64_t vpn4k = a.value() >> 12;
  // Merge with an in-flight walk to the same page by an access of the same
  // kind and privilege (same CPU, same PCID): it yields the same result.
  Slot* best = &slots_[0];
  for (Slot& s : slots_) {
    if (s.busy_until > at && s.vpn4k == vpn4k && s.asid == asid_.value() && s.kind == k &&
        s.user == user) {
      ++stats_.merged;
      r.fault = s.fault;
      r.fault_level = s.fault_level;
      r.translation = s.translation;
      r.start = s.start;
      r.done = s.busy_until;
      r.merged = true;
      return r;
    }
    if (s.busy_until < best->busy_until) best = &s;
  }
  Cycle start = max(at, best->busy_until);
  stats_.queue_cycles += (start - at).count();
  do_walk(a, k, user, start, explain, r);
  r.start = start;
  ++stats_.walks;
  stats_.mem_refs += r.mem_refs;
  stats_.ad_writes += r.ad_writes;
  stats_.entry_reads += r.mem_refs - r.ad_writes;
  ++stats_.faults[static_cast<int>(r.fault)];
  stats_.latency.add((r.done - at).count());
  stats_.refs_per_walk.add(r.mem_refs);
  best->busy_until = r.done;
  best->vpn4k = vpn4k;
  best->asid = asid_.value();
  best->kind = k;
  best->user = user;
  best->fault = r.fault;
  best->fault_level = r.fault_level;
  best->translation = r.translation;
  best->start = r.start;
  return r;
}

void Walker::do_walk(LinearAddr a, AccessKind k, bool user, Cycle start, bool explain,
                     WalkResult& r) {
  const PagingModeInfo& m = *mode_;
  auto step = [&](WalkStep::Kind kind, unsigned level, PhysAddr addr, uint64_t value, Cycle s,
                  Cycle d) {
    if (explain && r.num_steps < r.steps.size()) {
      r.steps[r.num_steps++] = WalkStep{kind, level, addr, value, s, d};
    }
  };
  Cycle t = start + cfg_.overhead;
  if (m.canonical && !is_canonical(a.value(), m.linear_bits)) {
    r.fault = FaultKind::kNonCanonical;
    r.done = t;
    return;
  }
  // Paging-structure caches: probed in parallel, the deepest hit wins.
  unsigned first = 0;
  uint64_t table = root_.value() & (m.entry_bytes == 4 ? ~uint64_t{0xFFF} : 0x000FFFFFFFFFF000);
  uint8_t perms = kPermWrite | kPermUser;  // accumulated; XD is OR-ed in
  Cycles probe{0};
  for (unsigned l = 0; l + 1 < m.levels; ++l) {
    if (pwc_[l].enabled() && pwc_[l].latency() > probe) probe = pwc_[l].latency();
  }
  for (int l = static_cast<int>(m.levels) - 2; l >= 0; --l) {
    if (!pwc_[l].enabled()) continue;
    uint64_t tag = PagingStructureCache::make_tag(a.value() >> m.level[l].shift, asid_);
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

  for (unsigned l = first; l < m.levels; ++l) {
    const PagingLevel& lv = m.level[l];
    unsigned idx = level_index(m, l, a);
    uint64_t e = 0;
    PhysAddr ea(table + uint64_t{idx} * m.entry_bytes);
    if (lv.in_registers) {
      e = pdpte_[idx];
      step(WalkStep::Kind::kRegister, l, PhysAddr(0), e, t, t);
    } else {
      e = mem_.read_entry(ea, m.entry_bytes);
      Cycle s = t;
      t = timing_.access(ea, false, t);
      ++r.mem_refs;
      step(WalkStep::Kind::kRead, l, ea, e, s, t);
    }
    if (!(e & pte::kP)) {
      r.fault = FaultKind::kNotPresent;
      r.fault_level = l;
      r.done = t;
      return;
    }
    bool leaf = (l + 1 == m.levels) || (lv.may_be_leaf && (e & pte::kPS));
    if (e & reserved_mask(m, l, leaf, cfg_.maxphyaddr)) {
      r.fault = FaultKind::kReservedBit;
      r.fault_level = l;
      r.done = t;
      return;
    }
    if (!lv.in_registers) {
      if (!(e & pte::kRW)) perms &= static_cast<uint8_t>(~kPermWrite);
      if (!(e & pte::kUS)) perms &= static_cast<uint8_t>(~kPermUser);
      if (m.has_xd && (e & pte::kXD)) perms |= kPermNx;
    }
    if (!leaf) {
      if (!lv.in_registers && !(e & pte::kA)) {
        // The walker sets A in every paging-structure entry it uses (SDM 4.8),
        // with a locked read-modify-write that the walk waits for.
        e |= pte::kA;
        mem_.write_entry(ea, m.entry_bytes, e);
        Cycle s = t;
        t = timing_.access(ea, true, t);
        ++r.mem_refs;
        ++r.ad_writes;
        step(WalkStep::Kind::kAdWrite, l, ea, e, s, t);
      }
      table = entry_address(m, l, e, false);
      if (pwc_[l].enabled()) {
        pwc_[l].insert(PagingStructureCache::make_tag(a.value() >> lv.shift, asid_), table, perms);
      }
      continue;
    }
    // Leaf: permission checks on the accumulated rights (SDM 4.6).
    const bool write = k == AccessKind::kWrite;
    if (user && !(perms & kPermUser)) {
      r.fault = FaultKind::kUserSupervisor;
    } else if (write && !(perms & kPermWrite) && (user || cfg_.write_protect)) {
      r.fault = FaultKind::kWriteProtect;
    } else if (k == AccessKind::kFetch && (perms & kPermNx)) {
      r.fault = FaultKind::kExecuteDisable;
    }
    if (r.fault != FaultKind::kNone) {
      r.fault_level = l;
      r.done = t;
      return;
    }
    uint64_t want = pte::kA | (write ? pte::kD : 0);
    if ((e & want) != want) {
      e |= want;
      mem_.write_entry(ea, m.entry_bytes, e);
      Cycle s = t;
      t = timing_.access(ea, true, t);
      ++r.mem_refs;
      ++r.ad_writes;
      step(WalkStep::Kind::kAdWrite, l, ea, e, s, t);
    }
    if (e & pte::kD) perms |= kPermDirty;
    if (e & pte::kG) perms |= kPermGlobal;
    Translation& tr = r.translation;
    tr.size = lv.leaf_size;
    tr.vpn = vpn_of(a, lv.leaf_size);
    tr.pfn = Pfn(entry_address(m, l, e, true) >> 12);
    tr.perms = perms;
    tr.asid = asid_;
    r.done = t;
    return;
  }
}

void Walker::visit(StatVisitor& v) const {
  v.counter("walker.walks", "walks", "page walks started (not counting merged ones)", stats_.walks);
  v.counter("walker.merged", "walks",
            "walk requests merged into an in-flight walk to the same page", stats_.merged);
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
