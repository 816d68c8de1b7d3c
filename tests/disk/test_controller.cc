// The disk controller, the DMA engine and the DRAM module built by hand (no
// models/sim): a test "kernel" (an agent that submits block requests at given
// cycles and records the completions), fixed disks, and a pointer-chasing
// TLM initiator. One elaboration per test (each test runs in its own
// process); comparisons of two runs fork one child per run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <systemc>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/mem_port.h"
#include "models/common/sc_sync.h"
#include "models/common/sync_horizon.h"
#include "models/disk/disk_controller.h"
#include "models/disk/dma_engine.h"
#include "models/disk/fixed_disk.h"
#include "models/dram/dram.h"
#include "models/dram/dram_module.h"

namespace mmusim {
namespace {

constexpr uint32_t kMhz = 3000;
constexpr uint64_t kRate = 4ULL * 985;  // link rate, MB/s
// Controller steps at 3 GHz: ceil(ns * 3000 / 1000).
constexpr uint64_t kDoorbell = 900, kFetch = 2400, kPrp = 2400, kCqe = 300, kMsix = 3000;

// ceil(n * f / R): the link time of n bytes, in cycles.
uint64_t link_cycles(uint64_t n) { return (n * kMhz + kRate - 1) / kRate; }

BlockRequest request(uint64_t id, uint64_t at, uint64_t first_pfn, uint64_t pages,
                     bool write = false, uint32_t dev = 0) {
  BlockRequest r;
  r.id = id;
  r.dev = dev;
  r.offset = id * 1'048'576;
  r.bytes = pages * 4096;
  r.write = write;
  r.at = Cycle(at);
  for (uint64_t i = 0; i < pages; ++i) r.frames.push_back(Pfn(first_pfn + i));
  return r;
}

// Submits its plan at the planned cycles (an agent, synchronized first) and
// records every completion; `on_complete` may submit more (closed loop).
class TestKernel : public sc_core::sc_module, public BlockDoneIf {
 public:
  sc_core::sc_port<BlockIf> disk;
  sc_core::sc_export<BlockDoneIf> irq;
  SC_HAS_PROCESS(TestKernel);
  TestKernel(const sc_core::sc_module_name& n, SyncHorizon& h, const ClockPeriod& clk,
             bool reference, std::vector<BlockRequest> plan)
      : sc_module(n),
        disk("disk"),
        irq("irq"),
        sync_(h, "kernel", clk, reference),
        plan_(std::move(plan)) {
    irq.bind(*this);
    SC_THREAD(run);
  }
  void complete(uint64_t id, const BlockTimeline& t) override {
    EXPECT_EQ(done.count(id), 0U) << "request " << id << " completed twice";
    done[id] = t;
    order.push_back(id);
    if (on_complete) on_complete(id, t);
  }
  void submit(const BlockRequest& r) { disk->submit(r); }
  std::map<uint64_t, BlockTimeline> done;
  std::vector<uint64_t> order;
  std::function<void(uint64_t, const BlockTimeline&)> on_complete;

 private:
  void run() {
    for (const BlockRequest& r : plan_) {
      sync_.before(r.at);
      disk->submit(r);
    }
    sync_.finish();
  }
  AgentSync sync_;
  std::vector<BlockRequest> plan_;
};

// Dependent reads: each line address comes from a random sequence and is
// read when the previous read completes, from `begin` until `end`.
class Chaser : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Chaser> mem;
  SC_HAS_PROCESS(Chaser);
  Chaser(const sc_core::sc_module_name& n, SyncHorizon& h, const ClockPeriod& clk, bool reference,
         uint64_t begin, uint64_t end)
      : sc_module(n), mem("mem"), sync_(h, "chaser", clk, reference), begin_(begin), end_(end) {
    SC_THREAD(run);
  }
  Histogram latency;

