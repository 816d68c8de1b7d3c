#include "models/tlb/tlb_config.h"

#include <stdexcept>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

constexpr uint32_t kMaxEntries = uint32_t{1} << 24;
constexpr uint32_t kMaxMshrEntries = 1024;
// A lookup latency's bound (README, "Configuration bounds"): with every
// per-access latency at most 2^12 cycles, 2^40 accesses cannot overflow the
// 64-bit cycle counts.
constexpr uint64_t kMaxLatency = uint64_t{1} << 12;

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

[[noreturn]] void fail(std::string_view key, const std::string& rule) {
  throw InputError(std::string(key) + ": " + rule);
}

std::string key_of(std::string_view prefix, std::string_view field) {
  return std::string(prefix) + "." + std::string(field);
}

// Sizes held by two enabled arrays of the same level must not overlap.
void check_disjoint(const TlbArrayConfig& a, std::string_view a_key, const TlbArrayConfig& b,
                    std::string_view b_key) {
  if (a.entries == 0 || b.entries == 0) return;
  const uint8_t common = a.sizes & b.sizes;
  if (common == 0) return;
  throw InputError(key_of(a_key, "sizes") + ": page size " + page_sizes_string(common) +
                       " is also held by " + std::string(b_key),
                   {key_of(a_key, "sizes"), key_of(b_key, "entries")});  // b is enabled
}

// KEY.{entries,ways,latency,replacement}[,sizes] of one array.
void add_array_keys(ConfigSchema& s, const std::string& key, TlbArrayConfig* a, bool sizes) {
  s.add_u32(key + ".entries", &a->entries, "entries", "entries in this array (0 disables it)");
  s.add_u32(key + ".ways", &a->ways, "ways", "associativity (ways = entries: fully associative)");
  s.add_cycles(key + ".latency", &a->latency, "lookup latency");
  s.add_custom(
      key + ".replacement", "policy", "replacement policy: lru, plru, fifo or random",
      [a, key](const std::string& v) {
        try {
          a->replacement = parse_repl_policy(key + ".replacement", v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected lru, plru, fifo or random");
        }
      },
      [a] { return std::string(repl_policy_name(a->replacement)); });
  if (sizes) {
    s.add_custom(
        key + ".sizes", "sizes", "page sizes this array holds, e.g. 4K+2M",
        [a, key](const std::string& v) {
          try {
            a->sizes = parse_page_sizes(key + ".sizes", v);
          } catch (const InputError&) {
            throw std::invalid_argument("expected page sizes joined by '+', e.g. 4K+2M");
          }
        },
        [a] { return page_sizes_string(a->sizes); });
  }
}

}  // namespace

void add_keys(ConfigSchema& s, TlbConfig& c) {
  for (int i = 0; i < kL1Slots; ++i) {
    std::string sz(kL1SlotNames[i]);
    add_array_keys(s, "tlb.l1i." + sz, &c.l1i[i], false);
    add_array_keys(s, "tlb.l1d." + sz, &c.l1d[i], false);
  }
  add_array_keys(s, "tlb.l2", &c.l2, true);
  add_array_keys(s, "tlb.l2_1g", &c.l2_1g, false);
  s.add_u32("tlb.mshr.entries", &c.mshr_entries, "entries",
            "miss-status registers: distinct pending TLB misses per CPU", 1, 256);
  s.add_bool("tlb.fast_path", &c.fast_path,
             "simulator shortcut for repeated L1 hits to one page (exact; off for A/B checks)");
}

TlbConfig skylake_tlb_config() { return TlbConfig{}; }

ReplPolicy parse_repl_policy(std::string_view key, std::string_view text) {
  if (text == "lru") return ReplPolicy::kLru;
  if (text == "plru") return ReplPolicy::kPlru;
  if (text == "fifo") return ReplPolicy::kFifo;
  if (text == "random") return ReplPolicy::kRandom;
  fail(key, "unknown policy '" + std::string(text) + "' (expected lru, plru, fifo, random)");
}

std::string_view repl_policy_name(ReplPolicy p) {
  switch (p) {
    case ReplPolicy::kLru: return "lru";
    case ReplPolicy::kPlru: return "plru";
    case ReplPolicy::kFifo: return "fifo";
    case ReplPolicy::kRandom: return "random";
  }
  return "?";
}

