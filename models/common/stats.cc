#include "models/common/stats.h"

#include <cmath>

namespace mmusim {

size_t Histogram::bucket_of(uint64_t v) {
  if (v < kExact) return static_cast<size_t>(v);
  unsigned msb = 63U - static_cast<unsigned>(__builtin_clzll(v));  // >= kExactBits
  if (msb >= 40) return kBuckets - 1;
  unsigned sub = static_cast<unsigned>((v >> (msb - kSubBits)) & ((1U << kSubBits) - 1));
  return kExact + (static_cast<size_t>(msb - kExactBits) << kSubBits) + sub;
}

uint64_t Histogram::bucket_floor(size_t b) {
  if (b < kExact) return b;
  size_t rel = b - kExact;
  unsigned msb = static_cast<unsigned>(rel >> kSubBits) + kExactBits;
  uint64_t sub = rel & ((size_t{1} << kSubBits) - 1);
  return (uint64_t{1} << msb) | (sub << (msb - kSubBits));
}

void Histogram::merge(const Histogram& o) {
  if (o.count_ == 0) return;
  if (count_ == 0 || o.min_ < min_) min_ = o.min_;
  count_ += o.count_;
  sum_ += o.sum_;
  if (o.max_ > max_) max_ = o.max_;
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
}

uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  auto need = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
  if (need == 0) need = 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= need) {
      uint64_t f = bucket_floor(b);
      return f > max_ ? max_ : f;
    }
  }
  return max_;
}

}  // namespace mmusim
