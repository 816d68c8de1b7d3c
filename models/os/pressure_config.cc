#include "models/os/pressure_config.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/parse.h"
#include "models/os/swap_readahead.h"

namespace mmusim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMaxMinFreeKbytes = 2147483647;          // the sysctl is an int
constexpr uint64_t kMaxSwapBytes = uint64_t{1} << 40;       // 1 TiB: 2^28 slots
constexpr uint64_t kMaxMemoryMaxBytes = uint64_t{1} << 50;  // 1 PiB

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Index of a zone name in kZoneNames, or -1.
int zone_index(std::string_view name) {
  for (size_t i = 0; i < std::size(kZoneNames); ++i) {
    if (kZoneNames[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string_view swap_kind_choice_name(SwapKindChoice k) {
  switch (k) {
    case SwapKindChoice::kAuto: return "auto";
    case SwapKindChoice::kSolidState: return "ssd";
    case SwapKindChoice::kRotational: return "hdd";
  }
  return "?";
}

void add_keys(ConfigSchema& s, PressureConfig& c) {
  // os.linux.min_free_kbytes: vm.min_free_kbytes, the free memory every zone
  // keeps for reserve allocations, shared among the lowmem zones as their
  // min watermarks (mm/page_alloc.c calculate_min_free_kbytes(),
  // __setup_per_zone_wmarks()). Default 0 = as Linux at boot:
  // clamp(int_sqrt(16 x lowmem KiB), 128, 262144), raised with THP by
  // mm/khugepaged.c set_recommended_min_free_kbytes(). 0 .. INT_MAX, and below
  // the lowmem zones' size (validate_pressure_config()).
  s.add_u64("os.linux.min_free_kbytes", &c.min_free_kbytes, "KiB",
            "vm.min_free_kbytes: free memory kept for reserve allocations (the zones' min "
            "watermarks); 0 = derive as Linux does at boot from the lowmem size",
            0, kMaxMinFreeKbytes);
  // os.linux.watermark_scale_factor: vm.watermark_scale_factor, the distance
  // min -> low -> high in 1/10000 of a zone's pages (at least a quarter of
  // min). Default 10 (0.1 %), 1 .. 3000 as the sysctl allows
  // (mm/page_alloc.c __setup_per_zone_wmarks()).
  s.add_u32("os.linux.watermark_scale_factor", &c.watermark_scale_factor, "1/10000",
            "vm.watermark_scale_factor: gap between the min, low and high watermarks in units "
            "of 0.01 % of a zone (at least min / 4)",
            1, 3000);
  // os.linux.zones: the memory zones, not a sysctl: on x86-64 the zone limits
  // are fixed (DMA below 16 MiB, DMA32 below 4 GiB; arch/x86/mm/init.c
  // zone_sizes_init()) and their sizes come from the firmware's memory map.
  // Default "" = one normal zone over all memory; else the sizes of the lower
  // zones, the last taking the rest, e.g. "dma:16M,dma32:4080M,normal"
  // (parse_zones()).
  s.add_string("os.linux.zones", &c.zones,
               "memory zones, lowest first: NAME:SIZE,...,NAME (names dma, dma32, normal, "
               "highmem, movable; the last takes the rest); empty = one normal zone");
  // os.linux.page_cluster: vm.page-cluster, log2 of the most pages one
  // swap-in reads ahead (mm/swap.c swap_setup(): 3, or 2 with less than
  // 16 MiB of RAM; mm/swap_state.c swapin_nr_pages(); VMA readahead caps it
  // at 5). 0 .. 31 (page_cluster_max). Not given: Linux's default for the
  // memory size.
  s.add_custom(
      "os.linux.page_cluster", "log2 pages",
      "vm.page-cluster: swap readahead reads at most 2^page_cluster pages (default 3, 2 with "
      "less than 16 MiB of memory; 0 = no readahead)",
      [&c](const std::string& v) {
        const std::optional<uint64_t> x = to_u64(trim(v), IntSyntax::kDecimal);
        if (!x || *x > 31) throw std::invalid_argument("expected an integer in [0, 31]");
        c.page_cluster = static_cast<uint32_t>(*x);
        c.page_cluster_set = true;
      },
      [&c] { return std::to_string(c.page_cluster); });
  // os.linux.swap_vma_readahead: /sys/kernel/mm/swap/vma_ra_enabled. true:
  // swap-ins read ahead by virtual address (around the fault, within the VMA
  // and its PMD), unless a rotational swap area is on; false: by swap offset
  // (an aligned block of slots). Default true (mm/swap_state.c
  // enable_vma_readahead, swap_use_vma_readahead()).
  s.add_bool("os.linux.swap_vma_readahead", &c.swap_vma_readahead,
             "vma_ra_enabled: swap readahead by virtual address around the fault (true, unless "
             "swap is rotational) or by swap offset (false)");
  // os.linux.swap_size: the size of the swap area (a swap file or partition made by
  // mkswap and enabled by swapon; mm/swapfile.c read_swap_header(): its first
  // 4 KiB slot is the header). Default 0 = no swap. A multiple of 4K, 8K .. 1T.
  s.add_size("os.linux.swap_size", &c.swap_size,
             "swap area size (K/M/G/T suffixes, a multiple of 4K, including the 4K header); 0 = "
             "no swap");
  // os.linux.swap_device: the storage device that holds the swap area, by
  // its number in disk.model's list (0 = the first, the default; the
  // composition root checks it against the devices).
  s.add_u32("os.linux.swap_device", &c.swap_device, "device",
            "storage device holding the swap area: its number in disk.model's list", 0,
            kMaxSwapDevice);
  // os.linux.swap_kind: which allocator the swap area uses, as swapon picks it
  // from the device's rotational flag (mm/swapfile.c swapon: bdev_nonrot()
  // sets SWP_SOLIDSTATE): ssd = per-CPU 512-slot clusters, hdd = sequential
  // scan (and cluster swap readahead). Default auto = follow the device model.
  s.add_custom(
      "os.linux.swap_kind", "kind",
      "swap slot allocator: auto (follow the swap device: rotational or not), ssd (per-CPU "
      "clusters) or hdd (sequential scan, cluster readahead)",
      [&c](const std::string& v) {
        const std::string t = trim(v);
        if (t == "auto") {
          c.swap_kind = SwapKindChoice::kAuto;
        } else if (t == "ssd") {
          c.swap_kind = SwapKindChoice::kSolidState;
        } else if (t == "hdd") {
          c.swap_kind = SwapKindChoice::kRotational;
        } else {
          throw std::invalid_argument("expected auto, ssd or hdd");
        }
      },
      [&c] { return std::string(swap_kind_choice_name(c.swap_kind)); });
  // os.linux.oom_kill: true = out of memory, the OOM killer kills the task
  // with the highest oom_badness() (mm/oom_kill.c out_of_memory()); false =
  // an out-of-memory ends the run with an error, as vm.panic_on_oom = 1 would
  // panic (Linux has no switch that turns the killer off globally). Default
  // true.
  s.add_bool("os.linux.oom_kill", &c.oom_kill,
             "out of memory: kill the task with the highest badness (true) or end the run with "
             "an error, as vm.panic_on_oom would panic (false)");
  // os.linux.memory_max: a memory limit on the traced program, as cgroup
  // v2's memory.max of a cgroup holding it (its processes and their
  // children; mm/memcontrol.c: a charge at the limit reclaims from the
  // cgroup, then OOM-kills in it). Default 0 = none ("max"). 0 or 4K .. 1P
  // bytes, counted in whole pages.
  s.add_size("os.linux.memory_max", &c.memory_max,
             "memory limit on the traced program (its processes), like cgroup v2 memory.max: "
             "at the limit it reclaims from itself, then OOM-kills in it; 0 = none");
}

std::vector<ZoneSpec> parse_zones(const std::string& key, const std::string& text,
                                  uint64_t total_pages) {
  const std::string all = trim(text);
  if (all.empty()) return {ZoneSpec{"normal", total_pages, false}};
  std::vector<std::string> items;
  size_t pos = 0;
  for (;;) {
    const size_t comma = all.find(',', pos);
    items.push_back(trim(all.substr(pos, comma == std::string::npos ? comma : comma - pos)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::vector<ZoneSpec> out;
  uint64_t used = 0;  // pages of the zones given a size
  int prev = -1;
  bool lowmem = false;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& item = items[i];
    const bool last = i + 1 == items.size();
    if (item.empty()) throw InputError(key + ": expected NAME[:SIZE], got an empty entry");
    const size_t colon = item.find(':');
    const std::string name = trim(item.substr(0, colon));
    const int idx = zone_index(name);
    if (idx < 0) {
      throw InputError(key +
                       ": expected a zone name (dma, dma32, normal, highmem, movable), got '" +
                       name + "'");
    }
    for (const ZoneSpec& z : out) {
      if (z.name == name) throw InputError(key + ": zone '" + name + "' is given twice");
    }
    if (idx < prev) {
      throw InputError(key +
                       ": zones must be listed lowest first (dma, dma32, normal, highmem, "
                       "movable), got '" +
                       name + "' after '" + out.back().name + "'");
    }
    prev = idx;
    ZoneSpec z{name, 0, idx >= 3};
    lowmem |= !z.highmem;
    if (last) {
      if (colon != std::string::npos) {
        throw InputError(key + ": the last zone ('" + name + "') takes the rest: give it no size");
      }
      if (used >= total_pages) {
        throw InputError(key + ": the zones before '" + name + "' take " +
                         std::to_string(used * kPage) + " bytes of " +
                         std::to_string(total_pages * kPage) + ", leaving '" + name + "' empty");
      }
      z.managed_pages = total_pages - used;
    } else {
      if (colon == std::string::npos) {
        throw InputError(key + ": zone '" + name +
                         "' needs a size (NAME:SIZE; only the last "
                         "zone takes the rest)");
      }
      const std::string sz = trim(item.substr(colon + 1));
      uint64_t bytes = 0;
      try {
        bytes = parse_size(sz);
      } catch (const std::invalid_argument& e) {
        throw InputError(key + ": zone '" + name + "': " + e.what() + ", got '" + sz + "'");
      }
      if (bytes == 0 || bytes % kPage != 0) {
        throw InputError(key + ": zone '" + name + "': expected a non-zero multiple of 4K, got '" +
                         sz + "'");
      }
      z.managed_pages = bytes / kPage;
      if (z.managed_pages >= total_pages - std::min(used, total_pages)) {
        throw InputError(key + ": zone '" + name + "' (" + sz + ") does not fit in the " +
                         std::to_string((total_pages - std::min(used, total_pages)) * kPage) +
                         " bytes left before the last zone");
      }
      used += z.managed_pages;
    }
    out.push_back(z);
  }
  if (!lowmem) {
    throw InputError(key + ": expected at least one of dma, dma32 and normal (lowmem)");
  }
  return out;
}

void validate_pressure_config(PressureConfig& c, uint64_t phys_bytes) {
  auto range = [](const char* key, uint64_t v, uint64_t lo, uint64_t hi, const std::string& what) {
    if (v < lo || v > hi) {
      throw InputError(std::string(key) + ": expected " + what + ", got " + std::to_string(v));
    }
  };
  const uint64_t total_pages = phys_bytes / kPage;
  if (total_pages == 0) throw InputError("os.phys_mem: must be at least 4K");
  range("os.linux.min_free_kbytes", c.min_free_kbytes, 0, kMaxMinFreeKbytes,
        "0 (derive) .. 2147483647 KiB");
  range("os.linux.watermark_scale_factor", c.watermark_scale_factor, 1, 3000, "1..3000");
  range("os.linux.page_cluster", c.page_cluster, 0, 31, "0..31");
  if (c.swap_size != 0) {
    range("os.linux.swap_size", c.swap_size, 2 * kPage, kMaxSwapBytes,
          "0 (no swap) or 8K..1T (the 4K header and at least one slot)");
    if (c.swap_size % kPage != 0) {
      throw InputError("os.linux.swap_size: expected a multiple of 4K, got " +
                       std::to_string(c.swap_size));
    }
  }
  if (c.memory_max != 0) {
    range("os.linux.memory_max", c.memory_max, kPage, kMaxMemoryMaxBytes,
          "0 (no limit) or 4K..1P bytes");
  }
  range("os.linux.swap_device", c.swap_device, 0, kMaxSwapDevice, "0..15");
  c.zone_specs = parse_zones("os.linux.zones", c.zones, total_pages);
  const uint64_t lowmem = lowmem_pages(c.zone_specs);
  if (c.min_free_kbytes != 0) {
    if (c.min_free_kbytes / 4 >= lowmem) {
      throw InputError("os.linux.min_free_kbytes: expected less than the lowmem zones' " +
                       std::to_string(lowmem * 4) + " KiB, got " +
                       std::to_string(c.min_free_kbytes));
    }
    c.effective_min_free_kbytes = c.min_free_kbytes;
  } else {
    c.effective_min_free_kbytes =
        boot_min_free_kbytes(c.zone_specs, c.watermark_scale_factor, c.thp_enabled);
  }
  if (!c.page_cluster_set) c.page_cluster = default_page_cluster(phys_bytes);
}

}  // namespace mmusim
