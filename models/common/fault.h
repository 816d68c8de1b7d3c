// The CPU <-> kernel contract: what the translation path tells the kernel
// about a fault, and what the kernel answers. The CPU side (cpu/) and the
// kernel side (os/) meet only here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "models/common/types.h"

namespace mmusim {

// Page-fault kinds, as values (the error code the SDM would give, by cause).
enum class FaultKind : uint8_t {
  kNone,
  kNotPresent,      // P = 0 at some level
  kWriteProtect,    // write to a read-only page (R/W = 0 somewhere, CR0.WP or user)
  kUserSupervisor,  // user access to a supervisor page (U/S = 0 somewhere)
  kExecuteDisable,  // instruction fetch from an XD page
  kReservedBit,     // a reserved bit set in a present entry
  kNonCanonical,    // linear address not canonical (#GP, no walk)
};
constexpr int kNumFaultKinds = 7;

constexpr std::string_view fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::kNone: return "none";
    case FaultKind::kNotPresent: return "not_present";
    case FaultKind::kWriteProtect: return "write_protect";
    case FaultKind::kUserSupervisor: return "user_supervisor";
    case FaultKind::kExecuteDisable: return "execute_disable";
    case FaultKind::kReservedBit: return "reserved_bit";
    case FaultKind::kNonCanonical: return "non_canonical";
  }
  return "?";
}

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

}  // namespace mmusim
