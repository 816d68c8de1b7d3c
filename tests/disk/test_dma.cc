// The DMA engine alone: a test starter (an agent that starts transfers at
// given cycles and records the reports) and a recording memory target that
// completes every line a fixed latency after its arrival, so the link's
// pacing shows exactly. One elaboration per test (each runs in its own
// process).
#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <systemc>
#include <vector>

#include "models/common/mem_port.h"
#include "models/common/sc_sync.h"
#include "models/common/sync_horizon.h"
#include "models/disk/dma_engine.h"

namespace mmusim {
namespace {

constexpr uint64_t kMhz = 3000;
constexpr uint64_t kRate = 4ULL * 985;  // link rate, MB/s

// ceil(n * f / R): the link time of n bytes, in cycles.
uint64_t link_cycles(uint64_t n) { return (n * kMhz + kRate - 1) / kRate; }

struct LineRecord {
  uint64_t addr;
  bool write;
  uint64_t arrival;
};

// Completes each line `latency` cycles after its arrival and records it.
class RecordingMem : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RecordingMem> socket;
  RecordingMem(const sc_core::sc_module_name& n, const ClockPeriod& clk, uint64_t latency)
      : sc_module(n), socket("socket"), clk_(clk), latency_(latency) {
    socket.register_b_transport(this, &RecordingMem::b_transport);
  }
  std::vector<LineRecord> lines;

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& /*delay*/) {
    MemExtension* x = nullptr;
    p.get_extension(x);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->who, Initiator::kDma);
    if (!x->ordered) {
      const Cycle now = clk_.now();
      if (x->arrival > now) sc_core::wait(clk_.span(x->arrival - now));
    }
    lines.push_back(LineRecord{p.get_address(), p.is_write(), x->arrival.count()});
    x->done = x->arrival + Cycles(latency_);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  const ClockPeriod& clk_;
  uint64_t latency_;
};

struct ReportRecord {
  uint64_t id, start, finish;
};

// Starts transfers at their `earliest` cycle (an agent: synchronized first).
class Starter : public sc_core::sc_module, public DmaDoneIf {
 public:
  sc_core::sc_port<DmaIf> dma;
  sc_core::sc_export<DmaDoneIf> done;
  SC_HAS_PROCESS(Starter);
  Starter(const sc_core::sc_module_name& n, SyncHorizon& h, const ClockPeriod& clk,
          std::vector<DmaTransfer> plan)
      : sc_module(n),
        dma("dma"),
        done("done"),
        sync_(h, "starter", clk, false),
        plan_(std::move(plan)) {
    done.bind(*this);
    SC_THREAD(run);
  }
  void dma_done(uint64_t id, Cycle start, Cycle finish) override {
    reports.push_back(ReportRecord{id, start.count(), finish.count()});
  }
  std::vector<ReportRecord> reports;

 private:
  void run() {
    for (const DmaTransfer& t : plan_) {
      sync_.before(t.earliest);
      dma->start(t);
    }
    sync_.finish();
  }
  AgentSync sync_;
  std::vector<DmaTransfer> plan_;
};

DmaTransfer transfer(uint64_t id, uint64_t first_pfn, uint64_t pages, bool to_memory,
                     uint64_t earliest, uint64_t bytes = 0) {
  DmaTransfer t;
  t.id = id;
  for (uint64_t i = 0; i < pages; ++i) t.frames.push_back(Pfn(first_pfn + i));
  t.bytes = bytes != 0 ? bytes : pages * 4096;
  t.to_memory = to_memory;
  t.earliest = Cycle(earliest);
  return t;
}

struct Bench {
  explicit Bench(std::vector<DmaTransfer> plan, uint64_t latency = 50, uint32_t overhead = 28)
      : clk(ClockPeriod::of_mhz(kMhz)),
        cfg(make_cfg(overhead)),
        mem("mem", clk, latency),
        engine("dma", cfg, horizon, clk),
        starter("starter", horizon, clk, std::move(plan)) {
    engine.mem.bind(mem.socket);
    starter.dma.bind(engine.target);
    engine.done.bind(starter.done);
  }
  static ControllerConfig make_cfg(uint32_t overhead) {
    ControllerConfig c;
    c.pcie.tlp_overhead = overhead;
    return c;
  }
  void run() {
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_start();
  }
  ClockPeriod clk;
  ControllerConfig cfg;
  SyncHorizon horizon;
  RecordingMem mem;
  DmaEngine engine;
  Starter starter;
};

// 4 KiB device -> memory: 16 TLPs of 256 B, each 284 B on the link; TLP k
// has arrived at start + ceil((k + 1) * 284 * 3000 / 3940) and its 4 line
// writes reach memory then. 16 * 284 B / 3.94 GB/s = 1.153 µs = 3459.9
// cycles; the transfer finishes when the last line completes (+50).
TEST(DmaEngine, FourKiBWritePacedByTlps) {
  Bench b({transfer(7, 0x100, 1, true, 1000)});
  b.run();
  ASSERT_EQ(b.mem.lines.size(), 64U);
  for (uint64_t k = 0; k < 16; ++k) {
    for (uint64_t i = 0; i < 4; ++i) {
      const LineRecord& l = b.mem.lines[4 * k + i];
      EXPECT_TRUE(l.write);
      EXPECT_EQ(l.addr, 0x100ULL * 4096 + 256 * k + 64 * i);
      EXPECT_EQ(l.arrival, 1000 + link_cycles((k + 1) * 284)) << "TLP " << k;
    }
  }
  EXPECT_EQ(link_cycles(16ULL * 284), 3460U);  // 3459.9 rounded up: 1.153 µs
  ASSERT_EQ(b.starter.reports.size(), 1U);
  EXPECT_EQ(b.starter.reports[0].id, 7U);
  EXPECT_EQ(b.starter.reports[0].start, 1000U);
  EXPECT_EQ(b.starter.reports[0].finish, 1000U + 3460 + 50);
  const DmaStats& s = b.engine.stats();
  EXPECT_EQ(s.transfers, 1U);
  EXPECT_EQ(s.lines_written, 64U);
  EXPECT_EQ(s.lines_read, 0U);
  EXPECT_EQ(s.bytes, 4096U);
  EXPECT_EQ(s.tlps, 16U);
  EXPECT_EQ(s.link_busy_cycles, 3459U);  // floor(16 * 284 * 3000 / 3940) = floor(3459.898)
  EXPECT_EQ(s.last_busy, Cycle(4460));
}

