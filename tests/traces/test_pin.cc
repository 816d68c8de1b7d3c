// Intel Pin pinatrace import: R/W records, (nil), optional size, #eof, errors,
// detection.
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
    "0x7f3a1c2d4e10: W 0x7ffd5a3c1e38\n"
    "0x7f3a1c2d4e14: R 0x7f3a1c2f0e68\n"
    "\n"
    "0x401000: R 0X601040 8\r\n"
    "0x401004: W (nil)\n"
    "(nil): R 0x1000\n"
    "  0x401008:   R   0x2000   4  \n"
    "#eof\n"
    "\n";

TEST(TracePin, ReadsLoadsAndStoresWithoutTheInstructionAddress) {
  ScratchDir d;
  auto r = open_trace(d.write("p.out", kSample), "pin");
  auto v = read_all(*r);
  ASSERT_EQ(v.size(), 6u);
  EXPECT_TRUE(same(v[0], rec(AccessKind::kWrite, 0x7ffd5a3c1e38)));
  EXPECT_TRUE(same(v[1], rec(AccessKind::kRead, 0x7f3a1c2f0e68)));
  EXPECT_TRUE(same(v[2], rec(AccessKind::kRead, 0x601040, 8)));
  EXPECT_TRUE(same(v[3], rec(AccessKind::kWrite, 0)));
  EXPECT_TRUE(same(v[4], rec(AccessKind::kRead, 0x1000)));
  EXPECT_TRUE(same(v[5], rec(AccessKind::kRead, 0x2000, 4)));
  EXPECT_EQ(r->position(), "line 7");
  EXPECT_EQ(r->format_info().format, "pin");
}

TEST(TracePin, EofIsOptionalAndBatchesSplitAnywhere) {
  ScratchDir d;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "0x401000: R 0x1000\n0x401004: W 0x2000\n";
  // No #eof (a cut trace) and no final '\n'.
  std::string path = d.write("p", text + "0x401008: R 0x3000");
  for (size_t batch : {1, 2, 3, 1000}) {
    auto v = read_all(*open_trace(path, "pin"), batch);
    ASSERT_EQ(v.size(), 2001u);
    for (size_t i = 0; i + 1 < v.size(); i += 2) {
      ASSERT_TRUE(same(v[i], rec(AccessKind::kRead, 0x1000))) << i;
      ASSERT_TRUE(same(v[i + 1], rec(AccessKind::kWrite, 0x2000))) << i;
    }
    EXPECT_TRUE(same(v.back(), rec(AccessKind::kRead, 0x3000)));
  }
}

std::string pin_error(const std::string& text) { return testing::format_error("pin", text); }

TEST(TracePin, MalformedLinesAreErrorsWithLineAndColumn) {
  EXPECT_EQ(pin_error("0x1: R 0x10\nhello\n"),
            "FILE:line 2: expected a hexadecimal instruction address or #eof at column 1, got "
            "'hello'");
  EXPECT_EQ(pin_error("0x40 : R 0x10\n"),
            "FILE:line 1: expected ':' after the instruction address at column 5, got ' :'");
  EXPECT_EQ(pin_error("0x40g: R 0x10\n"),
            "FILE:line 1: expected ':' after the instruction address at column 5, got 'g:'");
  EXPECT_EQ(pin_error("0x40\n"),
            "FILE:line 1: expected ':' after the instruction address at column 5, got end of line");
  EXPECT_EQ(pin_error("0x10000000000000000: R 0x10\n"),
            "FILE:line 1: instruction address does not fit in 64 bits at column 1, got "
            "'0x10000000000000000:'");
  EXPECT_EQ(pin_error("0x40: M 0x10\n"), "FILE:line 1: expected R or W at column 7, got 'M'");
  EXPECT_EQ(pin_error("0x40: r 0x10\n"), "FILE:line 1: expected R or W at column 7, got 'r'");
  EXPECT_EQ(pin_error("0x40:\n"), "FILE:line 1: expected R or W at column 6, got end of line");
  EXPECT_EQ(pin_error("0x40: R\n"),
            "FILE:line 1: expected a hexadecimal address at column 8, got end of line");
  EXPECT_EQ(pin_error("0x40: R 0x1z\n"),
            "FILE:line 1: expected a hexadecimal address at column 9, got '0x1z'");
  EXPECT_EQ(pin_error("0x40: W 0x10000000000000000\n"),
            "FILE:line 1: address does not fit in 64 bits at column 9, got '0x10000000000000000'");
  EXPECT_EQ(pin_error("0x40: W 0x10 8x\n"),
            "FILE:line 1: expected a decimal size at column 14, got '8x'");
  EXPECT_EQ(pin_error("0x40: W 0x10 5000\n"),
            "FILE:line 1: size must be 0..4096 at column 14, got '5000'");
  EXPECT_EQ(pin_error("0x40: W 0x10 8 9\n"),
            "FILE:line 1: unexpected text after record at column 16, got '9'");
  EXPECT_EQ(pin_error("0x40: W 0x10\n#eof\n0x44: R 0x10\n"),
            "FILE:line 3: unexpected text after #eof at column 1, got '0x44:'");
  EXPECT_EQ(pin_error("#eof now\n"),
            "FILE:line 1: unexpected text after #eof at column 6, got 'now'");
  EXPECT_EQ(pin_error("# comment\n"),
            "FILE:line 1: expected a hexadecimal instruction address or #eof at column 1, got "
            "'#'");
}

TEST(TracePin, IsDetectedByContent) {
  ScratchDir d;
  auto r = open_trace(d.write("a", kSample));
  EXPECT_EQ(r->format_info().format, "pin");
  EXPECT_EQ(read_all(*r).size(), 6u);
  EXPECT_EQ(open_trace(d.write("b", "\n(nil): R 0x10\n"))->format_info().format, "pin");
  EXPECT_EQ(open_trace(d.write("c", "#eof\n"))->format_info().format, "pin");
  EXPECT_EQ(read_all(*open_trace(d.path("c"))).size(), 0u);
  EXPECT_EQ(open_trace(d.write("e", "# c\nR 0x10\n"))->format_info().format, "text");
}

}  // namespace
}  // namespace mmusim
