// Dinero din import: labels 0..4, optional size, comments, errors, detection.
#include <gtest/gtest.h>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

using testing::read_all;
using testing::rec;
using testing::same;
using testing::ScratchDir;

const char* const kSample =
    "2 0\n"
    "0 1000\n"
    "1 70f60888 This is a data write (the rest of the line is a comment)\n"
    "\n"
    "2 2cb5 4\r\n"
    "3 0x7ffe1000 8 misc\n"
    "4 0\n"
    "\t0\t00000000000000000000ABCDEF\t2\n"
    "1 ffffffffffffffff";

TEST(TraceDin, MapsLabelsSkipsFlushesAndComments) {
  ScratchDir d;
  auto r = open_trace(d.write("t.din", kSample), "din");
  auto v = read_all(*r);
  ASSERT_EQ(v.size(), 7u);
  EXPECT_TRUE(same(v[0], rec(AccessKind::kFetch, 0)));
  EXPECT_TRUE(same(v[1], rec(AccessKind::kRead, 0x1000)));
  EXPECT_TRUE(same(v[2], rec(AccessKind::kWrite, 0x70f60888)));
  EXPECT_TRUE(same(v[3], rec(AccessKind::kFetch, 0x2cb5, 4)));
  EXPECT_TRUE(same(v[4], rec(AccessKind::kRead, 0x7ffe1000, 8)));  // label 3: unknown -> R
  EXPECT_TRUE(same(v[5], rec(AccessKind::kRead, 0xabcdef, 2)));
  EXPECT_TRUE(same(v[6], rec(AccessKind::kWrite, 0xffffffffffffffff)));
  EXPECT_EQ(r->position(), "line 9");
  EXPECT_EQ(r->format_info().format, "din");
}

TEST(TraceDin, EveryBatchSizeGivesTheSameRecords) {
  ScratchDir d;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "2 400000\n4 0\n0 1000 8\n";
  std::string path = d.write("d", text);
  for (size_t batch : {1, 2, 3, 1000}) {
    auto v = read_all(*open_trace(path, "din"), batch);
    ASSERT_EQ(v.size(), 2000u);
    for (size_t i = 0; i < v.size(); i += 2) {
      ASSERT_TRUE(same(v[i], rec(AccessKind::kFetch, 0x400000))) << i;
      ASSERT_TRUE(same(v[i + 1], rec(AccessKind::kRead, 0x1000, 8))) << i;
    }
  }
}

std::string din_error(const std::string& text) { return testing::format_error("din", text); }

TEST(TraceDin, MalformedLinesAreErrorsWithLineAndColumn) {
  EXPECT_EQ(din_error("0 1000\n5 1000\n"),
            "FILE:line 2: expected a label 0..4 at column 1, got '5'");
  EXPECT_EQ(din_error("r 1000\n"), "FILE:line 1: expected a label 0..4 at column 1, got 'r'");
  EXPECT_EQ(din_error("01 1000\n"), "FILE:line 1: expected a label 0..4 at column 1, got '01'");
  EXPECT_EQ(din_error("0\n"),
            "FILE:line 1: expected a hexadecimal address at column 2, got end of line");
  EXPECT_EQ(din_error("0 10g0\n"),
            "FILE:line 1: expected a hexadecimal address at column 3, got '10g0'");
  EXPECT_EQ(din_error("0 0x\n"),
            "FILE:line 1: expected a hexadecimal address at column 3, got '0x'");
  EXPECT_EQ(din_error("1 10000000000000000\n"),
            "FILE:line 1: address does not fit in 64 bits at column 3, got '10000000000000000'");
  EXPECT_EQ(din_error("0 1000 8x\n"), "FILE:line 1: expected a decimal size at column 8, got '8x'");
  EXPECT_EQ(din_error("0 1000 4097\n"),
            "FILE:line 1: size must be 0..4096 at column 8, got '4097'");
  EXPECT_EQ(din_error("4 zz\n"),
            "FILE:line 1: expected a hexadecimal address at column 3, got 'zz'");  // flush too
}

TEST(TraceDin, IsDetectedByContent) {
  ScratchDir d;
  auto r = open_trace(d.write("a", kSample));
  EXPECT_EQ(r->format_info().format, "din");
  EXPECT_EQ(read_all(*r).size(), 7u);
  EXPECT_EQ(open_trace(d.write("b", "\n  1 0x70f60888\n"))->format_info().format, "din");
  EXPECT_EQ(open_trace(d.write("c", "4 0 flush\n"))->format_info().format, "din");
  EXPECT_EQ(open_trace(d.write("e", "5 1000\n"))->format_info().format, "text");
  EXPECT_EQ(open_trace(d.write("f", "X 1000\n"))->format_info().format, "text");
}

}  // namespace
}  // namespace mmusim
