// The page cache behind read(), write(), writeback and fadvise, and the
// readahead arithmetic of mm/readahead.c (os-model.md §2.3, §2.7, §7 step 4).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/os/readahead.h"
#include "tests/os/file_cache_rig.h"

namespace mmusim {
namespace {

using testing::FileCacheRig;
using testing::kMiB;
using testing::kPage;
using Status = FilePageResult::Status;

uint64_t service_of(uint64_t pages) { return 229'500 + (pages * 4096 * 3000 + 2799) / 2800; }

// read() as the kernel runs it: wait when told, ask again from the offset reached.
struct ReadRun {
  Cycle end;
  std::vector<CachedPage> pages;
  int waits = 0;
  bool major = false;
};
ReadRun read_all(FileCacheRig& r, OpenFile& f, uint64_t off, uint64_t len, Cycle at) {
  ReadRun run;
  run.end = at;
  const uint64_t end = off + len;
  for (int guard = 0; guard < 1000; ++guard) {
    const size_t before = run.pages.size();
    FilePageResult res = r.cache.read(f, off, end - off, run.end, run.pages);
    if (run.pages.size() > before) off = std::min(end, (run.pages.back().index + 1) * 4096);
    run.major = run.major || res.major;
    if (res.status == Status::kReady) return run;
    EXPECT_EQ(res.status, Status::kWait);
    ++run.waits;
    run.end = res.until;
  }
  ADD_FAILURE() << "read() did not finish";
  return run;
}

// The highest page any read request covered (reads here grow from page 0).
uint64_t resident_end(const FileCacheRig& r) {
  uint64_t last = 0;
  for (size_t i = 0; i < r.disk.log.size(); ++i) last = std::max(last, r.disk.pages(i).last);
  return last;
}

TEST(Readahead, InitialAndNextWindowSizes) {
  using readahead::init_size;
  using readahead::next_size;
  // get_init_ra_size with max 32: 1-2 -> 4, 3-4 -> 8, 5-8 -> 16, > 8 -> 32.
  const uint64_t want32[] = {0, 4, 4, 8, 8, 16, 16, 16, 16, 32, 32};
  for (uint64_t req = 1; req <= 10; ++req) EXPECT_EQ(init_size(req, 32), want32[req]) << req;
  EXPECT_EQ(init_size(1000, 32), 32U);
  // max 2048: x4 up to 64, x2 up to 512, else 2048.
  EXPECT_EQ(init_size(1, 2048), 4U);
  EXPECT_EQ(init_size(64, 2048), 256U);
  EXPECT_EQ(init_size(65, 2048), 256U);
  EXPECT_EQ(init_size(512, 2048), 1024U);
  EXPECT_EQ(init_size(513, 2048), 2048U);
  // get_next_ra_size: x4 below max/16, x2 up to max/2, else max.
  EXPECT_EQ(next_size(1, 32), 4U);
  EXPECT_EQ(next_size(2, 32), 4U);
  EXPECT_EQ(next_size(4, 32), 8U);
  EXPECT_EQ(next_size(16, 32), 32U);
  EXPECT_EQ(next_size(17, 32), 32U);
  uint64_t w = 4;
  std::vector<uint64_t> seq{w};
  while (w < 2048) seq.push_back(w = next_size(w, 2048));
  EXPECT_EQ(seq, (std::vector<uint64_t>{4, 16, 64, 256, 512, 1024, 2048}));
  // ractl_max_pages: a larger request may grow the window up to io_pages.
  EXPECT_EQ(readahead::max_pages({32, 320}, 1), 32U);
  EXPECT_EQ(readahead::max_pages({32, 320}, 100), 100U);
  EXPECT_EQ(readahead::max_pages({32, 320}, 1000), 320U);
  EXPECT_EQ(readahead::max_pages({32, 16}, 100), 32U);
}

class SetIo : public readahead::RaIo {
 public:
  explicit SetIo(std::set<uint64_t> s) : s_(std::move(s)) {}
  [[nodiscard]] bool cached(uint64_t i) const override { return s_.count(i) != 0; }
  void read(uint64_t, uint64_t, uint64_t) override {}

 private:
  std::set<uint64_t> s_;
};

TEST(Readahead, CacheScans) {
  SetIo io({3, 4, 5, 6, 7, 10, 11, 12});
  // page_cache_prev_miss: the highest gap at or below index within the scan.
  EXPECT_EQ(readahead::prev_miss(io, 7, 32), 2U);
  EXPECT_EQ(readahead::prev_miss(io, 8, 32), 8U);
  EXPECT_EQ(readahead::prev_miss(io, 7, 3), 5U);  // all 3 cached: index - 3 + 1
  SetIo from0({0, 1, 2});
  EXPECT_EQ(readahead::prev_miss(from0, 2, 32), ~uint64_t{0});  // past page 0
  EXPECT_EQ(readahead::prev_miss(from0, 2, 3), 0U);             // stops at 0 itself
  // page_cache_next_miss.
  EXPECT_EQ(readahead::next_miss(io, 3, 32), 8U);
  EXPECT_EQ(readahead::next_miss(io, 10, 2), 12U);  // all cached: index + max
  EXPECT_EQ(readahead::next_miss(io, 8, 32), 8U);
}

// os-model.md §7 step 4: sequential 4 KiB read()s from offset 0 with the
// default 32: windows 4, 8, 16, 32, 32; resident after reading pages
// 0, 1, 4, 12: [0-3], [0-11], [0-27], [0-59].
TEST(FileCacheRead, SequentialWindowsDefault) {
  FileCacheRig r;
  OpenFile f = r.open(1, 16 * kMiB);
  Cycle t(0);
  for (uint64_t p = 0; p <= 28; ++p) {
    ReadRun run = read_all(r, f, p * 4096, 4096, t);
    ASSERT_EQ(run.pages.size(), 1U);
    EXPECT_EQ(run.pages[0].index, p);
    t = run.end;
    const std::map<uint64_t, uint64_t> want = {{0, 3}, {1, 11}, {4, 27}, {12, 59}};
    if (want.count(p) != 0) {
      EXPECT_EQ(resident_end(r), want.at(p)) << "after page " << p;
    }
    EXPECT_EQ(f.ra.prev_pos, (p + 1) * 4096);
  }
  EXPECT_EQ(r.disk.read_sizes(), (std::vector<uint64_t>{4, 8, 16, 32, 32}));
  EXPECT_EQ(r.disk.pages(4), (PageRange{60, 91}));
  EXPECT_EQ(r.cache.stats().sync_ra, 1U);
  EXPECT_EQ(r.cache.stats().async_ra, 4U);
}

// ra_pages 2048 (6.12): 4, 16, 64, 256, 512, 1024, 2048; windows [0-3],
// [4-19], [20-83], [84-339], ...
TEST(FileCacheRead, SequentialWindows2048) {
  FileCacheConfig cfg;
  cfg.ra_pages = 2048;
  FileCacheRig r(cfg);
  OpenFile f = r.open(1, 16 * kMiB);
  Cycle t(0);
  for (uint64_t p = 0; p <= 852; ++p) t = read_all(r, f, p * 4096, 4096, t).end;
  EXPECT_EQ(r.disk.read_sizes(), (std::vector<uint64_t>{4, 16, 64, 256, 512, 1024, 2048}));
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 3}));
  EXPECT_EQ(r.disk.pages(1), (PageRange{4, 19}));
  EXPECT_EQ(r.disk.pages(2), (PageRange{20, 83}));
  EXPECT_EQ(r.disk.pages(3), (PageRange{84, 339}));
}

