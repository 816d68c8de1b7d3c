// The DRAM as a public SystemC module: a TLM-2.0 loosely-timed target that
// any number of initiators bind to (sockets are registered as they bind;
// nothing is sized by the CPU count), serving requests by arrival time.
//
// A request's arrival is SystemC time plus the annotated delay, or the cycle
// in the project's MemExtension. A request the extension marks in-order (its
// initiator knows no other can arrive at or before it: the sync horizon) is
// served at once. Any other request (a plain generic payload included) waits
// until its arrival; the requests that arrive in the same cycle are scheduled
// together (FR-FCFS or FCFS, dram.scheduler) in an SC_METHOD after the
// arrivals of that delta cycle, ties broken by (arrival, socket index). The
// completion comes back in the extension and as the annotated delay.
//
// An initiator takes part in time order through its agent in the sync
// horizon (sc_sync.h: AgentSync::before before each request). An initiator
// without an agent is served when it calls, and other agents may have run
// ahead of it (the usual loosely-timed approximation): dram.late_arrivals
// counts requests served after one that arrived later (0 when every
// initiator is an agent).
//
// Reads and writes move data when the module has a backing PhysMem (the
// functional memory): a plain TLM initiator then reads what the page tables
// hold. Statistics per initiator kind (walker, data, kernel, DMA, other):
// requests and latency (mean, p99).
#pragma once

#include <tlm_utils/multi_passthrough_target_socket.h>

#include <array>
#include <deque>
#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

#include "models/common/mem_port.h"
#include "models/common/phys_mem.h"
#include "models/common/sc_sync.h"
#include "models/common/stats.h"
#include "models/dram/dram.h"

namespace mmusim {

struct DramInitiatorStats {
  uint64_t requests = 0;
  Histogram latency;  // arrival to completion, core cycles
};

class DramModule : public sc_core::sc_module, public InOrderMemTarget {
 public:
  tlm_utils::multi_passthrough_target_socket<DramModule> socket;

  SC_HAS_PROCESS(DramModule);
  // `clk` must outlive the module. `backing`: functional contents for
  // initiators that move data (optional).
  DramModule(const sc_core::sc_module_name& name, const DramConfig& cfg, const ClockPeriod& clk,
             PhysMem* backing = nullptr);

  [[nodiscard]] const char* kind() const override { return "DramModule"; }
  [[nodiscard]] Dram& core() { return dram_; }
  [[nodiscard]] const Dram& core() const { return dram_; }
  // Counts refreshes up to `now` (call at the end of a run).
  void finish(Cycle now) { dram_.advance_to(now); }
  // "dram.*" (the core's) plus the scheduling groups and per-initiator
  // counters, under `prefix` (e.g. "top.").
  void visit(StatVisitor& v, const std::string& prefix) const;
  // b_transport()'s path for a request of a project initiator that arrives
  // in time order (MemExtension::ordered), without the payload.
  bool serve_in_order(PhysAddr line, bool is_write, Cycle arrival, Initiator who,
                      Cycle& done) override;
  [[nodiscard]] const DramInitiatorStats& initiator_stats(Initiator i) const {
    return by_initiator_[static_cast<size_t>(i)];
  }

 private:
  struct Pending {
    DramRequest req;
    uint32_t socket;
    uint32_t agent;  // the requesting agent (MemExtension::sync), 0 without one
    Initiator who;
    Cycle* done;              // where the completion goes
    sc_core::sc_event* wake;  // the waiting initiator's event
  };
  void b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void schedule();
  __attribute__((always_inline)) void account(Initiator who, Cycle arrival, Cycle done);
  void move_data(tlm::tlm_generic_payload& p);
  size_t take_event();

  Dram dram_;
  const ClockPeriod& clk_;
  PhysMem* backing_;
  uint64_t capacity_;
  std::deque<sc_core::sc_event> wake_;  // one per waiting request, reused
  std::vector<size_t> free_events_;
  sc_core::sc_event batch_event_;
  std::vector<Pending> pending_;
  std::vector<DramRequest> reqs_;
  std::vector<Cycle> done_;
  std::vector<size_t> order_;
  uint64_t batches_ = 0, batched_requests_ = 0, reordered_ = 0, late_arrivals_ = 0;
  Cycle latest_arrival_{0};
  std::array<DramInitiatorStats, kNumInitiators> by_initiator_{};
};

}  // namespace mmusim
