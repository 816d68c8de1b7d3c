// The page walker core: walks x86 page tables held in simulated physical
// memory (PhysMem), with paging-structure caches per non-leaf level and up to
// `max_walks` walks in flight. One walker per CPU.
//
// A walk is a step machine. request() decides what the walk will find (the
// page tables as they are when it begins: the fault, or the leaf) and either
// begins it in a free slot or queues it (FIFO) until a slot frees. Each step
// is one event at one time: begin (paging-structure-cache probe), one memory
// reference (an entry read, or an A/D-bit locked write) issued through the
// MemoryTiming at that step's time, and completion. step() processes the
// earliest pending event of all walks, so the references of concurrent walks
// reach memory in time order. A paging-structure-cache entry becomes visible
// when the read that fills it completes; an A/D bit is written (functionally)
// when its locked write is issued. The walker's time never goes back: a walk
// requested before the latest event already processed begins at that event's
// time (the caller keeps this rare: it processes events in time order too).
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
  MemSource served = MemSource::kDram;  // kRead, kAdWrite: where it was served
};

struct WalkResult {
  FaultKind fault = FaultKind::kNone;
  unsigned fault_level = 0;  // level of the entry that caused the fault
  Translation translation;   // valid when fault == kNone
  Cycle request;             // when the walk was requested
  Cycle start;               // when a walker slot took the walk
  Cycle done;                // when the translation (or fault) is known
  uint64_t id = 0;           // request()'s ticket id
  uint16_t mem_refs = 0;     // entry reads + A/D writes that went to memory
  uint16_t ad_writes = 0;
  // Steps, filled only when explaining.
  std::array<WalkStep, 12> steps{};
  uint8_t num_steps = 0;
};

// A requested walk: its id (WalkResult::id on completion) and what it will
// find (functional; the timing comes with its steps).
struct WalkTicket {
  uint64_t id = 0;
  FaultKind fault = FaultKind::kNone;
  Translation translation;  // valid when fault == kNone
};

struct WalkerStats {
  uint64_t walks = 0, mem_refs = 0, entry_reads = 0, ad_writes = 0;
  uint64_t queue_cycles = 0;  // cycles walks waited for a free walker slot
  std::array<uint64_t, 5> pwc_hits{}, pwc_misses{};
  std::array<uint64_t, kNumFaultKinds> faults{};
  // References (reads and A/D writes) by paging structure (PML5, PML4,
  // PDPT, PD, PT) and where they were served (L1, L2, LLC, DRAM).
  std::array<std::array<uint64_t, kNumMemSources>, 5> refs_served{};
  Histogram latency;  // request to done, cycles (includes queueing)
  Histogram refs_per_walk;
};

class Walker {
 public:
  static constexpr Cycle kNever{~uint64_t{0}};

  Walker(const WalkerConfig& cfg, PhysMem& mem, MemoryTiming& timing);

  // CR3: physical base of the root table, and the current PCID. In PAE mode
  // this also loads the four PDPTE registers from memory (untimed).
  void set_root(PhysAddr root, Asid asid);
  [[nodiscard]] PhysAddr root() const { return root_; }
  [[nodiscard]] Asid asid() const { return asid_; }

  // Requests a walk of `a` for an access of kind `k` at cycle `at` (`user`:
  // CPL = 3). Returns its ticket: a walk that begins at once reads the tables
  // now; a queued one reads them again when it begins (the fault outcome
  // cannot change in between unless another agent edits the tables).
  WalkTicket request(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain = false);
  // The earliest pending event of any walk (kNever when idle).
  [[nodiscard]] Cycle next_event() const { return next_event_; }
  [[nodiscard]] bool idle() const { return active_ == 0; }
  // Time of the latest event processed.
  [[nodiscard]] Cycle now() const { return now_; }
  // Processes the earliest pending event (ties: the older walk). Returns the
  // walk it completed (valid until the next call), or nullptr.
  const WalkResult* step();
  // Requests a walk and runs events until it completes (tests, benchmarks,
  // and callers with nothing else in flight).
  WalkResult walk(LinearAddr a, AccessKind k, bool user, Cycle at, bool explain = false);

  // INVLPG / MOV CR3 effects on the paging-structure caches.
  void flush_pwc();

  [[nodiscard]] const WalkerStats& stats() const { return stats_; }
  [[nodiscard]] const WalkerConfig& config() const { return cfg_; }
  [[nodiscard]] const PagingModeInfo& mode() const { return *mode_; }
  void visit(StatVisitor& v) const;

 private:
  // One memory reference of a walk, planned when the walk begins.
  struct Ref {
    PhysAddr addr;
    uint64_t value = 0;  // entry read, or the entry with A/D set (write)
    uint8_t level = 0;
    bool write = false;
    bool pwc_fill = false;  // a read whose completion fills the level's PWC
    uint8_t perms = 0;      // accumulated rights for that PWC entry
    uint64_t next_table = 0;
  };
  struct Request {
    LinearAddr a;
    AccessKind k = AccessKind::kRead;
    bool user = false;
    bool explain = false;
    Cycle at;
    uint64_t id = 0;
  };
  struct Slot {
    bool busy = false;
    Cycle busy_until;  // done of the last walk in this slot
    Cycle next;        // time of this walk's next event
    Request req;
    std::array<Ref, 10> refs{};
    uint8_t num_refs = 0;
    uint8_t pos = 0;  // next reference to issue
    WalkResult result;
  };
  // Plans the walk in `s` beginning at `start`: PWC probe, the references to
  // make, the outcome. Functional effects (A/D bits) wait for their step.
  void begin(Slot& s, const Request& r, Cycle start);
  // The outcome of walking `a` through the tables as they are (no PWC, no
  // state change).
  [[nodiscard]] WalkTicket outlook(LinearAddr a, AccessKind k, bool user) const;
  void finish(Slot& s, Cycle done);
  void recompute_next();

  WalkerConfig cfg_;
  const PagingModeInfo* mode_;
  PhysMem& mem_;
  MemoryTiming& timing_;
  PhysAddr root_;
  Asid asid_;
  std::array<uint64_t, 4> pdpte_{};  // PAE PDPTE registers
  // Reserved bits of an entry by level and leaf (0/1): reserved_mask() of
  // the mode, computed once.
  std::array<std::array<uint64_t, 2>, 5> reserved_{};
  std::array<PagingStructureCache, 5> pwc_;
  Cycles probe_{0};  // the paging-structure caches' probe: the slowest enabled one
  std::array<uint8_t, 5> structure_{};  // level -> index in PML5, PML4, PDPT, PD, PT
  std::vector<Slot> slots_;
  std::vector<Request> queue_;  // FIFO of requests waiting for a slot
  size_t queue_head_ = 0;
  uint32_t active_ = 0;  // busy slots + queued requests
  Cycle now_{0};         // time of the latest event processed
  Cycle next_event_ = kNever;
  uint64_t next_id_ = 1;
  WalkResult completed_;
  WalkerStats stats_;
};

}  // namespace mmusim
