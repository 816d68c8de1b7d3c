#include "models/os/zone.h"

#include <algorithm>
#include <stdexcept>

namespace mmusim {
namespace {

// a x b / c rounded down without overflowing the product (c > 0).
uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c) {
  __extension__ using U128 = unsigned __int128;
  return static_cast<uint64_t>(static_cast<U128>(a) * b / c);
}

// floor(sqrt(x)) (the kernel's int_sqrt), bit by bit from the top: r is the
// root so far; each step tries the next bit. Exact for every 64-bit x. (Kept
// local: lru.h has its own int_sqrt.)
uint64_t floor_sqrt(uint64_t x) {
  uint64_t r = 0;
  for (int shift = 31; shift >= 0; --shift) {
    const uint64_t c = r | (uint64_t{1} << shift);
    if (c <= x / c) r = c;
  }
  return r;
}

}  // namespace

uint32_t lowmem_reserve_ratio(std::string_view zone_name) {
  if (zone_name == "dma" || zone_name == "dma32") return 256;
  if (zone_name == "highmem" || zone_name == "movable") return 0;
  return 32;
}

uint64_t default_min_free_kbytes(uint64_t lowmem_kbytes) {
  const uint64_t x = lowmem_kbytes > UINT64_MAX / 16 ? UINT64_MAX : lowmem_kbytes * 16;
  return std::clamp<uint64_t>(floor_sqrt(x), 128, 262144);
}

uint64_t thp_min_free_kbytes(unsigned nr_zones, uint64_t lowmem_pages) {
  // Two free pageblocks per zone, plus for each of the 3 per-CPU migrate types
  // one pageblock to fall back to and one against further fallbacks (3 x 3).
  constexpr uint64_t kPageblockPages = 512;
  constexpr uint64_t kPcpTypes = 3;
  const uint64_t pages = kPageblockPages * nr_zones * (2 + kPcpTypes * kPcpTypes);
  return std::min(pages, lowmem_pages / 20) * 4;
}

uint64_t lowmem_pages(const std::vector<ZoneSpec>& zones) {
  uint64_t n = 0;
  for (const ZoneSpec& z : zones) {
    if (!z.highmem) n += z.managed_pages;
  }
  return n;
}

uint64_t boot_min_free_kbytes(const std::vector<ZoneSpec>& zones, uint32_t watermark_scale_factor,
                              bool thp_enabled) {
  uint64_t kb = default_min_free_kbytes(lowmem_pages(zones) * 4);
  if (!thp_enabled) return kb;
  // khugepaged starts after the first watermarks are set: nr_free_buffer_pages()
  // then counts the lowmem pages above each zone's high mark.
  const std::vector<Watermarks> marks = zone_watermarks(zones, kb, watermark_scale_factor);
  unsigned nr = 0;
  uint64_t above_high = 0;
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].highmem || zones[i].managed_pages == 0) continue;
    ++nr;
    if (zones[i].managed_pages > marks[i].high)
      above_high += zones[i].managed_pages - marks[i].high;
  }
  const uint64_t thp = thp_min_free_kbytes(nr, above_high);
  return std::max(kb, thp);
}

uint64_t mark_of(const Watermarks& w, Wmark m) {
  switch (m) {
    case Wmark::kMin: return w.min;
    case Wmark::kLow: return w.low;
    case Wmark::kHigh: return w.high;
    case Wmark::kPromo: return w.promo;
  }
  return w.min;
}

std::vector<Watermarks> zone_watermarks(const std::vector<ZoneSpec>& zones,
                                        uint64_t min_free_kbytes, uint32_t watermark_scale_factor) {
  const uint64_t pages_min = min_free_kbytes / 4;
  const uint64_t lowmem = lowmem_pages(zones);
  std::vector<Watermarks> out(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) {
    const uint64_t managed = zones[i].managed_pages;
    if (managed == 0) continue;
    // The zone's proportional share of pages_min (0 when there is no lowmem).
    const uint64_t share = lowmem == 0 ? 0 : mul_div(pages_min, managed, lowmem);
    Watermarks& w = out[i];
    // Highmem and movable zones serve few reserve allocations: a small
    // fixed min, while their kswapd distances still scale with their size.
    w.min = zones[i].highmem ? std::clamp<uint64_t>(managed / 1024, 32, 128) : share;
    const uint64_t gap = std::max(share / 4, managed * watermark_scale_factor / 10000);
    w.low = w.min + gap;
    w.high = w.low + gap;
    w.promo = w.high + gap;
  }
  return out;
}

