#include "models/disk/fixed_disk.h"

#include <stdexcept>

namespace mmusim {

FixedDisk::FixedDisk(const FixedDiskParams& p, uint32_t core_clock_mhz)
    : p_(p), mhz_(core_clock_mhz) {
  if (mhz_ == 0) throw std::invalid_argument("FixedDisk: core clock must be positive");
  if (p_.bandwidth_mbps == 0) throw std::invalid_argument("FixedDisk: bandwidth must be positive");
  // latency_ns is bounded by the config (disk_config.cc) so that this fits.
  latency_ = ns_to_cycles(p_.latency_ns, mhz_);
}

Cycles FixedDisk::transfer(uint64_t bytes) const {
  return transfer_cycles(bytes, p_.bandwidth_mbps, mhz_);
}

Cycles FixedDisk::service(uint64_t bytes) const { return latency_ + transfer(bytes); }

void FixedDisk::submit(const DiskRequest& r) {
  const Cycle start = max(r.at, free_);
  free_ = start + service(r.bytes);
  DiskDone d;
  d.id = r.id;
  d.write = r.write;
  d.at = r.at;
  d.start = start;
  d.done = free_;
  stats_.arrive(r);
  stats_.served(d);
  done_.push_back(d);
}

Cycle FixedDisk::next_done() const { return done_.empty() ? kNeverCycle : done_.front().done; }

bool FixedDisk::take(Cycle upto, DiskDone& out) {
  if (done_.empty() || done_.front().done > upto) return false;
  out = done_.front();
  done_.pop_front();
  return true;
}

void FixedDisk::visit(StatVisitor& v) const { stats_.visit(v); }

}  // namespace mmusim
