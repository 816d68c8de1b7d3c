#include "models/arch/descriptor.h"

#include <stdexcept>

namespace mmusim {

uint64_t SegmentDescriptor::encode() const {
  const uint64_t lim = limit & kDescMaxLimitField;
  const uint64_t b = base;
  uint64_t raw = 0;
  raw |= lim & 0xFFFFU;          // limit 15:0
  raw |= (b & 0xFFFFFFU) << 16;  // base 23:0
  raw |= static_cast<uint64_t>(type & 0xFU) << 40;
  raw |= static_cast<uint64_t>(s ? 1 : 0) << 44;
  raw |= static_cast<uint64_t>(dpl & 3U) << 45;
  raw |= static_cast<uint64_t>(present ? 1 : 0) << 47;
  raw |= ((lim >> 16) & 0xFU) << 48;  // limit 19:16
  raw |= static_cast<uint64_t>(avl ? 1 : 0) << 52;
  raw |= static_cast<uint64_t>(l ? 1 : 0) << 53;
  raw |= static_cast<uint64_t>(db ? 1 : 0) << 54;
  raw |= static_cast<uint64_t>(g ? 1 : 0) << 55;
  raw |= ((b >> 24) & 0xFFU) << 56;  // base 31:24
  return raw;
}

SegmentDescriptor SegmentDescriptor::decode(uint64_t raw) {
  SegmentDescriptor d;
  d.limit = static_cast<uint32_t>((raw & 0xFFFFU) | (((raw >> 48) & 0xFU) << 16));
  d.base = static_cast<uint32_t>(((raw >> 16) & 0xFFFFFFU) | (((raw >> 56) & 0xFFU) << 24));
  d.type = static_cast<uint8_t>((raw >> 40) & 0xFU);
  d.s = ((raw >> 44) & 1U) != 0;
  d.dpl = static_cast<uint8_t>((raw >> 45) & 3U);
  d.present = ((raw >> 47) & 1U) != 0;
  d.avl = ((raw >> 52) & 1U) != 0;
  d.l = ((raw >> 53) & 1U) != 0;
  d.db = ((raw >> 54) & 1U) != 0;
  d.g = ((raw >> 55) & 1U) != 0;
  return d;
}

SegmentDescriptor make_segment(uint32_t base, uint64_t size_bytes, uint8_t type, uint8_t dpl) {
  if (size_bytes == 0 || size_bytes > (uint64_t{1} << 32)) {
    throw std::invalid_argument("make_segment: size must be in [1, 4 GiB]");
  }
  SegmentDescriptor d;
  d.base = base;
  d.type = type;
  d.dpl = dpl;
  d.db = true;
  if (size_bytes <= (uint64_t{1} << 20)) {
    d.limit = static_cast<uint32_t>(size_bytes - 1);
  } else {
    if (size_bytes % 4096 != 0) {
      throw std::invalid_argument("make_segment: sizes above 1 MiB must be multiples of 4 KiB");
    }
    d.g = true;
    d.limit = static_cast<uint32_t>(size_bytes / 4096 - 1);
  }
  return d;
}

namespace {
SegmentDescriptor flat(uint8_t type, uint8_t dpl) {
  SegmentDescriptor d;
  d.limit = kDescMaxLimitField;
  d.type = type;
  d.dpl = dpl;
  d.db = true;
  d.g = true;
  return d;
}
}  // namespace

SegmentDescriptor flat_code(uint8_t dpl) { return flat(kCodeExecRead, dpl); }
SegmentDescriptor flat_data(uint8_t dpl) { return flat(kDataReadWrite, dpl); }
SegmentDescriptor long_code(uint8_t dpl) {
  SegmentDescriptor d = flat(kCodeExecRead, dpl);
  d.l = true;
  d.db = false;
  return d;
}

DescriptorTableBuilder::DescriptorTableBuilder(Table table) : table_(table) {
  if (table_ == Table::kGdt) raw_.push_back(0);  // the null descriptor
}

Selector DescriptorTableBuilder::add_raw(uint64_t raw, uint8_t rpl) {
  if (raw_.size() >= 8192) throw std::length_error("descriptor table holds at most 8192 entries");
  const auto index = static_cast<uint16_t>(raw_.size());
  raw_.push_back(raw);
  const uint16_t ti = table_ == Table::kLdt ? 4 : 0;
  return Selector(static_cast<uint16_t>((index << 3) | ti | (rpl & 3U)));
}

Selector DescriptorTableBuilder::add(const SegmentDescriptor& d, uint8_t rpl) {
  return add_raw(d.encode(), rpl);
}

std::vector<uint8_t> DescriptorTableBuilder::bytes() const {
  std::vector<uint8_t> out;
  out.reserve(raw_.size() * 8);
  for (uint64_t raw : raw_) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(raw >> (8 * i)));
  }
  return out;
}

DescriptorTableBuilder flat_gdt(bool long_mode) {
  DescriptorTableBuilder b;
  b.add(long_mode ? long_code(0) : flat_code(0));
  b.add(flat_data(0));
  b.add(long_mode ? long_code(3) : flat_code(3), 3);
  b.add(flat_data(3), 3);
  return b;
}

DescriptorTableBuilder relocated_program_gdt(uint32_t base, uint32_t size, uint8_t dpl) {
  DescriptorTableBuilder b;
  b.add(make_segment(base, size, kCodeExecRead, dpl), dpl);
  b.add(make_segment(base, size, kDataReadWrite, dpl), dpl);
  return b;
}

}  // namespace mmusim
