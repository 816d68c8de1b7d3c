// Where a CPU module takes its records from: the trace feeder of the
// composition root, or anything a hand-built system provides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/common/fault.h"
#include "models/common/os_event.h"
#include "models/common/types.h"

namespace mmusim {

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next records for CPU `cpu`: sets `n` (0 at the end of its stream)
  // and returns where they are, valid until the next call for `cpu`: either
  // `scratch`, filled with up to `max` records, or the source's own storage
  // (any number of records, lent without a copy). Records must be
  // well-formed (trace_record_problem() == nullptr).
  virtual const TraceRecord* next(uint32_t cpu, TraceRecord* scratch, size_t max, size_t& n) = 0;
};

// A trace with tasks: records per task (process, thread), and the OS events
// their EVENT records stand for.
class TaskRecordSource {
 public:
  virtual ~TaskRecordSource() = default;
  // Fills up to `max` records of task `t`; 0 when the trace holds no more.
  virtual size_t next(TaskId t, TraceRecord* out, size_t max) = 0;
  // Gives back records taken but not run (the task stopped before them):
  // they come first at the next call for `t`.
  virtual void unread(TaskId t, const TraceRecord* r, size_t n) = 0;
  // The event of an EVENT record (its addr), handed over once.
  virtual OsEvent take_event(uint64_t id) = 0;
  // The task ended: its remaining records are dropped (and counted).
  virtual void drop(TaskId t) = 0;
  // Appends the tasks found since the last call whose first record is START
  // (present when the trace begins). With `look`, reads further into the
  // trace (bounded) until one is found. False when nothing was found and the
  // trace is exhausted.
  virtual bool new_tasks(std::vector<TaskId>& out, bool look) = 0;
  // Cheap check: tasks were found that new_tasks() has not handed out yet.
  [[nodiscard]] virtual bool has_new_tasks() const = 0;
};

}  // namespace mmusim
