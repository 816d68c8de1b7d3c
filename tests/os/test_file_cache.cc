// The page cache on the mmap fault path: fault-around windows, read-around,
// MADV_RANDOM/SEQUENTIAL, the mmap_miss brake, the marker, timing through
// the fixed disk (os-model.md §2.2, §2.3, §7 step 4).
#include <gtest/gtest.h>

#include <vector>

#include "tests/os/file_cache_rig.h"

namespace mmusim {
namespace {

using testing::FileCacheRig;
using testing::kMiB;
using testing::kPage;
using Status = FilePageResult::Status;

constexpr uint64_t kFilePages = 16384;  // a 64 MiB file
// Default fixed disk at 3 GHz: 229 500 cycles + bytes * 3000 / 2800, rounded up.
uint64_t service_of(uint64_t pages) { return 229'500 + (pages * 4096 * 3000 + 2799) / 2800; }

std::vector<uint64_t> indices(const std::vector<CachedPage>& v) {
  std::vector<uint64_t> out;
  out.reserve(v.size());
  for (const CachedPage& p : v) out.push_back(p.index);
  return out;
}
std::vector<uint64_t> span(uint64_t first, uint64_t last,
                           const std::vector<uint64_t>& except = {}) {
  std::vector<uint64_t> out;
  for (uint64_t i = first; i <= last; ++i) {
    bool skip = false;
    for (uint64_t e : except) skip = skip || e == i;
    if (!skip) out.push_back(i);
  }
  return out;
}

// A 64 MiB file mapped from offset 0 at a 2 MiB-aligned address: the PTE
// table of page i starts at page i - i % 512.
PageRange window(uint64_t index, uint32_t pages = 16) {
  return fault_around_window(index, 0, kFilePages - 1, index - index % 512, pages);
}

TEST(FaultAroundWindow, SixtyFourKiBAlignedBlocks) {
  // os-model.md §2.2 [L]: a fault at 5000 maps [4992, 5007]; at 5016, [5008, 5023].
  EXPECT_EQ(window(5000), (PageRange{4992, 5007}));
  EXPECT_EQ(window(5016), (PageRange{5008, 5023}));
  EXPECT_EQ(window(4992), (PageRange{4992, 5007}));
  EXPECT_EQ(window(5007), (PageRange{4992, 5007}));
  // fault_around_pages 1: no fault-around.
  EXPECT_EQ(window(5000, 1), (PageRange{5000, 5000}));
  EXPECT_EQ(window(5000, 32), (PageRange{4992, 5023}));
}

TEST(FaultAroundWindow, ClampedToVmaAndTable) {
  // VMA starting at page 4995: the 16 pages start there (the block moves,
  // it does not shrink: to_pte = from_pte + 16 - 1).
  EXPECT_EQ(fault_around_window(5000, 4995, 9000, 4608, 16), (PageRange{4995, 5010}));
  // VMA ending at page 5003.
  EXPECT_EQ(fault_around_window(5000, 0, 5003, 4608, 16), (PageRange{4992, 5003}));
  // The table starts at file page 4998 (the mapping is not 2 MiB aligned):
  // PTE index 2, block [0, 15] of the table = pages [4998, 5013].
  EXPECT_EQ(fault_around_window(5000, 0, 9000, 4998, 16), (PageRange{4998, 5013}));
  // PTE index 510: block [496, 511], the table ends at 511 -> [4986, 5001].
  EXPECT_EQ(fault_around_window(5000, 0, 9000, 4490, 16), (PageRange{4986, 5001}));
  // A table starting "before" page 0 (the VMA maps page 0 at PTE index 5):
  // PTE index 7 for page 2; the block [0, 15] moves to the VMA's start,
  // PTE 5: [5, 20] = pages [0, 15].
  EXPECT_EQ(fault_around_window(2, 0, 100, uint64_t{0} - 5, 16), (PageRange{0, 15}));
  // 32-bit paging: 1024 entries per table; PTE index 1020, block [1008, 1023].
  EXPECT_EQ(fault_around_window(5000, 0, 9000, 5000 - 1020, 16, 1024), (PageRange{4988, 5003}));
  EXPECT_THROW(fault_around_window(5000, 5001, 9000, 4608, 16), std::invalid_argument);
  EXPECT_THROW(fault_around_window(5000, 0, 9000, 4096, 16), std::invalid_argument);
}

// os-model.md §7 step 4: ra_pages 32, a cold fault at 5000 reads [4984,
// 5015] with the marker at 5008; the wait ends at the disk's completion.
TEST(FileCacheFault, ReadAroundDefaultWindowAndMarker) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  const Cycle t0(1000);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, t0);
  ASSERT_EQ(a.status, Status::kWait);
  EXPECT_TRUE(a.major);
  EXPECT_NE(a.key, 0U);
  const Cycle done = t0 + Cycles(service_of(32));
  EXPECT_EQ(a.until, done);
  EXPECT_EQ(a.pages_read, 32U);
  EXPECT_EQ(a.ios, 1U);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{4984, 5015}));
  EXPECT_EQ(r.disk.log[0].at, t0);
  EXPECT_EQ(f.ra.start, 4984U);
  EXPECT_EQ(f.ra.size, 32U);
  EXPECT_EQ(f.ra.async_size, 8U);
  EXPECT_EQ(f.ra.mmap_miss, 1U);

  // Another page of the same request waits on the same key until the same cycle.
  FilePageResult b = r.cache.fault_page(f, 4990, RaHint::kNormal, Cycle(2000));
  EXPECT_EQ(b.status, Status::kWait);
  EXPECT_FALSE(b.major);
  EXPECT_EQ(b.key, a.key);
  EXPECT_EQ(b.until, done);
  EXPECT_EQ(f.ra.mmap_miss, 0U);  // a hit takes one off
  // One cycle early: still under I/O.
  FilePageResult early = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(done.count() - 1));
  EXPECT_EQ(early.status, Status::kWait);
  EXPECT_FALSE(early.major);
  EXPECT_EQ(early.key, a.key);
  EXPECT_EQ(early.until, done);

  // The retry (Linux: fault-around first): the window [4992, 5007] is
  // mapped, the faulting page then answers kReady, minor.
  std::vector<CachedPage> out;
  r.cache.map_around(f, 4992, 5007, 5000, out, done);
  EXPECT_EQ(indices(out), span(4992, 5007, {5000}));
  FilePageResult c = r.cache.fault_page(f, 5000, RaHint::kNormal, done);
  ASSERT_EQ(c.status, Status::kReady);
  EXPECT_FALSE(c.major);
  EXPECT_EQ(c.page.index, 5000U);
  const PageFrame& m = r.frames.meta(c.page.frame);
  EXPECT_TRUE(m.test(FrameFlag::kFileLru));
  EXPECT_EQ(m.owner, 1U);
  EXPECT_EQ(m.index, 5000U);

  // The marker at 5008: fault-around skips it.
  out.clear();
  r.cache.map_around(f, 5008, 5023, 5016, out, done);
  EXPECT_EQ(indices(out), span(5009, 5015));
  // A fault on it starts the next window (expected marker: start 5016, 32
  // pages, all async) at once.
  FilePageResult d = r.cache.fault_page(f, 5008, RaHint::kNormal, done);
  EXPECT_EQ(d.status, Status::kReady);
  EXPECT_EQ(d.pages_read, 32U);
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(1), (PageRange{5016, 5047}));
  EXPECT_EQ(r.disk.done[1], done + Cycles(service_of(32)));
  EXPECT_EQ(f.ra.start, 5016U);
  EXPECT_EQ(f.ra.size, 32U);
  EXPECT_EQ(f.ra.async_size, 32U);
  // The marker is cleared: fault-around now maps 5008 too.
  out.clear();
  r.cache.map_around(f, 5008, 5023, 5016, out, done);
  EXPECT_EQ(indices(out), span(5008, 5015));

  const FileCacheStats& s = r.cache.stats();
  EXPECT_EQ(s.read_around, 1U);
  EXPECT_EQ(s.async_ra, 1U);
  EXPECT_EQ(s.ra_pages_issued, 64U);
  EXPECT_EQ(s.nr_file_pages, 64U);
  EXPECT_EQ(s.ios_read, 2U);
  EXPECT_EQ(s.misses, 1U);
}

