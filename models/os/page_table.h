// Builds and edits radix page tables in simulated physical memory, in the
// real entry format of the configured paging mode (what an OS kernel does).
// Intermediate entries are created present, writable and user (the leaf
// carries the page's rights), as Linux does.
//
// Table frames come from the PageFrameAllocator, flagged kPageTable and
// zeroed when allocated (so a recycled frame never shows stale entries); the
// `mapcount` of a table frame counts its non-zero entries, so empty tables are
// found without scanning them. Entries edited behind the table's back (the
// walker's A/D bits, tests) may change any bit of a non-zero entry but must
// not turn a zero entry non-zero or back.
//
// Every operation can report what it did in a PageTableLog (the entries it
// read and wrote, one 4- or 8-byte access each, in order, and the table frames
// it allocated and freed) so that the kernel model can time each access
// through the memory model. Failures are values; data frames are never
// allocated or freed here (the kernel owns them).
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "models/arch/paging.h"
#include "models/common/phys_mem.h"
#include "models/os/page_frame.h"

namespace mmusim {

// A fault's log fits the inline capacity (a walk's reads, a leaf's write, a
// few tables): no allocation per fault; fork's and exit's spill to the heap.
struct PageTableLog {
  boost::container::small_vector<PhysAddr, 8> reads;   // entries read, in order
  boost::container::small_vector<PhysAddr, 8> writes;  // entries written, in order
  boost::container::small_vector<Pfn, 4> tables_allocated, tables_freed;
  void clear() {
    reads.clear();
    writes.clear();
    tables_allocated.clear();
    tables_freed.clear();
  }
};

// A present leaf: the page containing some linear address.
struct Mapping {
  Pfn pfn;  // first frame of the page (for a 2 MiB page, its 2 MiB-aligned base)
  PageSize size = PageSize::k4K;
  uint64_t entry = 0;   // the leaf entry's value
  PhysAddr entry_addr;  // where the leaf entry lives
  unsigned level = 0;   // PagingModeInfo::level index of the leaf
};

enum class MapResult : uint8_t {
  kOk,
  kAlreadyMapped,    // a present leaf of the same size is there (unmap it first)
  kSizeConflict,     // a larger page, or tables below a large-page slot, is in the way
  kNoMemory,         // no frame for an intermediate table
  kUnsupportedSize,  // the paging mode cannot map this size (or paging is off)
  kMisaligned,       // the frame is not aligned to the page size
};
std::string_view map_result_name(MapResult r);

// What clone() does with one leaf of the parent, decided by the kernel (it
// knows the VMA: private anonymous memory is COW, file pages may be skipped).
struct CloneDecision {
  bool copy = true;            // false: the child gets no entry (it refaults)
  bool write_protect = false;  // clear R/W in parent and child (private COW)
  uint64_t child_clear = 0;    // flag bits cleared in the child only (pte::kA, pte::kD)
};
// Called for every non-zero leaf entry of user space, present or not (a
// non-present one is a software value such as a swap entry), with the linear
// base of the page, the leaf size of its level and the parent's entry. It may
// update page metadata (mapcount, refcount); the page table only applies it.
using CloneDecider = std::function<CloneDecision(LinearAddr page, PageSize size, uint64_t entry)>;

struct CloneStats {
  uint64_t leaves_copied = 0;      // present leaf entries copied
  uint64_t nonpresent_copied = 0;  // non-present, non-zero leaf entries copied
  uint64_t write_protected = 0;    // parent entries that lost R/W
  uint64_t tables_created = 0;     // table frames of the child, its root included
};

struct CloneResult;

struct DestroyStats {
  uint64_t tables_freed = 0;     // the root included
  uint64_t entries_dropped = 0;  // non-zero leaf entries still in the tables
};

class PageTable {
 public:
  // Allocates the root table (a 4 KiB frame; in PAE mode its first 32 bytes
  // are the PDPT, and the four page directories are allocated with it, since
  // the PDPTEs are loaded with CR3). `owner` tags the table frames' metadata.
  // Throws std::runtime_error if memory is exhausted (see create()).
  PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames, uint32_t owner = 0);
  // As the constructor; nullopt when memory is exhausted.
  static std::optional<PageTable> create(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames,
                                         uint32_t owner = 0, PageTableLog* log = nullptr);
  PageTable(PageTable&& o) noexcept;  // the moved-from table is left empty
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;
  PageTable& operator=(PageTable&&) = delete;
  ~PageTable() = default;  // frees nothing: call destroy() to return the tables

  [[nodiscard]] PhysAddr root() const { return root_; }
  [[nodiscard]] const PagingModeInfo& mode() const { return *mode_; }
  [[nodiscard]] bool alive() const { return alive_; }  // has a root (not off, not destroyed)
  [[nodiscard]] uint64_t table_frames() const { return tables_; }  // held now, root included
  // End of user space, which clone() copies: 2^47 (4-level), 2^56 (5-level),
  // 2^32 (32-bit and PAE: the model has no kernel half there).
  [[nodiscard]] uint64_t user_end() const;

