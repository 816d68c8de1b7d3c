// The task feeder (design.md §1): demultiplexes a trace with tasks into one
// record queue per task (process, thread) for the CPUs the scheduler puts
// them on, keeps the OS events that EVENT records stand for, and finds the
// tasks present at the start (their first record is START). Buffering is
// bounded: a trace whose tasks drift too far apart is refused.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "models/cpu/record_source.h"
#include "traces/trace_reader.h"

namespace mmusim {

class TaskFeeder : public TaskRecordSource {
 public:
  // `first`: the records of the reader's first read() (its events not yet
  // taken); `max_records`: sim.max_accesses (0 = all).
  TaskFeeder(std::unique_ptr<TraceReader> r, const TraceRecord* first, size_t n,
             uint64_t max_records);

  size_t next(TaskId t, TraceRecord* out, size_t max) override;
  void unread(TaskId t, const TraceRecord* r, size_t n) override;
  OsEvent take_event(uint64_t id) override;
  void drop(TaskId t) override;
  bool new_tasks(std::vector<TaskId>& out, bool look) override;
  [[nodiscard]] bool has_new_tasks() const override { return !fresh_.empty(); }

  [[nodiscard]] uint64_t delivered() const { return delivered_; }
  // Records of ended tasks that were dropped, and records still buffered for
  // tasks that never ran them (never started, or blocked at the end).
  [[nodiscard]] uint64_t dropped() const { return dropped_; }
  [[nodiscard]] uint64_t left_over() const;

  static constexpr size_t kMaxBuffered = 1U << 22;

 private:
  static constexpr size_t kBatch = 4096;
  // One task's records in order: a vector read from a position. Handing
  // records out moves the position; records given back (unread) overwrite
  // the ones handed out before it, so a task that blocks every few records
  // copies only what it gives back, and allocates nothing.
  class RecordQueue {
   public:
    [[nodiscard]] size_t size() const { return buf_.size() - head_; }
    [[nodiscard]] bool empty() const { return head_ == buf_.size(); }
    [[nodiscard]] const TraceRecord* begin() const { return buf_.data() + head_; }
    [[nodiscard]] const TraceRecord* end() const { return buf_.data() + buf_.size(); }
    void push_back(const TraceRecord& r) {
      // The records handed out go once they are most of the buffer.
      if (head_ >= kBatch && head_ * 2 >= buf_.size()) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
      buf_.push_back(r);
    }
    // The first n (at most size()) to `out`.
    void take(TraceRecord* out, size_t n);
    // n records back in front of the rest, in their order.
    void give_back(const TraceRecord* r, size_t n);

   private:
    std::vector<TraceRecord> buf_;
    size_t head_ = 0;  // records before it were handed out
  };
  bool read_batch();
  void accept(const TraceRecord* r, size_t n);
  [[nodiscard]] size_t clamp(size_t max) const;

  std::unique_ptr<TraceReader> reader_;
  std::map<TaskId, RecordQueue> queues_;
  std::set<TaskId> seen_, dropped_tasks_;
  std::vector<TaskId> fresh_;  // started tasks not handed out yet
  std::unordered_map<uint64_t, OsEvent> events_;
  std::vector<OsEvent> batch_events_;
  uint64_t next_event_ = 0;
  size_t buffered_ = 0;
  bool exhausted_ = false;
  uint64_t limit_;
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
  TraceRecord buf_[kBatch];
};

}  // namespace mmusim
