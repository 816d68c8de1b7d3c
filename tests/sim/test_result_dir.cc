// The results' plumbing without a simulation: ResultDir (the set written
// whole, earlier results removed, abandoned sets leave nothing), the
// interrupt handlers (paths removed on a quit, a deferred quit), progress
// lines, and the watched trace that ends at an interruption.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/common/interrupt.h"
#include "models/sim/result_dir.h"
#include "models/sim/run_monitor.h"
#include "tests/sim/sim_test_util.h"

namespace mmusim {
namespace {

namespace fs = std::filesystem;
using systest::read_file;
using systest::TempDir;
using systest::write_file;

const std::vector<std::string> kSet = {"config.ini", "series.csv", "summary.csv", "stats.json"};

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// ---------------------------------------------------------------- ResultDir --

TEST(ResultDir, StagesThenPutsTheWholeSetInPlace) {
  TempDir d;
  const std::string out = d.file("a/b/out");
  ResultDir r(out, "--out", kSet);
  ASSERT_TRUE(fs::is_directory(out));  // made, with its parents, before any result
  EXPECT_EQ(r.staging(), out + "/.mmusim-run-" + std::to_string(getpid()));
  EXPECT_EQ(listing(out), std::vector<std::string>{".mmusim-run-" + std::to_string(getpid())});
  EXPECT_EQ(r.staged("stats.json"), r.staging() + "/stats.json");
  EXPECT_THROW(static_cast<void>(r.staged("other.txt")), std::logic_error);
  r.write("stats.json", "{}\n");
  r.write("summary.csv", [](std::ostream& o) { o << "a,b\n1,2\n"; });
  r.write("config.ini", "x = 1\n");
  EXPECT_FALSE(fs::exists(out + "/stats.json"));  // nothing in place before commit()
  r.commit();
  EXPECT_EQ(listing(out), (std::vector<std::string>{"config.ini", "stats.json", "summary.csv"}));
  EXPECT_EQ(read_file(out + "/summary.csv"), "a,b\n1,2\n");
  EXPECT_EQ(r.path("stats.json"), out + "/stats.json");
}

TEST(ResultDir, AnEarlierRunsResultsGoAtTheStartOtherFilesStay) {
  TempDir d;
  const std::string out = d.file("out");
  fs::create_directory(out);
  for (const std::string& n : kSet) write_file(out + "/" + n, "old " + n);
  write_file(out + "/notes.txt", "mine");
  write_file(d.file("faults.csv"), "old log");
  write_file(d.file("faults.csv.tmp"), "old temporary");
  {
    ResultDir r(out, "--out", kSet, {d.file("faults.csv")}, {"--fault-log"});
    EXPECT_EQ(listing(out),
              (std::vector<std::string>{".mmusim-run-" + std::to_string(getpid()), "notes.txt"}));
    EXPECT_FALSE(fs::exists(d.file("faults.csv")));
    EXPECT_FALSE(fs::exists(d.file("faults.csv.tmp")));
    EXPECT_EQ(r.staged(d.file("faults.csv")), d.file("faults.csv.tmp"));
    write_file(r.staged(d.file("faults.csv")), "new log");
    r.write("stats.json", "new");
    // Destroyed without commit(): a failed run. Nothing of it stays.
  }
  EXPECT_EQ(listing(out), std::vector<std::string>{"notes.txt"});
  EXPECT_FALSE(fs::exists(d.file("faults.csv.tmp")));
  EXPECT_EQ(read_file(out + "/notes.txt"), "mine");
}

TEST(ResultDir, AnAbandonedSetRemovesTheDirectoriesItMade) {
  TempDir d;
  {
    ResultDir r(d.file("x/y/out"), "--out", kSet, {d.file("logs/f.csv")}, {"--fault-log"});
    EXPECT_TRUE(fs::is_directory(d.file("logs")));
    r.write("stats.json", "x");
  }
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{});
}

TEST(ResultDir, AFileNotStagedIsAbsentAfterCommit) {
  TempDir d;
  const std::string out = d.file("out");
  {
    ResultDir r(out, "--out", kSet);
    for (const std::string& n : kSet) r.write(n, n);
    r.commit();
  }
  ResultDir r(out, "--out", kSet);
  r.write("stats.json", "second");
  r.commit();
  EXPECT_EQ(listing(out), std::vector<std::string>{"stats.json"});
  EXPECT_EQ(read_file(out + "/stats.json"), "second");
}

TEST(ResultDir, AFileOfTheSetInTheDirectoryIsStagedWithTheRest) {
  TempDir d;
  const std::string out = d.file("out");
  ResultDir r(out, "--out", kSet, {out + "/faults.csv"}, {"--fault-log"});
  EXPECT_EQ(r.staged(out + "/faults.csv"), r.staging() + "/faults.csv");
  write_file(r.staged(out + "/faults.csv"), "log");
  r.commit();
  EXPECT_EQ(listing(out), std::vector<std::string>{"faults.csv"});
}

TEST(ResultDir, RefusesWhatCannotHoldTheResults) {
  TempDir d;
  write_file(d.file("file"), "x");
  EXPECT_EQ(error_of([&] { ResultDir r(d.file("file/out"), "--out", kSet); }),
            "--out " + d.file("file/out") + ": cannot create the directory " + d.file("file/out") +
                ": Not a directory");
  EXPECT_EQ(error_of([&] { ResultDir r(d.file("file"), "--out", kSet); }),
            "--out " + d.file("file") + ": exists and is not a directory");
  const std::string out = d.file("out");
  EXPECT_EQ(
      error_of([&] { ResultDir r(out, "--out", kSet, {out + "/stats.json"}, {"--fault-log"}); }),
      "--fault-log " + out + "/stats.json: is the stats.json that --out " + out + " receives");
  EXPECT_EQ(error_of([&] { ResultDir r(out, "--out", kSet, {d.path()}, {"--fault-log"}); }),
            "--fault-log " + d.path() + ": is a directory");
  EXPECT_EQ(
      error_of([&] { ResultDir r(out, "--out", kSet, {d.file("file/f.csv")}, {"--fault-log"}); }),
      "--fault-log " + d.file("file/f.csv") + ": exists and is not a directory");
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{"file"});  // nothing made stays
}

