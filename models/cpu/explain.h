// --explain text: one block per explained event (translation, selector load,
// invalidation, segmentation fault), built from the cores' state and results.
// CpuCore decides what is explained and when; everything it prints is
// formatted here. Blocks are kept in the order their events were issued, even
// when a block is completed later (a walk finishes after younger hits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/arch/descriptor.h"
#include "models/common/fault.h"
#include "models/common/types.h"
#include "models/seg/segmentation.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {

// The explain budget and output of one CPU.
class Explainer {
 public:
  Explainer(uint64_t budget, std::vector<std::string>* out)
      : left_(out != nullptr ? budget : 0), out_(out) {}
  [[nodiscard]] bool on() const { return left_ != 0; }
  // Takes one event from the budget and reserves its block; returns the
  // block's index for fill(). Call only when on().
  size_t open() {
    --left_;
    out_->emplace_back();
    return out_->size() - 1;
  }
  void fill(size_t block, std::string text) { (*out_)[block] = std::move(text); }
  void append_to(size_t block, const std::string& text) { (*out_)[block] += text; }
  // A block written at once (no budget taken: the caller's event took it).
  void append(std::string text) { out_->push_back(std::move(text)); }

 private:
  uint64_t left_;
  std::vector<std::string>* out_;
};

namespace explain {

std::string hex(uint64_t v);
// "#N cpuC K 0xADDR issue@T\n": the first line of a translation's block.
std::string head(uint64_t n, uint32_t cpu, AccessKind k, LinearAddr a, Cycle issue);
// "  tlb:  L1D 4K miss, 2M miss | L2 4K_2M hit (2M page), 10 cycles\n".
std::string tlb_line(const TlbHierarchy& tlb, AccessKind k, TlbLevel level, const Translation* t,
                     Cycles latency);
std::string hit(const TlbHierarchy& tlb, AccessKind k, LinearAddr a, const TlbLookup& l,
                Cycles seg);
std::string paging_off(LinearAddr a, Cycles seg);
std::string merged(Cycle walk_done, PhysAddr phys, Cycles translation);
// The kernel's answer to a fault: its class, the parts of its handling that
// took time (in the order they are listed in FaultTiming), and what follows.
std::string kernel(const FaultOutcome& o);
// The fault a task slept in, completed when the task runs again.
std::string resumed(const FaultOutcome& o);
// Why a walk was made: a TLB miss, a re-walk of a TLB entry that does not
// allow the access (permission or D bit), or a merged write's D-bit re-walk
// after the walk it merged into (the merge line says so already).
enum class WalkReason : uint8_t { kMiss, kReWalk, kDirtyAfterMerge };
// A walk's lines: the TLB probe (unless kDirtyAfterMerge), every step, the
// outcome.
std::string walk(const TlbHierarchy& tlb, const PagingModeInfo& m, LinearAddr a, AccessKind k,
                 Cycle issue, const WalkResult& w, Cycles tlb_latency, WalkReason why);

// Segmentation.
std::string sel_hex(Selector s);
std::string reg_upper(SegReg r);
std::string span(Cycle a, Cycle b);
std::string descriptor_text(uint64_t raw);
std::string fault_name(const SegFault& f);
// A register as the explain lines show it ("0x002b (GDT[5] 0x...: base ...)").
std::string seg_register(const SegmentationUnit& seg, SegReg r);
// "R DS:0x40 (4 bytes)" or "LOAD DS 0x002b".
std::string seg_record(const TraceRecord& r, const SegFault& f);
// The "  seg:  ..." line of an access whose segment step is worth showing.
std::string seg_line(const SegmentationUnit& seg, SegReg reg, uint64_t offset, uint64_t size,
                     uint64_t linear, Cycles cost);

}  // namespace explain
}  // namespace mmusim
