// Binary trace version 3 (traces/README.md, "Native binary format, version
// 3"): exact bytes of small files from the encoding rules, round trips text
// <-> v3 <-> v2 for every record kind, and every reader error.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trace_test_util.h"
#include "traces/formats.h"
#include "traces/read_ahead.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::read_file_bytes;
using testing::rec;
using testing::same;
using testing::ScratchDir;

// The 32-byte version-3 header without a comment, declaring `count` records.
std::string v3_header(uint64_t count = 0, uint32_t flags = 0) {
  std::string h = encode_binary_header("", count, false, true);
  std::memcpy(&h[12], &flags, 4);
  return h;
}

// Writes `records` as version `version` to a file of `d`; returns its bytes.
std::string write_records(const ScratchDir& d, const std::vector<TraceRecord>& records, int version,
                          const std::string& name = "t.bin") {
  TraceWriterOptions o;
  o.binary_version = version;
  TraceWriter w(d.path(name), o);
  w.write(records.data(), records.size());
  w.close();
  return read_file_bytes(d.path(name));
}

// Copies every record, event and task of `in` to `out` (format by name;
// binary as `version`).
void convert(const std::string& in, const std::string& out, int version = 3) {
  auto r = open_trace(in);
  TraceWriterOptions o;
  format_from_extension(out, &o.format, &o.compression);
  o.binary_version = version;
  TraceWriter w(out, o);
  std::vector<TraceRecord> batch(7);  // odd: events and tasks straddle batches
  std::vector<OsEvent> events;
  for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) {
    events.clear();
    r->take_events(events);
    w.write(batch.data(), n, events, r->tasks());
  }
  w.close();
}

TEST(TraceBinaryV3, HeaderIsVersion3WithRecordSizeZero) {
  ScratchDir d;
  const std::string bytes = write_records(d, {rec(AccessKind::kRead, 0x1000, 8)}, 3);
  ASSERT_GE(bytes.size(), 32u);
  EXPECT_EQ(bytes.substr(0, 8), "MMUTRACE");
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x03\x00\x00\x00", 4));  // version 3, size 0
  uint64_t count = 0;
  std::memcpy(&count, &bytes[16], 8);
  EXPECT_EQ(count, 1u);  // patched at close
}

