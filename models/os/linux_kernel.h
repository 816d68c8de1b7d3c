// The Linux kernel model's core (os.model=linux): processes, address spaces
// (VMAs, page tables), fork/exec/exit/wait, the memory-mapping calls, file
// I/O through the page cache, and every fault class of os-model.md §2.0
// timed step by step (linux_costs.h). Plain C++, no SystemC; deterministic.
//
// For the integrator:
//  - Construction: LinuxKernel(cfg, mem, frames, cache). `cfg` is
//    validate_linux_config()'d (cfg.mode = the CPUs' paging mode;
//    cfg.implicit_anon = true when the trace has no tasks). `frames` is the
//    one PageFrameAllocator shared with `cache` (FileCache(cfg.file_cache,
//    frames, mem, disk)); the kernel allocates the shared zero page from it
//    at construction.
//  - Tasks: a task is (pid, tid) as the trace names it; FaultInfo.pid/tid and
//    TaskCall.task carry it. A process comes into being on its first mention
//    (START, an event, a fault, root()); PROC_CREATE makes the child (its
//    stream starts after the event; task_created() says when it is runnable).
//  - root(pid): the CR3 of pid's address space. An unknown pid is created on
//    the spot as an empty process, so a plain trace's pid has a root before
//    its first fault. It changes at EXEC (the caller) and for a child at
//    PROC_CREATE (a fork into a pid already queried replaces its empty
//    image): read it again after those events.
//  - Blocking: fault() answers kWaitIo (a file page's read: wait until
//    `until`) or kWaitPage (a page another fault holds while its I/O is in
//    flight; released when that fault completes). event() answers kWaitPage
//    for WAIT (key released when the child exits; at once if it already
//    has), for vfork/CLONE_VFORK (released when the child execs or exits)
//    and kWaitIo for read/write I/O and MS_SYNC/fsync writeback. The keys of
//    this core have bit 63 set (FileCache keys are passed through as is).
//  - EXIT calls task_exited() for each thread that ends; a SIGSEGV/SIGBUS
//    kills the whole process (task_exited(..., killed=true) for each thread)
//    and the fault answers kKill; with implicit_anon (no process model) a bad
//    access answers kSkip instead, as first_touch does.
//  - Shootdowns carry the PCID last seen in a fault of the process (events
//    do not know it): the module should apply them with the target CPU's
//    PCID for that process.
//  - Statistics: visit() under "kernel." (kernel.linux.*), visit_vmstat()
//    under "vmstat."; per process: process_stats(pid) / pids().
//  - Reverse map (rmap.cc), for reclaim: mappings(), referenced_ptes(),
//    try_to_unmap(), page_mapped(), exec_mapped() find every PTE that maps
//    a frame. An anonymous frame's owner is its anon family (the address
//    spaces forked from one image) and its index the page's linear index in
//    its VMA (vm_pgoff based, so it survives mremap); a page-cache frame's
//    owner is its file and a shmem frame's its object, whose mapping
//    address spaces a per-object registry lists.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/os/address_space.h"
#include "models/os/file_cache.h"
#include "models/os/kernel.h"
#include "models/os/os_config.h"
#include "models/os/page_frame.h"
#include "models/os/process.h"
#include "models/os/reclaim.h"
#include "models/os/swap_area.h"
#include "models/os/swap_readahead.h"
#include "models/os/zone.h"

