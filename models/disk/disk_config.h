// Storage configuration (disk.*): which DiskModel serves file and swap I/O
// and its parameters. Plain data bound by add_keys(); validate() throws an
// InputError naming the key. make_disk_model() builds the selected model.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "models/disk/disk_model.h"
#include "models/disk/fixed_disk.h"

namespace mmusim {

class ConfigSchema;

// disk.model. `fixed` is the only model until the storage issue.
enum class DiskKind : uint8_t { kFixed };
std::string_view disk_kind_name(DiskKind k);

struct DiskConfig {
  DiskKind model = DiskKind::kFixed;  // disk.model
  FixedDiskParams fixed;              // disk.fixed.*
  uint32_t core_clock_mhz = 3000;     // not a key: follows sim.core_clock_mhz

  // Throws InputError naming the first offending key.
  void validate() const;
};

// Binds disk.model, disk.fixed.latency_ns and disk.fixed.bandwidth_mbps to
// `c` (which must outlive the schema).
void add_keys(ConfigSchema& s, DiskConfig& c);

// The model `c` selects (c validated), timed at c.core_clock_mhz.
std::unique_ptr<DiskModel> make_disk_model(const DiskConfig& c);

}  // namespace mmusim
