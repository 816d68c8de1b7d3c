#include "models/disk/disk_config.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

// Bounds that keep every device's cycle arithmetic in 64 bits at any core
// clock sim.core_clock_mhz allows (up to 10^5 MHz): a duration in ns times
// the clock stays below 10^15, a byte count times the rate's remainder too.
constexpr uint64_t kMaxLatencyNs = 10'000'000'000ULL;     // 10 s
constexpr uint64_t kMaxBandwidthMbps = 1'000'000'000ULL;  // 1 PB/s
// NAND: a flash page of at most 1 MiB at up to 1 µs per byte: page x ps x
// MHz <= 2^20 x 10^6 x 10^5 ~ 1.05e17.
constexpr uint64_t kMaxPageBytes = 1ULL << 20;
constexpr uint64_t kMaxBytePs = 1'000'000;
constexpr uint64_t kMaxCmtEntries = 1ULL << 24;
constexpr uint64_t kMaxWriteBuffer = 1ULL << 40;
// HDD: capacity below 2^48 sectors; one revolution at most 60 ms x 10^5 MHz
// = 6e12 cycles, a sector index times it below 6e17; the linear seek term
// e x d at most 10^6 x 10^7 ns.
constexpr uint32_t kMaxCylinders = 10'000'000;
constexpr uint32_t kMaxHeads = 256;
constexpr uint32_t kMaxSpt = 100'000;
constexpr uint32_t kMaxZones = 1024;
constexpr uint32_t kMinRpm = 1'000, kMaxRpm = 30'000;
constexpr uint64_t kMaxSeekPerCylinderNs = 1'000'000;

[[noreturn]] void bad(const std::string& key, const std::string& what, uint64_t got) {
  throw InputError(key + ": " + what + ", got " + std::to_string(got));
}

void range(const std::string& key, uint64_t v, uint64_t lo, uint64_t hi, const char* unit) {
  if (v < lo || v > hi) {
    bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " " + unit,
        v);
  }
}

DiskKind parse_kind(const std::string& v) {
  if (v == "fixed") return DiskKind::kFixed;
  if (v == "nvme_nand") return DiskKind::kNvmeNand;
  if (v == "optane") return DiskKind::kOptane;
  if (v == "hdd") return DiskKind::kHdd;
  throw std::invalid_argument("expected fixed, nvme_nand, optane or hdd");
}

