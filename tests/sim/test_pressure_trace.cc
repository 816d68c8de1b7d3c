// The memory-pressure scenario (traces/README.md, "The memory-pressure
// scenario"; os-model.md §5.3): the shipped traces/examples/os_pressure.txt.zst
// is exactly what scripts/pressure-trace writes, it parses into the scenario's
// records and events in their order, the refault variant reads the file twice,
// and the configuration overlay configs/examples/pressure.ini gives the
// machine of 64 MiB (48 MiB managed) with 64 MiB of swap and its watermarks.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/os/os_config.h"
#include "models/os/pressure_config.h"
#include "models/os/reclaim.h"
#include "models/os/zone.h"
#include "tests/sim/sim_test_util.h"
#include "traces/byte_stream.h"
#include "traces/os_event_format.h"
#include "traces/trace_reader.h"

namespace mmusim {
namespace {

const std::string kRoot = MMUSIM_SOURCE_DIR;
const std::string kShipped = kRoot + "/traces/examples/os_pressure.txt.zst";
const std::string kGenerator = kRoot + "/scripts/pressure-trace";

constexpr uint64_t kPage = 4096;
constexpr uint64_t kAnonPages = 8192;   // 32 MiB / 4 KiB
constexpr uint64_t kFilePages = 12288;  // 48 MiB / 4 KiB
constexpr uint64_t kAnonBase = 0x7f0000000000;
constexpr uint64_t kFileBase = 0x7f1000000000;

std::string decompressed(const std::string& path) {
  auto src = open_byte_source(path);
  std::string out;
  std::vector<char> buf(1 << 16);
  for (size_t n; (n = src->read(buf.data(), buf.size())) > 0;) out.append(buf.data(), n);
  return out;
}

// Runs the generator (its own #!/usr/bin/python3) with `args`.
systest::ProcessResult generate(const std::vector<std::string>& args) {
  return systest::run_process(kGenerator, args);
}

// The first line where a and b differ, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t line = 1, i = 0;
  for (; i < a.size() && i < b.size() && a[i] == b[i]; ++i) line += a[i] == '\n' ? 1 : 0;
  if (i == a.size() && i == b.size()) return "";
  auto line_at = [](const std::string& s, size_t at) {
    const size_t from = s.rfind('\n', at == 0 ? 0 : at - 1);
    const size_t begin = from == std::string::npos || at == 0 ? 0 : from + 1;
    return s.substr(begin, s.find('\n', begin) - begin);
  };
  return "line " + std::to_string(line) + ": '" + line_at(a, i) + "' vs '" + line_at(b, i) + "'";
}

struct Read {
  std::vector<TraceRecord> records;  // EVENT records included, in order
  std::vector<OsEvent> events;
  std::vector<TraceReader::TaskKey> tasks;
};
Read read_everything(const std::string& path) {
  Read out;
  auto r = open_trace(path);
  std::vector<TraceRecord> buf(4096);
  for (size_t n; (n = r->read(buf.data(), buf.size())) > 0;) {
    r->take_events(out.events);
    out.records.insert(out.records.end(), buf.begin(), buf.begin() + n);
  }
  out.tasks = r->tasks();
  return out;
}
bool is_event(const TraceRecord& r) { return trace_flags::op_of(r.flags) == trace_flags::kOpEvent; }

TEST(PressureTrace, TheShippedTraceIsTheGeneratorsOutput) {
  const systest::ProcessResult g = generate({"-o", "-"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::string shipped = decompressed(kShipped);
  EXPECT_EQ(shipped.size(), g.out.size());
  EXPECT_EQ(first_difference(shipped, g.out), "")
      << "regenerate with scripts/pressure-trace (no arguments)";
  // Small as shipped: the text is about 550 KB, zstd level 19 brings it to a few KB.
  EXPECT_LT(systest::read_file(kShipped).size(), 20000u);
}

TEST(PressureTrace, TheShippedTraceHoldsTheScenarioInOrder) {
  const Read r = read_everything(kShipped);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].pid, 100u);
  EXPECT_EQ(r.tasks[1].pid, 101u);

  // The events, in trace order.
  std::vector<std::string> names;
  for (const auto& e : r.events) names.emplace_back(os_event_name(e));
  EXPECT_EQ(names, (std::vector<std::string>{"START", "FILE", "FILE", "VMA_INIT", "VMA_INIT",
                                             "VMA_INIT", "VMA_INIT", "MMAP", "OPEN", "FADVISE",
                                             "MMAP", "PROC_CREATE", "EXIT", "WAIT", "MSYNC",
                                             "MUNMAP", "CLOSE", "MUNMAP", "EXIT"}));
  ASSERT_EQ(r.events.size(), 19u);
  const auto& big = std::get<FileEvent>(r.events[2].body);
  EXPECT_EQ(big.size, kFilePages * kPage);  // 48 MiB = 50331648
  const auto& anon = std::get<MmapEvent>(r.events[7].body);
  EXPECT_EQ(anon.len, kAnonPages * kPage + kPage);  // 32 MiB + glibc's header page = 0x2001000
  EXPECT_EQ(anon.ret, static_cast<int64_t>(kAnonBase));
  const auto& file = std::get<MmapEvent>(r.events[10].body);
  EXPECT_EQ(file.len, kFilePages * kPage);
  EXPECT_EQ(file.file_id, big.file_id);
  EXPECT_EQ(file.flags & linux_abi::kMapTypeMask, linux_abi::kMapShared);
  EXPECT_EQ(file.ret, static_cast<int64_t>(kFileBase));
  EXPECT_EQ(std::get<ProcCreateEvent>(r.events[11].body).child_pid, 101u);
  EXPECT_EQ(r.events[12].pid, 101u);  // the child's EXIT before the parent's WAIT
  EXPECT_EQ(std::get<WaitEvent>(r.events[13].body).ret, 101);
  EXPECT_EQ(std::get<MsyncEvent>(r.events[14].body).len, kFilePages * kPage);

  // The memory records phase by phase (phase = events seen so far).
  // Phase after the first MMAP (8 events): the buffer, one write per page;
  // after the file MMAP (11): the file, one read per page in order; after
  // PROC_CREATE (12): the child's fetch, COW write and file read; after WAIT
  // (14): the parent writes every page again.
  std::map<size_t, std::vector<TraceRecord>> by_phase;
  size_t events = 0;
  for (const auto& rec : r.records) {
    if (is_event(rec)) {
      ++events;
    } else {
      by_phase[events].push_back(rec);
    }
  }
  const auto writes_every_page = [](const std::vector<TraceRecord>& v) {
    uint64_t next = kAnonBase + 0x10;  // malloc's pointer: 16 bytes into the mapping
    size_t n = 0;
    for (const auto& rec : v) {
      if (rec.kind == AccessKind::kFetch) continue;
      EXPECT_EQ(rec.kind, AccessKind::kWrite);
      EXPECT_EQ(rec.addr, next);
      EXPECT_EQ(rec.cpu, 0u);  // the parent's task slot
      next += kPage;
      ++n;
    }
    return n;
  };
  EXPECT_EQ(writes_every_page(by_phase[8]), kAnonPages);
  EXPECT_EQ(writes_every_page(by_phase[14]), kAnonPages);
  size_t file_reads = 0;
  for (const auto& rec : by_phase[11]) {
    if (rec.kind == AccessKind::kFetch) continue;
    EXPECT_EQ(rec.kind, AccessKind::kRead);
    EXPECT_EQ(rec.addr, kFileBase + file_reads * kPage);
    ++file_reads;
  }
  EXPECT_EQ(file_reads, kFilePages);
  const auto& child = by_phase[12];
  ASSERT_EQ(child.size(), 3u);
  for (const auto& rec : child) EXPECT_EQ(rec.cpu, 1u);  // the child's task slot
  EXPECT_EQ(child[1].kind, AccessKind::kWrite);
  EXPECT_EQ(child[1].addr, kAnonBase + 0x10);  // the COW write
  EXPECT_EQ(child[2].kind, AccessKind::kRead);
  EXPECT_EQ(child[2].addr, kFileBase + 2 * kPage);

  // Totals: R 12288 + the child's 1 = 12289; W 8192 + 1 + 8192 = 16385;
  // X one per phase (1, 2, the child, 4) = 4; + 19 events = 28697 records.
  std::map<AccessKind, size_t> kinds;
  for (const auto& rec : r.records) {
    if (!is_event(rec)) ++kinds[rec.kind];
  }
  EXPECT_EQ(kinds[AccessKind::kRead], 12289u);
  EXPECT_EQ(kinds[AccessKind::kWrite], 16385u);
  EXPECT_EQ(kinds[AccessKind::kFetch], 4u);
  EXPECT_EQ(r.records.size(), 28697u);
}

TEST(PressureTrace, TheRefaultVariantReadsTheFileTwice) {
  systest::TempDir d;
  const std::string out = d.file("twice.txt");
  const systest::ProcessResult g = generate({"--file-passes", "2", "-o", out});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const Read r = read_everything(out);
  size_t reads = 0;
  for (const auto& rec : r.records) {
    if (!is_event(rec) && rec.kind == AccessKind::kRead) ++reads;
  }
  EXPECT_EQ(reads, 2 * kFilePages + 1);  // 2 x 12288 + the child's read = 24577
  EXPECT_EQ(r.events.size(), 19u);
  // The same text as the shipped trace but for the second pass and the header.
  const std::string once = decompressed(kShipped);
  EXPECT_EQ(systest::read_file(out).size(),
            once.size() + 12288 * std::string("R 0x7f1000000000 8\n").size() +
                std::string("# pass 2: every page again (refaults)\n").size());
}

TEST(PressureTrace, TheGeneratorRefusesBadArguments) {
  systest::ProcessResult g = generate({"--file-passes", "0", "-o", "-"});
  EXPECT_NE(g.exit_code, 0);
  EXPECT_EQ(g.err, "pressure-trace: --file-passes: expected 1..16, got 0\n");
  g = generate({"-o", "/nonexistent-dir/x.bin"});
  EXPECT_NE(g.exit_code, 0);
  EXPECT_EQ(g.err,
            "pressure-trace: -o: expected a name ending in .txt or .txt.zst, or -, got "
            "'/nonexistent-dir/x.bin'\n");
}

// The capture of the native program (scripts/capture-trace; traces/README.md,
// "The memory-pressure scenario"): the same steps as the generated trace, in
// valgrind's layout, with the loader's and libc's work around them.
TEST(PressureTrace, TheCaptureOfTheNativeProgramHoldsTheScenario) {
  const Read r = read_everything(kRoot + "/traces/examples/os_pressure_capture.bin.zst");
  ASSERT_EQ(r.tasks.size(), 2u);  // the program and its child
  const FileEvent* data = nullptr;
  const MmapEvent* anon = nullptr;
  const MmapEvent* file = nullptr;
  std::map<std::string, int> n;
  for (const auto& e : r.events) {
    ++n[std::string(os_event_name(e))];
    if (const auto* f = std::get_if<FileEvent>(&e.body)) {
      if (f->path == "/tmp/mmusim-pressure/big.dat") data = f;
    }
    if (const auto* m = std::get_if<MmapEvent>(&e.body)) {
      if (m->len == kAnonPages * kPage + kPage) anon = m;
      if (data != nullptr && m->file_id == data->file_id) file = m;
    }
  }
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->size, kFilePages * kPage);
  ASSERT_NE(anon, nullptr);  // malloc(32 MiB): mmap of 32 MiB + 4 KiB
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->len, kFilePages * kPage);
  EXPECT_EQ(file->flags & linux_abi::kMapTypeMask, linux_abi::kMapShared);
  for (const char* kind : {"START", "PROC_CREATE", "WAIT", "FADVISE", "MSYNC"}) {
    EXPECT_EQ(n[kind], 1) << kind;
  }
  EXPECT_EQ(n["EXIT"], 2);
  // The program's own accesses: one write per page of the buffer in step 1 and
  // again in step 4 (the child's COW write is in slot 1), one read per file
  // page in step 2 (and the child's read of page 2).
  const auto in = [](uint64_t a, uint64_t base, uint64_t len) {
    return a >= base && a < base + len;
  };
  const auto anon_base = static_cast<uint64_t>(anon->ret);
  const auto file_base = static_cast<uint64_t>(file->ret);
  std::set<uint64_t> parent_pages_written;
  size_t parent_writes = 0, parent_reads = 0, child_writes = 0, child_reads = 0;
  for (const auto& rec : r.records) {
    if (is_event(rec)) continue;
    if (rec.kind == AccessKind::kWrite && in(rec.addr, anon_base, anon->len)) {
      if (rec.cpu == 0) {
        ++parent_writes;
        parent_pages_written.insert(rec.addr / kPage);
      } else {
        ++child_writes;
      }
    }
    if (rec.kind == AccessKind::kRead && in(rec.addr, file_base, file->len)) {
      (rec.cpu == 0 ? parent_reads : child_reads)++;
    }
  }
  // Byte 16 + i x 4096 of the mapping for i < 8192: pages 0..8191 (malloc's
  // header is on page 0 too; the mapping's last page is never written).
  EXPECT_EQ(parent_pages_written.size(), kAnonPages);
  EXPECT_GE(parent_writes, 2 * kAnonPages);  // + malloc's header
  EXPECT_LE(parent_writes, 2 * kAnonPages + 8);
  EXPECT_EQ(parent_reads, kFilePages);
  EXPECT_EQ(child_writes, 1u);
  EXPECT_EQ(child_reads, 1u);
  EXPECT_LT(systest::read_file(kRoot + "/traces/examples/os_pressure_capture.bin.zst").size(),
            200000u);
}

