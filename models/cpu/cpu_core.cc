#include "models/cpu/cpu_core.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace mmusim {
namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

// The arrays a lookup probed, in probe order, and what each said: e.g.
// "L1D 4K miss, 2M miss, 1G miss | L2 4K_2M hit (2M page)".
std::string probe_text(const TlbHierarchy& tlb, AccessKind k, TlbLevel level,
                       const Translation* t) {
  std::string s = k == AccessKind::kFetch ? "L1I" : "L1D";
  const TlbArray* hit = nullptr;
  if (t) hit = level == TlbLevel::kL1 ? tlb.l1_array(k, t->size) : tlb.l2_array(t->size);
  bool any = false;
  for (PageSize z : {PageSize::k4K, PageSize::k2M, PageSize::k1G}) {
    const TlbArray* arr = tlb.l1_array(k, z);
    if (!arr) continue;
    s += std::string(any ? ", " : " ") + std::string(page_size_name(z)) +
         (arr == hit ? " hit" : " miss");
    any = true;
    if (arr == hit) break;
  }
  if (!any) s += " (none)";
  if (level == TlbLevel::kL1) return s + " (" + std::string(page_size_name(t->size)) + " page)";
  s += " | L2";
  const TlbArray* seen[3] = {nullptr, nullptr, nullptr};
  int n = 0;
  for (PageSize z : {PageSize::k4K, PageSize::k2M, PageSize::k1G}) {
    const TlbArray* arr = tlb.l2_array(z);
    if (!arr || arr == seen[0] || arr == seen[1]) continue;
    seen[n++] = arr;
    const std::string& name = arr->name();
    size_t dot = name.rfind('.');
    s += std::string(n > 1 ? ", " : " ") + name.substr(dot + 1) + (arr == hit ? " hit" : " miss");
    if (arr == hit) break;
  }
  if (n == 0) s += " (none)";
  if (level == TlbLevel::kL2) s += " (" + std::string(page_size_name(t->size)) + " page)";
  return s;
}

}  // namespace

CpuCore::CpuCore(uint32_t id, const CpuCoreConfig& cfg, PhysMem& mem, Env& env, uint64_t explain,
                 std::vector<std::string>* explain_out, DescriptorTables* tables)
    : id_(id),
      cfg_(cfg),
      env_(env),
      ag_(cfg.ag),
      tlb_(cfg.tlb),
      walker_(cfg.walker, mem, env),
      mem_(mem),
      seg_(cfg.seg),
      own_tables_(tables != nullptr ? DescriptorTables{} : DescriptorTables::defaults(cfg.seg)),
      tables_(tables != nullptr ? tables : &own_tables_),
      slow_(cfg.seg.mode == SegMode::kFlat || cfg.seg.mode == SegMode::kLong64 ? 0 : 0xFF),
      canon_half_(cfg.seg.mode == SegMode::kLong64 ? uint64_t{1} << (cfg.seg.canonical_bits - 1)
                                                   : 0),
      canon_mask_(cfg.seg.mode == SegMode::kLong64 ? ~((uint64_t{1} << cfg.seg.canonical_bits) - 1)
                                                   : 0),
      paging_(cfg.walker.mode != PagingMode::kOff),
      linear_mask_(
          paging_mode_info(cfg.walker.mode).linear_bits >= 64
              ? ~uint64_t{0}
              : (paging_mode_info(cfg.walker.mode).canonical
                     ? ~uint64_t{0}
                     : (uint64_t{1} << paging_mode_info(cfg.walker.mode).linear_bits) - 1)),
      explain_left_(explain_out ? explain : 0),
      explain_out_(explain_out) {
  tables_gen_ = tables_->generation();
  load_initial_registers();
}

void CpuCore::fill_ready(Cycle now) {
  // TlbArray::insert refreshes an entry for the same page in place, so a
  // dirty assist's result simply replaces the clean entry.
  tlb_.mshr().retire_until(
      now, [this](const MshrEntry& e) { tlb_.fill(e.result, static_cast<AccessKind>(e.cookie)); });
  auto next = tlb_.mshr().earliest_ready();
  next_ready_ = next ? *next : Cycle(~uint64_t{0});
}

