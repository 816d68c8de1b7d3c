// The segmentation unit as a public SystemC module (top.cpuN.seg): logical
// to linear translation, segment registers, descriptor checks. The CPU calls
// core() directly on the per-access path; selector loads read descriptors
// through the CPU's memory port.
#pragma once

#include <systemc>

#include "models/seg/segmentation.h"

namespace mmusim {

class SegModule : public sc_core::sc_module {
 public:
  SegModule(const sc_core::sc_module_name& name, const SegConfig& cfg)
      : sc_module(name), seg_(cfg) {}
  [[nodiscard]] const char* kind() const override { return "SegModule"; }
  [[nodiscard]] SegmentationUnit& core() { return seg_; }
  [[nodiscard]] const SegmentationUnit& core() const { return seg_; }

 private:
  SegmentationUnit seg_;
};

}  // namespace mmusim
