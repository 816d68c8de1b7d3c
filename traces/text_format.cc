// Native text format: "K [SR:]ADDR [SIZE [CPU]]" per line, segment records
// ("LOAD SR SEL", "GDT|LDT INDEX DESC"), OS events ("KIND key=value ...",
// os_event_format.h) with "@PID[.TID]" task prefixes, '#' comments.
#include <algorithm>
#include <cstring>
#include <vector>

#include "models/common/error.h"
#include "models/common/parse.h"
#include "traces/formats.h"
#include "traces/line_reader.h"
#include "traces/os_event_format.h"
#include "traces/task_slots.h"

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

class TextTraceReader final : public line_format::LineTraceReader<TextTraceReader> {
 public:
  static constexpr const char* kFormat = "text";
  using LineTraceReader::LineTraceReader;

  [[nodiscard]] bool has_tasks() const override { return mode_ == Mode::kTasks; }
  void take_events(std::vector<OsEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }
  [[nodiscard]] const std::vector<TaskKey>& tasks() const override { return slots_.tasks(); }

 private:
  friend class line_format::LineTraceReader<TextTraceReader>;  // calls parse_line, begin_batch

  // Known at the first record: a trace has tasks iff it begins with an event.
  enum class Mode : uint8_t { kUnknown, kPlain, kTasks };

  void begin_batch() { events_.clear(); }

  [[noreturn]] void fail(const char* line, const char* at, const std::string& what) const {
    throw input_error(path(), "line " + std::to_string(current_line()),
                      what + " at column " + std::to_string(at - line + 1));
  }
  [[noreturn]] void fail_got(const char* line, const char* at, const std::string& what,
                             const char* got_end) const {
    throw input_error(
        path(), "line " + std::to_string(current_line()),
        what + " at column " + std::to_string(at - line + 1) + ", got " + quote_token(at, got_end));
  }
  // Decimal field (size or cpu): the token at p, at most `limit`; p moves past it.
  uint64_t decimal(const char* line, const char*& p, const char* e, const char* what_expected,
                   const char* range, uint64_t limit) const {
    const char* tok = p;
    const char* te = token_end(p, e);
    const ParsedInt n = scan_u64(p, te, IntSyntax::kDecimal);
    if (n.end != te || (!n.ok() && n.error != ParseError::kOverflow)) {
      fail_got(line, tok, what_expected, te);
    }
    if (!n.ok() || n.value > limit) fail_got(line, tok, range, te);
    p = te;
    return n.value;
  }

