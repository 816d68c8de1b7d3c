#include "models/cache/cache_config.h"

#include <algorithm>
#include <stdexcept>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

// Bounds (README, "Configuration bounds"): a lookup latency and the miss
// path at most 2^12 cycles like every per-access latency; a level at most
// 1 GiB of tags' worth of lines (16 M lines: 144 MiB of host memory).
constexpr uint64_t kMaxLatency = uint64_t{1} << 12;
constexpr uint64_t kMaxSize = uint64_t{1} << 30;
// The stream prefetcher's trackers (searched on every lookup of its level).
constexpr uint32_t kMaxStreams = 64;

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

void add_level_keys(ConfigSchema& s, const std::string& name, CacheGeometry* g,
                    const std::string& what) {
  const std::string key = "cache." + name;
  s.add_u64(key + ".size", &g->size_bytes, "bytes",
            what + " capacity in bytes (0: the level is absent)");
  s.add_u32(key + ".ways", &g->ways, "ways", what + " associativity (1 to 16)");
  s.add_cycles(key + ".latency", &g->latency,
               what + " lookup latency: cycles this level adds to a request that reaches it");
  s.add_u32(key + ".mshrs", &g->mshrs, "entries",
            what + " misses in flight at once (miss-status holding registers, 1 to 64)");
}

void check_mshrs(const std::string& key, const CacheGeometry& g) {
  if (g.mshrs < 1 || g.mshrs > Cache::kMaxMshrs) {
    throw InputError(key + ".mshrs: must be 1 to " + std::to_string(Cache::kMaxMshrs) + ", got " +
                     std::to_string(g.mshrs));
  }
}

const char* prefetch_name(PrefetchKind k) {
  switch (k) {
    case PrefetchKind::kNone: return "none";
    case PrefetchKind::kNextLine: return "next_line";
    case PrefetchKind::kStream: return "stream";
  }
  return "?";
}

// cache.<level>.prefetch: `none` or the one prefetcher `kind` this level has.
void add_prefetch_key(ConfigSchema& s, const std::string& name, CacheGeometry* g, PrefetchKind kind,
                      const std::string& desc) {
  const std::string other = prefetch_name(kind);
  s.add_custom(
      "cache." + name + ".prefetch", "policy", desc,
      [g, kind, other](const std::string& v) {
        if (v == "none") {
          g->prefetch = PrefetchKind::kNone;
        } else if (v == other) {
          g->prefetch = kind;
        } else {
          throw std::invalid_argument("expected none or " + other);
        }
      },
      [g] { return std::string(prefetch_name(g->prefetch)); });
}

// The stream prefetcher's keys (checked whether it is on or not, but the
// bounds that depend on the line size only when it is on).
void check_prefetch(const std::string& name, const CacheGeometry& g) {
  const std::string key = "cache." + name + ".prefetch_";
  if (g.prefetch_streams < 1 || g.prefetch_streams > kMaxStreams) {
    throw InputError(key + "streams: must be 1 to " + std::to_string(kMaxStreams) + ", got " +
                     std::to_string(g.prefetch_streams));
  }
  if (g.prefetch_degree < 1) {
    throw InputError(key + "degree: must be at least 1, got 0");
  }
  if (g.prefetch_distance < 1) {
    throw InputError(key + "distance: must be at least 1, got 0");
  }
  // The page bounds depend on the line size: checked where they apply.
  if (g.prefetch != PrefetchKind::kStream) return;
  const uint32_t page_lines = 4096 / g.line_bytes;
  if (g.prefetch_degree > page_lines) {
    throw InputError(key + "degree: must be 1 to " + std::to_string(page_lines) +
                         " (the lines of a 4 KiB page), got " + std::to_string(g.prefetch_degree),
                     {key + "degree", "cache.line_size"});
  }
  if (g.prefetch_distance > page_lines) {
    throw InputError(key + "distance: must be 1 to " + std::to_string(page_lines) +
                         " (the lines of a 4 KiB page), got " + std::to_string(g.prefetch_distance),
                     {key + "distance", "cache.line_size"});
  }
}

