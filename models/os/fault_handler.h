// The interface between the translation path and the OS model: a page fault
// raised by a walk is handed to the kernel, which says what the CPU does next
// and what it cost. The first-touch placeholder implements it now; the full
// kernel model (VMAs, page cache, reclaim, swap) replaces it without touching
// the walker or the TLBs.
#pragma once

#include <cstdint>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/common/fault.h"

namespace mmusim {

class FaultHandler {
 public:
  virtual ~FaultHandler() = default;
  virtual FaultOutcome handle(const FaultInfo& f) = 0;
  // The root of the page table the CPUs start with (CR3) and its PCID.
  [[nodiscard]] virtual PhysAddr root() const = 0;
  virtual void visit(StatVisitor& v) const = 0;
};

}  // namespace mmusim
