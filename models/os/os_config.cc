#include "models/os/os_config.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {

namespace {

struct CostKey {
  const char* name;
  Cycles LinuxCosts::*field;
  const char* desc;
};
constexpr CostKey kCosts[] = {
    {"trap", &LinuxCosts::trap, "page-fault exception entry"},
    {"fault_return", &LinuxCosts::fault_return, "page-fault exception exit"},
    {"vma_lookup", &LinuxCosts::vma_lookup, "VMA lookup and access check, base"},
    {"vma_level", &LinuxCosts::vma_level, "VMA lookup, per maple-tree level"},
    {"page_alloc", &LinuxCosts::page_alloc, "allocating one frame (zeroing apart)"},
    {"page_free", &LinuxCosts::page_free, "freeing one frame"},
    {"anon_setup", &LinuxCosts::anon_setup, "new anonymous page: anon_vma, memcg, rmap, LRU"},
    {"zero_map", &LinuxCosts::zero_map, "mapping the shared zero page"},
    {"cow_setup", &LinuxCosts::cow_setup, "COW copy bookkeeping (wp_page_copy)"},
    {"cow_reuse", &LinuxCosts::cow_reuse, "COW reuse (wp_page_reuse)"},
    {"wp_shared", &LinuxCosts::wp_shared, "write to a shared file page: page_mkwrite, dirty"},
    {"page_cache_lookup", &LinuxCosts::page_cache_lookup, "filemap_fault page-cache lookup"},
    {"file_map", &LinuxCosts::file_map, "mapping a file page: rmap, refcount"},
    {"fault_around_page", &LinuxCosts::fault_around_page, "per page mapped by fault-around"},
    {"stack_expand", &LinuxCosts::stack_expand, "growing the stack VMA"},
    {"local_flush", &LinuxCosts::local_flush, "TLB invalidation on the calling CPU"},
    {"reclaim_scan", &LinuxCosts::reclaim_scan, "reclaim: per LRU page isolated and checked"},
    {"reclaim_free", &LinuxCosts::reclaim_free, "reclaim: per page freed"},
    {"reclaim_line", &LinuxCosts::reclaim_line,
     "reclaim: latency of a page-table line its rmap walk reads or writes (the request "
     "reaches the DRAM after the pass)"},
    {"kswapd_wake", &LinuxCosts::kswapd_wake, "waking kswapd from an allocation"},
    {"jiffy", &LinuxCosts::jiffy,
     "one jiffy (HZ=250: 4 ms at 3 GHz), reclaim_throttle's sleep unit (WRITEBACK = 25)"},
    {"io_submit", &LinuxCosts::io_submit, "submitting a read (block layer, driver)"},
    {"io_complete", &LinuxCosts::io_complete,
     "I/O completion handler: request done, page unlocked"},
    {"wake", &LinuxCosts::wake, "waking a sleeping task and switching to it"},
    {"segv", &LinuxCosts::segv, "delivering SIGSEGV/SIGBUS"},
    {"syscall_entry", &LinuxCosts::syscall_entry, "system call entry"},
    {"syscall_exit", &LinuxCosts::syscall_exit, "system call exit"},
    {"mmap", &LinuxCosts::mmap, "mmap base"},
    {"munmap", &LinuxCosts::munmap, "munmap base"},
    {"mprotect", &LinuxCosts::mprotect, "mprotect base"},
    {"mremap", &LinuxCosts::mremap, "mremap base"},
    {"brk", &LinuxCosts::brk, "brk base"},
    {"madvise", &LinuxCosts::madvise, "madvise base"},
    {"msync", &LinuxCosts::msync, "msync base (writeback waits apart)"},
    {"vma_op", &LinuxCosts::vma_op, "per VMA split, merge or insert"},
    {"zap_pte", &LinuxCosts::zap_pte, "per present PTE unmapped"},
    {"change_pte", &LinuxCosts::change_pte, "per PTE whose protection changes"},
    {"move_pte", &LinuxCosts::move_pte, "per PTE moved by mremap"},
    {"fork", &LinuxCosts::fork, "fork/clone of a process, base"},
    {"fork_vma", &LinuxCosts::fork_vma, "fork, per VMA duplicated"},
    {"fork_pte", &LinuxCosts::fork_pte, "fork, per present PTE copied"},
    {"clone_thread", &LinuxCosts::clone_thread, "creating a thread"},
    {"exec", &LinuxCosts::exec, "execve base (teardown apart)"},
    {"exit", &LinuxCosts::exit, "exit base (teardown apart)"},
    {"wait", &LinuxCosts::wait, "wait4 reaping a child"},
    {"open", &LinuxCosts::open, "open"},
    {"close", &LinuxCosts::close, "close"},
    {"rw", &LinuxCosts::rw, "read/write base"},
    {"rw_page", &LinuxCosts::rw_page, "read/write, per page-cache page"},
    {"lseek", &LinuxCosts::lseek, "lseek"},
    {"fadvise", &LinuxCosts::fadvise, "fadvise"},
    {"fsync", &LinuxCosts::fsync, "fsync base (writeback waits apart)"},
};

}  // namespace

