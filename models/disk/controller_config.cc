#include "models/disk/controller_config.h"

#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

// Bounds that keep every product in 64 bits at any core clock
// sim.core_clock_mhz allows (up to 10^5 MHz): ns * MHz stays below 10^15,
// a TLP's (payload + overhead) * MHz below 10^9, and the link rate
// lanes * lane_rate_mbps below 2^32.
constexpr uint64_t kMaxNs = 10'000'000'000ULL;  // 10 s
constexpr uint32_t kMaxQueueDepth = 65'535;     // NVMe: at most 64 Ki entries, one kept empty
constexpr uint32_t kMaxLanes = 32;
constexpr uint64_t kMaxLaneRateMbps = 100'000'000;  // 100 TB/s per lane
constexpr uint32_t kMinPayload = 128, kMaxPayload = 4096;
constexpr uint32_t kMaxOverhead = 4096;

bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

void check_ns(const char* key, uint64_t v) {
  if (v > kMaxNs) {
    throw InputError(std::string(key) + ": must be at most " + std::to_string(kMaxNs) +
                     " ns (10 s), got " + std::to_string(v));
  }
}

void check_payload(const char* key, uint32_t v) {
  if (v < kMinPayload || v > kMaxPayload || !power_of_two(v)) {
    throw InputError(std::string(key) + ": expected a power of two from 128 to 4096 bytes, got " +
                     std::to_string(v));
  }
}

}  // namespace

void ControllerConfig::validate() const {
  const ControllerParams& c = controller;
  if (c.queue_depth == 0 || c.queue_depth > kMaxQueueDepth) {
    throw InputError("disk.controller.queue_depth: must be between 1 and " +
                     std::to_string(kMaxQueueDepth) + ", got " + std::to_string(c.queue_depth));
  }
  check_ns("disk.controller.doorbell_ns", c.doorbell_ns);
  check_ns("disk.controller.fetch_ns", c.fetch_ns);
  check_ns("disk.controller.prp_fetch_ns", c.prp_fetch_ns);
  check_ns("disk.controller.cqe_ns", c.cqe_ns);
  check_ns("disk.controller.msix_ns", c.msix_ns);
  if (c.doorbell_ns + c.fetch_ns == 0) {
    // A command then reaches the device in the cycle the kernel submits it,
    // where a completion the controller already took at that cycle would
    // come before it (the device protocol wants submissions first).
    throw InputError(
        "disk.controller.fetch_ns: doorbell_ns + fetch_ns must be positive (a command reaches "
        "the device after its doorbell), got 0");
  }
  const PcieParams& p = pcie;
  if (p.lanes == 0 || p.lanes > kMaxLanes) {
    throw InputError("disk.pcie.lanes: must be between 1 and " + std::to_string(kMaxLanes) +
                     ", got " + std::to_string(p.lanes));
  }
  if (p.lane_rate_mbps == 0 || p.lane_rate_mbps > kMaxLaneRateMbps) {
    throw InputError("disk.pcie.lane_rate_mbps: must be between 1 and " +
                     std::to_string(kMaxLaneRateMbps) + " MB/s, got " +
                     std::to_string(p.lane_rate_mbps));
  }
  check_payload("disk.pcie.mps", p.mps);
  check_payload("disk.pcie.mrrs", p.mrrs);
  if (p.tlp_overhead > kMaxOverhead) {
    throw InputError("disk.pcie.tlp_overhead: must be at most " + std::to_string(kMaxOverhead) +
                     " bytes, got " + std::to_string(p.tlp_overhead));
  }
  if (core_clock_mhz == 0) throw InputError("sim.core_clock_mhz: must be positive, got 0");
}

ControllerTiming controller_timing(const ControllerConfig& c) {
  const uint32_t f = c.core_clock_mhz;
  const ControllerParams& p = c.controller;
  return ControllerTiming{ns_to_cycles(p.doorbell_ns, f), ns_to_cycles(p.fetch_ns, f),
                          ns_to_cycles(p.prp_fetch_ns, f), ns_to_cycles(p.cqe_ns, f),
                          ns_to_cycles(p.msix_ns, f)};
}

void add_keys(ConfigSchema& s, ControllerConfig& c) {
  ControllerParams& p = c.controller;
  s.add_u32("disk.controller.queue_depth", &p.queue_depth, "entries",
            "NVMe submission queue entries per device; further requests wait in a FIFO software "
            "queue until a completion frees one",
            1, kMaxQueueDepth);
  s.add_u64("disk.controller.doorbell_ns", &p.doorbell_ns, "ns",
            "SQ tail doorbell: the posted MMIO write reaching the device", 0, kMaxNs);
  s.add_u64("disk.controller.fetch_ns", &p.fetch_ns, "ns",
            "SQE fetch by the device: one PCIe round trip and a host memory read", 0, kMaxNs);
  s.add_u64("disk.controller.prp_fetch_ns", &p.prp_fetch_ns, "ns",
            "PRP list fetch, for transfers over 8 KiB (another round trip)", 0, kMaxNs);
  s.add_u64("disk.controller.cqe_ns", &p.cqe_ns, "ns", "completion queue entry write (posted)", 0,
            kMaxNs);
  s.add_u64("disk.controller.msix_ns", &p.msix_ns, "ns",
            "MSI-X delivery: completion written to the interrupt handler starting", 0, kMaxNs);
  PcieParams& l = c.pcie;
  s.add_u32("disk.pcie.lanes", &l.lanes, "lanes", "PCIe link width between the disk and the host",
            1, kMaxLanes);
  s.add_u64("disk.pcie.lane_rate_mbps", &l.lane_rate_mbps, "MB/s",
            "PCIe rate per lane after line encoding, 10^6 bytes/s (Gen3 985, Gen4 1969)", 1,
            kMaxLaneRateMbps);
  s.add_u32("disk.pcie.mps", &l.mps, "bytes",
            "Max Payload Size: data bytes per write or completion TLP (power of two)", kMinPayload,
            kMaxPayload);
  s.add_u32("disk.pcie.mrrs", &l.mrrs, "bytes",
            "Max Read Request Size: bytes one device read of host memory asks for (power of two)",
            kMinPayload, kMaxPayload);
  s.add_u32("disk.pcie.tlp_overhead", &l.tlp_overhead, "bytes",
            "link bytes per TLP besides its payload (TLP header, DLLP, PHY framing)", 0,
            kMaxOverhead);
}

}  // namespace mmusim
