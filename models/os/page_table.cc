#include "models/os/page_table.h"

#include <algorithm>
#include <stdexcept>

namespace mmusim {
namespace {

// Bits of a parent's table entry that the child's copy keeps.
constexpr uint64_t kTableFlags = pte::kRW | pte::kUS | pte::kPWT | pte::kPCD | pte::kXD;
// Bits clone() may clear in a child's leaf on the decider's word.
constexpr uint64_t kChildClearable = pte::kRW | pte::kUS | pte::kA | pte::kD | pte::kG;

}  // namespace

std::string_view map_result_name(MapResult r) {
  switch (r) {
    case MapResult::kOk: return "ok";
    case MapResult::kAlreadyMapped: return "already mapped";
    case MapResult::kSizeConflict: return "page-size conflict";
    case MapResult::kNoMemory: return "out of memory for a page table";
    case MapResult::kUnsupportedSize: return "page size not mappable in this paging mode";
    case MapResult::kMisaligned: return "frame not aligned to the page size";
  }
  return "?";
}

// A child table in clone(): created on first need, hooked into the slot
// `index` of the table above with entry flags `flags`.
struct PageTable::Lazy {
  Lazy* up = nullptr;
  unsigned level = 0;
  uint64_t table = 0;  // physical base, valid when `created`
  bool created = false;
  unsigned index = 0;
  uint64_t flags = 0;
};

PageTable::PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames, uint32_t owner)
    : mode_(&paging_mode_info(mode)), mem_(mem), frames_(frames), owner_(owner) {
  if (!init(nullptr)) {
    throw std::runtime_error("physical memory exhausted while allocating a page table");
  }
}

PageTable::PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames, uint32_t owner,
                     PageTableLog* log, bool* ok)
    : mode_(&paging_mode_info(mode)), mem_(mem), frames_(frames), owner_(owner) {
  *ok = init(log);
}

std::optional<PageTable> PageTable::create(PagingMode mode, PhysMem& mem,
                                           PageFrameAllocator& frames, uint32_t owner,
                                           PageTableLog* log) {
  bool ok = false;
  PageTable t(mode, mem, frames, owner, log, &ok);
  if (!ok) return std::nullopt;
  return std::optional<PageTable>(std::move(t));
}

PageTable::PageTable(PageTable&& o) noexcept
    : mode_(o.mode_),
      mem_(o.mem_),
      frames_(o.frames_),
      owner_(o.owner_),
      root_(o.root_),
      alive_(o.alive_),
      tables_(o.tables_) {
  o.alive_ = false;
  o.root_ = PhysAddr();
  o.tables_ = 0;
}

bool PageTable::init(PageTableLog* log) {
  if (mode_->mode == PagingMode::kOff) return true;
  auto r = new_table(0, log);
  if (!r) return false;
  root_ = frame_base(*r);
  alive_ = true;
  if (mode_->mode == PagingMode::kPae) {
    // The four PDPTEs are loaded into registers with CR3, so, as Linux does,
    // every one of them points at a page directory from the start.
    for (unsigned i = 0; i < 4; ++i) {
      auto pd = new_table(1, log);
      if (!pd) {
        destroy(log);
        return false;
      }
      wr(PhysAddr(root_.value() + uint64_t{8} * i), 0,
         make_entry(*mode_, 0, false, frame_base(*pd).value(), 0), log);
    }
  }
  return true;
}

uint64_t PageTable::user_end() const {
  switch (mode_->mode) {
    case PagingMode::kOff: return 0;
    case PagingMode::k32Bit:
    case PagingMode::kPae: return 1ULL << 32;
    case PagingMode::k4Level: return 1ULL << 47;
    case PagingMode::k5Level: return 1ULL << 56;
  }
  return 0;
}

std::optional<unsigned> PageTable::leaf_level(PageSize s) const {
  for (unsigned l = 0; l < mode_->levels; ++l) {
    if (mode_->level[l].may_be_leaf && mode_->level[l].leaf_size == s) return l;
  }
  return std::nullopt;
}

bool PageTable::is_leaf(unsigned level, uint64_t e) const {
  // The last level always maps a page (there, bit 7 is PAT, not PS).
  return level + 1 == mode_->levels || (mode_->level[level].may_be_leaf && (e & pte::kPS));
}

