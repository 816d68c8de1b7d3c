// Placeholder OS: maps a page on its first touch (demand paging with no
// backing store), at a fixed minor-fault cost. Regions named in the config
// are mapped with 2 MiB or 1 GiB pages; everything else with 4 KiB pages.
// Pages are mapped present, writable, user, executable. Other fault kinds
// (which this OS never causes itself) make the access be skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/os/kernel.h"
#include "models/os/os_config.h"
#include "models/os/page_frame.h"
#include "models/os/page_table.h"

namespace mmusim {

struct FirstTouchStats {
  uint64_t faults = 0, mapped_pages[kNumPageSizes] = {}, skipped = 0, fault_cycles = 0;
  Histogram cost;
};

class FirstTouchMapper : public SimpleKernel {
 public:
  FirstTouchMapper(const FirstTouchConfig& cfg, PhysMem& mem);
  // Maps on a not-present fault (the fixed cost covers the whole handler; no
  // timed memory traffic); skips any other fault.
  FaultOutcome handle(const FaultInfo& f);
  FaultOutcome handle(const FaultInfo& f, KernelServices& /*s*/) override { return handle(f); }
  [[nodiscard]] PhysAddr root(uint32_t /*pid*/) const override { return table_.root(); }
  [[nodiscard]] PhysAddr root() const { return table_.root(); }
  void visit(StatVisitor& v) const override;
  [[nodiscard]] const FirstTouchStats& stats() const { return stats_; }
  PageTable& page_table() { return table_; }

 private:
  [[nodiscard]] PageSize size_for(LinearAddr a) const;
  FirstTouchConfig cfg_;
  PageFrameAllocator frames_;
  PageTable table_;
  FirstTouchStats stats_;
};

}  // namespace mmusim