// ra_pages 2048 (os-model.md §2.2 [L]): a cold fault at 5000 reads [3976,
// 6023] (start 5000 - 1024), marker at 3976 + 2048 - 512 = 5512.
TEST(FileCacheFault, ReadAround2048) {
  FileCacheConfig cfg;
  cfg.ra_pages = 2048;
  FileCacheRig r(cfg);
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  ASSERT_EQ(a.status, Status::kWait);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{3976, 6023}));
  EXPECT_EQ(a.until, Cycle(service_of(2048)));
  EXPECT_EQ(f.ra.async_size, 512U);
  std::vector<CachedPage> out;
  r.cache.map_around(f, 5504, 5519, 5505, out, a.until);
  EXPECT_EQ(indices(out), span(5504, 5519, {5505, 5512}));
}

// A file cached beforehand (WILLNEED): faults at 5000 and 5016 are minor and
// map [4992, 5007] and [5008, 5023] (os-model.md §7 step 4).
TEST(FileCacheFault, FaultAroundOnCachedFile) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FadviseEvent w;
  w.offset = 4992 * kPage;
  w.len = 32 * kPage;
  w.advice = linux_abi::kFadvWillNeed;
  const Cycle done = r.cache.fadvise(f, w, Cycle(0));
  EXPECT_EQ(done, Cycle(service_of(32)));
  for (uint64_t fault : {5000U, 5016U}) {
    const PageRange win = window(fault);
    std::vector<CachedPage> out;
    r.cache.map_around(f, win.first, win.last, fault, out, done);
    EXPECT_EQ(indices(out), span(win.first, win.last, {fault}));
    FilePageResult p = r.cache.fault_page(f, fault, RaHint::kNormal, done);
    EXPECT_EQ(p.status, Status::kReady);
    EXPECT_FALSE(p.major);
  }
  EXPECT_EQ(r.disk.log.size(), 1U);
}

