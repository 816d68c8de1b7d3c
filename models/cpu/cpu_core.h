// One simulated CPU's translation path as plain C++: address generator →
// segmentation unit (logical → linear) → TLB hierarchy → MSHRs → page walker
// → fault handler. Everything shared or external (memory timing,
// synchronization, the kernel) goes through Env, which the SystemC shell
// implements with TLM sockets and waits, and tests implement directly.
//
// Segmentation stage: flat and long modes with no segment record take a
// two-instruction fast path (long mode adds the canonical check: a
// non-canonical access raises #GP/#SS here, before any TLB lookup; the
// walker's own check stays as a defence). Real and protected modes, segment
// overrides, selector loads and descriptor records go through the seg core.
// A segmentation fault skips the access (done at issue + segment cost).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/common/stats.h"
#include "models/cpu/address_generator.h"
#include "models/common/fault.h"
#include "models/seg/segmentation.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {

// Descriptor-table contents of one address space, shared by its CPUs: an
// image by linear address (the default flat GDT overlaid with the trace's
// GDT/LDT records), copied into simulated memory one 4 KiB linear page at a
// time when a CPU first reads or writes a descriptor there, i.e. after the
// normal translation path (first touch included) has mapped the page.
class DescriptorTables {
 public:
  // The mode's default tables: the flat GDT (64-bit code segments in long
  // mode) at seg.gdt_base, as many entries as seg.gdt_limit covers. Empty in
  // real and flat modes.
  static DescriptorTables defaults(const SegConfig& c);
  void set(LinearAddr a, uint64_t descriptor) { image_[a.value()] = descriptor; }
  [[nodiscard]] uint64_t get(LinearAddr a) const {
    auto it = image_.find(a.value());
    return it == image_.end() ? 0 : it->second;
  }
  // Writes the image of the linear page holding `a` into memory at the frame
  // `pa` (the translation of `a`) unless that page was copied already.
  void populate(LinearAddr a, PhysAddr pa, PhysMem& mem);
  // Bumped when a trace record rewrites a descriptor: every CPU then drops
  // its cached descriptors before its next selector load.
  [[nodiscard]] uint64_t generation() const { return gen_; }
  void changed() { ++gen_; }
  [[nodiscard]] size_t size() const { return image_.size(); }

 private:
  std::map<uint64_t, uint64_t> image_;
  std::unordered_set<uint64_t> populated_;  // linear 4 KiB page numbers
  uint64_t gen_ = 0;
};

// Thrown at the first segmentation fault when seg.stop_on_fault is set; what()
// is the one-line report. mmusim exits with status 3 and writes no results.
class SegmentationStop : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CpuStats {
  uint64_t records = 0;      // access records consumed (R/W/X)
  uint64_t seg_records = 0;  // segment records: selector loads, descriptor writes
  uint64_t seg_skipped = 0;  // accesses and loads dropped by a segmentation fault
  // TLB-maintenance records: INVLPG, INVPCID, FLUSH (non-global), FLUSH GLOBAL.
  uint64_t inv_page = 0, inv_pcid = 0, inv_all = 0, inv_global = 0;
  uint64_t invalidation_cycles = 0;  // from drain to completion, summed
  uint64_t by_kind[kNumAccessKinds] = {};
  uint64_t translations = 0;  // records + second halves of page-crossing accesses
  uint64_t page_splits = 0;   // accesses that crossed a 4 KiB boundary
  uint64_t l1_hits = 0, l2_hits = 0, tlb_misses = 0;
  uint64_t mshr_merges = 0;    // misses that joined a pending miss to the same page
  uint64_t mshr_stalls = 0;    // misses that waited for a free MSHR
  uint64_t dirty_assists = 0;  // writes that hit a clean TLB entry and walked to set D
  uint64_t faults = 0, faults_by_kind[kNumFaultKinds] = {};
  uint64_t skipped = 0;             // accesses dropped after an unresolved fault
  uint64_t translation_cycles = 0;  // sum over translations of (done - issue)
  uint64_t fault_cycles = 0;        // from fault raise to resumption, summed
  uint64_t cycles = 0;              // retire cycle of this CPU's last access
  Histogram translation_latency;    // per translation, cycles
  Histogram fault_latency;          // per fault: from raise to resumption, cycles
};

struct CpuCoreConfig {
  AddressGeneratorConfig ag;
  TlbConfig tlb;
  WalkerConfig walker;
  bool user = true;  // CPL 3
  Asid asid{1};
  // Segmentation; the default (flat) keeps linear = offset (wrapped at 4 GiB
  // in 32-bit paging modes). Mode/paging combinations are checked by finalize().
  SegConfig seg;
};

class CpuCore {
 public:
  class Env : public MemoryTiming {
   public:
    // Block until simulated time reaches `t` (before touching shared state).
    virtual void sync(Cycle t) = 0;
    // Deliver a page fault at `at` (already synchronized by the caller).
    virtual FaultOutcome fault(const FaultInfo& f, Cycle at) = 0;
  };

  // `explain_out` receives one block of lines for each of the first
  // `explain` steps (translations, selector loads, segmentation faults).
  // `tables` (shared by the CPUs of one address space, outliving the core)
  // holds the descriptor tables the initial segment registers are loaded
  // from in protected and long modes; null: the core's own
  // DescriptorTables::defaults. Throws InputError naming seg.<reg> when an
  // initial selector cannot be loaded.
  CpuCore(uint32_t id, const CpuCoreConfig& cfg, PhysMem& mem, Env& env, uint64_t explain = 0,
          std::vector<std::string>* explain_out = nullptr, DescriptorTables* tables = nullptr);

