// The NVMe disk controller (SystemC module, e.g. "disk"): the kernel submits
// block requests through `target` (BlockIf) and hears of each completion
// through `irq` (BlockDoneIf) at the cycle its interrupt reaches the CPU.
// The controller owns its devices (DiskModels, driven by their protocol:
// submissions at t before takes at t) and moves the data through a DmaEngine
// (`dma` port, `dma_done` export; connect() binds both).
//
// One request (os-model.md §3.1; times in core cycles, each key rounded up
// on its own):
//   the device's submission queue has a free slot (at most queue_depth
//     requests in flight per device, else the request waits in a FIFO
//     software queue until an interrupt frees a slot; its doorbell is then
//     written at that interrupt's cycle);
//   fetched      = doorbell cycle + doorbell + fetch (+ prp_fetch if bytes > 8 KiB)
//   read:  device (arrival = fetched) -> device_done -> DMA to memory
//          (earliest = device_done) -> dma_done
//   write: DMA from memory (earliest = fetched) -> dma_done -> device
//          (arrival = dma_done) -> device_done
//   irq          = (read: dma_done, write: device_done) + cqe + msix
// At the interrupt the slot is freed (the software queue's head rings its
// doorbell then), and BlockDoneIf::complete(id, timeline) is called.
//
// The controller is an agent of the sync horizon with one SC_THREAD that
// sleeps until its next event (idle_wait / idle_wait_until); a submission or
// a DMA report from another thread lowers its horizon entry and wakes it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <systemc>
#include <unordered_map>
#include <vector>

#include "models/common/sc_sync.h"
#include "models/common/stats.h"
#include "models/common/sync_horizon.h"
#include "models/disk/block_if.h"
#include "models/disk/controller_config.h"
#include "models/disk/disk_model.h"
#include "models/disk/dma_engine.h"

namespace mmusim {

struct ControllerStats {
  uint64_t requests = 0, reads = 0, writes = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
  uint64_t sw_queued = 0;       // requests that found the submission queue full
  uint64_t sw_wait_cycles = 0;  // their waits for a slot, summed
  Histogram sq_occupancy;  // requests in flight on the device at each doorbell (itself included)
  Histogram latency;       // submitted -> irq
  // Timeline steps of completed requests, summed (cycles).
  uint64_t completed = 0;
  uint64_t fetch = 0;        // fetched - submitted (software queue, doorbell, SQE/PRP fetch)
  uint64_t device_wait = 0;  // device_start - arrival at the device
  uint64_t device = 0;       // device_done - device_start
  uint64_t dma_wait = 0;     // dma_start - ready for DMA (link busy with other transfers)
  uint64_t dma = 0;          // dma_done - dma_start
  uint64_t completion = 0;   // irq - last step (CQE write, MSI-X)
};

class DiskController : public sc_core::sc_module, public BlockIf, public DmaDoneIf {
 public:
  sc_core::sc_export<BlockIf> target;
  sc_core::sc_port<BlockDoneIf> irq;
  sc_core::sc_port<DmaIf> dma;
  sc_core::sc_export<DmaDoneIf> dma_done_export;

  SC_HAS_PROCESS(DiskController);
  // Validates `cfg` (InputError). `devices` is not empty; `dev_index` maps
  // BlockRequest::dev to an index into `devices` (unknown numbers go to
  // device 0; an index out of range throws std::invalid_argument). `clk`
  // and `horizon` outlive the module.
  DiskController(const sc_core::sc_module_name& name, const ControllerConfig& cfg,
                 std::vector<std::unique_ptr<DiskModel>> devices,
                 std::map<uint32_t, size_t> dev_index, SyncHorizon& horizon, const ClockPeriod& clk,
                 bool reference = false);

  [[nodiscard]] const char* kind() const override { return "DiskController"; }
  // Binds `dma` to the engine and the engine's `done` to this controller.
  void connect(DmaEngine& e);

  // BlockIf: called from a thread synchronized to r.at.
  void submit(const BlockRequest& r) override;
  // DmaDoneIf: called from the engine's thread synchronized to `finish`.
  void dma_done(uint64_t tag, Cycle start, Cycle finish) override;

  [[nodiscard]] size_t devices() const { return devs_.size(); }
  [[nodiscard]] const DiskModel& device(size_t i) const { return *devs_[i].model; }
  [[nodiscard]] const ControllerStats& stats() const { return stats_; }
  [[nodiscard]] const ControllerTiming& timing() const { return timing_; }
  // Bare names (the owner prefixes): requests, reads, writes, bytes_read,
  // bytes_written, sw_queued, sw_wait_cycles, sq_occupancy, latency and
  // mean_<step> for every timeline step.
  void visit(StatVisitor& v) const;

 private:
  enum class EvKind : uint8_t { kFetched = 0, kDmaDone = 1, kIrq = 2 };
  struct Ev {
    Cycle t;
    EvKind kind;
    uint64_t seq;
    uint64_t tag;
    friend bool operator>(const Ev& a, const Ev& b) {
      if (a.t != b.t) return a.t > b.t;
      if (a.kind != b.kind) return a.kind > b.kind;
      return a.seq > b.seq;
    }
  };
  struct Rec {
    BlockRequest r;
    BlockTimeline tl;
    size_t dev = 0;
    Cycle dev_arrival;  // handed to the device
    Cycle dma_ready;    // handed to the DMA engine
  };
  struct Dev {
    std::unique_ptr<DiskModel> model;
    uint32_t inflight = 0;         // submission queue slots taken
    std::deque<uint64_t> waiting;  // software queue (tags)
  };

  void run();
  [[nodiscard]] Cycle next_time() const;
  // Handles the events due at t (one kind per call); `ordered`: no other
  // agent can act at or before t.
  void process(Cycle t, bool ordered);
  void ring(uint64_t tag, Cycle t);
  void push(Cycle t, EvKind k, uint64_t tag);
  void on_fetched(uint64_t tag, Cycle t);
  void on_dma_done(uint64_t tag, Cycle t);
  void on_device_done(const DiskDone& d);
  void on_irq(uint64_t tag, Cycle t);
  void submit_to_device(Rec& rec, uint64_t tag, Cycle t);
  // Lowers the agent's horizon entry to t and wakes the thread by then.
  void schedule(Cycle t);

  ControllerConfig cfg_;
  ControllerTiming timing_;
  std::vector<Dev> devs_;
  std::map<uint32_t, size_t> dev_index_;
  SyncHorizon& horizon_;
  AgentSync sync_;
  sc_core::sc_event wake_;
  std::unordered_map<uint64_t, Rec> recs_;  // requests in flight, by tag
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> events_;
  uint64_t next_tag_ = 1, seq_ = 0;
  ControllerStats stats_;
};

}  // namespace mmusim
