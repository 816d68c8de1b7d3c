// The system-call -> OS-event table of the lackey importer: one completed
// call (number, arguments as valgrind printed them, return value) becomes
// zero or more events of the calling task. traces/README.md, "Lackey with
// system calls", lists every call and what it becomes.
#include "models/common/error.h"
#include "models/common/parse.h"
#include "traces/lackey_process.h"

namespace mmusim::lackey {
namespace {

enum Nr : int {
  kRead = 0,
  kWrite = 1,
  kOpen = 2,
  kClose = 3,
  kLseek = 8,
  kMmap = 9,
  kMprotect = 10,
  kMunmap = 11,
  kBrk = 12,
  kPread = 17,
  kPwrite = 18,
  kMremap = 25,
  kMsync = 26,
  kMadvise = 28,
  kDup = 32,
  kDup2 = 33,
  kClone = 56,
  kFork = 57,
  kVfork = 58,
  kExecve = 59,
  kExit = 60,
  kWait4 = 61,
  kFcntl = 72,
  kFsync = 74,
  kFdatasync = 75,
  kChdir = 80,
  kFchdir = 81,
  kCreat = 85,
  kFadvise = 221,
  kExitGroup = 231,
  kOpenat = 257,
  kDup3 = 292,
};
constexpr int64_t kFDupfd = 0, kFDupfdCloexec = 1030;
constexpr uint32_t kOCloexec = 0x80000, kOTmpfile = 0x410000;
constexpr int32_t kAtFdcwd = -100;
constexpr uint64_t kSigchld = 17;

// "-12", "0x1f", "4294967295"; `bare_hex` for clone's flags ("1200011").
bool scan_arg(const std::string& t, bool bare_hex, int64_t* v) {
  const char* p = t.data();
  const char* e = p + t.size();
  const bool neg = p != e && *p == '-';
  if (neg) ++p;
  const ParsedInt n = scan_u64(p, e, bare_hex ? IntSyntax::kHex : IntSyntax::kDecimalOrHex);
  if (!n.ok() || n.end != e) return false;
  *v = neg ? -static_cast<int64_t>(n.value) : static_cast<int64_t>(n.value);
  return true;
}

// A descriptor printed as an unsigned 32-bit number (4294967295 = -1).
int32_t as_fd(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

}  // namespace

void ProcessStream::translate(const Call& c, int64_t ret, const std::vector<std::string>& a) {
  // Argument i as a number; a malformed one names the call's line.
  auto arg = [&](size_t i, bool bare_hex = false) -> int64_t {
    int64_t v = 0;
    if (i >= a.size() || !scan_arg(a[i], bare_hex, &v)) {
      throw input_error(
          log_path_, "line " + std::to_string(c.line),
          "malformed argument " + std::to_string(i + 1) + " of " + c.name + " (" + c.args + ")");
    }
    return v;
  };
  auto u = [&](size_t i) { return static_cast<uint64_t>(arg(i)); };
  const uint32_t tid = task_of(c.vg_tid);
  auto ignore = [&] { ++ctx_.report.ignored[c.name + "(" + std::to_string(c.nr) + ")"]; };
  // The file behind fd (a pseudo path for a descriptor the log never opened).
  auto fd_path = [&](int32_t fd) {
    auto it = fds_.find(fd);
    return it != fds_.end() ? it->second.path
                            : "fd:" + std::to_string(pid_) + ":" + std::to_string(fd);
  };
  switch (c.nr) {
    case kMmap: {
      MmapEvent m{u(0),
                  u(1),
                  static_cast<uint32_t>(arg(2)),
                  static_cast<uint32_t>(arg(3)),
                  as_fd(arg(4)),
                  0,
                  u(5),
                  ret};
      if ((m.flags & linux_abi::kMapAnonymous) == 0 && m.fd >= 0) {
        const std::string path = fd_path(m.fd);
        if (ret >= 0) ctx_.extend(path, m.offset + m.len);
        m.file_id = file_for(tid, path);
      }
      emit(tid, m);
      return;
    }
    case kMunmap: emit(tid, MunmapEvent{u(0), u(1), ret}); return;
    case kMprotect:
      emit(tid, MprotectEvent{u(0), u(1), static_cast<uint32_t>(arg(2)), ret});
      return;
    case kMremap:
      emit(tid, MremapEvent{u(0), u(1), u(2), static_cast<uint32_t>(arg(3)),
                            a.size() > 4 ? u(4) : 0, ret});
      return;
    case kBrk: emit(tid, BrkEvent{u(0), ret}); return;
    case kMsync: emit(tid, MsyncEvent{u(0), u(1), static_cast<uint32_t>(arg(2)), ret}); return;
    case kMadvise: emit(tid, MadviseEvent{u(0), u(1), static_cast<int32_t>(arg(2)), ret}); return;
    case kOpen:
    case kOpenat:
    case kCreat: {
      // open(path, flags[, mode]), openat(dirfd, path, flags[, mode]), creat(path, mode):
      // the mode is printed only with O_CREAT or O_TMPFILE.
      const size_t first = c.nr == kOpenat ? 1 : 0;
      uint32_t flags = linux_abi::kOCreat | linux_abi::kOWrOnly | linux_abi::kOTrunc;
      size_t trailing = 1;
      if (c.nr != kCreat) {
        int64_t f = 0;
        const bool mode = a.size() >= first + 3 && scan_arg(a[a.size() - 2], false, &f) &&
                          (static_cast<uint32_t>(f) & (linux_abi::kOCreat | kOTmpfile)) != 0;
        trailing = mode ? 2 : 1;
        flags = static_cast<uint32_t>(arg(a.size() - trailing));
      }
      if (ret < 0) {
        ++ctx_.report.failed_opens;
        return;
      }
      std::string dir = cwd_;
      if (c.nr == kOpenat && as_fd(arg(0)) != kAtFdcwd) dir = fd_path(as_fd(arg(0)));
      const std::string path = resolve_path(dir, path_arg(a, first, trailing));
      const auto fd = static_cast<int32_t>(ret);
      const uint32_t id = file_for(tid, path);
      emit(tid, OpenEvent{id, flags, ret});
      fds_[fd] = FdInfo{path, flags, 0};
      return;
    }
    case kClose:
      emit(tid, CloseEvent{as_fd(arg(0)), ret});
      if (ret == 0) fds_.erase(as_fd(arg(0)));
      return;
    case kRead:
    case kWrite:
    case kPread:
    case kPwrite: {
      const bool positional = c.nr == kPread || c.nr == kPwrite;
      RwEvent r;
      r.op = c.nr == kRead    ? RwEvent::Op::kRead
             : c.nr == kWrite ? RwEvent::Op::kWrite
             : c.nr == kPread ? RwEvent::Op::kPread
                              : RwEvent::Op::kPwrite;
      r.fd = as_fd(arg(0));
      r.buf = u(1);
      r.len = u(2);
      r.offset = positional ? u(3) : 0;
      r.ret = ret;
      auto it = fds_.find(r.fd);
      if (it != fds_.end() && ret > 0) {
        const uint64_t at = positional ? r.offset : it->second.pos;
        ctx_.extend(it->second.path, at + static_cast<uint64_t>(ret));
        if (!positional) it->second.pos += static_cast<uint64_t>(ret);
      }
      emit(tid, r);
      return;
    }
    case kLseek: {
      LseekEvent l{as_fd(arg(0)), arg(1), static_cast<int32_t>(arg(2)), ret};
      auto it = fds_.find(l.fd);
      if (it != fds_.end() && ret >= 0) {
        it->second.pos = static_cast<uint64_t>(ret);
        if (l.whence == linux_abi::kSeekEnd && ret - l.offset >= 0) {
          ctx_.extend(it->second.path, static_cast<uint64_t>(ret - l.offset));
        }
      }
      emit(tid, l);
      return;
    }
    case kFadvise:
      if (ret < 0) {
        ++ctx_.report.failed_other;
        return;
      }
      emit(tid, FadviseEvent{as_fd(arg(0)), u(1), u(2), static_cast<int32_t>(arg(3))});
      return;
    case kFsync:
    case kFdatasync: emit(tid, FsyncEvent{as_fd(arg(0)), c.nr == kFdatasync, ret}); return;
    case kDup:
    case kDup2:
    case kDup3:
      if (ret < 0) {
        ++ctx_.report.failed_other;
        return;
      }
      dup_fd(tid, as_fd(arg(0)), static_cast<int32_t>(ret),
             c.nr == kDup3 ? static_cast<uint32_t>(arg(2)) & kOCloexec : 0);
      return;
    case kFcntl: {
      const int64_t cmd = arg(1);
      if (cmd != kFDupfd && cmd != kFDupfdCloexec) {
        ignore();
        return;
      }
      if (ret < 0) {
        ++ctx_.report.failed_other;
        return;
      }
      dup_fd(tid, as_fd(arg(0)), static_cast<int32_t>(ret), cmd == kFDupfdCloexec ? kOCloexec : 0);
      return;
    }
    case kChdir:
      if (ret == 0) cwd_ = resolve_path(cwd_, path_arg(a, 0, 0));
      return;
    case kFchdir:
      if (ret == 0 && fds_.count(as_fd(arg(0))) != 0) cwd_ = fds_[as_fd(arg(0))].path;
      return;
    case kClone:
    case kFork:
    case kVfork: {
      if (ret < 0) {
        ++ctx_.report.failed_other;
        return;
      }
      const auto child = static_cast<uint32_t>(ret);
      uint64_t flags = c.nr == kClone ? static_cast<uint64_t>(arg(0, true)) : 0;
      if (c.nr == kVfork) flags = linux_abi::kCloneVm | linux_abi::kCloneVfork | kSigchld;
      if ((flags & linux_abi::kCloneThread) != 0) {
        emit(tid, ThreadCreateEvent{flags, child, u(1)});
        new_threads_.push_back(child);
        return;
      }
      ProcCreateEvent p;
      p.kind = (flags & linux_abi::kCloneVfork) != 0 ? ProcCreateEvent::Kind::kVfork
               : (flags & linux_abi::kCloneVm) == 0  ? ProcCreateEvent::Kind::kFork
                                                     : ProcCreateEvent::Kind::kClone;
      p.clone_flags = flags;
      p.child_pid = child;
      p.child_tid = child;
      ctx_.inherit[child] = ImportContext::Inherit{fds_, cwd_};
      emit(tid, p);
      return;
    }
    case kExecve:  // a result means it failed (success replaces the image: no result)
      ++ctx_.report.failed_other;
      return;
    case kExit:
      emit(tid, ExitEvent{as_fd(arg(0)), false});
      threads_.erase(c.vg_tid);
      if (threads_.empty()) exited_ = true;
      return;
    case kExitGroup:
      emit(tid, ExitEvent{as_fd(arg(0)), true});
      exited_ = true;
      return;
    case kWait4: emit(tid, WaitEvent{as_fd(arg(0)), ret}); return;
    default: ignore(); return;
  }
}

}  // namespace mmusim::lackey
