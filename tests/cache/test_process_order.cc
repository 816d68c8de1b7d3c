// Results do not depend on the order in which SystemC runs the processes.
// The same hand-built system, with the agents' threads created first to
// last and last to first (each agent keeping its name, its sync-horizon id
// and its socket: the keys of the tie rule), gives the same completion,
// source and counter everywhere: 3 and 4 agents with private L1D and L2
// sharing an LLC and the DRAM (requests through the sockets only; also two
// such systems interleaved in one simulation); 3 and 4 agents sharing the
// DRAM directly, each through its own socket or all through one (same-cycle
// ties then broken by agent id); 3 and 4 plain TLM initiators (no
// MemExtension, no agent: ties broken by socket index). Each system but the
// interleaved pair runs alone in a child process, as mmusim builds one
// system per simulation. (An agent whose id were taken when its thread
// first runs, or a socket bound in thread-creation order, would make the
// tie keys themselves follow the process order.)
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <systemc>
#include <vector>

#include "models/cache/cache_config.h"
#include "models/cache/cache_module.h"
#include "models/common/mem_port.h"
#include "models/common/random.h"
#include "models/common/sync_horizon.h"
#include "models/dram/dram_module.h"
#include "tests/cache/small_levels.h"
#include "tests/common/in_child.h"
#include "tests/common/sc_driver.h"

namespace mmusim {
namespace {

using testing::Driver;

// Passes every request of its upper sockets on through one socket (as a
// shared cache passes every agent's misses on).
class Hub : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Hub> upper;
  tlm_utils::simple_initiator_socket<Hub> lower;
  explicit Hub(const sc_core::sc_module_name& n) : sc_module(n), upper("upper"), lower("lower") {
    upper.register_b_transport(this, &Hub::b_transport);
  }

 private:
  void b_transport(int, tlm::tlm_generic_payload& p, sc_core::sc_time& d) {
    lower->b_transport(p, d);
  }
};

using testing::digest_level;
using testing::small_levels;

// Every counter of the DRAM: the core's, the scheduling groups and the
// per-initiator requests and latencies.
void digest_dram(const DramModule& m, std::vector<uint64_t>& d) {
  struct All : StatVisitor {
    std::vector<uint64_t>& d;
    explicit All(std::vector<uint64_t>& to) : d(to) {}
    void counter(std::string_view, std::string_view, std::string_view, uint64_t v) override {
      d.push_back(v);
    }
    void real(std::string_view, std::string_view, std::string_view, double) override {}
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram& h) override {
      d.insert(d.end(), {h.count(), h.sum(), h.max()});
    }
  } all(d);
  m.visit(all, "");
}

// Requests the DRAM scheduled in a group with others (the same-cycle ties
// the rule breaks).
uint64_t grouped(const DramModule& m) {
  struct Find : StatVisitor {
    uint64_t batches = 0, requests = 0;
    void counter(std::string_view k, std::string_view, std::string_view, uint64_t v) override {
      if (k == "dram.batches") batches = v;
      if (k == "dram.batched_requests") requests = v;
    }
    void real(std::string_view, std::string_view, std::string_view, double) override {}
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram&) override {}
  } f;
  m.visit(f, "");
  return f.requests - f.batches;
}

// After a run sharing `dram`: the same-cycle groups, every agent's results
// `out` and the DRAM's counters.
std::vector<uint64_t> dram_digest(const DramModule& dram,
                                  const std::vector<std::vector<uint64_t>>& out) {
  std::vector<uint64_t> d{grouped(dram)};
  for (const std::vector<uint64_t>& o : out) {
    d.push_back(o.size());
    d.insert(d.end(), o.begin(), o.end());
  }
  digest_dram(dram, d);
  return d;
}