namespace mmusim {

// Swap entries (os-model.md §1.6). The arch-independent value is Linux's
// swp_entry_t on 64 bits: the swap device (type, 0..31) in bits 58..62 and
// the slot (offset) in bits 0..57. 0 (type 0, slot 0: the header slot,
// never a page's) means no entry.
constexpr unsigned kSwapTypeBits = 5;
constexpr unsigned kSwapTypeShift = 58;
constexpr uint64_t kSwapOffsetMask = (uint64_t{1} << kSwapTypeShift) - 1;
constexpr uint64_t swp_entry(unsigned type, uint64_t offset) {
  return (uint64_t{type} << kSwapTypeShift) | (offset & kSwapOffsetMask);
}
constexpr unsigned swp_type(uint64_t e) { return static_cast<unsigned>(e >> kSwapTypeShift); }
constexpr uint64_t swp_offset(uint64_t e) { return e & kSwapOffsetMask; }
// The largest slot a swap PTE of paging mode `m` can hold: 2^23 - 1 in
// 32-bit paging (offset bits 9..31), 2^27 - 1 with PAE (a 32-bit kernel's
// swp_entry_t keeps 32 - 5 bits of offset), 2^50 - 1 in 4- and 5-level
// paging (offset bits 9..58).
uint64_t swp_max_offset(const PagingModeInfo& m);
// x86's non-present PTE holding swap entry `e` (arch/x86 pgtable headers):
// the present bit and bits 6..8 (D, PAT/PS, G: PROT_NONE) clear.
//   32-bit paging (4-byte entries): type in bits 1..5, offset in bits 9..31.
//   PAE, 4- and 5-level (8 bytes): type in bits 59..63, the offset inverted
//   in bits 9..58 (an L1TF mitigation: the entry's "address" bits point
//   above memory).
// Throws std::invalid_argument for e = 0, or an offset above swp_max_offset.
uint64_t swp_entry_to_pte(const PagingModeInfo& m, uint64_t e);
// The swap entry a non-present, non-zero leaf entry holds; nullopt for an
// empty or present entry.
std::optional<uint64_t> pte_to_swp_entry(const PagingModeInfo& m, uint64_t pte);

struct LinuxKernelStats {
  std::array<uint64_t, kNumFaultClasses> faults{};  // completed faults per class
  std::array<uint64_t, std::variant_size_v<OsEventBody>> events{};
  uint64_t pgfault = 0, pgmajfault = 0, pgalloc = 0, pgfree = 0, pgreuse = 0;
  uint64_t maj_retried = 0;  // faults that waited for I/O and retried (getrusage majors)
  uint64_t segv = 0, sigbus = 0, skipped = 0, kills = 0;
  uint64_t fault_around_pages = 0;  // pages mapped by fault-around (besides the faulting one)
  uint64_t lock_waits = 0, timed_lock_waits = 0;
  uint64_t pte_lines = 0;  // PTE lines written through the memory model
  uint64_t tables_allocated = 0, tables_freed = 0;
  uint64_t local_flushes = 0, shootdowns = 0;
  uint64_t forks = 0, vforks = 0, clones = 0, threads = 0, execs = 0, exits = 0, reaped = 0;
  uint64_t fork_ptes = 0;          // present PTEs copied by fork
  uint64_t recorded_failures = 0;  // events whose recorded call failed (applied as failures)
  uint64_t inline_faults = 0;      // faults taken by read()/write() copies on the user buffer
  uint64_t rw_buf_skipped = 0;     // user-buffer pages a copy could not reach (file-backed, absent)
  uint64_t copy_lines = 0;         // lines copied by read()/write()
  uint64_t untracked_fd = 0;       // calls on descriptors no OPEN made (std streams, pipes)
  uint64_t writeback_mkclean = 0;  // PTEs write-protected after writeback
  // The flusher and dirty throttling (kernel.writeback.*).
  uint64_t flusher_runs = 0;        // flush() calls (periodic or kicked)
  uint64_t flusher_kupdate = 0;     // files written because their dirty age expired
  uint64_t flusher_background = 0;  // files written because nr_dirty > background threshold
  uint64_t flusher_pages = 0;       // pages the flusher wrote
  uint64_t throttles = 0;           // write() calls throttled (balance_dirty_pages)
  uint64_t throttle_pages = 0;      // pages throttled writers wrote themselves
  uint64_t throttle_cycles = 0;     // cycles throttled writers slept
  uint64_t implicit_processes = 0;
  uint64_t rmap_walks = 0;         // reverse-map walks (referenced_ptes, try_to_unmap, ...)
  uint64_t rmap_ptes_checked = 0;  // PTEs those walks looked up
  uint64_t nr_anon_pages = 0, nr_mapped = 0, nr_shmem = 0;  // current
  std::map<std::string, uint64_t> divergence;  // recorded success the model refuses, by reason
};

class LinuxKernel : public Kernel {
 public:
  LinuxKernel(const LinuxConfig& cfg, PhysMem& mem, PageFrameAllocator& frames, FileCache& cache);
  ~LinuxKernel() override;
  LinuxKernel(const LinuxKernel&) = delete;
  LinuxKernel& operator=(const LinuxKernel&) = delete;

  KernelStep fault(const FaultInfo& f, KernelServices& s) override;
  KernelStep resume(const FaultInfo& f, uint64_t key, Cycle now, KernelServices& s) override;
  [[nodiscard]] PhysAddr root(uint32_t pid) const override;
  KernelStep event(const OsEvent& e, const TaskCall& c, KernelServices& s) override;
  KernelStep resume_event(const OsEvent& e, const TaskCall& c, uint64_t key, Cycle now,
                          KernelServices& s) override;
  void io_done(uint64_t id, const BlockTimeline& t, KernelServices& s) override;
  [[nodiscard]] bool has_processes() const override { return !cfg_.implicit_anon; }
  void visit(StatVisitor& v) const override;
  void drain_uaccess_faults(
      const std::function<void(const FaultInfo&, const FaultOutcome&)>& f) override;
  void visit_vmstat(StatVisitor& v) const override;
  void set_flusher(const std::function<void(Cycle at)>& wake) override;
  FlushRun flush(Cycle now, KernelServices& s) override;
  void set_kswapd(const std::function<void(Cycle at)>& wake) override;
  FlushRun kswapd(Cycle now, KernelServices& s) override;

  // The dirty thresholds in pages (domain_dirty_limits over dirtyable =
  // free frames + page-cache pages): background (bg_thresh) and the
  // throttling limit (thresh).
  struct DirtyLimits {
    uint64_t background = 0, limit = 0;
  };
  [[nodiscard]] DirtyLimits dirty_limits() const;
  // The key a throttled writer sleeps on when the completion that lets it go
  // is not known yet (io_done() releases it).
  static constexpr uint64_t kThrottleKey = (uint64_t{1} << 63) | (uint64_t{5} << 56);
  // balance_dirty_pages_ratelimited: pages a task dirties between checks of
  // the dirty limits (nr_dirtied_pause's initial 128 KiB in pages), and while
  // the limit is exceeded (32 KiB in pages).
  static constexpr uint32_t kDirtyRatelimit = 32;
  static constexpr uint32_t kDirtyRatelimitExceeded = 8;

