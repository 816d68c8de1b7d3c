// Strong types shared by every subsystem: addresses, page numbers, time.
// Explicit construction, no implicit conversion to integers; conversions are
// named functions. Time is an integer count of core-clock cycles.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace mmusim {

// A 64-bit value with a tag type so that a VirtAddr never mixes with a PhysAddr.
template <class Tag>
class Strong64 {
 public:
  constexpr Strong64() = default;
  constexpr explicit Strong64(uint64_t v) : v_(v) {}
  [[nodiscard]] constexpr uint64_t value() const { return v_; }
  friend constexpr bool operator==(Strong64 a, Strong64 b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Strong64 a, Strong64 b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(Strong64 a, Strong64 b) { return a.v_ < b.v_; }
  friend constexpr bool operator<=(Strong64 a, Strong64 b) { return a.v_ <= b.v_; }
  friend constexpr bool operator>(Strong64 a, Strong64 b) { return a.v_ > b.v_; }
  friend constexpr bool operator>=(Strong64 a, Strong64 b) { return a.v_ >= b.v_; }

 private:
  uint64_t v_ = 0;
};

struct VirtAddrTag {};
struct LinearAddrTag {};
struct PhysAddrTag {};
struct VpnTag {};
struct PfnTag {};

using VirtAddr = Strong64<VirtAddrTag>;      // logical offset as the program sees it
using LinearAddr = Strong64<LinearAddrTag>;  // after segmentation, before paging
using PhysAddr = Strong64<PhysAddrTag>;      // after paging
using Vpn = Strong64<VpnTag>;                // linear page number at some page size
using Pfn = Strong64<PfnTag>;                // physical 4 KiB frame number

// Address-space identifier (PCID on x86-64: 12 bits).
class Asid {
 public:
  constexpr Asid() = default;
  constexpr explicit Asid(uint16_t v) : v_(v) {}
  [[nodiscard]] constexpr uint16_t value() const { return v_; }
  friend constexpr bool operator==(Asid a, Asid b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Asid a, Asid b) { return a.v_ != b.v_; }

 private:
  uint16_t v_ = 0;
};

// A segment selector as loaded into a segment register: index, TI, RPL.
class Selector {
 public:
  constexpr Selector() = default;
  constexpr explicit Selector(uint16_t v) : v_(v) {}
  [[nodiscard]] constexpr uint16_t value() const { return v_; }
  [[nodiscard]] constexpr uint16_t index() const { return v_ >> 3; }
  [[nodiscard]] constexpr bool ti() const { return (v_ & 4U) != 0; }
  [[nodiscard]] constexpr uint8_t rpl() const { return static_cast<uint8_t>(v_ & 3U); }
  friend constexpr bool operator==(Selector a, Selector b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Selector a, Selector b) { return a.v_ != b.v_; }

