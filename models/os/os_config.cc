#include "models/os/os_config.h"

#include <stdexcept>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {

void add_keys(ConfigSchema& s, FirstTouchConfig& c, std::string& huge_regions) {
  s.add_size("os.phys_mem", &c.phys_bytes, "simulated physical memory (K/M/G suffixes)");
  s.add_size("os.reserved_low", &c.reserved_low, "physical memory at address 0 never allocated");
  s.add_custom(
      "os.frame_placement", "policy",
      "where free frames are taken from: spread (seeded random blocks over all of memory, like a "
      "long-running system) or sequential (lowest address first, like a fresh boot)",
      [&c](const std::string& v) {
        const auto p = parse_frame_placement(v);
        if (!p) throw std::invalid_argument("expected spread or sequential");
        c.placement = *p;
      },
      [&c] { return std::string(frame_placement_name(c.placement)); });
  s.add_cycles("os.minor_fault_cost", &c.minor_fault_cost,
               "cost of a first-touch (minor) page fault, delivery to return");
  s.add_string("os.huge_regions", &huge_regions,
               "linear regions mapped with large pages: START-END:SIZE[,...] (SIZE 2M, 4M or 1G)");
}

void add_keys(ConfigSchema& s, KernelModuleConfig& c) {
  s.add_custom(
      "os.model", "model",
      "the kernel model: first_touch (a page is mapped on its first touch at "
      "os.minor_fault_cost, one address space, no backing store)",
      [&c](const std::string& v) {
        if (v != "first_touch") throw std::invalid_argument("expected first_touch");
        c.model = OsModel::kFirstTouch;
      },
      [] { return std::string("first_touch"); });
  s.add_cycles("os.shootdown_cost", &c.shootdown_cost,
               "cycles the kernel spends on a TLB shootdown (IPIs and acks) when other CPUs run "
               "the process");
}

std::vector<HugeRegion> parse_huge_regions(const std::string& key, const std::string& text,
                                           PagingMode mode) {
  std::vector<HugeRegion> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    size_t dash = item.find('-'), colon = item.find(':');
    HugeRegion r;
    // START and END: decimal or 0x-hex (models/common/parse.h).
    auto bound = [&item](size_t from, size_t n, uint64_t& out) {
      auto v = to_u64(std::string_view(item).substr(from, n), IntSyntax::kDecimalOrHex);
      if (v) out = *v;
      return v.has_value();
    };
    std::string sz = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (dash == std::string::npos || colon == std::string::npos || colon < dash ||
        !bound(0, dash, r.start) || !bound(dash + 1, colon - dash - 1, r.end)) {
      throw InputError(key + ": expected START-END:SIZE (e.g. 0x40000000-0x80000000:2M), got '" +
                       item + "'");
    }
    if (sz == "2M") {
      r.size = PageSize::k2M;
    } else if (sz == "1G") {
      r.size = PageSize::k1G;
    } else if (sz == "4M") {
      r.size = PageSize::k4M;
    } else {
      throw InputError(key + ": page size must be 2M, 4M or 1G, got '" + sz + "'");
    }
    if (!mode_supports(mode, r.size)) {
      throw InputError(key + ": paging mode '" + std::string(paging_mode_info(mode).name) +
                       "' cannot map " + std::string(page_size_name(r.size)) + " pages");
    }
    uint64_t mask = page_bytes(r.size) - 1;
    if ((r.start & mask) || (r.end & mask) || r.end <= r.start) {
      throw InputError(key + ": region '" + item + "' must be non-empty and aligned to " +
                       std::string(page_size_name(r.size)));
    }
    out.push_back(r);
  }
  return out;
}

void validate_os_config(const FirstTouchConfig& c) {
  if (c.phys_bytes == 0 || c.phys_bytes % 4096 != 0) {
    throw InputError("os.phys_mem: must be a non-zero multiple of 4K, got " +
                     std::to_string(c.phys_bytes));
  }
  if (c.reserved_low >= c.phys_bytes) {
    throw InputError("os.reserved_low: must be below os.phys_mem");
  }
}

}  // namespace mmusim
