// SystemC shells around the plain C++ cores. Timing rules (design.md §2):
// time is integer core cycles; a CPU runs ahead of SystemC time on a local
// cycle stamp and synchronizes (wait) only before touching shared state (DRAM,
// kernel) or when it is a quantum ahead; contention is busy-until arithmetic
// inside the cores; modules talk through TLM-2.0 b_transport with annotated
// delays.
#include "models/sim/simulation.h"

#include <chrono>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/common/error.h"
#include "models/dram/dram.h"
#include "models/os/first_touch.h"
#include "models/cpu/cpu_core.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {
namespace {

// Carries a page fault to the kernel and its outcome back.
struct FaultExtension : tlm::tlm_extension<FaultExtension> {
  FaultInfo info;
  FaultOutcome outcome;
  tlm::tlm_extension_base* clone() const override { return new FaultExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& o) override {
    *this = static_cast<const FaultExtension&>(o);
  }
};

// Converts between core cycles and SystemC time (resolution 1 ps).
struct Clock {
  uint64_t period_ps;
  [[nodiscard]] Cycle now() const { return Cycle(sc_core::sc_time_stamp().value() / period_ps); }
  [[nodiscard]] sc_core::sc_time span(Cycles c) const {
    return sc_core::sc_time::from_value(c.count() * period_ps);
  }
  [[nodiscard]] Cycles cycles(const sc_core::sc_time& t) const {
    return Cycles(t.value() / period_ps);
  }
};

// The shared DRAM: arrival = now + annotated delay; the core computes the
// completion with busy-until arithmetic; the delay is extended to it.
class DramModule : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<DramModule> socket;
  DramModule(sc_core::sc_module_name n, const DramConfig& cfg, const Clock& clk)
      : sc_module(n), socket("socket"), dram(cfg), clk_(clk) {
    socket.register_b_transport(this, &DramModule::b_transport);
  }
  void b_transport(int /*id*/, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    Cycle now = clk_.now();
    Cycle arrival = now + clk_.cycles(delay);
    Cycle done = dram.access(PhysAddr(p.get_address()), p.is_write(), arrival);
    delay = clk_.span(done - now);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  Dram dram;

 private:
  const Clock& clk_;
};

// The kernel: page faults from every CPU arrive here at synchronized time.
class KernelModule : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<KernelModule> socket;
  KernelModule(sc_core::sc_module_name n, FaultHandler& h, const Clock& clk)
      : sc_module(n), socket("socket"), handler(h), clk_(clk) {
    socket.register_b_transport(this, &KernelModule::b_transport);
  }
  void b_transport(int /*id*/, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    FaultExtension* x = nullptr;
    p.get_extension(x);
    x->outcome = handler.handle(x->info, clk_.now() + clk_.cycles(delay));
    delay += clk_.span(x->outcome.cost);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  FaultHandler& handler;

 private:
  const Clock& clk_;
};

// Hands each CPU its records in trace order, buffering the records of other
// CPUs (bounded: a trace whose CPUs drift too far apart is refused).
class TraceFeeder {
 public:
  TraceFeeder(std::unique_ptr<TraceReader> r, uint32_t cpus, uint64_t max_records)
      : reader_(std::move(r)), queues_(cpus), limit_(max_records) {}
  // Fills up to `max` records for `cpu`; 0 at the end of its stream.
  size_t next(uint32_t cpu, TraceRecord* out, size_t max) {
    if (queues_.size() == 1) {
      size_t n = reader_->read(out, clamp(max));
      check_cpus(out, n);
      delivered_ += n;
      return n;
    }
    auto& q = queues_[cpu];
    while (q.empty()) {
      size_t n = reader_->read(buf_, clamp(kBatch));
      if (n == 0) return 0;
      check_cpus(buf_, n);
      delivered_ += n;
      for (size_t i = 0; i < n; ++i) {
        auto& dst = queues_[buf_[i].cpu];
        dst.push_back(buf_[i]);
        if (dst.size() > kMaxBuffered) {
          throw InputError(reader_->path() + ": " + reader_->position() +
                           ": more than " + std::to_string(kMaxBuffered) +
                           " records buffered for cpu " + std::to_string(buf_[i].cpu) +
                           "; interleave the CPUs' records more finely");
        }
      }
    }
    size_t n = 0;
    while (n < max && !q.empty()) {
      out[n++] = q.front();
      q.pop_front();
    }
    return n;
  }
  [[nodiscard]] uint64_t delivered() const { return delivered_; }

