// The address generator's timing core: issues accesses in trace order, up to
// `issue_width` per cycle, with at most `window` accesses outstanding. An
// access occupies its window slot from issue until it retires; retirement is
// in order, so a younger access that hits may complete while an older one
// waits on a walk, but cannot retire before it (memory-level parallelism up to
// the window). Plain arithmetic on cycle stamps; no allocation per access.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/types.h"
#include "models/cpu/cpu_config.h"

namespace mmusim {

class AddressGenerator {
 public:
  explicit AddressGenerator(const AddressGeneratorConfig& c)
      : width_(c.issue_width), retire_(c.window, Cycle(0)) {}

  // Cycle at which the next access issues: after the access `window` older
  // has retired, and within the issue width of the current cycle.
  Cycle issue() {
    Cycle t = max(next_issue_, retire_[slot_]);
    if (t > next_issue_) issued_ = 0;
    if (++issued_ == width_) {
      next_issue_ = t + Cycles(1);
      issued_ = 0;
    } else {
      next_issue_ = t;
    }
    return t;
  }
  // The access last issued completes its translation at `done`.
  void complete(Cycle done) {
    last_retire_ = max(done, last_retire_);
    retire_[slot_] = last_retire_;
    if (++slot_ == retire_.size()) slot_ = 0;
  }
  // Drains the window (a fault is precise: older accesses retire first) and
  // returns the cycle by which everything issued so far has retired.
  [[nodiscard]] Cycle drained() const { return last_retire_; }
  // After a fault handler returns at `t`, issue resumes no earlier than `t`.
  void resume_at(Cycle t) {
    if (t > next_issue_) {
      next_issue_ = t;
      issued_ = 0;
    }
    if (t > last_retire_) last_retire_ = t;
  }
  [[nodiscard]] Cycle next_issue() const { return next_issue_; }

 private:
  uint32_t width_;
  std::vector<Cycle> retire_;  // ring: retire cycle of the access `window` ago
  size_t slot_ = 0;
  uint32_t issued_ = 0;  // accesses issued in cycle next_issue_
  Cycle next_issue_{0};
  Cycle last_retire_{0};
};

}  // namespace mmusim
