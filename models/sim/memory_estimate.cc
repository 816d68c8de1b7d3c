#include "models/sim/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "models/cache/snoop_filter.h"
#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {
namespace {

// "1.5 GiB", "512 KiB", "100 B".
std::string human(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char b[32];
  std::snprintf(b, sizeof b, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return b;
}

// a x b, saturating at 2^64 - 1 (an absurd configuration still compares).
uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

MemoryEstimate estimate_memory(const SimConfig& c) {
  MemoryEstimate e;
  const uint64_t cpus = c.sim.cpus;
  const std::string per_cpu = std::to_string(cpus) + " CPU(s) x ";
  auto tlb = [&](const TlbArrayConfig& a, const std::string& key) {
    if (a.entries == 0) return;
    e.parts.push_back({"sim.cpus x " + key + ".entries",
                       per_cpu + std::to_string(a.entries) + " entries x " +
                           std::to_string(kTlbEntryBytes) + " B",
                       mul(mul(cpus, a.entries), kTlbEntryBytes)});
  };
  static const char* const kSlots[] = {"4K", "2M", "1G"};
  for (int i = 0; i < kL1Slots; ++i) {
    tlb(c.tlb.l1i[static_cast<size_t>(i)], std::string("tlb.l1i.") + kSlots[i]);
    tlb(c.tlb.l1d[static_cast<size_t>(i)], std::string("tlb.l1d.") + kSlots[i]);
  }
  tlb(c.tlb.l2, "tlb.l2");
  tlb(c.tlb.l2_1g, "tlb.l2_1g");
  e.parts.push_back({"sim.cpus x tlb.mshr.entries",
                     per_cpu + std::to_string(c.tlb.mshr_entries) + " entries x " +
                         std::to_string(kMshrEntryBytes) + " B",
                     mul(mul(cpus, c.tlb.mshr_entries), kMshrEntryBytes)});
  for (const auto& [name, p] : {std::pair{"pml5", &c.pwc.pml5}, std::pair{"pml4", &c.pwc.pml4},
                                std::pair{"pdpt", &c.pwc.pdpt}, std::pair{"pd", &c.pwc.pd}}) {
    if (p->entries == 0) continue;
    e.parts.push_back({"sim.cpus x walker.pwc." + std::string(name) + ".entries",
                       per_cpu + std::to_string(p->entries) + " entries x " +
                           std::to_string(kPwcEntryBytes) + " B",
                       mul(mul(cpus, p->entries), kPwcEntryBytes)});
  }
  if (c.cache.enabled) {  // per line: its tag, dirty byte and order byte
    auto cache = [&](const CacheGeometry& g, const std::string& key, uint64_t copies) {
      if (g.size_bytes == 0) return;
      const uint64_t lines = g.size_bytes / g.line_bytes;
      const bool shared = key == "cache.llc";
      e.parts.push_back({(shared ? std::string() : "sim.cpus x ") + key + ".size",
                         (shared ? std::string() : per_cpu) + std::to_string(lines) + " lines x " +
                             std::to_string(kCacheLineBytes) + " B",
                         mul(mul(copies, lines), kCacheLineBytes)});
    };
    cache(c.cache.l1d, "cache.l1d", cpus);
    if (c.cache.data) cache(c.cache.l1i, "cache.l1i", cpus);
    cache(c.cache.l2, "cache.l2", cpus);
    cache(c.cache.llc, "cache.llc", 1);
    if (c.cache.coherence && cpus > 1 && c.cache.llc.size_bytes != 0) {
      const uint64_t n = SnoopFilter::capacity_for(snoop_filter_entries(c.cache, c.sim.cpus));
      e.parts.push_back(
          {"cache.snoop_filter_entries",
           std::to_string(n) + " entries x " + std::to_string(sizeof(SnoopFilter::Entry)) + " B",
           mul(n, sizeof(SnoopFilter::Entry))});
    }
  }
  const DramConfig& d = c.dram;
  const uint64_t banks =
      mul(mul(mul(d.channels, d.ranks), d.bank_groups), uint64_t{d.banks_per_group});
  e.parts.push_back({"dram.channels x dram.ranks x dram.bank_groups x dram.banks_per_group",
                     std::to_string(banks) + " banks x " + std::to_string(kDramBankBytes) + " B",
                     mul(banks, kDramBankBytes)});
  // The swap map: 20 bytes per 256-slot cluster (models/os/swap_area.h).
  const uint64_t swap = c.linux_os.pressure.swap_size;
  if (swap != 0) {
    const uint64_t clusters = swap / (uint64_t{4096} * 256) + 1;
    e.parts.push_back(
        {"os.linux.swap_size", std::to_string(clusters) + " clusters x 20 B", mul(clusters, 20)});
  }
  e.parts.push_back({"(program, SystemC, trace buffers)", "fixed", kBaseBytes});
  std::stable_sort(e.parts.begin(), e.parts.end(),
                   [](const MemoryPart& a, const MemoryPart& b) { return a.bytes > b.bytes; });
  for (const MemoryPart& p : e.parts) e.total = add(e.total, p.bytes);
  return e;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return mul(static_cast<uint64_t>(pages), static_cast<uint64_t>(page));
}

uint64_t parse_max_memory(const std::string& text) {
  uint64_t mult = 1;
  std::string digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K': mult = uint64_t{1} << 10; break;
      case 'M': mult = uint64_t{1} << 20; break;
      case 'G': mult = uint64_t{1} << 30; break;
      case 'T': mult = uint64_t{1} << 40; break;
      default: break;
    }
    if (mult != 1) digits.pop_back();
  }
  const auto v = to_u64(digits, IntSyntax::kDecimal);
  uint64_t bytes = 0;
  if (!v || *v == 0 || __builtin_mul_overflow(*v, mult, &bytes)) {
    throw InputError(
        "--max-memory: expected a positive number of bytes with an optional K, M, G "
        "or T suffix (e.g. 8G), got '" +
        text + "'");
  }
  return bytes;
}

void check_memory(const MemoryEstimate& e, uint64_t limit, const std::string& limit_source) {
  if (limit == 0 || e.total <= limit) return;
  std::string parts;
  for (size_t i = 0; i < e.parts.size() && i < 3; ++i) {
    parts += (i ? "; " : "") + e.parts[i].keys + ": " + human(e.parts[i].bytes) + " (" +
             e.parts[i].how + ")";
  }
  throw InputError("the configuration needs an estimated " + human(e.total) +
                   " of host memory, more than " + limit_source + " (" + human(limit) +
                   "); the largest parts: " + parts);
}

}  // namespace mmusim
