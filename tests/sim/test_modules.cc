// Systems built by hand from the public SystemC modules, without models/sim:
// CPUs, a plain TLM-2.0 initiator and a kernel sharing one DRAM; the kernel
// boundary's waits (an I/O in flight, a page another fault holds) and TLB
// shootdowns. One elaboration per test (each test runs in its own process).
#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <map>
#include <memory>
#include <set>
#include <systemc>
#include <vector>

#include "models/common/asan_stack.h"
#include "models/common/sc_sync.h"
#include "models/cpu/cpu_module.h"
#include "models/dram/dram_module.h"
#include "models/os/first_touch.h"
#include "models/os/kernel_module.h"
#include "models/os/page_frame.h"
#include "models/os/page_table.h"

namespace mmusim {
namespace {

// Each CPU's records from a vector.
class Records : public RecordSource {
 public:
  explicit Records(size_t cpus) : per_cpu(cpus), pos_(cpus, 0) {}
  const TraceRecord* next(uint32_t cpu, TraceRecord* out, size_t max, size_t& n) override {
    const std::vector<TraceRecord>& v = per_cpu[cpu];
    n = 0;
    while (n < max && pos_[cpu] < v.size()) out[n++] = v[pos_[cpu]++];
    return out;
  }
  void add(uint32_t cpu, uint64_t addr, AccessKind k = AccessKind::kRead, size_t times = 1) {
    TraceRecord r;
    r.addr = addr;
    r.size = 8;
    r.kind = k;
    r.cpu = static_cast<uint16_t>(cpu);
    for (size_t i = 0; i < times; ++i) per_cpu[cpu].push_back(r);
  }
  std::vector<std::vector<TraceRecord>> per_cpu;

 private:
  std::vector<size_t> pos_;
};

// A plain TLM-2.0 loosely-timed initiator (no extension): one 8-byte read at
// `start`, with an annotated delay.
class PlainReader : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<PlainReader> socket;
  SC_HAS_PROCESS(PlainReader);
  PlainReader(const sc_core::sc_module_name& n, uint64_t addr, const sc_core::sc_time& start,
              const sc_core::sc_time& delay)
      : sc_module(n), socket("socket"), addr_(addr), start_(start), delay_(delay) {
    SC_THREAD(run);
  }
  uint64_t data = 0;
  sc_core::sc_time done;
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;

