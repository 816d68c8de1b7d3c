#include "models/mrc/stack_distance.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mmusim {

void StackDistance::add(uint32_t slot, int32_t delta) {
  for (size_t i = size_t{slot} + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
}

uint32_t StackDistance::prefix(uint32_t slot) const {
  int64_t sum = 0;
  for (size_t i = size_t{slot} + 1; i > 0; i -= i & (~i + 1)) sum += tree_[i];
  return static_cast<uint32_t>(sum);
}

uint64_t StackDistance::reference(uint64_t key) {
  uint64_t distance = kCold;
  auto it = last_.find(key);
  if (it != last_.end()) {
    const uint32_t slot = it->second;
    // Marks after `slot`: the distinct keys referenced since.
    distance = last_.size() - prefix(slot);
    add(slot, -1);
    slot_key_[slot] = kEmpty;
  }
  if (next_ == slot_key_.size()) {
    compact();
    it = last_.find(key);  // rehashing may have moved it
  }
  const uint32_t slot = next_++;
  slot_key_[slot] = key;
  add(slot, +1);
  if (it != last_.end()) {
    it->second = slot;
  } else {
    last_.emplace(key, slot);
  }
  return distance;
}

void StackDistance::compact() {
  ++compactions_;
  // Live keys in recency order (oldest first) get slots 0, 1, ...; the key
  // being referenced now is unmarked and not counted in `live` here.
  std::vector<uint64_t> live;
  live.reserve(last_.size());
  for (uint32_t s = 0; s < next_; ++s) {
    if (slot_key_[s] != kEmpty) live.push_back(slot_key_[s]);
  }
  const size_t cap = std::max<size_t>(kMinSlots, 2 * (last_.size() + 1));
  if (cap > UINT32_MAX) throw std::length_error("StackDistance: more than 2^31 distinct keys");
  slot_key_.assign(cap, kEmpty);
  tree_.assign(cap + 1, 0);
  for (uint32_t s = 0; s < live.size(); ++s) {
    slot_key_[s] = live[s];
    last_[live[s]] = s;
    tree_[size_t{s} + 1] = 1;
  }
  // Linear Fenwick build: push each node's sum to its parent.
  for (size_t i = 1; i < tree_.size(); ++i) {
    const size_t parent = i + (i & (~i + 1));
    if (parent < tree_.size()) tree_[parent] += tree_[i];
  }
  next_ = static_cast<uint32_t>(live.size());
}

void StackDistance::clear() {
  last_.clear();
  tree_.clear();
  slot_key_.clear();
  next_ = 0;
}

uint64_t DistanceHistogram::references() const {
  uint64_t n = beyond_;
  for (uint64_t c : counts_) n += c;
  return n;
}

uint64_t DistanceHistogram::misses(uint64_t ways) const {
  if (ways > counts_.size()) {
    throw std::out_of_range("DistanceHistogram: " + std::to_string(ways) +
                            " ways beyond the tracked depth " + std::to_string(counts_.size()));
  }
  uint64_t n = beyond_;
  for (uint64_t d = ways; d < counts_.size(); ++d) n += counts_[d];
  return n;
}

}  // namespace mmusim
