// The CPU <-> kernel contract: what the translation path tells the kernel
// about a fault, and what the kernel answers. The CPU side (cpu/) and the
// kernel side (os/) meet only here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/common/types.h"

namespace mmusim {

// Page-fault kinds, as values (the error code the SDM would give, by cause).
enum class FaultKind : uint8_t {
  kNone,
  kNotPresent,      // P = 0 at some level
  kWriteProtect,    // write to a read-only page (R/W = 0 somewhere, CR0.WP or user)
  kUserSupervisor,  // user access to a supervisor page (U/S = 0 somewhere)
  kExecuteDisable,  // instruction fetch from an XD page
  kReservedBit,     // a reserved bit set in a present entry
  kNonCanonical,    // linear address not canonical (#GP, no walk)
};
constexpr int kNumFaultKinds = 7;

constexpr std::string_view fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::kNone: return "none";
    case FaultKind::kNotPresent: return "not_present";
    case FaultKind::kWriteProtect: return "write_protect";
    case FaultKind::kUserSupervisor: return "user_supervisor";
    case FaultKind::kExecuteDisable: return "execute_disable";
    case FaultKind::kReservedBit: return "reserved_bit";
    case FaultKind::kNonCanonical: return "non_canonical";
  }
  return "?";
}

// A task: one thread of a process.
struct TaskId {
  uint32_t pid = 0;
  uint32_t tid = 0;
  friend bool operator==(TaskId a, TaskId b) { return a.pid == b.pid && a.tid == b.tid; }
  friend bool operator!=(TaskId a, TaskId b) { return !(a == b); }
  friend bool operator<(TaskId a, TaskId b) {
    return a.pid != b.pid ? a.pid < b.pid : a.tid < b.tid;
  }
};

// What the CPU tells the kernel when an access faults (the hardware's error
// code and CR2, plus who and when).
struct FaultInfo {
  LinearAddr addr;  // CR2: the faulting linear address
  AccessKind kind = AccessKind::kRead;
  FaultKind fault = FaultKind::kNone;
  bool user = true;  // CPL 3 when it faulted
  uint32_t cpu = 0;
  uint32_t pid = 0;  // process running on the CPU
  uint32_t tid = 0;  // its thread (= pid for a single-threaded process)
  Asid pcid;         // its PCID
  Cycle raised;      // when the fault is delivered (older accesses retired)
  // The CPU can put the task to sleep on this fault (the access replays when
  // the task runs again): a precise fault of a task under the process model.
  bool can_block = false;
  // The --explain block of the faulting access (-1: not explained), for the
  // line that reports a sleeping fault's completion.
  int64_t explain_block = -1;
  // The faulting access's translation cycles up to the raise (its lookups
  // and walks, earlier faults' handling excluded): a task that sleeps in the
  // fault carries them to its replay (TaskDispatch::fault_translated).
  Cycles translated;
};

// Linux's fault classes (os-model.md §2.0), plus the first-touch placeholder's
// own class. SIGSEGV: the access cannot be resolved. kUaccess is not one of
// Linux's: a fault the kernel takes itself while read()/write() copies to or
// from the user buffer (copy_to_user/copy_from_user), reported as a class of
// its own (its Linux class is counted by the kernel core).
enum class FaultClass : uint8_t {
  kFirstTouch,   // os.model=first_touch: a frame mapped on first touch
  kAnonZero,     // anonymous read: the shared zero page mapped
  kAnonWrite,    // anonymous write: a new zeroed frame
  kCowCopy,      // write to a shared private page: copy
  kCowReuse,     // write to a private page now exclusive: reuse
  kSharedWrite,  // write to a shared file page (write notify)
  kFileMinor,    // page-cache hit (with fault-around)
  kFileMajor,    // page-cache miss: read-around I/O
  kSwapMajor,    // swap-in: read from the swap device
  kStackGrowth,  // below the stack VMA: the stack grows
  kSegv,         // no valid mapping or a protection violation
  kSpurious,     // the page was fixed meanwhile (another CPU, a racing fault)
  kSwapMinor,    // swap-in found in the swap cache (no I/O)
  kUaccess,      // taken by a system call's copy to or from the user buffer
};
constexpr int kNumFaultClasses = 14;

