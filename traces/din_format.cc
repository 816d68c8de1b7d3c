// Dinero "din" importer: "LABEL ADDRESS [SIZE] [comment]" per line; label 0
// read -> R, 1 write -> W, 2 instruction fetch -> X, 3 unknown access type ->
// R, 4 cache flush -> no record; blank lines are skipped. traces/README.md.
#include "traces/line_reader.h"

namespace mmusim {
namespace {

namespace lf = line_format;

class DinTraceReader final : public TraceReader {
 public:
  explicit DinTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {}

  size_t read(TraceRecord* out, size_t max) override {
    return lf::read_lines(*in_, path_, line_, out, max,
                          [this](const char* b, const char* e, TraceRecord& r) {
                            if (!parse_line(b, e, r)) return false;
                            record_line_ = line_;
                            return true;
                          });
  }
  [[nodiscard]] std::string position() const override {
    return "line " + std::to_string(record_line_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"din", compression_name(in_->source().compression()), "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  [[noreturn]] void fail(const char* b, const char* at, const char* got_end,
                         const std::string& what) const {
    lf::fail(path_, line_, b, at, got_end, what);
  }

  // Parses one line [b, e); true when it holds a record.
  bool parse_line(const char* b, const char* e, TraceRecord& r) const {
    if (e != b && e[-1] == '\r') --e;
    const char* p = lf::skip_blanks(b, e);
    if (p == e) return false;
    // Label: one digit 0..4, then a blank.
    const char* te = lf::token_end(p, e);
    if (te - p != 1 || *p < '0' || *p > '4') fail(b, p, te, "expected a label 0..4");
    const int label = *p - '0';
    p = lf::skip_blanks(te, e);
    // Address: hexadecimal ("0x" tolerated), ending at a blank or the line end.
    const char* a0 = p;
    te = lf::token_end(p, e);
    uint64_t addr = 0;
    lf::Scan s = lf::scan_hex(p, te, addr);
    if (s == lf::Scan::kNoDigits || (s == lf::Scan::kOk && p != te)) {
      fail(b, a0, te, "expected a hexadecimal address");
    }
    if (s == lf::Scan::kTooLarge) fail(b, a0, te, "address does not fit in 64 bits");
    // Optional decimal size; any other text after the address is a comment.
    p = lf::skip_blanks(p, e);
    uint64_t size = 0;
    if (p != e && static_cast<unsigned>(*p - '0') <= 9) {
      const char* s0 = p;
      te = lf::token_end(p, e);
      s = lf::scan_decimal(p, te, kMaxAccessSize, size);
      if (p != te) fail(b, s0, te, "expected a decimal size");
      if (s == lf::Scan::kTooLarge) fail(b, s0, te, "size must be 0..4096");
    }
    if (label == 4) return false;  // cache flush: nothing to translate
    r = TraceRecord{};
    r.addr = addr;
    r.size = static_cast<uint32_t>(size);
    r.kind = label == 1 ? AccessKind::kWrite : label == 2 ? AccessKind::kFetch : AccessKind::kRead;
    return true;
  }

  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  uint64_t line_ = 0;
  uint64_t record_line_ = 0;
};

}  // namespace

std::unique_ptr<TraceReader> make_din_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<DinTraceReader>(std::move(in));
}

}  // namespace mmusim