// fault-around's mmap_miss accounting: the mappable pages of the window
// (the faulting one included) come off mmap_miss; fault_page on a page
// fault-around found does no second decrement; a plain hit takes one off.
TEST(FileCacheFault, MapAroundMmapMissAccounting) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  const Cycle done = a.until;
  f.ra.mmap_miss = 50;
  std::vector<CachedPage> out;
  r.cache.map_around(f, 4992, 5007, 5000, out, done);
  EXPECT_EQ(out.size(), 15U);
  EXPECT_EQ(f.ra.mmap_miss, 34U);  // 16 mappable pages
  EXPECT_EQ(r.cache.fault_page(f, 5000, RaHint::kNormal, done).status, Status::kReady);
  EXPECT_EQ(f.ra.mmap_miss, 34U);
  EXPECT_EQ(r.cache.fault_page(f, 5001, RaHint::kNormal, done).status, Status::kReady);
  EXPECT_EQ(f.ra.mmap_miss, 33U);
  // Before the I/O completes nothing is mappable: mmap_miss unchanged.
  out.clear();
  r.cache.map_around(f, 4992, 5007, 5000, out, Cycle(done.count() - 1));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(f.ra.mmap_miss, 33U);
  // Without `at`, the latest time the cache saw (done) counts.
  r.cache.map_around(f, 4992, 5007, 5000, out);
  EXPECT_EQ(out.size(), 15U);
  EXPECT_EQ(f.ra.mmap_miss, 17U);
  // At least as many pages as mmap_miss: reset to 0.
  out.clear();
  r.cache.map_around(f, 4984, 5015, 5000, out, done);
  EXPECT_EQ(out.size(), 30U);  // 32 minus the skip and the marker at 5008
  EXPECT_EQ(f.ra.mmap_miss, 0U);
}

