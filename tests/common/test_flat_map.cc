// models/common/flat_map.h: insert, find, erase, extract; keys that share a home slot
// (found by search against the real mixer) form probe runs, and erase
// shifts the run back so every remaining key is still found and the table
// stays as if the erased key had never been inserted; growth keeps every
// entry; a random workload against std::unordered_map.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "models/common/flat_map.h"
#include "models/common/random.h"

namespace mmusim {
namespace {

using Map = FlatMap<uint64_t, uint64_t>;

// `n` keys whose home slot in `m` (at its current capacity) is `slot`.
std::vector<uint64_t> keys_homed_at(const Map& m, size_t slot, size_t n, uint64_t from = 1) {
  std::vector<uint64_t> out;
  for (uint64_t k = from; out.size() < n; ++k) {
    if (m.home(k) == slot) out.push_back(k);
  }
  return out;
}

TEST(FlatMap, InsertFindErase) {
  Map m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.capacity(), 0U);
  EXPECT_EQ(m.find(7), nullptr);
  EXPECT_FALSE(m.erase(7));
  auto [v, inserted] = m.insert(7, 70);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(*v, 70U);
  EXPECT_EQ(m.size(), 1U);
  EXPECT_EQ(m.capacity(), 16U);
  auto [w, again] = m.insert(7, 71);  // present: unchanged
  EXPECT_FALSE(again);
  EXPECT_EQ(w, v);
  EXPECT_EQ(*m.find(7), 70U);
  *m.find(7) = 72;
  EXPECT_EQ(*m.find(7), 72U);
  EXPECT_TRUE(m.contains(7));
  EXPECT_FALSE(m.contains(8));
  m.insert(0, 1);  // 0 is an ordinary key
  EXPECT_EQ(*m.find(0), 1U);
  EXPECT_TRUE(m.erase(7));
  EXPECT_FALSE(m.erase(7));
  m.insert(9, 90);
  EXPECT_EQ(m.extract(9), std::optional<uint64_t>(90));  // removes and returns
  EXPECT_EQ(m.extract(9), std::nullopt);
  EXPECT_EQ(m.find(9), nullptr);
  EXPECT_EQ(m.find(7), nullptr);
  EXPECT_EQ(m.size(), 1U);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(0), nullptr);
}

// Four keys homed at slot 5, then one homed at 6 (displaced by the run to
// slot 9), one homed at 8 (to 10). Erasing the first key of the run must
// move the rest back: each key that stays lands one slot nearer its home,
// and the key homed at 8 moves back to 9, not before its home.
TEST(FlatMap, CollisionsFormARunAndEraseShiftsItBack) {
  Map m;
  m.reserve(8);
  ASSERT_EQ(m.capacity(), 16U);
  const std::vector<uint64_t> at5 = keys_homed_at(m, 5, 4);
  const uint64_t at6 = keys_homed_at(m, 6, 1)[0];
  const uint64_t at8 = keys_homed_at(m, 8, 1)[0];
  for (uint64_t k : at5) m.insert(k, k * 10);
  m.insert(at6, 6);
  m.insert(at8, 8);
  for (size_t i = 0; i < at5.size(); ++i) EXPECT_EQ(m.displacement(at5[i]), long(i));
  EXPECT_EQ(m.displacement(at6), 3);  // slots 5..8 taken: lands at 9
  EXPECT_EQ(m.displacement(at8), 2);  // 8, 9 taken: lands at 10

  ASSERT_TRUE(m.erase(at5[0]));
  EXPECT_EQ(m.find(at5[0]), nullptr);
  for (size_t i = 1; i < at5.size(); ++i) {
    EXPECT_EQ(m.displacement(at5[i]), long(i - 1));
    EXPECT_EQ(*m.find(at5[i]), at5[i] * 10);
  }
  EXPECT_EQ(m.displacement(at6), 2);  // slot 8
  EXPECT_EQ(m.displacement(at8), 1);  // slot 9
  // An erase in the middle of the run: the keys behind it move up, the
  // key homed at 8 (now at 9) only as far as its home.
  ASSERT_TRUE(m.erase(at5[2]));  // at slot 6
  EXPECT_EQ(m.displacement(at5[1]), 0);
  EXPECT_EQ(m.displacement(at5[3]), 1);
  EXPECT_EQ(m.displacement(at6), 1);  // slot 7
  EXPECT_EQ(m.displacement(at8), 0);  // slot 8
  EXPECT_EQ(*m.find(at6), 6U);
  EXPECT_EQ(*m.find(at8), 8U);
  EXPECT_EQ(m.size(), 4U);
  // Slots 5..8 now hold at5[1], at5[3], at6 (homed at 6) and at8 (homed at
  // 8). Erasing at5[1] moves at5[3] and at6 back to their homes; at8 is at
  // its home already and must stay, leaving the hole at 7.
  ASSERT_TRUE(m.erase(at5[1]));
  EXPECT_EQ(m.displacement(at5[3]), 0);
  EXPECT_EQ(m.displacement(at6), 0);
  EXPECT_EQ(m.displacement(at8), 0);
  EXPECT_EQ(m.size(), 3U);
  // A key homed in the run but absent is not found (the run ends at an
  // empty slot, with no tombstone left behind).
  EXPECT_EQ(m.find(keys_homed_at(m, 5, 1, at5.back() + 1)[0]), nullptr);
}

