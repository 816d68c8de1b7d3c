// The interface between the translation path and the OS model: a page fault
// raised by a walk is handed to the kernel, which says what the CPU does next
// and what it cost. The first-touch placeholder implements it now; the full
// kernel model (VMAs, page cache, reclaim, swap) replaces it without touching
// the walker or the TLBs.
#pragma once

#include <cstdint>
#include <string>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/walker/walker.h"

namespace mmusim {

struct FaultInfo {
  LinearAddr addr;
  AccessKind kind = AccessKind::kRead;
  FaultKind fault = FaultKind::kNone;
  unsigned cpu = 0;
  Asid asid;
};

struct FaultOutcome {
  enum class Action : uint8_t {
    kRetry,  // the handler fixed the cause: replay the access
    kSkip,   // the access cannot complete (SIGSEGV-like): count it and go on
    kStop,   // the simulation cannot go on (e.g. memory exhausted): stop with `message`
  };
  Action action = Action::kRetry;
  Cycles cost{0};               // handler cycles, from fault delivery to the return to the access
  bool tlb_flush_page = false;  // the handler changed an existing mapping
  std::string message;
};

class FaultHandler {
 public:
  virtual ~FaultHandler() = default;
  virtual FaultOutcome handle(const FaultInfo& f, Cycle at) = 0;
  // The root of the page table the CPUs start with (CR3) and its PCID.
  [[nodiscard]] virtual PhysAddr root() const = 0;
  virtual void visit(StatVisitor& v) const = 0;
};

}  // namespace mmusim
