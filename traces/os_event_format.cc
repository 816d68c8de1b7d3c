// The field tables of the OS events and the text and binary codecs built on
// them (os_event_format.h; grammar: traces/README.md, "OS events").
#include "traces/os_event_format.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "models/common/parse.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

// ---------------------------------------------------------------------------
// Value syntaxes and symbol tables

enum class FieldType : uint8_t {
  kUnsigned,  // u32/u64: decimal or 0x hex
  kSigned,    // i32/i64: an optional '-', then decimal or 0x hex
  kBool,      // 0 or 1
  kString,    // a token without blanks, or "quoted" with \" \\ \xNN
  kProt,      // rwx, r--, ... or a number
  kMapFlags,  // NAME|NAME|0x10 ... or a number
  kMsFlags,
  kMremapFlags,
  kOpenFlags,
  kCloneFlags,
  kMadvise,  // a name or a signed number
  kFadvise,
  kWhence,
  kProcKind,  // names only
  kVmaKind,
  kRwOp,
  kCtxReason,
};
enum class Show : uint8_t { kDec, kHex };

struct Field {
  std::string_view key;
  FieldType type;
  bool required;
  Show show = Show::kDec;
  std::string_view default_from = {};  // an optional key that defaults to this other key's value
};

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
// The tables: one visit per kind, in the order of the binary payload.
// f(Field, pointer to member) for each field.

