// OS events: what a program asked of the kernel, recorded in program order
// between its memory accesses (process and thread creation, exec, exit, wait,
// the memory-mapping calls, file I/O, optional recorded context switches).
// Trace readers produce them (traces/), the kernel model consumes them (os/).
// Field values use Linux's x86-64 ABI numbers (PROT_*, MAP_*, MS_*, MADV_*,
// CLONE_*, O_*), so a recorded system call maps onto an event without
// translation. Formats: traces/README.md, "OS events".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace mmusim {

// Linux's x86-64 constants the events carry.
namespace linux_abi {
constexpr uint32_t kProtRead = 0x1, kProtWrite = 0x2, kProtExec = 0x4;
constexpr uint32_t kMapShared = 0x01, kMapPrivate = 0x02, kMapSharedValidate = 0x03,
                   kMapTypeMask = 0x0f, kMapFixed = 0x10, kMapAnonymous = 0x20,
                   kMapGrowsDown = 0x100, kMapDenyWrite = 0x800, kMapExecutable = 0x1000,
                   kMapLocked = 0x2000, kMapNoReserve = 0x4000, kMapPopulate = 0x8000,
                   kMapNonBlock = 0x10000, kMapStack = 0x20000, kMapHugeTlb = 0x40000,
                   kMapFixedNoReplace = 0x100000;
constexpr uint32_t kMsAsync = 1, kMsInvalidate = 2, kMsSync = 4;
constexpr uint32_t kMremapMayMove = 1, kMremapFixed = 2, kMremapDontUnmap = 4;
constexpr int32_t kMadvNormal = 0, kMadvRandom = 1, kMadvSequential = 2, kMadvWillNeed = 3,
                  kMadvDontNeed = 4, kMadvFree = 8, kMadvRemove = 9, kMadvDontFork = 10,
                  kMadvDoFork = 11, kMadvHugePage = 14, kMadvNoHugePage = 15, kMadvCold = 20,
                  kMadvPageOut = 21;
constexpr int32_t kFadvNormal = 0, kFadvRandom = 1, kFadvSequential = 2, kFadvWillNeed = 3,
                  kFadvDontNeed = 4, kFadvNoReuse = 5;
constexpr uint64_t kCloneVm = 0x100, kCloneFs = 0x200, kCloneFiles = 0x400, kCloneSighand = 0x800,
                   kCloneVfork = 0x4000, kCloneThread = 0x10000;
constexpr uint32_t kORdOnly = 0, kOWrOnly = 1, kORdWr = 2, kOAccMode = 3, kOCreat = 0x40,
                   kOTrunc = 0x200, kOAppend = 0x400, kODirect = 0x4000;
constexpr int32_t kSeekSet = 0, kSeekCur = 1, kSeekEnd = 2;
}  // namespace linux_abi

// A file the trace refers to: mmap, open and read name it by id, so every
// process that maps or reads it shares one page cache.
struct FileEvent {
  uint32_t file_id = 0;  // > 0, unique in the trace
  std::string path;      // informative (reports); may be empty
  uint64_t size = 0;     // bytes, at the start of the trace
  uint32_t dev = 0;      // storage device index (0 = the default disk)
};

// A process that exists when the trace starts (the first task; a trace may
// start several). Its address space is empty until VMA_INIT records fill it.
struct StartEvent {
  std::string name;           // argv0, informative
  int32_t oom_score_adj = 0;  // /proc/PID/oom_score_adj it starts with, -1000..1000
};

// fork/vfork/clone creating a process (not a thread). Emitted in the parent's
// stream; the child's stream starts after it, with a copy of the parent's
// address space at this point.
struct ProcCreateEvent {
  enum class Kind : uint8_t { kFork, kVfork, kClone };
  Kind kind = Kind::kFork;
  uint64_t clone_flags = 0;  // CLONE_* (0 for fork)
  uint32_t child_pid = 0;
  uint32_t child_tid = 0;  // = child_pid for a new process
};

// clone(CLONE_VM | CLONE_THREAD ...): a new thread in the same address space.
struct ThreadCreateEvent {
  uint64_t clone_flags = 0;
  uint32_t child_tid = 0;
  uint64_t stack = 0;  // the new thread's stack pointer (informative)
};

// execve that succeeded: the old address space is torn down; VMA_INIT
// records of the new image follow in the same stream.
struct ExecEvent {
  uint32_t file_id = 0;         // the program (0: unknown)
  uint32_t interp_file_id = 0;  // its interpreter (ld.so), 0 if none
  std::string argv0;
};

// One mapping of an initial (or freshly exec'd) address space, as the loader
// made it.
struct VmaInitEvent {
  enum class Kind : uint8_t { kFile, kAnon, kBrk, kStack, kVdso };
  uint64_t start = 0, end = 0;  // page-aligned, start < end
  uint32_t prot = 0;            // PROT_*
  bool shared = false;          // MAP_SHARED (else private)
  Kind kind = Kind::kAnon;
  uint32_t file_id = 0;  // kind file
  uint64_t offset = 0;   // file offset of `start` (page-aligned)
  bool grows_down = false;
  uint64_t max_size = 0;  // a grows-down stack's limit (RLIMIT_STACK), 0 = default
};

