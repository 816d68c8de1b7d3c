// Segment records in the trace formats: text parsing and printing, the binary
// encoding and header flag, round trips, exact error messages, `mmusim-trace
// head`, and the simulator's check of binary flags.
#include <gtest/gtest.h>

#include <cstring>

#include "models/common/error.h"
#include "tests/segint/segint_test_util.h"
#include "traces/formats.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using segint::TempDir;

std::vector<TraceRecord> read_all(TraceReader& r) {
  std::vector<TraceRecord> out(4096), all;
  for (size_t n; (n = r.read(out.data(), out.size())) > 0;) {
    all.insert(all.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

std::vector<TraceRecord> parse(const std::string& text) {
  TempDir d;
  return read_all(*open_trace(d.write("t.txt", text), "text"));
}

std::string parse_error(const std::string& text) {
  TempDir d;
  const std::string path = d.write("t.txt", text);
  try {
    read_all(*open_trace(path, "text"));
  } catch (const InputError& e) {
    std::string m = e.what();
    return m.rfind(path, 0) == 0 ? "t.txt" + m.substr(path.size()) : m;
  }
  return "no error";
}

std::string text_of(const TraceRecord& r) {
  char b[96];
  return std::string(b, format_text_record(r, b));
}

bool same(const TraceRecord& a, const TraceRecord& b) {
  return a.addr == b.addr && a.size == b.size && a.cpu == b.cpu && a.kind == b.kind &&
         a.flags == b.flags;
}

const char* const kSample =
    "GDT 1 0x00409a0003e80063\n"
    "LDT 0 0x00cff2000000ffff 1\n"
    "R DS:0x0040 4\n"
    "X CS:0x28\n"
    "W SS:0x10 8 2\n"
    "LOAD DS 0x002b\n"
    "LOAD GS 1\n"
    "R 0x1234 2   # a plain record\n"
    "W ES:7 0 3\n"
    "X FS:0xffffffffffffffff 1\n"
    "R GS:0 4\n"
    "\tLOAD\tFS\t0xFFFF\t255\n";

TEST(SegTrace, TextRecordsParseToTheDocumentedEncoding) {
  auto v = parse(kSample);
  ASSERT_EQ(v.size(), 12u);
  EXPECT_EQ(v[0].flags, 0x02);
  EXPECT_EQ(v[0].size, 1u);
  EXPECT_EQ(v[0].addr, 0x00409a0003e80063ULL);
  EXPECT_EQ(v[1].flags, 0x03);
  EXPECT_EQ(v[1].cpu, 1u);
  EXPECT_EQ(v[2].flags, 0x40);  // DS = 3, + 1, high nibble
  EXPECT_EQ(v[2].addr, 0x40u);
  EXPECT_EQ(v[2].size, 4u);
  EXPECT_EQ(v[3].flags, 0x20);
  EXPECT_EQ(v[3].kind, AccessKind::kFetch);
  EXPECT_EQ(v[4].flags, 0x30);
  EXPECT_EQ(v[4].cpu, 2u);
  EXPECT_EQ(v[5].flags, 0x41);
  EXPECT_EQ(v[5].addr, 0x2Bu);
  EXPECT_EQ(v[5].size, 0u);
  EXPECT_EQ(v[6].flags, 0x61);
  EXPECT_EQ(v[7].flags, 0x00);
  EXPECT_EQ(v[8].flags, 0x10);
  EXPECT_EQ(v[9].flags, 0x50);
  EXPECT_EQ(v[9].addr, ~uint64_t{0});
  EXPECT_EQ(v[10].flags, 0x60);
  EXPECT_EQ(v[11].flags, 0x51);
  EXPECT_EQ(v[11].cpu, 255u);
  for (const auto& r : v) EXPECT_EQ(trace_record_problem(r), nullptr);
}

TEST(SegTrace, TextPrintsTheSameForms) {
  auto v = parse(
      "GDT 1 0x00409a0003e80063\nLDT 8191 0 1\nR DS:0x0040 4\nX CS:0x28\n"
      "W SS:0x10 8 2\nLOAD DS 0x002b\nLOAD GS 0x1 7\nR ES:5\n");
  std::string all;
  for (const auto& r : v) all += text_of(r);
  EXPECT_EQ(all,
            "GDT 1 0x00409a0003e80063\n"
            "LDT 8191 0x0000000000000000 1\n"
            "R DS:0x40 4\n"
            "X CS:0x28\n"
            "W SS:0x10 8 2\n"
            "LOAD DS 0x002b\n"
            "LOAD GS 0x0001 7\n"
            "R ES:0x5\n");
  // Printing is parsing's inverse.
  auto again = parse(all);
  ASSERT_EQ(again.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(same(again[i], v[i])) << i;
}

TEST(SegTrace, TextErrorsNameLineColumnAndWhatWasExpected) {
  EXPECT_EQ(parse_error("R 1\nLAOD DS 1\n"),
            "t.txt:line 2: expected R, W, X, LOAD, GDT, LDT, INVLPG, INVPCID or FLUSH at column 1, "
            "got 'LAOD'");
  EXPECT_EQ(parse_error("load DS 1\n"),
            "t.txt:line 1: expected R, W, X, LOAD, GDT, LDT, INVLPG, INVPCID or FLUSH at column 1, "
            "got 'load'");
  EXPECT_EQ(parse_error("Q 1\n"), "t.txt:line 1: expected R, W or X at column 1, got 'Q'");
  EXPECT_EQ(parse_error("R XS:0x40\n"),
            "t.txt:line 1: expected a segment register (ES, CS, SS, DS, FS or GS) before ':' at "
            "column 3, got 'XS'");
  EXPECT_EQ(parse_error("R ds:0x40\n"),
            "t.txt:line 1: expected a segment register (ES, CS, SS, DS, FS or GS) before ':' at "
            "column 3, got 'ds'");
  EXPECT_EQ(parse_error("R DS:\n"),
            "t.txt:line 1: expected a hexadecimal address at column 6, got end of line");
  EXPECT_EQ(parse_error("R DS:0xg 4\n"),
            "t.txt:line 1: expected a hexadecimal address at column 6, got '0xg'");
  EXPECT_EQ(parse_error("LOAD\n"),
            "t.txt:line 1: expected a segment register (ES, CS, SS, DS, FS or GS) at column 5, "
            "got end of line");
  EXPECT_EQ(parse_error("LOAD XS 1\n"),
            "t.txt:line 1: expected a segment register (ES, CS, SS, DS, FS or GS) at column 6, "
            "got 'XS'");
  EXPECT_EQ(parse_error("LOAD DS\n"),
            "t.txt:line 1: expected a hexadecimal selector at column 8, got end of line");
  EXPECT_EQ(parse_error("LOAD DS 0x10000\n"),
            "t.txt:line 1: selector must be 0..0xFFFF at column 9, got '0x10000'");
  EXPECT_EQ(parse_error("LOAD DS 0x10 x\n"),
            "t.txt:line 1: expected a decimal cpu number at column 14, got 'x'");
  EXPECT_EQ(parse_error("LOAD DS 0x10 1 2\n"),
            "t.txt:line 1: unexpected text after record at column 16, got '2'");
  EXPECT_EQ(parse_error("GDT\n"),
            "t.txt:line 1: expected a decimal descriptor index at column 4, got end of line");
  EXPECT_EQ(parse_error("GDT 0x1 0\n"),
            "t.txt:line 1: expected a decimal descriptor index at column 5, got '0x1'");
  EXPECT_EQ(parse_error("GDT 8192 0\n"),
            "t.txt:line 1: descriptor index must be 0..8191 at column 5, got '8192'");
  EXPECT_EQ(parse_error("LDT 1\n"),
            "t.txt:line 1: expected a hexadecimal 8-byte descriptor at column 6, got end of line");
  EXPECT_EQ(parse_error("LDT 1 0x10000000000000000\n"),
            "t.txt:line 1: descriptor does not fit in 64 bits at column 7");
  EXPECT_EQ(parse_error("GDT 1 0 256\n"),
            "t.txt:line 1: cpu must be 0..255 at column 9, got '256'");
}

// Text -> binary -> text keeps every record and sets the header flag.
TEST(SegTrace, BinaryRoundTripAndHeaderFlag) {
  TempDir d;
  const std::string txt = d.write("s.txt", kSample);
  auto in = read_all(*open_trace(txt));
  for (const char* name : {"s.bin", "s.bin.zst"}) {
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    o.binary_version = 1;  // the 16-byte layout checked below (version 3: test_binary_v3.cc)
    o.compression = std::string(name).size() > 5 ? Compression::kZstd : Compression::kNone;
    {
      TraceWriter w(d.file(name), o);
      w.write(in.data(), in.size());
      w.close();
    }
    auto r = open_trace(d.file(name));
    auto out = read_all(*r);
    ASSERT_EQ(out.size(), in.size()) << name;
    for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE(same(out[i], in[i])) << name << " " << i;
  }
  const std::string bytes = segint::read_file(d.file("s.bin"));
  uint32_t flags = 0;
  std::memcpy(&flags, bytes.data() + 12, 4);
  EXPECT_EQ(flags, kBinaryHeaderSegmentRecords);
  uint16_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 2);
  EXPECT_EQ(version, 1u);
  // Byte by byte: record 6 (LOAD DS 0x002b) after the 32-byte header.
  const std::string load = bytes.substr(32 + 5 * 16, 16);
  EXPECT_EQ(load, std::string("\x2b\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x41", 16));
  // Binary -> text reproduces the text forms.
  TraceWriterOptions t;
  t.format = TraceFormat::kText;
  {
    TraceWriter w(d.file("back.txt"), t);
    auto out = read_all(*open_trace(d.file("s.bin")));
    w.write(out.data(), out.size());
    w.close();
  }
  EXPECT_EQ(segint::read_file(d.file("back.txt")),
            "GDT 1 0x00409a0003e80063\nLDT 0 0x00cff2000000ffff 1\nR DS:0x40 4\nX CS:0x28\n"
            "W SS:0x10 8 2\nLOAD DS 0x002b\nLOAD GS 0x0001\nR 0x1234 2\nW ES:0x7 0 3\n"
            "X FS:0xffffffffffffffff 1\nR GS:0x0 4\nLOAD FS 0xffff 255\n");
}

// A segment record after the first buffer is flushed: the flag is patched in.
TEST(SegTrace, HeaderFlagPatchedWhenTheFirstSegmentRecordComesLate) {
  TempDir d;
  TraceWriterOptions o;
  o.format = TraceFormat::kBinary;
  o.binary_version = 1;  // 16-byte records: 200,000 exceed the first buffer
  std::vector<TraceRecord> v(200000);
  for (size_t i = 0; i < v.size(); ++i) v[i].addr = i * 64;
  v.back() = segint::load(SegReg::kDS, 0x10);
  TraceWriter w(d.file("late.bin"), o);
  w.write(v.data(), v.size());
  w.close();
  const std::string bytes = segint::read_file(d.file("late.bin"));
  EXPECT_EQ(bytes[12], '\x01');
  // No segment record: the header is exactly version 1's.
  TraceWriter p(d.file("plain.bin"), o);
  p.write(v.data(), 10);
  p.close();
  EXPECT_EQ(segint::read_file(d.file("plain.bin")).substr(0, 32), encode_binary_header("", 10));
}

TEST(SegTrace, WriterRefusesMalformedFlagsInText) {
  TempDir d;
  TraceWriterOptions o;
  o.format = TraceFormat::kText;
  TraceWriter w(d.file("x.txt"), o);
  for (uint8_t f : {0x01, 0x07, 0x70, 0x71, 0x12, 0x09, 0x0F, 0x14}) {
    TraceRecord r;
    r.flags = f;
    try {
      w.write(r);
      ADD_FAILURE() << int{f};
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), d.file("x.txt") + ": record 1: flags " + std::to_string(f) +
                                           " cannot be written as text");
    }
  }
  TraceRecord big = segint::load(SegReg::kDS, 0x10);
  big.addr = 0x10000;  // selector too wide
  EXPECT_FALSE(check_text_record(big).empty());
  EXPECT_STREQ(trace_record_problem(big), "segment load selector exceeds 0xFFFF");
  TraceRecord gdt = segint::desc(8192, 0);
  EXPECT_STREQ(trace_record_problem(gdt), "descriptor index exceeds 8191");
  EXPECT_TRUE(check_text_record(segint::desc(8191, 1)).empty());  // index > 4096 is fine
}

TEST(SegTrace, HeadPrintsSegmentRecordsAsText) {
  TempDir d;
  const std::string txt = d.write("s.txt", kSample);
  auto r = segint::run_command(
      std::string(MMUSIM_TRACE_EXE) + " convert " + txt + " " + d.file("s.bin"), d);
  ASSERT_EQ(r.status, 0) << r.err;
  r = segint::run_command(std::string(MMUSIM_TRACE_EXE) + " head " + d.file("s.bin") + " -n 7", d);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "GDT 1 0x00409a0003e80063\nLDT 0 0x00cff2000000ffff 1\nR DS:0x40 4\nX CS:0x28\n"
            "W SS:0x10 8 2\nLOAD DS 0x002b\nLOAD GS 0x0001\n");
}

