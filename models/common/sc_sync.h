// SystemC side of the timing rules (design.md §2): core-clock cycles <->
// SystemC time, and one agent's synchronization with the others through the
// sync horizon. An agent runs ahead of SystemC time on its own cycle stamps;
// before it acts on shared state at cycle t it calls before(t), which returns
// at once when t is before every other agent's next action (the action is
// then in time order without waiting) and otherwise waits until t.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <systemc>

#include "models/common/sync_horizon.h"
#include "models/common/types.h"

namespace mmusim {

// SystemC time is a 64-bit count of picoseconds: 2^64 ps is about 213
// simulated days. A run that would pass it ends with this error instead of
// wrapping (README, "Configuration bounds").
inline std::runtime_error time_limit_error() {
  return std::runtime_error(
      "simulated time would pass SystemC's limit of 2^64 ps (about 213 simulated days): the "
      "run is stopped, no results are written");
}

// Converts between core cycles and SystemC time (resolution 1 ps).
struct ClockPeriod {
  uint64_t ps = 1;
  // The core clock's period for `mhz`, rounded to the picosecond.
  static ClockPeriod of_mhz(uint64_t mhz) {
    const uint64_t p = (1000000ULL + mhz / 2) / mhz;
    return ClockPeriod{p == 0 ? 1 : p};
  }
  [[nodiscard]] Cycle now() const { return Cycle(sc_core::sc_time_stamp().value() / ps); }
  // The first cycle whose SystemC time does not fit in 64 bits.
  [[nodiscard]] Cycle limit() const { return Cycle(UINT64_MAX / ps); }
  // Throws time_limit_error() once `t` is at or past limit(). The CPUs call
  // it once per batch of records: a memory record adds fewer than 2^25
  // cycles and an OS event costs per item of simulated work, so a CPU's own
  // cycle count cannot wrap between two checks.
  void check(Cycle t) const {
    if (t >= limit()) throw time_limit_error();
  }
  // `c` cycles as a SystemC delay from now; throws time_limit_error() when
  // now + c would pass 2^64 ps.
  [[nodiscard]] sc_core::sc_time span(Cycles c) const {
    uint64_t d = 0;
    if (__builtin_mul_overflow(c.count(), ps, &d) ||
        d > UINT64_MAX - sc_core::sc_time_stamp().value()) {
      throw time_limit_error();
    }
    return sc_core::sc_time::from_value(d);
  }
  [[nodiscard]] Cycles cycles(const sc_core::sc_time& t) const { return Cycles(t.value() / ps); }
};

// One agent (a SystemC thread) and its entry in the sync horizon.
class AgentSync {
 public:
  // `reference`: wait before every shared action (the reference mode, whose
  // results the normal mode must reproduce exactly).
  AgentSync(SyncHorizon& h, const std::string& name, const ClockPeriod& clk, bool reference)
      : h_(h), id_(h.add(name)), clk_(clk), reference_(reference) {}
  // Before acting on shared state at `t`: true when the action is in time
  // order without waiting (no other agent can act at or before t); false
  // after waiting until t (others may act at t too: the shared target breaks
  // the tie).
  bool before(Cycle t) {
    if (!reference_ && t < h_.horizon(id_)) return true;
    wait_until(t);
    return false;
  }
  // Suspends until cycle t (no earlier than now); the horizon says this agent
  // will not act before t (nor before its floor, see set_floor()).
  void wait_until(Cycle t) {
    h_.set(id_, min(t, floor_));
    const Cycle now = clk_.now();
    if (t > now) sc_core::wait(clk_.span(t - now));
  }
  // Waits for `e`, which fires no earlier than `t` (an I/O completion, a
  // page unlock, a fill): the horizon holds t meanwhile, and says the agent
  // waits for another agent (SyncHorizon::event_wait).
  void wait_event(sc_core::sc_event& e, Cycle t) {
    h_.set(id_, min(t, floor_));
    h_.set_event_wait(id_, true);
    sc_core::wait(e);
    h_.set_event_wait(id_, false);
  }
  // Waits for `e` with nothing to do until another agent wakes it: no
  // horizon meanwhile (the waker's own horizon bounds everyone), then the
  // agent counts as acting from the wake-up time.
  void idle_wait(sc_core::sc_event& e) {
    h_.set(id_, SyncHorizon::kNever);
    sc_core::wait(e);
    h_.set(id_, clk_.now());
  }
  // idle_wait() that also ends at `t` (the agent will act then).
  void idle_wait_until(sc_core::sc_event& e, Cycle t) {
    h_.set(id_, t);
    const Cycle now = clk_.now();
    if (t > now) {
      sc_core::wait(clk_.span(t - now), e);
    } else {
      sc_core::wait(sc_core::SC_ZERO_TIME);
    }
    h_.set(id_, clk_.now());
  }
  // An idle agent is told it will act again at `t` (another agent made work
  // for it): the horizon holds t until it wakes.
  void expect(Cycle t) { h_.set(id_, t); }
  // True when another agent exists that may act at some time.
  [[nodiscard]] bool alone() const { return h_.horizon(id_) == SyncHorizon::kNever; }
  // The agent will not act again.
  void finish() { h_.set(id_, SyncHorizon::kNever); }
  [[nodiscard]] const ClockPeriod& clock() const { return clk_; }
  [[nodiscard]] SyncHorizon::Agent id() const { return id_; }
  [[nodiscard]] bool reference() const { return reference_; }
  // The horizon this agent is part of (a shared target watches it).
  [[nodiscard]] SyncHorizon& horizon() const { return h_; }
  // While one of its memory requests is in flight, the agent's next request
  // may issue as early as `t` (this one's issue: the next record, walk step
  // or line of a kernel loop comes no earlier), before the later steps of
  // this one it waits for (a miss passed on below, a prefetch, a victim's
  // writeback): wait_until() and wait_event() announce no later time than
  // `t`. kNever: no floor.
  void set_floor(Cycle t) { floor_ = t; }
  [[nodiscard]] Cycle floor() const { return floor_; }

 private:
  SyncHorizon& h_;
  SyncHorizon::Agent id_;
  const ClockPeriod& clk_;
  bool reference_;
  Cycle floor_ = SyncHorizon::kNever;
};

}  // namespace mmusim
