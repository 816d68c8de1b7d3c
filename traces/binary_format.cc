// Native binary format: a versioned header, then 16-byte little-endian records.
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

class BinaryTraceReader final : public TraceReader {
 public:
  explicit BinaryTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {
    read_header();
  }

  size_t read(TraceRecord* out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      size_t avail = in_->size() / kBinaryRecordSize;
      if (avail == 0) {
        in_->fill(kBinaryRecordSize);
        if (in_->size() >= kBinaryRecordSize) continue;
        if (in_->size() > 0) {
          throw record_error(records_ + 1, "truncated record, expected 16 bytes, got " +
                                               std::to_string(in_->size()));
        }
        if (declared_ != 0 && records_ != declared_) {
          throw input_error(path_, "byte offset " + std::to_string(in_->offset()),
                            "header declares " + std::to_string(declared_) +
                                " records, the file ends after " + std::to_string(records_));
        }
        break;
      }
      size_t k = std::min(avail, max - n);
      const char* src = in_->data();
      std::memcpy(static_cast<void*>(out + n), src, k * kBinaryRecordSize);
      unsigned bad = 0;
      for (size_t i = 0; i < k; ++i) bad |= static_cast<uint8_t>(out[n + i].kind) > 2;
      if (bad != 0) {
        for (size_t i = 0; i < k; ++i) {
          auto kind = static_cast<unsigned>(out[n + i].kind);
          if (kind > 2) {
            in_->consume(i * kBinaryRecordSize);
            throw record_error(records_ + i + 1, "invalid kind value " + std::to_string(kind) +
                                                     " (expected 0 = R, 1 = W, 2 = X)");
          }
        }
      }
      in_->consume(k * kBinaryRecordSize);
      records_ += k;
      n += k;
      if (declared_ != 0 && records_ > declared_) {
        throw input_error(
            path_, "record " + std::to_string(declared_ + 1),
            "more records than the header declares (" + std::to_string(declared_) + ")");
      }
    }
    return n;
  }
  [[nodiscard]] std::string position() const override {
    return "record " + std::to_string(records_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"binary", compression_name(in_->source().compression()), comment_, declared_};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  InputError header_error(size_t offset, const std::string& what) const {
    return input_error(path_, "byte offset " + std::to_string(offset), what);
  }
  // `record` is 1-based; the offset is that of the record's first byte.
  InputError record_error(uint64_t record, const std::string& what) const {
    return input_error(
        path_,
        "record " + std::to_string(record) + " (byte offset " + std::to_string(in_->offset()) + ")",
        what);
  }

  void read_header() {
    size_t got = in_->fill(kBinaryFixedHeader);
    if (got < sizeof kBinaryMagic || std::memcmp(in_->data(), kBinaryMagic, 8) != 0) {
      throw header_error(0, "not a binary trace: bad magic, expected \"MMUTRACE\"");
    }
    if (got < kBinaryFixedHeader) {
      throw header_error(got, "truncated header, expected " + std::to_string(kBinaryFixedHeader) +
                                  " bytes, got " + std::to_string(got));
    }
    const char* h = in_->data();
    auto version = load<uint16_t>(h + 8);
    auto record_size = load<uint16_t>(h + 10);
    auto flags = load<uint32_t>(h + 12);
    declared_ = load<uint64_t>(h + 16);
    auto header_bytes = load<uint32_t>(h + 24);
    auto comment_bytes = load<uint32_t>(h + 28);
    if (version != kBinaryVersion) {
      throw header_error(
          8, "unsupported version " + std::to_string(version) + " (this reader knows version 1)");
    }
    if (record_size != kBinaryRecordSize) {
      throw header_error(10, "record size " + std::to_string(record_size) + ", expected 16");
    }
    if ((flags & ~kBinaryHeaderSegmentRecords) != 0) {
      throw header_error(12, "unknown header flags " + std::to_string(flags));
    }
    if (header_bytes < kBinaryFixedHeader || header_bytes % 16 != 0 ||
        header_bytes > kBinaryMaxHeader) {
      throw header_error(24, "invalid header size " + std::to_string(header_bytes) +
                                 " (a multiple of 16, 32..1048576)");
    }
    if (comment_bytes > header_bytes - kBinaryFixedHeader) {
      throw header_error(28, "comment length " + std::to_string(comment_bytes) +
                                 " exceeds the header size " + std::to_string(header_bytes));
    }
    // The comment and padding, piecewise: the header may exceed the buffer.
    in_->consume(kBinaryFixedHeader);
    size_t left = header_bytes - kBinaryFixedHeader;
    while (left > 0) {
      size_t have = std::min(in_->fill(left), left);
      if (have == 0) {
        throw header_error(in_->offset(), "truncated header, expected " +
                                              std::to_string(header_bytes) + " bytes, got " +
                                              std::to_string(in_->offset()));
      }
      size_t done = header_bytes - kBinaryFixedHeader - left;
      if (done < comment_bytes) {
        comment_.append(in_->data(), std::min<size_t>(have, comment_bytes - done));
      }
      in_->consume(have);
      left -= have;
    }
  }

  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  std::string comment_;
  uint64_t declared_ = 0;
  uint64_t records_ = 0;  // records returned so far
};

}  // namespace

std::string encode_binary_header(const std::string& comment, uint64_t record_count) {
  if (comment.size() > kBinaryMaxHeader - kBinaryFixedHeader - 16) {
    throw InputError("binary trace comment longer than " +
                     std::to_string(kBinaryMaxHeader - kBinaryFixedHeader - 16) + " bytes");
  }
  size_t total = (kBinaryFixedHeader + comment.size() + 15) / 16 * 16;
  std::string h(total, '\0');
  std::memcpy(h.data(), kBinaryMagic, 8);
  store<uint16_t>(h.data() + 8, kBinaryVersion);
  store<uint16_t>(h.data() + 10, kBinaryRecordSize);
  store<uint32_t>(h.data() + 12, 0);
  store<uint64_t>(h.data() + kBinaryCountOffset, record_count);
  store<uint32_t>(h.data() + 24, static_cast<uint32_t>(total));
  store<uint32_t>(h.data() + 28, static_cast<uint32_t>(comment.size()));
  std::memcpy(h.data() + kBinaryFixedHeader, comment.data(), comment.size());
  return h;
}

std::unique_ptr<TraceReader> make_binary_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<BinaryTraceReader>(std::move(in));
}

}  // namespace mmusim
