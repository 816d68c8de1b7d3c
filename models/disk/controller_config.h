// Configuration of the NVMe disk controller (disk.controller.*) and of the
// PCIe link its DMA engine drives (disk.pcie.*), with their defaults from
// os-model.md §3.1 and the table at the end of §3.4. Plain data bound by
// add_keys(); validate() throws an InputError naming the key. Times in ns
// are converted to core cycles once, each rounded up on its own.
#pragma once

#include <cstdint>

#include "models/common/types.h"
#include "models/disk/disk_stats.h"  // ns_to_cycles

namespace mmusim {

class ConfigSchema;

// The NVMe command path of one request (disk.controller.*).
struct ControllerParams {
  // Submission-queue entries per device: Linux's nvme io_queue_depth (1024)
  // minus the one slot an NVMe ring keeps empty. A request beyond them
  // waits in a software queue (FIFO) until a completion frees a slot.
  uint32_t queue_depth = 1023;
  uint64_t doorbell_ns = 300;   // SQ tail doorbell: posted MMIO write reaching the device
  uint64_t fetch_ns = 800;      // SQE fetch: one PCIe round trip and a host memory read
  uint64_t prp_fetch_ns = 800;  // PRP list fetch, for transfers over 8 KiB (PRP1 + PRP2)
  uint64_t cqe_ns = 100;        // CQE write (posted)
  uint64_t msix_ns = 1000;      // MSI-X delivery to the CPU's interrupt handler
};

// The PCIe link between the device and the root complex (disk.pcie.*).
struct PcieParams {
  uint32_t lanes = 4;             // link width
  uint64_t lane_rate_mbps = 985;  // per lane, 10^6 bytes/s after encoding (Gen3: 0.985 GB/s)
  uint32_t mps = 256;             // Max Payload Size, bytes (power of two, 128..4096)
  uint32_t mrrs = 512;            // Max Read Request Size, bytes (power of two, 128..4096)
  uint32_t tlp_overhead = 28;     // bytes per TLP: 20 header + 6 DLLP + 2 PHY
};

struct ControllerConfig {
  ControllerParams controller;     // disk.controller.*
  PcieParams pcie;                 // disk.pcie.*
  uint32_t core_clock_mhz = 3000;  // not a key: follows sim.core_clock_mhz

  // Throws InputError naming the first offending key.
  void validate() const;
};

// The controller's fixed steps in core cycles: ceil(ns * f / 1000) each.
struct ControllerTiming {
  Cycles doorbell, fetch, prp_fetch, cqe, msix;
};
// `c` validated.
ControllerTiming controller_timing(const ControllerConfig& c);

// Binds disk.controller.* and disk.pcie.* to `c` (which must outlive the schema).
void add_keys(ConfigSchema& s, ControllerConfig& c);

}  // namespace mmusim