// Each record's bytes from the rules: tag (kind | size << 2 | cpu 0x40 |
// address 0x80), then size, cpu and zigzag address delta varints; the
// prediction is the previous address + size of the same cpu and kind.
TEST(TraceBinaryV3, ExactBytesOfHandMadeRecords) {
  ScratchDir d;
  TraceRecord load;
  load.addr = 0x2b;
  load.flags = static_cast<uint8_t>(trace_flags::reg_bits(3) | trace_flags::kOpLoad);  // DS
  TraceRecord invlpg;
  invlpg.addr = 0x1000;
  invlpg.cpu = 1;
  invlpg.flags = trace_flags::kOpInvlpg;
  const std::vector<TraceRecord> records = {
      rec(AccessKind::kRead, 0x1000, 8),            // A0 80 40: delta 0x1000, zigzag 0x2000
      rec(AccessKind::kRead, 0x1008, 8),            // 20: predicted 0x1008
      rec(AccessKind::kFetch, 0x400000, 3),         // 8E 80 80 80 04: zigzag 0x800000
      rec(AccessKind::kFetch, 0x400003, 5),         // 16: sequential fetch
      rec(AccessKind::kWrite, 0xff8, 8, 1),         // E1 01 F0 3F: cpu 1, zigzag 0x1ff0
      rec(AccessKind::kWrite, 0xff0, 8, 1),         // A1 1F: delta -0x10, zigzag 0x1f
      rec(AccessKind::kRead, 0x1010, 4096, 0),      // 7C 80 20 00: size 4096, cpu 0, delta 0
      rec(AccessKind::kRead, 0x1fff, 0),            // 80 21: predicted 0x2010, delta -0x11
      load,                                         // 03 41 00 2B: escape, flags 0x41
      invlpg,                                       // 13 01 04 00 80 20: escape, cpu 1
      rec(AccessKind::kRead, ~uint64_t{0}, 14, 1),  // B8 01: cpu 1's R predicted 0, delta -1
  };
  const std::string bytes = write_records(d, records, 3);
  const std::string body(
      "\xA0\x80\x40"
      "\x20"
      "\x8E\x80\x80\x80\x04"
      "\x16"
      "\xE1\x01\xF0\x3F"
      "\xA1\x1F"
      "\x7C\x80\x20\x00"
      "\x80\x21"
      "\x03\x41\x00\x2B"
      "\x13\x01\x04\x00\x80\x20"
      "\xB8\x01",
      34);
  ASSERT_EQ(bytes.size(), 32 + body.size());
  EXPECT_EQ(bytes.substr(32), body);
  auto r = open_trace(d.path("t.bin"));
  const auto back = read_all(*r, 3);
  ASSERT_EQ(back.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_TRUE(same(back[i], records[i])) << i;
}

TEST(TraceBinaryV3, TypicalAccessesTakeOneToThreeBytes) {
  ScratchDir d;
  // A loop: fetches of 4 bytes in sequence and reads of a stack slot.
  std::vector<TraceRecord> records;
  for (uint64_t i = 0; i < 1000; ++i) {
    records.push_back(rec(AccessKind::kFetch, 0x401000 + 4 * (i % 16), 4));
    if (i % 4 == 0) records.push_back(rec(AccessKind::kRead, 0x7ffe1000 + 8 * (i % 32), 8));
  }
  const std::string v3 = write_records(d, records, 3);
  const std::string v1 = write_records(d, records, 1, "t1.bin");
  EXPECT_EQ(v1.size(), 32 + 16 * records.size());
  EXPECT_LT(v3.size() - 32, 2 * records.size());
}

TEST(TraceBinaryV3, AddressesWrapModulo2To64) {
  ScratchDir d;
  // The smallest delta from 0x10 to 0xfff...f0 is -0x20 (two bytes), not +2^64-0x20.
  const std::vector<TraceRecord> records = {rec(AccessKind::kRead, 0x10, 0),
                                            rec(AccessKind::kRead, 0xfffffffffffffff0ull, 0)};
  const std::string bytes = write_records(d, records, 3);
  EXPECT_EQ(bytes.substr(32), std::string("\x80\x20\x80\x3F", 4));
  auto r = open_trace(d.path("t.bin"));
  const auto back = read_all(*r);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].addr, 0xfffffffffffffff0ull);
}

// Every record kind without events, across several cpus: text -> v3 -> text
// and v2 -> v3 -> v2 are identities.
TEST(TraceBinaryV3, RoundTripsEveryRecordKindAcrossCpus) {
  ScratchDir d;
  const std::string text =
      "R 0x1000 8\n"
      "W 0x1008 8 1\n"
      "X 0x401000 15 2\n"
      "X 0x40100f 14 2\n"
      "R 0 0\n"
      "R 0xffffffffffffffff 4096 255\n"
      "W 0xffffffff81000000 1 3\n"
      "R SS:0x7ffc 4\n"
      "W ES:0x10 2 1\n"
      "X CS:0x100 3\n"
      "LOAD DS 0x002b\n"
      "LOAD GS 0xffff 2\n"
      "GDT 5 0x00cf92000000ffff\n"
      "LDT 8191 0xffffffffffffffff 1\n"
      "INVLPG 0x7f0000001000 3\n"
      "INVPCID 4095\n"
      "FLUSH\n"
      "FLUSH GLOBAL 1\n"
      "R 0x1010 8\n"
      "W 0x1010 8 1\n";
  const std::string in = d.write("in.txt", text);
  convert(in, d.path("a.bin"), 3);
  convert(d.path("a.bin"), d.path("a.txt"));
  convert(in, d.path("b.txt"));
  EXPECT_EQ(read_file_bytes(d.path("a.txt")), read_file_bytes(d.path("b.txt")));
  convert(in, d.path("v2.bin"), 2);
  convert(d.path("v2.bin"), d.path("v3.bin"), 3);
  convert(d.path("v3.bin"), d.path("v2again.bin"), 2);
  EXPECT_EQ(read_file_bytes(d.path("v2.bin")), read_file_bytes(d.path("v2again.bin")));
  EXPECT_EQ(read_file_bytes(d.path("v3.bin")), read_file_bytes(d.path("a.bin")));
  EXPECT_EQ(read_file_bytes(d.path("v2.bin"))[8], 1);  // 16-byte records without events
  // Segment records set header flag 1 in version 3 as in version 1.
  EXPECT_EQ(read_file_bytes(d.path("a.bin"))[12], 1);
}

