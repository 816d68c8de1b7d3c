// The sync horizon (design.md §2 rule 8): every agent that may act on shared
// state (a CPU, the kernel's background threads, a DMA engine, a foreign TLM
// initiator) records the earliest cycle at which it may next act. An agent
// about to act at cycle t may do so without synchronizing when t is before
// every other agent's next action; otherwise it waits in SystemC until t.
// With one agent the horizon is infinite and nothing ever waits.
//
// Plain C++: agents update their entry before they suspend (a SystemC wait),
// and read the others' entries while they run (the others are suspended then,
// so their entries hold). O(1) queries, O(agents) updates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

// Told when an agent's next action moves later (a target that holds a
// request until no other agent can arrive before it re-checks then).
class HorizonWatcher {
 public:
  virtual void horizon_moved() = 0;

 protected:
  HorizonWatcher() = default;
  ~HorizonWatcher() = default;
  HorizonWatcher(const HorizonWatcher&) = default;
  HorizonWatcher& operator=(const HorizonWatcher&) = default;
};

class SyncHorizon {
 public:
  using Agent = uint32_t;
  static constexpr Cycle kNever{~uint64_t{0}};

  // Registers an agent whose next action may come at `next`; returns its id.
  Agent add(std::string name, Cycle next = Cycle(0)) {
    names_.push_back(std::move(name));
    next_.push_back(next);
    event_wait_.push_back(0);
    recompute();
    return static_cast<Agent>(next_.size() - 1);
  }
  // Agent `a` may next act at `next` (kNever: it will not act again).
  void set(Agent a, Cycle next) {
    if (next_[a] == next) return;
    const bool later = next > next_[a];
    next_[a] = next;
    recompute();
    if (later) {
      for (HorizonWatcher* w : watchers_) w->horizon_moved();
    }
  }
  // Agent `a` waits for an event another agent causes (an I/O completion, a
  // page unlock, a fill): it acts again no earlier than it is woken.
  void set_event_wait(Agent a, bool on) { event_wait_[a] = on ? 1 : 0; }
  [[nodiscard]] bool event_wait(Agent a) const { return event_wait_[a] != 0; }
  // `w` is told whenever an agent's next action moves later.
  void watch(HorizonWatcher* w) { watchers_.push_back(w); }
  // The earliest next action of every agent but `self` (kNever when alone).
  [[nodiscard]] Cycle horizon(Agent self) const { return self == first_ ? second_min_ : min_; }
  [[nodiscard]] Cycle next(Agent a) const { return next_[a]; }
  [[nodiscard]] size_t agents() const { return next_.size(); }
  [[nodiscard]] const std::string& name(Agent a) const { return names_[a]; }

 private:
  void recompute() {
    min_ = second_min_ = kNever;
    first_ = ~Agent{0};
    for (size_t i = 0; i < next_.size(); ++i) {
      if (next_[i] < min_) {
        second_min_ = min_;
        min_ = next_[i];
        first_ = static_cast<Agent>(i);
      } else if (next_[i] < second_min_) {
        second_min_ = next_[i];
      }
    }
  }
  std::vector<Cycle> next_;
  std::vector<std::string> names_;
  std::vector<uint8_t> event_wait_;
  std::vector<HorizonWatcher*> watchers_;
  Cycle min_ = kNever, second_min_ = kNever;
  Agent first_ = ~Agent{0};  // the agent holding min_ (ties: the lowest id)
};

}  // namespace mmusim