void check_level(const std::string& name, const CacheGeometry& g) {
  const std::string key = "cache." + name;
  // The L1D's miss registers are also the CPU's fill buffers, which bound the
  // kernel's line loops with or without caches (models/os/line_issue.h).
  if (name == "l1d") check_mshrs(key, g);
  if (g.size_bytes == 0) return;
  if (g.size_bytes > kMaxSize) {
    throw InputError(key + ".size: must be at most " + std::to_string(kMaxSize) + " bytes, got " +
                     std::to_string(g.size_bytes));
  }
  if (g.ways < 1 || g.ways > Cache::kMaxWays) {
    throw InputError(key + ".ways: must be 1 to " + std::to_string(Cache::kMaxWays) + ", got " +
                     std::to_string(g.ways));
  }
  const uint64_t set_bytes = uint64_t{g.ways} * g.line_bytes;
  if (g.size_bytes % set_bytes != 0 || !is_pow2(g.size_bytes / set_bytes)) {
    throw InputError(key + ".size: " + std::to_string(g.size_bytes) + " bytes over " +
                         std::to_string(g.ways) + " ways of " + std::to_string(g.line_bytes) +
                         "-byte lines must give a power-of-two number of sets",
                     {key + ".size", key + ".ways", "cache.line_size"});
  }
  if (g.latency.count() > kMaxLatency) {
    throw InputError(key + ".latency: must be at most " + std::to_string(kMaxLatency) +
                     " cycles (the bound that keeps 64-bit cycle counts from overflowing), got " +
                     std::to_string(g.latency.count()));
  }
  check_mshrs(key, g);
}

}  // namespace

void add_keys(ConfigSchema& s, CacheConfig& c, std::string& entry) {
  s.add_bool(
      "cache.enabled", &c.enabled,
      "caches on the memory path (false: every walk, kernel and DMA reference goes to DRAM)");
  s.add_bool("cache.data", &c.data,
             "the trace's data accesses go through the L1D and its fetches through the L1I, "
             "competing with page-table lines for the caches and DRAM; an access retires when "
             "its data is there (only with cache.enabled)");
  s.add_u32("cache.line_size", &c.line_bytes, "bytes", "cache line size of every level");
  add_level_keys(s, "l1d", &c.l1d, "first-level data cache (per CPU)");
  add_prefetch_key(s, "l1d", &c.l1d, PrefetchKind::kNextLine,
                   "first-level data cache prefetcher: none, or next_line (a demand miss of a "
                   "line fetches the next line of its 4 KiB page)");
  add_level_keys(s, "l1i", &c.l1i, "first-level instruction cache (per CPU)");
  add_prefetch_key(
      s, "l1i", &c.l1i, PrefetchKind::kNextLine,
      "first-level instruction cache prefetcher (with cache.data): none, or "
      "next_line (a fetch that misses a line fetches the next line of its 4 KiB page)");
  add_level_keys(s, "l2", &c.l2, "second-level cache (per CPU)");
  add_prefetch_key(s, "l2", &c.l2, PrefetchKind::kStream,
                   "second-level cache prefetcher: none, or stream (ascending and descending "
                   "streams per 4 KiB page, prefetched ahead within the page)");
  s.add_u32("cache.l2.prefetch_streams", &c.l2.prefetch_streams, "streams",
            "stream prefetcher: 4 KiB pages tracked at once (1 to 64)");
  s.add_u32("cache.l2.prefetch_degree", &c.l2.prefetch_degree, "lines",
            "stream prefetcher: lines prefetched per lookup of a stream (1 to the lines of a 4 "
            "KiB page)");
  s.add_u32("cache.l2.prefetch_distance", &c.l2.prefetch_distance, "lines",
            "stream prefetcher: how far ahead of the lookup it prefetches (1 to the lines of a "
            "4 KiB page)");
  add_level_keys(s, "llc", &c.llc, "last-level cache (shared by the CPUs)");
  s.add_string("cache.walker_entry", &entry,
               "the level page-walk references enter: l1d, l2 or llc");
  s.add_cycles("cache.miss_path", &c.miss_path,
               "on-chip cycles between a last-level miss and the memory controller, round trip");
  s.add_bool("cache.dma_allocate", &c.dma_allocate,
             "DMA writes are installed in the LLC (DDIO-like) instead of invalidating the line "
             "and writing DRAM");
  s.add_bool("cache.coherence", &c.coherence,
             "with several CPUs, keep their private caches coherent with each other (a directory "
             "at the LLC: upgrades, invalidations, downgrades); needs an LLC of nonzero size");
  s.add_u64("cache.snoop_period", &c.snoop_period, "cycles",
            "with that coherence: an invalidation or downgrade caused by another agent's request "
            "arriving at cycle T reaches a CPU's private caches at the next multiple of this "
            "period above T (and the CPUs synchronize there)",
            1, uint64_t{1} << 32);
  s.add_u64("cache.snoop_filter_entries", &c.snoop_filter_entries, "entries",
            "with that coherence: the LLC's snoop filter (16 ways, LRU; 0 = twice the lines of "
            "every CPU's private caches); a line tracked in a full set evicts another, whose "
            "private copies are invalidated",
            0, uint64_t{1} << 24);
}

