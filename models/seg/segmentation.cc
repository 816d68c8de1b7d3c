#include "models/seg/segmentation.h"

#include <cstdio>
#include <string>

#include "models/common/error.h"

namespace mmusim {
namespace {

constexpr uint8_t kAllowRead = 1U << static_cast<unsigned>(AccessKind::kRead);
constexpr uint8_t kAllowWrite = 1U << static_cast<unsigned>(AccessKind::kWrite);
constexpr uint8_t kAllowFetch = 1U << static_cast<unsigned>(AccessKind::kFetch);
constexpr uint8_t kAllowAll = kAllowRead | kAllowWrite | kAllowFetch;
constexpr uint64_t kRealLimit = 0xFFFF;
constexpr uint64_t k4G = 0xFFFFFFFFULL;

const SegConfig& validated(const SegConfig& c) {
  validate(c);
  return c;
}

bool is_null(Selector s) { return s.index() == 0 && !s.ti(); }

// Access faults through SS are #SS; everything else is #GP (SDM Vol. 3A §6.15).
SegFaultKind stack_or_gp(SegReg r) {
  return r == SegReg::kSS ? SegFaultKind::kSS : SegFaultKind::kGP;
}

}  // namespace

std::string_view seg_fault_kind_name(SegFaultKind k) {
  switch (k) {
    case SegFaultKind::kNone: return "none";
    case SegFaultKind::kGP: return "gp";
    case SegFaultKind::kSS: return "ss";
    case SegFaultKind::kNP: return "np";
  }
  return "?";
}

std::string_view seg_fault_reason_name(SegFaultReason r) {
  switch (r) {
    case SegFaultReason::kNone: return "none";
    case SegFaultReason::kLimit: return "limit";
    case SegFaultReason::kWriteToCode: return "write_to_code";
    case SegFaultReason::kWriteToReadOnly: return "write_to_readonly";
    case SegFaultReason::kExecuteFromData: return "execute_from_data";
    case SegFaultReason::kReadFromExecOnly: return "read_from_exec_only";
    case SegFaultReason::kNonCanonical: return "non_canonical";
    case SegFaultReason::kNullSelector: return "null_selector";
    case SegFaultReason::kPrivilege: return "privilege";
    case SegFaultReason::kNotPresent: return "not_present";
    case SegFaultReason::kTableLimit: return "table_limit";
    case SegFaultReason::kSystemDescriptor: return "system_descriptor";
    case SegFaultReason::kLoadType: return "load_type";
    case SegFaultReason::kReservedBits: return "reserved_bits";
  }
  return "?";
}

void SegStats::visit(StatVisitor& v) const {
  v.counter("seg.translations", "accesses", "accesses translated by the segmentation unit",
            translations);
  v.counter("seg.cycles", "cycles", "segmentation cycles (base adds and selector-load costs)",
            cycles);
  for (int i = 0; i < kNumSegRegs; ++i) {
    const std::string reg(seg_reg_name(static_cast<SegReg>(i)));
    v.counter("seg.loads." + reg, "loads", "selector loads into " + reg, loads[i]);
  }
  v.counter("seg.desc_cache.hits", "loads", "selector loads served without a descriptor read",
            desc_cache_hits);
  v.counter("seg.desc_cache.misses", "loads", "selector loads that read a descriptor",
            desc_cache_misses);
  v.counter("seg.faults.gp", "faults", "general-protection faults (#GP)", faults_by_kind[0]);
  v.counter("seg.faults.ss", "faults", "stack-segment faults (#SS)", faults_by_kind[1]);
  v.counter("seg.faults.np", "faults", "segment-not-present faults (#NP)", faults_by_kind[2]);
  for (int i = 0; i < kNumSegRegs; ++i) {
    const std::string reg(seg_reg_name(static_cast<SegReg>(i)));
    v.counter("seg.faults.reg." + reg, "faults", "segmentation faults through " + reg,
              faults_by_reg[i]);
  }
  for (int i = 1; i < kNumSegFaultReasons; ++i) {
    const std::string why(seg_fault_reason_name(static_cast<SegFaultReason>(i)));
    v.counter("seg.faults.reason." + why, "faults", "segmentation faults by reason: " + why,
              faults_by_reason[i]);
  }
  v.counter("seg.accessed_bit_writes", "writes", "descriptor write-backs to set the Accessed bit",
            accessed_bit_writes);
}

SegmentationUnit::SegmentationUnit(const SegConfig& config)
    : config_(validated(config)),
      mode_(config.mode),
      cpl_(config.cpl),
      canon_bits_(config.canonical_bits),
      canon_half_(uint64_t{1} << (config.canonical_bits - 1)),
      addr_mask_(config.mode == SegMode::kReal && config.a20_mask ? k4G & ~(uint64_t{1} << 20)
                                                                  : k4G),
      gdt_base_(config.gdt_base),
      ldt_base_(config.ldt_base),
      gdt_limit_(config.gdt_limit),
      ldt_limit_(config.ldt_limit),
      desc_cache_(config.desc_cache_entries) {
  for (int i = 0; i < kNumSegRegs; ++i) {
    const auto r = static_cast<SegReg>(i);
    SegmentCache& h = regs_[i];
    h.selector = config_.initial_selector(r);
    if (mode_ == SegMode::kReal) {
      h.base = uint64_t{h.selector.value()} << 4;
      h.limit = kRealLimit;
      h.usable = true;
    } else if (mode_ == SegMode::kFlat) {
      h.limit = k4G;
      h.usable = true;
    }
    derive(r);
  }
}

void SegmentationUnit::load_initial_registers(const DescriptorReader& read,
                                              const DescriptorWriter& write) {
  if (mode_ == SegMode::kProtected32 || mode_ == SegMode::kLong64) {
    for (SegReg r :
         {SegReg::kCS, SegReg::kSS, SegReg::kDS, SegReg::kES, SegReg::kFS, SegReg::kGS}) {
      const Selector sel = config_.initial_selector(r);
      const auto fail = [&](const SegFault& f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%04X", sel.value());
        throw InputError("seg." + std::string(seg_reg_name(r)) + ": cannot load selector " + buf +
                         ": #" + std::string(seg_fault_kind_name(f.kind)) + " (" +
                         std::string(seg_fault_reason_name(f.reason)) + ")");
      };
      SelectorLoad step = begin_load(r, sel);
      if (const auto* rd = std::get_if<ReadDescriptor>(&step)) {
        LoadResult done = finish_load(r, sel, read(rd->addr));
        if (const auto* f = std::get_if<SegFault>(&done)) fail(*f);
        const auto& ok = std::get<LoadDone>(done);
        if (ok.write_accessed && write) write(ok.desc_addr, ok.descriptor);
      } else if (const auto* f = std::get_if<SegFault>(&step)) {
        fail(*f);
      }
    }
  }
  if (mode_ == SegMode::kLong64) {
    set_segment_base(SegReg::kFS, config_.fs_base);
    set_segment_base(SegReg::kGS, config_.gs_base);
  }
  // Setup loads leave no trace: stats reset, unit-wide descriptor cache cold.
  for (DescCacheEntry& e : desc_cache_) e.valid = false;
  stats_ = SegStats{};
  first_fault_.reset();
}

SegFault SegmentationUnit::record(SegFault f) {
  switch (f.kind) {
    case SegFaultKind::kGP: ++stats_.faults_by_kind[0]; break;
    case SegFaultKind::kSS: ++stats_.faults_by_kind[1]; break;
    case SegFaultKind::kNP: ++stats_.faults_by_kind[2]; break;
    case SegFaultKind::kNone: return f;
  }
  ++stats_.faults_by_reg[seg_index(f.reg)];
  ++stats_.faults_by_reason[static_cast<size_t>(f.reason)];
  if (!first_fault_) first_fault_ = f;
  return f;
}

SegResult SegmentationUnit::translate_fault(SegReg r, VirtAddr offset, AccessKind kind) {
  const SegmentCache& h = regs_[seg_index(r)];
  SegFault f;
  f.reg = r;
  f.selector = h.selector;
  f.offset = offset;
  f.kind = SegFaultKind::kGP;
  if (mode_ == SegMode::kLong64) {
    f.kind = stack_or_gp(r);
    f.reason = SegFaultReason::kNonCanonical;
  } else if (!h.usable) {
    f.reason = SegFaultReason::kNullSelector;
  } else if (((h.allowed >> static_cast<unsigned>(kind)) & 1U) == 0) {
    const SegmentDescriptor d = h.descriptor();
    switch (kind) {
      case AccessKind::kWrite:
        f.reason = d.is_code() ? SegFaultReason::kWriteToCode : SegFaultReason::kWriteToReadOnly;
        break;
      case AccessKind::kFetch: f.reason = SegFaultReason::kExecuteFromData; break;
      case AccessKind::kRead: f.reason = SegFaultReason::kReadFromExecOnly; break;
    }
  } else {
    f.kind = stack_or_gp(r);
    f.reason = SegFaultReason::kLimit;
  }
  return SegResult{LinearAddr(0), Cycles{}, record(f)};
}

void SegmentationUnit::derive(SegReg r) {
  SegmentCache& h = regs_[seg_index(r)];
  switch (mode_) {
    case SegMode::kReal:
      h.lo = 0;
      h.hi = h.limit;
      h.allowed = kAllowAll;
      h.applied_base = h.base;
      break;
    case SegMode::kFlat:
      h.lo = 0;
      h.hi = k4G;
      h.allowed = kAllowAll;
      h.applied_base = 0;
      break;
    case SegMode::kLong64:
      h.lo = 0;
      h.hi = ~uint64_t{0};
      h.allowed = kAllowAll;
      h.applied_base = (r == SegReg::kFS || r == SegReg::kGS) ? h.base : 0;
      break;
    case SegMode::kProtected32: {
      h.applied_base = h.base & k4G;
      if (!h.usable) {
        h.allowed = 0;
        h.lo = 1;
        h.hi = 0;
        break;
      }
      const SegmentDescriptor d = h.descriptor();
      if (d.expand_down()) {  // valid offsets: (limit, 0xFFFF or 0xFFFFFFFF]
        h.lo = h.limit + 1;
        h.hi = d.db ? k4G : 0xFFFF;
      } else {
        h.lo = 0;
        h.hi = h.limit;
      }
      h.allowed =
          static_cast<uint8_t>((d.readable() ? kAllowRead : 0) | (d.writable() ? kAllowWrite : 0) |
                               (d.is_code() ? kAllowFetch : 0));
      break;
    }
  }
  h.cost = h.applied_base != 0 ? config_.base_cost : Cycles{};
}

bool SegmentationUnit::within_table(Selector sel) const {
  const uint32_t limit = sel.ti() ? ldt_limit_ : gdt_limit_;
  return uint32_t{sel.index()} * 8 + 7 <= limit;
}

LinearAddr SegmentationUnit::descriptor_address(Selector sel) const {
  const uint64_t a = (sel.ti() ? ldt_base_ : gdt_base_) + uint64_t{sel.index()} * 8;
  return LinearAddr(mode_ == SegMode::kLong64 ? a : a & k4G);
}

SegFault SegmentationUnit::load_fault(SegReg r, Selector sel, SegFaultKind k, SegFaultReason why) {
  SegFault f;
  f.kind = k;
  f.reason = why;
  f.reg = r;
  f.selector = sel;
  f.error_code = static_cast<uint16_t>(sel.value() & 0xFFFCU);
  return record(f);
}

SelectorLoad SegmentationUnit::begin_load(SegReg r, Selector sel) {
  ++stats_.loads[seg_index(r)];
  SegmentCache& h = regs_[seg_index(r)];
  if (mode_ == SegMode::kReal || mode_ == SegMode::kFlat) {
    h.selector = sel;
    if (mode_ == SegMode::kReal) {
      h.base = uint64_t{sel.value()} << 4;
      h.limit = kRealLimit;
    }
    derive(r);
    return LoadDone{};
  }
  if (is_null(sel)) {
    const bool long_mode = mode_ == SegMode::kLong64;
    const bool ss_ok = long_mode && cpl_ < 3 && sel.rpl() == cpl_;
    if (r == SegReg::kCS || (r == SegReg::kSS && !ss_ok)) {
      SegFault f = load_fault(r, sel, SegFaultKind::kGP, SegFaultReason::kNullSelector);
      return f;
    }
    h = SegmentCache{};
    h.selector = sel;
    h.usable = long_mode;  // 64-bit mode never checks null selectors on use
    derive(r);
    return LoadDone{};
  }
  if (!within_table(sel)) {
    return load_fault(r, sel, SegFaultKind::kGP, SegFaultReason::kTableLimit);
  }
  const LinearAddr addr = descriptor_address(sel);
  if (config_.reload_same_selector_free && h.from_memory && h.gen == gen_ && h.selector == sel) {
    ++stats_.desc_cache_hits;
    LoadResult res = apply_descriptor(r, sel, h.raw, addr, true);
    if (auto* f = std::get_if<SegFault>(&res)) return *f;
    return std::get<LoadDone>(res);
  }
  if (const DescCacheEntry* e = cache_lookup(sel.value() & 0xFFFCU)) {
    ++stats_.desc_cache_hits;
    LoadResult res = apply_descriptor(r, sel, e->raw, addr, true);
    if (auto* f = std::get_if<SegFault>(&res)) return *f;
    return std::get<LoadDone>(res);
  }
  ++stats_.desc_cache_misses;
  return ReadDescriptor{addr};
}

LoadResult SegmentationUnit::finish_load(SegReg r, Selector sel, uint64_t descriptor) {
  if (mode_ == SegMode::kReal || mode_ == SegMode::kFlat || is_null(sel)) return LoadDone{};
  if (!within_table(sel)) {
    return load_fault(r, sel, SegFaultKind::kGP, SegFaultReason::kTableLimit);
  }
  return apply_descriptor(r, sel, descriptor, descriptor_address(sel), false);
}

// The checks of MOV/POP Sreg (SDM Vol. 2 MOV, Vol. 3A §5.7, §5.10) and, for
// CS, of a far JMP to a code segment without a privilege change (§5.8.1).
LoadResult SegmentationUnit::apply_descriptor(SegReg r, Selector sel, uint64_t raw, LinearAddr addr,
                                              bool hit) {
  const SegmentDescriptor d = SegmentDescriptor::decode(raw);
  const uint8_t rpl = sel.rpl();
  using K = SegFaultKind;
  using W = SegFaultReason;
  if (!d.s) return load_fault(r, sel, K::kGP, W::kSystemDescriptor);
  if (r == SegReg::kCS) {
    if (!d.is_code()) return load_fault(r, sel, K::kGP, W::kLoadType);
    if (mode_ == SegMode::kLong64 && d.l && d.db) {
      return load_fault(r, sel, K::kGP, W::kReservedBits);
    }
    const bool priv_ok = d.conforming() ? d.dpl <= cpl_ : (rpl <= cpl_ && d.dpl == cpl_);
    if (!priv_ok) return load_fault(r, sel, K::kGP, W::kPrivilege);
    if (!d.present) return load_fault(r, sel, K::kNP, W::kNotPresent);
  } else if (r == SegReg::kSS) {
    if (rpl != cpl_) return load_fault(r, sel, K::kGP, W::kPrivilege);
    if (!d.writable()) return load_fault(r, sel, K::kGP, W::kLoadType);
    if (d.dpl != cpl_) return load_fault(r, sel, K::kGP, W::kPrivilege);
    if (!d.present) return load_fault(r, sel, K::kSS, W::kNotPresent);
  } else {
    if (!d.readable()) return load_fault(r, sel, K::kGP, W::kLoadType);
    if ((d.is_data() || !d.conforming()) && (rpl > d.dpl || cpl_ > d.dpl)) {
      return load_fault(r, sel, K::kGP, W::kPrivilege);
    }
    if (!d.present) return load_fault(r, sel, K::kNP, W::kNotPresent);
  }
  LoadDone done;
  done.desc_cache_hit = hit;
  done.desc_read = !hit;
  done.desc_addr = addr;
  done.write_accessed = !d.accessed();
  done.descriptor = raw | kDescAccessedBit;
  done.cost = hit ? Cycles{} : config_.load_cost;
  if (done.write_accessed) ++stats_.accessed_bit_writes;
  stats_.cycles += done.cost.count();

  SegmentCache& h = regs_[seg_index(r)];
  h = SegmentCache{};
  h.selector =
      r == SegReg::kCS ? Selector(static_cast<uint16_t>((sel.value() & 0xFFFCU) | cpl_)) : sel;
  h.base = d.base;
  h.limit = d.effective_limit();
  h.raw = done.descriptor;
  h.usable = true;
  h.from_memory = true;
  h.gen = gen_;
  derive(r);
  if (!hit) cache_insert(sel.value() & 0xFFFCU, done.descriptor);
  return done;
}

void SegmentationUnit::set_register(SegReg r, Selector sel, const SegmentDescriptor& d) {
  SegmentCache& h = regs_[seg_index(r)];
  h = SegmentCache{};
  h.selector = sel;
  h.base = d.base;
  h.limit = d.effective_limit();
  h.raw = d.encode();
  h.usable = mode_ != SegMode::kProtected32 || !is_null(sel);
  derive(r);
}

bool SegmentationUnit::set_segment_base(SegReg r, uint64_t base) {
  if (mode_ != SegMode::kLong64 || (r != SegReg::kFS && r != SegReg::kGS)) return false;
  if (((base + canon_half_) >> canon_bits_) != 0) return false;
  regs_[seg_index(r)].base = base;
  derive(r);
  return true;
}

void SegmentationUnit::set_cpl(uint8_t cpl) { cpl_ = static_cast<uint8_t>(cpl & 3U); }

void SegmentationUnit::set_gdt(uint64_t base, uint32_t limit) {
  gdt_base_ = base;
  gdt_limit_ = limit;
  invalidate_descriptor_cache();
}

void SegmentationUnit::set_ldt(uint64_t base, uint32_t limit) {
  ldt_base_ = base;
  ldt_limit_ = limit;
  invalidate_descriptor_cache();
}

void SegmentationUnit::invalidate_descriptor_cache() {
  ++gen_;
  for (DescCacheEntry& e : desc_cache_) e.valid = false;
}

const SegmentationUnit::DescCacheEntry* SegmentationUnit::cache_lookup(uint16_t key) {
  for (DescCacheEntry& e : desc_cache_) {
    if (e.valid && e.key == key) {
      e.stamp = ++stamp_;
      return &e;
    }
  }
  return nullptr;
}

void SegmentationUnit::cache_insert(uint16_t key, uint64_t raw) {
  if (desc_cache_.empty()) return;
  DescCacheEntry* victim = &desc_cache_.front();
  for (DescCacheEntry& e : desc_cache_) {
    if (e.valid && e.key == key) {
      victim = &e;
      break;
    }
    if (!e.valid) {
      if (victim->valid) victim = &e;
    } else if (victim->valid && e.stamp < victim->stamp) {
      victim = &e;
    }
  }
  *victim = DescCacheEntry{key, true, raw, ++stamp_};
}

}  // namespace mmusim