void add_keys(ConfigSchema& s, FirstTouchConfig& c, std::string& huge_regions) {
  s.add_size("os.phys_mem", &c.phys_bytes, "simulated physical memory (K/M/G suffixes)");
  s.add_size("os.reserved_low", &c.reserved_low, "physical memory at address 0 never allocated");
  s.add_custom(
      "os.frame_placement", "policy",
      "where free frames are taken from: spread (seeded random blocks over all of memory, like a "
      "long-running system) or sequential (lowest address first, like a fresh boot)",
      [&c](const std::string& v) {
        const auto p = parse_frame_placement(v);
        if (!p) throw std::invalid_argument("expected spread or sequential");
        c.placement = *p;
      },
      [&c] { return std::string(frame_placement_name(c.placement)); });
  s.add_cycles("os.minor_fault_cost", &c.minor_fault_cost,
               "cost of a first-touch (minor) page fault, delivery to return");
  s.add_string("os.huge_regions", &huge_regions,
               "linear regions mapped with large pages: START-END:SIZE[,...] (SIZE 2M, 4M or 1G)");
}

InputError huge_regions_need_first_touch() {
  return InputError(
      "os.huge_regions: large-page regions are mapped by os.model=first_touch only (the linux "
      "model, the default, maps 4K pages: no THP yet); set os.model=first_touch or leave "
      "os.huge_regions empty",
      {"os.huge_regions", "os.model"});
}

std::string_view os_model_name(OsModel m) {
  switch (m) {
    case OsModel::kAuto: return "auto";
    case OsModel::kFirstTouch: return "first_touch";
    case OsModel::kLinux: return "linux";
  }
  return "?";
}

void add_keys(ConfigSchema& s, KernelModuleConfig& c) {
  s.add_custom(
      "os.model", "model",
      "the kernel model: linux (processes, VMAs, page cache, every Linux fault class timed; a "
      "trace without OS events runs as one process of anonymous memory), first_touch (a page "
      "is mapped on its first touch at os.minor_fault_cost, one address space, no backing "
      "store; large pages from os.huge_regions) or auto (linux for a trace with OS events, "
      "first_touch otherwise)",
      [&c](const std::string& v) {
        if (v == "auto") {
          c.model = OsModel::kAuto;
        } else if (v == "first_touch") {
          c.model = OsModel::kFirstTouch;
        } else if (v == "linux") {
          c.model = OsModel::kLinux;
        } else {
          throw std::invalid_argument("expected auto, first_touch or linux");
        }
      },
      [&c] { return std::string(os_model_name(c.model)); });
  s.add_cycles("os.shootdown_cost", &c.shootdown_cost,
               "cycles the kernel spends on a TLB shootdown (IPIs and acks) when other CPUs run "
               "the process");
}

