// The composition root: builds the system from a SimConfig as a tree of
// public SystemC modules under `top` (top.cpuN with its agu, seg, tlb and
// walker; top.dram; top.kernel), binds their sockets and ports, runs it over
// a trace, and exposes every statistic (named by module path) for the
// Reporter. Timing rules: design.md §2 and README "Timing".
#include "models/sim/simulation.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <systemc>

#include "models/common/asan_stack.h"
#include "models/common/error.h"
#include "models/common/sc_sync.h"
#include "models/cpu/cpu_module.h"
#include "models/disk/block_queue.h"
#include "models/disk/disk_config.h"
#include "models/disk/disk_controller.h"
#include "models/disk/dma_engine.h"
#include "models/dram/dram_module.h"
#include "models/os/file_cache.h"
#include "models/os/first_touch.h"
#include "models/os/kernel_module.h"
#include "models/os/linux_kernel.h"
#include "models/sim/mem_series.h"
#include "models/sim/task_feeder.h"

namespace mmusim {
namespace {

// Hands each CPU its records in trace order, buffering the records of other
// CPUs (bounded: a trace whose CPUs drift too far apart is refused).
class TraceFeeder : public RecordSource {
 public:
  // `first`: the records of the reader's first read() (already counted).
  TraceFeeder(std::unique_ptr<TraceReader> r, uint32_t cpus, uint64_t max_records,
              std::vector<TraceRecord> first)
      : reader_(std::move(r)),
        queues_(cpus),
        ends_(cpus),
        first_(std::move(first)),
        limit_(max_records) {
    delivered_ = first_.size();
  }
  // Passes the descriptor records (GDT/LDT) that open the trace to `apply`
  // (setup, before any CPU runs) and keeps the first other batch pending.
  // Returns how many there were.
  uint64_t take_leading_descriptors(const std::function<void(const TraceRecord&)>& apply) {
    uint64_t taken = 0;
    bool first = true;
    for (;;) {
      const TraceRecord* b = buf_;
      size_t n = 0;
      if (first) {
        first = false;
        b = first_.data();
        n = first_.size();
      } else {
        n = reader_->read(buf_, clamp(kBatch));
        delivered_ += n;
      }
      if (n == 0) return taken;
      size_t i = 0;
      for (; i < n; ++i) {
        const uint8_t op = trace_flags::op_of(b[i].flags);
        if (op != trace_flags::kOpGdt && op != trace_flags::kOpLdt) break;
        apply(b[i]);
        ++taken;
      }
      if (i < n) {
        pending_.assign(b + i, b + n);
        first_.clear();
        first_.shrink_to_fit();
        return taken;
      }
    }
  }
  // The records in place, never copied here: with one CPU the leading batch
  // or the reader's own (TraceReader::borrow: the input thread's block),
  // with several the CPU's whole queue.
  const TraceRecord* next(uint32_t cpu, TraceRecord* scratch, size_t max, size_t& n) override {
    if (queues_.size() == 1) {
      if (pending_pos_ < pending_.size()) {
        n = pending_.size() - pending_pos_;
        const TraceRecord* r = pending_.data() + pending_pos_;
        pending_pos_ = pending_.size();
        return r;
      }
      const TraceRecord* r = reader_->borrow(scratch, clamp(max), n);
      delivered_ += n;
      return r;
    }
    if (pending_pos_ < pending_.size()) {
      distribute(pending_.data() + pending_pos_, pending_.size() - pending_pos_);
      pending_pos_ = pending_.size();
    }
    RecordQueue& q = queues_[cpu];
    while (q.empty()) {
      const TraceRecord* r = reader_->borrow(buf_, clamp(kBatch), n);
      if (n == 0) return scratch;
      delivered_ += n;
      distribute(r, n);
    }
    return q.lend(n);
  }
  [[nodiscard]] uint64_t delivered() const { return delivered_; }

