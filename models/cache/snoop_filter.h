// The shared last level's snoop filter (coherence between the CPUs' private
// caches): per tracked line, the CPUs whose private caches may hold it (bit
// i mod 64 for CPU i; a superset: private evictions are silent) and whether
// one of them was granted it exclusive. Set-associative with LRU
// replacement and a fixed capacity, as on hardware: a line that must be
// tracked when its set is full evicts the set's least recently used entry,
// whose holders' copies the caller then invalidates (a back-invalidation).
// Host memory is the capacity, whatever the footprint.
#pragma once

#include <cstdint>
#include <vector>

namespace mmusim {

class SnoopFilter {
 public:
  static constexpr uint32_t kWays = 16;
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Entry {
    uint64_t line = kEmpty;
    uint64_t owners = 0;
    uint64_t used = 0;  // LRU stamp
    bool exclusive = false;
  };

  // At least `entries` entries: 16 ways, a power-of-two number of sets.
  explicit SnoopFilter(uint64_t entries) {
    const uint64_t n = capacity_for(entries);
    mask_ = n / kWays - 1;
    slots_.assign(n, Entry{});
  }
  // The entries a filter asked for `entries` has.
  static uint64_t capacity_for(uint64_t entries) {
    uint64_t sets = 1;
    while (sets * kWays < entries) sets *= 2;
    return sets * kWays;
  }

  // The entry of `line` (made most recently used), or null.
  Entry* find(uint64_t line) {
    Entry* s = set_of(line);
    for (uint32_t w = 0; w < kWays; ++w) {
      if (s[w].line == line) {
        s[w].used = ++clock_;
        return &s[w];
      }
    }
    return nullptr;
  }
  // The entry of `line`, most recently used; a new one has no owners. When
  // the set was full, `*evicted` receives the entry it replaced (the least
  // recently used); else its line is kEmpty.
  Entry& insert(uint64_t line, Entry* evicted) {
    evicted->line = kEmpty;
    // One pass: the line, else the first empty way, else the least recently
    // used one.
    Entry* s = set_of(line);
    Entry* v = nullptr;
    Entry* lru = &s[0];
    for (uint32_t w = 0; w < kWays; ++w) {
      Entry& e = s[w];
      if (e.line == line) {
        e.used = ++clock_;
        return e;
      }
      if (e.line == kEmpty) {
        if (v == nullptr) v = &e;
      } else if (e.used < lru->used) {
        lru = &e;
      }
    }
    if (v == nullptr) v = lru;
    if (v->line == kEmpty) {
      ++size_;
    } else {
      *evicted = *v;
    }
    *v = Entry{line, 0, ++clock_, false};
    return *v;
  }
  // Stops tracking `line`.
  void erase(uint64_t line) {
    Entry* s = set_of(line);
    for (uint32_t w = 0; w < kWays; ++w) {
      if (s[w].line == line) {
        s[w] = Entry{};
        --size_;
        return;
      }
    }
  }
  [[nodiscard]] uint64_t size() const { return size_; }
  [[nodiscard]] uint64_t capacity() const { return slots_.size(); }

 private:
  Entry* set_of(uint64_t line) { return &slots_[(line & mask_) * kWays]; }

  std::vector<Entry> slots_;
  uint64_t mask_ = 0;
  uint64_t clock_ = 0;
  uint64_t size_ = 0;
};

}  // namespace mmusim
