// Summary statistics of a trace (`mmusim-trace info`): counts by kind and CPU,
// address range, distinct pages, and the LRU stack (reuse) distance of 4 KiB
// pages. Memory grows with the number of distinct pages, not with the trace.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "models/common/os_event.h"
#include "models/common/stats.h"
#include "models/common/types.h"
#include "traces/trace_reader.h"

namespace mmusim {

struct TraceStats {
  uint64_t records = 0;
  std::array<uint64_t, kNumAccessKinds> by_kind{};  // accesses, indexed by AccessKind
  uint64_t control_records = 0;  // LOAD, GDT, LDT, INVLPG, INVPCID, FLUSH (in records, not by kind)
  uint64_t event_records = 0;    // OS events (in records, not by kind)
  std::array<uint64_t, std::variant_size_v<OsEventBody>> events_by_kind{};  // by os_event_name
  std::map<uint16_t, uint64_t> by_cpu;  // by task slot in a task trace
  uint64_t min_addr = 0, max_addr = 0;  // 0 when empty
  // Distinct pages touched, by the page of each record's first byte.
  uint64_t pages_4k = 0, pages_2m = 0, pages_1g = 0;
  [[nodiscard]] uint64_t footprint_bytes() const { return pages_4k * 4096; }
  // Reuse of 4 KiB pages (all CPUs together, in trace order): the LRU stack
  // distance of a re-touch is the number of distinct other pages touched
  // since the page's previous touch (0 = same page as the last distinct
  // page). A fully associative LRU TLB of E entries hits iff distance < E.
  uint64_t cold = 0;  // first touches (= pages_4k)
  Histogram reuse;    // distances of the records - cold re-touches
};

// Feeds records one batch at a time. O(log n) per record: a Fenwick tree over
// access time stamps, compacted when full, plus a hash map page -> last stamp.
class TraceStatsCollector {
 public:
  TraceStatsCollector();
  ~TraceStatsCollector();
  TraceStatsCollector(const TraceStatsCollector&) = delete;
  TraceStatsCollector& operator=(const TraceStatsCollector&) = delete;

  void add(const TraceRecord* records, size_t n);
  // A batch with its events (EVENT records index `events`).
  void add(const TraceRecord* records, size_t n, const std::vector<OsEvent>& events);
  // The statistics so far.
  [[nodiscard]] TraceStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads `reader` to its end (or `limit` records when limit > 0).
TraceStats compute_trace_stats(TraceReader& reader, uint64_t limit = 0);

}  // namespace mmusim
