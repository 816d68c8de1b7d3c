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
  // has retired, and within the issue width of the current cycle. When that
  // access still waits on a walk (see resolve), the caller runs the walk
  // first: blocking_seq() names the access whose retire time is read.
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
  // The access last issued completes its translation at `done`, or, when it
  // waits on a pending walk, no earlier than `done` (resolve() adds the rest).
  void complete(Cycle done) {
    last_retire_ = max(done, last_retire_);
    retire_[slot_] = last_retire_;
    if (++slot_ == retire_.size()) slot_ = 0;
    ++seq_;
  }
  // A walk that access `seq` waited on completed at `done`: in-order
  // retirement makes it and every younger access retire no earlier. Only the
  // accesses still in the window are kept; older ones have been read already
  // (the caller resolves them before blocking_seq() passes them).
  void resolve(uint64_t seq, Cycle done) {
    const size_t n = retire_.size();
    if (seq + n < seq_) seq = seq_ - n;
    size_t i = static_cast<size_t>(seq % n);
    for (uint64_t s = seq; s < seq_; ++s) {
      if (retire_[i] >= done) break;  // retire times never decrease along the window
      retire_[i] = done;
      if (++i == n) i = 0;
    }
    last_retire_ = max(last_retire_, done);
  }
  // Number of accesses issued so far: the sequence number of the next one.
  [[nodiscard]] uint64_t issued() const { return seq_; }
  // The access whose retirement the next issue() waits for (none while fewer
  // than `window` accesses have issued: returns UINT64_MAX then).
  [[nodiscard]] uint64_t blocking_seq() const {
    return seq_ >= retire_.size() ? seq_ - retire_.size() : ~uint64_t{0};
  }
  // Drains the window (a fault is precise: older accesses retire first) and
  // returns the cycle by which everything issued so far has retired. Valid
  // only when no access waits on a pending walk.
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
  size_t slot_ = 0;            // == seq_ % window
  uint32_t issued_ = 0;        // accesses issued in cycle next_issue_
  uint64_t seq_ = 0;           // accesses issued (and completed) so far
  Cycle next_issue_{0};
  Cycle last_retire_{0};
};

}  // namespace mmusim
