// The plain C++ CPU core of one simulated CPU (what CpuModule wires, with
// Env direct): fixed-latency memory, first-touch faults, the configuration
// from mmusim's schema with overrides. Shared by the analytic tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/cpu/cpu_core.h"
#include "models/os/first_touch.h"
#include "models/sim/sim_config.h"
#include "tests/common/cpu_fakes.h"
#include "tests/sim/sim_test_util.h"
#include "traces/trace_reader.h"

namespace mmusim::analytic {

// Memory with a fixed latency; faults go to the first-touch OS.
using FixedLatencyEnv = testing::FakeEnv;

using systest::make_config;
using systest::Overrides;

// One CPU of the model without SystemC (what CpuModule wires, with Env direct).
struct Machine {
  SimConfig cfg;
  PhysMem mem;
  FixedLatencyEnv env;
  std::unique_ptr<FirstTouchMapper> os;
  std::unique_ptr<CpuCore> core;

  explicit Machine(const Overrides& o = {}, uint64_t latency = 100)
      : cfg(make_config(o)), env(latency) {
    os = std::make_unique<FirstTouchMapper>(cfg.os, mem);
    env.os = os.get();
    CpuCoreConfig cc;
    cc.ag = cfg.cpu;
    cc.tlb = cfg.tlb;
    cc.walker = cfg.walker;
    cc.user = cfg.sim.user;
    cc.asid = Asid(static_cast<uint16_t>(cfg.sim.asid));
    cc.seg = cfg.seg;
    core = std::make_unique<CpuCore>(0, cc, mem, env);
    core->set_root(os->root());
  }
  // Replays a generator spec ("seq,count=...") through the core.
  void run(const std::string& spec) {
    auto r = open_trace("gen:" + spec);
    std::vector<TraceRecord> buf(4096);
    while (size_t n = r->read(buf.data(), buf.size())) {
      for (size_t i = 0; i < n; ++i) core->process(buf[i]);
    }
  }
  void access(uint64_t addr, AccessKind k = AccessKind::kRead, uint32_t size = 8) {
    TraceRecord r;
    r.addr = addr;
    r.size = size;
    r.kind = k;
    core->process(r);
  }
  // Maps a 4K/2M page ahead of time with A and D set in the leaf (so a walk
  // finds it present; only the intermediate entries still lack A).
  void premap(uint64_t addr, PageSize s, uint64_t pfn) {
    ASSERT_EQ(os->page_table().map(LinearAddr(addr), Pfn(pfn), s,
                                   pte::kRW | pte::kUS | pte::kA | pte::kD),
              MapResult::kOk);
  }
  // Statistics count every access simulated so far: pending walks complete
  // first (as if the CPU waited for them; in-order configurations do anyway).
  [[nodiscard]] const CpuStats& cpu() {
    core->drain();
    return core->stats();
  }
  [[nodiscard]] TlbLevelStats tlb() {
    core->drain();
    return core->tlb().level_stats();
  }
  [[nodiscard]] const WalkerStats& walker() {
    core->drain();
    return core->walker().stats();
  }
  [[nodiscard]] uint64_t merges() {
    core->drain();
    return core->tlb().mshr().stats().merges;
  }
  uint64_t finish() {
    core->finish();
    return core->stats().cycles;
  }
};

}  // namespace mmusim::analytic
