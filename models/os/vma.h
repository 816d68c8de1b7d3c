// Virtual memory areas of one address space (Linux's vm_area_struct and its
// maple tree, os-model.md §2.0, §2.7): [start, end) page-aligned ranges with
// VM_* flags, anonymous, file-backed or shared-anonymous, kept in a sorted
// map keyed by start, so find() is O(log n). VMAs never overlap. Linux's
// merge rules (vma_merge) are simplified here: two VMAs that touch merge when
// their flags, kind, file description (the same OpenFile, as Linux compares
// struct file pointers), shared-memory object and page offsets agree; the
// presence of an anon_vma never prevents a merge within one address space.
// The tree counts its VMAs per backing object (file, shmem object) and tells
// a hook when an object's first VMA appears or its last goes: the kernel's
// reverse map of file pages (rmap.cc) lists the address spaces mapping each.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "models/common/types.h"
#include "models/os/file_cache.h"

namespace mmusim {

// Linux's VM_* flag values (include/linux/mm.h).
namespace vm {
constexpr uint64_t kRead = 0x1, kWrite = 0x2, kExec = 0x4, kShared = 0x8;
constexpr uint64_t kMayRead = 0x10, kMayWrite = 0x20, kMayExec = 0x40, kMayShare = 0x80;
constexpr uint64_t kGrowsDown = 0x100, kLocked = 0x2000, kSeqRead = 0x8000, kRandRead = 0x10000,
                   kDontCopy = 0x20000, kDontExpand = 0x40000, kAccount = 0x100000,
                   kNoReserve = 0x200000, kWipeOnFork = 0x2000000, kHugePage = 0x20000000,
                   kNoHugePage = 0x40000000;
constexpr uint64_t kAccessFlags = kRead | kWrite | kExec;
constexpr uint64_t kReadHints = kSeqRead | kRandRead;
}  // namespace vm

constexpr uint64_t kPageBytes = 4096;
constexpr uint64_t page_down(uint64_t a) { return a & ~(kPageBytes - 1); }
constexpr uint64_t page_up(uint64_t a) { return (a + kPageBytes - 1) & ~(kPageBytes - 1); }

// What backs a VMA (Linux tells these apart by vm_file, vm_ops and the
// mm's start_brk/start_stack; the model keeps the kind for reports and brk).
enum class VmaKind : uint8_t {
  kAnon,   // private anonymous (MAP_PRIVATE | MAP_ANONYMOUS, bss)
  kFile,   // a file mapping (private or shared)
  kBrk,    // the heap (anonymous, grown by brk)
  kStack,  // the process stack (anonymous, grows down)
  kVdso,   // vdso/vvar: special, never faults in the model (treated as anonymous)
  kShmem,  // shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS): a tmpfs object
};

// Shared anonymous memory (Linux: a shmem file): its pages, by page offset,
// shared by every VMA that maps it (fork keeps sharing it).
struct ShmemObject {
  uint32_t id = 0;
  std::map<uint64_t, Pfn> pages;  // page offset -> frame (refcount: 1 for the object + mappings)
};

struct Vma {
  uint64_t start = 0, end = 0;  // [start, end), page-aligned, start < end
  uint64_t flags = 0;           // vm::*
  VmaKind kind = VmaKind::kAnon;
  uint32_t file_id = 0;  // kFile
  // Page offset of `start`: in the file (kFile), in the object (kShmem), or
  // start >> 12 for anonymous memory (as Linux sets vm_pgoff), so that a
  // moved anonymous VMA does not merge with its new neighbours.
  uint64_t pgoff = 0;
  std::shared_ptr<OpenFile> file;      // kFile: the description mapped (readahead state)
  std::shared_ptr<ShmemObject> shmem;  // kShmem
  bool anon_vma = false;               // anonymous pages were faulted in (or inherited)
  uint64_t max_size = 0;               // kStack: growth limit in bytes (RLIMIT_STACK)

