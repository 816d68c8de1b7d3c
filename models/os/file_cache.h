// The page cache, readahead and file I/O of the Linux model (os-model.md
// §2.2, §2.3, §2.7): one cache of file pages keyed by (file id, page index),
// shared by every process that maps or reads the file; readahead state per
// open file (Linux's struct file_ra_state); I/O to the disk model. Plain C++,
// no SystemC. The fault handlers and system calls of the kernel core
// (linux_kernel.h) drive it; it never touches page tables (mapping a page,
// write-protecting its PTEs after writeback are the caller's, through the
// callbacks below).
//
// CONTRACT between the kernel core and this file. Timing: the calls return
// cycles (when an I/O completes); the cache's own CPU costs (lookups,
// allocation) are the kernel core's to charge, from the counts in the
// results. A page read from the disk is under I/O until its request
// completes and uptodate for every call whose `at` is at or after that
// cycle: nothing needs to tell the cache that an I/O ended. One wait key per
// disk request (bit 63 set): every page of a request waits on the same key
// until the same cycle. A file id never declared by add_file() is a bug of
// the caller (std::invalid_argument), except for file_size() (0). The
// cache never moves OpenFile::pos (the caller's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "models/common/os_event.h"
#include "models/common/stats.h"
#include "models/common/types.h"

