// A shared cache level's order: two agents whose misses reach the LLC in the
// same cycle are looked up in (arrival, socket, agent) order whatever order
// SystemC runs them in, so the MSHR goes to the rule's winner; and a kernel
// write invalidates another agent's private copy through its owner's inbox,
// at the arrival it names, but the writer's own copy at once.
#include <gtest/gtest.h>

#include <functional>
#include <systemc>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/mem_port.h"
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
  std::vector<Post> posts;
  Cache* cache = nullptr;
  uint64_t* count = nullptr;
};

TEST(SharedCacheOrder, KernelWriteInvalidatesOtherAgentsCopiesThroughTheirInbox) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cc;
  cc.enabled = true;
  resolve_cache_config(cc, "l1d");
  DramModule dram("dram", DramConfig{}, clk, &mem);
  CacheModule llc("llc", cc.llc, MemSource::kLlc, clk, &mem);
  Cache mine(cc.l1d), theirs(cc.l1d);
  llc.lower.bind(dram.socket);
  llc.set_shared(true);
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

}  // namespace
}  // namespace mmusim
