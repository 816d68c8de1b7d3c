// Compressed traces: every codec round-trips for every format, written both
// by the codec libraries directly and by TraceWriter; corrupt and truncated
// streams name the file and the byte offset.
#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::rec;
using testing::ScratchDir;

std::string gzip_bytes(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string xz_bytes(const std::string& in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                                    reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

// With a content checksum, as TraceWriter writes zstd (without one, zstd
// cannot tell corrupt literals from data).
std::string zstd_bytes(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  ZSTD_CCtx* cx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
  size_t n = ZSTD_compress2(cx, out.data(), out.size(), in.data(), in.size());
  ZSTD_freeCCtx(cx);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::vector<TraceRecord> records(size_t n) {
  std::vector<TraceRecord> v;
  for (size_t i = 0; i < n; ++i) {
    v.push_back(rec(static_cast<AccessKind>(i % 3), 0x7f0000000000ULL + (i * 4104) % (1 << 26), 8,
                    static_cast<uint16_t>(i % 4)));
  }
  return v;
}

std::string text_of(const std::vector<TraceRecord>& v) {
  std::string s = "# text trace\n";
  char buf[64];
  for (const auto& r : v) s.append(buf, format_text_record(r, buf));
  return s;
}

std::string binary_of(const std::vector<TraceRecord>& v) {
  std::string s = encode_binary_header("compressed", v.size());
  char buf[16];
  for (const auto& r : v) {
    encode_record(r, buf);
    s.append(buf, 16);
  }
  return s;
}

void expect_records(TraceReader& r, const std::vector<TraceRecord>& want) {
  auto got = read_all(r, 777);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_TRUE(testing::same(got[i], want[i])) << i;
}

struct Codec {
  const char* name;
  std::string (*compress)(const std::string&);
};
const Codec kCodecs[] = {{"gzip", gzip_bytes}, {"xz", xz_bytes}, {"zstd", zstd_bytes}};

TEST(TraceCompression, EveryCodecAndFormatRoundTripsWithAutoDetection) {
  ScratchDir d;
  auto v = records(120000);  // MiBs decompressed: many buffer refills
  for (const Codec& c : kCodecs) {
    for (bool binary : {false, true}) {
      std::string raw = binary ? binary_of(v) : text_of(v);
      auto r = open_trace(d.write(std::string("t.") + c.name, c.compress(raw)));
      EXPECT_EQ(r->format_info().compression, c.name);
      EXPECT_EQ(r->format_info().format, binary ? "binary" : "text");
      expect_records(*r, v);
    }
  }
}

TEST(TraceCompression, ConcatenatedMembersAndFramesAreRead) {
  ScratchDir d;
  auto v = records(1000);
  std::string text = text_of(v);
  size_t half = text.find('\n', text.size() / 2) + 1;
  for (const Codec& c : kCodecs) {
    std::string joined = c.compress(text.substr(0, half)) + c.compress(text.substr(half));
    auto r = open_trace(d.write(std::string("cat.") + c.name, joined));
    expect_records(*r, v);
  }
}

TEST(TraceCompression, WriterRoundTripsEveryCodec) {
  ScratchDir d;
  auto v = records(50000);
  for (Compression c : {Compression::kGzip, Compression::kXz, Compression::kZstd}) {
    for (TraceFormat f : {TraceFormat::kText, TraceFormat::kBinary}) {
      std::string path = d.path("w.out");
      TraceWriterOptions o;
      o.format = f;
      o.compression = c;
      o.level = 1;
      TraceWriter w(path, o);
      w.write(v.data(), v.size());
      w.close();
      auto r = open_trace(path);
      EXPECT_EQ(r->format_info().compression, compression_name(c));
      expect_records(*r, v);
    }
  }
}

// zstd output has a 512 KiB window at every level (the decoder's memory, and
// what keeps it in cache beside the simulation): the frame header's window
// descriptor (after the magic and the frame header descriptor 0x04: no
// single segment, a checksum) is exponent 9, mantissa 0: 2^(10 + 9).
TEST(TraceCompression, ZstdWindowIs512KiBAtEveryLevel) {
  ScratchDir d;
  auto v = records(1000);
  for (int level : {0, 1, 3, 19}) {
    TraceWriterOptions o;
    o.compression = Compression::kZstd;
    o.level = level;
    TraceWriter w(d.path("w.bin.zst"), o);
    w.write(v.data(), v.size());
    w.close();
    const std::string b = testing::read_file_bytes(d.path("w.bin.zst"));
    ASSERT_GE(b.size(), 6u);
    EXPECT_EQ(b.substr(0, 6), std::string("\x28\xb5\x2f\xfd\x04\x48", 6)) << level;
  }
}

TEST(TraceCompression, CorruptStreamNamesFileAndOffset) {
  ScratchDir d;
  std::string raw = binary_of(records(20000));
  std::string gz = gzip_bytes(raw);
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  std::string path = d.write("bad.gz", gz);
  std::string msg = error_of([&] { read_all(*open_trace(path)); });
  EXPECT_EQ(msg.rfind(path + ":byte offset ", 0), 0u) << msg;
  EXPECT_NE(msg.find(": corrupt gzip stream: "), std::string::npos) << msg;

  std::string zs = zstd_bytes(raw);
  zs[zs.size() / 2] ^= 0x55;
  path = d.write("bad.zst", zs);
  msg = error_of([&] { read_all(*open_trace(path)); });
  EXPECT_EQ(msg.rfind(path + ":byte offset ", 0), 0u) << msg;
  EXPECT_NE(msg.find(": corrupt zstd stream: "), std::string::npos) << msg;

  std::string xz = xz_bytes(raw);
  xz[xz.size() / 2] ^= 0x55;
  path = d.write("bad.xz", xz);
  msg = error_of([&] { read_all(*open_trace(path)); });
  EXPECT_EQ(msg.rfind(path + ":byte offset ", 0), 0u) << msg;
  EXPECT_NE(msg.find(": corrupt xz stream: "), std::string::npos) << msg;
}

TEST(TraceCompression, TruncatedStreamIsAnErrorAtTheEndOffset) {
  ScratchDir d;
  std::string raw = text_of(records(20000));
  for (const Codec& c : kCodecs) {
    std::string z = c.compress(raw);
    z.resize(z.size() * 2 / 3);
    std::string path = d.write(std::string("cut.") + c.name, z);
    std::string msg = error_of([&] { read_all(*open_trace(path)); });
    EXPECT_EQ(msg, path + ":byte offset " + std::to_string(z.size()) + ": truncated " + c.name +
                       " stream (unexpected end of file)");
  }
}

TEST(TraceCompression, ExtensionsImplyFormatAndCompression) {
  TraceFormat f{};
  Compression c{};
  ASSERT_TRUE(format_from_extension("a.bin.zst", &f, &c));
  EXPECT_EQ(f, TraceFormat::kBinary);
  EXPECT_EQ(c, Compression::kZstd);
  ASSERT_TRUE(format_from_extension("a.trace.gz", &f, &c));
  EXPECT_EQ(f, TraceFormat::kText);
  EXPECT_EQ(c, Compression::kGzip);
  ASSERT_TRUE(format_from_extension("a.txt", &f, &c));
  EXPECT_EQ(c, Compression::kNone);
  EXPECT_FALSE(format_from_extension("a.zst", &f, &c));
  EXPECT_FALSE(format_from_extension("a.dat", &f, &c));
}

}  // namespace
}  // namespace mmusim
