#include "models/os/kernel.h"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>

namespace mmusim {

namespace {

// The faulting CPU's L1D fill buffers during one line loop: when each frees,
// as a binary min-heap (only the multiset of the times matters: a request
// takes a buffer that frees first, whichever of them).
class FillBuffers {
 public:
  FillBuffers(uint32_t n, Cycle at) : n_(std::clamp<uint32_t>(n, 1, LineIssue::kMaxInFlight)) {
    std::fill_n(free_.begin(), n_, at);  // equal times: a heap
  }
  // When the first buffer is free.
  [[nodiscard]] Cycle first_free() const { return free_[0]; }
  // That buffer is busy until `done` (its request completes).
  void take(Cycle done) {
    uint32_t i = 0;
    for (;;) {
      uint32_t c = 2 * i + 1;
      if (c >= n_) break;
      if (c + 1 < n_ && free_[c + 1] < free_[c]) ++c;
      if (!(free_[c] < done)) break;
      free_[i] = free_[c];
      i = c;
    }
    free_[i] = done;
  }

 private:
  uint32_t n_;
  std::array<Cycle, LineIssue::kMaxInFlight> free_{};
};

// `n` writes, write(i, t) issuing the i-th at t: one per cycle from `at`,
// each when a fill buffer is free.
template <class Write>
Cycle issue_writes(size_t n, Cycle at, uint32_t in_flight, Write write) {
  FillBuffers b(in_flight, at);
  Cycle next = at;
  Cycle done = at;
  for (size_t i = 0; i < n; ++i) {
    const Cycle t = max(next, b.first_free());
    const Cycle c = write(i, t);
    b.take(c);
    done = max(done, c);
    next = t + Cycles(1);
  }
  return done;
}

}  // namespace

Cycle KernelServices::zero_page(Pfn f, Cycle at, const LineIssue& how) {
  const uint64_t base = f.value() << 12;
  return issue_writes(64, at, how.in_flight, [&](size_t i, Cycle t) {
    const PhysAddr line(base + 64 * i);
    return how.whole_lines ? mem_write_line(line, t) : mem_access(line, true, t);
  });
}

Cycle KernelServices::write_lines(const uint64_t* lines, size_t n, Cycle at, const LineIssue& how) {
  return issue_writes(n, at, how.in_flight,
                      [&](size_t i, Cycle t) { return mem_access(PhysAddr(lines[i]), true, t); });
}

Cycle KernelServices::copy_page(Pfn from, Pfn to, Cycle at, const LineIssue& how) {
  std::array<uint64_t, 64> src{}, dst{};
  std::array<uint8_t, 64> whole{};
  for (uint64_t i = 0; i < 64; ++i) {
    src[i] = (from.value() << 12) + 64 * i;
    dst[i] = (to.value() << 12) + 64 * i;
    whole[i] = 1;
  }
  return copy_lines(src.data(), dst.data(), whole.data(), 64, at, how);
}

Cycle KernelServices::copy_lines(const uint64_t* src, const uint64_t* dst, const uint8_t* whole,
                                 size_t n, Cycle at, const LineIssue& how) {
  // Two streams share the fill buffers: the reads, one per cycle, and the
  // writes, one per cycle, each once its read completed. Whichever can issue
  // first does (the write on a tie: it is older in program order), so the
  // requests reach memory in time order.
  FillBuffers b(how.in_flight, at);
  boost::container::small_vector<Cycle, 64> read(n);  // a page's lines: inline
  size_t r = 0;
  size_t w = 0;
  Cycle next_r = at;
  Cycle next_w = at;
  Cycle done = at;
  while (w < n) {
    const Cycle free = b.first_free();
    const Cycle tr = r < n ? max(next_r, free) : kNeverCycle;
    const Cycle tw = w < r ? max(max(next_w, read[w]), free) : kNeverCycle;
    if (tw <= tr) {
      const PhysAddr line(dst[w]);
      const Cycle c =
          how.whole_lines && whole[w] != 0 ? mem_write_line(line, tw) : mem_access(line, true, tw);
      b.take(c);
      done = max(done, c);
      next_w = tw + Cycles(1);
      ++w;
    } else {
      read[r] = mem_access(PhysAddr(src[r]), false, tr);
      b.take(read[r]);
      next_r = tr + Cycles(1);
      ++r;
    }
  }
  return done;
}

}  // namespace mmusim
