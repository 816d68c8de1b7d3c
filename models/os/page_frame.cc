#include "models/os/page_frame.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace mmusim {

std::optional<FramePlacement> parse_frame_placement(std::string_view s) {
  if (s == "spread") return FramePlacement::kSpread;
  if (s == "sequential") return FramePlacement::kSequential;
  return std::nullopt;
}

std::string_view frame_placement_name(FramePlacement p) {
  return p == FramePlacement::kSpread ? "spread" : "sequential";
}

LruList PageFrame::lru() const {
  if (!test(FrameFlag::kLru)) return LruList::kNone;
  if (test(FrameFlag::kUnevictable)) return LruList::kUnevictable;
  const bool active = test(FrameFlag::kActive);
  if (test(FrameFlag::kFileLru)) return active ? LruList::kActiveFile : LruList::kInactiveFile;
  return active ? LruList::kActiveAnon : LruList::kInactiveAnon;
}

namespace {

// Set bits of a word (SWAR: the build targets baseline x86-64, where
// __builtin_popcountll is a library call).
unsigned popcount(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ULL;
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return static_cast<unsigned>((x * 0x0101010101010101ULL) >> 56);
}

// Position of the r-th set bit (from 0) of x, which has more than r.
unsigned select_bit(uint64_t x, unsigned r) {
  unsigned pos = 0;
  for (unsigned w = 32; w >= 8; w /= 2) {
    const unsigned c = popcount(x & ((1ULL << w) - 1));
    if (r >= c) {
      r -= c;
      x >>= w;
      pos += w;
    }
  }
  for (;; x >>= 1, ++pos) {
    if ((x & 1) != 0) {
      if (r == 0) return pos;
      --r;
    }
  }
}

// The first bit of every aligned group of 2^g bits in a word (g <= 6).
constexpr std::array<uint64_t, 7> kAligned = {~0ULL,
                                              0x5555555555555555ULL,
                                              0x1111111111111111ULL,
                                              0x0101010101010101ULL,
                                              0x0001000100010001ULL,
                                              0x0000000100000001ULL,
                                              1ULL};

// Bits of `set` kept at the first bit of every aligned group of 2^g bits
// that are all set (g <= 6).
uint64_t whole_groups(uint64_t set, unsigned g) {
  for (unsigned s = 1; s < (1U << g); s <<= 1) set &= set >> s;
  return set & kAligned[g];
}

// The largest g in [g0, 3] such that the aligned group of 2^g children
// holding child k are all in `mask` (those of 2^g0 are).
unsigned grow8(unsigned mask, unsigned k, unsigned g) {
  for (; g < 3; ++g) {
    const unsigned size = 2U << g;
    const unsigned bits = ((1U << size) - 1) << (k & ~(size - 1));
    if ((mask & bits) != bits) break;
  }
  return g;
}

// A chunk's bitmap: 512 frames, bit set = used.
using Bits = std::array<uint64_t, 8>;

// Bits needed to write x (0 for 0).
unsigned bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

// The largest order o in [order, 9] such that the aligned 2^o frames
// holding frame `off` of the chunk are all free (those of 2^order are).
// In a word, the used frames nearest below and above `off` share the
// longest prefixes with it: the group stops below the first bit where they
// differ.
unsigned chunk_grow(const Bits& used, unsigned off, unsigned order) {
  const uint64_t w = used[off >> 6];
  const unsigned bit = off & 63;
  if (w != 0) {
    unsigned o = 6;
    const uint64_t below = w & ((1ULL << bit) - 1);
    const uint64_t above = w & ~((1ULL << bit) - 1);
    if (below != 0) o = std::min(o, bit_length(bit ^ (63U - __builtin_clzll(below))) - 1);
    if (above != 0) o = std::min(o, bit_length(bit ^ __builtin_ctzll(above)) - 1);
    return std::max(o, order);
  }
  unsigned o = std::max(order, 6U);
  for (; o < 9; ++o) {
    const unsigned words = 2U << (o - 6);
    const unsigned first = (off >> 6) & ~(words - 1);
    uint64_t any = 0;
    for (unsigned i = first; i < first + words; ++i) any |= used[i];
    if (any != 0) break;
  }
  return o;
}

// Sets (or clears) the bits of frames [off, off + 2^order) of a chunk.
void chunk_mark(Bits& used, unsigned off, unsigned order, bool set) {
  if (order < 6) {
    const uint64_t bits = ((1ULL << (1U << order)) - 1) << (off & 63);
    used[off >> 6] = set ? used[off >> 6] | bits : used[off >> 6] & ~bits;
    return;
  }
  for (unsigned w = off >> 6; w < (off >> 6) + (1U << (order - 6)); ++w) used[w] = set ? ~0ULL : 0;
}

bool chunk_full(const Bits& used) {
  uint64_t all = ~0ULL;
  for (uint64_t w : used) all &= w;
  return all == ~0ULL;
}

// Offset in the chunk of its r-th free aligned slot of `order` (<= 8).
unsigned chunk_pick(const Bits& used, unsigned order, uint64_t r) {
  if (order <= 6) {
    for (unsigned w = 0;; ++w) {
      assert(w < 8);
      const uint64_t g = whole_groups(~used[w], order);
      const unsigned n = popcount(g);
      if (r < n) return w * 64 + select_bit(g, static_cast<unsigned>(r));
      r -= n;
    }
  }
  const unsigned words = 1U << (order - 6);
  for (unsigned w = 0;; w += words) {
    assert(w < 8);
    uint64_t any = 0;
    for (unsigned i = w; i < w + words; ++i) any |= used[i];
    if (any == 0) {
      if (r == 0) return w * 64;
      --r;
    }
  }
}

// Slot counts a node keeps for a child of order c: orders below c (larger
// ones are whole children), up to 18.
constexpr unsigned rows_for(unsigned c) { return std::min(c, kNumOrders); }

// A wholly free child of order c: 2^(c - o) slots of each order o < c.
template <class Column>
void fill_free(Column& col, unsigned c) {
  for (unsigned o = 0; o < rows_for(c); ++o) {
    col[o] = static_cast<typename Column::value_type>(1ULL << (c - o));
  }
}

// col += d (kAdd) or col -= d over the whole column, entries beyond the
// orders that change being 0 in d: two SSE2 operations for a LowNode's
// column, ten for a HighNode's (GCC/Clang vector extension).
template <bool kAdd, class T, size_t N>
void add_column(std::array<T, N>& col, const std::array<T, N>& d) {
  using V __attribute__((vector_size(16))) = T;
  static_assert(N * sizeof(T) % sizeof(V) == 0);
  for (size_t i = 0; i < N; i += sizeof(V) / sizeof(T)) {
    V a;
    V b;
    std::memcpy(&a, &col[i], sizeof(V));
    std::memcpy(&b, &d[i], sizeof(V));
    a = kAdd ? a + b : a - b;
    std::memcpy(&col[i], &a, sizeof(V));
  }
}

}  // namespace

