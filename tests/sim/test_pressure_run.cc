// The memory-pressure scenario (os-model.md §5.3) through the mmusim binary:
// traces/examples/os_pressure.txt.zst on configs/examples/pressure.ini (64 MiB
// of RAM, 48 MiB managed, 64 MiB of swap on the NVMe device). What the
// scenario must show (issue 12 §6; os-model.md §5.3's expected outputs):
// 8192 anon_write faults, one COW copy in the child and 8192 reuses in the
// parent, kswapd scanning, file pages reclaimed before anonymous ones (the
// 48 MiB file read once leaves clean, unreferenced page-cache pages behind),
// no writes from the MS_SYNC msync of the clean file mapping, no OOM; and the
// same numbers on every run.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using json = nlohmann::json;
const std::string kRoot = MMUSIM_ROOT;

std::map<std::string, uint64_t> run(const systest::TempDir& d, const std::string& tag,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"--config", kRoot + "/configs/examples/pressure.ini",
                                   "--trace",  kRoot + "/traces/examples/os_pressure.txt.zst",
                                   "--out",    d.file(tag)};
  args.insert(args.end(), extra.begin(), extra.end());
  const systest::ProcessResult r = systest::run_process(MMUSIM_EXE, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> m;
  if (r.exit_code != 0) return m;
  const json doc = json::parse(systest::read_file(d.file(tag) + "/stats.json"));
  for (const auto& e : doc.at("stats")) {
    if (e.contains("value") && e.at("value").is_number_unsigned()) {
      m[e.at("name").get<std::string>()] = e.at("value").get<uint64_t>();
    }
  }
  return m;
}

TEST(PressureRun, TheScenarioReclaimsFilePagesFirstAndNeverRunsOutOfMemory) {
  systest::TempDir d;
  const auto s = run(d, "a");
  ASSERT_FALSE(s.empty());
  const std::string f = "top.kernel.linux.faults.";
  EXPECT_EQ(s.at(f + "anon_write"), 8192U);
  EXPECT_EQ(s.at(f + "cow_copy"), 1U);      // the child's write
  EXPECT_EQ(s.at(f + "cow_reuse"), 8192U);  // the parent's writes after the child exited
  EXPECT_EQ(s.at(f + "segv"), 0U);
  // Memory: 8192 anonymous + 12288 file pages > 12288 managed frames.
  EXPECT_GT(s.at("vmstat.pgscan_kswapd"), 0U);
  EXPECT_GT(s.at("vmstat.allocstall_normal"), 0U);
  // At least the 20480 - 12288 = 8192 pages beyond memory were reclaimed,
  // file pages first (cache_trim_mode): no anonymous page had to go.
  EXPECT_GE(s.at("vmstat.pgsteal_file") + s.at("vmstat.pgsteal_anon"), 8192U - 512);
  EXPECT_GT(s.at("vmstat.pgsteal_file"), s.at("vmstat.pgsteal_anon"));
  EXPECT_EQ(s.at("vmstat.pswpout"), s.at("vmstat.pgsteal_anon"));
  EXPECT_EQ(s.at("vmstat.oom_kill"), 0U);
  EXPECT_EQ(s.at("vmstat.nr_swap_total"), 16383U);
  // A single pass over the file: refaults stay a small fraction of it.
  EXPECT_LT(s.at("vmstat.workingset_refault_file"), 12288U / 10);
  // MS_SYNC of a clean mapping writes nothing.
  EXPECT_EQ(s.at("top.kernel.page_cache.pages_written"), 0U);
  EXPECT_EQ(s.at("top.disk.writes"), s.at("vmstat.pswpout"));
  // Deterministic.
  EXPECT_EQ(run(d, "b"), s);
}

