// Internal to traces/: the field table of every OS event kind (the order
// of the binary payload; keys = the struct fields' names) and the text
// syntax of each field's value. os_event_format.cc builds the text and binary
// codecs on it, os_event_values.cc holds the value syntaxes and symbol tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "models/common/os_event.h"
#include "traces/os_event_format.h"

namespace mmusim::event_fields {

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
  // A field added after version 1 of the event: the last of its kind, left out of the binary
  // payload at its default, so that payloads written before it still read (as the default).
  bool may_end = false;
};

// The tables: one visit per kind, in the order of the binary payload:
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
    f(Field{"oom_score_adj", FT::kSigned, false, Show::kDec, {}, true}, &StartEvent::oom_score_adj);
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

// ---- values (os_event_values.cc) ----

// The end of an unquoted value at p (a blank or '#').
const char* value_end(const char* p, const char* e);
// "'key'" for messages.
std::string quoted_key(std::string_view k);
// How many names the enum field type has.
size_t enum_count(FieldType t);

// Parses the value at p of field f into the member; returns the value's end,
// or nullptr with `err`.
const char* parse_value(const Field& f, const char* p, const char* e, uint32_t& m,
                        EventTextError& err);
const char* parse_value(const Field& f, const char* p, const char* e, uint64_t& m,
                        EventTextError& err);
const char* parse_value(const Field& f, const char* p, const char* e, int32_t& m,
                        EventTextError& err);
const char* parse_value(const Field& f, const char* p, const char* e, int64_t& m,
                        EventTextError& err);
const char* parse_value(const Field& f, const char* p, const char* e, bool& m, EventTextError& err);
const char* parse_value(const Field& f, const char* p, const char* e, std::string& m,
                        EventTextError& err);
const char* parse_enum(const Field& f, const char* p, const char* e, uint8_t& index,
                       EventTextError& err);
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
const char* parse_value(const Field& f, const char* p, const char* e, E& m, EventTextError& err) {
  uint8_t v = 0;
  const char* r = parse_enum(f, p, e, v, err);
  if (r != nullptr) m = static_cast<E>(v);
  return r;
}

// Appends the member's value as the text form writes it.
void put_value(std::string& out, const Field& f, uint32_t m);
void put_value(std::string& out, const Field& f, uint64_t m);
void put_value(std::string& out, const Field& f, int32_t m);
void put_value(std::string& out, const Field& f, int64_t m);
void put_value(std::string& out, const Field& f, bool m);
void put_value(std::string& out, const Field& f, const std::string& m);
void put_enum(std::string& out, const Field& f, uint8_t index);
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
void put_value(std::string& out, const Field& f, E m) {
  put_enum(out, f, static_cast<uint8_t>(m));
}
void put_decimal(std::string& out, uint64_t v);

}  // namespace mmusim::event_fields