Cycle CpuCore::translate(LinearAddr a, AccessKind k, Cycles seg) {
  ++stats_.translations;
  Cycle issue = ag_.issue();
  last_issue_ = issue;
  const Cycle start = issue + seg;  // segmentation precedes the TLB lookup
  if (!paging_) {                   // CR0.PG = 0: linear = physical, no TLB
    if (want_phys_) {
      phys_ = PhysAddr(a.value());
      phys_ok_ = true;
    }
    if (explain_left_) explain_off(a, k, issue, seg);
    ag_.complete(start);
    stats_.translation_cycles += seg.count();
    stats_.translation_latency.add(seg.count());
    return start;
  }
  if (tlb_.mshr().size() != 0) {
    if (issue >= next_ready_) fill_ready(issue);
    // A miss to a page whose walk is still pending merges into it; it is not
    // a second TLB miss (misses count distinct translations requested).
    if (const MshrEntry* e = tlb_.mshr().find(a, cfg_.asid);
        e && e->cookie == static_cast<uint32_t>(k)) {
      ++stats_.mshr_merges;
      Cycle done = max(start, e->ready);
      if (explain_left_) {
        --explain_left_;
        std::string x = "#" + std::to_string(stats_.translations) + " cpu" + std::to_string(id_) +
                        " " + access_kind_letter(k) + " " + hex(a.value()) + " issue@" +
                        std::to_string(issue.count()) + "\n";
        x += explain_seg_;
        explain_seg_.clear();
        x += "  tlb:  merged into the pending miss to this page (MSHR), its walk done@" +
             std::to_string(e->ready.count()) + "\n";
        x += "  phys: " + hex(e->result.phys(a).value()) + ", translation " +
             std::to_string((done - issue).count()) + " cycles\n";
        explain_out_->push_back(x);
      }
      if (want_phys_) {
        phys_ = e->result.phys(a);
        phys_ok_ = true;
      }
      ag_.complete(done);
      stats_.translation_cycles += (done - issue).count();
      stats_.translation_latency.add((done - issue).count());
      return done;
    }
  }
  TlbLookup l = tlb_.lookup(a, k, cfg_.asid);
  if (l.level != TlbLevel::kMiss) {
    const uint8_t p = l.t->perms;
    const bool write = k == AccessKind::kWrite;
    bool ok = (!cfg_.user || (p & kPermUser)) &&
              (!write || (p & kPermWrite) || (!cfg_.user && !cfg_.walker.write_protect)) &&
              (k != AccessKind::kFetch || !(p & kPermNx));
    if (ok && (!write || (p & kPermDirty))) {
      (l.level == TlbLevel::kL1 ? stats_.l1_hits : stats_.l2_hits)++;
      if (explain_left_) explain_hit(a, k, issue, l, seg);
      if (want_phys_) {
        phys_ = l.t->phys(a);
        phys_ok_ = true;
      }
      Cycle done = start + l.latency;
      ag_.complete(done);
      stats_.translation_cycles += (seg + l.latency).count();
      stats_.translation_latency.add((seg + l.latency).count());
      return done;
    }
    // A permission failure or a clean page being written: the processor
    // re-walks (and faults or sets D) as the SDM requires.
    (l.level == TlbLevel::kL1 ? stats_.l1_hits : stats_.l2_hits)++;
    if (ok) ++stats_.dirty_assists;
    return miss(a, k, issue, l.latency, true, seg);
  }
  ++stats_.tlb_misses;
  return miss(a, k, issue, l.latency, false, seg);
}