TEST(ResultDir, RemovesTheStagingOfRunsThatNoLongerExist) {
  TempDir d;
  const std::string out = d.file("out");
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);  // a process id that no longer runs
  const std::string dead = out + "/.mmusim-run-" + std::to_string(child);
  const std::string alive = out + "/.mmusim-run-1";  // init: running
  fs::create_directories(dead);
  write_file(dead + "/stats.json", "killed");
  fs::create_directories(alive);
  ResultDir r(out, "--out", kSet);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
}

// ---------------------------------------------------------------- interrupt --

// Runs `body` in a child process; its wait status.
int in_child(const std::function<void()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(Interrupt, AQuitRemovesTheRegisteredPathsAndEndsByTheSignal) {
  TempDir d;
  const int st = in_child([&] {
    interrupt::install(interrupt::Mode::kQuit, "test");
    fs::create_directory(d.file("stage"));
    write_file(d.file("stage/a.tmp"), "half");
    write_file(d.file("b.tmp"), "half");
    interrupt::add_dir(d.file("stage"));
    interrupt::add_file(d.file("stage/a.tmp"));
    interrupt::add_file(d.file("b.tmp"));
    raise(SIGTERM);
    write_file(d.file("not-reached"), "");
  });
  ASSERT_TRUE(WIFSIGNALED(st));
  EXPECT_EQ(WTERMSIG(st), SIGTERM);
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{});
}

TEST(Interrupt, FinishModeRecordsTheFirstSignalAndQuitsOnTheSecond) {
  TempDir d;
  const int st = in_child([&] {
    interrupt::install(interrupt::Mode::kFinish, "test");
    write_file(d.file("a.tmp"), "half");
    interrupt::add_file(d.file("a.tmp"));
    if (interrupt::requested()) _exit(10);
    raise(SIGINT);
    if (!interrupt::requested() || interrupt::signal_number() != SIGINT) _exit(11);
    write_file(d.file("after-first"), "");
    raise(SIGINT);
    _exit(12);
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGINT);
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{"after-first"});
}

TEST(Interrupt, DeferredHoldsAQuitUntilItEnds) {
  TempDir d;
  const int st = in_child([&] {
    interrupt::install(interrupt::Mode::kQuit, "test");
    {
      const interrupt::Deferred hold;
      raise(SIGTERM);
      write_file(d.file("done-while-held"), "");  // a rename into place, say
    }
    write_file(d.file("not-reached"), "");
  });
  ASSERT_TRUE(WIFSIGNALED(st));
  EXPECT_EQ(WTERMSIG(st), SIGTERM);
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{"done-while-held"});
  EXPECT_EQ(interrupt::signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(interrupt::exit_status(SIGINT), 130);
  EXPECT_EQ(interrupt::exit_status(SIGTERM), 143);
}

TEST(Interrupt, ASecondSignalDuringARunLeavesNoStagedResults) {
  TempDir d;
  const std::string out = d.file("out");
  write_file(d.file("keep.txt"), "mine");
  const int st = in_child([&] {
    interrupt::install(interrupt::Mode::kFinish, "test");
    ResultDir r(out, "--out", kSet, {d.file("log/faults.csv")}, {"--fault-log"});
    write_file(r.staged(d.file("log/faults.csv")), "half a log");
    r.write("stats.json", "half");
    raise(SIGINT);  // the first: the run would stop and write a partial report
    r.write("summary.csv", "half");
    raise(SIGINT);  // the second: quit now
    _exit(0);
  });
  ASSERT_TRUE(WIFSIGNALED(st));
  EXPECT_EQ(WTERMSIG(st), SIGINT);
  // The staged files, the staging directory and the directories the run made: gone.
  EXPECT_EQ(listing(d.path()), std::vector<std::string>{"keep.txt"});
}