namespace {

// Free aligned slots of order o that a block of `order` holds (o <= order)
// or sits in (o > order: one).
constexpr uint64_t slots_of(unsigned order, unsigned o) {
  return o <= order ? 1ULL << (order - o) : 1;
}

// Rows of Delta: kTakes[order][o] = the slots of order o that a block of
// `order` holds or sits in (all orders), kUpTo[m][o] = all ones for o <= m.
template <class T, size_t N>
constexpr std::array<std::array<T, N>, kNumOrders> takes_table() {
  std::array<std::array<T, N>, kNumOrders> t{};
  for (unsigned order = 0; order < kNumOrders; ++order) {
    for (unsigned o = 0; o < N; ++o) t[order][o] = static_cast<T>(slots_of(order, o));
  }
  return t;
}
template <class T, size_t N>
constexpr std::array<std::array<T, N>, kNumOrders> up_to_table() {
  std::array<std::array<T, N>, kNumOrders> t{};
  for (unsigned m = 0; m < kNumOrders; ++m) {
    for (unsigned o = 0; o <= m && o < N; ++o) t[m][o] = static_cast<T>(~0ULL);
  }
  return t;
}
constexpr auto kTakesLow = takes_table<uint16_t, 16>();
constexpr auto kTakesHigh = takes_table<uint64_t, 20>();
constexpr auto kUpToLow = up_to_table<uint16_t, 16>();
constexpr auto kUpToHigh = up_to_table<uint64_t, 20>();

// out = a & b (vector extension, as add_column).
template <class T, size_t N>
void and_rows(std::array<T, N>& out, const std::array<T, N>& a, const std::array<T, N>& b) {
  using V __attribute__((vector_size(16))) = T;
  for (size_t i = 0; i < N; i += sizeof(V) / sizeof(T)) {
    V x;
    V y;
    std::memcpy(&x, &a[i], sizeof(V));
    std::memcpy(&y, &b[i], sizeof(V));
    x &= y;
    std::memcpy(&out[i], &x, sizeof(V));
  }
}

}  // namespace

