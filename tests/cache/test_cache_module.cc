// The cache levels as SystemC modules chained L1D -> L2 -> LLC -> DRAM:
// hit and miss latency per level from the configuration, a write-back, the
// kernel's and DMA's writes keeping the caches coherent, and a plain TLM
// payload served with its data.
#include <gtest/gtest.h>

#include <functional>
#include <systemc>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/mem_port.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "models/os/kernel.h"

namespace mmusim {
namespace {

// Runs `body` in a SystemC thread.
class Driver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Driver> to_l1;
  tlm_utils::simple_initiator_socket<Driver> to_llc;
  SC_HAS_PROCESS(Driver);
  Driver(const sc_core::sc_module_name& n, std::function<void(Driver&)> body)
      : sc_module(n), to_l1("to_l1"), to_llc("to_llc"), body_(std::move(body)) {
    SC_THREAD(run);
  }
  void run() { body_(*this); }

 private:
  std::function<void(Driver&)> body_;
};

struct Chain {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cfg;
  DramModule dram;
  CacheModule l1d, l2, llc;
  Chain()
      : dram("dram", DramConfig{}, clk, &mem),
        l1d("l1d", resolved().l1d, MemSource::kL1, clk),
        l2("l2", resolved().l2, MemSource::kL2, clk),
        llc("llc", resolved().llc, MemSource::kLlc, clk, &mem) {
    l1d.lower.bind(l2.upper);
    l2.lower.bind(llc.upper);
    llc.lower.bind(dram.socket);
    llc.set_miss_path(cfg.miss_path);
    llc.snoop(l1d.core());
    llc.snoop(l2.core());
  }
  const CacheConfig& resolved() {
    static CacheConfig c = [] {
      CacheConfig x;
      x.enabled = true;
      resolve_cache_config(x, "l1d");
      return x;
    }();
    cfg = c;
    return c;
  }
  // Cycles of a hit at each level, entering at L1D: the sums of the lookups.
  [[nodiscard]] uint64_t l1() const { return cfg.l1d.latency.count(); }
  [[nodiscard]] uint64_t l2_hit() const { return l1() + cfg.l2.latency.count(); }
  [[nodiscard]] uint64_t llc_hit() const { return l2_hit() + cfg.llc.latency.count(); }
  [[nodiscard]] uint64_t to_dram() const { return llc_hit() + cfg.miss_path.count(); }
};

TEST(CacheModule, LatencyPerLevelFromTheConfiguration) {
  Chain c;
  const DramCoreTiming& t = c.dram.core().core_timing();
  // After a refresh, between refreshes: every DRAM access below is a row
  // miss on a precharged bank or a row hit on the open row.
  const uint64_t base = 10 * t.refi.count() + t.rfc.count() + 1000;
  const PhysAddr a(0x123440);
  std::vector<std::pair<Cycle, MemSource>> got;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    TimedMemRequest walker(Initiator::kWalker);
    auto go = [&](PhysAddr x, bool w, uint64_t at) {
      const Cycle done = walker.access(self.to_l1, sync, x, w, Cycle(base + at));
      got.emplace_back(Cycle(done.count() - base - at), walker.served());
    };
    go(a, false, 0);     // cold: every level misses
    go(a, false, 1000);  // L1D hit
    // Nine lines of a's L1D set (8 ways): a leaves the L1D, stays in L2.
    for (uint64_t i = 1; i <= 8; ++i) go(PhysAddr(a.value() + 64 * 64 * i), false, 1000 + 500 * i);
    go(a, false, 6000);  // L2 hit
    // Evict a from the L2 too (4 ways, 1024 sets): a line 64 KiB apart maps
    // to the same L2 set.
    for (uint64_t i = 1; i <= 4; ++i) go(PhysAddr(a.value() + 65536 * i), false, 6000 + 500 * i);
    for (uint64_t i = 1; i <= 8; ++i) go(PhysAddr(a.value() + 65536 * i), false, 9000 + 200 * i);
    go(a, false, 12000);  // LLC hit
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.to_l1.bind(c.l1d.upper);
  d.to_llc.bind(c.llc.upper);
  sc_core::sc_start();
  ASSERT_GE(got.size(), 23U);
  // The cold read: a row miss on a precharged bank.
  const uint64_t dram_first = (t.controller + t.rcd + t.cl + t.bl).count();
  EXPECT_EQ(got[0].first.count(), c.to_dram() + dram_first);
  EXPECT_EQ(got[0].second, MemSource::kDram);
  EXPECT_EQ(got[1].first.count(), c.l1());
  EXPECT_EQ(got[1].second, MemSource::kL1);
  EXPECT_EQ(got[10].first.count(), c.l2_hit());
  EXPECT_EQ(got[10].second, MemSource::kL2);
  EXPECT_EQ(got.back().first.count(), c.llc_hit());
  EXPECT_EQ(got.back().second, MemSource::kLlc);
  // L1D hits: a once, and the four lines 64 KiB apart read again while still
  // in the set.
  EXPECT_EQ(c.l1d.core().counts(static_cast<unsigned>(Initiator::kWalker)).hits, 5U);
}

TEST(CacheModule, DirtyVictimWrittenBackAndKernelAndDmaWritesKeepCoherence) {
  Chain c;
  const PhysAddr pte(0x200000);
  std::vector<MemSource> served;
  uint64_t dram_writes_after_evict = 0;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    TimedMemRequest walker(Initiator::kWalker);
    TimedMemRequest kernel(Initiator::kKernel);
    TimedMemRequest dma(Initiator::kDma);
    uint64_t t = 100000;
    auto walk = [&](PhysAddr x, bool w) {
      walker.access(self.to_l1, sync, x, w, Cycle(t += 1000));
      served.push_back(walker.served());
    };
    walk(pte, false);  // DRAM
    walk(pte, false);  // L1D
    // The kernel rewrites the PTE: the L1D/L2 copies go, the LLC holds it.
    kernel.access(self.to_llc, sync, pte, true, Cycle(t += 1000));
    walk(pte, false);  // LLC: the replay walk finds the kernel's line
    // DMA overwrites the page: the line is gone from every cache.
    dma.access(self.to_llc, sync, pte, true, Cycle(t += 1000));
    walk(pte, false);  // DRAM
    // A/D write: L1D line dirty; 8 more lines of its set evict it to L2.
    walk(pte, true);
    const uint64_t before = c.dram.core().stats().writes;
    for (uint64_t i = 1; i <= 8; ++i) walk(PhysAddr(pte.value() + 4096 * i), false);
    dram_writes_after_evict = c.dram.core().stats().writes - before;
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.to_l1.bind(c.l1d.upper);
  d.to_llc.bind(c.llc.upper);
  sc_core::sc_start();
  ASSERT_EQ(served.size(), 13U);
  EXPECT_EQ(served[0], MemSource::kDram);
  EXPECT_EQ(served[1], MemSource::kL1);
  EXPECT_EQ(served[2], MemSource::kLlc);
  EXPECT_EQ(served[3], MemSource::kDram);
  EXPECT_EQ(served[4], MemSource::kL1);
  // The dirty victim went to the L2 (a hit there: no DRAM write).
  EXPECT_EQ(c.l1d.core().writebacks(), 1U);
  EXPECT_TRUE(c.l2.core().dirty(c.l2.core().line_of(pte.value())));
  EXPECT_EQ(dram_writes_after_evict, 0U);
  EXPECT_EQ(c.l2.core().counts(static_cast<unsigned>(Initiator::kWalker)).accesses, 3U + 8U + 1U);
}

// A dirty LLC line evicted by a request in time order goes to the DRAM in
// time order too: served by the DRAM at once, with no SystemC wait for its
// arrival (the requester's SystemC time stays where it was).
TEST(CacheModule, AWritebackInTimeOrderWaitsForNothing) {
  Chain c;
  const CacheGeometry& g = c.llc.core().geometry();
  const uint64_t set_stride = g.sets() * g.line_bytes;
  const PhysAddr a(0x400000);
  uint64_t writes_before = 0, writes_after = 0;
  sc_core::sc_time waited;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    TimedMemRequest kernel(Initiator::kKernel);
    uint64_t t = 100000;
    kernel.access(self.to_llc, sync, a, true, Cycle(t += 1000));  // a dirty in the LLC
    writes_before = c.dram.core().stats().writes;
    // `ways` more lines of a's set: the last one evicts a.
    for (uint64_t i = 1; i <= g.ways; ++i) {
      kernel.access(self.to_llc, sync, PhysAddr(a.value() + set_stride * i), false,
                    Cycle(t += 1000));
    }
    writes_after = c.dram.core().stats().writes;
    waited = sc_core::sc_time_stamp();
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.to_l1.bind(c.l1d.upper);
  d.to_llc.bind(c.llc.upper);
  sc_core::sc_start();
  EXPECT_EQ(c.llc.core().writebacks(), 1U);
  EXPECT_EQ(writes_after - writes_before, 1U);
  EXPECT_EQ(waited, sc_core::SC_ZERO_TIME);
}

// The kernel's services over the chain: its requests enter at the LLC.
class LlcServices : public KernelServices {
 public:
  LlcServices(Driver& d, AgentSync& s) : d_(d), s_(s) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    return req_.access(d_.to_llc, s_, line, is_write, at);
  }
  Cycle mem_write_line(PhysAddr line, Cycle at) override {
    return req_.access(d_.to_llc, s_, line, true, at, true);
  }
  Cycle shootdown(const Shootdown& sd, uint32_t /*pid*/, uint32_t /*self*/) override {
    return sd.at;
  }
  void release(uint64_t /*key*/) override {}

