// One simulation in a forked child (bench/child_run.h) with the counters a
// benchmark asks for by name, and trace files written once per process. For
// benchmarks whose traces carry OS events: a text trace is written, then
// converted to the native binary format so that parsing is not measured.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/child_run.h"
#include "models/common/config_schema.h"
#include "models/common/os_event.h"
#include "models/common/parse.h"
#include "models/common/stats.h"
#include "models/sim/sim_config.h"
#include "models/sim/simulation.h"
#include "traces/generator.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim::bench {

// Configuration overrides from (key, value) pairs, as the command line gives them.
inline ConfigValues config_values(std::initializer_list<std::pair<const char*, const char*>> kv) {
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "bench"};
  return v;
}

// What a child reports: plain bytes through the pipe. values[i] is the
// counter named by the i-th name given to simulate_child().
struct SimResult {
  static constexpr size_t kMaxValues = 8;
  uint64_t records = 0, cycles = 0;
  std::array<uint64_t, kMaxValues> values{};
  uint64_t peak_rss_kb = 0;  // VmHWM at the end of the child
  double run_seconds = 0;
  char error[512] = {};
};

// A "Vm...:" line of /proc/self/status, in KiB.
inline uint64_t status_kb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::string_view v(line);
    v.remove_prefix(std::min(v.find_first_not_of(" \t", key.size()), v.size()));
    return scan_u64(v, IntSyntax::kDecimal).value;  // "  1234 kB"
  }
  return 0;
}

// Every counter of a simulation, by name.
class CounterMap : public StatVisitor {
 public:
  void counter(std::string_view name, std::string_view /*unit*/, std::string_view /*desc*/,
               uint64_t value) override {
    values_[std::string(name)] = value;
  }
  void real(std::string_view, std::string_view, std::string_view, double) override {}
  void histogram(std::string_view, std::string_view, std::string_view, const Histogram&) override {}
  // The counter `name`, or 0 when the simulation has none of that name.
  [[nodiscard]] uint64_t get(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
  }
  // The counter `name`; throws when the simulation has none of that name.
  [[nodiscard]] uint64_t at(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::runtime_error("no counter " + name);
    return it->second;
  }

 private:
  std::map<std::string, uint64_t> values_;
};

// Configures (defaults + overrides), elaborates and runs `trace` in a forked
// child; `names` are the counters to bring back (at most kMaxValues). False,
// with `err`, when the child or the simulation failed.
inline bool simulate_child(const std::string& trace, const ConfigValues& overrides,
                           const std::vector<std::string>& names, SimResult* out,
                           std::string* err) {
  if (names.size() > SimResult::kMaxValues) throw std::logic_error("too many counters");
  const auto work = [&] {
    SimResult r;
    try {
      SimConfig cfg;
      ConfigSchema schema;
      build_schema(schema, cfg);
      apply_values(schema, overrides);
      finalize(cfg);
      Simulation sim(cfg, open_trace(trace, "auto"), 0);
      sim.run();
      CounterMap c;
      sim.visit(c);
      r.records = sim.records();
      r.cycles = sim.cycles();
      r.run_seconds = sim.wall_seconds();
      for (size_t i = 0; i < names.size(); ++i) r.values[i] = c.at(names[i]);
    } catch (const std::exception& e) {
      std::snprintf(r.error, sizeof r.error, "%s", e.what());
    }
    r.peak_rss_kb = status_kb("VmHWM:");
    return r;
  };
  if (!run_in_child(work, out, err)) return false;
  if (out->error[0] != '\0') {
    *err = std::string("simulation failed: ") + out->error;
    return false;
  }
  return true;
}

// Binary trace files made by this process, removed when it exits (never by
// the forked children, which leave with _exit).
class BenchTraces {
 public:
  BenchTraces() = default;
  BenchTraces(const BenchTraces&) = delete;
  BenchTraces& operator=(const BenchTraces&) = delete;
  ~BenchTraces() {
    if (::getpid() != owner_) return;
    for (const auto& [key, path] : paths_) std::remove(path.c_str());
  }
  // The binary trace of generator `spec` (traces/generator.h), written on
  // first use.
  const std::string& generated(const std::string& key, const std::string& spec) {
    auto it = paths_.find(key);
    if (it != paths_.end()) return it->second;
    const std::string path = stem(key) + ".bin";
    auto gen = open_generator(spec);
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    o.comment = "gen:" + spec;
    TraceWriter w(path, o);
    std::vector<TraceRecord> batch(4096);
    for (size_t n; (n = gen->read(batch.data(), batch.size())) > 0;) w.write(batch.data(), n);
    w.close();
    return paths_.emplace(key, path).first->second;
  }
  // The binary trace `key`: on first use `write_text` writes its text form
  // (native text format, with OS events), which is converted and removed.
  const std::string& get(const std::string& key,
                         const std::function<void(std::ostream&)>& write_text) {
    auto it = paths_.find(key);
    if (it != paths_.end()) return it->second;
    const std::string text = stem(key) + ".txt", path = stem(key) + ".bin";
    {
      std::ofstream f(text, std::ios::trunc);
      write_text(f);
      if (!f) throw std::runtime_error("cannot write " + text);
    }
    auto reader = open_trace(text, "text");
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    o.comment = "bench: " + key;
    TraceWriter w(path, o);
    std::vector<TraceRecord> batch(4096);
    std::vector<OsEvent> events;
    for (size_t n; (n = reader->read(batch.data(), batch.size())) > 0;) {
      events.clear();
      reader->take_events(events);
      w.write(batch.data(), n, events, reader->tasks());
    }
    w.close();
    std::remove(text.c_str());
    return paths_.emplace(key, path).first->second;
  }

 private:
  [[nodiscard]] std::string stem(const std::string& key) const {
    const char* t = std::getenv("TMPDIR");
    return std::string(t != nullptr && *t != '\0' ? t : "/tmp") + "/mmusim-bench-" +
           std::to_string(owner_) + "-" + key;
  }
  pid_t owner_ = ::getpid();
  std::map<std::string, std::string> paths_;
};

}  // namespace mmusim::bench