 private:
  static constexpr size_t kBatch = 4096;
  static constexpr size_t kMaxBuffered = 1U << 22;
  static constexpr size_t kLocalEnds = 16;  // distribute(): CPUs whose ends stay local
  size_t clamp(size_t max) const {
    if (limit_ == 0) return max;
    uint64_t left = limit_ > delivered_ ? limit_ - delivered_ : 0;
    return static_cast<size_t>(left < max ? left : max);
  }
  // A growable array of records that the distribution writes through a
  // raw end pointer (no capacity check per record).
  class RecordBuffer {
   public:
    [[nodiscard]] size_t size() const { return size_; }
    [[nodiscard]] const TraceRecord* data() const { return data_.get(); }
    [[nodiscard]] TraceRecord* end() { return data_.get() + size_; }
    void clear() { size_ = 0; }
    // Room for `more` records after the current ones.
    void reserve_more(size_t more) {
      if (size_ + more <= cap_) return;
      const size_t cap = std::max(2 * cap_, size_ + more);
      std::unique_ptr<TraceRecord[]> d(new TraceRecord[cap]);
      std::copy_n(data_.get(), size_, d.get());
      data_ = std::move(d);
      cap_ = cap;
    }
    void set_end(const TraceRecord* e) { size_ = static_cast<size_t>(e - data_.get()); }
    void swap(RecordBuffer& o) noexcept {
      std::swap(data_, o.data_);
      std::swap(size_, o.size_);
      std::swap(cap_, o.cap_);
    }

