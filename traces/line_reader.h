// Shared pieces of the line-oriented importers (text, lackey, pin, din): the
// streaming line splitter over an InputBuffer, token scanning and the error
// format "FILE:line N: WHAT at column C, got 'TOKEN'". Memory stays one
// buffer. Numbers are scanned with scan_u64 (models/common/parse.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "models/common/error.h"
#include "models/common/parse.h"
#include "traces/formats.h"

namespace mmusim::line_format {

inline const char* skip_blanks(const char* p, const char* e) {
  while (p != e && is_blank(*p)) ++p;
  return p;
}
// End of the blank-delimited token starting at p.
inline const char* token_end(const char* p, const char* e) {
  while (p != e && !is_blank(*p)) ++p;
  return p;
}

// End of what an error message quotes at p: the token there, or when p is at
// a blank, the blanks and the token after them.
inline const char* got_end(const char* p, const char* e) { return token_end(skip_blanks(p, e), e); }

// "FILE:line N: WHAT at column C, got TOKEN" where TOKEN is [at, got_end).
[[noreturn]] inline void fail(const std::string& path, uint64_t line, const char* line_begin,
                              const char* at, const char* got_end, const std::string& what) {
  throw input_error(path, "line " + std::to_string(line),
                    what + " at column " + std::to_string(at - line_begin + 1) + ", got " +
                        quote_token(at, got_end));
}

// Splits the input into lines and calls parse_line(b, e, out, room) for each
// line [b, e) (without '\n'; a last line without '\n' included), which writes
// up to `room` (>= 1) records to out and returns how many. Returns after `max`
// records or at the end of the input (0 then). `line` counts the lines read.
template <class ParseLine>
size_t read_lines(InputBuffer& in, const std::string& path, uint64_t& line, TraceRecord* out,
                  size_t max, ParseLine&& parse_line) {
  size_t n = 0;
  while (n < max) {
    const char* const start = in.data();
    const char* const end = start + in.size();
    const char* q = start;
    while (n < max) {
      const char* nl = static_cast<const char*>(std::memchr(q, '\n', end - q));
      if (nl == nullptr) break;
      ++line;
      n += parse_line(q, nl, out + n, max - n);
      q = nl + 1;
    }
    in.consume(q - start);
    if (n == max) break;
    if (in.source_ended()) {
      if (in.size() > 0) {
        ++line;
        const char* b = in.data();
        const size_t len = in.size();
        in.consume(len);  // the bytes stay in place until the next fill
        n += parse_line(b, b + len, out + n, max - n);
      }
      break;
    }
    if (in.size() == in.capacity()) {
      throw input_error(path, "line " + std::to_string(line + 1),
                        "line longer than " + std::to_string(in.capacity()) + " bytes");
    }
    in.fill(in.size() + 1);
  }
  return n;
}

// The TraceReader plumbing of a line-oriented importer. Derived provides
// `bool parse_line(const char* b, const char* e, TraceRecord& r)` (true when the
// line holds a record) and `static constexpr const char* kFormat`; it reports
// errors with fail(), which names the file, the current line and the column.
template <class Derived>
class LineTraceReader : public TraceReader {
 public:
  explicit LineTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {}

  size_t read(TraceRecord* out, size_t max) final {
    static_cast<Derived*>(this)->begin_batch();
    return read_lines(*in_, path_, line_, out, max,
                      [this](const char* b, const char* e, TraceRecord* r, size_t /*room*/) {
                        if (!static_cast<Derived*>(this)->parse_line(b, e, *r)) return size_t{0};
                        record_line_ = line_;
                        return size_t{1};
                      });
  }
  [[nodiscard]] std::string position() const final {
    return "line " + std::to_string(record_line_);
  }
  [[nodiscard]] const std::string& path() const final { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const final {
    return {Derived::kFormat, compression_name(in_->source().compression()), "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const final { return in_->capacity(); }

 protected:
  // Called at the start of each read(); Derived may hide it (per-batch state).
  void begin_batch() {}
  // The line being parsed (1-based), for messages of the derived reader.
  [[nodiscard]] uint64_t current_line() const { return line_; }
  // "FILE:line N: WHAT at column C, got TOKEN" for the line [b, ...) being parsed.
  [[noreturn]] void fail(const char* b, const char* at, const char* got_end,
                         const std::string& what) const {
    line_format::fail(path_, line_, b, at, got_end, what);
  }

 private:
  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  uint64_t line_ = 0;         // lines read so far
  uint64_t record_line_ = 0;  // line of the last record returned
};

}  // namespace mmusim::line_format
