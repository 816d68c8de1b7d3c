// The result set of one run, written whole or not at all (README "Errors,
// interruption and results").
//
// Construction, before the simulation starts: the directory is created (with
// its missing parents) and checked; a staging directory DIR/.mmusim-run-PID
// is made in it; the result files of an earlier run are removed (so no
// complete-looking old results outlive a run that fails or is killed), and
// so are the staging directories of runs that no longer exist. Files are
// then written into the staging directory (files of the set outside DIR, such
// as a fault log elsewhere, to FILE.tmp beside them). commit() renames them
// into place, the last name of the set last: its presence means the set is
// complete. Destroyed without commit(), the set is abandoned: staged files,
// the staging directory, and the directories this run created (when empty)
// are removed. Every staged path is also registered with models/common/
// interrupt.h, so a second Ctrl-C (which quits at once) leaves none behind.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace mmusim {

class ResultDir {
 public:
  // `dir`: the directory (--out; `option` names it in errors, which throw
  // InputError). `names`: the set's files in `dir`, in the order commit()
  // puts them in place. `others`: the set's files anywhere (their directory
  // is created too; `other_options` name them in errors); one that lies in
  // `dir` is staged with the others there, and one that collides with a
  // name of the set is refused.
  ResultDir(std::string dir, const std::string& option, const std::vector<std::string>& names,
            const std::vector<std::string>& others = {},
            const std::vector<std::string>& other_options = {});
  ~ResultDir();
  ResultDir(const ResultDir&) = delete;
  ResultDir& operator=(const ResultDir&) = delete;

  // Where to write `file` (a name of the set, or one of `others` as given)
  // before commit(). Throws std::logic_error for a file not of the set.
  [[nodiscard]] std::string staged(const std::string& file) const;
  // Writes `file`'s staged copy whole; throws std::runtime_error naming it.
  void write(const std::string& file, const std::string& text);
  void write(const std::string& file, const std::function<void(std::ostream&)>& fill);
  // Puts every staged file in place (others first, then `names` in order;
  // a name not staged is absent afterwards) and removes the staging
  // directory. Throws std::runtime_error naming the file that failed; the set
  // is then abandoned as by the destructor.
  void commit();

  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& staging() const { return staging_; }
  // The final path of `file` (a name of the set: DIR/NAME).
  [[nodiscard]] std::string path(const std::string& file) const;

  static constexpr const char* kStagingPrefix = ".mmusim-run-";

 private:
  struct Entry {
    std::string key;  // the name, or the path of an `others` file as given
    std::string final_path, staged_path;
    bool beside = false;  // staged as FILE.tmp beside it (outside DIR)
  };
  [[nodiscard]] const Entry& entry(const std::string& file) const;
  void abandon() noexcept;

  std::string dir_, staging_;
  std::vector<std::string> created_;  // directories this run created, outermost first
  std::vector<Entry> others_, names_;
  bool committed_ = false, old_removed_ = false;
};

}  // namespace mmusim
