// Processes of the Linux model: pid -> address space (shared by CLONE_VM
// and vfork children), live threads, descriptor table (open file
// descriptions shared by dup and fork), exit status, and the per-process
// counters the reporter shows (minor/major faults as getrusage counts them,
// RSS and its peak). Plain data; the kernel core (linux_kernel.h) edits it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/os/address_space.h"
#include "models/os/file_cache.h"

namespace mmusim {

// What the reporter shows per process (getrusage and /proc/PID/status names).
struct ProcessStats {
  uint64_t min_flt = 0, maj_flt = 0;  // faults completed, minor and major (retried = major)
  uint64_t rss = 0;                   // pages mapped now (anon + file + shmem), 0 once exited
  uint64_t rss_peak = 0;              // VmHWM: the highest rss, in pages
  uint64_t segv = 0;                  // faults that killed it (0 or 1)
};

struct Process {
  enum class State : uint8_t { kRunning, kZombie, kReaped };
  uint32_t pid = 0, ppid = 0;
  std::string name;
  std::shared_ptr<AddressSpace> mm;
  std::set<uint32_t> threads;  // live tids
  std::map<int32_t, std::shared_ptr<OpenFile>> fds;
  // The descriptions behind the loader's file mappings (VMA_INIT), one per
  // file of an image, as ld.so keeps one per library.
  std::map<uint32_t, std::shared_ptr<OpenFile>> loader_files;
  std::vector<uint32_t> children;
  State state = State::kRunning;
  int32_t exit_code = 0;
  bool killed = false;
  // Created on first mention (an event, a fault, root()) rather than by a
  // START or PROC_CREATE event; a fork into it replaces its empty image.
  bool implicit = true;
  // A vfork child whose parent waits until it execs or exits.
  bool vfork_pending = false;
  uint32_t vfork_parent_tid = 0;
  ProcessStats stats;
  uint64_t peak_before = 0;  // rss peak of the address spaces it left (exec)
  // /proc/PID/oom_score_adj (-1000..1000): from START, inherited at fork
  // (it lives in signal_struct), kept across exec.
  int32_t oom_score_adj = 0;
};

}  // namespace mmusim