// ----------------------------------------------------------------- progress --

TEST(Progress, LinesSayDoneOfTotalSimulatedTimeRateAndEta) {
  EXPECT_EQ(progress_line(2500000, 10000000, 0.0123456, 2.0, false),
            "mmusim: 2500000 of 10000000 records (25.0%), 12.346 ms simulated, 1.25M records/s, "
            "ETA 6 s");
  EXPECT_EQ(progress_line(1000, 0, 0.0000125, 4.0, false),
            "mmusim: 1000 records, 12.500 us simulated, 250 records/s");
  EXPECT_EQ(progress_line(1000000, 200000000, 2.5, 10.0, false),
            "mmusim: 1000000 of 200000000 records (0.5%), 2.500 s simulated, 100000 records/s, "
            "ETA 33 min 10 s");
  EXPECT_EQ(progress_line(100000, 1000000000, 1, 100.0, false),
            "mmusim: 100000 of 1000000000 records (0.0%), 1.000 s simulated, 1000 records/s, "
            "ETA 277 h 45 min");
  EXPECT_EQ(progress_line(400, 400, 0.5, 0.25, true),
            "mmusim: done: 400 of 400 records (100.0%), 500.000 ms simulated, 1600 records/s, "
            "0.2 s");
}

TEST(Progress, ModesAndTerminals) {
  auto lines = [](ProgressMode m, bool terminal) {
    std::FILE* f = std::tmpfile();
    {
      Progress p(m, f, terminal, 100, [] { return 0.001; });
      p.update(50);  // before the first clock check: no line
      p.finish(100);
    }
    std::rewind(f);
    std::string s;
    for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
    std::fclose(f);
    return s;
  };
  const std::string done = "mmusim: done: 100 of 100 records (100.0%), 1.000 ms simulated, ";
  EXPECT_EQ(lines(ProgressMode::kNever, true), "");
  EXPECT_EQ(lines(ProgressMode::kNever, false), "");
  EXPECT_EQ(lines(ProgressMode::kAuto, false), "");  // not a terminal
  EXPECT_EQ(lines(ProgressMode::kAuto, true), "");   // a short run shows nothing
  EXPECT_EQ(lines(ProgressMode::kAlways, false).rfind(done, 0), 0U);
  EXPECT_EQ(lines(ProgressMode::kAlways, true).rfind("\r" + done, 0), 0U);
  EXPECT_EQ(parse_progress_mode("never"), ProgressMode::kNever);
  EXPECT_EQ(error_of([] { parse_progress_mode("sometimes"); }),
            "command line: --progress: expected auto, always or never, got 'sometimes'");
}

// A reader of `n` records for cpu `cpu`.
class Counting final : public TraceReader {
 public:
  Counting(uint64_t n, uint32_t cpu) : left_(n), cpu_(cpu) {}
  size_t read(TraceRecord* out, size_t max) override {
    size_t k = 0;
    for (; k < max && left_ > 0; ++k, --left_) {
      out[k] = TraceRecord{};
      out[k].cpu = cpu_;
      if (cpu_ >= cpu_limit()) throw InputError("cpu beyond the limit");
    }
    return k;
  }
  [[nodiscard]] std::string position() const override { return "here"; }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override { return {"x", "none", "", 7}; }

 private:
  uint64_t left_;
  uint32_t cpu_;
  std::string path_ = "counting";
};

TEST(MonitoredTrace, CountsForwardsLimitsAndEndsAtAnInterruption) {
  std::vector<TraceRecord> buf(4);
  MonitoredTrace t(std::make_unique<Counting>(7, 0), nullptr);
  EXPECT_EQ(t.format_info().declared_records, 7U);
  EXPECT_EQ(t.read(buf.data(), 4), 4U);
  EXPECT_EQ(t.read(buf.data(), 4), 3U);
  EXPECT_EQ(t.read(buf.data(), 4), 0U);
  EXPECT_EQ(t.records(), 7U);
  EXPECT_FALSE(t.cut());

  MonitoredTrace limited(std::make_unique<Counting>(7, 1), nullptr);
  limited.set_cpu_limit(1);  // reaches the reader inside
  EXPECT_THROW(limited.read(buf.data(), 4), InputError);

  const int st = in_child([&] {
    interrupt::install(interrupt::Mode::kFinish, "test");
    MonitoredTrace w(std::make_unique<Counting>(1000, 0), nullptr);
    if (w.read(buf.data(), 4) != 4) _exit(10);
    raise(SIGINT);
    if (w.read(buf.data(), 4) != 0 || w.read(buf.data(), 4) != 0) _exit(11);
    if (!w.cut() || w.records() != 4) _exit(12);
    _exit(0);
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace mmusim
