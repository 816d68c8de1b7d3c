// The CPU's tight hit loop (CpuCore::process_hits) and its loop of merges
// into pending walks (CpuCore::process_merges) against process() one record
// at a time: the same issue cycles, the same statistics, the same TLB and
// MSHR counters, whatever the mix of pages, kinds, page crossings, clean-page
// writes (re-walks) and misses, and wherever the caller's stop rule ends a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "models/common/phys_mem.h"
#include "models/common/random.h"
#include "models/cpu/cpu_core.h"
#include "models/os/first_touch.h"
#include "tests/common/cpu_fakes.h"

namespace mmusim {
namespace {

using testing::FakeEnv;

// `data`: the data side on, through a small L1D (next-line prefetcher) and
// L1I whose misses the FakeEnv serves at a fixed latency (its default
// data_miss), so hits, misses, merged fills, writebacks and prefetches mix.
struct Rig {
  PhysMem mem;
  FakeEnv env{100};
  std::unique_ptr<FirstTouchMapper> os;
  std::unique_ptr<CpuCore> core;
  Cache l1d{CacheGeometry{4096, 4, 64, Cycles(4), 4, PrefetchKind::kNextLine}};
  Cache l1i{CacheGeometry{2048, 2, 64, Cycles(3), 2}};
  explicit Rig(bool data = false, const CpuCoreConfig& cfg = {},
               const std::vector<HugeRegion>& huge = {}) {
    FirstTouchConfig ft;
    ft.mode = cfg.walker.mode;
    ft.regions = huge;
    os = std::make_unique<FirstTouchMapper>(ft, mem);
    env.os = os.get();
    core = std::make_unique<CpuCore>(0, cfg, mem, env);
    core->set_root(os->root());
    if (data) core->use_data_caches(l1d, l1i);
  }
};

// Runs of accesses to a few pages: mostly reads of the current data page,
// some writes (the first write to a page re-walks to set D), fetches from
// two code pages, now and then a new page, a page-crossing access or an
// access of size 0.
std::vector<TraceRecord> mixed_trace(size_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<TraceRecord> out;
  uint64_t data = 0x10000000;
  uint64_t code = 0x400000;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next() % 1000;
    TraceRecord t;
    t.size = 8;
    if (r < 5) data += 0x1000 * (1 + rng.next() % 3);  // another data page
    if (r < 150) {
      t.kind = AccessKind::kFetch;
      t.addr = code + ((r & 1) ? 0x1000 : 0) + (rng.next() % 1024) * 4;
      t.size = 4;
    } else if (r < 300) {
      t.kind = AccessKind::kWrite;
      t.addr = data + (rng.next() % 512) * 8;
    } else {
      t.kind = AccessKind::kRead;
      t.addr = data + (rng.next() % 512) * 8;
    }
    if (r == 999) t.addr = data + 0xFFC;  // crosses into the next page
    if (r == 998) t.size = 0;
    out.push_back(t);
  }
  return out;
}

// Every counter the statistics show, of the core and of each TLB array.
void expect_same(const CpuCore& a, const CpuCore& b) {
  const CpuStats& x = a.stats();
  const CpuStats& y = b.stats();
  EXPECT_EQ(x.records, y.records);
  EXPECT_EQ(x.translations, y.translations);
  EXPECT_EQ(x.page_splits, y.page_splits);
  EXPECT_EQ(x.l1_hits, y.l1_hits);
  EXPECT_EQ(x.l2_hits, y.l2_hits);
  EXPECT_EQ(x.tlb_misses, y.tlb_misses);
  EXPECT_EQ(x.dirty_assists, y.dirty_assists);
  EXPECT_EQ(x.faults, y.faults);
  EXPECT_EQ(x.cycles, y.cycles);
  EXPECT_EQ(x.translation_stall, y.translation_stall);
  for (int k = 0; k < kNumAccessKinds; ++k) EXPECT_EQ(x.by_kind[k], y.by_kind[k]);
  EXPECT_EQ(x.translation_latency.count(), y.translation_latency.count());
  EXPECT_EQ(x.translation_latency.sum(), y.translation_latency.sum());
  EXPECT_EQ(x.translation_latency.min(), y.translation_latency.min());
  EXPECT_EQ(x.translation_latency.max(), y.translation_latency.max());
  EXPECT_EQ(x.translation_latency.percentile(0.5), y.translation_latency.percentile(0.5));
  EXPECT_EQ(x.translation_latency.percentile(0.99), y.translation_latency.percentile(0.99));
  EXPECT_EQ(x.fault_stall, y.fault_stall);
  // (Not fast_path_hits(), the lookups served without a search: the hit loop
  // serves more of them, every page whose entry was the last touched in its
  // set; the tests below count them.)
  EXPECT_EQ(a.tlb().mshr().stats().allocations, b.tlb().mshr().stats().allocations);
  EXPECT_EQ(a.tlb().mshr().stats().merges, b.tlb().mshr().stats().merges);
  EXPECT_EQ(a.tlb().mshr().stats().stalls, b.tlb().mshr().stats().stalls);
  EXPECT_EQ(a.walker().stats().walks, b.walker().stats().walks);
  EXPECT_EQ(a.walker().stats().queue_cycles, b.walker().stats().queue_cycles);
  ASSERT_EQ(a.tlb().arrays().size(), b.tlb().arrays().size());
  for (size_t i = 0; i < a.tlb().arrays().size(); ++i) {
    const TlbArrayStats& s = a.tlb().arrays()[i].stats();
    const TlbArrayStats& t = b.tlb().arrays()[i].stats();
    EXPECT_EQ(s.hits, t.hits) << a.tlb().arrays()[i].name();
    EXPECT_EQ(s.misses, t.misses) << a.tlb().arrays()[i].name();
    EXPECT_EQ(s.fills, t.fills) << a.tlb().arrays()[i].name();
    EXPECT_EQ(s.evictions, t.evictions) << a.tlb().arrays()[i].name();
  }
}

// A scan with a new page every `per_page` accesses (most of them merge into
// the pending walk of their page), some writes and fetches, now and then a
// page-crossing access, an access of size 0 or a return to an older page.
std::vector<TraceRecord> strided_trace(size_t n, uint64_t per_page, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<TraceRecord> out;
  uint64_t page = 0x20000000;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next() % 1000;
    TraceRecord t;
    t.size = 8;
    t.kind = r < 100 ? AccessKind::kWrite : r < 130 ? AccessKind::kFetch : AccessKind::kRead;
    if (i % per_page == 0) page += 0x1000;
    t.addr = page + (i % per_page) * (0x1000 / per_page);
    if (r == 999) t.addr = page + 0xFFC;  // crosses into the next page
    if (r == 998) t.size = 0;
    if (r >= 990 && r < 995) t.addr -= 0x1000 * (1 + rng.next() % 8);  // an older page
    out.push_back(t);
  }
  return out;
}

