// ChampSim import: X then loads then stores per 64-byte record, batch splits,
// truncated records, detection by content and name, compressed input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::rec;
using testing::same;
using testing::ScratchDir;

// One input_instr record, laid out by hand (not through the reader's constants).
struct Instr {
  uint64_t ip = 0;
  uint8_t is_branch = 0, branch_taken = 0;
  uint8_t dst_regs[2] = {0, 0};
  uint8_t src_regs[4] = {0, 0, 0, 0};
  uint64_t dst_mem[2] = {0, 0};
  uint64_t src_mem[4] = {0, 0, 0, 0};
};

std::string bytes_of(const Instr& in) {
  char b[64];
  std::memcpy(b, &in.ip, 8);
  b[8] = static_cast<char>(in.is_branch);
  b[9] = static_cast<char>(in.branch_taken);
  std::memcpy(b + 10, in.dst_regs, 2);
  std::memcpy(b + 12, in.src_regs, 4);
  std::memcpy(b + 16, in.dst_mem, 16);
  std::memcpy(b + 32, in.src_mem, 32);
  return std::string(b, 64);
}

// Three instructions: a load+store, a taken branch, and one with every slot
// used (zero slots in between are skipped).
std::string sample() {
  Instr a;
  a.ip = 0x401000;
  a.dst_regs[0] = 25;
  a.src_regs[0] = 6;
  a.src_mem[0] = 0x7ffe1000;
  a.dst_mem[0] = 0x601040;
  Instr b;
  b.ip = 0x401007;
  b.is_branch = 1;
  b.branch_taken = 1;
  b.src_regs[0] = 26;
  Instr c;
  c.ip = 0x401010;
  c.src_mem[0] = 0x1000;
  c.src_mem[2] = 0x3000;
  c.src_mem[3] = 0x4000;
  c.src_mem[1] = 0x2000;
  c.dst_mem[1] = 0x6000;
  c.dst_mem[0] = 0x5000;
  return bytes_of(a) + bytes_of(b) + bytes_of(c);
}

std::vector<TraceRecord> expected_sample() {
  return {rec(AccessKind::kFetch, 0x401000), rec(AccessKind::kRead, 0x7ffe1000),
          rec(AccessKind::kWrite, 0x601040), rec(AccessKind::kFetch, 0x401007),
          rec(AccessKind::kFetch, 0x401010), rec(AccessKind::kRead, 0x1000),
          rec(AccessKind::kRead, 0x2000),    rec(AccessKind::kRead, 0x3000),
          rec(AccessKind::kRead, 0x4000),    rec(AccessKind::kWrite, 0x5000),
          rec(AccessKind::kWrite, 0x6000)};
}

void expect_sample(TraceReader& r, size_t batch = 1000) {
  auto v = read_all(r, batch);
  auto want = expected_sample();
  ASSERT_EQ(v.size(), want.size()) << "batch " << batch;
  for (size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(same(v[i], want[i])) << i << " batch " << batch;
}

TEST(TraceChampSim, EmitsFetchThenLoadsThenStoresWithUnspecifiedSize) {
  ScratchDir d;
  auto r = open_trace(d.write("s.trace", sample()), "champsim");
  expect_sample(*r);
  EXPECT_EQ(r->position(), "record 3");
  EXPECT_EQ(r->format_info().format, "champsim");
  EXPECT_EQ(r->format_info().compression, "none");
}

TEST(TraceChampSim, EveryBatchSizeGivesTheSameRecords) {
  ScratchDir d;
  std::string s;
  for (int i = 0; i < 200; ++i) s += sample();
  std::string path = d.write("many", s);
  for (size_t batch : {1, 2, 3, 6, 7, 8, 1000}) {
    auto r = open_trace(path, "champsim");
    auto v = read_all(*r, batch);
    auto want = expected_sample();
    ASSERT_EQ(v.size(), 200 * want.size()) << batch;
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_TRUE(same(v[i], want[i % want.size()])) << i << " batch " << batch;
    }
    EXPECT_EQ(r->position(), "record 600");
  }
}

std::string champsim_error(const std::string& bytes, const std::string& name = "c") {
  ScratchDir d;
  std::string path = d.write(name, bytes);
  std::string msg = error_of([&] { read_all(*open_trace(path, "champsim")); });
  return msg.rfind(path, 0) == 0 ? "FILE" + msg.substr(path.size()) : msg;
}

TEST(TraceChampSim, TruncatedFinalRecordNamesRecordAndOffset) {
  std::string s = sample();
  EXPECT_EQ(champsim_error(s + s.substr(0, 10)),
            "FILE:record 4 (byte offset 192): truncated record, expected 64 bytes, got 10");
  EXPECT_EQ(champsim_error(s.substr(0, 63)),
            "FILE:record 1 (byte offset 0): truncated record, expected 64 bytes, got 63");
  EXPECT_EQ(champsim_error(""), "");  // empty: no records, no error
}

