#include "models/dram/dram_module.h"

#include <algorithm>
#include <cstring>

namespace mmusim {

DramModule::DramModule(const sc_core::sc_module_name& name, const DramConfig& cfg,
                       const ClockPeriod& clk, PhysMem* backing)
    : sc_module(name),
      socket("socket"),
      dram_(cfg),
      clk_(clk),
      backing_(backing),
      capacity_(cfg.capacity_bytes()) {
  socket.register_b_transport(this, &DramModule::b_transport);
  SC_METHOD(schedule);
  sensitive << batch_event_;
  dont_initialize();
}

size_t DramModule::take_event() {
  if (free_events_.empty()) {
    wake_.emplace_back();
    return wake_.size() - 1;
  }
  const size_t e = free_events_.back();
  free_events_.pop_back();
  return e;
}

inline void DramModule::account(Initiator who, Cycle arrival, Cycle done) {
  if (arrival < latest_arrival_) ++late_arrivals_;
  latest_arrival_ = max(latest_arrival_, arrival);
  DramInitiatorStats& s = by_initiator_[static_cast<size_t>(who)];
  ++s.requests;
  s.latency.add((done - arrival).count());
}

void DramModule::move_data(tlm::tlm_generic_payload& p) { move_payload_data(backing_, p); }

bool DramModule::serve_in_order(PhysAddr line, bool is_write, Cycle arrival, Initiator who,
                                Cycle& done) {
  if (line.value() >= capacity_ || line.value() + 8 > capacity_) return false;
  done = dram_.access(line, is_write, arrival);
  ++batches_;
  ++batched_requests_;
  account(who, arrival, done);
  return true;
}

void DramModule::b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  if (p.get_address() >= capacity_ ||
      p.get_address() + std::max(1U, p.get_data_length()) > capacity_) {
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (p.get_command() == tlm::TLM_IGNORE_COMMAND) {
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  MemExtension* x = nullptr;
  p.get_extension(x);
  const Cycle arrival = x != nullptr ? x->arrival : clk_.now() + clk_.cycles(delay);
  const Initiator who = x != nullptr ? x->who : Initiator::kOther;
  const PhysAddr line(p.get_address());
  Cycle done;
  if (x != nullptr && x->ordered) {
    // The initiator guarantees time order: a batch of one, served at once.
    done = dram_.access(line, p.is_write(), arrival);
    ++batches_;
    ++batched_requests_;
  } else {
    // Wait for the arrival, then join that cycle's batch.
    const Cycle now = clk_.now();
    if (arrival > now) sc_core::wait(clk_.span(arrival - now));
    if (pending_.empty()) batch_event_.notify(sc_core::SC_ZERO_TIME);
    const size_t ev = take_event();  // one per waiting request
    const uint32_t agent = x != nullptr && x->sync != nullptr ? x->sync->id() : 0;
    pending_.push_back(Pending{DramRequest{line, p.is_write(), arrival}, static_cast<uint32_t>(id),
                               agent, who, &done, &wake_[ev]});
    sc_core::wait(wake_[ev]);
    free_events_.push_back(ev);
  }
  account(who, arrival, done);
  // The project's initiators keep functional contents in PhysMem themselves
  // (timing-only requests); a plain initiator's data moves here.
  if (x == nullptr) move_data(p);
  if (x != nullptr) {
    x->done = done;  // the project's initiators read the completion here
    if (x->ordered) {
      p.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
  }
  const Cycle t = clk_.now();
  delay = done > t ? clk_.span(done - t) : sc_core::SC_ZERO_TIME;
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

void DramModule::schedule() {
  // Arrival order, ties by socket index and then by the requesting agent (the
  // kernel's requests for faults on two CPUs share its socket, and an LLC
  // passes every CPU's misses through one): the order in which SystemC
  // happened to run the initiators never matters. One agent's requests keep
  // their program order.
  order_.resize(pending_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::stable_sort(order_.begin(), order_.end(), [this](size_t a, size_t b) {
    const Pending& x = pending_[a];
    const Pending& y = pending_[b];
    if (x.req.arrival != y.req.arrival) return x.req.arrival < y.req.arrival;
    return x.socket != y.socket ? x.socket < y.socket : x.agent < y.agent;
  });
  reqs_.clear();
  for (size_t i : order_) reqs_.push_back(pending_[i].req);
  done_.assign(reqs_.size(), Cycle(0));
  dram_.access_batch(reqs_.data(), reqs_.size(), done_.data());
  ++batches_;
  batched_requests_ += reqs_.size();
  for (size_t i = 0; i + 1 < done_.size(); ++i) {
    if (done_[i + 1] < done_[i]) ++reordered_;  // a younger request finished first
  }
  for (size_t k = 0; k < order_.size(); ++k) {
    const Pending& q = pending_[order_[k]];
    *q.done = done_[k];
    q.wake->notify(sc_core::SC_ZERO_TIME);
  }
  pending_.clear();
}

void DramModule::visit(StatVisitor& v, const std::string& prefix) const {
  PrefixedVisitor pv(v, prefix);
  dram_.visit(pv);
  pv.counter("dram.batches", "batches",
             "groups of requests scheduled together (an in-order request is a group of one)",
             batches_);
  pv.counter("dram.batched_requests", "requests", "requests scheduled in those groups",
             batched_requests_);
  pv.counter("dram.reordered", "requests",
             "requests that FR-FCFS completed before an older one of their group", reordered_);
  pv.counter("dram.late_arrivals", "requests",
             "requests served after a request that arrived later (an initiator outside the sync "
             "horizon that others ran ahead of); 0 when every initiator is an agent",
             late_arrivals_);
  uint64_t total = 0;
  for (const DramInitiatorStats& s : by_initiator_) total += s.requests;
  for (int i = 0; i < kNumInitiators; ++i) {
    const DramInitiatorStats& s = by_initiator_[static_cast<size_t>(i)];
    // Prefetches only where a cache prefetches.
    if (static_cast<Initiator>(i) == Initiator::kPrefetch && s.requests == 0) continue;
    const std::string base =
        "dram.initiator." + std::string(initiator_name(static_cast<Initiator>(i)));
    pv.counter(base + ".requests", "requests", "requests from this kind of initiator", s.requests);
    pv.histogram(base + ".latency", "cycles",
                 "arrival to completion of this kind of initiator's requests", s.latency);
    if (s.requests > 0) {
      // Every request moves one line: the share of requests is the share of
      // the bytes the DRAM moved.
      pv.real(base + ".share", "fraction",
              "this kind of initiator's share of the DRAM's requests (and bytes)",
              static_cast<double>(s.requests) / static_cast<double>(total));
    }
  }
}

}  // namespace mmusim