 private:
  void run() {
    sc_core::wait(start_);
    tlm::tlm_generic_payload gp;
    unsigned char buf[8] = {};
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(addr_);
    gp.set_data_ptr(buf);
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    sc_core::sc_time d = delay_;
    socket->b_transport(gp, d);
    done = sc_core::sc_time_stamp() + d;
    status = gp.get_response_status();
    for (int i = 7; i >= 0; --i) data = (data << 8) | buf[i];
  }
  uint64_t addr_;
  sc_core::sc_time start_, delay_;
};

CpuModuleConfig cpu_cfg(uint32_t pid = 1, uint64_t quantum = 10000) {
  CpuModuleConfig c;
  c.core.pid = pid;
  c.core.asid = Asid(static_cast<uint16_t>(pid));
  c.quantum = quantum;
  return c;
}

void run_or_fail(const std::vector<CpuModule*>& cpus) {
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  main_stack_after_systemc();  // a CPU's error is rethrown on this stack (sanitizer builds)
  for (CpuModule* c : cpus) {
    if (c->error()) std::rethrow_exception(c->error());
  }
}

// The public modules of a first-touch system wired by hand: the DRAM, the
// kernel (bound to the DRAM) and, with attach(), each CPU module of process 1.
struct FirstTouchSystem {
  explicit FirstTouchSystem(uint32_t mhz) : clk(ClockPeriod::of_mhz(mhz)) {
    kernel.mem.bind(dram.socket);
  }
  void attach(CpuModule& c) {
    c.core().set_root(os.root(1));
    c.walker.mem.bind(dram.socket);
    c.mem.bind(dram.socket);
    c.kernel.bind(kernel.target);
    kernel.cpus.bind(c.control);
  }
  const ClockPeriod clk;
  PhysMem mem;
  SyncHorizon horizon;
  FirstTouchMapper os{FirstTouchConfig{}, mem};
  DramModule dram{"dram", DramConfig{}, clk, &mem};
  KernelModule kernel{"kernel", os, KernelModuleConfig{}};
};

// Two CPU modules, the first-touch kernel and a plain TLM initiator share one
// DRAM module; nothing comes from models/sim.
TEST(HandBuiltSystem, TwoCpusAndAPlainInitiatorShareOneDram) {
  FirstTouchSystem sys(3000);
  const ClockPeriod& clk = sys.clk;
  FirstTouchMapper& os = sys.os;
  DramModule& dram = sys.dram;
  KernelModule& kernel = sys.kernel;
  PhysMem& mem = sys.mem;
  Records rec(2);
  for (uint64_t i = 0; i < 16; ++i) {
    rec.add(0, 0x10000000 + 4096 * i, AccessKind::kRead, 2);
    rec.add(1, 0x20000000 + 4096 * i, AccessKind::kWrite, 2);
  }
  CpuModule c0("cpu0", 0, cpu_cfg(), mem, sys.horizon, clk, rec);
  CpuModule c1("cpu1", 1, cpu_cfg(), mem, sys.horizon, clk, rec);
  sys.attach(c0);
  sys.attach(c1);
  // cpu1's walk references that arrive in time order skip the socket (as
  // mmusim wires a walker bound straight to the DRAM); cpu0's go through it.
  c1.walker.serve_directly(&dram);
  // The reader arrives well after the CPUs finished, between refreshes, at
  // a precharged bank: a row miss on an idle DRAM.
  const DramCoreTiming& t = dram.core().core_timing();
  const uint64_t arrival = 100 * t.refi.count() + t.rfc.count() + 1000;
  const uint64_t delay = 300;
  const PhysAddr pml4e(os.root(1).value());  // PML4[0] maps both CPUs' pages
  PlainReader reader("reader", pml4e.value(), clk.span(Cycles(arrival - delay)),
                     clk.span(Cycles(delay)));
  reader.socket.bind(dram.socket);
  run_or_fail({&c0, &c1});

  EXPECT_EQ(std::string(c0.walker.name()), "cpu0.walker");
  for (CpuModule* c : {&c0, &c1}) {
    EXPECT_EQ(c->core().stats().records, 32U);
    EXPECT_EQ(c->core().stats().faults, 16U);
  }
  EXPECT_EQ(os.stats().faults, 32U);
  EXPECT_EQ(kernel.stats().faults[static_cast<size_t>(FaultClass::kFirstTouch)], 32U);
  // Every walk reference reached DRAM as "walker", in time order.
  EXPECT_EQ(dram.initiator_stats(Initiator::kWalker).requests,
            c0.core().walker().stats().mem_refs + c1.core().walker().stats().mem_refs);
  EXPECT_EQ(dram.core().stats().reads + dram.core().stats().writes,
            dram.initiator_stats(Initiator::kWalker).requests +
                dram.initiator_stats(Initiator::kKernel).requests + 1);
  EXPECT_EQ(dram.initiator_stats(Initiator::kOther).requests, 1U);
  // The plain read: the annotated delay is its arrival; a row miss costs
  // controller + tRCD + tCL + tBL; the data is the page-table entry.
  const uint64_t miss = (t.controller + t.rcd + t.cl + t.bl).count();
  EXPECT_EQ(dram.initiator_stats(Initiator::kOther).latency.max(), miss);
  EXPECT_EQ(reader.status, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(reader.done, clk.span(Cycles(arrival + miss)));
  EXPECT_EQ(reader.data, mem.read64(pml4e));
  EXPECT_NE(reader.data & pte::kP, 0U);
}

// A kernel whose pages come from a fixed-latency I/O: the first fault on a
// page starts the I/O and waits for it, then maps the page and zero-fills it
// through the memory model; a fault on a page whose I/O is in flight waits
// for the page. Everything it decides is recorded for the test.
class IoKernel : public Kernel {
 public:
  static constexpr uint64_t kIo = 100000;    // cycles of the I/O
  static constexpr uint64_t kMapCost = 700;  // cycles after the zero-fill
  static constexpr uint64_t kMinor = 300;    // a fault that found the page mapped
  IoKernel(PhysMem& mem)
      : frames_(1ULL << 30, 16ULL << 20, 1), table_(PagingMode::k4Level, mem, frames_) {}
  KernelStep fault(const FaultInfo& f, KernelServices& /*s*/) override {
    raised.push_back(f);
    const uint64_t page = f.addr.value() >> 12;
    if (table_.is_mapped(f.addr)) return KernelStep::done(minor(f.raised));
    if (inflight_.count(page) != 0) return KernelStep::wait_page(page);
    ++ios;
    inflight_[page] = f.raised + Cycles(kIo);
    return KernelStep::wait_io(page, inflight_[page]);
  }
  KernelStep resume(const FaultInfo& f, uint64_t key, Cycle now, KernelServices& s) override {
    resumed.emplace_back(f.cpu, now);
    if (table_.is_mapped(f.addr)) return KernelStep::done(minor(now));
    const Pfn pfn = *frames_.allocate(PageSize::k4K);
    EXPECT_EQ(table_.map(LinearAddr(key << 12), pfn, PageSize::k4K, pte::kRW | pte::kUS),
              MapResult::kOk);
    inflight_.erase(key);
    s.release(key);  // the I/O completed: the page's waiters go on now
    zero_done = s.zero_page(pfn, now, LineIssue{});
    FaultOutcome o;
    o.cls = FaultClass::kFileMajor;
    o.resume = zero_done + Cycles(kMapCost);
    o.timing.add(FaultTiming::kDevice, now - f.raised);
    o.timing.add(FaultTiming::kZeroCopy, zero_done - now);
    o.timing.add(FaultTiming::kPteInstall, Cycles(kMapCost));
    return KernelStep::done(o);
  }
  [[nodiscard]] PhysAddr root(uint32_t /*pid*/) const override { return table_.root(); }
  void visit(StatVisitor& /*v*/) const override {}
  PageTable& table() { return table_; }

  std::vector<FaultInfo> raised;
  std::vector<std::pair<uint32_t, Cycle>> resumed;
  uint64_t ios = 0;
  Cycle zero_done;

 private:
  static FaultOutcome minor(Cycle at) {
    FaultOutcome o;
    o.cls = FaultClass::kFileMinor;
    o.resume = at + Cycles(kMinor);
    o.timing.add(FaultTiming::kPteInstall, Cycles(kMinor));
    return o;
  }
  PageFrameAllocator frames_;
  PageTable table_;
  std::map<uint64_t, Cycle> inflight_;
};

// cpu0 faults on page P and waits for its I/O; cpu1 faults on P while the
// I/O is in flight and waits for the page, not for a second I/O; cpu2 keeps
// hitting in its TLB meanwhile, and finishes long before the I/O does.
TEST(KernelBoundary, SecondFaultOnAPageWaitsForTheFirstFaultsIo) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  IoKernel os(mem);
  constexpr uint64_t kP = 0x40000000, kQ = 0x50000000;
  ASSERT_EQ(os.table().map(LinearAddr(kQ), Pfn(0x8000), PageSize::k4K, pte::kRW | pte::kUS),
            MapResult::kOk);
  DramModule dram("dram", DramConfig{}, clk, &mem);
  KernelModule kernel("kernel", os, KernelModuleConfig{});
  kernel.mem.bind(dram.socket);
  Records rec(3);
  rec.add(0, kP);
  rec.add(1, kQ, AccessKind::kRead, 5000);  // about 2500 cycles of hits first
  rec.add(1, kP + 8);
  rec.add(2, kQ, AccessKind::kRead, 20000);
  std::vector<std::unique_ptr<CpuModule>> cpus;
  for (uint32_t i = 0; i < 3; ++i) {
    cpus.push_back(std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i,
                                               cpu_cfg(1, 500), mem, horizon, clk, rec));
    CpuModule& c = *cpus.back();
    c.core().set_root(os.root(1));
    c.walker.mem.bind(dram.socket);
    c.mem.bind(dram.socket);
    c.kernel.bind(kernel.target);
    kernel.cpus.bind(c.control);
  }
  run_or_fail({cpus[0].get(), cpus[1].get(), cpus[2].get()});