// The os.* keys the overlay may set, bound as the simulator binds them.
struct OsKeys {
  FirstTouchConfig first_touch;
  std::string huge_regions;
  KernelModuleConfig module;
  LinuxConfig linux_cfg;  // its pressure and reclaim keys included
  PressureConfig& pressure = linux_cfg.pressure;
  ReclaimConfig& reclaim = linux_cfg.reclaim;
  ConfigSchema schema;
  OsKeys() {
    add_keys(schema, first_touch, huge_regions);
    add_keys(schema, module);
    add_keys(schema, linux_cfg);
  }
};

TEST(PressureTrace, TheConfigOverlayIsTheScenariosMachine) {
  OsKeys k;
  ConfigValues v;
  read_ini(kRoot + "/configs/examples/pressure.ini", k.schema, v);
  apply_values(k.schema, v);
  validate_os_config(k.first_touch);
  validate_linux_config(k.linux_cfg);
  validate_reclaim_config(k.reclaim);
  EXPECT_EQ(k.module.model, OsModel::kLinux);
  EXPECT_EQ(k.first_touch.phys_bytes, 64ULL << 20);
  EXPECT_EQ(k.first_touch.reserved_low, 16ULL << 20);
  EXPECT_EQ(k.reclaim.swappiness, 60u);
  EXPECT_EQ(k.linux_cfg.file_cache.ra_pages, 32u);
  EXPECT_EQ(k.linux_cfg.file_cache.fault_around_pages, 16u);  // 64K / 4K
  EXPECT_EQ(k.pressure.swap_size, 64ULL << 20);
  EXPECT_EQ(k.pressure.swap_slots(), 16384u);  // 64 MiB / 4 KiB, the header slot included
  EXPECT_EQ(k.pressure.swap_kind, SwapKindChoice::kAuto);

  // The zones cover the managed memory: 64 MiB - 16 MiB = 48 MiB = 12288 pages,
  // one normal zone. min_free_kbytes = int_sqrt(16 x 49152 KiB) = int_sqrt(786432)
  // = 886 (886^2 = 784996 <= 786432 < 887^2 = 786769).
  const uint64_t managed = k.first_touch.phys_bytes - k.first_touch.reserved_low;
  validate_pressure_config(k.pressure, managed);
  ASSERT_EQ(k.pressure.zone_specs.size(), 1u);
  EXPECT_EQ(k.pressure.zone_specs[0].managed_pages, 12288u);
  EXPECT_EQ(k.pressure.effective_min_free_kbytes, 886u);
  EXPECT_EQ(k.pressure.page_cluster, 3u);  // Linux's default at >= 16 MiB
  // pages_min = 886 / 4 = 221; gap = max(221 / 4, 12288 x 10 / 10000) = max(55, 12) = 55;
  // low = 221 + 55 = 276, high = 276 + 55 = 331.
  const auto w = zone_watermarks(k.pressure.zone_specs, k.pressure.effective_min_free_kbytes,
                                 k.pressure.watermark_scale_factor);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].min, 221u);
  EXPECT_EQ(w[0].low, 276u);
  EXPECT_EQ(w[0].high, 331u);
  // What the scenario asks of memory: 8192 anonymous pages + 12288 file pages =
  // 20480 > 12288 managed pages: reclaim must free at least 20480 - 12288 = 8192.
  EXPECT_GT(kAnonPages + kFilePages, k.pressure.zone_specs[0].managed_pages);
}

}  // namespace
}  // namespace mmusim
