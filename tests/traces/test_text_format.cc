// Native text format: parsing, round trips and every error message.
#include <gtest/gtest.h>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::rec;
using testing::same;
using testing::ScratchDir;

std::vector<TraceRecord> parse(const ScratchDir& d, const std::string& text) {
  auto r = open_trace(d.write("t.txt", text), "text");
  return read_all(*r);
}

// The error for a one-file text trace, with the directory prefix removed.
std::string parse_error(const std::string& text) {
  ScratchDir d;
  std::string msg = error_of([&] { parse(d, text); });
  std::string prefix = d.path("");
  if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
  return msg;
}

TEST(TraceText, ParsesFieldsDefaultsCommentsAndWhitespace) {
  ScratchDir d;
  auto v = parse(d,
                 "# header comment\n"
                 "R 0x1000 8\n"
                 "\n"
                 "W 2000\n"
                 "  \tX   0XABCdef   4   3   # trailing comment\n"
                 "R 1000#no space before the comment\n"
                 "W 0xffffffffffffffff 4096 255\r\n"
                 "R 00000000000000000000001 0 7\n"
                 "   # indented comment\n"
                 "X 10");  // no final newline
  ASSERT_EQ(v.size(), 7u);
  EXPECT_TRUE(testing::same(v[0], rec(AccessKind::kRead, 0x1000, 8)));
  EXPECT_TRUE(testing::same(v[1], rec(AccessKind::kWrite, 0x2000)));
  EXPECT_TRUE(testing::same(v[2], rec(AccessKind::kFetch, 0xabcdef, 4, 3)));
  EXPECT_TRUE(testing::same(v[3], rec(AccessKind::kRead, 0x1000)));
  EXPECT_TRUE(testing::same(v[4], rec(AccessKind::kWrite, ~uint64_t{0}, 4096, 255)));
  EXPECT_TRUE(testing::same(v[5], rec(AccessKind::kRead, 1, 0, 7)));
  EXPECT_TRUE(testing::same(v[6], rec(AccessKind::kFetch, 0x10)));
}

TEST(TraceText, EmptyAndCommentOnlyFilesHaveNoRecords) {
  ScratchDir d;
  EXPECT_TRUE(parse(d, "").empty());
  EXPECT_TRUE(parse(d, "# only\n\n   \n# comments").empty());
}

// A FLUSH without GLOBAL has address 0 whatever the caller's batch held
// (it once kept the stale address, and a reused batch turned it into a
// FLUSH GLOBAL or a malformed record).
TEST(TraceText, FlushWithoutGlobalClearsTheAddress) {
  ScratchDir d;
  auto r = open_trace(d.write("f.txt", "FLUSH\nINVLPG 0x5000\nFLUSH 1\n"), "text");
  std::vector<TraceRecord> batch(3);
  for (TraceRecord& b : batch) b.addr = 0x1234;
  ASSERT_EQ(r->read(batch.data(), batch.size()), 3u);
  EXPECT_EQ(batch[0].addr, 0u);
  EXPECT_EQ(batch[1].addr, 0x5000u);
  EXPECT_EQ(batch[2].addr, 0u);
  EXPECT_EQ(batch[2].cpu, 1u);
}

TEST(TraceText, PositionNamesTheLineOfTheLastRecord) {
  ScratchDir d;
  auto r = open_trace(d.write("t.txt", "# c\nR 1\n\nW 2\n"), "text");
  TraceRecord buf[4];
  ASSERT_EQ(r->read(buf, 1), 1u);
  EXPECT_EQ(r->position(), "line 2");
  ASSERT_EQ(r->read(buf, 4), 1u);
  EXPECT_EQ(r->position(), "line 4");
  EXPECT_EQ(r->read(buf, 4), 0u);
  EXPECT_EQ(r->read(buf, 4), 0u);
}

TEST(TraceText, WriterRoundTripsThroughTextInTinyBuffers) {
  ScratchDir d;
  std::vector<TraceRecord> in;
  for (uint64_t i = 0; i < 5000; ++i) {
    in.push_back(rec(static_cast<AccessKind>(i % 3), i * 0x9E3779B97F4A7C15ULL,
                     static_cast<uint32_t>(i % 4097), static_cast<uint16_t>((i * 7) % 256)));
  }
  std::string path = d.path("rt.txt");
  {
    TraceWriterOptions o;
    o.format = TraceFormat::kText;
    o.comment = "two\nlines";
    TraceWriter w(path, o);
    w.write(in.data(), in.size());
    w.close();
  }
  EXPECT_EQ(testing::read_file_bytes(path).rfind("# two\n# lines\n", 0), 0u);
  for (size_t cap : {size_t{64}, size_t{100}, InputBuffer::kDefaultCapacity}) {
    auto r = make_text_reader(std::make_unique<InputBuffer>(open_byte_source(path), cap));
    for (size_t batch : {size_t{1}, size_t{7}, size_t{4096}}) {
      if (batch != 1 && cap != InputBuffer::kDefaultCapacity) continue;
      auto out = read_all(*r, batch);
      ASSERT_EQ(out.size(), in.size()) << cap;
      for (size_t i = 0; i < in.size(); ++i) ASSERT_TRUE(testing::same(out[i], in[i])) << i;
      r = make_text_reader(std::make_unique<InputBuffer>(open_byte_source(path), cap));
    }
  }
}

