// The fixed disk (disk.model=fixed): a documented device with one FIFO queue
// and a fixed service time per request (the default device until the lead
// switches disk.model; see nvme_nand.h, optane.h, hdd.h for the others).
//   service(bytes) = ceil(latency_ns * f / 1000) + ceil(bytes * f / bandwidth_mbps)
//   completion     = max(at, device free) + service(bytes)
// with f the core clock in MHz (cycles per µs) and bandwidth in MB/s (10^6
// bytes per second), so a byte costs f / bandwidth_mbps cycles. The device
// serves one request at a time, in arrival order (FIFO), whatever its device
// index, and is busy for the whole service time. Reads and writes cost the
// same. Plain C++, no SystemC.
#pragma once

#include <cstdint>
#include <deque>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/disk/disk_model.h"
#include "models/disk/disk_stats.h"

namespace mmusim {

// Parameters of the fixed disk (disk.fixed.*). Defaults: an NVMe NAND SSD
// whose 4 KiB QD1 random read takes 77.96 µs, the Intel P3700 figure of
// design.md §7 / os-model.md §3.1 (77.9 µs): a fixed 76.5 µs (command path
// and NAND array read) plus the transfer at 2800 MB/s, the P3700's
// datasheet sequential read rate (4096 B: 1.46 µs).
struct FixedDiskParams {
  uint64_t latency_ns = 76'500;     // per request, before the transfer
  uint64_t bandwidth_mbps = 2'800;  // transfer rate, MB/s (10^6 bytes/s), > 0
};

class FixedDisk : public DiskModel {
 public:
  // `core_clock_mhz` > 0 and `p.bandwidth_mbps` > 0 (validated by the
  // config; std::invalid_argument otherwise).
  FixedDisk(const FixedDiskParams& p, uint32_t core_clock_mhz);

  void submit(const DiskRequest& r) override;
  [[nodiscard]] Cycle next_done() const override;
  bool take(Cycle upto, DiskDone& out) override;
  void visit(StatVisitor& v) const override;

  // The service time of a request of `bytes` (latency plus transfer).
  [[nodiscard]] Cycles service(uint64_t bytes) const;
  // ceil(latency_ns * f / 1000).
  [[nodiscard]] Cycles latency() const { return latency_; }
  // ceil(bytes * f / bandwidth_mbps).
  [[nodiscard]] Cycles transfer(uint64_t bytes) const;
  // When the device finishes its last accepted request.
  [[nodiscard]] Cycle free_at() const { return free_; }
  [[nodiscard]] const DiskStats& stats() const { return stats_; }

 private:
  FixedDiskParams p_;
  uint64_t mhz_;
  Cycles latency_;
  Cycle free_;
  std::deque<DiskDone> done_;  // in service or queued, FIFO: completions in order
  DiskStats stats_;
};

}  // namespace mmusim
