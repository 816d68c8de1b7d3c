// Physical page frames: a binary buddy allocator over orders 0 (4 KiB) to 18
// (1 GiB) with per-frame metadata, the two things a kernel's page allocator
// keeps. Blocks are naturally aligned (a block of order k starts at a frame
// number divisible by 2^k); freeing a block merges it with its buddy while
// the buddy is free, so the free blocks are always the maximal ones.
//
// Host memory grows with what is allocated, never with the configured
// physical memory.
//   - Free space is a radix tree over frame numbers (the index): a 512-bit
//     occupancy bitmap per 2 MiB chunk (64 bytes), and above it nodes of
//     fanout 8 (16 MiB, 128 MiB, 1 GiB, 8 GiB, ...) that hold, for each
//     child, whether it is wholly free, wholly used or partly used (then it
//     has a record), and how many free aligned slots of every order it
//     holds. Only partly used regions have records: a bitmap exists while
//     its chunk is partly used, a node while its region is. The free blocks
//     of the buddy system are implicit (the maximal aligned free blocks);
//     their number per order is kept for free_blocks(). An allocation or a
//     free costs O(depth) steps of at most 8, depth = 4 for 8 GiB.
//   - Metadata is created by allocate() and dropped by free(), in chunks of
//     two kinds: a block of 64 frames (256 KiB) or more has dense sections of
//     64 entries (1.5 KiB each; 8 for a block of 2 MiB or more), found by
//     section number in a flat hash table; a smaller block has one entry per
//     frame, taken from a pool (24 bytes, reused after a free) and found by
//     frame number in a flat hash table, so a 4 KiB frame costs 45 to 70
//     bytes however scattered the allocations are.
// The only cost that scales with the configured size is the root node
// (1.3 KiB) and the records along the edges of the managed range (reserved
// low memory, a size that is not a power of two).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "models/common/flat_map.h"
#include "models/common/random.h"
#include "models/common/types.h"

namespace mmusim {

constexpr unsigned kMaxOrder = 18;  // 2^18 frames = 1 GiB
constexpr unsigned kNumOrders = kMaxOrder + 1;
// Order of a block that backs one page of size `s` (4K: 0, 2M: 9, 4M: 10, 1G: 18).
constexpr unsigned order_of(PageSize s) { return page_shift(s) - 12; }

// Where allocations land.
//   spread:     seeded random choice: every free, naturally aligned slot of
//               the requested order (a block of that size inside a free
//               block) is equally likely (a long-running system's scatter;
//               DRAM banks and rows see a realistic spread).
//   sequential: the lowest free address first, as a freshly booted buddy
//               allocator hands memory out.
enum class FramePlacement : uint8_t { kSpread, kSequential };
// "spread" or "sequential"; nullopt for anything else.
std::optional<FramePlacement> parse_frame_placement(std::string_view s);
std::string_view frame_placement_name(FramePlacement p);

// Per-frame flags (what the kernel model needs for the LRU, reclaim, swap and
// page tables). Named after the Linux page flags they stand for.
enum class FrameFlag : uint16_t {
  kDirty = 1U << 0,        // contents differ from the backing store
  kReferenced = 1U << 1,   // software reference bit (second-chance on the LRU)
  kActive = 1U << 2,       // on the active (not inactive) list
  kLru = 1U << 3,          // on an LRU list at all
  kFileLru = 1U << 4,      // that list is a file list (clear: anon list)
  kUnevictable = 1U << 5,  // on the unevictable list (mlock)
  kLocked = 1U << 6,       // locked for I/O or a state change
  kPageTable = 1U << 7,    // holds a paging structure
  kZeroPage = 1U << 8,     // the shared zero page
  kSwapBacked = 1U << 9,   // anon or shmem: reclaimed to swap, not a file
  kAnon = 1U << 10,        // anonymous memory (owner = address space)
  kWorkingset = 1U << 11,  // was active before deactivation (refault detection)
  kWriteback = 1U << 12,   // being written to its backing store
  kSwapCache = 1U << 13,   // in the swap cache (has a swap slot)
};

enum class LruList : uint8_t {
  kNone,
  kInactiveAnon,
  kActiveAnon,
  kInactiveFile,
  kActiveFile,
  kUnevictable
};

// Role of a frame in the allocator. Free frames have no metadata to read.
enum class FrameState : uint8_t { kFree, kHead, kTail };

// Metadata of one allocated 4 KiB frame (24 bytes). The head frame of a
// block describes the whole block (as a Linux folio): its order, counts and
// flags; tail frames carry only their state. allocate() sets the head's
// refcount to 1 (the allocation is the first reference) and clears the rest;
// free() clears every entry of the block. For a page-table page (kPageTable),
// `mapcount` counts the table's non-zero entries and `index` is its level.
struct PageFrame {
  uint32_t refcount = 0;  // references held (allocation, mappings, pins, I/O)
  int32_t mapcount = 0;   // page-table entries mapping the frame
  uint32_t owner = 0;     // owning address space or file, for the rmap (0 = none)
  uint16_t flags = 0;     // FrameFlag bits
  uint8_t order = 0;      // head frame: the block's order
  FrameState state = FrameState::kFree;
  uint64_t index = 0;  // page index within the owner (virtual page or file offset)

