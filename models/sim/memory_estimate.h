// Host memory the model will allocate for a configuration, estimated before
// anything is built: per-structure bytes times counts (the TLB arrays, MSHRs
// and paging-structure caches of every CPU, the cache levels' tag arrays,
// the DRAM's bank state, the swap map). Structures that grow with the pages a trace touches (page
// tables, frame metadata, the page cache) are not counted. main() refuses a configuration whose
// estimate exceeds the machine's physical memory or
// --max-memory, naming the keys of the largest parts (README, "Configuration
// bounds").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/sim/sim_config.h"

namespace mmusim {

// Bytes per entry, as the structures store them (an upper bound: a TLB way
// is its tag slot, its translation and an LRU stamp; sets of 2 to 16 ways
// share an 8-byte packed LRU order instead of the stamps, and every set a
// 4-byte valid count).
constexpr uint64_t kTlbEntryBytes = 48;
constexpr uint64_t kPwcEntryBytes = 32;
constexpr uint64_t kMshrEntryBytes = 64;
constexpr uint64_t kDramBankBytes = 32;
constexpr uint64_t kCacheLineBytes = 10;  // a cache line's tag, dirty and order bytes
// The program, SystemC and the trace buffers, whatever the configuration.
constexpr uint64_t kBaseBytes = uint64_t{32} << 20;

struct MemoryPart {
  std::string keys;  // the keys that size it, e.g. "sim.cpus x tlb.l2.entries"
  std::string how;   // "256 CPUs x 16777216 entries x 48 B"
  uint64_t bytes = 0;
};

struct MemoryEstimate {
  uint64_t total = 0;
  std::vector<MemoryPart> parts;  // largest first
};

// The estimate for a finalized configuration.
MemoryEstimate estimate_memory(const SimConfig& c);

// The machine's physical memory (sysconf), 0 if unknown.
uint64_t physical_memory_bytes();

// Parses --max-memory's BYTES: a decimal number with an optional K, M, G or T
// suffix (binary multiples); throws InputError naming --max-memory.
uint64_t parse_max_memory(const std::string& text);

// Throws InputError when e.total exceeds `limit` (0 = no limit): the
// estimate, the limit and where it comes from (`limit_source`), and the
// three largest parts with their keys.
void check_memory(const MemoryEstimate& e, uint64_t limit, const std::string& limit_source);

}  // namespace mmusim
