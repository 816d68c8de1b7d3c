// Miss status holding registers for TLB misses: at most `capacity` distinct
// translations being walked per CPU. An entry is keyed by the page the walk
// will map (its size is known when the walk is requested: a pending 2 MiB or
// 1 GiB walk covers every 4 KiB part of its page) and the PCID. A later miss
// to that page, of any access kind, merges into the entry. Entries are freed
// when their walk completes. Fixed storage, linear scans (capacity is small),
// no allocation after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/common/types.h"

namespace mmusim {

struct MshrEntry {
  Vpn vpn;              // page number at the translation's size
  unsigned shift = 12;  // log2 of the page size
  Asid asid;
  Translation result;  // what the walk will return (known at request)
  uint8_t sides = 0;   // bit 0: fill the L1 ITLB, bit 1: the L1 DTLB
  uint64_t owner = 0;  // sequence number of the access that allocated it
  bool busy = false;
};

struct MshrStats {
  uint64_t allocations = 0;  // walks started for a distinct page
  uint64_t merges = 0;       // misses that joined a pending walk for their page
  uint64_t stalls = 0;       // misses that waited because every entry was busy
};

class MissStatusTable {
 public:
  static constexpr uint8_t kSideI = 1;
  static constexpr uint8_t kSideD = 2;
  static constexpr uint8_t side_bit(AccessKind k) {
    return k == AccessKind::kFetch ? kSideI : kSideD;
  }

  explicit MissStatusTable(uint32_t capacity);

  // Index of the pending entry covering (a, asid), or -1.
  // The entry last found is checked first: the table has not changed since
  // (any allocate, free or clear forgets it), so it is still the first entry
  // covering its page.
  [[nodiscard]] int find(LinearAddr a, Asid asid) const {
    if (used_ == 0) return -1;
    if (last_ >= 0) {
      const MshrEntry& e = slots_[static_cast<size_t>(last_)];
      if ((a.value() >> e.shift) == e.vpn.value() && e.asid == asid) return last_;
    }
    for (size_t i = 0; i < slots_.size(); ++i) {
      const MshrEntry& e = slots_[i];
      if (e.busy && (a.value() >> e.shift) == e.vpn.value() && e.asid == asid) {
        last_ = static_cast<int>(i);
        return last_;
      }
    }
    return -1;
  }
  // The index allocate() will use next, or -1 when full.
  [[nodiscard]] int first_free() const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].busy) return static_cast<int>(i);
    }
    return -1;
  }
  // Allocates the first free entry for the walk of `a` that will map `t`
  // (the caller checked !full()); returns its index.
  int allocate(LinearAddr a, Asid asid, const Translation& t, AccessKind k, uint64_t owner);
  void free(int i);
  [[nodiscard]] MshrEntry& at(int i) { return slots_[static_cast<size_t>(i)]; }
  [[nodiscard]] const MshrEntry& at(int i) const { return slots_[static_cast<size_t>(i)]; }

  void count_merge() { ++stats_.merges; }
  void count_merges(uint64_t n) { stats_.merges += n; }
  void count_stall() { ++stats_.stalls; }
  void clear();
  [[nodiscard]] uint32_t size() const { return used_; }
  [[nodiscard]] uint32_t capacity() const { return static_cast<uint32_t>(slots_.size()); }
  [[nodiscard]] bool full() const { return used_ == slots_.size(); }
  [[nodiscard]] const MshrStats& stats() const { return stats_; }
  // "<prefix>.allocations", ".merges", ".stalls".
  void visit(StatVisitor& v, std::string_view prefix) const;

 private:
  std::vector<MshrEntry> slots_;
  uint32_t used_ = 0;
  mutable int last_ = -1;  // find()'s last result while the table is unchanged
  MshrStats stats_;
};

}  // namespace mmusim
