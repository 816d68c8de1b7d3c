#include "models/cpu/explain.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace mmusim {

size_t ExplainLog::open() {
  if (out_ == nullptr) {
    kept_.emplace_back();
    return kept_.size() - 1;
  }
  text_.emplace_back();
  closed_.push_back(false);
  return first_ + text_.size() - 1;
}

std::string& ExplainLog::at(size_t block) {
  if (out_ == nullptr) return kept_.at(block);
  if (block < first_ || block - first_ >= text_.size()) {
    throw std::logic_error("explain block " + std::to_string(block) + " is not open");
  }
  return text_[block - first_];
}

void ExplainLog::close(size_t block) {
  if (out_ == nullptr) return;
  at(block);  // checks the index
  closed_[block - first_] = true;
  if (block == first_) flush();
}

void ExplainLog::flush() {
  while (!text_.empty() && closed_.front()) {
    *out_ << text_.front();
    text_.pop_front();
    closed_.pop_front();
    ++first_;
  }
}

void ExplainLog::finish() {
  if (out_ == nullptr) return;
  for (const std::string& t : text_) *out_ << t;
  first_ += text_.size();
  text_.clear();
  closed_.clear();
}

}  // namespace mmusim

namespace mmusim::explain {
namespace {

std::string bytes(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// "code exec/read", "data read/write expand-down", ...
std::string type_text(const SegmentDescriptor& d) {
  if (!d.s) return "system type " + std::to_string(d.type);
  std::string t = d.is_code() ? (d.readable() ? "code exec/read" : "code exec-only")
                              : (d.writable() ? "data read/write" : "data read-only");
  if (d.expand_down()) t += " expand-down";
  if (d.conforming()) t += " conforming";
  if (d.is_code() && d.l) t += " 64-bit";
  return t;
}

}  // namespace

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string head(uint64_t n, uint32_t cpu, AccessKind k, LinearAddr a, Cycle issue) {
  return "#" + std::to_string(n) + " cpu" + std::to_string(cpu) + " " + access_kind_letter(k) +
         " " + hex(a.value()) + " issue@" + std::to_string(issue.count()) + "\n";
}

// The arrays a lookup probed, in probe order, and what each said: e.g.
// "L1D 4K miss, 2M miss, 1G miss | L2 4K_2M hit (2M page)".
std::string tlb_line(const TlbHierarchy& tlb, AccessKind k, TlbLevel level, const Translation* t,
                     Cycles latency) {
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
  const std::string tail = ", " + std::to_string(latency.count()) + " cycles\n";
  if (level == TlbLevel::kL1) {
    return "  tlb:  " + s + " (" + std::string(page_size_name(t->size)) + " page)" + tail;
  }
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
  return "  tlb:  " + s + tail;
}

std::string hit(const TlbHierarchy& tlb, AccessKind k, LinearAddr a, const TlbLookup& l,
                Cycles seg) {
  return tlb_line(tlb, k, l.level, l.t, l.latency) + "  phys: " + hex(l.t->phys(a).value()) +
         ", translation " + std::to_string((seg + l.latency).count()) + " cycles\n";
}

std::string paging_off(LinearAddr a, Cycles seg) {
  return "  phys: " + hex(a.value()) + " (paging off: physical = linear), translation " +
         std::to_string(seg.count()) + " cycles\n";
}

std::string merged(Cycle walk_done, PhysAddr phys, Cycles translation) {
  return "  tlb:  merged into the pending miss to this page (MSHR), its walk done@" +
         std::to_string(walk_done.count()) + "\n  phys: " + hex(phys.value()) + ", translation " +
         std::to_string(translation.count()) + " cycles\n";
}

std::string late_found() {
  return "  late: the page tables changed under the walk (its outlook found the page mapped); the "
         "fault is raised once the walks in flight complete\n";
}

std::string merged_into_late() {
  return "  tlb:  merged into the pending miss to this page (MSHR), whose walk found a late fault: "
         "done when it is handled\n";
}

namespace {
// Where a walk reference was served: named for a cache level, nothing for
// DRAM (every reference with caches off).
std::string served_by(MemSource s) {
  switch (s) {
    case MemSource::kL1: return ", L1D";
    case MemSource::kL2: return ", L2";
    case MemSource::kLlc: return ", LLC";
    case MemSource::kDram: return "";
  }
  return "";
}
}  // namespace

std::string walk(const TlbHierarchy& tlb, const PagingModeInfo& m, LinearAddr a, AccessKind k,
                 Cycle issue, const WalkResult& w, Cycles tlb_latency, WalkReason why) {
  std::string s;
  if (why == WalkReason::kReWalk) {
    s = "  tlb:  hit, but the entry needs a re-walk (permission or D bit), " +
        std::to_string(tlb_latency.count()) + " cycles\n";
  } else if (why == WalkReason::kMiss) {
    s = tlb_line(tlb, k, TlbLevel::kMiss, nullptr, tlb_latency);
  }
  s += "  walk: slot @" + std::to_string(w.start.count()) + "\n";
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
             " (" + std::to_string((st.done - st.start).count()) + " cycles" +
             served_by(st.served) + ")\n";
        break;
      case WalkStep::Kind::kAdWrite:
        s += "    A/D  " + lvl + idxs + " @" + hex(st.entry_addr.value()) + " := " + hex(st.value) +
             "  " + std::to_string(st.start.count()) + "->" + std::to_string(st.done.count()) +
             " (" + std::to_string((st.done - st.start).count()) + " cycles" +
             served_by(st.served) + ")\n";
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
  return s;
}

std::string kernel(const FaultOutcome& o) {
  using A = FaultOutcome::Action;
  if (o.action == A::kBlock) {
    if (!o.message.empty()) return "  kernel: " + o.message + "\n";
    return "  kernel: the task sleeps until the page's I/O completes; the access replays when it "
           "runs again\n";
  }
  std::string s = "  kernel: " + std::string(fault_class_name(o.cls)) + ", " +
                  std::to_string(o.timing.total()) + " cycles (";
  bool first = true;
  for (size_t p = 0; p < FaultTiming::kNumParts; ++p) {
    if (o.timing.part[p] == 0) continue;
    if (!first) s += " + ";
    first = false;
    s += std::string(FaultTiming::name(static_cast<FaultTiming::Part>(p))) + " " +
         std::to_string(o.timing.part[p]);
  }
  s += ")";
  switch (o.action) {
    case A::kRetry: s += ", resume@" + std::to_string(o.resume.count()) + ": replay\n"; break;
    case A::kSkip:
      s += ", resume@" + std::to_string(o.resume.count()) + ": access dropped\n";
      break;
    case A::kKill: s += ": the task is killed\n"; break;
    default: s += "\n"; break;
  }
  if (o.io.valid) {
    const FaultOutcome::IoSteps& io = o.io;
    auto at = [](Cycle c) { return "@" + std::to_string(c.count()); };
    s += "  io:   doorbell" + at(io.submitted) + ", fetched" + at(io.fetched);
    const std::string dev =
        ", device" + at(io.device_start) + "->" + std::to_string(io.device_done.count());
    const std::string dma = ", dma" + at(io.dma_start) + "->" + std::to_string(io.dma_done.count());
    s += io.write ? dma + dev : dev + dma;
    s += ", interrupt" + at(io.irq) + "\n";
  }
  return s;
}

std::string resumed(const FaultOutcome& o) {
  const std::string k = kernel(o);  // "  kernel: <class>, ..."
  return "  kernel: woken, " + k.substr(10);
}

std::string sel_hex(Selector s) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", s.value());
  return b;
}

std::string reg_upper(SegReg r) { return std::string(trace_flags::kRegNames[seg_index(r)]); }

std::string span(Cycle a, Cycle b) {
  return std::to_string(a.count()) + "->" + std::to_string(b.count()) + " (" +
         std::to_string((b - a).count()) + " cycles)";
}

std::string descriptor_text(uint64_t raw) {
  const SegmentDescriptor d = SegmentDescriptor::decode(raw);
  char r[24];
  std::snprintf(r, sizeof r, "0x%016" PRIx64, raw);
  std::string s = std::string(r) + ": base " + hex(d.base) + " limit " + hex(d.limit);
  if (d.g) s += " (G: " + hex(d.effective_limit()) + ")";
  s += ", " + type_text(d) + ", DPL " + std::to_string(d.dpl) +
       (d.present ? ", present" : ", NOT present");
  return s;
}

std::string fault_name(const SegFault& f) {
  const std::string k = f.kind == SegFaultKind::kGP   ? "#GP"
                        : f.kind == SegFaultKind::kSS ? "#SS"
                                                      : "#NP";
  return k + "(" + hex(f.error_code) + ") " + std::string(seg_fault_reason_name(f.reason));
}

std::string seg_register(const SegmentationUnit& seg, SegReg r) {
  const SegmentCache& h = seg.reg(r);
  const std::string sel = sel_hex(h.selector);
  switch (seg.mode()) {
    case SegMode::kReal:
      return sel + " (real mode: base " + sel + " << 4 = " + hex(h.base) + ", limit 0xffff)";
    case SegMode::kFlat: return sel + " (flat: base 0, limit 4 GiB)";
    case SegMode::kLong64:
      return sel + " (long mode: base " + hex(h.applied_base) +
             (r == SegReg::kFS || r == SegReg::kGS ? " from IA32_" + reg_upper(r) + "_BASE" : "") +
             ", no limit, canonical " + std::to_string(seg.config().canonical_bits) + " bits)";
    case SegMode::kProtected32: break;
  }
  if (!h.usable) return sel + " (null selector: unusable)";
  return sel + " (" + (h.selector.ti() ? "LDT[" : "GDT[") + std::to_string(h.selector.index()) +
         "] " + descriptor_text(h.raw) + ")";
}

std::string seg_record(const TraceRecord& r, const SegFault& f) {
  if (trace_flags::op_of(r.flags) == trace_flags::kOpLoad) {
    return "LOAD " + reg_upper(f.reg) + " " + sel_hex(f.selector);
  }
  return std::string(1, access_kind_letter(r.kind)) + " " + reg_upper(f.reg) + ":" + hex(r.addr) +
         " (" + bytes(r.size ? r.size : 1) + ")";
}

std::string seg_line(const SegmentationUnit& seg, SegReg reg, uint64_t offset, uint64_t size,
                     uint64_t linear, Cycles cost) {
  const SegMode mode = seg.mode();
  const SegmentCache& h = seg.reg(reg);
  const uint64_t sum = h.applied_base + offset;
  std::string wrap;
  if (sum != linear) {
    wrap = mode == SegMode::kReal && (sum & ~linear) == (uint64_t{1} << 20)
               ? " (" + hex(sum) + " with bit 20 cleared: A20M#)"
               : " (" + hex(sum) + " mod 2^32)";
  }
  return "  seg:  " + reg_upper(reg) + ":" + hex(offset) + " (" + bytes(size) + ") via " +
         reg_upper(reg) + " = " + seg_register(seg, reg) + "\n        checks ok -> linear " +
         hex(linear) + " = base " + hex(h.applied_base) + " + offset " + hex(offset) + wrap +
         (mode == SegMode::kLong64
              ? std::string()
              : " [decimal " + std::to_string(linear) + " = " + std::to_string(h.applied_base) +
                    " + " + std::to_string(offset) + "]") +
         ", " + std::to_string(cost.count()) + " cycles\n";
}

}  // namespace mmusim::explain