namespace mmusim {

class BlockQueue;
struct BlockTimeline;
class PageFrameAllocator;
class PhysMem;

struct FileCacheConfig {
  uint32_t ra_pages = 32;            // os.linux.ra_pages (VM_READAHEAD_PAGES: 128 KiB)
  uint32_t fault_around_pages = 16;  // os.linux.fault_around_bytes / 4 KiB (64 KiB)
  uint32_t mmap_lots_miss = 100;     // MMAP_LOTSAMISS
  // bdi->io_pages: the device's largest request (max_sectors), to which a
  // read() larger than the window may grow (ractl_max_pages) and which caps
  // forced readahead. 320 = BLK_DEF_MAX_SECTORS_CAP (2560 sectors, 1280 KiB).
  uint32_t io_pages = 320;
  // Storage devices behind the cache (not a key: the composition root sets
  // it from disk.model's list); a FILE record naming a device number at or
  // above it stops the run. 0 = not checked (plain tests).
  uint32_t devices = 0;
};

// Linux's file_ra_state (per open file description; shared by the VMAs that
// map through it and by fork's copies of the descriptor). Fields are the
// cache's; the kernel core only owns instances.
struct RaState {
  uint64_t start = 0;         // first page of the current window
  uint32_t size = 0;          // pages in the window
  uint32_t async_size = 0;    // pages before the end where the marker sits
  uint32_t mmap_miss = 0;     // the mmap read-around brake
  uint64_t prev_pos = ~0ULL;  // byte position after the previous read(), ~0 = none
  bool random = false;        // FMODE_RANDOM (POSIX_FADV_RANDOM)
  bool sequential = false;    // POSIX_FADV_SEQUENTIAL: ra->ra_pages = 2 x the device's
};

// An open file description: what a descriptor (and the mappings made through
// it) refers to. Shared (shared_ptr) across dup and fork, as Linux does.
struct OpenFile {
  uint32_t file_id = 0;
  uint32_t flags = 0;  // O_*
  uint64_t pos = 0;    // file position for read()/write()
  RaState ra;
};

// Pages [first, last] of a file, inclusive.
struct PageRange {
  uint64_t first = 0, last = 0;
};

// do_fault_around's window (mm/memory.c, os-model.md §2.2) in file page
// indices, for a fault on page `index` of a VMA mapping file pages
// [vma_first_index, vma_last_index]; `pte_table_first` is the file index the
// first entry of the fault's PTE table stands for (index - the fault's PTE
// index, modulo 2^64: it may lie "below" page 0). The window is the
// fault_around_pages-aligned block of PTEs holding the fault, clamped to the
// VMA and the table; fault_around_pages <= 1 means no fault-around: [index,
// index]. Throws std::invalid_argument if index is outside the VMA or more
// than `ptes_per_table` - 1 past pte_table_first.
PageRange fault_around_window(uint64_t index, uint64_t vma_first_index, uint64_t vma_last_index,
                              uint64_t pte_table_first, uint32_t fault_around_pages,
                              uint32_t ptes_per_table = 512);

// How a mapping asks for readahead (VM_RAND_READ / VM_SEQ_READ from madvise).
enum class RaHint : uint8_t { kNormal, kRandom, kSequential };

// A page of the cache as a fault or a copy sees it.
struct CachedPage {
  uint64_t index = 0;  // page index in the file
  Pfn frame;
};

// The answer to a page request.
struct FilePageResult {
  enum class Status : uint8_t {
    kReady,      // uptodate: `page` may be mapped / copied now
    kWait,       // I/O in flight for it: wait for `key` until `until`, then ask again
    kBeyondEof,  // the index is past the end of the file (SIGBUS for a fault)
    kNoMemory,   // no frame for the page (reclaim comes with the memory-pressure issue)
  };
  Status status = Status::kReady;
  CachedPage page;
  // fault_page: the page was not in the cache (VM_FAULT_MAJOR); read/write:
  // this call started the read the answer waits for.
  bool major = false;
  uint64_t key = 0;  // kWait: release key of the page's I/O
  // kWait: when that I/O completes; the maximum cycle while the completion
  // is not known yet (an asynchronous queue): io_done() releases `key`.
  Cycle until;
  uint32_t pages_read = 0;  // pages this request submitted reads for (readahead included)
  uint32_t ios = 0;         // I/O requests submitted
};

struct FileCacheStats {
  uint64_t lookups = 0, hits = 0, misses = 0;
  uint64_t ra_pages_issued = 0, ra_hit = 0, ra_waste = 0;  // os-model.md §2.3 "Model"
  uint64_t async_ra = 0, sync_ra = 0, read_around = 0, mmap_miss_brake = 0;
  uint64_t pages_read = 0, pages_written = 0, ios_read = 0, ios_write = 0;
  uint64_t nr_file_pages = 0, nr_dirty = 0;  // current (vmstat nr_file_pages, nr_dirty)
  // vmstat nr_dirtied: pages that became dirty; nr_written: pages whose
  // write completed (counted at submission when the queue answers the
  // completion at once, at io_done() otherwise).
  uint64_t nr_dirtied = 0, nr_written = 0;
  uint64_t pages_freed = 0;  // pages evicted or reclaimed (their frames freed)
};

// What the page cache tells the kernel about its pages (the LRU and the
// workingset of the memory-pressure model, os-model.md §1.3-§1.4). Calls
// are made in the middle of cache operations: an observer must not call
// back into the cache.
class PageCacheObserver {
 public:
  virtual ~PageCacheObserver() = default;
  // A frame for a new page. `readahead`: a page only readahead wants
  // (readahead_gfp_mask: may be refused, nullopt, when memory is low; the
  // readahead then stops there). Another nullopt means no frame at all.
  virtual std::optional<Pfn> alloc(bool readahead) = 0;
  // Page `index` of `file_id` joined the cache in frame `pfn` (its
  // PageFrame set up: kFileLru, owner, index): folio_add_lru after the
  // workingset refault check.
  virtual void added(Pfn pfn, uint32_t file_id, uint64_t index) = 0;
  // The page in `pfn` leaves the cache (evicted, invalidated); its frame is
  // freed right after the call.
  virtual void removed(Pfn pfn) = 0;
  // read() or write() used the page (folio_mark_accessed).
  virtual void accessed(Pfn pfn) = 0;
  // A write of the page completed (folio_end_writeback): kWriteback was
  // cleared.
  virtual void written(Pfn pfn) = 0;
};

class FileCache {
 public:
  // `disk` serves every device index; `frames` gives page-cache frames
  // (flagged kFileLru/owner = file id, index = page index in PageFrame).
  FileCache(const FileCacheConfig& cfg, PageFrameAllocator& frames, PhysMem& mem, BlockQueue& disk);
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // A FILE event: declares file `f.file_id` (size in bytes). Re-declaring an
  // id with another size is an error the caller reports (returns false).
  bool add_file(const FileEvent& f);
  [[nodiscard]] uint64_t file_size(uint32_t file_id) const;

