#include "traces/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

InputError spec_error(const std::string& spec, const std::string& what) {
  return InputError("generator spec '" + spec + "': " + what);
}

// Parses an unsigned integer (decimal or 0x-hex, models/common/parse.h) with
// an optional multiplier suffix (K, M, G, T; with `bytes` binary and also
// followed by "B" or "iB").
bool parse_number(const std::string& v, bool bytes, uint64_t* out) {
  const char* const e = v.data() + v.size();
  const ParsedInt n = scan_u64(v.data(), e, IntSyntax::kDecimalOrHex);
  if (!n.ok()) return false;
  uint64_t mult = 1;
  const char* end = n.end;
  if (end != e) {
    char c = *end++;
    const std::string_view rest(end, static_cast<size_t>(e - end));
    if (!rest.empty() && !(bytes && (rest == "iB" || rest == "B"))) return false;
    const uint64_t k = bytes ? 1024 : 1000;
    switch (c) {
      case 'k':
      case 'K': mult = k; break;
      case 'm':
      case 'M': mult = k * k; break;
      case 'g':
      case 'G': mult = k * k * k; break;
      case 't':
      case 'T': mult = k * k * k * k; break;
      default: return false;
    }
  }
  const uint64_t x = n.value;
  if (x != 0 && mult > UINT64_MAX / x) return false;
  *out = x * mult;
  return true;
}

bool parse_double(const std::string& v, double* out) {
  if (v.empty()) return false;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (*end != '\0' || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

// Zipf over [1, n] by rejection-inversion (Hörmann & Derflinger 1996), O(1)
// per sample and memory-free.
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double alpha) : n_(n), a_(alpha) {
    h_x1_ = h_integral(1.5) - 1.0;
    h_n_ = h_integral(static_cast<double>(n) + 0.5);
    s_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
  }
  uint64_t sample(SplitMix64& rng) const {
    for (;;) {
      double u = h_n_ + rng.unit() * (h_x1_ - h_n_);
      double x = h_integral_inverse(u);
      double kd = std::floor(x + 0.5);
      uint64_t k = kd < 1.0 ? 1 : kd > static_cast<double>(n_) ? n_ : static_cast<uint64_t>(kd);
      double kk = static_cast<double>(k);
      if (kk - x <= s_ || u >= h_integral(kk + 0.5) - h(kk)) return k;
    }
  }

 private:
  static double helper1(double x) {
    return std::fabs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
  }
  static double helper2(double x) {
    return std::fabs(x) > 1e-8 ? std::expm1(x) / x
                               : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
  }
  double h(double x) const { return std::exp(-a_ * std::log(x)); }
  double h_integral(double x) const {
    double lx = std::log(x);
    return helper2((1.0 - a_) * lx) * lx;
  }
  double h_integral_inverse(double x) const {
    double t = x * (1.0 - a_);
    if (t < -1.0) t = -1.0;
    return std::exp(helper1(t) * x);
  }
  uint64_t n_;
  double a_, h_x1_, h_n_, s_;
};

// One CPU's stream.
class CpuStream {
 public:
  CpuStream(const GeneratorSpec& spec, uint32_t cpu)
      : spec_(spec),
        cpu_(static_cast<uint16_t>(cpu)),
        base_(spec.base + cpu * spec.cpu_spacing()),
        stride_(spec.effective_stride()),
        rng_{spec.seed ^ (0xA0761D6478BD642FULL * (cpu + 1))},
        kind_rng_{spec.seed ^ (0xE7037ED1A0B428DBULL * (cpu + 1))},
        slots_(std::max<uint64_t>(1, spec.footprint / spec.size)),
        nodes_(std::max<uint64_t>(1, spec.footprint / stride_)),
        pages_(std::max<uint64_t>(1, spec.footprint >> 12)),
        perm_(spec.pattern == GenPattern::kChase ? nodes_ : pages_, spec.seed + cpu),
        zipf_(pages_, spec.alpha) {
    rng_.next();  // decorrelate nearby seeds
    kind_rng_.next();
    if (spec.writes >= 1.0) {
      write_threshold_ = UINT64_MAX;
    } else if (spec.writes > 0.0) {
      write_threshold_ = static_cast<uint64_t>(std::ldexp(spec.writes, 64));
    }
  }

  // The next `n` records of this stream into `out`: next() n times, with the
  // sequential patterns in a loop of their own (a few instructions a record).
  void fill(TraceRecord* out, size_t n) {
    if (spec_.pattern != GenPattern::kSeq && spec_.pattern != GenPattern::kStride) {
      for (size_t i = 0; i < n; ++i) out[i] = next();
      return;
    }
    TraceRecord r;
    r.cpu = cpu_;
    r.size = spec_.size;
    r.kind = spec_.kind;
    const uint64_t base = base_, stride = stride_, footprint = spec_.footprint;
    const uint64_t threshold = write_threshold_;
    uint64_t offset = offset_;
    if (threshold == 0) {
      for (size_t i = 0; i < n; ++i) {
        r.addr = base + offset;
        offset += stride;
        if (offset >= footprint) offset = 0;
        out[i] = r;
      }
    } else {
      const AccessKind kind = spec_.kind;
      for (size_t i = 0; i < n; ++i) {
        r.addr = base + offset;
        offset += stride;
        if (offset >= footprint) offset = 0;
        r.kind = kind_rng_.next() < threshold ? AccessKind::kWrite : kind;
        out[i] = r;
      }
    }
    offset_ = offset;
  }

