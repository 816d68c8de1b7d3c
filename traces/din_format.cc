// Dinero "din" importer: "LABEL ADDRESS [SIZE] [comment]" per line; label 0
// read -> R, 1 write -> W, 2 instruction fetch -> X, 3 unknown access type ->
// R, 4 cache flush -> no record; blank lines are skipped. traces/README.md.
#include "traces/line_reader.h"

namespace mmusim {
namespace {

namespace lf = line_format;

class DinTraceReader final : public lf::LineTraceReader<DinTraceReader> {
 public:
  static constexpr const char* kFormat = "din";
  using LineTraceReader::LineTraceReader;

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
    const ParsedInt a = scan_u64(p, te, IntSyntax::kHex);
    if (a.error == ParseError::kOverflow) fail(b, a0, te, "address does not fit in 64 bits");
    if (!a.ok() || a.end != te) fail(b, a0, te, "expected a hexadecimal address");
    const uint64_t addr = a.value;
    p = te;
    // Optional decimal size; any other text after the address is a comment.
    p = lf::skip_blanks(p, e);
    uint64_t size = 0;
    if (p != e && static_cast<unsigned>(*p - '0') <= 9) {
      const char* s0 = p;
      te = lf::token_end(p, e);
      const ParsedInt n = scan_u64(p, te, IntSyntax::kDecimal);
      if (n.end != te) fail(b, s0, te, "expected a decimal size");
      if (!n.ok() || n.value > kMaxAccessSize) fail(b, s0, te, "size must be 0..4096");
      size = n.value;
    }
    if (label == 4) return false;  // cache flush: nothing to translate
    r = TraceRecord{};
    r.addr = addr;
    r.size = static_cast<uint32_t>(size);
    r.kind = label == 1 ? AccessKind::kWrite : label == 2 ? AccessKind::kFetch : AccessKind::kRead;
    return true;
  }
};

}  // namespace

std::unique_ptr<TraceReader> make_din_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<DinTraceReader>(std::move(in));
}

}  // namespace mmusim