  // Maps the page of size `s` containing `a` to the frame block at `pfn`,
  // with leaf flags `flags` (pte::kRW, kUS, kXD, kG, kA, kD, kPWT, kPCD; P and
  // PS are implied; XD is dropped where the format has none). Intermediate
  // tables are created as needed (and stay if a later step fails).
  MapResult map(LinearAddr a, Pfn pfn, PageSize s, uint64_t flags, PageTableLog* log = nullptr);
  // The present leaf mapping `a` (functional walk, no A/D update).
  std::optional<Mapping> lookup(LinearAddr a, PageTableLog* log = nullptr) const;
  [[nodiscard]] bool is_mapped(LinearAddr a) const { return lookup(a).has_value(); }
  // Clears the present leaf mapping `a` and returns what it mapped. Tables
  // stay (free_empty_tables() frees them).
  std::optional<Mapping> unmap(LinearAddr a, PageTableLog* log = nullptr);
  // Rewrites R/W, U/S and XD of the present leaf mapping `a` from `flags`,
  // keeping the frame and every other bit; returns the old entry.
  std::optional<uint64_t> protect(LinearAddr a, uint64_t flags, PageTableLog* log = nullptr);
  // Address of the entry slot that maps `a` at size `s` (whatever it holds),
  // creating the tables above it; nullopt if a larger page is in the way, the
  // size is not mappable or memory runs out. For tests that edit entry bits.
  std::optional<PhysAddr> leaf_entry_address(LinearAddr a, PageSize s, PageTableLog* log = nullptr);
  // Stores `value` as is in that slot (e.g. a non-present software entry such
  // as a swap entry) and returns the previous value; nullopt as above.
  std::optional<uint64_t> write_leaf_entry(LinearAddr a, PageSize s, uint64_t value,
                                           PageTableLog* log = nullptr);

  // fork: a new table (same mode, memory and allocator) holding a copy of
  // every non-zero leaf entry of the parent's user space that `decide` keeps
  // (an empty decider copies everything unchanged). Child tables are created
  // only where something is copied. Parent entries write-protected before an
  // out-of-memory abort stay write-protected (harmless: they fault and reuse).
  static CloneResult clone(PageTable& parent, const CloneDecider& decide,
                           PageTableLog* log = nullptr, uint32_t owner = 0);

  // munmap: frees every table below the root that covers part of [start, end)
  // and holds only zero entries (bottom-up, so a table emptied by freeing its
  // children goes too), clearing the entry that pointed at it. PAE page
  // directories stay (the PDPTEs are registers). Returns the number freed.
  uint64_t free_empty_tables(LinearAddr start, LinearAddr end, PageTableLog* log = nullptr);
  // exit: frees every table frame, the root included, and releases their
  // contents; afterwards alive() is false. Data frames still mapped are not
  // touched (counted in entries_dropped). Writes no entries.
  DestroyStats destroy(PageTableLog* log = nullptr);

 private:
  struct Lazy;  // a child table that clone() creates on first need
  enum class Descend : uint8_t { kOk, kLargerLeaf, kNoMemory };
  struct Slot {
    Descend status = Descend::kOk;
    PhysAddr ea;
    uint64_t entry = 0;
  };

  PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames, uint32_t owner,
            PageTableLog* log, bool* ok);
  bool init(PageTableLog* log);
  [[nodiscard]] std::optional<unsigned> leaf_level(PageSize s) const;
  [[nodiscard]] bool is_leaf(unsigned level, uint64_t e) const;
  uint64_t rd(PhysAddr ea, PageTableLog* log) const;
  void wr(PhysAddr ea, uint64_t old, uint64_t v, PageTableLog* log);
  std::optional<Pfn> new_table(unsigned level, PageTableLog* log);
  void free_table(Pfn t, PageTableLog* log);
  // Walks to the slot of `a` at `target`, creating missing tables.
  Slot descend(LinearAddr a, unsigned target, PageTableLog* log);
  // lookup() with the leaf's entry address.
  std::optional<Mapping> find(LinearAddr a, PageTableLog* log) const;
  bool ensure(PageTable& child, Lazy& z, CloneStats& st, PageTableLog* log);
  bool clone_level(PageTable& child, unsigned l, uint64_t src, Lazy& dst, uint64_t base,
                   const CloneDecider& decide, CloneStats& st, PageTableLog* log);
  uint64_t prune(unsigned l, uint64_t table, uint64_t base, uint64_t first, uint64_t last,
                 PageTableLog* log);
  void free_subtree(unsigned l, uint64_t table, DestroyStats& st, PageTableLog* log);

  const PagingModeInfo* mode_;
  PhysMem& mem_;
  PageFrameAllocator& frames_;
  uint32_t owner_;
  PhysAddr root_;
  bool alive_ = false;
  uint64_t tables_ = 0;
};

struct CloneResult {
  std::optional<PageTable> table;  // nullopt: out of memory (the partial child is freed)
  CloneStats stats;
};

}  // namespace mmusim
