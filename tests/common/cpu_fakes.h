// The one fake environment for plain CPU cores in tests: memory references
// complete after a fixed latency (or through a DRAM timing core), every
// reference and fault is logged, faults go to a kernel model (usually the
// first-touch OS) or are skipped when there is none.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/common/fault.h"
#include "models/cpu/cpu_core.h"
#include "models/dram/dram.h"
#include "models/os/kernel.h"

namespace mmusim::testing {

class FakeEnv : public CpuCore::Env, public KernelServices {
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
  // Faults go to the kernel core with this env as its services (the
  // kernel's memory traffic is timed like the CPU's; there are no other CPUs
  // to shoot down); an I/O wait simply resumes at its completion.
  FaultOutcome fault(const FaultInfo& f) override {
    faults.push_back(f);
    if (sleep_when_allowed && f.can_block) {  // the task sleeps (a scheduler's kernel)
      FaultOutcome o;
      o.action = FaultOutcome::Action::kBlock;
      o.resume = f.raised;
      return o;
    }
    if (os == nullptr) {
      FaultOutcome o;
      o.action = FaultOutcome::Action::kSkip;
      o.resume = f.raised;
      o.cls = FaultClass::kSegv;
      return o;
    }
    KernelStep st = os->fault(f, *this);
    while (st.kind == KernelStep::Kind::kWaitIo) st = os->resume(f, st.key, st.until, *this);
    if (st.kind != KernelStep::Kind::kDone) throw std::logic_error("page wait with one CPU");
    return st.outcome;
  }
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    ++kernel_refs;
    return access(line, is_write, at);
  }
  Cycle shootdown(const Shootdown& s, uint32_t /*pid*/, uint32_t /*self*/) override { return s.at; }
  void release(uint64_t /*key*/) override {}

  Kernel* os = nullptr;
  bool sleep_when_allowed = false;  // a fault that may block does (kBlock)
  uint64_t kernel_refs = 0;
  std::vector<Access> log;
  std::vector<FaultInfo> faults;
  uint64_t refs = 0, writes = 0;

 private:
  uint64_t latency_ = 0;
  Dram* dram_ = nullptr;
};

}  // namespace mmusim::testing
