// ReadAheadReader: the wrapped reader runs on a thread that fills a ring of
// kBlocks blocks; the consumer serves records from the oldest filled block
// and gives it back when done. One lock per block on each side (about 4096
// records), none per record.
#include "traces/read_ahead.h"

#include <sched.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "models/common/config_schema.h"
#include "models/common/error.h"

namespace mmusim {

InputThread parse_input_thread(const std::string& text, const std::string& option) {
  if (text == "auto") return InputThread::kAuto;
  if (text == "on") return InputThread::kOn;
  if (text == "off") return InputThread::kOff;
  throw InputError(option + ": expected auto, on or off, got '" + visible(text) + "'");
}

bool use_input_thread(InputThread mode) {
  if (mode != InputThread::kAuto) return mode == InputThread::kOn;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  return CPU_COUNT(&set) >= 2;
}

std::unique_ptr<TraceReader> with_input_thread(std::unique_ptr<TraceReader> r, InputThread mode,
                                               uint64_t max_records) {
  if (!use_input_thread(mode)) return r;
  return std::make_unique<ReadAheadReader>(std::move(r), max_records);
}

ReadAheadReader::ReadAheadReader(std::unique_ptr<TraceReader> inner, uint64_t max_records)
    : inner_(std::move(inner)),
      path_(inner_->path()),
      inner_capacity_(inner_->buffer_capacity()),
      limit_(max_records),
      ring_(kBlocks),
      position_(inner_->position()),
      info_(inner_->format_info()) {
  for (Block& b : ring_) b.records = std::make_unique<TraceRecord[]>(kBlockRecords);
}

ReadAheadReader::~ReadAheadReader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  can_fill_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// The thread: fills the next free block until the trace, the limit or an
// error ends it, or the consumer goes away.
void ReadAheadReader::produce() {
  size_t tail = 0;
  uint64_t produced = 0;
  size_t tasks_sent = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (filled_ == kBlocks && !stop_) {
        // Full: wait until half the ring is free (one wake-up per kResume
        // blocks, not one per block).
        waiting_ = true;
        can_fill_.wait(lock, [this] { return filled_ <= kBlocks - kResume || stop_; });
        waiting_ = false;
      }
      if (stop_) return;
    }
    Block& b = ring_[tail];  // not the consumer's until published
    b.n = 0;
    b.events.clear();
    b.new_tasks.clear();
    b.end = false;
    b.error = nullptr;
    try {
      size_t want = kBlockRecords;
      if (limit_ != 0) want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - produced));
      b.n = want == 0 ? 0 : inner_->read(b.records.get(), want);
      produced += b.n;
      b.end = b.n == 0;
      if (b.n != 0) inner_->take_events(b.events);
      const auto& slots = inner_->tasks();
      b.new_tasks.assign(slots.begin() + static_cast<std::ptrdiff_t>(tasks_sent), slots.end());
      tasks_sent = slots.size();
      b.has_tasks = inner_->has_tasks();
      b.position = inner_->position();
      b.info = inner_->format_info();
    } catch (...) {
      b.n = 0;
      b.error = std::current_exception();
    }
    const bool last = b.end || b.error != nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++filled_;
      decoded_ = produced;
    }
    can_take_.notify_one();
    if (last) return;
    tail = (tail + 1) % kBlocks;
  }
}

// Gives back the block being served (if any) and waits for the next one.
void ReadAheadReader::take_block() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (holding_) {
    --filled_;
    holding_ = false;
    head_ = (head_ + 1) % kBlocks;
    if (waiting_ && filled_ == kBlocks - kResume) can_fill_.notify_one();
  }
  can_take_.wait(lock, [this] { return filled_ > 0; });
  lock.unlock();
  holding_ = true;
  pos_ = 0;
  served_events_ = 0;
  Block& b = ring_[head_];
  tasks_.insert(tasks_.end(), b.new_tasks.begin(), b.new_tasks.end());
  if (b.error) {
    error_ = b.error;
    return;
  }
  has_tasks_ = b.has_tasks;
  position_ = b.position;
  info_ = b.info;
  ended_ = b.end;
}

bool ReadAheadReader::next_records(size_t max) {
  last_events_ = 0;
  if (error_) std::rethrow_exception(error_);
  if (max == 0 || ended_) return false;
  if (!started_) {
    started_ = true;
    inner_->set_cpu_limit(cpu_limit());
    inner_->set_address_limit(address_limit(), address_mode());
    thread_ = std::thread([this] { produce(); });
  }
  if (!holding_ || pos_ == ring_[head_].n) {
    take_block();
    if (error_) std::rethrow_exception(error_);
    if (ended_) return false;
  }
  return true;
}

const TraceRecord* ReadAheadReader::borrow(TraceRecord* scratch, size_t max, size_t& n) {
  if (!next_records(max)) {
    n = 0;
    return scratch;
  }
  const Block& b = ring_[head_];
  if (!b.events.empty()) {
    n = read(scratch, max);
    return scratch;
  }
  n = std::min(max, b.n - pos_);
  const TraceRecord* r = b.records.get() + pos_;
  pos_ += n;
  return r;
}

size_t ReadAheadReader::read(TraceRecord* out, size_t max) {
  if (!next_records(max)) return 0;
  const Block& b = ring_[head_];
  const size_t n = std::min(max, b.n - pos_);
  std::copy_n(b.records.get() + pos_, n, out);
  pos_ += n;
  if (!b.events.empty()) {
    // An EVENT record's addr indexes the events of its read(): renumber them
    // from 0 for this read.
    last_event_ = served_events_;
    for (size_t i = 0; i < n; ++i) {
      if (trace_flags::op_of(out[i].flags) == trace_flags::kOpEvent) {
        out[i].addr -= served_events_;
        ++last_events_;
      }
    }
    served_events_ += last_events_;
  }
  return n;
}

void ReadAheadReader::take_events(std::vector<OsEvent>& out) {
  if (last_events_ == 0) return;
  Block& b = ring_[head_];
  const auto first = b.events.begin() + static_cast<std::ptrdiff_t>(last_event_);
  std::move(first, first + static_cast<std::ptrdiff_t>(last_events_), std::back_inserter(out));
  last_events_ = 0;
}

std::string ReadAheadReader::position() const { return position_; }

TraceFormatInfo ReadAheadReader::format_info() const { return info_; }

bool ReadAheadReader::producer_waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

uint64_t ReadAheadReader::decoded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return decoded_;
}

}  // namespace mmusim
