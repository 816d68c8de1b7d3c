// The DMA engine (SystemC module): one PCIe link between a storage device
// and the host, and the root complex that turns the link's TLPs into 64-byte
// line requests to DRAM. Transfers queue for the link in the order they are
// started (FIFO) and use it one after the other; the engine is an agent of
// the sync horizon and issues every line at its cycle through its `mem`
// socket (TimedMemRequest, Initiator::kDma), in time order with CPUs and
// walkers.
//
// Link: R = lanes * lane_rate_mbps (10^6 bytes/s). A TLP of p payload bytes
// occupies the link for (p + tlp_overhead) * f / R core cycles (f: core clock
// in MHz), kept exact (a fraction of a cycle carries over to the next TLP);
// a TLP has arrived at the first whole cycle at or after its last byte. TLPs
// never cross a 4 KiB page (the frames of a transfer need not be contiguous).
//
// Device -> memory (to_memory, a disk read): posted write TLPs of up to MPS
// bytes, back to back from max(earliest, link free); the p/64 line writes of
// a TLP reach DRAM in the cycle the TLP has arrived. 4 KiB at the defaults:
// 16 TLPs of 256 B, 16 * 284 B / 3.94 GB/s = 1.153 µs (1.040 µs with
// tlp_overhead 0), 64 line writes.
//
// Memory -> device (a disk write): the device reads host memory in requests
// of up to MRRS bytes (within a page). The first request reaches the root
// complex when the transfer gets the link; each later request when the
// completions of the one before start to flow (one request ahead: the
// device asks for the next chunk while the previous one streams). The
// request's lines are read from DRAM at once; its data returns as
// completion TLPs of up to MPS bytes, each leaving when its lines are read
// and the link is free. The small request TLPs travel the other direction of
// the (full-duplex) link and cost nothing here; completions and posted
// writes share the one modelled direction (conservative when reads and
// writes overlap).
//
// A transfer finishes when the last TLP has crossed the link and the last
// line's DRAM request has completed; the engine then reports it through
// `done`, from its thread, synchronized (sync horizon) to that cycle.
// Transfers without frames move no lines (link time only); bytes past the
// last frame likewise.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <deque>
#include <systemc>
#include <vector>

#include "models/common/mem_port.h"
#include "models/common/sc_sync.h"
#include "models/common/stats.h"
#include "models/common/sync_horizon.h"
#include "models/common/types.h"
#include "models/disk/controller_config.h"
#include "models/disk/disk_model.h"

namespace mmusim {

struct DmaTransfer {
  uint64_t id = 0;          // the starter's tag, returned with the report
  std::vector<Pfn> frames;  // host pages, in order (4 KiB each)
  uint64_t bytes = 0;       // bytes moved, from offset 0 of frames[0]
  bool to_memory = true;    // true: device -> DRAM writes; false: DRAM -> device reads
  Cycle earliest;           // the data may not move before this cycle
};

// Starting transfers (the controller's side of the engine).
class DmaIf : public virtual sc_core::sc_interface {
 public:
  // Queues `t` for the link; called at a synchronized time no later than
  // t.earliest.
  virtual void start(const DmaTransfer& t) = 0;
  // A lower bound of the cycle of the engine's next report (kNeverCycle
  // when it has nothing in flight).
  [[nodiscard]] virtual Cycle earliest_report() const = 0;
};

// Finished transfers (the engine's caller side).
class DmaDoneIf : public virtual sc_core::sc_interface {
 public:
  // Transfer `id` got the link at `start` and finished at `finish`, the
  // caller's current (synchronized) cycle.
  virtual void dma_done(uint64_t id, Cycle start, Cycle finish) = 0;
};

struct DmaStats {
  uint64_t transfers = 0, to_memory = 0, from_memory = 0;
  uint64_t lines_written = 0, lines_read = 0;  // DRAM requests
  uint64_t bytes = 0;                          // payload moved over the link
  uint64_t tlps = 0;                           // write and completion TLPs
  uint64_t link_busy_cycles = 0;               // whole cycles of TLP time, summed
  Cycle last_busy;                             // end of the last TLP (whole cycle)
};

class DmaEngine : public sc_core::sc_module, public DmaIf {
 public:
  tlm_utils::simple_initiator_socket<DmaEngine> mem;
  sc_core::sc_export<DmaIf> target;
  sc_core::sc_port<DmaDoneIf> done;

