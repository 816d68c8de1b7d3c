// Trace input throughput (records/s as items/s). Files are written to
// $TMPDIR before timing and read from the page cache. Targets (one core):
// binary >= 200 M/s, binary+zstd >= 50 M/s, lackey >= 20 M lines/s. The text,
// lackey, pin and din figures also time the hex/decimal field scanners.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "traces/generator.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

constexpr uint64_t kRecords = 4'000'000;
constexpr const char* kSpec = "uniform,count=4000000,footprint=1G,writes=0.3,seed=1";

// A trace file that exists for the lifetime of the object.
class TempTrace {
 public:
  TempTrace(const std::string& suffix, TraceWriterOptions opts) {
    const char* t = std::getenv("TMPDIR");
    path_ = std::string(t != nullptr ? t : "/tmp") + "/mmusim-bench-" + std::to_string(::getpid()) +
            suffix;
    auto gen = open_generator(kSpec);
    TraceWriter w(path_, std::move(opts));
    std::vector<TraceRecord> batch(4096);
    for (size_t n; (n = gen->read(batch.data(), batch.size())) > 0;) w.write(batch.data(), n);
    w.close();
  }
  // A foreign text format: `header`, then one line per record written by
  // line(f, record).
  template <class Line>
  TempTrace(const std::string& suffix, const char* header, Line&& line) {
    const char* t = std::getenv("TMPDIR");
    path_ = std::string(t != nullptr ? t : "/tmp") + "/mmusim-bench-" + std::to_string(::getpid()) +
            suffix;
    FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs(header, f);
    auto gen = open_generator(kSpec);
    std::vector<TraceRecord> batch(4096);
    for (size_t n; (n = gen->read(batch.data(), batch.size())) > 0;) {
      for (size_t i = 0; i < n; ++i) line(f, batch[i]);
    }
    std::fclose(f);
  }
  ~TempTrace() { std::remove(path_.c_str()); }
  TempTrace(const TempTrace&) = delete;
  TempTrace& operator=(const TempTrace&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void read_whole(benchmark::State& state, const std::string& path, const char* format) {
  std::vector<TraceRecord> batch(4096);
  uint64_t total = 0;
  for (auto _ : state) {
    auto r = open_trace(path, format);
    uint64_t sum = 0;
    for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) {
      total += n;
      sum += batch[n - 1].addr;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
}

TraceWriterOptions options(TraceFormat f, Compression c, int binary_version = 3) {
  TraceWriterOptions o;
  o.format = f;
  o.compression = c;
  o.binary_version = binary_version;
  return o;
}

// Binary version 1 (16-byte records).
void BM_ReadBinary(benchmark::State& state) {
  TempTrace t(".bin", options(TraceFormat::kBinary, Compression::kNone, 1));
  read_whole(state, t.path(), "binary");
}
BENCHMARK(BM_ReadBinary)->Unit(benchmark::kMillisecond);

void BM_ReadBinaryZstd(benchmark::State& state) {
  TempTrace t(".bin.zst", options(TraceFormat::kBinary, Compression::kZstd, 1));
  read_whole(state, t.path(), "binary");
}
BENCHMARK(BM_ReadBinaryZstd)->Unit(benchmark::kMillisecond);

// Binary version 3 (variable-length records). The uniform trace's random
// addresses are its worst case: every record carries a 4-5 byte delta.
void BM_ReadBinaryV3(benchmark::State& state) {
  TempTrace t(".bin", options(TraceFormat::kBinary, Compression::kNone, 3));
  read_whole(state, t.path(), "binary");
}
BENCHMARK(BM_ReadBinaryV3)->Unit(benchmark::kMillisecond);

void BM_ReadBinaryV3Zstd(benchmark::State& state) {
  TempTrace t(".bin.zst", options(TraceFormat::kBinary, Compression::kZstd, 3));
  read_whole(state, t.path(), "binary");
}
BENCHMARK(BM_ReadBinaryV3Zstd)->Unit(benchmark::kMillisecond);

void BM_ReadText(benchmark::State& state) {
  TempTrace t(".txt", options(TraceFormat::kText, Compression::kNone));
  read_whole(state, t.path(), "text");
}
BENCHMARK(BM_ReadText)->Unit(benchmark::kMillisecond);

unsigned long long addr_of(const TraceRecord& r) { return r.addr; }

// Lackey's own text: " L 0422ad70,8" per access.
void BM_ReadLackey(benchmark::State& state) {
  TempTrace t(
      ".lackey", "==1== Lackey, an example Valgrind tool\n", [](FILE* f, const TraceRecord& r) {
        static const char* const kPrefix[] = {" L ", " S ", "I  "};
        std::fprintf(f, "%s%08llx,%u\n", kPrefix[static_cast<int>(r.kind)], addr_of(r), r.size);
      });
  read_whole(state, t.path(), "lackey");
}
BENCHMARK(BM_ReadLackey)->Unit(benchmark::kMillisecond);

// pinatrace: "0x401a2c: R 0x7ffd5a3c1e38" per access.
void BM_ReadPin(benchmark::State& state) {
  TempTrace t(".pin", "", [](FILE* f, const TraceRecord& r) {
    std::fprintf(f, "0x%llx: %c 0x%llx\n", 0x401000 + (addr_of(r) & 0xfff),
                 r.kind == AccessKind::kWrite ? 'W' : 'R', addr_of(r));
  });
  read_whole(state, t.path(), "pin");
}
BENCHMARK(BM_ReadPin)->Unit(benchmark::kMillisecond);

// Dinero din: "0 1a2b3c40" per access.
void BM_ReadDin(benchmark::State& state) {
  TempTrace t(".din", "", [](FILE* f, const TraceRecord& r) {
    std::fprintf(f, "%d %llx\n", r.kind == AccessKind::kWrite ? 1 : 0, addr_of(r));
  });
  read_whole(state, t.path(), "din");
}
BENCHMARK(BM_ReadDin)->Unit(benchmark::kMillisecond);

void BM_Generator(benchmark::State& state) {
  static const char* const kPatterns[] = {"uniform", "zipf", "chase"};
  std::string spec = std::string(kPatterns[state.range(0)]) + ",count=" + std::to_string(kRecords) +
                     ",footprint=1G";
  state.SetLabel(kPatterns[state.range(0)]);
  read_whole(state, "gen:" + spec, "auto");
}
BENCHMARK(BM_Generator)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mmusim