// Task traces with OS events of every kind the examples hold, interleaved
// tasks and task declarations: text -> v3 -> text and v2 <-> v3.
TEST(TraceBinaryV3, RoundTripsTaskTracesWithEvents) {
  ScratchDir d;
  const std::string dir = std::string(MMUSIM_SOURCE_DIR) + "/traces/examples/";
  for (const char* name : {"os_fork_cow_file.txt", "os_threads_exec.txt", "os_file_io.txt"}) {
    SCOPED_TRACE(name);
    const std::string in = dir + name;
    convert(in, d.path("a.bin"), 3);
    const std::string v3 = read_file_bytes(d.path("a.bin"));
    EXPECT_EQ(v3[8], 3);
    EXPECT_EQ(v3[12] & kBinaryHeaderTasks, static_cast<int>(kBinaryHeaderTasks));
    convert(d.path("a.bin"), d.path("a.txt"));
    convert(in, d.path("b.txt"));
    EXPECT_EQ(read_file_bytes(d.path("a.txt")), read_file_bytes(d.path("b.txt")));
    convert(in, d.path("v2.bin"), 2);
    EXPECT_EQ(read_file_bytes(d.path("v2.bin"))[8], 2);
    convert(d.path("v2.bin"), d.path("v3.bin"), 3);
    EXPECT_EQ(read_file_bytes(d.path("v3.bin")), v3);
    convert(d.path("v3.bin"), d.path("v2again.bin"), 2);
    EXPECT_EQ(read_file_bytes(d.path("v2.bin")), read_file_bytes(d.path("v2again.bin")));
  }
}

// A task whose records come before its first event: a task declaration.
TEST(TraceBinaryV3, TaskDeclarationBytes) {
  ScratchDir d;
  TraceWriterOptions o;
  TraceWriter w(d.path("t.bin"), o);
  OsEvent start;
  start.pid = 100;
  start.tid = 100;
  start.body = StartEvent{};
  w.write_event(start);
  w.write_task_record(rec(AccessKind::kWrite, 0x20, 8), 100, 101);
  w.write_task_record(rec(AccessKind::kRead, 0x10, 8), 100, 100);
  w.close();
  const std::string bytes = read_file_bytes(d.path("t.bin"));
  std::string payload;
  encode_os_event(start, payload);
  ASSERT_LT(payload.size(), 128u);
  std::string want = std::string("\x03\x07", 2) + static_cast<char>(payload.size()) + payload;
  // declaration of 100.101 in slot 1: escape with cpu 1, flags 7, 12 bytes
  want += std::string("\x13\x01\x07\x0c\xff\xff\x00\x00\x64\x00\x00\x00\x65\x00\x00\x00", 16);
  want += std::string("\xA1\x40", 2);      // W 0x20 8 of slot 1 (cpu unchanged)
  want += std::string("\xE0\x00\x20", 3);  // R 0x10 8 of slot 0
  EXPECT_EQ(bytes.substr(32), want);
  auto r = open_trace(d.path("t.bin"));
  const auto back = read_all(*r);
  ASSERT_EQ(back.size(), 3u);  // the declaration is not handed out
  ASSERT_EQ(r->tasks().size(), 2u);
  EXPECT_EQ(r->tasks()[1].tid, 101u);
  EXPECT_TRUE(same(back[1], rec(AccessKind::kWrite, 0x20, 8, 1)));
  EXPECT_TRUE(same(back[2], rec(AccessKind::kRead, 0x10, 8, 0)));
}