  [[nodiscard]] bool test(FrameFlag f) const { return (flags & static_cast<uint16_t>(f)) != 0; }
  void set(FrameFlag f) { flags |= static_cast<uint16_t>(f); }
  void clear(FrameFlag f) { flags &= static_cast<uint16_t>(~static_cast<uint16_t>(f)); }
  [[nodiscard]] LruList lru() const;
};
static_assert(sizeof(PageFrame) == 24, "PageFrame is meant to stay compact");

class PageFrameAllocator {
 public:
  // `bytes` of physical memory (rounded down to 4 KiB; need not be a power of
  // two); `reserved_low` bytes at address 0 (rounded up to 4 KiB) are never
  // handed out. The rest starts as the largest aligned blocks that fit.
  PageFrameAllocator(uint64_t bytes, uint64_t reserved_low, uint64_t seed,
                     FramePlacement placement = FramePlacement::kSpread);
  ~PageFrameAllocator();
  PageFrameAllocator(const PageFrameAllocator&) = delete;
  PageFrameAllocator& operator=(const PageFrameAllocator&) = delete;

  // First frame of a free, naturally aligned block of 2^order frames, now
  // allocated; nullopt when no block of that order is free (or order > 18).
  // Spread placement draws one number, uniform over the free aligned slots
  // of that order, and finds its slot by descending the index (the slots in
  // address order); sequential placement takes the first. Cost: O(depth)
  // steps of at most 8 (depth = 4 for 8 GiB), whatever the placement.
  std::optional<Pfn> allocate(unsigned order);
  std::optional<Pfn> allocate(PageSize s) { return allocate(order_of(s)); }
  // Frees the block allocated at `head` with `order`, merging buddies.
  // Throws std::invalid_argument if that is not an allocated block (double
  // free, wrong order, a tail frame): a bug in the caller.
  void free(Pfn head, unsigned order);
  void free(Pfn head, PageSize s) { free(head, order_of(s)); }

  // Metadata of an allocated frame: every frame of a block of up to 2 MiB, and
  // the first 2 MiB of a larger block (its head describes the block). The
  // reference stays valid until the block is freed.
  // Throws std::out_of_range for a free frame or one without metadata.
  PageFrame& meta(Pfn p);
  [[nodiscard]] const PageFrame& meta(Pfn p) const;
  // As meta(), nullptr instead of throwing.
  [[nodiscard]] const PageFrame* find_meta(Pfn p) const;

  [[nodiscard]] uint64_t frames_total() const { return frames_; }  // all of memory
  [[nodiscard]] uint64_t frames_managed() const { return frames_ - low_; }
  [[nodiscard]] uint64_t frames_free() const { return free_frames_; }
  [[nodiscard]] uint64_t frames_used() const { return frames_managed() - free_frames_; }
  // Free blocks of exactly `order`: the maximal free aligned blocks of the
  // buddy system (counted as allocations split them and frees merge them).
  [[nodiscard]] uint64_t free_blocks(unsigned order) const { return nfree_.at(order); }
  // Metadata chunks held: one 64-frame section (1.5 KiB of host memory) per
  // 256 KiB described of each block of 64 frames or more, plus one entry
  // (24 bytes, plus its hash slot) per frame of each smaller block.
  [[nodiscard]] uint64_t metadata_chunks() const { return sections_.size() + singles_.size(); }
  // Records of the free-space index: 2 MiB chunks with a bitmap (64 bytes
  // each; the chunks partly used or partly outside the managed range), and
  // nodes (the root and every partly used 16 MiB, 128 MiB, 1 GiB, 8 GiB, ...
  // region: 328 bytes each up to 1 GiB, 1.3 KiB above).
  [[nodiscard]] uint64_t index_chunks() const { return index_chunks_; }
  [[nodiscard]] uint64_t index_nodes() const { return index_nodes_; }
  [[nodiscard]] FramePlacement placement() const { return placement_; }

 private:
  // Blocks of at least 2^kSectionShift frames have sections, smaller ones
  // pool entries; metadata covers at most 2^kDescribedOrder frames (2 MiB).
  static constexpr unsigned kSectionShift = 6;  // 64 frames = 256 KiB
  static constexpr uint64_t kSectionMask = (1ULL << kSectionShift) - 1;
  static constexpr unsigned kDescribedOrder = 9;
  static constexpr unsigned kPoolShift = 8;  // pool arrays of 256 entries (6 KiB)
  static constexpr uint64_t kPoolMask = (1ULL << kPoolShift) - 1;
  struct Section {
    std::array<PageFrame, 1U << kSectionShift> frame{};
  };