// The reference mode (a synchronization before every access and memory
// reference) gives every statistic of the normal mode under pressure:
// kswapd and direct reclaim (the scenario), and a memory cgroup that swaps.
// A reclaim session's page-table traffic is sent once the session has
// ended, so the tasks that run while it is sent never find it open (they
// did in the reference mode alone: 194830773 cycles against 150972786).
TEST(PressureRun, TheReferenceModeGivesTheSameStatistics) {
  systest::TempDir d;
  const auto s = run(d, "normal");
  ASSERT_FALSE(s.empty());
  EXPECT_GT(s.at("vmstat.pgscan_kswapd"), 0U);
  EXPECT_GT(s.at("vmstat.pgscan_direct"), 0U);
  EXPECT_EQ(run(d, "reference", {"--sim.quantum=0"}), s);
  const auto m = run(d, "memcg", {"--os.linux.memory_max=24M"});
  ASSERT_FALSE(m.empty());
  EXPECT_GT(m.at("top.kernel.linux.swap.reclaim_yields"), 0U);
  EXPECT_EQ(run(d, "memcg0", {"--os.linux.memory_max=24M", "--sim.quantum=0"}), m);
}

// The same program under a 24 MiB memory cgroup (6144 pages) on the same
// machine: the limit, not the watermarks, reclaims. The 32 MiB anonymous
// buffer no longer fits beside anything, so anonymous pages go to swap and
// come back; global memory never runs low (no kswapd, no ALLOCSTALL); the
// charge passes the limit at most by one call's page-cache pages (a
// 32-page readahead window, with its page tables).
TEST(PressureRun, UnderAMemoryLimitTheCgroupReclaimsAndSwapsWithoutGlobalPressure) {
  systest::TempDir d;
  const auto s = run(d, "memcg", {"--os.linux.memory_max=24M"});
  ASSERT_FALSE(s.empty());
  EXPECT_GT(s.at("top.kernel.linux.memcg.reclaims"), 0U);
  // One pass per entry at the limit, plus one for each pass that stopped for
  // its writes and found them delivered already (it goes on at once).
  EXPECT_GE(s.at("top.kernel.linux.memcg.reclaims"), s.at("top.kernel.linux.memcg.max"));
  EXPECT_LE(s.at("top.kernel.linux.memcg.reclaims"),
            s.at("top.kernel.linux.memcg.max") + s.at("top.kernel.linux.swap.reclaim_yields"));
  // Every entry at the limit enters direct reclaim (one task: no pass of
  // another to wait for): a new call, or the call whose pass slept for its
  // writes coming back to resume it, counted apart.
  EXPECT_GT(s.at("top.kernel.linux.pressure.direct_resumes"), 0U);
  EXPECT_EQ(s.at("top.kernel.linux.pressure.direct_reclaims") +
                s.at("top.kernel.linux.pressure.direct_resumes"),
            s.at("top.kernel.linux.memcg.max"));
  EXPECT_GE(s.at("top.kernel.linux.memcg.peak"), 6144U);
  EXPECT_LE(s.at("top.kernel.linux.memcg.peak"), 6144U + 40);
  EXPECT_EQ(s.at("top.kernel.linux.memcg.oom_kill"), 0U);
  EXPECT_EQ(s.at("vmstat.allocstall_normal"), 0U);
  EXPECT_EQ(s.at("vmstat.pgscan_kswapd"), 0U);
  EXPECT_EQ(s.at("vmstat.pgscan_direct"), 0U);  // cgroup reclaim is in neither
  EXPECT_GT(s.at("vmstat.pgscan_file"), 0U);
  EXPECT_GT(s.at("vmstat.pswpout"), 8192U);  // more than the buffer: pages go out twice
  EXPECT_GT(s.at("vmstat.pswpin"), 0U);
  EXPECT_EQ(s.at("vmstat.workingset_refault_anon"), s.at("vmstat.pswpin"));
  EXPECT_EQ(s.at("top.kernel.linux.faults.anon_write"), 8192U);
  // The child's one write copies; once it has exited (its swap PTEs' slot
  // references released), the parent's rewrite finds its pages exclusive:
  // mapped writable at swap-in or reused, never copied. (The buffer is
  // larger than the limit and rewritten in order, so with reclaim keeping
  // pace with its writes every page is out when its turn comes: swap-ins.)
  EXPECT_EQ(s.at("top.kernel.linux.faults.cow_copy"), 1U);
  EXPECT_GE(s.at("top.kernel.linux.faults.cow_reuse") + s.at("top.kernel.linux.faults.swap_major") +
                s.at("top.kernel.linux.faults.swap_minor"),
            8192U);
  EXPECT_EQ(s.at("vmstat.oom_kill"), 0U);
}

