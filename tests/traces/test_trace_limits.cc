// The readers' limits (issue 15 §3): binary records range-checked like text
// ones, files that are not traces named for what they look like, records of
// CPUs the machine lacks and 64-bit addresses in 32-bit modes refused at the
// record at fault.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::format_error;
using testing::read_all;
using testing::rec;
using testing::ScratchDir;

// A version-1 binary trace of `v` (no declared count).
std::string binary_of(const std::vector<TraceRecord>& v) {
  std::string s = encode_binary_header("", 0);
  for (const TraceRecord& r : v) {
    char b[16];
    encode_record(r, b);
    s.append(b, 16);
  }
  return s;
}

// The error of reading `bytes` (as `format`) with the machine's limits set,
// the scratch path replaced by "FILE".
std::string limited_error(const std::string& bytes, const std::string& format, uint32_t cpus,
                          uint64_t max_addr = UINT64_MAX) {
  ScratchDir d;
  const std::string path = d.write("t", bytes);
  std::string msg = error_of([&] {
    auto r = open_trace(path, format);
    r->set_cpu_limit(cpus);
    if (max_addr != UINT64_MAX) r->set_address_limit(max_addr, "32bit");
    read_all(*r, 7);  // batches of 7: the faulty record is not at a batch end
  });
  return msg.rfind(path, 0) == 0 ? "FILE" + msg.substr(path.size()) : msg;
}

TEST(TraceLimits, BinarySizeIsRangeCheckedLikeText) {
  // Text refuses a size above 4096 ...
  EXPECT_EQ(format_error("text", "R 0x1000 4097\n"),
            "FILE:line 1: size must be 0..4096 at column 10, got '4097'");
  // ... and so does binary now: 0xFFFFFFFF was simulated as a two-page access.
  // Record 3 starts at byte 32 + 2 x 16 = 64.
  std::vector<TraceRecord> v = {rec(AccessKind::kRead, 0x1000, 8),
                                rec(AccessKind::kRead, 0x2000, 4096),
                                rec(AccessKind::kWrite, 0x3000, 0xFFFFFFFFU)};
  EXPECT_EQ(format_error("binary", binary_of(v)),
            "FILE:record 3 (byte offset 64): access size 4294967295 exceeds 4096 bytes (as in "
            "text traces)");
  // A descriptor record's size is its index (up to 8191): not an access size.
  TraceRecord gdt = rec(AccessKind::kRead, 0x00cf9b000000ffffULL, 5000);
  gdt.flags = trace_flags::kOpGdt;
  EXPECT_EQ(format_error("binary", binary_of({gdt})), "");
}

TEST(TraceLimits, BinaryKindStillChecked) {
  TraceRecord bad = rec(AccessKind::kRead, 0x1000, 8);
  bad.kind = static_cast<AccessKind>(3);
  EXPECT_EQ(format_error("binary", binary_of({rec(AccessKind::kRead, 0), bad})),
            "FILE:record 2 (byte offset 48): invalid kind value 3 (expected 0 = R, 1 = W, 2 = X)");
}

TEST(TraceLimits, CpuBeyondTheMachineNamesItsRecord) {
  // Text: line 9 of 12, inside the second batch of 7 records (the end of the
  // batch is line 14 with the comment): the error names line 9.
  std::string text = "# two CPUs\n";
  for (int i = 0; i < 12; ++i)
    text += "R 0x" + std::to_string(1000 + i) + " 8 " + (i == 7 ? "2" : "1") + "\n";
  EXPECT_EQ(limited_error(text, "text", 2),
            "FILE:line 9: record for cpu 2, but sim.cpus = 2 (expected cpu 0..1)");
  // Binary: record 10 (byte offset 32 + 9 x 16 = 176).
  std::vector<TraceRecord> v(12, rec(AccessKind::kRead, 0x1000, 8, 1));
  v[9].cpu = 5;
  EXPECT_EQ(limited_error(binary_of(v), "binary", 2),
            "FILE:record 10 (byte offset 176): record for cpu 5, but sim.cpus = 2 (expected cpu "
            "0..1)");
  // Within the limit: read whole.
  v[9].cpu = 1;
  EXPECT_EQ(limited_error(binary_of(v), "binary", 2), "");
  // The generator goes round its CPUs from 0: with cpus=4 on two CPUs, the
  // first record of cpu 2 is record 3.
  const std::string gen = "gen:seq,count=100,footprint=1M,cpus=4";
  auto four = open_trace(gen);
  four->set_cpu_limit(2);
  EXPECT_EQ(error_of([&] { read_all(*four, 7); }),
            four->path() + ":record 3: record for cpu 2, but sim.cpus = 2 (expected cpu 0..1)");
  const std::string fits = error_of([&] {
    auto r = open_trace(gen);
    r->set_cpu_limit(4);
    EXPECT_EQ(read_all(*r, 7).size(), 100U);
  });
  EXPECT_EQ(fits, "");
}