  // --- memory pressure (linux_reclaim.cc) ---
  [[nodiscard]] const Zones& zones() const { return *zones_; }
  [[nodiscard]] const Reclaimer& reclaimer() const { return *reclaim_; }
  // The allocation slow path's statistics (vmstat allocstall_normal,
  // oom_kill, kswapd wake-ups and runs) and the time spent.
  struct PressureStats {
    uint64_t allocstall = 0;             // direct reclaim entries (try_to_free_pages loops)
    uint64_t direct_reclaims = 0;        // calls that entered direct reclaim
    uint64_t direct_resumes = 0;         // of their passes, resumed after sleeping for their writes
    uint64_t direct_cycles = 0;          // cycles tasks spent in direct reclaim
    uint64_t kswapd_wakeups = 0;         // wakeup_kswapd calls that woke it
    uint64_t kswapd_runs = 0;            // balance_pgdat runs
    uint64_t low_wmark_hit_quickly = 0;  // kswapd woken during its nap
    uint64_t high_wmark_hit_quickly =
        0;                       // kswapd ran again unwoken: below high after a run or a nap
    uint64_t kswapd_cycles = 0;  // cycles kswapd spent reclaiming
    uint64_t ra_refused = 0;     // readahead frames refused below the min watermark
    uint64_t oom_kill = 0;       // processes the OOM killer killed
    uint64_t oom_stops = 0;      // out of memory with os.linux.oom_kill off
    // The memory cgroup of os.linux.memory_max (memory.events: max, oom_kill).
    uint64_t memcg_max = 0;       // entries that found the usage at the limit
    uint64_t memcg_reclaims = 0;  // try_to_free_mem_cgroup_pages passes
    uint64_t memcg_oom_kill = 0;  // processes killed for the cgroup's limit
    uint64_t memcg_peak = 0;      // memory.peak (pages)
  };
  // The memory cgroup's usage (memory.current, pages): every frame allocated
  // since boot (anonymous, page cache, swap cache, page tables).
  [[nodiscard]] uint64_t memcg_usage() const;
  [[nodiscard]] const PressureStats& pressure_stats() const { return pst_; }
  // Swap (linux_swap.cc): null without os.linux.swap_size.
  [[nodiscard]] const SwapArea* swap_area() const { return swap_.get(); }
  struct SwapStats {
    uint64_t pswpin = 0, pswpout = 0;  // pages read from / written to swap
    uint64_t swap_ra = 0;              // pages swap readahead read beyond the faulting one
    uint64_t swap_ra_hit = 0;          // readahead pages a later swap fault found
    uint64_t swapcache_hits = 0;       // swap faults that found the page cached
    uint64_t swapcache_freed = 0;      // pages dropped from the swap cache at swap-in or zap
    uint64_t activate_freed = 0;       // of them, by reclaim's activate path (swap over half full)
    uint64_t write_requests = 0;       // swap-out block requests submitted (after plugging)
    uint64_t write_merges = 0;         // swap-out pages merged into the plug's last request
    uint64_t reclaim_yields = 0;       // reclaim passes stopped for their writes' completions
  };
  [[nodiscard]] const SwapStats& swap_stats() const { return sws_; }
  // The swap cache's page for `slot`, if any.
  [[nodiscard]] std::optional<Pfn> swap_cache_page(uint64_t slot) const;

  // --- inspection (reporter, tests) ---
  [[nodiscard]] const LinuxKernelStats& stats() const { return stats_; }
  [[nodiscard]] std::vector<uint32_t> pids() const;  // every process ever seen, ascending
  [[nodiscard]] const Process* process(uint32_t pid) const;
  // min/maj faults, rss now and its peak (pages) of a process; zeros if unknown.
  [[nodiscard]] ProcessStats process_stats(uint32_t pid) const;
  [[nodiscard]] const AddressSpace* address_space(uint32_t pid) const;
  [[nodiscard]] const CommitAccounting& commit() const { return commit_; }
  [[nodiscard]] Pfn zero_pfn() const { return zero_pfn_; }
  [[nodiscard]] const LinuxConfig& config() const { return cfg_; }

  // A handler's running time and its breakdown: every advance of `t` is
  // charged to one part, so the parts sum to t - start.
  struct Clock {
    Cycle t;
    FaultTiming timing;
    void add(FaultTiming::Part p, Cycles c) {
      timing.add(p, c);
      t += c;
    }
    void until(FaultTiming::Part p, Cycle done) {
      if (done > t) add(p, done - t);
    }
  };
  using Flush = FaultOutcome::LocalFlush;
  // A writer asleep in balance_dirty() since `from`.
  struct DirtyThrottle {
    bool throttled = false;
    Cycle from;
  };

