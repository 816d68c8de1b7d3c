// libFuzzer target for the configuration: the input is INI text, then (after
// a NUL byte) command-line words separated by NUL bytes. The text is read as
// a config file (memfd) and the words as mmusim's model-key options, through
// the same functions as main() (parse_command_line, load_config). Either that
// throws InputError, or the resolved configuration (to_ini) must load again
// on its own and resolve to the same text, key by key. Anything else is a
// bug: another exception, a sanitizer report, a round trip that differs.
// Run by scripts/fuzz-smoke; build: cmake -DCMAKE_CXX_COMPILER=clang++
// -DMMUSIM_BUILD_FUZZ=ON ... --target fuzz_config
#include <sys/mman.h>
#include <unistd.h>

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/sim/sim_config.h"

namespace {

// A memory file holding `text`, closed with the object.
class MemFile {
 public:
  explicit MemFile(const std::string& text) : fd_(::memfd_create("fuzz-config", 0)) {
    size_t done = 0;
    while (fd_ >= 0 && done < text.size()) {
      const ssize_t w = ::write(fd_, text.data() + done, text.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
  }
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_config: %s\n", what.c_str());
  std::abort();
}

}  // namespace

// The module libraries link SystemC, whose library calls sc_main; libFuzzer's
// main runs instead, so this is never called.
extern "C" int sc_main(int /*argc*/, char* /*argv*/[]) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string ini = in.substr(0, nul);
  std::vector<std::string> words{"mmusim"};
  for (size_t at = nul; at != std::string::npos && at < in.size() && words.size() < 33;) {
    const size_t next = in.find('\0', at + 1);
    words.push_back(
        in.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());

  MemFile file(ini);
  if (!file.ok()) return 0;
  mmusim::SimConfig cfg;
  mmusim::ConfigSchema schema;
  mmusim::build_schema(schema, cfg);
  std::string resolved;
  try {
    // The model keys only: a --config word must not open files of this
    // machine. Built once (it only names the keys; their defaults are fixed).
    static const boost::program_options::options_description options = schema.options();
    const mmusim::CommandLine cl =
        mmusim::parse_command_line(static_cast<int>(argv.size()), argv.data(), options, schema);
    mmusim::load_config(schema, cfg, {file.path()}, cl.values);
    resolved = schema.to_ini();
  } catch (const mmusim::InputError&) {
    return 0;
  }
  // config.ini of this run: it must load alone, to the same configuration.
  MemFile again(resolved);
  if (!again.ok()) return 0;
  mmusim::SimConfig cfg2;
  mmusim::ConfigSchema schema2;
  mmusim::build_schema(schema2, cfg2);
  try {
    mmusim::load_config(schema2, cfg2, {again.path()}, {});
  } catch (const mmusim::InputError& e) {
    fail(std::string("the resolved config does not load: ") + e.what() + "\n" + resolved);
  }
  for (const auto& k : schema.keys()) {
    const std::string a = k.get(), b = schema2.find(k.name)->get();
    if (a != b) fail(k.name + ": '" + a + "' resolved, '" + b + "' after re-reading config.ini");
  }
  return 0;
}
