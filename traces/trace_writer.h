// Writes traces in the native formats, optionally compressed. Output goes
// through a bounded buffer; close() must be called to complete the file (the
// destructor of an unclosed writer leaves it incomplete, by design: callers
// write to a temporary name and rename after close()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "models/common/types.h"
#include "traces/byte_stream.h"

namespace mmusim {

enum class TraceFormat : uint8_t { kText, kBinary };

struct TraceWriterOptions {
  TraceFormat format = TraceFormat::kBinary;
  Compression compression = Compression::kNone;
  int level = 0;        // compression level; 0 = the codec's default (zstd 3, gzip 6, xz 6)
  std::string comment;  // binary: header comment; text: written as leading '# ' lines
};

class TraceWriter {
 public:
  // `path` "-" = stdout. Throws InputError when the file cannot be created.
  TraceWriter(const std::string& path, TraceWriterOptions options);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Throws InputError for a record the format cannot hold (kind not R/W/X;
  // text also: flags != 0, cpu > 255, size > 4096).
  void write(const TraceRecord* records, size_t n);
  void write(const TraceRecord& r) { write(&r, 1); }
  // Flushes, finishes compression, and for an uncompressed binary file
  // patches the header's record count. Idempotent.
  void close();
  [[nodiscard]] uint64_t count() const { return count_; }

 private:
  void flush();

  std::string path_;
  TraceWriterOptions options_;
  std::unique_ptr<ByteSink> sink_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  uint64_t count_ = 0;
  bool closed_ = false;
  // Binary: the header goes out with the first flush, flagged when a segment
  // record was buffered by then (patched at close for plain files otherwise).
  bool header_written_ = false;
  bool header_flagged_ = false;
  bool segment_records_ = false;
};

// Output format and compression implied by a file name: ".txt"/".trace" ->
// text, ".bin" -> binary, each optionally followed by ".zst", ".gz" or ".xz".
// Returns false when the name implies no format.
bool format_from_extension(const std::string& path, TraceFormat* format, Compression* compression);

}  // namespace mmusim
