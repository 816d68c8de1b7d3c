#include "traces/trace_writer.h"

#include <cstring>

#include "models/common/error.h"
#include "traces/formats.h"
#include "traces/os_event_format.h"

namespace mmusim {
namespace {

constexpr size_t kWriteBuffer = size_t{1} << 20;

// Valgrind lackey's access line: "I  %08x,%u", " L ...", " S ...".
size_t format_lackey_record(const TraceRecord& r, char* buf) {
  const char* lead = r.kind == AccessKind::kFetch   ? "I  "
                     : r.kind == AccessKind::kWrite ? " S "
                                                    : " L ";
  std::memcpy(buf, lead, 3);
  char* p = buf + 3;
  int digits = 8;
  while (digits < 16 && (r.addr >> (4 * digits)) != 0) ++digits;
  for (int i = digits - 1; i >= 0; --i) *p++ = "0123456789abcdef"[(r.addr >> (4 * i)) & 0xF];
  *p++ = ',';
  char dec[12];
  int n = 0;
  uint32_t v = r.size;
  do {
    dec[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = dec[--n];
  *p++ = '\n';
  return static_cast<size_t>(p - buf);
}

std::string check_lackey_record(const TraceRecord& r) {
  if (r.flags != 0) return "a segment or OS-event record: lackey output holds memory accesses only";
  if (r.kind != AccessKind::kFetch && r.kind != AccessKind::kRead && r.kind != AccessKind::kWrite) {
    return "invalid access kind " + std::to_string(static_cast<unsigned>(r.kind));
  }
  if (r.size > kMaxAccessSize)
    return "size " + std::to_string(r.size) + " is more than lackey's 4096";
  return {};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TraceWriter::TraceWriter(const std::string& path, TraceWriterOptions options)
    : path_(path == "-" ? "<stdout>" : path),
      options_(std::move(options)),
      sink_(open_byte_sink(path, options_.compression, options_.level)),
      buf_(new char[kWriteBuffer]) {
  if (options_.binary_version < 1 || options_.binary_version > 3) {
    throw InputError(path_ + ": binary version " + std::to_string(options_.binary_version) +
                     ", expected 1, 2 or 3");
  }
  if (options_.format == TraceFormat::kBinary) {
    // Validate the comment now; the header itself is written by flush().
    (void)encode_binary_header(options_.comment, 0);
  } else if (!options_.comment.empty()) {
    // Text: "# " lines; lackey: valgrind's "==PID== " lines, which it skips.
    const char* lead = options_.format == TraceFormat::kLackey ? "==0== " : "# ";
    std::string c = lead;
    for (char ch : options_.comment) {
      c += ch;
      if (ch == '\n') c += lead;
    }
    c += '\n';
    sink_->write(c.data(), c.size());
  }
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::refuse(const std::string& why) const {
  throw InputError(path_ + ": record " + std::to_string(count_ + 1) + ": " + why);
}

void TraceWriter::ensure(size_t bytes) {
  if (used_ + bytes > kWriteBuffer) flush();
}

void TraceWriter::put_record(const TraceRecord& r) {
  if (r.flags != 0 && trace_record_problem(r) == nullptr) segment_records_ = true;
  if (options_.format == TraceFormat::kText) {
    used_ += format_text_record(r, buf_.get() + used_);
  } else if (options_.format == TraceFormat::kLackey) {
    used_ += format_lackey_record(r, buf_.get() + used_);
  } else if (compact()) {
    used_ += encoder_.encode(r, buf_.get() + used_);
    ++stored_;
  } else {
    encode_record(r, buf_.get() + used_);
    used_ += kBinaryRecordSize;
    ++stored_;
  }
}

void TraceWriter::write(const TraceRecord* records, size_t n) {
  const bool text = options_.format == TraceFormat::kText;
  for (size_t i = 0; i < n; ++i) {
    const TraceRecord& r = records[i];
    if (mode_ == Mode::kTasks) {
      refuse("a record without its task in a task trace (write_task_record names the task)");
    }
    std::string why;
    if (text) {
      why = check_text_record(r);
    } else if (options_.format == TraceFormat::kLackey) {
      why = check_lackey_record(r);
    } else if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) {
      why = "invalid access kind " + std::to_string(static_cast<unsigned>(r.kind));
    } else if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) {
      why = "an EVENT record without its event (write_event writes events)";
    }
    if (!why.empty()) refuse(why);
    mode_ = Mode::kPlain;
    ensure(64);
    put_record(r);
    ++count_;
  }
}

void TraceWriter::begin_task_trace() {
  if (mode_ == Mode::kPlain) {
    refuse(
        "an OS event in a trace that did not start with one (a task trace begins with an OS "
        "event)");
  }
  mode_ = Mode::kTasks;
}

uint16_t TraceWriter::slot_for(uint32_t pid, uint32_t tid, bool declare) {
  int s = slots_.find(pid, tid);
  if (s >= 0) return static_cast<uint16_t>(s);
  s = slots_.find_or_add(pid, tid);
  if (s == TaskSlots::kFull) refuse("more than 65536 tasks in one trace");
  if (declare && compact()) {  // payload: u16 kind 0xFFFF, u16 0, u32 pid, u32 tid
    ensure(kMaxCompactRecord + kEventPayloadHead);
    char* p = buf_.get() + used_;
    p += encoder_.encode_event_head(static_cast<uint16_t>(s), kEventPayloadHead, p);
    const uint16_t kind = kTaskDeclarationKind;
    const uint16_t zero = 0;
    std::memcpy(p, &kind, 2);
    std::memcpy(p + 2, &zero, 2);
    std::memcpy(p + 4, &pid, 4);
    std::memcpy(p + 8, &tid, 4);
    used_ = static_cast<size_t>(p + kEventPayloadHead - buf_.get());
    ++stored_;
  } else if (declare) {  // u16 kind 0xFFFF, u16 0, u32 pid, u32 tid, 4 bytes of padding
    TraceRecord head;
    head.size = kEventPayloadHead;
    head.cpu = static_cast<uint16_t>(s);
    head.flags = trace_flags::kOpEvent;
    ensure(size_t{2} * kBinaryRecordSize);
    encode_record(head, buf_.get() + used_);
    char* p = buf_.get() + used_ + kBinaryRecordSize;
    std::memset(p, 0, kBinaryRecordSize);
    const uint16_t kind = kTaskDeclarationKind;
    std::memcpy(p, &kind, 2);
    std::memcpy(p + 4, &pid, 4);
    std::memcpy(p + 8, &tid, 4);
    used_ += size_t{2} * kBinaryRecordSize;
    ++stored_;
  }
  return static_cast<uint16_t>(s);
}

void TraceWriter::write_event(const OsEvent& e) {
  if (options_.format == TraceFormat::kLackey) {
    refuse("an OS event: lackey output holds memory accesses only");
  }
  begin_task_trace();
  const std::string why = checker_.check(e);
  if (!why.empty()) refuse(why);
  scratch_.clear();
  if (options_.format == TraceFormat::kText) {
    format_os_event(e, scratch_);
    ensure(scratch_.size());
    if (scratch_.size() > kWriteBuffer) {
      sink_->write(scratch_.data(), scratch_.size());
    } else {
      std::memcpy(buf_.get() + used_, scratch_.data(), scratch_.size());
      used_ += scratch_.size();
    }
    cur_pid_ = e.pid;
    cur_tid_ = e.tid;
  } else if (compact()) {
    encode_os_event(e, scratch_);
    const uint16_t slot = slot_for(e.pid, e.tid, false);
    ensure(kMaxCompactRecord + scratch_.size());
    used_ += encoder_.encode_event_head(slot, scratch_.size(), buf_.get() + used_);
    std::memcpy(buf_.get() + used_, scratch_.data(), scratch_.size());
    used_ += scratch_.size();
    ++stored_;
  } else {
    encode_os_event(e, scratch_);
    TraceRecord head;
    head.size = static_cast<uint32_t>(scratch_.size());
    head.cpu = slot_for(e.pid, e.tid, false);
    head.flags = trace_flags::kOpEvent;
    scratch_.resize((scratch_.size() + 15) / 16 * 16, '\0');
    ensure(kBinaryRecordSize + scratch_.size());
    encode_record(head, buf_.get() + used_);
    std::memcpy(buf_.get() + used_ + kBinaryRecordSize, scratch_.data(), scratch_.size());
    used_ += kBinaryRecordSize + scratch_.size();
    ++stored_;
  }
  ++count_;
}

void TraceWriter::write_task_record(const TraceRecord& r, uint32_t pid, uint32_t tid) {
  if (mode_ != Mode::kTasks) {
    refuse("a task record in a trace that did not start with an OS event");
  }
  if (pid == 0 || tid == 0) refuse("a task record of pid or tid 0");
  TraceRecord plain = r;
  plain.cpu = 0;
  std::string why;
  if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) {
    why = "an EVENT record without its event (write_event writes events)";
  } else if (options_.format == TraceFormat::kText) {
    why = check_text_record(plain);
  } else if (static_cast<uint8_t>(r.kind) >= kNumAccessKinds) {
    why = "invalid access kind " + std::to_string(static_cast<unsigned>(r.kind));
  }
  if (!why.empty()) refuse(why);
  ensure(96);
  if (options_.format == TraceFormat::kText) {
    if (pid != cur_pid_ || tid != cur_tid_) {
      const std::string prefix =
          "@" + std::to_string(pid) + (tid != pid ? "." + std::to_string(tid) : "") + " ";
      std::memcpy(buf_.get() + used_, prefix.data(), prefix.size());
      used_ += prefix.size();
      cur_pid_ = pid;
      cur_tid_ = tid;
    }
  } else {
    plain.cpu = slot_for(pid, tid, true);
  }
  put_record(plain);
  ++count_;
}

void TraceWriter::write(const TraceRecord* records, size_t n, const std::vector<OsEvent>& events,
                        const std::vector<TraceReader::TaskKey>& tasks) {
  if (events.empty() && tasks.empty()) {
    write(records, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const TraceRecord& r = records[i];
    if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) {
      if (r.addr >= events.size()) {
        refuse("EVENT record of index " + std::to_string(r.addr) + ", but the batch has " +
               std::to_string(events.size()) + " events");
      }
      write_event(events[r.addr]);
    } else {
      if (r.cpu >= tasks.size()) {
        refuse("record of task slot " + std::to_string(r.cpu) + ", but the reader named " +
               std::to_string(tasks.size()) + " tasks");
      }
      write_task_record(r, tasks[r.cpu].pid, tasks[r.cpu].tid);
    }
  }
}

void TraceWriter::flush() {
  if (options_.format == TraceFormat::kBinary && !header_written_) {
    std::string h = encode_binary_header(options_.comment, 0, mode_ == Mode::kTasks, compact());
    if (segment_records_) {
      const uint32_t flags =
          kBinaryHeaderSegmentRecords | (mode_ == Mode::kTasks ? kBinaryHeaderTasks : 0);
      std::memcpy(&h[12], &flags, 4);
      header_flagged_ = true;
    }
    sink_->write(h.data(), h.size());
    header_written_ = true;
  }
  if (used_ > 0) sink_->write(buf_.get(), used_);
  used_ = 0;
}

void TraceWriter::close() {
  if (closed_) return;
  closed_ = true;
  flush();
  if (options_.format == TraceFormat::kBinary && options_.compression == Compression::kNone) {
    char count[8];
    std::memcpy(count, &stored_, 8);
    sink_->patch(kBinaryCountOffset, count, 8);  // stays 0 (unknown) on a pipe
    if (segment_records_ && !header_flagged_) {
      const uint32_t flags =
          kBinaryHeaderSegmentRecords | (mode_ == Mode::kTasks ? kBinaryHeaderTasks : 0);
      char f[4];
      std::memcpy(f, &flags, 4);
      sink_->patch(12, f, 4);
    }
  }
  sink_->finish();
}

bool format_from_extension(const std::string& path, TraceFormat* format, Compression* compression) {
  std::string p = path;
  *compression = Compression::kNone;
  const std::pair<const char*, Compression> kSuffixes[] = {
      {".zst", Compression::kZstd}, {".gz", Compression::kGzip}, {".xz", Compression::kXz}};
  for (const auto& [suffix, c] : kSuffixes) {
    if (ends_with(p, suffix)) {
      *compression = c;
      p.resize(p.size() - std::strlen(suffix));
      break;
    }
  }
  if (ends_with(p, ".txt") || ends_with(p, ".trace")) {
    *format = TraceFormat::kText;
    return true;
  }
  if (ends_with(p, ".bin")) {
    *format = TraceFormat::kBinary;
    return true;
  }
  return false;
}

}  // namespace mmusim
