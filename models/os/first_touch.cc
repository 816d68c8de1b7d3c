#include "models/os/first_touch.h"

namespace mmusim {

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
  v.counter("kernel.faults", "faults", "page faults delivered to the OS model", stats_.faults);
  for (int s = 0; s < kNumPageSizes; ++s) {
    if (stats_.mapped_pages[s] == 0 && s != 0) continue;
    v.counter("kernel.mapped." + std::string(page_size_name(static_cast<PageSize>(s))), "pages",
              "pages mapped on first touch at this size", stats_.mapped_pages[s]);
  }
  v.counter("kernel.skipped", "accesses", "faults the OS could not resolve (access skipped)",
            stats_.skipped);
  v.counter("kernel.fault_cycles", "cycles", "cycles spent in the fault handler",
            stats_.fault_cycles);
  v.counter("kernel.page_table_frames", "frames", "frames allocated for page tables",
            table_.table_frames());
  v.histogram("kernel.fault_cost", "cycles", "cost of each handled page fault", stats_.cost);
}

}  // namespace mmusim
