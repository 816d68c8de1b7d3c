// Segmentation unit hot paths: per-access translate in each mode, and the
// two-step selector load (descriptor read from a tiny in-memory GDT).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <variant>
#include <vector>

#include "models/arch/descriptor.h"
#include "models/seg/segmentation.h"

namespace mmusim {
namespace {

// Offsets of a pseudo-random walk over 64 MiB (precomputed: not measured).
std::vector<uint64_t> offsets() {
  std::vector<uint64_t> v(4096);
  uint64_t x = 88172645463325252ULL;
  for (uint64_t& o : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    o = x & 0x3FFFFF8ULL;
  }
  return v;
}

constexpr uint64_t kGdtBase = 0x1000;

struct Gdt {
  DescriptorTableBuilder table = flat_gdt();
  uint64_t read(LinearAddr a) const { return table.descriptors()[(a.value() - kGdtBase) / 8]; }
};

void run_translate(benchmark::State& state, SegmentationUnit& u) {
  const std::vector<uint64_t> offs = offsets();
  size_t i = 0;
  const SegReg regs[4] = {SegReg::kDS, SegReg::kSS, SegReg::kES, SegReg::kFS};
  for (auto _ : state) {
    const SegResult r = u.translate(regs[i & 3], VirtAddr(offs[i & 4095]), 8,
                                    (i & 7) == 0 ? AccessKind::kWrite : AccessKind::kRead);
    benchmark::DoNotOptimize(r.linear);
    benchmark::DoNotOptimize(r.fault.kind);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_SegTranslateFlat(benchmark::State& state) {
  SegmentationUnit u{SegConfig{}};
  run_translate(state, u);
}
BENCHMARK(BM_SegTranslateFlat);

void BM_SegTranslateLong64(benchmark::State& state) {
  Gdt gdt;
  SegConfig c;
  c.mode = SegMode::kLong64;
  c.gdt_base = kGdtBase;
  c.fs_base = 0x00007F0000000000ULL;
  SegmentationUnit u(c);
  u.load_initial_registers([&](LinearAddr a) { return gdt.read(a); });
  run_translate(state, u);
}
BENCHMARK(BM_SegTranslateLong64);

void BM_SegTranslateProtected(benchmark::State& state) {
  Gdt gdt;
  SegmentDescriptor fsd = make_segment(0x100000, 64 << 20, kDataReadWrite, 0);
  gdt.table.add(fsd);  // 0x28: base 1 MiB, 64 MiB, exercises base add + limit check
  SegConfig c;
  c.mode = SegMode::kProtected32;
  c.gdt_base = kGdtBase;
  c.gdt_limit = gdt.table.limit();
  c.selectors[seg_index(SegReg::kFS)] = Selector(0x28);
  SegmentationUnit u(c);
  u.load_initial_registers([&](LinearAddr a) { return gdt.read(a); });
  run_translate(state, u);
}
BENCHMARK(BM_SegTranslateProtected);

// One MOV DS per iteration alternating two selectors, so every load reads
// its descriptor (the architectural default: seg.desc_cache_entries = 0).
void BM_SegSelectorLoad(benchmark::State& state) {
  Gdt gdt;
  SegConfig c;
  c.mode = SegMode::kProtected32;
  c.gdt_base = kGdtBase;
  SegmentationUnit u(c);
  u.load_initial_registers([&](LinearAddr a) { return gdt.read(a); });
  const Selector sels[2] = {Selector(0x10), Selector(0x08)};  // data, readable code
  size_t i = 0;
  for (auto _ : state) {
    const Selector s = sels[i++ & 1];
    SelectorLoad step = u.begin_load(SegReg::kDS, s);
    if (const auto* rd = std::get_if<ReadDescriptor>(&step)) {
      LoadResult done = u.finish_load(SegReg::kDS, s, gdt.read(rd->addr));
      benchmark::DoNotOptimize(done);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SegSelectorLoad);

}  // namespace
}  // namespace mmusim
