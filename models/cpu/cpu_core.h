// One simulated CPU's translation path as plain C++: address generator →
// (flat segmentation) → TLB hierarchy → MSHRs → page walker → fault handler.
// Everything shared or external (memory timing, synchronization, the kernel)
// goes through Env, which the SystemC shell implements with TLM sockets and
// waits, and tests implement directly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/common/stats.h"
#include "models/cpu/address_generator.h"
#include "models/os/fault_handler.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {

struct CpuStats {
  uint64_t records = 0;  // trace records consumed
  uint64_t by_kind[kNumAccessKinds] = {};
  uint64_t translations = 0;   // records + second halves of page-crossing accesses
  uint64_t page_splits = 0;    // accesses that crossed a 4 KiB boundary
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
  // `explain` translations.
  CpuCore(uint32_t id, const CpuCoreConfig& cfg, PhysMem& mem, Env& env, uint64_t explain = 0,
          std::vector<std::string>* explain_out = nullptr);

  void set_root(PhysAddr cr3) { walker_.set_root(cr3, cfg_.asid); }
  // Simulates one trace record; returns the CPU's local time (issue cycle of
  // its last translation), which the shell uses to bound run-ahead.
  Cycle process(const TraceRecord& r);
  // Drains the pipeline at the end of the trace.
  void finish();

  [[nodiscard]] uint32_t id() const { return id_; }
  [[nodiscard]] const CpuStats& stats() const { return stats_; }
  [[nodiscard]] const TlbHierarchy& tlb() const { return tlb_; }
  [[nodiscard]] const Walker& walker() const { return walker_; }
  // Emits this CPU's statistics with names under `prefix` ("cpu", "cpu1").
  void visit(StatVisitor& v, const std::string& prefix) const;
  // Sums of every CPU's counters under "cpu" (multi-CPU runs).
  static void visit_total(StatVisitor& v, size_t n,
                          const std::function<const CpuCore&(size_t)>& at);

 private:
  Cycle translate(LinearAddr a, AccessKind k);
  Cycle miss(LinearAddr a, AccessKind k, Cycle issue, Cycles tlb_latency, bool assist);
  void fill_ready(Cycle now);
  void explain_hit(LinearAddr a, AccessKind k, Cycle issue, const TlbLookup& l);
  void explain_walk(LinearAddr a, AccessKind k, Cycle issue, const WalkResult& w,
                    Cycles tlb_latency, bool assist);

  uint32_t id_;
  CpuCoreConfig cfg_;
  Env& env_;
  AddressGenerator ag_;
  TlbHierarchy tlb_;
  Walker walker_;
  CpuStats stats_;
  bool paging_ = true;
  uint64_t linear_mask_;  // 32-bit modes wrap linear addresses at 4 GiB
  uint64_t explain_left_;
  std::vector<std::string>* explain_out_;
  Cycle last_issue_{0};
  Cycle next_ready_{~uint64_t{0}};  // earliest ready cycle among pending MSHRs
};

}  // namespace mmusim
