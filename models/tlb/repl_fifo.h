// FIFO: the victim is the way filled longest ago (a per-entry fill stamp, so
// a way refilled after an invalidation becomes the newest). Hits do nothing.
#pragma once

#include <cstdint>

#include "models/tlb/repl_stamps.h"

namespace mmusim {

class FifoPolicy {
 public:
  void reset(uint32_t sets, uint32_t ways) { stamps_.reset(sets, ways); }
  void on_hit(uint32_t /*idx*/) {}
  void on_fill(uint32_t idx) { stamps_.stamp(idx); }
  [[nodiscard]] uint32_t victim(uint32_t set_base) const { return stamps_.oldest(set_base); }

 private:
  StampedWays stamps_;
};

}  // namespace mmusim