  // --- reverse map (rmap.cc; mm/rmap.c) ---
  // One PTE mapping a frame.
  struct PteRef {
    uint32_t mm = 0;        // AddressSpace::id()
    uint64_t addr = 0;      // linear address of the page
    uint64_t entry = 0;     // the PTE
    uint64_t vm_flags = 0;  // the VMA's
  };
  // Every PTE that maps `pfn`, in walk order (anon: the family's address
  // spaces in the order they joined; file and shmem: by address space id;
  // then by VMA). None for the zero page, a page table or a free frame.
  // `log` receives the entry reads.
  std::vector<PteRef> mappings(Pfn pfn, PageTableLog* log = nullptr) const;
  // folio_referenced(): tests and clears the Accessed bit of every PTE that
  // maps `pfn` and returns how many had it set. No TLB flush (x86 clears
  // young bits without one). Mappings without recency (VM_SEQ_READ,
  // VM_RAND_READ) are skipped; a VM_LOCKED mapping stops the walk. With
  // `vm_flags`: the VM flags of the referencing VMAs (VM_LOCKED when the
  // walk stopped at one). `log` receives the entry reads and the writes
  // (one per cleared bit) for charge_pt(); `clk` (optional) is charged the
  // CPU costs: vma_lookup per address space visited, change_pte per PTE.
  unsigned referenced_ptes(Pfn pfn, Clock* clk = nullptr, PageTableLog* log = nullptr,
                           uint64_t* vm_flags = nullptr);
  // try_to_unmap(): removes every PTE that maps `pfn`. An anonymous page's
  // PTEs become the non-present swap entry `swap_entry` (nothing is done
  // without one: 0); a file or shmem page's are cleared. A dirty PTE dirties
  // the frame (kDirty; a page-cache page through the cache). Mapcount,
  // refcount (one per mapping), RSS (and MM_SWAPENTS) and nr_mapped follow;
  // the caller must hold a reference of its own (reclaim's isolation), so
  // the frame is never freed here (std::logic_error otherwise). A VM_LOCKED
  // mapping stops the walk. Each unmapped page is flushed from the TLBs
  // (flush_range): locally into `fl` for the caller's address space, by
  // shootdown on every other CPU running one of them; `caller` null (a
  // kernel thread): shootdowns only. Costs: vma_lookup per address space
  // visited, zap_pte per PTE, the PTE lines written, flushes. Returns true
  // when no mapping is left (page_mapped() is false).
  bool try_to_unmap(Pfn pfn, uint64_t swap_entry, Clock& clk, KernelServices& s, Flush& fl,
                    const TaskCall* caller = nullptr);
  // folio_mapped(): some PTE maps `pfn` (its mapcount).
  [[nodiscard]] bool page_mapped(Pfn pfn) const;
  // Some VMA mapping `pfn` is executable (VM_EXEC), by an rmap walk.
  [[nodiscard]] bool exec_mapped(Pfn pfn) const;

 private:
  // Faults taken by read()/write() on the user buffer since the last
  // drain_uaccess_faults() (fault_inline()).
  std::vector<std::pair<FaultInfo, FaultOutcome>> uaccess_done_;
  // A fault being handled (kept across its waits).
  struct FaultState {
    enum class Wait : uint8_t { kNone, kIo, kHeldLock, kTimedLock, kReclaim, kThrottle };
    FaultInfo f;
    Clock clk;
    Wait wait = Wait::kNone;  // what the fault waits for now
    bool retried = false;     // waited for I/O once: major (FAULT_FLAG_TRIED)
    bool holds_lock = false;  // holds the page lock of (mm, page) while its I/O is in flight
    uint32_t mm = 0;          // the address space of that lock
    uint64_t page = 0;        // and its page
    bool flush_page = false;
    FaultOutcome::IoSteps io;  // the request it waited for
    // A write fault that dirtied a shared file page ends in
    // balance_dirty_pages_ratelimited (fault_dirty_shared_page): `balance`
    // until that check is done; `cls` is the class it finishes with; the
    // writeback it starts may flush this CPU's TLB (`flush`).
    bool balance = false;
    FaultClass cls = FaultClass::kSharedWrite;
    DirtyThrottle throttle;
    Flush flush;
  };
  struct FaultKey {
    uint32_t pid, tid, cpu;
    friend bool operator<(const FaultKey& a, const FaultKey& b) {
      if (a.pid != b.pid) return a.pid < b.pid;
      if (a.tid != b.tid) return a.tid < b.tid;
      return a.cpu < b.cpu;
    }
  };
  // A page lock: held (until released) by a fault waiting for I/O, or timed
  // (until `until`, when the fault that installed the page returns).
  struct PageLock {
    uint64_t key = 0;
    Cycle until;
    bool held = false;
  };
  // An event being handled (kept across its waits).
  struct EventState {
    enum class Stage : uint8_t { kChild, kVfork, kReadIo, kWriteIo, kSync, kReclaim };
    Stage stage = Stage::kSync;
    Clock clk;
    uint64_t offset = 0, done = 0;  // read/write: file offset reached, bytes copied
    Flush flush;
    DirtyThrottle throttle;  // write(): sleeping in balance_dirty()
  };

  // --- events (linux_proc.cc) ---
  KernelStep dispatch(const OsEvent& e, const TaskCall& c, EventState& st, KernelServices& s);
  KernelStep complete_event(const OsEvent& e, const TaskCall& c, EventState& st, KernelStep r);
  void release_shmem(std::vector<std::shared_ptr<ShmemObject>>& objs);

  // --- processes (linux_proc.cc) ---
  Process& ensure_process(uint32_t pid) const;
  std::shared_ptr<AddressSpace> new_mm() const;
  void detach_mm(Process& p, Clock& clk, KernelServices* s);
  void teardown(AddressSpace& mm, Clock& clk);
  void process_exit(Process& p, int32_t code, bool killed, Clock& clk, KernelServices& s);
  KernelStep ev_start(const OsEvent& e, const StartEvent& b, Clock& clk);
  KernelStep ev_proc_create(const OsEvent& e, const ProcCreateEvent& b, const TaskCall& c,
                            EventState& st, KernelServices& s);
  std::shared_ptr<AddressSpace> dup_mm(Process& parent, const TaskCall& c, Clock& clk,
                                       KernelServices& s, Flush& fl);
  KernelStep ev_thread_create(const OsEvent& e, const ThreadCreateEvent& b, Clock& clk,
                              KernelServices& s);
  KernelStep ev_exec(const OsEvent& e, const ExecEvent& b, Clock& clk, KernelServices& s);
  KernelStep ev_exit(const OsEvent& e, const ExitEvent& b, Clock& clk, KernelServices& s);
  KernelStep ev_wait(const OsEvent& e, const WaitEvent& b, EventState& st);
  bool reap(uint32_t pid);

