// Replacement policies: hand-worked victim sequences, unit by unit and
// through a one-set TlbArray.
#include <gtest/gtest.h>

#include <vector>

#include "models/tlb/repl_fifo.h"
#include "models/tlb/repl_lru.h"
#include "models/tlb/repl_random.h"
#include "models/tlb/repl_tree_plru.h"
#include "models/tlb/tlb_array.h"
#include "tests/tlb/tlb_test_util.h"

namespace mmusim {
namespace {

using tlbtest::addr_of;
using tlbtest::array_cfg;
using tlbtest::make_tr;

TEST(TlbRepl, LruVictimSequence) {
  LruPolicy p;
  p.reset(1, 4);
  for (uint32_t w = 0; w < 4; ++w) p.on_fill(w);  // recency: 0 1 2 3 (oldest first)
  EXPECT_EQ(p.victim(0), 0U);
  p.on_hit(0);  // 1 2 3 0
  p.on_hit(2);  // 1 3 0 2
  EXPECT_EQ(p.victim(0), 1U);
  p.on_fill(1);  // 3 0 2 1
  EXPECT_EQ(p.victim(0), 3U);
  p.on_fill(3);  // 0 2 1 3
  EXPECT_EQ(p.victim(0), 0U);
  p.on_hit(3);  // already most recent: no change
  p.on_hit(3);
  EXPECT_EQ(p.victim(0), 0U);
  p.on_hit(0);  // 2 1 3 0
  EXPECT_EQ(p.victim(0), 2U);
}

TEST(TlbRepl, LruSetsAreIndependent) {
  LruPolicy p;
  p.reset(2, 2);
  p.on_fill(0);
  p.on_fill(1);
  p.on_fill(3);
  p.on_fill(2);
  EXPECT_EQ(p.victim(0), 0U);  // set 0: way 0 older
  EXPECT_EQ(p.victim(2), 1U);  // set 1: way 1 (index 3) older
}

// 4 ways, bits in heap order: root chooses {0,1} (0) vs {2,3} (1); node 2
// chooses 0 vs 1; node 3 chooses 2 vs 3. Touching a way points its path away.
TEST(TlbRepl, TreePlruBitFlips) {
  TreePlruPolicy p;
  p.reset(1, 4);
  p.on_fill(0);                // root=1 n2=1
  EXPECT_EQ(p.victim(0), 2U);  // root -> right, n3=0 -> way 2
  p.on_fill(1);                // root=1 n2=0
  p.on_fill(2);                // root=0 n3=1
  EXPECT_EQ(p.victim(0), 0U);  // root -> left, n2=0 -> way 0
  p.on_fill(3);                // root=0 n3=0
  EXPECT_EQ(p.victim(0), 0U);
  p.on_hit(2);  // root=0 n3=1
  EXPECT_EQ(p.victim(0), 0U);
  p.on_fill(0);                // root=1 n2=1
  EXPECT_EQ(p.victim(0), 3U);  // root -> right, n3=1 -> way 3
  p.on_fill(3);                // root=0 n3=0
  EXPECT_EQ(p.victim(0), 1U);  // root -> left, n2=1 -> way 1
  p.on_fill(1);                // root=1 n2=0
  EXPECT_EQ(p.victim(0), 2U);  // root -> right, n3=0 -> way 2
  p.on_hit(2);                 // root=0 n3=1: idempotent when repeated
  p.on_hit(2);
  EXPECT_EQ(p.victim(0), 0U);
}

TEST(TlbRepl, TreePlruEightWays) {
  TreePlruPolicy p;
  p.reset(1, 8);
  for (uint32_t w = 0; w < 8; ++w) p.on_fill(w);
  // After touching 0..7 in order every node points to its lower half.
  EXPECT_EQ(p.victim(0), 0U);
  p.on_hit(0);  // root -> upper, n3 -> 4..5 (lower of upper), n6 -> 4
  EXPECT_EQ(p.victim(0), 4U);
  p.on_hit(4);  // root -> lower, n2 -> 2..3 (set by touching 0), n5 -> 2
  EXPECT_EQ(p.victim(0), 2U);
  p.on_hit(2);  // root -> upper, n3 -> 6..7, n7 -> 6
  EXPECT_EQ(p.victim(0), 6U);
}

TEST(TlbRepl, FifoIgnoresHitsAndOrdersByFill) {
  FifoPolicy p;
  p.reset(1, 4);
  for (uint32_t w = 0; w < 4; ++w) p.on_fill(w);
  p.on_hit(0);
  p.on_hit(0);
  EXPECT_EQ(p.victim(0), 0U);
  p.on_fill(0);  // fill order: 1 2 3 0
  EXPECT_EQ(p.victim(0), 1U);
  p.on_fill(2);  // way 2 refilled (e.g. after an invalidation): 1 3 0 2
  EXPECT_EQ(p.victim(0), 1U);
  p.on_fill(1);  // 3 0 2 1
  EXPECT_EQ(p.victim(0), 3U);
  p.on_fill(3);  // 0 2 1 3
  EXPECT_EQ(p.victim(0), 0U);
}

// Reference values of SplitMix64 for seed 1234567 (Vigna's splitmix64.c).
TEST(TlbRepl, SplitMix64ReferenceVector) {
  SplitMix64 r(1234567);
  EXPECT_EQ(r.next(), 6457827717110365317ULL);
  EXPECT_EQ(r.next(), 3203168211198807973ULL);
  EXPECT_EQ(r.next(), 9817491932198370423ULL);
  EXPECT_EQ(r.next(), 4593380528125082431ULL);
  EXPECT_EQ(r.next(), 16408922859458223821ULL);
}

TEST(TlbRepl, RandomFixedSeedGivesFixedSequence) {
  RandomPolicy p;
  p.reset(1, 4, 42);
  std::vector<uint32_t> seq;
  seq.reserve(12);
  for (int i = 0; i < 12; ++i) seq.push_back(p.victim(0));
  const std::vector<uint32_t> expected = {2, 0, 1, 1, 0, 3, 0, 3, 1, 2, 0, 1};
  EXPECT_EQ(seq, expected);
  RandomPolicy q;  // same seed, same sequence
  q.reset(1, 4, 42);
  for (uint32_t v : expected) EXPECT_EQ(q.victim(0), v);
}

// Through the array: invalid ways are filled first (lowest index), then LRU.
TEST(TlbRepl, ArrayFillsInvalidFirstThenLru) {
  TlbArray a(array_cfg(4, 4, ReplPolicy::kLru));
  for (uint64_t v = 0; v < 4; ++v) ASSERT_TRUE(a.insert(make_tr(v)));
  auto c = a.contents();
  ASSERT_EQ(c.size(), 4U);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(c[i].t.vpn, Vpn(i));
  EXPECT_EQ(a.stats().evictions, 0U);
  ASSERT_NE(a.lookup(addr_of(0), Asid(0)), nullptr);  // 0 most recent; LRU is 1
  a.insert(make_tr(10));
  EXPECT_EQ(a.lookup(addr_of(1), Asid(0)), nullptr);
  EXPECT_EQ(a.entry(1).vpn, Vpn(10));
  // Invalidate vpn 3 (way 3): the next fill goes there although way 2 is older.
  a.invalidate_page(addr_of(3), Asid(0));
  a.insert(make_tr(11));
  EXPECT_EQ(a.entry(3).vpn, Vpn(11));
  EXPECT_EQ(a.stats().evictions, 1U);
  EXPECT_EQ(a.stats().fills, 6U);
}

TEST(TlbRepl, ArrayPlruAndFifoVictims) {
  TlbArray plru(array_cfg(4, 4, ReplPolicy::kPlru));
  TlbArray fifo(array_cfg(4, 4, ReplPolicy::kFifo));
  for (uint64_t v = 0; v < 4; ++v) {
    plru.insert(make_tr(v));
    fifo.insert(make_tr(v));
  }
  ASSERT_NE(plru.lookup(addr_of(0), Asid(0)), nullptr);  // PLRU: victim becomes way 2
  ASSERT_NE(fifo.lookup(addr_of(0), Asid(0)), nullptr);  // FIFO: still way 0
  plru.insert(make_tr(20));
  fifo.insert(make_tr(20));
  EXPECT_EQ(plru.entry(2).vpn, Vpn(20));
  EXPECT_EQ(fifo.entry(0).vpn, Vpn(20));
}

TEST(TlbRepl, ArrayRandomIsDeterministicPerSeed) {
  auto run = [](uint64_t seed) {
    TlbArray a(array_cfg(8, 8, ReplPolicy::kRandom), seed);
    for (uint64_t v = 0; v < 40; ++v) a.insert(make_tr(v));
    std::vector<uint64_t> vpns;
    for (const auto& e : a.contents()) vpns.push_back(e.t.vpn.value());
    return vpns;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace mmusim