  // --- mmap faults (os-model.md §2.2) ---
  // filemap_fault for page `index`: a hit runs the async-readahead check (the
  // marker) and decrements mmap_miss; a miss runs the sync mmap readahead
  // (read-around, or ra_pages for kSequential, nothing extra for kRandom, or
  // nothing extra past the mmap_miss brake), submits the reads at `at` and
  // answers kWait. Calling again after the wait gives kReady (not major).
  FilePageResult fault_page(OpenFile& f, uint64_t index, RaHint hint, Cycle at);
  // Fault-around: the pages of [first, last] (inclusive, already clamped by
  // the caller to the VMA, the PTE table and the window) that are cached,
  // uptodate, not under I/O and not readahead markers, in index order,
  // excluding `skip` (the faulting page). Applies the mmap_miss accounting of
  // filemap_map_pages. No I/O. `at`: the fault's time (I/O completed by then
  // counts as done); without it, the latest time any call gave the cache.
  // Pages the caller already maps are listed too (it skips their PTEs).
  // Linux maps the faulting page here when it qualifies and then never calls
  // filemap_fault: the caller still calls fault_page() for it, which answers
  // kReady without the hit-path accounting (no mmap_miss decrement, no
  // readahead), as Linux does. After a kWait, Linux retries the whole fault
  // (fault-around first): call map_around() and fault_page() again.
  void map_around(OpenFile& f, uint64_t first, uint64_t last, uint64_t skip,
                  std::vector<CachedPage>& out, std::optional<Cycle> at = std::nullopt);

  // --- read() / write() (os-model.md §2.3) ---
  // The pages covering [offset, offset + len) clamped to the file size, with
  // page-cache readahead (sync on a miss, async on a marker hit), as
  // filemap_read does. Appends to `out`, in order, the pages ready now up to
  // the first that is not; for that one answers kWait (the caller copies
  // what it got, waits, and asks again from the offset it reached, which
  // continues the same readahead stream). kReady: every page was delivered.
  FilePageResult read(OpenFile& f, uint64_t offset, uint64_t len, Cycle at,
                      std::vector<CachedPage>& out);
  // Pages covering [offset, offset + len) for a write: existing pages, new
  // ones allocated (a partial write to a page inside the file that is not
  // cached reads it first: kWait). Marks them dirty, grows the file size.
  FilePageResult write(OpenFile& f, uint64_t offset, uint64_t len, Cycle at,
                       std::vector<CachedPage>& out);

  // --- dirty pages and writeback (os-model.md §1.5, §2.7) ---
  // A write fault on a shared mapping, or munmap of a dirty PTE, at `at`
  // (without it: the latest time any call gave the cache).
  void set_dirty(uint32_t file_id, uint64_t index, std::optional<Cycle> at = std::nullopt);
  // Called with the cycle whenever a clean page becomes dirty (after the
  // counters moved): the kernel core's hook for the flusher and the dirty
  // thresholds (__mark_inode_dirty's wakeup, balance_dirty_pages' kick).
  void on_dirty(std::function<void(Cycle at)> hook);
  // The inode's dirtied_when: the cycle its first page became dirty since it
  // was last clean; nullopt while the file has no dirty page.
  [[nodiscard]] std::optional<Cycle> dirtied_when(uint32_t file_id) const;
  // The files with dirty pages, oldest dirtied_when first (ties: file id).
  [[nodiscard]] std::vector<uint32_t> dirty_files() const;
  // Pages under writeback at `at` (vmstat nr_writeback): written, their
  // completion after `at` or not known yet.
  [[nodiscard]] uint64_t nr_writeback(Cycle at) const;
  // The first cycle >= `at` from which at most `pages` pages are under
  // writeback, by the completions known now; nullopt when that needs a
  // completion not known yet (an asynchronous queue: io_done()).
  [[nodiscard]] std::optional<Cycle> writeback_below(uint64_t pages, Cycle at) const;
  // Writes the dirty pages of [first, last] (inclusive) from `at` and returns
  // when the last write completes (at, if none; the maximum cycle when a
  // completion comes later). `mkclean(index)` is called for every page
  // written, so the caller write-protects its PTEs (the next write faults
  // again). With `group` != 0 the writes join that completion group (one
  // fsync or msync may write back several ranges): close_group() after the
  // last range says when the group completes.
  Cycle writeback(uint32_t file_id, uint64_t first, uint64_t last, Cycle at,
                  const std::function<void(uint64_t index)>& mkclean, uint64_t group = 0);
  // No more writes join `group`: when its last write completes (0 when it
  // wrote nothing; the maximum when completions are still to come, and
  // io_done() then releases `group` with the last). A completed group's
  // timeline stays readable (timeline(group)) until forget(group).
  Cycle close_group(uint64_t group);

