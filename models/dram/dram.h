// DRAM timing core: per-bank row state machines, per-rank ACT limits
// (tRRD_S/L, tFAW) and refresh, per-bank-group column limits (tCCD_L, tWTR_L),
// and one data bus per channel, all as "earliest time" stamps in core cycles.
// No SystemC: a shell calls access() at synchronized time and waits the result.
//
// Invariants: commands of one kind issue in the order requests are served
// (ACTs per rank, column commands per rank, data bursts per channel), so every
// stamp only grows; refresh happens at epochs k * tREFI per rank and is
// applied lazily, when a request would otherwise issue a command at or after
// the next epoch. No allocation per access.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/dram/dram_config.h"

namespace mmusim {

// Where an address lands. bank is the index inside its bank group; column is
// the burst (line) index inside the row.
struct DramLocation {
  uint32_t channel = 0;
  uint32_t rank = 0;
  uint32_t bank_group = 0;
  uint32_t bank = 0;
  uint64_t row = 0;
  uint32_t column = 0;
  friend bool operator==(const DramLocation& a, const DramLocation& b) {
    return a.channel == b.channel && a.rank == b.rank && a.bank_group == b.bank_group &&
           a.bank == b.bank && a.row == b.row && a.column == b.column;
  }
};

// One line-sized request for access_batch().
struct DramRequest {
  PhysAddr addr;
  bool is_write = false;
  Cycle arrival;
};

// State of the target bank when a request is scheduled.
enum class RowOutcome : uint8_t {
  kHit = 0,       // the bank has the requested row open
  kMiss = 1,      // the bank is precharged (no row open)
  kConflict = 2,  // another row is open: PRE first
};

struct DramStats {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t row_hits = 0;
  uint64_t row_misses = 0;
  uint64_t row_conflicts = 0;
  uint64_t activates = 0;
  uint64_t precharges = 0;     // PRE, auto-precharge, and each bank closed by a refresh
  uint64_t refreshes = 0;      // all-bank REF commands, summed over ranks
  uint64_t total_latency = 0;  // core cycles, arrival to completion, summed
  Histogram latency;           // core cycles, arrival to completion

  // Emits every counter as "dram.<name>", plus dram.avg_latency (real).
  void visit(StatVisitor& v) const;
};

class Dram {
 public:
  // Validates cfg (throws InputError) and converts its timing to core cycles.
  explicit Dram(const DramConfig& cfg);

  // Serves one request arriving at `arrival`, after every earlier call
  // (in-order). Returns the completion cycle: read = last data beat, write =
  // last write beat accepted; plus controller_latency.
  Cycle access(PhysAddr addr, bool is_write, Cycle arrival);

  // FR-FCFS over requests queued together: at each decision (the time the
  // previous pick issued its first command, or the next arrival), among the
  // oldest queue_depth unserved requests of a channel that have arrived, row
  // hits first, then oldest arrival, then lowest index. done[i] receives the
  // completion cycle of reqs[i] as access() would report it.
  void access_batch(const DramRequest* reqs, size_t n, Cycle* done);

  // Applies every refresh epoch up to `now` on every rank (refresh is
  // otherwise applied lazily, per rank, when a request reaches it); call at
  // the end of a run so that stats().refreshes covers the whole run.
  void advance_to(Cycle now);

  [[nodiscard]] DramLocation decode(PhysAddr addr) const;
  // Inverse of decode(): the line address (offset bits zero) of a location.
  [[nodiscard]] PhysAddr encode(const DramLocation& loc) const;

  [[nodiscard]] const DramStats& stats() const { return stats_; }
  void visit(StatVisitor& v) const { stats_.visit(v); }
  [[nodiscard]] const DramConfig& config() const { return cfg_; }
  [[nodiscard]] const DramCoreTiming& core_timing() const { return ct_; }

 private:
  // Decoded location with flat indices into the state arrays.
  struct Target {
    uint32_t channel;
    uint32_t rank;   // flat: channel * ranks + rank
    uint32_t group;  // flat: rank * bank_groups + bank_group
    uint32_t bank;   // flat: group * banks_per_group + bank
    uint64_t row;
  };
  // Command times of one request, in core cycles.
  struct Plan {
    RowOutcome outcome;
    uint64_t pre;    // valid for kConflict
    uint64_t act;    // valid unless kHit
    uint64_t col;    // RD/WR command
    uint64_t first;  // first command issued
    uint64_t data_end;
  };
  static constexpr uint64_t kNoRow = ~uint64_t{0};
  struct BankState {
    uint64_t open_row = kNoRow;
    uint64_t act_ready = 0;  // earliest ACT (tRC, tRP, refresh end)
    uint64_t col_ready = 0;  // earliest RD/WR to the open row (tRCD)
    uint64_t pre_ready = 0;  // earliest PRE (tRAS, tRTP, tWR)
  };
  struct GroupState {
    uint64_t act_ready = 0;  // tRRD_L
    uint64_t col_ready = 0;  // tCCD_L
    uint64_t rd_ready = 0;   // tWTR_L
  };
  struct RankState {
    uint64_t act_ready = 0;          // tRRD_S
    uint64_t col_ready = 0;          // tCCD_S
    uint64_t rd_ready = 0;           // tWTR_S
    uint64_t faw[4] = {0, 0, 0, 0};  // ACT time + tFAW of the last four ACTs (ring)
    uint32_t faw_head = 0;           // oldest entry
    uint64_t next_refresh = 0;       // next refresh epoch not yet applied
  };
  struct ChannelState {
    uint64_t bus_free = 0;  // end of the last data burst
    uint64_t wr_ready = 0;  // earliest WR after the last RD (tRTW)
  };
  // Raw core-cycle copies of ct_ for the hot path.
  struct Raw {
    uint64_t cl, cwl, rcd, rp, ras, rc, ccd_s, ccd_l, rrd_s, rrd_l, faw, wr, wtr_s, wtr_l, rtp, rfc,
        refi, bl, rtw, ctrl;
  };

  // Inline into serve() and access(): they run once per request.
  [[nodiscard]] __attribute__((always_inline)) Target target_of(PhysAddr addr) const;
  [[nodiscard]] __attribute__((always_inline)) Plan plan(const Target& t, bool is_write,
                                                         uint64_t arrival) const;
  __attribute__((always_inline)) void commit(const Target& t, bool is_write, const Plan& p);
  // Plans with every refresh epoch that precedes the column command applied.
  __attribute__((always_inline)) Plan plan_with_refresh(const Target& t, bool is_write,
                                                        uint64_t arrival);
  void refresh_through(uint32_t rank, uint64_t until);
  __attribute__((always_inline)) Cycle serve(const Target& t, bool is_write, uint64_t arrival,
                                             uint64_t* first_cmd);
  void batch_channel(const DramRequest* reqs, size_t n, Cycle* done, uint32_t channel);

  DramConfig cfg_;
  DramCoreTiming ct_;
  Raw r_{};
  // Decode: for each field, shift and mask of its bits above the line offset.
  std::array<unsigned, kNumDramFields> shift_{};
  std::array<uint64_t, kNumDramFields> mask_{};
  uint32_t banks_per_rank_ = 0;

  std::vector<BankState> banks_;
  std::vector<GroupState> groups_;
  std::vector<RankState> ranks_;
  std::vector<ChannelState> channels_;
  DramStats stats_;

  // access_batch scratch (grows to the largest batch, then reused).
  std::vector<uint32_t> order_;
  std::vector<Target> targets_;
};

}  // namespace mmusim
