// Architectural facts about x86 paging, as tables (Intel SDM Vol. 3A ch. 4):
// the paging modes, their levels, and the bit layout of their entries.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "models/common/types.h"

namespace mmusim {

enum class PagingMode : uint8_t { kOff, k32Bit, kPae, k4Level, k5Level };

// One level of a paging structure, counted from the root (index 0).
struct PagingLevel {
  std::string_view name;  // "PML4", "PDPT", "PD", "PT", ...
  unsigned shift;         // lowest linear-address bit this level indexes
  unsigned bits;          // index width
  bool may_be_leaf;       // a PS=1 entry here maps a page (or this is the last level)
  PageSize leaf_size;     // page size mapped by a leaf at this level
  bool in_registers;      // PAE PDPTEs: loaded with CR3, no memory access in a walk
};

struct PagingModeInfo {
  std::string_view name;  // config spelling
  PagingMode mode;
  unsigned levels;       // number of PagingLevel entries used
  unsigned entry_bytes;  // 4 (32-bit paging) or 8
  unsigned linear_bits;  // 32, 48 or 57; 64-bit modes require canonical addresses
  bool canonical;        // sign-extension check on bits 63..linear_bits-1
  bool has_xd;           // bit 63 is execute-disable (with EFER.NXE = 1)
  std::array<PagingLevel, 5> level;
};

// The table of modes. Leaf sizes: 4-level/5-level: 1G (PDPT), 2M (PD), 4K (PT);
// PAE: 2M, 4K; 32-bit: 4M (PD, with CR4.PSE), 4K.
const PagingModeInfo& paging_mode_info(PagingMode m);
// Parses "off", "32bit", "pae", "4level", "5level"; nullopt for anything else.
std::optional<PagingMode> parse_paging_mode(std::string_view s);
// True when the mode can map pages of size `s`.
bool mode_supports(PagingMode m, PageSize s);

// Entry bits common to every format (SDM tables 4-4..4-20).
namespace pte {
constexpr uint64_t kP = 1ULL << 0;
constexpr uint64_t kRW = 1ULL << 1;
constexpr uint64_t kUS = 1ULL << 2;
constexpr uint64_t kPWT = 1ULL << 3;
constexpr uint64_t kPCD = 1ULL << 4;
constexpr uint64_t kA = 1ULL << 5;
constexpr uint64_t kD = 1ULL << 6;
constexpr uint64_t kPS = 1ULL << 7;
constexpr uint64_t kG = 1ULL << 8;
constexpr uint64_t kXD = 1ULL << 63;
}  // namespace pte

// Physical base address held in an entry at `level` of `m` (a table base for a
// non-leaf entry, a page base for a leaf). `leaf` tells whether it maps a page.
uint64_t entry_address(const PagingModeInfo& m, unsigned level, uint64_t entry, bool leaf);
// Bits of an entry that must be zero (reserved) for the given level and leaf
// state, for a processor with `maxphyaddr` physical-address bits.
uint64_t reserved_mask(const PagingModeInfo& m, unsigned level, bool leaf, unsigned maxphyaddr);
// Index into the table at `level` for linear address `a`.
inline unsigned level_index(const PagingModeInfo& m, unsigned level, LinearAddr a) {
  const PagingLevel& l = m.level[level];
  return static_cast<unsigned>((a.value() >> l.shift) & ((1ULL << l.bits) - 1));
}
// Builds a leaf or table entry for mode `m` (the inverse of entry_address).
uint64_t make_entry(const PagingModeInfo& m, unsigned level, bool leaf, uint64_t phys,
                    uint64_t flags);
// True when `a` is canonical for a mode with `linear_bits` bits.
inline bool is_canonical(uint64_t a, unsigned linear_bits) {
  if (linear_bits >= 64) return true;
  auto s = static_cast<int64_t>(a << (64 - linear_bits)) >> (64 - linear_bits);
  return static_cast<uint64_t>(s) == a;
}

}  // namespace mmusim