// `every`: the stop rule ends a run at the first issue cycle at or past the
// next multiple of `every` cycles (0: never). `merges`: the caller also
// offers the records to process_merges() (run_records' order).
// `data`: the data side on (Rig); `loop_heavy`: the tight loops take most
// records (false for the data side on strided traces: every access a new
// line, the merge loop not offered with the data side on).
void compare(const std::vector<TraceRecord>& trace, uint64_t every, bool merges = false,
             bool data = false, bool loop_heavy = true, const CpuCoreConfig& cfg = {},
             const std::vector<HugeRegion>& huge = {}) {
  Rig one(data, cfg, huge), loop(data, cfg, huge);
  std::vector<Cycle> t_one, t_loop;
  for (const TraceRecord& r : trace) t_one.push_back(one.core->process(r));
  uint64_t stops = 0;
  Cycle next_stop(every);
  const auto stop = [&](Cycle c) { return every != 0 && c >= next_stop; };
  size_t served = 0;  // records the loop took
  for (size_t i = 0; i < trace.size();) {
    Cycle t;
    size_t n = loop.core->process_hits(trace.data() + i, trace.size() - i, t, stop);
    if (n == 0 && merges) {
      n = loop.core->process_merges(trace.data() + i, trace.size() - i, t, stop);
    }
    if (n == 0) {
      t = loop.core->process(trace[i]);
      t_loop.push_back(t);
      ++i;
    } else {
      served += n;
      // Only the last record's cycle comes back: the others are checked
      // through the statistics (every issue and completion cycle feeds them).
      t_loop.resize(t_loop.size() + n - 1, Cycle(0));
      t_loop.push_back(t);
      i += n;
    }
    if (every != 0 && t >= next_stop) {
      ++stops;
      next_stop = Cycle((t.count() / every + 1) * every);
    }
  }
  one.core->finish();
  loop.core->finish();
  if (loop_heavy) {
    EXPECT_GT(served, trace.size() / 2);  // the loop did most of the work
  }
  if (every != 0) {
    EXPECT_GT(stops, 10U);
  }
  for (size_t i = 0; i < trace.size(); ++i) {
    if (t_loop[i] != Cycle(0)) {
      ASSERT_EQ(t_loop[i], t_one[i]) << "record " << i;
    }
  }
  expect_same(*one.core, *loop.core);
  for (const auto& [a, b] : {std::pair{&one.l1d, &loop.l1d}, std::pair{&one.l1i, &loop.l1i}}) {
    for (unsigned who = 0; who < 8; ++who) {
      EXPECT_EQ(a->counts(who).accesses, b->counts(who).accesses);
      EXPECT_EQ(a->counts(who).hits, b->counts(who).hits);
      EXPECT_EQ(a->counts(who).misses, b->counts(who).misses);
    }
    EXPECT_EQ(a->writebacks(), b->writebacks());
    EXPECT_EQ(a->merged(), b->merged());
    EXPECT_EQ(a->mshr_full(), b->mshr_full());
  }
  // Every memory reference (walks, data lines, writebacks) at the same cycles.
  ASSERT_EQ(one.env.log.size(), loop.env.log.size());
  for (size_t i = 0; i < one.env.log.size(); ++i) {
    const FakeEnv::Access& a = one.env.log[i];
    const FakeEnv::Access& b = loop.env.log[i];
    ASSERT_TRUE(a.addr == b.addr && a.write == b.write && a.at == b.at && a.done == b.done)
        << "reference " << i;
  }
  if (data && loop_heavy) {
    EXPECT_GT(one.l1d.total().misses, 100U);  // misses and hits mix
    EXPECT_GT(one.l1d.total().hits, trace.size() / 2);
    EXPECT_GT(one.l1d.writebacks(), 0U);
  }
}

