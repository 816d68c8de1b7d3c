// --explain text: one block per explained event (translation, selector load,
// invalidation, segmentation fault), built from the cores' state and results.
// CpuCore decides what is explained and when; everything it prints is
// formatted here. Blocks are kept in the order their events were issued, even
// when a block is completed later (a walk finishes after younger hits).
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>
#include <string>
#include <vector>

#include "models/arch/descriptor.h"
#include "models/common/fault.h"
#include "models/common/types.h"
#include "models/seg/segmentation.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {

// The explain text of a run, shared by every CPU: blocks in the order their
// events were opened. Without a stream every block is kept (blocks()); with
// one, a block is written as soon as it and every older block are closed,
// and then forgotten, so only the blocks from the oldest open one on are
// held (a walk or a sleeping fault keeps its block open until it completes).
// finish() writes what is left, open or not, at the end of a run.
class ExplainLog {
 public:
  explicit ExplainLog(std::ostream* out = nullptr) : out_(out) {}
  // A new empty block; its index for fill, append_to and close.
  size_t open();
  void fill(size_t block, std::string text) { at(block) = std::move(text); }
  void append_to(size_t block, const std::string& text) { at(block) += text; }
  // Nothing more is added to `block`.
  void close(size_t block);
  // Writes every block not yet written (to the stream, if any).
  void finish();
  // Without a stream: every block so far. With one: empty.
  [[nodiscard]] const std::vector<std::string>& blocks() const { return kept_; }

 private:
  std::string& at(size_t block);
  void flush();

  std::ostream* out_;
  std::vector<std::string> kept_;  // no stream: every block, by index
  // With a stream: blocks first_, first_ + 1, ... not yet written.
  size_t first_ = 0;
  std::deque<std::string> text_;
  std::deque<bool> closed_;
};

// The explain budget of one CPU, and the run's log its blocks go to.
class Explainer {
 public:
  Explainer(uint64_t budget, ExplainLog* out) : left_(out != nullptr ? budget : 0), out_(out) {}
  [[nodiscard]] bool on() const { return left_ != 0; }
  // Takes one event from the budget and reserves its block; returns the
  // block's index for fill(). Call only when on().
  size_t open() {
    --left_;
    return out_->open();
  }
  void fill(size_t block, std::string text) { out_->fill(block, std::move(text)); }
  void append_to(size_t block, const std::string& text) { out_->append_to(block, text); }
  // The block is complete (it may be written once every older one is).
  void close(size_t block) { out_->close(block); }
  // A block written at once (no budget taken: the caller's event took it).
  void append(std::string text) {
    const size_t b = out_->open();
    out_->fill(b, std::move(text));
    out_->close(b);
  }

 private:
  uint64_t left_;
  ExplainLog* out_;
};

namespace explain {

// The largest --explain N: N blocks per CPU, each some hundred bytes.
inline constexpr uint64_t kMaxSteps = 1000000;

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
// A late fault: the line after the walk that found it, and the line of an
// access merged into that walk.
std::string late_found();
std::string merged_into_late();
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
