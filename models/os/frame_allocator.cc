#include "models/os/frame_allocator.h"

namespace mmusim {

FrameAllocator::FrameAllocator(uint64_t bytes, uint64_t reserved_low, uint64_t seed)
    : frames_(bytes >> 12),
      low_((reserved_low + 4095) >> 12),
      rng_(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL),
      bitmap_((frames_ + 63) / 64, 0),
      used2m_((frames_ + 511) / 512, 0) {}

uint64_t FrameAllocator::next_random() { return rng_.next(); }

bool FrameAllocator::block_free(uint64_t first, uint64_t n) const {
  if (first < low_ || first + n > frames_) return false;
  if (n >= 512) {
    for (uint64_t r = first / 512; r < (first + n) / 512; ++r) {
      if (used2m_[r] != 0) return false;
    }
    return true;
  }
  for (uint64_t f = first; f < first + n; ++f) {
    if (bitmap_[f / 64] & (1ULL << (f % 64))) return false;
  }
  return true;
}

void FrameAllocator::mark(uint64_t first, uint64_t n, bool used) {
  for (uint64_t f = first; f < first + n; ++f) {
    uint64_t bit = 1ULL << (f % 64);
    if (used) {
      bitmap_[f / 64] |= bit;
      ++used2m_[f / 512];
    } else {
      bitmap_[f / 64] &= ~bit;
      --used2m_[f / 512];
    }
  }
  used_ = used ? used_ + n : used_ - n;
}

std::optional<Pfn> FrameAllocator::allocate(PageSize s) {
  const uint64_t n = page_bytes(s) >> 12;
  if (frames_ < n) return std::nullopt;
  const uint64_t blocks = frames_ / n;
  for (int attempt = 0; attempt < 32; ++attempt) {
    uint64_t first = (next_random() % blocks) * n;
    if (block_free(first, n)) {
      mark(first, n, true);
      return Pfn(first);
    }
  }
  for (uint64_t b = 0; b < blocks; ++b) {
    if (block_free(b * n, n)) {
      mark(b * n, n, true);
      return Pfn(b * n);
    }
  }
  return std::nullopt;
}

void FrameAllocator::free(Pfn first, PageSize s) {
  mark(first.value(), page_bytes(s) >> 12, false);
}

}  // namespace mmusim
