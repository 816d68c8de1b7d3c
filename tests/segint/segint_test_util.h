// Helpers for the segmentation integration tests: a CpuCore on a plain Env
// (fixed-latency memory, no-op sync, faults to a FirstTouchMapper), record
// builders, a stats map, temp files and running the executables.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/arch/descriptor.h"
#include "models/cpu/cpu_core.h"
#include "models/os/first_touch.h"
#include "tests/common/cpu_fakes.h"

namespace mmusim::segint {

// Memory with a fixed latency; faults go to the first-touch OS model.
using PlainEnv = mmusim::testing::FakeEnv;

struct MapVisitor : StatVisitor {
  std::map<std::string, uint64_t> c;
  void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
    c[std::string(n)] = v;
  }
  void real(std::string_view, std::string_view, std::string_view, double) override {}
  void histogram(std::string_view, std::string_view, std::string_view, const Histogram&) override {}
};

// One CPU with its OS model. Issue width 1, so every access issues one cycle
// after the previous one unless something holds it.
struct Rig {
  PhysMem mem;
  PlainEnv env;
  std::unique_ptr<FirstTouchMapper> os;
  ExplainLog explain;  // every block kept
  std::unique_ptr<CpuCore> core;

  Rig(PagingMode pm, const SegConfig& seg, uint64_t latency = 100, uint64_t explain_n = 0,
      bool user = true, DescriptorTables* tables = nullptr)
      : env(latency) {
    FirstTouchConfig oc;
    oc.mode = pm;
    oc.phys_bytes = 256ULL << 20;
    oc.reserved_low = 16ULL << 20;
    oc.minor_fault_cost = Cycles(1000);
    os = std::make_unique<FirstTouchMapper>(oc, mem);
    env.os = os.get();
    CpuCoreConfig cc;
    cc.ag.issue_width = 1;
    cc.walker.mode = pm;
    cc.user = user;
    cc.seg = seg;
    core = std::make_unique<CpuCore>(0, cc, mem, env, explain_n, &explain, tables);
    core->set_root(os->root());
  }
  Cycle run(const TraceRecord& r) { return core->process(r); }
  void run(const std::vector<TraceRecord>& rs) {
    for (const TraceRecord& r : rs) core->process(r);
  }
  std::map<std::string, uint64_t> stats() {
    core->finish();
    MapVisitor v;
    core->visit(v, "cpu");
    core->visit_units(v);
    return v.c;
  }
  // The explain blocks so far (pending walks complete first: their blocks
  // are written when they do).
  [[nodiscard]] std::string explained() {
    core->drain();
    std::string s;
    for (const auto& b : explain.blocks()) s += b;
    return s;
  }
};

// Record builders. `reg` is a SegReg, or -1 for the default register.
inline TraceRecord acc(AccessKind k, uint64_t offset, uint32_t size = 4, int reg = -1) {
  TraceRecord r;
  r.kind = k;
  r.addr = offset;
  r.size = size;
  r.flags = reg < 0 ? 0 : trace_flags::reg_bits(static_cast<unsigned>(reg));
  return r;
}
inline TraceRecord rd(uint64_t offset, uint32_t size = 4, int reg = -1) {
  return acc(AccessKind::kRead, offset, size, reg);
}
inline TraceRecord wr(uint64_t offset, uint32_t size = 4, int reg = -1) {
  return acc(AccessKind::kWrite, offset, size, reg);
}
inline TraceRecord fx(uint64_t offset, uint32_t size = 4, int reg = -1) {
  return acc(AccessKind::kFetch, offset, size, reg);
}
inline int R(SegReg r) { return static_cast<int>(r); }
inline TraceRecord load(SegReg reg, uint16_t sel) {
  TraceRecord r;
  r.addr = sel;
  r.flags = static_cast<uint8_t>(trace_flags::reg_bits(static_cast<unsigned>(reg)) |
                                 trace_flags::kOpLoad);
  return r;
}
inline TraceRecord desc(uint32_t index, uint64_t d, bool ldt = false) {
  TraceRecord r;
  r.addr = d;
  r.size = index;
  r.flags = ldt ? trace_flags::kOpLdt : trace_flags::kOpGdt;
  return r;
}

// ---- files and processes ----
class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "mmusim-segint-XXXXXX").string();
    std::vector<char> b(t.begin(), t.end());
    b.push_back('\0');
    if (mkdtemp(b.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = b.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream f(file(name), std::ios::binary);
    f << text;
    return file(name);
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream o;
  o << f.rdbuf();
  return o.str();
}

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs `cmd` (a shell command line) with stdout and stderr captured.
inline Run run_command(const std::string& cmd, const TempDir& d) {
  Run r;
  const std::string o = d.file("stdout.txt"), e = d.file("stderr.txt");
  const int s = std::system((cmd + " >" + o + " 2>" + e).c_str());
  r.status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  r.out = read_file(o);
  r.err = read_file(e);
  return r;
}

inline std::string source(const std::string& rel) {
  return std::string(MMUSIM_SOURCE_DIR) + "/" + rel;
}

// summary.csv as column -> value.
inline std::map<std::string, std::string> read_summary(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string head, row;
  std::getline(in, head);
  std::getline(in, row);
  std::map<std::string, std::string> m;
  std::istringstream h(head), v(row);
  std::string k, x;
  while (std::getline(h, k, ',') && std::getline(v, x, ',')) m[k] = x;
  return m;
}

// A counter's value in stats.json ({"stats": [{"name": N, ..., "value": V}, ...]}).
inline uint64_t json_counter(const std::string& json, const std::string& name) {
  const nlohmann::json doc = nlohmann::json::parse(json);
  for (const auto& stat : doc.at("stats")) {
    if (stat.at("name") == name) return stat.at("value").get<uint64_t>();
  }
  throw std::runtime_error("no stat " + name);
}

}  // namespace mmusim::segint
