// The one error type for bad input: names the source (file or option), the
// position (line, record, byte offset, key) and what was expected. main()
// prints what() on one line and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace mmusim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "FILE:POSITION: MESSAGE", e.g. "trace.txt:12: expected R, W or X, got 'Q'".
inline InputError input_error(const std::string& source, const std::string& position,
                              const std::string& message) {
  return InputError(source + ":" + position + ": " + message);
}

}  // namespace mmusim
