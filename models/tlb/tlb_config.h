// TLB configuration: geometry, latency and replacement of every array, the
// MSHR capacity and the PRNG seed. Plain structs, validated once by
// validate_tlb_config() (throws InputError naming the key and the rule), then
// const. A default-constructed TlbConfig is the Skylake client geometry.
//
// Keys (see README.md), bound by add_keys():
// tlb.l1{i,d}.{4K,2M,1G}.{entries,ways,latency,replacement},
// tlb.l2.{entries,ways,latency,replacement,sizes},
// tlb.l2_1g.{entries,ways,latency,replacement}, tlb.mshr.entries, tlb.fast_path.
// The seed is not a key: it follows sim.seed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/common/types.h"

namespace mmusim {

class ConfigSchema;

enum class ReplPolicy : uint8_t { kLru = 0, kPlru = 1, kFifo = 2, kRandom = 3 };

// Bitmask of page sizes an array holds: bit (1 << PageSize).
constexpr uint8_t page_size_bit(PageSize s) { return uint8_t(1U << static_cast<unsigned>(s)); }
constexpr uint8_t kHolds4K = page_size_bit(PageSize::k4K);
// "2M" entries also hold 4M pages (32-bit paging with PSE), like Intel's 2M/4M entries.
constexpr uint8_t kHolds2M = page_size_bit(PageSize::k2M) | page_size_bit(PageSize::k4M);
constexpr uint8_t kHolds1G = page_size_bit(PageSize::k1G);

// One set-associative array. sets = entries / ways must be a power of two;
// ways == entries is fully associative; entries == 0 disables the array.
struct TlbArrayConfig {
  std::string name;      // stat prefix, e.g. "tlb.l1d.4K" (the hierarchy sets it)
  uint32_t entries = 0;  // total entries; 0: these sizes are not cached here
  uint32_t ways = 1;     // associativity, >= 1
  Cycles latency{1};     // lookup latency in core cycles
  ReplPolicy replacement = ReplPolicy::kLru;
  uint8_t sizes = kHolds4K;  // page_size_bit() mask of the sizes held
};

// L1 slots: index 0 holds 4K, 1 holds 2M/4M, 2 holds 1G.
constexpr int kL1Slots = 3;
constexpr std::array<std::string_view, kL1Slots> kL1SlotNames = {"4K", "2M", "1G"};
constexpr std::array<uint8_t, kL1Slots> kL1SlotSizes = {kHolds4K, kHolds2M, kHolds1G};

// Skylake client (Intel 64 and IA-32 Architectures Optimization Reference
// Manual, "Skylake client microarchitecture", TLB parameters table):
//   ITLB 4K 128 entries 8-way; 2M/4M 8 entries per thread (fully associative);
//   DTLB 4K 64 entries 4-way; 2M/4M 32 entries 4-way; 1G 4 entries 4-way;
//   STLB 4K+2M 1536 entries 12-way (128 sets); 1G 16 entries 4-way.
// Latencies: L1 hit 1 cycle (overlapped with the L1D cache access); an L1
// miss that hits the STLB costs ~9 cycles (public measurements, e.g.
// 7-cpu.com "Skylake": "L1 DTLB miss penalty = 9 cycles").
// The ITLB has no 1G array on Skylake: 1G code pages are served by the STLB.
struct TlbConfig {
  std::array<TlbArrayConfig, kL1Slots> l1i = {{
      {"tlb.l1i.4K", 128, 8, Cycles(1), ReplPolicy::kLru, kHolds4K},
      {"tlb.l1i.2M", 8, 8, Cycles(1), ReplPolicy::kLru, kHolds2M},
      {"tlb.l1i.1G", 0, 1, Cycles(1), ReplPolicy::kLru, kHolds1G},
  }};
  std::array<TlbArrayConfig, kL1Slots> l1d = {{
      {"tlb.l1d.4K", 64, 4, Cycles(1), ReplPolicy::kLru, kHolds4K},
      {"tlb.l1d.2M", 32, 4, Cycles(1), ReplPolicy::kLru, kHolds2M},
      {"tlb.l1d.1G", 4, 4, Cycles(1), ReplPolicy::kLru, kHolds1G},
  }};
  TlbArrayConfig l2 = {"tlb.l2.4K_2M",     1536, 12, Cycles(9), ReplPolicy::kLru,
                       kHolds4K | kHolds2M};  // shared STLB array (tlb.l2.*)
  TlbArrayConfig l2_1g = {"tlb.l2.1G",      16,      4, Cycles(9),
                          ReplPolicy::kLru, kHolds1G};  // STLB 1G array (tlb.l2_1g.*)
  uint32_t mshr_entries = 4;  // pending L2 misses (walks) per CPU; an assumption
  uint64_t seed = 1;          // random replacement; each array mixes in its name
  bool fast_path = true;      // memo of the last L1 hit; exact (tested), off for A/B checks
};

// Binds every tlb.* key to its field of `c` (which must outlive the schema);
// the current values are the defaults. Check with validate_tlb_config().
void add_keys(ConfigSchema& s, TlbConfig& c);

// The Skylake client default (same as TlbConfig{}).
TlbConfig skylake_tlb_config();

// Throws InputError("KEY: RULE") on the first invalid value.
void validate_tlb_config(const TlbConfig& cfg);
// Checks one array; `key` is its key prefix ("tlb.l1d.4K", "tlb.l2", ...).
void validate_tlb_array(const TlbArrayConfig& a, std::string_view key);

// "lru", "plru", "fifo", "random"; throws "KEY: unknown policy 'x' (expected ...)".
ReplPolicy parse_repl_policy(std::string_view key, std::string_view text);
std::string_view repl_policy_name(ReplPolicy p);
// "4K+2M" -> mask ("2M" means 2M/4M); throws "KEY: unknown page size ...".
uint8_t parse_page_sizes(std::string_view key, std::string_view text);
// Inverse of parse_page_sizes: "4K+2M".
std::string page_sizes_string(uint8_t mask);

}  // namespace mmusim