using FT = FieldType;
template <class T, class F>
void for_each_field(F&& f) {
  if constexpr (std::is_same_v<T, FileEvent>) {
    f(Field{"file_id", FT::kUnsigned, true}, &FileEvent::file_id);
    f(Field{"path", FT::kString, false}, &FileEvent::path);
    f(Field{"size", FT::kUnsigned, true}, &FileEvent::size);
    f(Field{"dev", FT::kUnsigned, false}, &FileEvent::dev);
  } else if constexpr (std::is_same_v<T, StartEvent>) {
    f(Field{"name", FT::kString, false}, &StartEvent::name);
  } else if constexpr (std::is_same_v<T, ProcCreateEvent>) {
    f(Field{"kind", FT::kProcKind, false}, &ProcCreateEvent::kind);
    f(Field{"clone_flags", FT::kCloneFlags, false}, &ProcCreateEvent::clone_flags);
    f(Field{"child_pid", FT::kUnsigned, true}, &ProcCreateEvent::child_pid);
    f(Field{"child_tid", FT::kUnsigned, false, Show::kDec, "child_pid"},
      &ProcCreateEvent::child_tid);
  } else if constexpr (std::is_same_v<T, ThreadCreateEvent>) {
    f(Field{"clone_flags", FT::kCloneFlags, false}, &ThreadCreateEvent::clone_flags);
    f(Field{"child_tid", FT::kUnsigned, true}, &ThreadCreateEvent::child_tid);
    f(Field{"stack", FT::kUnsigned, false, Show::kHex}, &ThreadCreateEvent::stack);
  } else if constexpr (std::is_same_v<T, ExecEvent>) {
    f(Field{"file_id", FT::kUnsigned, false}, &ExecEvent::file_id);
    f(Field{"interp_file_id", FT::kUnsigned, false}, &ExecEvent::interp_file_id);
    f(Field{"argv0", FT::kString, false}, &ExecEvent::argv0);
  } else if constexpr (std::is_same_v<T, VmaInitEvent>) {
    f(Field{"start", FT::kUnsigned, true, Show::kHex}, &VmaInitEvent::start);
    f(Field{"end", FT::kUnsigned, true, Show::kHex}, &VmaInitEvent::end);
    f(Field{"prot", FT::kProt, true}, &VmaInitEvent::prot);
    f(Field{"shared", FT::kBool, false}, &VmaInitEvent::shared);
    f(Field{"kind", FT::kVmaKind, true}, &VmaInitEvent::kind);
    f(Field{"file_id", FT::kUnsigned, false}, &VmaInitEvent::file_id);
    f(Field{"offset", FT::kUnsigned, false, Show::kHex}, &VmaInitEvent::offset);
    f(Field{"grows_down", FT::kBool, false}, &VmaInitEvent::grows_down);
    f(Field{"max_size", FT::kUnsigned, false, Show::kHex}, &VmaInitEvent::max_size);
  } else if constexpr (std::is_same_v<T, ExitEvent>) {
    f(Field{"code", FT::kSigned, false}, &ExitEvent::code);
    f(Field{"group", FT::kBool, false}, &ExitEvent::group);
  } else if constexpr (std::is_same_v<T, WaitEvent>) {
    f(Field{"child_pid", FT::kSigned, false}, &WaitEvent::child_pid);
    f(Field{"ret", FT::kSigned, true}, &WaitEvent::ret);
  } else if constexpr (std::is_same_v<T, MmapEvent>) {
    f(Field{"addr", FT::kUnsigned, false, Show::kHex}, &MmapEvent::addr);
    f(Field{"len", FT::kUnsigned, true}, &MmapEvent::len);
    f(Field{"prot", FT::kProt, true}, &MmapEvent::prot);
    f(Field{"flags", FT::kMapFlags, true}, &MmapEvent::flags);
    f(Field{"fd", FT::kSigned, false}, &MmapEvent::fd);
    f(Field{"file_id", FT::kUnsigned, false}, &MmapEvent::file_id);
    f(Field{"offset", FT::kUnsigned, false, Show::kHex}, &MmapEvent::offset);
    f(Field{"ret", FT::kSigned, true, Show::kHex}, &MmapEvent::ret);
  } else if constexpr (std::is_same_v<T, MunmapEvent>) {
    f(Field{"addr", FT::kUnsigned, true, Show::kHex}, &MunmapEvent::addr);
    f(Field{"len", FT::kUnsigned, true}, &MunmapEvent::len);
    f(Field{"ret", FT::kSigned, false}, &MunmapEvent::ret);
  } else if constexpr (std::is_same_v<T, MprotectEvent>) {
    f(Field{"addr", FT::kUnsigned, true, Show::kHex}, &MprotectEvent::addr);
    f(Field{"len", FT::kUnsigned, true}, &MprotectEvent::len);
    f(Field{"prot", FT::kProt, true}, &MprotectEvent::prot);
    f(Field{"ret", FT::kSigned, false}, &MprotectEvent::ret);
  } else if constexpr (std::is_same_v<T, MremapEvent>) {
    f(Field{"old_addr", FT::kUnsigned, true, Show::kHex}, &MremapEvent::old_addr);
    f(Field{"old_len", FT::kUnsigned, true}, &MremapEvent::old_len);
    f(Field{"new_len", FT::kUnsigned, true}, &MremapEvent::new_len);
    f(Field{"flags", FT::kMremapFlags, false}, &MremapEvent::flags);
    f(Field{"new_addr", FT::kUnsigned, false, Show::kHex}, &MremapEvent::new_addr);
    f(Field{"ret", FT::kSigned, true, Show::kHex}, &MremapEvent::ret);
  } else if constexpr (std::is_same_v<T, BrkEvent>) {
    f(Field{"req", FT::kUnsigned, true, Show::kHex}, &BrkEvent::req);
    f(Field{"ret", FT::kSigned, true, Show::kHex}, &BrkEvent::ret);
  } else if constexpr (std::is_same_v<T, MsyncEvent>) {
    f(Field{"addr", FT::kUnsigned, true, Show::kHex}, &MsyncEvent::addr);
    f(Field{"len", FT::kUnsigned, true}, &MsyncEvent::len);
    f(Field{"flags", FT::kMsFlags, true}, &MsyncEvent::flags);
    f(Field{"ret", FT::kSigned, false}, &MsyncEvent::ret);
  } else if constexpr (std::is_same_v<T, MadviseEvent>) {
    f(Field{"addr", FT::kUnsigned, true, Show::kHex}, &MadviseEvent::addr);
    f(Field{"len", FT::kUnsigned, true}, &MadviseEvent::len);
    f(Field{"advice", FT::kMadvise, true}, &MadviseEvent::advice);
    f(Field{"ret", FT::kSigned, false}, &MadviseEvent::ret);
  } else if constexpr (std::is_same_v<T, OpenEvent>) {
    f(Field{"file_id", FT::kUnsigned, true}, &OpenEvent::file_id);
    f(Field{"flags", FT::kOpenFlags, false}, &OpenEvent::flags);
    f(Field{"ret", FT::kSigned, true}, &OpenEvent::ret);
  } else if constexpr (std::is_same_v<T, CloseEvent>) {
    f(Field{"fd", FT::kSigned, true}, &CloseEvent::fd);
    f(Field{"ret", FT::kSigned, false}, &CloseEvent::ret);
  } else if constexpr (std::is_same_v<T, RwEvent>) {
    f(Field{"op", FT::kRwOp, true}, &RwEvent::op);
    f(Field{"fd", FT::kSigned, true}, &RwEvent::fd);
    f(Field{"offset", FT::kUnsigned, false}, &RwEvent::offset);
    f(Field{"len", FT::kUnsigned, true}, &RwEvent::len);
    f(Field{"buf", FT::kUnsigned, false, Show::kHex}, &RwEvent::buf);
    f(Field{"ret", FT::kSigned, true}, &RwEvent::ret);
  } else if constexpr (std::is_same_v<T, LseekEvent>) {
    f(Field{"fd", FT::kSigned, true}, &LseekEvent::fd);
    f(Field{"offset", FT::kSigned, true}, &LseekEvent::offset);
    f(Field{"whence", FT::kWhence, true}, &LseekEvent::whence);
    f(Field{"ret", FT::kSigned, true}, &LseekEvent::ret);
  } else if constexpr (std::is_same_v<T, FadviseEvent>) {
    f(Field{"fd", FT::kSigned, true}, &FadviseEvent::fd);
    f(Field{"offset", FT::kUnsigned, false}, &FadviseEvent::offset);
    f(Field{"len", FT::kUnsigned, false}, &FadviseEvent::len);
    f(Field{"advice", FT::kFadvise, true}, &FadviseEvent::advice);
  } else if constexpr (std::is_same_v<T, FsyncEvent>) {
    f(Field{"fd", FT::kSigned, true}, &FsyncEvent::fd);
    f(Field{"datasync", FT::kBool, false}, &FsyncEvent::datasync);
    f(Field{"ret", FT::kSigned, false}, &FsyncEvent::ret);
  } else {
    static_assert(std::is_same_v<T, CtxSwitchEvent>, "every OsEventBody alternative has a table");
    f(Field{"cpu", FT::kUnsigned, true}, &CtxSwitchEvent::cpu);
    f(Field{"to_pid", FT::kUnsigned, true}, &CtxSwitchEvent::to_pid);
    f(Field{"to_tid", FT::kUnsigned, false, Show::kDec, "to_pid"}, &CtxSwitchEvent::to_tid);
    f(Field{"reason", FT::kCtxReason, false}, &CtxSwitchEvent::reason);
  }
}