  ASSERT_EQ(os.raised.size(), 2U);
  const FaultInfo& f0 = os.raised[0];
  const FaultInfo& f1 = os.raised[1];
  EXPECT_EQ(f0.cpu, 0U);
  EXPECT_EQ(f1.cpu, 1U);
  const Cycle io_done = f0.raised + Cycles(IoKernel::kIo);
  EXPECT_LT(f1.raised, io_done);  // cpu1 faulted while the I/O was in flight
  EXPECT_EQ(os.ios, 1U);
  EXPECT_EQ(kernel.stats().io_waits, 1U);
  EXPECT_EQ(kernel.stats().page_waits, 1U);
  // cpu0 resumed at the I/O's completion; cpu1 when the page was released,
  // at the same cycle (it then found the page mapped).
  ASSERT_EQ(os.resumed.size(), 2U);
  EXPECT_EQ(os.resumed[0], std::make_pair(0U, io_done));
  EXPECT_EQ(os.resumed[1], std::make_pair(1U, io_done));
  // Fault latencies, raise to resume, as the CPUs counted them.
  EXPECT_EQ(cpus[0]->core().stats().fault_cycles,
            (os.zero_done + Cycles(IoKernel::kMapCost) - f0.raised).count());
  EXPECT_EQ(cpus[1]->core().stats().fault_cycles,
            (io_done + Cycles(IoKernel::kMinor) - f1.raised).count());
  // The zero-fill: 64 line writes through the memory model.
  EXPECT_EQ(kernel.stats().mem_requests, 64U);
  EXPECT_EQ(dram.initiator_stats(Initiator::kKernel).requests, 64U);
  EXPECT_GT(os.zero_done, io_done);
  EXPECT_EQ(kernel.stats().faults[static_cast<size_t>(FaultClass::kFileMajor)], 1U);
  EXPECT_EQ(kernel.stats().faults[static_cast<size_t>(FaultClass::kFileMinor)], 1U);
  // cpu2 never waited for the I/O.
  EXPECT_LT(cpus[2]->core().stats().cycles, f0.raised.count() + IoKernel::kIo / 4);
  EXPECT_EQ(cpus[2]->core().stats().faults, 0U);
}

