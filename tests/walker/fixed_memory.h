// A MemoryTiming with a fixed latency, so walk latencies are simple formulas.
#pragma once

#include <vector>

#include "models/common/phys_mem.h"

namespace mmusim::testing {

class FixedLatencyMemory : public MemoryTiming {
 public:
  explicit FixedLatencyMemory(uint64_t latency) : latency_(latency) {}
  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    log.push_back({a, is_write, at});
    return at + Cycles(latency_);
  }
  struct Entry {
    PhysAddr addr;
    bool write;
    Cycle at;
  };
  std::vector<Entry> log;

 private:
  uint64_t latency_;
};

}  // namespace mmusim::testing
