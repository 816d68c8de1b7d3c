// SIGINT/SIGTERM handling for the command-line tools, async-signal-safe.
//
// A tool registers the temporary files and directories it is writing; when a
// signal ends the process they are removed first (unlink, rmdir), so no
// `.tmp` file or staging directory outlives an interrupted run.
//
// Two ways to react:
//   - kQuit: the first signal removes the registered paths and ends the
//     process with the signal's conventional status (128 + signal number).
//   - kFinish: the first signal only sets requested() (the tool stops at its
//     next check and writes what it has); a second signal quits as kQuit.
//
// In kFinish mode SIGPIPE is ignored, so a closed stdout shows up as a failed
// write (EPIPE) that the tool handles, never as a silent death before its
// results are written.
#pragma once

#include <signal.h>

#include <cstddef>
#include <string>

namespace mmusim::interrupt {

enum class Mode : unsigned char { kQuit, kFinish };

// Installs the handlers for SIGINT and SIGTERM (kFinish: ignores SIGPIPE). `tool`
// prefixes the one-line notes written to stderr ("mmusim", "mmusim-trace").
void install(Mode mode, const char* tool);
// A signal was received (kFinish mode); the signal's number, or 0.
bool requested();
int signal_number();
// "SIGINT", "SIGTERM" (or "signal N").
std::string signal_name(int sig);
// 128 + the signal's number: the status a shell reports for it.
int exit_status(int sig);

// Registers a file (removed with unlink) or an empty-after-files directory
// (removed with rmdir, after every file) to remove when a signal ends the
// process. At most kMaxPaths paths of at most kMaxPathLength bytes; longer or
// further ones throw std::length_error. Thread-compatible, not thread-safe.
constexpr size_t kMaxPaths = 16;
constexpr size_t kMaxPathLength = 4095;
void add_file(const std::string& path);
void add_dir(const std::string& path);
// Forgets every registered path (they were renamed into place or removed).
void clear();

// Defers a quit while alive (carried out when the last one ends): for a step
// that must not be cut in the middle, such as renaming results into place.
class Deferred {
 public:
  Deferred();
  ~Deferred();
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;
};

}  // namespace mmusim::interrupt