// The next request of agent `i`'s script: arrivals 0 to 12 cycles apart
// (the agents' requests often reach a level in the same cycle), runs of
// sequential lines mixed with random ones, reads, writes and walker reads.
struct Script {
  SplitMix64 rng;
  uint64_t t, seq;
  Script(uint64_t seed, uint32_t i) : rng(seed + i), t(1000), seq(0x100000 * (i + 1)) {}
  struct Step {
    uint64_t at, addr;
    bool write, walker;
  };
  Step next() {
    const uint64_t r = rng.next() % 100;
    t += rng.next() % 13;
    seq += 64;
    const uint64_t a = r < 50 ? seq : (rng.next() % (2U << 20)) & ~uint64_t{63};
    return Step{t, a, r >= 10 && r < 35, r < 10};
  }
};

// Sends the `n` requests of agent `i`'s script through `out` in `sync`'s
// time, then ends the agent; `done(q, completion)` receives each result.
template <class Done>
void run_script(Driver& self, AgentSync& sync, uint64_t seed, uint32_t i, size_t n, Done done) {
  TimedMemRequest data(Initiator::kData);
  TimedMemRequest walker(Initiator::kWalker);
  Script s(seed, i);
  for (size_t r = 0; r < n; ++r) {
    const Script::Step st = s.next();
    TimedMemRequest& q = st.walker ? walker : data;
    done(q, q.access(self.out, sync, PhysAddr(st.addr), st.write, Cycle(st.at)));
  }
  sync.finish();
}

// `cpus` agents, each with a private L1D and L2, sharing an LLC in front of
// the DRAM; the agents' threads are created in `reverse` order or not. The
// modules, sockets and agents (sync-horizon ids) are created in the same
// order either way; `tag` prefixes the names (two systems in one
// simulation).
struct CacheSystem {
  ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  CacheConfig cfg = small_levels();
  DramModule dram;
  CacheModule llc;
  std::vector<std::unique_ptr<CacheModule>> l1d, l2;
  std::vector<std::unique_ptr<AgentSync>> sync;
  std::vector<std::vector<uint64_t>> out;
  std::vector<std::unique_ptr<Driver>> drivers;
  CacheSystem(const std::string& tag, uint32_t cpus, bool reverse, size_t n, uint64_t seed)
      : dram((tag + "dram").c_str(), DramConfig{}, clk, &mem),
        llc((tag + "llc").c_str(), cfg.llc, MemSource::kLlc, clk, &mem),
        out(cpus),
        drivers(cpus) {
    llc.lower.bind(dram.socket);
    llc.set_miss_path(cfg.miss_path);
    llc.set_shared(true);
    for (uint32_t i = 0; i < cpus; ++i) {
      const std::string c = tag + "cpu" + std::to_string(i);
      l1d.push_back(
          std::make_unique<CacheModule>((c + "_l1d").c_str(), cfg.l1d, MemSource::kL1, clk));
      l2.push_back(std::make_unique<CacheModule>((c + "_l2").c_str(), cfg.l2, MemSource::kL2, clk));
      l1d[i]->lower.bind(l2[i]->upper);
      l2[i]->lower.bind(llc.upper);
      sync.push_back(std::make_unique<AgentSync>(horizon, c, clk, false));
    }
    for (uint32_t k = 0; k < cpus; ++k) {
      const uint32_t i = reverse ? cpus - 1 - k : k;
      drivers[i] = std::make_unique<Driver>(
          (tag + "cpu" + std::to_string(i) + "_driver").c_str(), [this, i, n, seed](Driver& self) {
            run_script(self, *sync[i], seed, i, n, [&](const TimedMemRequest& q, Cycle done) {
              out[i].insert(out[i].end(), {done.count(), uint64_t(q.served())});
            });
          });
      drivers[i]->out.bind(l1d[i]->upper);
    }
  }
  // After the run: every request's completion and source and every counter.
  std::vector<uint64_t> digest() {
    std::vector<uint64_t> d;
    for (const std::vector<uint64_t>& o : out) {
      d.push_back(o.size());
      d.insert(d.end(), o.begin(), o.end());
    }
    for (size_t i = 0; i < l1d.size(); ++i) {
      digest_level(l1d[i]->core(), d);
      digest_level(l2[i]->core(), d);
    }
    digest_level(llc.core(), d);
    digest_dram(dram, d);
    return d;
  }
};