// A kernel that, on cpu0's fault, unmaps page A and shoots it down on every
// other CPU running the process: cpu1 (same process) drops its TLB entry and
// faults on A afterwards; cpu2 (another process) is not interrupted.
class ShootdownKernel : public FirstTouchMapper {
 public:
  using FirstTouchMapper::FirstTouchMapper;
  static constexpr uint64_t kA = 0x60000000;
  FaultOutcome handle(const FaultInfo& f, KernelServices& s) override {
    FaultOutcome o = FirstTouchMapper::handle(f);
    if (f.cpu == 0 && !shot_) {
      shot_ = true;
      EXPECT_TRUE(page_table().unmap(LinearAddr(kA)).has_value());
      Shootdown sd;
      sd.kind = Shootdown::Kind::kPage;
      sd.addr = LinearAddr(kA);
      sd.pcid = f.pcid;
      sd.at = f.raised;
      const Cycle acked = s.shootdown(sd, f.pid, f.cpu);
      o.timing.add(FaultTiming::kShootdown, acked - f.raised);
      o.resume = o.resume + (acked - f.raised);
    }
    return o;
  }

 private:
  bool shot_ = false;
};

struct ShootdownRun {
  uint64_t sent = 0;  // the kernel's shootdowns
  CpuStats s0, s1, s2;
};

