// Intel Pin pinatrace importer: "IP: R ADDR" -> R, "IP: W ADDR" -> W (the
// instruction address is checked, not emitted: pinatrace has no instruction
// stream), "#eof" ends the trace; blank lines are skipped. traces/README.md.
#include "traces/line_reader.h"

namespace mmusim {
namespace {

namespace lf = line_format;

bool is_nil(const char* p, const char* e) { return e - p >= 5 && std::memcmp(p, "(nil)", 5) == 0; }

class PinTraceReader final : public lf::LineTraceReader<PinTraceReader> {
 public:
  static constexpr const char* kFormat = "pin";
  using LineTraceReader::LineTraceReader;

  // Parses one line [b, e); true when it holds a record.
  bool parse_line(const char* b, const char* e, TraceRecord& r) {
    if (e != b && e[-1] == '\r') --e;
    const char* p = lf::skip_blanks(b, e);
    if (p == e) return false;
    const char* te = lf::token_end(p, e);
    if (ended_) fail(b, p, te, "unexpected text after #eof");
    if (te - p == 4 && std::memcmp(p, "#eof", 4) == 0) {
      const char* rest = lf::skip_blanks(te, e);
      if (rest != e) fail(b, rest, lf::token_end(rest, e), "unexpected text after #eof");
      ended_ = true;
      return false;
    }
    // Instruction address, then ':'.
    const char* ip0 = p;
    if (is_nil(p, e)) {
      p += 5;
    } else {
      const ParsedInt ip = scan_u64(p, e, IntSyntax::kHex);
      if (ip.error == ParseError::kOverflow) {
        fail(b, ip0, te, "instruction address does not fit in 64 bits");
      }
      if (!ip.ok()) fail(b, ip0, te, "expected a hexadecimal instruction address or #eof");
      p = ip.end;
    }
    if (p == e || *p != ':')
      fail(b, p, lf::got_end(p, e), "expected ':' after the instruction address");
    p = lf::skip_blanks(p + 1, e);
    // Kind.
    te = lf::token_end(p, e);
    AccessKind kind;
    if (te - p == 1 && *p == 'R') {
      kind = AccessKind::kRead;
    } else if (te - p == 1 && *p == 'W') {
      kind = AccessKind::kWrite;
    } else {
      fail(b, p, te, "expected R or W");
    }
    p = lf::skip_blanks(te, e);
    // Data address.
    const char* a0 = p;
    te = lf::token_end(p, e);
    uint64_t addr = 0;
    if (is_nil(p, e) && te - p == 5) {
      p = te;
    } else {
      const ParsedInt a = scan_u64(p, e, IntSyntax::kHex);
      if (a.error == ParseError::kOverflow) fail(b, a0, te, "address does not fit in 64 bits");
      if (!a.ok() || a.end != te) fail(b, a0, te, "expected a hexadecimal address");
      addr = a.value;
      p = a.end;
    }
    // Optional size (an extension of pinatrace's output).
    p = lf::skip_blanks(p, e);
    uint64_t size = 0;
    if (p != e) {
      const char* s0 = p;
      te = lf::token_end(p, e);
      const ParsedInt n = scan_u64(p, te, IntSyntax::kDecimal);
      if (n.end != te || (!n.ok() && n.error != ParseError::kOverflow)) {
        fail(b, s0, te, "expected a decimal size");
      }
      if (!n.ok() || n.value > kMaxAccessSize) fail(b, s0, te, "size must be 0..4096");
      size = n.value;
      p = te;
      p = lf::skip_blanks(p, e);
      if (p != e) fail(b, p, lf::token_end(p, e), "unexpected text after record");
    }
    r = TraceRecord{};
    r.addr = addr;
    r.size = static_cast<uint32_t>(size);
    r.kind = kind;
    return true;
  }

 private:
  bool ended_ = false;  // "#eof" seen: only blank lines may follow
};

}  // namespace

std::unique_ptr<TraceReader> make_pin_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<PinTraceReader>(std::move(in));
}

}  // namespace mmusim
