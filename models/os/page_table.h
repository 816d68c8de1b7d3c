// Builds and edits radix page tables in simulated physical memory, in the
// real entry format of the configured paging mode (what an OS kernel does).
// Intermediate entries are created present, writable and user (the leaf
// carries the page's rights), as Linux does.
#pragma once

#include <cstdint>

#include "models/arch/paging.h"
#include "models/common/phys_mem.h"
#include "models/os/page_frame.h"

namespace mmusim {

class PageTable {
 public:
  // Allocates the root table (a 4 KiB frame; in PAE mode its first 32 bytes
  // are the PDPT). Throws std::runtime_error if memory is exhausted.
  PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames);
  [[nodiscard]] PhysAddr root() const { return root_; }
  [[nodiscard]] const PagingModeInfo& mode() const { return *mode_; }

  // Maps the page of size `s` containing `a` to the frame block starting at
  // `pfn`, with leaf flags `flags` (pte::kRW, kUS, kXD, kG, kA, kD; P is
  // implied). Returns false if a different-size mapping is in the way.
  bool map(LinearAddr a, Pfn pfn, PageSize s, uint64_t flags);
  // Physical address of the leaf entry mapping `a` at size `s`, creating
  // intermediate tables as needed (for tests that edit entries directly).
  PhysAddr leaf_entry_address(LinearAddr a, PageSize s);
  // The leaf size currently mapping `a`, if any (functional, untimed).
  [[nodiscard]] bool is_mapped(LinearAddr a) const;
  [[nodiscard]] uint64_t tables_allocated() const { return tables_; }

 private:
  PhysAddr new_table();
  const PagingModeInfo* mode_;
  PhysMem& mem_;
  PageFrameAllocator& frames_;
  PhysAddr root_;
  uint64_t tables_ = 0;
};

}  // namespace mmusim
