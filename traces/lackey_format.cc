// Valgrind lackey (--trace-mem=yes) importer, memory only:
//   "I  ADDR,SIZE" fetch -> X, " L ADDR,SIZE" load -> R, " S ADDR,SIZE" store -> W,
//   " M ADDR,SIZE" modify -> R then W; "==PID== ..." lines and blank lines are skipped.
// A log with system calls (--trace-syscalls=yes) goes to lackey_import.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
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

  // The lines of line_format::read_lines, with a fast path: a plain access
  // line ("I  ", " L ", " S " or " M ", lower-case hex digits, ',', a decimal
  // size, '\n') is parsed in one pass that also finds its end, without
  // memchr or bounds checks (at least kFastRoom bytes are buffered after it
  // starts). Every other line, and the last bytes of the buffer, go through
  // parse_line(), which gives the same records and every error message.
  size_t read(TraceRecord* out, size_t max) override {
    size_t n = 0;
    if (has_pending_ && max > 0) {  // the W half of an M split across batches
      out[n++] = pending_;
      has_pending_ = false;
    }
    while (n < max) {
      const char* const start = in_->data();
      const char* const end = start + in_->size();
      const char* q = start;
      while (n < max) {
        if (max - n >= 2 && end - q >= kFastRoom) {
          size_t k = 0;
          const char* next = parse_fast(q, out + n, &k);
          if (next != nullptr) {
            n += k;
            ++line_;
            record_line_ = line_;
            q = next;
            continue;
          }
        }
        const char* nl = static_cast<const char*>(std::memchr(q, '\n', end - q));
        if (nl == nullptr) break;
        ++line_;
        n += parse_line(q, nl, out + n, max - n);
        q = nl + 1;
      }
      in_->consume(q - start);
      if (n == max) break;
      if (in_->source_ended()) {
        if (in_->size() > 0) {  // a last line without '\n'
          ++line_;
          const char* b = in_->data();
          const size_t len = in_->size();
          in_->consume(len);  // the bytes stay in place until the next fill
          n += parse_line(b, b + len, out + n, max - n);
        }
        break;
      }
      if (in_->size() == in_->capacity()) {
        throw input_error(path_, "line " + std::to_string(line_ + 1),
                          "line longer than " + std::to_string(in_->capacity()) + " bytes");
      }
      in_->fill(in_->size() + 1);
    }
    return n;
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

  // Bytes that must be buffered from a line's start for parse_fast(): its
  // longest line (3 + 16 hex digits + ',' + 4 digits + '\n' = 25) and more.
  static constexpr ptrdiff_t kFastRoom = 32;
  // The 8 bytes at p as 8 hex digits ('0'-'9', 'a'-'f'), the first the most
  // significant, in one 64-bit word: false when one is anything else.
  static bool hex8(const char* p, uint64_t* value) {
    constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x80 * k01, k7f = 0x7f * k01;
    uint64_t x;
    std::memcpy(&x, p, 8);  // little-endian: p[0] in the low byte
    const auto nonzero = [](uint64_t v) { return (((v & k7f) + k7f) | v) & k80; };
    const uint64_t hi = x & (0xf0 * k01), lo = x & (0x0f * k01);
    const uint64_t digit = ~nonzero(hi ^ (0x30 * k01)) & k80 & ~((lo + 0x76 * k01) & k80);
    const uint64_t alpha =
        ~nonzero(hi ^ (0x60 * k01)) & k80 & ~((lo + 0x79 * k01) & k80) & nonzero(lo);
    if ((digit | alpha) != k80) return false;
    uint64_t v = lo + (alpha >> 7) * 9;  // each byte its digit's value
    v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL;
    v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffULL;
    *value = ((v << 16) | (v >> 32)) & 0xffffffffULL;
    return true;
  }

  // A plain access line at q (at least kFastRoom bytes buffered, room for
  // two records at out): writes its one or two records, sets *count and
  // returns the start of the next line; or returns nullptr when the line is
  // anything else (upper-case digits, more than 16 hex digits, a size with a
  // leading zero or over 4096, blanks, '\r', an error...), for parse_line().
  static const char* parse_fast(const char* q, TraceRecord* out, size_t* count) {
    AccessKind kind = AccessKind::kRead;
    bool modify = false;
    if (q[0] == 'I') {
      if (q[1] != ' ' || q[2] != ' ') return nullptr;
      kind = AccessKind::kFetch;
    } else {
      if (q[0] != ' ' || q[2] != ' ') return nullptr;
      switch (q[1]) {
        case 'L': break;
        case 'S': kind = AccessKind::kWrite; break;
        case 'M': modify = true; break;
        default: return nullptr;
      }
    }
    // Lackey prints at least 8 lower-case hex digits: those 8 at once
    // (hex8()), then any more, up to 16 in all.
    const char* p = q + 3;
    uint64_t addr = 0;
    if (!hex8(p, &addr)) return nullptr;
    p += 8;
    for (int i = 8;; ++i, ++p) {
      const int d = parse_detail::hex_value(*p);
      if (d < 0) break;
      if (i == 16) return nullptr;  // 17 digits: parse_line() says whether it overflows
      addr = (addr << 4) | static_cast<uint64_t>(d);
    }
    if (*p != ',') return nullptr;
    ++p;  // the size: 1 to 5 digits, no leading zero
    uint32_t size = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (size > 9 || (size == 0 && p[1] != '\n')) return nullptr;
    ++p;
    for (int i = 0; i < 4; ++i, ++p) {
      const uint32_t d = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (d > 9) break;
      size = size * 10 + d;
    }
    if (*p != '\n' || size > kMaxAccessSize) return nullptr;
    TraceRecord r;
    r.addr = addr;
    r.size = size;
    r.kind = kind;
    out[0] = r;
    *count = 1;
    if (modify) {
      r.kind = AccessKind::kWrite;
      out[1] = r;
      *count = 2;
    }
    return p + 1;
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
