// Writes traces in the native formats, optionally compressed. Output goes
// through a bounded buffer; close() must be called to complete the file (the
// destructor of an unclosed writer leaves it incomplete, by design: callers
// write to a temporary name and rename after close()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/common/os_event.h"
#include "models/common/types.h"
#include "traces/byte_stream.h"
#include "traces/formats.h"
#include "traces/os_event_format.h"
#include "traces/task_slots.h"
#include "traces/trace_reader.h"

namespace mmusim {

// kLackey: valgrind lackey's access lines ("I  ADDR,SIZE", " L", " S"), for
// benchmarks and tools that read lackey; memory accesses only.
enum class TraceFormat : uint8_t { kText, kBinary, kLackey };

struct TraceWriterOptions {
  TraceFormat format = TraceFormat::kBinary;
  Compression compression = Compression::kNone;
  int level = 0;        // compression level; 0 = the codec's default (zstd 3, gzip 6, xz 6)
  std::string comment;  // binary: header comment; text: written as leading '# ' lines
  // Binary: 3 = variable-length records (version 3); 1 or 2 = the 16-byte
  // records (version 1 for a trace without OS events, 2 for a task trace).
  int binary_version = 3;
};

class TraceWriter {
 public:
  // `path` "-" = stdout. Throws InputError when the file cannot be created.
  TraceWriter(const std::string& path, TraceWriterOptions options);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Records of a trace without OS events. Throws InputError for a record the
  // format cannot hold (kind not R/W/X, an EVENT record; text also: flags
  // that are not a segment record, cpu > 255, size > 4096).
  void write(const TraceRecord* records, size_t n);
  void write(const TraceRecord& r) { write(&r, 1); }

  // OS events (traces/README.md, "OS events"). A trace whose first record is
  // an event is a task trace (binary: version 2); events after a first
  // record that is not one are refused. Each event is checked as a reader
  // checks it (OsEventChecker: FILE ids unique and described before use).
  void write_event(const OsEvent& e);
  // A record (not an EVENT) of task (pid, tid) of a task trace; its cpu
  // field is ignored (the writer numbers the task slots itself).
  void write_task_record(const TraceRecord& r, uint32_t pid, uint32_t tid);
  // A batch as a reader returns it (TraceReader::read, take_events, tasks):
  // each EVENT record's addr indexes `events`; in a task trace every other
  // record's cpu is a slot of `tasks`. Without events or tasks this is
  // write(records, n).
  void write(const TraceRecord* records, size_t n, const std::vector<OsEvent>& events,
             const std::vector<TraceReader::TaskKey>& tasks);

  // Flushes, finishes compression, and for an uncompressed binary file
  // patches the header's record count. Idempotent.
  void close();
  // Records written (EVENT records included).
  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] bool has_tasks() const { return mode_ == Mode::kTasks; }

 private:
  enum class Mode : uint8_t { kUnknown, kPlain, kTasks };
  void flush();
  void ensure(size_t bytes);
  [[noreturn]] void refuse(const std::string& why) const;
  void begin_task_trace();
  // Binary: the slot of (pid, tid), writing a task declaration first when
  // the task is new and `declare`.
  uint16_t slot_for(uint32_t pid, uint32_t tid, bool declare);
  void put_record(const TraceRecord& r);
  [[nodiscard]] bool compact() const {
    return options_.format == TraceFormat::kBinary && options_.binary_version == 3;
  }

  std::string path_;
  TraceWriterOptions options_;
  std::unique_ptr<ByteSink> sink_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  uint64_t count_ = 0;
  uint64_t stored_ = 0;  // binary records stored (task declarations included)
  bool closed_ = false;
  Mode mode_ = Mode::kUnknown;
  TaskSlots slots_;
  uint32_t cur_pid_ = 0, cur_tid_ = 0;  // text: the task of the last record
  OsEventChecker checker_;
  CompactEncoder encoder_;  // binary version 3
  std::string scratch_;
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
