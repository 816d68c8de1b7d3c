// mmusim's results as a user relies on them (README "Errors, interruption and
// results"): --out checked before the run, SIGINT/SIGTERM giving a partial
// report marked as such, a closed stdout pipe, stale results of an earlier
// run, and progress lines on stderr.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

namespace fs = std::filesystem;
using systest::ProcessResult;
using systest::read_file;
using systest::TempDir;
using systest::write_file;

ProcessResult mmusim(const std::vector<std::string>& args) {
  return systest::run_process(MMUSIM_EXE, args);
}

// A trace far longer than any test waits for (minutes of simulation).
const std::string kLong = "gen:uniform,count=2000000000,footprint=1G";

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// Starts mmusim with stdout and stderr to files in `d`, waits until its run
// has begun (the staging directory exists, then a little longer), sends
// `sig`, and returns its wait status.
int interrupt_run(const TempDir& d, const std::vector<std::string>& args, int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(d.file("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(d.file("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(MMUSIM_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(MMUSIM_EXE, argv.data());
    _exit(127);
  }
  const std::string staging = d.file("out/.mmusim-run-") + std::to_string(pid);
  for (int i = 0; i < 6000 && !fs::exists(staging); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // records are being simulated
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

void expect_partial_report(const TempDir& d, const std::string& name) {
  const std::string out = d.file("out");
  // The whole set, and nothing else: no staging directory, no temporary file.
  EXPECT_EQ(listing(out), (std::vector<std::string>{"config.ini", "stats.json", "summary.csv"}));
  const nlohmann::json j = nlohmann::json::parse(read_file(out + "/stats.json"));
  EXPECT_EQ(j.at("partial"), true);
  EXPECT_EQ(j.at("interrupted_by"), name);
  const auto accesses = j.at("accesses").get<uint64_t>();
  EXPECT_GT(accesses, 0U);
  EXPECT_LT(accesses, 2000000000U);
  uint64_t records = 0;
  for (const auto& s : j.at("stats")) {
    if (s.at("name") == "top.cpu0.records") records = s.at("value").get<uint64_t>();
  }
  EXPECT_EQ(records, accesses);
  const auto cols = systest::parse_summary(read_file(out + "/summary.csv"));
  EXPECT_EQ(cols.front(), std::make_pair(std::string("accesses"), std::to_string(accesses)));
  // `partial` comes just before the two wall-clock columns.
  ASSERT_GE(cols.size(), 3U);
  EXPECT_EQ(cols[cols.size() - 3], std::make_pair(std::string("partial"), std::string("1")));
  const std::string stdout_text = read_file(d.file("stdout"));
  EXPECT_NE(
      stdout_text.find("  PARTIAL                interrupted by " + name + " after " +
                       std::to_string(accesses) + " accesses: these results cover them only\n"),
      std::string::npos)
      << stdout_text;
  EXPECT_NE(stdout_text.find("/{stats.json,summary.csv,config.ini} (partial)\n"),
            std::string::npos);
  EXPECT_NE(systest::without_asan_stack_warning(read_file(d.file("stderr")))
                .find("mmusim: " + name +
                      ": stopping after the records in flight and writing a "
                      "partial report (again to quit without results)\n"),
            std::string::npos);
}

TEST(CliResults, SigintWritesAPartialReportMarkedAsSuch) {
  TempDir d;
  const int st = interrupt_run(d, {"--trace", kLong, "--out", d.file("out")}, SIGINT);
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 130) << systest::without_asan_stack_warning(
      read_file(d.file("stderr")));
  expect_partial_report(d, "SIGINT");
}

TEST(CliResults, SigtermWritesAPartialReportWithItsOwnStatus) {
  TempDir d;
  const int st = interrupt_run(d, {"--trace", kLong, "--out", d.file("out")}, SIGTERM);
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 143) << systest::without_asan_stack_warning(
      read_file(d.file("stderr")));
  expect_partial_report(d, "SIGTERM");
}

TEST(CliResults, AClosedStdoutPipeDoesNotLoseTheResults) {
  // stdout is a pipe whose reader has already gone (as after `| head -1`):
  // every write to it fails with EPIPE, and --explain writes a lot.
  TempDir d;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    const int e = open(d.file("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(e, 2);
    const std::string out = d.file("out");
    execl(MMUSIM_EXE, MMUSIM_EXE, "--trace", "gen:seq,count=20000,footprint=1M", "--explain",
          "1000", "--out", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_EQ(systest::without_asan_stack_warning(read_file(d.file("stderr"))), "");
  EXPECT_EQ(listing(d.file("out")),
            (std::vector<std::string>{"config.ini", "stats.json", "summary.csv"}));
  const nlohmann::json j = nlohmann::json::parse(read_file(d.file("out/stats.json")));
  EXPECT_EQ(j.at("partial"), false);
  EXPECT_EQ(j.at("accesses").get<uint64_t>(), 20000U);
}

TEST(CliResults, OutUnderARegularFileIsRefusedBeforeAnyWork) {
  // The trace would take minutes: the answer comes before the simulation.
  TempDir d;
  write_file(d.file("file"), "x");
  ProcessResult r = mmusim({"--trace", kLong, "--out", d.file("file/out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --out " + d.file("file/out") + ": cannot create the directory " +
                       d.file("file/out") + ": Not a directory\n");
  EXPECT_EQ(r.out, "");
  r = mmusim({"--trace", kLong, "--out", d.file("file")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --out " + d.file("file") + ": exists and is not a directory\n");
  r = mmusim({"--trace", kLong, "--out", d.file("out"), "--fault-log", d.file("file/f.csv")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mmusim: error: --fault-log " + d.file("file/f.csv") +
                       ": exists and is not a directory\n");
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{"file"});
}

TEST(CliResults, AFailedRunLeavesNoResultsOfAnEarlierRun) {
  TempDir d;
  const std::string out = d.file("out");
  const std::string trace = std::string(MMUSIM_ROOT) + "/traces/examples/os_file_io.txt";
  ProcessResult r = mmusim({"--trace", trace, "--out", out, "--stats.series_interval_us=10",
                            "--fault-log", out + "/faults.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(listing(out), (std::vector<std::string>{"config.ini", "faults.csv", "series.csv",
                                                    "stats.json", "summary.csv"}));
  write_file(out + "/notes.txt", "mine");
  // The same directory, a trace that fails after 5000 good records.
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "R 0x" + std::to_string(100000 + i * 64) + " 8\n";
  text += "R 0xZZ 8\n";
  write_file(d.file("late.trace"), text);
  r = mmusim({"--trace", d.file("late.trace"), "--out", out, "--fault-log", out + "/faults.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(listing(out), std::vector<std::string>{"notes.txt"});  // the user's file stays
  // A fault log elsewhere goes too.
  r = mmusim({"--trace", trace, "--out", out, "--fault-log", d.file("f.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(d.file("f.csv")));
  r = mmusim({"--trace", d.file("late.trace"), "--out", out, "--fault-log", d.file("f.csv")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(d.file("f.csv")));
  EXPECT_FALSE(fs::exists(d.file("f.csv.tmp")));
  EXPECT_EQ(listing(out), std::vector<std::string>{"notes.txt"});
}

// A series whose last interval ends with the run leaves nothing for the final
// sc_start(): the run prints no SystemC W571 "no activity"
// warning, only its summary.
TEST(CliResults, SeriesEndingWithTheRunWarnsOfNothing) {
  TempDir d;
  const std::string out = d.file("out");
  ProcessResult r =
      mmusim({"--config", std::string(MMUSIM_ROOT) + "/configs/examples/pressure.ini", "--trace",
              std::string(MMUSIM_ROOT) + "/traces/examples/os_pressure.txt.zst", "--out", out,
              "--stats.series_interval_us=2000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // SystemC prints its reports on stdout: the summary must start the output.
  EXPECT_EQ(r.out.rfind("mmusim: 28678 accesses", 0), 0U) << r.out;
  EXPECT_EQ(r.out.find("Warning"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out + "/series.csv"));
}

TEST(CliResults, ProgressLinesOnlyWhenAsked) {
  TempDir d;
  const std::string trace = "gen:seq,count=20000,footprint=1M";
  ProcessResult r = mmusim({"--trace", trace, "--out", d.file("o"), "--progress=always"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // stderr is a file: whole lines, the last one the run's end.
  const std::regex line(
      "(mmusim: [0-9]+ of 20000 records \\([0-9.]+%\\), [0-9.]+ [um]?s simulated, [0-9.]+M? "
      "records/s(, ETA [0-9a-z ]+)?\n)*"
      "mmusim: done: 20000 of 20000 records \\(100\\.0%\\), [0-9.]+ us simulated, [0-9.]+M? "
      "records/s, [0-9.]+ s\n");
  EXPECT_TRUE(std::regex_match(r.err, line)) << r.err;
  // Not a terminal: none by default, none when told never.
  r = mmusim({"--trace", trace, "--out", d.file("o")});
  EXPECT_EQ(r.err, "");
  r = mmusim({"--trace", trace, "--out", d.file("o"), "--progress=never"});
  EXPECT_EQ(r.err, "");
  r = mmusim({"--trace", trace, "--out", d.file("o"), "--progress=sometimes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "mmusim: error: command line: --progress: expected auto, always or never, got "
            "'sometimes'\n");
}

}  // namespace
}  // namespace mmusim
