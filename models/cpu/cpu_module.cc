#include "models/cpu/cpu_module.h"

namespace mmusim {

CpuModule::CpuModule(const sc_core::sc_module_name& name, uint32_t id, const CpuModuleConfig& cfg,
                     PhysMem& phys, SyncHorizon& horizon, const ClockPeriod& clk,
                     RecordSource& source, uint64_t explain, std::vector<std::string>* explain_out,
                     DescriptorTables* tables)
    : sc_module(name),
      agu("agu", cfg.core.ag),
      seg("seg", cfg.core.seg),
      tlb("tlb", cfg.core.tlb),
      walker("walker", cfg.core.walker, phys, sync_),
      mem("mem"),
      kernel("kernel"),
      control("control"),
      sync_(horizon, basename(), clk, cfg.quantum == 0),
      source_(source),
      quantum_(cfg.quantum),
      request_(Initiator::kData) {
  core_ = std::make_unique<CpuCore>(
      id, cfg.core, CpuUnits{agu.core(), seg.core(), tlb.core(), walker.core()}, phys,
      static_cast<CpuCore::Env&>(*this), explain, explain_out, tables);
  control.bind(*this);
  SC_THREAD(run);
}

void CpuModule::post_shootdown(const Shootdown& s) {
  core_->post(s);
  control_pending_ = true;
}

void CpuModule::run() {
  try {
    TraceRecord buf[1024];
    Cycle synced = sync_.clock().now();
    for (;;) {
      const size_t n = source_.next(core_->id(), buf, 1024);
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        const Cycle t = core_->process(buf[i]);
        if (control_pending_) {
          control_pending_ = false;
          core_->receive_shootdowns();
        }
        // Bound the run-ahead when another agent may act (shootdowns and
        // descriptor rewrites become visible at these points).
        if (t - synced > Cycles(quantum_) || quantum_ == 0) {
          if (quantum_ == 0 || !sync_.alone()) sync_.wait_until(t);
          synced = t;
        }
      }
    }
    core_->finish();
  } catch (...) {
    error_ = std::current_exception();
    if (sc_core::sc_get_status() != sc_core::SC_STOPPED) sc_core::sc_stop();
  }
  sync_.finish();
}

void CpuModule::visit(StatVisitor& v) const {
  const std::string p = std::string(name());
  core_->visit(v, p);
  PrefixedVisitor units(v, p + ".");
  core_->visit_units(units);
}

}  // namespace mmusim
