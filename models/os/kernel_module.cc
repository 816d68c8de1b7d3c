#include "models/os/kernel_module.h"

#include <string>

namespace mmusim {

// The module's services to the core, for one fault: memory through the
// kernel socket in the caller's time, shootdowns through the CPU ports.
class KernelModule::Services : public KernelServices {
 public:
  Services(KernelModule& m, AgentSync& caller) : m_(m), caller_(caller) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    ++m_.stats_.mem_requests;
    return m_.request_.access(m_.mem, caller_, line, is_write, at);
  }
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    bool any = false;
    for (int i = 0; i < m_.cpus.size(); ++i) {
      if (static_cast<uint32_t>(i) == self || m_.cpus[i]->running_pid() != pid) continue;
      m_.cpus[i]->post_shootdown(s);
      ++m_.stats_.shootdowns;
      any = true;
    }
    return any ? s.at + m_.cfg_.shootdown_cost : s.at;
  }
  void release(uint64_t key) override {
    auto it = m_.waits_.find(key);
    if (it != m_.waits_.end()) m_.events_[it->second].notify(sc_core::SC_ZERO_TIME);
  }

 private:
  KernelModule& m_;
  AgentSync& caller_;
};

KernelModule::KernelModule(const sc_core::sc_module_name& name, Kernel& core,
                           const KernelModuleConfig& cfg)
    : sc_module(name),
      target("target"),
      mem("mem"),
      cpus("cpus"),
      core_(core),
      cfg_(cfg),
      request_(Initiator::kKernel) {
  target.bind(*this);
}

sc_core::sc_event& KernelModule::event_for(uint64_t key) {
  auto it = waits_.find(key);
  if (it == waits_.end()) {
    events_.emplace_back();
    it = waits_.emplace(key, events_.size() - 1).first;
  }
  return events_[it->second];
}

FaultOutcome KernelModule::fault(const FaultInfo& f, AgentSync& caller) {
  Services s(*this, caller);
  KernelStep st = core_.fault(f, s);
  for (;;) {
    if (st.kind == KernelStep::Kind::kDone) break;
    const Cycle from = caller.clock().now();
    if (st.kind == KernelStep::Kind::kWaitIo) {
      ++stats_.io_waits;
      caller.wait_until(st.until);
    } else {
      ++stats_.page_waits;
      caller.wait_event(event_for(st.key), from);
    }
    const Cycle now = caller.clock().now();
    stats_.wait_cycles += (now - from).count();
    st = core_.resume(f, st.key, now, s);
  }
  const FaultOutcome& o = st.outcome;
  const auto c = static_cast<size_t>(o.cls);
  ++stats_.faults[c];
  stats_.latency[c].add((o.resume - f.raised).count());
  for (size_t p = 0; p < FaultTiming::kNumParts; ++p) {
    stats_.breakdown[c].part[p] += o.timing.part[p];
  }
  return o;
}

void KernelModule::visit(StatVisitor& v, const std::string& prefix) const {
  const std::string p = prefix + "kernel.";
  for (int c = 0; c < kNumFaultClasses; ++c) {
    if (stats_.faults[static_cast<size_t>(c)] == 0) continue;
    const std::string base =
        p + "fault_class." + std::string(fault_class_name(static_cast<FaultClass>(c)));
    const uint64_t n = stats_.faults[static_cast<size_t>(c)];
    v.counter(base + ".count", "faults", "faults of this class", n);
    v.histogram(base + ".latency", "cycles", "raise to resume, per fault of this class",
                stats_.latency[static_cast<size_t>(c)]);
    for (size_t part = 0; part < FaultTiming::kNumParts; ++part) {
      const uint64_t sum = stats_.breakdown[static_cast<size_t>(c)].part[part];
      if (sum == 0) continue;
      v.real(base + ".mean." + std::string(FaultTiming::name(static_cast<FaultTiming::Part>(part))),
             "cycles", "mean cycles of this part of the handling", static_cast<double>(sum) / n);
    }
  }
  v.counter(p + "waits.io", "waits", "faults that waited for an I/O", stats_.io_waits);
  v.counter(p + "waits.page", "waits", "faults that waited for a page another fault held",
            stats_.page_waits);
  v.counter(p + "wait_cycles", "cycles", "cycles faults spent waiting", stats_.wait_cycles);
  v.counter(p + "mem_requests", "requests", "the kernel's own memory requests (lines)",
            stats_.mem_requests);
  v.counter(p + "shootdowns", "ipis", "TLB shootdown IPIs sent to other CPUs", stats_.shootdowns);
  PrefixedVisitor pv(v, prefix);
  core_.visit(pv);
}

}  // namespace mmusim
