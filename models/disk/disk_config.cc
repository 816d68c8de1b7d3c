#include "models/disk/disk_config.h"

#include <stdexcept>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

// Bounds that keep the cycle arithmetic of FixedDisk in 64 bits at any core
// clock sim.core_clock_mhz allows (up to 10^5 MHz): latency_ns * MHz and
// (bandwidth - 1) * MHz stay below 10^15.
constexpr uint64_t kMaxLatencyNs = 10'000'000'000ULL;     // 10 s
constexpr uint64_t kMaxBandwidthMbps = 1'000'000'000ULL;  // 1 PB/s

}  // namespace

std::string_view disk_kind_name(DiskKind k) {
  switch (k) {
    case DiskKind::kFixed: return "fixed";
  }
  return "?";
}

void DiskConfig::validate() const {
  if (model != DiskKind::kFixed) throw InputError("disk.model: expected fixed");
  if (fixed.latency_ns > kMaxLatencyNs) {
    throw InputError("disk.fixed.latency_ns: must be at most " + std::to_string(kMaxLatencyNs) +
                     " ns (10 s), got " + std::to_string(fixed.latency_ns));
  }
  if (fixed.bandwidth_mbps == 0 || fixed.bandwidth_mbps > kMaxBandwidthMbps) {
    throw InputError("disk.fixed.bandwidth_mbps: must be between 1 and " +
                     std::to_string(kMaxBandwidthMbps) + " MB/s, got " +
                     std::to_string(fixed.bandwidth_mbps));
  }
  if (core_clock_mhz == 0) throw InputError("sim.core_clock_mhz: must be positive, got 0");
}

void add_keys(ConfigSchema& s, DiskConfig& c) {
  s.add_custom(
      "disk.model", "model",
      "the storage device behind file and swap I/O: fixed (a fixed latency per request plus "
      "the transfer at a fixed bandwidth, one FIFO queue)",
      [&c](const std::string& v) {
        if (v != "fixed") throw std::invalid_argument("expected fixed");
        c.model = DiskKind::kFixed;
      },
      [&c] { return std::string(disk_kind_name(c.model)); });
  s.add_u64("disk.fixed.latency_ns", &c.fixed.latency_ns, "ns",
            "fixed disk: time per request before its transfer (command path, media access)", 0,
            kMaxLatencyNs);
  s.add_u64("disk.fixed.bandwidth_mbps", &c.fixed.bandwidth_mbps, "MB/s",
            "fixed disk: transfer rate in 10^6 bytes per second", 1, kMaxBandwidthMbps);
}

std::unique_ptr<DiskModel> make_disk_model(const DiskConfig& c) {
  c.validate();
  switch (c.model) {
    case DiskKind::kFixed: return std::make_unique<FixedDisk>(c.fixed, c.core_clock_mhz);
  }
  throw InputError("disk.model: expected fixed");
}

}  // namespace mmusim