 private:
  Driver& d_;
  AgentSync& s_;
  TimedMemRequest req_{Initiator::kKernel};
};

TEST(CacheModule, KernelZeroAndCopyThroughAnIdleLlc) {
  // clear_page and copy_page with N fill buffers (LineIssue): every request
  // holds its buffer for the LLC's lookup L (L >= N), so the 64 lines go in
  // R = 63 / N + 1 rounds of N, one per cycle: a zero-fill takes R * L +
  // 63 % N, a copy whose source is in the LLC 2 * R * L + 63 % N (each round
  // reads, then writes once the reads are back). Whole-line writes take
  // their lines without a fetch: the DRAM sees nothing.
  Chain c;
  const uint64_t l = c.cfg.llc.latency.count();
  auto rounds = [](uint64_t n) { return 63 / n + 1; };
  std::vector<uint64_t> took;
  uint64_t dram_reads_rfo = 0;
  Driver d("driver", [&](Driver& self) {
    AgentSync sync(c.horizon, "driver", c.clk, false);
    LlcServices s(self, sync);
    uint64_t t = 100000;
    auto zero = [&](uint64_t pfn, LineIssue how) {
      t += 10000;
      took.push_back((s.zero_page(Pfn(pfn), Cycle(t), how) - Cycle(t)).count());
    };
    zero(0x300, LineIssue{12, true});
    zero(0x301, LineIssue{24, true});
    zero(0x302, LineIssue{64, true});
    t += 10000;
    took.push_back(
        (s.copy_page(Pfn(0x300), Pfn(0x310), Cycle(t), LineIssue{12, true}) - Cycle(t)).count());
    // Without fast strings every line write reads its line first.
    const uint64_t before = c.dram.core().stats().reads;
    zero(0x320, LineIssue{12, false});
    dram_reads_rfo = c.dram.core().stats().reads - before;
    c.horizon.set(sync.id(), SyncHorizon::kNever);
  });
  d.to_l1.bind(c.l1d.upper);
  d.to_llc.bind(c.llc.upper);
  sc_core::sc_start();
  ASSERT_EQ(took.size(), 5U);
  EXPECT_EQ(l, 30U);
  EXPECT_EQ(took[0], rounds(12) * l + 63 % 12);  // 183 (Skylake: 12 fill buffers)
  EXPECT_EQ(took[1], rounds(24) * l + 63 % 24);  // 105
  EXPECT_EQ(took[2], l + 63);                    // 93: one round
  EXPECT_EQ(took[3], 2 * rounds(12) * l + 63 % 12);
  EXPECT_EQ(c.llc.core().whole_line_allocs(), 4U * 64U);
  EXPECT_EQ(c.llc.core().counts(static_cast<unsigned>(Initiator::kKernel)).hits, 64U);
  EXPECT_EQ(dram_reads_rfo, 64U);
  EXPECT_GT(took[4], took[0]);
  EXPECT_EQ(c.dram.core().stats().reads, 64U);
  EXPECT_EQ(c.dram.core().stats().writes, 0U);
}

}  // namespace
}  // namespace mmusim