   private:
    std::unique_ptr<TraceRecord[]> data_;
    size_t size_ = 0, cap_ = 0;
  };
  // One CPU's records in trace order, in two buffers: the one being filled
  // and the one lent to the CPU (valid until its next call; the fill never
  // touches it). They swap roles at each loan, so nothing is copied or
  // allocated once both have grown to the CPUs' interleaving.
  struct RecordQueue {
    [[nodiscard]] bool empty() const { return in.size() == 0; }
    const TraceRecord* lend(size_t& n) {
      lent.clear();
      lent.swap(in);
      n = lent.size();
      return lent.data();
    }
    RecordBuffer in, lent;
  };
  // Appends each record to its CPU's queue; a queue past kMaxBuffered (a
  // CPU whose records the trace holds back far behind the others') stops
  // the run.
  void distribute(const TraceRecord* r, size_t n) {
    const size_t cpus = queues_.size();
    for (size_t c = 0; c < cpus; ++c) {
      queues_[c].in.reserve_more(n);
      ends_[c] = queues_[c].in.end();
    }
    if (cpus <= kLocalEnds) {
      // The ends in a local array: a record's byte fields may alias any
      // memory, so ends_'s storage would be reloaded after every copy.
      std::array<TraceRecord*, kLocalEnds> e{};
      std::copy_n(ends_.begin(), cpus, e.begin());
      for (size_t i = 0; i < n; ++i) *e[r[i].cpu]++ = r[i];
      std::copy_n(e.begin(), cpus, ends_.begin());
    } else {
      for (size_t i = 0; i < n; ++i) *ends_[r[i].cpu]++ = r[i];
    }
    for (size_t c = 0; c < cpus; ++c) {
      queues_[c].in.set_end(ends_[c]);
      if (queues_[c].in.size() > kMaxBuffered) {
        throw InputError(reader_->path() + ":" + reader_->position() + ": more than " +
                         std::to_string(kMaxBuffered) + " records buffered for cpu " +
                         std::to_string(c) + "; interleave the CPUs' records more finely");
      }
    }
  }
  std::unique_ptr<TraceReader> reader_;
  std::vector<RecordQueue> queues_;
  std::vector<TraceRecord*> ends_;    // distribute(): each queue's end
  std::vector<TraceRecord> first_;    // the first batch, until the descriptors are taken
  std::vector<TraceRecord> pending_;  // records read with the leading descriptors
  size_t pending_pos_ = 0;
  TraceRecord buf_[kBatch];
  uint64_t limit_;
  uint64_t delivered_ = 0;
};

CpuModuleConfig cpu_config(const SimConfig& c) {
  CpuModuleConfig m;
  CpuCoreConfig& cc = m.core;
  cc.ag = c.cpu;
  cc.tlb = c.tlb;
  cc.walker = c.walker;
  cc.user = c.sim.user;
  cc.pid = 1;
  cc.asid = Asid(static_cast<uint16_t>(c.sim.asid));
  cc.seg = c.seg;
  cc.ctx_switch = c.cpu_control.ctx_switch;
  cc.ipi_cost = c.cpu_control.ipi_cost;
  m.quantum = c.sim.quantum;
  m.ipi_period = c.cpu_control.ipi_period;
  m.cache = c.cache;
  return m;
}

// The CPUs' record source in a trace with tasks (they take task records).
class NoRecords : public RecordSource {
 public:
  const TraceRecord* next(uint32_t /*cpu*/, TraceRecord* scratch, size_t /*max*/,
                          size_t& n) override {
    n = 0;
    return scratch;
  }
};

// The page cache's block queue, built before the kernel module whose `disk`
// port it forwards to.
class ForwardQueue : public BlockQueue {
 public:
  std::optional<BlockTimeline> submit(const BlockRequest& r) override { return to->submit(r); }
  BlockQueue* to = nullptr;
};

// The whole system: one SystemC module named "top".
class Top : public sc_core::sc_module {
 public:
  [[nodiscard]] const char* kind() const override { return "System"; }
  Top(const sc_core::sc_module_name& name, const SimConfig& cfg, PhysMem& phys,
      const ClockPeriod& clk, SyncHorizon& horizon, RecordSource& feeder, TaskFeeder* tasks,
      Kernel& kernel_core, uint64_t explain, ExplainLog* explain_out, DescriptorTables& tables,
      uint64_t setup_records, std::vector<std::unique_ptr<DiskModel>> devices)
      : sc_module(name),
        dram("dram", cfg.dram, clk, &phys),
        kernel("kernel", kernel_core, cfg.kernel) {
    // The shared side of the memory path: the LLC (with caches; of size 0 it
    // keeps no lines but is still the point where kernel and DMA writes
    // invalidate the private caches) in front of the DRAM.
    MemTargetSocket* shared = &dram.socket;
    if (cfg.cache.enabled) {
      llc = std::make_unique<CacheModule>("llc", cfg.cache.llc, MemSource::kLlc, clk, &phys);
      llc->lower.bind(dram.socket);
      llc->set_miss_path(cfg.cache.miss_path);
      llc->set_dma_allocate(cfg.cache.dma_allocate);
      llc->serve_below(static_cast<InOrderMemTarget*>(&dram));
      // Every CPU, the kernel and DMA reach it: lookups in (arrival, socket,
      // agent) order.
      llc->set_shared(true);
      shared = &llc->upper;
    }
    // Bound to the DRAM itself (no LLC): requests in time order take its
    // plain call (CPUs, kernel, DMA).
    InOrderMemTarget* direct = shared == &dram.socket ? &dram : nullptr;
    kernel.mem.bind(*shared);
    kernel.serve_directly(direct);
    if (!devices.empty()) {  // storage: the controller, its devices and the DMA engine
      const bool reference = cfg.sim.quantum == 0;
      std::map<uint32_t, size_t> dev_index;  // a request's dev is the device's number
      for (size_t i = 0; i < devices.size(); ++i) dev_index[static_cast<uint32_t>(i)] = i;
      disk = std::make_unique<DiskController>("disk", cfg.storage, std::move(devices),
                                              std::move(dev_index), horizon, clk, reference);
      dma = std::make_unique<DmaEngine>("dma", cfg.storage, horizon, clk, reference);
      disk->connect(*dma);
      dma->mem.bind(*shared);
      dma->serve_directly(direct);
      kernel.disk.bind(disk->target);
      disk->irq.bind(kernel.io);
      kernel.use_storage(clk);
      if (tasks != nullptr) {
        kernel.use_flusher(horizon, clk, reference);
        kernel.use_kswapd(horizon, clk, reference);
      }
    }
    if (tasks != nullptr) {
      kernel.use_scheduler(cfg.sched, cfg.sim.cpus,
                           sched_slice_cycles(cfg.sched, cfg.sim.cpus, cfg.sim.core_clock_mhz));
    }
    // Coherence between the CPUs' private caches: a directory at the LLC.
    const bool coherent = llc && llc->present() && cfg.cache.coherence && cfg.sim.cpus > 1;
    if (coherent) llc->set_coherent(true, snoop_filter_entries(cfg.cache, cfg.sim.cpus));
    for (uint32_t i = 0; i < cfg.sim.cpus; ++i) {
      try {  // loads the initial segment registers from the descriptor tables
        cpus.push_back(std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i,
                                                   cpu_config(cfg), phys, horizon, clk, feeder,
                                                   explain, explain_out, &tables));
      } catch (const InputError& e) {
        if (setup_records == 0) throw;
        throw InputError(
            std::string(e.what()) + " (the GDT is the default flat GDT overwritten by " +
            std::to_string(setup_records) + " descriptor record(s) at the start of the trace)");
      }
      CpuModule& cpu = *cpus.back();
      // With tasks the CPUs start idle: dispatch loads each task's CR3.
      if (tasks == nullptr) cpu.core().set_root(kernel_core.root(cpu.core().context().pid));
      if (cfg.sim.cpus == 1) cpu.core().set_record_base(setup_records);
      cpu.bind_memory(*shared, direct, llc.get());
      if (llc) {
        // Another agent's write reaches these at the CPU's interrupt boundary.
        for (Cache* c : cpu.private_caches()) llc->snoop(*c, &cpu.agent(), &cpu);
        if (coherent) {
          for (auto* m : {cpu.l1d.get(), cpu.l1i.get(), cpu.l2.get()}) {
            if (m != nullptr) m->set_coherent(true);
          }
          cpu.set_snoop_period(cfg.cache.snoop_period);
        }
      }
      cpu.kernel.bind(kernel.target);
      if (tasks != nullptr) {
        cpu.tasks.bind(kernel.tasks);
        cpu.use_tasks(*tasks);
      }
      kernel.cpus.bind(cpu.control);
    }
    if (cfg.series.interval_us != 0) {  // the memory time series, top.series
      series = std::make_unique<MemSeriesModule>("series", kernel_core, cfg.series,
                                                 cfg.sim.core_clock_mhz, clk, horizon,
                                                 [this] { return cpus_end(); });
    }
  }
  // The cycle the last CPU retired its last access at, once every CPU's
  // thread has ended (sim.cycles).
  [[nodiscard]] std::optional<Cycle> cpus_end() const {
    uint64_t end = 0;
    for (const auto& c : cpus) {
      if (!c->finished()) return std::nullopt;
      end = std::max(end, c->core().stats().cycles);
    }
    return Cycle(end);
  }
  DramModule dram;
  KernelModule kernel;
  std::unique_ptr<CacheModule> llc;      // cache.enabled
  std::unique_ptr<DiskController> disk;  // with the Linux model and tasks
  std::unique_ptr<DmaEngine> dma;
  std::vector<std::unique_ptr<CpuModule>> cpus;
  std::unique_ptr<MemSeriesModule> series;  // stats.series_interval_us > 0
};

void list_module(std::ostream& os, const sc_core::sc_object& o, int depth) {
  if (dynamic_cast<const sc_core::sc_module*>(&o) == nullptr) return;
  os << std::string(static_cast<size_t>(2 * depth), ' ') << o.name() << "  (" << o.kind() << ")\n";
  for (const sc_core::sc_object* c : o.get_child_objects()) list_module(os, *c, depth + 1);
}

}  // namespace