void add_keys(ConfigSchema& s, LinuxConfig& c) {
  add_keys(s, c.pressure);
  add_keys(s, c.reclaim);
  s.add_u32("os.linux.overcommit_memory", &c.overcommit.mode, "mode",
            "vm.overcommit_memory: 0 heuristic (refuse one request larger than RAM + swap), 1 "
            "always, 2 never (Committed_AS + request < CommitLimit - reserves)",
            0, 2);
  s.add_u32("os.linux.overcommit_ratio", &c.overcommit.ratio, "percent",
            "vm.overcommit_ratio: CommitLimit = RAM x ratio / 100 + swap (mode 2)");
  s.add_u64("os.linux.overcommit_kbytes", &c.overcommit.kbytes, "KiB",
            "vm.overcommit_kbytes: replaces the ratio term of CommitLimit when non-zero");
  s.add_size("os.linux.stack_limit", &c.stack_limit,
             "RLIMIT_STACK: how far a stack grows down, and the mmap_base gap");
  s.add_u32("os.linux.ra_pages", &c.file_cache.ra_pages, "pages",
            "readahead window (bdi ra_pages; VM_READAHEAD_PAGES = 32 = 128 KiB)", 1, 1U << 20);
  s.add_size("os.linux.fault_around_bytes", &c.fault_around_bytes,
             "fault-around window of a file read fault (rounded down to a power of two pages, "
             "at most one page table)");
  s.add_bool("os.linux.fast_strings", &c.lines.whole_lines,
             "clear_page, copy_page and user copies are fast-string stores (rep stosb/movsq/movsb "
             "with ERMS): a line they cover entirely is written whole, and a cache that misses "
             "takes it without reading it first; false: every store reads its line first");
  WritebackConfig& w = c.writeback;
  s.add_u32("os.linux.dirty_expire_centisecs", &w.dirty_expire_centisecs, "centisecs",
            "vm.dirty_expire_centisecs: the flusher writes a file whose pages have been dirty "
            "this long (0..8640000, one day)");
  s.add_u32("os.linux.dirty_writeback_centisecs", &w.dirty_writeback_centisecs, "centisecs",
            "vm.dirty_writeback_centisecs: the flusher's period while pages are dirty; 0 = no "
            "periodic writeback (0..8640000)");
  s.add_u32("os.linux.dirty_background_ratio", &w.dirty_background_ratio, "percent",
            "vm.dirty_background_ratio: the flusher starts writing when dirty pages exceed this "
            "share of dirtyable memory (free + page cache) (0..100)");
  s.add_u32("os.linux.dirty_ratio", &w.dirty_ratio, "percent",
            "vm.dirty_ratio: a write() leaving dirty + writeback pages above this share of "
            "dirtyable memory is throttled (0..100)");
  s.add_size("os.linux.dirty_background_bytes", &w.dirty_background_bytes,
             "vm.dirty_background_bytes: replaces dirty_background_ratio when non-zero (<= 1T)");
  s.add_size("os.linux.dirty_bytes", &w.dirty_bytes,
             "vm.dirty_bytes: replaces dirty_ratio when non-zero (8K..1T)");
  for (const CostKey& k : kCosts) {
    s.add_cycles(std::string("os.linux.cost.") + k.name, &(c.cost.*k.field), k.desc);
  }
}

void check_cost_bound(const std::string& key, Cycles v, uint64_t max) {
  if (v.count() > max) {
    throw InputError(key + ": must be at most " + std::to_string(max) +
                     " cycles (the bound that keeps 64-bit cycle counts from overflowing), got " +
                     std::to_string(v.count()));
  }
}

void validate_linux_costs(const LinuxCosts& c) {
  // kswapd's nap (HZ/10 = 25 jiffies) and reclaim_throttle's sleep are
  // counted in jiffies: at 0 they would take no time, and a kernel thread
  // that sleeps no time can run again at the cycle it stopped.
  if (c.jiffy.count() == 0) {
    throw InputError(
        "os.linux.cost.jiffy: must be at least 1 cycle (kswapd's nap and the reclaim "
        "throttle's sleep are counted in jiffies), got 0");
  }
  for (const CostKey& k : kCosts) {
    const bool jiffy = k.field == &LinuxCosts::jiffy;
    check_cost_bound(std::string("os.linux.cost.") + k.name, c.*k.field,
                     jiffy ? kMaxJiffyCycles : kMaxCostCycles);
  }
}

void validate_kernel_module_config(const KernelModuleConfig& c) {
  check_cost_bound("os.shootdown_cost", c.shootdown_cost, kMaxCostCycles);
}

void validate_writeback_config(const WritebackConfig& w) {
  // One day of centiseconds: x 10,000 us x 100,000 MHz (sim.core_clock_mhz's
  // bound) = 8.64e16 cycles, far from 2^64.
  constexpr uint32_t kMaxCentisecs = 8640000;
  constexpr uint64_t kMaxBytes = uint64_t{1} << 40;
  auto range = [](const char* key, uint64_t v, uint64_t lo, uint64_t hi, const char* what) {
    if (v < lo || v > hi) {
      throw InputError(std::string(key) + ": expected " + what + ", got " + std::to_string(v));
    }
  };
  range("os.linux.dirty_expire_centisecs", w.dirty_expire_centisecs, 0, kMaxCentisecs,
        "0..8640000 centiseconds (one day)");
  range("os.linux.dirty_writeback_centisecs", w.dirty_writeback_centisecs, 0, kMaxCentisecs,
        "0..8640000 centiseconds (one day; 0 = no periodic writeback)");
  range("os.linux.dirty_background_ratio", w.dirty_background_ratio, 0, 100, "0..100 percent");
  range("os.linux.dirty_ratio", w.dirty_ratio, 0, 100, "0..100 percent");
  range("os.linux.dirty_background_bytes", w.dirty_background_bytes, 0, kMaxBytes,
        "0 (use the ratio) or at most 1T");
  if (w.dirty_bytes != 0) {  // Linux's minimum: two pages
    range("os.linux.dirty_bytes", w.dirty_bytes, 8192, kMaxBytes, "0 (use the ratio) or 8K..1T");
  }
  range("sim.core_clock_mhz", w.core_clock_mhz, 1, 100000, "1..100000 MHz");
}

