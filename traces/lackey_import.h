// Valgrind lackey logs with system calls (--trace-syscalls=yes) -> a task
// trace: memory records of each task interleaved with OS events (mmap, open,
// read, fork, exec, exit, ...), the initial mappings from valgrind's -d
// layout as VMA_INIT events, one log per process merged into one stream.
// Grammar, translation table and merge rule: traces/README.md, "Lackey with
// system calls"; os-model.md §4.2-4.3.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "traces/byte_stream.h"
#include "traces/trace_reader.h"

namespace mmusim {

struct LackeyImportOptions {
  // valgrind -d's stderr (lines "--PID:1: aspacem ..."): each process's
  // "Memory layout at client startup" becomes VMA_INIT events at its start
  // (and after each exec). Empty: no initial mappings.
  std::string maps;
  // The directory the traced program started in: relative paths (open,
  // execve, the Command line) are resolved against it, then against chdir.
  // Empty: relative paths stay relative (lexically normalized).
  std::string cwd;
  // Records a process contributes before the merge turns to the next one.
  uint64_t chunk = 10000;
  // Read every log once before the import to size the files (FILE size = the
  // largest extent the trace touches); without it (or from a pipe) a file's
  // size is the extent known when its FILE record is written.
  bool size_pass = true;
};

// What the import dropped or made up, for `mmusim-trace` to report.
struct LackeyImportReport {
  std::map<std::string, uint64_t> ignored;  // "name(nr)" -> calls without an event
  uint64_t failed_opens = 0;                // open/openat/creat that failed (no event)
  uint64_t failed_other = 0;                // failed clone, execve, dup, fadvise (no event)
  uint64_t synthesized_exits = 0;           // EXIT added at the end of a process's log
  uint64_t unknown_threads = 0;             // valgrind threads no clone() named
  uint64_t unmatched_results = 0;           // results of calls the log did not show starting
  uint64_t logs = 0, processes = 0;
};

// Imports the logs (one per process and image, valgrind --log-file=%p.%n),
// merged: each process's stream in log order; processes in round-robin turns
// of `chunk` records; a child's stream starts after its PROC_CREATE; a WAIT
// for a child (and a vfork parent) waits until that child's stream ended (or
// exec'd). Throws InputError naming the log, line and column.
std::unique_ptr<TraceReader> open_lackey_logs(const std::vector<std::string>& logs,
                                              const LackeyImportOptions& options = {});

// One log already open (open_trace of a lackey log whose first buffer shows a
// system call); `path` is re-read for the size pass unless it is "-".
std::unique_ptr<TraceReader> make_lackey_task_reader(std::unique_ptr<InputBuffer> in,
                                                     const std::string& path);

// The report of a reader made by the two functions above (nullptr for any
// other reader). Complete once the reader has returned 0.
const LackeyImportReport* lackey_import_report(const TraceReader& reader);

namespace lackey {
// "SYSCALL[" at b, or a system call's result line " --> ".
bool is_syscall_line(const char* b, const char* e);
// Whether the n bytes at data hold a line that is_syscall_line.
bool has_syscall_line(const char* data, size_t n);
}  // namespace lackey

}  // namespace mmusim
