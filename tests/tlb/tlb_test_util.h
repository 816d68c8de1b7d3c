// Helpers shared by the TLB tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/common/stats.h"
#include "models/common/translation.h"
#include "models/common/types.h"
#include "models/tlb/tlb_config.h"

namespace mmusim::tlbtest {

// A translation of the page of `size` numbered `vpn` to frame `pfn`.
inline Translation make_tr(uint64_t vpn, PageSize size = PageSize::k4K, uint16_t asid = 0,
                           bool global = false, uint64_t pfn = 0) {
  Translation t;
  t.vpn = Vpn(vpn);
  t.pfn = Pfn(pfn != 0 ? pfn : (vpn << (page_shift(size) - 12)) + 0x100000);
  t.size = size;
  t.asid = Asid(asid);
  t.perms = static_cast<uint8_t>(kPermWrite | kPermUser | (global ? kPermGlobal : 0));
  return t;
}

// The first byte of page `vpn` of `size`.
inline LinearAddr addr_of(uint64_t vpn, PageSize size = PageSize::k4K, uint64_t offset = 0) {
  return LinearAddr((vpn << page_shift(size)) + offset);
}

inline TlbArrayConfig array_cfg(uint32_t entries, uint32_t ways, ReplPolicy p = ReplPolicy::kLru,
                                uint8_t sizes = kHolds4K, const std::string& name = "t") {
  TlbArrayConfig c;
  c.name = name;
  c.entries = entries;
  c.ways = ways;
  c.latency = Cycles(1);
  c.replacement = p;
  c.sizes = sizes;
  return c;
}

// Records every counter as (name, value) in visit order.
class CollectVisitor : public StatVisitor {
 public:
  void counter(std::string_view name, std::string_view /*unit*/, std::string_view /*desc*/,
               uint64_t value) override {
    values.emplace_back(std::string(name), value);
  }
  void real(std::string_view name, std::string_view, std::string_view, double value) override {
    values.emplace_back(std::string(name), static_cast<uint64_t>(value));
  }
  void histogram(std::string_view name, std::string_view, std::string_view,
                 const Histogram& h) override {
    values.emplace_back(std::string(name), h.count());
  }
  [[nodiscard]] uint64_t get(std::string_view name) const {
    for (const auto& [n, v] : values) {
      if (n == name) return v;
    }
    return UINT64_MAX;
  }
  std::vector<std::pair<std::string, uint64_t>> values;
};

}  // namespace mmusim::tlbtest
