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
  EXPECT_EQ(s.at("top.kernel.linux.memcg.max"), s.at("top.kernel.linux.memcg.reclaims"));
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
  // mapped writable at swap-in or reused, never copied.
  EXPECT_EQ(s.at("top.kernel.linux.faults.cow_copy"), 1U);
  EXPECT_GT(s.at("top.kernel.linux.faults.cow_reuse"), 0U);
  EXPECT_EQ(s.at("vmstat.oom_kill"), 0U);
}

}  // namespace
}  // namespace mmusim