constexpr std::string_view fault_class_name(FaultClass c) {
  switch (c) {
    case FaultClass::kFirstTouch: return "first_touch";
    case FaultClass::kAnonZero: return "anon_zero";
    case FaultClass::kAnonWrite: return "anon_write";
    case FaultClass::kCowCopy: return "cow_copy";
    case FaultClass::kCowReuse: return "cow_reuse";
    case FaultClass::kSharedWrite: return "shared_write";
    case FaultClass::kFileMinor: return "file_minor";
    case FaultClass::kFileMajor: return "file_major";
    case FaultClass::kSwapMajor: return "swap_major";
    case FaultClass::kStackGrowth: return "stack_growth";
    case FaultClass::kSegv: return "segv";
    case FaultClass::kSpurious: return "spurious";
    case FaultClass::kSwapMinor: return "swap_minor";
    case FaultClass::kUaccess: return "uaccess";
  }
  return "?";
}

// Where a fault's time went, in cycles; the parts sum to resume - raised.
struct FaultTiming {
  enum Part : uint8_t {
    kTrap,        // exception entry
    kVmaLookup,   // find the VMA, check the access
    kAlloc,       // page (and page-table page) allocation
    kReclaim,     // direct reclaim inside the allocation
    kZeroCopy,    // zero-fill or COW copy (the kernel's memory traffic)
    kIoQueue,     // I/O submission and queueing
    kDevice,      // the storage device
    kDma,         // DMA of the data into memory
    kInterrupt,   // completion interrupt
    kWake,        // waking the task, switching back to it
    kPteInstall,  // PTE writes (the kernel's memory traffic)
    kShootdown,   // TLB shootdown of other CPUs (IPIs and acks)
    kReturn,      // exception return
    kNumParts
  };
  std::array<uint64_t, kNumParts> part{};
  void add(Part p, Cycles c) { part[p] += c.count(); }
  [[nodiscard]] uint64_t total() const {
    uint64_t t = 0;
    for (uint64_t v : part) t += v;
    return t;
  }
  static constexpr std::string_view name(Part p) {
    constexpr std::array<std::string_view, kNumParts> kNames = {
        "trap", "vma_lookup", "alloc", "reclaim",     "zero_copy", "io_queue", "device",
        "dma",  "interrupt",  "wake",  "pte_install", "shootdown", "return"};
    return kNames[p];
  }
};

// The kernel's answer. `resume` is absolute: the CPU resumes the access (or
// skips it) there, never earlier than the fault was raised.
struct FaultOutcome {
  enum class Action : uint8_t {
    kRetry,  // the handler fixed the cause: replay the access
    kSkip,   // the access cannot complete (SIGSEGV): count it and go on
    kStop,   // the simulation cannot go on (e.g. memory exhausted): stop with `message`
    kBlock,  // the task sleeps (I/O, a lock): the access is not done; it replays when the
             // task runs again (set by the kernel module, which switches tasks)
    kKill,   // SIGSEGV under a process model: the task is killed, its remaining records
             // are dropped (counted), the run goes on
  };
  Action action = Action::kRetry;
  Cycle resume;
  FaultClass cls = FaultClass::kFirstTouch;
  FaultTiming timing;
  bool tlb_flush_page = false;  // the handler changed an existing mapping of the page
  // Invalidations the faulting (or calling) CPU applies to itself before it
  // resumes, beyond tlb_flush_page: a range of 4 KiB pages of its PCID, or
  // every non-global translation of its PCID (other CPUs: shootdowns).
  struct LocalFlush {
    enum class Kind : uint8_t { kNone, kPages, kPcid };
    Kind kind = Kind::kNone;
    LinearAddr start;
    uint64_t pages = 0;
  };
  LocalFlush flush;
  std::string message;
  // The block request a major fault waited for, as cycles (valid when the
  // kernel knew its steps): doorbell, command fetched, device start and end,
  // DMA start and end, completion interrupt (--explain prints them).
  struct IoSteps {
    bool valid = false;
    bool write = false;
    Cycle submitted, fetched, device_start, device_done, dma_start, dma_done, irq;
  };
  IoSteps io;
};

// A TLB invalidation the kernel asks a CPU (not the faulting one) to make:
// one page of a PCID, a whole PCID, or everything non-global. It arrives as
// an IPI at `at` and is applied at the CPU's next synchronization point.
struct Shootdown {
  enum class Kind : uint8_t { kPage, kPcid, kAll };
  Kind kind = Kind::kPage;
  LinearAddr addr;
  Asid pcid;
  Cycle at;
  bool reclaim = false;  // reclaim unmapped the page (statistics: was it still cached?)
};

}  // namespace mmusim