TEST(CpuHitLoop, SameResultsAsOneRecordAtATime) { compare(mixed_trace(20000, 1), 0); }

TEST(CpuHitLoop, SameResultsWhenTheStopRuleEndsRuns) {
  compare(mixed_trace(20000, 2), 97);
  compare(mixed_trace(20000, 3), 1);  // a stop after every record
}

TEST(CpuHitLoop, MergeLoopSameResultsAsOneRecordAtATime) {
  compare(mixed_trace(20000, 4), 0, true);
  compare(strided_trace(20000, 10, 5), 0, true);
  compare(strided_trace(20000, 3, 6), 0, true);
  compare(strided_trace(20000, 40, 7), 0, true);
}

TEST(CpuHitLoop, MergeLoopSameResultsWhenTheStopRuleEndsRuns) {
  compare(strided_trace(20000, 10, 8), 97, true);
  compare(strided_trace(20000, 10, 9), 1, true);  // a stop after every record
}

// The data side on (cache.data): each access of the loop looks the L1D or
// L1I up from its issue cycle and retires when its data is there, as
// process() does; misses go below through the Env.
TEST(CpuHitLoop, DataSideSameResultsAsOneRecordAtATime) {
  compare(mixed_trace(20000, 10), 0, false, true);
  compare(mixed_trace(20000, 11), 97, true, true);
  compare(strided_trace(20000, 10, 12), 0, true, true, false);
  compare(strided_trace(20000, 40, 13), 1, true, true, false);
}

// Records in the upper (kernel) half, whose linear addresses are masked to
// 48 bits in the TLBs, and now and then a non-canonical address whose
// masked page is the memo's: in long mode the loop must leave it to
// process(), which faults it (#GP); in flat mode it is the masked page.
// The loop compares a record's unmasked page with the memo's page
// sign-extended in long mode (CpuCore::record_page).
TEST(CpuHitLoop, UpperHalfAndNonCanonicalAddresses) {
  CpuCoreConfig long_mode;
  long_mode.seg.mode = SegMode::kLong64;
  for (uint64_t seed : {20, 21, 22, 23}) {
    std::vector<TraceRecord> trace = mixed_trace(20000, seed);
    SplitMix64 rng(seed);
    uint64_t non_canonical = 0;
    for (TraceRecord& r : trace) {
      r.addr |= 0xFFFF800000000000ULL;
      if (rng.next() % 500 == 0) {
        r.addr ^= uint64_t{1} << 52;  // bits 47-63 no longer all equal
        ++non_canonical;
      }
    }
    ASSERT_GT(non_canonical, 20U);
    compare(trace, seed % 2 == 0 ? 0 : 97, true, false, true,
            seed < 22 ? long_mode : CpuCoreConfig{});
  }
}