// MADV_RANDOM: a cold fault reads exactly its page, no mmap_miss, no
// async readahead on a marker hit.
TEST(FileCacheFault, MadvRandomReadsOnePage) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kRandom, Cycle(0));
  ASSERT_EQ(a.status, Status::kWait);
  EXPECT_TRUE(a.major);
  EXPECT_EQ(a.until, Cycle(service_of(1)));
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{5000, 5000}));
  EXPECT_EQ(f.ra.mmap_miss, 0U);
  EXPECT_EQ(r.cache.stats().ra_pages_issued, 0U);

  // A window with a marker at 108 (read-around at 100: [84, 115], marker 84 + 24).
  FilePageResult b = r.cache.fault_page(f, 100, RaHint::kNormal, a.until);
  ASSERT_EQ(r.disk.pages(1), (PageRange{84, 115}));
  EXPECT_EQ(f.ra.mmap_miss, 1U);
  EXPECT_EQ(r.cache.fault_page(f, 108, RaHint::kRandom, b.until).status, Status::kReady);
  EXPECT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(f.ra.mmap_miss, 1U);
  // The marker is still there for a normal mapping.
  EXPECT_EQ(r.cache.fault_page(f, 108, RaHint::kNormal, b.until).status, Status::kReady);
  ASSERT_EQ(r.disk.log.size(), 3U);
  EXPECT_EQ(r.disk.pages(2), (PageRange{116, 147}));
  EXPECT_EQ(f.ra.mmap_miss, 0U);
}

// MADV_SEQUENTIAL: page_cache_sync_ra(ra_pages). At 5000 of a fresh file
// (no stream behind it) that is the random-read branch: exactly 32 pages,
// no marker, state untouched. At 0: a window of 32, marker at 16.
TEST(FileCacheFault, MadvSequentialSyncReadahead) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kSequential, Cycle(0));
  EXPECT_TRUE(a.major);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{5000, 5031}));
  EXPECT_EQ(f.ra.size, 0U);
  EXPECT_EQ(f.ra.mmap_miss, 0U);
  EXPECT_EQ(r.cache.stats().sync_ra, 1U);
  std::vector<CachedPage> out;
  r.cache.map_around(f, 5000, 5031, 0, out, a.until);
  EXPECT_EQ(out.size(), 32U);  // no marker

  FilePageResult b = r.cache.fault_page(f, 0, RaHint::kSequential, a.until);
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_EQ(r.disk.pages(1), (PageRange{0, 31}));
  EXPECT_EQ(f.ra.start, 0U);
  EXPECT_EQ(f.ra.size, 32U);
  EXPECT_EQ(f.ra.async_size, 16U);
  EXPECT_EQ(r.cache.fault_page(f, 16, RaHint::kSequential, b.until).status, Status::kReady);
  ASSERT_EQ(r.disk.log.size(), 3U);
  EXPECT_EQ(r.disk.pages(2), (PageRange{32, 63}));

  FileCacheConfig big;
  big.ra_pages = 2048;
  FileCacheRig r2(big);
  OpenFile g = r2.open(1, kFilePages * 4096);
  r2.cache.fault_page(g, 0, RaHint::kSequential, Cycle(0));
  EXPECT_EQ(r2.disk.pages(0), (PageRange{0, 2047}));
  EXPECT_EQ(g.ra.async_size, 1024U);
}

// The mmap_miss brake: the 101st consecutive cold fault that hits nothing
// (mmap_miss 101 > MMAP_LOTSAMISS) reads only its page; fault-around hits
// bring read-around back.
TEST(FileCacheFault, MmapMissBrake) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  Cycle t(0);
  for (uint64_t k = 0; k < 100; ++k) {
    FilePageResult a = r.cache.fault_page(f, 64 * k + 32, RaHint::kNormal, t);
    ASSERT_EQ(a.pages_read, 32U) << k;
    t = a.until;
  }
  EXPECT_EQ(f.ra.mmap_miss, 100U);
  FilePageResult a = r.cache.fault_page(f, 6432, RaHint::kNormal, t);
  EXPECT_TRUE(a.major);
  EXPECT_EQ(a.pages_read, 1U);
  EXPECT_EQ(r.disk.pages(100), (PageRange{6432, 6432}));
  EXPECT_EQ(f.ra.mmap_miss, 101U);
  EXPECT_EQ(r.cache.stats().read_around, 100U);
  EXPECT_EQ(r.cache.stats().mmap_miss_brake, 1U);
  // Fault-around finding 16 pages: 85; the next cold fault (86) reads around.
  std::vector<CachedPage> out;
  r.cache.map_around(f, 16, 31, 20, out, a.until);
  EXPECT_EQ(f.ra.mmap_miss, 85U);
  EXPECT_EQ(r.cache.fault_page(f, 8000, RaHint::kNormal, a.until).pages_read, 32U);
  EXPECT_EQ(f.ra.mmap_miss, 86U);

  // mmap_miss stops growing at 10 x MMAP_LOTSAMISS.
  FileCacheConfig cfg;
  cfg.mmap_lots_miss = 2;
  FileCacheRig r2(cfg);
  OpenFile g = r2.open(1, kFilePages * 4096);
  for (uint64_t k = 0; k < 25; ++k) r2.cache.fault_page(g, 64 * k, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(g.ra.mmap_miss, 20U);
  EXPECT_EQ(r2.cache.stats().read_around, 2U);
  EXPECT_EQ(r2.cache.stats().mmap_miss_brake, 23U);
}

