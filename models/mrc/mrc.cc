#include "models/mrc/mrc.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {
namespace {

constexpr uint64_t kMaxEntries = uint64_t{1} << 24;  // tlb.*.entries' bound

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// A stack key: the vpn at its page size and the size (4K and 2M pages of one
// shared array never collide).
uint64_t stack_key(uint64_t vpn, PageSize s) { return (vpn << 2) | static_cast<unsigned>(s); }

uint64_t parse_count(const std::string& tok, const std::string& text) {
  const auto v = to_u64(tok, IntSyntax::kDecimal);
  if (!v || *v == 0 || *v > kMaxEntries) {
    throw InputError("--sizes: '" + tok + "' in '" + text + "' is not an entry count 1.." +
                     std::to_string(kMaxEntries));
  }
  return *v;
}

}  // namespace

std::vector<uint64_t> parse_mrc_sizes(const std::string& text) {
  std::vector<uint64_t> out;
  if (text.find(':') != std::string::npos) {
    const size_t a = text.find(':');
    const size_t b = text.find(':', a + 1);
    if (b == std::string::npos || text.find(':', b + 1) != std::string::npos) {
      throw InputError("--sizes: expected FROM:TO:STEP or a comma-separated list, got '" + text +
                       "'");
    }
    const uint64_t from = parse_count(text.substr(0, a), text);
    const uint64_t to = parse_count(text.substr(a + 1, b - a - 1), text);
    const uint64_t step = parse_count(text.substr(b + 1), text);
    if (to < from) throw InputError("--sizes: TO is below FROM in '" + text + "'");
    for (uint64_t v = from; v <= to; v += step) out.push_back(v);
  } else {
    size_t pos = 0;
    while (true) {
      const size_t comma = text.find(',', pos);
      out.push_back(parse_count(
          text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos), text));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (out.size() > 100000) throw InputError("--sizes: more than 100000 points");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void validate_mrc_config(const MrcConfig& c) {
  if (c.sizes.empty()) throw InputError("--sizes: no size given");
  if (c.sets != 0 && c.ways != 0) {
    throw InputError("--sets/--ways: give one of them (or neither: fully associative)");
  }
  if (c.sets != 0 && (!is_pow2(c.sets) || c.sets > kMaxEntries)) {
    throw InputError("--sets: expected a power of two up to 2^24, got " + std::to_string(c.sets));
  }
  if (c.ways > kMaxEntries) throw InputError("--ways: expected at most 2^24");
  for (uint64_t e : c.sizes) {
    if (e == 0 || e > kMaxEntries) {
      throw InputError("--sizes: " + std::to_string(e) + " entries is outside 1..2^24");
    }
    if (c.sets != 0 && e % c.sets != 0) {
      throw InputError("--sizes: " + std::to_string(e) + " entries is not a multiple of --sets " +
                       std::to_string(c.sets));
    }
    if (c.ways != 0 && (e % c.ways != 0 || !is_pow2(e / c.ways))) {
      throw InputError("--sizes: " + std::to_string(e) + " entries is not --ways " +
                       std::to_string(c.ways) + " x a power of two (sets)");
    }
  }
  if (c.canonical_bits > 63) throw InputError("seg.canonical_bits: expected at most 63");
}

// The stacks of one set count and the points read from them. Shallow stacks
// (the largest ways swept at most kMaxRowDepth) are kept as rows of their top
// `depth` keys, most recent first: a reference scans and shifts one row
// (O(depth), contiguous), and a key not in the row is beyond every size
// swept. Deep ones (fully associative) use StackDistance (O(log n)).
struct MrcEngine::Group {
  static constexpr uint64_t kMaxRowDepth = 64;
  uint64_t sets = 1;
  uint64_t depth = 0;                 // largest ways swept
  bool rows = false;                  // bounded rows instead of StackDistance
  std::vector<StackDistance> stacks;  // one per set (deep)
  std::vector<uint64_t> row_keys;     // sets x depth (shallow)
  std::vector<uint32_t> row_fill;     // keys held per row
  DistanceHistogram hist;
  std::vector<uint64_t> ways;  // of each point, ascending

  void init(uint64_t n_sets, uint64_t max_ways) {
    sets = n_sets;
    depth = max_ways;
    hist = DistanceHistogram(max_ways);
    rows = max_ways <= kMaxRowDepth;
    if (rows) {
      row_keys.assign(sets * depth, 0);
      row_fill.assign(sets, 0);
    } else {
      stacks.resize(sets);
    }
  }
  // The key's stack distance in its set, or a value >= depth when it is beyond.
  uint64_t reference(uint64_t set, uint64_t key) {
    if (!rows) return stacks[set].reference(key);
    uint64_t* r = &row_keys[set * depth];
    uint32_t& n = row_fill[set];
    uint64_t d = 0;
    while (d < n && r[d] != key) ++d;
    if (d == n) {  // not among the top `depth`: beyond every size swept
      if (n < depth) ++n;
      d = n - 1;  // the slot to drop (the last one)
      for (uint64_t i = d; i > 0; --i) r[i] = r[i - 1];
      r[0] = key;
      return StackDistance::kCold;
    }
    for (uint64_t i = d; i > 0; --i) r[i] = r[i - 1];
    r[0] = key;
    return d;
  }
};

struct MrcEngine::Target {
  std::string level, page_size;
  std::vector<Group> groups;
  uint64_t accesses = 0;
};

MrcEngine::MrcEngine(const MrcConfig& cfg) : cfg_(cfg) {
  validate_mrc_config(cfg_);
  validate_tlb_config(cfg_.tlb);
  if (cfg_.canonical_bits != 0) {
    canon_half_ = uint64_t{1} << (cfg_.canonical_bits - 1);
    canon_mask_ = ~((uint64_t{1} << cfg_.canonical_bits) - 1);
  }
  for (auto& side : target_of_) side.fill(-1);

  auto add_target = [this](const std::string& level, const std::string& sizes) {
    Target t;
    t.level = level;
    t.page_size = sizes;
    const uint64_t max_entries = cfg_.sizes.back();
    if (cfg_.ways != 0) {
      for (uint64_t e : cfg_.sizes) {
        Group g;
        g.init(e / cfg_.ways, cfg_.ways);
        g.ways.push_back(cfg_.ways);
        t.groups.push_back(std::move(g));
      }
    } else {
      Group g;
      const uint64_t sets = cfg_.sets != 0 ? cfg_.sets : 1;
      g.init(sets, max_entries / sets);
      for (uint64_t e : cfg_.sizes) g.ways.push_back(e / g.sets);
      t.groups.push_back(std::move(g));
    }
    targets_.push_back(std::move(t));
    return static_cast<int>(targets_.size() - 1);
  };

  if (cfg_.level == MrcLevel::kL1) {
    for (int side = 1; side >= 0; --side) {  // l1d first
      for (int slot = 0; slot < kL1Slots; ++slot) {
        const int idx = add_target(side == 1 ? "l1d" : "l1i", std::string(kL1SlotNames[slot]));
        for (int s = 0; s < kNumPageSizes; ++s) {
          if (kL1SlotSizes[slot] & page_size_bit(static_cast<PageSize>(s))) {
            target_of_[side][s] = idx;
          }
        }
      }
    }
    return;
  }
  // Level l2: the configured L1s alone filter; the STLB arrays are swept.
  TlbConfig l1_only = cfg_.tlb;
  l1_only.l2.entries = 0;
  l1_only.l2_1g.entries = 0;
  filter_ = std::make_unique<TlbHierarchy>(l1_only);
  const uint8_t shared = cfg_.tlb.l2.sizes;
  const uint8_t apart = kHolds1G & static_cast<uint8_t>(~shared);
  for (uint8_t mask : {shared, apart}) {
    if (mask == 0) continue;
    const int idx = add_target("l2", page_sizes_string(mask));
    for (int s = 0; s < kNumPageSizes; ++s) {
      if (mask & page_size_bit(static_cast<PageSize>(s))) {
        target_of_[0][s] = idx;
        target_of_[1][s] = idx;
      }
    }
  }
}

MrcEngine::~MrcEngine() = default;

PageSize MrcEngine::page_size_of(uint64_t a) const {
  for (const MrcRegion& r : cfg_.regions) {
    if (a >= r.start && a < r.end) return r.size;
  }
  return PageSize::k4K;
}

void MrcEngine::reference(Target& t, uint64_t vpn, PageSize s, bool counted) {
  const uint64_t key = stack_key(vpn, s);
  if (counted) ++t.accesses;
  for (Group& g : t.groups) {
    ++stack_updates_;
    const uint64_t d = g.reference(vpn & (g.sets - 1), key);
    if (counted) g.hist.add(d);
  }
}

void MrcEngine::access(uint64_t addr, uint32_t size, AccessKind kind) {
  ++records_;
  const uint64_t last = addr + (size != 0 ? size : 1) - 1;
  if (((addr + canon_half_) | (last + canon_half_)) & canon_mask_) {
    ++skipped_;  // #GP in the segmentation stage: no translation
    return;
  }
  translate(addr & cfg_.linear_mask, kind);
  if (((addr ^ last) >> 12) != 0 && last > addr) {
    translate(last & ~uint64_t{0xFFF} & cfg_.linear_mask, kind);
  }
}

void MrcEngine::translate(uint64_t a, AccessKind kind) {
  ++translations_;
  const PageSize s = page_size_of(a);
  const uint64_t vpn = a >> page_shift(s);
  const int side = kind == AccessKind::kFetch ? 0 : 1;
  const int ti = target_of_[side][static_cast<unsigned>(s)];
  if (cfg_.level == MrcLevel::kL1) {
    reference(targets_[static_cast<size_t>(ti)], vpn, s, true);
    return;
  }
  const TlbLookup l = filter_->lookup(LinearAddr(a), kind, cfg_.asid);
  const bool write = kind == AccessKind::kWrite;
  bool dirty_fill = false;
  if (l.level == TlbLevel::kMiss) {
    // The L1 missed: the STLB is looked up (a counted reference), then the
    // L1 is filled from the STLB or the walk.
    if (ti < 0) {
      ++unmeasured_;
    } else {
      reference(targets_[static_cast<size_t>(ti)], vpn, s, true);
    }
    dirty_fill = write || written_.count(stack_key(vpn, s)) != 0;
  } else if (write && (l.t->perms & kPermDirty) == 0) {
    // A write hitting a clean L1 entry: the re-walk sets D and fills the
    // STLB and the L1 (the STLB's page moves to the top, uncounted).
    if (ti >= 0) reference(targets_[static_cast<size_t>(ti)], vpn, s, false);
    dirty_fill = true;
  } else {
    return;  // an L1 hit
  }
  if (write) written_.insert(stack_key(vpn, s));
  Translation t;
  t.vpn = Vpn(vpn);
  t.pfn = Pfn(vpn << (page_shift(s) - 12));
  t.size = s;
  t.perms = static_cast<uint8_t>(kPermWrite | kPermUser | (dirty_fill ? kPermDirty : 0));
  t.asid = cfg_.asid;
  filter_->fill(t, kind);
}

std::vector<MrcPoint> MrcEngine::curve() const {
  std::vector<MrcPoint> out;
  for (const Target& t : targets_) {
    if (t.accesses == 0) continue;
    for (const Group& g : t.groups) {
      for (uint64_t w : g.ways) {
        MrcPoint p;
        p.level = t.level;
        p.page_size = t.page_size;
        p.sets = g.sets;
        p.ways = w;
        p.entries = g.sets * w;
        p.accesses = t.accesses;
        p.misses = g.hist.misses(w);
        out.push_back(p);
      }
    }
  }
  return out;
}

void write_mrc_csv(std::ostream& os, const std::vector<MrcPoint>& points, uint64_t records) {
  os << "level,page_size,sets,ways,entries,accesses,misses,miss_ratio,mpka\n";
  char buf[64];
  for (const MrcPoint& p : points) {
    os << p.level << ',' << p.page_size << ',' << p.sets << ',' << p.ways << ',' << p.entries << ','
       << p.accesses << ',' << p.misses << ',';
    const double ratio =
        p.accesses != 0 ? static_cast<double>(p.misses) / static_cast<double>(p.accesses) : 0.0;
    const double mpka =
        records != 0 ? static_cast<double>(p.misses) * 1000.0 / static_cast<double>(records) : 0.0;
    std::snprintf(buf, sizeof buf, "%.6f,%.6f", ratio, mpka);
    os << buf << '\n';
  }
}

}  // namespace mmusim