  // --- memory-mapping calls (linux_mm.cc) ---
  KernelStep ev_vma_init(const OsEvent& e, const VmaInitEvent& b, Clock& clk);
  KernelStep ev_mmap(const OsEvent& e, const MmapEvent& b, Clock& clk, KernelServices& s,
                     Flush& fl);
  KernelStep ev_munmap(const OsEvent& e, const MunmapEvent& b, Clock& clk, KernelServices& s,
                       Flush& fl);
  KernelStep ev_mprotect(const OsEvent& e, const MprotectEvent& b, Clock& clk, KernelServices& s,
                         Flush& fl);
  KernelStep ev_mremap(const OsEvent& e, const MremapEvent& b, Clock& clk, KernelServices& s,
                       Flush& fl);
  KernelStep ev_brk(const OsEvent& e, const BrkEvent& b, Clock& clk, KernelServices& s, Flush& fl);
  KernelStep ev_madvise(const OsEvent& e, const MadviseEvent& b, Clock& clk, KernelServices& s,
                        Flush& fl);
  KernelStep ev_msync(const OsEvent& e, const MsyncEvent& b, const TaskCall& c, Clock& clk,
                      KernelServices& s, Flush& fl);
  // munmap's work on [start, end): zaps, removes the VMAs, frees tables,
  // uncharges, flushes (local into `fl`, other CPUs through `s`).
  void unmap_range(Process& p, uint64_t start, uint64_t end, Clock& clk, KernelServices& s,
                   Flush& fl);
  void diverge(const std::string& reason);

  // --- file calls (linux_file.cc) ---
  // Declares a file id the trace uses without a FILE event (size 0).
  void ensure_file(uint32_t id);
  KernelStep ev_file(const FileEvent& b, Clock& clk);
  KernelStep ev_open(const OsEvent& e, const OpenEvent& b, Clock& clk);
  KernelStep ev_close(const OsEvent& e, const CloseEvent& b, Clock& clk);
  KernelStep ev_rw(const OsEvent& e, const RwEvent& b, const TaskCall& c, EventState& st,
                   KernelServices& s);
  KernelStep ev_lseek(const OsEvent& e, const LseekEvent& b, Clock& clk);
  KernelStep ev_fadvise(const OsEvent& e, const FadviseEvent& b, Clock& clk);
  KernelStep ev_fsync(const OsEvent& e, const FsyncEvent& b, const TaskCall& c, Clock& clk,
                      KernelServices& s, Flush& fl);
  // Copies `len` bytes between user address `va` and physical `phys` (a
  // page-cache page), as lines through the memory model; faults the user
  // page in first when it can be done without I/O.
  void copy_user(Process& p, const TaskCall& c, uint64_t va, PhysAddr phys, uint64_t len,
                 bool to_user, Clock& clk, KernelServices& s, Flush& fl);
  // Writes back dirty pages [first, last] of a file as part of completion
  // group `group`; write-protects their shared PTEs (mkclean).
  void writeback(uint32_t file_id, uint64_t first, uint64_t last, const TaskCall& c, Clock& clk,
                 KernelServices& s, Flush& fl, uint64_t group);
  // balance_dirty_pages after a write() or a shared-write fault: done, or
  // the throttle's sleep (on kThrottleKey).
  KernelStep balance_dirty(DirtyThrottle& th, Clock& clk, Flush& fl, const TaskCall& c,
                           KernelServices& s);
  // balance_dirty_pages_ratelimited after a fault dirtied a shared file page:
  // counts the page against the task's ratelimit and throttles when due.
  KernelStep balance_dirty_ratelimited(FaultState& st, KernelServices& s);
  // Writes the whole dirty file `id` without waiting (WB_SYNC_NONE) in
  // `clk`'s time; returns the pages written.
  uint64_t write_file(uint32_t id, const TaskCall& c, Clock& clk, KernelServices& s, Flush& fl);
  // The page cache's hook: a page became dirty at `at`.
  void dirtied(Cycle at);
  // After the last writeback() of `group`: done, or a wait for its writes.
  KernelStep wait_group(uint64_t group, Clock& clk);
  // The wait for I/O `key` ended at `now`: the request's steps (queue,
  // device, DMA, interrupt) as far as its timeline is known, the rest until
  // `now` as wake-up delay, then the completion and wake-up costs. `io`
  // (optional) receives the steps.
  void io_parts(Clock& clk, uint64_t key, Cycle now, FaultOutcome::IoSteps* io = nullptr) const;

