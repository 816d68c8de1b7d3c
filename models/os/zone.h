// Memory zones and their watermarks (os-model.md §1.1): the boot-time
// min_free_kbytes, the per-zone min/low/high/promo marks derived from it and
// from watermark_scale_factor, the lowmem reserves, totalreserve_pages and the
// watermark check of an allocation. Plain C++ with Linux 6.12's arithmetic
// (mm/page_alloc.c, mm/khugepaged.c); every count is in 4 KiB pages unless its
// name says KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmusim {

// One zone: its name (Linux's zone types in their order: dma, dma32, normal,
// highmem, movable) and the pages the buddy allocator manages in it.
// `highmem` marks a zone outside lowmem (highmem or movable): it takes no
// share of min_free_kbytes and its min mark is clamp(managed / 1024, 32, 128).
struct ZoneSpec {
  std::string name;
  uint64_t managed_pages = 0;
  bool highmem = false;
};

// The zone names Linux knows, lowest first; highmem and movable are not lowmem.
// Their index in this list is the zone's type for the lowmem reserve ratio.
inline constexpr std::string_view kZoneNames[] = {"dma", "dma32", "normal", "highmem", "movable"};
// sysctl_lowmem_reserve_ratio's default for a zone name: dma and dma32 256,
// normal 32, highmem and movable 0 (no reserve). Unknown names: 32.
uint32_t lowmem_reserve_ratio(std::string_view zone_name);

// calculate_min_free_kbytes(): clamp(int_sqrt(16 x lowmem_kbytes), 128,
// 262144). At boot the watermarks are still 0, so lowmem_kbytes is 4 x the
// managed pages of the lowmem zones. 16 MiB -> 512, 1 GiB -> 4096, 16 GiB -> 16384.
uint64_t default_min_free_kbytes(uint64_t lowmem_kbytes);

// set_recommended_min_free_kbytes() with THP on (enabled = always or
// madvise): pageblock_nr_pages (512) x nr_zones x (2 + MIGRATE_PCPTYPES^2
// = 11) pages, at most lowmem_pages / 20 (5 %), as KiB. `nr_zones` counts the
// populated zones up to normal; `lowmem_pages` is nr_free_buffer_pages(): the
// pages of those zones above their high marks. The caller applies it only if
// it is larger than the current min_free_kbytes.
uint64_t thp_min_free_kbytes(unsigned nr_zones, uint64_t lowmem_pages);

// Sum of managed pages over the lowmem zones (not highmem).
uint64_t lowmem_pages(const std::vector<ZoneSpec>& zones);

// The min_free_kbytes Linux ends with at boot when nobody sets it: the
// default from the lowmem size, raised by the THP recommendation when
// `thp_enabled` (khugepaged computes it after the first watermarks, so its 5 %
// cap is of the lowmem pages above those high marks).
uint64_t boot_min_free_kbytes(const std::vector<ZoneSpec>& zones, uint32_t watermark_scale_factor,
                              bool thp_enabled);

struct Watermarks {
  uint64_t min = 0, low = 0, high = 0, promo = 0;  // pages
};
enum class Wmark : uint8_t { kMin, kLow, kHigh, kPromo };
[[nodiscard]] uint64_t mark_of(const Watermarks& w, Wmark m);

// __setup_per_zone_wmarks(): pages_min = min_free_kbytes / 4 shared among the
// lowmem zones in proportion to their managed pages (rounded down);
// highmem zones get clamp(managed / 1024, 32, 128). gap = max(share / 4,
// managed x watermark_scale_factor / 10000) where share is the proportional
// share even for a highmem zone; low = min + gap, high = low + gap, promo =
// high + gap. Zones of 0 pages get 0 marks.
std::vector<Watermarks> zone_watermarks(const std::vector<ZoneSpec>& zones,
                                        uint64_t min_free_kbytes, uint32_t watermark_scale_factor);

// setup_per_zone_lowmem_reserve(): reserve[i][j] (j > i) = the managed pages
// of zones i+1..j / ratio(i); 0 for j <= i, for a ratio of 0 and for an empty
// zone i. An allocation that may use zones up to j keeps reserve[i][j] pages
// of a lower zone i free for allocations that can only use it.
std::vector<std::vector<uint64_t>> lowmem_reserves(const std::vector<ZoneSpec>& zones);

// calculate_totalreserve_pages(): sum over zones of min(high + the zone's
// largest lowmem reserve, managed). The dirty limits leave these pages out.
uint64_t totalreserve_pages(const std::vector<ZoneSpec>& zones,
                            const std::vector<Watermarks>& marks,
                            const std::vector<std::vector<uint64_t>>& reserves);

