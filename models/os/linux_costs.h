// CPU costs of the Linux model's kernel paths, in core cycles (keys
// os.linux.cost.*; os-model.md §2.9 lists the steps). Memory traffic is not
// in these numbers: zero-fill, copies, PTE writes and page-table zeroing go
// through the memory model as timed requests (KernelServices), so a fault's
// latency is its fixed costs plus what the caches and DRAM answer. Those
// requests issue as LineIssue (line_issue.h) says: at most the CPU's L1D
// fill buffers (cache.l1d.mshrs) in flight, and with fast strings
// (os.linux.fast_strings) the zero-fill's and copies' line writes take their
// lines without fetching them: 4 KiB zeroed through an idle LLC of lookup
// L >= N with N buffers takes (63 / N + 1) x L + 63 % N cycles (Skylake:
// 6 x 30 + 3 = 183), a copy whose source is there twice the rounds.
//
// A fault of each class costs (t = raise; "mem" = timed memory traffic):
//   every fault:  trap + vma_lookup + vma_level x depth (depth: levels of a
//                 16-way maple tree holding the process's VMAs) ... + fault_return
//   anon_zero:    + zero_map + mem(PTE write)
//   anon_write:   + page_alloc + mem(zero 4 KiB) + anon_setup + mem(PTE write)
//   cow_copy:     + page_alloc + mem(copy 4 KiB, or zero-fill from the zero
//                 page) + cow_setup + local_flush + shootdown + mem(PTE write)
//   cow_reuse:    + cow_reuse + mem(PTE write)
//   shared_write: + wp_shared + mem(PTE write)        (PTE present, read-only)
//   file_minor:   + page_cache_lookup + file_map + fault_around_page x N
//                 + mem(N + 1 PTE writes)             (N pages mapped around)
//   file_major:   as file_minor, plus io_submit, the wait for the device,
//                 io_complete and wake
//   stack_growth: + stack_expand, then as anon_zero or anon_write
//   segv:         + segv (signal delivery)
// plus, when page tables are missing, page_alloc + mem(zero 4 KiB) per table.
// Parts of a fault's breakdown (FaultTiming): trap; vma_lookup (+ stack_expand);
// alloc (page_alloc, page-table zeroing, page_cache_lookup); zero_copy;
// io_queue (io_submit); device (the wait for the read); interrupt
// (io_complete); wake (wake, sleeping on another fault's page); pte_install
// (anon_setup, zero_map, cow_setup, cow_reuse, wp_shared, file_map,
// fault-around, local_flush, the PTE lines); shootdown; return (fault_return
// or segv).
// A system call costs syscall_entry + its own base cost + its per-item costs
// + its memory traffic + syscall_exit. Parts of an event's breakdown: entry
// in trap, exit in return, the call's own work in vma_lookup (process
// creation, exec, exit and frame work in alloc), copies in zero_copy, PTE
// work in pte_install, waits in io_queue/device/interrupt/wake (a wait for
// a child or a vfork'd exec in wake), shootdowns in shootdown.
//
// Defaults (3 GHz core, DDR4-3200, no caches; tests/os/test_linux_calibration.cc
// holds them to design.md §7's ranges): anon write fault 0.97 µs (0.6-2.0),
// page-cache minor fault with 15 pages mapped around 0.64 µs (0.4-0.9), COW
// copy 2.9 µs (1.5-6.5), fork 107 ns per present PTE (73-160). With the
// Skylake preset's caches an anon write fault's median is 0.78 µs (0.76 on
// Zen 3), a COW copy's 2.4-2.5 µs (README, "Faults"); a major fault's
// kernel path (trap, submit, completion, wake, retry) ≈ 5.5 µs, ≈ 8.9 µs
// beside the device with the disk controller's doorbell, fetch, completion
// and interrupt (2.2 µs) and the 4 KiB DMA (1.15 µs): design.md §7's
// "device + 5-10 µs". Sources: os-model.md §2.9 ([M] entry/exit 0.1-0.3 µs,
// pcp allocation ≈ 0.1 µs, rmap/LRU/memcg 0.2-0.5 µs, xarray lookup ≈ 0.1
// µs, fault-around 25-50 ns per page, wake 1-3 µs) and §3.1 (block layer and
// driver submission 1-2 µs; MSI-X to handler 1 µs, which the controller's
// disk.controller.msix_ns times, then handler and wake-up 2 µs).
#pragma once