Cycle CpuCore::miss(LinearAddr a, AccessKind k, Cycle issue, Cycles tlb_latency, bool assist,
                    Cycles seg) {
  MissStatusTable& mshr = tlb_.mshr();
  Cycle request = issue + seg + tlb_latency;
  if (mshr.full()) {
    ++stats_.mshr_stalls;
    Cycle free_at = *mshr.earliest_ready();
    if (free_at > request) request = free_at;
    fill_ready(request);
  }
  for (;;) {
    env_.sync(issue);  // the walk touches shared memory: be at the right time
    WalkResult w = walker_.walk(a, k, cfg_.user, request, explain_left_ != 0);
    if (explain_left_) explain_walk(a, k, issue, w, tlb_latency, assist);
    if (w.fault == FaultKind::kNone) {
      if (mshr.allocate(a, cfg_.asid, w.done, w.translation, static_cast<uint32_t>(k))) {
        if (w.done < next_ready_) next_ready_ = w.done;
      } else {
        tlb_.fill(w.translation, k);  // no free MSHR even after the stall: fill now
      }
      if (want_phys_) {
        phys_ = w.translation.phys(a);
        phys_ok_ = true;
      }
      ag_.complete(w.done);
      stats_.translation_cycles += (w.done - issue).count();
      stats_.translation_latency.add((w.done - issue).count());
      return w.done;
    }
    // A page fault is precise: older accesses retire, then the handler runs.
    ++stats_.faults;
    ++stats_.faults_by_kind[static_cast<int>(w.fault)];
    Cycle raised = max(w.done, ag_.drained());
    env_.sync(raised);
    FaultInfo f{a, k, w.fault, id_, cfg_.asid};
    FaultOutcome o = env_.fault(f, raised);
    Cycle resume = raised + o.cost;
    stats_.fault_cycles += (resume - raised).count();
    stats_.fault_latency.add((resume - raised).count());
    if (o.tlb_flush_page) {
      tlb_.invalidate_page(a, cfg_.asid);
      walker_.flush_pwc();
    }
    ag_.resume_at(resume);
    if (o.action == FaultOutcome::Action::kStop) throw std::runtime_error(o.message);
    if (o.action == FaultOutcome::Action::kSkip) {
      ++stats_.skipped;
      ag_.complete(resume);
      stats_.translation_cycles += (resume - issue).count();
      stats_.translation_latency.add((resume - issue).count());
      return resume;
    }
    // Replay the access: it walks again from the resumption cycle.
    request = resume + tlb_latency;
    issue = resume;
    env_.sync(issue);
  }
}

