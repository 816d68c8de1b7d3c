// The page cache's reports to the kernel (PageCacheObserver) and the two
// reclaim entry points (remove_page, pageout), on the recording fixed disk.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "tests/os/file_cache_rig.h"

namespace mmusim {
namespace {

using testing::FileCacheRig;

// Records every report; refuses readahead frames once `ra_budget` is spent.
class Recorder : public PageCacheObserver {
 public:
  explicit Recorder(PageFrameAllocator& f) : frames(f) {}
  std::optional<Pfn> alloc(bool readahead) override {
    if (readahead) {
      if (ra_budget == 0) {
        ++ra_refused;
        return std::nullopt;
      }
      --ra_budget;
    }
    ++allocs;
    return frames.allocate(0U);
  }
  void added(Pfn pfn, uint32_t file_id, uint64_t index) override {
    EXPECT_EQ(frames.meta(pfn).owner, file_id);
    EXPECT_EQ(frames.meta(pfn).index, index);
    added_pages.push_back(index);
  }
  void removed(Pfn pfn) override { removed_pages.push_back(frames.meta(pfn).index); }
  void accessed(Pfn pfn) override { accessed_pages.push_back(frames.meta(pfn).index); }
  void written(Pfn pfn) override {
    EXPECT_FALSE(frames.meta(pfn).test(FrameFlag::kWriteback));
    written_pages.push_back(frames.meta(pfn).index);
  }
  PageFrameAllocator& frames;
  uint64_t ra_budget = ~uint64_t{0};
  uint64_t allocs = 0, ra_refused = 0;
  std::vector<uint64_t> added_pages, removed_pages, accessed_pages, written_pages;
};

TEST(FileCacheObserver, FramesComeFromTheObserverAndEveryPageIsReported) {
  FileCacheRig r;
  Recorder o(r.frames);
  r.cache.set_observer(&o);
  OpenFile f = r.open(1, 1 << 20);
  std::vector<CachedPage> out;
  // A cold read() of page 0: sync readahead's initial window is 4 pages
  // (os-model.md §7 step 4), all from the observer, reported in order.
  ASSERT_EQ(r.cache.read(f, 0, 100, Cycle(0), out).status, FilePageResult::Status::kWait);
  EXPECT_EQ(o.allocs, 4U);
  EXPECT_EQ(o.added_pages, (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(o.accessed_pages.empty());  // not used yet: it waits for its read
  // Once read, the same read() uses page 0: one mark_accessed.
  ASSERT_EQ(r.cache.read(f, 0, 100, r.disk.done.back(), out).status,
            FilePageResult::Status::kReady);
  EXPECT_EQ(o.accessed_pages, (std::vector<uint64_t>{0}));
  // The next read() ends in page 0 again (prev_pos = 100): pos_same_folio,
  // no second mark; a read of page 1 marks page 1.
  r.cache.read(f, 100, 100, r.disk.done.back(), out);
  EXPECT_EQ(o.accessed_pages, (std::vector<uint64_t>{0}));
  r.cache.read(f, 4096, 100, r.disk.done.back(), out);
  EXPECT_EQ(o.accessed_pages, (std::vector<uint64_t>{0, 1}));
  // write() marks every page it writes.
  r.cache.write(f, 2 * 4096, 2 * 4096, r.disk.done.back(), out);
  EXPECT_EQ(o.accessed_pages, (std::vector<uint64_t>{0, 1, 2, 3}));
}

TEST(FileCacheObserver, RefusedReadaheadFramesStopTheWindow) {
  FileCacheRig r;
  Recorder o(r.frames);
  o.ra_budget = 2;  // readahead gets two frames, then memory is "low"
  r.cache.set_observer(&o);
  OpenFile f = r.open(1, 1 << 20);
  std::vector<CachedPage> out;
  // The 4-page window: pages 0 and 1 from readahead, page 2 refused (the
  // window stops), then filemap_create_folio is not needed for page 0.
  r.cache.read(f, 0, 100, Cycle(0), out);
  EXPECT_EQ(o.added_pages, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(o.ra_refused, 1U);
  ASSERT_EQ(r.disk.read_sizes(), (std::vector<uint64_t>{2}));
}

TEST(FileCacheObserver, RemovePageOnlyFreesCleanIdleUnmappedPages) {
  FileCacheRig r;
  Recorder o(r.frames);
  r.cache.set_observer(&o);
  OpenFile f = r.open(1, 1 << 20);
  f.ra.random = true;  // one page per miss
  std::vector<CachedPage> out;
  ASSERT_EQ(r.cache.read(f, 0, 10, Cycle(0), out).status, FilePageResult::Status::kWait);
  const Cycle done = r.disk.done.back();
  const Pfn p0 = r.frames.allocate(0U).value();  // any other frame, for the error path
  out.clear();
  ASSERT_EQ(r.cache.read(f, 0, 10, done, out).status, FilePageResult::Status::kReady);
  const Pfn page = out.at(0).frame;
  // Under read before `done`: kept.
  EXPECT_FALSE(r.cache.remove_page(page, Cycle(done.count() - 1)));
  // Mapped (get: a reference and a mapcount): kept.
  r.cache.get(out[0]);
  EXPECT_FALSE(r.cache.remove_page(page, done));
  r.cache.put(out[0]);
  // Dirty: kept; pageout writes it (one 4 KiB write), then it can go.
  r.cache.set_dirty(1, 0, done);
  EXPECT_FALSE(r.cache.remove_page(page, done));
  const std::optional<Cycle> w = r.cache.pageout(page, done);
  ASSERT_TRUE(w.has_value());
  ASSERT_EQ(r.disk.log.size(), 2U);
  EXPECT_TRUE(r.disk.log[1].write);
  EXPECT_EQ(r.disk.log[1].bytes, 4096U);
  EXPECT_EQ(*w, r.disk.done.back());
  EXPECT_FALSE(r.cache.pageout(page, done).has_value());           // clean now: nothing to write
  EXPECT_FALSE(r.cache.remove_page(page, Cycle(w->count() - 1)));  // still under writeback
  EXPECT_TRUE(r.cache.remove_page(page, *w));
  EXPECT_EQ(r.cache.stats().nr_file_pages, 0U);
  EXPECT_TRUE(o.removed_pages.empty());                         // the caller's to report
  EXPECT_THROW(r.cache.remove_page(page, *w), std::exception);  // freed: no metadata
  r.frames.meta(p0).owner = 1;
  EXPECT_THROW(r.cache.remove_page(p0, *w), std::logic_error);  // not a cached page
}

TEST(FileCacheObserver, AsynchronousWritebackReportsItsCompletion) {
  FileCacheRig r;
  Recorder o(r.frames);
  r.cache.set_observer(&o);
  r.disk.async = true;
  OpenFile f = r.open(1, 1 << 20);
  std::vector<CachedPage> out;
  // Writing two whole pages needs no read.
  ASSERT_EQ(r.cache.write(f, 0, 2 * 4096, Cycle(10), out).status, FilePageResult::Status::kReady);
  ASSERT_EQ(out.size(), 2U);
  const std::optional<Cycle> w = r.cache.pageout(out[1].frame, Cycle(20));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w, Cycle(~uint64_t{0}));  // the completion comes later
  EXPECT_TRUE(r.frames.meta(out[1].frame).test(FrameFlag::kWriteback));
  EXPECT_FALSE(r.cache.remove_page(out[1].frame, Cycle(30)));
  BlockTimeline t;
  t.irq = Cycle(500);
  r.cache.io_done(r.disk.log.back().id, t);
  EXPECT_EQ(o.written_pages, (std::vector<uint64_t>{1}));
  EXPECT_FALSE(r.frames.meta(out[1].frame).test(FrameFlag::kWriteback));
  EXPECT_TRUE(r.cache.remove_page(out[1].frame, Cycle(500)));
  // fadvise DONTNEED writes dirty page 0 (synchronous queue now), and a
  // second one once that write is over evicts it: removed() reports it.
  r.disk.async = false;
  FadviseEvent e;
  e.advice = linux_abi::kFadvDontNeed;
  r.cache.fadvise(f, e, Cycle(600));
  EXPECT_TRUE(o.removed_pages.empty());
  r.cache.fadvise(f, e, r.disk.done.back());
  EXPECT_EQ(o.removed_pages, (std::vector<uint64_t>{0}));
}

}  // namespace
}  // namespace mmusim
