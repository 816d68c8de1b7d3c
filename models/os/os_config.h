// The OS model's configuration and its keys (os.*): simulated physical
// memory, the reserved low range, the first-touch fault cost and the regions
// mapped with large pages; the Linux model's own keys (os.linux.*: overcommit,
// stack limit, readahead and fault-around, the costs of linux_costs.h).
// Plain data; resolved and checked once by parse_huge_regions(),
// validate_os_config() and validate_linux_config(), then const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/arch/paging.h"
#include "models/common/error.h"
#include "models/common/types.h"
#include "models/os/address_space.h"
#include "models/os/file_cache.h"
#include "models/os/line_issue.h"
#include "models/os/linux_costs.h"
#include "models/os/page_frame.h"
#include "models/os/pressure_config.h"
#include "models/os/reclaim.h"

namespace mmusim {

class ConfigSchema;

struct HugeRegion {
  uint64_t start = 0, end = 0;  // [start, end) linear addresses, aligned to `size`
  PageSize size = PageSize::k2M;
};

struct FirstTouchConfig {
  PagingMode mode = PagingMode::k4Level;
  uint64_t phys_bytes = 8ULL << 30;     // simulated physical memory
  uint64_t reserved_low = 16ULL << 20;  // never allocated (firmware, kernel image)
  uint64_t seed = 1;
  FramePlacement placement = FramePlacement::kSpread;  // os.frame_placement
  Cycles minor_fault_cost{1000};                       // cycles per first-touch fault
  std::vector<HugeRegion> regions;                     // large-page regions
};

// The kernel model behind the CPUs' faults (os.model). linux (the default)
// is the kernel model of linux_kernel.h (processes, VMAs, page cache, every
// fault class); it runs a plain trace (no OS events) as one process whose
// every address is first-touch anonymous memory. first_touch maps a page on
// its first touch at a fixed cost (one address space, no backing store, no
// kernel memory traffic; large pages from os.huge_regions): for pure TLB
// studies. auto picks linux for a trace with OS events (tasks) and
// first_touch for a plain trace.
enum class OsModel : uint8_t { kAuto, kFirstTouch, kLinux };
std::string_view os_model_name(OsModel m);

// Dirty page writeback (os-model.md §1.5; Linux's vm.dirty_* sysctls, whose
// defaults these are). The ratios are percent of dirtyable memory (free
// frames + page-cache pages: global_dirtyable_memory() without reserves,
// highmem or anon reclaimability); a non-zero *_bytes replaces its ratio.
// `core_clock_mhz` is not a key: the composition root sets it
// (sim.core_clock_mhz) so that centiseconds become cycles.
struct WritebackConfig {
  uint32_t dirty_expire_centisecs = 3000;    // a file's pages are "old" after 30 s
  uint32_t dirty_writeback_centisecs = 500;  // the flusher's period; 0 = no periodic flusher
  uint32_t dirty_background_ratio = 10;      // percent: the flusher writes above this
  uint32_t dirty_ratio = 20;                 // percent: writers are throttled above this
  uint64_t dirty_background_bytes = 0;       // bytes; 0 = use the ratio
  uint64_t dirty_bytes = 0;                  // bytes; 0 = use the ratio
  uint32_t core_clock_mhz = 3000;
  uint32_t online_cpus = 1;  // not a key: sim.cpus (ratelimit_pages is per CPU)
  // Centiseconds (10 ms) as core cycles: cs x 10,000 us x MHz.
  [[nodiscard]] Cycles centisecs(uint64_t cs) const { return Cycles(cs * 10000 * core_clock_mhz); }
  [[nodiscard]] Cycles expire() const { return centisecs(dirty_expire_centisecs); }
  [[nodiscard]] Cycles interval() const { return centisecs(dirty_writeback_centisecs); }
  // MAX_PAUSE = max(HZ/5, 1) jiffies = 200 ms: the longest throttle sleep.
  [[nodiscard]] Cycles max_pause() const { return centisecs(20); }
};

// The Linux model (linux_kernel.h). `mode` and `implicit_anon` are not keys:
// the composition root sets them (the paging mode of the CPUs; whether the
// trace has no tasks, so every process address is first-touch anonymous
// memory).
struct LinuxConfig {
  PagingMode mode = PagingMode::k4Level;
  bool implicit_anon = false;
  OvercommitConfig overcommit;        // os.linux.overcommit_memory/_ratio/_kbytes
  uint64_t stack_limit = 8ULL << 20;  // os.linux.stack_limit: RLIMIT_STACK (bytes)
  // os.linux.ra_pages and os.linux.fault_around_bytes fill file_cache
  // (fault_around_pages = fault_around_bytes / 4 KiB, rounded down to a power
  // of two, at most one page table's entries, as Linux's debugfs knob does).
  uint64_t fault_around_bytes = 65536;
  FileCacheConfig file_cache;
  LinuxCosts cost;  // os.linux.cost.*
  // The kernel's line loops: whole_lines is os.linux.fast_strings;
  // in_flight is not a key: the composition root sets it to the CPUs' L1D
  // fill buffers (cache.l1d.mshrs).
  LineIssue lines;
  WritebackConfig writeback;  // os.linux.dirty_*
  // Memory pressure (os-model.md §1): zones and watermarks, swap, OOM
  // (os.linux.min_free_kbytes, watermark_scale_factor, zones, page_cluster,
  // oom_kill, memory_max, swap_size, swap_device, swap_kind), and reclaim (os.linux.swappiness,
  // laptop_mode). validate_pressure_config() runs where the memory size is
  // known (the composition root).
  PressureConfig pressure;
  ReclaimConfig reclaim;
};

// The kernel module's own parameters (whatever the model).
struct KernelModuleConfig {
  OsModel model = OsModel::kLinux;  // os.model
  // Cycles the initiator of a TLB shootdown spends (IPIs, waiting for the
  // acks) when another CPU runs the process. 6000 = 2 µs at 3 GHz, the low
  // end of the 2-5 µs measured (os-model.md §2.9).
  Cycles shootdown_cost{6000};  // os.shootdown_cost
};

// Upper bounds of the cost keys (README, "Configuration bounds"): every cost
// charged on an access's path (a fault, a shootdown, a switch, a system call)
// at most 2^18 cycles; the reclaim throttle's jiffy at most 2^26.
constexpr uint64_t kMaxCostCycles = uint64_t{1} << 18;
constexpr uint64_t kMaxJiffyCycles = uint64_t{1} << 26;
// Throws InputError "KEY: must be at most MAX cycles ..." when v > max.
void check_cost_bound(const std::string& key, Cycles v, uint64_t max);
// The bounds of every os.linux.cost.* key (checked whatever os.model is).
void validate_linux_costs(const LinuxCosts& c);
// The bound of os.shootdown_cost.
void validate_kernel_module_config(const KernelModuleConfig& c);

// Binds os.linux.* to `c` (which must outlive the schema).
void add_keys(ConfigSchema& s, LinuxConfig& c);
// Checks the os.linux.* rules and derives file_cache.fault_around_pages;
// throws InputError naming the key.
void validate_linux_config(LinuxConfig& c);

// The os.linux.dirty_* rules (part of validate_linux_config()); throws
// InputError naming the key.
void validate_writeback_config(const WritebackConfig& w);

// Binds os.model and os.shootdown_cost to `c`.
void add_keys(ConfigSchema& s, KernelModuleConfig& c);

// Binds os.phys_mem, os.reserved_low and os.minor_fault_cost to `c`, and
// os.huge_regions to `huge_regions` (the text, parsed by parse_huge_regions()
// once the paging mode is known); all must outlive the schema.
void add_keys(ConfigSchema& s, FirstTouchConfig& c, std::string& huge_regions);

// Parses "0x7f0000000000-0x7f0040000000:2M,0x...-0x...:1G" (empty = none).
// Throws InputError naming `key` for malformed text, misaligned bounds or a
// page size the paging mode cannot map.
std::vector<HugeRegion> parse_huge_regions(const std::string& key, const std::string& text,
                                           PagingMode mode);

// The error for os.huge_regions under the Linux model, which maps 4 KiB pages
// only (no THP yet): large-page regions need os.model=first_touch.
InputError huge_regions_need_first_touch();

// The rules among the os.* keys alone (os.phys_mem a non-zero multiple of 4K,
// os.reserved_low below it); throws InputError naming the key.
void validate_os_config(const FirstTouchConfig& c);

}  // namespace mmusim
