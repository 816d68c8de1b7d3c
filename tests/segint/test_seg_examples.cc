// The worked examples (configs/examples/seg_*.ini with traces/examples/
// seg_*.txt) run through the mmusim executable, compared exactly: --explain
// lines, summary.csv values and seg.* statistics. Any change to these numbers
// must be explained (design.md §4, golden regressions).
#include <gtest/gtest.h>

#include "tests/segint/segint_test_util.h"

namespace mmusim {
namespace {

using segint::json_counter;
using segint::read_file;
using segint::read_summary;
using segint::source;
using segint::TempDir;

struct Example {
  segint::Run run;
  std::map<std::string, std::string> summary;
  std::string stats;
  bool has(const std::string& line) const { return run.out.find(line + "\n") != std::string::npos; }
};

Example run_example(const TempDir& d, const std::string& name, const std::string& extra = "") {
  Example e;
  e.run =
      segint::run_command(std::string(MMUSIM_EXE) + " --config " + source("configs/skylake.ini") +
                              " --config " + source("configs/examples/seg_" + name + ".ini") +
                              " --trace " + source("traces/examples/seg_" + name + ".txt") +
                              " --explain 20 --out " + d.file("out") + " " + extra,
                          d);
  if (e.run.status == 0) {
    e.summary = read_summary(d.file("out/summary.csv"));
    e.stats = read_file(d.file("out/stats.json"));
  }
  return e;
}

// (a) Document 000: a program at base 1000; `call 40` executes at 1040.
TEST(SegExamples, RelocationBaseAndLimit) {
  TempDir d;
  Example e = run_example(d, "relocation");
  ASSERT_EQ(e.run.status, 0) << e.run.err;
  EXPECT_TRUE(e.has("#2 cpu0 X 0x410 issue@0")) << e.run.out;
  EXPECT_TRUE(
      e.has("        checks ok -> linear 0x410 = base 0x3e8 + offset 0x28 [decimal 1040 = "
            "1000 + 40], 1 cycles"));
  EXPECT_TRUE(
      e.has("  seg:  CS:0x28 (4 bytes) via CS = 0x0008 (GDT[1] 0x00409b0003e80063: base "
            "0x3e8 limit 0x63, code exec/read, DPL 0, present)"));
  EXPECT_TRUE(
      e.has("        checks ok -> linear 0x41a = base 0x3e8 + offset 0x32 [decimal 1050 = "
            "1000 + 50], 1 cycles"));
  EXPECT_TRUE(e.has("  phys: 0x410 (paging off: physical = linear), translation 1 cycles"));
  EXPECT_TRUE(e.has("#GP cpu0 R DS:0x64 (4 bytes) issue@3"));
  EXPECT_TRUE(e.has("  fault: #GP(0x0) limit -> access skipped, done@4"));
  EXPECT_TRUE(e.has("#SS cpu0 W SS:0x62 (4 bytes) issue@3"));
  EXPECT_TRUE(e.has("  fault: #SS(0x0) limit -> access skipped, done@4"));
  EXPECT_TRUE(e.has("  fault: #GP(0x0) write_to_code -> access skipped, done@5"));
  EXPECT_EQ(e.summary["accesses"], "9");
  EXPECT_EQ(e.summary["translations"], "6");
  EXPECT_EQ(e.summary["cycles"], "5");
  EXPECT_EQ(e.summary["faults"], "0");
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.gp"), 2u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.ss"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.reason.limit"), 2u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.reason.write_to_code"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.reg.cs"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.cycles"), 9u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg_skipped"), 3u);
}

// The same with seg.stop_on_fault: a one-line report, exit 3, no results.
TEST(SegExamples, RelocationStopsAtTheFirstFault) {
  TempDir d;
  Example e = run_example(d, "relocation", "--seg.stop_on_fault=true");
  EXPECT_EQ(e.run.status, 3);
  EXPECT_EQ(e.run.err,
            "mmusim: segmentation fault stopped the run (seg.stop_on_fault): cpu0 record 9: R "
            "DS:0x64 (4 bytes): #GP(0x0) limit at cycle 3\n");
  EXPECT_FALSE(std::filesystem::exists(d.file("out/summary.csv")));
  EXPECT_FALSE(std::filesystem::exists(d.file("out/stats.json")));
}

// (b) 8086 real mode: segment * 16 + offset, A20 wrap, 64 KiB limit.
TEST(SegExamples, RealMode8086) {
  TempDir d;
  Example e = run_example(d, "real_mode");
  ASSERT_EQ(e.run.status, 0) << e.run.err;
  EXPECT_TRUE(e.has("LOAD cpu0 CS <- 0x1000 issue@0")) << e.run.out;
  EXPECT_TRUE(e.has("  real mode: base = 0x1000 << 4 = 0x10000, limit 0xffff (no descriptor)"));
  EXPECT_TRUE(e.has("#1 cpu0 X 0x10100 issue@0"));
  EXPECT_TRUE(e.has("#2 cpu0 R 0x21234 issue@1"));
  EXPECT_TRUE(e.has("#3 cpu0 W 0x9fffe issue@2"));
  EXPECT_TRUE(e.has("#4 cpu0 W 0xb8000 issue@3"));
  EXPECT_TRUE(e.has("#5 cpu0 R 0x0 issue@4"));
  EXPECT_TRUE(
      e.has("        checks ok -> linear 0x0 = base 0xffff0 + offset 0x10 (0x100000 with "
            "bit 20 cleared: A20M#) [decimal 0 = 1048560 + 16], 1 cycles"));
  EXPECT_TRUE(e.has("#GP cpu0 R DS:0xfffe (4 bytes) issue@5"));
  EXPECT_EQ(e.summary["accesses"], "6");
  EXPECT_EQ(e.summary["translations"], "5");
  EXPECT_EQ(e.summary["cycles"], "6");
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.loads.ds"), 2u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.loads.cs"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.desc_cache.misses"), 0u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.gp"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg_records"), 5u);
}

// (c) Segment + page: logical 0x0040 -> linear 0x1040 -> page fault -> physical.
TEST(SegExamples, SegmentThenPage) {
  TempDir d;
  Example e = run_example(d, "paging");
  ASSERT_EQ(e.run.status, 0) << e.run.err;
  EXPECT_TRUE(e.has("#1 cpu0 R 0x1040 issue@0")) << e.run.out;
  EXPECT_TRUE(
      e.has("        checks ok -> linear 0x1040 = base 0x1000 + offset 0x40 [decimal "
            "4160 = 4096 + 64], 1 cycles"));
  EXPECT_TRUE(e.has("  fault: not_present at PD, raised@136 -> page-fault handler"));
  EXPECT_TRUE(e.has("#1 cpu0 R 0x1040 issue@1136"));
  EXPECT_TRUE(e.has("  phys: 0x3f35e040 (4K page), done@1487, translation 351 cycles"));
  EXPECT_TRUE(e.has("LOAD cpu0 FS <- 0x0023: descriptor read at linear 0x10020"));
  EXPECT_TRUE(e.has("  fault: not_present at PT, raised@1434 -> page-fault handler"));
  EXPECT_TRUE(e.has("  read: GDT[4] @0x130a8020 2648->2812 (164 cycles)"));
  EXPECT_TRUE(e.has("#3 cpu0 R 0x1040 issue@2812"));
  EXPECT_TRUE(e.has("  phys: 0x3f35e040, translation 2 cycles"));
  EXPECT_EQ(e.summary["accesses"], "4");
  EXPECT_EQ(e.summary["translations"], "5");
  EXPECT_EQ(e.summary["cycles"], "4068");
  EXPECT_EQ(e.summary["faults"], "3");
  EXPECT_EQ(e.summary["walks"], "6");
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.desc_cache.misses"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.cycles"), 4u);
  EXPECT_EQ(json_counter(e.stats, "top.kernel.faults"), 3u);
}