// The wait of a read(): kWait until the fixed disk's completion, then the
// pages; the marker of the window starts the next one.
TEST(FileCacheRead, WaitThenReady) {
  FileCacheRig r;
  OpenFile f = r.open(1, 16 * kMiB);
  std::vector<CachedPage> out;
  FilePageResult a = r.cache.read(f, 0, 8192, Cycle(500), out);
  ASSERT_EQ(a.status, Status::kWait);
  EXPECT_TRUE(a.major);
  EXPECT_EQ(a.until, Cycle(500 + service_of(4)));
  EXPECT_EQ(a.pages_read, 4U);
  EXPECT_EQ(a.page.index, 0U);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(f.ra.prev_pos, ~uint64_t{0});  // set when the read completes
  // init(2) = 4 pages, async 2: the marker at 2.
  EXPECT_EQ(f.ra.size, 4U);
  EXPECT_EQ(f.ra.async_size, 2U);
  FilePageResult b = r.cache.read(f, 0, 8192, Cycle(a.until.count() - 1), out);
  EXPECT_EQ(b.status, Status::kWait);
  EXPECT_FALSE(b.major);
  EXPECT_EQ(b.key, a.key);
  FilePageResult c = r.cache.read(f, 0, 8192, a.until, out);
  EXPECT_EQ(c.status, Status::kReady);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1].index, 1U);
  EXPECT_EQ(f.ra.prev_pos, 8192U);
  EXPECT_EQ(r.disk.log.size(), 1U);
  out.clear();
  FilePageResult d = r.cache.read(f, 8192, 4096, a.until, out);
  EXPECT_EQ(d.status, Status::kReady);
  EXPECT_EQ(d.pages_read, 8U);
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(1), (PageRange{4, 11}));
}

