#include "models/disk/fixed_disk.h"

#include <stdexcept>

namespace mmusim {

FixedDisk::FixedDisk(const FixedDiskParams& p, uint32_t core_clock_mhz)
    : p_(p), mhz_(core_clock_mhz) {
  if (mhz_ == 0) throw std::invalid_argument("FixedDisk: core clock must be positive");
  if (p_.bandwidth_mbps == 0) throw std::invalid_argument("FixedDisk: bandwidth must be positive");
  // latency_ns is bounded by the config (disk_config.cc) so that this fits.
  latency_ = Cycles((p_.latency_ns * mhz_ + 999) / 1000);
}

Cycles FixedDisk::transfer(uint64_t bytes) const {
  // bytes * f / bw without overflow: the quotient and the remainder apart
  // (the remainder is below bw, which the config bounds).
  const uint64_t bw = p_.bandwidth_mbps;
  const uint64_t q = bytes / bw, r = bytes % bw;
  return Cycles(q * mhz_ + (r * mhz_ + bw - 1) / bw);
}

Cycles FixedDisk::service(uint64_t bytes) const { return latency_ + transfer(bytes); }

void FixedDisk::submit(const DiskRequest& r) {
  const Cycle start = max(r.at, free_);
  const Cycles s = service(r.bytes);
  free_ = start + s;
  ++stats_.requests;
  if (r.write) {
    ++stats_.writes;
    stats_.bytes_written += r.bytes;
  } else {
    ++stats_.reads;
    stats_.bytes_read += r.bytes;
  }
  stats_.busy_cycles += s.count();
  stats_.queue_wait_cycles += (start - r.at).count();
  stats_.latency.add((free_ - r.at).count());
  DiskDone d;
  d.id = r.id;
  d.write = r.write;
  d.at = r.at;
  d.start = start;
  d.done = free_;
  done_.push_back(d);
}

Cycle FixedDisk::next_done() const { return done_.empty() ? kNeverCycle : done_.front().done; }

bool FixedDisk::take(Cycle upto, DiskDone& out) {
  if (done_.empty() || done_.front().done > upto) return false;
  out = done_.front();
  done_.pop_front();
  return true;
}

void FixedDisk::visit(StatVisitor& v) const {
  v.counter("disk.requests", "requests", "I/O requests served by the disk", stats_.requests);
  v.counter("disk.reads", "requests", "read requests", stats_.reads);
  v.counter("disk.writes", "requests", "write requests", stats_.writes);
  v.counter("disk.bytes_read", "bytes", "bytes read from the disk", stats_.bytes_read);
  v.counter("disk.bytes_written", "bytes", "bytes written to the disk", stats_.bytes_written);
  v.counter("disk.busy_cycles", "cycles", "cycles the disk spent serving requests",
            stats_.busy_cycles);
  v.counter("disk.queue_wait_cycles", "cycles",
            "cycles requests waited in the queue before service, summed", stats_.queue_wait_cycles);
  v.histogram("disk.latency", "cycles", "request latency, arrival to completion", stats_.latency);
}

}  // namespace mmusim