  TraceRecord next() {
    TraceRecord r;
    r.cpu = cpu_;
    r.size = spec_.size;
    r.kind = spec_.kind;
    switch (spec_.pattern) {
      case GenPattern::kSeq:
      case GenPattern::kStride:
        r.addr = base_ + offset_;
        offset_ += stride_;
        if (offset_ >= spec_.footprint) offset_ = 0;
        break;
      case GenPattern::kUniform: r.addr = base_ + rng_.below(slots_) * spec_.size; break;
      case GenPattern::kZipf: {
        uint64_t page = perm_(zipf_.sample(rng_) - 1);
        uint64_t in_page = spec_.size >= 4096 ? 0 : rng_.below(4096 / spec_.size) * spec_.size;
        r.addr = base_ + (page << 12) + in_page;
        break;
      }
      case GenPattern::kGups:
        if (gups_write_) {
          r.addr = gups_addr_;
          r.kind = AccessKind::kWrite;
        } else {
          gups_addr_ = base_ + rng_.below(slots_) * spec_.size;
          r.addr = gups_addr_;
          r.kind = AccessKind::kRead;
        }
        gups_write_ = !gups_write_;
        return r;
      case GenPattern::kChase:
        r.addr = base_ + perm_(index_) * stride_;
        if (++index_ == nodes_) index_ = 0;
        break;
    }
    if (write_threshold_ != 0 && kind_rng_.next() < write_threshold_) r.kind = AccessKind::kWrite;
    return r;
  }

 private:
  GeneratorSpec spec_;
  uint16_t cpu_;
  uint64_t base_, stride_;
  SplitMix64 rng_, kind_rng_;
  uint64_t slots_, nodes_, pages_;
  RandomPermutation perm_;
  ZipfSampler zipf_;
  uint64_t write_threshold_ = 0;
  uint64_t offset_ = 0, index_ = 0, gups_addr_ = 0;
  bool gups_write_ = false;
};

class GeneratorReader final : public TraceReader {
 public:
  explicit GeneratorReader(const GeneratorSpec& spec)
      : spec_(spec), path_("gen:" + to_string(spec)) {
    streams_.reserve(spec_.cpus);
    for (uint32_t c = 0; c < spec_.cpus; ++c) streams_.emplace_back(spec_, c);
  }
  size_t read(TraceRecord* out, size_t max) override {
    uint64_t left = spec_.count - produced_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, max));
    // Records go round the CPUs from 0: the first of a CPU the machine lacks
    // is record cpu_limit() + 1.
    if (spec_.cpus > cpu_limit() && produced_ + n > cpu_limit()) {
      throw InputError(path_ + ":record " + std::to_string(uint64_t{cpu_limit()} + 1) + ": " +
                       cpu_limit_message(cpu_limit()));
    }
    if (streams_.size() == 1) {
      streams_[0].fill(out, n);
    } else {
      for (size_t i = 0; i < n; ++i) {
        out[i] = streams_[next_cpu_].next();
        if (++next_cpu_ == streams_.size()) next_cpu_ = 0;
      }
    }
    produced_ += n;
    return n;
  }
  [[nodiscard]] std::string position() const override {
    return "record " + std::to_string(produced_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"generator", "none", to_string(spec_), spec_.count};
  }

 private:
  GeneratorSpec spec_;
  std::string path_;
  std::vector<CpuStream> streams_;
  size_t next_cpu_ = 0;
  uint64_t produced_ = 0;
};

struct PatternName {
  GenPattern pattern;
  const char* name;
};
constexpr PatternName kPatterns[] = {
    {GenPattern::kSeq, "seq"},   {GenPattern::kStride, "stride"}, {GenPattern::kUniform, "uniform"},
    {GenPattern::kZipf, "zipf"}, {GenPattern::kGups, "gups"},     {GenPattern::kChase, "chase"}};

}  // namespace