 private:
  static constexpr size_t kBatch = 4096;
  static constexpr size_t kMaxBuffered = 1U << 22;
  size_t clamp(size_t max) const {
    if (limit_ == 0) return max;
    uint64_t left = limit_ > delivered_ ? limit_ - delivered_ : 0;
    return static_cast<size_t>(left < max ? left : max);
  }
  void check_cpus(const TraceRecord* r, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      if (r[i].cpu >= queues_.size()) {
        throw InputError(reader_->path() + ": " + reader_->position() + ": record for cpu " +
                         std::to_string(r[i].cpu) + ", but sim.cpus = " +
                         std::to_string(queues_.size()) + " (expected cpu 0.." +
                         std::to_string(queues_.size() - 1) + ")");
      }
    }
  }
  std::unique_ptr<TraceReader> reader_;
  std::vector<std::deque<TraceRecord>> queues_;
  TraceRecord buf_[kBatch];
  uint64_t limit_;
  uint64_t delivered_ = 0;
};

CpuCoreConfig core_config(const SimConfig& c) {
  CpuCoreConfig cc;
  cc.ag = c.cpu;
  cc.tlb = c.tlb;
  cc.walker = c.walker;
  cc.user = c.sim.user;
  cc.asid = Asid(static_cast<uint16_t>(c.sim.asid));
  return cc;
}

// One simulated CPU: the plain core (address generator, TLBs, walker) in a
// thread that synchronizes only when it must.
class CpuModule : public sc_core::sc_module, public CpuCore::Env {
 public:
  tlm_utils::simple_initiator_socket<CpuModule> mem_socket;
  tlm_utils::simple_initiator_socket<CpuModule> kernel_socket;
  SC_HAS_PROCESS(CpuModule);
  CpuModule(sc_core::sc_module_name n, uint32_t id, const SimConfig& cfg, PhysMem& mem,
            PhysAddr root, TraceFeeder& feeder, const Clock& clk, uint64_t explain,
            std::vector<std::string>* explain_out)
      : sc_module(n),
        mem_socket("mem_socket"),
        kernel_socket("kernel_socket"),
        core(id, core_config(cfg), mem, *this, explain, explain_out),
        feeder_(feeder),
        clk_(clk),
        quantum_(cfg.sim.quantum),
        shared_(cfg.sim.cpus > 1 || cfg.sim.quantum == 0) {
    core.set_root(root);
    SC_THREAD(run);
  }

  // CpuCore::Env: memory timing through the DRAM socket (caller has synced).
  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    Cycle now = clk_.now();
    sc_core::sc_time delay = clk_.span(at - now);
    gp_.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp_.set_address(a.value());
    gp_.set_data_ptr(data_);
    gp_.set_data_length(8);
    gp_.set_streaming_width(8);
    gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    mem_socket->b_transport(gp_, delay);
    return now + clk_.cycles(delay);
  }
  // With one CPU nothing else can touch DRAM or the kernel between two of
  // its requests, so syncing before each of them changes no result; the
  // quantum still bounds its run-ahead, and quantum 0 syncs on every access.
  void sync(Cycle t) override {
    if (shared_) sync_now(t);
  }
  void sync_now(Cycle t) {
    Cycle now = clk_.now();
    if (t > now) wait(clk_.span(t - now));
  }
  FaultOutcome fault(const FaultInfo& f, Cycle at) override {
    sync_now(at);
    FaultExtension ext;
    ext.info = f;
    tlm::tlm_generic_payload p;
    p.set_extension(&ext);
    p.set_command(tlm::TLM_IGNORE_COMMAND);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    kernel_socket->b_transport(p, delay);
    p.clear_extension(&ext);
    return ext.outcome;
  }

  void run() {
    try {
      TraceRecord buf[1024];
      Cycle synced = clk_.now();
      for (;;) {
        size_t n = feeder_.next(core.id(), buf, 1024);
        if (n == 0) break;
        for (size_t i = 0; i < n; ++i) {
          Cycle t = core.process(buf[i]);
          if (t - synced > Cycles(quantum_) || quantum_ == 0) {
            sync_now(t);
            synced = t;
          }
        }
      }
      core.finish();
    } catch (...) {
      error = std::current_exception();
      sc_core::sc_stop();
    }
  }

  CpuCore core;
  std::exception_ptr error;

 private:
  TraceFeeder& feeder_;
  const Clock& clk_;
  uint64_t quantum_;
  bool shared_;
  tlm::tlm_generic_payload gp_;
  unsigned char data_[8] = {};
};

}  // namespace