 private:
  void run() {
    uint64_t x = 12345;
    Cycle t(begin_);
    while (t.count() < end_) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const PhysAddr a(0x2000'0000 + ((x >> 20) % (1 << 22)) * 64);  // 256 MiB at 512 MiB
      const Cycle d = request_.access(mem, sync_, a, false, t);
      latency.add((d - t).count());
      t = d;
    }
    sync_.finish();
  }
  AgentSync sync_;
  TimedMemRequest request_{Initiator::kData};
  uint64_t begin_, end_;
};

FixedDiskParams disk_params(uint64_t latency_ns, uint64_t mbps) {
  FixedDiskParams p;
  p.latency_ns = latency_ns;
  p.bandwidth_mbps = mbps;
  return p;
}

// The test disks: 10 µs + bytes at 2000 MB/s (4 KiB: 30000 + 6144 cycles).
const FixedDiskParams kSlow = disk_params(10'000, 2'000);
// Nearly free: 4 KiB in ceil(4096 * 3000 / 10^6) = 13 cycles.
const FixedDiskParams kFast = disk_params(0, 1'000'000);

struct System {
  System(std::vector<BlockRequest> plan, const FixedDiskParams& disk,
         const ControllerConfig& cfg = ControllerConfig{}, bool reference = false,
         uint64_t chase_end = 0)
      : clk(ClockPeriod::of_mhz(kMhz)),
        dram("dram", DramConfig{}, clk),
        engine("dma", cfg, horizon, clk, reference),
        ctrl("disk", cfg, devices(disk), {}, horizon, clk, reference),
        kernel("kernel", horizon, clk, reference, std::move(plan)) {
    engine.mem.bind(dram.socket);
    ctrl.connect(engine);
    ctrl.irq.bind(kernel.irq);
    kernel.disk.bind(ctrl.target);
    if (chase_end != 0) {
      chaser = std::make_unique<Chaser>("chaser", horizon, clk, reference, 0, chase_end);
      chaser->mem.bind(dram.socket);
    }
  }
  static std::vector<std::unique_ptr<DiskModel>> devices(const FixedDiskParams& p) {
    std::vector<std::unique_ptr<DiskModel>> v;
    v.push_back(std::make_unique<FixedDisk>(p, kMhz));
    return v;
  }
  void run() {
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_start();
  }
  [[nodiscard]] const BlockTimeline& tl(uint64_t id) const { return kernel.done.at(id); }