struct Simulation::Impl {
  SimConfig cfg;
  ClockPeriod clk;
  PhysMem mem;
  SyncHorizon horizon;
  // The kernel core: first_touch, or linux with its frames, page cache and disk.
  std::unique_ptr<FirstTouchMapper> first_touch;
  std::unique_ptr<PageFrameAllocator> frames;
  ForwardQueue blocks;  // to the kernel module's disk port
  std::unique_ptr<FileCache> cache;
  std::unique_ptr<LinuxKernel> linux_os;
  Kernel* os = nullptr;
  std::unique_ptr<TraceFeeder> feeder;
  std::unique_ptr<TaskFeeder> tasks;  // a trace with tasks
  NoRecords no_records;
  DescriptorTables tables;  // shared by the CPUs (one address space)
  std::unique_ptr<Top> top;
  ExplainLog explain;
  double wall = 0;
};

Simulation::Simulation(const SimConfig& cfg, std::unique_ptr<TraceReader> trace, uint64_t explain,
                       std::ostream* explain_out)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.explain = ExplainLog(explain_out);
  m.cfg = cfg;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  m.clk = ClockPeriod::of_mhz(cfg.sim.core_clock_mhz);
  // The first read tells whether the trace has tasks (it begins with an OS
  // event): then a task feeder and the scheduler place tasks on the CPUs.
  std::vector<TraceRecord> first(4096);
  const uint64_t lim = cfg.sim.max_accesses;
  // Records of CPUs the machine lacks, and addresses beyond 32-bit linear
  // space, are refused by the reader, naming the record (traces/README.md).
  trace->set_cpu_limit(cfg.sim.cpus);
  if (cfg.walker.mode != PagingMode::k4Level && cfg.walker.mode != PagingMode::k5Level) {
    trace->set_address_limit(UINT32_MAX, cfg.paging_mode);
  }
  first.resize(trace->read(first.data(), lim != 0 && lim < first.size() ? lim : first.size()));
  if (trace->has_tasks()) {
    m.tasks = std::make_unique<TaskFeeder>(std::move(trace), first.data(), first.size(), lim);
  } else {
    m.feeder = std::make_unique<TraceFeeder>(std::move(trace), cfg.sim.cpus, lim, std::move(first));
  }
  // The kernel core. Under linux a trace without tasks runs as one process
  // whose every address is first-touch anonymous memory (implicit_anon).
  const OsModel model = m.cfg.kernel.model;
  if ((model == OsModel::kLinux || (model == OsModel::kAuto && m.tasks)) &&
      m.cfg.walker.mode != PagingMode::kOff) {
    if (!m.cfg.os.regions.empty()) throw huge_regions_need_first_touch();  // auto with tasks
    m.cfg.linux_os.implicit_anon = !m.tasks;
    if (!m.tasks && m.cfg.linux_os.pressure.swap_size != 0) {
      throw InputError(
          "os.linux.swap_size: swap needs storage, which is modelled for traces with OS events "
          "(tasks); this trace has none");
    }
    m.cfg.linux_os.file_cache.devices = static_cast<uint32_t>(m.cfg.disk.models.size());
    m.cfg.linux_os.writeback.online_cpus = m.cfg.sim.cpus;
    // The kernel's line loops run on a CPU: its L1D fill buffers bound them.
    m.cfg.linux_os.lines.in_flight = m.cfg.cache.l1d.mshrs;
    const FirstTouchConfig& fc = m.cfg.os;
    m.frames =
        std::make_unique<PageFrameAllocator>(fc.phys_bytes, fc.reserved_low, fc.seed, fc.placement);
    m.cache = std::make_unique<FileCache>(m.cfg.linux_os.file_cache, *m.frames, m.mem, m.blocks);
    m.linux_os = std::make_unique<LinuxKernel>(m.cfg.linux_os, m.mem, *m.frames, *m.cache);
    m.os = m.linux_os.get();
  } else {
    m.first_touch = std::make_unique<FirstTouchMapper>(m.cfg.os, m.mem);
    m.os = m.first_touch.get();
  }
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
  const uint64_t setup_records =
      m.tasks ? 0 : m.feeder->take_leading_descriptors([&](const TraceRecord& r) {
        if (!tables_used) return;  // real and flat modes read no descriptors
        const bool ldt = trace_flags::op_of(r.flags) == trace_flags::kOpLdt;
        uint64_t a = (ldt ? sc.ldt_base : sc.gdt_base) + uint64_t{r.size} * 8;
        if (sc.mode == SegMode::kProtected32) a &= 0xFFFFFFFFULL;
        m.tables.set(LinearAddr(a), r.addr);
      });
  RecordSource& records = m.tasks ? static_cast<RecordSource&>(m.no_records) : *m.feeder;
  // Storage for file I/O: a trace with tasks under the Linux model.
  std::vector<std::unique_ptr<DiskModel>> devices;
  if (m.linux_os && m.tasks) {
    for (size_t i = 0; i < m.cfg.disk.models.size(); ++i) {
      devices.push_back(make_disk_model(m.cfg.disk, i));
    }
  }
  m.top =
      std::make_unique<Top>("top", m.cfg, m.mem, m.clk, m.horizon, records, m.tasks.get(), *m.os,
                            explain, &m.explain, m.tables, setup_records, std::move(devices));
  if (m.top->disk) m.blocks.to = &m.top->kernel.block_queue();
}

