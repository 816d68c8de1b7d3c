// Native binary format: a versioned header, then 16-byte little-endian records;
// version 2 adds EVENT records with a payload and task slots.
#include <algorithm>
#include <array>
#include <cstddef>
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
    if (compact_) return read_compact(out, max);
    size_t n = 0;
    while (n < max) {
      size_t avail = in_->size() / kBinaryRecordSize;
      if (avail == 0 && !tasks_ && max - n >= kDirectRecords && !in_->source_ended()) {
        // A plain trace, no whole record in the window: the records
        // straight from the source, without a copy through the window.
        const size_t k = in_->read_direct(reinterpret_cast<char*>(out + n),
                                          (max - n) * kBinaryRecordSize, kBinaryRecordSize) /
                         kBinaryRecordSize;
        if (k > 0) {
          take(out + n, k, [this](size_t bytes) { in_->skip(bytes); });
          n += k;
        }
        continue;  // (the source's end, or a partial record: the window has it)
      }
      if (avail == 0) {
        // For a caller that reads large batches, a little: the records left
        // over after its batch, then the source straight into the next one.
        in_->fill(kBinaryRecordSize, !tasks_ && max >= kDirectRecords
                                         ? kDirectRecords * kBinaryRecordSize
                                         : ~size_t{0});
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
      take(out + n, k, [this](size_t bytes) { in_->consume(bytes); });
      n += k;
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
    return {"binary", compression_name(in_->source().compression()), comment_, declared_, version_};
  }
  [[nodiscard]] size_t buffer_capacity() const override { return in_->capacity(); }

 private:
  // Requests of at least this many records, with no whole record in the
  // window, read straight into the caller's records (read_direct).
  static constexpr size_t kDirectRecords = 256;

  // Takes the k records at r just read: checks them (the text parser's
  // limits, and the flags of segment records) and counts them. `advance`
  // moves the input past bytes taken: past the good records before the
  // first bad one, which throws naming it.
  template <class Advance>
  void take(TraceRecord* r, size_t k, const Advance& advance) {
    // Task slots are checked by the task feeder.
    const uint32_t cpu_limit = tasks_ ? UINT32_MAX : this->cpu_limit();
    const uint64_t addr_limit = address_limit();
    // Branch-free over the run; any flags at all (segment records) take the
    // record-by-record check, which names the first bad record.
    uint64_t bad = 0;
    for (size_t i = 0; i < k; ++i) {
      uint64_t hi;  // size | cpu << 32 | kind << 48 | flags << 56
      std::memcpy(&hi, reinterpret_cast<const char*>(r + i) + 8, sizeof hi);
      bad |= static_cast<uint64_t>((hi >> 48) > 2) |  // a kind above 2, or any flags
             static_cast<uint64_t>(static_cast<uint32_t>(hi) > kMaxAccessSize) |
             static_cast<uint64_t>(((hi >> 32) & 0xFFFF) >= cpu_limit) |
             static_cast<uint64_t>(r[i].addr > addr_limit);
    }
    if (bad != 0) {
      for (size_t i = 0; i < k; ++i) {
        std::string why = record_problem(r[i], cpu_limit);
        if (!why.empty()) {
          advance(i * kBinaryRecordSize);
          throw record_error(records_ + i + 1, why);
        }
      }
    }
    advance(k * kBinaryRecordSize);
    records_ += k;
    check_count();
  }

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
    const bool is_event = take_payload(pay, len, head.cpu, out, number);
    in_->consume(total);
    ++records_;
    return is_event;
  }

  // The payload of an EVENT record of `slot` (record `number`): a task
  // declaration (false) or an event, handed out as *out (true).
  bool take_payload(const char* pay, size_t len, uint16_t slot, TraceRecord* out, uint64_t number) {
    uint16_t kind = 0;
    if (len >= 2) std::memcpy(&kind, pay, 2);
    if (kind == kTaskDeclarationKind) {
      uint32_t ids[2] = {0, 0};
      if (len != kEventPayloadHead) {
        throw record_error(number, "task declaration of " + std::to_string(len) +
                                       " bytes, expected " + std::to_string(kEventPayloadHead));
      }
      std::memcpy(ids, pay + 4, 8);
      if (ids[0] == 0 || ids[1] == 0)
        throw record_error(number, "task declaration of pid or tid 0");
      if (slots_.find(ids[0], ids[1]) >= 0 || slot != slots_.size()) {
        throw record_error(number, "task declaration of " + std::to_string(ids[0]) + "." +
                                       std::to_string(ids[1]) + " in slot " + std::to_string(slot) +
                                       ", expected a new slot " + std::to_string(slots_.size()));
      }
      slots_.find_or_add(ids[0], ids[1]);
      return false;
    }
    OsEvent ev;
    std::string why = decode_os_event(pay, len, ev);
    if (why.empty()) why = checker_.check(ev);
    if (!why.empty()) throw record_error(number, why);
    int found = slots_.find(ev.pid, ev.tid);
    if (found < 0 && slot == slots_.size()) found = slots_.find_or_add(ev.pid, ev.tid);
    if (found != slot) {
      throw record_error(number, "event of task " + std::to_string(ev.pid) + "." +
                                     std::to_string(ev.tid) + " in slot " + std::to_string(slot) +
                                     ", expected slot " +
                                     std::to_string(found < 0 ? slots_.size() : size_t(found)));
    }
    TraceRecord r;
    r.addr = events_.size();
    r.cpu = slot;
    r.flags = trace_flags::kOpEvent;
    *out = r;
    events_.push_back(std::move(ev));
    return true;
  }

  // ---- version 3 ----
  // Bytes a record may span when its varints are as long as they can be: a
  // record that starts this far from the end of the buffer is decoded
  // without bounds checks.
  static constexpr size_t kLookahead = 1 + 3 * kMaxVarint + 1;
  // The window is refilled this much at a time: about 25 000 records, so
  // that a reader on the input thread hands out blocks steadily (a 1 MiB
  // refill, decompressed, kept it from the simulation for about 1 ms, longer
  // than the ring of blocks lasts).
  static constexpr size_t kCompactRefill = size_t{64} << 10;

  size_t read_compact(TraceRecord* out, size_t max) {
    size_t n = 0;
    while (n < max) {
      if (in_->size() < kLookahead) in_->fill(kLookahead, kCompactRefill);
      const size_t avail = in_->size();
      if (avail == 0) {
        if (declared_ != 0 && records_ != declared_) {
          throw input_error(path_, "byte offset " + std::to_string(in_->offset()),
                            "header declares " + std::to_string(declared_) +
                                " records, the file ends after " + std::to_string(records_));
        }
        break;
      }
      if (avail >= kLookahead) {
        const auto* begin = reinterpret_cast<const uint8_t*>(in_->data());
        size_t k = 0;
        const uint8_t* p =
            compact_run(begin, begin + (avail - kLookahead + 1), out + n, max - n, k);
        in_->consume(static_cast<size_t>(p - begin));
        records_ += k;
        n += k;
        check_count();
        if (n == max || in_->size() < kLookahead) continue;
      }
      // An escape record, a record the run refused (to name its problem)
      // or one of the last bytes of the stream.
      if (slow_record(out + n)) ++n;
      check_count();
    }
    return n;
  }

  // The common case, in a tight loop: compact accesses of cpus already seen,
  // within the limits, each starting before `stop` (so kLookahead bytes are
  // readable). Stops at anything else (left to slow_record) or after `max`
  // records; returns where it stopped and sets k to the records decoded.
  const uint8_t* compact_run(const uint8_t* p, const uint8_t* stop, TraceRecord* out, size_t max,
                             size_t& k) {
    const uint64_t cpus = std::min<uint64_t>(next_.size(), tasks_ ? slots_.size() : cpu_limit());
    const uint64_t addr_limit = address_limit();
    std::array<uint64_t, 3>* next = next_.data();
    uint32_t cpu = cpu_;
    size_t i = 0;
    if (cpu >= cpus) {  // the first record, or a new cpu: slow_record
      k = 0;
      return p;
    }
    // The prediction of the slot the last record used, in a register (in
    // next_, each record's would be a load of the store the record before
    // made); written back when another slot's record comes and at the end.
    uint64_t* cur = &next[cpu][0];
    uint64_t pred = *cur;
    while (i < max && p < stop) {
      const uint8_t* q = p;
      const unsigned tag = *q++;
      const unsigned kind = tag & 3;
      if (kind == kCompactEscape) break;
      uint64_t size = (tag >> kCompactSizeShift) & kCompactSizeMask;
      if (size == kCompactSizeFollows && (!fast_varint(q, size) || size > kMaxAccessSize)) break;
      uint64_t c = cpu;
      if ((tag & kCompactCpu) != 0 && (!fast_varint(q, c) || c >= cpus)) break;
      uint64_t z = 0;
      if ((tag & kCompactAddr) != 0 && !fast_varint(q, z)) break;
      uint64_t* const slot = &next[c][kind];
      if (slot != cur) {  // another cpu or kind: its prediction to the register
        *cur = pred;
        cur = slot;
        pred = *slot;
      }
      const uint64_t addr = pred + unzigzag(z);
      if (addr > addr_limit) break;
      pred = addr + size;
      cpu = static_cast<uint32_t>(c);
      store_access(out[i++], addr, size, c, kind);
      p = q;
    }
    *cur = pred;
    cpu_ = cpu;
    k = i;
    return p;
  }
  // A plain access record, in two 8-byte stores rather than five (size,
  // cpu, kind and flags share the second word of the little-endian layout).
  static void store_access(TraceRecord& r, uint64_t addr, uint64_t size, uint64_t cpu,
                           unsigned kind) {
    static_assert(sizeof(TraceRecord) == 16 && offsetof(TraceRecord, size) == 8 &&
                      offsetof(TraceRecord, cpu) == 12 && offsetof(TraceRecord, kind) == 14 &&
                      offsetof(TraceRecord, flags) == 15,
                  "TraceRecord's layout");
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "a little-endian host");
    const uint64_t rest = size | cpu << 32 | uint64_t{kind} << 48;  // flags 0
    r.addr = addr;
    std::memcpy(reinterpret_cast<unsigned char*>(&r) + offsetof(TraceRecord, size), &rest,
                sizeof rest);
  }
  // A varint of at most 10 bytes and 64 bits at p (kMaxVarint readable
  // bytes); false when it is longer or larger (slow_record names it).
  static bool fast_varint(const uint8_t*& p, uint64_t& v) {
    uint64_t b = *p++;
    v = b;
    if (b < 0x80) return true;
    v &= 0x7F;
    for (unsigned shift = 7;; shift += 7) {
      b = *p++;
      if (shift == 63) {
        v |= b << 63;
        return b <= 1;
      }
      v |= (b & 0x7F) << shift;
      if (b < 0x80) return true;
    }
  }

  // Bounds-checked reading of the record at the head of the buffer, for the
  // errors: the field being read names a truncation.
  struct Cursor {
    const uint8_t* begin;
    const uint8_t* p;
    const uint8_t* end;
  };
  uint8_t get_byte(Cursor& c, const char* field) const {
    if (c.p == c.end) throw truncated(c, field);
    return *c.p++;
  }
  uint64_t get_varint(Cursor& c, const char* field) const {
    uint64_t v = 0;
    for (unsigned i = 0;; ++i) {
      if (c.p == c.end) throw truncated(c, field);
      const uint64_t b = *c.p++;
      if (i == kMaxVarint - 1) {
        if ((b & 0x80) != 0) {
          throw record_error(records_ + 1, std::string(field) + " varint longer than " +
                                               std::to_string(kMaxVarint) + " bytes");
        }
        if (b > 1) {
          throw record_error(records_ + 1, std::string(field) + " varint exceeds 64 bits");
        }
        return v | b << 63;
      }
      v |= (b & 0x7F) << (7 * i);
      if (b < 0x80) return v;
    }
  }
  InputError truncated(const Cursor& c, const char* field) const {
    return record_error(records_ + 1, std::string("truncated record: the stream ends in its ") +
                                          field + " (" + std::to_string(c.p - c.begin) +
                                          " bytes of the record present)");
  }
  uint64_t get_cpu(Cursor& c) const {
    const uint64_t v = get_varint(c, "cpu");
    if (v > UINT16_MAX) {
      throw record_error(records_ + 1,
                         (tasks_ ? "task slot " : "cpu ") + std::to_string(v) + " exceeds 65535");
    }
    return v;
  }
  // The cpu (task slot) of a record that is not an EVENT: known, and within
  // sim.cpus.
  void check_cpu(uint64_t cpu) const {
    if (tasks_ && cpu >= slots_.size()) {
      throw record_error(records_ + 1, "record of task slot " + std::to_string(cpu) +
                                           ", which no event or task declaration introduced (" +
                                           std::to_string(slots_.size()) + " slots so far)");
    }
    if (!tasks_ && cpu >= cpu_limit()) {
      throw record_error(records_ + 1, cpu_limit_message(static_cast<uint32_t>(cpu)));
    }
  }

  // The record at the head of the buffer, every field checked: written to
  // *out (true) or a task declaration (false).
  bool slow_record(TraceRecord* out) {
    const auto* begin = reinterpret_cast<const uint8_t*>(in_->data());
    Cursor c{begin, begin, begin + in_->size()};
    const uint64_t number = records_ + 1;
    const unsigned tag = get_byte(c, "tag");
    uint64_t cpu = cpu_;
    if ((tag & 3) != kCompactEscape) {
      const unsigned kind = tag & 3;
      uint64_t size = (tag >> kCompactSizeShift) & kCompactSizeMask;
      if (size == kCompactSizeFollows) size = get_varint(c, "size");
      if ((tag & kCompactCpu) != 0) cpu = get_cpu(c);
      const uint64_t delta = (tag & kCompactAddr) != 0 ? unzigzag(get_varint(c, "address")) : 0;
      if (size > kMaxAccessSize) {
        throw record_error(number, "access size " + std::to_string(size) +
                                       " exceeds 4096 bytes (as in text traces)");
      }
      check_cpu(cpu);
      if (cpu >= next_.size()) next_.resize(cpu + 1, {0, 0, 0});
      uint64_t& predicted = next_[cpu][kind];
      const uint64_t addr = predicted + delta;
      if (addr > address_limit()) throw record_error(number, address_limit_message(addr));
      predicted = addr + size;
      TraceRecord r;
      r.addr = addr;
      r.size = static_cast<uint32_t>(size);
      r.cpu = static_cast<uint16_t>(cpu);
      r.kind = static_cast<AccessKind>(kind);
      *out = r;
      finish_record(c, cpu);
      return true;
    }
    if ((tag & kEscapeReserved) != 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", tag);
      throw record_error(
          number, std::string("escape tag ") + hex + " has reserved bits set (bits 5-7 must be 0)");
    }
    const unsigned kind = (tag >> kEscapeKindShift) & 3;
    if (kind > 2) {
      throw record_error(number, "invalid kind value 3 (expected 0 = R, 1 = W, 2 = X)");
    }
    if ((tag & kEscapeCpu) != 0) cpu = get_cpu(c);
    const uint8_t flags = get_byte(c, "flags");
    if (trace_flags::op_of(flags) == trace_flags::kOpEvent) {
      if (!tasks_) {
        throw record_error(number, "EVENT record in a trace without OS events (header flag 2)");
      }
      if (flags != trace_flags::kOpEvent || kind != 0) {
        throw record_error(number, "malformed EVENT record head (expected kind 0, flags 0x07)");
      }
      const uint64_t len = get_varint(c, "payload length");
      if (len > kMaxEventPayload) {
        throw record_error(number, "event payload of " + std::to_string(len) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(kMaxEventPayload));
      }
      const size_t head = static_cast<size_t>(c.p - c.begin);
      const size_t total = head + static_cast<size_t>(len);
      if (in_->fill(total) < total) {
        throw record_error(number, "truncated event payload, expected " + std::to_string(len) +
                                       " bytes, got " + std::to_string(in_->size() - head));
      }
      const bool is_event =
          take_payload(in_->data() + head, len, static_cast<uint16_t>(cpu), out, number);
      if (cpu >= next_.size()) next_.resize(cpu + 1, {0, 0, 0});
      cpu_ = static_cast<uint32_t>(cpu);
      in_->consume(total);
      ++records_;
      return is_event;
    }
    TraceRecord r;
    const uint64_t size = get_varint(c, "size");
    r.addr = get_varint(c, "address");
    if (size > UINT32_MAX) {
      throw record_error(number, "size " + std::to_string(size) + " exceeds 32 bits");
    }
    r.size = static_cast<uint32_t>(size);
    r.cpu = static_cast<uint16_t>(cpu);
    r.kind = static_cast<AccessKind>(kind);
    r.flags = flags;
    const std::string why = record_problem(r, tasks_ ? UINT32_MAX : cpu_limit());
    if (!why.empty()) throw record_error(number, why);
    check_cpu(cpu);
    if (cpu >= next_.size()) next_.resize(cpu + 1, {0, 0, 0});
    *out = r;
    finish_record(c, cpu);
    return true;
  }
  void finish_record(const Cursor& c, uint64_t cpu) {
    cpu_ = static_cast<uint32_t>(cpu);
    in_->consume(static_cast<size_t>(c.p - c.begin));
    ++records_;
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
    if (version != kBinaryVersion && version != kBinaryVersionTasks &&
        version != kBinaryVersionCompact) {
      throw header_error(8, "unsupported version " + std::to_string(version) +
                                " (this reader knows versions 1, 2 and 3)");
    }
    version_ = version;
    compact_ = version == kBinaryVersionCompact;
    if (compact_ && record_size != 0) {
      throw header_error(10, "record size " + std::to_string(record_size) +
                                 ", expected 0 (version 3 records have variable length)");
    }
    if (!compact_ && record_size != kBinaryRecordSize) {
      throw header_error(10, "record size " + std::to_string(record_size) + ", expected 16");
    }
    const uint32_t known =
        kBinaryHeaderSegmentRecords | (version != kBinaryVersion ? kBinaryHeaderTasks : 0);
    if ((flags & ~known) != 0) {
      throw header_error(12, "unknown header flags " + std::to_string(flags));
    }
    if (version == kBinaryVersionTasks && (flags & kBinaryHeaderTasks) == 0) {
      throw header_error(12, "version 2 header without the tasks flag (2)");
    }
    tasks_ = (flags & kBinaryHeaderTasks) != 0;
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
  bool tasks_ = false;    // version 2, or version 3 with the tasks flag
  bool compact_ = false;  // version 3
  uint16_t version_ = 0;
  // Version 3: the previous record's cpu (task slot) and, per cpu and kind,
  // the address the next compact access is predicted at.
  uint32_t cpu_ = 0;
  std::vector<std::array<uint64_t, 3>> next_;
  TaskSlots slots_;
  std::vector<OsEvent> events_;  // of the current batch
  OsEventChecker checker_;
};

}  // namespace

