// Native binary format: a versioned header, then 16-byte little-endian records;
// version 2 adds EVENT records with a payload and task slots.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "traces/formats.h"
#include "traces/os_event_format.h"
#include "traces/task_slots.h"

namespace mmusim {
namespace {

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

class BinaryTraceReader final : public TraceReader {
 public:
  explicit BinaryTraceReader(std::unique_ptr<InputBuffer> in)
      : in_(std::move(in)), path_(in_->source().name()) {
    read_header();
  }

  size_t read(TraceRecord* out, size_t max) override {
    events_.clear();
    size_t n = 0;
    while (n < max) {
      size_t avail = in_->size() / kBinaryRecordSize;
      if (avail == 0) {
        in_->fill(kBinaryRecordSize);
        if (in_->size() >= kBinaryRecordSize) continue;
        if (in_->size() > 0) {
          throw record_error(records_ + 1, "truncated record, expected 16 bytes, got " +
                                               std::to_string(in_->size()));
        }
        if (declared_ != 0 && records_ != declared_) {
          throw input_error(path_, "byte offset " + std::to_string(in_->offset()),
                            "header declares " + std::to_string(declared_) +
                                " records, the file ends after " + std::to_string(records_));
        }
        break;
      }
      size_t k = std::min(avail, max - n);
      const char* src = in_->data();
      if (tasks_) k = plain_run(src, k);
      if (k == 0) {  // an EVENT record (or a bad one) heads the buffer
        if (special_record(out + n)) ++n;
        check_count();
        continue;
      }
      std::memcpy(static_cast<void*>(out + n), src, k * kBinaryRecordSize);
      // The text parser's limits and the flags of segment records, checked
      // branch-free (any flags at all take the slow path, which names the
      // first bad record). Task slots are checked by the task feeder.
      const uint32_t cpu_limit = tasks_ ? UINT32_MAX : this->cpu_limit();
      const uint64_t addr_limit = address_limit();
      unsigned bad = 0;
      for (size_t i = 0; i < k; ++i) {
        const TraceRecord& r = out[n + i];
        bad |= static_cast<unsigned>((r.flags & trace_flags::kOpMask) == trace_flags::kOpEvent) |
               static_cast<unsigned>(r.size > kMaxAccessSize) |
               static_cast<unsigned>(r.cpu >= cpu_limit) |
               static_cast<unsigned>(r.addr > addr_limit) |
               static_cast<unsigned>(static_cast<uint8_t>(r.kind) > 2) |
               static_cast<unsigned>(r.flags != 0);
      }
      if (bad != 0) {
        for (size_t i = 0; i < k; ++i) {
          std::string why = record_problem(out[n + i], cpu_limit);
          if (!why.empty()) {
            in_->consume(i * kBinaryRecordSize);
            throw record_error(records_ + i + 1, why);
          }
        }
      }
      in_->consume(k * kBinaryRecordSize);
      records_ += k;
      n += k;
      check_count();
    }
    return n;
  }
  [[nodiscard]] bool has_tasks() const override { return tasks_; }
  void take_events(std::vector<OsEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }
  [[nodiscard]] const std::vector<TaskKey>& tasks() const override { return slots_.tasks(); }
  [[nodiscard]] std::string position() const override {
    return "record " + std::to_string(records_);
  }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] TraceFormatInfo format_info() const override {
    return {"binary", compression_name(in_->source().compression()), comment_, declared_};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  // Why a record of a plain run is out of range or malformed, or "".
  [[nodiscard]] std::string record_problem(const TraceRecord& r, uint32_t cpu_limit) const {
    const auto kind = static_cast<unsigned>(r.kind);
    if (kind > 2)
      return "invalid kind value " + std::to_string(kind) + " (expected 0 = R, 1 = W, 2 = X)";
    if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent) {
      return "EVENT record in a version-1 trace (OS events need version 2)";
    }
    if (r.flags != 0) {
      if (const char* why = trace_record_problem(r)) {
        char flags[8];
        std::snprintf(flags, sizeof flags, "0x%02x", static_cast<unsigned>(r.flags));
        return std::string(why) + " (flags " + flags +
               "; expected the segment encoding of traces/README.md)";
      }
    }
    if (trace_flags::op_of(r.flags) == trace_flags::kOpAccess && r.size > kMaxAccessSize) {
      return "access size " + std::to_string(r.size) + " exceeds 4096 bytes (as in text traces)";
    }
    if (r.cpu >= cpu_limit) return cpu_limit_message(r.cpu);
    const uint8_t op = trace_flags::op_of(r.flags);
    if (r.addr > address_limit() &&
        (op == trace_flags::kOpAccess || op == trace_flags::kOpInvlpg)) {
      return address_limit_message(r.addr);
    }
    return {};
  }
  void check_count() const {
    if (declared_ != 0 && records_ > declared_) {
      throw input_error(
          path_, "record " + std::to_string(declared_ + 1),
          "more records than the header declares (" + std::to_string(declared_) + ")");
    }
  }
  // How many of the k whole records at src are plain records of known slots
  // (task traces): the run memcpy can take.
  [[nodiscard]] size_t plain_run(const char* src, size_t k) const {
    const size_t slots = slots_.size();
    for (size_t i = 0; i < k; ++i) {
      const char* r = src + i * kBinaryRecordSize;
      uint16_t cpu;
      std::memcpy(&cpu, r + 12, 2);
      if ((static_cast<uint8_t>(r[15]) & trace_flags::kOpMask) == trace_flags::kOpEvent ||
          static_cast<uint8_t>(r[14]) > 2 || cpu >= slots) {
        return i;
      }
    }
    return k;
  }
  // The record heading the buffer, which plain_run stopped at: an EVENT
  // record with its payload (written to *out; true), a task declaration
  // (false), or an error.
  bool special_record(TraceRecord* out) {
    TraceRecord head;
    std::memcpy(static_cast<void*>(&head), in_->data(), kBinaryRecordSize);
    const uint64_t number = records_ + 1;
    if (static_cast<uint8_t>(head.kind) > 2) {
      throw record_error(number, "invalid kind value " +
                                     std::to_string(static_cast<unsigned>(head.kind)) +
                                     " (expected 0 = R, 1 = W, 2 = X)");
    }
    if (trace_flags::op_of(head.flags) != trace_flags::kOpEvent) {
      throw record_error(number, "record of task slot " + std::to_string(head.cpu) +
                                     ", which no event or task declaration introduced (" +
                                     std::to_string(slots_.size()) + " slots so far)");
    }
    if (head.flags != trace_flags::kOpEvent || head.kind != AccessKind::kRead || head.addr != 0) {
      throw record_error(number,
                         "malformed EVENT record head (expected address 0, kind 0, "
                         "flags 0x07)");
    }
    const size_t len = head.size;
    if (len > kMaxEventPayload) {
      throw record_error(number, "event payload of " + std::to_string(len) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(kMaxEventPayload));
    }
    const size_t total = kBinaryRecordSize + (len + 15) / 16 * 16;
    if (in_->fill(total) < total) {
      throw record_error(number, "truncated event payload, expected " +
                                     std::to_string(total - kBinaryRecordSize) + " bytes, got " +
                                     std::to_string(in_->size() - kBinaryRecordSize));
    }
    const char* pay = in_->data() + kBinaryRecordSize;
    for (size_t i = len; i < total - kBinaryRecordSize; ++i) {
      if (pay[i] != 0) throw record_error(number, "non-zero padding after the event payload");
    }
    uint16_t kind = 0;
    if (len >= 2) std::memcpy(&kind, pay, 2);
    bool is_event = true;
    if (kind == kTaskDeclarationKind) {
      uint32_t ids[2] = {0, 0};
      if (len != kEventPayloadHead) {
        throw record_error(number, "task declaration of " + std::to_string(len) +
                                       " bytes, expected " + std::to_string(kEventPayloadHead));
      }
      std::memcpy(ids, pay + 4, 8);
      if (ids[0] == 0 || ids[1] == 0)
        throw record_error(number, "task declaration of pid or tid 0");
      if (slots_.find(ids[0], ids[1]) >= 0 || head.cpu != slots_.size()) {
        throw record_error(number, "task declaration of " + std::to_string(ids[0]) + "." +
                                       std::to_string(ids[1]) + " in slot " +
                                       std::to_string(head.cpu) + ", expected a new slot " +
                                       std::to_string(slots_.size()));
      }
      slots_.find_or_add(ids[0], ids[1]);
      is_event = false;
    } else {
      OsEvent ev;
      std::string why = decode_os_event(pay, len, ev);
      if (why.empty()) why = checker_.check(ev);
      if (!why.empty()) throw record_error(number, why);
      int slot = slots_.find(ev.pid, ev.tid);
      if (slot < 0 && head.cpu == slots_.size()) slot = slots_.find_or_add(ev.pid, ev.tid);
      if (slot != head.cpu) {
        throw record_error(number, "event of task " + std::to_string(ev.pid) + "." +
                                       std::to_string(ev.tid) + " in slot " +
                                       std::to_string(head.cpu) + ", expected slot " +
                                       std::to_string(slot < 0 ? slots_.size() : size_t(slot)));
      }
      TraceRecord r;
      r.addr = events_.size();
      r.cpu = head.cpu;
      r.flags = trace_flags::kOpEvent;
      *out = r;
      events_.push_back(std::move(ev));
    }
    in_->consume(total);
    ++records_;
    return is_event;
  }