// 32-bit paging (PAE), flat: bits above 32 in a record's address are
// dropped (the linear address wraps at 4 GiB), so records that differ
// there share a page; the loop serves them by lookups (the memo names the
// page unmasked) with the same results.
TEST(CpuHitLoop, AddressBitsAbove32BitPagingWrap) {
  CpuCoreConfig pae;
  pae.walker.mode = PagingMode::kPae;
  for (uint64_t seed : {30, 31}) {
    std::vector<TraceRecord> trace = mixed_trace(20000, seed);
    SplitMix64 rng(seed);
    for (TraceRecord& r : trace) {
      if (rng.next() % 2 == 0) r.addr |= (rng.next() % 4 + 1) << 32;
    }
    compare(trace, seed == 30 ? 0 : 97, true, false, true, pae);
  }
}

// Two L1-resident pages in turn: once both are in the TLBs, the loop serves
// every access, looking each page up once and the rest without a search
// (each page's entry stays the last touched in its set), and counts each
// array's hits as lookup() does.
TEST(CpuHitLoop, AlternatingPagesStayInTheLoop) {
  std::vector<TraceRecord> trace;
  for (int i = 0; i < 1000; ++i) {
    TraceRecord r;
    r.size = 8;
    r.addr = (i % 2 == 0 ? 0x10000000 : 0x10001000) + (i % 64) * 8;
    trace.push_back(r);
  }
  // The first two records miss; their walks complete (drain) before the
  // rest, whose TLB searches are counted.
  Rig one, loop;
  for (Rig* rig : {&one, &loop}) {
    rig->core->process(trace[0]);
    rig->core->process(trace[1]);
    rig->core->drain();
  }
  const auto searched = [](const Rig& r) {
    return r.core->stats().translations - r.core->tlb().fast_path_hits();
  };
  const uint64_t before = searched(one);
  ASSERT_EQ(searched(loop), before);
  for (size_t i = 2; i < trace.size(); ++i) one.core->process(trace[i]);
  size_t i = 2;
  size_t longest = 0;
  while (i < trace.size()) {
    Cycle t;
    const size_t n =
        loop.core->process_hits(trace.data() + i, trace.size() - i, t, [](Cycle) { return false; });
    if (n == 0) {
      loop.core->process(trace[i++]);
    } else {
      longest = std::max(longest, n);
      i += n;
    }
  }
  one.core->finish();
  loop.core->finish();
  expect_same(*one.core, *loop.core);
  EXPECT_EQ(longest, 998U);  // one run
  EXPECT_EQ(loop.core->stats().tlb_misses, 2U);
  // One record at a time, every page change searches the L1 TLB; the loop
  // searches each page once (the pages are in sets 0 and 1 of the L1D's 4 KiB
  // array), then serves both without a search.
  EXPECT_EQ(searched(one) - before, 998U);
  EXPECT_EQ(searched(loop) - before, 2U);
}

// Runs on twelve data pages, six of them in set 0 of the L1D's 4 KiB array
// (4 ways: they evict each other), three in sets 1-3 and three in set 8,
// and on two code pages: the loop serves a page without a search only while its entry is
// the last one touched in its set, so every replacement policy orders and
// evicts as it does one record at a time. Serving a page of set 0 after
// another one of set 0 without its lookup changes the LRU and tree-PLRU
// victims, and the counts. With 8 sets (the loop then keeps one page per
// side) the pages of set 8 are in set 0 too.
TEST(CpuHitLoop, PagesOfOneSetKeepTheReplacementOrder) {
  for (const auto& [policy, entries] : {std::pair{ReplPolicy::kLru, 64U},
                                        {ReplPolicy::kPlru, 64U},
                                        {ReplPolicy::kFifo, 64U},
                                        {ReplPolicy::kRandom, 64U},
                                        {ReplPolicy::kLru, 32U},
                                        {ReplPolicy::kPlru, 32U}}) {
    SCOPED_TRACE(std::to_string(static_cast<int>(policy)) + " " + std::to_string(entries));
    CpuCoreConfig cfg;
    cfg.tlb.l1d[0].replacement = policy;
    cfg.tlb.l1d[0].entries = entries;
    cfg.tlb.l1i[0].replacement = policy;
    SplitMix64 rng(40 + static_cast<uint64_t>(policy));
    std::vector<TraceRecord> trace;
    uint64_t page = 0x10000;  // a page number; set = page % 16
    for (size_t i = 0; i < 20000; ++i) {
      const uint64_t r = rng.next() % 100;
      if (r < 8) {
        const uint64_t j = rng.next() % 12;
        page = 0x10000 + (j < 6 ? j * 16 : j < 9 ? j - 5 : 8 + (j - 9) * 16);
      }
      TraceRecord t;
      t.size = 8;
      t.kind = r < 20 ? AccessKind::kFetch : r < 35 ? AccessKind::kWrite : AccessKind::kRead;
      t.addr = t.kind == AccessKind::kFetch ? 0x400000 + (r & 1) * 0x10000 + (rng.next() % 512) * 8
                                            : (page << 12) + (rng.next() % 512) * 8;
      trace.push_back(t);
    }
    compare(trace, 0, true, false, true, cfg);
    compare(trace, 97, true, false, true, cfg);
  }
}

