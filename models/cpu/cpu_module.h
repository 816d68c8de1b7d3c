// One CPU as a public SystemC module (top.cpuN) with its units as child
// modules: agu (address generator), seg (segmentation unit), tlb (TLB
// hierarchy and MSHRs) and walker (page walker, whose `mem` socket carries
// walk references). The CPU's thread pulls records from a RecordSource and
// runs them through CpuCore with plain calls on the units' cores; it calls
// into SystemC only at the sync horizon (design.md §2): before a shared
// action that another agent could reach first, and every `quantum` cycles
// when another agent exists. quantum = 0 is the reference mode: it waits
// before every access and every memory reference, and gives the same
// results.
//
// With caches (cache.enabled) the CPU owns its private levels as child
// modules, l1d, l2 and (with cache.data) l1i, chained L1D -> L2 -> below;
// page-walk references enter at cache.walker_entry. With cache.data the
// core's data accesses look the L1D (fetches the L1I) up by plain calls and
// only their misses become transactions (CacheModule::fetch_line). bind_memory() binds the
// lowest private level (or, without caches, `walker.mem` and `mem`) to the
// shared level below: the LLC or the DRAM.
//
// Ports: `mem` (the CPU's own data references: descriptor reads and
// writes), `fetch` (the L1I's, with cache.data), `walker.mem` (walks),
// `kernel` (page faults, to a KernelIf), and the `control` export through
// which the kernel shoots down this CPU's TLB entries. A shootdown sent at
// cycle T is taken after the first record that ends at or after the next
// multiple of cpu.ipi_period above T; the CPU synchronizes at every such
// boundary when another agent exists, so every shootdown sent before the
// boundary has arrived by then, whatever sim.quantum is. A kernel or DMA
// write by another agent that invalidates a line of this CPU's private
// caches (the LLC's snoop) is delivered the same way: due at the next
// multiple of cpu.ipi_period above the write's arrival, applied at that
// boundary (no interrupt cost: hardware snoops need no handler). With
// coherence between the CPUs' private caches (set_snoop_period()), every
// such action (another CPU's invalidation or downgrade, a kernel or DMA
// write) is due at the next multiple of cache.snoop_period instead, and the
// CPU synchronizes at those boundaries too.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <exception>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/kernel_if.h"
#include "models/common/mem_port.h"
#include "models/common/sc_sync.h"
#include "models/cpu/agu_module.h"
#include "models/cpu/cpu_core.h"
#include "models/cpu/record_source.h"
#include "models/seg/seg_module.h"
#include "models/tlb/tlb_module.h"
#include "models/walker/walker_module.h"