// One process writing a 72 MiB anonymous mapping (18432 pages) page by page,
// twice, on pressure.ini's machine (12288 managed frames, 16383 swap slots):
// the premature OOM of the notes. When a reclaim pass ran in zero time it
// queued writes for the whole inactive list before any could complete, swap
// filled with clean swap-cache pages and the process was OOM-killed in its
// second pass. A pass that sees its writes complete frees the pages they
// rotate to the inactive tail and stops at its target, so the run ends.
std::string twice_trace() {
  std::string t =
      "START pid=300 name=twice\n"
      "MMAP pid=300 len=0x4800000 prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS "
      "ret=0x7f0000000000\n";
  char line[48];
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 0; i < 18432; ++i) {
      std::snprintf(line, sizeof line, "W 0x%llx 8\n",
                    static_cast<unsigned long long>(0x7f0000000000ULL + i * 4096));
      t += line;
    }
  }
  return t + "EXIT pid=300\n";
}

TEST(PressureRun, AnonymousMemoryWrittenTwiceBeyondRamSwapsWithoutOom) {
  systest::TempDir d;
  systest::write_file(d.file("twice.txt"), twice_trace());
  const systest::ProcessResult r =
      systest::run_process(MMUSIM_EXE, {"--config", kRoot + "/configs/examples/pressure.ini",
                                        "--trace", d.file("twice.txt"), "--out", d.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> s;
  const json doc = json::parse(systest::read_file(d.file("out") + "/stats.json"));
  for (const auto& e : doc.at("stats")) {
    if (e.contains("value") && e.at("value").is_number_unsigned()) {
      s[e.at("name").get<std::string>()] = e.at("value").get<uint64_t>();
    }
  }
  EXPECT_EQ(s.at("vmstat.oom_kill"), 0U);
  EXPECT_EQ(s.at("top.kernel.linux.faults.anon_write"), 18432U);  // the first pass
  // The second pass comes back to page i after 18431 other pages were
  // written, more than memory holds (classic LRU): every page is out when
  // its turn comes, so each rewrite is a swap-in (major, or minor when
  // readahead brought it in first) and every page is read once.
  EXPECT_EQ(s.at("top.kernel.linux.faults.swap_major") + s.at("top.kernel.linux.faults.swap_minor"),
            18432U);
  EXPECT_EQ(s.at("vmstat.pswpin"), 18432U);
  // Writes: the first pass's pages once each when evicted (18432 - R1 during
  // it, the R1 left resident early in the second); a rewrite drops the swap
  // copy, so each page the second pass rewrote goes out again unless it is
  // among the R2 resident at exit: pswpout = 2 x 18432 - R2 (R2 = 11894, a
  // little under the 12288 frames: watermarks and page tables).
  EXPECT_EQ(s.at("vmstat.pswpout"), 2 * 18432U - 11894U);
  EXPECT_EQ(
      s.at("top.kernel.linux.swap.write_requests") + s.at("top.kernel.linux.swap.write_merges"),
      s.at("vmstat.pswpout"));
  // The plug merges the adjacent slots of a pass: 1578 requests of 16 pages
  // on average (each at most 1280 KiB), not one per page.
  EXPECT_EQ(s.at("top.kernel.linux.swap.write_requests"), 1578U);
  EXPECT_EQ(s.at("top.kernel.linux.swap.write_merges"), 23392U);
  EXPECT_EQ(s.at("top.disk.writes"), 1578U);
  EXPECT_GT(s.at("top.kernel.linux.swap.reclaim_yields"), 0U);
  // Every write ended before it could be reclaimed: all rotated.
  EXPECT_EQ(s.at("vmstat.pgrotated"), s.at("vmstat.pswpout"));
}

}  // namespace
}  // namespace mmusim
