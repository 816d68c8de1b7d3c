// The page cache of the Linux model. Each step cites the Linux 6.12 function
// it follows (our own code, written from reading mm/filemap.c, mm/memory.c,
// mm/readahead.c and mm/fadvise.c); the readahead decisions are in
// readahead.cc.
//
// Time: a page read from the disk is "locked" (under I/O) until its request
// completes, and uptodate from that cycle on; the cache compares that cycle
// with the time of each call (`at`). One key per disk request: every page of
// a request waits on the same key until the same cycle. A synchronous block
// queue gives the completion at submission; an asynchronous one (the disk
// controller) reports it later through io_done(): until then the cycle is
// unknown (the maximum) and the waiters sleep on the key, which io_done()
// hands back for release.
#include "models/os/file_cache.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "models/common/phys_mem.h"
#include "models/disk/block_queue.h"
#include "models/os/page_frame.h"
#include "models/os/readahead.h"

namespace mmusim {
namespace {

constexpr unsigned kPageShift = 12;
constexpr uint64_t kPageBytes = uint64_t{1} << kPageShift;
constexpr uint64_t kMax = ~uint64_t{0};
// Keys of page-cache reads: bit 63 set, the request's number below it.
constexpr uint64_t kKeyTag = uint64_t{1} << 63;

uint64_t pages_of(uint64_t bytes) { return (bytes >> kPageShift) + ((bytes & 4095) != 0); }
uint64_t add_sat(uint64_t a, uint64_t b) { return b > kMax - a ? kMax : a + b; }

}  // namespace

PageRange fault_around_window(uint64_t index, uint64_t vma_first_index, uint64_t vma_last_index,
                              uint64_t pte_table_first, uint32_t fault_around_pages,
                              uint32_t ptes_per_table) {
  // do_fault_around: the PTE offsets [from, to] of the fault's table.
  const uint64_t pte_off = index - pte_table_first;
  if (index < vma_first_index || index > vma_last_index || pte_off >= ptes_per_table) {
    throw std::invalid_argument("fault_around_window: page " + std::to_string(index) +
                                " outside its VMA or PTE table");
  }
  if (fault_around_pages <= 1) return PageRange{index, index};  // should_fault_around
  const uint64_t nr = fault_around_pages;
  const uint64_t vma_off = index - vma_first_index;
  const uint64_t vma_pages = vma_last_index - vma_first_index + 1;
  const uint64_t from = std::max(pte_off - pte_off % nr, pte_off - std::min(pte_off, vma_off));
  const uint64_t to =
      std::min({from + nr, uint64_t{ptes_per_table}, pte_off + (vma_pages - vma_off)}) - 1;
  return PageRange{index - (pte_off - from), index + (to - pte_off)};
}

struct FileCache::Impl {
  struct Page {
    Pfn frame;
    Cycle ready{kMax};       // uptodate from this cycle (its read's completion; 0: no read)
    Cycle wb_done;           // its last writeback completes (the maximum while in flight)
    uint64_t key = 0;        // the key of its read request (0: none)
    uint64_t wb_key = 0;     // the id of its last write request (0: none)
    bool marker = false;     // PG_readahead
    bool dirty = false;      // PG_dirty
    bool ra_unused = false;  // brought in by readahead, never used since
    [[nodiscard]] bool uptodate(Cycle t) const { return t >= ready; }
  };
  struct File {
    uint32_t id = 0;
    uint32_t dev = 0;
    uint64_t base = 0;               // its first byte on the device
    uint64_t size = 0;               // bytes
    std::map<uint64_t, Page> pages;  // by page index
    uint64_t ndirty = 0;             // dirty pages
    Cycle dirtied_when;              // valid while ndirty > 0
  };
  // The call being served: its time and what it submitted.
  struct Call {
    Cycle at;
    uint64_t group = 0;      // writes join this completion group (0: none)
    uint64_t first_key = 0;  // keys from this one on are this call's
    uint32_t pages_read = 0, ios = 0;
    Cycle done;  // latest completion of what it submitted (at, if none)
  };

  // The readahead code's view of one file during one call.
  class Io : public readahead::RaIo {
   public:
    Io(Impl& c, File& f, Call& call) : c_(c), f_(f), call_(call) {}
    [[nodiscard]] bool cached(uint64_t index) const override {
      return f_.pages.find(index) != f_.pages.end();
    }
    void read(uint64_t index, uint64_t nr, uint64_t lookahead) override {
      c_.ra_read(f_, index, nr, lookahead, call_);
    }

   private:
    Impl& c_;
    File& f_;
    Call& call_;
  };

  Impl(const FileCacheConfig& c, PageFrameAllocator& fr, PhysMem& m, BlockQueue& d)
      : cfg(c), frames(fr), mem(m), disk(d) {}