// The loop keeps its pages from one call to the next while the L1 TLBs
// change nothing (their epoch): an INVLPG of one of them, or a FLUSH, between
// two runs of hits must make the next run look it up (and walk), as one
// record at a time does.
TEST(CpuHitLoop, PagesKeptBetweenRunsDoNotOutliveAnInvalidation) {
  std::vector<TraceRecord> trace;
  const auto run_of_hits = [&trace](int n) {
    for (int i = 0; i < n; ++i) {
      TraceRecord r;
      r.size = 8;
      r.addr = (i % 3 == 0 ? 0x10000000 : i % 3 == 1 ? 0x10001000 : 0x10002000) + (i % 64) * 8;
      trace.push_back(r);
    }
  };
  run_of_hits(300);
  TraceRecord inv;
  inv.addr = 0x10001000;
  inv.flags = trace_flags::kOpInvlpg;
  trace.push_back(inv);
  run_of_hits(300);
  TraceRecord flush;
  flush.flags = trace_flags::kOpFlush;  // addr 0: every non-global entry
  trace.push_back(flush);
  run_of_hits(300);
  compare(trace, 0);
  Rig one;
  for (const TraceRecord& r : trace) one.core->process(r);
  one.core->finish();
  // Three walks at the start, one after the INVLPG, three after the FLUSH.
  EXPECT_EQ(one.core->stats().tlb_misses, 7U);
}

// 2 MiB and 4 KiB pages mixed. A 2 MiB entry lives in the L1D's (or L1I's)
// 2M array, where the loop keeps one page of the side; moving between the
// arrays empties the side's slots. The mixed trace with its data pages in a
// 2 MiB region, or its code; then runs that move between eight 4 KiB data
// pages and eight 2 MiB ones 16 MiB apart, all in set 0 of the 2M array (8
// sets of 4 ways: they evict each other). It fails when 2 MiB entries get a
// slot per 4 KiB part.
TEST(CpuHitLoop, LargeAndSmallPagesMixed) {
  const std::vector<HugeRegion> data_huge = {{0x10000000, 0x10000000 + (64ULL << 20)}};
  const std::vector<HugeRegion> code_huge = {{0x400000, 0x600000}};
  for (const auto& huge : {data_huge, code_huge}) {
    compare(mixed_trace(20000, 50), 0, true, false, true, {}, huge);
    compare(mixed_trace(20000, 51), 97, true, false, true, {}, huge);
    compare(mixed_trace(20000, 52), 0, false, true, true, {}, huge);
  }
  SplitMix64 rng(53);
  std::vector<TraceRecord> trace;
  uint64_t page = 0x20000000;
  for (size_t i = 0; i < 20000; ++i) {
    const uint64_t r = rng.next() % 100;
    if (r < 8) {
      const uint64_t j = rng.next() % 16;
      page = j < 8 ? 0x20000000 + j * 0x1000 : 0x40000000 + (j - 8) * 0x1000000;
    }
    TraceRecord t;
    t.size = 8;
    t.kind = r < 15 ? AccessKind::kFetch : r < 30 ? AccessKind::kWrite : AccessKind::kRead;
    // In 2 MiB page m, 4 KiB parts 2m and 2m + 1: each page's parts in
    // slots of their own, revisited often.
    const uint64_t m = (page - 0x40000000) / 0x1000000;
    const uint64_t within = page >= 0x40000000 ? (2 * m + rng.next() % 2) * 0x1000 : 0;
    t.addr = t.kind == AccessKind::kFetch ? 0x400000 + (rng.next() % 512) * 8
                                          : page + within + (rng.next() % 512) * 8;
    trace.push_back(t);
  }
  const std::vector<HugeRegion> upper = {{0x40000000, 0x48000000}};
  compare(trace, 0, true, false, true, {}, upper);
  compare(trace, 97, true, false, true, {}, upper);
}

}  // namespace
}  // namespace mmusim
