// The native trace formats (text and binary) and the importers (lackey,
// ChampSim, pin, din): readers over an InputBuffer and the record encoders.
// Byte-level layouts: traces/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "models/common/types.h"
#include "traces/byte_stream.h"
#include "traces/trace_reader.h"

namespace mmusim {

// ---- binary format: header, then 16-byte little-endian records ----
inline constexpr char kBinaryMagic[8] = {'M', 'M', 'U', 'T', 'R', 'A', 'C', 'E'};
inline constexpr uint16_t kBinaryVersion = 1;       // without OS events
inline constexpr uint16_t kBinaryVersionTasks = 2;  // with OS events (EVENT records + payloads)
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
// Version 2 and the tasks flag when `tasks`.
std::string encode_binary_header(const std::string& comment, uint64_t record_count,
                                 bool tasks = false);

// One record in its on-disk layout (identical to TraceRecord in memory).
inline void encode_record(const TraceRecord& r, char* out) {
  std::memcpy(out, &r.addr, 8);
  std::memcpy(out + 8, &r.size, 4);
  std::memcpy(out + 12, &r.cpu, 2);
  out[14] = static_cast<char>(r.kind);
  out[15] = static_cast<char>(r.flags);
}

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