  File& file(uint32_t id) {
    auto it = files.find(id);
    if (it == files.end()) {
      throw std::invalid_argument("page cache: file " + std::to_string(id) + " was never declared");
    }
    return it->second;
  }
  static Page* find(File& f, uint64_t index) {
    auto it = f.pages.find(index);
    return it == f.pages.end() ? nullptr : &it->second;
  }
  [[nodiscard]] readahead::RaLimits limits(const OpenFile& f) const {
    return readahead::RaLimits{uint64_t{cfg.ra_pages} * (f.ra.sequential ? 2 : 1), cfg.io_pages};
  }
  Call begin(Cycle at) {
    now = max(now, at);
    // Writes completed before the latest time any call gave are no longer
    // under writeback for any later question.
    while (!wb_known.empty() && wb_known.begin()->first < now) wb_known.erase(wb_known.begin());
    Call c;
    c.at = at;
    c.first_key = kKeyTag | (next_key + 1);
    c.done = at;
    return c;
  }

  // A new page, not uptodate until a read of it is submitted (or the caller
  // makes it uptodate). nullptr when no frame is free.
  Page* add_page(File& f, uint64_t index, bool by_readahead) {
    const std::optional<Pfn> pfn =
        observer != nullptr ? observer->alloc(by_readahead) : frames.allocate(0);
    if (!pfn) return nullptr;
    PageFrame& m = frames.meta(*pfn);
    m.set(FrameFlag::kFileLru);
    m.owner = f.id;
    m.index = index;
    Page& p = f.pages[index];
    p.frame = *pfn;
    p.ra_unused = by_readahead;
    ++st.nr_file_pages;
    if (observer != nullptr) observer->added(*pfn, f.id, index);
    return &p;
  }
  // Frees the page at `it` (its frame and contents) and drops it.
  std::map<uint64_t, Page>::iterator drop(File& f, std::map<uint64_t, Page>::iterator it,
                                          bool report) {
    Page& p = it->second;
    if (p.ra_unused) ++st.ra_waste;
    if (p.key != 0) unref(p.key);
    if (report && observer != nullptr) observer->removed(p.frame);
    frames.free(p.frame, 0);
    mem.release(p.frame);
    --st.nr_file_pages;
    ++st.pages_freed;
    return f.pages.erase(it);
  }
  // A page's write completed: kWriteback off, the observer told.
  void end_writeback(Page& p) {
    PageFrame& m = frames.meta(p.frame);
    if (!m.test(FrameFlag::kWriteback)) return;
    m.clear(FrameFlag::kWriteback);
    if (observer != nullptr) observer->written(p.frame);
  }

  // A request in flight on an asynchronous queue: what io_done() updates.
  struct Inflight {
    uint32_t file = 0;
    std::vector<uint64_t> pages;  // page indices, in order
    bool write = false;
    uint64_t group = 0;
  };
  // The timeline of a completed read request (refs: its pages still cached)
  // or of a closed group (refs 1: its waiter, which forgets it).
  struct Known {
    BlockTimeline t;
    uint64_t refs = 0;
  };
  // Writes of one writeback call (fsync, msync): the latest completion.
  struct Group {
    uint32_t outstanding = 0;
    bool closed = false;
    bool any = false;
    BlockTimeline last;
  };

  // Submits `r` for the pages `pages` of `f`: their completion cycle, or the
  // maximum when it comes later (io_done).
  Cycle completion(const BlockRequest& r, const File& f, std::vector<uint64_t>&& pages,
                   uint64_t group) {
    const std::optional<BlockTimeline> t = disk.submit(r);
    if (t) {
      if (!r.write) {
        known[r.id] = Known{*t, pages.size()};
      } else if (group != 0) {
        note(groups[group], *t);
      }
      return t->irq;
    }
    if (r.write && group != 0) ++groups[group].outstanding;
    inflight.emplace(r.id, Inflight{f.id, std::move(pages), r.write, group});
    return Cycle(kMax);
  }
  static void note(Group& g, const BlockTimeline& t) {
    if (!g.any || t.irq >= g.last.irq) g.last = t;
    g.any = true;
  }
  // A closed group whose writes all completed: its timeline is kept for the
  // waiter. True when it completed.
  bool settle(uint64_t group) {
    auto it = groups.find(group);
    if (it == groups.end() || !it->second.closed || it->second.outstanding > 0) return false;
    if (it->second.any) known[group] = Known{it->second.last, 1};
    groups.erase(it);
    return true;
  }
  void unref(uint64_t key) {
    auto it = known.find(key);
    if (it != known.end() && --it->second.refs == 0) known.erase(it);
  }

