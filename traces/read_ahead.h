// Trace input on its own thread (README "Performance"): a ReadAheadReader
// runs another reader (decompression and parsing of any format, the
// generator too) on a thread of its own and hands the consumer blocks of
// decoded records through a bounded ring, so the simulation waits only when
// the input is slower than it. The records, their order, the OS events, the
// task slots and the errors (the same exception, after every record decoded
// before it) are those of the wrapped reader.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "traces/trace_reader.h"

namespace mmusim {

// --input-thread: auto (a thread when the process may run on two or more
// CPUs), on, off.
enum class InputThread : uint8_t { kAuto, kOn, kOff };
// "auto", "on" or "off"; anything else is an InputError naming `option`.
InputThread parse_input_thread(const std::string& text, const std::string& option);
// Whether `mode` runs the input on a thread on this machine (auto: the CPUs
// this process may run on, sched_getaffinity, are two or more).
bool use_input_thread(InputThread mode);

// Wraps `r` in a ReadAheadReader when `mode` says so, else returns it as is.
// `max_records`: the consumer takes at most that many records (0 = all); the
// thread decodes no further, so an error past the limit stays unseen, as
// without the thread.
std::unique_ptr<TraceReader> with_input_thread(std::unique_ptr<TraceReader> r, InputThread mode,
                                               uint64_t max_records);

class ReadAheadReader final : public TraceReader {
 public:
  // Records per block and blocks in the ring: 8 x 4096 x 16 bytes = 512 KiB,
  // whatever the trace's length. The thread asks the wrapped reader for
  // kBlockRecords at a time (fewer at the record limit), as the feeders do,
  // so a consumer reading kBlockRecords at a time sees the same batches
  // (position(), take_events()) as without the thread.
  static constexpr size_t kBlockRecords = 4096;
  static constexpr size_t kBlocks = 8;
  static constexpr size_t kRingBytes = kBlocks * kBlockRecords * sizeof(TraceRecord);
  // A full ring: the thread resumes when this many blocks are free again.
  static constexpr size_t kResume = kBlocks / 2;

  // The thread starts at the first read(): the limits set on this reader
  // (set_cpu_limit, set_address_limit) are passed on to `inner` then.
  ReadAheadReader(std::unique_ptr<TraceReader> inner, uint64_t max_records);
  ~ReadAheadReader() override;  // stops the thread and joins it
  ReadAheadReader(const ReadAheadReader&) = delete;
  ReadAheadReader& operator=(const ReadAheadReader&) = delete;

  // Returns records of one block at most; rethrows the wrapped reader's
  // error once every record decoded before it was returned (and again on
  // every later call).
  size_t read(TraceRecord* out, size_t max) override;
  // read() without the copy: the records in the ring's block (kept until the
  // next call). A block with EVENT records is copied (their indices are
  // renumbered per call).
  const TraceRecord* borrow(TraceRecord* scratch, size_t max, size_t& n) override;
  // The position after the last record of the block the last read() took
  // records from (exactly the wrapped reader's position when every read()
  // takes a whole block).
  [[nodiscard]] std::string position() const override;
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override;
  // The wrapped reader's input buffer plus the ring (constant).
  [[nodiscard]] size_t buffer_capacity() const override { return inner_capacity_ + kRingBytes; }
  [[nodiscard]] bool has_tasks() const override { return has_tasks_; }
  void take_events(std::vector<OsEvent>& out) override;
  [[nodiscard]] const std::vector<TaskKey>& tasks() const override { return tasks_; }

  // For tests: the thread is waiting for a free block (the ring is full).
  [[nodiscard]] bool producer_waiting() const;
  // For tests: records the thread has decoded so far.
  [[nodiscard]] uint64_t decoded() const;

 private:
  struct Block {
    std::unique_ptr<TraceRecord[]> records;
    size_t n = 0;
    std::vector<OsEvent> events;
    std::vector<TaskKey> new_tasks;  // task slots first used in this block
    std::string position;
    TraceFormatInfo info;
    bool has_tasks = false;
    bool end = false;          // the stream ends after this block
    std::exception_ptr error;  // the wrapped reader failed after this block
  };
  void produce();
  void take_block();
  // Starts the thread at the first call and holds a block with records left;
  // false at the end (or `max` 0). Rethrows the wrapped reader's error.
  bool next_records(size_t max);

  std::unique_ptr<TraceReader> inner_;  // used by the thread only once it runs
  const std::string path_;
  const size_t inner_capacity_;
  const uint64_t limit_;
  std::vector<Block> ring_;

  mutable std::mutex mutex_;
  std::condition_variable can_fill_, can_take_;
  size_t filled_ = 0;  // blocks published and not yet released by the consumer
  bool stop_ = false, waiting_ = false;
  uint64_t decoded_ = 0;
  std::thread thread_;

  // Consumer side.
  bool started_ = false, holding_ = false, ended_ = false;
  size_t head_ = 0;  // the block being served
  size_t pos_ = 0;   // its next record
  size_t served_events_ = 0, last_event_ = 0, last_events_ = 0;
  std::exception_ptr error_;
  std::vector<TaskKey> tasks_;
  bool has_tasks_ = false;
  std::string position_;
  TraceFormatInfo info_;
};

}  // namespace mmusim
