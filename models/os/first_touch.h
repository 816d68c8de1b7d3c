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

#include "models/os/fault_handler.h"
#include "models/os/page_frame.h"
#include "models/os/page_table.h"

namespace mmusim {

struct HugeRegion {
  uint64_t start = 0, end = 0;  // [start, end) linear addresses, aligned to `size`
  PageSize size = PageSize::k2M;
};

struct FirstTouchConfig {
  PagingMode mode = PagingMode::k4Level;
  uint64_t phys_bytes = 8ULL << 30;     // simulated physical memory
  uint64_t reserved_low = 16ULL << 20;  // never allocated (firmware, kernel image)
  uint64_t seed = 1;
  FramePlacement placement = FramePlacement::kSpread;  // os.frame_placement
  Cycles minor_fault_cost{1000};                       // cycles per first-touch fault
  std::vector<HugeRegion> regions;                     // large-page regions
};

// Parses "0x7f0000000000-0x7f0040000000:2M,0x...-0x...:1G" (empty = none).
// Throws InputError naming `key` for malformed text, misaligned bounds or a
// page size the paging mode cannot map.
std::vector<HugeRegion> parse_huge_regions(const std::string& key, const std::string& text,
                                           PagingMode mode);

struct FirstTouchStats {
  uint64_t faults = 0, mapped_pages[kNumPageSizes] = {}, skipped = 0, fault_cycles = 0;
  Histogram cost;
};

class FirstTouchMapper : public FaultHandler {
 public:
  FirstTouchMapper(const FirstTouchConfig& cfg, PhysMem& mem);
  FaultOutcome handle(const FaultInfo& f) override;
  [[nodiscard]] PhysAddr root() const override { return table_.root(); }
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