uint64_t snoop_filter_entries(const CacheConfig& c, uint32_t cpus) {
  if (c.snoop_filter_entries != 0) return c.snoop_filter_entries;
  // (The L1I is built with cache.data only.)
  const uint64_t bytes = c.l1d.size_bytes + (c.data ? c.l1i.size_bytes : 0) + c.l2.size_bytes;
  const uint64_t lines = bytes / c.line_bytes;
  return std::max<uint64_t>(2 * lines * cpus, 16);
}

void resolve_cache_config(CacheConfig& c, const std::string& entry) {
  if (entry == "l1d") {
    c.walker_entry = CacheEntry::kL1d;
  } else if (entry == "l2") {
    c.walker_entry = CacheEntry::kL2;
  } else if (entry == "llc") {
    c.walker_entry = CacheEntry::kLlc;
  } else {
    throw InputError("cache.walker_entry: unknown level '" + entry + "' (expected l1d, l2 or llc)");
  }
  if (!is_pow2(c.line_bytes) || c.line_bytes < 16 || c.line_bytes > 4096) {
    throw InputError("cache.line_size: must be a power of two from 16 to 4096, got " +
                     std::to_string(c.line_bytes));
  }
  if (c.miss_path.count() > kMaxLatency) {
    throw InputError("cache.miss_path: must be at most " + std::to_string(kMaxLatency) +
                     " cycles (the bound that keeps 64-bit cycle counts from overflowing), got " +
                     std::to_string(c.miss_path.count()));
  }
  for (CacheGeometry* g : {&c.l1d, &c.l1i, &c.l2, &c.llc}) g->line_bytes = c.line_bytes;
  check_level("l1d", c.l1d);
  check_level("l1i", c.l1i);
  check_level("l2", c.l2);
  check_level("llc", c.llc);
  check_prefetch("l2", c.l2);
  if (!c.enabled) {
    c.data = false;  // no caches: nothing for the data side to go through
    return;
  }
  if (c.data && c.l1d.size_bytes == 0) {
    throw InputError(
        "cache.data: the trace's data accesses go through the l1d, which is absent (cache.l1d.size "
        "= 0; expected a size, or cache.data = false)",
        {"cache.data", "cache.l1d.size"});
  }
  if (c.data && c.l1i.size_bytes == 0) {
    throw InputError(
        "cache.data: the trace's fetches go through the l1i, which is absent (cache.l1i.size = 0; "
        "expected a size, or cache.data = false)",
        {"cache.data", "cache.l1i.size"});
  }
  const CacheGeometry* entry_level = c.walker_entry == CacheEntry::kL1d  ? &c.l1d
                                     : c.walker_entry == CacheEntry::kL2 ? &c.l2
                                                                         : &c.llc;
  if (entry_level->size_bytes == 0) {
    throw InputError(
        "cache.walker_entry: the " + entry + " level is absent (cache." + entry + ".size = 0)",
        {"cache.walker_entry", "cache." + entry + ".size"});
  }
}

}  // namespace mmusim