// Calls f.template operator()<T>() for the alternative `kind` (< variant size).
template <class F, size_t I = 0>
void with_kind(size_t kind, F&& f) {
  if constexpr (I < std::variant_size_v<OsEventBody>) {
    if (kind == I) {
      f(static_cast<std::variant_alternative_t<I, OsEventBody>*>(nullptr));
    } else {
      with_kind<F, I + 1>(kind, std::forward<F>(f));
    }
  }
}

// The value of unsigned field `key` of e (for default_from).
template <class T>
uint64_t unsigned_field(const T& e, std::string_view key) {
  uint64_t v = 0;
  for_each_field<T>([&](const Field& fd, auto mp) {
    using M = std::remove_reference_t<decltype(e.*mp)>;
    if constexpr (std::is_integral_v<M> && std::is_unsigned_v<M> && !std::is_same_v<M, bool>) {
      if (fd.key == key) v = e.*mp;
    }
  });
  return v;
}

// ---------------------------------------------------------------------------
// Text: values

inline bool ends_value(const char* p, const char* e) { return p == e || is_blank(*p); }

const char* value_end(const char* p, const char* e) {
  while (p != e && !is_blank(*p) && *p != '#') ++p;
  return p;
}

std::string quoted_key(std::string_view k) { return "'" + std::string(k) + "'"; }

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
const char* parse_value(const Field& f, const char* p, const char* e, M& m, EventTextError& err) {
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
void put_value(std::string& out, const Field& f, const M& m) {
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

// ---------------------------------------------------------------------------
// Binary

template <class V>
void put_le(std::string& out, V v) {
  char b[sizeof(V)];
  std::memcpy(b, &v, sizeof(V));
  out.append(b, sizeof(V));
}

}  // namespace

int os_event_kind(std::string_view word) {
  for (size_t i = 0; i < std::variant_size_v<OsEventBody>; ++i) {
    if (os_event_name(i) == word) return static_cast<int>(i);
  }
  return -1;
}

bool parse_os_event_text(size_t kind, const char* p, const char* e, OsEvent& ev,
                         EventTextError& err) {
  bool ok = true;
  with_kind(kind, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T body{};
    uint32_t present = 0;  // bit i: field i; bit 30: pid; bit 31: tid
    bool has_pid = false, has_tid = false;
    const std::string_view kind_name = os_event_name(kind);
    for (;;) {
      while (p != e && is_blank(*p)) ++p;
      if (p == e || *p == '#') break;
      const char* key_end = p;
      while (key_end != e && *key_end != '=' && !is_blank(*key_end) && *key_end != '#') ++key_end;
      if (key_end == e || *key_end != '=' || key_end == p) {
        err = {p, value_end(p, e), "expected key=value"};
        ok = false;
        return;
      }
      const std::string_view key(p, static_cast<size_t>(key_end - p));
      const char* v = key_end + 1;
      if (key == "pid" || key == "tid") {
        bool& seen = key == "pid" ? has_pid : has_tid;
        uint32_t& dst = key == "pid" ? ev.pid : ev.tid;
        if (seen) {
          err = {p, key_end, "duplicate key " + quoted_key(key)};
          ok = false;
          return;
        }
        seen = true;
        const Field f{key, FieldType::kUnsigned, true};
        p = parse_value(f, v, e, dst, err);
        if (p == nullptr) {
          ok = false;
          return;
        }
        continue;
      }
      int index = -1, i = 0;
      const char* next = nullptr;
      for_each_field<T>([&](const Field& f, auto mp) {
        if (index < 0 && f.key == key) {
          index = i;
          if ((present & (1U << i)) != 0) {
            err = {p, key_end, "duplicate key " + quoted_key(key)};
            return;
          }
          next = parse_value(f, v, e, body.*mp, err);
        }
        ++i;
      });
      if (index < 0) {
        std::string keys = "pid, tid";
        for_each_field<T>([&](const Field& f, auto) { keys += ", " + std::string(f.key); });
        err = {p, key_end,
               "unknown key " + quoted_key(key) + " for " + std::string(kind_name) + " (expected " +
                   keys + ")"};
        ok = false;
        return;
      }
      if (next == nullptr) {
        ok = false;
        return;
      }
      present |= 1U << index;
      p = next;
    }
    // Missing keys and dependent defaults.
    std::string missing;
    if (!has_pid) missing = "pid";
    int i = 0;
    for_each_field<T>([&](const Field& f, auto mp) {
      const bool here = (present & (1U << i)) != 0;
      ++i;
      if (here) return;
      if (f.required && missing.empty()) missing = f.key;
      if constexpr (std::is_same_v<std::remove_reference_t<decltype(body.*mp)>, uint32_t>) {
        if (!f.default_from.empty())
          body.*mp = static_cast<uint32_t>(unsigned_field(body, f.default_from));
      }
    });
    if (!missing.empty()) {
      err = {e, e, std::string(kind_name) + " needs key " + quoted_key(missing)};
      ok = false;
      return;
    }
    if (!has_tid) ev.tid = ev.pid;
    ev.body = std::move(body);
  });
  if (!ok) return false;
  std::string why = check_os_event(ev);
  if (!why.empty()) {
    err = {e, e, why};
    return false;
  }
  return true;
}