  [[nodiscard]] uint64_t pages() const { return (end - start) / kPageBytes; }
  [[nodiscard]] uint64_t pgoff_of(uint64_t addr) const {
    return pgoff + (addr - start) / kPageBytes;
  }
  [[nodiscard]] bool shared() const { return (flags & vm::kShared) != 0; }
  [[nodiscard]] bool is_file() const { return kind == VmaKind::kFile; }
  // Anonymous private memory (anon, brk, stack, vdso): demand-zero pages.
  [[nodiscard]] bool is_anon() const { return kind != VmaKind::kFile && kind != VmaKind::kShmem; }
  // Linux's is_cow_mapping(): private and possibly writable.
  [[nodiscard]] bool is_cow() const {
    return (flags & (vm::kShared | vm::kMayWrite)) == vm::kMayWrite;
  }
  // Charged to Committed_AS (os-model.md §1.8).
  [[nodiscard]] bool accounted() const { return (flags & vm::kAccount) != 0; }
};

// The object whose pages a VMA maps, for the reverse map: a file
// (kBackingFile | file id) or a shmem object (kBackingShmem | object id);
// nullopt for private anonymous memory (found through the anon family).
constexpr uint64_t kBackingFile = uint64_t{1} << 32, kBackingShmem = uint64_t{2} << 32;
std::optional<uint64_t> backing_key(const Vma& v);

// VM flags of a new mapping: prot (PROT_*) and whether it is shared, with
// the VM_MAY* bits Linux sets (MAYWRITE for a shared file only if the file
// was opened for writing).
uint64_t vm_flags_for(uint32_t prot, bool shared, bool may_write_shared = true);
// PROT_* bits of VM flags.
uint32_t prot_of(uint64_t flags);

// True when `b` (starting where `a` ends) may merge into `a`.
bool can_merge(const Vma& a, const Vma& b);

class VmaTree {
 public:
  // Told when the first VMA of a backing object (backing_key) appears in the
  // tree (mapped = true) and when its last one goes (false), so the kernel
  // keeps its per-file registry of mapping address spaces.
  using BackingHook = std::function<void(uint64_t key, bool mapped)>;
  void set_backing_hook(BackingHook h) { hook_ = std::move(h); }
  // VMAs per backing object mapped now.
  [[nodiscard]] const std::map<uint64_t, uint32_t>& backing() const { return backing_; }

  // The VMA containing `addr`, or null.
  [[nodiscard]] const Vma* find(uint64_t addr) const;
  Vma* find(uint64_t addr);
  // Linux's find_vma(): the first VMA with end > addr, or null.
  [[nodiscard]] const Vma* find_next(uint64_t addr) const;
  // The last VMA with start < addr (Linux's prev of a gap), or null.
  [[nodiscard]] const Vma* find_prev(uint64_t addr) const;
  // True when no VMA intersects [start, end).
  [[nodiscard]] bool is_free(uint64_t start, uint64_t end) const;

  // Inserts a VMA that overlaps none (std::logic_error otherwise).
  void insert(Vma v);
  // Splits the VMA containing `addr` strictly inside it into [start, addr)
  // and [addr, end) (file offsets follow). Returns true when it split.
  bool split(uint64_t addr);
  // Removes every VMA part inside [start, end) (splitting at the edges) and
  // returns them in address order.
  std::vector<Vma> remove_range(uint64_t start, uint64_t end);
  // Splits at start and end and calls f on every VMA inside [start, end).
  void for_range(uint64_t start, uint64_t end, const std::function<void(Vma&)>& f);
  // The VMAs intersecting [start, end) (pointers valid until the next change).
  std::vector<const Vma*> overlapping(uint64_t start, uint64_t end) const;
  // Merges the VMA ending at `addr` with the one starting there when
  // compatible; returns true when merged.
  bool merge_at(uint64_t addr);
  // Merges around every VMA boundary in [start, end] (both ends included).
  uint64_t merge_range(uint64_t start, uint64_t end);

  [[nodiscard]] size_t size() const { return map_.size(); }
  [[nodiscard]] bool empty() const { return map_.empty(); }
  // Levels of a maple tree of 16-way nodes holding size() VMAs (>= 1): the
  // node reads of a lookup.
  [[nodiscard]] unsigned depth() const;
  // Pages mapped (Linux's total_vm).
  [[nodiscard]] uint64_t total_pages() const;
  [[nodiscard]] const std::map<uint64_t, Vma>& all() const { return map_; }
  // Changing a VMA's bounds or flags through this is fine; erasing or
  // inserting through it bypasses the backing counts (use insert and
  // remove_range for file and shmem VMAs).
  std::map<uint64_t, Vma>& all() { return map_; }
  // Removes every VMA (the hook hears of every backing object going).
  void clear();

 private:
  void count(const Vma& v, int d);

  std::map<uint64_t, Vma> map_;  // by start
  std::map<uint64_t, uint32_t> backing_;
  BackingHook hook_;
};

}  // namespace mmusim