  // Hexadecimal field ("0x" optional): the token at p; p moves past it.
  uint64_t hex(const char* line, const char*& p, const char* e, const char* what_expected,
               const char* too_big) const {
    const char* tok = p;
    const char* te = token_end(p, e);
    const ParsedInt n = scan_u64(p, te, IntSyntax::kHex);
    if (n.end != te || (!n.ok() && n.error != ParseError::kOverflow)) {
      fail_got(line, tok, what_expected, te);
    }
    if (!n.ok()) fail(line, tok, too_big);
    p = te;
    return n.value;
  }
  // A segment register name (ES, CS, SS, DS, FS, GS) in [p, p + 2); -1 if not one.
  static int seg_reg(const char* p, const char* te) {
    if (te - p != 2) return -1;
    for (int i = 0; i < 6; ++i) {
      if (trace_flags::kRegNames[i][0] == p[0] && trace_flags::kRegNames[i][1] == p[1]) return i;
    }
    return -1;
  }
  // Optional trailing CPU (not in a task trace), then the end of the record.
  void finish(const char* line, const char* p, const char* e, TraceRecord& r) const {
    p = skip_blanks(p, e);
    if (p != e && *p != '#' && mode_ == Mode::kTasks) {
      fail_got(line, p,
               "unexpected cpu column in a task trace (records belong to tasks: name one with "
               "@PID[.TID])",
               token_end(p, e));
    }
    if (p != e && *p != '#') {
      r.cpu = static_cast<uint16_t>(
          decimal(line, p, e, "expected a decimal cpu number", "cpu must be 0..255", kMaxTextCpu));
      if (r.cpu >= cpu_limit()) {
        throw input_error(path(), "line " + std::to_string(current_line()),
                          cpu_limit_message(r.cpu));
      }
      p = skip_blanks(p, e);
      if (p != e && *p != '#') fail_got(line, p, "unexpected text after record", token_end(p, e));
    }
  }
  // "LOAD SREG SELECTOR [CPU]" after the keyword.
  void parse_load(const char* b, const char* p, const char* e, TraceRecord& r) const {
    p = skip_blanks(p, e);
    const char* te = token_end(p, e);
    int reg = seg_reg(p, te);
    if (reg < 0) fail_got(b, p, "expected a segment register (ES, CS, SS, DS, FS or GS)", te);
    p = skip_blanks(te, e);
    const char* tok = p;
    uint64_t sel = hex(b, p, e, "expected a hexadecimal selector", "selector must be 0..0xFFFF");
    if (sel > 0xFFFF) fail_got(b, tok, "selector must be 0..0xFFFF", p);
    r.addr = sel;
    r.flags = static_cast<uint8_t>(trace_flags::reg_bits(static_cast<unsigned>(reg)) |
                                   trace_flags::kOpLoad);
    finish(b, p, e, r);
  }
  // "GDT|LDT INDEX DESCRIPTOR [CPU]" after the keyword.
  void parse_descriptor(const char* b, const char* p, const char* e, TraceRecord& r,
                        uint8_t op) const {
    p = skip_blanks(p, e);
    if (ends_token(p, e)) fail_got(b, p, "expected a decimal descriptor index", p);
    r.size = static_cast<uint32_t>(decimal(b, p, e, "expected a decimal descriptor index",
                                           "descriptor index must be 0..8191",
                                           trace_flags::kMaxDescriptorIndex));
    p = skip_blanks(p, e);
    r.addr = hex(b, p, e, "expected a hexadecimal 8-byte descriptor",
                 "descriptor does not fit in 64 bits");
    r.flags = op;
    finish(b, p, e, r);
  }

  // "INVLPG ADDR [CPU]", "INVPCID PCID [CPU]", "FLUSH [GLOBAL] [CPU]" after the keyword.
  void parse_invalidation(const char* b, const char* p, const char* e, TraceRecord& r,
                          uint8_t op) const {
    p = skip_blanks(p, e);
    if (op == trace_flags::kOpInvlpg) {
      r.addr = hex(b, p, e, "expected a hexadecimal address", "address does not fit in 64 bits");
      if (r.addr > address_limit()) {
        throw input_error(path(), "line " + std::to_string(current_line()),
                          address_limit_message(r.addr));
      }
    } else if (op == trace_flags::kOpInvpcid) {
      if (ends_token(p, e)) fail_got(b, p, "expected a decimal PCID", p);
      r.addr = decimal(b, p, e, "expected a decimal PCID", "PCID must be 0..4095", 4095);
    } else {
      const char* te = token_end(p, e);
      if (te - p == 6 && std::memcmp(p, "GLOBAL", 6) == 0) {
        r.addr = 1;
        p = te;
      }
    }
    r.flags = op;
    finish(b, p, e, r);
  }

