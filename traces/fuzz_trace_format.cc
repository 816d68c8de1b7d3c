// libFuzzer target for one trace format, named at compile time by
// MMUSIM_FUZZ_FORMAT ("text", "binary", "lackey", "champsim", "pin", "din"):
// the input bytes become a file (memfd) read with open_trace(path, FORMAT), so
// compressed inputs are decoded too. A reader may return records or throw
// InputError; anything else (crash, sanitizer report, other exception, a
// batch breaking fuzz_check.h's invariants on OS events) is a bug.
// Build: cmake -DCMAKE_CXX_COMPILER=clang++ -DMMUSIM_BUILD_FUZZ=ON ... --target fuzz_targets
// Run:   fuzz_trace_din -max_len=8192 -max_total_time=60 CORPUS_DIR (scripts/fuzz-smoke)
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "traces/fuzz_check.h"
#include "traces/trace_reader.h"

#ifndef MMUSIM_FUZZ_FORMAT
#error "define MMUSIM_FUZZ_FORMAT to the format name"
#endif

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
  std::vector<mmusim::TraceRecord> batch(5);  // odd size: splits multi-record inputs
  std::vector<mmusim::OsEvent> events;
  try {
    auto r = mmusim::open_trace(path, MMUSIM_FUZZ_FORMAT);
    for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) {
      (void)r->position();
      mmusim::fuzz::check_batch(*r, batch.data(), n, events);
    }
  } catch (const mmusim::InputError&) {
  }
  ::close(fd);
  return 0;
}