std::vector<std::vector<uint64_t>> lowmem_reserves(const std::vector<ZoneSpec>& zones) {
  const size_t n = zones.size();
  std::vector<std::vector<uint64_t>> r(n, std::vector<uint64_t>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    const uint32_t ratio = lowmem_reserve_ratio(zones[i].name);
    if (ratio == 0 || zones[i].managed_pages == 0) continue;
    uint64_t above = 0;  // managed pages of zones i+1 .. j
    for (size_t j = i + 1; j < n; ++j) {
      above += zones[j].managed_pages;
      r[i][j] = above / ratio;
    }
  }
  return r;
}

uint64_t totalreserve_pages(const std::vector<ZoneSpec>& zones,
                            const std::vector<Watermarks>& marks,
                            const std::vector<std::vector<uint64_t>>& reserves) {
  uint64_t total = 0;
  for (size_t i = 0; i < zones.size(); ++i) {
    uint64_t largest = 0;
    for (uint64_t v : reserves.at(i)) largest = std::max(largest, v);
    total += std::min(marks.at(i).high + largest, zones[i].managed_pages);
  }
  return total;
}

uint64_t reduced_mark(uint64_t mark, AllocFlags f) {
  uint64_t m = mark;
  if (f.min_reserve) {
    m -= m / 2;
    if (f.non_block) m -= m / 4;
  }
  if (f.oom) m -= m / 2;
  return m;
}

bool watermark_ok(uint64_t free, uint64_t mark, AllocFlags f, uint64_t lowmem_reserve,
                  unsigned order, bool block_free) {
  // Pages that an order-o request cannot use: a block needs 2^o of them.
  const uint64_t unusable = order >= 63 ? UINT64_MAX : (uint64_t{1} << order) - 1;
  if (free <= unusable) return false;  // the kernel's free count went negative
  const uint64_t usable = free - unusable;
  const uint64_t need = reduced_mark(mark, f);
  if (need > UINT64_MAX - lowmem_reserve || usable <= need + lowmem_reserve) return false;
  return order == 0 || block_free;
}

std::string_view watermark_level_name(WatermarkLevel l) {
  switch (l) {
    case WatermarkLevel::kBelowMin: return "below_min";
    case WatermarkLevel::kBelowLow: return "below_low";
    case WatermarkLevel::kBelowHigh: return "below_high";
    case WatermarkLevel::kAboveHigh: return "above_high";
  }
  return "?";
}

Zones::Zones(std::vector<ZoneSpec> specs, uint64_t min_free_kbytes, uint32_t watermark_scale_factor)
    : specs_(std::move(specs)), min_free_kbytes_(min_free_kbytes), wsf_(watermark_scale_factor) {
  if (specs_.empty()) throw std::invalid_argument("Zones: at least one zone");
  first_.reserve(specs_.size());
  for (const ZoneSpec& z : specs_) {
    first_.push_back(total_);
    total_ += z.managed_pages;
  }
  recompute();
}

void Zones::recompute() {
  marks_ = zone_watermarks(specs_, min_free_kbytes_, wsf_);
  reserves_ = lowmem_reserves(specs_);
  totalreserve_ = mmusim::totalreserve_pages(specs_, marks_, reserves_);
}

size_t Zones::zone_of(uint64_t page) const {
  if (page >= total_) throw std::out_of_range("Zones::zone_of: page beyond the managed pages");
  // The first zone whose end lies above the page.
  const auto it = std::upper_bound(first_.begin(), first_.end(), page);
  // That zone is not empty: the next one starts above the page.
  return static_cast<size_t>(it - first_.begin()) - 1;
}

uint64_t Zones::sum(Wmark m) const {
  uint64_t s = 0;
  for (const Watermarks& w : marks_) s += mark_of(w, m);
  return s;
}

bool Zones::ok(size_t z, uint64_t free, Wmark m, AllocFlags f) const {
  return watermark_ok(free, mark(z, m), f);
}

bool Zones::ok(size_t z, uint64_t free, Wmark m, AllocFlags f, size_t highest_zoneidx) const {
  return watermark_ok(free, mark(z, m), f, lowmem_reserve(z, highest_zoneidx));
}

WatermarkLevel Zones::level(size_t z, uint64_t free) const {
  const Watermarks& w = marks_.at(z);
  if (free <= w.min) return WatermarkLevel::kBelowMin;
  if (free <= w.low) return WatermarkLevel::kBelowLow;
  if (free <= w.high) return WatermarkLevel::kBelowHigh;
  return WatermarkLevel::kAboveHigh;
}

void Zones::set_min_free_kbytes(uint64_t kbytes) {
  min_free_kbytes_ = kbytes;
  recompute();
}

void Zones::set_watermark_scale_factor(uint32_t wsf) {
  wsf_ = wsf;
  recompute();
}

}  // namespace mmusim
