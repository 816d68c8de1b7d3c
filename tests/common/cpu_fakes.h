// The one fake environment for plain CPU cores in tests: memory references
// complete after a fixed latency (or through a DRAM timing core), every
// reference and fault is logged, faults go to a kernel model (usually the
// first-touch OS) or are skipped when there is none.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/fault.h"
#include "models/cpu/cpu_core.h"
#include "models/dram/dram.h"
#include "models/os/fault_handler.h"

namespace mmusim::testing {

class FakeEnv : public CpuCore::Env {
 public:
  struct Access {
    PhysAddr addr;
    bool write;
    Cycle at, done;
  };
  // Fixed latency: every reference completes `latency` cycles after issue.
  explicit FakeEnv(uint64_t latency) : latency_(latency) {}
  // Through a DRAM timing core (served in call order, which the walker keeps
  // in time order).
  explicit FakeEnv(Dram& dram) : dram_(&dram) {}

  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    const Cycle done = dram_ != nullptr ? dram_->access(a, is_write, at) : at + Cycles(latency_);
    log.push_back({a, is_write, at, done});
    ++refs;
    if (is_write) ++writes;
    return done;
  }
  void sync(Cycle /*t*/) override {}
  FaultOutcome fault(const FaultInfo& f) override {
    faults.push_back(f);
    if (os != nullptr) return os->handle(f);
    FaultOutcome o;
    o.action = FaultOutcome::Action::kSkip;
    o.resume = f.raised;
    o.cls = FaultClass::kSegv;
    return o;
  }

  FaultHandler* os = nullptr;
  std::vector<Access> log;
  std::vector<FaultInfo> faults;
  uint64_t refs = 0, writes = 0;

 private:
  uint64_t latency_ = 0;
  Dram* dram_ = nullptr;
};

}  // namespace mmusim::testing