// (d) Linux's flat model in long mode: linear = offset; FS base; canonical check.
TEST(SegExamples, LinuxFlatLongMode) {
  TempDir d;
  Example e = run_example(d, "linux_flat");
  ASSERT_EQ(e.run.status, 0) << e.run.err;
  EXPECT_TRUE(e.has("#1 cpu0 X 0x401000 issue@0")) << e.run.out;
  EXPECT_TRUE(e.has("#2 cpu0 R 0x7ffe1230 issue@1135"));
  EXPECT_TRUE(e.has("#5 cpu0 R 0x7ffff7d86768 issue@4941"));
  EXPECT_TRUE(
      e.has("  seg:  FS:0x28 (8 bytes) via FS = 0x0000 (long mode: base 0x7ffff7d86740 "
            "from IA32_FS_BASE, no limit, canonical 48 bits)"));
  EXPECT_TRUE(e.has("#GP cpu0 R DS:0x800000000000 (8 bytes) issue@6418"));
  EXPECT_TRUE(e.has("  fault: #GP(0x0) non_canonical -> access skipped, done@6418"));
  // Flat, zero-base accesses show no segmentation step.
  size_t seg_lines = 0;
  for (size_t at = 0; (at = e.run.out.find("  seg:  ", at)) != std::string::npos; ++at) {
    ++seg_lines;
  }
  EXPECT_EQ(seg_lines, 2u);
  EXPECT_EQ(e.summary["accesses"], "6");
  EXPECT_EQ(e.summary["translations"], "5");
  EXPECT_EQ(e.summary["cycles"], "7233");
  EXPECT_EQ(e.summary["faults"], "4");
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.faults.reason.non_canonical"), 1u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.faults.non_canonical"), 0u);
  EXPECT_EQ(json_counter(e.stats, "top.cpu0.seg.cycles"), 1u);
}

// The configurations the examples must not accept, named by key.
TEST(SegExamples, WrongPagingModeIsRefused) {
  TempDir d;
  Example e = run_example(d, "real_mode", "--walker.mode=4level");
  EXPECT_EQ(e.run.status, 2);
  // The message ends with where each of the two keys was set.
  EXPECT_EQ(e.run.err.rfind("mmusim: error: ", 0), 0u) << e.run.err;
  EXPECT_NE(e.run.err.find("seg.mode: 'real' cannot be combined with walker.mode '4level' (real "
                           "mode requires paging off) [seg.mode = real ("),
            std::string::npos)
      << e.run.err;
  EXPECT_NE(e.run.err.find("seg_real_mode.ini:9), walker.mode = 4level (command line)]\n"),
            std::string::npos)
      << e.run.err;
}

}  // namespace
}  // namespace mmusim