void validate_linux_config(LinuxConfig& c) {
  if (c.mode == PagingMode::kOff) {
    throw InputError("os.model: linux needs paging (walker.mode is off)",
                     {"os.model", "walker.mode"});
  }
  if (c.overcommit.ratio == 0 && c.overcommit.kbytes == 0 && c.overcommit.mode == 2) {
    throw InputError(
        "os.linux.overcommit_ratio: must be non-zero in mode 2 unless overcommit_kbytes is set",
        {"os.linux.overcommit_ratio", "os.linux.overcommit_memory", "os.linux.overcommit_kbytes"});
  }
  if (c.stack_limit < 4096) {
    throw InputError("os.linux.stack_limit: must be at least 4K, got " +
                     std::to_string(c.stack_limit));
  }
  validate_writeback_config(c.writeback);
  const unsigned ptrs = c.mode == PagingMode::k32Bit ? 1024 : 512;  // PTRS_PER_PTE
  uint64_t pages = c.fault_around_bytes / 4096;
  if (pages == 0) {
    throw InputError("os.linux.fault_around_bytes: must be at least 4K, got " +
                     std::to_string(c.fault_around_bytes));
  }
  while ((pages & (pages - 1)) != 0) pages &= pages - 1;  // rounddown_pow_of_two
  c.file_cache.fault_around_pages = static_cast<uint32_t>(std::min<uint64_t>(pages, ptrs));
}

std::vector<HugeRegion> parse_huge_regions(const std::string& key, const std::string& text,
                                           PagingMode mode) {
  std::vector<HugeRegion> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    size_t dash = item.find('-'), colon = item.find(':');
    HugeRegion r;
    // START and END: decimal or 0x-hex (models/common/parse.h).
    auto bound = [&item](size_t from, size_t n, uint64_t& out) {
      auto v = to_u64(std::string_view(item).substr(from, n), IntSyntax::kDecimalOrHex);
      if (v) out = *v;
      return v.has_value();
    };
    std::string sz = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (dash == std::string::npos || colon == std::string::npos || colon < dash ||
        !bound(0, dash, r.start) || !bound(dash + 1, colon - dash - 1, r.end)) {
      throw InputError(key + ": expected START-END:SIZE (e.g. 0x40000000-0x80000000:2M), got '" +
                       item + "'");
    }
    if (sz == "2M") {
      r.size = PageSize::k2M;
    } else if (sz == "1G") {
      r.size = PageSize::k1G;
    } else if (sz == "4M") {
      r.size = PageSize::k4M;
    } else {
      throw InputError(key + ": page size must be 2M, 4M or 1G, got '" + sz + "'");
    }
    if (!mode_supports(mode, r.size)) {
      throw InputError(key + ": paging mode '" + std::string(paging_mode_info(mode).name) +
                       "' cannot map " + std::string(page_size_name(r.size)) + " pages");
    }
    uint64_t mask = page_bytes(r.size) - 1;
    if ((r.start & mask) || (r.end & mask) || r.end <= r.start) {
      throw InputError(key + ": region '" + item + "' must be non-empty and aligned to " +
                       std::string(page_size_name(r.size)));
    }
    out.push_back(r);
  }
  return out;
}

void validate_os_config(const FirstTouchConfig& c) {
  if (c.phys_bytes == 0 || c.phys_bytes % 4096 != 0) {
    throw InputError("os.phys_mem: must be a non-zero multiple of 4K, got " +
                     std::to_string(c.phys_bytes));
  }
  if (c.reserved_low >= c.phys_bytes) {
    throw InputError("os.reserved_low: must be below os.phys_mem",
                     {"os.reserved_low", "os.phys_mem"});
  }
  check_cost_bound("os.minor_fault_cost", c.minor_fault_cost, kMaxCostCycles);
}

}  // namespace mmusim
