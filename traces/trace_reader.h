// Streaming trace input. A reader yields TraceRecords in batches so that the
// per-record path has no virtual call; memory stays bounded whatever the
// trace's length. Errors throw mmusim::InputError naming file, position and
// what was expected.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "models/common/types.h"

namespace mmusim {

class TraceReader {
 public:
  virtual ~TraceReader() = default;
  // Fills up to `max` records into `out`; returns how many. 0 means end of trace.
  virtual size_t read(TraceRecord* out, size_t max) = 0;
  // Human-readable position of the last record returned ("line 12", "record 7").
  [[nodiscard]] virtual std::string position() const = 0;
  [[nodiscard]] virtual const std::string& path() const = 0;
};

// Opens `path`, detecting compression (gzip/xz/zstd by magic bytes) and format
// by content unless `format` names one ("text", "binary", ... or "auto").
std::unique_ptr<TraceReader> open_trace(const std::string& path,
                                        const std::string& format = "auto");

}  // namespace mmusim
