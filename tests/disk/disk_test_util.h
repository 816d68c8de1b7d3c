// Helpers shared by the device tests: requests, running a device alone,
// collecting its statistics by name.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "models/common/stats.h"
#include "models/disk/disk_model.h"

namespace mmusim::disk_test {

inline DiskRequest req(uint64_t id, uint64_t at, uint64_t offset, uint64_t bytes,
                       bool write = false) {
  DiskRequest r;
  r.id = id;
  r.at = Cycle(at);
  r.offset = offset;
  r.bytes = bytes;
  r.write = write;
  return r;
}

// Takes every completion (in the order the device gives them).
inline std::vector<DiskDone> drain(DiskModel& d) {
  std::vector<DiskDone> out;
  DiskDone x;
  while (d.take(kNeverCycle, x)) out.push_back(x);
  return out;
}

// Submits `r` on an otherwise drained device and returns its completion.
inline DiskDone run_one(DiskModel& d, const DiskRequest& r) {
  d.submit(r);
  std::vector<DiskDone> v = drain(d);
  for (const DiskDone& x : v) {
    if (x.id == r.id) return x;
  }
  ADD_FAILURE() << "request " << r.id << " never completed";
  return DiskDone{};
}

struct Collect : StatVisitor {
  void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
    c[std::string(n)] = v;
  }
  void real(std::string_view n, std::string_view, std::string_view, double v) override {
    r[std::string(n)] = v;
  }
  void histogram(std::string_view n, std::string_view, std::string_view,
                 const Histogram& x) override {
    hist.insert_or_assign(std::string(n), x);
  }
  std::map<std::string, uint64_t> c;
  std::map<std::string, double> r;
  std::map<std::string, Histogram> hist;
};

}  // namespace mmusim::disk_test