uint64_t PageTable::rd(PhysAddr ea, PageTableLog* log) const {
  if (log) log->reads.push_back(ea);
  return mem_.read_entry(ea, mode_->entry_bytes);
}

void PageTable::wr(PhysAddr ea, uint64_t old, uint64_t v, PageTableLog* log) {
  mem_.write_entry(ea, mode_->entry_bytes, v);
  if (log) log->writes.push_back(ea);
  if ((old == 0) != (v == 0)) frames_.meta(pfn_of(ea)).mapcount += v != 0 ? 1 : -1;
}

std::optional<Pfn> PageTable::new_table(unsigned level, PageTableLog* log) {
  auto f = frames_.allocate(0U);
  if (!f) return std::nullopt;
  PageFrame& pf = frames_.meta(*f);
  pf.set(FrameFlag::kPageTable);
  pf.owner = owner_;
  pf.index = level;
  mem_.zero(*f);  // a recycled frame must not show its previous entries
  ++tables_;
  if (log) log->tables_allocated.push_back(*f);
  return f;
}

void PageTable::free_table(Pfn t, PageTableLog* log) {
  mem_.release(t);
  frames_.free(t, 0U);
  --tables_;
  if (log) log->tables_freed.push_back(t);
}

PageTable::Slot PageTable::descend(LinearAddr a, unsigned target, PageTableLog* log) {
  const PagingModeInfo& m = *mode_;
  uint64_t table = root_.value();
  for (unsigned l = 0;; ++l) {
    PhysAddr ea(table + uint64_t{level_index(m, l, a)} * m.entry_bytes);
    uint64_t e = rd(ea, log);
    if (l == target) return {Descend::kOk, ea, e};
    if (!(e & pte::kP)) {
      // A non-present software value here belongs to a larger page.
      if (e != 0) return {Descend::kLargerLeaf, ea, e};
      auto t = new_table(l + 1, log);
      if (!t) return {Descend::kNoMemory, ea, e};
      const uint64_t flags = m.level[l].in_registers ? 0 : (pte::kRW | pte::kUS);
      const uint64_t ne = make_entry(m, l, false, frame_base(*t).value(), flags);
      wr(ea, e, ne, log);
      e = ne;
    } else if (is_leaf(l, e)) {
      return {Descend::kLargerLeaf, ea, e};
    }
    table = entry_address(m, l, e, false);
  }
}

MapResult PageTable::map(LinearAddr a, Pfn pfn, PageSize s, uint64_t flags, PageTableLog* log) {
  const PagingModeInfo& m = *mode_;
  auto level = alive_ ? leaf_level(s) : std::nullopt;
  if (!level) return MapResult::kUnsupportedSize;
  if ((pfn.value() & ((page_bytes(s) >> 12) - 1)) != 0) return MapResult::kMisaligned;
  Slot sl = descend(a, *level, log);
  if (sl.status == Descend::kLargerLeaf) return MapResult::kSizeConflict;
  if (sl.status == Descend::kNoMemory) return MapResult::kNoMemory;
  if (sl.entry & pte::kP) {
    return is_leaf(*level, sl.entry) ? MapResult::kAlreadyMapped : MapResult::kSizeConflict;
  }
  if (m.entry_bytes == 4 || !m.has_xd) flags &= ~pte::kXD;
  wr(sl.ea, sl.entry, make_entry(m, *level, true, pfn.value() << 12, flags), log);
  return MapResult::kOk;
}

std::optional<PhysAddr> PageTable::leaf_entry_address(LinearAddr a, PageSize s, PageTableLog* log) {
  auto level = alive_ ? leaf_level(s) : std::nullopt;
  if (!level) return std::nullopt;
  Slot sl = descend(a, *level, log);
  if (sl.status != Descend::kOk) return std::nullopt;
  return sl.ea;
}

std::optional<uint64_t> PageTable::write_leaf_entry(LinearAddr a, PageSize s, uint64_t value,
                                                    PageTableLog* log) {
  auto level = alive_ ? leaf_level(s) : std::nullopt;
  if (!level) return std::nullopt;
  Slot sl = descend(a, *level, log);
  if (sl.status != Descend::kOk) return std::nullopt;
  wr(sl.ea, sl.entry, value, log);
  return sl.entry;
}