void CpuCore::invalidate(const TraceRecord& r) {
  using namespace trace_flags;
  // Serializing: every older access retires and every pending walk fills its
  // TLB entry first (a fill after the invalidation would bring it back).
  const Cycle start = max(ag_.drained(), ag_.next_issue());
  if (tlb_.mshr().size() != 0) fill_ready(start);
  const uint8_t op = op_of(r.flags);
  std::string what;
  if (op == kOpInvlpg) {
    const LinearAddr a(r.addr & linear_mask_);
    tlb_.invalidate_page(a, cfg_.asid);  // every page size, global entries too
    ++stats_.inv_page;
    what = "INVLPG " + hex(a.value()) + ": the page's translations (any size, PCID " +
           std::to_string(cfg_.asid.value()) + ")";
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
  if (explain_left_) {
    --explain_left_;
    explain_out_->push_back("INV cpu" + std::to_string(id_) + " issue@" +
                            std::to_string(start.count()) + " (after the pipeline drained)\n  " +
                            what + "; paging-structure caches flushed; done@" +
                            std::to_string(done.count()) + "\n");
  }
}

void CpuCore::finish() {
  stats_.cycles = ag_.drained().count();
  fill_ready(ag_.drained());
}

void CpuCore::explain_hit(LinearAddr a, AccessKind k, Cycle issue, const TlbLookup& l, Cycles seg) {
  --explain_left_;
  std::string s = "#" + std::to_string(stats_.translations) + " cpu" + std::to_string(id_) + " " +
                  access_kind_letter(k) + " " + hex(a.value()) + " issue@" +
                  std::to_string(issue.count()) + "\n";
  s += explain_seg_;
  explain_seg_.clear();
  s += "  tlb:  " + probe_text(tlb_, k, l.level, l.t) + ", " + std::to_string(l.latency.count()) +
       " cycles\n";
  s += "  phys: " + hex(l.t->phys(a).value()) + ", translation " +
       std::to_string((seg + l.latency).count()) + " cycles\n";
  explain_out_->push_back(s);
}

void CpuCore::explain_off(LinearAddr a, AccessKind k, Cycle issue, Cycles seg) {
  --explain_left_;
  std::string s = "#" + std::to_string(stats_.translations) + " cpu" + std::to_string(id_) + " " +
                  access_kind_letter(k) + " " + hex(a.value()) + " issue@" +
                  std::to_string(issue.count()) + "\n";
  s += explain_seg_;
  explain_seg_.clear();
  s += "  phys: " + hex(a.value()) + " (paging off: physical = linear), translation " +
       std::to_string(seg.count()) + " cycles\n";
  explain_out_->push_back(s);
}

void CpuCore::explain_walk(LinearAddr a, AccessKind k, Cycle issue, const WalkResult& w,
                           Cycles tlb_latency, bool assist) {
  --explain_left_;
  const PagingModeInfo& m = walker_.mode();
  std::string s = "#" + std::to_string(stats_.translations) + " cpu" + std::to_string(id_) + " " +
                  access_kind_letter(k) + " " + hex(a.value()) + " issue@" +
                  std::to_string(issue.count()) + "\n";
  s += explain_seg_;
  explain_seg_.clear();
  s += "  tlb:  " +
       (assist ? std::string("hit, but the entry needs a re-walk (permission or D bit)")
               : probe_text(tlb_, k, TlbLevel::kMiss, nullptr)) +
       ", " + std::to_string(tlb_latency.count()) + " cycles\n";
  s += "  walk: " + std::string(w.merged ? "merged into an in-flight walk" : "slot") + " @" +
       std::to_string(w.start.count()) + "\n";
  for (unsigned i = 0; i < w.num_steps; ++i) {
    const WalkStep& st = w.steps[i];
    std::string lvl(m.level[st.level].name);
    unsigned idx = level_index(m, st.level, a);
    char idxs[16];
    std::snprintf(idxs, sizeof idxs, "[%u]", idx);
    switch (st.kind) {
      case WalkStep::Kind::kPwcHit:
        s += "    pwc  " + lvl + " cache hit -> next table " + hex(st.value) + "  " +
             std::to_string((st.done - st.start).count()) + " cycles\n";
        break;
      case WalkStep::Kind::kRegister:
        s += "    reg  " + lvl + idxs + " = " + hex(st.value) + " (PDPTE register)\n";
        break;
      case WalkStep::Kind::kRead:
        s += "    read " + lvl + idxs + " @" + hex(st.entry_addr.value()) + " = " + hex(st.value) +
             "  " + std::to_string(st.start.count()) + "->" + std::to_string(st.done.count()) +
             " (" + std::to_string((st.done - st.start).count()) + " cycles)\n";
        break;
      case WalkStep::Kind::kAdWrite:
        s += "    A/D  " + lvl + idxs + " @" + hex(st.entry_addr.value()) + " := " + hex(st.value) +
             "  " + std::to_string(st.start.count()) + "->" + std::to_string(st.done.count()) +
             " (" + std::to_string((st.done - st.start).count()) + " cycles)\n";
        break;
    }
  }
  if (w.fault == FaultKind::kNone) {
    s += "  phys: " + hex(w.translation.phys(a).value()) + " (" +
         std::string(page_size_name(w.translation.size)) + " page), done@" +
         std::to_string(w.done.count()) + ", translation " +
         std::to_string((w.done - issue).count()) + " cycles\n";
  } else {
    s += "  fault: " + std::string(fault_kind_name(w.fault)) + " at " +
         std::string(m.levels ? m.level[w.fault_level].name : "-") + ", raised@" +
         std::to_string(w.done.count()) + " -> page-fault handler\n";
  }
  explain_out_->push_back(s);
}

namespace {

void emit_cpu(StatVisitor& v, const std::string& p, const CpuStats& s) {
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
  v.counter(p + ".mshr_merges", "translations", "misses merged into a pending miss", s.mshr_merges);
  v.counter(p + ".mshr_stalls", "translations", "misses that waited for a free MSHR",
            s.mshr_stalls);
  v.counter(p + ".dirty_assists", "translations",
            "writes to a clean TLB entry that walked to set the D bit", s.dirty_assists);
  v.counter(p + ".faults", "faults", "page faults raised", s.faults);
  for (int f = 1; f < kNumFaultKinds; ++f) {
    v.counter(p + ".faults." + std::string(fault_kind_name(static_cast<FaultKind>(f))), "faults",
              "page faults of this kind", s.faults_by_kind[f]);
  }
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
  v.counter(p + ".translation_cycles", "cycles", "sum of translation latencies",
            s.translation_cycles);
  v.counter(p + ".fault_cycles", "cycles", "cycles from fault raise to resumption, summed",
            s.fault_cycles);
  v.counter(p + ".cycles", "cycles", "retire cycle of the last access", s.cycles);
  v.real(
      p + ".translation_cycles_per_access", "cycles", "translation cycles per trace record",
      s.records ? static_cast<double>(s.translation_cycles) / static_cast<double>(s.records) : 0.0);
  v.histogram(p + ".translation_latency", "cycles", "latency of each translation",
              s.translation_latency);
  v.histogram(p + ".fault_latency", "cycles", "cost of each fault, raise to resumption",
              s.fault_latency);
}

}  // namespace

void CpuCore::visit(StatVisitor& v, const std::string& prefix) const {
  emit_cpu(v, prefix, stats_);
  // Every access record passes the segmentation stage (the fast path only
  // skips the call); faulting accesses' base costs are segmentation cycles too.
  SegStats seg = seg_.stats();
  seg.translations = stats_.records;
  seg.cycles += seg_fault_cycles_;
  // TLB, walker and segmentation names are global ("tlb.l1d.4K.hits");
  // qualify them per CPU when there are several.
  if (prefix == "cpu") {
    tlb_.visit(v);
    walker_.visit(v);
    seg.visit(v);
    return;
  }
  struct Prefixed : StatVisitor {
    StatVisitor& in;
    std::string p;
    Prefixed(StatVisitor& i, std::string s) : in(i), p(std::move(s)) {}
    void counter(std::string_view n, std::string_view u, std::string_view d, uint64_t x) override {
      in.counter(p + "." + std::string(n), u, d, x);
    }
    void real(std::string_view n, std::string_view u, std::string_view d, double x) override {
      in.real(p + "." + std::string(n), u, d, x);
    }
    void histogram(std::string_view n, std::string_view u, std::string_view d,
                   const Histogram& h) override {
      in.histogram(p + "." + std::string(n), u, d, h);
    }
  } pv(v, prefix);
  tlb_.visit(pv);
  walker_.visit(pv);
  seg.visit(pv);
}

void CpuCore::visit_total(StatVisitor& v, size_t n,
                          const std::function<const CpuCore&(size_t)>& at) {
  CpuStats t;
  for (size_t i = 0; i < n; ++i) {
    const CpuStats& s = at(i).stats();
    t.records += s.records;
    for (int k = 0; k < kNumAccessKinds; ++k) t.by_kind[k] += s.by_kind[k];
    t.translations += s.translations;
    t.page_splits += s.page_splits;
    t.l1_hits += s.l1_hits;
    t.l2_hits += s.l2_hits;
    t.tlb_misses += s.tlb_misses;
    t.mshr_merges += s.mshr_merges;
    t.mshr_stalls += s.mshr_stalls;
    t.dirty_assists += s.dirty_assists;
    t.faults += s.faults;
    for (int f = 0; f < kNumFaultKinds; ++f) t.faults_by_kind[f] += s.faults_by_kind[f];
    t.skipped += s.skipped;
    t.seg_records += s.seg_records;
    t.seg_skipped += s.seg_skipped;
    t.inv_page += s.inv_page;
    t.inv_pcid += s.inv_pcid;
    t.inv_all += s.inv_all;
    t.inv_global += s.inv_global;
    t.invalidation_cycles += s.invalidation_cycles;
    t.translation_cycles += s.translation_cycles;
    t.fault_cycles += s.fault_cycles;
    t.cycles = std::max(t.cycles, s.cycles);
    t.translation_latency.merge(s.translation_latency);
    t.fault_latency.merge(s.fault_latency);
  }
  emit_cpu(v, "cpu", t);
}

}  // namespace mmusim
