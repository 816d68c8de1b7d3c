// The lackey + system-call importer's reader: groups the logs into process
// streams (a process's logs chained through exec), merges the streams into
// one task trace and numbers the task slots. Merge rule: lackey_import.h.
#include "traces/lackey_import.h"

#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/lackey_process.h"
#include "traces/os_event_format.h"
#include "traces/task_slots.h"

namespace mmusim {
namespace lackey {

bool is_syscall_line(const char* b, const char* e) {
  const auto n = static_cast<size_t>(e - b);
  return (n >= 8 && std::memcmp(b, "SYSCALL[", 8) == 0) ||
         (n >= 5 && std::memcmp(b, " --> ", 5) == 0);
}

bool has_syscall_line(const char* data, size_t n) {
  const char* p = data;
  const char* end = data + n;
  while (p != end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* e = nl != nullptr ? nl : end;
    if (is_syscall_line(p, e)) return true;
    if (nl == nullptr) break;
    p = nl + 1;
  }
  return false;
}

namespace {

std::string base_name(const std::string& p) { return p.substr(p.find_last_of('/') + 1); }
std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

class LackeyTaskReader final : public TraceReader {
 public:
  LackeyTaskReader(std::vector<LogInfo> logs, const LackeyImportOptions& o, bool dry,
                   std::unordered_map<std::string, uint64_t> sizes)
      : ctx_(o, dry), path_(logs.empty() ? std::string("-") : logs.front().path) {
    ctx_.sizes = std::move(sizes);
    if (logs.empty()) throw InputError("lackey import: no logs");
    if (!logs.front().open) {
      compression_ = compression_name(open_byte_source(logs.front().path)->compression());
    } else {
      compression_ = compression_name(logs.front().open->source().compression());
    }
    build_chains(std::move(logs));
  }