// Random reads (contig <= req) read exactly the request and leave the state;
// a read right after the previous one is sequential.
TEST(FileCacheRead, RandomReadsReadExactlyTheRequest) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  read_all(r, f, 5000 * kPage, 4096, Cycle(0));
  read_all(r, f, 9000 * kPage, 8 * kPage, Cycle(0));
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{5000, 5000}));
  EXPECT_EQ(r.disk.pages(1), (PageRange{9000, 9007}));
  EXPECT_EQ(f.ra.size, 0U);
  EXPECT_EQ(f.ra.start, 0U);
  EXPECT_EQ(f.ra.prev_pos, 9008U * 4096);
  // Sequential after the previous read: a new window of init(1) = 4.
  read_all(r, f, 9008 * kPage, 4096, Cycle(0));
  ASSERT_EQ(r.disk.log.size(), 3U);
  EXPECT_EQ(r.disk.pages(2), (PageRange{9008, 9011}));
  EXPECT_EQ(f.ra.async_size, 3U);
  EXPECT_EQ(r.cache.stats().sync_ra, 3U);
  EXPECT_EQ(r.cache.stats().ra_pages_issued, 13U);
}

// A miss behind a cached run (another stream, or WILLNEED): the interleaved
// branch sizes the window from the run; cached from page 0 it doubles.
TEST(FileCacheRead, InterleavedStreams) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  FadviseEvent w;
  w.offset = 100 * kPage;
  w.len = 40 * kPage;
  w.advice = linux_abi::kFadvWillNeed;
  const Cycle done = r.cache.fadvise(f, w, Cycle(0));
  EXPECT_EQ(r.disk.pages(0), (PageRange{100, 139}));
  read_all(r, f, 140 * kPage, 4096, done);
  // prev_miss(139, 32) finds 108..139 cached: contig 31 > 1, size 32, async 1.
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(1), (PageRange{140, 171}));
  EXPECT_EQ(f.ra.start, 140U);
  EXPECT_EQ(f.ra.size, 32U);
  EXPECT_EQ(f.ra.async_size, 1U);

  OpenFile g = r.open(2, 64 * kMiB);
  w.offset = 0;
  w.len = 20 * kPage;
  const Cycle done2 = r.cache.fadvise(g, w, done);
  read_all(r, g, 20 * kPage, 4096, done2);
  // Cached from page 0: contig 20 doubled to 40, size min(41, 32). On the
  // device, file 2 starts after file 1's 64 MiB (16384 pages).
  EXPECT_EQ(r.disk.pages(3), (PageRange{16384 + 20, 16384 + 51}));
  EXPECT_EQ(g.ra.async_size, 1U);
}