// Reads `path` through input buffers from the look-ahead (32 bytes) up, in
// batches of `batch`: records straddle every refill, and each is decoded by
// the run or by the checked decoder alike.
void expect_read_through_small_buffers(const std::string& path,
                                       const std::vector<TraceRecord>& records, size_t batch) {
  for (size_t cap : {size_t{32}, size_t{33}, size_t{48}, size_t{1000}}) {
    auto small = make_binary_reader(std::make_unique<InputBuffer>(open_byte_source(path), cap));
    const auto got = read_all(*small, batch);
    ASSERT_EQ(got.size(), records.size()) << cap;
    for (size_t i = 0; i < records.size(); ++i) ASSERT_TRUE(same(got[i], records[i])) << cap;
  }
}

TEST(TraceBinaryV3, ReadAheadGivesTheSameRecords) {
  ScratchDir d;
  std::vector<TraceRecord> records;
  for (uint64_t i = 0; i < 20000; ++i) {
    records.push_back(rec(static_cast<AccessKind>(i % 3), 0x1000 + 40 * i + (i % 7) * 0x10000,
                          static_cast<uint32_t>(i % 20), static_cast<uint16_t>(i % 3)));
  }
  write_records(d, records, 3);
  ReadAheadReader r(open_trace(d.path("t.bin")), 0);
  const auto back = read_all(r, ReadAheadReader::kBlockRecords);
  ASSERT_EQ(back.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) ASSERT_TRUE(same(back[i], records[i])) << i;
  expect_read_through_small_buffers(d.path("t.bin"), records, 7);
}

// Sequential streams are runs of one-byte records (the predicted address,
// no field): long runs of each kind, on two cpus, of size 0 (the same
// address again) and across the wrap at 2^64, read back in batches and
// input buffers of every size.
TEST(TraceBinaryV3, RunsOfOneByteRecordsReadInAnyBatchAndBuffer) {
  ScratchDir d;
  std::vector<TraceRecord> records;
  for (uint64_t i = 0; i < 5000; ++i) records.push_back(rec(AccessKind::kRead, 0x1000 + 8 * i, 8));
  records.push_back(rec(AccessKind::kWrite, 0x9000, 4));
  for (uint64_t i = 0; i < 3000; ++i) {
    records.push_back(rec(AccessKind::kFetch, 0x401000 + 4 * i, 4, 1));
  }
  for (int i = 0; i < 100; ++i) records.push_back(rec(AccessKind::kRead, 0x5000, 0));
  for (uint64_t i = 0; i < 5; ++i) {
    records.push_back(rec(AccessKind::kRead, 0xFFFFFFFFFFFFFFF0ULL + 8 * i, 8));  // wraps
  }
  records.push_back(rec(AccessKind::kRead, 0x2000, 8));
  const std::string bytes = write_records(d, records, 3);
  ASSERT_LT(bytes.size(), 32 + records.size() + 64);  // one byte for nearly every record
  for (size_t batch : {size_t{1}, size_t{7}, size_t{1000}, size_t{4096}}) {
    auto r = open_trace(d.path("t.bin"));
    const auto got = read_all(*r, batch);
    ASSERT_EQ(got.size(), records.size()) << batch;
    for (size_t i = 0; i < records.size(); ++i) ASSERT_TRUE(same(got[i], records[i])) << i;
  }
  expect_read_through_small_buffers(d.path("t.bin"), records, 13);
}

// A segment record after the first buffer (1 MiB) went out: header flag 1
// is patched in at close, as for version 1.
TEST(TraceBinaryV3, SegmentFlagPatchedWhenTheFirstSegmentRecordComesLate) {
  ScratchDir d;
  std::vector<TraceRecord> v(400000);  // 3 bytes each: delta 64, zigzag 128
  for (size_t i = 0; i < v.size(); ++i) v[i].addr = i * 64;
  v.back().addr = 0x10;
  v.back().flags = static_cast<uint8_t>(trace_flags::reg_bits(3) | trace_flags::kOpLoad);
  const std::string bytes = write_records(d, v, 3);
  EXPECT_EQ(bytes.size(), 32u + 1 + 3 * (v.size() - 2) + 4);  // the first R 0 is one byte
  EXPECT_EQ(bytes[12], '\x01');
  auto r = open_trace(d.path("t.bin"));
  const auto back = read_all(*r, 4096);
  ASSERT_EQ(back.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) ASSERT_TRUE(same(back[i], v[i])) << i;
}