  // --- faults (linux_kernel.cc, anon_fault.cc, file_fault.cc) ---
  KernelStep handle(FaultState& st, KernelServices& s);
  KernelStep finish(FaultState& st, FaultClass cls, KernelServices& s);
  KernelStep segv(FaultState& st, KernelServices& s, bool sigbus);
  KernelStep stop(FaultState& st, const std::string& why);
  KernelStep wait_lock(FaultState& st, const PageLock& l);
  KernelStep wait_io(FaultState& st, uint64_t key, Cycle until, uint64_t page);
  std::optional<Vma> expand_stack(AddressSpace& mm, uint64_t addr, Clock& clk);
  KernelStep anon_fault(FaultState& st, Process& p, const Vma& v, bool grew, KernelServices& s);
  KernelStep shmem_fault(FaultState& st, Process& p, const Vma& v, KernelServices& s);
  KernelStep wp_fault(FaultState& st, Process& p, const Vma& v, const Mapping& m,
                      KernelServices& s);
  KernelStep file_fault(FaultState& st, Process& p, const Vma& v, KernelServices& s);
  // A fault on a PTE that holds swap entry `entry` (do_swap_page): not
  // modelled yet, the run stops with a message (class swap_major).
  KernelStep handle_swap_fault(FaultState& st, uint64_t entry);
  // The inline fault of a copy_to/from_user; true when the page is now mapped.
  bool fault_inline(Process& p, const TaskCall& c, uint64_t va, bool write, Clock& clk,
                    KernelServices& s, Flush& fl);

  // --- PTEs and their timing (linux_pte.cc) ---
  // Leaf flags for a page of `v`: user, accessed, dirty/writable as asked,
  // XD unless VM_EXEC; no user access when the VMA allows none (PROT_NONE).
  [[nodiscard]] static uint64_t pte_flags(const Vma& v, bool writable, bool dirty);
  // Times what a page-table operation logged: each new table is allocated
  // and zeroed (kAlloc), each distinct line written once, one per cycle,
  // waiting for the last (kPteInstall).
  void charge_pt(Clock& clk, PageTableLog& log, KernelServices& s);
  // Present 4 KiB leaves of `mm` in [start, end): (linear page, entry).
  std::vector<std::pair<uint64_t, uint64_t>> present_ptes(const AddressSpace& mm, uint64_t start,
                                                          uint64_t end) const;
  // The present leaves as present_ptes(), and into `swap` the 4 KiB leaves
  // holding a swap entry (non-present, non-zero).
  std::vector<std::pair<uint64_t, uint64_t>> leaf_ptes(
      const AddressSpace& mm, uint64_t start, uint64_t end,
      std::vector<std::pair<uint64_t, uint64_t>>& swap) const;
  // The swap entry in the PTE of `page`, if any (a free answer while the
  // address space has no swap PTE).
  [[nodiscard]] std::optional<uint64_t> swap_pte(const AddressSpace& mm, uint64_t page) const;
  // Unmaps the present PTEs of `v` in [start, end): frees, puts and dirties
  // their pages as zap_pte_range() does. Returns the number zapped.
  uint64_t zap(AddressSpace& mm, const Vma& v, uint64_t start, uint64_t end, PageTableLog& log);
  // Drops one mapping of frame `pfn` (mapped by `v`, entry `e`).
  void drop_page(AddressSpace& mm, const Vma& v, Pfn pfn, uint64_t e);
  // Frees a frame the kernel core allocated (anon, shmem).
  void free_frame(Pfn pfn);
  // The open file behind descriptor `fd` of `p`; null (counted as
  // untracked_fd) for a descriptor no OPEN made.
  OpenFile* open_file(const Process& p, int32_t fd);
  std::optional<Pfn> alloc_frame(Clock& clk, KernelServices& s, bool zero);
  // Makes `pfn` a private anonymous page of `mm` at linear `page` of VMA `v`,
  // mapped once (folio_add_new_anon_rmap: owner = the anon family, index =
  // v.pgoff_of(page)), and counts it; `setup` cycles of PTE install.
  void new_anon_page(Clock& clk, Pfn pfn, AddressSpace& mm, const Vma& v, uint64_t page,
                     Cycles setup);
  void map_file_page(AddressSpace& mm, const CachedPage& page);  // refcount + counters
  // TLB: local flush of [start, end) into `fl` and a shootdown of every
  // other CPU running a process that uses `mm`.
  void flush_range(const AddressSpace& mm, uint32_t self_cpu, uint64_t start, uint64_t end,
                   Clock& clk, KernelServices& s, Flush& fl, bool local = true);
  static void merge_flush(Flush& into, const Flush& f);
  uint64_t new_key(uint8_t kind, uint64_t v);
  [[nodiscard]] static uint64_t child_key(uint32_t pid);
  [[nodiscard]] static uint64_t vfork_key(uint32_t pid);
  Asid pcid_of(uint32_t pid) const;

  // --- reverse map (rmap.cc) ---
  // Called for each PTE mapping the frame: (address space, VMA, page,
  // leaf); returns false to stop the walk.
  using RmapVisit = std::function<bool(AddressSpace&, const Vma&, uint64_t, const Mapping&)>;
  // rmap_walk(): visits every PTE that maps `pfn` until `f` says stop or the
  // frame's mapcount is reached; returns the address spaces visited.
  unsigned rmap_walk(Pfn pfn, PageTableLog* log, const RmapVisit& f) const;
  // Registers `mm` in the reverse map unless it already is: in anon family
  // `family` (0: a family of its own, id = mm's id) and as a mapper of the
  // objects its VMA tree maps (the tree's hook keeps that up to date).
  // Address spaces register before their first file or shmem VMA or
  // anonymous page (mmap, VMA_INIT, fork, the first anonymous page).
  void rmap_attach(AddressSpace& mm, uint32_t family = 0);
  // Removes it (its teardown): from its family and every object registry.
  void rmap_detach(AddressSpace& mm);