void format_os_event(const OsEvent& ev, std::string& out) {
  out += os_event_name(ev);
  out += " pid=";
  put_dec(out, ev.pid);
  if (ev.tid != ev.pid) {
    out += " tid=";
    put_dec(out, ev.tid);
  }
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        const T def{};
        for_each_field<T>([&](const Field& f, auto mp) {
          const auto& m = body.*mp;
          if (!f.required) {
            if constexpr (std::is_same_v<std::decay_t<decltype(m)>, uint32_t>) {
              if (!f.default_from.empty()) {
                if (m == unsigned_field(body, f.default_from)) return;
              } else if (m == def.*mp) {
                return;
              }
            } else {
              if (m == def.*mp) return;
            }
          }
          out += ' ';
          out += f.key;
          out += '=';
          put_value(out, f, m);
        });
      },
      ev.body);
  out += '\n';
}

void encode_os_event(const OsEvent& ev, std::string& out) {
  put_le<uint16_t>(out, static_cast<uint16_t>(ev.body.index()));
  put_le<uint16_t>(out, 0);
  put_le<uint32_t>(out, ev.pid);
  put_le<uint32_t>(out, ev.tid);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        for_each_field<T>([&](const Field&, auto mp) {
          const auto& m = body.*mp;
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, std::string>) {
            const size_t n = std::min<size_t>(m.size(), 0xFFFF);
            put_le<uint16_t>(out, static_cast<uint16_t>(n));
            out.append(m.data(), n);
          } else if constexpr (std::is_enum_v<M> || std::is_same_v<M, bool>) {
            out += static_cast<char>(m);
          } else {
            put_le<M>(out, m);
          }
        });
      },
      ev.body);
}

