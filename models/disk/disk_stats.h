// The statistics every storage device keeps (plain C++): requests and bytes
// by direction, the queue depth each arrival sees, service and latency
// histograms, busy time and utilisation. A device calls arrive() once per
// request when it is submitted and served() once when its service interval
// is known; visit() emits BARE names ("requests", "latency", ...): the owner
// adds a prefix (the simulation prints top.disk.dev0.<name>).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <vector>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/disk/disk_model.h"

namespace mmusim {

// Helpers every device shares.
// ceil(ns * mhz / 1000): a duration in ns at a core clock of `mhz` MHz, in
// cycles, rounded up. The config bounds keep ns * mhz below 2^64.
constexpr Cycles ns_to_cycles(uint64_t ns, uint64_t mhz) { return Cycles((ns * mhz + 999) / 1000); }

// ceil(bytes * mhz / mbps): `bytes` at `mbps` MB/s (10^6 bytes/s) in cycles,
// without overflow for any byte count (quotient and remainder apart; the
// remainder is below mbps, which the config bounds).
constexpr Cycles transfer_cycles(uint64_t bytes, uint64_t mbps, uint64_t mhz) {
  return Cycles(bytes / mbps * mhz + (bytes % mbps * mhz + mbps - 1) / mbps);
}

// Announced completions of a device that serves requests in parallel:
// earliest done first, ties by lower id.
class DoneQueue {
 public:
  void push(const DiskDone& d) { q_.push(d); }
  [[nodiscard]] Cycle next() const { return q_.empty() ? kNeverCycle : q_.top().done; }
  bool take(Cycle upto, DiskDone& out) {
    if (q_.empty() || q_.top().done > upto) return false;
    out = q_.top();
    q_.pop();
    return true;
  }
  [[nodiscard]] size_t size() const { return q_.size(); }

 private:
  struct Later {
    bool operator()(const DiskDone& a, const DiskDone& b) const {
      return a.done != b.done ? a.done > b.done : a.id > b.id;
    }
  };
  std::priority_queue<DiskDone, std::vector<DiskDone>, Later> q_;
};

class DiskStats {
 public:
  // Request `r` arrives at r.at. Precondition: served() was already called
  // for every request that completes at or before r.at (so the device depth
  // it sees is exact). Records the queue depth seen: requests in the device
  // (arrived, not completed: done > r.at), itself included.
  void arrive(const DiskRequest& r);
  // The service interval of a request that arrived earlier: [d.start,
  // d.done], d.at <= d.start <= d.done. Precondition: d.start is at or after
  // the latest arrival (a device decides in time order), so that busy time
  // before that arrival is final.
  void served(const DiskDone& d);

  [[nodiscard]] uint64_t requests() const { return requests_; }
  [[nodiscard]] uint64_t reads() const { return reads_; }
  [[nodiscard]] uint64_t writes() const { return writes_; }
  [[nodiscard]] uint64_t bytes_read() const { return bytes_read_; }
  [[nodiscard]] uint64_t bytes_written() const { return bytes_written_; }
  // Sum over served requests of start - at.
  [[nodiscard]] uint64_t queue_wait_cycles() const { return queue_wait_; }
  // Cycles with at least one request in service (the union of the served
  // intervals [start, done)).
  [[nodiscard]] uint64_t busy_cycles() const;
  // busy / (last completion - first arrival); 0 before any completion.
  [[nodiscard]] double utilisation() const;
  [[nodiscard]] const Histogram& queue_depth() const { return depth_; }
  [[nodiscard]] const Histogram& service() const { return service_; }
  [[nodiscard]] const Histogram& latency() const { return latency_; }

  // requests, reads, writes, bytes_read, bytes_written, queue_depth,
  // queue_wait_cycles, service, latency, busy_cycles, utilisation.
  void visit(StatVisitor& v) const;

 private:
  uint64_t requests_ = 0, reads_ = 0, writes_ = 0, bytes_read_ = 0, bytes_written_ = 0;
  uint64_t queue_wait_ = 0;
  uint64_t completed_ = 0;  // served requests whose done <= the latest arrival
  Histogram depth_, service_, latency_;
  // Completion times of served requests not yet counted in completed_.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> pending_done_;
  // Busy time: the union of the intervals that end after the latest arrival
  // (disjoint, by start) plus the length of everything before it, folded.
  std::map<uint64_t, uint64_t> busy_;
  uint64_t busy_folded_ = 0;
  bool any_arrival_ = false, any_done_ = false;
  Cycle first_arrival_, last_done_;
};

}  // namespace mmusim
