// Runs one piece of work in a forked child and reads its result back through
// a pipe, so that each measured simulation starts from the same process state
// and its memory (peak RSS) is its own. The result is plain bytes: a
// trivially copyable struct.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

namespace mmusim::bench {

// Calls `work()` in a child and stores what it returns in `*out`; false, with
// `*err` saying why, when the pipe, the fork or the child failed.
template <class R, class F>
bool run_in_child(F&& work, R* out, std::string* err) {
  static_assert(std::is_trivially_copyable_v<R>, "the result crosses a pipe as bytes");
  int fds[2];
  if (::pipe(fds) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    *err = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const R r = work();
    const auto* p = reinterpret_cast<const char*>(&r);
    size_t left = sizeof r;
    while (left > 0) {
      const ssize_t n = ::write(fds[1], p, left);
      if (n <= 0) ::_exit(3);
      p += n;
      left -= static_cast<size_t>(n);
    }
    ::_exit(0);  // no static destructors, no atexit handlers of the parent
  }
  ::close(fds[1]);
  auto* p = reinterpret_cast<char*>(out);
  size_t got = 0;
  while (got < sizeof *out) {
    const ssize_t n = ::read(fds[0], p + got, sizeof *out - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof *out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *err = "simulation child died (status " + std::to_string(status) + ")";
    return false;
  }
  return true;
}

}  // namespace mmusim::bench