  size_t read(TraceRecord* out, size_t max) override {
    events_.clear();
    size_t n = 0;
    while (n < max) {
      Stream* s = current();
      if (s == nullptr) break;
      auto& q = s->p->items();
      if (q.empty() && !s->p->fill()) {
        finish(*s);
        continue;
      }
      Item it = q.front();
      if (it.rec.flags == trace_flags::kOpEvent) {
        OsEvent& ev = s->p->front_event();
        if (const auto* w = std::get_if<WaitEvent>(&ev.body)) {
          if (w->ret > 0 && running(static_cast<uint32_t>(w->ret))) {
            s->wait_for = static_cast<uint32_t>(w->ret);  // until that child's stream ends
            continue;
          }
        }
        OsEvent e = s->p->take_event();
        q.pop_front();
        const std::string why = checker_.check(e);
        if (!why.empty()) throw InputError(path_ + ": the import made a bad event: " + why);
        TraceRecord r;
        r.addr = events_.size();
        r.cpu = slot(e.pid, e.tid);
        r.flags = trace_flags::kOpEvent;
        out[n++] = r;
        after_event(*s, e);
        events_.push_back(std::move(e));
      } else {
        it.rec.cpu = slot(it.pid, it.tid);
        out[n++] = it.rec;
        q.pop_front();
      }
      ++records_;
      ++turn_;
    }
    return n;
  }
  [[nodiscard]] std::string position() const override {
    return "record " + std::to_string(records_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"lackey", compression_, "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return InputBuffer::kDefaultCapacity; }
  [[nodiscard]] bool has_tasks() const override { return true; }
  void take_events(std::vector<OsEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }
  [[nodiscard]] const std::vector<TaskKey>& tasks() const override { return slots_.tasks(); }

  [[nodiscard]] const LackeyImportReport& report() const { return ctx_.report; }
  // The extents seen (after reading to the end: every file's largest).
  std::unordered_map<std::string, uint64_t> take_extents() { return std::move(ctx_.extents); }

 private:
  struct Stream {
    std::unique_ptr<ProcessStream> p;
    uint32_t pid = 0;
    uint32_t wait_for = 0;  // a WAIT for this child's end
    uint32_t vfork_of = 0;  // a vfork child: wait until it execs or ends
    bool finished = false;
  };

  // Groups the logs by process: a forked child's log first, then each image
  // its execve replaced it with (matched by the path in the unterminated
  // execve and the next log's Command line).
  void build_chains(std::vector<LogInfo> logs) {
    std::vector<uint32_t> order;
    std::map<uint32_t, std::vector<LogInfo>> by_pid;
    for (auto& l : logs) {
      if (l.pid == 0) throw InputError(l.path + ": not a valgrind log (no ==PID== line)");
      if (by_pid.count(l.pid) == 0) order.push_back(l.pid);
      by_pid[l.pid].push_back(std::move(l));
    }
    for (uint32_t pid : order) {
      auto& group = by_pid[pid];
      std::vector<LogInfo> images, chain;
      for (auto& l : group) {
        if (!l.fork_child) {
          images.push_back(std::move(l));
        } else if (chain.empty()) {
          chain.push_back(std::move(l));
        } else {
          throw InputError(l.path + ": a second log of process " + std::to_string(pid) +
                           " that begins as a forked child (" + chain.front().path + ")");
        }
      }
      if (images.size() + chain.size() > 1) {  // order through the execve at each log's end
        for (auto& l : images) l.exec_path = peek_log(l.path, nullptr, false, true).exec_path;
        for (auto& l : chain) l.exec_path = peek_log(l.path, nullptr, false, true).exec_path;
      }
      auto successor_of = [&](const std::string& exec_path) -> size_t {
        for (size_t i = 0; i < images.size(); ++i) {
          if (first_word(images[i].command) == exec_path) return i;
        }
        for (size_t i = 0; i < images.size(); ++i) {
          if (base_name(first_word(images[i].command)) == base_name(exec_path)) return i;
        }
        return 0;
      };
      if (chain.empty()) {  // the image no other image's execve leads to
        size_t first = 0;
        for (size_t i = 0; i < images.size(); ++i) {
          bool target = false;
          for (size_t j = 0; j < images.size() && !target; ++j) {
            target =
                j != i && !images[j].exec_path.empty() && successor_of(images[j].exec_path) == i;
          }
          if (!target) {
            first = i;
            break;
          }
        }
        chain.push_back(std::move(images[first]));
        images.erase(images.begin() + static_cast<std::ptrdiff_t>(first));
      }
      while (!images.empty() && !chain.back().exec_path.empty()) {
        const size_t i = successor_of(chain.back().exec_path);
        chain.push_back(std::move(images[i]));
        images.erase(images.begin() + static_cast<std::ptrdiff_t>(i));
      }
      for (auto& l : images) chain.push_back(std::move(l));  // unmatched: appended
      chains_[pid] = std::move(chain);
    }
    // Roots: started by valgrind itself, or forked by a process not traced.
    for (uint32_t pid : order) {
      const LogInfo& first = chains_[pid].front();
      if (!first.fork_child || by_pid.count(first.parent) == 0) {
        start(pid, ProcessStream::Start::kRoot);
      }
    }
  }

  void start(uint32_t pid, ProcessStream::Start how) {
    auto it = chains_.find(pid);
    if (it == chains_.end() || it->second.empty()) return;  // not traced
    Stream s;
    s.pid = pid;
    s.p = std::make_unique<ProcessStream>(ctx_, pid, std::move(it->second), how);
    it->second.clear();
    streams_.push_back(std::move(s));
    index_[pid] = streams_.size() - 1;
  }

  bool running(uint32_t pid) const {
    auto it = index_.find(pid);
    return it != index_.end() && !streams_[it->second].finished;
  }

  void after_event(Stream& s, const OsEvent& e) {
    if (const auto* pc = std::get_if<ProcCreateEvent>(&e.body)) {
      start(pc->child_pid, ProcessStream::Start::kForkChild);
      if (pc->kind == ProcCreateEvent::Kind::kVfork && running(pc->child_pid)) {
        streams_[index_[pc->child_pid]].vfork_of = s.pid;
        s.wait_for = pc->child_pid;
      }
    } else if (std::holds_alternative<ExecEvent>(e.body) && s.vfork_of != 0) {
      release(s);
    }
  }
  // A vfork child exec'd or ended: its parent goes on.
  void release(Stream& child) {
    auto it = index_.find(child.vfork_of);
    if (it != index_.end() && streams_[it->second].wait_for == child.pid) {
      streams_[it->second].wait_for = 0;
    }
    child.vfork_of = 0;
  }
  void finish(Stream& s) {
    s.finished = true;
    s.p.reset();
    if (s.vfork_of != 0) release(s);
  }
  bool blocked(const Stream& s) const { return s.wait_for != 0 && running(s.wait_for); }

  // The stream to take from: the current one until its turn of `chunk`
  // records is over (at a line boundary), then the next runnable one.
  Stream* current() {
    if (cur_ < streams_.size()) {
      Stream& s = streams_[cur_];
      const bool turn_over = turn_ >= ctx_.options.chunk && s.p != nullptr && s.p->items().empty();
      if (!s.finished && !blocked(s) && !turn_over) return &s;
    }
    turn_ = 0;
    const size_t n = streams_.size();
    for (size_t k = 1; k <= n; ++k) {
      Stream& s = streams_[(cur_ + k) % n];
      if (!s.finished && !blocked(s)) {
        cur_ = (cur_ + k) % n;
        return &s;
      }
    }
    for (size_t k = 0; k < n; ++k) {  // every stream waits: the oldest wait is dropped
      Stream& s = streams_[k];
      if (!s.finished) {
        s.wait_for = 0;
        cur_ = k;
        return &s;
      }
    }
    return nullptr;
  }

  uint16_t slot(uint32_t pid, uint32_t tid) {
    const int s = slots_.find_or_add(pid, tid);
    if (s == TaskSlots::kFull) throw InputError(path_ + ": more than 65536 tasks");
    return static_cast<uint16_t>(s);
  }

  ImportContext ctx_;
  std::string path_;
  std::string compression_;
  std::map<uint32_t, std::vector<LogInfo>> chains_;
  std::vector<Stream> streams_;
  std::map<uint32_t, size_t> index_;  // pid -> its stream
  size_t cur_ = 0;
  uint64_t turn_ = 0;
  uint64_t records_ = 0;
  TaskSlots slots_;
  std::vector<OsEvent> events_;
  OsEventChecker checker_;
};

// Reads a dry import of the logs to its end: the files' largest extents.
std::unordered_map<std::string, uint64_t> size_pass(const std::vector<std::string>& paths,
                                                    const LackeyImportOptions& o) {
  std::vector<LogInfo> logs;
  logs.reserve(paths.size());
  for (const auto& p : paths) logs.push_back(peek_log(p, nullptr, false, false));
  LackeyTaskReader dry(std::move(logs), o, true, {});
  std::vector<TraceRecord> buf(4096);
  while (dry.read(buf.data(), buf.size()) > 0) {
  }
  return dry.take_extents();
}

}  // namespace
}  // namespace lackey

std::unique_ptr<TraceReader> open_lackey_logs(const std::vector<std::string>& paths,
                                              const LackeyImportOptions& options) {
  std::unordered_map<std::string, uint64_t> sizes;
  const bool pipe = std::find(paths.begin(), paths.end(), "-") != paths.end();
  if (options.size_pass && !pipe) sizes = lackey::size_pass(paths, options);
  std::vector<lackey::LogInfo> logs;
  logs.reserve(paths.size());
  for (const auto& p : paths) logs.push_back(lackey::peek_log(p, nullptr, p == "-", false));
  return std::make_unique<lackey::LackeyTaskReader>(std::move(logs), options, false,
                                                    std::move(sizes));
}

std::unique_ptr<TraceReader> make_lackey_task_reader(std::unique_ptr<InputBuffer> in,
                                                     const std::string& path) {
  LackeyImportOptions o;
  std::unordered_map<std::string, uint64_t> sizes;
  if (path != "-") sizes = lackey::size_pass({path}, o);
  std::vector<lackey::LogInfo> logs;
  logs.push_back(lackey::peek_log(path, std::move(in), true, false));
  return std::make_unique<lackey::LackeyTaskReader>(std::move(logs), o, false, std::move(sizes));
}

const LackeyImportReport* lackey_import_report(const TraceReader& reader) {
  const auto* r = dynamic_cast<const lackey::LackeyTaskReader*>(&reader);
  return r != nullptr ? &r->report() : nullptr;
}

}  // namespace mmusim