  // --- memory pressure (linux_reclaim.cc) ---
  class Pressure;  // the ReclaimHost and PageCacheObserver the kernel lends
  friend class Pressure;
  struct PressureDelete {
    void operator()(Pressure* p) const;
  };
  enum class Reserve : uint8_t { kOk, kKilledSelf, kStop, kWait };
  // The allocation path's watermark checks before a call that may allocate
  // (os-model.md §1.2): below low wakes kswapd; at or below min, direct
  // reclaim in the caller's time (kReclaim), retried while it makes
  // progress; without progress, the OOM killer (which may kill the caller:
  // kKilledSelf) or, with oom_kill off, kStop (`why` says it). While another
  // reclaim (kswapd's or another task's) is in progress, kWait: sleep on
  // kReclaimKey, released when it ends, and check again (reclaim's host
  // calls go through the memory model, where other threads run meanwhile).
  static constexpr uint64_t kReclaimKey = (uint64_t{1} << 63) | (uint64_t{6} << 56);
  // Direct reclaim that freed nothing while writes are in flight sleeps on
  // this key until a write completes (reclaim_throttle(WRITEBACK)).
  static constexpr uint64_t kWritebackWaitKey = (uint64_t{1} << 63) | (uint64_t{8} << 56);
  Reserve reserve(Clock& clk, KernelServices& s, const TaskCall& c, std::string& why);
  // Builds the zones, the reclaim engine and the page cache's observer.
  void init_pressure();
  // Wakes kswapd at `at` (wakeup_kswapd) unless it is hopeless.
  // True when it woke it.
  bool wake_kswapd(Cycle at);
  // Charges the cycles a reclaim pass cost (pages scanned and freed,
  // throttles) to `clk` under `part`.
  void charge_reclaim(Clock& clk, const ReclaimResult& r, FaultTiming::Part part);
  // Ends a reclaim session: not busy, the waiters released.
  void end_reclaim(KernelServices& s);
  // A system call's body after its entry: the watermark checks, then dispatch.
  KernelStep event_body(const OsEvent& e, const TaskCall& c, EventState& st, KernelServices& s);
  // The OOM killer: the victim (oom_badness), killed and its memory freed;
  // false when there is none.
  bool oom_kill(Clock& clk, KernelServices& s, uint32_t self_pid, bool& killed_self);
  // LRU hooks of anonymous pages.
  void lru_add_anon(Pfn pfn);

  // --- swap (linux_swap.cc; mm/swapfile.c, mm/swap_state.c, mm/page_io.c) ---
  // A page of the swap cache: its frame, and while its read is in flight
  // the request's key and completion (the maximum until io_done()).
  struct SwapPage {
    Pfn pfn;
    uint64_t key = 0;
    Cycle ready{0};
    bool readahead = false;  // brought in by swap readahead, not used yet
  };
  struct SwapIo {
    std::vector<uint64_t> slots;
    bool write = false;
    Cycle at{0};  // submitted
  };
  // A request in reclaim's plug (blk_plug): consecutive slots, their frames.
  struct PluggedWrite {
    std::vector<uint64_t> slots;
    std::vector<Pfn> frames;
  };
  void init_swap();
  // add_to_swap(): a slot for the anonymous page, which joins the swap
  // cache (a reference, kSwapCache, kDirty). False when swap is full.
  bool swap_add(Pfn pfn);
  // try_to_unmap of an anonymous page in the swap cache: its PTEs become
  // the slot's swap entries (one slot reference each).
  bool swap_unmap(Pfn pfn, Clock& clk, KernelServices& s);
  // swap_writepage(): the page queued for its slot in the plug, merged into
  // the plug's last request when its slot follows that request's and the
  // request stays within os.linux.swap_max_request... (kWriteback until the
  // completion); pswpout.
  PageoutResult swap_pageout(Pfn pfn, Clock& clk);
  // blk_finish_plug() / blk_mq_flush_plug_list(): submit the plugged
  // requests at `at`.
  void swap_flush_plug(Cycle at);
  // reclaim's yield point (ReclaimHost::yield): true when a swap write in
  // flight may have completed by `now` (submitted at least the fastest
  // swap write seen so far before it).
  bool swap_write_may_be_done(Cycle now) const;
  // __remove_mapping of a clean, idle, unmapped swap-cache page: out of the
  // cache (its slot reference dropped), freed; the shadow's key.
  bool swap_remove(Pfn pfn, std::optional<ShadowKey>& shadow);
  // A swap PTE went away (zap, exit): free_swap_and_cache().
  void swap_put(uint64_t entry);
  // fork copied a swap PTE: swap_duplicate().
  void swap_dup(uint64_t entry);
  // Drops `slot`'s page from the swap cache when nothing but the cache holds
  // the slot and the page is idle (folio_free_swap); true if it did.
  bool swap_try_free(uint64_t slot);
  // Swap I/O completion: true if `id` was a swap request.
  bool swap_io_done(uint64_t id, const BlockTimeline& t, KernelServices& s);
  // Submits a swap request for `slots` (consecutive) at `at`; its key and
  // completion (the maximum while unknown).
  std::pair<uint64_t, Cycle> swap_submit(const std::vector<uint64_t>& slots, bool write,
                                         const std::vector<Pfn>& frames, Cycle at);
  // do_swap_page() for the fault on swap entry `entry` of `v`.
  KernelStep swap_fault(FaultState& st, Process& p, const Vma& v, uint64_t entry,
                        KernelServices& s);

