#include "models/arch/paging.h"

namespace mmusim {
namespace {

constexpr PagingLevel kPml5{"PML5", 48, 9, false, PageSize::k4K, false};
constexpr PagingLevel kPml4{"PML4", 39, 9, false, PageSize::k4K, false};
constexpr PagingLevel kPdpt{"PDPT", 30, 9, true, PageSize::k1G, false};
constexpr PagingLevel kPd{"PD", 21, 9, true, PageSize::k2M, false};
constexpr PagingLevel kPt{"PT", 12, 9, true, PageSize::k4K, false};
constexpr PagingLevel kPaePdpt{"PDPTE", 30, 2, false, PageSize::k4K, true};
constexpr PagingLevel kPd32{"PD", 22, 10, true, PageSize::k4M, false};
constexpr PagingLevel kPt32{"PT", 12, 10, true, PageSize::k4K, false};
constexpr PagingLevel kNone{"", 0, 0, false, PageSize::k4K, false};

constexpr PagingModeInfo kModes[] = {
    {"off", PagingMode::kOff, 0, 8, 32, false, false, {kNone, kNone, kNone, kNone, kNone}},
    {"32bit", PagingMode::k32Bit, 2, 4, 32, false, false, {kPd32, kPt32, kNone, kNone, kNone}},
    {"pae", PagingMode::kPae, 3, 8, 32, false, true, {kPaePdpt, kPd, kPt, kNone, kNone}},
    {"4level", PagingMode::k4Level, 4, 8, 48, true, true, {kPml4, kPdpt, kPd, kPt, kNone}},
    {"5level", PagingMode::k5Level, 5, 8, 57, true, true, {kPml5, kPml4, kPdpt, kPd, kPt}},
};

constexpr uint64_t bits(unsigned hi, unsigned lo) {  // inclusive mask hi..lo
  return ((hi >= 63 ? ~0ULL : ((1ULL << (hi + 1)) - 1)) >> lo) << lo;
}

}  // namespace

const PagingModeInfo& paging_mode_info(PagingMode m) { return kModes[static_cast<int>(m)]; }

std::optional<PagingMode> parse_paging_mode(std::string_view s) {
  for (const auto& m : kModes) {
    if (m.name == s) return m.mode;
  }
  return std::nullopt;
}

bool mode_supports(PagingMode m, PageSize s) {
  const PagingModeInfo& info = paging_mode_info(m);
  if (m == PagingMode::kOff) return s == PageSize::k4K;
  for (unsigned l = 0; l < info.levels; ++l) {
    if (info.level[l].may_be_leaf && info.level[l].leaf_size == s) return true;
  }
  return false;
}

uint64_t entry_address(const PagingModeInfo& m, unsigned level, uint64_t entry, bool leaf) {
  if (m.mode == PagingMode::k32Bit) {
    if (leaf && m.level[level].leaf_size == PageSize::k4M) {
      // PSE-36: bits 31:22 are address bits 31:22, bits 20:13 are 39:32.
      return (entry & bits(31, 22)) | (((entry >> 13) & 0xFF) << 32);
    }
    return entry & bits(31, 12);
  }
  unsigned low = leaf ? page_shift(m.level[level].leaf_size) : 12;
  return entry & bits(51, low);
}

uint64_t reserved_mask(const PagingModeInfo& m, unsigned level, bool leaf, unsigned maxphyaddr) {
  const PagingLevel& l = m.level[level];
  if (m.mode == PagingMode::k32Bit) {
    if (leaf && l.leaf_size == PageSize::k4M) {
      // Bit 21 is reserved; bits 20:13 carry address bits 39:32 up to MAXPHYADDR.
      unsigned high = maxphyaddr > 40 ? 40 : maxphyaddr;
      uint64_t used_high = high > 32 ? bits(13 + (high - 32) - 1, 13) : 0;
      return bits(21, 13) & ~used_high;
    }
    return 0;  // 32-bit PDEs/PTEs have no reserved bits (PS in a PTE is PAT)
  }
  uint64_t mask = maxphyaddr < 52 ? bits(51, maxphyaddr) : 0;
  if (l.in_registers) {
    // PAE PDPTE: bits 2:1, 8:5 and 63 are reserved.
    return mask | bits(2, 1) | bits(8, 5) | bits(63, 63);
  }
  if (leaf && l.leaf_size != PageSize::k4K) {
    // Large-page leaf: bit 12 is PAT, bits (shift-1):13 are reserved.
    mask |= bits(page_shift(l.leaf_size) - 1, 13);
  }
  if (!leaf && !l.may_be_leaf && m.mode != PagingMode::kPae) {
    mask |= pte::kPS;  // PS must be 0 in PML5E/PML4E
  }
  return mask;
}

uint64_t make_entry(const PagingModeInfo& m, unsigned level, bool leaf, uint64_t phys,
                    uint64_t flags) {
  uint64_t e = flags | pte::kP;
  if (leaf && m.level[level].leaf_size != PageSize::k4K) e |= pte::kPS;
  if (m.level[level].in_registers) e &= pte::kP | pte::kPWT | pte::kPCD;
  if (m.mode == PagingMode::k32Bit) {
    e &= 0xFFFFFFFFULL;
    if (leaf && m.level[level].leaf_size == PageSize::k4M) {
      return e | (phys & bits(31, 22)) | (((phys >> 32) & 0xFF) << 13);
    }
    return e | (phys & bits(31, 12));
  }
  return e | phys;
}

}  // namespace mmusim