std::optional<Mapping> PageTable::find(LinearAddr a, PageTableLog* log) const {
  if (!alive_) return std::nullopt;
  const PagingModeInfo& m = *mode_;
  uint64_t table = root_.value();
  for (unsigned l = 0; l < m.levels; ++l) {
    PhysAddr ea(table + uint64_t{level_index(m, l, a)} * m.entry_bytes);
    const uint64_t e = rd(ea, log);
    if (!(e & pte::kP)) return std::nullopt;
    if (is_leaf(l, e)) {
      return Mapping{Pfn(entry_address(m, l, e, true) >> 12), m.level[l].leaf_size, e, ea, l};
    }
    table = entry_address(m, l, e, false);
  }
  return std::nullopt;
}

std::optional<Mapping> PageTable::lookup(LinearAddr a, PageTableLog* log) const {
  return find(a, log);
}

std::optional<Mapping> PageTable::unmap(LinearAddr a, PageTableLog* log) {
  auto mp = find(a, log);
  if (mp) wr(mp->entry_addr, mp->entry, 0, log);
  return mp;
}

std::optional<uint64_t> PageTable::protect(LinearAddr a, uint64_t flags, PageTableLog* log) {
  auto mp = find(a, log);
  if (!mp) return std::nullopt;
  const PagingModeInfo& m = *mode_;
  uint64_t mask = pte::kRW | pte::kUS;
  if (m.entry_bytes == 8 && m.has_xd) mask |= pte::kXD;
  wr(mp->entry_addr, mp->entry, (mp->entry & ~mask) | (flags & mask), log);
  return mp->entry;
}

bool PageTable::ensure(PageTable& child, Lazy& z, CloneStats& st, PageTableLog* log) {
  if (z.created) return true;
  if (!ensure(child, *z.up, st, log)) return false;
  auto t = child.new_table(z.level, log);
  if (!t) return false;
  ++st.tables_created;
  const PagingModeInfo& m = *mode_;
  child.wr(PhysAddr(z.up->table + uint64_t{z.index} * m.entry_bytes), 0,
           make_entry(m, z.up->level, false, frame_base(*t).value(), z.flags), log);
  z.table = frame_base(*t).value();
  z.created = true;
  return true;
}

bool PageTable::clone_level(PageTable& child, unsigned l, uint64_t src, Lazy& dst, uint64_t base,
                            const CloneDecider& decide, CloneStats& st, PageTableLog* log) {
  const PagingModeInfo& m = *mode_;
  const PagingLevel& lv = m.level[l];
  uint64_t n = uint64_t{1} << lv.bits;
  if (l == 0) n = std::min(n, user_end() >> lv.shift);
  const bool may_hold_leaf = lv.may_be_leaf || l + 1 == m.levels;
  for (uint64_t i = 0; i < n; ++i) {
    const PhysAddr ea(src + i * m.entry_bytes);
    const uint64_t e = rd(ea, log);
    if (e == 0) continue;
    const uint64_t va = base + (i << lv.shift);
    const bool present = (e & pte::kP) != 0;
    if (!present || is_leaf(l, e)) {
      if (!may_hold_leaf) continue;  // never written by this class
      const CloneDecision d = decide ? decide(LinearAddr(va), lv.leaf_size, e) : CloneDecision{};
      if (!d.copy) continue;
      uint64_t pe = e;
      if (present && d.write_protect && (e & pte::kRW)) {
        pe = e & ~pte::kRW;
        wr(ea, e, pe, log);
        ++st.write_protected;
      }
      const uint64_t ce = present ? pe & ~(d.child_clear & kChildClearable) : e;
      if (!ensure(child, dst, st, log)) return false;
      child.wr(PhysAddr(dst.table + i * m.entry_bytes), 0, ce, log);
      ++(present ? st.leaves_copied : st.nonpresent_copied);
      continue;
    }
    Lazy sub;
    sub.up = &dst;
    sub.level = l + 1;
    sub.index = static_cast<unsigned>(i);
    sub.flags = e & kTableFlags;
    if (lv.in_registers) {
      // PAE: the child's page directories exist from its creation.
      const uint64_t pdpte = mem_.read_entry(PhysAddr(dst.table + i * 8), 8);
      sub.table = entry_address(m, l, pdpte, false);
      sub.created = true;
    }
    if (!clone_level(child, l + 1, entry_address(m, l, e, false), sub, va, decide, st, log)) {
      return false;
    }
  }
  return true;
}

