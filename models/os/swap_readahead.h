// Swap-in readahead (os-model.md §1.6; Linux 6.12 mm/swap_state.c): the
// adaptive window, the cluster (swap offset) readahead range and the VMA
// (virtual address) readahead window. Plain C++; the kernel model decides
// which pages of a range need I/O (not already in the swap cache).
#pragma once

#include <cstdint>
#include <vector>

namespace mmusim {

class SwapArea;

// swap_setup(): page_cluster = 2 on machines with less than 16 MiB of RAM,
// else 3 (readahead of up to 2^page_cluster pages).
uint32_t default_page_cluster(uint64_t totalram_bytes);

// Which readahead a swap-in uses: VMA-based when it is enabled
// (/sys/kernel/mm/swap/vma_ra_enabled) and no rotational swap area is on,
// else cluster readahead.
inline bool use_vma_readahead(bool enabled, bool rotational_swap_on) {
  return enabled && !rotational_swap_on;
}

// __swapin_nr_pages(): the readahead window in pages.
//   pages = hits + 2; with no hits, 1 unless `offset` is next to
//   `prev_offset` (either side), which keeps 2; with hits, rounded up to a
//   power of two, at least 4. Then at most `max_pages`, and at least half of
//   `prev_win` (it never shrinks faster than by half).
uint32_t swapin_nr_pages(uint64_t prev_offset, uint64_t offset, uint64_t hits, uint32_t max_pages,
                         uint32_t prev_win);

// Cluster readahead, with the kernel's global state: the previous fault's
// offset, the previous window and the hits since the last fault.
class ClusterReadahead {
 public:
  explicit ClusterReadahead(uint32_t page_cluster = 3) : page_cluster_(page_cluster) {}
  void set_page_cluster(uint32_t pc) { page_cluster_ = pc; }

  // A page that readahead brought in was found in the swap cache
  // (swapin_readahead_hits; counted when VMA readahead is not in use).
  void hit() { ++hits_; }
  [[nodiscard]] uint64_t hits() const { return hits_; }

  // swapin_nr_pages() for a fault at swap `offset`: the window (1 when
  // page_cluster is 0), with max_pages = 2^page_cluster. It consumes the
  // hits; the previous offset is updated only after a fault without hits.
  uint32_t window(uint64_t offset);

  // swap_cluster_readahead()'s block for a fault at `offset` in an area of
  // `area_slots` slots (header included): the window-aligned block holding
  // offset, [first, last], without slot 0 and clipped to the area. Window 1:
  // just offset. Calls window().
  struct Range {
    uint64_t first = 0, last = 0;  // inclusive
    uint32_t window = 1;
  };
  Range range(uint64_t offset, uint64_t area_slots);

 private:
  uint32_t page_cluster_;
  uint64_t prev_offset_ = 0;
  uint32_t last_pages_ = 0;
  uint64_t hits_ = 0;
};

// The slots of `r` that readahead reads: those handed out (count > 0); a free
// slot, or one waiting in a per-CPU cache, has nothing to read.
std::vector<uint64_t> cluster_readahead_slots(const ClusterReadahead::Range& r,
                                              const SwapArea& area);

// Per-VMA readahead state (vma->swap_readahead_info): the address of the
// last fault or swap-cache hit, the last window and the hits since.
struct VmaReadaheadState {
  uint64_t prev_addr = 0;  // page-aligned
  uint32_t win = 0;
  uint32_t hits = 0;  // at most 63 (6 bits, SWAP_RA_HITS_MAX)
};

// swap_cache_get_folio() with VMA readahead in use: a swap-cache hit at
// `addr` records the address and, if `readahead` (the page was brought in by
// readahead and not used since: PG_readahead), one more hit.
void vma_readahead_hit(VmaReadaheadState& s, uint64_t addr, bool readahead);

// swap_vma_ra_win(): the window of a swap fault at `fault_addr` in the VMA
// [vma_start, vma_end), with max_win = 2^min(page_cluster, 5), and the
// address range [start, end) whose swap PTEs are read. The block is
// `win` pages placed
//   - forward from the fault when the previous fault was the page below,
//   - backward (ending at the fault) when it was the page above,
//   - else centred: (win - 1) / 2 pages below the fault;
// then clipped to the VMA and to the enclosing PMD (`pmd_bytes`, 2 MiB on
// x86-64). Window 1: just the fault's page (and the state is not updated
// when max_win is 1). Updates `s`: the fault's address, the window, no hits.
struct VmaReadaheadWindow {
  uint32_t win = 1;
  uint64_t start = 0, end = 0;  // page-aligned linear addresses
};
VmaReadaheadWindow vma_readahead_window(VmaReadaheadState& s, uint64_t fault_addr,
                                        uint64_t vma_start, uint64_t vma_end, uint32_t page_cluster,
                                        uint64_t pmd_bytes = uint64_t{2} << 20);

}  // namespace mmusim