// How far an allocation may dig below a mark (__zone_watermark_ok).
struct AllocFlags {
  bool min_reserve = false;  // ALLOC_MIN_RESERVE (__GFP_HIGH): mark - mark / 2
  bool non_block = false;    // ALLOC_NON_BLOCK (atomic): a further - m / 4, with min_reserve only
  bool oom = false;          // ALLOC_OOM (the OOM victim): a further - m / 2
};
// The mark after the reductions of `f`, in the kernel's order: m = mark;
// min_reserve: m -= m / 2, and then non_block: m -= m / 4; oom: m -= m / 2.
uint64_t reduced_mark(uint64_t mark, AllocFlags f);
// __zone_watermark_ok() for an order-`order` allocation from a zone with
// `free` free pages: free - (2^order - 1) > reduced_mark + lowmem_reserve,
// and for order > 0 a free block of that order or larger
// (`block_free`, which the caller knows from the buddy allocator).
bool watermark_ok(uint64_t free, uint64_t mark, AllocFlags f = {}, uint64_t lowmem_reserve = 0,
                  unsigned order = 0, bool block_free = true);

// Where a zone's free count stands against its marks (order 0, no reserves,
// no flags: free > mark passes a mark). kBelowMin: free <= min (only reserve
// allocations succeed; direct reclaim, then OOM); kBelowLow: min < free <=
// low (the fast path fails and wakes kswapd; the slow path allocates at
// min); kBelowHigh: low < free <= high (kswapd, once awake, goes on
// reclaiming); kAboveHigh: free > high (balanced; kswapd sleeps).
enum class WatermarkLevel : uint8_t { kBelowMin, kBelowLow, kBelowHigh, kAboveHigh };
[[nodiscard]] std::string_view watermark_level_name(WatermarkLevel l);

// The zones a kernel holds: the configured specs (lowest first), their
// watermarks and lowmem reserves. The zones partition the managed pages in
// order: zone z holds managed pages [first_page(z), first_page(z) +
// managed(z)); the model keeps one free count per zone (a single normal zone
// by default).
class Zones {
 public:
  // Throws std::invalid_argument for no zone (the configuration checks the
  // rest: validate_pressure_config()).
  Zones(std::vector<ZoneSpec> specs, uint64_t min_free_kbytes, uint32_t watermark_scale_factor);

  [[nodiscard]] size_t count() const { return specs_.size(); }
  [[nodiscard]] const ZoneSpec& spec(size_t z) const { return specs_.at(z); }
  [[nodiscard]] const Watermarks& marks(size_t z) const { return marks_.at(z); }
  [[nodiscard]] uint64_t mark(size_t z, Wmark m) const { return mark_of(marks_.at(z), m); }
  [[nodiscard]] uint64_t managed(size_t z) const { return specs_.at(z).managed_pages; }
  [[nodiscard]] uint64_t first_page(size_t z) const { return first_.at(z); }
  [[nodiscard]] uint64_t managed_pages() const { return total_; }
  // The zone holding managed page `page` (< managed_pages()).
  [[nodiscard]] size_t zone_of(uint64_t page) const;
  // lowmem_reserve[z][highest_zoneidx].
  [[nodiscard]] uint64_t lowmem_reserve(size_t z, size_t highest_zoneidx) const {
    return reserves_.at(z).at(highest_zoneidx);
  }
  [[nodiscard]] uint64_t totalreserve_pages() const { return totalreserve_; }
  // Sum of one mark over the zones (e.g. allow_direct_reclaim's sum of min).
  [[nodiscard]] uint64_t sum(Wmark m) const;
  [[nodiscard]] uint64_t min_free_kbytes() const { return min_free_kbytes_; }
  [[nodiscard]] uint32_t watermark_scale_factor() const { return wsf_; }

  // The check of an order-0 allocation in zone z against mark m for an
  // allocation whose highest usable zone is z itself (no lowmem reserve).
  [[nodiscard]] bool ok(size_t z, uint64_t free, Wmark m, AllocFlags f = {}) const;
  // The same for an allocation that may use zones up to `highest_zoneidx`.
  [[nodiscard]] bool ok(size_t z, uint64_t free, Wmark m, AllocFlags f,
                        size_t highest_zoneidx) const;
  [[nodiscard]] WatermarkLevel level(size_t z, uint64_t free) const;

  // Writing the sysctls recomputes the marks and reserves (as Linux does).
  void set_min_free_kbytes(uint64_t kbytes);
  void set_watermark_scale_factor(uint32_t wsf);

 private:
  void recompute();

  std::vector<ZoneSpec> specs_;
  std::vector<uint64_t> first_;
  std::vector<Watermarks> marks_;
  std::vector<std::vector<uint64_t>> reserves_;
  uint64_t total_ = 0;
  uint64_t totalreserve_ = 0;
  uint64_t min_free_kbytes_;
  uint32_t wsf_;
};

}  // namespace mmusim
