// The page walker's configuration and its keys (walker.*, walker.pwc.*):
// paging mode, physical-address width, walks in flight, fixed overhead, CR0.WP
// and the paging-structure caches. Plain data, checked once by
// resolve_walker_config(), then const.
#pragma once

#include <array>
#include <string>

#include "models/arch/paging.h"
#include "models/common/types.h"
#include "models/walker/pwc.h"

namespace mmusim {

class ConfigSchema;

struct WalkerConfig {
  PagingMode mode = PagingMode::k4Level;
  unsigned maxphyaddr = 46;   // physical-address width in bits
  unsigned max_walks = 2;     // concurrent walks in flight
  Cycles overhead{2};         // fixed cycles per walk (start-up and TLB fill)
  bool write_protect = true;  // CR0.WP: supervisor writes honour R/W
  // Paging-structure cache per level, indexed like PagingModeInfo::level.
  // The last level (the PT) is never cached here: its entries go to the TLB.
  std::array<PwcConfig, 5> pwc{};
};

// Paging-structure cache geometry by structure name (walker.pwc.NAME.*);
// mapped onto the levels of the configured paging mode (a mode without the
// structure ignores it).
struct PwcParams {
  PwcConfig pml5{2, 2, Cycles(1)};
  PwcConfig pml4{2, 2, Cycles(1)};
  PwcConfig pdpt{4, 4, Cycles(1)};
  PwcConfig pd{32, 4, Cycles(1)};
};

// Binds walker.* to `c`, `mode` (walker.mode as written: 4level, 5level, pae,
// 32bit or off) and `pwc` (walker.pwc.*); all must outlive the schema.
void add_keys(ConfigSchema& s, WalkerConfig& c, std::string& mode, PwcParams& pwc);

// Sets c.mode from `mode` and c.pwc from `pwc` mapped onto the mode's levels;
// throws InputError naming the key ("walker.mode: unknown paging mode ...",
// "walker.pwc.pd.entries: must be a multiple of ways ...").
void resolve_walker_config(WalkerConfig& c, const std::string& mode, const PwcParams& pwc);

}  // namespace mmusim
