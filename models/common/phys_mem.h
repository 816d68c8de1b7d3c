// Functional contents of simulated physical memory. Only frames that hold
// architectural structures (page tables, descriptor tables) are materialized;
// a frame never written reads as zero. Timing is modeled separately (DRAM).
// Host memory: one 4 KiB array per materialized frame; release() and zero()
// give it back, so a frame that is freed and allocated again (as a page
// table, say) never shows the entries of its previous life.
#pragma once

#include <cstdint>
#include <memory>

#include "models/common/flat_map.h"
#include "models/common/types.h"

namespace mmusim {

class PhysMem {
 public:
  [[nodiscard]] uint64_t read64(PhysAddr a) const {
    const uint64_t* f = frame(pfn_of(a));
    return f ? f[(a.value() & 0xFFF) >> 3] : 0;
  }
  void write64(PhysAddr a, uint64_t v) { frame_for_write(pfn_of(a))[(a.value() & 0xFFF) >> 3] = v; }
  // 32-bit accesses (legacy 32-bit paging entries); `a` must be 4-byte aligned.
  [[nodiscard]] uint32_t read32(PhysAddr a) const {
    uint64_t q = read64(PhysAddr(a.value() & ~uint64_t{7}));
    return static_cast<uint32_t>((a.value() & 4) ? q >> 32 : q);
  }
  void write32(PhysAddr a, uint32_t v) {
    PhysAddr q(a.value() & ~uint64_t{7});
    uint64_t old = read64(q);
    uint64_t nv = (a.value() & 4) ? ((old & 0xFFFFFFFFULL) | (uint64_t{v} << 32))
                                  : ((old & ~0xFFFFFFFFULL) | v);
    write64(q, nv);
  }
  // Reads an entry of `bytes` (4 or 8) at `a`.
  [[nodiscard]] uint64_t read_entry(PhysAddr a, unsigned bytes) const {
    return bytes == 4 ? read32(a) : read64(a);
  }
  void write_entry(PhysAddr a, unsigned bytes, uint64_t v) {
    if (bytes == 4) {
      write32(a, static_cast<uint32_t>(v));
    } else {
      write64(a, v);
    }
  }
  // Drops the contents of frame `p` and returns its host memory: reads give
  // zero until the frame is written again. Releasing an untouched frame is a
  // no-op.
  void release(Pfn p) {
    if (p.value() == memo_pfn_) memo_pfn_ = kNoFrame;
    frames_.erase(p.value());
  }
  // Makes every byte of frame `p` zero (by releasing it: an absent frame reads
  // as zero, and a later write starts from a zeroed array).
  void zero(Pfn p) { release(p); }
  [[nodiscard]] size_t frames_materialized() const { return frames_.size(); }

 private:
  using Frame = std::unique_ptr<uint64_t[]>;
  static constexpr uint64_t kNoFrame = ~uint64_t{0};
  // The frame's words, or null when it was never written. The last frame
  // found is remembered (a walk reads one table per level, often the same).
  [[nodiscard]] const uint64_t* frame(Pfn p) const {
    if (p.value() == memo_pfn_) return memo_;
    const Frame* f = frames_.find(p.value());
    if (f == nullptr) return nullptr;
    memo_pfn_ = p.value();
    memo_ = f->get();
    return memo_;
  }
  uint64_t* frame_for_write(Pfn p) {
    if (p.value() == memo_pfn_) return memo_;
    Frame* f = frames_.find(p.value());
    if (f == nullptr) {
      f = frames_.insert(p.value(), std::make_unique<uint64_t[]>(512)).first;  // zeroed
    }
    memo_pfn_ = p.value();
    memo_ = f->get();
    return memo_;
  }
  FlatMap<uint64_t, Frame> frames_;  // frame number -> its 512 words
  mutable uint64_t memo_pfn_ = kNoFrame;
  mutable uint64_t* memo_ = nullptr;
};

// Where a memory reference was served: the first-level cache (L1D or L1I),
// L2, the last-level cache, or DRAM (also: every reference with caches off).
enum class MemSource : uint8_t { kL1, kL2, kLlc, kDram };
constexpr int kNumMemSources = 4;

// Timing side of a memory access: one request of a cache line at `at`,
// returning the cycle at which it completes. served() says where the last
// one was served (an implementation that knows sets served_).
class MemoryTiming {
 public:
  virtual ~MemoryTiming() = default;
  virtual Cycle access(PhysAddr a, bool is_write, Cycle at) = 0;
  [[nodiscard]] MemSource served() const { return served_; }

 protected:
  MemSource served_ = MemSource::kDram;
};

}  // namespace mmusim
