// The segmentation unit core: logical (segment register, offset) → linear
// address, with the checks of Intel SDM Vol. 3A ch. 3, 5 and 20, and segment
// register loads (MOV/POP Sreg, far JMP for CS) as a two-step exchange with a
// caller that owns memory. Plain C++, no SystemC.
//
// Invariants: results and faults are values (never exceptions on the access
// path); costs are in core cycles; a register's hidden part (SegmentCache)
// always holds the derived hot-path fields for the current mode.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "models/arch/descriptor.h"
#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/seg/seg_config.h"

namespace mmusim {

enum class SegFaultKind : uint8_t { kNone, kGP, kSS, kNP };
enum class SegFaultReason : uint8_t {
  kNone,
  kLimit,             // offset range outside the segment limit (or real-mode 64 KiB)
  kWriteToCode,       // write through a code segment
  kWriteToReadOnly,   // write through a read-only data segment
  kExecuteFromData,   // instruction fetch through a data segment
  kReadFromExecOnly,  // data read through an execute-only code segment
  kNonCanonical,      // long mode: linear address not canonical
  kNullSelector,      // use of a null selector, or null loaded into CS/SS
  kPrivilege,         // CPL/RPL/DPL check of a selector load
  kNotPresent,        // descriptor P = 0
  kTableLimit,        // selector index beyond the GDT/LDT limit
  kSystemDescriptor,  // S = 0 descriptor loaded into a segment register
  kLoadType,          // wrong segment type for the register (e.g. read-only data in SS)
  kReservedBits,      // long mode: code descriptor with L = 1 and D = 1
};
constexpr int kNumSegFaultReasons = 14;
std::string_view seg_fault_kind_name(SegFaultKind k);      // "none", "gp", "ss", "np"
std::string_view seg_fault_reason_name(SegFaultReason r);  // "limit", "write_to_code", ...

struct SegFault {
  SegFaultKind kind = SegFaultKind::kNone;
  SegFaultReason reason = SegFaultReason::kNone;
  SegReg reg = SegReg::kDS;
  Selector selector;        // the register's selector (access) or the one being loaded
  uint16_t error_code = 0;  // 0 for access faults; selector & 0xFFFC for #GP/#NP/#SS(sel)
  VirtAddr offset;          // offending offset (access faults), 0 for loads
};

// Result of translate(): ok() → linear/cost valid; else fault describes it.
// A plain struct (not a variant) because it sits on the per-access hot path.
struct SegResult {
  LinearAddr linear;
  Cycles cost;  // segmentation cycles for this access (base_cost when base != 0)
  SegFault fault;
  [[nodiscard]] bool ok() const { return fault.kind == SegFaultKind::kNone; }
};

// A selector load completed (register updated).
struct LoadDone {
  Cycles cost;                  // load_cost when a descriptor was read, else 0
  bool desc_read = false;       // completed by finish_load after a descriptor read
  bool desc_cache_hit = false;  // served without a read by the descriptor cache
  bool write_accessed = false;  // caller must write `descriptor` back to `desc_addr`
  LinearAddr desc_addr;         // where the descriptor lives (protected/long modes)
  uint64_t descriptor = 0;      // descriptor as held now (Accessed bit set)
};
// The caller reads 8 bytes at `addr` (timed) and calls finish_load with them.
struct ReadDescriptor {
  LinearAddr addr;
};
using SelectorLoad = std::variant<LoadDone, ReadDescriptor, SegFault>;
using LoadResult = std::variant<LoadDone, SegFault>;

// Hidden (descriptor-cache) part of one segment register.
struct SegmentCache {
  Selector selector;
  uint64_t base = 0;    // descriptor base (FS/GS in long mode: the 64-bit base)
  uint64_t limit = 0;   // effective limit in bytes (G scaling applied)
  uint64_t raw = 0;     // descriptor bits as loaded (Accessed set); 0 in real/flat mode
  bool usable = false;  // false: null selector (protected) or never loaded
  // Derived for translate(): valid offsets [lo, hi], access kinds allowed,
  // the base actually added, and the per-access cost.
  uint64_t lo = 0, hi = 0;
  uint64_t applied_base = 0;
  Cycles cost;
  uint8_t allowed = 0;  // bit (1 << AccessKind)
  // Descriptor-cache bookkeeping: loaded from memory under table generation gen.
  bool from_memory = false;
  uint64_t gen = 0;
  [[nodiscard]] SegmentDescriptor descriptor() const { return SegmentDescriptor::decode(raw); }
};

struct SegStats {
  uint64_t translations = 0;
  uint64_t cycles = 0;  // access costs + load costs
  std::array<uint64_t, kNumSegRegs> loads{};
  uint64_t desc_cache_hits = 0;
  uint64_t desc_cache_misses = 0;            // = descriptor reads requested
  std::array<uint64_t, 3> faults_by_kind{};  // gp, ss, np
  std::array<uint64_t, kNumSegRegs> faults_by_reg{};
  std::array<uint64_t, kNumSegFaultReasons> faults_by_reason{};
  uint64_t accessed_bit_writes = 0;
  [[nodiscard]] uint64_t faults() const {
    return faults_by_kind[0] + faults_by_kind[1] + faults_by_kind[2];
  }
  void visit(StatVisitor& v) const;  // names "seg.*"
};

class SegmentationUnit {
 public:
  using DescriptorReader = std::function<uint64_t(LinearAddr)>;
  using DescriptorWriter = std::function<void(LinearAddr, uint64_t)>;

  // Validates config (InputError naming the key). Real mode: registers hold the
  // configured selectors (base = selector * 16). Flat: base 0, limit 4 GiB.
  // Protected/long: registers are unusable until load_initial_registers() or
  // set_register().
  explicit SegmentationUnit(const SegConfig& config);

