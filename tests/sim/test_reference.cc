// The SystemC model against itself: the reference mode (sim.quantum = 0,
// synchronize on every access) gives the same cycles and every counter as the
// default quantum (design.md §2.7); runs are deterministic; the seed moves
// physical frames but not the TLB behaviour of a 4K-only run.
//
// SystemC elaborates once per process, and each comparison needs two
// simulations: every simulation runs in a forked child that sends its
// statistics back through a pipe. The test process itself never touches
// SystemC, so the tests also pass when the binary runs them all at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/parse.h"
#include "models/sim/reporter.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "tests/sim/sim_test_util.h"
#include "traces/trace_reader.h"

namespace mmusim {
namespace {

using systest::make_config;
using systest::Overrides;
using systest::TempDir;

// Every statistic except the wall-clock ones, one per line, exactly.
std::string serialize(const StatCollector& st) {
  std::ostringstream o;
  char b[64];
  for (const StatRow& r : st.rows()) {
    switch (r.type) {
      case StatRow::Type::kWallClock: break;  // varies between identical runs
      case StatRow::Type::kCounter: o << r.name << " = " << r.count << "\n"; break;
      case StatRow::Type::kReal:
        std::snprintf(b, sizeof b, "%.17g", r.real);
        o << r.name << " = " << b << "\n";
        break;
      case StatRow::Type::kHistogram:
        o << r.name << " = count " << r.hist().count() << " sum " << r.hist().sum() << " min "
          << r.hist().min() << " max " << r.hist().max() << " p50 " << r.hist().percentile(0.5)
          << " p90 " << r.hist().percentile(0.9) << " p99 " << r.hist().percentile(0.99) << "\n";
        break;
    }
  }
  return o.str();
}

struct RunResult {
  std::string stats;    // serialize()
  std::string explain;  // --explain blocks, concatenated
  std::map<std::string, uint64_t> counters;
};

// Runs one Simulation in a forked child; "ERROR: ..." in stats on failure.
RunResult run_sim(const Overrides& o, const std::string& trace, uint64_t explain = 0) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string msg;
    int code = 0;
    try {
      SimConfig cfg = make_config(o);
      Simulation sim(cfg, open_trace(trace), explain);
      sim.run();
      StatCollector st;
      sim.visit(st);
      msg = serialize(st) + "\x1e";
      for (const auto& e : sim.explain_lines()) msg += e;
    } catch (const std::exception& e) {
      msg = std::string("ERROR: ") + e.what() + "\x1e";
      code = 1;
    }
    const char* p = msg.data();
    size_t left = msg.size();
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0) _exit(3);
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string all;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunResult r;
  size_t sep = all.find('\x1e');
  r.stats = all.substr(0, sep);
  if (sep != std::string::npos) r.explain = all.substr(sep + 1);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "simulation child failed (status " << status << "): " << r.stats;
  }
  std::istringstream in(r.stats);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    if (auto v = to_u64(std::string_view(line).substr(eq + 3), IntSyntax::kDecimal)) {
      r.counters[line.substr(0, eq)] = *v;
    }
  }
  return r;
}

// Lines of `a` and `b` that differ, for a readable failure.
std::string diff(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb, out;
  while (true) {
    bool ga = static_cast<bool>(std::getline(ia, la));
    bool gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) break;
    if (!ga) la = "<none>";
    if (!gb) lb = "<none>";
    if (la != lb) out += "  - " + la + "\n  + " + lb + "\n";
  }
  return out;
}

void expect_reference_equal(const std::string& trace, Overrides o = {}) {
  RunResult dflt = run_sim(o, trace);
  o["sim.quantum"] = "0";
  RunResult ref = run_sim(o, trace);
  ASSERT_GT(dflt.counters["sim.cycles"], 0U) << dflt.stats;
  EXPECT_EQ(dflt.stats, ref.stats) << "default quantum (-) vs reference mode (+):\n"
                                   << diff(dflt.stats, ref.stats);
}

// --------------------------------------------------------- reference mode --

TEST(ReferenceMode, SequentialScan) {
  expect_reference_equal("gen:seq,count=200000,footprint=16M");
}

TEST(ReferenceMode, UniformRandomWithWrites) {
  expect_reference_equal("gen:uniform,count=200000,footprint=64M,writes=0.3,seed=7");
}

