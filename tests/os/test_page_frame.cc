#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "models/common/random.h"
#include "models/os/page_frame.h"

namespace mmusim {
namespace {

constexpr FramePlacement kBoth[] = {FramePlacement::kSpread, FramePlacement::kSequential};

std::array<uint64_t, kNumOrders> free_counts(const PageFrameAllocator& a) {
  std::array<uint64_t, kNumOrders> c{};
  for (unsigned o = 0; o < kNumOrders; ++o) c[o] = a.free_blocks(o);
  return c;
}

// Fisher-Yates with the project's PRNG.
template <class T>
void shuffle(std::vector<T>& v, uint64_t seed) {
  SplitMix64 r(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r.below(i)]);
}

TEST(PageFramePlacement, ParseNames) {
  EXPECT_EQ(parse_frame_placement("spread"), FramePlacement::kSpread);
  EXPECT_EQ(parse_frame_placement("sequential"), FramePlacement::kSequential);
  EXPECT_EQ(parse_frame_placement("random"), std::nullopt);
  EXPECT_EQ(parse_frame_placement(""), std::nullopt);
  EXPECT_EQ(frame_placement_name(FramePlacement::kSpread), "spread");
  EXPECT_EQ(frame_placement_name(FramePlacement::kSequential), "sequential");
  EXPECT_EQ(order_of(PageSize::k4K), 0U);
  EXPECT_EQ(order_of(PageSize::k2M), 9U);
  EXPECT_EQ(order_of(PageSize::k4M), 10U);
  EXPECT_EQ(order_of(PageSize::k1G), 18U);
}

// 1 GiB + 3 MiB + 20 KiB with 20 KiB reserved: frames 5 .. 262916. From the
// bottom: 5 (order 0), 6 (1), 8 (3), 16 (4), ..., 131072 (17) up to 1 GiB,
// then the 773 frames above: 512 (9), 256 (8), 4 (2), 1 (0).
TEST(PageFrameAllocator, InitialBlocksAreTheLargestAlignedOnesThatFit) {
  for (FramePlacement pl : kBoth) {
    PageFrameAllocator a((1ULL << 30) + (3ULL << 20) + (5ULL << 12), 5ULL << 12, 1, pl);
    std::array<uint64_t, kNumOrders> want{};
    want[0] = 2;
    want[1] = 1;
    want[2] = 1;
    for (unsigned o = 3; o <= 17; ++o) want[o] = 1;
    want[8] = 2;
    want[9] = 2;
    EXPECT_EQ(free_counts(a), want);
    EXPECT_EQ(a.frames_total(), 262917U);
    EXPECT_EQ(a.frames_managed(), 262912U);
    EXPECT_EQ(a.frames_free(), 262912U);
    EXPECT_EQ(a.frames_used(), 0U);
    EXPECT_EQ(a.metadata_chunks(), 0U);
    // Index records: the root (8 GiB); for the reserved frames 0 .. 4 the
    // 1 GiB, 128 MiB and 16 MiB nodes above chunk 0 and chunk 0's bitmap;
    // for the end of memory (frames 262656 .. 262916 of chunk 513, the
    // rest of the second GiB unmanaged) the same three nodes above it and
    // its bitmap. Chunk 512 is wholly free: no record.
    EXPECT_EQ(a.index_chunks(), 2U);
    EXPECT_EQ(a.index_nodes(), 7U);
  }
}

// 16 frames, one block of order 4. Sequential placement keeps the lower half
// of every split, so the steps are exact.
TEST(PageFrameAllocator, SplitsAndMergesExactly) {
  PageFrameAllocator a(16ULL * 4096, 0, 1, FramePlacement::kSequential);
  using C = std::array<uint64_t, kNumOrders>;
  auto counts = [](std::initializer_list<std::pair<unsigned, uint64_t>> l) {
    C c{};
    for (auto [o, n] : l) c[o] = n;
    return c;
  };
  EXPECT_EQ(free_counts(a), counts({{4, 1}}));
  EXPECT_EQ(a.allocate(0), Pfn(0));  // 16 -> 8 + 4 + 2 + 1 + [0]
  EXPECT_EQ(free_counts(a), counts({{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(a.allocate(1), Pfn(2));  // the free order-1 block [2, 4)
  EXPECT_EQ(a.allocate(0), Pfn(1));
  EXPECT_EQ(free_counts(a), counts({{2, 1}, {3, 1}}));
  EXPECT_EQ(a.allocate(2), Pfn(4));
  EXPECT_EQ(a.allocate(0), Pfn(8));  // splits [8, 16)
  EXPECT_EQ(free_counts(a), counts({{0, 1}, {1, 1}, {2, 1}}));
  EXPECT_EQ(a.frames_used(), 9U);
  a.free(Pfn(0), 0);  // buddy 1 is allocated: no merge
  EXPECT_EQ(free_counts(a), counts({{0, 2}, {1, 1}, {2, 1}}));
  a.free(Pfn(1), 0);  // merges with 0 into [0, 2); buddy [2, 4) allocated
  EXPECT_EQ(free_counts(a), counts({{0, 1}, {1, 2}, {2, 1}}));
  a.free(Pfn(2), 1);  // [0, 4); buddy [4, 8) allocated
  EXPECT_EQ(free_counts(a), counts({{0, 1}, {1, 1}, {2, 2}}));
  a.free(Pfn(4), 2);  // [0, 8); buddy [8, 16) is split: stop
  EXPECT_EQ(free_counts(a), counts({{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
  a.free(Pfn(8), 0);  // 8+9 -> [8,10), +[10,12) -> [8,12), +[12,16) -> [8,16), +[0,8) -> [0,16)
  EXPECT_EQ(free_counts(a), counts({{4, 1}}));
  EXPECT_EQ(a.frames_free(), 16U);
}

TEST(PageFrameAllocator, EveryFrameAllocatedThenFreedInAnyOrderRestoresTheMaximalBlocks) {
  for (FramePlacement pl : kBoth) {
    for (uint64_t seed : {1, 2, 3}) {
      // 4 MiB + 44 KiB, bottom 12 KiB reserved: blocks of several orders.
      PageFrameAllocator a((4ULL << 20) + (11ULL << 12), 3ULL << 12, seed, pl);
      const auto initial = free_counts(a);
      std::vector<Pfn> got;
      std::set<uint64_t> distinct;
      while (auto p = a.allocate(0)) {
        got.push_back(*p);
        distinct.insert(p->value());
        ASSERT_GE(p->value(), 3U);
        ASSERT_LT(p->value(), a.frames_total());
      }
      EXPECT_EQ(got.size(), a.frames_managed());
      EXPECT_EQ(distinct.size(), got.size());
      EXPECT_EQ(a.frames_free(), 0U);
      EXPECT_EQ(free_counts(a), (std::array<uint64_t, kNumOrders>{}));
      // Blocks of order 0 have one metadata entry (chunk) per frame: the
      // 1035 frames less the 3 reserved, 1032.
      EXPECT_EQ(a.metadata_chunks(), 1032U);
      shuffle(got, seed * 77);
      for (Pfn p : got) a.free(p, 0);
      EXPECT_EQ(free_counts(a), initial);
      EXPECT_EQ(a.frames_free(), a.frames_managed());
      EXPECT_EQ(a.metadata_chunks(), 0U);
    }
  }
}

TEST(PageFrameAllocator, MixedOrdersMergeBackAfterRandomFrees) {
  for (FramePlacement pl : kBoth) {
    PageFrameAllocator a(64ULL << 20, 1ULL << 20, 9, pl);
    const auto initial = free_counts(a);
    SplitMix64 r(5);
    std::vector<std::pair<Pfn, unsigned>> live;
    for (int i = 0; i < 2000; ++i) {
      if (!live.empty() && r.below(3) == 0) {
        const size_t k = r.below(live.size());
        a.free(live[k].first, live[k].second);
        live[k] = live.back();
        live.pop_back();
      } else {
        const auto o = static_cast<unsigned>(r.below(11));
        if (auto p = a.allocate(o)) live.emplace_back(*p, o);
      }
    }
    uint64_t used = 0;
    for (auto& [p, o] : live) used += 1ULL << o;
    EXPECT_EQ(a.frames_used(), used);
    for (auto& [p, o] : live) a.free(p, o);
    EXPECT_EQ(free_counts(a), initial);
    EXPECT_EQ(a.metadata_chunks(), 0U);
  }
}

TEST(PageFrameAllocator, EveryOrderIsNaturallyAlignedInsideMemoryAndDisjoint) {
  for (FramePlacement pl : kBoth) {
    const uint64_t low = (16ULL << 20) >> 12;
    // Spread placement scatters small blocks over every large one, so the
    // memory holds enough 1 GiB blocks for every round's order-18 request.
    PageFrameAllocator a(64ULL << 30, 16ULL << 20, 3, pl);
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    for (int round = 0; round < 3; ++round) {
      for (unsigned o = 0; o <= kMaxOrder; ++o) {
        auto p = a.allocate(o);
        ASSERT_TRUE(p) << "order " << o << " round " << round;
        EXPECT_EQ(p->value() % (1ULL << o), 0U) << "order " << o;
        EXPECT_GE(p->value(), low);
        EXPECT_LE(p->value() + (1ULL << o), a.frames_total());
        spans.emplace_back(p->value(), p->value() + (1ULL << o));
      }
    }
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].second, spans[i].first);
  }
}

TEST(PageFrameAllocator, ReservedLowIsNeverHandedOut) {
  for (FramePlacement pl : kBoth) {
    // 4 MiB + 1 byte rounds up to 1025 frames.
    PageFrameAllocator a(8ULL << 20, (4ULL << 20) + 1, 4, pl);
    EXPECT_EQ(a.frames_managed(), 2048U - 1025U);
    uint64_t n = 0, lowest = ~0ULL;
    while (auto p = a.allocate(0)) {
      lowest = std::min(lowest, p->value());
      ++n;
    }
    EXPECT_EQ(n, 2048U - 1025U);
    EXPECT_EQ(lowest, 1025U);
  }
  // Reserved beyond the end: nothing to hand out.
  PageFrameAllocator none(1ULL << 20, 2ULL << 20, 1);
  EXPECT_EQ(none.frames_managed(), 0U);
  EXPECT_FALSE(none.allocate(0));
}

TEST(PageFrameAllocator, ExhaustionReturnsNullopt) {
  PageFrameAllocator two(8192, 0, 1);
  EXPECT_TRUE(two.allocate(0));
  EXPECT_TRUE(two.allocate(0));
  EXPECT_FALSE(two.allocate(0));
  EXPECT_FALSE(two.allocate(9));
  EXPECT_FALSE(two.allocate(kMaxOrder + 1));
  // Fragmentation: one 4 KiB frame in each 2 MiB half leaves no 2 MiB block.
  PageFrameAllocator a(4ULL << 20, 0, 1, FramePlacement::kSequential);
  auto x = a.allocate(0);
  ASSERT_EQ(a.allocate(9), Pfn(512));
  EXPECT_FALSE(a.allocate(9));
  EXPECT_EQ(a.frames_free(), 511U);
  a.free(*x, 0);
  EXPECT_EQ(a.allocate(9), Pfn(0));
  EXPECT_FALSE(a.allocate(PageSize::k1G));
}

TEST(PageFrameAllocator, DeterministicForASeed) {
  auto run = [](uint64_t seed, FramePlacement pl) {
    PageFrameAllocator a(256ULL << 20, 1ULL << 20, seed, pl);
    SplitMix64 r(11);
    std::vector<uint64_t> out;
    std::vector<std::pair<Pfn, unsigned>> live;
    for (int i = 0; i < 3000; ++i) {
      if (!live.empty() && r.below(4) == 0) {
        const size_t k = r.below(live.size());
        a.free(live[k].first, live[k].second);
        live.erase(live.begin() + static_cast<long>(k));
      } else {
        const auto o = static_cast<unsigned>(r.below(10));
        auto p = a.allocate(o);
        out.push_back(p ? p->value() : ~0ULL);
        if (p) live.emplace_back(*p, o);
      }
    }
    return out;
  };
  for (FramePlacement pl : kBoth) EXPECT_EQ(run(42, pl), run(42, pl));
  EXPECT_NE(run(42, FramePlacement::kSpread), run(43, FramePlacement::kSpread));
}

TEST(PageFrameAllocator, SpreadScattersAndSequentialFillsFromTheBottom) {
  PageFrameAllocator spread(1ULL << 30, 1ULL << 20, 1, FramePlacement::kSpread);
  PageFrameAllocator seq(1ULL << 30, 1ULL << 20, 1, FramePlacement::kSequential);
  std::set<uint64_t> sections;
  uint64_t lo = ~0ULL, hi = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const uint64_t p = spread.allocate(0)->value();
    sections.insert(p >> 9);
    lo = std::min(lo, p);
    hi = std::max(hi, p);
    EXPECT_EQ(seq.allocate(0), Pfn(256 + i));  // 1 MiB reserved = 256 frames
  }
  // 1000 uniform draws over 512 sections touch about 440 of them.
  EXPECT_GT(sections.size(), 350U);
  EXPECT_GT(hi - lo, spread.frames_total() / 2);
}

TEST(PageFrameAllocator, MetadataIsSetOnAllocationAndClearedOnFree) {
  PageFrameAllocator a(64ULL << 20, 0, 1, FramePlacement::kSequential);
  Pfn p = *a.allocate(3);
  PageFrame& h = a.meta(p);
  EXPECT_EQ(h.state, FrameState::kHead);
  EXPECT_EQ(h.order, 3U);
  EXPECT_EQ(h.refcount, 1U);
  EXPECT_EQ(h.mapcount, 0);
  EXPECT_EQ(h.flags, 0U);
  for (uint64_t i = 1; i < 8; ++i) EXPECT_EQ(a.meta(Pfn(p.value() + i)).state, FrameState::kTail);
  EXPECT_EQ(a.find_meta(Pfn(p.value() + 8)), nullptr);  // beyond the block: free
  EXPECT_THROW((void)a.meta(Pfn(p.value() + 8)), std::out_of_range);

  h.mapcount = 2;
  h.owner = 77;
  h.index = 0x1234;
  h.set(FrameFlag::kLru);
  h.set(FrameFlag::kDirty);
  EXPECT_EQ(h.lru(), LruList::kInactiveAnon);
  h.set(FrameFlag::kActive);
  EXPECT_EQ(h.lru(), LruList::kActiveAnon);
  h.set(FrameFlag::kFileLru);
  EXPECT_EQ(h.lru(), LruList::kActiveFile);
  h.clear(FrameFlag::kActive);
  EXPECT_EQ(h.lru(), LruList::kInactiveFile);
  h.set(FrameFlag::kUnevictable);
  EXPECT_EQ(h.lru(), LruList::kUnevictable);
  h.clear(FrameFlag::kLru);
  EXPECT_EQ(h.lru(), LruList::kNone);
  EXPECT_TRUE(h.test(FrameFlag::kDirty));
  EXPECT_FALSE(h.test(FrameFlag::kLocked));

  // Misuse is a bug and says so.
  EXPECT_THROW(a.free(p, 2), std::invalid_argument);                   // wrong order
  EXPECT_THROW(a.free(Pfn(p.value() + 1), 0), std::invalid_argument);  // a tail
  a.free(p, 3);
  EXPECT_EQ(a.find_meta(p), nullptr);
  EXPECT_THROW((void)a.meta(p), std::out_of_range);
  EXPECT_THROW(a.free(p, 3), std::invalid_argument);  // double free
  EXPECT_THROW(a.free(Pfn(1ULL << 40), 0), std::invalid_argument);

  // The same frames come back clean.
  Pfn q = *a.allocate(3);
  EXPECT_EQ(q, p);
  EXPECT_EQ(a.meta(q).flags, 0U);
  EXPECT_EQ(a.meta(q).owner, 0U);
  EXPECT_EQ(a.meta(q).mapcount, 0);
  EXPECT_EQ(a.meta(q).refcount, 1U);
}

TEST(PageFrameAllocator, LargeBlocksAreDescribedByTheirFirstSection) {
  PageFrameAllocator a(4ULL << 30, 0, 1, FramePlacement::kSequential);
  Pfn g = *a.allocate(PageSize::k1G);
  // A block of 64 frames or more has 64-frame sections; only its first
  // 2 MiB (512 frames) is described: 512 / 64 = 8 sections, not the 4096
  // that would cover the whole 1 GiB.
  EXPECT_EQ(a.metadata_chunks(), 8U);
  EXPECT_EQ(a.meta(g).order, 18U);
  EXPECT_EQ(a.meta(Pfn(g.value() + 511)).state, FrameState::kTail);
  EXPECT_EQ(a.find_meta(Pfn(g.value() + 512)), nullptr);
  Pfn m = *a.allocate(PageSize::k2M);
  EXPECT_EQ(a.metadata_chunks(), 16U);  // 8 more: a 2 MiB block is 8 sections
  EXPECT_EQ(a.meta(Pfn(m.value() + 511)).state, FrameState::kTail);
  a.free(g, PageSize::k1G);
  a.free(m, PageSize::k2M);
  EXPECT_EQ(a.metadata_chunks(), 0U);
  EXPECT_EQ(a.free_blocks(kMaxOrder), 4U);
}

// Blocks of 64 frames or more have metadata in 64-frame sections (chunks):
// a block of order 7 has two, one of order 9 eight; smaller blocks have one
// chunk (entry) per frame. Every frame has its entry, and a free drops
// exactly the block's chunks.
TEST(PageFrameAllocator, BlocksSpanningSectionsAreDescribedThroughout) {
  PageFrameAllocator a(8ULL << 20, 0, 1, FramePlacement::kSequential);
  const Pfn one = *a.allocate(0);  // frame 0: one entry
  const Pfn big = *a.allocate(7);  // frames 128 .. 255: sections 2 and 3
  EXPECT_EQ(big, Pfn(128));
  EXPECT_EQ(a.metadata_chunks(), 3U);
  const Pfn huge = *a.allocate(9);  // frames 512 .. 1023: sections 8 .. 15
  EXPECT_EQ(huge, Pfn(512));
  EXPECT_EQ(a.metadata_chunks(), 11U);
  const Pfn small = *a.allocate(3);  // frames 8 .. 15: an entry each
  EXPECT_EQ(small, Pfn(8));
  EXPECT_EQ(a.metadata_chunks(), 19U);
  EXPECT_EQ(a.meta(Pfn(15)).state, FrameState::kTail);
  a.free(small, 3);
  EXPECT_EQ(a.metadata_chunks(), 11U);
  EXPECT_EQ(a.find_meta(Pfn(15)), nullptr);
  for (uint64_t i = 1; i < 128; ++i) {
    EXPECT_EQ(a.meta(Pfn(128 + i)).state, FrameState::kTail) << i;
  }
  for (uint64_t i = 1; i < 512; ++i) {
    EXPECT_EQ(a.meta(Pfn(512 + i)).state, FrameState::kTail) << i;
  }
  EXPECT_EQ(a.meta(huge).order, 9U);
  a.meta(Pfn(200)).mapcount = 5;  // a tail's entry is its own
  EXPECT_EQ(a.meta(big).mapcount, 0);
  EXPECT_EQ(a.find_meta(Pfn(127)), nullptr);
  EXPECT_EQ(a.find_meta(Pfn(256)), nullptr);
  a.free(big, 7);
  EXPECT_EQ(a.metadata_chunks(), 9U);
  EXPECT_EQ(a.find_meta(Pfn(200)), nullptr);
  const Pfn again = *a.allocate(7);  // the same frames, clean
  EXPECT_EQ(again, big);
  EXPECT_EQ(a.meta(Pfn(200)).mapcount, 0);
  EXPECT_EQ(a.meta(Pfn(200)).state, FrameState::kTail);
  a.free(again, 7);
  a.free(huge, 9);
  EXPECT_EQ(a.metadata_chunks(), 1U);  // frame 0's entry
  a.free(one, 0);
  EXPECT_EQ(a.metadata_chunks(), 0U);
  EXPECT_EQ(a.frames_free(), 2048U);
}

// Host memory follows what is allocated, not the configured size: a 1 TiB
// machine costs the root of the index (its 4 TiB range: two wholly free
// 512 GiB children, six beyond the end) and no metadata until frames are
// handed out.
TEST(PageFrameAllocator, OneTebibyteCostsKilobytesUntilFramesAreAllocated) {
  for (FramePlacement pl : kBoth) {
    PageFrameAllocator a(1ULL << 40, 0, 1, pl);
    EXPECT_EQ(a.frames_total(), 1ULL << 28);
    EXPECT_EQ(a.free_blocks(kMaxOrder), 1024U);
    EXPECT_EQ(a.metadata_chunks(), 0U);
    EXPECT_EQ(a.index_nodes(), 1U);
    EXPECT_EQ(a.index_chunks(), 0U);
    std::vector<Pfn> got(100);
    for (Pfn& p : got) p = *a.allocate(0);
    EXPECT_LE(a.metadata_chunks(), 100U);
    // Each frame adds at most a bitmap and the six nodes above it (512 GiB,
    // 64 GiB, 8 GiB, 1 GiB, 128 MiB, 16 MiB).
    EXPECT_LE(a.index_chunks(), 100U);
    EXPECT_LE(a.index_nodes(), 1U + 6U * 100U);
    uint64_t blocks = 0;
    for (unsigned o = 0; o < kNumOrders; ++o) blocks += a.free_blocks(o);
    EXPECT_LE(blocks, 1024U + 100U * kMaxOrder);  // each split adds at most 18 blocks
    for (Pfn p : got) a.free(p, 0);
    EXPECT_EQ(a.metadata_chunks(), 0U);
    EXPECT_EQ(a.free_blocks(kMaxOrder), 1024U);
    EXPECT_EQ(a.index_nodes(), 1U);
    EXPECT_EQ(a.index_chunks(), 0U);
  }
}

// The index keeps records of partly used regions only: a bitmap per 2 MiB
// chunk holding an allocated frame but not wholly allocated, a node per
// such 16 MiB, 128 MiB and 1 GiB region, and the root (8 GiB here).
TEST(PageFrameAllocator, IndexRecordsAreThePartlyUsedRegions) {
  // mmusim's defaults: 8 GiB, 16 MiB reserved. The reserved range is the
  // wholly used first 16 MiB child of the first 128 MiB node: records for
  // the root, GiB 0 and that 128 MiB region, no bitmap.
  PageFrameAllocator a(8ULL << 30, 16ULL << 20, 1);
  EXPECT_EQ(a.index_nodes(), 3U);
  EXPECT_EQ(a.index_chunks(), 0U);
  std::vector<Pfn> got;
  std::set<uint64_t> chunks, n16m, n128m{0}, n1g{0};
  for (int i = 0; i < 1000; ++i) {
    got.push_back(*a.allocate(0));
    const uint64_t p = got.back().value();
    chunks.insert(p >> 9);
    n16m.insert(p >> 12);
    n128m.insert(p >> 15);
    n1g.insert(p >> 18);
  }
  // No chunk is wholly allocated (at most a few frames each), so every
  // chunk touched has its bitmap, and every region above it its node.
  EXPECT_EQ(a.index_chunks(), chunks.size());
  EXPECT_EQ(a.index_nodes(), 1 + n1g.size() + n128m.size() + n16m.size());
  // Bound: a bitmap and three nodes per allocation at most, whatever the seed.
  EXPECT_LE(a.index_chunks(), 1000U);
  EXPECT_LE(a.index_nodes(), 3U + 3U * 1000U);
  for (Pfn p : got) a.free(p, 0);
  EXPECT_EQ(a.index_nodes(), 3U);
  EXPECT_EQ(a.index_chunks(), 0U);

  // Sequential: frames 4096 .. 5095 fill chunk 8 (no record: wholly used)
  // and 487 frames of chunk 9 (a bitmap), in the second 16 MiB region.
  PageFrameAllocator seq(8ULL << 30, 16ULL << 20, 1, FramePlacement::kSequential);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seq.allocate(0), Pfn(4096 + i));
  EXPECT_EQ(seq.index_chunks(), 1U);
  EXPECT_EQ(seq.index_nodes(), 4U);
  // A 2 MiB or 1 GiB block makes its child wholly used: no record below it.
  ASSERT_EQ(seq.allocate(9), Pfn(5120));  // chunk 10
  EXPECT_EQ(seq.index_chunks(), 1U);
  EXPECT_EQ(seq.index_nodes(), 4U);
  ASSERT_EQ(seq.allocate(18), Pfn(1ULL << 18));  // GiB 1
  EXPECT_EQ(seq.index_nodes(), 4U);
}

// Free blocks of each order of a buddy system whose used frames are `used`
// (reserved ones included): the maximal aligned free blocks are the
// largest aligned blocks, up to order 18, that fit in each run of free
// frames, from the bottom of the run up.
std::array<uint64_t, kNumOrders> model_free_blocks(const std::vector<bool>& used) {
  std::array<uint64_t, kNumOrders> c{};
  const uint64_t n = used.size();
  for (uint64_t p = 0; p < n;) {
    if (used[p]) {
      ++p;
      continue;
    }
    uint64_t end = p;
    while (end < n && !used[end]) ++end;
    while (p < end) {
      unsigned k = kMaxOrder;
      while ((p & ((1ULL << k) - 1)) != 0 || p + (1ULL << k) > end) --k;
      ++c[k];
      p += 1ULL << k;
    }
  }
  return c;
}

// Random allocations and frees of random orders, checked against a model
// of the frames' state: every block handed out is aligned, managed and
// wholly free; free_blocks() and frames_free() match the model; then
// freeing everything gives back the initial blocks and index records.
TEST(PageFrameAllocator, ChurnMatchesABruteForceBuddyModel) {
  struct Case {
    uint64_t bytes, low;
    unsigned max_order;
    int steps, check_every;
  };
  // 6 MiB + 44 KiB (a partial last chunk) with 12 KiB reserved, orders up
  // to 10, checked at every step; 2 GiB + 6 MiB + 12 KiB with 1 MiB
  // reserved, every order, checked every 25 steps.
  const Case cases[] = {
      {(6ULL << 20) + (11ULL << 12), 3ULL << 12, 10, 4000, 1},
      {(2ULL << 30) + (6ULL << 20) + (3ULL << 12), 1ULL << 20, kMaxOrder, 1500, 25}};
  for (const Case& c : cases) {
    for (FramePlacement pl : kBoth) {
      for (uint64_t seed : {1, 2}) {
        PageFrameAllocator a(c.bytes, c.low, seed, pl);
        const auto initial = free_counts(a);
        const uint64_t nodes = a.index_nodes(), chunks = a.index_chunks();
        std::vector<bool> used(a.frames_total(), false);
        for (uint64_t p = 0; p < a.frames_total() - a.frames_managed(); ++p) used[p] = true;
        ASSERT_EQ(model_free_blocks(used), initial);
        SplitMix64 r(seed * 1000 + c.max_order);
        std::vector<std::pair<Pfn, unsigned>> live;
        uint64_t free_frames = a.frames_managed();
        for (int i = 0; i < c.steps; ++i) {
          if (!live.empty() && r.below(5) < 2) {
            const size_t k = r.below(live.size());
            const auto [p, o] = live[k];
            a.free(p, o);
            for (uint64_t f = p.value(); f < p.value() + (1ULL << o); ++f) used[f] = false;
            free_frames += 1ULL << o;
            live[k] = live.back();
            live.pop_back();
          } else {
            // Mostly small orders, as a kernel asks.
            const auto o =
                static_cast<unsigned>(r.below(2) != 0 ? r.below(3) : r.below(c.max_order + 1));
            const auto p = a.allocate(o);
            if (!p) {
              // Only when the model has no free aligned block of that order.
              const auto m = model_free_blocks(used);
              for (unsigned k = o; k < kNumOrders; ++k) ASSERT_EQ(m[k], 0U) << "order " << o;
              continue;
            }
            ASSERT_EQ(p->value() % (1ULL << o), 0U);
            ASSERT_LE(p->value() + (1ULL << o), a.frames_total());
            for (uint64_t f = p->value(); f < p->value() + (1ULL << o); ++f) {
              ASSERT_FALSE(used[f]) << "frame " << f << " handed out twice";
              used[f] = true;
            }
            free_frames -= 1ULL << o;
            live.emplace_back(*p, o);
          }
          ASSERT_EQ(a.frames_free(), free_frames);
          if (i % c.check_every == 0) {
            ASSERT_EQ(free_counts(a), model_free_blocks(used)) << "step " << i;
          }
        }
        EXPECT_EQ(free_counts(a), model_free_blocks(used));
        shuffle(live, seed);
        for (const auto& [p, o] : live) a.free(p, o);
        EXPECT_EQ(free_counts(a), initial);
        EXPECT_EQ(a.frames_free(), a.frames_managed());
        EXPECT_EQ(a.metadata_chunks(), 0U);
        EXPECT_EQ(a.index_nodes(), nodes);
        EXPECT_EQ(a.index_chunks(), chunks);
      }
    }
  }
}

// 1000 spread allocations of 4 KiB in 64 MiB (32 chunks of 2 MiB, 16384
// frames): each is uniform over the frames still free, so a chunk's count
// is hypergeometric: mean 1000/32 = 31.25, variance 1000 (1/32) (31/32)
// (16384 - 1000) / (16384 - 1) = 28.43, sd 5.33. Every chunk lies within
// 5 sd of the mean ([4.6, 57.9]), and the chi-square sum over the chunks,
// sum (n - 31.25)^2 / 31.25 (mean 32 * 28.43 / 31.25 = 29.1; under 31 + 5
// sqrt(62) = 70.4, the p < 1e-6 bound of 31 degrees of freedom). The draws
// are deterministic for the seed: this checks the seeds used, not luck.
TEST(PageFrameAllocator, SpreadSharesOfTheChunksAreBinomial) {
  for (uint64_t seed : {1, 2, 3}) {
    PageFrameAllocator a(64ULL << 20, 0, seed);
    std::array<int, 32> n{};
    for (int i = 0; i < 1000; ++i) ++n[a.allocate(0)->value() >> 9];
    double chi2 = 0;
    for (int c : n) {
      EXPECT_GE(c, 5) << "seed " << seed;
      EXPECT_LE(c, 57) << "seed " << seed;
      chi2 += (c - 31.25) * (c - 31.25) / 31.25;
    }
    EXPECT_LT(chi2, 70.4) << "seed " << seed;
  }
}

// With the state held fixed (each block freed right after it is drawn),
// the draws of an order are independent and uniform over its S free
// aligned slots: N = 200 S draws give each slot Binomial(N, 1/S), mean 200,
// sd sqrt(200 (1 - 1/S)) <= 14.15: every free slot, and nothing else, is
// drawn, each 200 +- 5 sd times ([129, 271]), and the chi-square sum (S - 1
// degrees of freedom) stays under S - 1 + 5 sqrt(2 (S - 1)).
TEST(PageFrameAllocator, SpreadDrawsEveryFreeSlotOfAnOrderEquallyOften) {
  struct Case {
    uint64_t bytes, low;
    int scatter;  // 4 KiB allocations first, to fragment memory
    std::vector<unsigned> orders;
  };
  // 4 MiB, 3 frames reserved, 100 frames taken: two chunks of mixed free
  // and used runs. 64 MiB, 24 frames taken: order 6 draws weigh wholly
  // free chunks (8 slots each) against partly used ones; order 9 and 10
  // draws may pick only wholly free chunks and pairs of them.
  const Case cases[] = {{4ULL << 20, 3ULL << 12, 100, {0, 1, 2, 4}},
                        {64ULL << 20, 0, 24, {6, 9, 10}}};
  for (const Case& c : cases) {
    PageFrameAllocator a(c.bytes, c.low, 5);
    std::vector<bool> used(a.frames_total(), false);
    for (uint64_t p = 0; p < a.frames_total() - a.frames_managed(); ++p) used[p] = true;
    for (int i = 0; i < c.scatter; ++i) used[a.allocate(0)->value()] = true;
    for (unsigned o : c.orders) {
      std::set<uint64_t> free_slots;
      for (uint64_t p = 0; p + (1ULL << o) <= used.size(); p += 1ULL << o) {
        bool all = true;
        for (uint64_t f = p; f < p + (1ULL << o); ++f) all = all && !used[f];
        if (all) free_slots.insert(p);
      }
      const uint64_t s = free_slots.size();
      ASSERT_GT(s, 1U) << "order " << o;
      std::map<uint64_t, int> n;
      for (uint64_t i = 0; i < 200 * s; ++i) {
        const Pfn p = *a.allocate(o);
        ++n[p.value()];
        a.free(p, o);
      }
      EXPECT_EQ(n.size(), s) << "order " << o;
      double chi2 = 0;
      for (const auto& [p, k] : n) {
        EXPECT_TRUE(free_slots.count(p)) << "order " << o << " frame " << p;
        EXPECT_GE(k, 129) << "order " << o << " frame " << p;
        EXPECT_LE(k, 271) << "order " << o << " frame " << p;
        chi2 += (k - 200.0) * (k - 200.0) / 200.0;
      }
      const double dof = static_cast<double>(s - 1);
      EXPECT_LT(chi2, dof + 5 * std::sqrt(2 * dof)) << "order " << o << ", " << s << " slots";
    }
  }
}

}  // namespace
}  // namespace mmusim
