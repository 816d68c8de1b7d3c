// CpuCore's segmentation stage: segment records and accesses that need the
// seg core (real and protected modes, register overrides, non-canonical
// addresses), selector loads timed through the memory model, descriptor
// writes, segmentation faults, and their --explain text.
#include "models/cpu/cpu_core.h"

namespace mmusim {
using explain::descriptor_text;
using explain::fault_name;
using explain::hex;
using explain::reg_upper;
using explain::sel_hex;
using explain::span;

DescriptorTables DescriptorTables::defaults(const SegConfig& c) {
  DescriptorTables t;
  if (c.mode != SegMode::kProtected32 && c.mode != SegMode::kLong64) return t;
  const DescriptorTableBuilder gdt = flat_gdt(c.mode == SegMode::kLong64);
  const size_t n = std::min<size_t>(gdt.entries(), (uint64_t{c.gdt_limit} + 1) / 8);
  for (size_t i = 0; i < n; ++i) t.set(LinearAddr(c.gdt_base + 8 * i), gdt.descriptors()[i]);
  return t;
}

void DescriptorTables::populate(LinearAddr a, PhysAddr pa, PhysMem& mem) {
  const uint64_t page = a.value() >> 12;
  if (!populated_.insert(page).second) return;
  const uint64_t frame = pa.value() - (a.value() & 0xFFF);
  for (auto it = image_.lower_bound(page << 12); it != image_.end() && (it->first >> 12) == page;
       ++it) {
    mem.write64(PhysAddr(frame + (it->first & 0xFFF)), it->second);
  }
}

void CpuCore::use_descriptor_tables(DescriptorTables& tables) {
  tables_ = &tables;
  tables_gen_ = tables.generation();
  seg_.invalidate_descriptor_cache();  // the registers were loaded from other tables
  load_initial_registers();
}

void CpuCore::load_initial_registers() {
  const SegMode m = seg_.mode();
  if (m != SegMode::kProtected32 && m != SegMode::kLong64) return;
  seg_.load_initial_registers([this](LinearAddr a) { return tables_->get(a); },
                              [this](LinearAddr a, uint64_t d) { tables_->set(a, d); });
}

Cycle CpuCore::process_segmented(const TraceRecord& r) {
  using namespace trace_flags;
  const uint8_t op = op_of(r.flags);
  if (op == kOpLoad) {
    ++stats_.seg_records;
    load_segment(r, static_cast<SegReg>(reg_of(r.flags)), Selector(static_cast<uint16_t>(r.addr)));
    return last_issue_;
  }
  if (op == kOpGdt || op == kOpLdt) {
    ++stats_.seg_records;
    write_descriptor(r);
    return last_issue_;
  }
  if (op == kOpInvlpg || op == kOpInvpcid || op == kOpFlush) {
    invalidate(r);
    return last_issue_;
  }
  ++stats_.records;
  ++stats_.by_kind[static_cast<int>(r.kind)];
  const uint64_t size = r.size ? r.size : 1;
  const int named = reg_of(r.flags);
  const SegReg reg = named >= 0                     ? static_cast<SegReg>(named)
                     : r.kind == AccessKind::kFetch ? SegReg::kCS
                                                    : SegReg::kDS;
  uint64_t lin = r.addr;
  Cycles cost{};
  const SegMode mode = seg_.mode();
  if (mode != SegMode::kFlat) {
    const SegResult s = seg_.translate(reg, VirtAddr(r.addr), static_cast<uint32_t>(size), r.kind);
    if (!s.ok()) {
      const Cycle issue = this->issue();
      const Cycle done = issue + seg_.reg(reg).cost;
      last_issue_ = issue;
      ag_.complete(done);
      seg_fault(r, s.fault, issue, done,
                explain_.on() ? static_cast<int64_t>(explain_.open()) : int64_t{-1});
      return last_issue_;
    }
    lin = s.linear.value();
    cost = s.cost;
    if (explain_.on() && (mode != SegMode::kLong64 || seg_.reg(reg).applied_base != 0)) {
      explain_seg_ = explain::seg_line(seg_, reg, r.addr, size, lin, cost);
    }
  }
  const uint64_t first = lin & linear_mask_;
  const uint64_t last = (lin + size - 1) & linear_mask_;
  const bool crosses = ((first ^ last) >> 12) != 0;
  const bool split = crosses && last > first;
  span_ = static_cast<uint32_t>(crosses ? 0xFFF - (first & 0xFFF) : last - first);
  translate(LinearAddr(first), r.kind, cost);
  explain_seg_.clear();
  if (split && !blocked_) {
    ++stats_.page_splits;
    span_ = static_cast<uint32_t>(last & 0xFFF);
    translate(LinearAddr(last & ~uint64_t{0xFFF}), r.kind);
  }
  return last_issue_;
}

// The access (or load) issued at `issue` faulted and completes at `done`
// without reaching the TLBs (the caller retires it in the address generator).
void CpuCore::seg_fault(const TraceRecord& r, const SegFault& f, Cycle issue, Cycle done,
                        int64_t block) {
  const bool access = trace_flags::op_of(r.flags) == trace_flags::kOpAccess;
  ++stats_.seg_skipped;
  if (access) seg_fault_cycles_ += (done - issue).count();
  if (block >= 0) {
    const std::string name = fault_name(f);
    std::string s = name.substr(0, name.find('(')) + " cpu" + std::to_string(id_) + " " +
                    explain::seg_record(r, f) + " issue@" + std::to_string(issue.count()) + "\n";
    if (access) {
      s += "  seg:  " + reg_upper(f.reg) + " = " + explain::seg_register(seg_, f.reg) + "\n";
    }
    s += "  fault: " + name + " -> " +
         (access ? "access skipped" : "load skipped, register unchanged") + ", done@" +
         std::to_string(done.count()) + "\n";
    explain_.fill(static_cast<size_t>(block), s);
    explain_.close(static_cast<size_t>(block));
  }
  if (seg_.config().stop_on_fault) {
    throw SegmentationStop("segmentation fault stopped the run (seg.stop_on_fault): cpu" +
                           std::to_string(id_) + " record " + std::to_string(record_number()) +
                           ": " + explain::seg_record(r, f) + ": " + fault_name(f) + " at cycle " +
                           std::to_string(issue.count()));
  }
}

bool CpuCore::descriptor_access(LinearAddr a, AccessKind k, Cycle& done, PhysAddr& pa) {
  want_phys_ = true;
  phys_ok_ = false;
  done = translate(LinearAddr(a.value() & linear_mask_), k);
  want_phys_ = false;
  if (done == kPending) {  // the load needs the descriptor: wait for the walk
    drain_walks();
    done = phys_done_;
  }
  if (!phys_ok_) return false;
  pa = phys_;
  tables_->populate(a, pa, mem_);
  return true;
}

void CpuCore::load_segment(const TraceRecord& r, SegReg reg, Selector sel) {
  if (tables_->generation() != tables_gen_) {  // a descriptor was rewritten
    tables_gen_ = tables_->generation();
    seg_.invalidate_descriptor_cache();
  }
  const bool ex = explain_.on();
  size_t block = 0;
  std::string head;
  if (ex) {
    block = explain_.open();
    head = "LOAD cpu" + std::to_string(id_) + " " + reg_upper(reg) + " <- " + sel_hex(sel);
  }
  SelectorLoad step = seg_.begin_load(reg, sel);
  if (const auto* f = std::get_if<SegFault>(&step)) {
    const Cycle issue = this->issue();
    last_issue_ = issue;
    ag_.complete(issue);
    seg_fault(r, *f, issue, issue, ex ? static_cast<int64_t>(block) : int64_t{-1});
    return;
  }
  if (const auto* d = std::get_if<LoadDone>(&step)) {
    const Cycle issue = this->issue();
    last_issue_ = issue;
    const Cycle done = issue + d->cost;
    ag_.complete(done);
    if (ex) {
      std::string s = head + " issue@" + std::to_string(issue.count()) + "\n";
      if (seg_.mode() == SegMode::kReal) {
        s += "  real mode: base = " + sel_hex(sel) + " << 4 = " + hex(seg_.reg(reg).base) +
             ", limit 0xffff (no descriptor)\n";
      } else if (seg_.mode() == SegMode::kFlat) {
        s += "  flat mode: selector recorded, base 0, limit 4 GiB (no descriptor)\n";
      } else if (d->desc_cache_hit) {
        s += "  descriptor cache hit: no memory access\n";
      } else {
        s += "  null selector: register unusable until reloaded (no memory access)\n";
      }
      s += "  done@" + std::to_string(done.count()) + ": " + reg_upper(reg) + " = " +
           explain::seg_register(seg_, reg) + "\n";
      explain_.fill(block, s);
      explain_.close(block);
    }
    return;
  }
  // Read the descriptor: translate its linear address (the table page is
  // mapped on first touch like any page), then a timed DRAM read.
  const LinearAddr addr = std::get<ReadDescriptor>(step).addr;
  if (ex) {  // the rest follows in a "(cont.)" block
    explain_.fill(block, head + ": descriptor read at linear " + hex(addr.value()) + "\n");
    explain_.close(block);
  }
  Cycle t;
  PhysAddr pa;
  if (!descriptor_access(addr, AccessKind::kRead, t, pa)) {
    ++stats_.seg_skipped;  // the table page could not be mapped: the load is dropped
    if (ex) explain_.append(head + " (cont.)\n  descriptor page unmappable: load skipped\n");
    return;
  }
  env_.sync(t);
  const Cycle read_done = env_.access(pa, false, t);
  const uint64_t raw = mem_.read64(pa);
  LoadResult res = seg_.finish_load(reg, sel, raw);
  std::string s;
  if (ex) {
    s = head + " (cont.)\n  read: " + (sel.ti() ? "LDT[" : "GDT[") + std::to_string(sel.index()) +
        "] @" + hex(pa.value()) + " " + span(t, read_done) + "\n  desc: " + descriptor_text(raw) +
        "\n";
  }
  if (const auto* f = std::get_if<SegFault>(&res)) {
    ag_.resume_at(read_done);
    if (ex) {
      s += "  fault: " + fault_name(*f) + " -> load skipped, register unchanged, done@" +
           std::to_string(read_done.count()) + "\n";
      explain_.append(s);
    }
    seg_fault(r, *f, last_issue_, read_done, -1);
    return;
  }
  const LoadDone& d = std::get<LoadDone>(res);
  Cycle done = read_done;
  if (d.write_accessed) {  // locked write-back of the Accessed bit
    mem_.write64(pa, d.descriptor);
    tables_->set(addr, d.descriptor);
    done = env_.access(pa, true, read_done);
    if (ex) s += "  A bit: set, descriptor written back " + span(read_done, done) + "\n";
  }
  done += d.cost;
  // Later accesses use the new register: issue waits for the load.
  ag_.resume_at(done);
  if (ex) {
    s += "  done@" + std::to_string(done.count()) + ": " + reg_upper(reg) + " = " +
         explain::seg_register(seg_, reg) + "\n";
    explain_.append(s);
  }
}

void CpuCore::write_descriptor(const TraceRecord& r) {
  const SegMode m = seg_.mode();
  if (m != SegMode::kProtected32 && m != SegMode::kLong64) return;  // tables unused
  const bool ldt = trace_flags::op_of(r.flags) == trace_flags::kOpLdt;
  const SegConfig& c = seg_.config();
  uint64_t a = (ldt ? c.ldt_base : c.gdt_base) + uint64_t{r.size} * 8;
  if (m == SegMode::kProtected32) a &= 0xFFFFFFFFULL;
  // A store by the OS: translated like any store; the image keeps the value
  // for pages not yet in memory, and CPUs drop their cached descriptors.
  tables_->set(LinearAddr(a), r.addr);
  tables_->changed();
  Cycle t;
  PhysAddr pa;
  if (descriptor_access(LinearAddr(a), AccessKind::kWrite, t, pa)) mem_.write64(pa, r.addr);
}

}  // namespace mmusim