  LinuxConfig cfg_;
  PhysMem& mem_;
  PageFrameAllocator& frames_;
  FileCache& cache_;
  CommitAccounting commit_;
  Pfn zero_pfn_;
  // Processes, created on first mention (root() is const, hence mutable).
  mutable std::map<uint32_t, Process> procs_;
  mutable uint32_t next_mm_ = 1;
  mutable LinuxKernelStats stats_;
  uint32_t next_shmem_ = 1;
  uint64_t next_key_ = 1;
  std::map<FaultKey, FaultState> faults_;                    // faults waiting
  std::map<TaskId, EventState> events_;                      // events waiting
  std::map<std::pair<uint32_t, uint64_t>, PageLock> locks_;  // (mm, page)
  // Timed locks by expiry, to drop them once every fault is past them.
  std::priority_queue<std::pair<uint64_t, std::pair<uint32_t, uint64_t>>,
                      std::vector<std::pair<uint64_t, std::pair<uint32_t, uint64_t>>>,
                      std::greater<>>
      expiry_;
  std::map<uint32_t, Asid> pcid_;
  // The reverse map: anon family id -> its address spaces in joining order;
  // backing object (backing_key) -> the address spaces mapping it, by id.
  // Entries go when the address space is torn down.
  std::map<uint32_t, std::vector<AddressSpace*>> anon_families_;
  std::map<uint64_t, std::map<uint32_t, AddressSpace*>> mappers_;
  uint32_t cpu_ = 0;  // the CPU of the event being handled (shootdowns skip it)
  // The flusher: how to wake it, when it runs next (the maximum: idle), its
  // last periodic (kupdate) pass, a background kick pending, writers asleep
  // on kThrottleKey.
  std::function<void(Cycle)> wake_flusher_;
  Cycle next_flush_{~uint64_t{0}};
  Cycle last_old_flush_;
  bool bg_kicked_ = false;
  uint64_t throttle_waiters_ = 0;
  std::map<TaskId, uint32_t> nr_dirtied_;  // pages a task dirtied by faults since its last check
  std::map<uint32_t, uint64_t> bdp_ratelimits_;  // pages dirtied on a CPU since a check there
  bool dirty_exceeded_ = false;                  // the last check found the limit exceeded
  uint64_t memcg_base_ = 0;                      // frames in use at boot (the zero page)
  bool reclaim_unmap_ = false;                   // reclaim is unmapping: shootdowns say so
  [[nodiscard]] bool memcg_over() const;
  // Memory pressure: watermarks, the reclaim engine and its host, kswapd's
  // wake-up, the context of the reclaim in progress (host callbacks are
  // timed in it).
  std::unique_ptr<Zones> zones_;
  std::unique_ptr<Pressure, PressureDelete> pressure_;
  std::unique_ptr<Reclaimer> reclaim_;
  std::function<void(Cycle)> wake_kswapd_;
  bool kswapd_due_ = false;  // woken and not run yet
  // kswapd_try_to_sleep's nap: HZ/10 (25 jiffies at HZ=250, as the
  // reclaim throttle's writeback sleep); its end while napping, or never.
  static constexpr uint64_t kKswapdNapJiffies = 25;
  Cycle kswapd_nap_end_ = kNeverCycle;
  bool reclaim_busy_ = false;  // a reclaim session is in progress
  uint64_t reclaim_waiters_ = 0;
  uint64_t wb_waiters_ = 0;   // tasks asleep on kWritebackWaitKey
  uint64_t wb_wakes_ = 0;     // releases of kWritebackWaitKey so far
  uint64_t swap_writes_ = 0;  // swap writes in flight
  uint64_t reserve_key_ = 0;  // the key of reserve()'s last kWait
  PressureStats pst_;
  Cycle now_hint_;  // the latest call's time (the page cache's allocations)
  std::unique_ptr<SwapArea> swap_;
  std::unordered_map<uint64_t, SwapPage> swap_cache_;    // slot -> page
  std::unordered_map<uint64_t, uint64_t> slot_of_;       // pfn -> slot
  std::unordered_map<uint64_t, SwapIo> swap_io_;         // request id -> its slots
  std::unordered_map<uint64_t, BlockTimeline> swap_tl_;  // completed reads, by key
  ClusterReadahead swap_ra_;
  VmaReadaheadState swap_vma_ra_;
  bool swap_vma_readahead_ = false;
  uint64_t next_swap_id_ = 0;
  std::vector<PluggedWrite> swap_plug_;  // reclaim's plug, submitted by swap_flush_plug()
  std::multiset<Cycle> swap_write_at_;   // submission times of the swap writes in flight
  Cycles swap_write_min_{~uint64_t{0}};  // the fastest swap write seen (submission to interrupt)
  // The direct reclaimer whose pass yielded (pid << 32 | tid), to resume it.
  uint64_t reclaim_owner_ = 0;
  bool reclaim_resume_ = false;  // its next reserve() resumes the pass
  SwapStats sws_;
};

}  // namespace mmusim