CloneResult PageTable::clone(PageTable& parent, const CloneDecider& decide, PageTableLog* log,
                             uint32_t owner) {
  CloneResult r;
  if (!parent.alive_) return r;
  auto child = create(parent.mode_->mode, parent.mem_, parent.frames_, owner, log);
  if (!child) return r;
  r.stats.tables_created = child->tables_;
  Lazy root;
  root.table = child->root_.value();
  root.created = true;
  if (!parent.clone_level(*child, 0, parent.root_.value(), root, 0, decide, r.stats, log)) {
    child->destroy(log);
    return r;
  }
  r.table.emplace(std::move(*child));
  return r;
}

uint64_t PageTable::prune(unsigned l, uint64_t table, uint64_t base, uint64_t first, uint64_t last,
                          PageTableLog* log) {
  const PagingModeInfo& m = *mode_;
  const PagingLevel& lv = m.level[l];
  const uint64_t span = uint64_t{1} << (lv.shift + lv.bits);  // bytes this table covers
  const uint64_t i0 = first <= base ? 0 : (first - base) >> lv.shift;
  const uint64_t i1 = std::min(last - base, span - 1) >> lv.shift;
  uint64_t freed = 0;
  for (uint64_t i = i0; i <= i1; ++i) {
    const PhysAddr ea(table + i * m.entry_bytes);
    const uint64_t e = rd(ea, log);
    if (!(e & pte::kP) || is_leaf(l, e)) continue;
    const uint64_t sub = entry_address(m, l, e, false);
    if (l + 2 < m.levels) freed += prune(l + 1, sub, base + (i << lv.shift), first, last, log);
    if (lv.in_registers) continue;  // PAE page directories stay with the PDPT
    if (frames_.meta(Pfn(sub >> 12)).mapcount == 0) {
      wr(ea, e, 0, log);
      free_table(Pfn(sub >> 12), log);
      ++freed;
    }
  }
  return freed;
}

uint64_t PageTable::free_empty_tables(LinearAddr start, LinearAddr end, PageTableLog* log) {
  if (!alive_ || end <= start) return 0;
  const uint64_t mask = mode_->linear_bits >= 64 ? ~0ULL : (uint64_t{1} << mode_->linear_bits) - 1;
  uint64_t first = start.value() & mask, last = (end.value() - 1) & mask;
  if (first > last) {  // across the canonical hole: everything
    first = 0;
    last = mask;
  }
  return prune(0, root_.value(), 0, first, last, log);
}

void PageTable::free_subtree(unsigned l, uint64_t table, DestroyStats& st, PageTableLog* log) {
  const PagingModeInfo& m = *mode_;
  const Pfn t(table >> 12);
  const auto used = static_cast<uint64_t>(frames_.meta(t).mapcount);
  if (l + 1 == m.levels) {
    st.entries_dropped += used;  // a last-level table holds leaves only
  } else {
    // Read entries until every non-zero one has been seen.
    uint64_t seen = 0;
    for (uint64_t i = 0; seen < used && i < (uint64_t{1} << m.level[l].bits); ++i) {
      const uint64_t e = rd(PhysAddr(table + i * m.entry_bytes), log);
      if (e == 0) continue;
      ++seen;
      if (!(e & pte::kP) || is_leaf(l, e)) {
        ++st.entries_dropped;
      } else {
        free_subtree(l + 1, entry_address(m, l, e, false), st, log);
      }
    }
  }
  free_table(t, log);
  ++st.tables_freed;
}

DestroyStats PageTable::destroy(PageTableLog* log) {
  DestroyStats st;
  if (!alive_) return st;
  free_subtree(0, root_.value(), st, log);
  alive_ = false;
  root_ = PhysAddr();
  return st;
}

}  // namespace mmusim
