// Linux 6.12's on-demand readahead (mm/readahead.c; os-model.md §2.3), on
// a page cache seen through RaIo: which pages are cached, and a way to read
// a run of pages. Window sizes are in 4 KiB pages. The page cache
// (file_cache.cc) owns the pages and the I/O; this file owns the decisions.
// Private to models/os.
#pragma once

#include <cstdint>

#include "models/os/file_cache.h"

namespace mmusim::readahead {

// What the readahead code asks of the page cache.
class RaIo {
 public:
  virtual ~RaIo() = default;
  // A page (of any state) is in the cache at `index`.
  [[nodiscard]] virtual bool cached(uint64_t index) const = 0;
  // do_page_cache_ra: reads the missing pages of [index, index + nr), clamped
  // to the end of the file; each contiguous run of missing pages is one
  // request; the page at index + nr - lookahead (after the clamp) gets the
  // readahead marker if this call adds it (no marker when lookahead is 0 or
  // larger than the clamped nr). Stops at the first page it cannot allocate.
  virtual void read(uint64_t index, uint64_t nr, uint64_t lookahead) = 0;
};

// The window limits of one file: ra->ra_pages (the device's, doubled by
// POSIX_FADV_SEQUENTIAL) and bdi->io_pages.
struct RaLimits {
  uint64_t ra_pages = 32;
  uint64_t io_pages = 320;
};

// get_init_ra_size: the first window for a request of `req` pages.
uint64_t init_size(uint64_t req, uint64_t max);
// get_next_ra_size: the window after one of `cur` pages.
uint64_t next_size(uint64_t cur, uint64_t max);
// ractl_max_pages: the window limit for a request of `req` pages.
uint64_t max_pages(const RaLimits& l, uint64_t req);
// page_cache_prev_miss(index, max_scan): the highest missing index in
// [index - max_scan + 1, index], or index - max_scan + 1 when all are
// cached; ~0 when the scan runs past page 0 (the file is cached from 0).
uint64_t prev_miss(const RaIo& io, uint64_t index, uint64_t max_scan);
// page_cache_next_miss(index, max_scan): the lowest missing index in
// [index, index + max_scan), or index + max_scan when all are cached.
uint64_t next_miss(const RaIo& io, uint64_t index, uint64_t max_scan);

// What page_cache_sync_ra did.
enum class SyncKind : uint8_t {
  kForced,       // FMODE_RANDOM or readahead off: force_page_cache_ra(req)
  kNew,          // start of file, oversized or sequential: a new window
  kRandom,       // small random read: exactly req pages, state untouched
  kInterleaved,  // a stream found in the cache behind index: window from it
};

// page_cache_sync_ra for a miss at `index` of a request of `req` pages.
// `forced`: the file has FMODE_RANDOM.
SyncKind sync_ra(RaState& ra, const RaLimits& l, bool forced, uint64_t index, uint64_t req,
                 RaIo& io);
// page_cache_async_ra after the marker at `index` was hit and cleared (the
// caller checks ra_pages and writeback first); `req` pages asked. Returns
// whether a window was submitted.
bool async_ra(RaState& ra, const RaLimits& l, uint64_t index, uint64_t req, RaIo& io);
// force_page_cache_ra: `nr` pages from `index`, capped at max(io_pages,
// ra_pages), read in 2 MiB chunks with no marker; the state is untouched.
void force_ra(const RaLimits& l, uint64_t index, uint64_t nr, RaIo& io);
// The read-around of do_sync_mmap_readahead: start = max(0, index -
// ra_pages / 2), size = ra_pages, async_size = ra_pages / 4.
void read_around(RaState& ra, const RaLimits& l, uint64_t index, RaIo& io);

}  // namespace mmusim::readahead
