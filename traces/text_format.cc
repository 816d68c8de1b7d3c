// Native text format: "K ADDR [SIZE [CPU]]" per line, '#' comments.
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

inline bool ends_token(const char* p, const char* e) { return p == e || is_blank(*p) || *p == '#'; }
inline const char* skip_blanks(const char* p, const char* e) {
  while (p != e && is_blank(*p)) ++p;
  return p;
}
inline const char* token_end(const char* p, const char* e) {
  while (!ends_token(p, e)) ++p;
  return p;
}

class TextTraceReader final : public TraceReader {
 public:
  explicit TextTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {}

  size_t read(TraceRecord* out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      const char* const start = in_->data();
      const char* const end = start + in_->size();
      const char* q = start;
      while (n < max) {
        const char* nl = static_cast<const char*>(std::memchr(q, '\n', end - q));
        if (nl == nullptr) break;
        ++line_;
        if (parse_line(q, nl, out[n])) {
          ++n;
          record_line_ = line_;
        }
        q = nl + 1;
      }
      in_->consume(q - start);
      if (n == max) break;
      if (in_->source_ended()) {  // a last line without '\n'
        if (in_->size() > 0) {
          ++line_;
          const char* b = in_->data();
          if (parse_line(b, b + in_->size(), out[n])) {
            ++n;
            record_line_ = line_;
          }
          in_->consume(in_->size());
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
    return {"text", compression_name(in_->source().compression()), "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  [[noreturn]] void fail(const char* line, const char* at, const std::string& what) const {
    throw input_error(path_, "line " + std::to_string(line_),
                      what + " at column " + std::to_string(at - line + 1));
  }
  [[noreturn]] void fail_got(const char* line, const char* at, const std::string& what,
                             const char* got_end) const {
    throw input_error(
        path_, "line " + std::to_string(line_),
        what + " at column " + std::to_string(at - line + 1) + ", got " + quote_token(at, got_end));
  }
  // Decimal field (size or cpu) at p; returns its value, saturated above `limit`.
  uint64_t decimal(const char* line, const char*& p, const char* e, const char* what_expected,
                   const char* range, uint64_t limit) const {
    const char* tok = p;
    const char* te = token_end(p, e);
    uint64_t v = 0;
    for (; p != te; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - '0';
      if (d > 9) fail_got(line, tok, what_expected, te);
      v = std::min<uint64_t>(v * 10 + d, limit + 1);
    }
    if (v > limit) fail_got(line, tok, range, te);
    return v;
  }

  // Parses one line [b, e) (without '\n'); true when it holds a record.
  bool parse_line(const char* b, const char* e, TraceRecord& r) const {
    const char* p = skip_blanks(b, e);
    if (p == e || *p == '#') return false;
    const char* te = token_end(p, e);
    char k = *p;
    if (te - p != 1 || (k != 'R' && k != 'W' && k != 'X')) {
      fail_got(b, p, "expected R, W or X", te);
    }
    r.kind = k == 'R' ? AccessKind::kRead : k == 'W' ? AccessKind::kWrite : AccessKind::kFetch;
    p = skip_blanks(te, e);
    const char* tok = p;
    if (e - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    te = token_end(p, e);
    if (p == te) fail_got(b, tok, "expected a hexadecimal address", te);
    uint64_t a = 0;
    bool overflow = false;
    for (; p != te; ++p) {
      int d = hex_digit(*p);
      if (d < 0) fail_got(b, tok, "expected a hexadecimal address", te);
      overflow |= (a >> 60) != 0;
      a = (a << 4) | static_cast<uint64_t>(d);
    }
    if (overflow) fail(b, tok, "address does not fit in 64 bits");
    r.addr = a;
    r.size = 0;
    r.cpu = 0;
    r.flags = 0;
    p = skip_blanks(p, e);
    if (p != e && *p != '#') {
      r.size = static_cast<uint32_t>(
          decimal(b, p, e, "expected a decimal size", "size must be 0..4096", kMaxAccessSize));
      p = skip_blanks(p, e);
      if (p != e && *p != '#') {
        r.cpu = static_cast<uint16_t>(
            decimal(b, p, e, "expected a decimal cpu number", "cpu must be 0..255", kMaxTextCpu));
        p = skip_blanks(p, e);
        if (p != e && *p != '#') fail_got(b, p, "unexpected text after record", token_end(p, e));
      }
    }
    return true;
  }

  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  uint64_t line_ = 0;         // lines consumed so far
  uint64_t record_line_ = 0;  // line of the last record returned
};

}  // namespace

std::string quote_token(const char* b, const char* e) {
  if (b == e) return "end of line";
  std::string s = "'";
  size_t n = 0;
  for (const char* p = b; p != e; ++p, ++n) {
    if (n == 32) {
      s += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      s += "\\x";
      s += kHex[c >> 4];
      s += kHex[c & 15];
    }
  }
  return s + "'";
}

std::string check_text_record(const TraceRecord& r) {
  if (r.flags != 0) return "flags " + std::to_string(r.flags) + " cannot be written as text";
  if (r.cpu > kMaxTextCpu) return "cpu " + std::to_string(r.cpu) + " exceeds the text limit 255";
  if (r.size > kMaxAccessSize) return "size " + std::to_string(r.size) + " exceeds 4096";
  if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) return "invalid access kind";
  return {};
}

size_t format_text_record(const TraceRecord& r, char* buf) {
  static const char kHex[] = "0123456789abcdef";
  char* p = buf;
  *p++ = access_kind_letter(r.kind);
  *p++ = ' ';
  *p++ = '0';
  *p++ = 'x';
  int digits = 1;
  while (digits < 16 && (r.addr >> (4 * digits)) != 0) ++digits;
  for (int i = digits - 1; i >= 0; --i) *p++ = kHex[(r.addr >> (4 * i)) & 15];
  auto put_dec = [&](uint32_t v) {
    char tmp[12];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    *p++ = ' ';
    while (n > 0) *p++ = tmp[--n];
  };
  if (r.size != 0 || r.cpu != 0) put_dec(r.size);
  if (r.cpu != 0) put_dec(r.cpu);
  *p++ = '\n';
  return static_cast<size_t>(p - buf);
}

std::unique_ptr<TraceReader> make_text_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<TextTraceReader>(std::move(in));
}

}  // namespace mmusim
