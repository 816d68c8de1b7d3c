// Statistics primitives. Every module keeps a plain Stats struct of counters
// and histograms and exposes it through `visit(StatVisitor&)`, so the one
// Reporter can enumerate every value with its name, unit and description.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmusim {

// Latency histogram in cycles: exact buckets for values below kExact, then
// buckets of width 2^k per octave (16 sub-buckets per power of two) up to 2^40.
// Percentiles are deterministic: the smallest bucket value at which the
// cumulative count reaches ceil(p * n); reported as the bucket's lower bound
// (exact below kExact, within 1/16 relative above it).
class Histogram {
 public:
  static constexpr uint64_t kExact = 4096;
  static constexpr unsigned kSubBits = 4;  // 16 sub-buckets per octave

  void add(uint64_t v) {
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (count_ == 1 || v < min_) min_ = v;
    ++buckets_[v < kExact ? static_cast<size_t>(v) : bucket_of(v)];  // exact: no call
  }
  // add(v) n times.
  void add_n(uint64_t v, uint64_t n) {
    if (n == 0) return;
    if (count_ == 0 || v < min_) min_ = v;
    count_ += n;
    sum_ += v * n;
    if (v > max_) max_ = v;
    buckets_[v < kExact ? static_cast<size_t>(v) : bucket_of(v)] += n;
  }
  void merge(const Histogram& o);
  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] uint64_t sum() const { return sum_; }
  [[nodiscard]] uint64_t max() const { return max_; }
  [[nodiscard]] uint64_t min() const { return count_ ? min_ : 0; }
  [[nodiscard]] double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }
  // p in (0, 1]; 0 when empty.
  [[nodiscard]] uint64_t percentile(double p) const;
  // f(low, count) for every non-empty bucket in increasing order: `count`
  // values v with low <= v < the next bucket's low (exact below kExact; 16
  // buckets per octave above, so at most 1/16 wide relative to low).
  template <class F>
  void for_each_bucket(F&& f) const {
    for (size_t b = 0; b < kBuckets; ++b) {
      if (buckets_[b] != 0) f(bucket_floor(b), buckets_[b]);
    }
  }

 private:
  static constexpr unsigned kExactBits = 12;  // log2(kExact)
  static constexpr size_t kOctaves = 40 - kExactBits;
  static constexpr size_t kBuckets = kExact + kOctaves * (size_t{1} << kSubBits);
  static size_t bucket_of(uint64_t v);
  static uint64_t bucket_floor(size_t b);

  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(kBuckets, 0);
  uint64_t count_ = 0, sum_ = 0, max_ = 0, min_ = 0;
};

// Receives every statistic of a module. Names are dotted paths
// ("tlb.l1d.4K.hits"); units are short ("accesses", "cycles", "refs").
class StatVisitor {
 public:
  virtual ~StatVisitor() = default;
  virtual void counter(std::string_view name, std::string_view unit, std::string_view desc,
                       uint64_t value) = 0;
  virtual void real(std::string_view name, std::string_view unit, std::string_view desc,
                    double value) = 0;
  virtual void histogram(std::string_view name, std::string_view unit, std::string_view desc,
                         const Histogram& h) = 0;
  // A real measured on the host (wall-clock time, or a rate over it): it
  // varies between identical runs, so comparisons of results skip it by this
  // kind. A visitor that does not tell it apart receives it as a real.
  virtual void wall_clock(std::string_view name, std::string_view unit, std::string_view desc,
                          double value) {
    real(name, unit, desc, value);
  }
};

// Forwards every statistic to another visitor with `prefix` prepended to its
// name (a module's path, e.g. "top.cpu0.").
class PrefixedVisitor : public StatVisitor {
 public:
  PrefixedVisitor(StatVisitor& to, std::string prefix) : to_(to), prefix_(std::move(prefix)) {}
  void counter(std::string_view n, std::string_view u, std::string_view d, uint64_t v) override {
    to_.counter(prefix_ + std::string(n), u, d, v);
  }
  void real(std::string_view n, std::string_view u, std::string_view d, double v) override {
    to_.real(prefix_ + std::string(n), u, d, v);
  }
  void histogram(std::string_view n, std::string_view u, std::string_view d,
                 const Histogram& h) override {
    to_.histogram(prefix_ + std::string(n), u, d, h);
  }

 private:
  StatVisitor& to_;
  std::string prefix_;
};

}  // namespace mmusim