// POSIX_FADV_RANDOM forces exactly the request, even at page 0; NORMAL
// brings readahead back; SEQUENTIAL doubles the window.
TEST(FileCacheRead, FadviseModes) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  FadviseEvent e;
  e.advice = linux_abi::kFadvRandom;
  EXPECT_EQ(r.cache.fadvise(f, e, Cycle(0)), Cycle(0));
  EXPECT_TRUE(f.ra.random);
  read_all(r, f, 0, 3 * kPage, Cycle(0));
  read_all(r, f, 3 * kPage, 4096, Cycle(0));
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 2}));
  EXPECT_EQ(r.disk.pages(1), (PageRange{3, 3}));
  EXPECT_EQ(f.ra.size, 0U);
  EXPECT_EQ(r.cache.stats().ra_pages_issued, 4U);  // forced readahead is readahead
  e.advice = linux_abi::kFadvNormal;
  r.cache.fadvise(f, e, Cycle(0));
  EXPECT_FALSE(f.ra.random);
  read_all(r, f, 4 * kPage, 4096, Cycle(0));
  EXPECT_EQ(r.disk.pages(2), (PageRange{4, 7}));

  e.advice = linux_abi::kFadvSequential;
  r.cache.fadvise(f, e, Cycle(0));
  EXPECT_TRUE(f.ra.sequential);
  // mmap read-around with ra_pages 64: [5000 - 32, 5000 + 31], async 16.
  r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(r.disk.pages(3), (PageRange{4968, 5031}));
  EXPECT_EQ(f.ra.async_size, 16U);
}

// A read() larger than the window grows it up to io_pages (ractl_max_pages).
TEST(FileCacheRead, OversizedRead) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  ReadRun run = read_all(r, f, 0, kMiB, Cycle(0));
  EXPECT_EQ(run.pages.size(), 256U);
  EXPECT_TRUE(run.major);
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 255}));  // init(256, 256), marker at 128
  EXPECT_EQ(r.disk.pages(1), (PageRange{256, 511}));
  EXPECT_EQ(f.ra.prev_pos, kMiB);

  FileCacheConfig small;
  small.io_pages = 16;  // no growth beyond ra_pages
  FileCacheRig r2(small);
  OpenFile g = r2.open(1, 64 * kMiB);
  std::vector<CachedPage> out;
  r2.cache.read(g, 0, kMiB, Cycle(0), out);
  EXPECT_EQ(r2.disk.pages(0), (PageRange{0, 31}));
  EXPECT_EQ(g.ra.async_size, 16U);
}

TEST(FileCacheRead, EndOfFile) {
  FileCacheRig r;
  OpenFile f = r.open(1, 10000);
  ReadRun run = read_all(r, f, 0, kMiB, Cycle(0));
  EXPECT_EQ(run.pages.size(), 3U);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 2}));  // window 256 clamped; no marker
  EXPECT_EQ(f.ra.prev_pos, 10000U);
  std::vector<CachedPage> out;
  EXPECT_EQ(r.cache.read(f, 10000, 100, Cycle(0), out).status, Status::kReady);
  EXPECT_EQ(r.cache.read(f, 5000, 0, Cycle(0), out).status, Status::kReady);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(f.ra.prev_pos, 10000U);
}

TEST(FileCacheWrite, ReadBeforePartialWriteAndGrowth) {
  FileCacheRig r;
  OpenFile f = r.open(1, 3 * kPage + 100);  // pages 0..3
  std::vector<CachedPage> out;
  // A whole page: no read.
  EXPECT_EQ(r.cache.write(f, 0, 4096, Cycle(0), out).status, Status::kReady);
  EXPECT_EQ(out.size(), 1U);
  EXPECT_TRUE(r.disk.log.empty());
  EXPECT_TRUE(r.frames.meta(out[0].frame).test(FrameFlag::kDirty));
  // Part of page 1, which holds file data: read it first.
  out.clear();
  FilePageResult a = r.cache.write(f, 4096 + 10, 20, Cycle(100), out);
  ASSERT_EQ(a.status, Status::kWait);
  EXPECT_TRUE(a.major);
  EXPECT_EQ(a.until, Cycle(100 + service_of(1)));
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{1, 1}));
  EXPECT_FALSE(r.disk.log[0].write);
  EXPECT_EQ(r.cache.write(f, 4096 + 10, 20, a.until, out).status, Status::kReady);
  EXPECT_EQ(r.cache.stats().nr_dirty, 2U);
  // Across the end: page 3 (data up to byte 100) is read, page 4 is not.
  out.clear();
  FilePageResult b = r.cache.write(f, 3 * kPage + 50, 4096, a.until, out);
  ASSERT_EQ(b.status, Status::kWait);
  EXPECT_EQ(r.disk.pages(1), (PageRange{3, 3}));
  EXPECT_EQ(r.cache.file_size(1), 3U * 4096 + 100);
  EXPECT_EQ(r.cache.write(f, 3 * kPage + 50, 4096, b.until, out).status, Status::kReady);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1].index, 4U);
  EXPECT_EQ(r.cache.file_size(1), 4U * 4096 + 50);
  EXPECT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.cache.stats().nr_dirty, 4U);
  // Past the end, partial: no read.
  out.clear();
  EXPECT_EQ(r.cache.write(f, 10 * kPage + 1, 1, b.until, out).status, Status::kReady);
  EXPECT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.cache.file_size(1), 10U * 4096 + 2);
  // Dirty pages are not evicted.
  EXPECT_EQ(r.cache.evict_clean(1, 0, 100), 0U);
}

