// Helpers shared by the system-level tests: temporary directories and files,
// running the mmusim executable as a subprocess, parsing summary.csv.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/common/config_schema.h"
#include "models/sim/reporter.h"
#include "models/sim/sim_config.h"

namespace mmusim::systest {

using Overrides = std::map<std::string, std::string>;

// The configuration main() would build from these key = value settings:
// the defaults (Skylake), the settings applied, then finalize().
inline SimConfig make_config(const Overrides& o) {
  SimConfig c;
  ConfigSchema s;
  build_schema(s, c);
  ConfigValues v;
  for (const auto& [k, x] : o) v[k] = ConfigValue{x, "test"};
  apply_values(s, v);
  finalize(c);
  return c;
}

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mmusim-systest-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream o;
  o << f.rdbuf();
  return o.str();
}

// In a sanitized build (scripts/sanitize), ASan warns once per process that
// it cannot follow SystemC's coroutine stacks ("ASan is ignoring requested
// __asan_handle_no_return", two more lines after it). That warning, and only
// it, is dropped from a child's stderr; every other report stays.
#if defined(__SANITIZE_ADDRESS__)
inline std::string without_asan_stack_warning(const std::string& err) {
  const size_t w = err.find("WARNING: ASan is ignoring requested __asan_handle_no_return");
  if (w == std::string::npos) return err;
  const size_t start = err.rfind('\n', w) == std::string::npos ? 0 : err.rfind('\n', w) + 1;
  size_t end = err.find('\n', w);
  for (const char* next : {"False positive error reports may follow\n",
                           "For details see https://github.com/google/sanitizers/issues/189\n"}) {
    if (end != std::string::npos && err.compare(end + 1, std::strlen(next), next) == 0) {
      end += std::strlen(next);
    }
  }
  return err.substr(0, start) + (end == std::string::npos ? "" : err.substr(end + 1));
}
#else
inline std::string without_asan_stack_warning(const std::string& err) { return err; }
#endif

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out, err;
};

// Runs `exe args...` (no shell), capturing stdout and stderr through files
// (no pipe deadlock on large outputs).
inline ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io.file("stdout"), err_path = io.file("stderr");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = without_asan_stack_warning(read_file(err_path));
  return r;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      v.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  v.push_back(cur);
  return v;
}

// summary.csv: a header line and one value line, as ordered (column, value).
inline std::vector<std::pair<std::string, std::string>> parse_summary(const std::string& text) {
  std::istringstream in(text);
  std::string head, row, extra;
  std::getline(in, head);
  std::getline(in, row);
  if (std::getline(in, extra) && !extra.empty()) {
    throw std::runtime_error("summary.csv has more than two lines");
  }
  auto h = split(head, ','), v = split(row, ',');
  if (h.size() != v.size()) throw std::runtime_error("summary.csv header/value count mismatch");
  std::vector<std::pair<std::string, std::string>> cols;
  for (size_t i = 0; i < h.size(); ++i) cols.emplace_back(h[i], v[i]);
  return cols;
}

// A summary.csv column that varies between identical runs: its type (the
// reporter's summary_layout()) is wall-clock.
inline bool wall_clock_column(const std::string& c) {
  for (const SummaryColumn& col : summary_layout()) {
    if (col.name == c) return col.type == SummaryColumn::Type::kWallClock;
  }
  return false;
}

// summary.csv text without the wall-clock columns (still CSV, same order).
inline std::string strip_wall_clock(const std::string& csv_text) {
  auto cols = parse_summary(csv_text);
  std::string head, row;
  bool first = true;
  for (const auto& [k, v] : cols) {
    if (wall_clock_column(k)) continue;
    head += (first ? "" : ",") + k;
    row += (first ? "" : ",") + v;
    first = false;
  }
  return head + "\n" + row + "\n";
}

inline std::map<std::string, std::string> summary_map(const std::string& csv_text) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : parse_summary(csv_text)) m[k] = v;
  return m;
}

}  // namespace mmusim::systest