uint8_t parse_page_sizes(std::string_view key, std::string_view text) {
  uint8_t mask = 0;
  size_t pos = 0;
  while (true) {
    const size_t plus = text.find('+', pos);
    const std::string_view tok =
        text.substr(pos, plus == std::string_view::npos ? std::string_view::npos : plus - pos);
    if (tok == "4K") {
      mask |= kHolds4K;
    } else if (tok == "2M") {
      mask |= kHolds2M;
    } else if (tok == "4M") {
      mask |= page_size_bit(PageSize::k4M);
    } else if (tok == "1G") {
      mask |= kHolds1G;
    } else {
      fail(key, "unknown page size '" + std::string(tok) + "' in '" + std::string(text) +
                    "' (expected 4K, 2M, 4M, 1G joined by '+', e.g. 4K+2M)");
    }
    if (plus == std::string_view::npos) break;
    pos = plus + 1;
  }
  return mask;
}

std::string page_sizes_string(uint8_t mask) {
  std::string out;
  auto add = [&out](std::string_view s) {
    if (!out.empty()) out += '+';
    out += s;
  };
  if (mask & kHolds4K) add("4K");
  if (mask & page_size_bit(PageSize::k2M)) {
    add("2M");
  } else if (mask & page_size_bit(PageSize::k4M)) {
    add("4M");
  }
  if (mask & kHolds1G) add("1G");
  return out;
}

void validate_tlb_array(const TlbArrayConfig& a, std::string_view key) {
  if (a.latency.count() > kMaxLatency) {
    fail(key_of(key, "latency"), "must be at most " + std::to_string(kMaxLatency) +
                                     " cycles (the bound that keeps 64-bit cycle counts from "
                                     "overflowing), got " +
                                     std::to_string(a.latency.count()));
  }
  if (a.ways < 1) fail(key_of(key, "ways"), "must be at least 1");
  if (a.entries == 0) return;  // disabled: nothing else matters
  if (a.entries > kMaxEntries) {
    fail(key_of(key, "entries"), "must be at most " + std::to_string(kMaxEntries) + " (got " +
                                     std::to_string(a.entries) + ")");
  }
  if (a.ways > a.entries) {
    fail(key_of(key, "ways"), "must not exceed entries (" + std::to_string(a.ways) + " > " +
                                  std::to_string(a.entries) + ")");
  }
  if (a.entries % a.ways != 0) {
    fail(key_of(key, "entries"), "must be a multiple of ways (" + std::to_string(a.entries) +
                                     " % " + std::to_string(a.ways) + " = " +
                                     std::to_string(a.entries % a.ways) + ")");
  }
  const uint32_t sets = a.entries / a.ways;
  if (!is_pow2(sets)) {
    fail(key_of(key, "entries"), "sets (entries/ways = " + std::to_string(a.entries) + "/" +
                                     std::to_string(a.ways) + " = " + std::to_string(sets) +
                                     ") must be a power of two");
  }
  if (a.replacement == ReplPolicy::kPlru && !is_pow2(a.ways)) {
    fail(key_of(key, "ways"), "tree-PLRU replacement needs a power-of-two number of ways (got " +
                                  std::to_string(a.ways) + ")");
  }
  if (a.sizes == 0) fail(key_of(key, "sizes"), "must name at least one page size");
  if (a.sizes & ~(kHolds4K | kHolds2M | kHolds1G)) {
    fail(key_of(key, "sizes"), "unknown page size bits");
  }
}

void validate_tlb_config(const TlbConfig& cfg) {
  for (int side = 0; side < 2; ++side) {
    const auto& l1 = side == 0 ? cfg.l1i : cfg.l1d;
    const std::string level = side == 0 ? "tlb.l1i." : "tlb.l1d.";
    for (int i = 0; i < kL1Slots; ++i) {
      const std::string key = level + std::string(kL1SlotNames[i]);
      validate_tlb_array(l1[i], key);
      if (l1[i].sizes != kL1SlotSizes[i]) {
        fail(key_of(key, "sizes"), "an L1 " + std::string(kL1SlotNames[i]) +
                                       " array holds exactly " +
                                       page_sizes_string(kL1SlotSizes[i]) + " (got '" +
                                       page_sizes_string(l1[i].sizes) + "')");
      }
    }
  }
  validate_tlb_array(cfg.l2, "tlb.l2");
  validate_tlb_array(cfg.l2_1g, "tlb.l2_1g");
  if (cfg.l2_1g.entries != 0 && cfg.l2_1g.sizes != kHolds1G) {
    fail("tlb.l2_1g.sizes", "holds exactly 1G (got '" + page_sizes_string(cfg.l2_1g.sizes) + "')");
  }
  check_disjoint(cfg.l2, "tlb.l2", cfg.l2_1g, "tlb.l2_1g");
  if (cfg.mshr_entries < 1) fail("tlb.mshr.entries", "must be at least 1");
  if (cfg.mshr_entries > kMaxMshrEntries) {
    fail("tlb.mshr.entries", "must be at most " + std::to_string(kMaxMshrEntries) + " (got " +
                                 std::to_string(cfg.mshr_entries) + ")");
  }
}

}  // namespace mmusim