// EOF: faults past the last page are SIGBUS; read-around stops at the last
// page, and a marker that would fall past it is not set.
TEST(FileCacheFault, EndOfFile) {
  FileCacheRig r;
  OpenFile f = r.open(1, 10000);  // pages 0..2
  EXPECT_EQ(r.cache.fault_page(f, 3, RaHint::kNormal, Cycle(0)).status, Status::kBeyondEof);
  FilePageResult a = r.cache.fault_page(f, 2, RaHint::kNormal, Cycle(0));
  ASSERT_EQ(a.status, Status::kWait);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{0, 2}));
  EXPECT_EQ(f.ra.size, 32U);  // the state keeps the unclamped window
  std::vector<CachedPage> out;
  r.cache.map_around(f, 0, 15, 2, out, a.until);
  EXPECT_EQ(indices(out), span(0, 1));
  EXPECT_EQ(r.cache.stats().nr_file_pages, 3U);
  // An empty file: every page is past the end.
  OpenFile e = r.open(2, 0);
  EXPECT_EQ(r.cache.fault_page(e, 0, RaHint::kNormal, Cycle(0)).status, Status::kBeyondEof);
}

// The disk queue is FIFO: a second window queues behind the first.
TEST(FileCacheFault, WaitsFollowTheDiskQueue) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(1000));
  FilePageResult b = r.cache.fault_page(f, 9000, RaHint::kNormal, Cycle(2000));
  EXPECT_NE(a.key, b.key);
  EXPECT_EQ(a.until, Cycle(1000 + service_of(32)));
  EXPECT_EQ(b.until, a.until + Cycles(service_of(32)));
  EXPECT_EQ(r.cache.fault_page(f, 9000, RaHint::kNormal, a.until).status, Status::kWait);
  FilePageResult c = r.cache.fault_page(f, 9000, RaHint::kNormal, b.until);
  EXPECT_EQ(c.status, Status::kReady);
  EXPECT_FALSE(c.major);
  EXPECT_EQ(r.disk.fixed.stats().queue_wait_cycles(), a.until.count() - 2000);
}

// os-model.md §2.3 "Model": a 32-page window with one page used, then
// evicted, wastes 31.
TEST(FileCacheFault, ReadaheadWaste) {
  FileCacheRig r;
  const uint64_t free0 = r.frames.frames_free();
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(r.cache.fault_page(f, 5000, RaHint::kNormal, a.until).status, Status::kReady);
  EXPECT_EQ(r.cache.fault_page(f, 5000, RaHint::kNormal, a.until).status, Status::kReady);
  EXPECT_EQ(r.frames.frames_free(), free0 - 32);
  EXPECT_EQ(r.cache.evict_clean(1, 0, kFilePages - 1), 32U);
  const FileCacheStats& s = r.cache.stats();
  EXPECT_EQ(s.ra_pages_issued, 32U);
  EXPECT_EQ(s.ra_hit, 1U);
  EXPECT_EQ(s.ra_waste, 31U);
  EXPECT_EQ(s.nr_file_pages, 0U);
  EXPECT_EQ(r.frames.frames_free(), free0);
}

