// Miss status holding registers for TLB misses: at most `capacity` walks in
// flight per CPU. An entry is keyed by the 4 KiB linear page and the asid of
// the miss that allocated it and carries the walk's result and the cycle it
// is ready. A later miss to the same (page, asid) merges into it (find). Fixed
// storage, linear scans (capacity is small), no allocation after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/common/types.h"

namespace mmusim {

struct MshrEntry {
  Vpn vpn;  // 4 KiB linear page number of the allocating miss
  Asid asid;
  Cycle ready;          // the walk result is usable from this cycle on
  Translation result;   // what to fill into the TLBs
  uint32_t cookie = 0;  // opaque to the table (e.g. a fault code or requester id)
  uint64_t seq = 0;     // allocation order, breaks ties between equal `ready`
};

struct MshrStats {
  uint64_t allocations = 0;  // walks started
  uint64_t merges = 0;       // misses that found a pending walk for their page
  uint64_t full_stalls = 0;  // allocate() calls refused because the table was full
};

class MissStatusTable {
 public:
  explicit MissStatusTable(uint32_t capacity);

  // The pending entry for (4K page of a, asid), or nullptr. A non-null result
  // counts as a merge: call it once per missing access. Valid until the next
  // allocate/retire/clear.
  const MshrEntry* find(LinearAddr a, Asid asid) {
    if (used_ == 0) return nullptr;
    const Vpn vpn = vpn_of(a, PageSize::k4K);
    for (const Slot& s : slots_) {
      if (s.busy && s.e.vpn == vpn && s.e.asid == asid) {
        ++stats_.merges;
        return &s.e;
      }
    }
    return nullptr;
  }

  // Starts tracking a walk. Returns false (counting a full stall) when every
  // entry is busy: the caller waits until earliest_ready(), retires, retries.
  bool allocate(LinearAddr a, Asid asid, Cycle ready, const Translation& result,
                uint32_t cookie = 0);

  // Hands every entry with ready <= now to f(const MshrEntry&), in ready
  // order, ties in allocation order, freeing each before the call (f may
  // allocate). Returns the number retired.
  template <class F>
  uint32_t retire_until(Cycle now, F&& f) {
    uint32_t n = 0;
    while (used_ != 0) {
      Slot* best = nullptr;
      for (Slot& s : slots_) {
        if (!s.busy || s.e.ready > now) continue;
        if (best == nullptr || s.e.ready < best->e.ready ||
            (s.e.ready == best->e.ready && s.e.seq < best->e.seq)) {
          best = &s;
        }
      }
      if (best == nullptr) break;
      const MshrEntry e = best->e;
      best->busy = false;
      --used_;
      ++n;
      f(e);
    }
    return n;
  }

  // The smallest ready cycle among pending entries; nullopt when empty.
  [[nodiscard]] std::optional<Cycle> earliest_ready() const;

  void clear();
  [[nodiscard]] uint32_t size() const { return used_; }
  [[nodiscard]] uint32_t capacity() const { return static_cast<uint32_t>(slots_.size()); }
  [[nodiscard]] bool full() const { return used_ == slots_.size(); }
  [[nodiscard]] const MshrStats& stats() const { return stats_; }
  // "<prefix>.allocations", ".merges", ".full_stalls".
  void visit(StatVisitor& v, std::string_view prefix) const;

 private:
  struct Slot {
    MshrEntry e;
    bool busy = false;
  };
  std::vector<Slot> slots_;
  uint32_t used_ = 0;
  uint64_t next_seq_ = 0;
  MshrStats stats_;
};

}  // namespace mmusim
