// How the kernel's line loops reach memory (LineIssue): the faulting CPU's
// fill buffers and whole-line stores. Plain data, shared by the kernel
// interface (kernel.h) and the Linux model's configuration (os_config.h).
#pragma once

#include <cstdint>

namespace mmusim {

// How the kernel's line loops (clear_page, copy_page, copies to and from user
// memory, page-table entry writes) reach memory. They run on the faulting
// CPU, whose L1D fill buffers (in_flight: cache.l1d.mshrs, with or without
// caches) bound its line requests in flight: the reads issue one per cycle,
// and the writes one per cycle (a copy's write once its read completed),
// each when a buffer is free, and a request holds its buffer until it
// completes (a read: its data is there; a write: the level that took it
// answered). With whole_lines (os.linux.fast_strings), Linux's x86
// clear_page and copy_page (rep stosb / rep movsq with fast strings) and the
// copies to and from user memory (rep movsb) write every line they cover
// entirely as one whole-line write, which a cache that misses allocates
// without fetching it (no read for ownership); without it every store needs
// its line first. Page-table entries are 8-byte stores: plain writes.
struct LineIssue {
  static constexpr uint32_t kMaxInFlight = 64;
  uint32_t in_flight = 12;  // 1..kMaxInFlight: the CPU's L1D fill buffers
  bool whole_lines = true;  // fast-string stores write whole lines
};

}  // namespace mmusim
