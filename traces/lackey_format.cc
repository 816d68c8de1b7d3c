// Valgrind lackey (--trace-mem=yes) importer, memory only:
//   "I  ADDR,SIZE" fetch -> X, " L ADDR,SIZE" load -> R, " S ADDR,SIZE" store -> W,
//   " M ADDR,SIZE" modify -> R then W; "==PID== ..." lines and blank lines are skipped.
// A log with system calls (--trace-syscalls=yes) goes to lackey_import.cc.
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"
#include "traces/lackey_import.h"
#include "traces/lackey_parse.h"
#include "traces/line_reader.h"

namespace mmusim {
namespace {

class LackeyTraceReader final : public TraceReader {
 public:
  explicit LackeyTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {}

  size_t read(TraceRecord* out, size_t max) override {
    size_t n = 0;
    if (has_pending_ && max > 0) {  // the W half of an M split across batches
      out[n++] = pending_;
      has_pending_ = false;
    }
    return n + line_format::read_lines(*in_, path_, line_, out + n, max - n,
                                       [this](const char* b, const char* e, TraceRecord* o,
                                              size_t room) { return parse_line(b, e, o, room); });
  }
  [[nodiscard]] std::string position() const override {
    return "line " + std::to_string(record_line_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"lackey", compression_name(in_->source().compression()), "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  [[noreturn]] void fail(const char* line, const char* at, const char* line_end,
                         const std::string& what) const {
    throw input_error(path_, "line " + std::to_string(line_),
                      what + " at column " + std::to_string(at - line + 1) + ", got " +
                          quote_token(at, std::min(line_end, at + 40)));
  }

  // Parses [b, e); writes 0, 1 or 2 records (room >= 1; a second record that
  // does not fit is kept pending). Returns how many were written to out.
  size_t parse_line(const char* b, const char* e, TraceRecord* out, size_t room) {
    size_t len = static_cast<size_t>(e - b);
    if (len > 0 && e[-1] == '\r') --len, --e;
    if (len == 0) return 0;
    if (len >= 2 && b[0] == '=' && b[1] == '=') return 0;  // valgrind's own messages
    if (lackey::is_syscall_line(b, e)) {
      fail(b, b, e,
           "a system call line in a log read without system calls (none in its first " +
               std::to_string(in_->capacity() >> 20) +
               " MiB); import it with `mmusim-trace import`");
    }
    TraceRecord two[2];
    const size_t n = lackey::parse_access(
        b, e, two, [&](const char* at, const char* what) { fail(b, at, e, what); });
    record_line_ = line_;
    out[0] = two[0];
    if (n == 1) return 1;
    if (room >= 2) {
      out[1] = two[1];
      return 2;
    }
    pending_ = two[1];
    has_pending_ = true;
    return 1;
  }

  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  uint64_t line_ = 0;
  uint64_t record_line_ = 0;
  TraceRecord pending_;
  bool has_pending_ = false;
};

}  // namespace

std::unique_ptr<TraceReader> make_lackey_reader(std::unique_ptr<InputBuffer> in,
                                                const std::string& path) {
  // A log with system calls shows one in its first buffer (the loader's
  // first brk, or a forked child's return from clone on its first line).
  in->fill(in->capacity());
  if (lackey::has_syscall_line(in->data(), in->size())) {
    return make_lackey_task_reader(std::move(in), path);
  }
  return std::make_unique<LackeyTraceReader>(std::move(in));
}

}  // namespace mmusim
