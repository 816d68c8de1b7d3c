// A cache configuration for tests that drive the hierarchy by hand.
#pragma once

#include <cstdint>
#include <vector>

#include "models/cache/cache.h"
#include "models/cache/cache_config.h"

namespace mmusim::testing {

// Small levels with the presets' prefetchers (next-line L1D, stream L2), so
// that misses, prefetches, MSHR waits and dirty writebacks are frequent.
inline CacheConfig small_levels() {
  CacheConfig c;
  c.enabled = true;
  resolve_cache_config(c, "l1d");
  c.l1d = CacheGeometry{4096, 4, 64, Cycles(4), 4, PrefetchKind::kNextLine};
  c.l2 = CacheGeometry{16384, 4, 64, Cycles(10), 8, PrefetchKind::kStream};
  c.llc = CacheGeometry{65536, 8, 64, Cycles(30), 16};
  c.miss_path = Cycles(20);
  return c;
}

// Appends every counter of a level's core to `d` (per initiator, writebacks,
// merges, MSHR waits and the prefetcher's counts): two runs that must agree
// compare these.
inline void digest_level(const Cache& c, std::vector<uint64_t>& d) {
  for (unsigned who = 0; who < 8; ++who) {
    d.insert(d.end(), {c.counts(who).accesses, c.counts(who).hits, c.counts(who).misses});
  }
  const PrefetchCounts& p = c.prefetch_counts();
  d.insert(d.end(), {c.writebacks(), c.merged(), c.mshr_full(), p.issued, p.dropped, p.useful,
                     p.late, p.useless});
}

}  // namespace mmusim::testing