// TLB-maintenance records share the flags byte with the segment records.
TEST(TraceControl, InvalidationRecordsParseRoundTripAndErrors) {
  const std::string text = "INVLPG 0x7f0000001000\nINVPCID 3 1\nFLUSH\nFLUSH GLOBAL 2  # comment\n";
  std::vector<TraceRecord> v = parse(text);
  ASSERT_EQ(v.size(), 4U);
  EXPECT_EQ(v[0].flags, trace_flags::kOpInvlpg);
  EXPECT_EQ(v[0].addr, 0x7f0000001000ULL);
  EXPECT_EQ(v[1].flags, trace_flags::kOpInvpcid);
  EXPECT_EQ(v[1].addr, 3U);
  EXPECT_EQ(v[1].cpu, 1U);
  EXPECT_EQ(v[2].flags, trace_flags::kOpFlush);
  EXPECT_EQ(v[2].addr, 0U);
  EXPECT_EQ(v[3].addr, 1U);
  EXPECT_EQ(v[3].cpu, 2U);
  for (const TraceRecord& r : v) EXPECT_EQ(trace_record_problem(r), nullptr);
  EXPECT_EQ(text_of(v[0]) + text_of(v[1]) + text_of(v[2]) + text_of(v[3]),
            "INVLPG 0x7f0000001000\nINVPCID 3 1\nFLUSH\nFLUSH GLOBAL 2\n");
  EXPECT_EQ(parse_error("INVPCID 5000\n"),
            "t.txt:line 1: PCID must be 0..4095 at column 9, got '5000'");
  EXPECT_EQ(parse_error("INVLPG\n"),
            "t.txt:line 1: expected a hexadecimal address at column 7, got end of line");
  EXPECT_EQ(parse_error("FLUSH LOCAL\n"),
            "t.txt:line 1: expected a decimal cpu number at column 7, got 'LOCAL'");
  // Binary: the same records through the flags byte.
  TempDir d;
  const std::string bin = d.file("c.bin");
  {
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    TraceWriter w(bin, o);
    for (const TraceRecord& r : v) w.write(r);
    w.close();
  }
  std::vector<TraceRecord> back = read_all(*open_trace(bin, "auto"));
  ASSERT_EQ(back.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(back[i].flags, v[i].flags);
    EXPECT_EQ(back[i].addr, v[i].addr);
    EXPECT_EQ(back[i].cpu, v[i].cpu);
  }
  TraceRecord bad = v[1];
  bad.addr = 4096;
  EXPECT_STREQ(trace_record_problem(bad), "INVPCID PCID exceeds 4095");
  bad = v[2];
  bad.addr = 2;
  EXPECT_STREQ(trace_record_problem(bad), "FLUSH scope must be 0 or 1");
}

// The binary reader checks each record's flags and names the record.
TEST(SegTrace, SimulatorRejectsMalformedBinaryFlags) {
  TempDir d;
  std::string bytes = encode_binary_header("", 0);
  for (uint8_t f : {uint8_t{0x00}, uint8_t{0x40}, uint8_t{0x01}}) {
    TraceRecord r;
    r.addr = 0x1000;
    r.size = 4;
    r.flags = f;
    char b[16];
    encode_record(r, b);
    bytes.append(b, 16);
  }
  const std::string path = d.write("bad.bin", bytes);
  auto run = segint::run_command(
      std::string(MMUSIM_EXE) + " --trace " + path + " --out " + d.file("out"), d);
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err, "mmusim: error: " + path +
                         ":record 3 (byte offset 64): segment load without a segment register "
                         "(flags 0x01; expected the segment encoding of traces/README.md)\n");
}

}  // namespace
}  // namespace mmusim
