// The native trace formats (text and binary) and the importers (lackey,
// ChampSim, pin, din): readers over an InputBuffer and the record encoders.
// Byte-level layouts: traces/README.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "models/common/types.h"
#include "traces/byte_stream.h"
#include "traces/trace_reader.h"

namespace mmusim {

// ---- binary format: header, then 16-byte little-endian records ----
inline constexpr char kBinaryMagic[8] = {'M', 'M', 'U', 'T', 'R', 'A', 'C', 'E'};
inline constexpr uint16_t kBinaryVersion = 1;         // without OS events
inline constexpr uint16_t kBinaryVersionTasks = 2;    // with OS events (EVENT records + payloads)
inline constexpr uint16_t kBinaryVersionCompact = 3;  // variable-length records, with or without
                                                      // OS events (traces/README.md, "version 3")
inline constexpr uint16_t kBinaryRecordSize = 16;
inline constexpr size_t kBinaryFixedHeader = 32;             // bytes before the comment
inline constexpr size_t kBinaryMaxHeader = 1u << 20;         // header_bytes limit
inline constexpr size_t kBinaryCountOffset = 16;             // where record_count lives
inline constexpr size_t kMaxEventPayload = size_t{1} << 17;  // bytes, unpadded
// Header flag: records use the segment encoding of TraceRecord::flags (older
// readers refuse such files). Files without it read exactly as before.
inline constexpr uint32_t kBinaryHeaderSegmentRecords = 1;
// Header flag (version 2): a task trace; record cpu fields are task slots and
// EVENT records (op 7) carry a payload (traces/README.md, "OS events").
inline constexpr uint32_t kBinaryHeaderTasks = 2;

static_assert(sizeof(TraceRecord) == 16, "TraceRecord must stay 16 bytes");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "binary traces are little-endian and read by memcpy");

// Header bytes (fixed part, comment, zero padding to a multiple of 16).
// Version 2 and the tasks flag when `tasks`; version 3 (record size field 0)
// and the tasks flag when `tasks` when `compact`.
std::string encode_binary_header(const std::string& comment, uint64_t record_count,
                                 bool tasks = false, bool compact = false);

// One record in its on-disk layout (identical to TraceRecord in memory).
inline void encode_record(const TraceRecord& r, char* out) {
  std::memcpy(out, &r.addr, 8);
  std::memcpy(out + 8, &r.size, 4);
  std::memcpy(out + 12, &r.cpu, 2);
  out[14] = static_cast<char>(r.kind);
  out[15] = static_cast<char>(r.flags);
}

// ---- version 3: variable-length records (traces/README.md, "version 3") ----
// Tag byte of a compact access: bits 0-1 kind (0 R, 1 W, 2 X), bits 2-5 size
// (0..14, or 15: a varint size follows), bit 6: a varint cpu follows (else the
// previous record's), bit 7: a zigzag varint address delta follows (else 0).
// Bits 0-1 = 3: an escape record, whose tag has bits 2-3 kind, bit 4 cpu
// follows, bits 5-7 zero; then the flags byte, then a varint payload length
// and the payload (op 7, EVENT) or a varint size and a varint address.
inline constexpr unsigned kCompactEscape = 3;
inline constexpr unsigned kCompactSizeShift = 2;
inline constexpr unsigned kCompactSizeMask = 15;
inline constexpr unsigned kCompactSizeFollows = 15;  // size code: a varint follows
inline constexpr unsigned kCompactCpu = 0x40;
inline constexpr unsigned kCompactAddr = 0x80;
inline constexpr unsigned kEscapeKindShift = 2;
inline constexpr unsigned kEscapeCpu = 0x10;
inline constexpr unsigned kEscapeReserved = 0xE0;
inline constexpr size_t kMaxVarint = 10;  // bytes of a 64-bit LEB128 varint
// The most bytes a writer emits for one record other than an EVENT's payload.
inline constexpr size_t kMaxCompactRecord = 1 + 3 + 1 + 5 + kMaxVarint;

inline size_t put_varint(uint64_t v, char* out) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}
inline uint64_t zigzag(uint64_t delta) {  // delta: a difference modulo 2^64
  return (delta << 1) ^ (0 - (delta >> 63));
}
inline uint64_t unzigzag(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }

// The writer's side of version 3: the previous cpu and, per cpu (task slot)
// and kind, the address the next access is predicted at.
class CompactEncoder {
 public:
  // Writes `r` (not an EVENT) at out (room for kMaxCompactRecord bytes);
  // returns its length.
  size_t encode(const TraceRecord& r, char* out);
  // The head of an EVENT record (or task declaration) of `slot` whose
  // payload has `payload` bytes (room for kMaxCompactRecord); returns its
  // length. The payload follows it unpadded.
  size_t encode_event_head(uint16_t slot, size_t payload, char* out);

 private:
  size_t put_cpu(uint16_t cpu, char* out);
  std::vector<std::array<uint64_t, 3>> next_;
  uint16_t cpu_ = 0;
};

// What the first n bytes of a stream look like when they are not a trace
// ("an ELF executable", "a PDF document", "a binary trace with a damaged
// header: expected magic \"MMUTRACE\", got ..."), or "" when they do not
// match anything recognizable.
std::string describe_non_trace(const char* data, size_t n);

// ---- text format ----
inline constexpr uint32_t kMaxAccessSize = 4096;
inline constexpr uint32_t kMaxTextCpu = 255;
// Writes "K 0xADDR[ SIZE[ CPU]]\n" into buf (>= 48 bytes); returns its length.
// The record must be representable (well-formed flags, cpu <= 255): see
// check_text_record. Segment records print as "LOAD DS 0x002b", "GDT 1 0x...".
size_t format_text_record(const TraceRecord& r, char* buf);
// Empty when the record fits the text format, else why not.
std::string check_text_record(const TraceRecord& r);

// ---- readers (own the buffer) ----
std::unique_ptr<TraceReader> make_text_reader(std::unique_ptr<InputBuffer> in);
std::unique_ptr<TraceReader> make_binary_reader(std::unique_ptr<InputBuffer> in);
// Lackey: a log with a system call line in its first buffer is imported with
// its events (lackey_import.h; `path` re-read for the FILE sizes unless "-").
std::unique_ptr<TraceReader> make_lackey_reader(std::unique_ptr<InputBuffer> in,
                                                const std::string& path);
std::unique_ptr<TraceReader> make_champsim_reader(std::unique_ptr<InputBuffer> in);
std::unique_ptr<TraceReader> make_pin_reader(std::unique_ptr<InputBuffer> in);
std::unique_ptr<TraceReader> make_din_reader(std::unique_ptr<InputBuffer> in);

// ---- ChampSim input_instr: 64 bytes, little-endian, no header ----
// u64 ip; u8 is_branch, branch_taken; u8 destination_registers[2];
// u8 source_registers[4]; u64 destination_memory[2]; u64 source_memory[4].
inline constexpr size_t kChampSimRecordSize = 64;
inline constexpr size_t kChampSimIpOffset = 0;
inline constexpr size_t kChampSimIsBranchOffset = 8;  // branch_taken follows
inline constexpr size_t kChampSimDestMemOffset = 16;
inline constexpr size_t kChampSimSourceMemOffset = 32;
inline constexpr size_t kChampSimDestinations = 2;
inline constexpr size_t kChampSimSources = 4;
inline constexpr size_t kChampSimMaxAccesses = 1 + kChampSimSources + kChampSimDestinations;
// Writes X at ip, R per non-zero source_memory, W per non-zero
// destination_memory (size 0, cpu 0) into out (room for kChampSimMaxAccesses);
// returns how many.
size_t decode_champsim_record(const char* rec, TraceRecord* out);
// Content check for auto-detection over the first n bytes of a stream
// (`whole_stream`: they are all of it): at least one record, a NUL byte, and
// every whole record plausible (ip non-zero, addresses 57-bit canonical,
// is_branch and branch_taken 0/1, taken only for a branch); when whole, n is a
// multiple of 64.
bool looks_like_champsim(const char* data, size_t n, bool whole_stream);

// ---- helpers shared by the line parsers ----
// A token for an error message: at most 32 characters, quoted, non-printable
// bytes as \xNN; "end of line" when empty.
std::string quote_token(const char* b, const char* e);
inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace mmusim
