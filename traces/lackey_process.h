// Internals of the lackey + system-call importer (lackey_import.h): the
// shared import state and one process's stream of records and events, parsed
// line by line from its logs (os-model.md §4.2 grammar).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/common/os_event.h"
#include "models/common/types.h"
#include "traces/byte_stream.h"
#include "traces/lackey_import.h"
#include "traces/valgrind_maps.h"

namespace mmusim::lackey {

// An open descriptor of a process, as the log shows it.
struct FdInfo {
  std::string path;  // resolved
  uint32_t flags = 0;
  uint64_t pos = 0;  // file position (read/write advance it, lseek sets it)
};
using FdTable = std::map<int32_t, FdInfo>;

// One log as the first lines show it (pass 0).
struct LogInfo {
  std::string path;
  std::unique_ptr<InputBuffer> open;  // kept open (a pipe) or nullptr (reopened by path)
  uint32_t pid = 0, parent = 0;
  std::string command;      // "Command:" line
  bool fork_child = false;  // begins with the child's return from clone
  std::string exec_path;    // the execve its last line starts (unterminated), if any
};
LogInfo peek_log(const std::string& path, std::unique_ptr<InputBuffer> in, bool keep_open,
                 bool want_tail);

// valgrind's argument list "a, b, c" split at ", ".
std::vector<std::string> split_args(const std::string& s);
// The path of a "0xADDR(path)" argument spread over a[first, a.size() - trailing)
// (a path may hold ", "); "" when there is none.
std::string path_arg(const std::vector<std::string>& a, size_t first, size_t trailing);

// Normalizes `path` lexically; a relative path is joined to `cwd` first
// (when cwd is not empty).
std::string resolve_path(const std::string& cwd, const std::string& path);

class ImportContext {
 public:
  ImportContext(const LackeyImportOptions& o, bool dry);

  const LackeyImportOptions options;
  const bool dry;  // the size pass: no records, only events and extents
  LackeyImportReport report;

  // File extents seen (path -> largest end offset) and, after a size pass,
  // the sizes to write in FILE records.
  std::unordered_map<std::string, uint64_t> extents;
  std::unordered_map<std::string, uint64_t> sizes;
  void extend(const std::string& path, uint64_t end);
  // The id of `path`; true in *fresh when it is new (its FILE goes out now).
  uint32_t file_id(const std::string& path, bool* fresh);
  [[nodiscard]] uint64_t size_of(const std::string& path) const;

  // The next startup layout of pid (VMA_INIT after START or EXEC), or null.
  const VgLayout* next_layout(uint32_t pid);

  // What a forked child inherits, set by the parent's clone line.
  struct Inherit {
    FdTable fds;
    std::string cwd;
  };
  std::unordered_map<uint32_t, Inherit> inherit;

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::map<uint32_t, std::vector<VgLayout>> layouts_;
  std::map<uint32_t, size_t> layout_next_;
};

// A record of task (pid, tid), or (flags == EVENT) the next of events().
struct Item {
  TraceRecord rec;
  uint32_t pid = 0, tid = 0;
};

// One process: its logs in order (a log per image: exec continues the stream
// with the next one).
class ProcessStream {
 public:
  enum class Start : uint8_t { kRoot, kForkChild };
  ProcessStream(ImportContext& ctx, uint32_t pid, std::vector<LogInfo> chain, Start start);
  ~ProcessStream();
  ProcessStream(const ProcessStream&) = delete;
  ProcessStream& operator=(const ProcessStream&) = delete;

  // Parses lines until an item is queued; false when the stream has ended.
  bool fill();
  std::deque<Item>& items() { return items_; }
  OsEvent take_event();
  OsEvent& front_event() { return events_.front(); }
  [[nodiscard]] uint32_t pid() const { return pid_; }

 private:
  struct Call {
    int nr = -1;
    int vg_tid = 0;
    std::string name;
    std::string args;
    uint64_t line = 0;
  };
  bool open_next_log();
  bool next_line(const char** b, const char** e);
  void begin_image(const std::string& name, bool layout);
  void emit_layout(uint32_t tid, const VgLayout* lay);
  void end_image();
  void on_line(const char* b, const char* e);
  void on_syscall(const char* b, const char* e);
  void on_result(const char* b, const char* e);
  void complete(const Call& c, int64_t ret);
  void translate(const Call& c, int64_t ret, const std::vector<std::string>& a);
  void emit(uint32_t tid, OsEventBody body);
  uint32_t file_for(uint32_t tid, const std::string& path);
  uint32_t task_of(int vg_tid);
  void dup_fd(uint32_t tid, int32_t old_fd, int32_t new_fd, uint32_t extra_flags);
  [[noreturn]] void fail(const char* b, const char* at, const char* e,
                         const std::string& what) const;

  ImportContext& ctx_;
  const uint32_t pid_;
  std::vector<LogInfo> chain_;
  size_t next_log_ = 0;
  std::unique_ptr<InputBuffer> in_;
  std::string log_path_;
  uint64_t line_ = 0;
  bool started_ = false, ended_ = false, exited_ = false, saw_call_ = false;
  Start start_;
  int killed_by_ = 0;  // "Process terminating with default action of signal N"

  FdTable fds_;
  std::string cwd_;
  std::map<int, uint32_t> threads_;   // valgrind thread id -> kernel tid
  std::deque<uint32_t> new_threads_;  // created by clone, not yet seen running
  int cur_vg_ = -1;                   // the thread running now (-1: the first)
  std::map<int, Call> async_;         // [async] calls per valgrind thread
  bool open_call_ = false;            // a call whose result is on a later line
  Call open_;

  std::deque<Item> items_;
  std::deque<OsEvent> events_;
};

}  // namespace mmusim::lackey
