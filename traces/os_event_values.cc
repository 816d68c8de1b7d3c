// The text syntax of OS-event field values: numbers, rwx protections,
// symbolic flag sets (MAP_, MS_, MREMAP_, O_, CLONE_), named advice and whence
// values, enum names, quoted strings (os_event_fields.h).
#include <algorithm>
#include <cstdio>
#include <limits>

#include "models/common/parse.h"
#include "traces/formats.h"
#include "traces/os_event_fields.h"

namespace mmusim {
namespace event_fields {
namespace {

struct Sym {
  std::string_view name;
  uint64_t value;
};

// A flag set: an optional "mode" field (values under mode_mask, named in
// `modes`), then bit groups (multi-bit ones first), then parse-only aliases.
struct FlagSet {
  std::string_view prefix;
  uint64_t mode_mask;
  const Sym* modes;
  size_t n_modes;
  const Sym* bits;
  size_t n_bits;
  const Sym* aliases;
  size_t n_aliases;
};

constexpr Sym kMapModes[] = {{"MAP_SHARED", 1}, {"MAP_PRIVATE", 2}, {"MAP_SHARED_VALIDATE", 3}};
constexpr Sym kMapBits[] = {{"MAP_FIXED", 0x10},
                            {"MAP_ANONYMOUS", 0x20},
                            {"MAP_32BIT", 0x40},
                            {"MAP_GROWSDOWN", 0x100},
                            {"MAP_DENYWRITE", 0x800},
                            {"MAP_EXECUTABLE", 0x1000},
                            {"MAP_LOCKED", 0x2000},
                            {"MAP_NORESERVE", 0x4000},
                            {"MAP_POPULATE", 0x8000},
                            {"MAP_NONBLOCK", 0x10000},
                            {"MAP_STACK", 0x20000},
                            {"MAP_HUGETLB", 0x40000},
                            {"MAP_SYNC", 0x80000},
                            {"MAP_FIXED_NOREPLACE", 0x100000},
                            {"MAP_UNINITIALIZED", 0x4000000}};
constexpr Sym kMapAliases[] = {{"MAP_ANON", 0x20}};
constexpr Sym kMsBits[] = {{"MS_ASYNC", 1}, {"MS_INVALIDATE", 2}, {"MS_SYNC", 4}};
constexpr Sym kMremapBits[] = {{"MREMAP_MAYMOVE", 1}, {"MREMAP_FIXED", 2}, {"MREMAP_DONTUNMAP", 4}};
constexpr Sym kOpenModes[] = {{"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}};
constexpr Sym kOpenBits[] = {
    {"O_SYNC", 0x101000},     {"O_TMPFILE", 0x410000}, {"O_CREAT", 0x40},
    {"O_EXCL", 0x80},         {"O_NOCTTY", 0x100},     {"O_TRUNC", 0x200},
    {"O_APPEND", 0x400},      {"O_NONBLOCK", 0x800},   {"O_DSYNC", 0x1000},
    {"O_ASYNC", 0x2000},      {"O_DIRECT", 0x4000},    {"O_LARGEFILE", 0x8000},
    {"O_DIRECTORY", 0x10000}, {"O_NOFOLLOW", 0x20000}, {"O_NOATIME", 0x40000},
    {"O_CLOEXEC", 0x80000},   {"O_PATH", 0x200000}};
constexpr Sym kOpenAliases[] = {{"O_NDELAY", 0x800}};
constexpr Sym kCloneBits[] = {{"CLONE_VM", 0x100},
                              {"CLONE_FS", 0x200},
                              {"CLONE_FILES", 0x400},
                              {"CLONE_SIGHAND", 0x800},
                              {"CLONE_PIDFD", 0x1000},
                              {"CLONE_PTRACE", 0x2000},
                              {"CLONE_VFORK", 0x4000},
                              {"CLONE_PARENT", 0x8000},
                              {"CLONE_THREAD", 0x10000},
                              {"CLONE_NEWNS", 0x20000},
                              {"CLONE_SYSVSEM", 0x40000},
                              {"CLONE_SETTLS", 0x80000},
                              {"CLONE_PARENT_SETTID", 0x100000},
                              {"CLONE_CHILD_CLEARTID", 0x200000},
                              {"CLONE_DETACHED", 0x400000},
                              {"CLONE_UNTRACED", 0x800000},
                              {"CLONE_CHILD_SETTID", 0x1000000},
                              {"CLONE_NEWCGROUP", 0x2000000},
                              {"CLONE_NEWUTS", 0x4000000},
                              {"CLONE_NEWIPC", 0x8000000},
                              {"CLONE_NEWUSER", 0x10000000},
                              {"CLONE_NEWPID", 0x20000000},
                              {"CLONE_NEWNET", 0x40000000},
                              {"CLONE_IO", 0x80000000}};

template <size_t N>
constexpr size_t count(const Sym (&)[N]) {
  return N;
}
constexpr FlagSet kMapSet{"MAP_",   linux_abi::kMapTypeMask, kMapModes,   count(kMapModes),
                          kMapBits, count(kMapBits),         kMapAliases, count(kMapAliases)};
constexpr FlagSet kMsSet{"MS_", 0, nullptr, 0, kMsBits, count(kMsBits), nullptr, 0};
constexpr FlagSet kMremapSet{"MREMAP_", 0, nullptr, 0, kMremapBits, count(kMremapBits), nullptr, 0};
constexpr FlagSet kOpenSet{"O_",      linux_abi::kOAccMode, kOpenModes,   count(kOpenModes),
                           kOpenBits, count(kOpenBits),     kOpenAliases, count(kOpenAliases)};
constexpr FlagSet kCloneSet{"CLONE_", 0, nullptr, 0, kCloneBits, count(kCloneBits), nullptr, 0};

constexpr Sym kMadvNames[] = {
    {"MADV_NORMAL", 0},           {"MADV_RANDOM", 1},         {"MADV_SEQUENTIAL", 2},
    {"MADV_WILLNEED", 3},         {"MADV_DONTNEED", 4},       {"MADV_FREE", 8},
    {"MADV_REMOVE", 9},           {"MADV_DONTFORK", 10},      {"MADV_DOFORK", 11},
    {"MADV_MERGEABLE", 12},       {"MADV_UNMERGEABLE", 13},   {"MADV_HUGEPAGE", 14},
    {"MADV_NOHUGEPAGE", 15},      {"MADV_DONTDUMP", 16},      {"MADV_DODUMP", 17},
    {"MADV_WIPEONFORK", 18},      {"MADV_KEEPONFORK", 19},    {"MADV_COLD", 20},
    {"MADV_PAGEOUT", 21},         {"MADV_POPULATE_READ", 22}, {"MADV_POPULATE_WRITE", 23},
    {"MADV_DONTNEED_LOCKED", 24}, {"MADV_COLLAPSE", 25}};
constexpr Sym kFadvNames[] = {{"POSIX_FADV_NORMAL", 0},     {"POSIX_FADV_RANDOM", 1},
                              {"POSIX_FADV_SEQUENTIAL", 2}, {"POSIX_FADV_WILLNEED", 3},
                              {"POSIX_FADV_DONTNEED", 4},   {"POSIX_FADV_NOREUSE", 5}};
constexpr Sym kWhenceNames[] = {
    {"SEEK_SET", 0}, {"SEEK_CUR", 1}, {"SEEK_END", 2}, {"SEEK_DATA", 3}, {"SEEK_HOLE", 4}};

constexpr std::string_view kProcKindNames[] = {"fork", "vfork", "clone"};
constexpr std::string_view kVmaKindNames[] = {"file", "anon", "brk", "stack", "vdso"};
constexpr std::string_view kRwOpNames[] = {"read", "write", "pread", "pwrite"};
constexpr std::string_view kCtxReasonNames[] = {"preempt", "block", "exit", "yield"};

struct EnumNames {
  const std::string_view* names;
  size_t n;
  const char* expected;
};
EnumNames enum_names(FieldType t) {
  switch (t) {
    case FieldType::kProcKind: return {kProcKindNames, 3, "fork, vfork or clone"};
    case FieldType::kVmaKind: return {kVmaKindNames, 5, "file, anon, brk, stack or vdso"};
    case FieldType::kRwOp: return {kRwOpNames, 4, "read, write, pread or pwrite"};
    default: return {kCtxReasonNames, 4, "preempt, block, exit or yield"};
  }
}
const FlagSet& flag_set(FieldType t) {
  switch (t) {
    case FieldType::kMapFlags: return kMapSet;
    case FieldType::kMsFlags: return kMsSet;
    case FieldType::kMremapFlags: return kMremapSet;
    case FieldType::kOpenFlags: return kOpenSet;
    default: return kCloneSet;
  }
}
struct NamedInts {
  const Sym* syms;
  size_t n;
  const char* what;
};
NamedInts named_ints(FieldType t) {
  switch (t) {
    case FieldType::kMadvise: return {kMadvNames, count(kMadvNames), "an MADV_ name"};
    case FieldType::kFadvise: return {kFadvNames, count(kFadvNames), "a POSIX_FADV_ name"};
    default: return {kWhenceNames, count(kWhenceNames), "SEEK_SET, SEEK_CUR, SEEK_END"};
  }
}

// ---------------------------------------------------------------------------
// Text: values

bool ends_value(const char* p, const char* e) { return p == e || is_blank(*p); }

}  // namespace

const char* value_end(const char* p, const char* e) {
  while (p != e && !is_blank(*p) && *p != '#') ++p;
  return p;
}

std::string quoted_key(std::string_view k) { return "'" + std::string(k) + "'"; }

namespace {

// A number of the signed or unsigned syntax in [b, e): false when malformed
// (`overflow` set when it is only too large).
bool scan_number(const char* b, const char* e, bool allow_sign, int64_t* sv, uint64_t* uv,
                 bool* negative, bool* overflow) {
  *overflow = false;
  *negative = false;
  const char* p = b;
  if (allow_sign && p != e && *p == '-') {
    *negative = true;
    ++p;
  }
  const ParsedInt n = scan_u64(p, e, IntSyntax::kDecimalOrHex);
  if (n.end != e || p == e) return false;
  if (!n.ok()) {
    if (n.error == ParseError::kOverflow) *overflow = true;
    return false;
  }
  *uv = n.value;
  if (*negative) {
    if (n.value > uint64_t{1} << 63) {
      *overflow = true;
      return false;
    }
    *sv = n.value == uint64_t{1} << 63 ? std::numeric_limits<int64_t>::min()
                                       : -static_cast<int64_t>(n.value);
  } else {
    *sv = static_cast<int64_t>(n.value);
  }
  return true;
}

// Assigns a parsed number to member m when it fits; false otherwise.
template <class M>
bool assign_number(M& m, bool negative, int64_t sv, uint64_t uv) {
  if constexpr (std::is_signed_v<M>) {
    if (!negative && uv > static_cast<uint64_t>(std::numeric_limits<M>::max())) return false;
    if (negative && sv < static_cast<int64_t>(std::numeric_limits<M>::min())) return false;
    m = static_cast<M>(sv);
  } else {
    if (negative || uv > std::numeric_limits<M>::max()) return false;
    m = static_cast<M>(uv);
  }
  return true;
}

template <class M>
std::string range_text() {
  if constexpr (std::is_same_v<M, uint32_t>) return "0..4294967295";
  if constexpr (std::is_same_v<M, uint64_t>) return "0..2^64-1";
  if constexpr (std::is_same_v<M, int32_t>) return "-2147483648..2147483647";
  return "-2^63..2^63-1";
}

bool lookup_sym(const Sym* syms, size_t n, const char* b, const char* e, uint64_t* v) {
  const std::string_view w(b, static_cast<size_t>(e - b));
  for (size_t i = 0; i < n; ++i) {
    if (syms[i].name == w) {
      *v = syms[i].value;
      return true;
    }
  }
  return false;
}

// "A|B|0x10" of flag set fs.
bool parse_flags(const FlagSet& fs, const char* b, const char* e, uint64_t* out,
                 EventTextError& err, const Field& f) {
  uint64_t v = 0;
  const char* p = b;
  for (;;) {
    const char* q = p;
    while (q != e && *q != '|') ++q;
    uint64_t part = 0;
    bool neg = false, ovf = false;
    int64_t sv = 0;
    if (q == p) {
      err = {p, q == e ? e : q + 1,
             "expected " + std::string(fs.prefix) + "* names or numbers joined by | for " +
                 quoted_key(f.key)};
      return false;
    }
    if (!lookup_sym(fs.modes, fs.n_modes, p, q, &part) &&
        !lookup_sym(fs.bits, fs.n_bits, p, q, &part) &&
        !lookup_sym(fs.aliases, fs.n_aliases, p, q, &part) &&
        !scan_number(p, q, false, &sv, &part, &neg, &ovf)) {
      err = {p, q,
             "unknown " + std::string(fs.prefix) + " flag for " + quoted_key(f.key) +
                 " (expected " + std::string(fs.prefix) + "* names or numbers joined by |)"};
      return false;
    }
    v |= part;
    if (q == e) break;
    p = q + 1;
  }
  *out = v;
  return true;
}

bool parse_prot(const char* b, const char* e, uint64_t* out) {
  if (e - b == 3 && (b[0] == 'r' || b[0] == '-') && (b[1] == 'w' || b[1] == '-') &&
      (b[2] == 'x' || b[2] == '-')) {
    *out = (b[0] == 'r' ? linux_abi::kProtRead : 0) | (b[1] == 'w' ? linux_abi::kProtWrite : 0) |
           (b[2] == 'x' ? linux_abi::kProtExec : 0);
    return true;
  }
  bool neg = false, ovf = false;
  int64_t sv = 0;
  return scan_number(b, e, false, &sv, out, &neg, &ovf);
}

// A quoted string at p ('"'); returns the end (after the closing quote) or
// nullptr with err.
const char* parse_quoted(const char* p, const char* e, std::string& out, EventTextError& err) {
  const char* start = p++;
  out.clear();
  while (p != e && *p != '"') {
    if (*p != '\\') {
      out += *p++;
      continue;
    }
    if (e - p >= 2 && (p[1] == '"' || p[1] == '\\')) {
      out += p[1];
      p += 2;
    } else if (e - p >= 4 && p[1] == 'x' && hex_digit(p[2]) >= 0 && hex_digit(p[3]) >= 0) {
      out += static_cast<char>(hex_digit(p[2]) * 16 + hex_digit(p[3]));
      p += 4;
    } else {
      err = {p, std::min(e, p + 2),
             "unknown escape in a quoted string (expected \\\", \\\\ or \\xNN)"};
      return nullptr;
    }
  }
  if (p == e) {
    err = {start, e, "unterminated quoted string"};
    return nullptr;
  }
  ++p;
  if (!ends_value(p, e) && *p != '#') {
    err = {p, value_end(p, e), "expected a blank after the quoted string"};
    return nullptr;
  }
  return p;
}

// Parses the value at p of field f into member m; returns its end or nullptr.
template <class M>
const char* parse_value_t(const Field& f, const char* p, const char* e, M& m, EventTextError& err) {
  if constexpr (std::is_same_v<M, std::string>) {
    if (p != e && *p == '"') return parse_quoted(p, e, m, err);
    const char* ve = value_end(p, e);
    m.assign(p, ve);
    return ve;
  } else {
    const char* ve = value_end(p, e);
    if (ve == p) {
      err = {p, ve, "expected a value for " + quoted_key(f.key)};
      return nullptr;
    }
    if constexpr (std::is_enum_v<M>) {
      const EnumNames en = enum_names(f.type);
      const std::string_view w(p, static_cast<size_t>(ve - p));
      for (size_t i = 0; i < en.n; ++i) {
        if (en.names[i] == w) {
          m = static_cast<M>(i);
          return ve;
        }
      }
      err = {p, ve, std::string("expected ") + en.expected + " for " + quoted_key(f.key)};
      return nullptr;
    } else if constexpr (std::is_same_v<M, bool>) {
      if (ve - p == 1 && (*p == '0' || *p == '1')) {
        m = *p == '1';
        return ve;
      }
      err = {p, ve, "expected 0 or 1 for " + quoted_key(f.key)};
      return nullptr;
    } else {
      uint64_t uv = 0;
      int64_t sv = 0;
      bool neg = false, ovf = false, ok = false;
      switch (f.type) {
        case FieldType::kProt:
          if (!parse_prot(p, ve, &uv)) {
            err = {p, ve,
                   "expected rwx-style protection (r, w, x or -) or a number for " +
                       quoted_key(f.key)};
            return nullptr;
          }
          ok = true;
          break;
        case FieldType::kMapFlags:
        case FieldType::kMsFlags:
        case FieldType::kMremapFlags:
        case FieldType::kOpenFlags:
        case FieldType::kCloneFlags:
          if (!parse_flags(flag_set(f.type), p, ve, &uv, err, f)) return nullptr;
          ok = true;
          break;
        case FieldType::kMadvise:
        case FieldType::kFadvise:
        case FieldType::kWhence: {
          const NamedInts ni = named_ints(f.type);
          if (lookup_sym(ni.syms, ni.n, p, ve, &uv)) {
            sv = static_cast<int64_t>(uv);
            ok = true;
          }
          break;
        }
        default: break;
      }
      if (!ok) {
        const bool sign = f.type != FieldType::kUnsigned;
        if (!scan_number(p, ve, sign, &sv, &uv, &neg, &ovf)) {
          if (ovf) {
            err = {p, ve, quoted_key(f.key) + " must be " + range_text<M>()};
          } else if (f.type == FieldType::kMadvise || f.type == FieldType::kFadvise ||
                     f.type == FieldType::kWhence) {
            err = {p, ve,
                   std::string("expected ") + named_ints(f.type).what + " or a number for " +
                       quoted_key(f.key)};
          } else {
            err = {p, ve,
                   std::string(sign ? "expected a signed number" : "expected a number") +
                       " (decimal or 0x hex) for " + quoted_key(f.key)};
          }
          return nullptr;
        }
      } else if (f.type != FieldType::kMadvise && f.type != FieldType::kFadvise &&
                 f.type != FieldType::kWhence) {
        sv = static_cast<int64_t>(uv);
      }
      if (!assign_number(m, neg, sv, uv)) {
        err = {p, ve, quoted_key(f.key) + " must be " + range_text<M>()};
        return nullptr;
      }
      return ve;
    }
  }
}

// ---------------------------------------------------------------------------
// Text: formatting

void put_hex(std::string& out, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  out += buf;
}
void put_dec(std::string& out, uint64_t v) { out += std::to_string(v); }
void put_signed(std::string& out, int64_t v, Show show) {
  if (v >= 0 && show == Show::kHex) {
    put_hex(out, static_cast<uint64_t>(v));
  } else {
    out += std::to_string(v);
  }
}

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '#') return true;
  }
  return false;
}
void put_string(std::string& out, const std::string& s) {
  if (!needs_quotes(s)) {
    out += s;
    return;
  }
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void put_flags(std::string& out, const FlagSet& fs, uint64_t v) {
  bool first = true;
  auto sep = [&] {
    if (!first) out += '|';
    first = false;
  };
  if (fs.mode_mask != 0) {
    const uint64_t mode = v & fs.mode_mask;
    for (size_t i = 0; i < fs.n_modes; ++i) {
      if (fs.modes[i].value == mode) {
        sep();
        out += fs.modes[i].name;
        v &= ~fs.mode_mask;
        break;
      }
    }
  }
  for (size_t i = 0; i < fs.n_bits; ++i) {
    if ((v & fs.bits[i].value) == fs.bits[i].value) {
      sep();
      out += fs.bits[i].name;
      v &= ~fs.bits[i].value;
    }
  }
  if (v != 0 || first) {
    sep();
    if (v == 0) {
      out += '0';
    } else {
      put_hex(out, v);
    }
  }
}

std::string prot_text(uint64_t v) {
  if (v > 7) {
    std::string s;
    put_hex(s, v);
    return s;
  }
  std::string s = "---";
  if (v & linux_abi::kProtRead) s[0] = 'r';
  if (v & linux_abi::kProtWrite) s[1] = 'w';
  if (v & linux_abi::kProtExec) s[2] = 'x';
  return s;
}

template <class M>
void put_value_t(std::string& out, const Field& f, const M& m) {
  if constexpr (std::is_same_v<M, std::string>) {
    put_string(out, m);
  } else if constexpr (std::is_enum_v<M>) {
    const EnumNames en = enum_names(f.type);
    const auto i = static_cast<size_t>(m);
    if (i < en.n) {
      out += en.names[i];
    } else {
      out += std::to_string(i);  // not reachable for checked events
    }
  } else if constexpr (std::is_same_v<M, bool>) {
    out += m ? '1' : '0';
  } else {
    switch (f.type) {
      case FieldType::kProt: out += prot_text(static_cast<uint64_t>(m)); return;
      case FieldType::kMapFlags:
      case FieldType::kMsFlags:
      case FieldType::kMremapFlags:
      case FieldType::kOpenFlags:
      case FieldType::kCloneFlags:
        put_flags(out, flag_set(f.type), static_cast<uint64_t>(m));
        return;
      case FieldType::kMadvise:
      case FieldType::kFadvise:
      case FieldType::kWhence: {
        const NamedInts ni = named_ints(f.type);
        for (size_t i = 0; i < ni.n; ++i) {
          if (static_cast<int64_t>(ni.syms[i].value) == static_cast<int64_t>(m)) {
            out += ni.syms[i].name;
            return;
          }
        }
        out += std::to_string(m);
        return;
      }
      default: break;
    }
    if constexpr (std::is_signed_v<M>) {
      put_signed(out, m, f.show);
    } else if (f.show == Show::kHex) {
      put_hex(out, m);
    } else {
      put_dec(out, m);
    }
  }
}

}  // namespace

size_t enum_count(FieldType t) { return enum_names(t).n; }

const char* parse_value(const Field& f, const char* p, const char* e, uint32_t& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_value(const Field& f, const char* p, const char* e, uint64_t& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_value(const Field& f, const char* p, const char* e, int32_t& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_value(const Field& f, const char* p, const char* e, int64_t& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_value(const Field& f, const char* p, const char* e, bool& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_value(const Field& f, const char* p, const char* e, std::string& m,
                        EventTextError& err) {
  return parse_value_t(f, p, e, m, err);
}
const char* parse_enum(const Field& f, const char* p, const char* e, uint8_t& index,
                       EventTextError& err) {
  const char* ve = value_end(p, e);
  const EnumNames en = enum_names(f.type);
  const std::string_view w(p, static_cast<size_t>(ve - p));
  for (size_t i = 0; i < en.n; ++i) {
    if (en.names[i] == w) {
      index = static_cast<uint8_t>(i);
      return ve;
    }
  }
  err = {p, ve, std::string("expected ") + en.expected + " for " + quoted_key(f.key)};
  return nullptr;
}

void put_value(std::string& out, const Field& f, uint32_t m) { put_value_t(out, f, m); }
void put_value(std::string& out, const Field& f, uint64_t m) { put_value_t(out, f, m); }
void put_value(std::string& out, const Field& f, int32_t m) { put_value_t(out, f, m); }
void put_value(std::string& out, const Field& f, int64_t m) { put_value_t(out, f, m); }
void put_value(std::string& out, const Field& /*f*/, bool m) { out += m ? '1' : '0'; }
void put_value(std::string& out, const Field& /*f*/, const std::string& m) { put_string(out, m); }
void put_enum(std::string& out, const Field& f, uint8_t index) {
  const EnumNames en = enum_names(f.type);
  out += index < en.n ? std::string(en.names[index]) : std::to_string(index);
}
void put_decimal(std::string& out, uint64_t v) { out += std::to_string(v); }

}  // namespace event_fields

std::string format_map_flags(uint32_t flags) {
  std::string s;
  event_fields::put_flags(s, event_fields::kMapSet, flags);
  return s;
}
std::string format_open_flags(uint32_t flags) {
  std::string s;
  event_fields::put_flags(s, event_fields::kOpenSet, flags);
  return s;
}
std::string format_prot(uint32_t prot) { return event_fields::prot_text(prot); }

}  // namespace mmusim