namespace mmusim {

struct CpuModuleConfig {
  CpuCoreConfig core;
  uint64_t quantum = 10000;    // cycles of run-ahead before a sync (0: reference mode)
  uint64_t ipi_period = 3000;  // interrupt delivery period (cpu.ipi_period)
  CacheConfig cache;           // the private levels (cache.enabled)
};

// Any TLM-2.0 target socket of the project's bus width.
using MemTargetSocket =
    tlm::tlm_base_target_socket_b<32, tlm::tlm_fw_transport_if<>, tlm::tlm_bw_transport_if<>>;

class CpuModule : public sc_core::sc_module,
                  private CpuCore::Env,
                  public CpuControlIf,
                  public SnoopInbox {
 public:
  AguModule agu;
  SegModule seg;
  TlbModule tlb;
  WalkerModule walker;
  tlm_utils::simple_initiator_socket<CpuModule> mem;
  // The instruction side's socket, bound to the L1I (only with cache.data:
  // null otherwise; the core's fetches reach the L1I by plain calls).
  std::unique_ptr<tlm_utils::simple_initiator_socket<CpuModule>> fetch;
  sc_core::sc_port<KernelIf> kernel;
  // The process model (traces with tasks): which task to run, OS events.
  sc_core::sc_port<TaskIf, 1, sc_core::SC_ZERO_OR_MORE_BOUND> tasks;
  sc_core::sc_export<CpuControlIf> control;
  // Private caches (null when absent).
  std::unique_ptr<CacheModule> l1d, l1i, l2;

  SC_HAS_PROCESS(CpuModule);
  // `explain_out` receives the explain blocks of the first `explain` steps.
  // `tables`: the descriptor tables of the address space (null: defaults).
  // Throws InputError when an initial segment register cannot be loaded.
  CpuModule(const sc_core::sc_module_name& name, uint32_t id, const CpuModuleConfig& cfg,
            PhysMem& phys, SyncHorizon& horizon, const ClockPeriod& clk, RecordSource& source,
            uint64_t explain = 0, ExplainLog* explain_out = nullptr,
            DescriptorTables* tables = nullptr);

  [[nodiscard]] const char* kind() const override { return "CpuModule"; }
  // Binds the CPU's memory path to `below` (the LLC or the DRAM): through
  // the private caches when there are any. `direct`: the target behind
  // `below` when it serves in-order requests by a plain call (the DRAM);
  // page-walk references that reach `below` directly then use it.
  // `below_cache`: the level whose `upper` is `below` (the LLC), if any.
  // The private levels pass their in-order requests to each other, to
  // `below_cache` and to `direct` by plain calls (CacheModule::serve_below).
  void bind_memory(MemTargetSocket& below, InOrderMemTarget* direct = nullptr,
                   CacheModule* below_cache = nullptr);
  // The private caches' cores, for the last level's snooping.
  [[nodiscard]] std::vector<Cache*> private_caches();
  // The CPU's agent (the owner of its private caches, for snooping).
  [[nodiscard]] const AgentSync& agent() const { return sync_; }
  // Another agent's write at `at` invalidates `line` in private cache `c`:
  // taken with the shootdowns, at the first interrupt boundary after `at`.
  void post_invalidation(Cache& c, uint64_t line, Cycle at, uint64_t* counter) override;
  // Another CPU's read at `at` makes `line` shared in `c`: taken the same way.
  void post_downgrade(Cache& c, uint64_t line, Cycle at, uint64_t* counter) override;
  // Coherence between CPUs: the snoop delivery period (cache.snoop_period;
  // 0: snoops are delivered on the interrupt boundaries). Call before the
  // simulation starts.
  void set_snoop_period(uint64_t p) {
    snoop_period_ = p;
    next_interrupt_ = next_boundary(Cycle(0));
  }
  [[nodiscard]] CpuCore& core() { return *core_; }
  [[nodiscard]] const CpuCore& core() const { return *core_; }
  // Runs tasks from `src` as `tasks` dispatches them, instead of the CPU's
  // own record stream (call before the simulation starts; bind `tasks`).
  void use_tasks(TaskRecordSource& src) { task_source_ = &src; }
  // True once the CPU's thread ended (false when it still waits idle after
  // the simulation stopped: every task left is blocked).
  [[nodiscard]] bool finished() const { return finished_; }
  // Ends a CPU left idle when the simulation stopped.
  void finish_idle();
  // The exception that stopped this CPU's thread, if any.
  [[nodiscard]] std::exception_ptr error() const { return error_; }
  // This CPU's statistics and its units', under its module name.
  void visit(StatVisitor& v) const;

  // CpuControlIf.
  void post_shootdown(const Shootdown& s) override;
  [[nodiscard]] uint32_t running_pid() const override { return core_->context().pid; }
  [[nodiscard]] Asid running_pcid() const override { return core_->context().pcid; }

 private:
  // CpuCore::Env.
  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    return request_.access(mem, sync_, a, is_write, at);
  }
  void sync(Cycle t) override { sync_.before(t); }
  Cycle data_miss(Cache& /*c*/, uint64_t line, const CacheResult& r, Cycle issued, bool fetch,
                  bool write, MemSource& served) override {
    static_assert(static_cast<unsigned>(Initiator::kData) == 1 &&
                  static_cast<unsigned>(Initiator::kInstruction) == 2);  // CpuCore::who_of
    // The CPU's next access may issue as early as this one, before this
    // miss (its prefetches and victim included) is done below.
    sync_.set_floor(issued);
    const Cycle done = fetch ? l1i->fetch_line(line, r, Initiator::kInstruction, sync_, served)
                             : l1d->fetch_line(line, r, Initiator::kData, sync_, served, write);
    sync_.set_floor(SyncHorizon::kNever);
    return done;
  }
  Cycle data_upgrade(uint64_t line, Cycle issued, Cycle at) override {
    sync_.set_floor(issued);
    const Cycle done = l1d->upgrade_line(line, at, Initiator::kData, sync_);
    sync_.set_floor(SyncHorizon::kNever);
    return done;
  }
  FaultOutcome fault(const FaultInfo& f) override {
    FaultOutcome o = kernel->fault(f, sync_);
    if (o.action == FaultOutcome::Action::kKill) {  // the task is gone; the access is dropped
      killed_ = true;
      o.action = FaultOutcome::Action::kSkip;
      core_->set_can_block(false);  // (until its next task: nothing of it may sleep)
    }
    return o;
  }
  void run();
  void run_records();
  void run_tasks();
  // Runs `cur` from its dispatch until it stops; returns when it does.
  void run_task(const TaskDispatch& d);
  // When a late fault put the task to sleep (CpuCore::late_blocked()):
  // drains the CPU, gives back `rest` (the records not run), then the
  // accesses to replay in front of them; true then.
  bool give_back_late(TaskId task, const TraceRecord* rest, size_t n);
  void forward_new_tasks(bool look, bool* exhausted);
  // After a record that ended at `t`: past an interrupt boundary, synchronize
  // (when another agent may have sent something) and take what is due.
  void take_interrupts(Cycle t, Cycle& synced) {
    if (t < next_interrupt_) return;
    interrupt_boundary(t, synced);
  }
  void interrupt_boundary(Cycle t, Cycle& synced);
  // The first cycle past the run-ahead bound of a CPU synchronized at
  // `synced` (synced + sim.quantum + 1, saturated).
  [[nodiscard]] Cycle run_ahead_end(Cycle synced) const {
    const uint64_t s = synced.count();
    return Cycle(quantum_ >= ~uint64_t{0} - s ? ~uint64_t{0} : s + quantum_ + 1);
  }