// cpu0 faults at once and shoots page A down; cpu1 (process 1) holds A in its
// TLB and uses it again after about 20000 cycles of hits on B; cpu2 runs
// process 2.
ShootdownRun run_shootdown_system(uint64_t quantum, uint64_t ipi_period) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  ShootdownKernel os(FirstTouchConfig{}, mem);
  constexpr uint64_t kB = 0x70000000;
  const uint64_t flags = pte::kRW | pte::kUS | pte::kA | pte::kD;
  EXPECT_EQ(os.page_table().map(LinearAddr(ShootdownKernel::kA), Pfn(0x9000), PageSize::k4K, flags),
            MapResult::kOk);
  EXPECT_EQ(os.page_table().map(LinearAddr(kB), Pfn(0x9001), PageSize::k4K, flags), MapResult::kOk);
  DramModule dram("dram", DramConfig{}, clk, &mem);
  KernelModuleConfig kc;
  kc.shootdown_cost = Cycles(5000);
  KernelModule kernel("kernel", os, kc);
  kernel.mem.bind(dram.socket);
  Records rec(3);
  rec.add(0, 0x10000000);  // faults (first touch): the kernel shoots A down
  for (uint32_t c : {1U, 2U}) {
    rec.add(c, ShootdownKernel::kA);           // A into the TLB
    rec.add(c, kB, AccessKind::kRead, 40000);  // ~20000 cycles of hits
    rec.add(c, ShootdownKernel::kA + 8);       // A again
  }
  std::vector<std::unique_ptr<CpuModule>> cpus;
  for (uint32_t i = 0; i < 3; ++i) {
    CpuModuleConfig cc = cpu_cfg(i == 2 ? 2 : 1, quantum);
    cc.core.ipi_cost = Cycles(1234);
    cc.ipi_period = ipi_period;
    cpus.push_back(std::make_unique<CpuModule>(("cpu" + std::to_string(i)).c_str(), i, cc, mem,
                                               horizon, clk, rec));
    CpuModule& c = *cpus.back();
    c.core().set_root(os.root(1));
    c.walker.mem.bind(dram.socket);
    c.mem.bind(dram.socket);
    c.kernel.bind(kernel.target);
    kernel.cpus.bind(c.control);
  }
  run_or_fail({cpus[0].get(), cpus[1].get(), cpus[2].get()});
  return ShootdownRun{kernel.stats().shootdowns, cpus[0]->core().stats(), cpus[1]->core().stats(),
                      cpus[2]->core().stats()};
}

TEST(KernelBoundary, ShootdownReachesTheCpusRunningTheProcess) {
  const ShootdownRun r = run_shootdown_system(1000, 3000);
  EXPECT_EQ(r.sent, 1U);                        // cpu1 only: cpu2 runs process 2
  EXPECT_EQ(r.s0.fault_cycles, 1000U + 5000U);  // first-touch cost + the shootdown
  EXPECT_EQ(r.s1.shootdowns, 1U);
  EXPECT_EQ(r.s1.shootdown_cycles, 1234U);
  EXPECT_EQ(r.s1.faults, 1U);  // A again: its entry was shot down, the page unmapped
  EXPECT_EQ(r.s2.shootdowns, 0U);
  EXPECT_EQ(r.s2.faults, 0U);      // A still in cpu2's TLB (process 2 was not shot down)
  EXPECT_EQ(r.s2.tlb_misses, 2U);  // A and B once each; A hit at the end
}

// The shootdown is sent at cpu0's fault (cycle 0 + the first access's
// issue), so it is due at cycle 3000 (cpu.ipi_period): cpu1 takes it after
// the first record that ends at or after 3000, whatever the run-ahead bound,
// reference mode (quantum 0) included. cpu1's cycles are therefore the same
// in every mode: its ~20000 cycles of hits, one interrupt (1234 cycles) and
// the fault on A at the end.
// 25090 is what every mode gives (a golden figure: the same value for all
// five quanta below is the point of the test).
constexpr uint64_t kIpiRunCpu1Cycles = 25090;

class IpiDelivery : public ::testing::TestWithParam<uint64_t> {};

