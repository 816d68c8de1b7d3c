// OS events (models/common/os_event.h) in the native trace formats. One table
// of fields per event kind (os_event_format.cc) drives the text form
// ("KIND pid=P [tid=T] key=value ...") and the binary version-2 payload, so the
// two encodings round-trip. Keys are the struct fields' names; the grammar,
// defaults and every key: traces/README.md, "OS events".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "models/common/os_event.h"

namespace mmusim {

// The kind index (OsEventBody alternative) of the keyword `word`, or -1.
int os_event_kind(std::string_view word);

// Where a text event is malformed: the column [at, got_end) quoted after `what`.
struct EventTextError {
  const char* at = nullptr;
  const char* got_end = nullptr;
  std::string what;
};

// Parses the "key=value" tokens of an event of kind `kind` from [p, e) (the
// line after the keyword; a '#' outside a quoted string ends it) into `ev`,
// pid and tid included, and checks it (check_os_event). False with `err` when
// a key is unknown, repeated or missing or a value is malformed.
bool parse_os_event_text(size_t kind, const char* p, const char* e, OsEvent& ev,
                         EventTextError& err);

// Appends the event's line ("KIND pid=P key=value ...\n"): required keys
// always, optional ones when they differ from their default, tid when it is
// not pid. Numbers in the form the table names (addresses hex, counts
// decimal), flags symbolically, strings quoted when they need it.
void format_os_event(const OsEvent& ev, std::string& out);

// Binary payload: u16 kind, u16 0, u32 pid, u32 tid, then the fields in table
// order (u32/i32 4 bytes, u64/i64 8, bool and enums 1, strings a u16 length
// and the bytes), little-endian, unpadded.
void encode_os_event(const OsEvent& ev, std::string& out);
// Decodes a payload of n bytes into `ev`: "" on success, else what is wrong
// ("unknown event kind 40", "event payload ends inside field 'path' of FILE").
std::string decode_os_event(const char* p, size_t n, OsEvent& ev);
// Payload kind of a binary task declaration (a slot's first record is not an
// event): u16 0xFFFF, u16 0, u32 pid, u32 tid. Never handed out as an event.
inline constexpr uint16_t kTaskDeclarationKind = 0xFFFF;
inline constexpr size_t kEventPayloadHead = 12;

// Why `ev` is not a well-formed event on its own ("" when it is): pid and
// tid > 0, FILE file_id > 0, VMA_INIT start < end and page-aligned, ...
std::string check_os_event(const OsEvent& ev);

// Checks an event stream in order: each event (check_os_event), FILE ids
// unique, and every file id an event names described by an earlier FILE.
class OsEventChecker {
 public:
  // "" or the problem.
  std::string check(const OsEvent& ev);

 private:
  std::unordered_set<uint32_t> files_;
};

// Symbolic flag sets of the text form ("MAP_PRIVATE|MAP_ANONYMOUS"), for
// reports and tests: the value printed as the writer prints it.
std::string format_map_flags(uint32_t flags);
std::string format_open_flags(uint32_t flags);
std::string format_prot(uint32_t prot);

}  // namespace mmusim
