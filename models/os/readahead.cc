// Each function follows the 6.12 function named in its comment (our own
// code, written from reading mm/readahead.c and mm/filemap.c). Without
// large folios (ext4 in 6.12 has none), page_cache_ra_order always takes
// its fallback, do_page_cache_ra(ra->size, ra->async_size).
#include "models/os/readahead.h"

#include <algorithm>

namespace mmusim::readahead {
namespace {

uint64_t roundup_pow2(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

constexpr uint64_t kChunkPages = (2ULL << 20) / 4096;  // force_page_cache_ra's 2 MiB chunks

// page_cache_ra_order, fallback: the window as the state describes it.
void read_window(const RaState& ra, RaIo& io) { io.read(ra.start, ra.size, ra.async_size); }

}  // namespace

uint64_t init_size(uint64_t req, uint64_t max) {
  // get_init_ra_size: round up to a power of two, x4 when small, x2 when
  // medium, else the maximum.
  const uint64_t n = roundup_pow2(req);
  if (n <= max / 32) return n * 4;
  if (n <= max / 4) return n * 2;
  return max;
}

uint64_t next_size(uint64_t cur, uint64_t max) {
  // get_next_ra_size.
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

uint64_t max_pages(const RaLimits& l, uint64_t req) {
  // ractl_max_pages: a request beyond the window may grow it up to io_pages.
  uint64_t m = l.ra_pages;
  if (req > m && l.io_pages > m) m = std::min(req, l.io_pages);
  return m;
}

uint64_t prev_miss(const RaIo& io, uint64_t index, uint64_t max_scan) {
  // page_cache_prev_miss: visits index, index - 1, ..., max_scan entries;
  // a step past page 0 lands on ~0 (nothing cached there) and stops.
  uint64_t i = index;
  for (uint64_t n = 0; n < max_scan; ++n) {
    if (n > index) return ~uint64_t{0};
    i = index - n;
    if (!io.cached(i)) return i;
  }
  return i;
}

uint64_t next_miss(const RaIo& io, uint64_t index, uint64_t max_scan) {
  // page_cache_next_miss.
  for (uint64_t n = 0; n < max_scan; ++n) {
    if (!io.cached(index + n)) return index + n;
  }
  return index + max_scan;
}

SyncKind sync_ra(RaState& ra, const RaLimits& l, bool forced, uint64_t index, uint64_t req,
                 RaIo& io) {
  // page_cache_sync_ra.
  if (l.ra_pages == 0) {  // readahead off: the request as one forced page
    req = 1;
    forced = true;
  }
  if (forced) {
    force_ra(l, index, req, io);
    return SyncKind::kForced;
  }
  const uint64_t max = max_pages(l, req);
  const uint64_t prev_index = ra.prev_pos >> 12;
  // Start of file, oversized read, or sequential (same or next page).
  if (index == 0 || req > max || index - prev_index <= 1) {
    ra.start = index;
    ra.size = static_cast<uint32_t>(init_size(req, max));
    ra.async_size = ra.size > req ? static_cast<uint32_t>(ra.size - req) : ra.size >> 1;
    read_window(ra, io);
    return SyncKind::kNew;
  }
  // Look behind for the pages a sequential stream would have left.
  const uint64_t miss = prev_miss(io, index - 1, max);
  uint64_t contig = index - miss - 1;
  if (contig <= req) {  // a small random read: just what was asked
    io.read(index, req, 0);
    return SyncKind::kRandom;
  }
  if (miss == ~uint64_t{0}) contig *= 2;  // cached from the start of the file
  ra.start = index;
  ra.size = static_cast<uint32_t>(std::min(contig + req, max));
  ra.async_size = 1;
  read_window(ra, io);
  return SyncKind::kInterleaved;
}

bool async_ra(RaState& ra, const RaLimits& l, uint64_t index, uint64_t req, RaIo& io) {
  // page_cache_async_ra (after its ra_pages, writeback and marker steps).
  const uint64_t max = max_pages(l, req);
  const uint64_t expected = ra.start + ra.size - ra.async_size;
  if (index == expected) {  // the marker we set: push the window forward
    ra.start += ra.size;
    ra.size = static_cast<uint32_t>(std::max<uint64_t>(ra.size, next_size(ra.size, max)));
    ra.async_size = ra.size;
    read_window(ra, io);
    return true;
  }
  // A marker without valid state (interleaved streams): size the window
  // from the cached run after index.
  const uint64_t start = next_miss(io, index + 1, max);
  if (start == 0 || start - index > max) return false;
  ra.start = start;
  ra.size = static_cast<uint32_t>(next_size(start - index + req, max));
  ra.async_size = ra.size;
  read_window(ra, io);
  return true;
}

void force_ra(const RaLimits& l, uint64_t index, uint64_t nr, RaIo& io) {
  // force_page_cache_ra: chunks of 2 MiB, each do_page_cache_ra(chunk, 0).
  nr = std::min(nr, std::max(l.io_pages, l.ra_pages));
  while (nr > 0) {
    const uint64_t chunk = std::min(nr, kChunkPages);
    io.read(index, chunk, 0);
    index += chunk;
    nr -= chunk;
  }
}

void read_around(RaState& ra, const RaLimits& l, uint64_t index, RaIo& io) {
  // do_sync_mmap_readahead, the read-around branch.
  const uint64_t half = l.ra_pages / 2;
  ra.start = index > half ? index - half : 0;
  ra.size = static_cast<uint32_t>(l.ra_pages);
  ra.async_size = static_cast<uint32_t>(l.ra_pages / 4);
  read_window(ra, io);
}

}  // namespace mmusim::readahead
