// The x86 8-byte code/data segment descriptor (Intel SDM Vol. 3A §3.4.5) as a
// value type, and a builder for descriptor tables (GDT/LDT) as raw bytes.
//
// Bit layout of the 64-bit little-endian descriptor:
//   limit 15:0 → bits 0-15 (bytes 0-1)     base 23:0 → bits 16-39 (bytes 2-4)
//   type → bits 40-43 (bit 40 = Accessed)  S → 44, DPL → 45-46, P → 47
//   limit 19:16 → bits 48-51 (byte 6 low)  AVL → 52, L → 53, D/B → 54, G → 55
//   base 31:24 → bits 56-63 (byte 7)
// The core never owns memory: tables are produced as bytes for the caller to
// place at the GDT/LDT base in simulated memory.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

// Type-field values for code/data descriptors (S = 1), Accessed bit clear.
// Add kDescTypeAccessed for the accessed variant.
enum DescType : uint8_t {
  kDescTypeAccessed = 0x1,
  kDataReadOnly = 0x0,
  kDataReadWrite = 0x2,
  kDataReadOnlyDown = 0x4,
  kDataReadWriteDown = 0x6,
  kCodeExecOnly = 0x8,
  kCodeExecRead = 0xA,
  kCodeExecOnlyConforming = 0xC,
  kCodeExecReadConforming = 0xE,
};

// Bit 40 of the descriptor: the Accessed bit (type bit 0), set by the CPU on
// a successful segment-register load.
constexpr uint64_t kDescAccessedBit = uint64_t{1} << 40;
constexpr uint32_t kDescMaxLimitField = 0xFFFFF;  // 20-bit limit field

struct SegmentDescriptor {
  uint32_t base = 0;   // linear base, 32 bits
  uint32_t limit = 0;  // raw 20-bit limit field (units of bytes, or 4 KiB if g)
  uint8_t type = 0;    // 4-bit type field (DescType for S = 1)
  bool s = true;       // 1 = code/data, 0 = system descriptor
  uint8_t dpl = 0;     // 0..3
  bool present = true;
  bool avl = false;
  bool l = false;   // 64-bit code segment (IA-32e mode)
  bool db = false;  // D/B: default size 32 bits / big (expand-down upper bound 4 GiB)
  bool g = false;   // granularity: limit in 4 KiB units

  // Packs the fields; out-of-range fields are masked to their widths.
  [[nodiscard]] uint64_t encode() const;
  [[nodiscard]] static SegmentDescriptor decode(uint64_t raw);

  // Limit in bytes as the limit checks use it: (limit << 12) | 0xFFF when G = 1.
  [[nodiscard]] uint32_t effective_limit() const {
    const uint32_t lim = limit & kDescMaxLimitField;
    return g ? (lim << 12) | 0xFFFU : lim;
  }
  [[nodiscard]] bool is_code() const { return s && (type & 0x8U) != 0; }
  [[nodiscard]] bool is_data() const { return s && (type & 0x8U) == 0; }
  [[nodiscard]] bool readable() const { return is_data() || (is_code() && (type & 0x2U) != 0); }
  [[nodiscard]] bool writable() const { return is_data() && (type & 0x2U) != 0; }
  [[nodiscard]] bool expand_down() const { return is_data() && (type & 0x4U) != 0; }
  [[nodiscard]] bool conforming() const { return is_code() && (type & 0x4U) != 0; }
  [[nodiscard]] bool accessed() const { return (type & kDescTypeAccessed) != 0; }

  friend bool operator==(const SegmentDescriptor& a, const SegmentDescriptor& b) {
    return a.encode() == b.encode();
  }
  friend bool operator!=(const SegmentDescriptor& a, const SegmentDescriptor& b) {
    return !(a == b);
  }
};

// A code/data descriptor covering [base, base + size_bytes - 1]. Picks G = 1
// (4 KiB units) when size_bytes > 1 MiB; then size_bytes must be a multiple of
// 4 KiB. size_bytes in [1, 2^32]. Present, 32-bit (D/B = 1).
SegmentDescriptor make_segment(uint32_t base, uint64_t size_bytes, uint8_t type, uint8_t dpl);

// Flat 4 GiB descriptors (base 0, limit 0xFFFFF, G = 1, D/B = 1), present.
// flat_code(0) encodes to 0x00CF9A000000FFFF, flat_data(0) to 0x00CF92000000FFFF.
SegmentDescriptor flat_code(uint8_t dpl);
SegmentDescriptor flat_data(uint8_t dpl);
// 64-bit code segment (L = 1, D = 0): 0x00AF9A000000FFFF at DPL 0.
SegmentDescriptor long_code(uint8_t dpl);

// Builds a GDT or LDT image. A GDT starts with the null descriptor at index 0.
class DescriptorTableBuilder {
 public:
  enum class Table : uint8_t { kGdt, kLdt };
  explicit DescriptorTableBuilder(Table table = Table::kGdt);

  // Appends a descriptor; returns its selector (index << 3 | TI << 2 | rpl).
  Selector add(const SegmentDescriptor& d, uint8_t rpl = 0);
  Selector add_raw(uint64_t raw, uint8_t rpl = 0);

  [[nodiscard]] size_t entries() const { return raw_.size(); }
  // GDTR/LDT limit for the table: 8 * entries - 1.
  [[nodiscard]] uint32_t limit() const { return static_cast<uint32_t>(raw_.size() * 8 - 1); }
  [[nodiscard]] const std::vector<uint64_t>& descriptors() const { return raw_; }
  // Little-endian bytes to write at the table base.
  [[nodiscard]] std::vector<uint8_t> bytes() const;

 private:
  Table table_;
  std::vector<uint64_t> raw_;
};

// The classic flat GDT: 0 null, 0x08 kernel code, 0x10 kernel data,
// 0x18 user code (DPL 3), 0x20 user data (DPL 3). With long_mode the code
// descriptors are 64-bit (L = 1).
struct FlatGdt {
  static constexpr Selector kKernelCode{0x08};
  static constexpr Selector kKernelData{0x10};
  static constexpr Selector kUserCode{0x1B};  // RPL 3
  static constexpr Selector kUserData{0x23};  // RPL 3
};
DescriptorTableBuilder flat_gdt(bool long_mode = false);

// Document 000's relocation example: one program loaded at `base` with a code
// and a data segment of `size` bytes each (both at the same base). Returns a
// GDT with 0x08 = code (execute/read), 0x10 = data (read/write), both DPL dpl.
DescriptorTableBuilder relocated_program_gdt(uint32_t base, uint32_t size, uint8_t dpl = 0);

}  // namespace mmusim
