// A shared cache level's order: two agents whose misses reach the LLC in the
// same cycle are looked up in (arrival, socket, agent) order whatever order
// SystemC runs them in, so the MSHR goes to the rule's winner; and a kernel
// write invalidates another agent's private copy through its owner's inbox,
// at the arrival it names, but the writer's own copy at once.
#include <gtest/gtest.h>

#include <functional>
#include <string_view>
#include <systemc>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/mem_port.h"
#include "models/common/stats.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "tests/common/sc_driver.h"

namespace mmusim {
namespace {

using testing::Driver;

CacheGeometry llc_geometry() {
  CacheConfig c;
  c.enabled = true;
  resolve_cache_config(c, "l1d");
  CacheGeometry g = c.llc;
  g.mshrs = 1;  // one miss in flight: the second waits for the first's fill
  return g;
}

constexpr uint64_t kMissPath = 60;

// The DRAM's timing and addresses, from a plain core of the same
// configuration.
struct Probe {
  Dram dram{DramConfig{}};
  const DramCoreTiming& t = dram.core_timing();
  // Between refreshes: every access below finds its bank precharged.
  uint64_t at = 10 * t.refi.count() + t.rfc.count() + 1000;
  // A read of a precharged bank.
  uint64_t first = (t.controller + t.rcd + t.cl + t.bl).count();
  PhysAddr a{0x10000};  // socket 0's line
  // Socket 1's line: another bank group (its bank is precharged too).
  PhysAddr b = [this] {
    DramLocation l = dram.decode(a);
    l.bank_group ^= 1;
    l.row += 5;
    return dram.encode(l);
  }();
};

struct Outcome {
  Cycle done0, done1;
  uint64_t mshr_full = 0;
};

// Socket 0 reads A and socket 1 reads B, both arriving at the LLC at
// kAt + at0 / kAt + at1, in the reference mode (every request waits for
// its arrival: nothing is in time order by itself). `second_first`: the
// driver of socket 1 is created first, so SystemC runs it first.
Outcome run(const Probe& p, uint64_t at0, uint64_t at1, bool second_first) {
  const uint64_t kAt = p.at;
  const PhysAddr kLineA = p.a, kLineB = p.b;
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  DramModule dram("dram", DramConfig{}, clk, &mem);
  CacheModule llc("llc", llc_geometry(), MemSource::kLlc, clk, &mem);
  llc.lower.bind(dram.socket);
  llc.set_miss_path(Cycles(kMissPath));
  llc.set_shared(true);
  Outcome o;
  auto body = [&](PhysAddr line, uint64_t at, Cycle& done) {
    return [&, line, at](Driver& self) {
      AgentSync sync(horizon, self.basename(), clk, true);
      TimedMemRequest req(Initiator::kWalker);
      done = req.access(self.out, sync, line, false, Cycle(kAt + at));
      sync.finish();
    };
  };
  std::unique_ptr<Driver> d0, d1;
  if (second_first) d1 = std::make_unique<Driver>("d1", body(kLineB, at1, o.done1));
  d0 = std::make_unique<Driver>("d0", body(kLineA, at0, o.done0));
  if (!second_first) d1 = std::make_unique<Driver>("d1", body(kLineB, at1, o.done1));
  d0->out.bind(llc.upper);  // socket 0
  d1->out.bind(llc.upper);  // socket 1
  sc_core::sc_start();
  o.mshr_full = llc.core().mshr_full();
  return o;
}

TEST(SharedCacheOrder, SameCycleMissesTakeTheMshrInSocketOrder) {
  // SystemC elaborates once per process: each case is a test of its own.
  // Here: the same cycle, socket 1's driver run first by SystemC.
  const Probe p;
  ASSERT_NE(p.dram.decode(p.a).bank_group, p.dram.decode(p.b).bank_group);
  const Outcome o = run(p, 0, 0, true);
  // Socket 0 wins the one MSHR: its miss is passed on after the lookup and
  // the miss path; socket 1's waits for that fill.
  const uint64_t lat = llc_geometry().latency.count();
  const uint64_t kAt = p.at, first = p.first;
  EXPECT_EQ(o.done0.count(), kAt + lat + kMissPath + first);
  EXPECT_EQ(o.mshr_full, 1U);
  // B is passed on when A's fill frees the MSHR (+ the miss path), to a
  // precharged bank of its own.
  EXPECT_EQ(o.done1.count(), o.done0.count() + kMissPath + first);
}

TEST(SharedCacheOrder, SameCycleMissesInSystemCsOtherOrderGiveTheSameResult) {
  const Probe p;
  const Outcome o = run(p, 0, 0, false);
  const uint64_t lat = llc_geometry().latency.count();
  const uint64_t kAt = p.at, first = p.first;
  EXPECT_EQ(o.done0.count(), kAt + lat + kMissPath + first);
  EXPECT_EQ(o.done1.count(), o.done0.count() + kMissPath + first);
  EXPECT_EQ(o.mshr_full, 1U);
}

TEST(SharedCacheOrder, OneCycleEarlierWinsWhateverTheSocket) {
  // Socket 1 arrives a cycle before socket 0: arrival comes before socket.
  const Probe p;
  const Outcome o = run(p, 1, 0, false);
  const uint64_t lat = llc_geometry().latency.count();
  const uint64_t kAt = p.at, first = p.first;
  EXPECT_EQ(o.done1.count(), kAt + lat + kMissPath + first);
  EXPECT_EQ(o.done0.count(), o.done1.count() + kMissPath + first);
}

// An LLC shared by agents in front of the DRAM (default geometries).
struct SharedLlc {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cc = [] {
    CacheConfig c;
    c.enabled = true;
    resolve_cache_config(c, "l1d");
    return c;
  }();
  DramModule dram{"dram", DramConfig{}, clk, &mem};
  CacheModule llc{"llc", cc.llc, MemSource::kLlc, clk, &mem};
  SharedLlc() {
    llc.lower.bind(dram.socket);
    llc.set_shared(true);
  }
};

// A fake CPU: records what it is asked to invalidate and when.
class Inbox : public SnoopInbox {
 public:
  struct Post {
    uint64_t line;
    Cycle at;
  };
  void post_invalidation(Cache& c, uint64_t line, Cycle at, uint64_t* counter) override {
    posts.push_back(Post{line, at});
    cache = &c;
    count = counter;
  }
  void post_downgrade(Cache& /*c*/, uint64_t line, Cycle at, uint64_t* /*counter*/) override {
    downgrades.push_back(Post{line, at});
  }
  std::vector<Post> downgrades;
  std::vector<Post> posts;
  Cache* cache = nullptr;
  uint64_t* count = nullptr;
};

TEST(SharedCacheOrder, KernelWriteInvalidatesOtherAgentsCopiesThroughTheirInbox) {
  SharedLlc sys;
  const ClockPeriod& clk = sys.clk;
  SyncHorizon& horizon = sys.horizon;
  CacheModule& llc = sys.llc;
  Cache mine(sys.cc.l1d), theirs(sys.cc.l1d);
  Inbox inbox;
  const uint64_t line = mine.line_of(0x40000);
  mine.install(line, false);
  theirs.install(line, false);
  Driver d("kernel", [&](Driver& self) {
    AgentSync writer(horizon, "cpu0", clk, false);
    AgentSync other(horizon, "cpu1", clk, false);
    other.finish();
    llc.snoop(mine, &writer, &inbox);
    llc.snoop(theirs, &other, &inbox);
    TimedMemRequest k(Initiator::kKernel);
    k.access(self.out, writer, PhysAddr(0x40000), true, Cycle(12345));
    writer.finish();
  });
  d.out.bind(llc.upper);
  sc_core::sc_start();
  // The writer's own copy: gone at once. The other agent's: posted with the
  // write's arrival (its owner takes it at its next interrupt boundary).
  EXPECT_FALSE(mine.contains(line));
  EXPECT_TRUE(theirs.contains(line));
  ASSERT_EQ(inbox.posts.size(), 1U);
  EXPECT_EQ(inbox.posts[0].line, line);
  EXPECT_EQ(inbox.posts[0].at, Cycle(12345));
  EXPECT_EQ(inbox.cache, &theirs);
  ASSERT_NE(inbox.count, nullptr);
  EXPECT_EQ(*inbox.count, 1U);  // the writer's own line, counted at once
}

// A private level's request as the shared level sees it: the coherence
// kind set by hand.
struct CohReq {
  tlm::tlm_generic_payload gp;
  MemExtension x;
  unsigned char data[8] = {};
  CohReq() {
    gp.set_extension(&x);
    gp.set_data_ptr(data);
    gp.set_data_length(sizeof data);
    gp.set_streaming_width(sizeof data);
    gp.set_byte_enable_ptr(nullptr);
  }
  ~CohReq() { gp.clear_extension(&x); }
  CohReq(const CohReq&) = delete;
  CohReq& operator=(const CohReq&) = delete;
  void send(Driver& d, AgentSync& s, CohRequest coh, uint64_t addr, Cycle at) {
    x.who = Initiator::kData;
    x.coh = coh;
    x.shared = false;
    x.whole_line = false;
    x.arrival = at;
    x.sync = &s;
    x.served = MemSource::kDram;
    x.ordered = s.before(at);  // (else it waited until `at`: no delay left)
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(addr);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    d.out->b_transport(gp, delay);
  }
};

uint64_t llc_counter(const CacheModule& m, std::string_view name) {
  struct Find : StatVisitor {
    std::string_view want;
    uint64_t value = ~uint64_t{0};
    void counter(std::string_view k, std::string_view, std::string_view, uint64_t v) override {
      if (k == want) value = v;
    }
    void real(std::string_view, std::string_view, std::string_view, double) override {}
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram&) override {}
  } f;
  f.want = name;
  m.visit(f, "", 1);
  return f.value;
}

TEST(SharedCacheOrder, DirectoryGrantsSharesAndTakesLinesAway) {
  // Two CPUs (agents A and B), each with two private caches registered at a
  // coherent LLC through its inbox. One line, in time order: A reads (held
  // exclusive), B reads (shared; A's copies are downgraded at 2000), A
  // upgrades (B's copies invalidated at 3000, done after the LLC's lookup),
  // B reads for ownership (A's invalidated at 4000), the kernel writes
  // (B's invalidated; the snoop filter forgets the line), A reads (exclusive,
  // no action).
  SharedLlc sys;
  const ClockPeriod& clk = sys.clk;
  SyncHorizon& horizon = sys.horizon;
  const CacheConfig& cc = sys.cc;
  CacheModule& llc = sys.llc;
  llc.set_coherent(true);
  Cache a1(cc.l1d), a2(cc.l2), b1(cc.l1d), b2(cc.l2);
  Inbox ia, ib;
  constexpr uint64_t kAddr = 0x40000;
  const uint64_t line = a1.line_of(kAddr);
  std::vector<bool> shared;
  Cycle upgraded;
  MemSource upgrade_served = MemSource::kDram;
  // Both agents exist (and own their caches) before either sends.
  AgentSync* a = nullptr;
  AgentSync* b = nullptr;
  Driver da("cpu0", [&](Driver& self) {
    AgentSync s(horizon, "cpu0", clk, false);
    a = &s;
    llc.snoop(a1, &s, &ia);
    llc.snoop(a2, &s, &ia);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    CohReq r;
    r.send(self, s, CohRequest::kRead, kAddr, Cycle(1000));
    shared.push_back(r.x.shared);
    s.wait_until(Cycle(3000));
    r.send(self, s, CohRequest::kUpgrade, kAddr, Cycle(3000));
    upgraded = r.x.done;
    upgrade_served = r.x.served;
    s.wait_until(Cycle(5000));
    TimedMemRequest k(Initiator::kKernel);
    k.access(self.out, s, PhysAddr(kAddr), true, Cycle(5000));
    r.send(self, s, CohRequest::kRead, kAddr, Cycle(6000));
    shared.push_back(r.x.shared);
    s.finish();
  });
  Driver db("cpu1", [&](Driver& self) {
    AgentSync s(horizon, "cpu1", clk, false);
    b = &s;
    llc.snoop(b1, &s, &ib);
    llc.snoop(b2, &s, &ib);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    CohReq r;
    s.wait_until(Cycle(2000));
    r.send(self, s, CohRequest::kRead, kAddr, Cycle(2000));
    shared.push_back(r.x.shared);
    s.wait_until(Cycle(4000));
    r.send(self, s, CohRequest::kOwn, kAddr, Cycle(4000));
    shared.push_back(r.x.shared);
    s.finish();
  });
  da.out.bind(llc.upper);
  db.out.bind(llc.upper);
  sc_core::sc_start();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // In time order: A 1000 exclusive, B 2000 shared, B 4000 exclusive, A 6000 exclusive.
  EXPECT_EQ(shared, (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(upgraded, Cycle(3000) + cc.llc.latency);
  EXPECT_EQ(upgrade_served, MemSource::kLlc);
  // A: downgraded at 2000 (both caches), invalidated at 4000 (both).
  ASSERT_EQ(ia.downgrades.size(), 2U);
  for (const Inbox::Post& p : ia.downgrades) {
    EXPECT_EQ(p.line, line);
    EXPECT_EQ(p.at, Cycle(2000));
  }
  ASSERT_EQ(ia.posts.size(), 2U);
  for (const Inbox::Post& p : ia.posts) EXPECT_EQ(p.at, Cycle(4000));
  // B: invalidated by A's upgrade at 3000 and by the kernel's write at 5000;
  // never downgraded (the directory forgot the line at 5000).
  EXPECT_TRUE(ib.downgrades.empty());
  ASSERT_EQ(ib.posts.size(), 4U);
  EXPECT_EQ(ib.posts[0].at, Cycle(3000));
  EXPECT_EQ(ib.posts[1].at, Cycle(3000));
  EXPECT_EQ(ib.posts[2].at, Cycle(5000));
  EXPECT_EQ(ib.posts[3].at, Cycle(5000));
  EXPECT_EQ(llc_counter(llc, "coherence.upgrades"), 1U);
  EXPECT_EQ(llc_counter(llc, "coherence.shared_fills"), 1U);
  EXPECT_EQ(llc_counter(llc, "coherence.filter_lines"), 1U);
  // The inboxes here do not apply anything: nothing was counted as removed.
  EXPECT_EQ(llc_counter(llc, "coherence.invalidations"), 0U);
  EXPECT_EQ(llc_counter(llc, "coherence.downgrades"), 0U);
}

TEST(SharedCacheOrder, AFullSnoopFilterInvalidatesTheLineItEvicts) {
  // A filter of 16 entries (one set): one CPU reads 17 lines; the 17th's
  // entry evicts the least recently tracked (the first), whose copies in
  // the CPU's private cache are invalidated through its inbox at the 17th's
  // arrival.
  SharedLlc sys;
  const ClockPeriod& clk = sys.clk;
  SyncHorizon& horizon = sys.horizon;
  const CacheConfig& cc = sys.cc;
  CacheModule& llc = sys.llc;
  llc.set_coherent(true, 16);
  Cache a1(cc.l1d);
  Inbox ia;
  Driver da("cpu0", [&](Driver& self) {
    AgentSync s(horizon, "cpu0", clk, false);
    llc.snoop(a1, &s, &ia);
    CohReq r;
    for (uint64_t i = 0; i < 17; ++i) {
      r.send(self, s, CohRequest::kRead, 0x100000 + 64 * i, Cycle(1000 * (i + 1)));
    }
    s.finish();
  });
  da.out.bind(llc.upper);
  sc_core::sc_start();
  ASSERT_EQ(ia.posts.size(), 1U);
  EXPECT_EQ(ia.posts[0].line, a1.line_of(0x100000));
  EXPECT_EQ(ia.posts[0].at, Cycle(17000));
  EXPECT_TRUE(ia.downgrades.empty());
  EXPECT_EQ(llc_counter(llc, "coherence.filter_evictions"), 1U);
  EXPECT_EQ(llc_counter(llc, "coherence.filter_lines"), 16U);
  EXPECT_EQ(llc_counter(llc, "coherence.shared_fills"), 0U);
}

}  // namespace
}  // namespace mmusim