  // One read request for pages [first, first + n), all just added.
  void submit_read(File& f, uint64_t first, uint64_t n, bool by_readahead, Call& call) {
    const uint64_t key = kKeyTag | ++next_key;
    BlockRequest r;
    r.id = key;
    r.dev = f.dev;
    r.offset = f.base + (first << kPageShift);
    r.bytes = n << kPageShift;
    r.at = call.at;
    r.frames.reserve(n);
    std::vector<uint64_t> idx;
    idx.reserve(n);
    for (uint64_t i = first; i < first + n; ++i) {
      r.frames.push_back(f.pages.at(i).frame);
      idx.push_back(i);
    }
    const Cycle done = completion(r, f, std::move(idx), 0);
    for (uint64_t i = first; i < first + n; ++i) {
      Page& p = f.pages.at(i);
      p.ready = done;
      p.key = key;
    }
    st.pages_read += n;
    ++st.ios_read;
    if (by_readahead) st.ra_pages_issued += n;
    call.pages_read += static_cast<uint32_t>(n);
    ++call.ios;
    call.done = max(call.done, done);
  }

  // do_page_cache_ra + page_cache_ra_unbounded: the missing pages of
  // [index, index + nr) up to the end of the file, one request per
  // contiguous run, the marker on the page at index + nr - lookahead if it
  // is added here.
  void ra_read(File& f, uint64_t index, uint64_t nr, uint64_t lookahead, Call& call) {
    if (f.size == 0) return;
    const uint64_t end_index = (f.size - 1) >> kPageShift;
    if (index > end_index) return;
    if (nr > end_index - index) nr = end_index - index + 1;
    const uint64_t mark = nr - lookahead;  // wraps (no marker) when lookahead > nr
    uint64_t run = 0, run_first = 0;
    auto flush = [&] {
      if (run > 0) submit_read(f, run_first, run, true, call);
      run = 0;
    };
    for (uint64_t i = 0; i < nr; ++i) {
      if (find(f, index + i) != nullptr) {  // already cached: ends the run
        flush();
        continue;
      }
      Page* p = add_page(f, index + i, true);
      if (p == nullptr) break;  // out of memory: read what was allocated
      if (i == mark) p->marker = true;
      if (run == 0) run_first = index + i;
      ++run;
    }
    flush();
  }

  // One page read on its own (filemap_create_folio, filemap_fault's
  // page_not_uptodate, a write's read before a partial write).
  Page* read_one(File& f, uint64_t index, Call& call) {
    Page* p = add_page(f, index, false);
    if (p != nullptr) submit_read(f, index, 1, false, call);
    return p;
  }

  // page_cache_async_ra's checks before the window moves: readahead off, or
  // the page under writeback (PG_readahead is PG_reclaim's bit) -> nothing;
  // else the marker is cleared.
  void async_ra(OpenFile& f, Page& p, uint64_t index, uint64_t req, Io& io, Cycle at) {
    const readahead::RaLimits lim = limits(f);
    if (lim.ra_pages == 0) return;
    if (at < p.wb_done) return;
    p.marker = false;
    if (readahead::async_ra(f.ra, lim, index, req, io)) ++st.async_ra;
  }

  void use(Page& p) {
    if (!p.ra_unused) return;
    p.ra_unused = false;
    ++st.ra_hit;
  }
  void mark_dirty(File& f, Page& p, Cycle at) {
    if (p.dirty) return;
    p.dirty = true;
    frames.meta(p.frame).set(FrameFlag::kDirty);
    if (f.ndirty++ == 0) f.dirtied_when = at;  // __mark_inode_dirty: I_DIRTY_PAGES
    ++st.nr_dirty;
    ++st.nr_dirtied;
    if (dirty_hook) dirty_hook(at);
  }
  // Pages of writes whose completion is known, by that cycle (their
  // nr_writeback ends there), and pages of writes still in flight.
  std::multimap<Cycle, uint64_t> wb_known;
  uint64_t wb_inflight = 0;
  std::function<void(Cycle)> dirty_hook;
  PageCacheObserver* observer = nullptr;

  static FilePageResult result(FilePageResult::Status s, const Call& call) {
    FilePageResult r;
    r.status = s;
    r.pages_read = call.pages_read;
    r.ios = call.ios;
    return r;
  }
  // kWait for page `index`, or kReady when its read is already done by `at`.
  FilePageResult wait_for(const Page& p, uint64_t index, const Call& call) {
    FilePageResult r = result(FilePageResult::Status::kWait, call);
    r.page = CachedPage{index, p.frame};
    r.key = p.key;
    r.until = p.ready;
    r.major = p.key >= call.first_key;
    return r;
  }

