// Byte streams under the trace formats: files (or stdin/stdout as "-"), and
// gzip / xz / zstd (de)compression layered on them. Readers detect compression
// by magic bytes. Every buffer is bounded: memory does not grow with the
// stream's length. Errors throw mmusim::InputError naming the file and the
// byte offset (in the file as stored, i.e. the compressed offset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace mmusim {

enum class Compression : uint8_t { kNone, kGzip, kXz, kZstd };
const char* compression_name(Compression c);  // "none", "gzip", "xz", "zstd"

// A source of bytes. read() returns 0 only at the end of the stream.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n (> 0) bytes into buf; returns how many, 0 at the end.
  virtual size_t read(char* buf, size_t n) = 0;
  [[nodiscard]] virtual const std::string& name() const = 0;
  [[nodiscard]] virtual Compression compression() const { return Compression::kNone; }
};

// Opens `path` ("-" = stdin) and, when its first bytes are a gzip, xz or zstd
// magic number, wraps it in the matching decompressor. Throws
// "PATH: cannot open: <strerror>".
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

// A bounded read buffer over a ByteSource, for the parsers. The window
// [data(), data() + size()) holds bytes not yet consumed; offset() is the
// stream offset (decompressed) of data().
class InputBuffer {
 public:
  static constexpr size_t kDefaultCapacity = size_t{1} << 20;

  explicit InputBuffer(std::unique_ptr<ByteSource> source, size_t capacity = kDefaultCapacity);
  [[nodiscard]] const char* data() const { return buf_.get() + begin_; }
  [[nodiscard]] size_t size() const { return end_ - begin_; }
  [[nodiscard]] size_t capacity() const { return capacity_; }
  [[nodiscard]] uint64_t offset() const { return offset_; }
  // True once the source has reported its end (more bytes may remain buffered).
  [[nodiscard]] bool source_ended() const { return ended_; }
  void consume(size_t n) {
    begin_ += n;
    offset_ += n;
  }
  // Moves the window to the front and reads until at least min(want,
  // capacity) bytes are buffered or the source ends, with at most `limit`
  // bytes buffered (at least want). Returns size().
  size_t fill(size_t want, size_t limit = ~size_t{0});
  // With fewer than `unit` bytes in the window: the window's bytes, then up
  // to n bytes in all (a multiple of `unit`) straight from the source into
  // dst, until n or the end of the source; returns the whole units. The
  // bytes of a last, partial unit go back to the window, where the parser
  // finds them as it would have. offset() does not move: skip() moves it
  // past the units the caller has taken.
  size_t read_direct(char* dst, size_t n, size_t unit);
  void skip(size_t n) { offset_ += n; }
  [[nodiscard]] const ByteSource& source() const { return *source_; }

 private:
  std::unique_ptr<ByteSource> source_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_;
  size_t begin_ = 0, end_ = 0;
  uint64_t offset_ = 0;
  bool ended_ = false;
};

// A sink of bytes. finish() flushes compressor state and closes; a sink
// destroyed without finish() leaves its output incomplete (callers write to a
// temporary file and rename only after finish()).
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const char* buf, size_t n) = 0;
  virtual void finish() = 0;
  // Overwrites bytes already written at `offset` of the stored file; false
  // when the sink cannot (compressed, or not a regular file).
  virtual bool patch(uint64_t /*offset*/, const char* /*buf*/, size_t /*n*/) { return false; }
};

// Opens `path` for writing ("-" = stdout), truncating it, optionally
// compressing. `level` 0 = the library's default.
std::unique_ptr<ByteSink> open_byte_sink(const std::string& path, Compression compression,
                                         int level = 0);

}  // namespace mmusim
