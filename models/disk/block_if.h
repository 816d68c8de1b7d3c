// The SystemC face of the storage path: the interface the disk controller
// exports to the kernel, and the one the kernel exports for the completion
// interrupt. The kernel calls submit() from the thread that is synchronized to
// the request's doorbell cycle; the controller calls complete() from its own
// thread, synchronized (sync horizon) to the interrupt's cycle.
#pragma once

#include <systemc>

#include "models/disk/block_queue.h"

namespace mmusim {

class BlockIf : public virtual sc_core::sc_interface {
 public:
  // A request whose doorbell is written at r.at (no earlier than the
  // caller's synchronized time).
  virtual void submit(const BlockRequest& r) = 0;
};

class BlockDoneIf : public virtual sc_core::sc_interface {
 public:
  // Request `id` completed; its interrupt reaches the CPU at t.irq, the
  // caller's current cycle.
  virtual void complete(uint64_t id, const BlockTimeline& t) = 0;
};

}  // namespace mmusim
