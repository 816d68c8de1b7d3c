// Where a CPU module takes its records from: the trace feeder of the
// composition root, or anything a hand-built system provides.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/common/types.h"

namespace mmusim {

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Fills up to `max` records for CPU `cpu`; 0 at the end of its stream.
  // Records must be well-formed (trace_record_problem() == nullptr).
  virtual size_t next(uint32_t cpu, TraceRecord* out, size_t max) = 0;
};

}  // namespace mmusim
