// The flusher in the whole simulation (mmusim run as a subprocess): a text
// trace that writes 8 pages and never calls fsync shows the flusher's write
// in stats.json; a trace with no dirty page runs the same number of cycles
// with and without the periodic flusher (it never keeps the run going).
// At sim.core_clock_mhz = 1, one centisecond is 10,000 cycles, so a 1 cs
// expiry and period fit in a short run (~80,000 cycles).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::TempDir;

// START, a file opened for writing, a 128 KiB buffer, optionally a write of
// 8 pages, then 20,000 reads of the buffer and EXIT.
std::string trace(bool write) {
  std::string t =
      "START pid=300 name=w\n"
      "FILE pid=300 file_id=2 path=/data/out.bin size=0\n"
      "OPEN pid=300 file_id=2 flags=O_WRONLY|O_CREAT|O_TRUNC ret=4\n"
      "MMAP pid=300 len=0x20000 prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS ret=0x7f0000000000\n";
  if (write) t += "RW pid=300 op=write fd=4 len=32768 buf=0x7f0000000000 ret=32768\n";
  char line[64];
  for (uint64_t i = 0; i < 20000; ++i) {
    std::snprintf(line, sizeof line, "R 0x%llx 8\n",
                  static_cast<unsigned long long>(0x7f0000000000ULL + (i * 64) % 0x20000));
    t += line;
  }
  return t + "EXIT pid=300\n";
}

std::map<std::string, double> run(bool write, const std::vector<std::string>& keys) {
  TempDir d;
  systest::write_file(d.file("t.txt"), trace(write));
  std::vector<std::string> args = {"-t", d.file("t.txt"), "-o", d.file("out"),
                                   "--sim.core_clock_mhz=1"};
  args.insert(args.end(), keys.begin(), keys.end());
  const systest::ProcessResult r = systest::run_process(MMUSIM_EXE, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, double> m;
  const auto j = nlohmann::json::parse(systest::read_file(d.file("out/stats.json")));
  for (const auto& s : j.at("stats")) {
    if (s.contains("value") && s.at("value").is_number()) m[s.at("name")] = s.at("value");
  }
  return m;
}

TEST(WritebackSim, FlusherWritesDirtyPagesWithoutFsync) {
  auto m =
      run(true, {"--os.linux.dirty_expire_centisecs=1", "--os.linux.dirty_writeback_centisecs=1"});
  // One request of the 8 contiguous pages, by the kupdate pass 1 cs after
  // the write dirtied them (age 1 cs = dirty_expire).
  EXPECT_EQ(m.at("top.disk.writes"), 1);
  EXPECT_EQ(m.at("top.disk.bytes_written"), 8 * 4096);
  EXPECT_EQ(m.at("top.kernel.linux.writeback.flusher_kupdate"), 1);
  EXPECT_EQ(m.at("top.kernel.linux.writeback.flusher_pages"), 8);
  EXPECT_EQ(m.at("vmstat.nr_dirtied"), 8);
  EXPECT_EQ(m.at("vmstat.nr_written"), 8);
  EXPECT_EQ(m.at("vmstat.nr_dirty"), 0);
  EXPECT_EQ(m.at("vmstat.nr_writeback"), 0);
  // At the defaults (30 s expiry) the run ends long before: nothing written.
  auto d = run(true, {});
  EXPECT_EQ(d.at("top.disk.writes"), 0);
  EXPECT_EQ(d.at("vmstat.nr_dirty"), 8);
  EXPECT_EQ(d.at("top.kernel.writeback.flusher_wakes"), 0);
}

TEST(WritebackSim, NoDirtyPagesSameCyclesWithAndWithoutTheFlusher) {
  auto with =
      run(false, {"--os.linux.dirty_expire_centisecs=1", "--os.linux.dirty_writeback_centisecs=1"});
  auto without = run(false, {"--os.linux.dirty_writeback_centisecs=0",
                             "--os.linux.dirty_background_bytes=1T", "--os.linux.dirty_bytes=1T"});
  EXPECT_GT(with.at("sim.cycles"), 20000);
  EXPECT_EQ(with.at("sim.cycles"), without.at("sim.cycles"));
  EXPECT_EQ(with.at("top.kernel.writeback.flusher_wakes"), 0);
  EXPECT_EQ(with.at("top.disk.writes"), 0);
}

}  // namespace
}  // namespace mmusim