std::vector<uint64_t> cache_system(uint32_t cpus, bool reverse, size_t n, uint64_t seed) {
  CacheSystem s("", cpus, reverse, n, seed);
  sc_core::sc_start();
  return s.digest();
}

// `n` agents (AgentSync, the project's TimedMemRequest) sharing the DRAM
// directly, each through its own socket or, `one_socket`, all through one
// (then the DRAM breaks their same-cycle ties by agent id); their threads
// are created in `reverse` order or not, the agents and sockets in agent
// order.
std::vector<uint64_t> agent_system(uint32_t agents, bool one_socket, bool reverse, size_t n,
                                   uint64_t seed) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  SyncHorizon horizon;
  DramModule dram("dram", DramConfig{}, clk, &mem);
  std::unique_ptr<Hub> hub;
  if (one_socket) {
    hub = std::make_unique<Hub>("hub");
    hub->lower.bind(dram.socket);
  }
  std::vector<std::unique_ptr<AgentSync>> sync;
  for (uint32_t i = 0; i < agents; ++i) {
    sync.push_back(std::make_unique<AgentSync>(horizon, "agent" + std::to_string(i), clk, false));
  }
  std::vector<std::vector<uint64_t>> out(agents);
  std::vector<std::unique_ptr<Driver>> drivers(agents);
  for (uint32_t k = 0; k < agents; ++k) {
    const uint32_t i = reverse ? agents - 1 - k : k;
    drivers[i] =
        std::make_unique<Driver>(("agent" + std::to_string(i)).c_str(), [&, i](Driver& self) {
          run_script(self, *sync[i], seed, i, n,
                     [&](const TimedMemRequest&, Cycle done) { out[i].push_back(done.count()); });
        });
  }
  for (uint32_t i = 0; i < agents; ++i) {
    if (one_socket) {
      drivers[i]->out.bind(hub->upper);
    } else {
      drivers[i]->out.bind(dram.socket);
    }
  }
  sc_core::sc_start();
  return dram_digest(dram, out);
}

// `agents` plain TLM initiators (generic payloads without the extension,
// annotated delays only) sharing the DRAM directly; their threads are
// created in `reverse` order or not, their sockets bound in the same order.
std::vector<uint64_t> plain_system(uint32_t agents, bool reverse, size_t n, uint64_t seed) {
  const ClockPeriod clk = ClockPeriod::of_mhz(3000);
  PhysMem mem;
  DramModule dram("dram", DramConfig{}, clk, &mem);
  std::vector<std::vector<uint64_t>> out(agents);
  std::vector<std::unique_ptr<Driver>> drivers(agents);
  for (uint32_t k = 0; k < agents; ++k) {
    const uint32_t i = reverse ? agents - 1 - k : k;
    drivers[i] =
        std::make_unique<Driver>(("agent" + std::to_string(i)).c_str(), [&, i](Driver& self) {
          Script s(seed, i);
          uint64_t word = 0;
          tlm::tlm_generic_payload p;
          for (size_t r = 0; r < n; ++r) {
            const Script::Step st = s.next();
            const Cycle now = clk.now();
            sc_core::sc_time delay =
                Cycle(st.at) > now ? clk.span(Cycle(st.at) - now) : sc_core::SC_ZERO_TIME;
            word = st.addr + i;
            p.set_command(st.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
            p.set_address(st.addr);
            p.set_data_ptr(reinterpret_cast<unsigned char*>(&word));
            p.set_data_length(8);
            p.set_streaming_width(8);
            p.set_byte_enable_ptr(nullptr);
            p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
            self.out->b_transport(p, delay);
            out[i].insert(out[i].end(), {(clk.now() + clk.cycles(delay)).count(), word});
          }
        });
  }
  // The sockets in agent order whatever the threads' order.
  for (uint32_t i = 0; i < agents; ++i) drivers[i]->out.bind(dram.socket);
  sc_core::sc_start();
  return dram_digest(dram, out);
}

using testing::in_child;

void expect_same(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  size_t differ = 0, first = a.size();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      if (differ++ == 0) first = i;
    }
  }
  EXPECT_EQ(differ, 0U) << "first at " << first << ": " << a[first] << " vs " << b[first];
}

