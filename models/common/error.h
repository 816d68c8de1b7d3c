// The one error type for bad input: names the source (file or option), the
// position (line, record, byte offset, key) and what was expected. main()
// prints what() on one line and exits non-zero.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mmusim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // A rule across configuration keys: `keys` are every key the rule reads,
  // so that the caller can say where each was set (a file and line, the
  // command line, or the default); what() is the rule's message alone.
  InputError(const std::string& message, std::vector<std::string> keys)
      : std::runtime_error(message),
        keys_(std::make_shared<const std::vector<std::string>>(std::move(keys))) {}
  // The keys of a cross-key rule; empty for any other error.
  [[nodiscard]] const std::vector<std::string>& keys() const {
    static const std::vector<std::string> kNone;
    return keys_ ? *keys_ : kNone;
  }

 private:
  std::shared_ptr<const std::vector<std::string>> keys_;  // shared: copying never throws
};

// "FILE:POSITION: MESSAGE", e.g. "trace.txt:12: expected R, W or X, got 'Q'".
inline InputError input_error(const std::string& source, const std::string& position,
                              const std::string& message) {
  return InputError(source + ":" + position + ": " + message);
}

}  // namespace mmusim
