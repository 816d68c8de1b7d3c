// Shared helpers for the segmentation tests: a descriptor-granular fake memory
// and a driver for the two-step selector load.
#pragma once

#include <map>
#include <variant>

#include "models/arch/descriptor.h"
#include "models/seg/segmentation.h"

namespace mmusim::seg_test {

// Simulated memory holding 8-byte descriptors at 8-byte aligned addresses.
struct FakeMemory {
  std::map<uint64_t, uint64_t> words;
  int reads = 0;
  int writes = 0;

  void place(uint64_t base, const DescriptorTableBuilder& table) {
    for (size_t i = 0; i < table.descriptors().size(); ++i) {
      words[base + 8 * i] = table.descriptors()[i];
    }
  }
  uint64_t read(LinearAddr a) {
    ++reads;
    auto it = words.find(a.value());
    return it == words.end() ? 0 : it->second;
  }
  void write(LinearAddr a, uint64_t v) {
    ++writes;
    words[a.value()] = v;
  }
};

// Runs begin_load/finish_load against mem, writing the Accessed bit back.
// Returns the final LoadResult.
inline LoadResult load(SegmentationUnit& unit, FakeMemory& mem, SegReg r, Selector sel) {
  SelectorLoad step = unit.begin_load(r, sel);
  if (auto* f = std::get_if<SegFault>(&step)) return *f;
  if (auto* d = std::get_if<LoadDone>(&step)) return *d;
  const LinearAddr addr = std::get<ReadDescriptor>(step).addr;
  LoadResult res = unit.finish_load(r, sel, mem.read(addr));
  if (auto* d = std::get_if<LoadDone>(&res)) {
    if (d->write_accessed) mem.write(d->desc_addr, d->descriptor);
  }
  return res;
}

inline bool loaded(const LoadResult& r) { return std::holds_alternative<LoadDone>(r); }
inline SegFault fault_of(const LoadResult& r) {
  if (const auto* f = std::get_if<SegFault>(&r)) return *f;
  return SegFault{};
}

}  // namespace mmusim::seg_test
