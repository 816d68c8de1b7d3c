#include "traces/byte_stream.h"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "models/common/error.h"

namespace mmusim {
namespace {

constexpr size_t kCompressedChunk = size_t{256} << 10;  // input/output chunk of the codecs
constexpr int kZstdWindowLog = 19;                      // zstd output: a 512 KiB window

std::string errno_text(int e) { return std::strerror(e); }

InputError at_offset(const std::string& name, uint64_t offset, const std::string& message) {
  return input_error(name, "byte offset " + std::to_string(offset), message);
}

// A file or stdin. Bytes pushed back by unread() are served first (used to
// sniff magic numbers from a pipe).
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : name_(path) {
    if (path == "-") {
      fd_ = STDIN_FILENO;
      name_ = "<stdin>";
      return;
    }
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw InputError(path + ": cannot open: " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd_);
      throw InputError(path + ": cannot open: " + errno_text(EISDIR));
    }
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~FileSource() override {
    if (fd_ > STDIN_FILENO) ::close(fd_);
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t read(char* buf, size_t n) override {
    size_t k = 0;
    if (pushed_pos_ < pushed_.size()) {
      k = std::min(n, pushed_.size() - pushed_pos_);
      std::memcpy(buf, pushed_.data() + pushed_pos_, k);
      pushed_pos_ += k;
      offset_ += k;
      if (k == n) return k;
    }
    for (;;) {
      ssize_t r = ::read(fd_, buf + k, n - k);
      if (r >= 0) {
        offset_ += static_cast<uint64_t>(r);
        return k + static_cast<size_t>(r);
      }
      if (errno != EINTR) throw at_offset(name_, offset_, "read error: " + errno_text(errno));
    }
  }
  // Reads up to n bytes (fewer only at the end) and pushes them back.
  std::string peek(size_t n) {
    std::string s(n, '\0');
    size_t got = 0;
    while (got < n) {
      size_t r = read(s.data() + got, n - got);
      if (r == 0) break;
      got += r;
    }
    s.resize(got);
    pushed_ = s;
    pushed_pos_ = 0;
    offset_ -= got;
    return s;
  }
  [[nodiscard]] const std::string& name() const override { return name_; }
  [[nodiscard]] uint64_t offset() const { return offset_; }

 private:
  std::string name_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string pushed_;
  size_t pushed_pos_ = 0;
};

// Common input handling of the decompressors: a bounded chunk of compressed
// bytes read from the file.
class Decompressor : public ByteSource {
 public:
  explicit Decompressor(std::unique_ptr<FileSource> raw)
      : raw_(std::move(raw)), in_(new char[kCompressedChunk]) {}
  [[nodiscard]] const std::string& name() const override { return raw_->name(); }

 protected:
  // Refills the input chunk when empty; false at the end of the file.
  bool refill_input() {
    if (in_pos_ < in_len_) return true;
    if (raw_ended_) return false;
    in_len_ = raw_->read(in_.get(), kCompressedChunk);
    in_pos_ = 0;
    if (in_len_ == 0) raw_ended_ = true;
    return in_len_ > 0;
  }
  // Offset in the file of the next compressed byte to decode.
  [[nodiscard]] uint64_t raw_offset() const { return raw_->offset() - (in_len_ - in_pos_); }
  InputError corrupt(const char* codec, const std::string& detail) const {
    return at_offset(name(), raw_offset(), std::string("corrupt ") + codec + " stream: " + detail);
  }
  InputError truncated(const char* codec) const {
    return at_offset(name(), raw_offset(),
                     std::string("truncated ") + codec + " stream (unexpected end of file)");
  }

  std::unique_ptr<FileSource> raw_;
  std::unique_ptr<char[]> in_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool raw_ended_ = false;
  bool done_ = false;
};

class GzipSource final : public Decompressor {
 public:
  explicit GzipSource(std::unique_ptr<FileSource> raw) : Decompressor(std::move(raw)) {
    if (inflateInit2(&z_, 15 + 32) != Z_OK) throw InputError(name() + ": zlib init failed");
  }
  ~GzipSource() override { inflateEnd(&z_); }
  [[nodiscard]] Compression compression() const override { return Compression::kGzip; }