std::string encode_binary_header(const std::string& comment, uint64_t record_count, bool tasks,
                                 bool compact) {
  if (comment.size() > kBinaryMaxHeader - kBinaryFixedHeader - 16) {
    throw InputError("binary trace comment longer than " +
                     std::to_string(kBinaryMaxHeader - kBinaryFixedHeader - 16) + " bytes");
  }
  size_t total = (kBinaryFixedHeader + comment.size() + 15) / 16 * 16;
  std::string h(total, '\0');
  std::memcpy(h.data(), kBinaryMagic, 8);
  store<uint16_t>(h.data() + 8, compact ? kBinaryVersionCompact
                                : tasks ? kBinaryVersionTasks
                                        : kBinaryVersion);
  store<uint16_t>(h.data() + 10, compact ? 0 : kBinaryRecordSize);
  store<uint32_t>(h.data() + 12, tasks ? kBinaryHeaderTasks : 0);
  store<uint64_t>(h.data() + kBinaryCountOffset, record_count);
  store<uint32_t>(h.data() + 24, static_cast<uint32_t>(total));
  store<uint32_t>(h.data() + 28, static_cast<uint32_t>(comment.size()));
  std::memcpy(h.data() + kBinaryFixedHeader, comment.data(), comment.size());
  return h;
}

