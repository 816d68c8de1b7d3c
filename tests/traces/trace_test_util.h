// Helpers for the trace tests: a scratch directory, file I/O, read-all.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/common/types.h"
#include "traces/trace_reader.h"

namespace mmusim::testing {

// A fresh directory under $TMPDIR, removed with its files at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t != nullptr ? t : "/tmp") + "/mmusim-trace-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) dir_ = buf.data();
  }
  ~ScratchDir() {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Writes `bytes` to NAME and returns its path.
  [[nodiscard]] std::string write(const std::string& name, const std::string& bytes) const {
    std::string p = path(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string dir_;
};

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Reads every record, `batch` at a time.
inline std::vector<TraceRecord> read_all(TraceReader& r, size_t batch = 1000) {
  std::vector<TraceRecord> out, buf(batch);
  for (size_t n; (n = r.read(buf.data(), batch)) > 0;)
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

inline TraceRecord rec(AccessKind kind, uint64_t addr, uint32_t size = 0, uint16_t cpu = 0) {
  TraceRecord r;
  r.addr = addr;
  r.size = size;
  r.cpu = cpu;
  r.kind = kind;
  return r;
}

inline bool same(const TraceRecord& a, const TraceRecord& b) {
  return a.addr == b.addr && a.size == b.size && a.cpu == b.cpu && a.kind == b.kind &&
         a.flags == b.flags;
}

// The message of the InputError `f` throws, or "" when it throws nothing.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not an InputError: ") + e.what();
  }
  return "";
}

// The error of reading `text` as trace format `format`, with the scratch
// file's path replaced by "FILE" ("" when it reads without error).
inline std::string format_error(const std::string& format, const std::string& text) {
  ScratchDir d;
  const std::string path = d.write("t", text);
  std::string msg = error_of([&] { read_all(*open_trace(path, format)); });
  return msg.rfind(path, 0) == 0 ? "FILE" + msg.substr(path.size()) : msg;
}

}  // namespace mmusim::testing
