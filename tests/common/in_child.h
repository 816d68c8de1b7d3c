// Runs a computation in a child process and brings its vector of numbers
// back through a pipe: for tests that compare two SystemC systems, each
// built alone in its own simulation (SystemC allows one per process).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace mmusim::testing {

// `f`'s result, computed in a child process; empty when the child failed
// (it crashed, exited non-zero, or the pipe broke).
inline std::vector<uint64_t> in_child(const std::function<std::vector<uint64_t>()>& f) {
  int fd[2];
  if (pipe(fd) != 0) return {};
  const pid_t child = fork();
  if (child < 0) return {};
  if (child == 0) {
    close(fd[0]);
    const std::vector<uint64_t> d = f();
    const uint64_t size = d.size();
    bool ok = write(fd[1], &size, sizeof size) == sizeof size;
    const auto* p = reinterpret_cast<const char*>(d.data());
    for (size_t left = size * sizeof(uint64_t); ok && left > 0;) {
      const ssize_t w = write(fd[1], p, left);
      ok = w > 0;
      if (ok) {
        p += w;
        left -= static_cast<size_t>(w);
      }
    }
    _exit(ok ? 0 : 1);
  }
  close(fd[1]);
  uint64_t size = 0;
  std::vector<uint64_t> d;
  if (read(fd[0], &size, sizeof size) == sizeof size) {
    d.resize(size);
    auto* p = reinterpret_cast<char*>(d.data());
    for (size_t left = size * sizeof(uint64_t); left > 0;) {
      const ssize_t r = read(fd[0], p, left);
      if (r <= 0) break;
      p += r;
      left -= static_cast<size_t>(r);
    }
  }
  close(fd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  return d;
}

}  // namespace mmusim::testing
