// What the kernel submits to storage (plain C++): a block request with the
// host pages its DMA moves, and the timeline of its completion, whose steps
// become the fields of a major fault's breakdown (design.md §7).
//
// BlockQueue is the kernel core's view of the storage path. The disk
// controller module (disk_controller.h) answers later, through BlockDoneIf, at
// the cycle the completion interrupt is delivered; SyncBlockQueue answers at
// once from a device alone (no controller, no DMA, no contention with other
// agents), for plain tests of the kernel core.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "models/common/types.h"
#include "models/disk/disk_model.h"

namespace mmusim {

struct BlockRequest {
  uint64_t id = 0;      // the kernel's tag (non-zero), returned with the completion
  uint32_t dev = 0;     // device number of the file (FileEvent::dev) or swap area
  uint64_t offset = 0;  // byte offset on the device
  uint64_t bytes = 0;   // > 0, a multiple of 512
  bool write = false;
  Cycle at;                 // the kernel rings the doorbell
  std::vector<Pfn> frames;  // host pages of the transfer, in order (may be empty: no DMA traffic)
};

// The steps of one request, in cycles. A read runs fetched -> device -> DMA
// to memory -> interrupt; a write runs fetched -> DMA from memory -> device
// -> interrupt.
struct BlockTimeline {
  Cycle submitted;     // doorbell written (BlockRequest::at)
  Cycle fetched;       // the controller holds the command (SQ slot, doorbell, SQE and PRP fetch)
  Cycle device_start;  // the device starts serving it (after its own queue)
  Cycle device_done;   // the device is done (read: data buffered; write: acknowledged)
  Cycle dma_start;     // the host data transfer starts
  Cycle dma_done;      // ... and its last line is in (or out of) memory
  Cycle irq;           // the completion interrupt reaches the CPU (CQE written, MSI-X)
};

class BlockQueue {
 public:
  virtual ~BlockQueue() = default;
  // Accepts `r`; returns its timeline now when the backend knows it at once
  // (SyncBlockQueue), nullopt when the completion is reported later.
  virtual std::optional<BlockTimeline> submit(const BlockRequest& r) = 0;
};

// A device on its own: each request is submitted at r.at and run to its
// completion at once; the timeline has no controller steps and no DMA
// (fetched = submitted, dma_start = dma_done = irq = device_done for reads;
// for writes the DMA and the interrupt collapse onto the device's steps).
class SyncBlockQueue : public BlockQueue {
 public:
  explicit SyncBlockQueue(DiskModel& d) : disk_(d) {}
  std::optional<BlockTimeline> submit(const BlockRequest& r) override;

 private:
  DiskModel& disk_;
};

}  // namespace mmusim