  // Writes the dirty pages of [first, last] that `want` accepts, one request
  // per run of consecutive pages, from call.at; calls mkclean for each.
  template <class Want>
  void write_dirty(File& f, uint64_t first, uint64_t last, Call& call, Want want,
                   const std::function<void(uint64_t)>* mkclean) {
    std::vector<uint64_t> dirty;
    for (auto it = f.pages.lower_bound(first); it != f.pages.end() && it->first <= last; ++it) {
      if (it->second.dirty && want(it->second)) dirty.push_back(it->first);
    }
    size_t i = 0;
    while (i < dirty.size()) {
      size_t j = i + 1;
      while (j < dirty.size() && dirty[j] == dirty[j - 1] + 1) ++j;
      BlockRequest r;
      r.id = kKeyTag | ++next_key;
      r.dev = f.dev;
      r.offset = f.base + (dirty[i] << kPageShift);
      r.bytes = (j - i) << kPageShift;
      r.write = true;
      r.at = call.at;
      r.frames.reserve(j - i);
      for (size_t k = i; k < j; ++k) r.frames.push_back(f.pages.at(dirty[k]).frame);
      const uint64_t id = r.id;
      const Cycle done =
          completion(r, f, std::vector<uint64_t>(dirty.begin() + i, dirty.begin() + j), call.group);
      call.done = max(call.done, done);
      st.pages_written += j - i;
      ++st.ios_write;
      if (done == Cycle(kMax)) {
        wb_inflight += j - i;
      } else {
        wb_known.emplace(done, j - i);
        st.nr_written += j - i;
      }
      f.ndirty -= j - i;
      for (size_t k = i; k < j; ++k) {
        Page& p = f.pages.at(dirty[k]);
        p.dirty = false;
        p.wb_done = done;
        p.wb_key = id;
        PageFrame& m = frames.meta(p.frame);
        m.clear(FrameFlag::kDirty);
        // Under writeback until io_done(); a completion known at once (a
        // synchronous queue) is over by the time anyone looks.
        if (done == Cycle(kMax)) m.set(FrameFlag::kWriteback);
        --st.nr_dirty;
      }
      i = j;
    }
    if (mkclean != nullptr) {
      for (uint64_t index : dirty) (*mkclean)(index);
    }
  }

  // Frees the clean, unmapped, idle pages of [first, last] at `now`.
  uint64_t evict(File& f, uint64_t first, uint64_t last) {
    uint64_t n = 0;
    for (auto it = f.pages.lower_bound(first); it != f.pages.end() && it->first <= last;) {
      Page& p = it->second;
      const PageFrame& m = frames.meta(p.frame);
      if (p.dirty || !p.uptodate(now) || now < p.wb_done || m.mapcount > 0 || m.refcount > 1) {
        ++it;
        continue;
      }
      it = drop(f, it, true);
      ++n;
    }
    return n;
  }