  // "@PID[.TID]" at p (token [p, te)): the task of the records that follow.
  void parse_task_prefix(const char* b, const char* p, const char* te) {
    if (mode_ != Mode::kTasks) {
      fail_got(b, p,
               "a task prefix @PID[.TID] in a trace without OS events (a task trace begins with "
               "an OS event)",
               te);
    }
    const char* q = p + 1;
    ParsedInt pid = scan_u64(q, te, IntSyntax::kDecimal);
    ParsedInt tid = pid;
    bool ok = pid.ok() && pid.value > 0 && pid.value <= UINT32_MAX;
    if (ok && pid.end != te) {
      ok = *pid.end == '.';
      if (ok) {
        tid = scan_u64(pid.end + 1, te, IntSyntax::kDecimal);
        ok = tid.ok() && tid.end == te && tid.value > 0 && tid.value <= UINT32_MAX;
      }
    }
    if (!ok) fail_got(b, p, "expected @PID or @PID.TID (decimal, > 0)", te);
    task_pid_ = static_cast<uint32_t>(pid.value);
    task_tid_ = static_cast<uint32_t>(tid.value);
    task_slot_ = -1;
  }
  // The slot of the current task, assigned on its first record.
  uint16_t current_slot(const char* b) {
    if (task_slot_ < 0) {
      task_slot_ = slots_.find_or_add(task_pid_, task_tid_);
      if (task_slot_ == TaskSlots::kFull) fail(b, b, "more than 65536 tasks in one trace");
    }
    return static_cast<uint16_t>(task_slot_);
  }
  // "KIND key=value ..." of event kind `kind`; p is the keyword, te its end.
  void parse_event(const char* b, const char* p, const char* te, const char* e, size_t kind,
                   TraceRecord& r) {
    if (mode_ == Mode::kPlain) {
      fail_got(b, p,
               "an OS event in a trace that did not start with one (a task trace begins with an "
               "OS event; traces/README.md, OS events)",
               te);
    }
    mode_ = Mode::kTasks;
    OsEvent ev;
    EventTextError err;
    if (!parse_os_event_text(kind, te, e, ev, err)) {
      fail_got(b, err.at, err.what, err.got_end);
    }
    const std::string why = checker_.check(ev);
    if (!why.empty()) fail_got(b, p, why, te);
    task_pid_ = ev.pid;
    task_tid_ = ev.tid;
    task_slot_ = -1;
    r.cpu = current_slot(b);
    r.addr = events_.size();
    r.flags = trace_flags::kOpEvent;
    events_.push_back(std::move(ev));
  }

  // Parses one line [b, e) (without '\n'); true when it holds a record.
  // The common line of a plain trace, "R|W|X 0xADDR SIZE[ CPU]" with single
  // blanks, lower- or upper-case hex digits (1 to 16), decimal numbers
  // without leading zeros and nothing after them: parsed in one pass. False
  // for every other line (and for any value out of range), which the
  // general parser then reads, with its messages.
  [[gnu::always_inline]] bool parse_plain(const char* b, const char* e, TraceRecord& r) const {
    if (e - b < 7 || b[1] != ' ' || b[2] != '0' || (b[3] != 'x' && b[3] != 'X')) return false;
    AccessKind kind;
    switch (b[0]) {
      case 'R': kind = AccessKind::kRead; break;
      case 'W': kind = AccessKind::kWrite; break;
      case 'X': kind = AccessKind::kFetch; break;
      default: return false;
    }
    const char* p = b + 4;
    const char* const digits = p;
    uint64_t addr = 0;
    for (int d; p != e && (d = parse_detail::hex_value(*p)) >= 0; ++p) {
      addr = (addr << 4) | static_cast<uint64_t>(d);
    }
    if (p == digits || p - digits > 16 || p == e || *p != ' ' || addr > address_limit()) {
      return false;
    }
    ++p;
    // SIZE, then optionally " CPU": decimal, no leading zero (but "0").
    uint32_t field[2] = {0, 0};
    int fields = 0;
    while (fields < 2) {
      const char* const f = p;
      uint32_t v = 0;
      for (unsigned d;
           p != e && (d = static_cast<unsigned char>(*p) - unsigned{'0'}) <= 9 && p - f < 5; ++p) {
        v = v * 10 + d;
      }
      if (p == f || (*f == '0' && p - f > 1)) return false;
      field[fields++] = v;
      if (p == e) break;
      if (*p != ' ') return false;
      ++p;
    }
    if (p != e || field[0] > kMaxAccessSize) return false;
    if (fields == 2 && (field[1] > kMaxTextCpu || field[1] >= cpu_limit())) return false;
    r.addr = addr;
    r.size = field[0];
    r.cpu = static_cast<uint16_t>(field[1]);
    r.flags = 0;
    r.kind = kind;
    return true;
  }

  // Small, so that the fast path is inlined into the line loop.
  bool parse_line(const char* b, const char* e, TraceRecord& r) {
    if (mode_ == Mode::kPlain && parse_plain(b, e, r)) return true;
    return parse_general(b, e, r);
  }

