#include "models/os/page_table.h"

#include <stdexcept>

namespace mmusim {

PageTable::PageTable(PagingMode mode, PhysMem& mem, PageFrameAllocator& frames)
    : mode_(&paging_mode_info(mode)), mem_(mem), frames_(frames) {
  if (mode == PagingMode::kOff) return;
  root_ = new_table();
  if (mode == PagingMode::kPae) {
    // The four PDPTEs are loaded into registers with CR3, so, as Linux does,
    // every one of them points at a page directory from the start.
    const PagingModeInfo& m = *mode_;
    for (unsigned i = 0; i < 4; ++i) {
      mem_.write64(PhysAddr(root_.value() + uint64_t{8} * i),
                   make_entry(m, 0, false, new_table().value(), 0));
    }
  }
}

PhysAddr PageTable::new_table() {
  auto f = frames_.allocate(PageSize::k4K);
  if (!f) throw std::runtime_error("physical memory exhausted while allocating a page table");
  ++tables_;
  frames_.meta(*f).set(FrameFlag::kPageTable);
  mem_.zero(*f);  // a recycled frame must not show its previous contents
  return frame_base(*f);
}

PhysAddr PageTable::leaf_entry_address(LinearAddr a, PageSize s) {
  const PagingModeInfo& m = *mode_;
  uint64_t table = root_.value();
  for (unsigned l = 0; l < m.levels; ++l) {
    PhysAddr ea(table + uint64_t{level_index(m, l, a)} * m.entry_bytes);
    const PagingLevel& lv = m.level[l];
    if (lv.may_be_leaf && lv.leaf_size == s) return ea;
    uint64_t e = mem_.read_entry(ea, m.entry_bytes);
    if (!(e & pte::kP)) {
      PhysAddr t = new_table();
      uint64_t flags = lv.in_registers ? 0 : (pte::kRW | pte::kUS);
      e = make_entry(m, l, false, t.value(), flags);
      mem_.write_entry(ea, m.entry_bytes, e);
    } else if (lv.may_be_leaf && (e & pte::kPS)) {
      return PhysAddr(~0ULL);  // a larger page is mapped here
    }
    table = entry_address(m, l, e, false);
  }
  return PhysAddr(~0ULL);
}

bool PageTable::map(LinearAddr a, Pfn pfn, PageSize s, uint64_t flags) {
  PhysAddr ea = leaf_entry_address(a, s);
  if (ea.value() == ~0ULL) return false;
  const PagingModeInfo& m = *mode_;
  unsigned level = 0;
  while (!(m.level[level].may_be_leaf && m.level[level].leaf_size == s)) ++level;
  if (m.entry_bytes == 4 || !m.has_xd) flags &= ~pte::kXD;
  mem_.write_entry(ea, m.entry_bytes, make_entry(m, level, true, pfn.value() << 12, flags));
  return true;
}

bool PageTable::is_mapped(LinearAddr a) const {
  const PagingModeInfo& m = *mode_;
  uint64_t table = root_.value();
  for (unsigned l = 0; l < m.levels; ++l) {
    PhysAddr ea(table + uint64_t{level_index(m, l, a)} * m.entry_bytes);
    uint64_t e = mem_.read_entry(ea, m.entry_bytes);
    if (!(e & pte::kP)) return false;
    const PagingLevel& lv = m.level[l];
    if (l + 1 == m.levels || (lv.may_be_leaf && (e & pte::kPS))) return true;
    table = entry_address(m, l, e, false);
  }
  return false;
}

}  // namespace mmusim