  FileCacheConfig cfg;
  PageFrameAllocator& frames;
  PhysMem& mem;
  BlockQueue& disk;
  std::unordered_map<uint32_t, File> files;
  FileCacheStats st;
  Cycle now;  // the latest time a call gave
  uint64_t next_key = 0;
  std::unordered_map<uint32_t, uint64_t> dev_end;  // next free byte per device
  std::unordered_map<uint64_t, Inflight> inflight;
  std::unordered_map<uint64_t, Known> known;
  std::unordered_map<uint64_t, Group> groups;
  // The faulting page map_around() found mappable: the fault_page() that
  // follows for it is Linux's "mapped by fault-around" (no filemap_fault).
  struct Covered {
    const RaState* ra = nullptr;
    uint32_t file_id = 0;
    uint64_t index = 0;
  } covered;
};

FileCache::FileCache(const FileCacheConfig& cfg, PageFrameAllocator& frames, PhysMem& mem,
                     BlockQueue& disk)
    : impl_(std::make_unique<Impl>(cfg, frames, mem, disk)) {}
FileCache::~FileCache() = default;

bool FileCache::add_file(const FileEvent& e) {
  if (e.file_id == 0) return false;
  auto [it, fresh] = impl_->files.try_emplace(e.file_id);
  if (!fresh) return it->second.size == e.size;
  it->second.id = e.file_id;
  it->second.dev = e.dev;
  // Placement on the device: files laid out one after another in the order
  // they are declared, each from a 1 MiB boundary (a file that grows past
  // its declared size runs into the next one's blocks: no extent allocator).
  constexpr uint64_t kAlign = uint64_t{1} << 20;
  uint64_t& end = impl_->dev_end[e.dev];
  it->second.base = end;
  const uint64_t span = std::max<uint64_t>(e.size, 1);
  end = span > kMax - end - kAlign ? 0 : (end + span + kAlign - 1) / kAlign * kAlign;
  it->second.size = e.size;
  return true;
}

uint64_t FileCache::file_size(uint32_t file_id) const {
  auto it = impl_->files.find(file_id);
  return it == impl_->files.end() ? 0 : it->second.size;
}

FilePageResult FileCache::fault_page(OpenFile& f, uint64_t index, RaHint hint, Cycle at) {
  // filemap_fault.
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  Impl::File& file = c.file(f.file_id);
  const Impl::Covered cov = std::exchange(c.covered, Impl::Covered{});
  if (index >= pages_of(file.size)) return Impl::result(FilePageResult::Status::kBeyondEof, call);
  ++c.st.lookups;
  Impl::Io io(c, file, call);
  const readahead::RaLimits lim = c.limits(f);
  Impl::Page* p = Impl::find(file, index);
  if (p != nullptr) {
    ++c.st.hits;
    // do_async_mmap_readahead, unless fault-around mapped the page (Linux
    // then never reaches filemap_fault).
    const bool mapped_around = cov.ra == &f.ra && cov.file_id == f.file_id && cov.index == index;
    if (!mapped_around && hint != RaHint::kRandom && lim.ra_pages != 0) {
      if (f.ra.mmap_miss > 0) --f.ra.mmap_miss;
      if (p->marker) c.async_ra(f, *p, index, lim.ra_pages, io, at);
    }
    if (!p->uptodate(at)) return c.wait_for(*p, index, call);
    c.use(*p);
    FilePageResult r = Impl::result(FilePageResult::Status::kReady, call);
    r.page = CachedPage{index, p->frame};
    return r;
  }
  ++c.st.misses;
  // do_sync_mmap_readahead.
  if (hint == RaHint::kSequential && lim.ra_pages != 0) {
    ++c.st.sync_ra;
    readahead::sync_ra(f.ra, lim, f.ra.random, index, lim.ra_pages, io);
  } else if (hint == RaHint::kNormal && lim.ra_pages != 0) {
    if (f.ra.mmap_miss < c.cfg.mmap_lots_miss * 10) ++f.ra.mmap_miss;
    if (f.ra.mmap_miss > c.cfg.mmap_lots_miss) {
      ++c.st.mmap_miss_brake;  // "read-around thrashing": no readahead
    } else {
      ++c.st.read_around;
      readahead::read_around(f.ra, lim, index, io);
    }
  }
  p = Impl::find(file, index);
  if (p == nullptr) p = c.read_one(file, index, call);  // __filemap_get_folio(FGP_CREAT) + read
  if (p == nullptr) {
    FilePageResult r = Impl::result(FilePageResult::Status::kNoMemory, call);
    r.major = true;
    return r;
  }
  FilePageResult r = c.wait_for(*p, index, call);
  r.major = true;  // VM_FAULT_MAJOR: the page was not in the cache
  if (p->uptodate(at)) {
    c.use(*p);
    r.status = FilePageResult::Status::kReady;
    r.key = 0;
    r.until = Cycle();
  }
  return r;
}

void FileCache::map_around(OpenFile& f, uint64_t first, uint64_t last, uint64_t skip,
                           std::vector<CachedPage>& out, std::optional<Cycle> at) {
  // filemap_map_pages over [first, last] (next_uptodate_folio's filter).
  Impl& c = *impl_;
  const Cycle t = at.value_or(c.now);
  c.now = max(c.now, t);
  c.covered = Impl::Covered{};
  Impl::File& file = c.file(f.file_id);
  const uint64_t npages = pages_of(file.size);
  uint64_t seen = 0;  // mappable pages, none of them PG_workingset (no refaults yet)
  if (npages > 0) {
    last = std::min(last, npages - 1);
    for (auto it = file.pages.lower_bound(first); it != file.pages.end() && it->first <= last;
         ++it) {
      Impl::Page& p = it->second;
      if (!p.uptodate(t) || p.marker) continue;
      ++seen;
      if (it->first == skip) {
        c.covered = Impl::Covered{&f.ra, f.file_id, skip};
        continue;
      }
      c.use(p);
      out.push_back(CachedPage{it->first, p.frame});
    }
  }
  // The counted pages are taken off mmap_miss, down to 0.
  f.ra.mmap_miss = seen >= f.ra.mmap_miss ? 0 : f.ra.mmap_miss - static_cast<uint32_t>(seen);
}

FilePageResult FileCache::read(OpenFile& f, uint64_t offset, uint64_t len, Cycle at,
                               std::vector<CachedPage>& out) {
  // filemap_read / filemap_get_pages, one page at a time.
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  Impl::File& file = c.file(f.file_id);
  c.covered = Impl::Covered{};
  if (len == 0 || offset >= file.size) return Impl::result(FilePageResult::Status::kReady, call);
  const uint64_t end = std::min(file.size, add_sat(offset, len));
  // The request as readahead sees it: not clamped to the file size.
  const uint64_t last_index = pages_of(add_sat(offset, len));
  const readahead::RaLimits lim = c.limits(f);
  Impl::Io io(c, file, call);
  for (uint64_t pos = offset; pos < end;) {
    const uint64_t index = pos >> kPageShift;
    ++c.st.lookups;
    Impl::Page* p = Impl::find(file, index);
    if (p == nullptr) {
      ++c.st.misses;
      ++c.st.sync_ra;
      readahead::sync_ra(f.ra, lim, f.ra.random, index, last_index - index, io);
      p = Impl::find(file, index);
      if (p == nullptr) p = c.read_one(file, index, call);  // filemap_create_folio
      if (p == nullptr) return Impl::result(FilePageResult::Status::kNoMemory, call);
    } else {
      ++c.st.hits;
    }
    if (p->marker) c.async_ra(f, *p, index, last_index - index, io, at);  // filemap_readahead
    if (!p->uptodate(at)) return c.wait_for(*p, index, call);             // filemap_update_page
    c.use(*p);
    // folio_mark_accessed, except for a first page the previous read()
    // already ended in (pos_same_folio).
    const bool same = pos == offset && f.ra.prev_pos != ~0ULL && f.ra.prev_pos > 0 &&
                      ((f.ra.prev_pos - 1) >> kPageShift) == index;
    if (!same && c.observer != nullptr) c.observer->accessed(p->frame);
    out.push_back(CachedPage{index, p->frame});
    pos = (index + 1) << kPageShift;
  }
  f.ra.prev_pos = end;  // the position after the last byte copied
  return Impl::result(FilePageResult::Status::kReady, call);
}

FilePageResult FileCache::write(OpenFile& f, uint64_t offset, uint64_t len, Cycle at,
                                std::vector<CachedPage>& out) {
  // generic_perform_write: write_begin (grab the page; read it first when
  // the write covers part of a page holding file data, as
  // __block_write_begin does), copy, write_end (dirty, i_size).
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  Impl::File& file = c.file(f.file_id);
  c.covered = Impl::Covered{};
  const uint64_t end = add_sat(offset, len);
  for (uint64_t pos = offset; pos < end;) {
    const uint64_t index = pos >> kPageShift;
    const uint64_t page_start = index << kPageShift;
    const uint64_t page_end = add_sat(page_start, kPageBytes);
    ++c.st.lookups;
    Impl::Page* p = Impl::find(file, index);
    if (p != nullptr) {
      ++c.st.hits;
    } else {
      ++c.st.misses;
      const bool partial = pos > page_start || end < page_end;
      if (partial && page_start < file.size) {
        p = c.read_one(file, index, call);
      } else {
        p = c.add_page(file, index, false);
        if (p != nullptr) p->ready = Cycle(0);  // wholly overwritten or past EOF: zeroed
      }
      if (p == nullptr) return Impl::result(FilePageResult::Status::kNoMemory, call);
    }
    if (!p->uptodate(at)) return c.wait_for(*p, index, call);
    c.use(*p);
    if (c.observer != nullptr) c.observer->accessed(p->frame);  // write_begin's FGP_ACCESSED
    c.mark_dirty(file, *p, at);
    out.push_back(CachedPage{index, p->frame});
    pos = std::min(end, page_end);
    file.size = std::max(file.size, pos);
  }
  return Impl::result(FilePageResult::Status::kReady, call);
}

void FileCache::set_dirty(uint32_t file_id, uint64_t index, std::optional<Cycle> at) {
  Impl::File& f = impl_->file(file_id);
  Impl::Page* p = Impl::find(f, index);
  if (p == nullptr) {
    throw std::invalid_argument("page cache: set_dirty of page " + std::to_string(index) +
                                " of file " + std::to_string(file_id) + ", which is not cached");
  }
  const Cycle t = at.value_or(impl_->now);
  impl_->now = max(impl_->now, t);
  impl_->mark_dirty(f, *p, t);
}

void FileCache::on_dirty(std::function<void(Cycle)> hook) { impl_->dirty_hook = std::move(hook); }

std::optional<Cycle> FileCache::dirtied_when(uint32_t file_id) const {
  auto it = impl_->files.find(file_id);
  if (it == impl_->files.end() || it->second.ndirty == 0) return std::nullopt;
  return it->second.dirtied_when;
}

std::vector<uint32_t> FileCache::dirty_files() const {
  std::vector<std::pair<Cycle, uint32_t>> v;
  for (const auto& [id, f] : impl_->files) {
    if (f.ndirty > 0) v.emplace_back(f.dirtied_when, id);
  }
  std::sort(v.begin(), v.end());
  std::vector<uint32_t> out;
  out.reserve(v.size());
  for (const auto& e : v) out.push_back(e.second);
  return out;
}

uint64_t FileCache::nr_writeback(Cycle at) const {
  uint64_t n = impl_->wb_inflight;
  for (auto it = impl_->wb_known.upper_bound(at); it != impl_->wb_known.end(); ++it) {
    n += it->second;
  }
  return n;
}

std::optional<Cycle> FileCache::writeback_below(uint64_t pages, Cycle at) const {
  uint64_t n = nr_writeback(at);
  if (n <= pages) return at;
  if (impl_->wb_inflight > pages) return std::nullopt;
  for (auto it = impl_->wb_known.upper_bound(at); it != impl_->wb_known.end(); ++it) {
    n -= it->second;
    if (n <= pages) return it->first;
  }
  return std::nullopt;  // not reached: n ends at wb_inflight <= pages
}

Cycle FileCache::writeback(uint32_t file_id, uint64_t first, uint64_t last, Cycle at,
                           const std::function<void(uint64_t index)>& mkclean, uint64_t group) {
  // vfs_fsync_range -> filemap_write_and_wait_range: write every dirty page
  // (folio_clear_dirty_for_io write-protects its PTEs: mkclean), wait.
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  call.group = group;
  c.write_dirty(
      c.file(file_id), first, last, call, [](const Impl::Page&) { return true; }, &mkclean);
  return call.done;
}

void FileCache::get(const CachedPage& p) {
  PageFrame& m = impl_->frames.meta(p.frame);
  ++m.refcount;
  ++m.mapcount;
}

void FileCache::put(const CachedPage& p) {
  PageFrame& m = impl_->frames.meta(p.frame);
  if (m.mapcount <= 0 || m.refcount <= 1) {
    throw std::invalid_argument("page cache: put of page " + std::to_string(p.index) +
                                " without a mapping reference");
  }
  --m.refcount;
  --m.mapcount;
}

uint64_t FileCache::evict_clean(uint32_t file_id, uint64_t first, uint64_t last) {
  return impl_->evict(impl_->file(file_id), first, last);
}

Cycle FileCache::fadvise(OpenFile& f, const FadviseEvent& e, Cycle at) {
  // generic_fadvise.
  namespace abi = linux_abi;
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  Impl::File& file = c.file(f.file_id);
  // The inclusive last byte; len 0 (or an overflow) means "to the end".
  const uint64_t kLLongMax = kMax >> 1;
  const uint64_t endbyte =
      (e.len == 0 || e.offset + e.len < e.len) ? kLLongMax : e.offset + e.len - 1;
  switch (e.advice) {
    case abi::kFadvNormal:
      f.ra.random = false;
      f.ra.sequential = false;
      break;
    case abi::kFadvRandom: f.ra.random = true; break;
    case abi::kFadvSequential:
      f.ra.sequential = true;
      f.ra.random = false;
      break;
    case abi::kFadvWillNeed: {
      // force_page_cache_readahead over the first to the last partial page.
      const uint64_t start = e.offset >> kPageShift;
      uint64_t nr = (endbyte >> kPageShift) - start + 1;
      if (nr == 0) nr = kMax;
      Impl::Io io(c, file, call);
      readahead::force_ra(c.limits(f), start, nr, io);
      break;
    }
    case abi::kFadvDontNeed: {
      // __filemap_fdatawrite_range (WB_SYNC_NONE), then invalidate the full
      // pages. Only unmapped dirty pages are written here: mapped ones would
      // need their PTEs cleaned (writeback() with the caller's mkclean), and
      // Linux would not evict them anyway.
      c.write_dirty(
          file, e.offset >> kPageShift, endbyte >> kPageShift, call,
          [&c](const Impl::Page& p) { return c.frames.meta(p.frame).mapcount == 0; }, nullptr);
      const uint64_t start = (e.offset + kPageBytes - 1) >> kPageShift;
      uint64_t end_index = endbyte >> kPageShift;
      if ((endbyte & (kPageBytes - 1)) != kPageBytes - 1 && endbyte != file.size - 1) {
        if (end_index == 0) break;
        --end_index;
      }
      if (end_index >= start) c.evict(file, start, end_index);
      break;
    }
    default: break;  // NOREUSE changes nothing modelled; others are -EINVAL
  }
  return call.done;
}

Cycle FileCache::close_group(uint64_t group) {
  Impl& c = *impl_;
  auto it = c.groups.find(group);
  if (it == c.groups.end()) return Cycle(0);  // nothing was written
  it->second.closed = true;
  const Cycle done = it->second.last.irq;
  if (it->second.outstanding > 0) return Cycle(kMax);
  c.settle(group);
  return done;
}

std::vector<uint64_t> FileCache::io_done(uint64_t id, const BlockTimeline& t) {
  Impl& c = *impl_;
  auto it = c.inflight.find(id);
  if (it == c.inflight.end()) {
    throw std::logic_error("page cache: completion of request " + std::to_string(id) +
                           ", which is not in flight");
  }
  const Impl::Inflight rq = std::move(it->second);
  c.inflight.erase(it);
  c.now = max(c.now, t.irq);
  Impl::File& f = c.file(rq.file);
  std::vector<uint64_t> release;
  if (!rq.write) {
    uint64_t cached = 0;
    for (uint64_t index : rq.pages) {
      Impl::Page* p = Impl::find(f, index);
      if (p == nullptr || p->key != id) continue;
      p->ready = t.irq;
      ++cached;
    }
    if (cached > 0) c.known[id] = Impl::Known{t, cached};
    release.push_back(id);
    return release;
  }
  for (uint64_t index : rq.pages) {
    Impl::Page* p = Impl::find(f, index);
    if (p != nullptr && p->wb_key == id) {
      p->wb_done = t.irq;
      c.end_writeback(*p);
    }
  }
  c.wb_inflight -= rq.pages.size();
  c.st.nr_written += rq.pages.size();
  if (rq.group != 0) {
    Impl::Group& g = c.groups[rq.group];
    Impl::note(g, t);
    --g.outstanding;
    if (c.settle(rq.group)) release.push_back(rq.group);
  }
  return release;
}

const BlockTimeline* FileCache::timeline(uint64_t key) const {
  auto it = impl_->known.find(key);
  return it == impl_->known.end() ? nullptr : &it->second.t;
}

void FileCache::forget(uint64_t group) { impl_->known.erase(group); }

size_t FileCache::in_flight() const { return impl_->inflight.size(); }

void FileCache::set_observer(PageCacheObserver* o) { impl_->observer = o; }

void FileCache::reserve_device(uint32_t dev, uint64_t bytes) {
  constexpr uint64_t kAlign = uint64_t{1} << 20;
  uint64_t& end = impl_->dev_end[dev];
  end = std::max(end, bytes > kMax - kAlign ? kMax : (bytes + kAlign - 1) / kAlign * kAlign);
}

BlockQueue& FileCache::queue() { return impl_->disk; }

bool FileCache::remove_page(Pfn pfn, Cycle at) {
  Impl& c = *impl_;
  c.now = max(c.now, at);
  const PageFrame& m = c.frames.meta(pfn);
  Impl::File& f = c.file(m.owner);
  auto it = f.pages.find(m.index);
  if (it == f.pages.end() || it->second.frame != pfn) {
    throw std::logic_error("page cache: remove_page of frame " + std::to_string(pfn.value()) +
                           ", which holds no cached page");
  }
  const Impl::Page& p = it->second;
  if (p.dirty || !p.uptodate(at) || at < p.wb_done || m.test(FrameFlag::kWriteback) ||
      m.mapcount > 0 || m.refcount > 1) {
    return false;
  }
  c.drop(f, it, false);
  return true;
}

std::optional<Cycle> FileCache::pageout(Pfn pfn, Cycle at) {
  Impl& c = *impl_;
  Impl::Call call = c.begin(at);
  const PageFrame& m = c.frames.meta(pfn);
  Impl::File& f = c.file(m.owner);
  const uint64_t index = m.index;
  Impl::Page* p = Impl::find(f, index);
  if (p == nullptr || p->frame != pfn) {
    throw std::logic_error("page cache: pageout of frame " + std::to_string(pfn.value()) +
                           ", which holds no cached page");
  }
  if (!p->dirty) return std::nullopt;
  c.write_dirty(
      f, index, index, call, [](const Impl::Page&) { return true; }, nullptr);
  return call.done;
}

const FileCacheStats& FileCache::stats() const { return impl_->st; }

void FileCache::visit(StatVisitor& v) const {
  const FileCacheStats& s = impl_->st;
  v.counter("page_cache.lookups", "pages", "page lookups by faults, read() and write()", s.lookups);
  v.counter("page_cache.hits", "pages", "lookups that found the page (uptodate or under I/O)",
            s.hits);
  v.counter("page_cache.misses", "pages", "lookups that found no page", s.misses);
  v.counter("page_cache.pages_read", "pages", "pages read from the disk", s.pages_read);
  v.counter("page_cache.pages_written", "pages", "pages written back to the disk", s.pages_written);
  v.counter("page_cache.ios_read", "requests", "read requests to the disk", s.ios_read);
  v.counter("page_cache.ios_write", "requests", "write requests to the disk", s.ios_write);
  v.counter("page_cache.nr_file_pages", "pages", "pages in the page cache now (nr_file_pages)",
            s.nr_file_pages);
  v.counter("page_cache.nr_dirty", "pages", "dirty pages now (nr_dirty)", s.nr_dirty);
  v.counter("readahead.pages_issued", "pages", "pages read by readahead", s.ra_pages_issued);
  v.counter("readahead.hit", "pages", "readahead pages used at least once", s.ra_hit);
  v.counter("readahead.waste", "pages", "readahead pages evicted before any use", s.ra_waste);
  v.counter("readahead.sync", "calls", "synchronous readahead (page_cache_sync_ra)", s.sync_ra);
  v.counter("readahead.async", "calls", "asynchronous readahead windows (marker hits)", s.async_ra);
  v.counter("readahead.read_around", "calls", "mmap read-around windows", s.read_around);
  v.counter("readahead.mmap_miss_brake", "faults",
            "major faults with read-around off (mmap_miss > MMAP_LOTSAMISS)", s.mmap_miss_brake);
}

}  // namespace mmusim
