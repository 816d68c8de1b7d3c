// Shared by the miss-ratio-curve tests: reading trace records, and the
// reference the curves must equal, the model's own TlbHierarchy driven one
// translation at a time as the CPU does with cpu.window = 1 (each miss fills
// before the next lookup; a write that hits a clean entry re-walks and fills).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "models/common/types.h"
#include "models/mrc/mrc.h"
#include "models/tlb/tlb_hierarchy.h"
#include "traces/trace_reader.h"

namespace mmusim::mrctest {

inline std::vector<TraceRecord> read_records(const std::string& trace, uint64_t limit) {
  auto r = open_trace(trace);
  std::vector<TraceRecord> out;
  TraceRecord buf[4096];
  while (out.size() < limit) {
    const size_t n =
        r->read(buf, static_cast<size_t>(std::min<uint64_t>(4096, limit - out.size())));
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// The counters of one run of the reference.
struct RefRun {
  std::map<std::string, uint64_t> hits;     // per array name, e.g. "tlb.l2.4K_2M"
  uint64_t l2_misses = 0;                   // tlb.l2.misses
  std::map<std::string, uint64_t> lookups;  // per L1 "l1d.4K"-style slot: translations
};

// Runs `recs` through a TlbHierarchy of `tlb` in order. Page sizes from
// `regions`; long-mode canonical check at 48 bits as the CPU's fast path.
inline RefRun run_reference(const TlbConfig& tlb, const std::vector<MrcRegion>& regions,
                            const std::vector<TraceRecord>& recs) {
  TlbHierarchy h(tlb);
  std::unordered_set<uint64_t> dirty;  // pages written: their PTE's D bit
  RefRun out;
  const Asid asid(1);
  auto size_of = [&](uint64_t a) {
    for (const MrcRegion& r : regions) {
      if (a >= r.start && a < r.end) return r.size;
    }
    return PageSize::k4K;
  };
  auto translate = [&](uint64_t a, AccessKind k) {
    const PageSize s = size_of(a);
    const uint64_t vpn = a >> page_shift(s);
    const uint64_t page = (vpn << 2) | static_cast<unsigned>(s);
    ++out.lookups[std::string(k == AccessKind::kFetch ? "l1i." : "l1d.") +
                  std::string(page_size_name(s == PageSize::k4M ? PageSize::k2M : s))];
    const TlbLookup l = h.lookup(LinearAddr(a), k, asid);
    const bool write = k == AccessKind::kWrite;
    const bool clean_hit = l.level != TlbLevel::kMiss && write && !(l.t->perms & kPermDirty);
    if (l.level == TlbLevel::kMiss || clean_hit) {
      // The walk (or re-walk) sets D on a write; the fill carries the PTE's D.
      if (write) dirty.insert(page);
      Translation t;
      t.vpn = Vpn(vpn);
      t.pfn = Pfn(vpn << (page_shift(s) - 12));
      t.size = s;
      t.perms = static_cast<uint8_t>(kPermWrite | kPermUser | (dirty.count(page) ? kPermDirty : 0));
      t.asid = asid;
      h.fill(t, k);
    }
  };
  for (const TraceRecord& r : recs) {
    const uint64_t last = r.addr + (r.size ? r.size : 1) - 1;
    const uint64_t half = uint64_t{1} << 47;
    if (((r.addr + half) | (last + half)) & ~((uint64_t{1} << 48) - 1)) continue;  // #GP
    translate(r.addr, r.kind);
    if (((r.addr ^ last) >> 12) != 0 && last > r.addr) translate(last & ~uint64_t{0xFFF}, r.kind);
  }
  for (const TlbArray& a : h.arrays()) out.hits[a.name()] = a.stats().hits;
  out.l2_misses = h.level_stats().l2_misses;
  return out;
}

}  // namespace mmusim::mrctest