TEST(TraceText, FormatsRecordsMinimally) {
  char buf[64];
  std::string s(buf, format_text_record(rec(AccessKind::kWrite, 0xabc), buf));
  EXPECT_EQ(s, "W 0xabc\n");
  s.assign(buf, format_text_record(rec(AccessKind::kFetch, 0, 0, 3), buf));
  EXPECT_EQ(s, "X 0x0 0 3\n");
  s.assign(buf, format_text_record(rec(AccessKind::kRead, ~uint64_t{0}, 4096, 255), buf));
  EXPECT_EQ(s, "R 0xffffffffffffffff 4096 255\n");
}

TEST(TraceText, ErrorMessagesNameFileLineAndColumn) {
  EXPECT_EQ(parse_error("R 1\nQ 12\n"), "t.txt:line 2: expected R, W or X at column 1, got 'Q'");
  EXPECT_EQ(parse_error("  r 12\n"), "t.txt:line 1: expected R, W or X at column 3, got 'r'");
  EXPECT_EQ(parse_error("RX 12\n"), "t.txt:line 1: expected R, W or X at column 1, got 'RX'");
  // RW is the keyword of an OS event (read/write calls): an event needs keys.
  EXPECT_EQ(parse_error("RW 12\n"), "t.txt:line 1: expected key=value at column 4, got '12'");
  EXPECT_EQ(parse_error("R0x10\n"), "t.txt:line 1: expected R, W or X at column 1, got 'R0x10'");
  EXPECT_EQ(parse_error("\x01 1\n"), "t.txt:line 1: expected R, W or X at column 1, got '\\x01'");
  EXPECT_EQ(parse_error("R\n"),
            "t.txt:line 1: expected a hexadecimal address at column 2, got end of line");
  EXPECT_EQ(parse_error("R   # no address\n"),
            "t.txt:line 1: expected a hexadecimal address at column 5, got end of line");
  EXPECT_EQ(parse_error("# c\n\nW 0xfg 8\n"),
            "t.txt:line 3: expected a hexadecimal address at column 3, got '0xfg'");
  EXPECT_EQ(parse_error("W 0x\n"),
            "t.txt:line 1: expected a hexadecimal address at column 3, got '0x'");
  EXPECT_EQ(parse_error("W -1\n"),
            "t.txt:line 1: expected a hexadecimal address at column 3, got '-1'");
  EXPECT_EQ(parse_error("X 0x10000000000000000\n"),
            "t.txt:line 1: address does not fit in 64 bits at column 3");
  EXPECT_EQ(parse_error("X 1ffffffffffffffff 4\n"),
            "t.txt:line 1: address does not fit in 64 bits at column 3");
  EXPECT_EQ(parse_error("R 10 8a\n"),
            "t.txt:line 1: expected a decimal size at column 6, got '8a'");
  EXPECT_EQ(parse_error("R 10 -8\n"),
            "t.txt:line 1: expected a decimal size at column 6, got '-8'");
  EXPECT_EQ(parse_error("R 10 4097\n"),
            "t.txt:line 1: size must be 0..4096 at column 6, got '4097'");
  EXPECT_EQ(parse_error("R 10 99999999999999999999999\n"),
            "t.txt:line 1: size must be 0..4096 at column 6, got '99999999999999999999999'");
  EXPECT_EQ(parse_error("R 10 8 x\n"),
            "t.txt:line 1: expected a decimal cpu number at column 8, got 'x'");
  EXPECT_EQ(parse_error("R 10 8 256\n"), "t.txt:line 1: cpu must be 0..255 at column 8, got '256'");
  EXPECT_EQ(parse_error("R 10 8 1 extra\n"),
            "t.txt:line 1: unexpected text after record at column 10, got 'extra'");
  EXPECT_EQ(parse_error("R 10 8 1 2\n"),
            "t.txt:line 1: unexpected text after record at column 10, got '2'");
  EXPECT_EQ(parse_error("R 10\nW 20\nX " + std::string(40, 'z') + "\n"),
            "t.txt:line 3: expected a hexadecimal address at column 3, got '" +
                std::string(32, 'z') + "...'");
}