void PageFrameAllocator::Delta::set(unsigned order, unsigned merged) {
  const unsigned m = std::min(merged, kMaxOrder);
  if (order < kNumOrders) {
    and_rows(high, kTakesHigh[order], kUpToHigh[m]);
    and_rows(low, kTakesLow[order], kUpToLow[m]);
    return;
  }
  // A block above the largest free order: only the constructor marks one
  // (reserved memory, the root's range beyond the end of memory). The rows
  // are computed as the tables would hold them; the tables stop at
  // kMaxOrder, and reading past them was a global-buffer overflow.
  for (unsigned o = 0; o < high.size(); ++o) high[o] = o <= m ? slots_of(order, o) : 0;
  for (unsigned o = 0; o < low.size(); ++o) {
    low[o] = o <= m ? static_cast<uint16_t>(slots_of(order, o)) : 0;
  }
}

template <class F>
decltype(auto) PageFrameAllocator::with_node(void* rec, unsigned order, F&& f) {
  if (order <= kMaxOrder) return f(*static_cast<LowNode*>(rec));
  return f(*static_cast<HighNode*>(rec));
}

PageFrameAllocator::PageFrameAllocator(uint64_t bytes, uint64_t reserved_low, uint64_t seed,
                                       FramePlacement placement)
    : frames_(bytes >> 12),
      low_(std::min(frames_, (reserved_low + 4095) >> 12)),
      placement_(placement),
      rng_(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL) {
  root_order_ = 21;
  while ((1ULL << root_order_) < frames_) root_order_ += kFanShift;
  root_ = static_cast<HighNode*>(new_record(root_order_, true));
  // What is not managed (reserved low memory, the root's range beyond the
  // end of memory) is used for good, as the largest aligned blocks.
  auto mark_range = [this](uint64_t from, uint64_t to) {
    Delta d{};
    for (uint64_t p = from; p < to;) {
      unsigned k = root_order_ - 1;
      while ((p & ((1ULL << k) - 1)) != 0 || p + (1ULL << k) > to) --k;
      mark_used(p, k, d);
      p += 1ULL << k;
    }
  };
  mark_range(0, low_);
  mark_range(frames_, 1ULL << root_order_);
  // The free blocks: the largest aligned blocks that fit, from the bottom up.
  for (uint64_t p = low_; p < frames_;) {
    unsigned k = kMaxOrder;
    while ((p & ((1ULL << k) - 1)) != 0 || p + (1ULL << k) > frames_) --k;
    ++nfree_[k];
    for (unsigned o = 0; o <= k; ++o) total_[o] += 1ULL << (k - o);
    p += 1ULL << k;
  }
  free_frames_ = frames_ - low_;
}

PageFrameAllocator::~PageFrameAllocator() { delete_record(root_, root_order_); }

void* PageFrameAllocator::new_record(unsigned order, bool free) {
  if (order == kChunkOrder) {
    auto* ch = new Chunk;
    if (!free) ch->used.fill(~0ULL);
    ++index_chunks_;
    return ch;
  }
  ++index_nodes_;
  auto init = [&](auto& x) {
    if (!free) {
      x.full_mask = 0xFF;
      return;
    }
    x.free_mask = 0xFF;
    for (auto& col : x.slots) fill_free(col, order - kFanShift);
  };
  if (order <= kMaxOrder) {
    auto* x = new LowNode;
    init(*x);
    return x;
  }
  auto* x = new HighNode;
  init(*x);
  return x;
}

