// Translation and fault stall of one CPU: the cycles during which the oldest
// unretired access (the head of the window) was waiting for its translation,
// or for a fault of it to be handled. Plain arithmetic on cycle stamps.
//
// Access i is the head from R(i-1), the retire cycle of the access before it
// (in-order retirement), until it retires. It waits for its translation from
// W(i), the end of its L1 TLB lookup (an L1 TLB hit never stalls: the lookup
// overlaps the data access), until D(i), when its physical address is known;
// fault handling (raise to resumption, while it is the head: a fault is
// precise) lies inside that span and is counted apart. So
//   fault stall       += F(i)
//   translation stall += max(0, D(i) - max(W(i), R(i-1))) - F(i)
// The head intervals of different accesses are disjoint: both sums are
// unions, never more than the CPU's cycles. R(i) is D(i) when the trace's
// data bypasses the caches, and the cycle its data is there with cache.data
// (never before R(i-1): retirement is in order), so a younger access's walk
// that overlaps an older access's data miss is not a translation stall.
// R(i-1) is known only once every older access has its D: an access whose D
// is known while an older one is pending waits here (in issue order) until
// they are settled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

class TranslationStall {
 public:
  // `translation` and `fault` receive the stall cycles (CPU statistics).
  TranslationStall(uint64_t& translation, uint64_t& fault, size_t capacity)
      : translation_(translation), fault_(fault) {
    q_.reserve(capacity);
  }

  // Accesses held: pending ones and those queued behind them.
  [[nodiscard]] size_t held() const { return q_.size() - head_; }
  // Entries in the queue's storage (settled ones not yet dropped included).
  [[nodiscard]] size_t stored() const { return q_.size(); }
  // No access has an unknown D: settle() may be used.
  [[nodiscard]] bool empty() const { return head_ == q_.size(); }
  // Access `seq` (issue order) whose D is not known yet; `retired` is the
  // retire cycle of every older access whose D is known (R(i-1) when none
  // is pending), `wait` is W(i).
  void open(uint64_t seq, Cycle retired, Cycle wait) {
    // Field by field (as CpuCore::process_merges fills a waiter): no
    // temporary whose 8-byte stores are reloaded in 16-byte pieces.
    Entry& e = q_.emplace_back();
    e.seq = seq;
    e.retired = retired;
    e.wait = wait;
    e.done = kPending;
  }
  // Access `seq`, opened before, has its physical address at `done` after
  // `fault` cycles of fault handling, and retires at `retire` (its data).
  void close(uint64_t seq, Cycle done, Cycles fault, Cycle retire) {
    size_t i = head_;
    while (q_[i].seq != seq) ++i;  // mostly the oldest: walks complete nearly in order
    q_[i].done = done;
    q_[i].fault = fault.count();
    q_[i].retire = retire;
    settle();
    tidy();
  }
  // close(seq, done, Cycles{}, done) for each (seq, done) that next(seq,
  // done) yields, in that order, until it returns false: the accesses that
  // waited for one walk, in one pass. The oldest pending access (the common
  // case: the queue's front) is settled at once, without a scan.
  template <class Next>
  void close_each(Next&& next) {
    uint64_t seq = 0;
    Cycle done{0};
    bool any = false;
    while (next(seq, done)) {
      any = true;
      if (head_ < q_.size() && q_[head_].seq == seq) {
        const Entry& e = q_[head_++];
        add(e.retired, e.wait, done, 0, done);
        settle();
      } else {
        size_t i = head_;
        while (q_[i].seq != seq) ++i;
        q_[i].done = done;
        q_[i].fault = 0;
        q_[i].retire = done;
        settle();
      }
    }
    if (any) tidy();
  }
  // An access whose D is known at once: settled now when nothing older is
  // pending, else queued behind the older ones.
  void known(uint64_t seq, Cycle retired, Cycle wait, Cycle done, Cycles fault, Cycle retire) {
    if (empty()) {
      add(retired, wait, done, fault.count(), retire);
    } else {
      q_.push_back(Entry{seq, retired, wait, done, retire, fault.count()});
    }
  }

 private:
  struct Entry {
    uint64_t seq;
    Cycle retired, wait, done, retire;  // done == kPending: D not known yet
    uint64_t fault;
  };
  static constexpr Cycle kPending{~uint64_t{0}};  // past the 2^64 ps time limit
  // Settles the known accesses at the front of the queue.
  void settle() {
    while (head_ < q_.size() && q_[head_].done != kPending) {
      const Entry& e = q_[head_++];
      add(e.retired, e.wait, e.done, e.fault, e.retire);
    }
  }
  // Drops the settled front once nothing is pending, or now and then.
  void tidy() {
    if (head_ == q_.size()) {
      q_.clear();
      head_ = 0;
    } else if (head_ >= kCompactAt && 2 * head_ >= q_.size()) {
      // Walks overlap without a break (a miss-heavy trace): the queue never
      // empties, so drop the settled front now and then, or it grows with
      // the trace. Amortized O(1): at least half of what is moved was settled.
      q_.erase(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void add(Cycle retired, Cycle wait, Cycle done, uint64_t fault, Cycle retire) {
    const Cycle prev = max(retired, frontier_);  // R(i-1)
    const Cycle from = max(wait, prev);
    const uint64_t span = done > from ? (done - from).count() : 0;
    translation_ += span > fault ? span - fault : 0;
    fault_ += fault;
    frontier_ = max(prev, retire);
  }

  static constexpr size_t kCompactAt = 1024;
  uint64_t& translation_;
  uint64_t& fault_;
  std::vector<Entry> q_;  // from head_ on, by seq
  size_t head_ = 0;
  Cycle frontier_{0};  // the latest R settled so far
};

}  // namespace mmusim
