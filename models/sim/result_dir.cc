#include "models/sim/result_dir.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "models/common/error.h"
#include "models/common/interrupt.h"

namespace mmusim {
namespace {

namespace fs = std::filesystem;

// Creates `dir` and its missing parents, appending the ones it made to
// `created` (outermost first). `what`: "--out DIR" for errors.
void make_dirs(const std::string& dir, const std::string& what, std::vector<std::string>& created) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::is_directory(st)) return;
  if (fs::exists(st)) throw InputError(what + ": exists and is not a directory");
  std::vector<fs::path> missing;
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty(); p = p.parent_path()) {
    if (p.filename().empty()) p = p.parent_path();  // "a/b/" -> "a/b"
    if (p.empty() || fs::exists(fs::status(p, ec))) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (!fs::create_directory(*it, ec) && ec) {
      throw InputError(what + ": cannot create the directory " + it->string() + ": " +
                       ec.message());
    }
    created.push_back(it->string());
  }
  if (!fs::is_directory(fs::status(dir, ec))) {
    throw InputError(what + ": cannot create the directory");
  }
}

// Removes DIR/.mmusim-run-PID directories whose process no longer exists
// (a run killed by SIGKILL, which no handler sees).
void remove_dead_staging(const std::string& dir) {
  std::error_code ec;
  const std::string prefix = ResultDir::kStagingPrefix;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 9) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == getpid()) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

void remove_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw InputError(what + ": cannot remove " + path + " (of an earlier run): " + ec.message());
  }
}

}  // namespace

ResultDir::ResultDir(std::string dir, const std::string& option,
                     const std::vector<std::string>& names, const std::vector<std::string>& others,
                     const std::vector<std::string>& other_options)
    : dir_(std::move(dir)) {
  try {
    const std::string what = option + " " + dir_;
    make_dirs(dir_, what, created_);
    staging_ = dir_ + "/" + kStagingPrefix + std::to_string(getpid());
    std::error_code ec;
    fs::remove_all(staging_, ec);
    if (!fs::create_directory(staging_, ec)) {
      throw InputError(what +
                       ": cannot write into the directory: " + (ec ? ec.message() : "it exists"));
    }
    remove_dead_staging(dir_);
    for (const std::string& n : names) names_.push_back({n, dir_ + "/" + n, staging_ + "/" + n});
    for (size_t i = 0; i < others.size(); ++i) {
      const std::string& o = others[i];
      const std::string ow = (i < other_options.size() ? other_options[i] : "file") + " " + o;
      const fs::path p(o);
      if (p.filename().empty()) throw InputError(ow + ": expected a file name, not a directory");
      if (fs::is_directory(fs::status(p, ec))) throw InputError(ow + ": is a directory");
      const std::string parent = p.parent_path().empty() ? "." : p.parent_path().string();
      make_dirs(parent, ow, created_);
      const std::string base = p.filename().string();
      if (fs::equivalent(parent, dir_, ec)) {
        for (const Entry& e : names_) {
          if (e.key == base) {
            throw InputError(ow + ": is the " + base + " that " + what + " receives");
          }
        }
        others_.push_back({o, dir_ + "/" + base, staging_ + "/" + base});
      } else {
        others_.push_back({o, o, o + ".tmp", true});
      }
    }
    // The results of an earlier run go now: from here on, the set's files
    // in place are this run's or none.
    for (const std::vector<Entry>* v : {&others_, &names_}) {
      for (const Entry& e : *v) {
        remove_file(e.final_path, what);
        if (e.beside) remove_file(e.staged_path, what);  // FILE.tmp of an earlier run
      }
    }
    old_removed_ = true;
    // A second signal quits at once: it removes these (files first, then
    // directories innermost first).
    const size_t files = others_.size() + names_.size();
    for (const std::string& c : created_) {
      if (files + 1 < interrupt::kMaxPaths) interrupt::add_dir(c);
    }
    interrupt::add_dir(staging_);
    for (const std::vector<Entry>* v : {&others_, &names_}) {
      for (const Entry& e : *v) interrupt::add_file(e.staged_path);
    }
  } catch (...) {
    abandon();
    throw;
  }
}

ResultDir::~ResultDir() {
  if (!committed_) abandon();
}

const ResultDir::Entry& ResultDir::entry(const std::string& file) const {
  for (const std::vector<Entry>* v : {&names_, &others_}) {
    for (const Entry& e : *v) {
      if (e.key == file) return e;
    }
  }
  throw std::logic_error(file + ": not a file of the result set");
}

std::string ResultDir::staged(const std::string& file) const { return entry(file).staged_path; }
std::string ResultDir::path(const std::string& file) const { return entry(file).final_path; }

void ResultDir::write(const std::string& file, const std::string& text) {
  write(file, [&text](std::ostream& o) { o << text; });
}

void ResultDir::write(const std::string& file, const std::function<void(std::ostream&)>& fill) {
  const std::string p = staged(file);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (f) fill(f);
  f.close();
  if (!f) throw std::runtime_error(p + ": cannot write: " + std::strerror(errno));
}

void ResultDir::commit() {
  const interrupt::Deferred hold;  // a signal now waits until the set is in place
  std::error_code ec;
  for (const std::vector<Entry>* v : {&others_, &names_}) {
    for (const Entry& e : *v) {
      if (fs::exists(fs::symlink_status(e.staged_path, ec))) {
        fs::rename(e.staged_path, e.final_path, ec);
        if (ec) {
          const std::string why = ec.message();
          abandon();
          throw std::runtime_error(e.final_path + ": cannot put in place: " + why);
        }
      } else {
        fs::remove(e.final_path, ec);
      }
    }
  }
  fs::remove(staging_, ec);
  interrupt::clear();
  committed_ = true;
}

void ResultDir::abandon() noexcept {
  std::error_code ec;
  for (const std::vector<Entry>* v : {&others_, &names_}) {
    for (const Entry& e : *v) {
      fs::remove(e.staged_path, ec);
      // Put in place by a commit() that then failed (the earlier run's are gone).
      if (old_removed_) fs::remove(e.final_path, ec);
    }
  }
  if (!staging_.empty()) fs::remove_all(staging_, ec);
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove(*it, ec);
  interrupt::clear();
  committed_ = true;
}

}  // namespace mmusim