// exit (one thread) or exit_group (every thread of the process).
struct ExitEvent {
  int32_t code = 0;
  bool group = true;
};

// wait4/waitpid returning: the task waited for `child_pid` (the value the
// recorded call returned), or failed (ret < 0).
struct WaitEvent {
  int32_t child_pid = -1;  // the argument (-1: any child)
  int64_t ret = 0;         // the pid reaped, or -errno
};

struct MmapEvent {
  uint64_t addr = 0;  // the hint (or the fixed address)
  uint64_t len = 0;
  uint32_t prot = 0;   // PROT_*
  uint32_t flags = 0;  // MAP_*
  int32_t fd = -1;
  uint32_t file_id = 0;  // the file behind fd, 0 for anonymous
  uint64_t offset = 0;
  int64_t ret = 0;  // the mapped address, or -errno
};

struct MunmapEvent {
  uint64_t addr = 0, len = 0;
  int64_t ret = 0;
};

struct MprotectEvent {
  uint64_t addr = 0, len = 0;
  uint32_t prot = 0;
  int64_t ret = 0;
};

struct MremapEvent {
  uint64_t old_addr = 0, old_len = 0, new_len = 0;
  uint32_t flags = 0;     // MREMAP_*
  uint64_t new_addr = 0;  // with MREMAP_FIXED
  int64_t ret = 0;        // the new address, or -errno
};

// brk(req); req 0 queries. ret is the new (or current) break.
struct BrkEvent {
  uint64_t req = 0;
  int64_t ret = 0;
};

struct MsyncEvent {
  uint64_t addr = 0, len = 0;
  uint32_t flags = 0;  // MS_*
  int64_t ret = 0;
};

struct MadviseEvent {
  uint64_t addr = 0, len = 0;
  int32_t advice = 0;  // MADV_*
  int64_t ret = 0;
};

struct OpenEvent {
  uint32_t file_id = 0;  // the file opened
  uint32_t flags = 0;    // O_*
  int64_t ret = 0;       // the new descriptor, or -errno
};

struct CloseEvent {
  int32_t fd = -1;
  int64_t ret = 0;
};

// read/write/pread64/pwrite64 on a descriptor. For read and write the file
// position is the model's own (open sets 0, each call advances it by ret,
// LSEEK moves it); pread/pwrite carry `offset`.
struct RwEvent {
  enum class Op : uint8_t { kRead, kWrite, kPread, kPwrite };
  Op op = Op::kRead;
  int32_t fd = -1;
  uint64_t offset = 0;  // pread/pwrite only
  uint64_t len = 0;     // bytes asked for
  uint64_t buf = 0;     // user buffer (the copy's destination/source)
  int64_t ret = 0;      // bytes transferred, or -errno
};

struct LseekEvent {
  int32_t fd = -1;
  int64_t offset = 0;
  int32_t whence = 0;  // SEEK_*
  int64_t ret = 0;     // the new position, or -errno
};

struct FadviseEvent {
  int32_t fd = -1;
  uint64_t offset = 0, len = 0;
  int32_t advice = 0;  // POSIX_FADV_*
};

struct FsyncEvent {
  int32_t fd = -1;
  bool datasync = false;
  int64_t ret = 0;
};

// A recorded context switch: from this record on, CPU `cpu` runs task
// (to_pid, to_tid); emitted in the stream of the task switched out. When a
// trace has any, they pin the schedule instead of the scheduler.
struct CtxSwitchEvent {
  enum class Reason : uint8_t { kPreempt, kBlock, kExit, kYield };
  uint32_t cpu = 0;
  uint32_t to_pid = 0, to_tid = 0;
  Reason reason = Reason::kPreempt;
};

using OsEventBody =
    std::variant<FileEvent, StartEvent, ProcCreateEvent, ThreadCreateEvent, ExecEvent, VmaInitEvent,
                 ExitEvent, WaitEvent, MmapEvent, MunmapEvent, MprotectEvent, MremapEvent, BrkEvent,
                 MsyncEvent, MadviseEvent, OpenEvent, CloseEvent, RwEvent, LseekEvent, FadviseEvent,
                 FsyncEvent, CtxSwitchEvent>;

// One event of task (pid, tid).
struct OsEvent {
  uint32_t pid = 0;
  uint32_t tid = 0;  // = pid for a process's first thread
  OsEventBody body;
};

// The record keyword of each alternative (text format, reports), by index.
constexpr std::string_view os_event_name(size_t index) {
  constexpr std::string_view kNames[] = {
      "FILE",  "START",  "PROC_CREATE", "THREAD_CREATE", "EXEC",  "VMA_INIT", "EXIT",    "WAIT",
      "MMAP",  "MUNMAP", "MPROTECT",    "MREMAP",        "BRK",   "MSYNC",    "MADVISE", "OPEN",
      "CLOSE", "RW",     "LSEEK",       "FADVISE",       "FSYNC", "CTXSW"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == std::variant_size_v<OsEventBody>);
  return index < std::variant_size_v<OsEventBody> ? kNames[index] : std::string_view("?");
}
inline std::string_view os_event_name(const OsEvent& e) { return os_event_name(e.body.index()); }

}  // namespace mmusim