  InputError header_error(size_t offset, const std::string& what) const {
    return input_error(path_, "byte offset " + std::to_string(offset), what);
  }
  // `record` is 1-based; the offset is that of the record's first byte.
  InputError record_error(uint64_t record, const std::string& what) const {
    return input_error(
        path_,
        "record " + std::to_string(record) + " (byte offset " + std::to_string(in_->offset()) + ")",
        what);
  }

  void read_header() {
    size_t got = in_->fill(kBinaryFixedHeader);
    if (got < sizeof kBinaryMagic || std::memcmp(in_->data(), kBinaryMagic, 8) != 0) {
      const std::string foreign = describe_non_trace(in_->data(), got);
      throw header_error(0, foreign.empty() ? "not a binary trace: bad magic, expected \"MMUTRACE\""
                                            : "not a binary trace: the file looks like " + foreign);
    }
    if (got < kBinaryFixedHeader) {
      throw header_error(got, "truncated header, expected " + std::to_string(kBinaryFixedHeader) +
                                  " bytes, got " + std::to_string(got));
    }
    const char* h = in_->data();
    auto version = load<uint16_t>(h + 8);
    auto record_size = load<uint16_t>(h + 10);
    auto flags = load<uint32_t>(h + 12);
    declared_ = load<uint64_t>(h + 16);
    auto header_bytes = load<uint32_t>(h + 24);
    auto comment_bytes = load<uint32_t>(h + 28);
    if (version != kBinaryVersion && version != kBinaryVersionTasks) {
      throw header_error(8, "unsupported version " + std::to_string(version) +
                                " (this reader knows versions 1 and 2)");
    }
    if (record_size != kBinaryRecordSize) {
      throw header_error(10, "record size " + std::to_string(record_size) + ", expected 16");
    }
    const uint32_t known =
        kBinaryHeaderSegmentRecords | (version == kBinaryVersionTasks ? kBinaryHeaderTasks : 0);
    if ((flags & ~known) != 0) {
      throw header_error(12, "unknown header flags " + std::to_string(flags));
    }
    if (version == kBinaryVersionTasks && (flags & kBinaryHeaderTasks) == 0) {
      throw header_error(12, "version 2 header without the tasks flag (2)");
    }
    tasks_ = version == kBinaryVersionTasks;
    if (header_bytes < kBinaryFixedHeader || header_bytes % 16 != 0 ||
        header_bytes > kBinaryMaxHeader) {
      throw header_error(24, "invalid header size " + std::to_string(header_bytes) +
                                 " (a multiple of 16, 32..1048576)");
    }
    if (comment_bytes > header_bytes - kBinaryFixedHeader) {
      throw header_error(28, "comment length " + std::to_string(comment_bytes) +
                                 " exceeds the header size " + std::to_string(header_bytes));
    }
    // The comment and padding, piecewise: the header may exceed the buffer.
    in_->consume(kBinaryFixedHeader);
    size_t left = header_bytes - kBinaryFixedHeader;
    while (left > 0) {
      size_t have = std::min(in_->fill(left), left);
      if (have == 0) {
        throw header_error(in_->offset(), "truncated header, expected " +
                                              std::to_string(header_bytes) + " bytes, got " +
                                              std::to_string(in_->offset()));
      }
      size_t done = header_bytes - kBinaryFixedHeader - left;
      if (done < comment_bytes) {
        comment_.append(in_->data(), std::min<size_t>(have, comment_bytes - done));
      }
      in_->consume(have);
      left -= have;
    }
  }

