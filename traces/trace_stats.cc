#include "traces/trace_stats.h"

#include <algorithm>
#include <vector>

namespace mmusim {
namespace {

// Open-addressing hash map uint64 -> uint64 (linear probing, power-of-two
// capacity, load <= 1/2). Keys are page numbers, so ~0 is free as "empty".
class PageMap {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  PageMap() : keys_(1024, kEmpty), values_(1024) {}

  // Returns the value slot of `key`, inserting `fresh` when absent.
  uint64_t& find_or_insert(uint64_t key, uint64_t fresh, bool* inserted) {
    size_t i = slot(key);
    if (keys_[i] == key) {
      *inserted = false;
      return values_[i];
    }
    if (2 * (size_ + 1) > keys_.size()) {
      grow();
      i = slot(key);
    }
    keys_[i] = key;
    values_[i] = fresh;
    ++size_;
    *inserted = true;
    return values_[i];
  }
  [[nodiscard]] size_t size() const { return size_; }
  uint64_t* find(uint64_t key) {
    size_t i = slot(key);
    return keys_[i] == key ? &values_[i] : nullptr;
  }

 private:
  [[nodiscard]] size_t slot(uint64_t key) const {
    const size_t mask = keys_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
    while (keys_[i] != key && keys_[i] != kEmpty) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<uint64_t> k(keys_.size() * 2, kEmpty), v(keys_.size() * 2);
    keys_.swap(k);
    values_.swap(v);
    for (size_t j = 0; j < k.size(); ++j) {
      if (k[j] != kEmpty) {
        size_t i = slot(k[j]);
        keys_[i] = k[j];
        values_[i] = v[j];
      }
    }
  }
  std::vector<uint64_t> keys_, values_;
  size_t size_ = 0;
};

}  // namespace

struct TraceStatsCollector::Impl {
  static constexpr uint64_t kUnmarked = ~uint64_t{0};

  TraceStats s;
  PageMap last;  // 4K page -> time stamp of its last touch
  PageMap pages_2m, pages_1g;
  // Fenwick tree over time stamps [0, cap): 1 where a page's last touch is.
  std::vector<uint32_t> tree;
  std::vector<uint64_t> page_at;  // time stamp -> page, or kUnmarked
  uint64_t now = 0;

  Impl() : tree(size_t{1} << 16), page_at(tree.size(), kUnmarked) {}

  void fenwick_add(uint64_t i, int32_t d) {
    for (size_t x = i + 1; x <= tree.size(); x += x & (~x + 1)) tree[x - 1] += d;
  }
  // Marks at time stamps [0, i].
  uint64_t fenwick_prefix(uint64_t i) const {
    uint64_t sum = 0;
    for (size_t x = i + 1; x > 0; x -= x & (~x + 1)) sum += tree[x - 1];
    return sum;
  }
  // Renumbers the live time stamps 0..live-1 in order; grows when half full.
  void compact() {
    size_t cap = tree.size();
    while (2 * last.size() > cap) cap *= 2;
    std::vector<uint64_t> pages(cap, kUnmarked);
    uint64_t t = 0;
    for (uint64_t p : page_at) {
      if (p == kUnmarked) continue;
      pages[t] = p;
      *last.find(p) = t;
      ++t;
    }
    now = t;
    page_at.swap(pages);
    tree.assign(cap, 0);
    for (size_t i = 0; i < cap; ++i) {  // linear-time Fenwick build
      if (page_at[i] != kUnmarked) tree[i] += 1;
      size_t parent = i | (i + 1);
      if (parent < cap) tree[parent] += tree[i];
    }
  }

  void add(const TraceRecord& r) {
    if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) {
      ++s.records;
      ++s.event_records;
      ++s.by_cpu[r.cpu];
      return;
    }
    if (trace_flags::op_of(r.flags) != trace_flags::kOpAccess) {
      ++s.records;  // LOAD, GDT, LDT, INVLPG, INVPCID, FLUSH: no address to count
      ++s.control_records;
      ++s.by_cpu[r.cpu];
      return;
    }
    const bool first = s.records == s.control_records + s.event_records;
    if (first || r.addr < s.min_addr) s.min_addr = r.addr;
    if (first || r.addr > s.max_addr) s.max_addr = r.addr;
    ++s.records;
    ++s.by_kind[static_cast<size_t>(r.kind) % kNumAccessKinds];
    ++s.by_cpu[r.cpu];
    bool inserted;
    pages_2m.find_or_insert(r.addr >> 21, 0, &inserted);
    pages_1g.find_or_insert(r.addr >> 30, 0, &inserted);

    if (now == tree.size()) compact();
    uint64_t page = r.addr >> 12;
    uint64_t& when = last.find_or_insert(page, now, &inserted);
    if (inserted) {
      ++s.cold;
    } else {
      uint64_t prev = when;
      // Distinct pages touched after prev: marks in (prev, now).
      s.reuse.add(fenwick_prefix(now - 1) - fenwick_prefix(prev));
      fenwick_add(prev, -1);
      page_at[prev] = kUnmarked;
      when = now;
    }
    fenwick_add(now, 1);
    page_at[now] = page;
    ++now;
  }
};

TraceStatsCollector::TraceStatsCollector() : impl_(std::make_unique<Impl>()) {}
TraceStatsCollector::~TraceStatsCollector() = default;

void TraceStatsCollector::add(const TraceRecord* records, size_t n) {
  for (size_t i = 0; i < n; ++i) impl_->add(records[i]);
}

void TraceStatsCollector::add(const TraceRecord* records, size_t n,
                              const std::vector<OsEvent>& events) {
  add(records, n);
  for (const OsEvent& e : events) ++impl_->s.events_by_kind[e.body.index()];
}

TraceStats TraceStatsCollector::stats() const {
  TraceStats s = impl_->s;
  s.pages_4k = impl_->last.size();
  s.pages_2m = impl_->pages_2m.size();
  s.pages_1g = impl_->pages_1g.size();
  return s;
}

TraceStats compute_trace_stats(TraceReader& reader, uint64_t limit) {
  TraceStatsCollector c;
  std::vector<TraceRecord> batch(4096);
  std::vector<OsEvent> events;
  uint64_t total = 0;
  for (;;) {
    size_t want = batch.size();
    if (limit != 0) want = static_cast<size_t>(std::min<uint64_t>(want, limit - total));
    if (want == 0) break;
    size_t n = reader.read(batch.data(), want);
    if (n == 0) break;
    events.clear();
    reader.take_events(events);
    c.add(batch.data(), n, events);
    total += n;
  }
  return c.stats();
}

}  // namespace mmusim