TEST(TraceChampSim, IsDetectedByContentOrByName) {
  ScratchDir d;
  // By content: plausible records, no telling name.
  auto r = open_trace(d.write("plain.bin", sample()));
  EXPECT_EQ(r->format_info().format, "champsim");
  expect_sample(*r);
  // Content not plausible (is_branch 2), but the name says ChampSim.
  Instr odd;
  odd.ip = 0x1000;
  odd.is_branch = 2;
  std::string bad = bytes_of(odd);
  EXPECT_EQ(open_trace(d.write("x.champsimtrace", bad))->format_info().format, "champsim");
  EXPECT_EQ(open_trace(d.write("x.CHAMPSIM", bad))->format_info().format, "champsim");
  EXPECT_NE(open_trace(d.write("x.raw", bad))->format_info().format, "champsim");
  // A short file is not ChampSim by content (size not a multiple of 64)...
  EXPECT_NE(open_trace(d.write("short.raw", sample().substr(0, 100)))->format_info().format,
            "champsim");
  // ...but is by name, and then its truncation is reported as such.
  std::string path = d.write("short.champsim", sample().substr(0, 100));
  EXPECT_EQ(error_of([&] { read_all(*open_trace(path)); }),
            path + ":record 2 (byte offset 64): truncated record, expected 64 bytes, got 36");
  // A text trace whose name mentions champsim stays text (no NUL byte).
  EXPECT_EQ(open_trace(d.write("champsim.txt", "R 0x1000\n"))->format_info().format, "text");
}

TEST(TraceChampSim, PlausibilityRules) {
  std::string s = sample();
  EXPECT_TRUE(looks_like_champsim(s.data(), s.size(), true));
  EXPECT_FALSE(looks_like_champsim(s.data(), 63, false));  // no whole record
  EXPECT_TRUE(looks_like_champsim(s.data(), 100, false));  // a partial tail is not judged
  EXPECT_FALSE(looks_like_champsim(s.data(), 100, true));  // whole stream: not 64-aligned
  auto variant = [&](auto edit) {
    Instr in;
    in.ip = 0x401000;
    edit(in);
    std::string b = bytes_of(in);
    return looks_like_champsim(b.data(), b.size(), true);
  };
  EXPECT_TRUE(variant([](Instr&) {}));
  EXPECT_FALSE(variant([](Instr& i) { i.ip = 0; }));
  EXPECT_FALSE(variant([](Instr& i) { i.ip = 0x0100000000000000; }));  // not canonical
  EXPECT_TRUE(variant([](Instr& i) { i.ip = 0xffffffff81000000; }));   // kernel half
  EXPECT_FALSE(variant([](Instr& i) { i.branch_taken = 1; }));         // taken, not a branch
  EXPECT_FALSE(variant([](Instr& i) { i.is_branch = 2; }));
  EXPECT_FALSE(variant([](Instr& i) { i.src_mem[3] = 0x1234567812345678; }));
  EXPECT_FALSE(variant([](Instr& i) {  // no NUL byte anywhere
    i.ip = 0xff11223344556677;
    i.is_branch = i.branch_taken = 1;
    std::fill(std::begin(i.dst_regs), std::end(i.dst_regs), 1);
    std::fill(std::begin(i.src_regs), std::end(i.src_regs), 1);
    std::fill(std::begin(i.dst_mem), std::end(i.dst_mem), 0xff11111111111111);
    std::fill(std::begin(i.src_mem), std::end(i.src_mem), 0xff11111111111111);
  }));
}

TEST(TraceChampSim, CompressedXzAndGzipAreReadBack) {
  ScratchDir d;
  std::string raw;
  for (int i = 0; i < 5000; ++i) raw += sample();  // 960 KB: several decoder chunks
  struct Case {
    const char* name;
    Compression c;
  };
  for (const Case& k :
       {Case{"t.champsimtrace.xz", Compression::kXz}, Case{"t.champsim.gz", Compression::kGzip},
        Case{"t.xz", Compression::kXz}, Case{"t.gz", Compression::kGzip}}) {
    std::string path = d.path(k.name);
    auto sink = open_byte_sink(path, k.c, 1);
    sink->write(raw.data(), raw.size());
    sink->finish();
    auto r = open_trace(path);  // auto: by name, or by content for t.xz / t.gz
    EXPECT_EQ(r->format_info().format, "champsim") << k.name;
    EXPECT_EQ(r->format_info().compression, compression_name(k.c)) << k.name;
    auto v = read_all(*r, 4096);
    auto want = expected_sample();
    ASSERT_EQ(v.size(), 5000 * want.size()) << k.name;
    for (size_t i = 0; i < v.size(); i += 997) {
      ASSERT_TRUE(same(v[i], want[i % want.size()])) << k.name << " " << i;
    }
    EXPECT_EQ(r->position(), "record 15000");
  }
  // A truncated record inside a compressed stream: offsets are decompressed.
  std::string path = d.path("cut.champsim.xz");
  auto sink = open_byte_sink(path, Compression::kXz, 1);
  sink->write(raw.data(), 64 * 7 + 5);
  sink->finish();
  EXPECT_EQ(error_of([&] { read_all(*open_trace(path)); }),
            path + ":record 8 (byte offset 448): truncated record, expected 64 bytes, got 5");
}

}  // namespace
}  // namespace mmusim
