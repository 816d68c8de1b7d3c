// One-pass TLB miss-ratio curves (plain C++, no SystemC). An MrcEngine reads
// the translations of a trace in order and, for every LRU geometry of the
// measured level at once, counts the references that reach that level and
// those it misses:
//
//   level l2 (the STLB): the configured L1 TLBs run exactly (TlbHierarchy
//     with the STLB disabled: its arrays, page sizes and replacement) and
//     only their misses reach the measured arrays, one stack per L2 array
//     (tlb.l2.sizes shares one; 1G pages not held there go to the 1G array);
//   level l1: every L1 array (side x page size) is measured, nothing in front.
//
// Geometry (one of):
//   fully associative        one stack per array; entries swept;
//   fixed sets S             S stacks per array (set = vpn mod S); ways swept;
//   fixed ways W             one group of stacks per set count swept (powers of
//                            two): each reference updates one stack per set
//                            count, so the cost grows with their number.
// Sweeps of at most 64 ways per set keep each set's most recent keys in a row
// (scan and shift); deeper ones use StackDistance (Fenwick tree, O(log n)).
//
// What the model does and the engine follows (README "Miss-ratio curves"):
// the CPU translates in order (cpu.window = 1: each miss fills before the next
// lookup); a page's size is the first-touch OS model's (os.huge_regions, else
// 4K); a page-crossing access translates twice (its last byte's page second);
// a write that hits an L1 entry cached before the page was dirty re-walks and
// fills the STLB too (a reference that moves the page to the top of its L2
// stack without being counted as an access).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "models/common/types.h"
#include "models/mrc/stack_distance.h"
#include "models/tlb/tlb_config.h"
#include "models/tlb/tlb_hierarchy.h"

namespace mmusim {

enum class MrcLevel : uint8_t { kL1, kL2 };

// A linear range mapped with large pages (os.huge_regions).
struct MrcRegion {
  uint64_t start = 0, end = 0;  // [start, end)
  PageSize size = PageSize::k2M;
};

struct MrcConfig {
  TlbConfig tlb;  // the L1 filter (level l2) and which L2 array holds which size
  MrcLevel level = MrcLevel::kL2;
  // 0/0: fully associative; sets > 0: fixed sets; ways > 0: fixed ways.
  uint32_t sets = 0, ways = 0;
  std::vector<uint64_t> sizes;  // entries of each point, ascending, distinct
  std::vector<MrcRegion> regions;
  uint64_t linear_mask = ~uint64_t{0};  // 32-bit paging modes wrap at 4 GiB
  // Long mode: non-canonical accesses fault (#GP) before any TLB lookup.
  uint32_t canonical_bits = 48;  // 0 = no check (flat mode)
  Asid asid{1};
};

// Throws InputError naming the option (--sizes, --sets, --ways) when the sizes
// do not fit the geometry: fixed sets: multiples of sets; fixed ways: ways x a
// power of two; every size 1..2^24 (tlb.*.entries' bound).
void validate_mrc_config(const MrcConfig& c);

// Parses --sizes: "FROM:TO:STEP" (FROM, FROM+STEP, ... <= TO) or "A,B,C".
// Throws InputError("--sizes: ...").
std::vector<uint64_t> parse_mrc_sizes(const std::string& text);

struct MrcPoint {
  std::string level;      // "l2", "l1d", "l1i"
  std::string page_size;  // sizes the array holds, e.g. "4K+2M"
  uint64_t sets = 0, ways = 0, entries = 0;
  uint64_t accesses = 0;  // references reaching this array
  uint64_t misses = 0;
};

class MrcEngine {
 public:
  explicit MrcEngine(const MrcConfig& cfg);  // validates
  ~MrcEngine();
  MrcEngine(const MrcEngine&) = delete;
  MrcEngine& operator=(const MrcEngine&) = delete;

  // One access record (R/W/X): one or two translations, as the CPU does.
  void access(uint64_t addr, uint32_t size, AccessKind kind);
  // One translation of linear address `a`.
  void translate(uint64_t a, AccessKind kind);

  // Access records seen (the MPKA denominator) and translations made.
  [[nodiscard]] uint64_t records() const { return records_; }
  [[nodiscard]] uint64_t translations() const { return translations_; }
  // Non-canonical accesses dropped before the TLBs (long mode #GP).
  [[nodiscard]] uint64_t skipped() const { return skipped_; }
  // Translations of a page size no measured array holds (level l2).
  [[nodiscard]] uint64_t unmeasured() const { return unmeasured_; }
  // The page size of linear address a (first-touch: regions, else 4K).
  [[nodiscard]] PageSize page_size_of(uint64_t a) const;

  // Every point of every measured array that received references, arrays in
  // order (l2 then l2 1G; l1d 4K, 2M, 1G, l1i 4K, 2M, 1G), sizes ascending.
  [[nodiscard]] std::vector<MrcPoint> curve() const;
  // Stack references per translation reaching a measured array (cost figure).
  [[nodiscard]] uint64_t stack_updates() const { return stack_updates_; }

 private:
  struct Group;   // the stacks of one set count
  struct Target;  // one measured array
  void reference(Target& t, uint64_t vpn, PageSize s, bool counted);

  MrcConfig cfg_;
  std::unique_ptr<TlbHierarchy> filter_;  // level l2: the L1 TLBs alone
  std::vector<Target> targets_;
  // [side][page size] -> index in targets_, or -1 (level l2: both sides alike).
  std::array<std::array<int, kNumPageSizes>, 2> target_of_{};
  std::unordered_set<uint64_t> written_;  // pages (stack keys) whose D bit is set
  uint64_t records_ = 0, translations_ = 0, skipped_ = 0, unmeasured_ = 0;
  uint64_t stack_updates_ = 0;
  uint64_t canon_half_ = 0, canon_mask_ = 0;
};

// Writes the curve as CSV with the header
// level,page_size,sets,ways,entries,accesses,misses,miss_ratio,mpka
// (miss_ratio = misses / accesses, mpka = misses x 1000 / records).
void write_mrc_csv(std::ostream& os, const std::vector<MrcPoint>& points, uint64_t records);

}  // namespace mmusim
