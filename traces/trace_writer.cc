#include "traces/trace_writer.h"

#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

constexpr size_t kWriteBuffer = size_t{1} << 20;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TraceWriter::TraceWriter(const std::string& path, TraceWriterOptions options)
    : path_(path == "-" ? "<stdout>" : path),
      options_(std::move(options)),
      sink_(open_byte_sink(path, options_.compression, options_.level)),
      buf_(new char[kWriteBuffer]) {
  if (options_.format == TraceFormat::kBinary) {
    // Validate the comment now; the header itself is written by flush().
    (void)encode_binary_header(options_.comment, 0);
  } else if (!options_.comment.empty()) {
    std::string c = "# ";
    for (char ch : options_.comment) {
      c += ch;
      if (ch == '\n') c += "# ";
    }
    c += '\n';
    sink_->write(c.data(), c.size());
  }
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::write(const TraceRecord* records, size_t n) {
  const bool text = options_.format == TraceFormat::kText;
  for (size_t i = 0; i < n; ++i) {
    const TraceRecord& r = records[i];
    std::string why;
    if (text) {
      why = check_text_record(r);
    } else if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) {
      why = "invalid access kind " + std::to_string(static_cast<unsigned>(r.kind));
    }
    if (!why.empty())
      throw InputError(path_ + ": record " + std::to_string(count_ + 1) + ": " + why);
    if (used_ + 64 > kWriteBuffer) flush();
    if (r.flags != 0 && trace_record_problem(r) == nullptr) segment_records_ = true;
    if (text) {
      used_ += format_text_record(r, buf_.get() + used_);
    } else {
      encode_record(r, buf_.get() + used_);
      used_ += kBinaryRecordSize;
    }
    ++count_;
  }
}

void TraceWriter::flush() {
  if (options_.format == TraceFormat::kBinary && !header_written_) {
    std::string h = encode_binary_header(options_.comment, 0);
    if (segment_records_) {
      const uint32_t flags = kBinaryHeaderSegmentRecords;
      std::memcpy(&h[12], &flags, 4);
      header_flagged_ = true;
    }
    sink_->write(h.data(), h.size());
    header_written_ = true;
  }
  if (used_ > 0) sink_->write(buf_.get(), used_);
  used_ = 0;
}

void TraceWriter::close() {
  if (closed_) return;
  closed_ = true;
  flush();
  if (options_.format == TraceFormat::kBinary && options_.compression == Compression::kNone) {
    char count[8];
    std::memcpy(count, &count_, 8);
    sink_->patch(kBinaryCountOffset, count, 8);  // stays 0 (unknown) on a pipe
    if (segment_records_ && !header_flagged_) {
      const uint32_t flags = kBinaryHeaderSegmentRecords;
      char f[4];
      std::memcpy(f, &flags, 4);
      sink_->patch(12, f, 4);
    }
  }
  sink_->finish();
}

bool format_from_extension(const std::string& path, TraceFormat* format, Compression* compression) {
  std::string p = path;
  *compression = Compression::kNone;
  const std::pair<const char*, Compression> kSuffixes[] = {
      {".zst", Compression::kZstd}, {".gz", Compression::kGzip}, {".xz", Compression::kXz}};
  for (const auto& [suffix, c] : kSuffixes) {
    if (ends_with(p, suffix)) {
      *compression = c;
      p.resize(p.size() - std::strlen(suffix));
      break;
    }
  }
  if (ends_with(p, ".txt") || ends_with(p, ".trace")) {
    *format = TraceFormat::kText;
    return true;
  }
  if (ends_with(p, ".bin")) {
    *format = TraceFormat::kBinary;
    return true;
  }
  return false;
}

}  // namespace mmusim
