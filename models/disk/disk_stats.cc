#include "models/disk/disk_stats.h"

#include <algorithm>

namespace mmusim {

void DiskStats::arrive(const DiskRequest& r) {
  const uint64_t t = r.at.count();
  if (!any_arrival_) {
    any_arrival_ = true;
    first_arrival_ = r.at;
  }
  // Requests completed by now leave the device.
  while (!pending_done_.empty() && pending_done_.top() <= t) {
    pending_done_.pop();
    ++completed_;
  }
  // Arrived before it and still in the device, plus itself.
  depth_.add(requests_ - completed_ + 1);
  ++requests_;
  if (r.write) {
    ++writes_;
    bytes_written_ += r.bytes;
  } else {
    ++reads_;
    bytes_read_ += r.bytes;
  }
  // Busy intervals that end by now can no longer grow (later services start
  // at or after this arrival): fold them into one count.
  while (!busy_.empty() && busy_.begin()->second <= t) {
    busy_folded_ += busy_.begin()->second - busy_.begin()->first;
    busy_.erase(busy_.begin());
  }
}

void DiskStats::served(const DiskDone& d) {
  service_.add((d.done - d.start).count());
  latency_.add((d.done - d.at).count());
  queue_wait_ += (d.start - d.at).count();
  pending_done_.push(d.done.count());
  if (!any_done_ || d.done > last_done_) last_done_ = d.done;
  any_done_ = true;

  uint64_t s = d.start.count(), e = d.done.count();
  if (e <= s) return;
  // Merge [s, e) with every interval it overlaps or touches.
  auto it = busy_.upper_bound(s);
  if (it != busy_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= s) it = prev;
  }
  while (it != busy_.end() && it->first <= e) {
    s = std::min(s, it->first);
    e = std::max(e, it->second);
    it = busy_.erase(it);
  }
  busy_.emplace(s, e);
}

uint64_t DiskStats::busy_cycles() const {
  uint64_t b = busy_folded_;
  for (const auto& [s, e] : busy_) b += e - s;
  return b;
}

double DiskStats::utilisation() const {
  if (!any_done_ || last_done_ <= first_arrival_) return 0.0;
  return static_cast<double>(busy_cycles()) /
         static_cast<double>((last_done_ - first_arrival_).count());
}

void DiskStats::visit(StatVisitor& v) const {
  v.counter("requests", "requests", "I/O requests submitted to the device", requests_);
  v.counter("reads", "requests", "read requests", reads_);
  v.counter("writes", "requests", "write requests", writes_);
  v.counter("bytes_read", "bytes", "bytes read from the device", bytes_read_);
  v.counter("bytes_written", "bytes", "bytes written to the device", bytes_written_);
  v.histogram("queue_depth", "requests",
              "requests in the device (queued and in service) seen by each arrival, itself "
              "included",
              depth_);
  v.counter("queue_wait_cycles", "cycles",
            "cycles requests waited before their service began, summed", queue_wait_);
  v.histogram("service", "cycles", "service time per request (completion - start of service)",
              service_);
  v.histogram("latency", "cycles", "latency per request (completion - arrival)", latency_);
  v.counter("busy_cycles", "cycles", "cycles with at least one request in service", busy_cycles());
  v.real("utilisation", "ratio", "busy cycles / (last completion - first arrival)", utilisation());
}

}  // namespace mmusim
