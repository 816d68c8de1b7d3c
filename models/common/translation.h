// A translation as the page walker produces it and the TLBs cache it.
#pragma once

#include <cstdint>

#include "models/common/types.h"

namespace mmusim {

// Permission bits a TLB entry caches (the AND over all levels of the walk,
// as the SDM says for R/W and U/S; XD is the OR).
enum PermBits : uint8_t {
  kPermWrite = 1U << 0,   // writable (R/W = 1 at every level)
  kPermUser = 1U << 1,    // user-accessible (U/S = 1 at every level)
  kPermNx = 1U << 2,      // execute-disable somewhere on the path
  kPermDirty = 1U << 3,   // leaf D bit was set when cached
  kPermGlobal = 1U << 4,  // leaf G bit (and CR4.PGE): survives ASID flushes
};

struct Translation {
  Vpn vpn;  // linear page number at `size`
  Pfn pfn;  // first 4 KiB frame of the page (aligned to `size`)
  PageSize size = PageSize::k4K;
  uint8_t perms = 0;  // PermBits
  Asid asid;

  [[nodiscard]] PhysAddr phys(LinearAddr a) const {
    return PhysAddr((pfn.value() << 12) | page_offset(a, size));
  }
};

}  // namespace mmusim
