// One process's stream of the lackey + system-call importer: valgrind's
// "SYSCALL[pid,tid](nr) name ( args ) --> result" lines (os-model.md §4.2)
// turned into OS events, lackey's access lines into records of the running
// thread. Translation table: traces/README.md, "Lackey with system calls".
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "models/common/parse.h"
#include "traces/formats.h"
#include "traces/lackey_parse.h"
#include "traces/lackey_process.h"

namespace mmusim::lackey {
namespace {

constexpr int kExecve = 59;
constexpr uint32_t kOCloexec = 0x80000, kOExcl = 0x80;

bool starts_with(const char* b, const char* e, const char* s) {
  const size_t n = std::strlen(s);
  return static_cast<size_t>(e - b) >= n && std::memcmp(b, s, n) == 0;
}
const char* find(const char* b, const char* e, const char* s) {
  const size_t n = std::strlen(s);
  for (const char* p = b; e - p >= static_cast<ptrdiff_t>(n); ++p) {
    if (std::memcmp(p, s, n) == 0) return p;
  }
  return nullptr;
}

// A valgrind message glued to the end of a system call line
// (" --3075--   SCHED[1]: ..."): where it starts, or nullptr.
const char* find_glue(const char* b, const char* e) {
  for (const char* p = b + 1; e - p >= 5; ++p) {
    if (p[-1] != ' ' || !((p[0] == '-' && p[1] == '-') || (p[0] == '=' && p[1] == '='))) continue;
    const char* q = p + 2;
    while (q != e && *q >= '0' && *q <= '9') ++q;
    if (q != p + 2 && e - q >= 2 && q[0] == p[0] && q[1] == p[0]) return p;
  }
  return nullptr;
}

std::string first_word(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  return s.substr(b, s.find(' ', b) - b);
}

}  // namespace

// ---------------------------------------------------------------------------

std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> a;
  if (s.empty()) return a;
  size_t b = 0;
  for (;;) {
    const size_t c = s.find(", ", b);
    a.push_back(s.substr(b, c == std::string::npos ? std::string::npos : c - b));
    if (c == std::string::npos) break;
    b = c + 2;
  }
  return a;
}

// The path of a "0xADDR(path)" argument spread over a[first, a.size() - trailing).
std::string path_arg(const std::vector<std::string>& a, size_t first, size_t trailing) {
  if (a.size() < first + trailing + 1) return {};
  std::string s = a[first];
  for (size_t i = first + 1; i + trailing < a.size(); ++i) s += ", " + a[i];
  const size_t p = s.find('(');
  const size_t q = s.rfind(')');
  if (p == std::string::npos || q == std::string::npos || q < p) return {};
  return s.substr(p + 1, q - p - 1);
}