  std::unique_ptr<InputBuffer> in_;
  std::string path_;
  std::string comment_;
  uint64_t declared_ = 0;
  uint64_t records_ = 0;  // stored records read so far (task declarations included)
  bool tasks_ = false;    // version 2
  TaskSlots slots_;
  std::vector<OsEvent> events_;  // of the current batch
  OsEventChecker checker_;
};

}  // namespace

std::string encode_binary_header(const std::string& comment, uint64_t record_count, bool tasks) {
  if (comment.size() > kBinaryMaxHeader - kBinaryFixedHeader - 16) {
    throw InputError("binary trace comment longer than " +
                     std::to_string(kBinaryMaxHeader - kBinaryFixedHeader - 16) + " bytes");
  }
  size_t total = (kBinaryFixedHeader + comment.size() + 15) / 16 * 16;
  std::string h(total, '\0');
  std::memcpy(h.data(), kBinaryMagic, 8);
  store<uint16_t>(h.data() + 8, tasks ? kBinaryVersionTasks : kBinaryVersion);
  store<uint16_t>(h.data() + 10, kBinaryRecordSize);
  store<uint32_t>(h.data() + 12, tasks ? kBinaryHeaderTasks : 0);
  store<uint64_t>(h.data() + kBinaryCountOffset, record_count);
  store<uint32_t>(h.data() + 24, static_cast<uint32_t>(total));
  store<uint32_t>(h.data() + 28, static_cast<uint32_t>(comment.size()));
  std::memcpy(h.data() + kBinaryFixedHeader, comment.data(), comment.size());
  return h;
}

std::unique_ptr<TraceReader> make_binary_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<BinaryTraceReader>(std::move(in));
}

}  // namespace mmusim