// Mapped pages hold references; eviction leaves them, and pages under I/O.
TEST(FileCacheFault, ReferencesAndEviction) {
  FileCacheRig r;
  OpenFile f = r.open(1, kFilePages * 4096);
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(r.cache.evict_clean(1, 0, kFilePages - 1), 0U);  // all under I/O
  FilePageResult p = r.cache.fault_page(f, 5000, RaHint::kNormal, a.until);
  ASSERT_EQ(p.status, Status::kReady);
  r.cache.get(p.page);
  EXPECT_EQ(r.frames.meta(p.page.frame).refcount, 2U);
  EXPECT_EQ(r.frames.meta(p.page.frame).mapcount, 1);
  EXPECT_EQ(r.cache.evict_clean(1, 0, kFilePages - 1), 31U);
  EXPECT_EQ(r.cache.stats().nr_file_pages, 1U);
  r.cache.put(p.page);
  EXPECT_THROW(r.cache.put(p.page), std::invalid_argument);
  EXPECT_EQ(r.cache.evict_clean(1, 4999, 5001), 1U);
  // Gone: the next fault is major again.
  EXPECT_TRUE(r.cache.fault_page(f, 5000, RaHint::kNormal, a.until).major);
}

TEST(FileCacheFault, OutOfFrames) {
  FileCacheRig r(FileCacheConfig{}, 20);
  OpenFile f = r.open(1, kFilePages * 4096);
  // Read-around gets 20 frames: [4984, 5003], which holds the fault.
  FilePageResult a = r.cache.fault_page(f, 5000, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(a.status, Status::kWait);
  ASSERT_EQ(r.disk.log.size(), 1U);
  EXPECT_EQ(r.disk.pages(0), (PageRange{4984, 5003}));
  FilePageResult b = r.cache.fault_page(f, 9000, RaHint::kNormal, Cycle(0));
  EXPECT_EQ(b.status, Status::kNoMemory);
  EXPECT_EQ(r.disk.log.size(), 1U);
}

TEST(FileCacheFault, FileDeclarations) {
  FileCacheRig r;
  r.open(1, 4096);
  FileEvent e;
  e.file_id = 1;
  e.size = 4096;
  EXPECT_TRUE(r.cache.add_file(e));  // the same again
  e.size = 8192;
  EXPECT_FALSE(r.cache.add_file(e));
  e.file_id = 0;
  EXPECT_FALSE(r.cache.add_file(e));
  EXPECT_EQ(r.cache.file_size(1), 4096U);
  EXPECT_EQ(r.cache.file_size(7), 0U);
  OpenFile g;
  g.file_id = 7;
  EXPECT_THROW(r.cache.fault_page(g, 0, RaHint::kNormal, Cycle(0)), std::invalid_argument);
}

// Files lie one after another on their device, each from a 1 MiB boundary,
// in declaration order; each device has its own layout.
TEST(FileCacheFault, FilesHaveTheirOwnBlocksOnTheirDevice) {
  FileCacheRig r;
  OpenFile a = r.open(1, 3 * kMiB + 1);  // [0, 4 MiB)
  OpenFile b = r.open(2, 0);             // empty: one 1 MiB slot, [4, 5 MiB)
  OpenFile c = r.open(3, 8192);          // [5 MiB, 6 MiB)
  OpenFile d = r.open(4, 8192, 9);       // another device: from 0
  (void)b;
  for (OpenFile* f : {&a, &c, &d}) {
    f->ra.random = true;
    EXPECT_EQ(r.cache.fault_page(*f, 1, RaHint::kRandom, Cycle(0)).status,
              FilePageResult::Status::kWait);
  }
  ASSERT_EQ(r.disk.log.size(), 3U);
  EXPECT_EQ(r.disk.log[0].offset, kPage);
  EXPECT_EQ(r.disk.log[1].offset, 5 * kMiB + kPage);
  EXPECT_EQ(r.disk.log[2].offset, kPage);
  EXPECT_EQ(r.disk.log[2].dev, 9U);
}

}  // namespace
}  // namespace mmusim
