// SystemC shells around the plain C++ cores. Timing rules (design.md §2):
// time is integer core cycles; a CPU runs ahead of SystemC time on a local
// cycle stamp and synchronizes (wait) only before touching shared state (DRAM,
// kernel) or when it is a quantum ahead; contention is busy-until arithmetic
// inside the cores; modules talk through TLM-2.0 b_transport with annotated
// delays.
#include "models/sim/simulation.h"

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <stdexcept>
#include <systemc>
#include <tlm>

#include "models/common/error.h"
#include "models/cpu/cpu_core.h"
#include "models/dram/dram.h"
#include "models/os/first_touch.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {
namespace {

// Carries a page fault to the kernel and its outcome back.
struct FaultExtension : tlm::tlm_extension<FaultExtension> {
  FaultInfo info;
  Cycle at;  // when the fault is raised (explicit: see MemExtension)
  FaultOutcome outcome;
  tlm::tlm_extension_base* clone() const override { return new FaultExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& o) override {
    *this = static_cast<const FaultExtension&>(o);
  }
};

// Carries a memory request's cycle stamps: the arrival cycle goes in, the
// completion cycle comes back. Stamps are explicit (not derived from SystemC
// time plus the annotated delay) because a CPU's younger accesses can be
// behind SystemC time after it waited for an older walk's request.
struct MemExtension : tlm::tlm_extension<MemExtension> {
  Cycle arrival;
  Cycle done;
  tlm::tlm_extension_base* clone() const override { return new MemExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& o) override {
    *this = static_cast<const MemExtension&>(o);
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

// The shared DRAM. Direct mode (one CPU): each request is served when it
// comes, in call order (busy-until arithmetic in the core). Batching mode
// (several CPUs, or the reference mode): requesters arrive at their request's
// cycle; the requests that arrive in the same delta cycle are scheduled
// together, FR-FCFS, ties broken by (arrival, initiator) — the order in which
// SystemC happened to run the threads never matters.
class DramModule : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<DramModule> socket;
  SC_HAS_PROCESS(DramModule);
  DramModule(
      sc_core::sc_module_name n,  // NOLINT(performance-unnecessary-value-param): SystemC idiom
      const DramConfig& cfg, const Clock& clk, bool batching, size_t initiators)
      : sc_module(n),
        socket("socket"),
        dram(cfg),
        clk_(clk),
        batching_(batching),
        done_events_(initiators) {
    socket.register_b_transport(this, &DramModule::b_transport);
    SC_METHOD(schedule);
    sensitive << batch_event_;
    dont_initialize();
  }
  void b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& /*delay*/) {
    MemExtension* x = nullptr;
    p.get_extension(x);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    if (!batching_) {  // a batch of one, served at once
      x->done = dram.access(PhysAddr(p.get_address()), p.is_write(), x->arrival);
      ++batches;
      ++batched_requests;
      return;
    }
    if (pending_.empty()) batch_event_.notify(sc_core::SC_ZERO_TIME);
    pending_.push_back(Pending{DramRequest{PhysAddr(p.get_address()), p.is_write(), x->arrival},
                               static_cast<uint32_t>(id), x});
    wait(done_events_[static_cast<size_t>(id)]);
  }
  Dram dram;
  uint64_t batches = 0, batched_requests = 0, reordered = 0;

 private:
  struct Pending {
    DramRequest req;
    uint32_t initiator;
    MemExtension* ext;
  };
  void schedule() {
    std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return a.req.arrival != b.req.arrival ? a.req.arrival < b.req.arrival
                                            : a.initiator < b.initiator;
    });
    reqs_.clear();
    for (const Pending& q : pending_) reqs_.push_back(q.req);
    done_.assign(reqs_.size(), Cycle(0));
    dram.access_batch(reqs_.data(), reqs_.size(), done_.data());
    ++batches;
    batched_requests += reqs_.size();
    for (size_t i = 0; i + 1 < done_.size(); ++i) {
      if (done_[i + 1] < done_[i]) ++reordered;  // a younger request finished first
    }
    for (size_t i = 0; i < pending_.size(); ++i) {
      pending_[i].ext->done = done_[i];
      done_events_[pending_[i].initiator].notify(sc_core::SC_ZERO_TIME);
    }
    pending_.clear();
  }
  const Clock& clk_;
  bool batching_;
  std::vector<sc_core::sc_event> done_events_;
  sc_core::sc_event batch_event_;
  std::vector<Pending> pending_;
  std::vector<DramRequest> reqs_;
  std::vector<Cycle> done_;
};