std::string decode_os_event(const char* p, size_t n, OsEvent& ev) {
  if (n < kEventPayloadHead) {
    return "event payload of " + std::to_string(n) + " bytes, expected at least " +
           std::to_string(kEventPayloadHead);
  }
  uint16_t kind = 0;
  std::memcpy(&kind, p, 2);
  std::memcpy(&ev.pid, p + 4, 4);
  std::memcpy(&ev.tid, p + 8, 4);
  if (kind >= std::variant_size_v<OsEventBody>) {
    return "unknown event kind " + std::to_string(kind);
  }
  size_t at = kEventPayloadHead;
  std::string why;
  with_kind(kind, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T body{};
    for_each_field<T>([&](const Field& f, auto mp) {
      if (!why.empty()) return;
      auto& m = body.*mp;
      using M = std::decay_t<decltype(m)>;
      auto short_of = [&](size_t need) {
        if (n - at >= need) return false;
        why = "event payload ends inside field " + quoted_key(f.key) + " of " +
              std::string(os_event_name(kind));
        return true;
      };
      if constexpr (std::is_same_v<M, std::string>) {
        if (short_of(2)) return;
        uint16_t len = 0;
        std::memcpy(&len, p + at, 2);
        at += 2;
        if (short_of(len)) return;
        m.assign(p + at, len);
        at += len;
      } else if constexpr (std::is_enum_v<M> || std::is_same_v<M, bool>) {
        if (short_of(1)) return;
        const auto v = static_cast<uint8_t>(p[at++]);
        const size_t limit = std::is_same_v<M, bool> ? 2 : enum_names(f.type).n;
        if (v >= limit) {
          why = "invalid value " + std::to_string(v) + " for " + quoted_key(f.key) + " of " +
                std::string(os_event_name(kind));
          return;
        }
        m = static_cast<M>(v);
      } else {
        if (short_of(sizeof(M))) return;
        std::memcpy(&m, p + at, sizeof(M));
        at += sizeof(M);
      }
    });
    ev.body = std::move(body);
  });
  if (!why.empty()) return why;
  if (at != n) {
    return "event payload has " + std::to_string(n - at) + " bytes after the fields of " +
           std::string(os_event_name(kind));
  }
  return check_os_event(ev);
}