void PageFrameAllocator::delete_record(void* rec, unsigned order) {
  if (order == kChunkOrder) {
    delete static_cast<Chunk*>(rec);
    --index_chunks_;
    return;
  }
  with_node(rec, order, [&](auto& x) {
    for (void* ch : x.child) {
      if (ch) delete_record(ch, order - kFanShift);
    }
    delete &x;
  });
  --index_nodes_;
}

uint64_t PageFrameAllocator::pick(unsigned order, uint64_t r) const {
  void* rec = root_;
  unsigned n = root_order_;
  uint64_t base = 0;
  for (;;) {
    if (n == kChunkOrder) return base + chunk_pick(static_cast<Chunk*>(rec)->used, order, r);
    const unsigned c = n - kFanShift;
    bool done = false;
    with_node(rec, n, [&](auto& x) {
      if (order >= c) {  // a run of wholly free children
        const uint64_t runs = whole_groups(x.free_mask, order - c);
        base += (uint64_t{select_bit(runs, static_cast<unsigned>(r))} << c);
        done = true;
        return;
      }
      unsigned k = 0;
      for (; k < 7; ++k) {
        const uint64_t w = x.slots[k][order];
        if (r < w) break;
        r -= w;
      }
      assert(r < x.slots[k][order]);
      base += uint64_t{k} << c;
      if (((x.free_mask >> k) & 1) != 0) {
        base += r << order;
        done = true;
        return;
      }
      rec = x.child[k];
    });
    if (done) return base;
    n = c;
  }
}

namespace {
struct Step {
  void* rec;   // a node on the path
  unsigned n;  // its order
  unsigned k;  // the child the block is in
};
}  // namespace

unsigned PageFrameAllocator::mark_used(uint64_t pfn, unsigned order, Delta& d) {
  std::array<Step, kMaxDepth> path;  // filled on the way down
  unsigned depth = 0;
  void* rec = root_;
  unsigned n = root_order_;
  unsigned merged = 0;
  bool known = false;  // merged is known: the block's free block was found
  // Down: through the partly used children to the chunk, or to the node
  // whose children the block covers; a wholly free child on the way is
  // where the free block holding it is (and gets a record).
  for (;;) {
    if (n == kChunkOrder) {
      Bits& used = static_cast<Chunk*>(rec)->used;
      const auto off = static_cast<unsigned>(pfn & ((1U << kChunkOrder) - 1));
      if (!known) merged = chunk_grow(used, off, order);
      chunk_mark(used, off, order, true);
      break;
    }
    const unsigned c = n - kFanShift;
    const auto k = static_cast<unsigned>((pfn >> c) & 7);
    if (order >= c) {
      with_node(rec, n, [&](auto& x) {
        const unsigned bits = ((1U << (1U << (order - c))) - 1) << k;
        if (!known) merged = c + grow8(x.free_mask, k, order - c);
        x.free_mask = static_cast<uint8_t>(x.free_mask & ~bits);
        x.full_mask = static_cast<uint8_t>(x.full_mask | bits);
        for (unsigned i = k; i < k + (1U << (order - c)); ++i) x.slots[i].fill(0);
      });
      break;
    }
    path[depth++] = {rec, n, k};
    rec = with_node(rec, n, [&](auto& x) -> void* {
      if (((x.free_mask >> k) & 1) != 0) {
        if (!known) merged = c + grow8(x.free_mask, k, 0);
        known = true;
        x.free_mask = static_cast<uint8_t>(x.free_mask & ~(1U << k));
        x.child[k] = new_record(c, true);
      }
      return x.child[k];
    });
    n = c;
  }
  // Up: every node on the path loses the block's slots in the child that
  // held it; a child left wholly used drops its record.
  d.set(order, merged);
  for (unsigned i = depth; i-- > 0;) {
    const Step s = path[i];
    const unsigned c = s.n - kFanShift;
    with_node(s.rec, s.n, [&](auto& x) {
      auto& col = x.slots[s.k];
      if (merged < c) {
        if constexpr (std::is_same_v<decltype(x), LowNode&>) {
          add_column<false>(col, d.low);
        } else {
          add_column<false>(col, d.high);
        }
      } else {  // the child was wholly free: orders up to c - 1 change
        for (unsigned o = 0; o < rows_for(c); ++o) {
          col[o] = static_cast<std::remove_reference_t<decltype(col[o])>>(col[o] - d.high[o]);
        }
      }
      void*& ch = x.child[s.k];
      const bool full = c == kChunkOrder
                            ? chunk_full(static_cast<Chunk*>(ch)->used)
                            : with_node(ch, c, [](auto& y) { return y.full_mask == 0xFF; });
      if (full) {
        delete_record(ch, c);
        ch = nullptr;
        x.full_mask = static_cast<uint8_t>(x.full_mask | (1U << s.k));
      }
    });
  }
  return merged;
}

unsigned PageFrameAllocator::mark_free(uint64_t pfn, unsigned order, Delta& d) {
  std::array<Step, kMaxDepth> path;  // filled on the way down
  unsigned depth = 0;
  void* rec = root_;
  unsigned n = root_order_;
  unsigned merged = 0;
  // Down: through the partly used children (a wholly used one gets a
  // record) to the chunk, or to the node whose children the block covers.
  for (;;) {
    if (n == kChunkOrder) {
      Bits& used = static_cast<Chunk*>(rec)->used;
      const auto off = static_cast<unsigned>(pfn & ((1U << kChunkOrder) - 1));
      chunk_mark(used, off, order, false);
      merged = chunk_grow(used, off, order);
      break;
    }
    const unsigned c = n - kFanShift;
    const auto k = static_cast<unsigned>((pfn >> c) & 7);
    if (order >= c) {
      with_node(rec, n, [&](auto& x) {
        const unsigned bits = ((1U << (1U << (order - c))) - 1) << k;
        x.full_mask = static_cast<uint8_t>(x.full_mask & ~bits);
        x.free_mask = static_cast<uint8_t>(x.free_mask | bits);
        for (unsigned i = k; i < k + (1U << (order - c)); ++i) fill_free(x.slots[i], c);
        merged = c + grow8(x.free_mask, k, order - c);
      });
      break;
    }
    path[depth++] = {rec, n, k};
    rec = with_node(rec, n, [&](auto& x) -> void* {
      if (((x.full_mask >> k) & 1) != 0) {
        x.full_mask = static_cast<uint8_t>(x.full_mask & ~(1U << k));
        x.child[k] = new_record(c, false);
      }
      return x.child[k];
    });
    n = c;
  }
  // Up: a child now wholly free drops its record and the merge goes on in
  // its node; otherwise the node (and those above) gain the block's slots
  // in that child, and the merge has stopped.
  bool set = false;
  for (unsigned i = depth; i-- > 0;) {
    const Step s = path[i];
    const unsigned c = s.n - kFanShift;
    with_node(s.rec, s.n, [&](auto& x) {
      if (merged >= c) {
        delete_record(x.child[s.k], c);
        x.child[s.k] = nullptr;
        x.free_mask = static_cast<uint8_t>(x.free_mask | (1U << s.k));
        fill_free(x.slots[s.k], c);
        merged = c + grow8(x.free_mask, s.k, 0);
        return;
      }
      if (!set) {
        d.set(order, merged);
        set = true;
      }
      if constexpr (std::is_same_v<decltype(x), LowNode&>) {
        add_column<true>(x.slots[s.k], d.low);
      } else {
        add_column<true>(x.slots[s.k], d.high);
      }
    });
  }
  if (!set) d.set(order, merged);
  return merged;
}

void PageFrameAllocator::account(unsigned order, unsigned merged, const Delta& d, int sign) {
  if (sign > 0) {
    add_column<true>(total_, d.high);
  } else {
    add_column<false>(total_, d.high);
  }
  const unsigned m = std::min(merged, kMaxOrder);
  if (sign > 0) {
    for (unsigned o = order; o < m; ++o) --nfree_[o];
    ++nfree_[m];
    free_frames_ += 1ULL << order;
  } else {
    --nfree_[m];
    for (unsigned o = order; o < m; ++o) ++nfree_[o];
    free_frames_ -= 1ULL << order;
  }
}