// Without per-TLP overhead: 4096 B / 3.94 GB/s = 1.040 µs = 3118.8 cycles.
TEST(DmaEngine, FourKiBWriteWithoutOverhead) {
  Bench b({transfer(1, 0x100, 1, true, 0)}, 50, 0);
  b.run();
  ASSERT_EQ(b.mem.lines.size(), 64U);
  EXPECT_EQ(b.mem.lines[3].arrival, link_cycles(256));  // 194.9 -> 195
  EXPECT_EQ(b.mem.lines[63].arrival, 3119U);            // ceil(4096 * 3000 / 3940)
  EXPECT_EQ(b.starter.reports.at(0).finish, 3119U + 50);
}

// Two transfers ready at the same cycle: the link serialises them, the
// second's TLPs follow the first's without a gap (the fraction of a cycle
// carries over): its TLP k arrives at 1000 + ceil((16 + k + 1) * 284 * f / R).
TEST(DmaEngine, LinkSerialisesTransfers) {
  Bench b({transfer(1, 0x100, 1, true, 1000), transfer(2, 0x200, 1, true, 1000)});
  b.run();
  ASSERT_EQ(b.mem.lines.size(), 128U);
  for (uint64_t k = 0; k < 16; ++k) {
    EXPECT_EQ(b.mem.lines[64 + 4 * k].addr, 0x200ULL * 4096 + 256 * k);
    EXPECT_EQ(b.mem.lines[64 + 4 * k].arrival, 1000 + link_cycles((16 + k + 1) * 284));
  }
  ASSERT_EQ(b.starter.reports.size(), 2U);
  EXPECT_EQ(b.starter.reports[0].finish, 1000U + 3460 + 50);
  EXPECT_EQ(b.starter.reports[1].start, 1000U + 3460);        // the first's last TLP is in
  EXPECT_EQ(b.starter.reports[1].finish, 1000U + 6920 + 50);  // ceil(6919.8)
  EXPECT_EQ(b.engine.stats().link_busy_cycles, 6919U);
}

// Memory -> device, 4 KiB, memory latency 50: 8 read requests of 512 B.
// Request 0 reaches memory at 1000; its completions start when its lines
// are read (1050) and from then on the link is never idle (a request's
// lines are read while the one before streams: 50 < 2 * 216.2). Request
// j >= 1 is read when request j - 1's first completion starts:
// 1050 + ceil(2 (j - 1) * 284 f / R). The transfer ends with the 16th
// completion TLP: 1050 + ceil(16 * 284 f / R) = 1050 + 3460.
TEST(DmaEngine, FourKiBReadFromMemory) {
  Bench b({transfer(3, 0x300, 1, false, 1000)});
  b.run();
  ASSERT_EQ(b.mem.lines.size(), 64U);
  for (uint64_t j = 0; j < 8; ++j) {
    const uint64_t r = j == 0 ? 1000 : 1050 + link_cycles(2 * (j - 1) * 284);
    for (uint64_t i = 0; i < 8; ++i) {
      const LineRecord& l = b.mem.lines[8 * j + i];
      EXPECT_FALSE(l.write);
      EXPECT_EQ(l.addr, 0x300ULL * 4096 + 512 * j + 64 * i);
      EXPECT_EQ(l.arrival, r) << "request " << j;
    }
  }
  ASSERT_EQ(b.starter.reports.size(), 1U);
  EXPECT_EQ(b.starter.reports[0].start, 1000U);
  EXPECT_EQ(b.starter.reports[0].finish, 1050U + 3460);
  EXPECT_EQ(b.engine.stats().lines_read, 64U);
  EXPECT_EQ(b.engine.stats().tlps, 16U);
}

// TLPs stop at page boundaries: 8 KiB over two scattered frames; 2 KiB of
// a page is 8 TLPs; no frames: link time, no lines.
TEST(DmaEngine, PagesFramesAndEmptyTransfers) {
  DmaTransfer scattered = transfer(1, 0, 0, true, 0, 8192);
  scattered.frames = {Pfn(0x500), Pfn(0x123)};
  Bench b({scattered, transfer(2, 0, 0, true, 0, 2048)});
  b.run();
  ASSERT_EQ(b.mem.lines.size(), 128U);
  EXPECT_EQ(b.mem.lines[63].addr, 0x500ULL * 4096 + 4032);
  EXPECT_EQ(b.mem.lines[64].addr, 0x123ULL * 4096);
  ASSERT_EQ(b.starter.reports.size(), 2U);
  EXPECT_EQ(b.starter.reports[0].finish, link_cycles(32ULL * 284) + 50);  // 6920 + 50
  // The second moves no lines: it ends with its last TLP.
  EXPECT_EQ(b.starter.reports[1].finish, link_cycles(40ULL * 284));
  EXPECT_EQ(b.engine.stats().tlps, 40U);
  EXPECT_EQ(b.engine.stats().bytes, 8192U + 2048);
}

}  // namespace
}  // namespace mmusim