std::string check_os_event(const OsEvent& ev) {
  if (ev.pid == 0) return "pid must be > 0";
  if (ev.tid == 0) return "tid must be > 0";
  constexpr uint64_t kPage = 4096;
  std::string too_long;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        for_each_field<T>([&](const Field& f, auto mp) {
          if constexpr (std::is_same_v<std::decay_t<decltype(b.*mp)>, std::string>) {
            if ((b.*mp).size() > 0xFFFF && too_long.empty()) {
              too_long = std::string(os_event_name(ev)) + " " + quoted_key(f.key) +
                         " is longer than 65535 bytes";
            }
          }
        });
      },
      ev.body);
  if (!too_long.empty()) return too_long;
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, FileEvent>) {
          if (b.file_id == 0) return "FILE file_id must be > 0";
        } else if constexpr (std::is_same_v<T, ProcCreateEvent>) {
          if (b.child_pid == 0 || b.child_tid == 0)
            return "PROC_CREATE child_pid and child_tid must be > 0";
        } else if constexpr (std::is_same_v<T, ThreadCreateEvent>) {
          if (b.child_tid == 0) return "THREAD_CREATE child_tid must be > 0";
        } else if constexpr (std::is_same_v<T, VmaInitEvent>) {
          if (b.start >= b.end) return "VMA_INIT start must be below end";
          if (b.start % kPage != 0 || b.end % kPage != 0 || b.offset % kPage != 0) {
            return "VMA_INIT start, end and offset must be multiples of 4096";
          }
          if (b.kind == VmaInitEvent::Kind::kFile && b.file_id == 0) {
            return "VMA_INIT of kind file needs file_id > 0";
          }
        } else if constexpr (std::is_same_v<T, CtxSwitchEvent>) {
          if (b.to_pid == 0 || b.to_tid == 0) return "CTXSW to_pid and to_tid must be > 0";
        }
        return {};
      },
      ev.body);
}

std::string OsEventChecker::check(const OsEvent& ev) {
  std::string why = check_os_event(ev);
  if (!why.empty()) return why;
  if (const auto* f = std::get_if<FileEvent>(&ev.body)) {
    if (!files_.insert(f->file_id).second) {
      return "FILE file_id " + std::to_string(f->file_id) + " is described twice";
    }
    return {};
  }
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        for_each_field<T>([&](const Field& f, auto mp) {
          if (!why.empty() || (f.key != "file_id" && f.key != "interp_file_id")) return;
          if constexpr (std::is_same_v<std::decay_t<decltype(b.*mp)>, uint32_t>) {
            const uint32_t id = b.*mp;
            if (id != 0 && files_.count(id) == 0) {
              why = std::string(f.key) + " " + std::to_string(id) + " has no FILE record before it";
            }
          }
        });
      },
      ev.body);
  return why;
}

std::string format_map_flags(uint32_t flags) {
  std::string s;
  put_flags(s, kMapSet, flags);
  return s;
}
std::string format_open_flags(uint32_t flags) {
  std::string s;
  put_flags(s, kOpenSet, flags);
  return s;
}
std::string format_prot(uint32_t prot) { return prot_text(prot); }

}  // namespace mmusim