TEST_P(IpiDelivery, TakenAtThePeriodBoundaryWhateverTheQuantum) {
  const ShootdownRun r = run_shootdown_system(GetParam(), 3000);
  EXPECT_EQ(r.s1.shootdowns, 1U);
  EXPECT_EQ(r.s1.faults, 1U);
  EXPECT_EQ(r.s1.cycles, kIpiRunCpu1Cycles);
  EXPECT_EQ(r.s1.records, 40002U);
}

INSTANTIATE_TEST_SUITE_P(Quantum, IpiDelivery,
                         ::testing::Values(uint64_t{0}, uint64_t{1}, uint64_t{1000},
                                           uint64_t{10000}, uint64_t{1} << 32));

// A shootdown not due before the target's last access is never taken: cpu1
// still hits A from its TLB at the end (the page is unmapped, but the IPI
// has not arrived yet), as on hardware between the unmap and the interrupt.
TEST(IpiDelivery, NotDueBeforeTheLastAccessIsNeverTaken) {
  const ShootdownRun r = run_shootdown_system(1000, uint64_t{1} << 32);
  EXPECT_EQ(r.sent, 1U);
  EXPECT_EQ(r.s1.shootdowns, 0U);
  EXPECT_EQ(r.s1.faults, 0U);
  EXPECT_EQ(r.s1.tlb_misses, 2U);
}

// SystemC time ends at 2^64 ps. At 1 MHz (10^6 ps per cycle) that is cycle
// floor((2^64 - 1) / 10^6) = 18446744073709.
TEST(TimeLimit, ClockPeriodRefusesTimeBeyond2To64Ps) {
  const ClockPeriod clk = ClockPeriod::of_mhz(1);
  ASSERT_EQ(clk.ps, 1000000U);
  EXPECT_EQ(clk.limit(), Cycle(18446744073709ULL));
  EXPECT_NO_THROW(clk.check(Cycle(18446744073708ULL)));
  EXPECT_THROW(clk.check(Cycle(18446744073709ULL)), std::runtime_error);
  // A delay from time 0: the last whole cycle fits, the next does not, and
  // a product that wraps 64 bits is refused too.
  EXPECT_EQ(clk.span(Cycles(18446744073709ULL)).value(), 18446744073709000000ULL);
  EXPECT_THROW((void)clk.span(Cycles(18446744073710ULL)), std::runtime_error);
  EXPECT_THROW((void)clk.span(Cycles(uint64_t{1} << 62)), std::runtime_error);
}

// One CPU resumed `before` cycles ahead of the limit replays 8 accesses to
// one page (a first-touch fault, then hits) at 1 MHz: the run either ends or
// stops with the time-limit error; the count of records it simulated.
struct LimitRun {
  std::string error;
  uint64_t records = 0;
};
LimitRun run_near_the_time_limit(uint64_t before) {
  FirstTouchSystem sys(1);
  Records rec(1);
  rec.add(0, 0x10000000, AccessKind::kRead, 8);
  CpuModule c0("cpu0", 0, cpu_cfg(), sys.mem, sys.horizon, sys.clk, rec);
  sys.attach(c0);
  c0.core().resume_at(Cycle(sys.clk.limit().count() - before));
  LimitRun r;
  try {
    run_or_fail({&c0});
  } catch (const std::runtime_error& e) {
    r.error = e.what();
  }
  r.records = c0.core().stats().records;
  return r;
}

TEST(TimeLimit, ARunThatWouldPassItStopsWithTheError) {
  const LimitRun r = run_near_the_time_limit(10);
  EXPECT_EQ(r.error,
            "simulated time would pass SystemC's limit of 2^64 ps (about 213 simulated days): the "
            "run is stopped, no results are written");
}

TEST(TimeLimit, ARunThatEndsBeforeItIsWhole) {
  // The same accesses 10^6 cycles earlier: a fault and 8 accesses take far
  // fewer cycles than that.
  const LimitRun r = run_near_the_time_limit(1000000);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.records, 8U);
}

}  // namespace
}  // namespace mmusim