TEST(TraceBinaryV3, WriterRejectsUnknownVersion) {
  ScratchDir d;
  TraceWriterOptions o;
  o.binary_version = 4;
  EXPECT_EQ(error_of([&] { TraceWriter w(d.path("t.bin"), o); }),
            d.path("t.bin") + ": binary version 4, expected 1, 2 or 3");
}

// ---- reader errors: FILE:record N (byte offset B): MESSAGE ----
class TraceBinaryV3Errors : public ::testing::Test {
 protected:
  // The error reading header + body (no padding: the bounds-checked path),
  // also with 64 valid one-byte records after it (the unchecked run first).
  std::string error(const std::string& body, const std::string& header = v3_header()) {
    const std::string path = d_.write("e.bin", header + body);
    std::string e = error_of([&] {
      auto r = open_trace(path);
      r->set_cpu_limit(cpu_limit_);
      if (addr_limit_ != 0) r->set_address_limit(addr_limit_, "2level");
      read_all(*r, 5);
    });
    const std::string padded = d_.write("p.bin", header + body + std::string(64, '\x00'));
    std::string e2 = error_of([&] {
      auto r = open_trace(padded);
      r->set_cpu_limit(cpu_limit_);
      if (addr_limit_ != 0) r->set_address_limit(addr_limit_, "2level");
      read_all(*r, 5);
    });
    if (compare_padded_ && e.rfind(path, 0) == 0 && e2.rfind(padded, 0) == 0 &&
        e.substr(path.size()) != e2.substr(padded.size()) &&
        e.find("truncated") == std::string::npos) {
      ADD_FAILURE() << "padded input fails otherwise: " << e2;
    }
    return e.rfind(path, 0) == 0 ? e.substr(path.size()) : e;
  }
  ScratchDir d_;
  uint32_t cpu_limit_ = UINT32_MAX;
  uint64_t addr_limit_ = 0;
  bool compare_padded_ = true;
};

TEST_F(TraceBinaryV3Errors, TruncatedInsideAVarint) {
  // Two good records (4 bytes), then an address varint cut after one byte.
  EXPECT_EQ(error("\xA0\x80\x40\x20\xA0\x80"),
            ":record 3 (byte offset 36): truncated record: the stream ends in its address "
            "(2 bytes of the record present)");
  EXPECT_EQ(error("\x3C"),
            ":record 1 (byte offset 32): truncated record: the stream ends in its size (1 bytes "
            "of the record present)");
  EXPECT_EQ(error("\x03"),
            ":record 1 (byte offset 32): truncated record: the stream ends in its flags (1 bytes "
            "of the record present)");
  EXPECT_EQ(error("\x40\x81"),
            ":record 1 (byte offset 32): truncated record: the stream ends in its cpu (2 bytes "
            "of the record present)");
}

TEST_F(TraceBinaryV3Errors, VarintLongerThanTenBytes) {
  EXPECT_EQ(error("\x20\xA0" + std::string(10, '\x80') + std::string(1, '\0')),
            ":record 2 (byte offset 33): address varint longer than 10 bytes");
}

TEST_F(TraceBinaryV3Errors, VarintBeyond64Bits) {
  EXPECT_EQ(error("\xA0" + std::string(9, '\xff') + "\x02"),
            ":record 1 (byte offset 32): address varint exceeds 64 bits");
  // 2^64 - 1 itself (last byte 1) is a valid delta.
  EXPECT_EQ(error("\xA0" + std::string(9, '\xff') + "\x01"), "");
}

TEST_F(TraceBinaryV3Errors, ReservedTagBits) {
  EXPECT_EQ(error("\x23\x00\x00\x00"),
            ":record 1 (byte offset 32): escape tag 0x23 has reserved bits set (bits 5-7 must "
            "be 0)");
  EXPECT_EQ(error(std::string("\x0F\x00\x00\x00", 4)),
            ":record 1 (byte offset 32): invalid kind value 3 (expected 0 = R, 1 = W, 2 = X)");
}

