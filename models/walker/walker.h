// The page walker core: walks x86 page tables held in simulated physical
// memory (PhysMem), timing each entry read and A/D-bit write through a
// MemoryTiming (DRAM), with paging-structure caches per non-leaf level and
// up to `max_walks` walks in flight (busy-until slots). One walker per CPU.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "models/arch/paging.h"
#include "models/common/fault.h"
#include "models/common/phys_mem.h"
#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/walker/pwc.h"
#include "models/walker/walker_config.h"

namespace mmusim {

// One step of a walk, for --explain.
struct WalkStep {
  enum class Kind : uint8_t { kPwcHit, kRead, kAdWrite, kRegister };
  Kind kind = Kind::kRead;
  unsigned level = 0;
  PhysAddr entry_addr;
  uint64_t value = 0;
  Cycle start, done;
};

struct WalkResult {
  FaultKind fault = FaultKind::kNone;
  unsigned fault_level = 0;  // level of the entry that caused the fault
  Translation translation;   // valid when fault == kNone
  Cycle start;               // when a walker slot took the walk
  Cycle done;                // when the translation (or fault) is known
  uint16_t mem_refs = 0;     // entry reads + A/D writes that went to memory
  uint16_t ad_writes = 0;
  bool merged = false;  // joined an in-flight walk to the same page
  // Steps, filled only when explaining.
  std::array<WalkStep, 12> steps{};
  uint8_t num_steps = 0;
};

struct WalkerStats {
  uint64_t walks = 0, merged = 0, mem_refs = 0, entry_reads = 0, ad_writes = 0;
  uint64_t queue_cycles = 0;  // cycles waiting for a free walker slot
  std::array<uint64_t, 5> pwc_hits{}, pwc_misses{};
  std::array<uint64_t, kNumFaultKinds> faults{};
  Histogram latency;  // request to done, cycles (includes queueing)
  Histogram refs_per_walk;
};

class Walker {
 public:
  Walker(const WalkerConfig& cfg, PhysMem& mem, MemoryTiming& timing);

  // CR3: physical base of the root table, and the current PCID. In PAE mode
  // this also loads the four PDPTE registers from memory (untimed).
  void set_root(PhysAddr root, Asid asid);
  [[nodiscard]] PhysAddr root() const { return root_; }

  // Translates `a` for an access of kind `k` requested at cycle `at`.
  // `user` is CPL = 3. With `explain`, the steps are recorded in the result.
  WalkResult walk(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain = false);

  // INVLPG / MOV CR3 effects on the paging-structure caches.
  void flush_pwc();

  [[nodiscard]] const WalkerStats& stats() const { return stats_; }
  [[nodiscard]] const WalkerConfig& config() const { return cfg_; }
  [[nodiscard]] const PagingModeInfo& mode() const { return *mode_; }
  void visit(StatVisitor& v) const;

 private:
  struct Slot {
    Cycle busy_until;
    uint64_t vpn4k = ~0ULL;
    uint16_t asid = 0;
    AccessKind kind = AccessKind::kRead;
    bool user = false;
    // What a merged request gets back (no explain steps: they stay with the
    // request that walked).
    FaultKind fault = FaultKind::kNone;
    unsigned fault_level = 0;
    Translation translation;
    Cycle start;
  };
  void do_walk(LinearAddr a, AccessKind k, bool user, Cycle start, bool explain, WalkResult& r);

  WalkerConfig cfg_;
  const PagingModeInfo* mode_;
  PhysMem& mem_;
  MemoryTiming& timing_;
  PhysAddr root_;
  Asid asid_;
  std::array<uint64_t, 4> pdpte_{};  // PAE PDPTE registers
  std::array<PagingStructureCache, 5> pwc_;
  std::vector<Slot> slots_;
  WalkerStats stats_;
};

}  // namespace mmusim
