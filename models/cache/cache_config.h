// The cache hierarchy's configuration and its keys (cache.*): per level
// (l1d, l1i, l2, llc) size, ways, lookup latency and MSHRs; the line size;
// where page-walk references enter; the on-chip miss path to the memory
// controller; DMA write policy. Plain data, checked once by
// resolve_cache_config(), then const.
#pragma once

#include <cstdint>
#include <string>

#include "models/cache/cache.h"

namespace mmusim {

class ConfigSchema;

// The level a page walk's references enter (cache.walker_entry).
enum class CacheEntry : uint8_t { kL1d, kL2, kLlc };

struct CacheConfig {
  bool enabled = false;  // false: every reference goes to DRAM (no cache)
  bool data = false;     // the trace's data accesses and fetches go through L1D/L1I
  uint32_t line_bytes = 64;
  CacheGeometry l1d{32768, 8, 64, Cycles(5), 12};
  CacheGeometry l1i{32768, 8, 64, Cycles(5), 8};
  CacheGeometry l2{262144, 4, 64, Cycles(7), 32};
  CacheGeometry llc{8388608, 16, 64, Cycles(30), 64};
  CacheEntry walker_entry = CacheEntry::kL1d;
  // Cycles between a last-level miss and the memory controller, and back
  // (ring or mesh, home agent, controller queue): added to every DRAM access
  // that went through the caches.
  Cycles miss_path{60};
  // DMA writes: false invalidates the line in every cache (write-invalidate);
  // true installs it dirty in the LLC (DDIO-like) instead of writing DRAM.
  bool dma_allocate = false;
  // With several CPUs: their private caches are kept coherent with each
  // other through a directory at the LLC (CacheModule::set_coherent); false
  // leaves them incoherent (only kernel and DMA writes invalidate them).
  bool coherence = true;
  // With that coherence: a coherence action (invalidation or downgrade of a
  // line another agent's request changed) reaches a CPU at the next multiple
  // of this period above the request's arrival.
  uint64_t snoop_period = 64;
  // The snoop filter's entries (0: twice the lines of every CPU's private
  // caches), 16 ways, LRU; tracking a line in a full set invalidates the
  // evicted line's private copies.
  uint64_t snoop_filter_entries = 0;
};

// Binds cache.* to `c` and `entry` (cache.walker_entry as written); both
// must outlive the schema.
void add_keys(ConfigSchema& s, CacheConfig& c, std::string& entry);

// The snoop filter's entries asked for with `cpus` CPUs:
// cache.snoop_filter_entries, or twice the lines of every CPU's private
// caches (L1D, L2, and the L1I with cache.data), at least 16.
uint64_t snoop_filter_entries(const CacheConfig& c, uint32_t cpus);

// Sets c.walker_entry from `entry`, the line size of every level, and checks
// each present level (size 0: absent); throws InputError naming the key.
void resolve_cache_config(CacheConfig& c, const std::string& entry);

}  // namespace mmusim
