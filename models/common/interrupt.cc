#include "models/common/interrupt.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mmusim::interrupt {
namespace {

// Everything the handler reads is plain static storage: no allocation, no
// locks. The path table changes only while `g_busy` makes the handler leave
// it alone (a quit is then carried out when the change is done).
volatile sig_atomic_t g_signal = 0;   // the first signal received
volatile sig_atomic_t g_finish = 0;   // Mode::kFinish
volatile sig_atomic_t g_busy = 0;     // Deferred objects alive (the table is changed under one)
volatile sig_atomic_t g_pending = 0;  // a quit waiting for g_busy to clear
volatile sig_atomic_t g_count = 0;    // registered paths
const char* g_tool = "";
char g_paths[kMaxPaths][kMaxPathLength + 1];
volatile sig_atomic_t g_is_dir[kMaxPaths];

void say(const char* s) {
  const ssize_t r = write(STDERR_FILENO, s, std::strlen(s));
  static_cast<void>(r);
}

const char* name_of(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
  }
}

// Removes the registered paths and ends the process by `sig` itself, so that
// the parent sees the conventional "killed by SIGINT" status.
void quit(int sig) {
  const int n = g_count;
  for (int i = 0; i < n; ++i) {
    if (g_is_dir[i] == 0) unlink(g_paths[i]);
  }
  for (int i = n - 1; i >= 0; --i) {
    if (g_is_dir[i] != 0) rmdir(g_paths[i]);
  }
  signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, nullptr);
  raise(sig);
  _exit(128 + sig);  // not reached
}

void handler(int sig) {
  const int saved_errno = errno;
  if (g_finish != 0 && g_signal == 0) {
    g_signal = sig;
    say("\n");
    say(g_tool);
    say(": ");
    say(name_of(sig));
    say(": stopping after the records in flight and writing a partial report (again to quit "
        "without results)\n");
    errno = saved_errno;
    return;
  }
  if (g_signal == 0) g_signal = sig;
  if (g_busy != 0) {
    g_pending = sig;
    errno = saved_errno;
    return;
  }
  quit(sig);
}

void add(const std::string& path, bool dir) {
  if (path.size() > kMaxPathLength) {
    throw std::length_error(path + ": path too long to remove on interruption");
  }
  if (static_cast<size_t>(g_count) >= kMaxPaths) {
    throw std::length_error(path + ": too many paths to remove on interruption");
  }
  const Deferred hold;
  const int i = g_count;
  std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
  g_is_dir[i] = dir ? 1 : 0;
  g_count = i + 1;
}

}  // namespace

void install(Mode mode, const char* tool) {
  g_tool = tool;
  g_finish = mode == Mode::kFinish ? 1 : 0;
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (mode == Mode::kFinish) signal(SIGPIPE, SIG_IGN);
}

bool requested() { return g_signal != 0; }
int signal_number() { return g_signal; }

std::string signal_name(int sig) {
  if (sig == SIGINT || sig == SIGTERM) return name_of(sig);
  return "signal " + std::to_string(sig);
}

int exit_status(int sig) { return 128 + sig; }

void add_file(const std::string& path) { add(path, false); }
void add_dir(const std::string& path) { add(path, true); }

void clear() {
  const Deferred hold;
  g_count = 0;
}

Deferred::Deferred() { g_busy = g_busy + 1; }

Deferred::~Deferred() {
  g_busy = g_busy - 1;
  if (g_busy == 0 && g_pending != 0) quit(g_pending);
}

}  // namespace mmusim::interrupt