  // --- asynchronous completions (the disk controller) ---
  // Request `id` (the key a read's pages wait on, or a write's id) completed
  // with timeline `t`; its pages are uptodate (read) or written (write) from
  // t.irq. Returns the keys to release: the read's key, or a closed group
  // whose last write this was.
  std::vector<uint64_t> io_done(uint64_t id, const BlockTimeline& t);
  // The timeline of a completed read request (while one of its pages is
  // cached) or of a completed group (until forget()); null when unknown.
  [[nodiscard]] const BlockTimeline* timeline(uint64_t key) const;
  void forget(uint64_t group);
  // Requests submitted and not completed.
  [[nodiscard]] size_t in_flight() const;

  // --- page lifetime ---
  // A mapping took / dropped a reference to a cached page (PageFrame
  // refcount/mapcount); a page stays cached at refcount 0 (reclaim, with the
  // memory-pressure issue, evicts it).
  void get(const CachedPage& p);
  void put(const CachedPage& p);
  // POSIX_FADV_DONTNEED / MADV_PAGEOUT-like eviction of clean unmapped pages
  // of [first, last]: frees them; counts ra_waste for never-used readahead.
  uint64_t evict_clean(uint32_t file_id, uint64_t first, uint64_t last);

  // `fadvise`: RANDOM/SEQUENTIAL/NORMAL change `f.ra`; WILLNEED reads ahead;
  // DONTNEED evicts (evict_clean). Returns when submitted I/O completes (at,
  // for none); the call itself does not wait in Linux, so callers use `at`.
  Cycle fadvise(OpenFile& f, const FadviseEvent& e, Cycle at);

  // --- reclaim (os-model.md §1.3, §1.5) ---
  // Where frames come from and where page lives are reported; null (the
  // default): frames straight from the allocator, no reports.
  void set_observer(PageCacheObserver* o);
  // __remove_mapping for the cached page in frame `pfn` at `at`: frees it
  // if it is clean, uptodate, not under writeback, unmapped and held by the
  // cache alone (refcount 1); returns false and keeps it otherwise. The
  // observer's removed() is not called (the caller frees it from its LRU).
  bool remove_page(Pfn pfn, Cycle at);
  // pageout for the dirty cached page in frame `pfn` at `at` (unmapped by
  // the caller): one write request of that page, kWriteback set until it
  // completes; returns the completion (the maximum while unknown: the
  // observer's written() reports it). nullopt if the page is not dirty.
  std::optional<Cycle> pageout(Pfn pfn, Cycle at);

  // Keeps the first `bytes` of device `dev` for another user (the swap
  // area): files declared later on that device are laid out after them.
  void reserve_device(uint32_t dev, uint64_t bytes);
  // The block queue the cache submits to (the swap area's I/O goes there too).
  [[nodiscard]] BlockQueue& queue();

  [[nodiscard]] const FileCacheStats& stats() const;
  void visit(StatVisitor& v) const;  // under "page_cache." and "readahead."

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmusim
