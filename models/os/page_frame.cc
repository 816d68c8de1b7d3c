#include "models/os/page_frame.h"

#include <algorithm>
#include <stdexcept>
#include <string>

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

PageFrameAllocator::PageFrameAllocator(uint64_t bytes, uint64_t reserved_low, uint64_t seed,
                                       FramePlacement placement)
    : frames_(bytes >> 12),
      low_(std::min(frames_, (reserved_low + 4095) >> 12)),
      placement_(placement),
      rng_(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL) {
  // The largest aligned blocks that fit, from the bottom up.
  std::vector<std::pair<uint64_t, unsigned>> blocks;
  for (uint64_t p = low_; p < frames_;) {
    unsigned k = kMaxOrder;
    while ((p & ((1ULL << k) - 1)) != 0 || p + (1ULL << k) > frames_) --k;
    blocks.emplace_back(p, k);
    p += 1ULL << k;
  }
  // Room for the blocks that the first few dozen scattered allocations split
  // off (each adds up to 18) without rehashing; 32 KiB.
  free_index_.reserve(std::max<size_t>(blocks.size() * 2, 1536));
  for (const auto& [p, k] : blocks) insert_free(p, k);
}

void PageFrameAllocator::insert_free(uint64_t pfn, unsigned order) {
  uint64_t pos = 0;
  if (placement_ == FramePlacement::kSpread) {
    pos = spread_[order].size();
    spread_[order].push_back(pfn);
  } else {
    sorted_[order].insert(pfn);
  }
  free_index_.insert(pfn, free_ref(order, pos));
  ++nfree_[order];
  free_frames_ += 1ULL << order;
}

void PageFrameAllocator::remove_free(uint64_t pfn, unsigned order, uint64_t pos) {
  if (placement_ == FramePlacement::kSpread) {
    std::vector<uint64_t>& list = spread_[order];
    const uint64_t last = list.back();
    if (last != pfn) {
      list[pos] = last;
      *free_index_.find(last) = free_ref(order, pos);
    }
    list.pop_back();
  } else {
    sorted_[order].erase(pfn);
  }
  free_index_.erase(pfn);
  --nfree_[order];
  free_frames_ -= 1ULL << order;
}

std::optional<Pfn> PageFrameAllocator::allocate(unsigned order) {
  if (order > kMaxOrder) return std::nullopt;
  uint64_t target = 0;  // first frame of the block handed out
  unsigned from = 0;    // order of the free block it is cut from
  uint64_t block = 0;
  uint64_t pos = 0;  // its index in spread_[from] (spread placement)
  if (placement_ == FramePlacement::kSpread) {
    // Every aligned order-sized slot inside a free block is equally likely:
    // weigh each order by its slots, then the slot picks block and offset.
    uint64_t slots = 0;
    for (unsigned j = order; j <= kMaxOrder; ++j) slots += nfree_[j] << (j - order);
    if (slots == 0) return std::nullopt;
    uint64_t r = rng_.below(slots);
    for (from = order;; ++from) {
      const uint64_t w = nfree_[from] << (from - order);
      if (r < w) break;
      r -= w;
    }
    const unsigned sub = from - order;
    pos = r >> sub;
    block = spread_[from][pos];
    target = block + ((r & ((1ULL << sub) - 1)) << order);
  } else {
    bool found = false;
    for (unsigned j = order; j <= kMaxOrder; ++j) {
      if (!sorted_[j].empty() && (!found || *sorted_[j].begin() < block)) {
        block = *sorted_[j].begin();
        from = j;
        found = true;
      }
    }
    if (!found) return std::nullopt;
    target = block;
  }
  remove_free(block, from, pos);
  // Split down to `order`, keeping the half that holds the target and
  // returning the other half to the free lists.
  for (unsigned k = from; k > order; --k) {
    const uint64_t half = 1ULL << (k - 1);
    if (target >= block + half) {
      insert_free(block, k - 1);
      block += half;
    } else {
      insert_free(block + half, k - 1);
    }
  }
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
  uint64_t block = p;
  unsigned k = order;
  while (k < kMaxOrder) {
    const uint64_t buddy = block ^ (1ULL << k);
    const uint64_t* ref = free_index_.find(buddy);
    if (!ref || ref_order(*ref) != k) break;
    remove_free(buddy, k, ref_pos(*ref));
    block = std::min(block, buddy);
    ++k;
  }
  insert_free(block, k);
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
