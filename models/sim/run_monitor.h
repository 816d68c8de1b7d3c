// Watching a run from outside the model (README "Progress and interruption"):
// progress lines on stderr (--progress) and the stop on SIGINT/SIGTERM.
//
// Both hook into the trace: MonitoredTrace wraps the run's TraceReader, so
// they cost one more virtual call per batch of records (about a thousand),
// an interrupt-flag load per batch and a host-clock read every kClockEvery
// records; the per-record path of the model is untouched. An interruption
// ends the trace early: the records already read run to the end and the
// model drains as at the trace's real end, so a partial report is a
// consistent report of the records simulated.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace_reader.h"

namespace mmusim {

enum class ProgressMode : uint8_t { kAuto, kAlways, kNever };
// "auto", "always" or "never"; throws InputError naming --progress otherwise.
ProgressMode parse_progress_mode(const std::string& text);

// One progress line (without line end): records done, of how many when the
// trace declares its length (total > 0), simulated and host seconds, rate,
// ETA. `done_line`: the final line of a run.
std::string progress_line(uint64_t done, uint64_t total, double simulated_s, double elapsed_s,
                          bool done_line);

class Progress {
 public:
  // `out`: stderr; `terminal`: it is a terminal (lines are rewritten in
  // place). kAuto shows progress only on a terminal and only from kDelay on;
  // kAlways from the start, on anything. `simulated`: the simulated seconds
  // so far (read only when a line is written).
  Progress(ProgressMode mode, std::FILE* out, bool terminal, uint64_t total,
           std::function<double()> simulated);
  [[nodiscard]] bool on() const { return on_; }
  // After each batch: `done` records so far. Reads the host clock every
  // kClockEvery records, writes a line at most every kInterval.
  void update(uint64_t done) {
    if (on_ && done >= next_check_) check(done);
  }
  // Restarts the host clock (the simulation starts now).
  void restart();
  // The run's end: the final line (kAlways, or when a line was shown).
  void finish(uint64_t done);

  static constexpr uint64_t kClockEvery = 1U << 16;
  static constexpr std::chrono::milliseconds kDelay{2000}, kInterval{1000};

 private:
  void check(uint64_t done);
  void write(uint64_t done, bool done_line);
  bool on_, always_;
  std::FILE* out_;
  bool terminal_;
  uint64_t total_;
  std::function<double()> simulated_;
  std::chrono::steady_clock::time_point start_, next_line_;
  uint64_t next_check_ = kClockEvery;
  bool shown_ = false;
};

// The run's trace, watched: counts records, feeds Progress, and returns the
// end of the trace once interrupt::requested() (and from then on).
class MonitoredTrace final : public TraceReader {
 public:
  MonitoredTrace(std::unique_ptr<TraceReader> inner, Progress* progress);
  size_t read(TraceRecord* out, size_t max) override;
  const TraceRecord* borrow(TraceRecord* scratch, size_t max, size_t& n) override;
  [[nodiscard]] std::string position() const override { return inner_->position(); }
  [[nodiscard]] const std::string& path() const override { return inner_->path(); }
  [[nodiscard]] TraceFormatInfo format_info() const override { return inner_->format_info(); }
  [[nodiscard]] size_t buffer_capacity() const override { return inner_->buffer_capacity(); }
  [[nodiscard]] bool has_tasks() const override { return inner_->has_tasks(); }
  void take_events(std::vector<OsEvent>& out) override { inner_->take_events(out); }
  [[nodiscard]] const std::vector<TaskKey>& tasks() const override { return inner_->tasks(); }

  // Records handed to the model so far.
  [[nodiscard]] uint64_t records() const { return records_; }
  // The trace was ended early by an interruption (records may remain).
  [[nodiscard]] bool cut() const { return cut_; }

 private:
  // Before a read: false when nothing is to be read (`max` 0, the end, an
  // interruption).
  bool admit(size_t max);
  // After a read of `n` records.
  void count(size_t n);
  std::unique_ptr<TraceReader> inner_;
  Progress* progress_;
  uint64_t records_ = 0;
  bool started_ = false, cut_ = false, ended_ = false;
};

}  // namespace mmusim
