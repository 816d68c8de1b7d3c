#include "models/walker/walker_config.h"

#include <string_view>
#include <utility>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {
namespace {

// Bounds (README, "Configuration bounds"): per-access latencies at most 2^12
// cycles, so that 2^40 accesses cannot overflow the 64-bit cycle counts; a
// paging-structure cache at most 2^16 entries (32 bytes each: 2 MiB per
// level and CPU; real ones hold 2 to 32).
constexpr uint64_t kMaxLatency = uint64_t{1} << 12;
constexpr uint32_t kMaxPwcEntries = uint32_t{1} << 16;

void check_latency(const std::string& key, Cycles v) {
  if (v.count() > kMaxLatency) {
    throw InputError(key + ": must be at most " + std::to_string(kMaxLatency) +
                     " cycles (the bound that keeps 64-bit cycle counts from overflowing), got " +
                     std::to_string(v.count()));
  }
}

void add_pwc_keys(ConfigSchema& s, const std::string& name, PwcConfig* p, const std::string& what) {
  std::string key = "walker.pwc." + name;
  s.add_u32(key + ".entries", &p->entries, "entries",
            "paging-structure cache for " + what + " entries (0 disables it)");
  s.add_u32(key + ".ways", &p->ways, "ways", "associativity of that cache", 1);
  s.add_cycles(key + ".latency", &p->latency, "lookup latency of that cache");
}

}  // namespace

void add_keys(ConfigSchema& s, WalkerConfig& c, std::string& mode, PwcParams& pwc) {
  s.add_string("walker.mode", &mode, "paging mode: 4level, 5level (LA57), pae, 32bit or off");
  s.add_unsigned("walker.maxphyaddr", &c.maxphyaddr, "bits", "physical-address width (MAXPHYADDR)",
                 32, 52);
  s.add_unsigned("walker.max_walks", &c.max_walks, "walks", "page walks in flight at once per CPU",
                 1, 64);
  s.add_cycles("walker.overhead", &c.overhead, "fixed cycles per walk (start and fill)");
  s.add_bool("walker.write_protect", &c.write_protect,
             "CR0.WP: supervisor writes honour read-only pages");
  add_pwc_keys(s, "pml5", &pwc.pml5, "PML5");
  add_pwc_keys(s, "pml4", &pwc.pml4, "PML4");
  add_pwc_keys(s, "pdpt", &pwc.pdpt, "PDPT");
  add_pwc_keys(s, "pd", &pwc.pd, "page-directory");
}

void resolve_walker_config(WalkerConfig& c, const std::string& mode, const PwcParams& pwc) {
  auto m = parse_paging_mode(mode);
  if (!m) {
    throw InputError("walker.mode: unknown paging mode '" + mode +
                     "' (expected 4level, 5level, pae, 32bit or off)");
  }
  c.mode = *m;
  // Map the named paging-structure caches onto the mode's levels.
  const PagingModeInfo& info = paging_mode_info(*m);
  c.pwc = {};
  for (unsigned l = 0; l + 1 < info.levels; ++l) {
    std::string_view n = info.level[l].name;
    c.pwc[l] = n == "PML5"   ? pwc.pml5
               : n == "PML4" ? pwc.pml4
               : n == "PDPT" ? pwc.pdpt
               : n == "PD"   ? pwc.pd
                             : PwcConfig{};
  }
  check_latency("walker.overhead", c.overhead);
  for (const auto& [name, p] : {std::pair{"pml5", &pwc.pml5}, std::pair{"pml4", &pwc.pml4},
                                std::pair{"pdpt", &pwc.pdpt}, std::pair{"pd", &pwc.pd}}) {
    const std::string key = std::string("walker.pwc.") + name;
    check_latency(key + ".latency", p->latency);
    if (p->entries > kMaxPwcEntries) {
      throw InputError(key + ".entries: must be at most " + std::to_string(kMaxPwcEntries) +
                       " (a paging-structure cache of real cores holds 2 to 32), got " +
                       std::to_string(p->entries));
    }
    if (p->entries % p->ways != 0) {
      throw InputError(std::string("walker.pwc.") + name +
                       ".entries: must be a multiple of ways (" + std::to_string(p->entries) +
                       " entries, " + std::to_string(p->ways) + " ways)");
    }
  }
}

}  // namespace mmusim