std::vector<DiskKind> parse_kinds(const std::string& v) {
  std::vector<DiskKind> out;
  size_t at = 0;
  while (true) {
    const size_t comma = v.find(',', at);
    const std::string name =
        v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (name.empty()) {
      throw std::invalid_argument(
          "expected a comma-separated list of fixed, nvme_nand, optane or hdd (an empty entry at "
          "character " +
          std::to_string(at + 1) + ")");
    }
    try {
      out.push_back(parse_kind(name));
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("expected fixed, nvme_nand, optane or hdd for device " +
                                  std::to_string(out.size()) + ", got '" + name + "'");
    }
    if (out.size() > kMaxDiskDevices) {
      throw std::invalid_argument("expected at most " + std::to_string(kMaxDiskDevices) +
                                  " devices");
    }
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

}  // namespace

std::string_view disk_kind_name(DiskKind k) {
  switch (k) {
    case DiskKind::kFixed: return "fixed";
    case DiskKind::kNvmeNand: return "nvme_nand";
    case DiskKind::kOptane: return "optane";
    case DiskKind::kHdd: return "hdd";
  }
  return "?";
}

void DiskConfig::validate() const {
  if (models.empty() || models.size() > kMaxDiskDevices) {
    throw InputError("disk.model: expected 1 to " + std::to_string(kMaxDiskDevices) +
                     " device models, got " + std::to_string(models.size()));
  }
  for (DiskKind m : models) {
    if (m != DiskKind::kFixed && m != DiskKind::kNvmeNand && m != DiskKind::kOptane &&
        m != DiskKind::kHdd) {
      throw InputError("disk.model: expected fixed, nvme_nand, optane or hdd");
    }
  }
  if (fixed.latency_ns > kMaxLatencyNs) {
    throw InputError("disk.fixed.latency_ns: must be at most " + std::to_string(kMaxLatencyNs) +
                     " ns (10 s), got " + std::to_string(fixed.latency_ns));
  }
  if (fixed.bandwidth_mbps == 0 || fixed.bandwidth_mbps > kMaxBandwidthMbps) {
    throw InputError("disk.fixed.bandwidth_mbps: must be between 1 and " +
                     std::to_string(kMaxBandwidthMbps) + " MB/s, got " +
                     std::to_string(fixed.bandwidth_mbps));
  }

  const NvmeNandParams& n = nvme;
  range("disk.nvme.channels", n.channels, 1, 256, "channels");
  range("disk.nvme.chips_per_channel", n.chips_per_channel, 1, 64, "chips");
  range("disk.nvme.dies_per_chip", n.dies_per_chip, 1, 16, "dies");
  range("disk.nvme.planes_per_die", n.planes_per_die, 1, 16, "planes");
  range("disk.nvme.page_bytes", n.page_bytes, NvmeNand::kLpnBytes, kMaxPageBytes, "bytes");
  if ((n.page_bytes & (n.page_bytes - 1)) != 0) {
    bad("disk.nvme.page_bytes", "must be a power of two", n.page_bytes);
  }
  range("disk.nvme.read_ns", n.read_ns, 0, kMaxLatencyNs, "ns");
  range("disk.nvme.program_ns", n.program_ns, 0, kMaxLatencyNs, "ns");
  range("disk.nvme.byte_ps", n.byte_ps, 1, kMaxBytePs, "ps");
  range("disk.nvme.command_ns", n.command_ns, 0, kMaxLatencyNs, "ns");
  range("disk.nvme.data_out_setup_ns", n.data_out_setup_ns, 0, kMaxLatencyNs, "ns");
  range("disk.nvme.map_lookup_ns", n.map_lookup_ns, 0, kMaxLatencyNs, "ns");
  range("disk.nvme.cmt_entries", n.cmt_entries, 0, kMaxCmtEntries, "translation pages");
  range("disk.nvme.write_buffer_bytes", n.write_buffer_bytes, NvmeNand::kLpnBytes, kMaxWriteBuffer,
        "bytes");
  range("disk.nvme.buffer_write_ns", n.buffer_write_ns, 0, kMaxLatencyNs, "ns");

  range("disk.optane.units", optane.units, 1, 1024, "units");
  range("disk.optane.media_ns", optane.media_ns, 0, kMaxLatencyNs, "ns");
  range("disk.optane.bandwidth_mbps", optane.bandwidth_mbps, 1, kMaxBandwidthMbps, "MB/s");

  const HddParams& h = hdd;
  range("disk.hdd.cylinders", h.cylinders, 1, kMaxCylinders, "cylinders");
  range("disk.hdd.heads", h.heads, 1, kMaxHeads, "heads");
  range("disk.hdd.spt_outer", h.spt_outer, 1, kMaxSpt, "sectors");
  range("disk.hdd.spt_inner", h.spt_inner, 1, h.spt_outer, "sectors (at most disk.hdd.spt_outer)");
  range("disk.hdd.zones", h.zones, 1, std::min(kMaxZones, h.cylinders),
        "zones (at most disk.hdd.cylinders)");
  range("disk.hdd.rpm", h.rpm, kMinRpm, kMaxRpm, "rpm");
  range("disk.hdd.seek_a_ns", h.seek_a_ns, 0, kMaxLatencyNs, "ns");
  range("disk.hdd.seek_b_ns", h.seek_b_ns, 0, kMaxLatencyNs, "ns");
  range("disk.hdd.seek_cutoff", h.seek_cutoff, 0, kMaxCylinders, "cylinders");
  range("disk.hdd.seek_c_ns", h.seek_c_ns, 0, kMaxLatencyNs, "ns");
  range("disk.hdd.seek_e_ns", h.seek_e_ns, 0, kMaxSeekPerCylinderNs, "ns");
  range("disk.hdd.seek_t2t_ns", h.seek_t2t_ns, 0, kMaxLatencyNs, "ns");
  range("disk.hdd.seek_full_ns", h.seek_full_ns, h.seek_t2t_ns, kMaxLatencyNs,
        "ns (at least disk.hdd.seek_t2t_ns)");
  if (h.seek_curve == SeekCurve::kSqrt && h.cylinders < 2) {
    bad("disk.hdd.cylinders", "the sqrt seek curve needs at least 2", h.cylinders);
  }
  range("disk.hdd.controller_ns", h.controller_ns, 0, kMaxLatencyNs, "ns");
  range("disk.hdd.head_switch_ns", h.head_switch_ns, 0, kMaxLatencyNs, "ns");

  if (max_sectors_kb < 4 || max_sectors_kb > 65536 || max_sectors_kb % 4 != 0) {
    bad("disk.max_sectors_kb", "expected a multiple of 4 from 4 to 65536", max_sectors_kb);
  }
  if (core_clock_mhz == 0) throw InputError("sim.core_clock_mhz: must be positive, got 0");
}

void add_keys(ConfigSchema& s, DiskConfig& c) {
  s.add_custom(
      "disk.model", "models",
      "the storage devices behind file and swap I/O, a comma-separated list in device-number "
      "order (device 0 first; a FILE record's dev and os.linux.swap_device are these numbers): "
      "fixed (a fixed latency per request plus the transfer at a fixed bandwidth, one FIFO "
      "queue), nvme_nand (NAND SSD: channels, dies, mapping cache, write buffer), optane "
      "(parallel low-latency units) or hdd (seek curve, rotation, C-LOOK); every device of a "
      "kind takes that kind's disk.<kind>.* keys",
      [&c](const std::string& v) { c.models = parse_kinds(v); },
      [&c] {
        std::string out;
        for (DiskKind m : c.models) {
          if (!out.empty()) out += ',';
          out += disk_kind_name(m);
        }
        return out;
      });
  s.add_u32("disk.max_sectors_kb", &c.max_sectors_kb, "KiB",
            "the largest block request the kernel builds by merging adjacent blocks "
            "(max_sectors_kb; Linux's default cap 1280): reclaim's plugged swap writes to "
            "adjacent slots merge up to it (a multiple of 4)",
            4, 65536);
  s.add_u64("disk.fixed.latency_ns", &c.fixed.latency_ns, "ns",
            "fixed disk: time per request before its transfer (command path, media access)", 0,
            kMaxLatencyNs);
  s.add_u64("disk.fixed.bandwidth_mbps", &c.fixed.bandwidth_mbps, "MB/s",
            "fixed disk: transfer rate in 10^6 bytes per second", 1, kMaxBandwidthMbps);

  NvmeNandParams& n = c.nvme;
  s.add_u32("disk.nvme.channels", &n.channels, "channels", "NAND SSD: flash channels", 1, 256);
  s.add_u32("disk.nvme.chips_per_channel", &n.chips_per_channel, "chips",
            "NAND SSD: chips (ways) per channel", 1, 64);
  s.add_u32("disk.nvme.dies_per_chip", &n.dies_per_chip, "dies", "NAND SSD: dies per chip", 1, 16);
  s.add_u32("disk.nvme.planes_per_die", &n.planes_per_die, "planes",
            "NAND SSD: planes per die (addressed; a die serves one operation at a time)", 1, 16);
  s.add_u64("disk.nvme.page_bytes", &n.page_bytes, "bytes",
            "NAND SSD: flash page (a power of two; a translation page holds page_bytes / 8 "
            "entries)",
            NvmeNand::kLpnBytes, kMaxPageBytes);
  s.add_u64("disk.nvme.read_ns", &n.read_ns, "ns", "NAND SSD: array read time tR", 0,
            kMaxLatencyNs);
  s.add_u64("disk.nvme.program_ns", &n.program_ns, "ns", "NAND SSD: page program time tPROG", 0,
            kMaxLatencyNs);
  s.add_u64("disk.nvme.byte_ps", &n.byte_ps, "ps",
            "NAND SSD: channel time per byte (NVDDR2 333 MT/s, 1 byte wide: 3000)", 1, kMaxBytePs);
  s.add_u64("disk.nvme.command_ns", &n.command_ns, "ns",
            "NAND SSD: a command on the channel (tCS + 6 tWC + tWB + tRR)", 0, kMaxLatencyNs);
  s.add_u64("disk.nvme.data_out_setup_ns", &n.data_out_setup_ns, "ns",
            "NAND SSD: setup before a data-out transfer", 0, kMaxLatencyNs);
  s.add_u64("disk.nvme.map_lookup_ns", &n.map_lookup_ns, "ns",
            "NAND SSD: a mapping-table lookup in the device DRAM", 0, kMaxLatencyNs);
  s.add_u64("disk.nvme.cmt_entries", &n.cmt_entries, "pages",
            "NAND SSD: translation pages cached (LRU); 0 keeps the whole map in DRAM", 0,
            kMaxCmtEntries);
  s.add_size("disk.nvme.write_buffer_bytes", &n.write_buffer_bytes,
             "NAND SSD: write-back buffer in the device DRAM (4K to 1T)");
  s.add_u64("disk.nvme.buffer_write_ns", &n.buffer_write_ns, "ns",
            "NAND SSD: a write into the buffer until its acknowledgment", 0, kMaxLatencyNs);

  s.add_u32("disk.optane.units", &c.optane.units, "units",
            "Optane-like: media units serving requests in parallel", 1, 1024);
  s.add_u64("disk.optane.media_ns", &c.optane.media_ns, "ns",
            "Optane-like: media access per request (reads and writes)", 0, kMaxLatencyNs);
  s.add_u64("disk.optane.bandwidth_mbps", &c.optane.bandwidth_mbps, "MB/s",
            "Optane-like: internal transfer rate in 10^6 bytes per second", 1, kMaxBandwidthMbps);

  HddParams& h = c.hdd;
  s.add_custom(
      "disk.hdd.preset", "name",
      "HDD: hp97560 (Ruemmler-Wilkes 1994) or hc310 (7200 rpm, zoned); sets every disk.hdd.* "
      "default",
      [&h](const std::string& v) { h = hdd_preset(v); }, [&h] { return h.preset; }, 0);
  s.add_u32("disk.hdd.cylinders", &h.cylinders, "cylinders", "HDD: cylinders", 1, kMaxCylinders);
  s.add_u32("disk.hdd.heads", &h.heads, "heads", "HDD: heads (tracks per cylinder)", 1, kMaxHeads);
  s.add_u32("disk.hdd.spt_outer", &h.spt_outer, "sectors",
            "HDD: 512 B sectors per track, outermost zone", 1, kMaxSpt);
  s.add_u32("disk.hdd.spt_inner", &h.spt_inner, "sectors",
            "HDD: 512 B sectors per track, innermost zone", 1, kMaxSpt);
  s.add_u32("disk.hdd.zones", &h.zones, "zones",
            "HDD: equal-width zones of constant sectors per track", 1, kMaxZones);
  s.add_u32("disk.hdd.rpm", &h.rpm, "rpm", "HDD: spindle speed", kMinRpm, kMaxRpm);
  s.add_custom(
      "disk.hdd.seek_curve", "curve",
      "HDD: rw (a + b sqrt(d) up to the cutoff, c + e d beyond) or sqrt (t2t + (full - t2t) "
      "sqrt((d - 1) / (cylinders - 1)))",
      [&h](const std::string& v) {
        if (v == "rw") {
          h.seek_curve = SeekCurve::kRw;
        } else if (v == "sqrt") {
          h.seek_curve = SeekCurve::kSqrt;
        } else {
          throw std::invalid_argument("expected rw or sqrt");
        }
      },
      [&h] { return std::string(seek_curve_name(h.seek_curve)); });
  s.add_u64("disk.hdd.seek_a_ns", &h.seek_a_ns, "ns", "HDD rw seek: a", 0, kMaxLatencyNs);
  s.add_u64("disk.hdd.seek_b_ns", &h.seek_b_ns, "ns", "HDD rw seek: b, per sqrt(cylinder)", 0,
            kMaxLatencyNs);
  s.add_u64("disk.hdd.seek_cutoff", &h.seek_cutoff, "cylinders",
            "HDD rw seek: the last distance of the sqrt piece", 0, kMaxCylinders);
  s.add_u64("disk.hdd.seek_c_ns", &h.seek_c_ns, "ns", "HDD rw seek: c", 0, kMaxLatencyNs);
  s.add_u64("disk.hdd.seek_e_ns", &h.seek_e_ns, "ns", "HDD rw seek: e, per cylinder", 0,
            kMaxSeekPerCylinderNs);
  s.add_u64("disk.hdd.seek_t2t_ns", &h.seek_t2t_ns, "ns", "HDD sqrt seek: track to track", 0,
            kMaxLatencyNs);
  s.add_u64("disk.hdd.seek_full_ns", &h.seek_full_ns, "ns", "HDD sqrt seek: full stroke", 0,
            kMaxLatencyNs);
  s.add_u64("disk.hdd.controller_ns", &h.controller_ns, "ns",
            "HDD: controller overhead per request", 0, kMaxLatencyNs);
  s.add_u64("disk.hdd.head_switch_ns", &h.head_switch_ns, "ns",
            "HDD: head switch (another head, or the next track of a transfer)", 0, kMaxLatencyNs);
  s.add_custom(
      "disk.hdd.scheduler", "policy",
      "HDD: fifo (arrival order) or clook (C-LOOK by LBA, wrapping to the lowest)",
      [&h](const std::string& v) {
        if (v == "fifo") {
          h.scheduler = HddScheduler::kFifo;
        } else if (v == "clook") {
          h.scheduler = HddScheduler::kClook;
        } else {
          throw std::invalid_argument("expected fifo or clook");
        }
      },
      [&h] { return std::string(hdd_scheduler_name(h.scheduler)); });
}

std::unique_ptr<DiskModel> make_disk_model(const DiskConfig& c, size_t i) {
  c.validate();
  if (i >= c.models.size()) {
    throw std::invalid_argument("make_disk_model: no device " + std::to_string(i));
  }
  switch (c.models[i]) {
    case DiskKind::kFixed: return std::make_unique<FixedDisk>(c.fixed, c.core_clock_mhz);
    case DiskKind::kNvmeNand: return std::make_unique<NvmeNand>(c.nvme, c.core_clock_mhz);
    case DiskKind::kOptane: return std::make_unique<Optane>(c.optane, c.core_clock_mhz);
    case DiskKind::kHdd: return std::make_unique<Hdd>(c.hdd, c.core_clock_mhz);
  }
  throw InputError("disk.model: expected fixed, nvme_nand, optane or hdd");
}

}  // namespace mmusim