// The kernel: page faults from every CPU arrive here at synchronized time.
class KernelModule : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<KernelModule> socket;
  KernelModule(
      sc_core::sc_module_name n,  // NOLINT(performance-unnecessary-value-param): SystemC idiom
      FaultHandler& h, const Clock& clk)
      : sc_module(n), socket("socket"), handler(h), clk_(clk) {
    socket.register_b_transport(this, &KernelModule::b_transport);
  }
  void b_transport(int /*id*/, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    FaultExtension* x = nullptr;
    p.get_extension(x);
    x->outcome = handler.handle(x->info);
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
  // Passes the descriptor records (GDT/LDT) that open the trace to `apply`
  // (setup, before any CPU runs) and keeps the first other batch pending.
  // Returns how many there were.
  uint64_t take_leading_descriptors(const std::function<void(const TraceRecord&)>& apply) {
    uint64_t taken = 0;
    for (;;) {
      size_t n = reader_->read(buf_, clamp(kBatch));
      if (n == 0) return taken;
      check_records(buf_, n);
      delivered_ += n;
      size_t i = 0;
      for (; i < n; ++i) {
        const uint8_t op = trace_flags::op_of(buf_[i].flags);
        if (op != trace_flags::kOpGdt && op != trace_flags::kOpLdt) break;
        apply(buf_[i]);
        ++taken;
      }
      if (i < n) {
        pending_.assign(buf_ + i, buf_ + n);
        return taken;
      }
    }
  }
  // Fills up to `max` records for `cpu`; 0 at the end of its stream.
  size_t next(uint32_t cpu, TraceRecord* out, size_t max) {
    if (queues_.size() == 1) {
      if (pending_pos_ < pending_.size()) {
        size_t n = std::min(max, pending_.size() - pending_pos_);
        std::copy_n(pending_.begin() + static_cast<std::ptrdiff_t>(pending_pos_), n, out);
        pending_pos_ += n;
        return n;
      }
      size_t n = reader_->read(out, clamp(max));
      check_records(out, n);
      delivered_ += n;
      return n;
    }
    if (pending_pos_ < pending_.size()) {
      for (; pending_pos_ < pending_.size(); ++pending_pos_) enqueue(pending_[pending_pos_]);
    }
    auto& q = queues_[cpu];
    while (q.empty()) {
      size_t n = reader_->read(buf_, clamp(kBatch));
      if (n == 0) return 0;
      check_records(buf_, n);
      delivered_ += n;
      for (size_t i = 0; i < n; ++i) enqueue(buf_[i]);
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
  void enqueue(const TraceRecord& r) {
    auto& dst = queues_[r.cpu];
    dst.push_back(r);
    if (dst.size() > kMaxBuffered) {
      throw InputError(reader_->path() + ":" + reader_->position() + ": more than " +
                       std::to_string(kMaxBuffered) + " records buffered for cpu " +
                       std::to_string(r.cpu) + "; interleave the CPUs' records more finely");
    }
  }
  // CPU numbers in range; segment records well-formed (the text reader only
  // produces well-formed ones; a binary file may carry any flags byte).
  void check_records(const TraceRecord* r, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      if (r[i].cpu >= queues_.size()) {
        throw InputError(reader_->path() + ":" + reader_->position() + ": record for cpu " +
                         std::to_string(r[i].cpu) +
                         ", but sim.cpus = " + std::to_string(queues_.size()) +
                         " (expected cpu 0.." + std::to_string(queues_.size() - 1) + ")");
      }
      if (r[i].flags != 0) {
        if (const char* why = trace_record_problem(r[i])) {
          char flags[8];
          std::snprintf(flags, sizeof flags, "0x%02x", static_cast<unsigned>(r[i].flags));
          throw InputError(reader_->path() + ": record " + std::to_string(delivered_ + i + 1) +
                           ": " + why + " (flags " + flags +
                           "; expected the segment encoding of traces/README.md)");
        }
      }
    }
  }
  std::unique_ptr<TraceReader> reader_;
  std::vector<std::deque<TraceRecord>> queues_;
  std::vector<TraceRecord> pending_;  // records read with the leading descriptors
  size_t pending_pos_ = 0;
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
  cc.seg = c.seg;
  return cc;
}

// One simulated CPU: the plain core (address generator, TLBs, walker) in a
// thread that synchronizes only when it must.
class CpuModule : public sc_core::sc_module, public CpuCore::Env {
 public:
  tlm_utils::simple_initiator_socket<CpuModule> mem_socket;
  tlm_utils::simple_initiator_socket<CpuModule> kernel_socket;
  SC_HAS_PROCESS(CpuModule);
  CpuModule(
      sc_core::sc_module_name n,  // NOLINT(performance-unnecessary-value-param): SystemC idiom
      uint32_t id, const SimConfig& cfg, PhysMem& mem, PhysAddr root, TraceFeeder& feeder,
      const Clock& clk, uint64_t explain, std::vector<std::string>* explain_out,
      DescriptorTables& tables)
      : sc_module(n),
        mem_socket("mem_socket"),
        kernel_socket("kernel_socket"),
        core(id, core_config(cfg), mem, *this, explain, explain_out, &tables),
        feeder_(feeder),
        clk_(clk),
        quantum_(cfg.sim.quantum),
        shared_(cfg.sim.cpus > 1 || cfg.sim.quantum == 0) {
    gp_.set_extension(&mem_ext_);
    core.set_root(root);
    SC_THREAD(run);
  }

  // CpuCore::Env: memory timing through the DRAM socket (caller has synced).
  // With other initiators around (or in reference mode) the CPU first waits
  // until the request's cycle, so that DRAM sees requests in time order and
  // can schedule same-cycle arrivals together.
  Cycle access(PhysAddr a, bool is_write, Cycle at) override {
    if (shared_) sync_now(at);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    Cycle now = clk_.now();
    if (at > now) delay = clk_.span(at - now);
    mem_ext_.arrival = at;
    gp_.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp_.set_address(a.value());
    gp_.set_data_ptr(data_);
    gp_.set_data_length(8);
    gp_.set_streaming_width(8);
    gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    mem_socket->b_transport(gp_, delay);
    return mem_ext_.done;
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
  FaultOutcome fault(const FaultInfo& f) override {
    sync_now(f.raised);
    FaultExtension ext;
    ext.info = f;
    ext.at = f.raised;
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
      if (sc_core::sc_get_status() != sc_core::SC_STOPPED) sc_core::sc_stop();
    }
  }

  ~CpuModule() override { gp_.clear_extension(&mem_ext_); }

  CpuCore core;
  std::exception_ptr error;

 private:
  TraceFeeder& feeder_;
  const Clock& clk_;
  uint64_t quantum_;
  bool shared_;
  tlm::tlm_generic_payload gp_;
  MemExtension mem_ext_;
  unsigned char data_[8] = {};
};

}  // namespace

