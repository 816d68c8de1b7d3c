// One address space (Linux's mm_struct): the VMA tree, the page table, the
// heap (brk) and mmap layout, RSS counters; plus the address-space limits of
// each paging mode, Linux's mmap placement (get_unmapped_area: top-down below
// mmap_base, then bottom-up) and the overcommit accounting of os-model.md §1.8
// (Committed_AS against CommitLimit). Addresses are linear byte addresses;
// sizes in pages unless named bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/arch/paging.h"
#include "models/os/page_table.h"
#include "models/os/vma.h"

namespace mmusim {

// Where a process's mappings may go (arch/x86/mm/mmap.c, os-model.md §2.6).
//   task_size: the end of user space: 3 GiB for a 32-bit process (32-bit and
//     PAE paging: a 32-bit kernel's 3G/1G split), 2^47 - 4 KiB (4-level),
//     2^56 - 4 KiB (5-level: TASK_SIZE_MAX with LA57).
//   map_window: where mmap places without a hint above it: 2^47 - 4 KiB in
//     both 64-bit modes (DEFAULT_MAP_WINDOW), task_size in 32-bit.
//   mmap_base: map_window - gap, gap = RLIMIT_STACK + stack_guard_gap
//     clamped to [128 MiB, 5/6 map_window] (no randomization), page-aligned.
//   legacy_base: map_window / 3 (TASK_UNMAPPED_BASE), the bottom-up start.
struct MmLayout {
  uint64_t task_size = 0, map_window = 0, mmap_base = 0, legacy_base = 0;
  uint64_t mmap_min_addr = 65536;            // vm.mmap_min_addr
  uint64_t stack_guard_gap = 256 * 4096ULL;  // stack_guard_gap (256 pages)
};
MmLayout mm_layout(PagingMode mode, uint64_t stack_rlimit_bytes);

// Overcommit policy and the global Committed_AS (mm/util.c:__vm_enough_memory).
struct OvercommitConfig {
  uint32_t mode = 0;              // os.linux.overcommit_memory: 0 guess, 1 always, 2 never
  uint32_t ratio = 50;            // os.linux.overcommit_ratio (percent of RAM)
  uint64_t kbytes = 0;            // os.linux.overcommit_kbytes (replaces the ratio when > 0)
  uint64_t swap_pages = 0;        // total_swap_pages (0 until swap is modelled)
  bool cap_sys_admin = false;     // the admin reserve is skipped for CAP_SYS_ADMIN
  uint64_t admin_reserve_kb = 0;  // min(free/32, 8 MiB), fixed at boot
  uint64_t user_reserve_kb = 0;   // min(free/32, 128 MiB), fixed at boot
};

class CommitAccounting {
 public:
  CommitAccounting(const OvercommitConfig& c, uint64_t totalram_pages);
  // vm_commit_limit(): (totalram x ratio / 100 or overcommit_kbytes) + swap.
  [[nodiscard]] uint64_t commit_limit() const;
  // __vm_enough_memory(): charges `pages` and returns true, or leaves the
  // count unchanged and returns false (-ENOMEM). `total_vm` is the calling
  // mm's size in pages (mode 2's user reserve), 0 for none.
  bool charge(uint64_t pages, uint64_t total_vm);
  // Charges without a check (a recorded success the model would refuse).
  void force(uint64_t pages) { committed_ += pages; }
  void uncharge(uint64_t pages) { committed_ -= pages > committed_ ? committed_ : pages; }
  [[nodiscard]] uint64_t committed() const { return committed_; }  // pages
  [[nodiscard]] const OvercommitConfig& config() const { return cfg_; }
  [[nodiscard]] uint64_t totalram() const { return totalram_; }

 private:
  OvercommitConfig cfg_;
  uint64_t totalram_;
  uint64_t committed_ = 0;
};

// Linux's mm RSS counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES), in
// pages, and the high-water mark of their sum (hiwater_rss); MM_SWAPENTS
// (PTEs holding a swap entry) apart, not part of the RSS.
struct RssCounters {
  uint64_t anon = 0, file = 0, shmem = 0, hiwater = 0;
  uint64_t swapents = 0;
  [[nodiscard]] uint64_t total() const { return anon + file + shmem; }
  void add_anon(int64_t d) { bump(anon, d); }
  void add_file(int64_t d) { bump(file, d); }
  void add_shmem(int64_t d) { bump(shmem, d); }

 private:
  void bump(uint64_t& c, int64_t d) {
    c = static_cast<uint64_t>(static_cast<int64_t>(c) + d);
    if (total() > hiwater) hiwater = total();
  }
};

class AddressSpace {
 public:
  // `id` tags its page-table and anonymous frames (PageFrame::owner).
  AddressSpace(uint32_t id, PageTable table, const MmLayout& layout);
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  [[nodiscard]] uint32_t id() const { return id_; }
  VmaTree& vmas() { return vmas_; }
  [[nodiscard]] const VmaTree& vmas() const { return vmas_; }
  PageTable& table() { return table_; }
  [[nodiscard]] const PageTable& table() const { return table_; }
  [[nodiscard]] const MmLayout& layout() const { return layout_; }
  MmLayout& layout() { return layout_; }

  // get_unmapped_area() for `len` bytes (page-rounded): the hint when it is
  // free (and within limits), else the highest free gap below mmap_base
  // (keeping stack_guard_gap below a grows-down VMA), else the lowest from
  // legacy_base; nullopt when nothing fits (-ENOMEM).
  [[nodiscard]] std::optional<uint64_t> unmapped_area(uint64_t hint, uint64_t len) const;
  // True when [start, start + len) lies within user space.
  [[nodiscard]] bool in_user_space(uint64_t start, uint64_t len) const;

  // The heap: [start_brk, brk); 0/0 until a brk VMA or a brk call sets it.
  uint64_t start_brk = 0, brk = 0;
  // RLIMIT_STACK (bytes) for stack growth.
  uint64_t stack_rlimit = 8ULL << 20;
  // A plain trace (no OS events): every user address outside the VMAs is
  // private anonymous read/write/exec memory (the first-touch rule).
  bool implicit_anon = false;
  // The implicit VMA around `addr` (the gap between neighbours), if any.
  [[nodiscard]] std::optional<Vma> implicit_vma(uint64_t addr) const;
  RssCounters rss;
  uint32_t users = 0;  // processes using it (CLONE_VM, vfork share one)
  // The anon family (Linux's root anon_vma, simplified): the address spaces
  // forked from one exec'd image share it, and its id tags their anonymous
  // frames (PageFrame::owner), so the reverse map finds every address space
  // that may map such a frame. The id of the address space that started it;
  // 0 until the kernel's reverse map registers this one (rmap.cc).
  uint32_t anon_family = 0;

 private:
  uint32_t id_;
  VmaTree vmas_;
  PageTable table_;
  MmLayout layout_;
};

}  // namespace mmusim