RandomPermutation::RandomPermutation(uint64_t n, uint64_t seed) : n_(n) {
  unsigned bits = 2;
  while (bits < 64 && (uint64_t{1} << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  SplitMix64 rng(seed ^ 0x5851F42D4C957F2DULL);
  for (uint64_t& k : keys_) k = rng.next();
}

uint64_t RandomPermutation::round(uint64_t x) const {
  const uint64_t mask = (uint64_t{1} << half_bits_) - 1;
  uint64_t l = x >> half_bits_, r = x & mask;
  for (uint64_t k : keys_) {
    uint64_t z = (r ^ k) * 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 29;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 32;
    uint64_t nl = r;
    r = (l ^ z) & mask;
    l = nl;
  }
  return (l << half_bits_) | r;
}

uint64_t RandomPermutation::operator()(uint64_t x) const {
  if (n_ <= 1) return 0;
  do x = round(x);
  while (x >= n_);  // cycle walking: stays a permutation of [0, n)
  return x;
}

uint64_t GeneratorSpec::effective_stride() const {
  if (stride != 0) return stride;
  return pattern == GenPattern::kStride ? 4096 : 64;
}

uint64_t GeneratorSpec::cpu_spacing() const { return (footprint + kGiB - 1) / kGiB * kGiB; }

const char* pattern_name(GenPattern p) {
  for (const auto& e : kPatterns) {
    if (e.pattern == p) return e.name;
  }
  return "?";
}

GeneratorSpec parse_generator_spec(const std::string& text) {
  GeneratorSpec s;
  size_t pos = 0;
  bool first = true;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (first) {
      first = false;
      bool found = false;
      for (const auto& e : kPatterns) {
        if (item == e.name) s.pattern = e.pattern, found = true;
      }
      if (!found) {
        throw spec_error(text, "unknown pattern '" + item +
                                   "' (expected seq, stride, uniform, zipf, gups or chase)");
      }
      continue;
    }
    size_t eq = item.find('=');
    if (eq == std::string::npos) throw spec_error(text, "expected key=value, got '" + item + "'");
    std::string key = item.substr(0, eq), v = item.substr(eq + 1);
    auto bad = [&](const std::string& want) {
      return spec_error(text, "invalid value '" + v + "' for " + key + ": expected " + want);
    };
    uint64_t u = 0;
    if (key == "count") {
      if (!parse_number(v, false, &u)) throw bad("a record count");
      s.count = u;
    } else if (key == "footprint" || key == "stride" || key == "base" || key == "size") {
      if (!parse_number(v, true, &u)) throw bad("a byte quantity (e.g. 64M, 0x1000)");
      if (key == "footprint") s.footprint = u;
      if (key == "stride") s.stride = u;
      if (key == "base") s.base = u;
      if (key == "size") {
        if (u < 1 || u > 4096) throw bad("1..4096");
        s.size = static_cast<uint32_t>(u);
      }
    } else if (key == "seed") {
      if (!parse_number(v, false, &u)) throw bad("an integer");
      s.seed = u;
    } else if (key == "cpus") {
      if (!parse_number(v, false, &u) || u < 1 || u > 256) throw bad("1..256");
      s.cpus = static_cast<uint32_t>(u);
    } else if (key == "alpha") {
      if (!parse_double(v, &s.alpha) || s.alpha <= 0 || s.alpha > 100)
        throw bad("0 < alpha <= 100");
    } else if (key == "writes") {
      if (!parse_double(v, &s.writes) || s.writes < 0 || s.writes > 1) throw bad("0..1");
    } else if (key == "kind") {
      if (v == "R") {
        s.kind = AccessKind::kRead;
      } else if (v == "W") {
        s.kind = AccessKind::kWrite;
      } else if (v == "X") {
        s.kind = AccessKind::kFetch;
      } else {
        throw bad("R, W or X");
      }
    } else {
      throw spec_error(text, "unknown key '" + key +
                                 "' (expected count, footprint, stride, size, base, seed, cpus, "
                                 "alpha, writes or kind)");
    }
  }
  if (s.footprint == 0) throw spec_error(text, "footprint must be > 0");
  if (s.footprint < s.size) throw spec_error(text, "footprint must be >= size");
  if (s.effective_stride() > s.footprint) throw spec_error(text, "stride must be <= footprint");
  if (s.pattern == GenPattern::kZipf && s.footprint < 4096) {
    throw spec_error(text, "zipf needs a footprint of at least one 4 KiB page");
  }
  uint64_t span = s.cpu_spacing();
  if (span == 0 || s.cpus - 1 > (UINT64_MAX - s.base - s.footprint) / span) {
    throw spec_error(text, "base + cpus x footprint exceeds the 64-bit address space");
  }
  return s;
}

namespace {

// Shortest "%g" form that reads back as the same double.
std::string shortest(double d) {
  char buf[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

}  // namespace

std::string to_string(const GeneratorSpec& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s,count=%llu,footprint=%llu,stride=%llu,size=%u,base=0x%llx,seed=%llu,cpus=%u,"
                "alpha=%s,writes=%s,kind=%c",
                pattern_name(s.pattern), static_cast<unsigned long long>(s.count),
                static_cast<unsigned long long>(s.footprint),
                static_cast<unsigned long long>(s.effective_stride()), s.size,
                static_cast<unsigned long long>(s.base), static_cast<unsigned long long>(s.seed),
                s.cpus, shortest(s.alpha).c_str(), shortest(s.writes).c_str(),
                access_kind_letter(s.kind));
  return buf;
}

std::unique_ptr<TraceReader> make_generator(const GeneratorSpec& spec) {
  return std::make_unique<GeneratorReader>(spec);
}

std::unique_ptr<TraceReader> open_generator(const std::string& spec) {
  return make_generator(parse_generator_spec(spec));
}

}  // namespace mmusim