// After a plain first record the reader tries a fast path on each line
// ("R|W|X 0xADDR SIZE[ CPU]"): lines it does not take (values out of range,
// leading zeros, other blanks, comments, case) get the general parser's
// records and messages.
TEST(TraceText, FastPathAndGeneralParserAgree) {
  const std::pair<const char*, const char*> kBad[] = {
      {"W 0xfg 8", "expected a hexadecimal address at column 3, got '0xfg'"},
      {"W 0x", "expected a hexadecimal address at column 3, got '0x'"},
      {"W 0x 8", "expected a hexadecimal address at column 3, got '0x'"},
      {"X 0x10000000000000000 4", "address does not fit in 64 bits at column 3"},
      {"R 0x10 8a", "expected a decimal size at column 8, got '8a'"},
      {"R 0x10 4097", "size must be 0..4096 at column 8, got '4097'"},
      {"R 0x10 99999", "size must be 0..4096 at column 8, got '99999'"},
      {"R 0x10 8 256", "cpu must be 0..255 at column 10, got '256'"},
      {"R 0x10 8 1 extra", "unexpected text after record at column 12, got 'extra'"},
      {"R 0x10 8 1 2", "unexpected text after record at column 12, got '2'"},
      {"R 0x10 ", ""},
      {"R 0x10 8 ", ""},
      {"R 0x10  8", ""}};
  for (const auto& [line, what] : kBad) {
    const std::string want = *what != '\0' ? std::string("t.txt:line 2: ") + what : "";
    EXPECT_EQ(parse_error(std::string("R 0x1 1\n") + line + "\nR 0x1 1\n"), want) << line;
  }
  ScratchDir d;
  auto v = parse(d,
                 "R 0x1 1\n"
                 "R 0x10 08\n"     // a leading zero
                 "W 0XABCDEF 0\n"  // upper case
                 "X 0xffffffffffffffff 4096 255\n"
                 "R 0x20 8 # comment\n"
                 "W 0x30\t8\n"
                 "X 0x40 2 0\r\n"
                 "R 0x50 16 3 \n"
                 "W 0x60\n");
  const std::vector<TraceRecord> want = {
      rec(AccessKind::kRead, 0x1, 1),       rec(AccessKind::kRead, 0x10, 8),
      rec(AccessKind::kWrite, 0xabcdef, 0), rec(AccessKind::kFetch, ~uint64_t{0}, 4096, 255),
      rec(AccessKind::kRead, 0x20, 8),      rec(AccessKind::kWrite, 0x30, 8),
      rec(AccessKind::kFetch, 0x40, 2),     rec(AccessKind::kRead, 0x50, 16, 3),
      rec(AccessKind::kWrite, 0x60, 0)};
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(same(v[i], want[i])) << i;
}

TEST(TraceText, ErrorAfterManyGoodLinesCountsLinesAcrossRefills) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "R 0x1000 8\n";
  text += "W 0x2000 8 999\n";
  EXPECT_EQ(parse_error(text), "t.txt:line 100001: cpu must be 0..255 at column 12, got '999'");
}

TEST(TraceText, OverlongLineIsAnError) {
  ScratchDir d;
  std::string path = d.write("long.txt", "R 1\n# " + std::string(200, 'x') + "\n");
  auto r = make_text_reader(std::make_unique<InputBuffer>(open_byte_source(path), 64));
  EXPECT_EQ(error_of([&] { read_all(*r); }), path + ":line 2: line longer than 64 bytes");
}

TEST(TraceText, MissingFileNamesTheFileAndReason) {
  EXPECT_EQ(error_of([] { open_trace("/nonexistent/x.txt"); }),
            "/nonexistent/x.txt: cannot open: No such file or directory");
  EXPECT_EQ(error_of([] { open_trace("/", "text"); }), "/: cannot open: Is a directory");
  EXPECT_EQ(
      error_of([] { open_trace("x", "csv"); }),
      "unknown trace format 'csv' (expected auto, text, binary, lackey, champsim, pin or din)");
}

TEST(TraceText, WriterRejectsWhatTextCannotHold) {
  ScratchDir d;
  TraceWriterOptions o;
  o.format = TraceFormat::kText;
  TraceWriter w(d.path("x.txt"), o);
  TraceRecord r = rec(AccessKind::kRead, 1);
  r.flags = 1;
  EXPECT_EQ(error_of([&] { w.write(r); }),
            d.path("x.txt") + ": record 1: flags 1 cannot be written as text");
  r = rec(AccessKind::kRead, 1, 0, 256);
  EXPECT_EQ(error_of([&] { w.write(r); }),
            d.path("x.txt") + ": record 1: cpu 256 exceeds the text limit 255");
}

}  // namespace
}  // namespace mmusim
