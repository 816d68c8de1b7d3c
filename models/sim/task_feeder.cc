#include "models/sim/task_feeder.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "models/common/error.h"

namespace mmusim {

TaskFeeder::TaskFeeder(std::unique_ptr<TraceReader> r, const TraceRecord* first, size_t n,
                       uint64_t max_records)
    : reader_(std::move(r)), limit_(max_records) {
  delivered_ = n;
  if (n == 0) exhausted_ = true;
  accept(first, n);
}

size_t TaskFeeder::clamp(size_t max) const {
  if (limit_ == 0) return max;
  const uint64_t left = limit_ > delivered_ ? limit_ - delivered_ : 0;
  return static_cast<size_t>(left < max ? left : max);
}

bool TaskFeeder::read_batch() {
  if (exhausted_) return false;
  const size_t n = reader_->read(buf_, clamp(kBatch));
  if (n == 0) {
    exhausted_ = true;
    return false;
  }
  delivered_ += n;
  accept(buf_, n);
  return true;
}

void TaskFeeder::accept(const TraceRecord* r, size_t n) {
  batch_events_.clear();
  reader_->take_events(batch_events_);
  const uint64_t base = next_event_;
  next_event_ += batch_events_.size();
  const auto& slots = reader_->tasks();
  for (size_t i = 0; i < n; ++i) {
    TraceRecord rec = r[i];
    const uint64_t number = delivered_ - n + i + 1;
    if (rec.flags != 0) {
      if (const char* why = trace_record_problem(rec)) {
        char flags[8];
        std::snprintf(flags, sizeof flags, "0x%02x", static_cast<unsigned>(rec.flags));
        throw InputError(reader_->path() + ": record " + std::to_string(number) + ": " + why +
                         " (flags " + flags + ")");
      }
    }
    if (rec.cpu >= slots.size()) {
      throw InputError(reader_->path() + ": record " + std::to_string(number) + ": task slot " +
                       std::to_string(rec.cpu) + " has no task (expected 0.." +
                       std::to_string(slots.size()) + ")");
    }
    const TaskId t{slots[rec.cpu].pid, slots[rec.cpu].tid};
    const bool is_event = trace_flags::op_of(rec.flags) == trace_flags::kOpEvent;
    if (is_event) {
      if (rec.addr >= batch_events_.size()) {
        throw InputError(reader_->path() + ": record " + std::to_string(number) + ": event " +
                         std::to_string(rec.addr) + " of a batch of " +
                         std::to_string(batch_events_.size()));
      }
      const uint64_t id = base + rec.addr;
      events_.emplace(id, std::move(batch_events_[rec.addr]));
      rec.addr = id;
    }
    if (seen_.insert(t).second && is_event &&
        std::holds_alternative<StartEvent>(events_.at(rec.addr).body)) {
      fresh_.push_back(t);
    }
    if (dropped_tasks_.count(t) != 0) {
      ++dropped_;
      if (is_event) events_.erase(rec.addr);
      continue;
    }
    queues_[t].push_back(rec);
    ++buffered_;
  }
}

size_t TaskFeeder::next(TaskId t, TraceRecord* out, size_t max) {
  auto it = queues_.find(t);
  while (it == queues_.end() || it->second.empty()) {
    if (buffered_ > kMaxBuffered) {
      throw InputError(reader_->path() + ":" + reader_->position() + ": more than " +
                       std::to_string(kMaxBuffered) + " records buffered while task " +
                       std::to_string(t.pid) + "." + std::to_string(t.tid) +
                       " has none; interleave the tasks' records more finely");
    }
    if (!read_batch()) return 0;
    it = queues_.find(t);
  }
  auto& q = it->second;
  const size_t n = std::min(max, q.size());
  q.take(out, n);
  buffered_ -= n;
  return n;
}

void TaskFeeder::unread(TaskId t, const TraceRecord* r, size_t n) {
  if (n == 0) return;
  queues_[t].give_back(r, n);
  buffered_ += n;
}

void TaskFeeder::RecordQueue::take(TraceRecord* out, size_t n) {
  std::copy_n(buf_.data() + head_, n, out);
  head_ += n;
  if (head_ == buf_.size()) {
    buf_.clear();
    head_ = 0;
  }
}

void TaskFeeder::RecordQueue::give_back(const TraceRecord* r, size_t n) {
  if (n <= head_) {  // into the room of records handed out
    head_ -= n;
    std::copy_n(r, n, buf_.data() + head_);
  } else {
    buf_.insert(buf_.begin() + static_cast<std::ptrdiff_t>(head_), r, r + n);
  }
}

OsEvent TaskFeeder::take_event(uint64_t id) {
  auto it = events_.find(id);
  OsEvent e = std::move(it->second);
  events_.erase(it);
  return e;
}

void TaskFeeder::drop(TaskId t) {
  dropped_tasks_.insert(t);
  auto it = queues_.find(t);
  if (it == queues_.end()) return;
  for (const TraceRecord& r : it->second) {
    if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) events_.erase(r.addr);
  }
  dropped_ += it->second.size();
  buffered_ -= it->second.size();
  queues_.erase(it);
}

bool TaskFeeder::new_tasks(std::vector<TaskId>& out, bool look) {
  while (fresh_.empty() && look && buffered_ <= kMaxBuffered) {
    if (!read_batch()) break;
  }
  if (fresh_.empty() && look && !exhausted_) {
    throw InputError(reader_->path() + ":" + reader_->position() + ": more than " +
                     std::to_string(kMaxBuffered) +
                     " records buffered and no task running: the buffered records belong to "
                     "tasks that never started (expected a START event, or their creation by "
                     "PROC_CREATE or THREAD_CREATE, before their records)");
  }
  const bool any = !fresh_.empty();
  out.insert(out.end(), fresh_.begin(), fresh_.end());
  fresh_.clear();
  return any || !exhausted_;
}

uint64_t TaskFeeder::left_over() const {
  uint64_t n = 0;
  for (const auto& [t, q] : queues_) n += q.size();
  return n;
}

}  // namespace mmusim
