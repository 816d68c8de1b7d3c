// Valgrind lackey (--trace-mem=yes) importer:
//   "I  ADDR,SIZE" fetch -> X, " L ADDR,SIZE" load -> R, " S ADDR,SIZE" store -> W,
//   " M ADDR,SIZE" modify -> R then W; "==PID== ..." lines and blank lines are skipped.
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"
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
    AccessKind kind;
    bool modify = false;
    if (len >= 3 && b[0] == ' ' && b[2] == ' ') {
      switch (b[1]) {
        case 'L': kind = AccessKind::kRead; break;
        case 'S': kind = AccessKind::kWrite; break;
        case 'M':
          kind = AccessKind::kRead;
          modify = true;
          break;
        default: fail(b, b, e, "expected a lackey record (I, L, S or M) or a ==PID== line");
      }
    } else if (len >= 3 && b[0] == 'I' && b[1] == ' ' && b[2] == ' ') {
      kind = AccessKind::kFetch;
    } else if (len >= 2 && b[0] == '=' && b[1] == '=') {
      return 0;  // valgrind's own messages
    } else {
      fail(b, b, e, "expected a lackey record (I, L, S or M) or a ==PID== line");
    }
    const char* p = b + 3;
    const char* a0 = p;
    const ParsedInt a = scan_u64(p, e, IntSyntax::kBareHex);  // lackey prints no 0x
    if (a.error == ParseError::kOverflow) {
      while (*a0 == '0') ++a0;  // the message points at the first significant digit
      fail(b, a0, e, "address does not fit in 64 bits");
    }
    if (!a.ok()) fail(b, a0, e, "expected a hexadecimal address");
    const uint64_t addr = a.value;
    p = a.end;
    if (p == e || *p != ',') fail(b, p, e, "expected ',' after the address");
    ++p;
    const char* s0 = p;
    const ParsedInt sz = scan_u64(p, e, IntSyntax::kDecimal);
    if (!sz.ok() && sz.error != ParseError::kOverflow) fail(b, s0, e, "expected a decimal size");
    if (!sz.ok() || sz.value > kMaxAccessSize) fail(b, s0, e, "size must be 0..4096");
    const uint64_t size = sz.value;
    p = sz.end;
    while (p != e && is_blank(*p)) ++p;
    if (p != e) fail(b, p, e, "unexpected text after record");
    TraceRecord r;
    r.addr = addr;
    r.size = static_cast<uint32_t>(size);
    r.kind = kind;
    out[0] = r;
    record_line_ = line_;
    if (!modify) return 1;
    r.kind = AccessKind::kWrite;
    if (room >= 2) {
      out[1] = r;
      return 2;
    }
    pending_ = r;
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

std::unique_ptr<TraceReader> make_lackey_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<LackeyTraceReader>(std::move(in));
}

}  // namespace mmusim
