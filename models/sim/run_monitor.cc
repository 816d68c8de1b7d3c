#include "models/sim/run_monitor.h"

#include <cinttypes>
#include <cmath>
#include <utility>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/interrupt.h"

namespace mmusim {
namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// 950 us, 12.345 ms, 1.500 s: simulated time at a readable scale.
std::string simulated_text(double s) {
  if (s < 1e-3) return format("%.3f us", s * 1e6);
  if (s < 1) return format("%.3f ms", s * 1e3);
  return format("%.3f s", s);
}

// 7 s, 3 min 05 s, 2 h 07 min: host durations.
std::string duration_text(double s) {
  const auto t = static_cast<uint64_t>(std::llround(s < 0 ? 0 : s));
  char buf[64];
  if (t < 60) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " s", t);
  } else if (t < 3600) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " min %02" PRIu64 " s", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " h %02" PRIu64 " min", t / 3600, t / 60 % 60);
  }
  return buf;
}

}  // namespace

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "always") return ProgressMode::kAlways;
  if (text == "never") return ProgressMode::kNever;
  throw InputError("command line: --progress: expected auto, always or never, got '" +
                   visible(text) + "'");
}

std::string progress_line(uint64_t done, uint64_t total, double simulated_s, double elapsed_s,
                          bool done_line) {
  std::string s = "mmusim: " + std::string(done_line ? "done: " : "") + std::to_string(done);
  if (total > 0) {
    s += " of " + std::to_string(total) + " records (" +
         format("%.1f", 100.0 * static_cast<double>(done) / static_cast<double>(total)) + "%)";
  } else {
    s += " records";
  }
  s += ", " + simulated_text(simulated_s) + " simulated";
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0;
  s += ", " + (rate >= 1e6 ? format("%.2fM", rate / 1e6) : format("%.0f", rate)) + " records/s";
  if (done_line) {
    s += ", " + format("%.1f", elapsed_s) + " s";
  } else if (total > done && rate > 0) {
    s += ", ETA " + duration_text(static_cast<double>(total - done) / rate);
  }
  return s;
}

Progress::Progress(ProgressMode mode, std::FILE* out, bool terminal, uint64_t total,
                   std::function<double()> simulated)
    : on_(mode == ProgressMode::kAlways || (mode == ProgressMode::kAuto && terminal)),
      always_(mode == ProgressMode::kAlways),
      out_(out),
      terminal_(terminal),
      total_(total),
      simulated_(std::move(simulated)),
      start_(std::chrono::steady_clock::now()),
      next_line_(start_ + (mode == ProgressMode::kAuto ? kDelay : kInterval)) {}

void Progress::restart() {
  const auto now = std::chrono::steady_clock::now();
  next_line_ = now + (next_line_ - start_);
  start_ = now;
}

void Progress::check(uint64_t done) {
  next_check_ = done + kClockEvery;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_line_) return;
  next_line_ = now + kInterval;
  write(done, false);
}

void Progress::write(uint64_t done, bool done_line) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string line = progress_line(done, total_, simulated_(), elapsed, done_line);
  if (terminal_) {
    // Rewritten in place: carriage return, the line, erase to its end.
    std::fprintf(out_, "\r%s\033[K%s", line.c_str(), done_line ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
  shown_ = true;
}

void Progress::finish(uint64_t done) {
  if (on_ && (shown_ || always_)) write(done, true);
}

MonitoredTrace::MonitoredTrace(std::unique_ptr<TraceReader> inner, Progress* progress)
    : inner_(std::move(inner)), progress_(progress) {}

bool MonitoredTrace::admit(size_t max) {
  if (!started_) {
    // The limits were set on this wrapper (before the first read).
    started_ = true;
    inner_->set_cpu_limit(cpu_limit());
    inner_->set_address_limit(address_limit(), address_mode());
  }
  if (max == 0 || ended_) return false;
  if (interrupt::requested()) {
    cut_ = true;
    return false;
  }
  return true;
}

void MonitoredTrace::count(size_t n) {
  if (n == 0) ended_ = true;
  records_ += n;
  if (progress_ != nullptr) progress_->update(records_);
}

size_t MonitoredTrace::read(TraceRecord* out, size_t max) {
  if (!admit(max)) return 0;
  const size_t n = inner_->read(out, max);
  count(n);
  return n;
}

const TraceRecord* MonitoredTrace::borrow(TraceRecord* scratch, size_t max, size_t& n) {
  n = 0;
  if (!admit(max)) return scratch;
  const TraceRecord* r = inner_->borrow(scratch, max, n);
  count(n);
  return r;
}

}  // namespace mmusim