  size_t read(char* buf, size_t n) override {
    if (done_) return 0;
    n = std::min<size_t>(n, std::numeric_limits<uInt>::max());
    for (;;) {
      bool have = refill_input();
      if (!have && !in_member_) {
        done_ = true;
        return 0;
      }
      // Without input, inflate may still flush output it holds.
      z_.next_in = reinterpret_cast<Bytef*>(in_.get() + in_pos_);
      z_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = static_cast<uInt>(n);
      in_member_ = true;
      int rc = inflate(&z_, Z_NO_FLUSH);
      in_pos_ = in_len_ - z_.avail_in;
      size_t produced = n - z_.avail_out;
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
        throw corrupt("gzip", z_.msg != nullptr ? z_.msg : "inflate error " + std::to_string(rc));
      }
      if (rc == Z_STREAM_END) {  // end of one member; another may follow
        in_member_ = false;
        inflateReset(&z_);
      }
      if (produced > 0) return produced;
      if (!have && in_member_) throw truncated("gzip");
    }
  }

 private:
  z_stream z_{};
  bool in_member_ = false;
};

class XzSource final : public Decompressor {
 public:
  explicit XzSource(std::unique_ptr<FileSource> raw) : Decompressor(std::move(raw)) {
    if (lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      throw InputError(name() + ": liblzma init failed");
    }
  }
  ~XzSource() override { lzma_end(&s_); }
  [[nodiscard]] Compression compression() const override { return Compression::kXz; }

  size_t read(char* buf, size_t n) override {
    if (done_) return 0;
    for (;;) {
      bool have = refill_input();
      s_.next_in = reinterpret_cast<const uint8_t*>(in_.get() + in_pos_);
      s_.avail_in = in_len_ - in_pos_;
      s_.next_out = reinterpret_cast<uint8_t*>(buf);
      s_.avail_out = n;
      lzma_ret rc = lzma_code(&s_, have ? LZMA_RUN : LZMA_FINISH);
      in_pos_ += (in_len_ - in_pos_) - s_.avail_in;
      size_t produced = n - s_.avail_out;
      if (rc == LZMA_STREAM_END) done_ = true;
      if (rc == LZMA_BUF_ERROR || (!have && rc == LZMA_OK && produced == 0)) throw truncated("xz");
      if (rc != LZMA_OK && rc != LZMA_STREAM_END) throw corrupt("xz", lzma_message(rc));
      if (produced > 0 || done_) return produced;
    }
  }

 private:
  static const char* lzma_message(lzma_ret rc) {
    switch (rc) {
      case LZMA_FORMAT_ERROR: return "not in the xz format";
      case LZMA_DATA_ERROR: return "compressed data is corrupt";
      case LZMA_OPTIONS_ERROR: return "unsupported compression options";
      case LZMA_MEM_ERROR: return "out of memory";
      case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
      default: return "decoder error";
    }
  }
  lzma_stream s_ = LZMA_STREAM_INIT;
};

class ZstdSource final : public Decompressor {
 public:
  explicit ZstdSource(std::unique_ptr<FileSource> raw)
      : Decompressor(std::move(raw)), ds_(ZSTD_createDStream()) {
    if (ds_ == nullptr) throw InputError(name() + ": zstd init failed");
  }
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }
  [[nodiscard]] Compression compression() const override { return Compression::kZstd; }

  size_t read(char* buf, size_t n) override {
    if (done_) return 0;
    ZSTD_outBuffer out{buf, n, 0};
    for (;;) {
      bool have = refill_input();
      if (!have && !in_frame_) {
        done_ = true;
        return 0;
      }
      // Without input, the decoder may still flush output it holds.
      // At most one block of input per call: an error's offset is within a block.
      ZSTD_inBuffer in{in_.get(), std::min(in_len_, in_pos_ + ZSTD_DStreamInSize()), in_pos_};
      size_t rc = ZSTD_decompressStream(ds_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(rc)) throw corrupt("zstd", ZSTD_getErrorName(rc));
      in_frame_ = rc != 0;  // 0: a frame ended exactly here
      if (out.pos > 0) return out.pos;
      if (!have && in_frame_) throw truncated("zstd");
    }
  }