  ClockPeriod clk;
  SyncHorizon horizon;
  DramModule dram;
  DmaEngine engine;
  DiskController ctrl;
  TestKernel kernel;
  std::unique_ptr<Chaser> chaser;
};

// The 64 line writes of one 4 KiB page into an idle DRAM, TLP k's four
// lines arriving at `start` + ceil((k + 1) * 284 * f / R), served in order
// by the DRAM core: the completion of the last one.
uint64_t dram_last_line(uint64_t start, uint64_t pfn) {
  Dram d(DramConfig{});
  Cycle last;
  for (uint64_t k = 0; k < 16; ++k) {
    const Cycle at(start + link_cycles((k + 1) * 284));
    for (uint64_t i = 0; i < 4; ++i) {
      last = max(last, d.access(PhysAddr(pfn * 4096 + 256 * k + 64 * i), true, at));
    }
  }
  return last.count();
}

// The keys, their defaults in cycles, and InputErrors that name the key.
TEST(ControllerConfig, DefaultsKeysAndBounds) {
  ControllerConfig c;
  c.validate();
  const ControllerTiming t = controller_timing(c);
  EXPECT_EQ(t.doorbell, Cycles(kDoorbell));  // 300 ns * 3000 MHz / 1000
  EXPECT_EQ(t.fetch, Cycles(kFetch));
  EXPECT_EQ(t.prp_fetch, Cycles(kPrp));
  EXPECT_EQ(t.cqe, Cycles(kCqe));
  EXPECT_EQ(t.msix, Cycles(kMsix));
  EXPECT_EQ(ns_to_cycles(1, 3000), Cycles(3));
  EXPECT_EQ(ns_to_cycles(1, 2500), Cycles(3));  // 2.5 rounded up
  ConfigSchema s;
  add_keys(s, c);
  for (const char* k :
       {"disk.controller.queue_depth", "disk.controller.doorbell_ns", "disk.controller.fetch_ns",
        "disk.controller.prp_fetch_ns", "disk.controller.cqe_ns", "disk.controller.msix_ns",
        "disk.pcie.lanes", "disk.pcie.lane_rate_mbps", "disk.pcie.mps", "disk.pcie.mrrs",
        "disk.pcie.tlp_overhead"}) {
    ASSERT_NE(s.find(k), nullptr) << k;
  }
  EXPECT_EQ(s.find("disk.controller.queue_depth")->get(), "1023");
  s.find("disk.pcie.lanes")->set("8");
  EXPECT_EQ(c.pcie.lanes, 8U);
  EXPECT_THROW(s.find("disk.pcie.lanes")->set("33"), std::invalid_argument);

  const auto fails = [](const std::function<void(ControllerConfig&)>& change,
                        const std::string& key) {
    ControllerConfig bad;
    change(bad);
    try {
      bad.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(key + ":", 0), 0U) << e.what();
    }
  };
  fails([](ControllerConfig& b) { b.controller.queue_depth = 0; }, "disk.controller.queue_depth");
  fails([](ControllerConfig& b) { b.controller.queue_depth = 65536; },
        "disk.controller.queue_depth");
  fails([](ControllerConfig& b) { b.controller.msix_ns = 10'000'000'001ULL; },
        "disk.controller.msix_ns");
  fails(
      [](ControllerConfig& b) {
        b.controller.doorbell_ns = 0;
        b.controller.fetch_ns = 0;
      },
      "disk.controller.fetch_ns");
  fails([](ControllerConfig& b) { b.pcie.lanes = 0; }, "disk.pcie.lanes");
  fails([](ControllerConfig& b) { b.pcie.lane_rate_mbps = 0; }, "disk.pcie.lane_rate_mbps");
  fails([](ControllerConfig& b) { b.pcie.mps = 300; }, "disk.pcie.mps");
  fails([](ControllerConfig& b) { b.pcie.mps = 64; }, "disk.pcie.mps");
  fails([](ControllerConfig& b) { b.pcie.mrrs = 8192; }, "disk.pcie.mrrs");
  fails([](ControllerConfig& b) { b.pcie.tlp_overhead = 4097; }, "disk.pcie.tlp_overhead");
  ControllerConfig edge;
  edge.controller.doorbell_ns = 0;  // fetch alone is enough
  edge.controller.queue_depth = 65535;
  edge.pcie.mps = 4096;
  edge.pcie.mrrs = 128;
  edge.pcie.tlp_overhead = 0;
  EXPECT_NO_THROW(edge.validate());
}

// One 4 KiB read on an idle system, every step by formula:
//   fetched      = 3000 + doorbell 900 + fetch 2400                    = 6300
//   device       = 6300 .. 6300 + 30000 + 6144                          = 42444
//   DMA          = 16 TLPs from 42444, the last in at 42444 + 3460; the
//                  64 line writes served by DRAM as the DRAM core says
//   irq          = dma_done + CQE 300 + MSI-X 3000
TEST(DiskController, OneFourKiBReadExactTimeline) {
  System s({request(1, 3000, 0x10000, 1)}, kSlow);
  s.run();
  ASSERT_EQ(s.kernel.done.size(), 1U);
  const BlockTimeline& t = s.tl(1);
  EXPECT_EQ(t.submitted, Cycle(3000));
  EXPECT_EQ(t.fetched, Cycle(3000 + kDoorbell + kFetch));
  EXPECT_EQ(t.device_start, Cycle(6300));
  EXPECT_EQ(t.device_done, Cycle(6300 + 30000 + 6144));
  EXPECT_EQ(t.dma_start, Cycle(42444));
  const uint64_t last_tlp = 42444 + link_cycles(16ULL * 284);
  EXPECT_EQ(last_tlp, 42444U + 3460);
  const uint64_t last_line = dram_last_line(42444, 0x10000);
  EXPECT_GT(last_line, last_tlp);
  EXPECT_EQ(t.dma_done, Cycle(last_line));
  EXPECT_EQ(t.irq, Cycle(last_line + kCqe + kMsix));
  EXPECT_EQ(s.dram.initiator_stats(Initiator::kDma).requests, 64U);
  EXPECT_EQ(s.dram.core().stats().writes, 64U);
  EXPECT_EQ(s.engine.stats().lines_written, 64U);
  const ControllerStats& c = s.ctrl.stats();
  EXPECT_EQ(c.reads, 1U);
  EXPECT_EQ(c.writes, 0U);
  EXPECT_EQ(c.latency.sum(), last_line + kCqe + kMsix - 3000);
  EXPECT_EQ(c.sq_occupancy.max(), 1U);
  std::printf("4 KiB read: fetched %llu, device %llu, DMA %llu..%llu (link %llu), irq %llu\n",
              static_cast<unsigned long long>(t.fetched.count()),
              static_cast<unsigned long long>(t.device_done.count()),
              static_cast<unsigned long long>(t.dma_start.count()),
              static_cast<unsigned long long>(t.dma_done.count()),
              static_cast<unsigned long long>(last_tlp),
              static_cast<unsigned long long>(t.irq.count()));
}

// 32 pages (128 KiB) are one request: the PRP list is fetched (> 8 KiB), the
// device serves 131072 B in 30000 + 196608 cycles, the DMA is 512 TLPs and
// 2048 line writes; the last TLP is in ceil(512 * 284 * f / R) after the start.
TEST(DiskController, OneHundredTwentyEightKiBReadIsOneRequest) {
  std::vector<BlockRequest> plan = {request(1, 0, 0, 0)};
  plan[0].bytes = 32ULL * 4096;
  for (uint64_t i = 0; i < 32; ++i) plan[0].frames.push_back(Pfn(0x10000 + 3 * i));
  System s(plan, kSlow);
  s.run();
  const BlockTimeline& t = s.tl(1);
  EXPECT_EQ(t.fetched, Cycle(kDoorbell + kFetch + kPrp));
  EXPECT_EQ(t.device_done, Cycle(5700 + 30000 + 196608));
  EXPECT_EQ(t.dma_start, t.device_done);
  EXPECT_GT(t.dma_done, t.dma_start + Cycles(link_cycles(512ULL * 284)));
  EXPECT_EQ(t.irq, t.dma_done + Cycles(kCqe + kMsix));
  EXPECT_EQ(s.dram.initiator_stats(Initiator::kDma).requests, 2048U);
  EXPECT_EQ(s.engine.stats().lines_written, 2048U);
  EXPECT_EQ(s.engine.stats().tlps, 512U);
  EXPECT_EQ(s.ctrl.stats().requests, 1U);
}

// Two reads on the fast disk: device done at 6300 + 13 and 6300 + 26; the
// first DMA holds the link until 6313 + 3459.9, so the second starts when
// the first's last TLP is in, 6313 + 3460 (not at 6326).
TEST(DiskController, OverlappingDmasShareTheLink) {
  System s({request(1, 3000, 0x10000, 1), request(2, 3000, 0x10001, 1)}, kFast);
  s.run();
  const BlockTimeline& a = s.tl(1);
  const BlockTimeline& b = s.tl(2);
  EXPECT_EQ(a.device_done, Cycle(6313));
  EXPECT_EQ(b.device_done, Cycle(6326));
  EXPECT_EQ(a.dma_start, Cycle(6313));
  EXPECT_EQ(b.dma_start, Cycle(6313 + 3460));
  EXPECT_GT(b.dma_done, Cycle(6313 + link_cycles(32ULL * 284)));  // 6313 + 6920
  EXPECT_EQ(s.ctrl.stats().dma_wait, 3460U - 13);                 // the second waited for the link
  EXPECT_EQ(s.dram.initiator_stats(Initiator::kDma).requests, 128U);
}

// queue_depth 2, three reads at 3000: the third waits in software until the
// first's interrupt, rings its doorbell then, and is fetched 3300 later.
TEST(DiskController, ThirdRequestWaitsForASlot) {
  ControllerConfig cfg;
  cfg.controller.queue_depth = 2;
  System s(
      {request(1, 3000, 0x10000, 1), request(2, 3000, 0x10001, 1), request(3, 3000, 0x10002, 1)},
      kSlow, cfg);
  s.run();
  ASSERT_EQ(s.kernel.done.size(), 3U);
  const BlockTimeline& one = s.tl(1);
  const BlockTimeline& two = s.tl(2);
  const BlockTimeline& three = s.tl(3);
  EXPECT_EQ(one.fetched, Cycle(6300));
  EXPECT_EQ(two.fetched, Cycle(6300));
  EXPECT_EQ(two.device_start, Cycle(42444));  // FIFO behind the first
  EXPECT_EQ(three.submitted, Cycle(3000));
  EXPECT_EQ(three.fetched, one.irq + Cycles(kDoorbell + kFetch));
  EXPECT_EQ(three.device_start, two.device_done);  // the device is still busy then
  const ControllerStats& c = s.ctrl.stats();
  EXPECT_EQ(c.sw_queued, 1U);
  EXPECT_EQ(c.sw_wait_cycles, (one.irq - Cycle(3000)).count());
  EXPECT_EQ(c.sq_occupancy.count(), 3U);
  EXPECT_EQ(c.sq_occupancy.sum(), 1U + 2 + 2);
  EXPECT_EQ(s.kernel.order, (std::vector<uint64_t>{1, 2, 3}));
}

// A write: the DMA reads the data from memory first (128 line reads for
// 8 KiB, from fetched, no PRP list at 8 KiB), then the device writes it:
// device arrival = dma_done, irq = device_done + 3300.
TEST(DiskController, WriteReadsMemoryBeforeTheDevice) {
  System s({request(1, 3000, 0x10000, 2, true)}, kSlow);
  s.run();
  const BlockTimeline& t = s.tl(1);
  EXPECT_EQ(t.fetched, Cycle(6300));
  EXPECT_EQ(t.dma_start, Cycle(6300));
  // 32 completion TLPs: at least their link time after the first read.
  EXPECT_GE(t.dma_done, Cycle(6300 + link_cycles(32ULL * 284)));
  EXPECT_EQ(t.device_start, t.dma_done);
  EXPECT_EQ(t.device_done, t.dma_done + Cycles(30000 + 12288));
  EXPECT_EQ(t.irq, t.device_done + Cycles(kCqe + kMsix));
  EXPECT_EQ(s.engine.stats().lines_read, 128U);
  EXPECT_EQ(s.engine.stats().lines_written, 0U);
  EXPECT_EQ(s.dram.initiator_stats(Initiator::kDma).requests, 128U);
  EXPECT_EQ(s.dram.core().stats().reads, 128U);
  EXPECT_EQ(s.ctrl.stats().writes, 1U);
}

// Device numbers pick devices through the map; an unknown number goes to
// device 0. Each fixed disk serves only its own requests.
TEST(DiskController, DeviceNumbersMapToDevices) {
  std::vector<std::unique_ptr<DiskModel>> devs;
  devs.push_back(std::make_unique<FixedDisk>(kSlow, kMhz));
  devs.push_back(std::make_unique<FixedDisk>(kSlow, kMhz));
  const ClockPeriod clk = ClockPeriod::of_mhz(kMhz);
  SyncHorizon horizon;
  DramModule dram("dram", DramConfig{}, clk);
  DmaEngine engine("dma", ControllerConfig{}, horizon, clk);
  DiskController ctrl("disk", ControllerConfig{}, std::move(devs), {{5, 1}}, horizon, clk);
  TestKernel kernel("kernel", horizon, clk, false,
                    {request(1, 0, 0x10000, 1, false, 5), request(2, 0, 0x10001, 1, false, 7)});
  engine.mem.bind(dram.socket);
  ctrl.connect(engine);
  ctrl.irq.bind(kernel.irq);
  kernel.disk.bind(ctrl.target);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  ASSERT_EQ(kernel.done.size(), 2U);
  EXPECT_EQ(dynamic_cast<const FixedDisk&>(ctrl.device(0)).stats().requests(), 1U);
  EXPECT_EQ(dynamic_cast<const FixedDisk&>(ctrl.device(1)).stats().requests(), 1U);
  // Two devices: both are served at once (no FIFO between them).
  EXPECT_EQ(kernel.done.at(1).device_done, kernel.done.at(2).device_done);
}

// Runs `f` in a forked child (its own SystemC elaboration) and returns what
// it returned, or "ERROR: ..." when it threw.
std::string in_child(const std::function<std::string()>& f) {
  int fds[2];
  if (pipe(fds) != 0) return "ERROR: pipe";
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return "ERROR: fork";
  if (pid == 0) {
    close(fds[0]);
    std::string msg;
    try {
      msg = f();
    } catch (const std::exception& e) {
      msg = std::string("ERROR: ") + e.what();
    }
    const char* p = msg.data();
    size_t left = msg.size();
    while (left > 0) {
      const ssize_t n = write(fds[1], p, left);
      if (n <= 0) _exit(3);
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "ERROR: child failed\n" + all;
  return all;
}

struct StreamResult {
  uint64_t dma_lines = 0, window = 0, chases = 0;
  double chase_mean = 0, link_utilisation = 0;
};

// QD32 closed loop of 4 KiB reads on the fast disk (`requests` in all; 0:
// none) beside the pointer chaser, which reads from 0 to `chase_end`.
StreamResult stream(uint64_t requests, uint64_t chase_end) {
  std::vector<BlockRequest> plan;
  for (uint64_t id = 1; id <= std::min<uint64_t>(32, requests); ++id) {
    plan.push_back(request(id, 0, 0x10000 + id % 256, 1));
  }
  System s(plan, kFast, ControllerConfig{}, false, chase_end);
  uint64_t next = plan.size() + 1;
  s.kernel.on_complete = [&](uint64_t, const BlockTimeline& t) {
    if (next <= requests) {
      s.kernel.submit(request(next, t.irq.count(), 0x10000 + next % 256, 1));
      ++next;
    }
  };
  s.run();
  StreamResult r;
  r.dma_lines = s.dram.initiator_stats(Initiator::kDma).requests;
  Cycle first = kNeverCycle, last;
  for (const auto& [id, t] : s.kernel.done) {
    first = min(first, t.dma_start);
    last = max(last, t.dma_done);
  }
  r.window = requests == 0 ? 0 : (last - first).count();
  r.chases = s.chaser->latency.count();
  r.chase_mean = s.chaser->latency.mean();
  const uint64_t end = s.engine.stats().last_busy.count();
  r.link_utilisation =
      end == 0 ? 0 : static_cast<double>(s.engine.stats().link_busy_cycles) / double(end);
  return r;
}

std::string encode(const StreamResult& r) {
  std::ostringstream o;
  o << r.dma_lines << ' ' << r.window << ' ' << r.chases << ' ' << r.chase_mean << ' '
    << r.link_utilisation;
  return o.str();
}

StreamResult decode(const std::string& s) {
  StreamResult r;
  std::istringstream i(s);
  i >> r.dma_lines >> r.window >> r.chases >> r.chase_mean >> r.link_utilisation;
  return r;
}

// A 4 KiB read stream at QD32 saturates the Gen3 x4 link: 256 B of payload
// per 284 B of TLP at 3.94 GB/s is 3.55 GB/s, 3.55 / 25.6 = 13.9 % of a
// DDR4-3200 channel's 25.6 GB/s (8.533 bytes per 3 GHz cycle). The chaser's
// dependent reads wait behind the DMA's line writes: its mean latency does
// not drop (a model output, printed).
TEST(DiskController, DmaStreamShareOfADramChannel) {
  constexpr uint64_t kRequests = 1000, kChaseEnd = 3'000'000;
  const std::string with = in_child([] { return encode(stream(kRequests, kChaseEnd)); });
  const std::string alone = in_child([] { return encode(stream(0, kChaseEnd)); });
  ASSERT_EQ(with.rfind("ERROR", 0), std::string::npos) << with;
  ASSERT_EQ(alone.rfind("ERROR", 0), std::string::npos) << alone;
  const StreamResult w = decode(with);
  const StreamResult a = decode(alone);
  EXPECT_EQ(w.dma_lines, kRequests * 64);
  ASSERT_GT(w.window, 0U);
  const double bytes_per_cycle = 25.6e9 / 3e9;
  const double share =
      static_cast<double>(w.dma_lines * 64) / (static_cast<double>(w.window) * bytes_per_cycle);
  const double expected = (256.0 / 284.0) * 3.94 / 25.6;  // 0.1387
  std::printf("DMA share of the channel %.4f (link-bound %.4f), link utilisation %.4f\n", share,
              expected, w.link_utilisation);
  std::printf("chaser mean DRAM latency: %.2f cycles alone (%llu reads), %.2f with DMA (%llu)\n",
              a.chase_mean, static_cast<unsigned long long>(a.chases), w.chase_mean,
              static_cast<unsigned long long>(w.chases));
  EXPECT_GE(share, 0.12);
  EXPECT_LE(share, 0.16);
  EXPECT_GT(a.chases, 0U);
  EXPECT_GE(w.chase_mean, a.chase_mean);
}

// A mixed run (reads and writes of 4 and 16 KiB at queue depth 4, two
// devices, a chaser) in the normal mode and in the reference mode (every
// agent waits before every action): the same timelines and DRAM counts.
std::string mixed_run(bool reference) {
  ControllerConfig cfg;
  cfg.controller.queue_depth = 4;
  std::vector<BlockRequest> plan;
  for (uint64_t id = 1; id <= 24; ++id) {
    const uint64_t pages = id % 3 == 0 ? 4 : 1;
    plan.push_back(request(id, 1000 * (id / 2), 0x10000 + 8 * id, pages, id % 4 == 1,
                           static_cast<uint32_t>(id % 2)));
  }
  std::vector<std::unique_ptr<DiskModel>> devs;
  devs.push_back(std::make_unique<FixedDisk>(kFast, kMhz));
  devs.push_back(std::make_unique<FixedDisk>(disk_params(2'000, 3'000), kMhz));
  const ClockPeriod clk = ClockPeriod::of_mhz(kMhz);
  SyncHorizon horizon;
  DramModule dram("dram", DramConfig{}, clk);
  DmaEngine engine("dma", cfg, horizon, clk, reference);
  DiskController ctrl("disk", cfg, std::move(devs), {{0, 0}, {1, 1}}, horizon, clk, reference);
  TestKernel kernel("kernel", horizon, clk, reference, plan);
  Chaser chaser("chaser", horizon, clk, reference, 0, 200'000);
  engine.mem.bind(dram.socket);
  chaser.mem.bind(dram.socket);
  ctrl.connect(engine);
  ctrl.irq.bind(kernel.irq);
  kernel.disk.bind(ctrl.target);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  std::ostringstream o;
  for (uint64_t id : kernel.order) {
    const BlockTimeline& t = kernel.done.at(id);
    o << id << ':' << t.submitted.count() << ',' << t.fetched.count() << ','
      << t.device_start.count() << ',' << t.device_done.count() << ',' << t.dma_start.count() << ','
      << t.dma_done.count() << ',' << t.irq.count() << '\n';
  }
  o << "dma " << dram.initiator_stats(Initiator::kDma).requests << " data "
    << dram.initiator_stats(Initiator::kData).requests << " chase " << chaser.latency.sum() << '/'
    << chaser.latency.count() << " sw " << ctrl.stats().sw_queued << '\n';
  return o.str();
}

TEST(DiskController, ReferenceModeGivesTheSameTimelines) {
  const std::string normal = in_child([] { return mixed_run(false); });
  const std::string reference = in_child([] { return mixed_run(true); });
  ASSERT_EQ(normal.rfind("ERROR", 0), std::string::npos) << normal;
  EXPECT_NE(normal.find("24:"), std::string::npos) << normal;
  EXPECT_EQ(normal, reference);
}

}  // namespace
}  // namespace mmusim
