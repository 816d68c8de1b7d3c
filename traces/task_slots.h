// Task slots of a trace with OS events: (pid, tid) -> a 16-bit slot, numbered
// in order of first appearance (TraceReader::tasks()). At most 65536 slots.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "traces/trace_reader.h"

namespace mmusim {

class TaskSlots {
 public:
  static constexpr size_t kMaxSlots = size_t{1} << 16;
  static constexpr int kFull = -1;

  // The slot of (pid, tid), or -1 when it has none.
  [[nodiscard]] int find(uint32_t pid, uint32_t tid) const {
    auto it = slots_.find(key(pid, tid));
    return it == slots_.end() ? -1 : static_cast<int>(it->second);
  }
  // The slot of (pid, tid), assigning the next one on its first appearance;
  // kFull when all 65536 are taken.
  int find_or_add(uint32_t pid, uint32_t tid) {
    auto [it, inserted] = slots_.try_emplace(key(pid, tid), static_cast<uint32_t>(tasks_.size()));
    if (inserted) {
      if (tasks_.size() == kMaxSlots) {
        slots_.erase(it);
        return kFull;
      }
      tasks_.push_back({pid, tid});
    }
    return static_cast<int>(it->second);
  }
  [[nodiscard]] const std::vector<TraceReader::TaskKey>& tasks() const { return tasks_; }
  [[nodiscard]] size_t size() const { return tasks_.size(); }

 private:
  static uint64_t key(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }
  std::unordered_map<uint64_t, uint32_t> slots_;
  std::vector<TraceReader::TaskKey> tasks_;
};

}  // namespace mmusim