 private:
  ZSTD_DStream* ds_;
  bool in_frame_ = false;
};

// ---- sinks ----

class FileSink final : public ByteSink {
 public:
  explicit FileSink(const std::string& path) : name_(path) {
    if (path == "-") {
      fd_ = STDOUT_FILENO;
      name_ = "<stdout>";
      return;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw InputError(path + ": cannot create: " + errno_text(errno));
  }
  ~FileSink() override {
    if (fd_ > STDERR_FILENO) ::close(fd_);
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(const char* buf, size_t n) override {
    while (n > 0) {
      ssize_t w = ::write(fd_, buf, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw InputError(name_ + ": write error: " + errno_text(errno));
      }
      buf += w;
      n -= static_cast<size_t>(w);
    }
  }
  void finish() override {
    if (fd_ > STDERR_FILENO) {
      int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0) throw InputError(name_ + ": write error: " + errno_text(errno));
    }
  }
  bool patch(uint64_t offset, const char* buf, size_t n) override {
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    return ::pwrite(fd_, buf, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  }

 private:
  std::string name_;
  int fd_ = -1;
};

// Compressing sinks buffer output in a bounded chunk and pass it to a FileSink.
class CompressingSink : public ByteSink {
 public:
  explicit CompressingSink(std::unique_ptr<ByteSink> out)
      : out_(std::move(out)), buf_(new char[kCompressedChunk]) {}

 protected:
  std::unique_ptr<ByteSink> out_;
  std::unique_ptr<char[]> buf_;
};

class GzipSink final : public CompressingSink {
 public:
  GzipSink(std::unique_ptr<ByteSink> out, int level) : CompressingSink(std::move(out)) {
    if (deflateInit2(&z_, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw InputError("zlib: deflate init failed");
    }
  }
  ~GzipSink() override { deflateEnd(&z_); }
  void write(const char* buf, size_t n) override { run(buf, n, Z_NO_FLUSH); }
  void finish() override {
    run(nullptr, 0, Z_FINISH);
    out_->finish();
  }

 private:
  void run(const char* buf, size_t n, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(buf));
    z_.avail_in = static_cast<uInt>(n);
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf_.get());
      z_.avail_out = static_cast<uInt>(kCompressedChunk);
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) throw InputError("zlib: deflate failed");
      out_->write(buf_.get(), kCompressedChunk - z_.avail_out);
    } while (z_.avail_in > 0 || z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  z_stream z_{};
};

class XzSink final : public CompressingSink {
 public:
  XzSink(std::unique_ptr<ByteSink> out, int level) : CompressingSink(std::move(out)) {
    if (lzma_easy_encoder(&s_, level == 0 ? 6 : static_cast<uint32_t>(level), LZMA_CHECK_CRC64) !=
        LZMA_OK) {
      throw InputError("liblzma: encoder init failed");
    }
  }
  ~XzSink() override { lzma_end(&s_); }
  void write(const char* buf, size_t n) override { run(buf, n, LZMA_RUN); }
  void finish() override {
    run(nullptr, 0, LZMA_FINISH);
    out_->finish();
  }