  void set_root(PhysAddr cr3) { walker_.set_root(cr3, cfg_.asid); }
  // Switches to `tables` (which must outlive the core) and reloads the
  // configured initial segment registers from them (protected/long modes;
  // untimed setup, not counted in the stats).
  void use_descriptor_tables(DescriptorTables& tables);
  // Trace records before this CPU's first one (setup records), so that fault
  // reports give the record's number in the trace.
  void set_record_base(uint64_t n) { record_base_ = n; }
  // Simulates one trace record; returns the CPU's local time (issue cycle of
  // its last translation), which the shell uses to bound run-ahead. Records
  // must be well-formed (trace_record_problem() == nullptr).
  Cycle process(const TraceRecord& r) {
    const uint64_t size = r.size ? r.size : 1;
    const uint64_t first = r.addr;
    const uint64_t last = r.addr + size - 1;
    // Fast path (flat or long mode, no segment record): linear = offset, plus
    // the long-mode canonical check (mask 0 in flat mode).
    if ((r.flags | slow_) != 0 || (((first + canon_half_) | (last + canon_half_)) & canon_mask_)) {
      return process_segmented(r);
    }
    ++stats_.records;
    ++stats_.by_kind[static_cast<int>(r.kind)];
    // In 32-bit modes the 32-bit address arithmetic wraps at 4 GiB.
    translate(LinearAddr(first & linear_mask_), r.kind);
    if (((first ^ last) >> 12) != 0 && last > first) {
      ++stats_.page_splits;
      translate(LinearAddr(last & ~uint64_t{0xFFF} & linear_mask_), r.kind);
    }
    return last_issue_;
  }
  // Drains the pipeline at the end of the trace.
  void finish();

  [[nodiscard]] uint32_t id() const { return id_; }
  [[nodiscard]] const CpuStats& stats() const { return stats_; }
  [[nodiscard]] const TlbHierarchy& tlb() const { return tlb_; }
  [[nodiscard]] const Walker& walker() const { return walker_; }
  [[nodiscard]] const SegmentationUnit& seg() const { return seg_; }
  // Emits this CPU's statistics with names under `prefix` ("cpu", "cpu1").
  void visit(StatVisitor& v, const std::string& prefix) const;
  // Sums of every CPU's counters under "cpu" (multi-CPU runs).
  static void visit_total(StatVisitor& v, size_t n,
                          const std::function<const CpuCore&(size_t)>& at);

 private:
  // `seg`: segmentation cycles before the TLB lookup (part of the latency).
  Cycle translate(LinearAddr a, AccessKind k, Cycles seg = Cycles{});
  Cycle miss(LinearAddr a, AccessKind k, Cycle issue, Cycles tlb_latency, bool assist, Cycles seg);
  void fill_ready(Cycle now);
  void explain_hit(LinearAddr a, AccessKind k, Cycle issue, const TlbLookup& l, Cycles seg);
  void explain_walk(LinearAddr a, AccessKind k, Cycle issue, const WalkResult& w,
                    Cycles tlb_latency, bool assist);
  void explain_off(LinearAddr a, AccessKind k, Cycle issue, Cycles seg);
  // Segmentation stage (cpu_core_seg.cc).
  Cycle process_segmented(const TraceRecord& r);
  // INVLPG / INVPCID / FLUSH: serializing; pending walks fill, then the TLBs
  // and paging-structure caches drop the named translations.
  void invalidate(const TraceRecord& r);
  [[nodiscard]] uint64_t invalidation_records() const {
    return stats_.inv_page + stats_.inv_pcid + stats_.inv_all + stats_.inv_global;
  }
  void seg_fault(const TraceRecord& r, const SegFault& f, Cycle issue, Cycle done, bool explain);
  void load_segment(const TraceRecord& r, SegReg reg, Selector sel);
  void write_descriptor(const TraceRecord& r);
  // Translates a descriptor's linear address (implicit access): the physical
  // address, or false when the access was skipped by an unresolved fault.
  bool descriptor_access(LinearAddr a, AccessKind k, Cycle& done, PhysAddr& pa);
  void load_initial_registers();
  [[nodiscard]] std::string seg_register_text(SegReg r) const;
  [[nodiscard]] std::string seg_fault_text(const TraceRecord& r, const SegFault& f) const;
  [[nodiscard]] uint64_t record_number() const {
    return record_base_ + stats_.records + stats_.seg_records + invalidation_records();
  }

  uint32_t id_;
  CpuCoreConfig cfg_;
  Env& env_;
  AddressGenerator ag_;
  TlbHierarchy tlb_;
  Walker walker_;
  CpuStats stats_;
  PhysMem& mem_;
  SegmentationUnit seg_;
  DescriptorTables own_tables_;
  DescriptorTables* tables_;
  uint64_t tables_gen_ = 0;
  uint8_t slow_;                   // 0: fast path for records without flags (flat, long)
  uint64_t canon_half_ = 0;        // long mode: 1 << (canonical bits - 1); else 0
  uint64_t canon_mask_ = 0;        // long mode: bits above the canonical width; else 0
  uint64_t seg_fault_cycles_ = 0;  // segment costs of faulting accesses
  uint64_t record_base_ = 0;
  bool want_phys_ = false;  // translate() records the physical address
  bool phys_ok_ = false;
  PhysAddr phys_;
  std::string explain_seg_;  // segmentation line for the next explained translation
  bool paging_ = true;
  uint64_t linear_mask_;  // 32-bit modes wrap linear addresses at 4 GiB
  uint64_t explain_left_;
  std::vector<std::string>* explain_out_;
  Cycle last_issue_{0};
  Cycle next_ready_{~uint64_t{0}};  // earliest ready cycle among pending MSHRs
};

}  // namespace mmusim
