// Values that broke a run (issue 15 §2): the hang reproducers are refused by
// the validators with the reason, the boundary values run to the end; every
// cost and latency key has its documented upper bound; the host-memory
// estimate refuses what cannot fit and matches what the structures allocate.
//
// A simulation runs in a forked child (SystemC elaborates once per process),
// with an alarm: a hang fails the test instead of blocking it.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "models/common/error.h"
#include "models/sim/memory_estimate.h"
#include "models/sim/reporter.h"
#include "models/sim/simulation.h"
#include "models/tlb/tlb_array.h"
#include "tests/sim/sim_test_util.h"
#include "tests/traces/trace_test_util.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's allocator statistics (sanitizer/allocator_interface.h,
// which GCC's packages do not install).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace mmusim {
namespace {

using systest::make_config;
using systest::Overrides;

// The InputError message make_config(o) throws, or "".
std::string config_error(const Overrides& o) {
  try {
    make_config(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Runs `trace` with `o` in a child that must finish within 60 s; returns
// "key=value" lines of the named counters (or "ERROR: ..." / "TIMEOUT").
std::map<std::string, uint64_t> run_child(const Overrides& o, const std::string& trace,
                                          const std::vector<std::string>& counters,
                                          std::string* error) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    alarm(60);  // a hang ends the child with SIGALRM
    std::string msg;
    try {
      SimConfig cfg = make_config(o);
      Simulation sim(cfg, open_trace(trace), 0);
      sim.run();
      StatCollector st;
      sim.visit(st);
      msg = "records=" + std::to_string(sim.records()) + "\n";
      for (const auto& c : counters) msg += c + "=" + std::to_string(st.sum(c)) + "\n";
    } catch (const std::exception& e) {
      msg = std::string("ERROR: ") + e.what();
    }
    if (write(fds[1], msg.data(), msg.size()) < 0) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::map<std::string, uint64_t> out;
  if (WIFSIGNALED(status)) {
    *error = WTERMSIG(status) == SIGALRM ? "TIMEOUT" : "SIGNAL";
    return out;
  }
  if (all.rfind("ERROR: ", 0) == 0) {
    *error = all;
    return out;
  }
  std::istringstream in(all);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    out[line.substr(0, eq)] = std::stoull(line.substr(eq + 1));
  }
  return out;
}

const std::string kTrace = "gen:uniform,footprint=4M,count=3000,seed=7";
const std::string kBound = " (the bound that keeps 64-bit cycle counts from overflowing), got ";

// ---- §2.1 hangs ----

TEST(Bounds, RefreshReproducersAreRefusedWithTheReason) {
  // DDR4-3200 on a 3000 MHz core: core cycles = ceil(nCK x 1.875).
  EXPECT_EQ(config_error({{"dram.tREFI", "561"}}),
            "dram.tREFI: 561 nCK (1052 core cycles) leaves no time to serve a request between "
            "refreshes: it must exceed tRFC + tRCD = 1050 + 42 core cycles (a row must open and "
            "take its column command before the next refresh)");
  EXPECT_EQ(config_error({{"dram.tRFC", "10"}, {"dram.tREFI", "20"}}),
            "dram.tREFI: 20 nCK (38 core cycles) leaves no time to serve a request between "
            "refreshes: it must exceed tRFC + tRCD = 19 + 42 core cycles (a row must open and "
            "take its column command before the next refresh)");
}

TEST(Bounds, ShortestAcceptedRefreshIntervalRunsToTheEnd) {
  // 583 nCK = 1094 core cycles > 1050 + 42: the first accepted value.
  std::string err;
  auto r = run_child({{"dram.tREFI", "583"}}, kTrace, {"top.dram.refreshes"}, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(r["records"], 3000U);
  EXPECT_GT(r["top.dram.refreshes"], 0U);
}

TEST(Bounds, HugeCostsAndLatenciesAreRefused) {
  EXPECT_EQ(config_error({{"os.minor_fault_cost", "18446744073709551615"}}),
            "os.minor_fault_cost: must be at most 262144 cycles" + kBound + "18446744073709551615");
  EXPECT_EQ(config_error({{"tlb.l2_1g.latency", "4611686018427387904"}}),
            "tlb.l2_1g.latency: must be at most 4096 cycles" + kBound + "4611686018427387904");
}

TEST(Bounds, LargestMinorFaultCostRunsToTheEnd) {
  // Every fault costs the bound: the cycle count holds faults x 262144.
  std::string err;
  auto r = run_child({{"os.minor_fault_cost", "262144"}}, kTrace, {"faults", "cycles"}, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(r["records"], 3000U);
  EXPECT_GT(r["faults"], 0U);
}

TEST(Bounds, LargestTlbLatencyRunsToTheEnd) {
  // tlb.l2_1g.latency = 2^62 livelocked a task trace; its bound runs.
  std::string err;
  auto r = run_child({{"tlb.l2_1g.latency", "4096"}, {"tlb.l2.latency", "4096"}}, kTrace,
                     {"faults"}, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(r["records"], 3000U);
}

// A trace whose CPU 0 comes after 4 Mi + 4096 records of CPU 1: CPU 0's
// first read buffers CPU 1's records batch by batch (4096 each) and stops at
// the first batch past 4 Mi (2^22), the 1025th, with the position of the
// record that ends it.
TEST(Bounds, ACpuHeldBackTooFarIsRefused) {
  testing::ScratchDir d;
  const std::string path = d.path("skewed.bin.zst");
  {
    TraceWriterOptions w;
    w.compression = Compression::kZstd;
    TraceWriter out(path, w);
    TraceRecord r;
    r.addr = 0x1000;
    r.size = 8;
    r.cpu = 1;
    std::vector<TraceRecord> batch(4096, r);
    for (int i = 0; i < 1025; ++i) out.write(batch.data(), batch.size());
    r.cpu = 0;
    out.write(r);
    out.close();
  }
  std::string err;
  run_child({{"sim.cpus", "2"}, {"os.model", "first_touch"}}, path, {}, &err);
  EXPECT_EQ(err, "ERROR: " + path +
                     ":record 4198400: more than 4194304 records buffered for cpu 1; "
                     "interleave the CPUs' records more finely");
}

// ---- §2.2 every cost and latency key has its bound ----

TEST(Bounds, EveryCostAndLatencyKeyIsBounded) {
  const std::map<std::string, uint64_t> bounds = {
      {"tlb.l1d.4K.latency", 4096},       {"tlb.l1i.2M.latency", 4096},
      {"tlb.l2.latency", 4096},           {"tlb.l2_1g.latency", 4096},
      {"walker.overhead", 4096},          {"walker.pwc.pml5.latency", 4096},
      {"walker.pwc.pml4.latency", 4096},  {"walker.pwc.pdpt.latency", 4096},
      {"walker.pwc.pd.latency", 4096},    {"cpu.invalidation_cost", 262144},
      {"cpu.ipi_cost", 262144},           {"os.minor_fault_cost", 262144},
      {"os.shootdown_cost", 262144},      {"os.sched.switch_cost", 262144},
      {"os.linux.cost.trap", 262144},     {"os.linux.cost.exec", 262144},
      {"os.linux.cost.fork_pte", 262144}, {"os.linux.cost.jiffy", 67108864},
      {"dram.controller_latency", 16384},
  };
  for (const auto& [key, max] : bounds) {
    EXPECT_EQ(config_error({{key, std::to_string(max)}}), "") << key;
    const std::string over = std::to_string(max + 1);
    EXPECT_EQ(config_error({{key, over}}),
              key + ": must be at most " + std::to_string(max) + " cycles" + kBound + over)
        << key;
  }
  // Every os.linux.cost.* key of the schema, not only those listed above.
  SimConfig c;
  ConfigSchema s;
  build_schema(s, c);
  int costs = 0;
  for (const auto& k : s.keys()) {
    if (k.name.rfind("os.linux.cost.", 0) != 0) continue;
    ++costs;
    const uint64_t max = k.name == "os.linux.cost.jiffy" ? 67108864 : 262144;
    EXPECT_NE(config_error({{k.name, std::to_string(max + 1)}}), "") << k.name;
  }
  EXPECT_GT(costs, 50);
  // A jiffy of no time would make kswapd's naps and the throttle's sleeps
  // take none: refused (every other cost may be 0).
  EXPECT_EQ(config_error({{"os.linux.cost.jiffy", "0"}}),
            "os.linux.cost.jiffy: must be at least 1 cycle (kswapd's nap and the reclaim "
            "throttle's sleep are counted in jiffies), got 0");
  EXPECT_EQ(config_error({{"os.linux.cost.jiffy", "1"}}), "");
  EXPECT_EQ(config_error({{"os.linux.cost.trap", "0"}}), "");
  EXPECT_EQ(config_error({{"sim.quantum", "4294967297"}}),
            "test: sim.quantum: expected an integer in [0, 4294967296], got '4294967297'");
}

// ---- §2.3 host memory ----

TEST(Bounds, PwcEntriesAreCapped) {
  EXPECT_EQ(config_error({{"walker.pwc.pd.entries", "2147483648"}, {"walker.pwc.pd.ways", "4"}}),
            "walker.pwc.pd.entries: must be at most 65536 (a paging-structure cache of real "
            "cores holds 2 to 32), got 2147483648");
  EXPECT_EQ(config_error({{"walker.pwc.pd.entries", "65536"}, {"walker.pwc.pd.ways", "4"}}), "");
}

TEST(Bounds, HugeMachineIsRefusedNamingItsKeys) {
  // 256 CPUs x 2^24 STLB entries x 48 B = 2^8 x 2^24 x 48 = 192 GiB.
  SimConfig c =
      make_config({{"sim.cpus", "256"}, {"tlb.l2.entries", "16777216"}, {"tlb.l2.ways", "16"}});
  const MemoryEstimate e = estimate_memory(c);
  ASSERT_FALSE(e.parts.empty());
  EXPECT_EQ(e.parts[0].keys, "sim.cpus x tlb.l2.entries");
  EXPECT_EQ(e.parts[0].bytes, 192ULL << 30);
  try {
    check_memory(e, 64ULL << 30, "--max-memory");
    ADD_FAILURE() << "expected a refusal";
  } catch (const InputError& err) {
    const std::string m = err.what();
    EXPECT_EQ(m.rfind("the configuration needs an estimated 192.", 0), 0U) << m;
    EXPECT_NE(m.find("more than --max-memory (64.0 GiB)"), std::string::npos) << m;
    EXPECT_NE(m.find("sim.cpus x tlb.l2.entries: 192.0 GiB (256 CPU(s) x 16777216 entries x 48 B)"),
              std::string::npos)
        << m;
  }
}

TEST(Bounds, DefaultConfigurationFitsThisMachine) {
  const MemoryEstimate e = estimate_memory(make_config({}));
  EXPECT_NO_THROW(check_memory(e, physical_memory_bytes(), "the machine's physical memory"));
  EXPECT_LT(e.total, 64ULL << 20);
}

TEST(Bounds, EstimateDifferenceIsTheEntriesAdded) {
  // Doubling the STLB of 2 CPUs adds 2 x 1536 x 48 B; one more PD-cache
  // entry set (32 -> 64 entries) adds 2 x 32 x 32 B.
  const uint64_t base = estimate_memory(make_config({{"sim.cpus", "2"}})).total;
  const uint64_t stlb =
      estimate_memory(make_config({{"sim.cpus", "2"}, {"tlb.l2.entries", "3072"}})).total;
  EXPECT_EQ(stlb - base, 2U * 1536U * kTlbEntryBytes);
  const uint64_t pwc =
      estimate_memory(make_config({{"sim.cpus", "2"}, {"walker.pwc.pd.entries", "64"}})).total;
  EXPECT_EQ(pwc - base, 2U * 32U * kPwcEntryBytes);
}

TEST(Bounds, TlbEntryEstimateMatchesWhatTheArrayAllocates) {
  // Heap bytes in use, the large blocks malloc maps on its own included
  // (AddressSanitizer's allocator replaces malloc's: ask it instead).
  auto in_use = []() -> size_t {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#endif
  };
  auto ratio_of = [&](uint32_t ways) {
    TlbArrayConfig a{"tlb.test", 65536, ways, Cycles(1), ReplPolicy::kLru, kHolds4K};
    const size_t before = in_use();
    TlbArray arr(a);
    const size_t used = in_use() - before;
    return static_cast<double>(used) / static_cast<double>(65536 * kTlbEntryBytes);
  };
  // 32 ways: 2^16 x (16 B slot + 24 B translation + 8 B LRU stamp) plus a
  // 4 B valid count per set = 3 MiB, the estimate's 48 B per entry; what
  // malloc reports lies within 10 % of it.
  const double wide = ratio_of(32);
  EXPECT_GT(wide, 0.9) << wide;
  EXPECT_LT(wide, 1.1) << wide;
  // 16 ways: the set's packed LRU order (8 B) and valid count (4 B) instead
  // of the stamps, 40.75 B per entry: the estimate is an upper bound.
  const double packed = ratio_of(16);
  EXPECT_GT(packed, 0.8) << packed;
  EXPECT_LT(packed, 1.0) << packed;
}

TEST(Bounds, MaxMemoryParses) {
  EXPECT_EQ(parse_max_memory("8G"), 8ULL << 30);
  EXPECT_EQ(parse_max_memory("512M"), 512ULL << 20);
  EXPECT_EQ(parse_max_memory("100"), 100U);
  EXPECT_THROW(parse_max_memory("lots"), InputError);
  EXPECT_THROW(parse_max_memory("0"), InputError);
  EXPECT_THROW(parse_max_memory("99999999999T"), InputError);
}

// ---- §3 empty traces, and the summary's segmentation faults and skips ----

std::string column(const std::vector<std::pair<std::string, std::string>>& row,
                   const std::string& name) {
  for (const auto& [k, v] : row) {
    if (k == name) return v;
  }
  return "(no column " + name + ")";
}

TEST(Bounds, EmptyTracesAreRefusedUnlessAllowed) {
  systest::TempDir d;
  systest::write_file(d.file("empty.txt"), "");
  systest::write_file(d.file("comments.txt"), "# nothing here\n\n# nor here\n");
  // A gzip member holding nothing: header, an empty final deflate block, CRC 0, size 0.
  systest::write_file(d.file("empty.txt.gz"),
                      std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03\x03\0\0\0\0\0\0\0\0\0", 20));
  for (const std::string& t : {d.file("empty.txt"), d.file("comments.txt"), d.file("empty.txt.gz"),
                               std::string("gen:uniform,footprint=1M,count=0")}) {
    auto r = systest::run_process(MMUSIM_EXE, {"--trace", t, "--out", d.file("out")});
    EXPECT_EQ(r.exit_code, 2) << t;
    EXPECT_EQ(r.err, "mmusim: error: " + t +
                         ": the trace has no records (empty, or comments only); "
                         "--allow-empty-trace accepts it\n");
    EXPECT_FALSE(std::filesystem::exists(d.file("out/summary.csv"))) << t;
    r = systest::run_process(MMUSIM_EXE,
                             {"--trace", t, "--out", d.file("out"), "--allow-empty-trace"});
    EXPECT_EQ(r.exit_code, 0) << t;
    EXPECT_EQ(r.err, "mmusim: warning: " + t +
                         ": the trace has no records; the results are "
                         "all zero\n");
    const auto sum = systest::parse_summary(systest::read_file(d.file("out/summary.csv")));
    EXPECT_EQ(column(sum, "accesses"), "0");
    EXPECT_EQ(column(sum, "cycles"), "0");
    std::filesystem::remove_all(d.file("out"));
  }
}

TEST(Bounds, SegmentationFaultsAndSkipsAreSummarized) {
  // Document 000's relocation example: two #GP and one #SS, each access
  // skipped (tests/segint/test_seg_examples.cc holds the counters).
  systest::TempDir d;
  const std::string root = MMUSIM_ROOT;
  auto r = systest::run_process(
      MMUSIM_EXE, {"--config", root + "/configs/skylake.ini", "--config",
                   root + "/configs/examples/seg_relocation.ini", "--trace",
                   root + "/traces/examples/seg_relocation.txt", "--out", d.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto sum = systest::parse_summary(systest::read_file(d.file("out/summary.csv")));
  EXPECT_EQ(column(sum, "seg_faults"), "3");
  EXPECT_EQ(column(sum, "skipped"), "3");
  EXPECT_NE(r.out.find("\n  segmentation faults    3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  skipped                3 records (dropped by an unresolved page "
                       "fault or a segmentation fault)\n"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace mmusim