 private:
  void run(const char* buf, size_t n, lzma_action action) {
    s_.next_in = reinterpret_cast<const uint8_t*>(buf);
    s_.avail_in = n;
    lzma_ret rc;
    do {
      s_.next_out = reinterpret_cast<uint8_t*>(buf_.get());
      s_.avail_out = kCompressedChunk;
      rc = lzma_code(&s_, action);
      if (rc != LZMA_OK && rc != LZMA_STREAM_END) throw InputError("liblzma: encoding failed");
      out_->write(buf_.get(), kCompressedChunk - s_.avail_out);
    } while (s_.avail_in > 0 || s_.avail_out == 0 ||
             (action == LZMA_FINISH && rc != LZMA_STREAM_END));
  }
  lzma_stream s_ = LZMA_STREAM_INIT;
};

class ZstdSink final : public CompressingSink {
 public:
  ZstdSink(std::unique_ptr<ByteSink> out, int level)
      : CompressingSink(std::move(out)), cs_(ZSTD_createCStream()) {
    if (cs_ == nullptr) throw InputError("zstd: encoder init failed");
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_compressionLevel, level == 0 ? 3 : level);
    // The window the reader's decoder keeps: 512 KiB, level 1's (level 3
    // would take 2 MiB, level 19 8 MiB), so that it stays in a core's L2
    // beside the simulation; bench/README.md, "Why zstd does not keep up".
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_windowLog, kZstdWindowLog);
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_checksumFlag, 1);  // corruption is detected, not decoded
  }
  ~ZstdSink() override { ZSTD_freeCStream(cs_); }
  void write(const char* buf, size_t n) override { run(buf, n, ZSTD_e_continue); }
  void finish() override {
    run(nullptr, 0, ZSTD_e_end);
    out_->finish();
  }

 private:
  void run(const char* buf, size_t n, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{buf, n, 0};
    for (;;) {
      ZSTD_outBuffer out{buf_.get(), kCompressedChunk, 0};
      size_t rc = ZSTD_compressStream2(cs_, &out, &in, mode);
      if (ZSTD_isError(rc)) throw InputError(std::string("zstd: ") + ZSTD_getErrorName(rc));
      out_->write(buf_.get(), out.pos);
      bool finished = mode == ZSTD_e_end ? rc == 0 : in.pos == in.size;
      if (finished) break;
    }
  }
  ZSTD_CStream* cs_;
};

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kXz: return "xz";
    case Compression::kZstd: return "zstd";
  }
  return "?";
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  auto file = std::make_unique<FileSource>(path);
  std::string magic = file->peek(6);
  auto starts = [&](const char* m, size_t n) {
    return magic.size() >= n && std::memcmp(magic.data(), m, n) == 0;
  };
  if (starts("\x1f\x8b", 2)) return std::make_unique<GzipSource>(std::move(file));
  // The xz magic is FD 37 7A 58 5A 00 (the NUL byte is part of it).
  static constexpr char kXzMagic[6] = {'\xfd', '7', 'z', 'X', 'Z', '\0'};
  if (starts(kXzMagic, sizeof kXzMagic)) return std::make_unique<XzSource>(std::move(file));
  if (starts("\x28\xb5\x2f\xfd", 4)) return std::make_unique<ZstdSource>(std::move(file));
  return file;
}

InputBuffer::InputBuffer(std::unique_ptr<ByteSource> source, size_t capacity)
    : source_(std::move(source)), buf_(new char[capacity]), capacity_(capacity) {}

size_t InputBuffer::fill(size_t want, size_t limit) {
  want = std::min(want, capacity_);
  limit = std::min(std::max(limit, want), capacity_);
  if (size() >= want || ended_) return size();
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  while (size() < want) {
    size_t r = source_->read(buf_.get() + end_, limit - end_);
    if (r == 0) {
      ended_ = true;
      break;
    }
    end_ += r;
  }
  return size();
}

size_t InputBuffer::read_direct(char* dst, size_t n, size_t unit) {
  size_t got = size();
  std::memcpy(dst, data(), got);
  while (got < n && !ended_) {
    const size_t r = source_->read(dst + got, n - got);
    if (r == 0) {
      ended_ = true;
      break;
    }
    got += r;
  }
  const size_t rest = got % unit;
  std::memcpy(buf_.get(), dst + got - rest, rest);
  begin_ = 0;
  end_ = rest;
  return got - rest;
}

std::unique_ptr<ByteSink> open_byte_sink(const std::string& path, Compression compression,
                                         int level) {
  auto file = std::make_unique<FileSink>(path);
  switch (compression) {
    case Compression::kNone: return file;
    case Compression::kGzip: return std::make_unique<GzipSink>(std::move(file), level);
    case Compression::kXz: return std::make_unique<XzSink>(std::move(file), level);
    case Compression::kZstd: return std::make_unique<ZstdSink>(std::move(file), level);
  }
  return file;
}

}  // namespace mmusim
