#include "models/os/kernel.h"

namespace mmusim {

Cycle KernelServices::zero_page(Pfn f, Cycle at) {
  Cycle done = at;
  for (uint64_t i = 0; i < 64; ++i) {
    done = max(done, mem_access(PhysAddr((f.value() << 12) + 64 * i), true, at + Cycles(i)));
  }
  return done;
}

Cycle KernelServices::copy_page(Pfn from, Pfn to, Cycle at) {
  // Requests reach memory in time order: the reads first (one per cycle),
  // then each line's write once it was read, in line order.
  Cycle read[64];
  for (uint64_t i = 0; i < 64; ++i) {
    read[i] = mem_access(PhysAddr((from.value() << 12) + 64 * i), false, at + Cycles(i));
  }
  Cycle issue = at + Cycles(64);
  Cycle done = at;
  for (uint64_t i = 0; i < 64; ++i) {
    issue = max(issue, read[i]);
    done = max(done, mem_access(PhysAddr((to.value() << 12) + 64 * i), true, issue));
  }
  return done;
}

}  // namespace mmusim
