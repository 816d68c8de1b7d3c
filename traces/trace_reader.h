// Streaming trace input. A reader yields TraceRecords in batches so that the
// per-record path has no virtual call; memory stays bounded whatever the
// trace's length. Errors throw mmusim::InputError naming file, position and
// what was expected. Formats and tool: traces/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
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
  uint16_t version = 0;           // binary: the header's version (1, 2 or 3)
};

class TraceReader {
 public:
  virtual ~TraceReader() = default;
  // Fills up to `max` records into `out`; returns how many. 0 means end of trace.
  virtual size_t read(TraceRecord* out, size_t max) = 0;
  // The next records as read() would return them, in place where the reader
  // already holds them decoded (no copy): returns where they are, valid until
  // the next read() or borrow(), and sets `n` (0 at the end of the trace; at
  // most `max`). By default read() into `scratch` (room for `max`).
  virtual const TraceRecord* borrow(TraceRecord* scratch, size_t max, size_t& n) {
    n = read(scratch, max);
    return scratch;
  }
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

  // The simulated machine's CPU count (sim.cpus): a record of a trace
  // without tasks whose cpu is >= n is an error naming that record's
  // position ("line 12", "record 7"). Call before the first read(); the
  // default accepts every cpu. Readers of formats without a cpu field
  // (always 0) ignore it.
  void set_cpu_limit(uint32_t n) { cpu_limit_ = n; }
  [[nodiscard]] uint32_t cpu_limit() const { return cpu_limit_; }
  // The largest address an access (or INVLPG) record may carry: 2^32 - 1 when
  // the CPUs run 32-bit paging, PAE or no paging (`mode`: walker.mode's
  // value, for the message). A larger address is an error naming the record,
  // the address and the mode, not a silent truncation. Text and binary
  // traces; call before the first read().
  void set_address_limit(uint64_t max_addr, const std::string& mode) {
    addr_limit_ = max_addr;
    addr_mode_ = mode;
  }
  [[nodiscard]] uint64_t address_limit() const { return addr_limit_; }
  [[nodiscard]] const std::string& address_mode() const { return addr_mode_; }

 protected:
  // "record for cpu N, but sim.cpus = M (expected cpu 0..M-1)".
  [[nodiscard]] std::string cpu_limit_message(uint32_t cpu) const {
    return "record for cpu " + std::to_string(cpu) +
           ", but sim.cpus = " + std::to_string(cpu_limit_) + " (expected cpu 0.." +
           std::to_string(cpu_limit_ - 1) + ")";
  }
  // "address 0x... does not fit the 32-bit linear addresses of walker.mode = M".
  [[nodiscard]] std::string address_limit_message(uint64_t addr) const {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(addr));
    return std::string("address ") + hex + " does not fit the " +
           (addr_limit_ == UINT32_MAX ? "32-bit" : "configured") +
           " linear addresses of walker.mode = " + addr_mode_ +
           " (a 64-bit trace needs walker.mode = 4level or 5level)";
  }

 private:
  uint32_t cpu_limit_ = UINT32_MAX;
  uint64_t addr_limit_ = UINT64_MAX;
  std::string addr_mode_;
};

// Opens `path` ("-" = stdin), detecting compression (gzip/xz/zstd by magic
// bytes) and format by content unless `format` names one: "auto", "text",
// "binary", "lackey", "champsim", "pin" or "din" (detection rules:
// traces/README.md). A path "gen:SPEC" opens the synthetic generator
// (see traces/generator.h) instead of a file.
std::unique_ptr<TraceReader> open_trace(const std::string& path,
                                        const std::string& format = "auto");

}  // namespace mmusim