Simulation::~Simulation() = default;

void Simulation::list_modules(std::ostream& os) const { list_module(os, *impl_->top, 0); }

void Simulation::run() {
  auto t0 = std::chrono::steady_clock::now();
  // sc_stop() after a CPU error would otherwise print an INFO line.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  if (impl_->top->series) {
    impl_->top->series->simulate();  // sc_start() in steps, a row between them
  } else {
    sc_core::sc_start();
  }
  main_stack_after_systemc();  // before anything may throw on this stack
  impl_->wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& c : impl_->top->cpus) {
    if (c->error()) std::rethrow_exception(c->error());
  }
  // CPUs still idle when nothing was left to happen (tasks blocked forever).
  for (auto& c : impl_->top->cpus) c->finish_idle();
  impl_->top->kernel.finish();
  impl_->top->dram.finish(Cycle(cycles()));  // count refreshes up to the end
  if (impl_->top->series) impl_->top->series->finish(Cycle(cycles()));  // the end row
}

void Simulation::visit(StatVisitor& v) const {
  const Impl& m = *impl_;
  const Top& top = *m.top;
  uint64_t cycles = this->cycles();
  v.counter("sim.cycles", "cycles", "simulated core cycles until the last access retired", cycles);
  v.real("sim.simulated_seconds", "s", "simulated time: cycles / core clock",
         static_cast<double>(cycles) / (m.cfg.sim.core_clock_mhz * 1e6));
  v.wall_clock("sim.wall_seconds", "s", "wall-clock seconds spent simulating", m.wall);
  v.wall_clock("sim.accesses_per_second", "accesses/s",
               "simulated trace records per wall-clock second",
               m.wall > 0 ? static_cast<double>(records()) / m.wall : 0.0);
  // Misses per thousand trace records, summed over the CPUs.
  uint64_t l1i = 0, l1d = 0, l2 = 0;
  for (const auto& c : top.cpus) {
    const TlbLevelStats t = c->core().tlb().level_stats();
    l1i += t.l1i_misses;
    l1d += t.l1d_misses;
    l2 += t.l2_misses;
  }
  const double k = records() ? 1000.0 / static_cast<double>(records()) : 0.0;
  v.real("sim.l1i_mpka", "misses/1000", "L1 ITLB misses per thousand accesses, all CPUs",
         static_cast<double>(l1i) * k);
  v.real("sim.l1d_mpka", "misses/1000", "L1 DTLB misses per thousand accesses, all CPUs",
         static_cast<double>(l1d) * k);
  v.real("sim.l2_mpka", "misses/1000", "L2 STLB misses per thousand accesses, all CPUs",
         static_cast<double>(l2) * k);
  if (top.cpus.size() > 1) {
    CpuCore::visit_total(v, "cpus", top.cpus.size(),
                         [&top](size_t i) -> const CpuCore& { return top.cpus[i]->core(); });
  }
  if (m.tasks) {
    v.counter("sim.tasks.records_dropped", "records",
              "records of tasks that had ended (exit, killed), dropped", m.tasks->dropped());
    v.counter("sim.tasks.records_left", "records",
              "records never run: their task never started or stayed blocked",
              m.tasks->left_over());
  }
  top.kernel.core().visit_vmstat(v);
  if (m.linux_os) {
    PrefixedVisitor k(v, "top.kernel.");
    m.cache->visit(k);
  }
  if (m.top->disk) {
    PrefixedVisitor d(v, "top.disk.");
    m.top->disk->visit(d);
    for (size_t i = 0; i < m.top->disk->devices(); ++i) {
      PrefixedVisitor dv(v, "top.disk.dev" + std::to_string(i) + ".");
      m.top->disk->device(i).visit(dv);
    }
    PrefixedVisitor dm(v, "top.dma.");
    m.top->dma->visit(dm);
  }
  if (m.linux_os) {
    for (uint32_t pid : m.linux_os->pids()) {
      const ProcessStats ps = m.linux_os->process_stats(pid);
      const std::string p = "top.kernel.process." + std::to_string(pid) + ".";
      v.counter(p + "minflt", "faults", "minor faults of the process (getrusage ru_minflt)",
                ps.min_flt);
      v.counter(p + "majflt", "faults", "major faults of the process (getrusage ru_majflt)",
                ps.maj_flt);
      v.counter(p + "rss_peak", "pages", "the highest resident set (VmHWM), 4 KiB pages",
                ps.rss_peak);
    }
  }
  for (const auto& c : top.cpus) c->visit(v);
  if (top.llc) top.llc->visit(v, "top.llc.", records());
  top.dram.visit(v, "top.");
  top.kernel.visit(v, "top.");
}

