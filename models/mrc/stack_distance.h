// Mattson stack distances of one LRU stack: for each reference, how many
// distinct other keys were referenced since the previous reference to the same
// key (0: it was the most recent one), or kCold for a first reference. An LRU
// array of C entries (one set) hits exactly the references whose distance is
// below C, for every C at once.
//
// Method: each live key keeps the time slot of its last reference; a Fenwick
// tree over the slots holds 1 at every live key's slot, so the distance is the
// number of marks after the key's slot: O(log n) per reference. Slots are
// handed out in order; when they run out, the live keys are renumbered in
// recency order (compaction, O(n)) into a space twice their number, so memory
// is bounded by the distinct keys, not by the trace's length, and the
// amortized cost stays O(log n) (n = distinct keys held).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace mmusim {

class StackDistance {
 public:
  static constexpr uint64_t kCold = UINT64_MAX;

  // References `key` (moves it to the top) and returns its stack distance.
  uint64_t reference(uint64_t key);
  // Forgets every key (an empty array).
  void clear();
  // Distinct keys referenced so far (since clear()).
  [[nodiscard]] uint64_t keys() const { return last_.size(); }
  // Time slots allocated (bounded by 2 x keys() + kMinSlots).
  [[nodiscard]] uint64_t slots() const { return slot_key_.size(); }
  // Compactions so far (tests; the amortization argument).
  [[nodiscard]] uint64_t compactions() const { return compactions_; }

  static constexpr uint32_t kMinSlots = 16;

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  void add(uint32_t slot, int32_t delta);
  [[nodiscard]] uint32_t prefix(uint32_t slot) const;  // marks in slots [0, slot]
  void compact();

  std::unordered_map<uint64_t, uint32_t> last_;  // key -> slot of its last reference
  std::vector<int32_t> tree_;                    // Fenwick tree, 1-based
  std::vector<uint64_t> slot_key_;               // key marked at each slot, or kEmpty
  uint32_t next_ = 0;                            // next free slot
  uint64_t compactions_ = 0;
};

// Histogram of stack distances up to a depth: bucket d < depth counts
// references at distance d; beyond() counts deeper ones and cold references.
// misses(C) = references an LRU set of C ways misses (C <= depth).
class DistanceHistogram {
 public:
  explicit DistanceHistogram(uint64_t depth = 0) : counts_(depth, 0) {}
  void add(uint64_t distance) {
    if (distance < counts_.size()) {
      ++counts_[distance];
    } else {
      ++beyond_;
    }
  }
  [[nodiscard]] uint64_t depth() const { return counts_.size(); }
  [[nodiscard]] uint64_t references() const;
  // References with distance >= ways (C <= depth(); throws std::out_of_range beyond).
  [[nodiscard]] uint64_t misses(uint64_t ways) const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t beyond_ = 0;
};

}  // namespace mmusim
