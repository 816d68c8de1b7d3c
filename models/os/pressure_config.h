// The memory-pressure configuration of the Linux model: zones and
// watermarks, swap readahead, the swap area, the OOM killer and a
// per-process memory limit (os.linux.*; add_keys() in
// pressure_config.cc documents each key). os.linux.swappiness belongs to
// ReclaimConfig (reclaim.h). Plain data; resolved and checked once by
// validate_pressure_config(), then const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/os/swap_area.h"
#include "models/os/zone.h"

namespace mmusim {

class ConfigSchema;

// os.linux.swap_kind: the allocator a swap area uses. kAuto follows the swap
// device (rotational or not), which the integrator knows: resolve_swap_kind().
enum class SwapKindChoice : uint8_t { kAuto, kSolidState, kRotational };
[[nodiscard]] std::string_view swap_kind_choice_name(SwapKindChoice k);
[[nodiscard]] inline SwapKind resolve_swap_kind(SwapKindChoice k, bool device_rotational) {
  if (k == SwapKindChoice::kAuto) {
    return device_rotational ? SwapKind::kRotational : SwapKind::kSolidState;
  }
  return k == SwapKindChoice::kRotational ? SwapKind::kRotational : SwapKind::kSolidState;
}

// The highest device number os.linux.swap_device takes (disk.model lists
// at most 16 devices).
constexpr uint32_t kMaxSwapDevice = 15;

struct PressureConfig {
  // Keys (defaults are Linux 6.12's).
  uint64_t min_free_kbytes = 0;          // os.linux.min_free_kbytes; 0 = derive as Linux
  uint32_t watermark_scale_factor = 10;  // os.linux.watermark_scale_factor
  std::string zones;                     // os.linux.zones; "" = one normal zone
  uint32_t page_cluster = 3;             // os.linux.page_cluster
  bool swap_vma_readahead = true;        // os.linux.swap_vma_readahead
  uint64_t swap_size = 0;                // os.linux.swap_size (bytes); 0 = no swap
  uint32_t swap_device = 0;              // os.linux.swap_device (disk.model list index)
  SwapKindChoice swap_kind = SwapKindChoice::kAuto;  // os.linux.swap_kind
  bool oom_kill = true;                              // os.linux.oom_kill
  uint64_t memory_max = 0;                           // os.linux.memory_max (bytes); 0 = none

  // Not keys. Whether os.linux.page_cluster was given (else Linux's default
  // for the memory size applies); set by the key. Whether THP is enabled
  // (always or madvise), which raises the derived min_free_kbytes; the
  // integrator sets it once the model has THP (false: as THP "never").
  bool page_cluster_set = false;
  bool thp_enabled = false;
  // The swap device's largest block request in bytes (disk.max_sectors_kb,
  // set by the integrator): reclaim's plug merges adjacent swap writes up to it.
  uint64_t swap_max_request = uint64_t{1280} << 10;

  // Derived by validate_pressure_config().
  std::vector<ZoneSpec> zone_specs;        // lowest first; they partition the memory
  uint64_t effective_min_free_kbytes = 0;  // min_free_kbytes, or Linux's boot value

  [[nodiscard]] uint64_t swap_slots() const { return swap_size / 4096; }  // header included
  [[nodiscard]] uint64_t memory_max_pages() const { return memory_max / 4096; }
};

// Binds os.linux.min_free_kbytes, watermark_scale_factor, zones,
// page_cluster, swap_vma_readahead, oom_kill, memory_max and os.linux.swap_size,
// swap_device, swap_kind to `c` (which must outlive the schema).
void add_keys(ConfigSchema& s, PressureConfig& c);

// Checks the keys against `phys_bytes` of memory (what the zones partition:
// pass the managed memory if reserved memory is to be left out), parses the
// zones, derives min_free_kbytes when it is 0 and page_cluster when it was
// not given (2 below 16 MiB, else 3). Throws InputError naming the key.
void validate_pressure_config(PressureConfig& c, uint64_t phys_bytes);

// Parses os.linux.zones: "" = one normal zone of all `total_pages`;
// "NAME:SIZE,...,NAME" = the sizes (bytes, K/M/G/T suffixes, multiples of
// 4K) of the lower zones and the last zone taking the rest. Names are
// Linux's zone types (dma, dma32, normal, highmem, movable), each at most
// once, lowest first, at least one of dma/dma32/normal. Throws InputError
// naming `key`.
std::vector<ZoneSpec> parse_zones(const std::string& key, const std::string& text,
                                  uint64_t total_pages);

}  // namespace mmusim