const std::vector<std::string>& Simulation::explain_lines() const {
  return impl_->explain.blocks();
}
std::string Simulation::blocked_warning() const {
  const Scheduler* s = impl_->top->kernel.scheduler();
  return s != nullptr ? blocked_at_end_warning(s->blocked_at_end()) : std::string();
}

void Simulation::flush_explain() { impl_->explain.finish(); }

uint64_t Simulation::cycles() const {
  uint64_t c = 0;
  for (const auto& cpu : impl_->top->cpus) c = std::max(c, cpu->core().stats().cycles);
  return c;
}

uint64_t Simulation::issue_cycle() const {
  uint64_t c = 0;
  for (const auto& cpu : impl_->top->cpus) c = std::max(c, cpu->agu.core().next_issue().count());
  return c;
}

uint64_t Simulation::records() const {
  uint64_t n = 0;
  for (const auto& cpu : impl_->top->cpus) n += cpu->core().stats().records;
  return n;
}

void Simulation::set_fault_sink(FaultSink* sink) { impl_->top->kernel.set_fault_sink(sink); }

double Simulation::wall_seconds() const { return impl_->wall; }
const SimConfig& Simulation::config() const { return impl_->cfg; }
const MemSeries* Simulation::series() const {
  return impl_->top->series ? &impl_->top->series->series() : nullptr;
}

}  // namespace mmusim
