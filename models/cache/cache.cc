#include "models/cache/cache.h"

#include <algorithm>
#include <cstring>

namespace mmusim {

Cache::Cache(const CacheGeometry& g)
    : g_(g),
      ways_(g.ways),
      line_shift_(static_cast<unsigned>(__builtin_ctzll(g.line_bytes))),
      set_mask_(g.sets() - 1),
      known_(g.mshrs),
      page_shift_(12U - line_shift_) {
  const uint64_t n = g.sets() * ways_;
  if (g.prefetch != PrefetchKind::kNone) proposals_.assign(kMaxProposals, 0);
  if (g.prefetch == PrefetchKind::kStream) {
    streams_.assign(g.prefetch_streams, Stream{});
    stream_pages_.assign(g.prefetch_streams, kInvalid);
  }
  tags_.assign(n, kInvalid);
  dirty_.assign(n, 0);
  fill_.assign(n, Cycle(0));
  order_.resize(n);
  for (uint64_t i = 0; i < n; ++i) order_[i] = static_cast<uint8_t>(i % ways_);
}

CacheCounts Cache::total() const {
  CacheCounts t;
  for (const CacheCounts& c : by_who_) {
    t.accesses += c.accesses;
    t.misses += c.misses;
  }
  t.hits = t.accesses - t.misses;
  return t;
}

uint64_t Cache::find(uint64_t line) const {
  if (line == last_line_) return last_index_;
  const uint64_t base = (line & set_mask_) * ways_;
  for (uint32_t w = 0; w < ways_; ++w) {
    if ((tags_[base + w] & kTagMask) == line) return base + w;
  }
  return kInvalid;
}

uint64_t Cache::replace(uint64_t line, uint64_t base, CacheResult& r) {
  const uint32_t w = order_[base + ways_ - 1];
  const uint64_t idx = base + w;
  // (kInvalid has the mark's bit too.)
  if ((tags_[idx] & kPrefetched) != 0 && tags_[idx] != kInvalid) ++pf_.useless;
  if (tags_[idx] != kInvalid && dirty_[idx] != 0) {
    r.writeback = true;
    r.victim = tags_[idx] & kTagMask;
    ++writebacks_;
  }
  tags_[idx] = line;
  dirty_[idx] = 0;
  fill_[idx] = Cycle(0);
  // The victim was the least recently used: every other way moves down one.
  uint8_t* o = &order_[base];
  std::memmove(o + 1, o, ways_ - 1);
  o[0] = static_cast<uint8_t>(w);
  remember(line, idx);
  return idx;
}

inline CacheResult Cache::fetch(uint64_t line, bool write, Cycle at, uint64_t base) {
  CacheResult r;
  const uint64_t idx = replace(line, base, r);
  dirty_[idx] = static_cast<uint8_t>(write);
  fill_[idx] = kPending;
  const Cycle detected = at + g_.latency;
  r.ready = mshr_wait(detected);
  if (r.ready != detected) ++mshr_full_;
  // The MSHR that frees first is taken now, busy until the fill (filled()):
  // every later request sees it taken, whenever the fill becomes known.
  take_mshr();
  return r;
}

CacheResult Cache::search(uint64_t line, bool write, Cycle at, uint64_t base, CacheCounts& c) {
  // One pass finds the line, prefetched (marked) or not.
  uint64_t* t = &tags_[base];
  uint32_t w = 0;
  while (w < ways_ && (t[w] & kTagMask) != line) ++w;
  if (w == ways_) return miss(line, write, at, base, c);
  const uint64_t idx = base + w;
  if (t[w] == line) {  // (not the most recently used way: access() looked there)
    touch_behind(base, w);
    dirty_[idx] |= static_cast<uint8_t>(write);
    remember(line, idx);
    return hit_result(idx, at);
  }
  return marked_hit(line, write, at, base, w);
}

CacheResult Cache::marked_hit(uint64_t line, bool write, Cycle at, uint64_t base, uint32_t w) {
  const uint64_t idx = base + w;
  const uint64_t tag = tags_[idx];
  touch(base, w);
  dirty_[idx] |= static_cast<uint8_t>(write);
  // A prefetched line's first demand lookup clears its mark (useful, late
  // when its fill is still in flight); a shared line stays shared when read
  // (not remembered: the fast paths must not find it), and a write makes it
  // exclusive, asking for the upgrade.
  const bool shared = (tag & kShared) != 0 && !write;
  tags_[idx] = shared ? line | kShared : line;
  // (The last line looked up must be the most recently used of its set: a
  // shared line is not remembered, so the last line is forgotten.)
  if (shared) {
    last_line_ = kInvalid;
  } else {
    remember(line, idx);
  }
  CacheResult r = hit_result(idx, at);
  if ((tag & kPrefetched) != 0) {
    ++pf_.useful;
    if (r.ready != at + g_.latency) ++pf_.late;
  }
  if ((tag & kShared) != 0 && write) {
    r.hit = false;
    r.upgrade = true;
  }
  return r;
}

CacheResult Cache::miss(uint64_t line, bool write, Cycle at, uint64_t base, CacheCounts& c) {
  ++c.misses;
  const CacheResult r = fetch(line, write, at, base);
  if (g_.prefetch == PrefetchKind::kNextLine &&
      ((line + 1) >> page_shift_) == (line >> page_shift_)) {
    proposals_[0] = line + 1;
    proposed_ = 1;
    proposal_at_ = at + g_.latency;
  }
  return r;
}

void Cache::train(uint64_t line, Cycle at) {
  const uint64_t page = line >> page_shift_;
  ++train_clock_;
  // The stream trained last first (a page's lookups come in runs), else a
  // search of the pages (unique), else the least recently trained (the
  // first of them) is replaced.
  uint32_t i = last_stream_;
  if (stream_pages_[i] != page) {
    const uint32_t n = static_cast<uint32_t>(stream_pages_.size());
    const uint64_t* pages = stream_pages_.data();
    i = 0;
    while (i < n && pages[i] != page) ++i;
    if (i == n) {  // a new page replaces the least recently trained
      i = 0;
      for (uint32_t j = 1; j < n; ++j) {
        if (streams_[j].used < streams_[i].used) i = j;
      }
      last_stream_ = i;
      stream_pages_[i] = page;
      streams_[i] = Stream{line, line, 0, train_clock_};
      return;
    }
    last_stream_ = i;
  }
  Stream* s = &streams_[i];
  s->used = train_clock_;
  const int dir = line > s->last ? 1 : (line < s->last ? -1 : 0);
  if (dir == 0) return;
  s->last = line;
  // A new direction (the first, or a reversal) starts next to the lookup;
  // so does a stream the lookups have overtaken.
  if (dir != s->dir || (dir > 0 ? s->next <= line : s->next >= line)) {
    s->dir = dir;
    s->next = dir > 0 ? line + 1 : line - 1;
  }
  uint32_t n = 0;
  while (n < g_.prefetch_degree) {
    const uint64_t p = s->next;
    if ((p >> page_shift_) != page) break;  // never across the page
    if ((dir > 0 ? p - line : line - p) > g_.prefetch_distance) break;
    proposals_[n++] = p;
    s->next = dir > 0 ? p + 1 : p - 1;
  }
  proposed_ = n;
  proposal_at_ = at + g_.latency;
}

bool Cache::prefetch(uint64_t line, Cycle at, CacheResult& r) {
  if (find(line) != kInvalid) return false;
  if (mshr_wait(at) != at) {  // none known, or none free at `at`
    ++pf_.dropped;
    return false;
  }
  const uint64_t keep_line = last_line_, keep_index = last_index_;
  const uint64_t idx = replace(line, (line & set_mask_) * ways_, r);
  tags_[idx] = line | kPrefetched;
  fill_[idx] = kPending;
  // The demand path's last line stays what it was (the prefetched line is
  // not the last one looked up), unless the prefetch took its way.
  if (keep_index == idx) {
    last_line_ = kInvalid;
  } else {
    remember(keep_line, keep_index);
  }
  take_mshr();
  ++pf_.issued;
  r.ready = at;
  return true;
}

bool Cache::prefetched(uint64_t line) const {
  const uint64_t base = (line & set_mask_) * ways_;
  for (uint32_t w = 0; w < ways_; ++w) {
    if ((tags_[base + w] & ~kShared) == (line | kPrefetched)) return true;
  }
  return false;
}

CacheResult Cache::write_whole(uint64_t line, Cycle at, unsigned who) {
  if (find(line) != kInvalid) return access(line, true, at, who);
  CacheCounts& c = by_who_[who & 7];
  ++c.accesses;
  ++c.misses;
  ++whole_line_allocs_;
  CacheResult r;
  const uint64_t idx = replace(line, (line & set_mask_) * ways_, r);
  dirty_[idx] = 1;
  r.ready = at + g_.latency;
  fill_[idx] = r.ready;
  return r;
}

void Cache::take_mshr() {
  // (Every MSHR waiting already: the callers wait for a fill before a miss,
  // so this does not happen; nothing to take.)
  if (top_taken_) remove_top();
  if (known_ == 0) return;
  top_taken_ = true;
}

void Cache::remove_top() {
  // The heap's last element replaces its top and moves down to its place.
  top_taken_ = false;
  const uint32_t n = --known_;
  if (n != 0) sift_down(busy_[n], n);
}

void Cache::sift_down(Cycle v, uint32_t n) {
  uint32_t i = 0;
  for (;;) {
    const uint32_t l = 2 * i + 1, r = l + 1;
    uint32_t m = i;
    Cycle least = v;
    if (l < n && busy_[l] < least) {
      m = l;
      least = busy_[l];
    }
    if (r < n && busy_[r] < least) m = r;
    if (m == i) break;
    busy_[i] = busy_[m];
    i = m;
  }
  busy_[i] = v;
}

void Cache::filled(uint64_t line, Cycle done) {
  // The line may have left meanwhile (another agent's request while this
  // miss waited below): then only its MSHR is accounted.
  if (const uint64_t i = find(line); i != kInvalid && fill_[i] == kPending) fill_[i] = done;
  // One of the MSHRs taken by misses in flight becomes busy until `done`:
  // it joins the heap at its place (in the taken top's place when there is
  // one: a removal and an insertion in one pass).
  if (top_taken_) {
    top_taken_ = false;
    sift_down(done, known_);
    return;
  }
  if (known_ == g_.mshrs) return;  // (no MSHR waits: see take_mshr())
  uint32_t i = known_++;
  while (i > 0 && done < busy_[(i - 1) / 2]) {
    busy_[i] = busy_[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  busy_[i] = done;
}

CacheResult Cache::install(uint64_t line, bool dirty) {
  const uint64_t base = (line & set_mask_) * ways_;
  CacheResult r;
  for (uint32_t i = 0; i < ways_; ++i) {
    if ((tags_[base + i] & kTagMask) == line) {
      tags_[base + i] = line;  // no longer counted as a prefetch
      r.hit = true;
      touch(base, i);
      dirty_[base + i] |= static_cast<uint8_t>(dirty);
      remember(line, base + i);
      return r;
    }
  }
  const uint64_t idx = replace(line, base, r);
  dirty_[idx] = static_cast<uint8_t>(dirty);
  return r;
}

bool Cache::invalidate(uint64_t line, bool* was_dirty) {
  const uint64_t base = (line & set_mask_) * ways_;
  for (uint32_t w = 0; w < ways_; ++w) {
    const uint64_t idx = base + w;
    if ((tags_[idx] & kTagMask) != line) continue;
    if (was_dirty != nullptr) *was_dirty = dirty_[idx] != 0;
    tags_[idx] = kInvalid;
    dirty_[idx] = 0;
    // The way becomes the least recently used: the next victim.
    uint8_t* o = &order_[base];
    uint32_t p = 0;
    while (o[p] != w) ++p;
    for (; p + 1 < ways_; ++p) o[p] = o[p + 1];
    o[ways_ - 1] = static_cast<uint8_t>(w);
    if (last_line_ == line) last_line_ = kInvalid;
    ++invalidations_;
    return true;
  }
  if (was_dirty != nullptr) *was_dirty = false;
  return false;
}

bool Cache::contains(uint64_t line) const {
  const uint64_t base = (line & set_mask_) * ways_;
  return std::any_of(tags_.begin() + static_cast<std::ptrdiff_t>(base),
                     tags_.begin() + static_cast<std::ptrdiff_t>(base + ways_),
                     [line](uint64_t t) { return (t & kTagMask) == line; });
}

bool Cache::dirty(uint64_t line) const {
  const uint64_t base = (line & set_mask_) * ways_;
  for (uint32_t w = 0; w < ways_; ++w) {
    if ((tags_[base + w] & kTagMask) == line) return dirty_[base + w] != 0;
  }
  return false;
}

bool Cache::set_shared(uint64_t line, bool shared) {
  const uint64_t i = find(line);
  if (i == kInvalid) return false;
  const uint64_t t = tags_[i];
  const uint64_t n = shared ? t | kShared : t & ~kShared;
  tags_[i] = n;
  // The fast paths compare whole tags; the last line looked up is forgotten.
  if (shared && last_line_ == line) last_line_ = kInvalid;
  return n != t;
}

bool Cache::shared(uint64_t line) const {
  const uint64_t i = find(line);
  return i != kInvalid && (tags_[i] & kShared) != 0;
}

std::vector<int64_t> Cache::set_order(uint64_t line) const {
  const uint64_t base = (line & set_mask_) * ways_;
  std::vector<int64_t> out;
  for (uint32_t p = 0; p < ways_; ++p) {
    const uint64_t t = tags_[base + order_[base + p]];
    out.push_back(t == kInvalid ? -1 : static_cast<int64_t>(t & kTagMask));
  }
  return out;
}

}  // namespace mmusim