  [[gnu::noinline]] bool parse_general(const char* b, const char* e, TraceRecord& r) {
    const char* p = skip_blanks(b, e);
    if (p == e || *p == '#') return false;
    const char* te = token_end(p, e);
    r.addr = 0;  // FLUSH without GLOBAL sets no address
    r.size = 0;
    r.cpu = 0;
    r.flags = 0;
    r.kind = AccessKind::kRead;
    const bool prefixed = *p == '@';
    if (prefixed) {
      parse_task_prefix(b, p, te);
      p = skip_blanks(te, e);
      if (p == e || *p == '#') return false;  // a bare "@PID": the records that follow
      te = token_end(p, e);
    }
    const char k = *p;
    if (te - p != 1 || (k != 'R' && k != 'W' && k != 'X')) {
      const size_t len = static_cast<size_t>(te - p);
      const int event = os_event_kind(std::string_view(p, len));
      if (event >= 0) {
        if (prefixed) {
          fail_got(b, p,
                   "an OS event after a task prefix (events name their task with pid= and tid=)",
                   te);
        }
        parse_event(b, p, te, e, static_cast<size_t>(event), r);
        return true;
      }
      if (mode_ == Mode::kUnknown) mode_ = Mode::kPlain;
      if (mode_ == Mode::kTasks) r.cpu = current_slot(b);
      if (len == 4 && std::memcmp(p, "LOAD", 4) == 0) {
        parse_load(b, te, e, r);
        return true;
      }
      if (len == 3 && (std::memcmp(p, "GDT", 3) == 0 || std::memcmp(p, "LDT", 3) == 0)) {
        parse_descriptor(b, te, e, r, p[0] == 'G' ? trace_flags::kOpGdt : trace_flags::kOpLdt);
        return true;
      }
      if (len == 6 && std::memcmp(p, "INVLPG", 6) == 0) {
        parse_invalidation(b, te, e, r, trace_flags::kOpInvlpg);
        return true;
      }
      if (len == 7 && std::memcmp(p, "INVPCID", 7) == 0) {
        parse_invalidation(b, te, e, r, trace_flags::kOpInvpcid);
        return true;
      }
      if (len == 5 && std::memcmp(p, "FLUSH", 5) == 0) {
        parse_invalidation(b, te, e, r, trace_flags::kOpFlush);
        return true;
      }
      // A word (3+ letters) was probably meant as a segment keyword, or, in
      // a task trace, an upper-case one as an event.
      bool word = len >= 3, upper = true;
      for (const char* q = p; q != te && word; ++q) {
        word = ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') || *q == '_';
        upper = upper && ((*q >= 'A' && *q <= 'Z') || *q == '_');
      }
      fail_got(b, p,
               word && upper && mode_ == Mode::kTasks
                   ? "expected R, W, X, LOAD, GDT, LDT, INVLPG, INVPCID, FLUSH or an OS event "
                     "(FILE, START, PROC_CREATE, THREAD_CREATE, EXEC, VMA_INIT, EXIT, WAIT, MMAP, "
                     "MUNMAP, MPROTECT, MREMAP, BRK, MSYNC, MADVISE, OPEN, CLOSE, RW, LSEEK, "
                     "FADVISE, FSYNC, CTXSW)"
               : word ? "expected R, W, X, LOAD, GDT, LDT, INVLPG, INVPCID or FLUSH"
                      : "expected R, W or X",
               te);
    }
    if (mode_ == Mode::kUnknown) mode_ = Mode::kPlain;
    if (mode_ == Mode::kTasks) r.cpu = current_slot(b);
    r.kind = k == 'R' ? AccessKind::kRead : k == 'W' ? AccessKind::kWrite : AccessKind::kFetch;
    p = skip_blanks(te, e);
    // Optional segment register: "DS:0x40".
    if (e - p >= 3 && p[2] == ':') {
      int reg = seg_reg(p, p + 2);
      if (reg < 0) {
        fail_got(b, p, "expected a segment register (ES, CS, SS, DS, FS or GS) before ':'", p + 2);
      }
      r.flags = trace_flags::reg_bits(static_cast<unsigned>(reg));
      p += 3;
    }
    r.addr = hex(b, p, e, "expected a hexadecimal address", "address does not fit in 64 bits");
    if (r.addr > address_limit()) {
      throw input_error(path(), "line " + std::to_string(current_line()),
                        address_limit_message(r.addr));
    }
    p = skip_blanks(p, e);
    if (p != e && *p != '#') {
      r.size = static_cast<uint32_t>(
          decimal(b, p, e, "expected a decimal size", "size must be 0..4096", kMaxAccessSize));
      finish(b, p, e, r);
    }
    return true;
  }

