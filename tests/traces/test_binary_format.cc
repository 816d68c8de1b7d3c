// Native binary format: round trips, header validation, truncation.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/traces/trace_test_util.h"
#include "traces/byte_stream.h"
#include "traces/formats.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::rec;
using testing::ScratchDir;

std::vector<TraceRecord> sample_records(size_t n) {
  std::vector<TraceRecord> v;
  for (size_t i = 0; i < n; ++i) {
    // Sizes 0..4096: a larger access size is refused, as in text traces.
    TraceRecord r = rec(static_cast<AccessKind>(i % 3), i * 0x100000001B3ULL,
                        static_cast<uint32_t>(i * 13 % 4097), static_cast<uint16_t>(i * 31));
    // Every segment-register override of an access (nibble 0 = none, 1..6
    // = ES..GS): the reader refuses flags that are not a well-formed record
    // (TraceBinary.MalformedFlagsAreRefused), and only op 0 takes any
    // address, size and kind.
    r.flags = static_cast<uint8_t>((i % 7) << trace_flags::kRegShift);
    v.push_back(r);
  }
  return v;
}

// Version 1 (16-byte records), whose layout these tests check; version 3:
// test_binary_v3.cc.
std::string write_binary(const ScratchDir& d, const std::string& name,
                         const std::vector<TraceRecord>& v, const std::string& comment = "") {
  TraceWriterOptions o;
  o.comment = comment;
  o.binary_version = 1;
  std::string path = d.path(name);
  TraceWriter w(path, o);
  w.write(v.data(), v.size());
  w.close();
  return path;
}

void put16(std::string& s, size_t at, uint16_t v) { std::memcpy(&s[at], &v, 2); }
void put32(std::string& s, size_t at, uint32_t v) { std::memcpy(&s[at], &v, 4); }
void put64(std::string& s, size_t at, uint64_t v) { std::memcpy(&s[at], &v, 8); }