struct Simulation::Impl {
  SimConfig cfg;
  Clock clk;
  PhysMem mem;
  std::unique_ptr<FirstTouchMapper> os;
  std::unique_ptr<TraceFeeder> feeder;
  std::unique_ptr<DramModule> dram;
  std::unique_ptr<KernelModule> kernel;
  std::vector<std::unique_ptr<CpuModule>> cpus;
  std::vector<std::string> explain;
  double wall = 0;
};

Simulation::Simulation(const SimConfig& cfg, std::unique_ptr<TraceReader> trace,
                       uint64_t explain)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = cfg;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  m.clk.period_ps = (1000000ULL + cfg.sim.core_clock_mhz / 2) / cfg.sim.core_clock_mhz;
  if (m.clk.period_ps == 0) m.clk.period_ps = 1;
  m.os = std::make_unique<FirstTouchMapper>(m.cfg.os, m.mem);
  m.feeder = std::make_unique<TraceFeeder>(std::move(trace), cfg.sim.cpus, cfg.sim.max_accesses);
  m.dram = std::make_unique<DramModule>("dram", m.cfg.dram, m.clk);
  m.kernel = std::make_unique<KernelModule>("kernel", *m.os, m.clk);
  for (uint32_t i = 0; i < cfg.sim.cpus; ++i) {
    auto cpu = std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i, m.cfg, m.mem,
                                           m.os->root(), *m.feeder, m.clk, explain, &m.explain);
    cpu->mem_socket.bind(m.dram->socket);
    cpu->kernel_socket.bind(m.kernel->socket);
    m.cpus.push_back(std::move(cpu));
  }
}

Simulation::~Simulation() = default;

void Simulation::run() {
  auto t0 = std::chrono::steady_clock::now();
  // sc_stop() after a CPU error would otherwise print an INFO line.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  impl_->wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& c : impl_->cpus) {
    if (c->error) std::rethrow_exception(c->error);
  }
  impl_->dram->dram.advance_to(Cycle(cycles()));  // count refreshes up to the end
}

void Simulation::visit(StatVisitor& v) const {
  const Impl& m = *impl_;
  uint64_t cycles = this->cycles();
  v.counter("sim.cycles", "cycles", "simulated core cycles until the last access retired", cycles);
  v.real("sim.simulated_seconds", "s", "simulated time: cycles / core clock",
         static_cast<double>(cycles) / (m.cfg.sim.core_clock_mhz * 1e6));
  v.real("sim.wall_seconds", "s", "wall-clock seconds spent simulating", m.wall);
  v.real("sim.accesses_per_second", "accesses/s", "simulated trace records per wall-clock second",
         m.wall > 0 ? static_cast<double>(records()) / m.wall : 0.0);
  if (m.cpus.size() == 1) {
    m.cpus[0]->core.visit(v, "cpu");
  } else {
    CpuCore::visit_total(v, m.cpus.size(), [&m](size_t i) -> const CpuCore& {
      return m.cpus[i]->core;
    });
    for (const auto& c : m.cpus) c->core.visit(v, "cpu" + std::to_string(c->core.id()));
  }
  m.dram->dram.visit(v);
  m.os->visit(v);
}

const std::vector<std::string>& Simulation::explain_lines() const { return impl_->explain; }

uint64_t Simulation::cycles() const {
  uint64_t c = 0;
  for (const auto& cpu : impl_->cpus) c = std::max(c, cpu->core.stats().cycles);
  return c;
}

uint64_t Simulation::records() const {
  uint64_t n = 0;
  for (const auto& cpu : impl_->cpus) n += cpu->core.stats().records;
  return n;
}

double Simulation::wall_seconds() const { return impl_->wall; }
const SimConfig& Simulation::config() const { return impl_->cfg; }

}  // namespace mmusim