TEST(TraceLimits, SixtyFourBitAddressesRefusedIn32BitModes) {
  const std::string text = "R 0xfffff000 4\nW 0x100000000 4\n";
  EXPECT_EQ(limited_error(text, "text", 1, UINT32_MAX),
            "FILE:line 2: address 0x100000000 does not fit the 32-bit linear addresses of "
            "walker.mode = 32bit (a 64-bit trace needs walker.mode = 4level or 5level)");
  EXPECT_EQ(limited_error("INVLPG 0x7fff00000000\n", "text", 1, UINT32_MAX),
            "FILE:line 1: address 0x7fff00000000 does not fit the 32-bit linear addresses of "
            "walker.mode = 32bit (a 64-bit trace needs walker.mode = 4level or 5level)");
  EXPECT_EQ(limited_error(text, "text", 1), "");  // no limit: 64-bit modes
  std::vector<TraceRecord> v = {rec(AccessKind::kRead, 0xFFFFFFFFULL, 1),
                                rec(AccessKind::kRead, 0x1FFFFFFFFULL, 1)};
  EXPECT_EQ(limited_error(binary_of(v), "binary", 1, UINT32_MAX),
            "FILE:record 2 (byte offset 48): address 0x1ffffffff does not fit the 32-bit linear "
            "addresses of walker.mode = 32bit (a 64-bit trace needs walker.mode = 4level or "
            "5level)");
  // A descriptor's 8 bytes are not an address.
  TraceRecord gdt = rec(AccessKind::kRead, 0x00cf9b000000ffffULL, 1);
  gdt.flags = trace_flags::kOpGdt;
  EXPECT_EQ(limited_error(binary_of({gdt}), "binary", 1, UINT32_MAX), "");
}

TEST(TraceLimits, FilesThatAreNotTracesSayWhatTheyLookLike) {
  EXPECT_EQ(format_error("auto", std::string("\x7f"
                                             "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
                                             16)),
            "FILE:byte offset 0: not a trace: the file looks like an ELF executable or object "
            "file");
  EXPECT_EQ(format_error("auto", "%PDF-1.7\n"),
            "FILE:byte offset 0: not a trace: the file looks like a PDF document");
  EXPECT_EQ(format_error("auto", std::string("PK\x03\x04\x14\0\0\0", 8)),
            "FILE:byte offset 0: not a trace: the file looks like a zip archive");
  // A binary trace whose magic lost a byte: named as such, not parsed as text.
  std::string damaged = binary_of({rec(AccessKind::kRead, 0x1000, 8)});
  damaged[4] = 'X';
  EXPECT_EQ(format_error("auto", damaged),
            "FILE:byte offset 0: not a trace: the file looks like a binary trace with a damaged "
            "header: expected magic \"MMUTRACE\", got 'MMUTXACE'");
  EXPECT_EQ(format_error("binary", damaged),
            "FILE:byte offset 0: not a binary trace: the file looks like a binary trace with a "
            "damaged header: expected magic \"MMUTRACE\", got 'MMUTXACE'");
  // Version and record size in place, magic zeroed by half.
  std::string zeroed = binary_of({rec(AccessKind::kRead, 0x1000, 8)});
  std::memset(&zeroed[4], 0, 4);
  EXPECT_EQ(format_error("auto", zeroed),
            "FILE:byte offset 0: not a trace: the file looks like a binary trace with a damaged "
            "header: expected magic \"MMUTRACE\", got 'MMUT\\x00\\x00\\x00\\x00'");
  // Plain text is still text.
  EXPECT_EQ(format_error("auto", "R 0x1000 8\n"), "");
  EXPECT_EQ(describe_non_trace("R 0x1000 8\n", 11), "");
}

}  // namespace
}  // namespace mmusim