  CacheEntry walker_entry_ = CacheEntry::kL1d;
  AgentSync sync_;
  RecordSource& source_;
  uint64_t quantum_;
  uint64_t ipi_period_;
  uint64_t snoop_period_ = 0;  // set_snoop_period()
  Cycle next_interrupt_;       // the first interrupt (or snoop) boundary not yet passed
  // The first boundary above `t`: a multiple of the interrupt period, or of
  // the snoop period when there is one.
  [[nodiscard]] Cycle next_boundary(Cycle t) const {
    const Cycle i = multiple_above(t, ipi_period_);
    return snoop_period_ == 0 ? i : min(i, multiple_above(t, snoop_period_));
  }
  // When a snoop posted for `at` is due.
  [[nodiscard]] Cycle snoop_due(Cycle at) const {
    return multiple_above(at, snoop_period_ != 0 ? snoop_period_ : ipi_period_);
  }
  // The first multiple of `p` above `t`.
  static Cycle multiple_above(Cycle t, uint64_t p) { return Cycle((t.count() / p + 1) * p); }
  // Invalidations of the private caches posted by other agents' writes.
  struct SnoopInvalidation {
    Cache* cache;
    uint64_t line;
    Cycle due;
    uint64_t* counter;
    bool downgrade;  // to shared, not invalidated
  };
  std::vector<SnoopInvalidation> snoops_;
  TimedMemRequest request_;
  std::unique_ptr<CpuCore> core_;
  bool killed_ = false;
  static constexpr size_t kRecordBatch = 1024;
  // run_task()'s record buffer (not a local: it would be value-initialized,
  // 16 KiB, on every dispatch).
  std::unique_ptr<TraceRecord[]> batch_ = std::make_unique<TraceRecord[]>(kRecordBatch);
  bool finished_ = false;
  TaskRecordSource* task_source_ = nullptr;
  std::vector<TaskId> found_;
  Cycle synced_;
  std::exception_ptr error_;
};

}  // namespace mmusim