  SC_HAS_PROCESS(DmaEngine);
  // Validates `cfg` (InputError); uses cfg.pcie at cfg.core_clock_mhz.
  // `clk` and `horizon` must outlive the module; `reference`: the agent
  // synchronizes before every action (AgentSync).
  DmaEngine(const sc_core::sc_module_name& name, const ControllerConfig& cfg, SyncHorizon& horizon,
            const ClockPeriod& clk, bool reference = false);

  [[nodiscard]] const char* kind() const override { return "DmaEngine"; }

  // DmaIf.
  void start(const DmaTransfer& t) override;
  [[nodiscard]] Cycle earliest_report() const override;

  // `mem` is bound to `t` itself (no cache in between): a line that arrives
  // in time order is served by a plain call on `t`, as the socket would
  // serve it.
  void serve_directly(InOrderMemTarget* t) { request_.serve_directly(t); }

  // R = lanes * lane_rate_mbps (10^6 bytes/s).
  [[nodiscard]] uint64_t link_rate_mbps() const { return rate_; }
  [[nodiscard]] const DmaStats& stats() const { return stats_; }
  // Bare names (the owner prefixes): transfers, lines_written, lines_read,
  // bytes, tlps, link_busy_cycles, link_utilisation (busy / end of the last TLP).
  void visit(StatVisitor& v) const;

 private:
  // A point on the link's time line: cycle + frac / rate_ (frac < rate_).
  struct LinkTime {
    Cycle cycle;
    uint64_t frac = 0;
    [[nodiscard]] Cycle ceil() const { return frac != 0 ? cycle + Cycles(1) : cycle; }
  };
  struct Job {
    DmaTransfer t;
    bool begun = false;
    uint64_t pos = 0;  // bytes done
    Cycle start;       // the transfer got the link
    Cycle max_done;    // latest line completion so far
    Cycle next_req;    // from memory: when the next read request reaches the root complex
  };
  struct Report {
    Cycle finish;
    uint64_t seq;
    uint64_t id;
    Cycle start;
  };

  static bool report_after(const Report& a, const Report& b);  // heap order
  void run();
  // The cycle of the head job's next step (kNeverCycle when none).
  [[nodiscard]] Cycle next_step() const;
  void step();
  void step_to_memory(Job& j);
  void step_from_memory(Job& j);
  [[nodiscard]] static LinkTime later(LinkTime a, Cycle c);
  // `from` plus the link time of a TLP of `payload` bytes.
  [[nodiscard]] LinkTime after(LinkTime from, uint64_t payload) const;
  // Occupies the link for one TLP of `payload` bytes from `from`; returns its end.
  LinkTime send(LinkTime from, uint64_t payload);
  // The line address of byte `pos` of the job, or false when it has no frame.
  static bool line_of(const Job& j, uint64_t pos, PhysAddr* out);
  void finish_job(Job& j, Cycle finish);
  // Lowers the agent's horizon entry to t (never raises it).
  void expect(Cycle t);

  PcieParams p_;
  uint64_t mhz_;
  uint64_t rate_;  // lanes * lane_rate_mbps
  SyncHorizon& horizon_;
  AgentSync sync_;
  TimedMemRequest request_;
  sc_core::sc_event wake_;
  std::deque<Job> jobs_;
  std::vector<Report> reports_;  // min-heap by (finish, seq)
  uint64_t seq_ = 0;
  LinkTime link_;  // the link is free from here
  uint64_t busy_frac_ = 0;
  DmaStats stats_;
};

}  // namespace mmusim