 private:
  uint16_t v_ = 0;
};

// Cycles: a duration in core-clock cycles. Cycle: an absolute time stamp.
class Cycles {
 public:
  constexpr Cycles() = default;
  constexpr explicit Cycles(uint64_t v) : v_(v) {}
  [[nodiscard]] constexpr uint64_t count() const { return v_; }
  constexpr Cycles& operator+=(Cycles o) {
    v_ += o.v_;
    return *this;
  }
  friend constexpr Cycles operator+(Cycles a, Cycles b) { return Cycles(a.v_ + b.v_); }
  friend constexpr Cycles operator*(Cycles a, uint64_t k) { return Cycles(a.v_ * k); }
  friend constexpr bool operator==(Cycles a, Cycles b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Cycles a, Cycles b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(Cycles a, Cycles b) { return a.v_ < b.v_; }
  friend constexpr bool operator<=(Cycles a, Cycles b) { return a.v_ <= b.v_; }
  friend constexpr bool operator>(Cycles a, Cycles b) { return a.v_ > b.v_; }
  friend constexpr bool operator>=(Cycles a, Cycles b) { return a.v_ >= b.v_; }

 private:
  uint64_t v_ = 0;
};

class Cycle {
 public:
  constexpr Cycle() = default;
  constexpr explicit Cycle(uint64_t v) : v_(v) {}
  [[nodiscard]] constexpr uint64_t count() const { return v_; }
  constexpr Cycle& operator+=(Cycles d) {
    v_ += d.count();
    return *this;
  }
  friend constexpr Cycle operator+(Cycle t, Cycles d) { return Cycle(t.v_ + d.count()); }
  // Duration between two stamps; saturates at zero when b is after a.
  friend constexpr Cycles operator-(Cycle a, Cycle b) {
    return Cycles(a.v_ >= b.v_ ? a.v_ - b.v_ : 0);
  }
  friend constexpr bool operator==(Cycle a, Cycle b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Cycle a, Cycle b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(Cycle a, Cycle b) { return a.v_ < b.v_; }
  friend constexpr bool operator<=(Cycle a, Cycle b) { return a.v_ <= b.v_; }
  friend constexpr bool operator>(Cycle a, Cycle b) { return a.v_ > b.v_; }
  friend constexpr bool operator>=(Cycle a, Cycle b) { return a.v_ >= b.v_; }

 private:
  uint64_t v_ = 0;
};

constexpr Cycle max(Cycle a, Cycle b) { return a < b ? b : a; }
constexpr Cycle min(Cycle a, Cycle b) { return a < b ? a : b; }

// What an access does with its address.
enum class AccessKind : uint8_t { kRead = 0, kWrite = 1, kFetch = 2 };
constexpr int kNumAccessKinds = 3;

constexpr char access_kind_letter(AccessKind k) {
  return k == AccessKind::kRead ? 'R' : k == AccessKind::kWrite ? 'W' : 'X';
}

// Page sizes the model knows. 4 MiB exists only in 32-bit paging with PSE.
enum class PageSize : uint8_t { k4K = 0, k2M = 1, k1G = 2, k4M = 3 };
constexpr int kNumPageSizes = 4;

constexpr unsigned page_shift(PageSize s) {
  switch (s) {
    case PageSize::k4K: return 12;
    case PageSize::k2M: return 21;
    case PageSize::k1G: return 30;
    case PageSize::k4M: return 22;
  }
  return 12;
}
constexpr uint64_t page_bytes(PageSize s) { return uint64_t{1} << page_shift(s); }
constexpr std::string_view page_size_name(PageSize s) {
  switch (s) {
    case PageSize::k4K: return "4K";
    case PageSize::k2M: return "2M";
    case PageSize::k1G: return "1G";
    case PageSize::k4M: return "4M";
  }
  return "?";
}

constexpr Vpn vpn_of(LinearAddr a, PageSize s) { return Vpn(a.value() >> page_shift(s)); }
constexpr uint64_t page_offset(LinearAddr a, PageSize s) { return a.value() & (page_bytes(s) - 1); }
constexpr Pfn pfn_of(PhysAddr a) { return Pfn(a.value() >> 12); }
constexpr PhysAddr frame_base(Pfn f) { return PhysAddr(f.value() << 12); }
// Physical address of a linear address translated by a leaf that maps `base`.
constexpr PhysAddr compose(PhysAddr page_base, LinearAddr a, PageSize s) {
  return PhysAddr(page_base.value() | page_offset(a, s));
}

// One memory access (or segment record) as the trace gives it. 16 bytes.
struct TraceRecord {
  uint64_t addr = 0;  // virtual (logical offset) address
  uint32_t size = 0;  // bytes; 0 means "unspecified" and is treated as 1
  uint16_t cpu = 0;
  AccessKind kind = AccessKind::kRead;
  uint8_t flags = 0;  // record op and segment register: see trace_flags below
};

// TraceRecord::flags (traces/README.md, "Segment records"): the low nibble is
// the record op, the high nibble the segment register + 1 (ES 1, CS 2, SS 3,
// DS 4, FS 5, GS 6; 0 = the access's default register). flags 0 is a plain
// access, so every trace without segment records reads as before.
//   access  op 0: addr = offset, high nibble = register override (or 0);
//   LOAD    op 1: addr = selector (<= 0xFFFF), size 0, kind R, register named;
//   GDT     op 2: addr = 8-byte descriptor, size = index (< 8192), kind R, nibble 0;
//   LDT     op 3: as GDT, for the LDT.
//   INVLPG  op 4: addr = linear address whose translations are invalidated;
//   INVPCID op 5: addr = PCID (<= 4095) whose non-global translations go;
//   FLUSH   op 6: addr 0 = every non-global translation (a CR3 write),
//                 addr 1 = every translation, global ones included;
//           ops 4-6: size 0, kind R, register nibble 0.
//   EVENT   op 7: an OS event (models/common/os_event.h) of the task in `cpu`;
//                 addr = its index among the events the reader handed out with
//                 the same read() batch (TraceReader::take_events), size 0,
//                 kind R, register nibble 0.
// In a trace with tasks (TraceReader::has_tasks()), `cpu` of every record is
// the task's slot (TraceReader::tasks()), not a CPU: the scheduler places
// tasks on CPUs.
// Other values are malformed (e.g. 1: a LOAD without a register).
namespace trace_flags {
constexpr uint8_t kOpMask = 0x0F;
constexpr uint8_t kOpAccess = 0;
constexpr uint8_t kOpLoad = 1;
constexpr uint8_t kOpGdt = 2;
constexpr uint8_t kOpLdt = 3;
constexpr uint8_t kOpInvlpg = 4;
constexpr uint8_t kOpInvpcid = 5;
constexpr uint8_t kOpFlush = 6;
constexpr uint8_t kOpEvent = 7;
constexpr unsigned kRegShift = 4;
constexpr uint32_t kMaxDescriptorIndex = 8191;  // 13-bit selector index
// The register nibble for segment register number `reg` (SegReg order ES..GS).
constexpr uint8_t reg_bits(unsigned reg) { return static_cast<uint8_t>((reg + 1) << kRegShift); }
// Register number (SegReg order) named by `flags`, or -1 for none/invalid.
constexpr int reg_of(uint8_t flags) {
  const int r = (flags >> kRegShift) - 1;
  return r < 6 ? r : -1;
}
constexpr uint8_t op_of(uint8_t flags) { return flags & kOpMask; }
// Upper-case register names, by number.
inline constexpr std::string_view kRegNames[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};
}  // namespace trace_flags

// Why `r` is not a well-formed record, or nullptr when it is: the flags
// encoding above and the fields of segment records.
constexpr const char* trace_record_problem(const TraceRecord& r) {
  using namespace trace_flags;
  const uint8_t op = op_of(r.flags);
  const unsigned nib = r.flags >> kRegShift;
  if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) return "invalid access kind";
  if (nib > 6) return "invalid segment register in flags";
  switch (op) {
    case kOpAccess: return nullptr;
    case kOpLoad:
      if (nib == 0) return "segment load without a segment register";
      if (r.addr > 0xFFFF) return "segment load selector exceeds 0xFFFF";
      if (r.size != 0 || r.kind != AccessKind::kRead) return "segment load with a size or kind";
      return nullptr;
    case kOpGdt:
    case kOpLdt:
      if (nib != 0) return "descriptor record with a segment register";
      if (r.size > kMaxDescriptorIndex) return "descriptor index exceeds 8191";
      if (r.kind != AccessKind::kRead) return "descriptor record with a kind";
      return nullptr;
    case kOpInvlpg:
    case kOpInvpcid:
    case kOpFlush:
      if (nib != 0) return "invalidation record with a segment register";
      if (r.size != 0 || r.kind != AccessKind::kRead)
        return "invalidation record with a size or kind";
      if (op == kOpInvpcid && r.addr > 4095) return "INVPCID PCID exceeds 4095";
      if (op == kOpFlush && r.addr > 1) return "FLUSH scope must be 0 or 1";
      return nullptr;
    case kOpEvent:
      if (nib != 0) return "event record with a segment register";
      if (r.size != 0 || r.kind != AccessKind::kRead) return "event record with a size or kind";
      return nullptr;
    default: return "unknown record op in flags";
  }
}

}  // namespace mmusim

template <class Tag>
struct std::hash<mmusim::Strong64<Tag>> {
  size_t operator()(mmusim::Strong64<Tag> v) const noexcept {
    uint64_t x = v.value() * 0x9E3779B97F4A7C15ULL;
    return static_cast<size_t>(x ^ (x >> 32));
  }
};