size_t CompactEncoder::put_cpu(uint16_t cpu, char* out) {
  if (cpu == cpu_) return 0;
  cpu_ = cpu;
  return put_varint(cpu, out);
}

size_t CompactEncoder::encode(const TraceRecord& r, char* out) {
  const auto kind = static_cast<unsigned>(r.kind);
  size_t n = 1;
  unsigned tag;
  if (r.flags == 0) {  // a compact access
    if (r.cpu >= next_.size()) next_.resize(size_t{r.cpu} + 1, {0, 0, 0});
    const unsigned code = std::min<uint32_t>(r.size, kCompactSizeFollows);
    tag = kind | code << kCompactSizeShift;
    if (code == kCompactSizeFollows) n += put_varint(r.size, out + n);
    const size_t c = put_cpu(r.cpu, out + n);
    if (c != 0) tag |= kCompactCpu;
    n += c;
    uint64_t& next = next_[r.cpu][kind];
    const uint64_t delta = r.addr - next;  // modulo 2^64
    if (delta != 0) {
      tag |= kCompactAddr;
      n += put_varint(zigzag(delta), out + n);
    }
    next = r.addr + r.size;
  } else {  // escape: segment and TLB-maintenance records
    tag = kCompactEscape | kind << kEscapeKindShift;
    const size_t c = put_cpu(r.cpu, out + n);
    if (c != 0) tag |= kEscapeCpu;
    n += c;
    out[n++] = static_cast<char>(r.flags);
    n += put_varint(r.size, out + n);
    n += put_varint(r.addr, out + n);
  }
  out[0] = static_cast<char>(tag);
  return n;
}

size_t CompactEncoder::encode_event_head(uint16_t slot, size_t payload, char* out) {
  size_t n = 1;
  unsigned tag = kCompactEscape;
  const size_t c = put_cpu(slot, out + n);
  if (c != 0) tag |= kEscapeCpu;
  n += c;
  out[0] = static_cast<char>(tag);
  out[n++] = static_cast<char>(trace_flags::kOpEvent);
  n += put_varint(payload, out + n);
  return n;
}

std::unique_ptr<TraceReader> make_binary_reader(std::unique_ptr<InputBuffer> in) {
  return std::make_unique<BinaryTraceReader>(std::move(in));
}

}  // namespace mmusim
