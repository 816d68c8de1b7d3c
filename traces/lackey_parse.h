// Valgrind lackey access lines, shared by the memory-only reader
// (lackey_format.cc) and the importer with system calls (lackey_import.cc):
//   "I  ADDR,SIZE" -> X, " L ADDR,SIZE" -> R, " S ADDR,SIZE" -> W,
//   " M ADDR,SIZE" -> R then W (two records).
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/common/parse.h"
#include "models/common/types.h"
#include "traces/formats.h"

namespace mmusim::lackey {

// True when [b, e) (without '\r') starts like an access line.
inline bool is_access_line(const char* b, const char* e) {
  const size_t len = static_cast<size_t>(e - b);
  if (len < 3) return false;
  if (b[0] == 'I' && b[1] == ' ' && b[2] == ' ') return true;
  return b[0] == ' ' && b[2] == ' ' && (b[1] == 'L' || b[1] == 'S' || b[1] == 'M');
}

// Parses the access line [b, e) (no '\r'; is_access_line or a bad one):
// writes one record, or two for M, to out and returns how many. Errors call
// fail(at, what), which must not return.
template <class Fail>
size_t parse_access(const char* b, const char* e, TraceRecord* out, Fail&& fail) {
  const size_t len = static_cast<size_t>(e - b);
  AccessKind kind = AccessKind::kRead;
  bool modify = false;
  if (len >= 3 && b[0] == ' ' && b[2] == ' ') {
    switch (b[1]) {
      case 'L': kind = AccessKind::kRead; break;
      case 'S': kind = AccessKind::kWrite; break;
      case 'M': modify = true; break;
      default: fail(b, "expected a lackey record (I, L, S or M) or a ==PID== line");
    }
  } else if (len >= 3 && b[0] == 'I' && b[1] == ' ' && b[2] == ' ') {
    kind = AccessKind::kFetch;
  } else {
    fail(b, "expected a lackey record (I, L, S or M) or a ==PID== line");
  }
  const char* p = b + 3;
  const char* a0 = p;
  const ParsedInt a = scan_u64(p, e, IntSyntax::kBareHex);  // lackey prints no 0x
  if (a.error == ParseError::kOverflow) {
    while (*a0 == '0') ++a0;  // the message points at the first significant digit
    fail(a0, "address does not fit in 64 bits");
  }
  if (!a.ok()) fail(a0, "expected a hexadecimal address");
  p = a.end;
  if (p == e || *p != ',') fail(p, "expected ',' after the address");
  ++p;
  const char* s0 = p;
  const ParsedInt sz = scan_u64(p, e, IntSyntax::kDecimal);
  if (!sz.ok() && sz.error != ParseError::kOverflow) fail(s0, "expected a decimal size");
  if (!sz.ok() || sz.value > kMaxAccessSize) fail(s0, "size must be 0..4096");
  p = sz.end;
  while (p != e && is_blank(*p)) ++p;
  if (p != e) fail(p, "unexpected text after record");
  TraceRecord r;
  r.addr = a.value;
  r.size = static_cast<uint32_t>(sz.value);
  r.kind = kind;
  out[0] = r;
  if (!modify) return 1;
  r.kind = AccessKind::kWrite;
  out[1] = r;
  return 2;
}

}  // namespace mmusim::lackey
