#include "models/tlb/miss_status_table.h"

#include "models/common/error.h"

namespace mmusim {

MissStatusTable::MissStatusTable(uint32_t capacity) {
  if (capacity < 1) throw InputError("tlb.mshr.entries: must be at least 1");
  slots_.assign(capacity, Slot{});
}

bool MissStatusTable::allocate(LinearAddr a, Asid asid, Cycle ready, const Translation& result,
                               uint32_t cookie) {
  if (used_ == slots_.size()) {
    ++stats_.full_stalls;
    return false;
  }
  for (Slot& s : slots_) {
    if (s.busy) continue;
    s.e = MshrEntry{vpn_of(a, PageSize::k4K), asid, ready, result, cookie, next_seq_++};
    s.busy = true;
    ++used_;
    ++stats_.allocations;
    return true;
  }
  return false;  // unreachable: used_ < capacity
}

std::optional<Cycle> MissStatusTable::earliest_ready() const {
  std::optional<Cycle> best;
  for (const Slot& s : slots_) {
    if (s.busy && (!best || s.e.ready < *best)) best = s.e.ready;
  }
  return best;
}

void MissStatusTable::clear() {
  for (Slot& s : slots_) s.busy = false;
  used_ = 0;
}

void MissStatusTable::visit(StatVisitor& v, std::string_view prefix) const {
  const std::string p(prefix);
  v.counter(p + ".allocations", "walks", "TLB misses that started a walk (MSHR allocated)",
            stats_.allocations);
  v.counter(p + ".merges", "accesses", "TLB misses merged into a pending walk for their page",
            stats_.merges);
  v.counter(p + ".full_stalls", "events", "misses refused because every MSHR was busy",
            stats_.full_stalls);
}

}  // namespace mmusim
