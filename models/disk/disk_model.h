// The storage device interface (design.md §7): one DiskModel per device kind,
// selected by disk.model. Plain C++, no SystemC and no knowledge of the
// kernel: a device is a discrete-event server driven by its caller (the disk
// controller module, or SyncBlockQueue in plain tests) in time order.
//
// Protocol. The caller submits requests in non-decreasing arrival order and
// takes completions in completion order; calls are in time order: a submit at
// cycle t comes after every take up to t - 1 and before any take at or after
// t (submissions at t are visible to the decisions the device takes at t, such
// as an HDD scheduler's next pick). next_done() is the earliest completion not
// yet taken: it is final, since a later arrival never makes an accepted
// request finish earlier or later than announced once it is in service, and a
// device only announces requests in service.
#pragma once

#include <cstdint>

#include "models/common/stats.h"
#include "models/common/types.h"

namespace mmusim {

struct DiskRequest {
  uint64_t id = 0;      // the submitter's tag, returned in DiskDone
  uint32_t dev = 0;     // device index (informational: one model serves one device)
  uint64_t offset = 0;  // byte offset on the device (file offset, or a swap slot's)
  uint64_t bytes = 0;   // > 0, a multiple of 512
  bool write = false;
  Cycle at;  // arrival at the device (the controller hands the command over)
};

struct DiskDone {
  uint64_t id = 0;
  bool write = false;
  Cycle at;     // arrival (as submitted)
  Cycle start;  // service began (queue wait = start - at)
  Cycle done;   // read: data in the device's buffer, ready for the host transfer;
                // write: the device acknowledges (in its write cache or on the medium)
};

class DiskModel {
 public:
  virtual ~DiskModel() = default;
  // Accepts a request (see the protocol above).
  virtual void submit(const DiskRequest& r) = 0;
  // The earliest completion not yet taken (kNeverCycle when none is announced).
  [[nodiscard]] virtual Cycle next_done() const = 0;
  // Takes the earliest completion if it is at or before `upto` (ties: the
  // lower id first); false when there is none.
  virtual bool take(Cycle upto, DiskDone& out) = 0;
  // Statistics under bare names ("requests", "latency", ...); the owner prefixes.
  virtual void visit(StatVisitor& v) const = 0;
};

constexpr Cycle kNeverCycle{~uint64_t{0}};

}  // namespace mmusim