  Mode mode_ = Mode::kUnknown;
  TaskSlots slots_;
  uint32_t task_pid_ = 0, task_tid_ = 0;  // the current task (task traces)
  int task_slot_ = -1;                    // its slot, -1 until its first record
  std::vector<OsEvent> events_;           // of the current batch
  OsEventChecker checker_;
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
  // An EVENT record carries no event of its own: the text writer cannot
  // spell it (the event writer of the OS-events format does).
  const bool bad =
      trace_record_problem(r) != nullptr || trace_flags::op_of(r.flags) == trace_flags::kOpEvent;
  if (r.flags != 0 && bad && static_cast<uint8_t>(r.kind) < kNumAccessKinds) {
    return "flags " + std::to_string(r.flags) + " cannot be written as text";
  }
  if (r.cpu > kMaxTextCpu) return "cpu " + std::to_string(r.cpu) + " exceeds the text limit 255";
  if (trace_flags::op_of(r.flags) == trace_flags::kOpAccess && r.size > kMaxAccessSize) {
    return "size " + std::to_string(r.size) + " exceeds 4096";
  }
  if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) return "invalid access kind";
  return {};
}

namespace {

char* put_hex(char* p, uint64_t v, int min_digits) {
  static const char kHex[] = "0123456789abcdef";
  *p++ = '0';
  *p++ = 'x';
  int digits = min_digits;
  while (digits < 16 && (v >> (4 * digits)) != 0) ++digits;
  for (int i = digits - 1; i >= 0; --i) *p++ = kHex[(v >> (4 * i)) & 15];
  return p;
}

char* put_dec(char* p, uint32_t v) {
  char tmp[12];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  *p++ = ' ';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

char* put_str(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

size_t format_text_record(const TraceRecord& r, char* buf) {
  char* p = buf;
  // A malformed flags byte prints as a plain access (mmusim-trace head adds
  // the raw flags as a comment); the writer refuses it (check_text_record).
  const bool ok = r.flags == 0 || trace_record_problem(r) == nullptr;
  const uint8_t op = ok ? trace_flags::op_of(r.flags) : trace_flags::kOpAccess;
  const int reg = ok ? trace_flags::reg_of(r.flags) : -1;
  if (op == trace_flags::kOpLoad) {  // LOAD DS 0x002b [CPU]
    p = put_str(p, "LOAD ");
    p = put_str(p, trace_flags::kRegNames[reg < 0 ? 0 : reg]);
    *p++ = ' ';
    p = put_hex(p, r.addr, 4);
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  } else if (op == trace_flags::kOpGdt || op == trace_flags::kOpLdt) {  // GDT 5 0x00cf... [CPU]
    p = put_str(p, op == trace_flags::kOpGdt ? "GDT" : "LDT");
    p = put_dec(p, r.size);
    *p++ = ' ';
    p = put_hex(p, r.addr, 16);
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  } else if (op == trace_flags::kOpInvlpg) {  // INVLPG 0x7f00 [CPU]
    p = put_str(p, "INVLPG ");
    p = put_hex(p, r.addr, 1);
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  } else if (op == trace_flags::kOpInvpcid) {  // INVPCID 3 [CPU]
    p = put_str(p, "INVPCID");
    p = put_dec(p, static_cast<uint32_t>(r.addr));
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  } else if (op == trace_flags::kOpFlush) {  // FLUSH [GLOBAL] [CPU]
    p = put_str(p, r.addr ? "FLUSH GLOBAL" : "FLUSH");
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  } else {  // K [SR:]0xADDR [SIZE [CPU]]
    *p++ = access_kind_letter(r.kind);
    *p++ = ' ';
    if (reg >= 0) {
      p = put_str(p, trace_flags::kRegNames[reg]);
      *p++ = ':';
    }
    p = put_hex(p, r.addr, 1);
    if (r.size != 0 || r.cpu != 0) p = put_dec(p, r.size);
    if (r.cpu != 0) p = put_dec(p, r.cpu);
  }
  *p++ = '\n';
  return static_cast<size_t>(p - buf);
}

std::unique_ptr<TraceReader> make_text_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<TextTraceReader>(std::move(in));
}

}  // namespace mmusim