TEST_F(TraceBinaryV3Errors, FieldRanges) {
  EXPECT_EQ(error("\x3C\x81\x20"),  // size 4097
            ":record 1 (byte offset 32): access size 4097 exceeds 4096 bytes (as in text "
            "traces)");
  EXPECT_EQ(error("\x40\x80\x80\x04"), ":record 1 (byte offset 32): cpu 65536 exceeds 65535");
  EXPECT_EQ(error(std::string("\x03\x00\x80\x80\x80\x80\x10\x00", 8)),
            ":record 1 (byte offset 32): size 4294967296 exceeds 32 bits");
  cpu_limit_ = 2;
  EXPECT_EQ(error(std::string("\x00\x40\x02", 3)),
            ":record 2 (byte offset 33): record for cpu 2, but sim.cpus = 2 (expected cpu 0..1)");
  cpu_limit_ = UINT32_MAX;
  addr_limit_ = UINT32_MAX;
  EXPECT_EQ(error("\x20\x80\x80\x80\x80\x80\x20"),  // predicted 8, delta 2^32
            ":record 2 (byte offset 33): address 0x100000008 does not fit the 32-bit linear "
            "addresses of walker.mode = 2level (a 64-bit trace needs walker.mode = 4level or "
            "5level)");
  // A run of one-byte records that crosses the limit: 0xfffffff0, then
  // 0xfffffff8, then 0x100000000, the third record.
  EXPECT_EQ(error("\xa0\xe0\xff\xff\xff\x1f\x20\x20\x20\x20"),
            ":record 3 (byte offset 39): address 0x100000000 does not fit the 32-bit linear "
            "addresses of walker.mode = 2level (a 64-bit trace needs walker.mode = 4level or "
            "5level)");
}

TEST_F(TraceBinaryV3Errors, MalformedEscapeRecords) {
  EXPECT_EQ(error(std::string("\x03\x01\x00\x00", 4)),
            ":record 1 (byte offset 32): segment load without a segment register (flags 0x01; "
            "expected the segment encoding of traces/README.md)");
  EXPECT_EQ(error(std::string("\x03\x07\x00", 3)),
            ":record 1 (byte offset 32): EVENT record in a trace without OS events (header "
            "flag 2)");
}

TEST_F(TraceBinaryV3Errors, TaskTraces) {
  const std::string tasks = v3_header(0, kBinaryHeaderTasks);
  EXPECT_EQ(error(std::string("\x20", 1), tasks),
            ":record 1 (byte offset 32): record of task slot 0, which no event or task "
            "declaration introduced (0 slots so far)");
  EXPECT_EQ(error(std::string("\x03\x07\x0c\xff\xff", 5), tasks),
            ":record 1 (byte offset 32): truncated event payload, expected 12 bytes, got 2");
  EXPECT_EQ(error(std::string("\x07\x07\x00", 3), tasks),
            ":record 1 (byte offset 32): malformed EVENT record head (expected kind 0, flags "
            "0x07)");
  EXPECT_EQ(error(std::string("\x03\x07\x84\x80\x08", 5), tasks),
            ":record 1 (byte offset 32): event payload of 131076 bytes exceeds the limit of "
            "131072");
}

TEST_F(TraceBinaryV3Errors, HeaderChecks) {
  compare_padded_ = false;  // padding adds records
  std::string h = v3_header();
  h[10] = 16;
  EXPECT_EQ(error("", h),
            ":byte offset 10: record size 16, expected 0 (version 3 records have variable "
            "length)");
  EXPECT_EQ(error("", v3_header(0, 4)), ":byte offset 12: unknown header flags 4");
  EXPECT_EQ(error(std::string("\x20\x20", 2), v3_header(3)),
            ":byte offset 34: header declares 3 records, the file ends after 2");
  EXPECT_EQ(error(std::string("\x20\x20", 2), v3_header(1)),
            ":record 2: more records than the header declares (1)");
}

}  // namespace
}  // namespace mmusim
