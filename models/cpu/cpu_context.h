// What a CPU runs at a given moment: the process, its PCID and the root of
// its page tables (CR3). switch_to changes it with MOV CR3 semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "models/common/fault.h"
#include "models/common/types.h"

namespace mmusim {

struct CpuContext {
  uint32_t pid = 1;
  uint32_t tid = 1;  // the thread (= pid for a single-threaded process)
  Asid pcid{1};
  PhysAddr cr3;
};

// What MOV CR3 does to the TLBs (SDM 4.10.4.1):
//   kPcid:  CR4.PCIDE = 1 with CR3 bit 63 set: entries of every PCID stay
//           (the switched-to PCID may hit its own entries again);
//   kFlush: CR4.PCIDE = 0 (or bit 63 clear): every non-global entry goes.
// Paging-structure caches are flushed either way for the new PCID; the model
// flushes them whole (it does not tag them with PCIDs).
enum class CtxSwitchTlb : uint8_t { kPcid, kFlush };

constexpr std::string_view ctx_switch_tlb_name(CtxSwitchTlb p) {
  return p == CtxSwitchTlb::kPcid ? "pcid" : "flush";
}
inline std::optional<CtxSwitchTlb> parse_ctx_switch_tlb(std::string_view s) {
  if (s == "pcid") return CtxSwitchTlb::kPcid;
  if (s == "flush") return CtxSwitchTlb::kFlush;
  return std::nullopt;
}

}  // namespace mmusim