struct Simulation::Impl {
  SimConfig cfg;
  Clock clk;
  PhysMem mem;
  std::unique_ptr<FirstTouchMapper> os;
  std::unique_ptr<TraceFeeder> feeder;
  DescriptorTables tables;  // shared by the CPUs (one address space)
  std::unique_ptr<DramModule> dram;
  std::unique_ptr<KernelModule> kernel;
  std::vector<std::unique_ptr<CpuModule>> cpus;
  std::vector<std::string> explain;
  double wall = 0;
};

Simulation::Simulation(const SimConfig& cfg, std::unique_ptr<TraceReader> trace, uint64_t explain)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = cfg;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  m.clk.period_ps = (1000000ULL + cfg.sim.core_clock_mhz / 2) / cfg.sim.core_clock_mhz;
  if (m.clk.period_ps == 0) m.clk.period_ps = 1;
  m.os = std::make_unique<FirstTouchMapper>(m.cfg.os, m.mem);
  m.feeder = std::make_unique<TraceFeeder>(std::move(trace), cfg.sim.cpus, cfg.sim.max_accesses);
  // Descriptor tables: the mode's default GDT, overwritten by the GDT/LDT
  // records that open the trace (setup, untimed: the OS built the tables
  // before the traced program ran). Later descriptor records are timed stores.
  m.tables = DescriptorTables::defaults(m.cfg.seg);
  const SegConfig& sc = m.cfg.seg;
  for (size_t i = 0; i < m.cfg.seg_gdt.size(); ++i) {  // seg.gdt / seg.ldt from the config
    m.tables.set(LinearAddr(sc.gdt_base + 8 * i), m.cfg.seg_gdt[i]);
  }
  for (size_t i = 0; i < m.cfg.seg_ldt.size(); ++i) {
    m.tables.set(LinearAddr(sc.ldt_base + 8 * i), m.cfg.seg_ldt[i]);
  }
  const bool tables_used = sc.mode == SegMode::kProtected32 || sc.mode == SegMode::kLong64;
  const uint64_t setup_records = m.feeder->take_leading_descriptors([&](const TraceRecord& r) {
    if (!tables_used) return;  // real and flat modes read no descriptors
    const bool ldt = trace_flags::op_of(r.flags) == trace_flags::kOpLdt;
    uint64_t a = (ldt ? sc.ldt_base : sc.gdt_base) + uint64_t{r.size} * 8;
    if (sc.mode == SegMode::kProtected32) a &= 0xFFFFFFFFULL;
    m.tables.set(LinearAddr(a), r.addr);
  });
  m.dram = std::make_unique<DramModule>("dram", m.cfg.dram, m.clk,
                                        cfg.sim.cpus > 1 || cfg.sim.quantum == 0, cfg.sim.cpus);
  m.kernel = std::make_unique<KernelModule>("kernel", *m.os, m.clk);
  for (uint32_t i = 0; i < cfg.sim.cpus; ++i) {
    std::unique_ptr<CpuModule> cpu;
    try {  // loads the initial segment registers from the descriptor tables
      cpu = std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i, m.cfg, m.mem,
                                        m.os->root(), *m.feeder, m.clk, explain, &m.explain,
                                        m.tables);
    } catch (const InputError& e) {
      if (setup_records == 0) throw;
      throw InputError(std::string(e.what()) + " (the GDT is the default flat GDT overwritten by " +
                       std::to_string(setup_records) +
                       " descriptor record(s) at the start of the trace)");
    }
    if (cfg.sim.cpus == 1) cpu->core.set_record_base(setup_records);
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
  v.wall_clock("sim.wall_seconds", "s", "wall-clock seconds spent simulating", m.wall);
  v.wall_clock("sim.accesses_per_second", "accesses/s",
               "simulated trace records per wall-clock second",
               m.wall > 0 ? static_cast<double>(records()) / m.wall : 0.0);
  auto units = [&v](const CpuCore& c, const std::string& prefix) {
    c.visit(v, prefix);
    if (prefix == "cpu") {
      c.tlb().visit(v);
      c.walker().visit(v);
      c.seg_stats().visit(v);
      return;
    }
    struct Prefixed : StatVisitor {
      StatVisitor& in;
      std::string p;
      Prefixed(StatVisitor& i, std::string s) : in(i), p(std::move(s)) {}
      void counter(std::string_view n, std::string_view u, std::string_view d,
                   uint64_t x) override {
        in.counter(p + "." + std::string(n), u, d, x);
      }
      void real(std::string_view n, std::string_view u, std::string_view d, double x) override {
        in.real(p + "." + std::string(n), u, d, x);
      }
      void histogram(std::string_view n, std::string_view u, std::string_view d,
                     const Histogram& h) override {
        in.histogram(p + "." + std::string(n), u, d, h);
      }
    } pv(v, prefix);
    c.tlb().visit(pv);
    c.walker().visit(pv);
    c.seg_stats().visit(pv);
  };
  if (m.cpus.size() == 1) {
    units(m.cpus[0]->core, "cpu");
  } else {
    CpuCore::visit_total(v, "cpu", m.cpus.size(),
                         [&m](size_t i) -> const CpuCore& { return m.cpus[i]->core; });
    for (const auto& c : m.cpus) units(c->core, "cpu" + std::to_string(c->core.id()));
  }
  // Misses per thousand trace records, summed over the CPUs.
  uint64_t l1i = 0, l1d = 0, l2 = 0;
  for (const auto& c : m.cpus) {
    const TlbLevelStats t = c->core.tlb().level_stats();
    l1i += t.l1i_misses;
    l1d += t.l1d_misses;
    l2 += t.l2_misses;
  }
  const double k = records() ? 1000.0 / static_cast<double>(records()) : 0.0;
  v.real("tlb.l1i.mpka", "misses/1000", "L1 ITLB misses per thousand accesses",
         static_cast<double>(l1i) * k);
  v.real("tlb.l1d.mpka", "misses/1000", "L1 DTLB misses per thousand accesses",
         static_cast<double>(l1d) * k);
  v.real("tlb.l2.mpka", "misses/1000", "L2 STLB misses per thousand accesses",
         static_cast<double>(l2) * k);
  m.dram->dram.visit(v);
  v.counter("dram.batches", "batches",
            "groups of same-cycle requests scheduled together (one CPU: every request alone)",
            m.dram->batches);
  v.counter("dram.batched_requests", "requests", "requests scheduled in those groups",
            m.dram->batched_requests);
  v.counter("dram.reordered", "requests",
            "requests that FR-FCFS completed before an older one of their group",
            m.dram->reordered);
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
