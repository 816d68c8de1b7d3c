// libFuzzer target for every trace reader, compression included: the input
// bytes become a file (memfd) read with open_trace(path, "auto"). A reader
// may return records or throw InputError; anything else is a bug, and so is
// a batch that breaks the invariants of fuzz_check.h (OS events, task slots).
// One target per format: fuzz_trace_format.cc. All are run by scripts/fuzz-smoke.
// Build: cmake -DCMAKE_CXX_COMPILER=clang++ -DMMUSIM_BUILD_FUZZ=ON ... --target fuzz_trace_reader
// Run:   fuzz_trace_reader -max_len=4096 -runs=1000000
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "traces/fuzz_check.h"
#include "traces/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("fuzz-trace", 0);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t w = ::write(fd, data + done, size - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  static const char* const kFormats[] = {"auto",     "text", "binary", "lackey",
                                         "champsim", "pin",  "din"};
  std::vector<mmusim::TraceRecord> batch(7);
  std::vector<mmusim::OsEvent> events;
  for (const char* format : kFormats) {
    try {
      auto r = mmusim::open_trace(path, format);
      for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) {
        mmusim::fuzz::check_batch(*r, batch.data(), n, events);
      }
    } catch (const mmusim::InputError&) {
    }
  }
  ::close(fd);
  return 0;
}
