// Storage configuration (disk.*): which DiskModel serves file and swap I/O
// and its parameters. Plain data bound by add_keys(); validate() throws an
// InputError naming the key. make_disk_model() builds the selected model.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "models/disk/disk_model.h"
#include "models/disk/fixed_disk.h"
#include "models/disk/hdd.h"
#include "models/disk/nvme_nand.h"
#include "models/disk/optane.h"

namespace mmusim {

class ConfigSchema;

// disk.model.
enum class DiskKind : uint8_t { kFixed, kNvmeNand, kOptane, kHdd };
std::string_view disk_kind_name(DiskKind k);

// The most devices one controller serves (disk.model's list).
constexpr size_t kMaxDiskDevices = 16;

struct DiskConfig {
  // disk.model: the devices behind the controller, one model name each, in
  // device-number order ("nvme_nand" = one NAND SSD, device 0; "nvme_nand,hdd"
  // adds an HDD as device 1). A trace's FILE dev=N and os.linux.swap_device name a
  // device by this number. Every device of a kind takes that kind's
  // disk.<kind>.* parameters.
  std::vector<DiskKind> models{DiskKind::kNvmeNand};
  FixedDiskParams fixed;  // disk.fixed.*
  NvmeNandParams nvme;    // disk.nvme.*
  OptaneParams optane;    // disk.optane.*
  HddParams hdd;          // disk.hdd.* (defaults: disk.hdd.preset=hc310)
  // disk.max_sectors_kb: the largest request the kernel builds by merging
  // adjacent blocks (the block queue's max_sectors_kb; Linux's default is
  // BLK_DEF_MAX_SECTORS_CAP = 2560 sectors = 1280 KiB unless the device's
  // own limit is lower). Reclaim's plugged swap writes merge up to it.
  uint32_t max_sectors_kb = 1280;
  uint32_t core_clock_mhz = 3000;  // not a key: follows sim.core_clock_mhz

  // Throws InputError naming the first offending key (every model's keys
  // are checked, the selected one or not).
  void validate() const;
};

// Binds every disk.* key to `c` (which must outlive the schema).
// disk.hdd.preset is applied before the other keys (schema phase 0), so that
// the disk.hdd.* keys given explicitly override the preset in any order.
void add_keys(ConfigSchema& s, DiskConfig& c);

// Device `i`'s model (c validated, i < c.models.size()), timed at
// c.core_clock_mhz.
std::unique_ptr<DiskModel> make_disk_model(const DiskConfig& c, size_t i = 0);

}  // namespace mmusim
