#include "models/os/swap_readahead.h"

#include <algorithm>

#include "models/os/swap_area.h"

namespace mmusim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kVmaOrderCeiling = 5;  // VMA readahead: at most 32 pages
constexpr uint32_t kVmaHitsMax = 63;      // the hits field's 6 bits

}  // namespace

uint32_t default_page_cluster(uint64_t totalram_bytes) {
  return (totalram_bytes >> 20) < 16 ? 2 : 3;
}

uint32_t swapin_nr_pages(uint64_t prev_offset, uint64_t offset, uint64_t hits, uint32_t max_pages,
                         uint32_t prev_win) {
  uint64_t pages = hits + 2;
  if (hits == 0) {
    // No hits to judge by: keep 2 only for a fault next to the previous one.
    if (offset != prev_offset + 1 && offset + 1 != prev_offset) pages = 1;
  } else {
    uint64_t round = 4;
    while (round < pages) round <<= 1;
    pages = round;
  }
  pages = std::min<uint64_t>(pages, max_pages);
  return static_cast<uint32_t>(std::max<uint64_t>(pages, prev_win / 2));
}

uint32_t ClusterReadahead::window(uint64_t offset) {
  const uint32_t max_pages = page_cluster_ >= 32 ? UINT32_MAX : uint32_t{1} << page_cluster_;
  if (max_pages <= 1) return 1;
  const uint64_t hits = hits_;
  hits_ = 0;
  const uint32_t pages = swapin_nr_pages(prev_offset_, offset, hits, max_pages, last_pages_);
  if (hits == 0) prev_offset_ = offset;
  last_pages_ = pages;
  return pages;
}

ClusterReadahead::Range ClusterReadahead::range(uint64_t offset, uint64_t area_slots) {
  Range r;
  r.window = window(offset);
  r.first = r.last = offset;
  const uint64_t mask = uint64_t{r.window} - 1;
  if (mask == 0) return r;
  r.first = offset & ~mask;
  r.last = offset | mask;
  if (r.first == 0) r.first = 1;  // slot 0 is the header
  if (r.last >= area_slots) r.last = area_slots - 1;
  return r;
}

std::vector<uint64_t> cluster_readahead_slots(const ClusterReadahead::Range& r,
                                              const SwapArea& area) {
  std::vector<uint64_t> out;
  for (uint64_t s = r.first; s <= r.last; ++s) {
    if (area.count(s) != 0) out.push_back(s);
  }
  return out;
}

void vma_readahead_hit(VmaReadaheadState& s, uint64_t addr, bool readahead) {
  if (readahead) s.hits = std::min(s.hits + 1, kVmaHitsMax);
  s.prev_addr = addr & ~(kPage - 1);
}

VmaReadaheadWindow vma_readahead_window(VmaReadaheadState& s, uint64_t fault_addr,
                                        uint64_t vma_start, uint64_t vma_end, uint32_t page_cluster,
                                        uint64_t pmd_bytes) {
  const uint64_t faddr = fault_addr & ~(kPage - 1);
  VmaReadaheadWindow w;
  w.start = faddr;
  w.end = faddr + kPage;
  const uint32_t max_win = uint32_t{1} << std::min(page_cluster, kVmaOrderCeiling);
  if (max_win == 1) return w;
  const uint64_t prev = s.prev_addr;
  w.win = swapin_nr_pages(prev / kPage, faddr / kPage, s.hits, max_win, s.win);
  s.prev_addr = faddr;
  s.win = w.win;
  s.hits = 0;
  if (w.win == 1) return w;
  // Addresses are below 2^57, so the signed arithmetic cannot overflow.
  const auto f = static_cast<int64_t>(faddr);
  const auto span = static_cast<int64_t>(uint64_t{w.win} * kPage);
  int64_t left = 0;
  if (faddr == prev + kPage) {
    left = f;  // moving up: read ahead above
  } else if (prev == faddr + kPage) {
    left = f - span + static_cast<int64_t>(kPage);  // moving down: read below
  } else {
    left = f - static_cast<int64_t>((w.win - 1) / 2 * kPage);  // centred
  }
  const int64_t right = left + span;
  const uint64_t pmd_start = faddr & ~(pmd_bytes - 1);
  w.start = std::max({static_cast<uint64_t>(std::max<int64_t>(left, 0)), vma_start, pmd_start});
  w.end = std::min({static_cast<uint64_t>(right), vma_end, pmd_start + pmd_bytes});
  return w;
}

}  // namespace mmusim
