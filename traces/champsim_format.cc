// ChampSim importer: 64-byte input_instr records (no header). Each record
// gives X at ip, then R for each non-zero source_memory entry, then W for each
// non-zero destination_memory entry, all of size 0 (unspecified). The layout
// and the detection rule: traces/README.md.
#include <algorithm>
#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// 57-bit canonical: bits 63..56 all equal to bit 56 (covers 48-bit canonical).
bool canonical(uint64_t a) {
  uint64_t top = a >> 56;
  return top == 0 || top == 0xff;
}

class ChampSimTraceReader final : public TraceReader {
 public:
  explicit ChampSimTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {}

  size_t read(TraceRecord* out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      if (next_ < count_) {
        size_t k = std::min(count_ - next_, max - n);
        std::copy(pending_ + next_, pending_ + next_ + k, out + n);
        next_ += k;
        n += k;
        continue;
      }
      if (in_->size() < kChampSimRecordSize) {
        in_->fill(kChampSimRecordSize);
        if (in_->size() == 0) break;
        if (in_->size() < kChampSimRecordSize) {
          throw input_error(
              path_,
              "record " + std::to_string(records_ + 1) + " (byte offset " +
                  std::to_string(in_->offset()) + ")",
              "truncated record, expected 64 bytes, got " + std::to_string(in_->size()));
        }
      }
      // Fast path: whole records straight into out while they surely fit.
      while (n + kChampSimMaxAccesses <= max && in_->size() >= kChampSimRecordSize) {
        n += decode_champsim_record(in_->data(), out + n);
        in_->consume(kChampSimRecordSize);
        ++records_;
      }
      if (n < max && in_->size() >= kChampSimRecordSize) {
        count_ = decode_champsim_record(in_->data(), pending_);
        next_ = 0;
        in_->consume(kChampSimRecordSize);
        ++records_;
      }
    }
    return n;
  }
  [[nodiscard]] std::string position() const override {
    return "record " + std::to_string(records_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"champsim", compression_name(in_->source().compression()), "", 0};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  uint64_t records_ = 0;  // input records decoded
  TraceRecord pending_[kChampSimMaxAccesses];
  size_t count_ = 0, next_ = 0;  // pending_[next_, count_) not yet returned
};

}  // namespace

size_t decode_champsim_record(const char* rec, TraceRecord* out) {
  size_t n = 0;
  TraceRecord r;
  r.addr = load64(rec + kChampSimIpOffset);
  r.kind = AccessKind::kFetch;
  out[n++] = r;
  r.kind = AccessKind::kRead;
  for (size_t i = 0; i < kChampSimSources; ++i) {
    r.addr = load64(rec + kChampSimSourceMemOffset + 8 * i);
    if (r.addr != 0) out[n++] = r;
  }
  r.kind = AccessKind::kWrite;
  for (size_t i = 0; i < kChampSimDestinations; ++i) {
    r.addr = load64(rec + kChampSimDestMemOffset + 8 * i);
    if (r.addr != 0) out[n++] = r;
  }
  return n;
}

bool looks_like_champsim(const char* data, size_t n, bool whole_stream) {
  if (n < kChampSimRecordSize || std::memchr(data, '\0', n) == nullptr) return false;
  if (whole_stream && n % kChampSimRecordSize != 0) return false;
  for (size_t off = 0; off + kChampSimRecordSize <= n; off += kChampSimRecordSize) {
    const char* rec = data + off;
    uint64_t ip = load64(rec + kChampSimIpOffset);
    auto is_branch = static_cast<uint8_t>(rec[kChampSimIsBranchOffset]);
    auto taken = static_cast<uint8_t>(rec[kChampSimIsBranchOffset + 1]);
    if (ip == 0 || !canonical(ip) || is_branch > 1 || taken > is_branch) return false;
    for (size_t i = 0; i < kChampSimDestinations + kChampSimSources; ++i) {
      if (!canonical(load64(rec + kChampSimDestMemOffset + 8 * i))) return false;
    }
  }
  return true;
}

std::unique_ptr<TraceReader> make_champsim_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<ChampSimTraceReader>(std::move(in));
}

}  // namespace mmusim