// A run that wraps past the last slot: keys homed at 15 spill into 0, 1, ...
TEST(FlatMap, RunsWrapAroundTheEnd) {
  Map m;
  m.reserve(8);
  const std::vector<uint64_t> at15 = keys_homed_at(m, 15, 3);
  const uint64_t at0 = keys_homed_at(m, 0, 1)[0];
  for (uint64_t k : at15) m.insert(k, k);
  m.insert(at0, 0);
  EXPECT_EQ(m.displacement(at15[2]), 2);  // slot 1
  EXPECT_EQ(m.displacement(at0), 2);      // slot 2
  ASSERT_TRUE(m.erase(at15[1]));          // slot 0: at15[2] and at0 move back
  EXPECT_EQ(m.displacement(at15[2]), 1);
  EXPECT_EQ(m.displacement(at0), 1);
  ASSERT_TRUE(m.erase(at15[0]));
  EXPECT_EQ(m.displacement(at15[2]), 0);
  EXPECT_EQ(m.displacement(at0), 0);
  EXPECT_EQ(*m.find(at0), 0U);
}

// The table doubles when it would pass 3/4 full and keeps every entry.
TEST(FlatMap, GrowsAtThreeQuartersAndKeepsEntries) {
  Map m;
  for (uint64_t k = 0; k < 12; ++k) m.insert(k << 20, k);  // aligned keys
  EXPECT_EQ(m.capacity(), 16U);
  m.insert(12ULL << 20, 12);
  EXPECT_EQ(m.capacity(), 32U);
  for (uint64_t k = 13; k < 100000; ++k) m.insert(k << 20, k);
  EXPECT_EQ(m.size(), 100000U);
  EXPECT_EQ(m.capacity(), 1U << 18);  // 100000 > 3/4 of 2^17 (98304)
  for (uint64_t k = 0; k < 100000; ++k) {
    const uint64_t* v = m.find(k << 20);
    ASSERT_NE(v, nullptr) << k;
    EXPECT_EQ(*v, k);
  }
  EXPECT_EQ(m.find(100000ULL << 20), nullptr);
  // reserve() sizes up front: no growth up to the reserved count.
  Map r(1000);
  const size_t cap = r.capacity();
  EXPECT_GE(cap - cap / 4, 1000U);
  for (uint64_t k = 0; k < 1000; ++k) r.insert(k, k);
  EXPECT_EQ(r.capacity(), cap);
}

TEST(FlatMap, MovableValuesAreMovedAndDestroyed) {
  FlatMap<uint32_t, std::unique_ptr<int>> m;
  for (uint32_t k = 0; k < 100; ++k) m.insert(k, std::make_unique<int>(static_cast<int>(k)));
  for (uint32_t k = 0; k < 100; k += 2) EXPECT_TRUE(m.erase(k));
  for (uint32_t k = 1; k < 100; k += 2) EXPECT_EQ(**m.find(k), static_cast<int>(k));
  std::optional<std::unique_ptr<int>> taken = m.extract(99);
  ASSERT_TRUE(taken && *taken);
  EXPECT_EQ(**taken, 99);
  m.insert(99, std::move(*taken));
  int sum = 0;
  m.for_each([&](uint32_t, std::unique_ptr<int>& v) { sum += *v; });
  EXPECT_EQ(sum, 2500);  // 1 + 3 + ... + 99
}

TEST(FlatMap, MovesLeaveTheSourceEmptyAndUsable) {
  Map a;
  for (uint64_t k = 0; k < 50; ++k) a.insert(k, k + 1);
  Map b(std::move(a));
  EXPECT_EQ(b.size(), 50U);
  EXPECT_EQ(*b.find(49), 50U);
  EXPECT_EQ(a.size(), 0U);  // NOLINT(bugprone-use-after-move): specified state
  EXPECT_EQ(a.capacity(), 0U);
  EXPECT_EQ(a.find(49), nullptr);
  a.insert(7, 8);  // usable again
  EXPECT_EQ(*a.find(7), 8U);
  b = std::move(a);
  EXPECT_EQ(b.size(), 1U);
  EXPECT_EQ(*b.find(7), 8U);
  EXPECT_EQ(b.find(49), nullptr);
}

// A random mix of inserts, erases and lookups agrees with std::unordered_map
// at every step, with keys from a small range so runs and reuse are common.
TEST(FlatMap, AgreesWithUnorderedMapUnderChurn) {
  Map m;
  std::unordered_map<uint64_t, uint64_t> ref;
  SplitMix64 r(12);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t k = r.below(i < 100000 ? 4096 : 64) * 4096;  // then shrink to few keys
    switch (r.below(3)) {
      case 0: {
        const bool ins = m.insert(k, i).second;
        EXPECT_EQ(ins, ref.emplace(k, i).second);
        break;
      }
      case 1: EXPECT_EQ(m.erase(k), ref.erase(k) == 1); break;
      default: {
        const uint64_t* v = m.find(k);
        auto it = ref.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end());
        if (v) {
          EXPECT_EQ(*v, it->second);
        }
      }
    }
    ASSERT_EQ(m.size(), ref.size());
  }
  for (const auto& [k, v] : ref) EXPECT_EQ(*m.find(k), v);
  size_t n = 0;
  m.for_each([&](uint64_t k, uint64_t v) {
    ++n;
    EXPECT_EQ(ref.at(k), v);
  });
  EXPECT_EQ(n, ref.size());
}

}  // namespace
}  // namespace mmusim