TEST(TraceBinary, HeaderLayoutIsAsDocumented) {
  std::string h = encode_binary_header("ls -l", 7);
  ASSERT_EQ(h.size(), 48u);  // 32 fixed + 5 comment, padded to 16
  EXPECT_EQ(h.substr(0, 8), "MMUTRACE");
  EXPECT_EQ(h.substr(8, 2), std::string("\x01\x00", 2));   // version 1
  EXPECT_EQ(h.substr(10, 2), std::string("\x10\x00", 2));  // record size 16
  EXPECT_EQ(h.substr(12, 4), std::string(4, '\0'));        // flags
  EXPECT_EQ(h.substr(16, 8), std::string("\x07\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(h.substr(24, 4), std::string("\x30\0\0\0", 4));  // header bytes 48
  EXPECT_EQ(h.substr(28, 4), std::string("\x05\0\0\0", 4));  // comment bytes
  EXPECT_EQ(h.substr(32, 5), "ls -l");
  EXPECT_EQ(h.substr(37), std::string(11, '\0'));
  EXPECT_EQ(encode_binary_header("", 0).size(), 32u);
}

TEST(TraceBinary, RecordLayoutIsLittleEndian) {
  TraceRecord r = rec(AccessKind::kFetch, 0x0102030405060708ULL, 0x11223344, 0x5566);
  r.flags = 0x77;
  char b[16];
  encode_record(r, b);
  EXPECT_EQ(std::string(b, 16),
            std::string("\x08\x07\x06\x05\x04\x03\x02\x01\x44\x33\x22\x11\x66\x55\x02\x77", 16));
}

TEST(TraceBinary, RoundTripKeepsEveryFieldCommentAndCount) {
  ScratchDir d;
  auto in = sample_records(100000);
  std::string path = write_binary(d, "rt.bin", in, "capture: /bin/ls -l");
  EXPECT_EQ(testing::read_file_bytes(path).size(), 64 + 16 * in.size());  // 32 + 19, padded
  for (size_t cap : {size_t{48}, size_t{1000}, InputBuffer::kDefaultCapacity}) {
    auto r = make_binary_reader(std::make_unique<InputBuffer>(open_byte_source(path), cap));
    EXPECT_EQ(r->format_info().comment, "capture: /bin/ls -l");
    EXPECT_EQ(r->format_info().declared_records, in.size());
    auto out = read_all(*r, cap == 48 ? 3 : 4096);
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) ASSERT_TRUE(testing::same(out[i], in[i])) << i;
    EXPECT_EQ(r->position(), "record 100000");
  }
  auto r = open_trace(path);  // auto-detected
  EXPECT_EQ(r->format_info().format, "binary");
  EXPECT_EQ(read_all(*r).size(), in.size());
}

// The window's refill limit, and reads past the window (what the binary
// reader's direct path rests on): whole units straight into the caller's
// memory, the window's own bytes first, a partial last unit left in the
// window, the offset moved only by skip().
TEST(TraceBinary, InputBufferFillsToItsLimitAndReadsWholeUnitsDirect) {
  ScratchDir d;
  std::string bytes(10000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + i / 256);
  InputBuffer in(open_byte_source(d.write("b.raw", bytes)), 4096);
  EXPECT_EQ(in.fill(1, 100), 100U);  // at most the limit
  EXPECT_EQ(std::string(in.data(), 100), bytes.substr(0, 100));
  in.consume(95);
  EXPECT_EQ(in.fill(200, 50), 200U);  // a limit below `want`: want
  EXPECT_EQ(std::string(in.data(), 200), bytes.substr(95, 200));
  in.consume(195);  // offset 290, 5 bytes in the window
  ASSERT_EQ(in.size(), 5U);
  std::vector<char> dst(20000);
  EXPECT_EQ(in.read_direct(dst.data(), 4800, 16), 4800U);  // the 5, then 4795
  EXPECT_EQ(std::string(dst.data(), 4800), bytes.substr(290, 4800));
  EXPECT_EQ(in.size(), 0U);
  EXPECT_EQ(in.offset(), 290U);
  in.skip(4800);
  // 4910 bytes left: 306 units, then 14 bytes back in the window.
  EXPECT_EQ(in.read_direct(dst.data(), 8000, 16), 4896U);
  EXPECT_EQ(std::string(dst.data(), 4896), bytes.substr(5090, 4896));
  in.skip(4896);
  EXPECT_TRUE(in.source_ended());
  EXPECT_EQ(in.offset(), 9986U);
  ASSERT_EQ(in.size(), 14U);
  EXPECT_EQ(std::string(in.data(), 14), bytes.substr(9986));
}

// A file larger than the reader's 1 MiB window, read in batches of every
// size: past the window, batches of 256 records or more are read straight
// from the file (or the decompressor); smaller ones through the window.
// Every record arrives, in order, whatever the mix.
TEST(TraceBinary, LargeFilesReadTheSameInAnyBatches) {
  ScratchDir d;
  const std::vector<TraceRecord> v = sample_records(150001);
  const std::string path = write_binary(d, "large.bin", v);
  TraceWriterOptions o;
  o.binary_version = 1;
  o.compression = Compression::kZstd;
  const std::string zst = d.path("large.bin.zst");
  {
    TraceWriter w(zst, o);
    w.write(v.data(), v.size());
    w.close();
  }
  for (const auto& [file, batch] : {std::pair{path, 1},
                                    {path, 255},
                                    {path, 256},
                                    {path, 1000},
                                    {path, 4096},
                                    {path, 100000},
                                    {zst, 7},
                                    {zst, 4096}}) {
    SCOPED_TRACE(file + " " + std::to_string(batch));
    auto r = open_trace(file);
    const std::vector<TraceRecord> got = read_all(*r, batch);
    ASSERT_EQ(got.size(), v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_TRUE(got[i].addr == v[i].addr && got[i].size == v[i].size && got[i].cpu == v[i].cpu &&
                  got[i].kind == v[i].kind && got[i].flags == v[i].flags)
          << "record " << i;
    }
  }
  // Batches that alternate around the threshold.
  auto r = open_trace(path);
  std::vector<TraceRecord> buf(5000);
  size_t total = 0;
  for (size_t i = 0, n; (n = r->read(buf.data(), i % 2 == 0 ? 5000 : 7)) > 0; ++i) {
    for (size_t j = 0; j < n; ++j) ASSERT_EQ(buf[j].addr, v[total + j].addr) << total + j;
    total += n;
  }
  EXPECT_EQ(total, v.size());
}

TEST(TraceBinary, StreamedFileHasCountZeroAndAnyLength) {
  ScratchDir d;
  auto in = sample_records(10);
  std::string bytes = encode_binary_header("", 0);
  for (const auto& r : in) {
    char b[16];
    encode_record(r, b);
    bytes.append(b, 16);
  }
  auto r = open_trace(d.write("s.bin", bytes));
  EXPECT_EQ(r->format_info().declared_records, 0u);
  EXPECT_EQ(read_all(*r).size(), 10u);
}

class TraceBinaryErrors : public ::testing::Test {
 protected:
  std::string error_for(const std::string& bytes) {
    std::string path = d_.write("e.bin", bytes);
    std::string msg = error_of([&] { read_all(*open_trace(path, "binary")); });
    return msg.rfind(path, 0) == 0 ? "FILE" + msg.substr(path.size()) : msg;
  }
  std::string good_ = encode_binary_header("abc", 0) + std::string(32, '\0');
  ScratchDir d_;
};

TEST_F(TraceBinaryErrors, BadMagic) {
  std::string b = good_;
  b[0] = 'X';
  EXPECT_EQ(error_for(b),
            "FILE:byte offset 0: not a binary trace: the file looks like a binary trace with a "
            "damaged header: expected magic \"MMUTRACE\", got 'XMUTRACE'");
  b = good_;
  b.replace(0, 8, "GARBAGE!");
  b[10] = 'x';  // nor the record size: nothing recognizable
  EXPECT_EQ(error_for(b),
            "FILE:byte offset 0: not a binary trace: bad magic, expected \"MMUTRACE\"");
  EXPECT_EQ(error_for("MMU"),
            "FILE:byte offset 0: not a binary trace: bad magic, expected \"MMUTRACE\"");
}

TEST_F(TraceBinaryErrors, TruncatedHeader) {
  EXPECT_EQ(error_for(good_.substr(0, 20)),
            "FILE:byte offset 20: truncated header, expected 32 bytes, got 20");
  EXPECT_EQ(error_for(good_.substr(0, 40)),
            "FILE:byte offset 40: truncated header, expected 48 bytes, got 40");
}

TEST_F(TraceBinaryErrors, UnknownVersion) {
  std::string b = good_;
  put16(b, 8, 4);
  EXPECT_EQ(error_for(b),
            "FILE:byte offset 8: unsupported version 4 (this reader knows versions 1, 2 and 3)");
  // Version 2 is the task-trace format: it needs its flag, and version 1
  // does not know that flag.
  put16(b, 8, 2);
  EXPECT_EQ(error_for(b), "FILE:byte offset 12: version 2 header without the tasks flag (2)");
  put16(b, 8, 1);
  put32(b, 12, 2);
  EXPECT_EQ(error_for(b), "FILE:byte offset 12: unknown header flags 2");
}

TEST_F(TraceBinaryErrors, WrongRecordSize) {
  std::string b = good_;
  put16(b, 10, 24);
  EXPECT_EQ(error_for(b), "FILE:byte offset 10: record size 24, expected 16");
}

TEST_F(TraceBinaryErrors, UnknownFlags) {
  std::string b = good_;
  put32(b, 12, 4);
  EXPECT_EQ(error_for(b), "FILE:byte offset 12: unknown header flags 4");
}

TEST_F(TraceBinaryErrors, BadHeaderAndCommentSizes) {
  std::string b = good_;
  put32(b, 24, 40);
  EXPECT_EQ(error_for(b),
            "FILE:byte offset 24: invalid header size 40 (a multiple of 16, 32..1048576)");
  b = good_;
  put32(b, 28, 17);
  EXPECT_EQ(error_for(b), "FILE:byte offset 28: comment length 17 exceeds the header size 48");
}

TEST_F(TraceBinaryErrors, TruncatedFinalRecord) {
  std::string b = good_ + std::string(5, '\0');  // 2 good records, then 5 bytes
  EXPECT_EQ(error_for(b),
            "FILE:record 3 (byte offset 80): truncated record, expected 16 bytes, got 5");
}

// Past the first 1 MiB (the reader's window, filled with the header) the
// records of a plain trace are read straight into the caller's batch
// (InputBuffer::read_direct): errors there name the record and its byte
// offset as in the window.
TEST_F(TraceBinaryErrors, ErrorsPastTheFirstMegabyteNameTheRecord) {
  const size_t n = 100000;  // 65533 records fill the window after the header
  std::string b = good_ + std::string((n - 2) * 16, '\0');
  EXPECT_EQ(error_for(b + std::string(5, '\0')),
            "FILE:record 100001 (byte offset 1600048): truncated record, expected 16 bytes, got "
            "5");
  std::string k = b;
  k[48 + 90000 * 16 + 14] = 7;  // record 90001's kind
  EXPECT_EQ(error_for(k),
            "FILE:record 90001 (byte offset 1440048): invalid kind value 7 (expected 0 = R, 1 = "
            "W, 2 = X)");
  std::string f = b;
  f[48 + (n - 1) * 16 + 15] = 0x70;  // the last record: register nibble 7
  EXPECT_EQ(error_for(f),
            "FILE:record 100000 (byte offset 1600032): invalid segment register in flags (flags "
            "0x70; expected the segment encoding of traces/README.md)");
  std::string c = b;
  put64(c, 16, n + 1);  // the header declares one more record
  EXPECT_EQ(error_for(c),
            "FILE:byte offset 1600048: header declares 100001 records, the file ends after "
            "100000");
  EXPECT_EQ(error_for(b), "");
}

TEST_F(TraceBinaryErrors, InvalidKind) {
  std::string b = good_ + std::string(32, '\0');
  b[48 + 2 * 16 + 14] = 7;  // third record's kind
  EXPECT_EQ(error_for(b),
            "FILE:record 3 (byte offset 80): invalid kind value 7 (expected 0 = R, 1 = W, 2 = X)");
}

// Flags that are not a well-formed record (traces/README.md, "Segment
// records") are refused by the reader, naming the record: a register nibble
// past GS, a LOAD without a register, an INVPCID past PCID 4095. A batch
// with well-formed segment records passes.
TEST_F(TraceBinaryErrors, MalformedFlags) {
  std::string b = good_ + std::string(32, '\0');
  b[48 + 2 * 16 + 15] = 0x70;  // third record: access with register nibble 7
  EXPECT_EQ(error_for(b),
            "FILE:record 3 (byte offset 80): invalid segment register in flags (flags 0x70; "
            "expected the segment encoding of traces/README.md)");
  b[48 + 2 * 16 + 15] = 0x01;  // LOAD without a register
  EXPECT_EQ(error_for(b),
            "FILE:record 3 (byte offset 80): segment load without a segment register (flags "
            "0x01; expected the segment encoding of traces/README.md)");
  b[48 + 2 * 16 + 15] = 0x05;  // INVPCID of PCID 4096
  put64(b, 48 + 2 * 16, 4096);
  EXPECT_EQ(error_for(b),
            "FILE:record 3 (byte offset 80): INVPCID PCID exceeds 4095 (flags 0x05; expected "
            "the segment encoding of traces/README.md)");
  put64(b, 48 + 2 * 16, 4095);
  b[48 + 1 * 16 + 15] = 0x60;  // second record: an access through GS
  EXPECT_EQ(error_for(b), "");
}

TEST_F(TraceBinaryErrors, DeclaredCountMismatch) {
  std::string b = good_;
  put64(b, 16, 3);
  EXPECT_EQ(error_for(b), "FILE:byte offset 80: header declares 3 records, the file ends after 2");
  put64(b, 16, 1);
  EXPECT_EQ(error_for(b), "FILE:record 2: more records than the header declares (1)");
}

TEST(TraceBinary, WriterRejectsInvalidKind) {
  ScratchDir d;
  TraceWriter w(d.path("k.bin"), {});
  TraceRecord r;
  r.kind = static_cast<AccessKind>(3);
  EXPECT_EQ(error_of([&] { w.write(r); }), d.path("k.bin") + ": record 1: invalid access kind 3");
}

}  // namespace
}  // namespace mmusim
