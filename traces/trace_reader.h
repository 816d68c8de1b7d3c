// Streaming trace input. A reader yields TraceRecords in batches so that the
// per-record path has no virtual call; memory stays bounded whatever the
// trace's length. Errors throw mmusim::InputError naming file, position and
// what was expected. Formats and tool: traces/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/common/os_event.h"
#include "models/common/types.h"

namespace mmusim {

// What a reader knows about its input, for `mmusim-trace info` and converters.
struct TraceFormatInfo {
  std::string format;             // "text", "binary", "lackey", "champsim", "pin", "din",
                                  // "generator"
  std::string compression;        // "none", "gzip", "xz", "zstd"
  std::string comment;            // binary header comment / generator spec
  uint64_t declared_records = 0;  // record count the input declares; 0 = unknown
};

class TraceReader {
 public:
  virtual ~TraceReader() = default;
  // Fills up to `max` records into `out`; returns how many. 0 means end of trace.
  virtual size_t read(TraceRecord* out, size_t max) = 0;
  // Human-readable position of the last record returned ("line 12", "record 7").
  [[nodiscard]] virtual std::string position() const = 0;
  [[nodiscard]] virtual const std::string& path() const = 0;
  [[nodiscard]] virtual TraceFormatInfo format_info() const { return {}; }
  // Bytes of input buffer the reader holds (constant over the whole stream).
  [[nodiscard]] virtual size_t buffer_capacity() const { return 0; }

  // OS events (traces/README.md, "OS events"). A trace has tasks when it
  // begins with an OS event (text) or its header says so (binary version 2);
  // then every record's `cpu` is a task slot and records of op EVENT appear.
  // Known once the first read() returned.
  [[nodiscard]] virtual bool has_tasks() const { return false; }
  // Appends to `out`, in order, the events of the last read()'s EVENT
  // records (record i's addr indexes them, counting from 0 for each read());
  // call once after each read() that returned an EVENT record.
  virtual void take_events(std::vector<OsEvent>& /*out*/) {}
  // Task slot -> (pid, tid), slots numbered in order of first appearance
  // (at most 65536); covers every slot the records read so far use.
  struct TaskKey {
    uint32_t pid = 0, tid = 0;
  };
  [[nodiscard]] virtual const std::vector<TaskKey>& tasks() const {
    static const std::vector<TaskKey> kNone;
    return kNone;
  }
};

// Opens `path` ("-" = stdin), detecting compression (gzip/xz/zstd by magic
// bytes) and format by content unless `format` names one: "auto", "text",
// "binary", "lackey", "champsim", "pin" or "din" (detection rules:
// traces/README.md). A path "gen:SPEC" opens the synthetic generator
// (see traces/generator.h) instead of a file.
std::unique_ptr<TraceReader> open_trace(const std::string& path,
                                        const std::string& format = "auto");

}  // namespace mmusim
