#include "models/os/first_touch.h"

#include <cstdlib>

#include "models/common/error.h"

namespace mmusim {
namespace {

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, 0);
  return errno == 0 && end && *end == '\0';
}

}  // namespace

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
    std::string sz = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (dash == std::string::npos || colon == std::string::npos || colon < dash ||
        !parse_u64(item.substr(0, dash), r.start) ||
        !parse_u64(item.substr(dash + 1, colon - dash - 1), r.end)) {
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

FirstTouchMapper::FirstTouchMapper(const FirstTouchConfig& cfg, PhysMem& mem)
    : cfg_(cfg),
      frames_(cfg.phys_bytes, cfg.reserved_low, cfg.seed, cfg.placement),
      table_(cfg.mode, mem, frames_) {}

PageSize FirstTouchMapper::size_for(LinearAddr a) const {
  for (const HugeRegion& r : cfg_.regions) {
    if (a.value() >= r.start && a.value() < r.end) return r.size;
  }
  return PageSize::k4K;
}

FaultOutcome FirstTouchMapper::handle(const FaultInfo& f) {
  FaultOutcome out;
  out.resume = f.raised;
  ++stats_.faults;
  if (f.fault != FaultKind::kNotPresent) {
    ++stats_.skipped;
    out.action = FaultOutcome::Action::kSkip;
    out.cls = FaultClass::kSegv;
    return out;
  }
  PageSize s = size_for(f.addr);
  auto pfn = frames_.allocate(s);
  if (!pfn) {
    out.action = FaultOutcome::Action::kStop;
    out.message = "physical memory exhausted: no free " + std::string(page_size_name(s)) +
                  " frame (os.phys_mem = " + std::to_string(cfg_.phys_bytes) + " bytes)";
    return out;
  }
  const MapResult mapped = table_.map(f.addr, *pfn, s, pte::kRW | pte::kUS);
  switch (mapped) {
    case MapResult::kOk: break;
    case MapResult::kAlreadyMapped:
      // Mapped since the walk saw it absent (another CPU's fault): nothing
      // to add, replay.
      frames_.free(*pfn, s);
      out.cls = FaultClass::kSpurious;
      out.resume = f.raised + cfg_.minor_fault_cost;
      out.timing.add(FaultTiming::kAlloc, cfg_.minor_fault_cost);
      stats_.fault_cycles += cfg_.minor_fault_cost.count();
      stats_.cost.add(cfg_.minor_fault_cost.count());
      return out;
    case MapResult::kSizeConflict:
      frames_.free(*pfn, s);
      out.action = FaultOutcome::Action::kStop;
      out.message = "page-size conflict while mapping the page at linear address " +
                    std::to_string(f.addr.value());
      return out;
    default:
      frames_.free(*pfn, s);
      out.action = FaultOutcome::Action::kStop;
      out.message = "cannot map the page at linear address " + std::to_string(f.addr.value()) +
                    ": " + std::string(map_result_name(mapped)) +
                    " (os.phys_mem = " + std::to_string(cfg_.phys_bytes) + " bytes)";
      return out;
  }
  PageFrame& meta = frames_.meta(*pfn);  // anonymous memory, mapped once
  meta.mapcount = 1;
  meta.set(FrameFlag::kAnon);
  meta.set(FrameFlag::kSwapBacked);
  ++stats_.mapped_pages[static_cast<int>(s)];
  // The fixed cost covers the whole handler (entry, allocation, PTE, exit).
  out.resume = f.raised + cfg_.minor_fault_cost;
  out.timing.add(FaultTiming::kAlloc, cfg_.minor_fault_cost);
  stats_.fault_cycles += cfg_.minor_fault_cost.count();
  stats_.cost.add(cfg_.minor_fault_cost.count());
  return out;
}

void FirstTouchMapper::visit(StatVisitor& v) const {
  v.counter("os.faults", "faults", "page faults delivered to the OS model", stats_.faults);
  for (int s = 0; s < kNumPageSizes; ++s) {
    if (stats_.mapped_pages[s] == 0 && s != 0) continue;
    v.counter("os.mapped." + std::string(page_size_name(static_cast<PageSize>(s))), "pages",
              "pages mapped on first touch at this size", stats_.mapped_pages[s]);
  }
  v.counter("os.skipped", "accesses", "faults the OS could not resolve (access skipped)",
            stats_.skipped);
  v.counter("os.fault_cycles", "cycles", "cycles spent in the fault handler", stats_.fault_cycles);
  v.counter("os.page_table_frames", "frames", "frames allocated for page tables",
            table_.table_frames());
  v.histogram("os.fault_cost", "cycles", "cost of each handled page fault", stats_.cost);
}

}  // namespace mmusim
