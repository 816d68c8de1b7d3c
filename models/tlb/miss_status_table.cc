#include "models/tlb/miss_status_table.h"

#include "models/common/error.h"

namespace mmusim {

MissStatusTable::MissStatusTable(uint32_t capacity) {
  if (capacity < 1) throw InputError("tlb.mshr.entries: must be at least 1");
  slots_.assign(capacity, MshrEntry{});
}

int MissStatusTable::allocate(LinearAddr a, Asid asid, const Translation& t, AccessKind k,
                              uint64_t owner) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    MshrEntry& e = slots_[i];
    if (e.busy) continue;
    e.shift = page_shift(t.size);
    e.vpn = Vpn(a.value() >> e.shift);
    e.asid = asid;
    e.result = t;
    e.sides = side_bit(k);
    e.owner = owner;
    e.busy = true;
    ++used_;
    last_ = -1;
    ++stats_.allocations;
    return static_cast<int>(i);
  }
  return -1;
}

void MissStatusTable::free(int i) {
  MshrEntry& e = slots_[static_cast<size_t>(i)];
  if (!e.busy) return;
  e.busy = false;
  --used_;
  last_ = -1;
}

void MissStatusTable::clear() {
  for (MshrEntry& e : slots_) e.busy = false;
  used_ = 0;
  last_ = -1;
}

void MissStatusTable::visit(StatVisitor& v, std::string_view prefix) const {
  const std::string p(prefix);
  v.counter(p + ".allocations", "walks", "TLB misses that started a walk for a distinct page",
            stats_.allocations);
  v.counter(p + ".merges", "accesses",
            "TLB misses merged into a pending walk covering their page (any access kind)",
            stats_.merges);
  v.counter(p + ".stalls", "accesses", "misses that waited because every MSHR was busy",
            stats_.stalls);
}

}  // namespace mmusim