std::string resolve_path(const std::string& cwd, const std::string& path) {
  if (path.empty()) return path;
  const std::string full = path[0] != '/' && !cwd.empty() ? cwd + "/" + path : path;
  const bool absolute = full[0] == '/';
  std::vector<std::string> parts;
  size_t b = 0;
  while (b <= full.size()) {
    size_t e = full.find('/', b);
    if (e == std::string::npos) e = full.size();
    const std::string part = full.substr(b, e - b);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    b = e + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

LogInfo peek_log(const std::string& path, std::unique_ptr<InputBuffer> in, bool keep_open,
                 bool want_tail) {
  LogInfo info;
  info.path = path;
  if (!in) in = std::make_unique<InputBuffer>(open_byte_source(path));
  in->fill(in->capacity());
  const char* p = in->data();
  const char* end = p + in->size();
  while (p != end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* e = nl != nullptr ? nl : end;
    if (e != p && e[-1] == '\r') --e;
    if (starts_with(p, e, "==")) {
      const ParsedInt pid = scan_u64(p + 2, e, IntSyntax::kDecimal);
      if (pid.ok() && info.pid == 0) info.pid = static_cast<uint32_t>(pid.value);
      if (const char* c = find(p, e, "== Command: ")) info.command.assign(c + 12, e);
      if (const char* c = find(p, e, "== Parent PID: ")) {
        const ParsedInt pp = scan_u64(c + 15, e, IntSyntax::kDecimal);
        if (pp.ok()) info.parent = static_cast<uint32_t>(pp.value);
      }
    } else if (e != p && !starts_with(p, e, "--")) {
      info.fork_child = starts_with(p, e, " --> ");
      break;
    }
    if (nl == nullptr) break;
    p = nl + 1;
  }
  if (info.pid == 0) {  // no ==PID== header: the first system call names the process
    if (const char* s = find(in->data(), end, "SYSCALL[")) {
      const ParsedInt pid = scan_u64(s + 8, end, IntSyntax::kDecimal);
      if (pid.ok()) info.pid = static_cast<uint32_t>(pid.value);
    }
  }
  if (want_tail) {  // the last line: an unterminated execve when the image was replaced
    std::string last;
    for (;;) {
      const char* d = in->data();
      const size_t n = in->size();
      if (n == 0) break;
      const char* q = d + n;
      while (q != d && (q[-1] == '\n' || q[-1] == '\r')) --q;
      const char* ls = q;
      while (ls != d && ls[-1] != '\n') --ls;
      if (q != d) last.assign(ls, q);
      in->consume(n);
      if (in->source_ended()) break;
      in->fill(in->capacity());
    }
    if (last.rfind("SYSCALL[", 0) == 0 && last.find("(59) ") != std::string::npos &&
        last.find(" --> ") == std::string::npos) {
      const size_t o = last.find('(', last.find("(59) ") + 5);
      const size_t c = last.rfind(')');
      if (o != std::string::npos && c != std::string::npos && c > o) {
        info.exec_path = path_arg(split_args(last.substr(o + 1, c - o - 1)), 0, 2);
        while (!info.exec_path.empty() && info.exec_path.back() == ' ') info.exec_path.pop_back();
      }
    }
  }
  if (keep_open && !want_tail) info.open = std::move(in);
  return info;
}

// ---------------------------------------------------------------------------

ImportContext::ImportContext(const LackeyImportOptions& o, bool dry_run)
    : options(o), dry(dry_run) {
  if (!o.maps.empty()) layouts_ = read_valgrind_layouts(o.maps);
}

void ImportContext::extend(const std::string& path, uint64_t end) {
  uint64_t& e = extents[path];
  e = std::max(e, end);
}

uint32_t ImportContext::file_id(const std::string& path, bool* fresh) {
  auto [it, inserted] = ids_.try_emplace(path, static_cast<uint32_t>(ids_.size() + 1));
  *fresh = inserted;
  return it->second;
}

uint64_t ImportContext::size_of(const std::string& path) const {
  auto it = sizes.find(path);
  if (it != sizes.end()) return it->second;
  auto e = extents.find(path);
  return e == extents.end() ? 0 : e->second;
}

const VgLayout* ImportContext::next_layout(uint32_t pid) {
  auto it = layouts_.find(pid);
  if (it == layouts_.end()) return nullptr;
  size_t& next = layout_next_[pid];
  return next < it->second.size() ? &it->second[next++] : nullptr;
}

// ---------------------------------------------------------------------------

ProcessStream::ProcessStream(ImportContext& ctx, uint32_t pid, std::vector<LogInfo> chain,
                             Start start)
    : ctx_(ctx), pid_(pid), chain_(std::move(chain)), start_(start) {
  cwd_ = ctx_.options.cwd;
  if (start_ == Start::kForkChild) {
    auto it = ctx_.inherit.find(pid);
    if (it != ctx_.inherit.end()) {
      fds_ = std::move(it->second.fds);
      cwd_ = std::move(it->second.cwd);
      ctx_.inherit.erase(it);
    }
  }
  ++ctx_.report.processes;
}

ProcessStream::~ProcessStream() = default;

OsEvent ProcessStream::take_event() {
  OsEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ProcessStream::fail(const char* b, const char* at, const char* e,
                         const std::string& what) const {
  throw input_error(log_path_, "line " + std::to_string(line_),
                    what + " at column " + std::to_string(at - b + 1) + ", got " +
                        quote_token(at, std::min(e, at + 40)));
}

bool ProcessStream::fill() {
  while (items_.empty()) {
    if (ended_) return false;
    if (!in_) {
      if (!open_next_log()) {
        end_image();
        continue;
      }
    }
    const char* b = nullptr;
    const char* e = nullptr;
    if (!next_line(&b, &e)) {
      end_image();
      continue;
    }
    on_line(b, e);
  }
  return true;
}

bool ProcessStream::open_next_log() {
  if (next_log_ >= chain_.size()) return false;
  LogInfo& log = chain_[next_log_++];
  in_ = log.open ? std::move(log.open) : std::make_unique<InputBuffer>(open_byte_source(log.path));
  log_path_ = log.path;
  line_ = 0;
  saw_call_ = false;
  ++ctx_.report.logs;
  if (!started_) {
    started_ = true;
    // A root's first image has a startup layout (a forked child whose parent
    // is not traced shares its parent's, which valgrind does not print).
    if (start_ == Start::kRoot) begin_image(first_word(log.command), !log.fork_child);
  }
  return true;
}

bool ProcessStream::next_line(const char** b, const char** e) {
  for (;;) {
    const char* d = in_->data();
    const char* nl = static_cast<const char*>(std::memchr(d, '\n', in_->size()));
    if (nl != nullptr) {
      *b = d;
      *e = nl;
      in_->consume(static_cast<size_t>(nl - d) + 1);
      ++line_;
      return true;
    }
    if (!in_->source_ended()) {
      if (in_->size() == in_->capacity()) {
        throw input_error(log_path_, "line " + std::to_string(line_ + 1),
                          "line longer than " + std::to_string(in_->capacity()) + " bytes");
      }
      in_->fill(in_->size() + 1);
      continue;
    }
    if (in_->size() == 0) return false;
    *b = d;
    *e = d + in_->size();
    in_->consume(in_->size());  // the bytes stay in place until the next fill
    ++line_;
    return true;
  }
}

void ProcessStream::emit(uint32_t tid, OsEventBody body) {
  OsEvent e;
  e.pid = pid_;
  e.tid = tid;
  e.body = std::move(body);
  events_.push_back(std::move(e));
  Item it;
  it.rec.flags = trace_flags::kOpEvent;
  it.pid = pid_;
  it.tid = tid;
  items_.push_back(it);
}

uint32_t ProcessStream::file_for(uint32_t tid, const std::string& path) {
  bool fresh = false;
  const uint32_t id = ctx_.file_id(path, &fresh);
  if (fresh) emit(tid, FileEvent{id, path, ctx_.size_of(path), 0});
  return id;
}

uint32_t ProcessStream::task_of(int vg_tid) {
  if (vg_tid < 0) return pid_;
  auto it = threads_.find(vg_tid);
  if (it != threads_.end()) return it->second;
  uint32_t tid = pid_;
  if (!threads_.empty()) {
    if (!new_threads_.empty()) {
      tid = new_threads_.front();
      new_threads_.pop_front();
    } else {  // a thread no clone() in this log created
      tid = 0x40000000U + static_cast<uint32_t>(vg_tid);
      ++ctx_.report.unknown_threads;
    }
  }
  threads_[vg_tid] = tid;
  return tid;
}

// A root process starts: START, then its loader's mappings.
void ProcessStream::begin_image(const std::string& name, bool layout) {
  emit(pid_, StartEvent{name});
  if (layout) emit_layout(pid_, ctx_.next_layout(pid_));
}

// VMA_INIT for each mapping of a startup layout (none without one).
void ProcessStream::emit_layout(uint32_t tid, const VgLayout* lay) {
  if (lay == nullptr) return;
  for (const VgMapping& m : lay->mappings) {
    VmaInitEvent v{m.start, m.end, m.prot, false, m.kind, 0, m.offset, m.grows_down, m.max_size};
    if (m.kind == VmaInitEvent::Kind::kFile) {
      ctx_.extend(m.path, m.offset + (m.end - m.start));
      v.file_id = file_for(tid, m.path);
    }
    emit(tid, v);
  }
}

// The end of a log: an unterminated execve means the image was replaced (its
// successor log continues the stream), else the process is done.
void ProcessStream::end_image() {
  in_.reset();
  if (open_call_ && open_.nr == kExecve) {
    open_call_ = false;
    const std::string path = resolve_path(cwd_, path_arg(split_args(open_.args), 0, 2));
    const uint32_t tid = task_of(open_.vg_tid);
    const LogInfo* next = next_log_ < chain_.size() ? &chain_[next_log_] : nullptr;
    const VgLayout* lay = ctx_.next_layout(pid_);
    ExecEvent x;  // the program as valgrind's layout names it (symbolic links resolved)
    const std::string program = lay != nullptr && !lay->program.empty() ? lay->program : path;
    x.file_id = program.empty() ? 0 : file_for(tid, program);
    x.interp_file_id = lay != nullptr && !lay->interp.empty() ? file_for(tid, lay->interp) : 0;
    x.argv0 = next != nullptr ? first_word(next->command) : path;
    emit(tid, x);
    emit_layout(tid, lay);
    // One thread survives exec (it becomes the main thread); descriptors
    // opened with O_CLOEXEC close.
    for (auto it = fds_.begin(); it != fds_.end();) {
      it = (it->second.flags & kOCloexec) != 0 ? fds_.erase(it) : std::next(it);
    }
    threads_.clear();
    new_threads_.clear();
    async_.clear();
    cur_vg_ = -1;
    if (next != nullptr) return;  // the next image's log
  }
  next_log_ = chain_.size();
  if (!exited_) {
    emit(pid_, ExitEvent{killed_by_ != 0 ? 128 + killed_by_ : 0, true});
    ++ctx_.report.synthesized_exits;
    exited_ = true;
  }
  ended_ = true;
}

void ProcessStream::on_line(const char* b, const char* e) {
  if (e != b && e[-1] == '\r') --e;
  if (b == e) return;
  if (is_access_line(b, e)) {
    if (ctx_.dry) return;
    TraceRecord two[2];
    const size_t n =
        parse_access(b, e, two, [&](const char* at, const char* what) { fail(b, at, e, what); });
    const uint32_t tid = task_of(cur_vg_);
    for (size_t i = 0; i < n; ++i) items_.push_back({two[i], pid_, tid});
    return;
  }
  if (starts_with(b, e, "==")) {
    static const char kKilled[] = "Process terminating with default action of signal ";
    if (const char* s = find(b, e, kKilled)) {
      const ParsedInt sig = scan_u64(s + sizeof kKilled - 1, e, IntSyntax::kDecimal);
      if (sig.ok()) killed_by_ = static_cast<int>(sig.value);
    }
    return;
  }
  if (starts_with(b, e, "--")) {  // "--PID--   SCHED[N]:  acquired lock (...)"
    const char* s = find(b, e, "SCHED[");
    if (s != nullptr && find(s, e, "acquired lock") != nullptr) {
      const ParsedInt t = scan_u64(s + 6, e, IntSyntax::kDecimal);
      if (t.ok()) cur_vg_ = static_cast<int>(t.value);
    }
    return;
  }
  if (starts_with(b, e, "SYSCALL[")) {
    on_syscall(b, e);
    return;
  }
  if (starts_with(b, e, " --> ")) {
    on_result(b, e);
    return;
  }
  fail(b, b, e, "expected a lackey record (I, L, S or M), a SYSCALL line or a ==PID== line");
}

namespace {
// "[pre-success] Success(0x4835000)", "Failure(0x2)": the return value or -errno.
bool parse_result(const char* p, const char* e, int64_t* ret, const char** bad) {
  while (p != e && *p == ' ') ++p;
  if (p != e && *p == '[') {
    const char* q = static_cast<const char*>(std::memchr(p, ']', e - p));
    if (q == nullptr) {
      *bad = p;
      return false;
    }
    p = q + 1;
    while (p != e && *p == ' ') ++p;
  }
  const bool ok = starts_with(p, e, "Success(0x");
  if (!ok && !starts_with(p, e, "Failure(0x")) {
    *bad = p;
    return false;
  }
  const ParsedInt v = scan_u64(p + 10, e, IntSyntax::kBareHex);
  if (!v.ok() || v.end == e || *v.end != ')') {
    *bad = p;
    return false;
  }
  *ret = ok ? static_cast<int64_t>(v.value) : -static_cast<int64_t>(v.value);
  return true;
}
}  // namespace

void ProcessStream::on_syscall(const char* b, const char* e) {
  if (const char* g = find_glue(b + 8, e)) {
    on_syscall(b, g - 1);
    on_line(g, e);
    return;
  }
  // SYSCALL[pid,tid](nr) BODY
  const ParsedInt pid = scan_u64(b + 8, e, IntSyntax::kDecimal);
  bool ok = pid.ok() && pid.end != e && *pid.end == ',';
  const ParsedInt vg = ok ? scan_u64(pid.end + 1, e, IntSyntax::kDecimal) : pid;
  ok = ok && vg.ok() && e - vg.end >= 2 && vg.end[0] == ']' && vg.end[1] == '(';
  const ParsedInt nr = ok ? scan_u64(vg.end + 2, e, IntSyntax::kDecimal) : vg;
  ok = ok && nr.ok() && nr.end != e && *nr.end == ')' && vg.value <= (1U << 20) &&
       nr.value <= (1U << 20);
  if (!ok) fail(b, b, e, "expected SYSCALL[PID,TID](NR)");
  if (pid.value != pid_) {
    fail(b, b + 8, e,
         "a system call of process " + std::to_string(pid.value) + " in the log of process " +
             std::to_string(pid_));
  }
  const int vg_tid = static_cast<int>(vg.value);
  cur_vg_ = vg_tid;
  task_of(vg_tid);
  saw_call_ = true;
  const char* body = nr.end + 1;
  while (body != e && *body == ' ') ++body;
  int64_t ret = 0;
  const char* bad = nullptr;
  if (starts_with(body, e, "... [async] --> ")) {
    if (!parse_result(body + 16, e, &ret, &bad)) {
      fail(b, bad, e, "expected Success(0x...) or Failure(0x...)");
    }
    auto it = async_.find(vg_tid);
    if (it == async_.end() || it->second.nr != static_cast<int>(nr.value)) {
      ++ctx_.report.unmatched_results;
      return;
    }
    const Call c = std::move(it->second);
    async_.erase(it);
    complete(c, ret);
    return;
  }
  Call c;
  c.nr = static_cast<int>(nr.value);
  c.vg_tid = vg_tid;
  c.line = line_;
  const char* ne = body;
  while (ne != e && *ne != ' ' && *ne != '(' && *ne != '[') ++ne;
  c.name.assign(body, ne);
  const char* args_end = ne;
  if (const char* o = static_cast<const char*>(std::memchr(ne, '(', e - ne))) {
    const char* q = o + 1;
    for (; q != e; ++q) {  // the ')' followed by the end, '[', " -->" or a note
      if (*q != ')') continue;
      if (q + 1 == e || q[1] == '[' || starts_with(q + 1, e, " -->") ||
          starts_with(q + 1, e, "  ")) {
        break;
      }
    }
    const char* ab = o + 1;
    const char* ae = q;
    while (ab != ae && *ab == ' ') ++ab;
    while (ae != ab && ae[-1] == ' ') --ae;
    c.args.assign(ab, ae);
    args_end = q;
  }
  const char* arrow = find(args_end, e, "--> ");
  if (arrow == nullptr) {  // the result comes on a later line (clone, fork) or never (execve)
    open_call_ = true;
    open_ = std::move(c);
    return;
  }
  if (starts_with(arrow + 4, e, "[async] ...")) {
    async_[vg_tid] = std::move(c);
    return;
  }
  if (!parse_result(arrow + 4, e, &ret, &bad)) {
    fail(b, bad, e, "expected Success(0x...) or Failure(0x...)");
  }
  complete(c, ret);
}

void ProcessStream::on_result(const char* b, const char* e) {
  if (const char* g = find_glue(b + 5, e)) {
    on_result(b, g - 1);
    on_line(g, e);
    return;
  }
  int64_t ret = 0;
  const char* bad = nullptr;
  if (!parse_result(b + 5, e, &ret, &bad)) {
    fail(b, bad, e, "expected Success(0x...) or Failure(0x...)");
  }
  if (open_call_) {
    open_call_ = false;
    const Call c = std::move(open_);
    complete(c, ret);
  } else if (saw_call_) {
    ++ctx_.report.unmatched_results;
  }  // else: a forked child's own return from clone, its log's first line
}

void ProcessStream::complete(const Call& c, int64_t ret) { translate(c, ret, split_args(c.args)); }

void ProcessStream::dup_fd(uint32_t tid, int32_t old_fd, int32_t new_fd, uint32_t extra_flags) {
  auto it = fds_.find(old_fd);
  if (it == fds_.end()) {
    ++ctx_.report.ignored["dup of a descriptor that is not a file"];
    return;
  }
  FdInfo copy = it->second;
  // The duplicate shares the open file: no creation or truncation again.
  copy.flags =
      (copy.flags & ~(kOCloexec | linux_abi::kOCreat | kOExcl | linux_abi::kOTrunc)) | extra_flags;
  if (new_fd != old_fd && fds_.count(new_fd) != 0) emit(tid, CloseEvent{new_fd, 0});
  const uint32_t id = file_for(tid, copy.path);
  emit(tid, OpenEvent{id, copy.flags, new_fd});
  fds_[new_fd] = std::move(copy);
}

}  // namespace mmusim::lackey
