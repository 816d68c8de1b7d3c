// Valgrind lackey import: kinds, M split, ==PID== lines, errors, detection.
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
    "==12345== Lackey, an example Valgrind tool\n"
    "==12345== Copyright (C) 2002-2017, and GNU GPL'd, by Nicholas Nethercote.\n"
    "==12345== \n"
    "I  04016c40,3\n"
    " S 1ffefffe48,8\n"
    " L 04229e70,8\n"
    " M 0422ad70,4\n"
    "I  04016c43,15\n"
    "==12345== \n"
    "==12345== Counted 1 call to main()\n";

TEST(TraceLackey, MapsKindsSplitsModifyAndSkipsValgrindLines) {
  ScratchDir d;
  auto r = open_trace(d.write("l.txt", kSample), "lackey");
  auto v = read_all(*r);
  ASSERT_EQ(v.size(), 6u);
  EXPECT_TRUE(same(v[0], rec(AccessKind::kFetch, 0x04016c40, 3)));
  EXPECT_TRUE(same(v[1], rec(AccessKind::kWrite, 0x1ffefffe48, 8)));
  EXPECT_TRUE(same(v[2], rec(AccessKind::kRead, 0x04229e70, 8)));
  EXPECT_TRUE(same(v[3], rec(AccessKind::kRead, 0x0422ad70, 4)));
  EXPECT_TRUE(same(v[4], rec(AccessKind::kWrite, 0x0422ad70, 4)));
  EXPECT_TRUE(same(v[5], rec(AccessKind::kFetch, 0x04016c43, 15)));
  EXPECT_EQ(r->position(), "line 8");
}

TEST(TraceLackey, IsDetectedByContentWithOrWithoutTheBanner) {
  ScratchDir d;
  auto r = open_trace(d.write("a", kSample));
  EXPECT_EQ(r->format_info().format, "lackey");
  r = open_trace(d.write("b", " L 04229e70,8\nI  04016c40,3\n"));
  EXPECT_EQ(r->format_info().format, "lackey");
  EXPECT_EQ(read_all(*r).size(), 2u);
  r = open_trace(d.write("c", "R 04229e70 8\n"));
  EXPECT_EQ(r->format_info().format, "text");
}

TEST(TraceLackey, ModifySplitAcrossBatchesKeepsOrder) {
  ScratchDir d;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += " M 1000,8\nI  2000,4\n";
  auto r = open_trace(d.write("m", text), "lackey");
  for (size_t batch : {1, 2, 3, 1000}) {
    r = open_trace(d.path("m"), "lackey");
    auto v = read_all(*r, batch);
    ASSERT_EQ(v.size(), 3000u);
    for (size_t i = 0; i < v.size(); i += 3) {
      ASSERT_TRUE(same(v[i], rec(AccessKind::kRead, 0x1000, 8))) << i;
      ASSERT_TRUE(same(v[i + 1], rec(AccessKind::kWrite, 0x1000, 8))) << i;
      ASSERT_TRUE(same(v[i + 2], rec(AccessKind::kFetch, 0x2000, 4))) << i;
    }
  }
}

std::string lackey_error(const std::string& text) { return testing::format_error("lackey", text); }