// A write to a page under readahead I/O waits for it.
TEST(FileCacheWrite, WaitsForPageUnderRead) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  std::vector<CachedPage> out;
  FilePageResult w = r.cache.write(f, 4990 * kPage, 4096, Cycle(10), out);
  EXPECT_EQ(w.status, Status::kWait);
  EXPECT_FALSE(w.major);
  EXPECT_EQ(w.key, a.key);
  EXPECT_EQ(w.until, a.until);
  EXPECT_EQ(r.cache.write(f, 4990 * kPage, 4096, a.until, out).status, Status::kReady);
}

// Writeback writes exactly the dirty pages, one request per run, and calls
// mkclean for each; the pages are clean after it.
TEST(FileCacheWrite, WritebackWritesExactlyTheDirtyPages) {
  FileCacheRig r;
  OpenFile f = r.open(1, 0);
  std::vector<CachedPage> out;
  for (uint64_t p : {0U, 1U, 2U, 5U, 7U}) r.cache.write(f, p * 4096, 4096, Cycle(0), out);
  r.cache.write(f, 9 * kPage, 4096, Cycle(0), out);  // outside the range below
  EXPECT_EQ(r.cache.stats().nr_dirty, 6U);
  std::vector<uint64_t> cleaned;
  const Cycle t(1000);
  const Cycle done = r.cache.writeback(1, 0, 8, t, [&](uint64_t i) { cleaned.push_back(i); });
  EXPECT_EQ(cleaned, (std::vector<uint64_t>{0, 1, 2, 5, 7}));
  ASSERT_EQ(r.disk.log.size(), 3U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 2}));
  EXPECT_EQ(r.disk.pages(1), (PageRange{5, 5}));
  EXPECT_EQ(r.disk.pages(2), (PageRange{7, 7}));
  for (const BlockRequest& q : r.disk.log) EXPECT_TRUE(q.write);
  // FIFO: 3 pages, then 1, then 1, from t.
  EXPECT_EQ(done, t + Cycles(service_of(3) + 2 * service_of(1)));
  const FileCacheStats& s = r.cache.stats();
  EXPECT_EQ(s.nr_dirty, 1U);
  EXPECT_EQ(s.pages_written, 5U);
  EXPECT_EQ(s.ios_write, 2U + 1U);
  EXPECT_FALSE(r.frames.meta(out[0].frame).test(FrameFlag::kDirty));
  // Nothing dirty left in the range: no I/O, `at` back.
  cleaned.clear();
  EXPECT_EQ(r.cache.writeback(1, 0, 8, done, [&](uint64_t i) { cleaned.push_back(i); }), done);
  EXPECT_TRUE(cleaned.empty());
  // A write fault on a shared mapping dirties a page again.
  r.cache.set_dirty(1, 5);
  r.cache.set_dirty(1, 5);
  EXPECT_EQ(r.cache.stats().nr_dirty, 2U);
  EXPECT_EQ(r.cache.writeback(1, 0, 8, done, [&](uint64_t i) { cleaned.push_back(i); }),
            done + Cycles(service_of(1)));
  EXPECT_EQ(cleaned, (std::vector<uint64_t>{5}));
  EXPECT_THROW(r.cache.set_dirty(1, 6), std::invalid_argument);
  // At `done` pages 0-2 and 7 are written; 5 is under writeback until
  // done + service(1), 9 is dirty.
  EXPECT_EQ(r.cache.evict_clean(1, 0, 9), 4U);
  std::vector<CachedPage> none;
  r.cache.map_around(f, 100, 100, 100, none, done + Cycles(service_of(1)));  // the clock moves
  EXPECT_EQ(r.cache.evict_clean(1, 0, 9), 1U);
  EXPECT_EQ(r.cache.stats().nr_file_pages, 1U);
  EXPECT_EQ(r.cache.stats().ra_waste, 0U);  // written pages are not readahead
}