std::optional<Pfn> PageFrameAllocator::allocate(unsigned order) {
  if (order > kMaxOrder || total_[order] == 0) return std::nullopt;
  // Spread: one draw, uniform over the free aligned slots of the order;
  // sequential: the first of them (the lowest free block of that order or
  // larger, as a buddy allocator splitting off its lower halves gives).
  const uint64_t r = placement_ == FramePlacement::kSpread ? rng_.below(total_[order]) : 0;
  const uint64_t target = pick(order, r);
  Delta d;  // set by mark_*
  account(order, mark_used(target, order, d), d, -1);
  // Metadata: the head and its tails (up to 2 MiB), all kTail but the head.
  PageFrame* head = nullptr;
  if (order < kSectionShift) {
    for (uint64_t i = 0; i < (1ULL << order); ++i) {
      const uint64_t e = take_pool_entry();
      PageFrame& f = pool_entry(e);
      f = PageFrame{};
      f.state = FrameState::kTail;
      if (i == 0) head = &f;
      singles_.insert(target + i, e);
    }
  } else {
    const uint64_t first = target >> kSectionShift;
    const uint64_t n = 1ULL << (std::min(order, kDescribedOrder) - kSectionShift);
    for (uint64_t k = first; k < first + n; ++k) {
      std::unique_ptr<Section> s = spare_ ? std::move(spare_) : std::make_unique<Section>();
      for (PageFrame& f : s->frame) {
        f = PageFrame{};
        f.state = FrameState::kTail;
      }
      if (k == first) head = &s->frame[0];
      sections_.insert(k, std::move(s));
    }
  }
  head->state = FrameState::kHead;
  head->order = static_cast<uint8_t>(order);
  head->refcount = 1;
  return Pfn(target);
}

void PageFrameAllocator::free(Pfn head, unsigned order) {
  const uint64_t p = head.value();
  PageFrame* h = p < frames_ ? slot(p) : nullptr;
  if (order > kMaxOrder || !h || h->state != FrameState::kHead || h->order != order) {
    throw std::invalid_argument("PageFrameAllocator::free: frame " + std::to_string(p) +
                                " is not the head of an allocated block of order " +
                                std::to_string(order));
  }
  // Drop the metadata: pool entries are cleared and reused, one section is
  // kept as the spare.
  if (order < kSectionShift) {
    for (uint64_t i = 0; i < (1ULL << order); ++i) {
      const uint64_t e = *singles_.extract(p + i);
      pool_entry(e) = PageFrame{};
      pool_free_.push_back(e);
    }
  } else {
    const uint64_t first = p >> kSectionShift;
    const uint64_t n = 1ULL << (std::min(order, kDescribedOrder) - kSectionShift);
    for (uint64_t k = first; k < first + n; ++k) {
      std::optional<std::unique_ptr<Section>> s = sections_.extract(k);
      if (!spare_) spare_ = std::move(*s);
    }
  }
  Delta d;  // set by mark_*
  account(order, mark_free(p, order, d), d, +1);
}

PageFrame* PageFrameAllocator::slot(uint64_t pfn) const {
  if (const uint64_t* e = singles_.find(pfn)) return &pool_entry(*e);
  const std::unique_ptr<Section>* s = sections_.find(pfn >> kSectionShift);
  return s ? &(*s)->frame[pfn & kSectionMask] : nullptr;
}

uint64_t PageFrameAllocator::take_pool_entry() {
  if (!pool_free_.empty()) {
    const uint64_t e = pool_free_.back();
    pool_free_.pop_back();
    return e;
  }
  if ((pool_used_ & kPoolMask) == 0) pool_.push_back(std::make_unique<PageFrame[]>(kPoolMask + 1));
  return pool_used_++;
}

const PageFrame* PageFrameAllocator::find_meta(Pfn p) const {
  if (p.value() >= frames_) return nullptr;
  const PageFrame* f = slot(p.value());
  return f && f->state != FrameState::kFree ? f : nullptr;
}

const PageFrame& PageFrameAllocator::meta(Pfn p) const {
  const PageFrame* f = find_meta(p);
  if (!f) {
    throw std::out_of_range("PageFrameAllocator::meta: frame " + std::to_string(p.value()) +
                            " is free or has no metadata");
  }
  return *f;
}

PageFrame& PageFrameAllocator::meta(Pfn p) {
  return const_cast<PageFrame&>(static_cast<const PageFrameAllocator&>(*this).meta(p));
}

}  // namespace mmusim