TEST(TraceLackey, MalformedLinesAreErrorsWithLineNumbers) {
  EXPECT_EQ(lackey_error("I  1000,4\n X 1000,4\n"),
            "FILE:line 2: expected a lackey record (I, L, S or M) or a ==PID== line at column 1, "
            "got ' X 1000,4'");
  EXPECT_EQ(lackey_error("hello\n"),
            "FILE:line 1: expected a lackey record (I, L, S or M) or a ==PID== line at column 1, "
            "got 'hello'");
  EXPECT_EQ(lackey_error(" L ,8\n"),
            "FILE:line 1: expected a hexadecimal address at column 4, got ',8'");
  EXPECT_EQ(lackey_error(" L 1000\n"),
            "FILE:line 1: expected ',' after the address at column 8, got end of line");
  EXPECT_EQ(lackey_error(" L 1000 8\n"),
            "FILE:line 1: expected ',' after the address at column 8, got ' 8'");
  EXPECT_EQ(lackey_error(" S 1000,\n"),
            "FILE:line 1: expected a decimal size at column 9, got end of line");
  EXPECT_EQ(lackey_error(" S 1000,5000\n"),
            "FILE:line 1: size must be 0..4096 at column 9, got '5000'");
  EXPECT_EQ(lackey_error(" S 1000,8x\n"),
            "FILE:line 1: unexpected text after record at column 10, got 'x'");
  EXPECT_EQ(lackey_error(" S 10000000000000000,8\n"),
            "FILE:line 1: address does not fit in 64 bits at column 4, got '10000000000000000,8'");
}

// The reader's fast path takes plain lines with at least 32 bytes buffered
// after their start and leaves every other line to the general parser: with
// padding after them, the unusual lines give the same records and the bad
// ones the same errors as at the end of a file.
TEST(TraceLackey, FastPathAndGeneralParserAgree) {
  const std::string pad = "I  00001000,4\nI  00001000,4\nI  00001000,4\n";
  for (const char* bad : {" X 1000,4\n", " L ,8\n", " L 1000\n", " L 1000 8\n", " S 1000,\n",
                          " S 1000,5000\n", " S 1000,4097\n", " S 1000,8x\n", " S 1000,99999\n",
                          " S 10000000000000000,8\n", "I 1000,4\n", " L 1000,-1\n"}) {
    const std::string at_end = lackey_error(std::string("I  1000,4\n") + bad);
    EXPECT_NE(at_end, "") << bad;
    EXPECT_EQ(lackey_error(std::string("I  1000,4\n") + bad + pad), at_end) << bad;
  }
  ScratchDir d;
  const std::string lines =
      " L ABCDEF01,8\n"             // upper-case digits
      " S ffffffffffffffff,4096\n"  // 16 digits, the largest size
      " L 00123456789abcdef0,8\n"   // 18 digits, leading zeros
      " M 00402000,08\n"            // a size with a leading zero
      "I  00401000,0\n"             // size 0
      " L 00403000,2 \n"            // a trailing blank
      " S 00404000,16\r\n"          // CRLF
      "==1== a valgrind line\n"
      "\n"
      " M 00405000,1\n";
  const std::vector<TraceRecord> want = {
      rec(AccessKind::kRead, 0xabcdef01, 8),         rec(AccessKind::kWrite, ~uint64_t{0}, 4096),
      rec(AccessKind::kRead, 0x123456789abcdef0, 8), rec(AccessKind::kRead, 0x402000, 8),
      rec(AccessKind::kWrite, 0x402000, 8),          rec(AccessKind::kFetch, 0x401000, 0),
      rec(AccessKind::kRead, 0x403000, 2),           rec(AccessKind::kWrite, 0x404000, 16),
      rec(AccessKind::kRead, 0x405000, 1),           rec(AccessKind::kWrite, 0x405000, 1)};
  for (const std::string& text : {lines, lines + pad}) {
    for (const size_t batch : {1, 2, 3, 1000}) {
      auto v = read_all(*open_trace(d.write("f", text), "lackey"), batch);
      ASSERT_EQ(v.size(), want.size() + (text.size() > lines.size() ? 3 : 0)) << batch;
      for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(same(v[i], want[i])) << i;
    }
  }
}

TEST(TraceLackey, AcceptsCrlfLeadingZerosAndNoFinalNewline) {
  ScratchDir d;
  auto v = read_all(*open_trace(d.write("l", " L 00000000000000001000,8\r\n S 2000,4"), "lackey"));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(same(v[0], rec(AccessKind::kRead, 0x1000, 8)));
  EXPECT_TRUE(same(v[1], rec(AccessKind::kWrite, 0x2000, 4)));
}

}  // namespace
}  // namespace mmusim
