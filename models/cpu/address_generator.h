// The address generator's timing core: issues accesses in trace order, up to
// `issue_width` per cycle, with at most `window` accesses outstanding. An
// access occupies its window slot from issue until it retires; retirement is
// in order, so a younger access that hits may complete while an older one
// waits on a walk, but cannot retire before it (memory-level parallelism up to
// the window). Plain arithmetic on cycle stamps; no allocation per access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "models/common/types.h"
#include "models/cpu/cpu_config.h"

namespace mmusim {

class AddressGenerator {
 public:
  explicit AddressGenerator(const AddressGeneratorConfig& c)
      : width_(c.issue_width), retire_(c.window, Cycle(0)) {
    floors_.reserve(64);
  }

  // Cycle at which the next access issues: after the access `window` older
  // has retired, and within the issue width of the current cycle. When that
  // access still waits on a walk (see resolve), the caller runs the walk
  // first: blocking_seq() names the access whose retire time is read.
  Cycle issue() {
    if (seq_ >= floor_at_) apply_floors();
    Cycle t = max(max(next_issue_, retire_[slot_]), applied_);
    if (t > next_issue_) issued_ = 0;
    if (++issued_ == width_) {
      next_issue_ = t + Cycles(1);
      issued_ = 0;
    } else {
      next_issue_ = t;
    }
    return t;
  }
  // A run of accesses that each issue and complete at once (TLB hits with a
  // known latency), with the generator's state in locals: the compiler keeps
  // them in registers, where the members would be reloaded after every store
  // to the ring. begin_run(), then run_hit() per access, then end_run()
  // before any other call.
  struct Run {
    Cycle* ring;
    size_t window, slot;
    uint64_t seq, floor_at;
    uint32_t width, issued;
    Cycle next_issue, last_retire, applied;
  };
  [[nodiscard]] Run begin_run() {
    return Run{retire_.data(), retire_.size(), slot_,       seq_,         floor_at_,
               width_,         issued_,        next_issue_, last_retire_, applied_};
  }
  void end_run(const Run& r) {
    slot_ = r.slot;
    seq_ = r.seq;
    issued_ = r.issued;
    next_issue_ = r.next_issue;
    last_retire_ = r.last_retire;
  }
  // The issue cycle of the next access of `r` (run_hit() returns it);
  // changes nothing.
  static Cycle run_peek(const Run& r) { return max(max(r.next_issue, r.ring[r.slot]), r.applied); }
  // issue() and complete(issue + lat) in `r`; returns the issue cycle.
  // Precondition: r.seq < r.floor_at (else end the run: issue() applies
  // the floor).
  static Cycle run_hit(Run& r, Cycles lat) {
    const Cycle t = run_issue(r);
    run_complete(r, t + lat);
    return t;
  }
  // run_hit() in two halves, for an access whose completion depends on its
  // issue cycle (the data side): run_issue() returns the issue cycle, then
  // run_complete(r, done) completes it at `done` (same precondition).
  static Cycle run_issue(Run& r) {
    const Cycle t = max(max(r.next_issue, r.ring[r.slot]), r.applied);
    if (t > r.next_issue) r.issued = 0;
    if (++r.issued == r.width) {
      r.next_issue = t + Cycles(1);
      r.issued = 0;
    } else {
      r.next_issue = t;
    }
    return t;
  }
  static void run_complete(Run& r, Cycle done) {
    r.last_retire = max(done, r.last_retire);
    r.ring[r.slot] = r.last_retire;
    if (++r.slot == r.window) r.slot = 0;
    ++r.seq;
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
  // retirement makes it and every younger access retire no earlier. The
  // younger accesses already in the window are not rewritten: the floor is
  // kept (sorted by seq) and applied when issue() reads their retire time.
  // Callers resolve an access before blocking_seq() passes it.
  void resolve(uint64_t seq, Cycle done) {
    last_retire_ = max(last_retire_, done);
    if (done <= applied_) return;
    if (seq + retire_.size() <= seq_) {  // already read: everything younger waits
      applied_ = done;
      return;
    }
    if (floor_head_ == floors_.size()) {
      floors_.clear();
      floor_head_ = 0;
    } else if (floor_head_ >= 32 && 2 * floor_head_ >= floors_.size()) {
      floors_.erase(floors_.begin(), floors_.begin() + static_cast<std::ptrdiff_t>(floor_head_));
      floor_head_ = 0;
    }
    size_t i = floors_.size();
    floors_.push_back(Floor{seq, done});
    while (i > floor_head_ && floors_[i - 1].seq > seq) {  // walks complete mostly in order
      std::swap(floors_[i - 1], floors_[i]);
      --i;
    }
    floor_at_ = floors_[floor_head_].seq + retire_.size();
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
  struct Floor {
    uint64_t seq;
    Cycle done;
  };
  // The retire floor of the access issue() reads (seq_ - window): every
  // floor of an access at or before it applies, and stays applied (retire
  // times only grow along the window).
  __attribute__((noinline)) void apply_floors() {
    const uint64_t read = seq_ - retire_.size();
    while (floor_head_ < floors_.size() && floors_[floor_head_].seq <= read) {
      applied_ = max(applied_, floors_[floor_head_].done);
      ++floor_head_;
    }
    floor_at_ =
        floor_head_ == floors_.size() ? ~uint64_t{0} : floors_[floor_head_].seq + retire_.size();
  }

  uint32_t width_;
  std::vector<Cycle> retire_;  // ring: retire cycle of the access `window` ago
  size_t slot_ = 0;            // == seq_ % window
  uint32_t issued_ = 0;        // accesses issued in cycle next_issue_
  uint64_t seq_ = 0;           // accesses issued (and completed) so far
  Cycle next_issue_{0};
  Cycle last_retire_{0};
  std::vector<Floor> floors_;  // floors not yet applied from floor_head_ on, by seq
  size_t floor_head_ = 0;
  uint64_t floor_at_ = ~uint64_t{0};  // seq_ from which issue() applies the first floor
  Cycle applied_{0};                  // the largest floor applied so far
};

}  // namespace mmusim