// Runs `f(reverse)` for both orders, each in its own process: equal
// results; returns them.
std::vector<uint64_t> both_orders(const std::function<std::vector<uint64_t>(bool)>& f) {
  const std::vector<uint64_t> fwd = in_child([&] { return f(false); });
  const std::vector<uint64_t> rev = in_child([&] { return f(true); });
  expect_same(fwd, rev);
  return fwd;
}

void caches(uint32_t cpus, size_t n, uint64_t seed) {
  both_orders([&](bool reverse) { return cache_system(cpus, reverse, n, seed); });
}

// Two systems in one simulation, the second's threads created last to
// first: SystemC interleaves their processes, and the results still agree.
void one_simulation(uint32_t cpus, size_t n, uint64_t seed) {
  CacheSystem a("a_", cpus, false, n, seed);
  CacheSystem b("b_", cpus, true, n, seed);
  sc_core::sc_start();
  expect_same(a.digest(), b.digest());
  // The mix is a real one: the shared LLC misses, and its misses and
  // writebacks reach the DRAM.
  EXPECT_GT(a.llc.core().total().misses, n);
  EXPECT_GT(a.llc.core().writebacks(), n / 10);
}

// The DRAM's same-cycle groups are frequent (d[0] counts the requests
// scheduled with others).
void dram_agents(uint32_t agents, bool one_socket, size_t n, uint64_t seed) {
  const std::vector<uint64_t> d =
      both_orders([&](bool reverse) { return agent_system(agents, one_socket, reverse, n, seed); });
  ASSERT_FALSE(d.empty());
  EXPECT_GT(d[0], agents * n / 10);
}

void plain(uint32_t agents, size_t n, uint64_t seed) {
  const std::vector<uint64_t> d =
      both_orders([&](bool reverse) { return plain_system(agents, reverse, n, seed); });
  ASSERT_FALSE(d.empty());
  EXPECT_GT(d[0], agents * n / 10);
}

TEST(ProcessOrder, ThreeAgentsSharingLlcAndDramSameResultsInEitherOrder) { caches(3, 10000, 3); }
TEST(ProcessOrder, FourAgentsSharingLlcAndDramSameResultsInEitherOrder) { caches(4, 10000, 4); }
TEST(ProcessOrder, TwoThreeAgentSystemsInOneSimulationInOppositeOrders) {
  one_simulation(3, 10000, 3);
}
TEST(ProcessOrder, TwoFourAgentSystemsInOneSimulationInOppositeOrders) {
  one_simulation(4, 10000, 4);
}
TEST(ProcessOrder, ThreeAgentsOnTheirOwnDramSocketsSameResultsInEitherOrder) {
  dram_agents(3, false, 10000, 7);
}
TEST(ProcessOrder, FourAgentsOnTheirOwnDramSocketsSameResultsInEitherOrder) {
  dram_agents(4, false, 10000, 8);
}
// One socket: the DRAM breaks the agents' ties by their sync-horizon ids.
TEST(ProcessOrder, ThreeAgentsThroughOneDramSocketSameResultsInEitherOrder) {
  dram_agents(3, true, 10000, 209);
}
TEST(ProcessOrder, FourAgentsThroughOneDramSocketSameResultsInEitherOrder) {
  dram_agents(4, true, 10000, 10);
}
TEST(ProcessOrder, ThreePlainInitiatorsSharingTheDramSameResultsInEitherOrder) {
  plain(3, 10000, 5);
}
TEST(ProcessOrder, FourPlainInitiatorsSharingTheDramSameResultsInEitherOrder) {
  plain(4, 10000, 6);
}

}  // namespace
}  // namespace mmusim