TEST(ReferenceMode, UniformRandomSmallQuantumAndTinyMachine) {
  // A tiny machine (few TLB entries, one walker, window 4) and a quantum of
  // 100 cycles against the reference: same.
  Overrides o;
  for (const char* k : {"tlb.l1d.4K.entries=8", "tlb.l1d.4K.ways=2", "tlb.l2.entries=32",
                        "tlb.l2.ways=4", "walker.max_walks=1", "cpu.window=4", "sim.quantum=100"}) {
    std::string kv(k);
    o[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  expect_reference_equal("gen:zipf,count=100000,footprint=32M,alpha=0.8,writes=0.2", o);
}

TEST(ReferenceMode, PageCrossingAccesses) {
  // Stride 60 with 8-byte accesses: an access at page offset 4089..4095
  // crosses into the next page and translates twice (offsets are multiples of
  // 4, so only 4092: about one access in 1024).
  const std::string trace = "gen:seq,count=200000,footprint=8M,stride=60,size=8";
  uint64_t crossing = 0;
  auto reader = open_trace(trace);
  TraceRecord rec[4096];
  while (size_t n = reader->read(rec, 4096)) {
    for (size_t i = 0; i < n; ++i) crossing += (rec[i].addr & 0xFFF) + rec[i].size > 4096;
  }
  EXPECT_GT(crossing, 150U);
  RunResult r = run_sim({}, trace);
  EXPECT_EQ(r.counters["top.cpu0.page_splits"], crossing);
  EXPECT_EQ(r.counters["top.cpu0.translations"], 200000 + crossing);
  expect_reference_equal(trace);
}

TEST(ReferenceMode, MultiPatternTextTrace) {
  // A text trace mixing instruction fetches, a sequential scan, random reads
  // and writes, a strided pass and page-crossing accesses.
  TempDir d;
  const std::string path = d.file("mixed.trace");
  std::string text = "# mixed patterns\n";
  char line[96];
  for (const char* spec :
       {"seq,count=20000,footprint=1M,kind=X,base=0x400000", "seq,count=30000,footprint=4M",
        "uniform,count=30000,footprint=32M,writes=0.5,base=0x40000000",
        "stride,count=5000,footprint=64M,base=0x7f0000000000",
        "seq,count=5000,footprint=1M,stride=4093,size=16,base=0x20000000",
        "gups,count=10000,footprint=16M,base=0x50000000"}) {
    auto r = open_trace(std::string("gen:") + spec);
    TraceRecord rec[4096];
    while (size_t n = r->read(rec, 4096)) {
      for (size_t i = 0; i < n; ++i) {
        std::snprintf(line, sizeof line, "%c 0x%" PRIx64 " %u\n", access_kind_letter(rec[i].kind),
                      rec[i].addr, rec[i].size);
        text += line;
      }
    }
  }
  systest::write_file(path, text);
  RunResult r = run_sim({}, path);
  EXPECT_EQ(r.counters["top.cpu0.records"], 100000U);
  EXPECT_EQ(r.counters["top.cpu0.fetches"], 20000U);
  EXPECT_GT(r.counters["top.cpu0.tlb.l1i.misses"], 0U);
  EXPECT_GT(r.counters["top.cpu0.page_splits"], 0U);
  EXPECT_GT(r.counters["top.cpu0.writes"], 0U);
  expect_reference_equal(path);
}

// Records dealt round-robin to N CPUs reach each CPU in trace order, on both
// sides of the trace feeder's 16 CPUs whose queue ends it keeps in a local
// array. CPU k reads k + 1 pages of a region of its own, each 300 times
// (63 000 records for 20 CPUs: about 16 read batches), so a record routed to
// another CPU would change that CPU's count of records and of walks.
TEST(ReferenceMode, InterleavedRecordsReachTheirCpus) {
  for (const uint32_t cpus : {4U, 16U, 20U}) {
    TempDir d;
    const std::string path = d.file("dealt.trace");
    std::string text;
    char line[96];
    for (uint32_t round = 0; round < 300 * cpus; ++round) {
      for (uint32_t k = 0; k < cpus; ++k) {
        if (round >= 300 * (k + 1)) continue;
        const uint64_t a = 0x10000000ULL + uint64_t{k} * 0x1000000 + (round / 300) * 4096 +
                           (round % 300) * 8 % 4096;
        std::snprintf(line, sizeof line, "R 0x%" PRIx64 " 8 %u\n", a, k);
        text += line;
      }
    }
    systest::write_file(path, text);
    const std::string n = std::to_string(cpus);
    RunResult r = run_sim({{"sim.cpus", n}, {"os.model", "first_touch"}}, path);
    const uint64_t walks0 = r.counters["top.cpu0.walker.walks"];
    ASSERT_GT(walks0, 0U) << r.stats;
    for (uint32_t k = 0; k < cpus; ++k) {
      const std::string c = "top.cpu" + std::to_string(k);
      EXPECT_EQ(r.counters[c + ".records"], 300U * (k + 1)) << cpus << " CPUs, cpu " << k;
      EXPECT_EQ(r.counters[c + ".walker.walks"], walks0 * (k + 1)) << cpus << " CPUs, cpu " << k;
    }
  }
}

TEST(ReferenceMode, RealSampleTrace) {
  const std::string path = std::string(MMUSIM_SOURCE_DIR) + "/traces/ls.bin.zst";
  if (access(path.c_str(), R_OK) != 0) GTEST_SKIP() << "no sample trace " << path;
  expect_reference_equal(path, {{"sim.max_accesses", "300000"}});
}

TEST(ReferenceMode, FastPathIsExact) {
  // tlb.fast_path is a simulator shortcut that must not change any result.
  const std::string trace = "gen:zipf,count=200000,footprint=16M,writes=0.1";
  RunResult on = run_sim({}, trace);
  RunResult off = run_sim({{"tlb.fast_path", "false"}}, trace);
  EXPECT_EQ(on.stats, off.stats) << diff(on.stats, off.stats);
}

// ------------------------------------------------------------ determinism --

TEST(Determinism, SameConfigTraceAndSeedTwice) {
  const std::string trace = "gen:uniform,count=150000,footprint=32M,writes=0.25,seed=3";
  const Overrides o = {{"sim.seed", "9"}, {"tlb.l2.replacement", "random"}};
  RunResult a = run_sim(o, trace, 4);
  RunResult b = run_sim(o, trace, 4);
  EXPECT_EQ(a.stats, b.stats) << diff(a.stats, b.stats);
  EXPECT_EQ(a.explain, b.explain);
  EXPECT_NE(a.explain.find("phys: "), std::string::npos);
}

TEST(Determinism, TwoCpusSameConfigTwice) {
  const std::string trace = "gen:uniform,count=100000,footprint=16M,cpus=2,writes=0.2";
  const Overrides o = {{"sim.cpus", "2"}};
  RunResult a = run_sim(o, trace);
  RunResult b = run_sim(o, trace);
  EXPECT_EQ(a.stats, b.stats) << diff(a.stats, b.stats);
  EXPECT_EQ(a.counters["top.cpu0.records"], 50000U);
  EXPECT_EQ(a.counters["top.cpu1.records"], 50000U);
}

// With several CPUs every DRAM request and every fault already waits for its
// own cycle, so the quantum changes nothing either; same-cycle requests are
// scheduled together (FR-FCFS) and at least some of them are reordered.
TEST(ReferenceMode, FourCpusSharingDram) {
  const std::string trace = "gen:uniform,count=200000,footprint=16M,cpus=4,writes=0.2,seed=2";
  const Overrides o = {{"sim.cpus", "4"}};
  expect_reference_equal(trace, o);
  RunResult r = run_sim(o, trace);
  EXPECT_EQ(r.counters["top.dram.batched_requests"],
            r.counters["top.dram.reads"] + r.counters["top.dram.writes"]);
  EXPECT_LT(r.counters["top.dram.batches"], r.counters["top.dram.batched_requests"]);
  EXPECT_GT(r.counters["top.dram.reordered"], 0U);
}

// Four CPUs faulting in one address space under the Linux model: zero-page
// COW faults send shootdowns (taken at cpu.ipi_period boundaries), and the
// kernel's zero-fill and copy requests for faults on two CPUs reach DRAM in
// the same cycles through the kernel's one socket (ordered by the requesting
// CPU's agent). Both were seen at different points in the two modes before.
TEST(ReferenceMode, FourCpusFaultingUnderTheLinuxModel) {
  const std::string trace = "gen:uniform,count=100000,footprint=16M,cpus=4,writes=0.2,seed=2";
  const Overrides o = {{"sim.cpus", "4"}, {"os.model", "linux"}};
  expect_reference_equal(trace, o);
  RunResult r = run_sim(o, trace);
  EXPECT_GT(r.counters["cpus.shootdowns"], 10000U);
  EXPECT_GT(r.counters["top.kernel.fault_class.cow_copy.count"] +
                r.counters["top.kernel.fault_class.anon_write.count"],
            1000U);
}

// The same run for each sim.quantum of `quanta`: every statistic equal.
void expect_quanta_equal(const std::string& trace, Overrides o,
                         const std::vector<std::string>& quanta) {
  o["sim.quantum"] = quanta.front();
  RunResult first = run_sim(o, trace);
  ASSERT_GT(first.counters["sim.cycles"], 0U) << first.stats;
  for (size_t i = 1; i < quanta.size(); ++i) {
    o["sim.quantum"] = quanta[i];
    const RunResult r = run_sim(o, trace);
    EXPECT_EQ(first.stats, r.stats)
        << "quantum " << quanta.front() << " (-) vs " << quanta[i] << " (+):\n"
        << diff(first.stats, r.stats);
  }
}

// configs/skylake.ini: the built-in defaults with the caches on (and its
// MAXPHYADDR of 39 bits).
Overrides skylake_preset(Overrides o) {
  o["cache.enabled"] = "true";
  o["walker.maxphyaddr"] = "39";
  return o;
}

// Four CPUs with the cache hierarchy: walks of every CPU share the LLC, whose
// lookups go in (arrival, socket, agent) order, and the same-cycle misses
// compete for its MSHRs in that order. Every quantum, the reference mode
// included, gives the same statistics.
TEST(ReferenceMode, FourCpusSharingTheLlcUnderFirstTouch) {
  const std::string trace = "gen:uniform,count=100000,footprint=16M,cpus=4,writes=0.2,seed=2";
  const Overrides o = skylake_preset({{"sim.cpus", "4"}, {"os.model", "first_touch"}});
  expect_quanta_equal(trace, o, {"0", "1000", "10000", "4294967296"});
  RunResult r = run_sim(o, trace);
  // Lookups that found their line still being filled for another CPU.
  EXPECT_GT(r.counters["top.llc.merged"], 0U);
}

// The smallest case of the Linux model without fast strings: two CPUs fault
// at the same cycle and zero their page-table pages at once, each line write a
// read of its line; with 16 LLC MSHRs for 2 x 12 fill buffers the lookups wait
// for fills, so each CPU's line loop lags behind SystemC time and issues
// lines that arrive before the other CPU's lines already waiting at the LLC.
// Those go first (arrival order) in every mode: the quanta agree, the
// reference mode included.
TEST(ReferenceMode, LaggingLineLoopsKeepTheLlcInArrivalOrder) {
  const std::string trace = "gen:uniform,count=2,footprint=16M,cpus=2,writes=0.2,seed=2";
  const Overrides o = skylake_preset({{"sim.cpus", "2"},
                                      {"os.model", "linux"},
                                      {"os.linux.fast_strings", "false"},
                                      {"cache.llc.mshrs", "16"}});
  expect_quanta_equal(trace, o, {"0", "1", "1000", "4294967296"});
  RunResult r = run_sim(o, trace);
  EXPECT_EQ(r.counters["top.cpu0.faults"], 1U);
  EXPECT_EQ(r.counters["top.cpu1.faults"], 1U);
  EXPECT_GT(r.counters["top.llc.mshr_full"], 0U);
  EXPECT_EQ(r.counters["top.llc.whole_line_allocs"], 0U);
}

// Under the Linux model the kernel's zero-fill takes whole lines in the LLC
// without fetching them, and its writes invalidate the other CPUs' private
// copies at their interrupt boundaries; without fast strings
// (os.linux.fast_strings = false) every zeroing write reads its line first,
// and with 16 LLC MSHRs for the four CPUs' 12 fill buffers each those reads
// fill them (mshr_full counts hundreds of thousands). Either way every
// quantum gives the same statistics, the reference mode (quantum 0) included.
TEST(ReferenceMode, FourCpusSharingTheLlcUnderTheLinuxModel) {
  const std::string trace = "gen:uniform,count=50000,footprint=16M,cpus=4,writes=0.2,seed=2";
  const Overrides o = skylake_preset({{"sim.cpus", "4"}, {"os.model", "linux"}});
  expect_quanta_equal(trace, o, {"0", "1000", "10000", "4294967296"});
  RunResult r = run_sim(o, trace);
  EXPECT_GT(r.counters["top.llc.whole_line_allocs"], 100000U);
  EXPECT_GT(r.counters["top.llc.snoop_invalidations"], 1000U);
  Overrides rfo = o;
  rfo["os.linux.fast_strings"] = "false";
  rfo["cache.llc.mshrs"] = "16";
  expect_quanta_equal(trace, rfo, {"0", "1000", "10000", "4294967296"});
  RunResult f = run_sim(rfo, trace);
  EXPECT_GT(f.counters["top.llc.mshr_full"], 100000U);
  EXPECT_EQ(f.counters["top.llc.whole_line_allocs"], 0U);
}

// One CPU: every request is a batch of one, in either mode.
TEST(ReferenceMode, OneCpuBatchesAreSingleRequests) {
  RunResult r = run_sim({}, "gen:uniform,count=50000,footprint=64M,seed=3");
  EXPECT_EQ(r.counters["top.dram.batches"],
            r.counters["top.dram.reads"] + r.counters["top.dram.writes"]);
  EXPECT_EQ(r.counters["top.dram.reordered"], 0U);
}

// The counters of TLB behaviour (not timing) of a run.
std::map<std::string, uint64_t> tlb_behaviour(const RunResult& r) {
  std::map<std::string, uint64_t> m;
  for (const auto& [k, v] : r.counters) {
    if (k.rfind("top.cpu0.tlb.", 0) == 0 || k == "top.cpu0.walker.walks" ||
        k == "top.cpu0.walker.mem_refs" || k == "top.cpu0.walker.ad_writes" ||
        k == "top.cpu0.faults" || k == "top.cpu0.l1_hits" || k == "top.cpu0.l2_hits" ||
        k == "top.cpu0.tlb_misses" || k == "top.kernel.faults" ||
        k.rfind("top.kernel.mapped", 0) == 0) {
      m[k] = v;
    }
  }
  return m;
}

// Physical addresses from the explain blocks' "phys:" lines.
std::vector<std::string> phys_lines(const std::string& explain) {
  std::vector<std::string> v;
  std::istringstream in(explain);
  std::string line;
  while (std::getline(in, line)) {
    size_t p = line.find("phys: ");
    if (p != std::string::npos) v.push_back(line.substr(p, line.find(' ', p + 6) - p));
  }
  return v;
}

// `dram_differs`: whether the frames' banks and rows change DRAM's latency
// (a sequential scan reads one page-table page after another, every read a
// row hit or the first of its row, wherever the frames are).
void expect_seed_moves_frames_only(const std::string& trace, const Overrides& base,
                                   bool dram_differs) {
  Overrides o1 = base, o2 = base;
  o1["sim.seed"] = "1";
  o2["sim.seed"] = "2";
  RunResult a = run_sim(o1, trace, 6);
  RunResult b = run_sim(o2, trace, 6);
  // Different frames: the explained physical addresses differ...
  auto pa = phys_lines(a.explain), pb = phys_lines(b.explain);
  ASSERT_FALSE(pa.empty());
  EXPECT_EQ(pa.size(), pb.size());
  EXPECT_NE(pa, pb);
  // ...and so, on random accesses, does DRAM behaviour (banks and rows of
  // the page tables).
  if (dram_differs) {
    EXPECT_NE(a.counters["top.dram.total_latency"], b.counters["top.dram.total_latency"]);
  }
  // The TLBs see the same linear pages in the same order: same counts.
  auto ta = tlb_behaviour(a), tb = tlb_behaviour(b);
  EXPECT_GT(ta.size(), 20U);
  EXPECT_EQ(ta, tb);
}

TEST(Determinism, SeedChangesFramesNotTlbCountsInOrder) {
  // In-order issue (window 1): TLB contents depend only on the access order,
  // whatever the memory timing, so the counts are provably seed-independent.
  expect_seed_moves_frames_only("gen:uniform,count=100000,footprint=32M,writes=0.3",
                                {{"cpu.window", "1"}, {"cpu.issue_width", "1"}}, true);
}

TEST(Determinism, SeedChangesFramesNotTlbCountsSkylake) {
  // Skylake defaults on a sequential scan: each page's walk outlasts the 32
  // cycles its other 63 accesses take to issue, whatever the DRAM timing, so
  // merges and misses do not depend on the frames either.
  expect_seed_moves_frames_only("gen:seq,count=200000,footprint=16M,writes=0.5", {}, false);
}

}  // namespace
}  // namespace mmusim
