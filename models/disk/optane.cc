#include "models/disk/optane.h"

#include <stdexcept>

namespace mmusim {

Optane::Optane(const OptaneParams& p, uint32_t core_clock_mhz) : p_(p), mhz_(core_clock_mhz) {
  if (mhz_ == 0) throw std::invalid_argument("Optane: core clock must be positive");
  if (p_.units == 0) throw std::invalid_argument("Optane: at least one unit");
  if (p_.bandwidth_mbps == 0) throw std::invalid_argument("Optane: bandwidth must be positive");
  media_ = ns_to_cycles(p_.media_ns, mhz_);
  unit_free_.resize(p_.units);
}

Cycles Optane::transfer(uint64_t bytes) const {
  return transfer_cycles(bytes, p_.bandwidth_mbps, mhz_);
}

void Optane::submit(const DiskRequest& r) {
  stats_.arrive(r);
  size_t u = 0;
  for (size_t i = 1; i < unit_free_.size(); ++i) {
    if (unit_free_[i] < unit_free_[u]) u = i;
  }
  DiskDone d;
  d.id = r.id;
  d.write = r.write;
  d.at = r.at;
  d.start = max(r.at, unit_free_[u]);
  d.done = d.start + service(r.bytes);
  unit_free_[u] = d.done;
  stats_.served(d);
  done_.push(d);
}

}  // namespace mmusim