  // The free-space index. A region of order n (2^n frames) is wholly free,
  // wholly used (allocated, or outside the managed range) or partly used;
  // only a partly used one has a record (the root always has one):
  //   - order 9 (2 MiB): a Chunk, one bit per frame;
  //   - order 12, 15, 18, ...: a Node of 8 children of order n - 3, with
  //     masks of the wholly free and wholly used children, the records of
  //     the others, and per child the number of free aligned slots of every
  //     order below n - 3 (counts of the larger orders follow from the free
  //     mask). Nodes up to 1 GiB count in 16 bits (a child holds at most
  //     2^15 slots of an order below 15), larger ones in 64.
  static constexpr unsigned kChunkOrder = 9;
  static constexpr unsigned kFanShift = 3;  // 8 children per node
  static constexpr unsigned kMaxDepth = 16;
  struct Chunk {
    std::array<uint64_t, 8> used{};  // bit set: frame allocated or unmanaged
  };
  // Per child, the free aligned slots of orders 0 .. kRows - 1 (entries of
  // the child's order and above are not kept: they are 0 and unused), so
  // that a change inside one child is one vector add to its column.
  template <class Count, unsigned kRows>
  struct Node {
    std::array<std::array<Count, kRows>, 8> slots{};  // [child][order]
    std::array<void*, 8> child{};                     // records of partly used children
    uint8_t free_mask = 0;                            // wholly free children
    uint8_t full_mask = 0;                            // wholly used children
  };
  using LowNode = Node<uint16_t, 16>;   // orders 12 .. 18 (children of order 9 .. 15)
  using HighNode = Node<uint64_t, 20>;  // orders 21 and up (slot orders 0 .. 18, padded)
  // Slots of every order that a block of `order` gives or takes in each
  // region holding it, when the free block it joins or leaves has order
  // `merged`: 2^(order - o) of each order o <= order, one of each order up
  // to `merged`, none above (both widths; orders 16 .. 19 of `low` unused).
  struct Delta {
    void set(unsigned order, unsigned merged);
    std::array<uint16_t, 16> low;
    std::array<uint64_t, 20> high;
  };

  // The first frame of the `r`-th free aligned slot of `order`, in address
  // order (r < total_[order]).
  [[nodiscard]] uint64_t pick(unsigned order, uint64_t r) const;
  // Marks the free block [pfn, pfn + 2^order) used; returns the order of
  // the largest aligned free block that held it (not capped at 18) and
  // sets `d` for them.
  unsigned mark_used(uint64_t pfn, unsigned order, Delta& d);
  // Marks the used block [pfn, pfn + 2^order) free; returns the order of
  // the largest aligned free block that now holds it (not capped at 18) and
  // sets `d` for them.
  unsigned mark_free(uint64_t pfn, unsigned order, Delta& d);
  // Updates total_, nfree_ and free_frames_ for a block of `order` taken
  // from (sign -1) or merged into (+1) a free block of order `merged`.
  void account(unsigned order, unsigned merged, const Delta& d, int sign);
  // A record of a region of `order`, wholly free or wholly used.
  void* new_record(unsigned order, bool free);
  // Deletes a record and those below it.
  void delete_record(void* rec, unsigned order);
  // f(node) with the node record `rec` of `order` as its type.
  template <class F>
  static decltype(auto) with_node(void* rec, unsigned order, F&& f);

  [[nodiscard]] PageFrame* slot(uint64_t pfn) const;
  [[nodiscard]] PageFrame& pool_entry(uint64_t e) const {
    return pool_[e >> kPoolShift][e & kPoolMask];
  }
  uint64_t take_pool_entry();

  uint64_t frames_;  // frames of physical memory
  uint64_t low_;     // first managed frame
  FramePlacement placement_;
  SplitMix64 rng_;
  uint64_t free_frames_ = 0;
  std::array<uint64_t, kNumOrders> nfree_{};  // free (maximal) blocks per order
  std::array<uint64_t, 20> total_{};          // free aligned slots per order (19: unused)
  unsigned root_order_ = 0;                   // 21, 24, ...: 2^root_order_ >= frames_
  HighNode* root_ = nullptr;
  uint64_t index_chunks_ = 0;
  uint64_t index_nodes_ = 0;
  // Metadata. Sections and pool arrays are heap objects that never move, so
  // a PageFrame& stays valid while its frame is allocated, whatever the
  // hash tables do.
  FlatMap<uint64_t, std::unique_ptr<Section>> sections_;  // by pfn >> kSectionShift
  std::unique_ptr<Section> spare_;                        // one section kept against churn
  FlatMap<uint64_t, uint64_t> singles_;                   // pfn -> pool entry (small blocks)
  std::vector<std::unique_ptr<PageFrame[]>> pool_;        // 2^kPoolShift entries each
  std::vector<uint64_t> pool_free_;  // entries released, reused first (the pool keeps its peak)
  uint64_t pool_used_ = 0;           // entries ever handed out
};

}  // namespace mmusim