#include "models/common/types.h"

namespace mmusim {

struct LinuxCosts {
  // --- fault path ---
  Cycles trap{300};               // exception entry (incl. KPTI CR3 switch)
  Cycles fault_return{200};       // exception exit back to user space
  Cycles vma_lookup{90};          // lock_vma_under_rcu / mmap_lock + checks
  Cycles vma_level{30};           // per maple-tree level read
  Cycles page_alloc{300};         // pcp / buddy allocation of one frame (zeroing apart)
  Cycles page_free{150};          // freeing one frame
  Cycles anon_setup{1200};        // anon_vma prepare, memcg charge, rmap, LRU add
  Cycles zero_map{150};           // mapping the shared zero page (special PTE)
  Cycles cow_setup{6000};         // wp_page_copy: lock, memcg, rmap, LRU, old page put
  Cycles cow_reuse{900};          // wp_page_reuse: exclusivity check, PTE upgrade
  Cycles wp_shared{1200};         // wp_page_shared / do_shared_fault: page_mkwrite, dirty
  Cycles page_cache_lookup{150};  // filemap_fault: xarray lookup, folio lock
  Cycles file_map{120};           // finish_fault: rmap and refcount of a file page
  Cycles fault_around_page{60};   // filemap_map_pages, per page mapped (its PTE write apart)
  Cycles stack_expand{600};       // expand_stack: checks, accounting, VMA update
  Cycles local_flush{200};        // INVLPG (or a PCID flush) on the calling CPU
  Cycles io_submit{6000};         // block layer + driver builds the command (2 µs)
  Cycles io_complete{3000};       // completion handler: request done, page unlocked (1 µs)
  Cycles wake{6000};              // wake-up and switch back to the task (2 µs)
  Cycles segv{3000};              // signal delivery for a bad access
  // --- reclaim (os-model.md §1.2-§1.3) ---
  Cycles reclaim_scan{300};  // per LRU page isolated and checked (flags, references)
  Cycles reclaim_free{450};  // per page freed by reclaim (__remove_mapping, free)
  Cycles reclaim_line{150};  // a page-table line reclaim reads or writes (rmap walk)
  Cycles kswapd_wake{1500};  // wakeup_kswapd from the allocation slow path
  Cycles jiffy{12000000};    // reclaim_throttle's unit: 1 jiffy at HZ=250 (4 ms at 3 GHz)
  // --- system calls ---
  Cycles syscall_entry{150}, syscall_exit{150};
  Cycles mmap{1500};           // do_mmap: checks, placement, VMA allocation and insert
  Cycles munmap{1500};         // do_vmi_munmap: split/detach, mmu_gather setup
  Cycles mprotect{1200};       // mprotect_fixup
  Cycles mremap{2000};         // move_vma / vma_expand
  Cycles brk{900};             // brk: checks, do_brk_flags
  Cycles madvise{600};         // madvise_walk_vmas
  Cycles msync{900};           // msync: VMA walk (the writeback waits apart)
  Cycles vma_op{300};          // per VMA split, merge or insert beyond the first
  Cycles zap_pte{90};          // per present PTE unmapped (rmap, counters, free batching)
  Cycles change_pte{30};       // per present PTE whose protection is rewritten
  Cycles move_pte{60};         // per PTE moved by mremap
  Cycles fork{60000};          // copy_process: task, signal, files, mm_struct (20 µs)
  Cycles fork_vma{600};        // per VMA duplicated (vm_area_dup, anon_vma_fork)
  Cycles fork_pte{300};        // per present PTE copied (rmap dup, refcount, counters)
  Cycles clone_thread{30000};  // a thread: task and stack, no mm copy
  Cycles exec{150000};         // execve: binprm, mm setup (the old mm's teardown apart)
  Cycles exit{30000};          // do_exit: files, signals, mm put (teardown apart)
  Cycles wait{3000};           // wait4: reaping a zombie
  Cycles open{3000};           // path walk, file allocation
  Cycles close{900};
  Cycles rw{900};       // read()/write() base (fdget, checks)
  Cycles rw_page{300};  // per page-cache page looked up by read()/write()
  Cycles lseek{300};
  Cycles fadvise{600};
  Cycles fsync{3000};  // vfs_fsync_range base (the writeback waits apart)
};

}  // namespace mmusim
