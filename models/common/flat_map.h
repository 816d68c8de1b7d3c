// FlatMap: a hash map from an unsigned integer key to a value in one flat
// array: open addressing with linear probing, a power-of-two capacity kept
// at most 3/4 full, and backward-shift deletion (no tombstones: an erase
// moves the entries of its probe run back, so lookups never slow down with
// churn). A key's home slot is the top bits of key * 2^64/phi (Fibonacci
// hashing: one multiply), which every key bit reaches, so keys that differ
// only in high bits (aligned addresses, frame numbers of large blocks) and
// runs of consecutive keys both spread over the whole table.
//
// One key value is reserved to mark empty slots: the largest value of K
// (kEmptyKey), which may not be inserted. Values must be default
// constructible and movable. Any insert or erase may move entries: pointers
// returned by find() are valid only until the next insert or erase.
// Iteration order (for_each) depends on the hash, not on insertion; use it
// only where the order cannot change results (destruction, totals).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace mmusim {

template <class K, class V>
class FlatMap {
  static_assert(std::is_unsigned_v<K>, "FlatMap keys are unsigned integers");

 public:
  static constexpr K kEmptyKey = std::numeric_limits<K>::max();

  FlatMap() = default;
  explicit FlatMap(size_t expected) { reserve(expected); }
  FlatMap(FlatMap&& o) noexcept { *this = std::move(o); }
  FlatMap& operator=(FlatMap&& o) noexcept {
    if (this != &o) {
      slots_ = std::move(o.slots_);
      capacity_ = std::exchange(o.capacity_, 0);
      limit_ = std::exchange(o.limit_, 0);
      mask_ = std::exchange(o.mask_, 0);
      shift_ = std::exchange(o.shift_, 63);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;

  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  // Slots allocated (a power of two, or 0 before the first insert).
  [[nodiscard]] size_t capacity() const { return capacity_; }

  // Makes room for `n` entries in all without growing again.
  void reserve(size_t n) {
    size_t cap = kMinCapacity;
    while (cap - cap / 4 < n) cap *= 2;
    if (cap > capacity()) rehash(cap);
  }

  [[nodiscard]] V* find(K key) {
    if (!slots_) return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmptyKey) return nullptr;
    }
  }
  [[nodiscard]] const V* find(K key) const { return const_cast<FlatMap*>(this)->find(key); }
  [[nodiscard]] bool contains(K key) const { return find(key) != nullptr; }

  // Inserts `key` -> `value` unless `key` is present. Returns the value in
  // the map (the existing one if present) and whether it was inserted.
  std::pair<V*, bool> insert(K key, V value) {
    assert(key != kEmptyKey);
    if (size_ >= limit_) rehash(capacity_ ? capacity_ * 2 : kMinCapacity);
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) return {&s.value, false};
      if (s.key == kEmptyKey) break;
    }
    slots_[i].key = key;
    slots_[i].value = std::move(value);
    ++size_;
    return {&slots_[i].value, true};
  }

  // Removes `key`; false if it was absent.
  bool erase(K key) { return remove(key, nullptr); }
  // Removes `key` and returns its value; nullopt if it was absent.
  std::optional<V> extract(K key) {
    std::optional<V> out;
    remove(key, &out);
    return out;
  }

  void clear() {
    for (size_t i = 0; i < capacity_; ++i) slots_[i] = Slot{};
    size_ = 0;
  }

  // f(key, value&) for every entry, in slot order.
  template <class F>
  void for_each(F&& f) {
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key != kEmptyKey) f(slots_[i].key, slots_[i].value);
    }
  }

  // Slots between `key`'s home and where it is (0 = at home); -1 if absent.
  // For tests and tuning.
  [[nodiscard]] long displacement(K key) const {
    if (!slots_) return -1;
    for (size_t i = home(key), d = 0;; i = (i + 1) & mask_, ++d) {
      if (slots_[i].key == key) return static_cast<long>(d);
      if (slots_[i].key == kEmptyKey) return -1;
    }
  }
  // Where `key` would start probing (its home slot; meaningful once the
  // map has slots).
  [[nodiscard]] size_t home(K key) const {
    return static_cast<size_t>((uint64_t{key} * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

 private:
  static constexpr size_t kMinCapacity = 16;

  bool remove(K key, std::optional<V>* out) {
    if (!slots_) return false;
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) break;
      if (slots_[i].key == kEmptyKey) return false;
    }
    if (out) out->emplace(std::move(slots_[i].value));
    // Backward shift: walk the rest of the probe run and move back every
    // entry whose home is not in (i, j], i.e. that may live in the hole.
    for (size_t j = (i + 1) & mask_; slots_[j].key != kEmptyKey; j = (j + 1) & mask_) {
      if (((j - home(slots_[j].key)) & mask_) >= ((j - i) & mask_)) {
        slots_[i].key = slots_[j].key;
        slots_[i].value = std::move(slots_[j].value);
        i = j;
      }
    }
    slots_[i].key = kEmptyKey;
    slots_[i].value = V{};
    --size_;
    return true;
  }

  struct Slot {
    K key = kEmptyKey;
    V value{};
  };

  void rehash(size_t cap) {
    const size_t old_cap = capacity_;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_ = std::make_unique<Slot[]>(cap);
    capacity_ = cap;
    limit_ = cap - cap / 4;
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    for (size_t j = 0; j < old_cap; ++j) {
      if (old[j].key == kEmptyKey) continue;
      size_t i = home(old[j].key);
      while (slots_[i].key != kEmptyKey) i = (i + 1) & mask_;
      slots_[i].key = old[j].key;
      slots_[i].value = std::move(old[j].value);
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t capacity_ = 0;  // slots (a power of two, or 0)
  size_t limit_ = 0;     // entries allowed before growing: 3/4 of capacity_
  size_t mask_ = 0;      // capacity_ - 1 (0 with no slots)
  unsigned shift_ = 63;  // 64 - log2(capacity); 63 with no slots (home 0 or 1: unused)
  size_t size_ = 0;
};

}  // namespace mmusim