// WILLNEED reads ahead (capped at max(io_pages, ra_pages), 2 MiB chunks);
// DONTNEED writes unmapped dirty pages and drops the full clean pages.
TEST(FileCacheFadvise, WillNeedAndDontNeed) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  FadviseEvent e;
  e.advice = linux_abi::kFadvWillNeed;
  e.len = 4 * kMiB;
  const Cycle done = r.cache.fadvise(f, e, Cycle(0));
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 319}));
  EXPECT_EQ(done, Cycle(service_of(320)));
  EXPECT_EQ(r.cache.fadvise(f, e, done), done);  // all cached: no I/O
  EXPECT_EQ(r.disk.log.size(), 1U);

  FileCacheConfig big;
  big.io_pages = 1024;
  FileCacheRig r2(big);
  OpenFile g = r2.open(1, 64 * kMiB);
  r2.cache.fadvise(g, e, Cycle(0));
  ASSERT_EQ(r2.disk.log.size(), 2U);
  EXPECT_EQ(r2.disk.pages(0), (PageRange{0, 511}));
  EXPECT_EQ(r2.disk.pages(1), (PageRange{512, 1023}));

  // DONTNEED of bytes [100, 41059]: full pages 1..9 go.
  e.advice = linux_abi::kFadvDontNeed;
  e.offset = 100;
  e.len = 10 * kPage;
  EXPECT_EQ(r.cache.fadvise(f, e, done), done);
  EXPECT_EQ(r.cache.stats().nr_file_pages, 320U - 9);
  EXPECT_EQ(r.cache.stats().ra_waste, 9U);
  // A dirty unmapped page: written (not evicted while under writeback).
  std::vector<CachedPage> out;
  r.cache.write(f, 0, 4096, done, out);
  e.offset = 0;
  e.len = 0;  // to the end
  const Cycle wb = r.cache.fadvise(f, e, done);
  EXPECT_EQ(wb, done + Cycles(service_of(1)));
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_TRUE(r.disk.log[1].write);
  EXPECT_EQ(r.cache.stats().nr_file_pages, 1U);
  EXPECT_EQ(r.cache.stats().nr_dirty, 0U);
  EXPECT_EQ(r.cache.fadvise(f, e, wb), wb);
  EXPECT_EQ(r.cache.stats().nr_file_pages, 0U);
}

TEST(FileCacheVisit, Names) {
  FileCacheRig r;
  OpenFile f = r.open(1, 64 * kMiB);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  r.cache.fault_page(f, 5000, RaHint::kNormal, a.until);
  struct V : StatVisitor {
    void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
      c[std::string(n)] = v;
    }
    void real(std::string_view, std::string_view, std::string_view, double) override {}
    void histogram(std::string_view, std::string_view, std::string_view,
                   const Histogram&) override {}
    std::map<std::string, uint64_t> c;
  } v;
  r.cache.visit(v);
  EXPECT_EQ(v.c.size(), 16U);
  EXPECT_EQ(v.c["page_cache.lookups"], 2U);
  EXPECT_EQ(v.c["page_cache.hits"], 1U);
  EXPECT_EQ(v.c["page_cache.misses"], 1U);
  EXPECT_EQ(v.c["page_cache.pages_read"], 32U);
  EXPECT_EQ(v.c["page_cache.ios_read"], 1U);
  EXPECT_EQ(v.c["page_cache.nr_file_pages"], 32U);
  EXPECT_EQ(v.c["readahead.pages_issued"], 32U);
  EXPECT_EQ(v.c["readahead.hit"], 1U);
  EXPECT_EQ(v.c["readahead.read_around"], 1U);
  EXPECT_EQ(v.c["readahead.waste"], 0U);
}

}  // namespace
}  // namespace mmusim