  // Loads the configured initial selectors (CS, SS, DS, ES, FS, GS) through the
  // full load checks, reading descriptors with `read` (untimed setup); writes
  // Accessed bits back through `write` if given; then applies seg.fs_base /
  // seg.gs_base in long mode. Throws InputError naming seg.<reg> on a fault.
  // Stats are reset afterwards.
  void load_initial_registers(const DescriptorReader& read, const DescriptorWriter& write = {});

  // logical → linear for an access of `size` bytes (0 is treated as 1).
  SegResult translate(SegReg r, VirtAddr offset, uint32_t size, AccessKind kind);

  // Selector load, step 1: completes at once (real/flat mode, null selector,
  // descriptor-cache hit), faults (null into CS/SS, index beyond table limit),
  // or asks for the descriptor at ReadDescriptor::addr.
  SelectorLoad begin_load(SegReg r, Selector sel);
  // Step 2: the SDM checks of MOV/POP Sreg (and same-privilege far JMP for CS)
  // on the 8 descriptor bytes; on success fills the register.
  LoadResult finish_load(SegReg r, Selector sel, uint64_t descriptor);

  // Installs a register's hidden state without checks (initial state, tests,
  // unreal mode). Real mode keeps the descriptor's base/limit.
  void set_register(SegReg r, Selector sel, const SegmentDescriptor& d);
  // WRFSBASE / IA32_FS_BASE: long mode only, FS/GS only; false if not allowed
  // or not canonical.
  bool set_segment_base(SegReg r, uint64_t base);
  void set_cpl(uint8_t cpl);                    // 0..3
  void set_gdt(uint64_t base, uint32_t limit);  // LGDT; invalidates the descriptor cache
  void set_ldt(uint64_t base, uint32_t limit);  // LLDT; invalidates the descriptor cache
  // Descriptor memory changed: forget cached descriptors (incl. same-selector reloads).
  void invalidate_descriptor_cache();

  [[nodiscard]] const SegmentCache& reg(SegReg r) const { return regs_[seg_index(r)]; }
  [[nodiscard]] SegMode mode() const { return mode_; }
  [[nodiscard]] uint8_t cpl() const { return cpl_; }
  [[nodiscard]] const SegConfig& config() const { return config_; }
  [[nodiscard]] const SegStats& stats() const { return stats_; }
  [[nodiscard]] const std::optional<SegFault>& first_fault() const { return first_fault_; }
  // True once a fault happened with seg.stop_on_fault set.
  [[nodiscard]] bool stopped() const { return config_.stop_on_fault && first_fault_; }
  void reset_stats() { stats_ = SegStats{}; }
  void visit(StatVisitor& v) const { stats_.visit(v); }

 private:
  struct DescCacheEntry {
    uint16_t key = 0;  // selector & 0xFFFC (index and TI)
    bool valid = false;
    uint64_t raw = 0;
    uint64_t stamp = 0;
  };

  SegResult translate_fault(SegReg r, VirtAddr offset, AccessKind kind);
  SegFault record(SegFault f);
  SegFault load_fault(SegReg r, Selector sel, SegFaultKind k, SegFaultReason why);
  LoadResult apply_descriptor(SegReg r, Selector sel, uint64_t raw, LinearAddr addr, bool hit);
  [[nodiscard]] LinearAddr descriptor_address(Selector sel) const;
  [[nodiscard]] bool within_table(Selector sel) const;
  void derive(SegReg r);
  const DescCacheEntry* cache_lookup(uint16_t key);
  void cache_insert(uint16_t key, uint64_t raw);

  SegConfig config_;
  SegMode mode_;
  uint8_t cpl_;
  uint32_t canon_bits_;
  uint64_t canon_half_;  // 1 << (canon_bits_ - 1)
  uint64_t addr_mask_;   // real/protected linear mask (A20M# clears bit 20)
  uint64_t gdt_base_, ldt_base_;
  uint32_t gdt_limit_, ldt_limit_;
  uint64_t gen_ = 1;  // descriptor-table generation
  uint64_t stamp_ = 0;
  std::array<SegmentCache, kNumSegRegs> regs_{};
  std::vector<DescCacheEntry> desc_cache_;
  SegStats stats_;
  std::optional<SegFault> first_fault_;
};

// Hot path: flat and long modes are a few instructions; real and protected
// modes one table-driven range/type test. Faults leave through translate_fault.
inline SegResult SegmentationUnit::translate(SegReg r, VirtAddr offset, uint32_t size,
                                             AccessKind kind) {
  ++stats_.translations;
  const uint64_t off = offset.value();
  const uint64_t span = size != 0 ? size - 1 : 0;
  if (mode_ == SegMode::kFlat) return SegResult{LinearAddr(off & 0xFFFFFFFFULL), Cycles{}, {}};
  const SegmentCache& h = regs_[seg_index(r)];
  if (mode_ == SegMode::kLong64) {
    const uint64_t lin = h.applied_base + off;
    if ((((lin + canon_half_) | (lin + span + canon_half_)) >> canon_bits_) == 0) {
      stats_.cycles += h.cost.count();
      return SegResult{LinearAddr(lin), h.cost, {}};
    }
    return translate_fault(r, offset, kind);
  }
  const uint64_t last = off + span;
  if (((h.allowed >> static_cast<unsigned>(kind)) & 1U) != 0 && off >= h.lo && last <= h.hi &&
      last >= off) {
    stats_.cycles += h.cost.count();
    return SegResult{LinearAddr((h.applied_base + off) & addr_mask_), h.cost, {}};
  }
  return translate_fault(r, offset, kind);
}

}  // namespace mmusim
