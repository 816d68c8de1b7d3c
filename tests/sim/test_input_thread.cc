// --input-thread (README "Performance"): the same results with the input on
// its own thread as without it, for every kind of input the simulation takes
// (plain and task traces, text, binary, compressed, lackey, the generator,
// several CPUs, a record limit), and the option's errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

using systest::ProcessResult;
using systest::read_file;
using systest::TempDir;
using systest::write_file;

ProcessResult mmusim(const std::vector<std::string>& args) {
  return systest::run_process(MMUSIM_EXE, args);
}

// stats.json without its wall-clock statistics, and summary.csv without its
// two wall-clock columns.
std::string results_of(const std::string& dir) {
  nlohmann::json j = nlohmann::json::parse(read_file(dir + "/stats.json"));
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& s : j.at("stats")) {
    if (s.at("type") != "wall_clock") kept.push_back(s);
  }
  j["stats"] = kept;
  auto cols = systest::parse_summary(read_file(dir + "/summary.csv"));
  cols.resize(cols.size() - 2);
  std::string text = j.dump(1);
  for (const auto& [k, v] : cols) text += k + "=" + v + "\n";
  return text;
}

// Runs `args` with the thread off and on: both succeed with equal results.
void expect_same_results(const std::vector<std::string>& args) {
  TempDir d;
  std::string out[2];
  const char* modes[2] = {"--input-thread=off", "--input-thread=on"};
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {modes[i], "--out", d.file(std::to_string(i))});
    const ProcessResult r = mmusim(a);
    ASSERT_EQ(r.exit_code, 0) << modes[i] << ": " << r.err;
    out[i] = results_of(d.file(std::to_string(i)));
  }
  EXPECT_EQ(out[0], out[1]);
  EXPECT_NE(out[0].find("\"top.cpu0.records\""), std::string::npos);
}

TEST(InputThread, SameResultsForEveryKindOfInput) {
  const std::string root = MMUSIM_ROOT;
  const std::string skylake = root + "/configs/skylake.ini";
  // Binary with OS events (zstd, tasks, storage), binary v1 with a record
  // limit that cuts a block, native text with threads and exec.
  expect_same_results({"--config", skylake, "--trace", root + "/traces/fork_cow_file.bin.zst"});
  expect_same_results(
      {"--trace", root + "/traces/ls.bin.zst", "--sim.max_accesses=300001", "--explain=3"});
  expect_same_results({"--trace", root + "/traces/examples/os_threads_exec.txt"});
  // The generator, over two CPUs (records of both interleaved).
  expect_same_results({"--trace", "gen:zipf,count=60000,footprint=64M,cpus=2,seed=9",
                       "--sim.cpus=2", "--config", skylake});
  // Lackey text, several blocks long.
  TempDir d;
  std::string lackey = "==1== Lackey\n";
  char b[64];
  for (int i = 0; i < 30000; ++i) {
    std::snprintf(b, sizeof b, "I  %08x,4\n M %08x,8\n", 0x400000 + 4 * i, 0x7f000000 + 72 * i);
    lackey += b;
  }
  write_file(d.file("l.log"), lackey);
  expect_same_results({"--trace", d.file("l.log")});
}

// The machine's limits (sim.cpus, 32-bit linear addresses) reach the reader
// on its thread: the same one-line errors, naming the line.
TEST(InputThread, TheReaderGetsTheMachinesLimitsThroughTheThread) {
  TempDir d;
  write_file(d.file("cpu3.txt"), "R 0x1000 8\nR 0x2000 8 3\n");
  write_file(d.file("a32.txt"), "R 0x1000 8\nR 0x100000000 8\n");
  for (const char* mode : {"--input-thread=off", "--input-thread=on"}) {
    ProcessResult r =
        mmusim({"--trace", d.file("cpu3.txt"), "--sim.cpus=2", mode, "--out", d.file("o")});
    EXPECT_EQ(r.exit_code, 2) << mode;
    EXPECT_EQ(r.err, "mmusim: error: " + d.file("cpu3.txt") +
                         ":line 2: record for cpu 3, but sim.cpus = 2 (expected cpu 0..1)\n")
        << mode;
    r = mmusim({"--trace", d.file("a32.txt"), "--walker.mode=pae", mode, "--out", d.file("o")});
    EXPECT_EQ(r.exit_code, 2) << mode;
    EXPECT_EQ(r.err, "mmusim: error: " + d.file("a32.txt") +
                         ":line 2: address 0x100000000 does not fit the 32-bit linear addresses "
                         "of walker.mode = pae (a 64-bit trace needs walker.mode = 4level or "
                         "5level)\n")
        << mode;
  }
}

TEST(InputThread, TheOptionAndItsEnvironmentDefaultAreChecked) {
  TempDir d;
  ProcessResult r =
      mmusim({"--trace", "gen:seq,count=10", "--input-thread=2", "--out", d.file("o")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --input-thread: expected auto, on or off, got '2'\n");
  r = systest::run_process("/usr/bin/env", {"MMUSIM_INPUT_THREAD=sometimes", MMUSIM_EXE, "--trace",
                                            "gen:seq,count=10", "--out", d.file("o")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: MMUSIM_INPUT_THREAD: expected auto, on or off, got 'sometimes'\n");
}

}  // namespace
}  // namespace mmusim
