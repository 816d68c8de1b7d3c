// The input thread (ReadAheadReader): every format gives the same records,
// positions, OS events and task slots with the thread as without it; an
// error mid-file is the same exception after the same records; early stops
// join the thread; the ring bounds what is decoded ahead.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tests/traces/trace_test_util.h"
#include "traces/os_event_format.h"
#include "traces/read_ahead.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_all;
using testing::ScratchDir;

// Everything a consumer can observe of a reader, read `batch` at a time.
struct Stream {
  std::vector<TraceRecord> records;
  std::vector<std::string> positions;  // after each read()
  std::vector<std::string> events;     // formatted, in order
  std::vector<std::pair<uint32_t, uint32_t>> tasks;
  bool has_tasks = false;
  TraceFormatInfo info;
};

// With `borrow`, through TraceReader::borrow(): the records are copied from
// where it lends them, and `lent` counts the batches not in `buf`.
Stream observe(TraceReader& r, size_t batch, bool borrow = false, size_t* lent = nullptr) {
  Stream s;
  std::vector<TraceRecord> scratch(batch), buf(batch);
  std::vector<OsEvent> ev;
  for (size_t n;;) {
    if (borrow) {
      const TraceRecord* p = r.borrow(scratch.data(), batch, n);
      if (p != scratch.data()) ++*lent;
      std::copy_n(p, n, buf.begin());
    } else {
      n = r.read(buf.data(), batch);
    }
    if (n == 0) break;
    s.positions.push_back(r.position());
    ev.clear();
    r.take_events(ev);
    // Event numbers count from 0 in each read(), whose length may differ
    // (a reader may return fewer than asked): number them in the stream.
    for (size_t i = 0; i < n; ++i) {
      TraceRecord t = buf[i];
      if (trace_flags::op_of(t.flags) == trace_flags::kOpEvent) t.addr += s.events.size();
      s.records.push_back(t);
    }
    for (const OsEvent& e : ev) {
      std::string text;
      format_os_event(e, text);
      s.events.push_back(text);
    }
    // An EVENT record's addr indexes the events of its read().
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (trace_flags::op_of(buf[i].flags) == trace_flags::kOpEvent) {
        EXPECT_EQ(buf[i].addr, k++) << "record " << s.records.size() - n + i;
      }
    }
    EXPECT_EQ(k, ev.size());
  }
  for (const auto& t : r.tasks()) s.tasks.emplace_back(t.pid, t.tid);
  s.has_tasks = r.has_tasks();
  s.info = r.format_info();
  return s;
}

bool same_records(const std::vector<TraceRecord>& a, const std::vector<TraceRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!testing::same(a[i], b[i])) {
      ADD_FAILURE() << "record " << i << ": addr " << a[i].addr << " / " << b[i].addr << ", cpu "
                    << a[i].cpu << " / " << b[i].cpu << ", flags " << int{a[i].flags} << " / "
                    << int{b[i].flags};
      return false;
    }
  }
  return true;
}

// Reads `path` without and with the thread, whole blocks and 1000 records
// at a time, and compares everything.
void expect_same_with_thread(const std::string& path, const std::string& format, size_t min_records,
                             bool events) {
  for (const size_t batch : {ReadAheadReader::kBlockRecords, size_t{1000}}) {
    SCOPED_TRACE(path + ", batch " + std::to_string(batch));
    auto plain = open_trace(path, format);
    const Stream a = observe(*plain, batch);
    ReadAheadReader ahead(open_trace(path, format), 0);
    const Stream b = observe(ahead, batch);
    ASSERT_GE(a.records.size(), min_records);
    EXPECT_TRUE(same_records(a.records, b.records));
    EXPECT_EQ(a.events, b.events);
    EXPECT_EQ(a.tasks, b.tasks);
    EXPECT_EQ(a.has_tasks, b.has_tasks);
    EXPECT_EQ(a.info.format, b.info.format);
    EXPECT_EQ(a.info.compression, b.info.compression);
    EXPECT_EQ(a.info.comment, b.info.comment);
    EXPECT_EQ(a.info.declared_records, b.info.declared_records);
    EXPECT_EQ(events, !a.events.empty());
    // Whole blocks: the same batches, so the same positions after each.
    if (batch == ReadAheadReader::kBlockRecords) {
      EXPECT_EQ(a.positions, b.positions);
    }
    EXPECT_EQ(plain->position(), ahead.position());
    // In place (borrow): the same, and lent unless the block had events.
    ReadAheadReader lender(open_trace(path, format), 0);
    size_t lent = 0;
    const Stream c = observe(lender, batch, true, &lent);
    EXPECT_TRUE(same_records(a.records, c.records));
    EXPECT_EQ(a.events, c.events);
    EXPECT_EQ(a.tasks, c.tasks);
    if (batch == ReadAheadReader::kBlockRecords) {
      EXPECT_EQ(a.positions, c.positions);
    }
    if (events) {
      EXPECT_LT(lent, c.positions.size());
    } else {
      EXPECT_EQ(lent, c.positions.size());
    }
  }
}

constexpr const char* kGen = "gen:zipf,count=30000,footprint=64M,writes=0.3,seed=4";

// The generator's records written by `line` as a text format.
template <class Line>
std::string text_of(const char* header, Line&& line) {
  auto g = open_trace(kGen);
  std::string text = header;
  char b[96];
  for (const TraceRecord& r : read_all(*g)) text += line(b, r);
  return text;
}

TEST(ReadAhead, EveryFormatGivesTheSameRecordsEventsAndPositions) {
  ScratchDir d;
  const std::string root = MMUSIM_SOURCE_DIR;
  // Binary v1, uncompressed and with each codec; native text.
  for (const auto& [name, c] :
       {std::pair{"t.bin", Compression::kNone}, std::pair{"t.bin.gz", Compression::kGzip},
        std::pair{"t.bin.xz", Compression::kXz}, std::pair{"t.bin.zst", Compression::kZstd},
        std::pair{"t.txt", Compression::kNone}}) {
    TraceWriterOptions o;
    o.format = std::string(name).find(".txt") != std::string::npos ? TraceFormat::kText
                                                                   : TraceFormat::kBinary;
    o.compression = c;
    o.comment = "read-ahead test";
    {
      auto g = open_trace(kGen);
      TraceWriter w(d.path(name), o);
      const auto v = read_all(*g);
      w.write(v.data(), v.size());
      w.close();
    }
    expect_same_with_thread(d.path(name), "auto", 30000, false);
  }
  // Binary v2 with OS events (zstd), text with OS events.
  expect_same_with_thread(root + "/traces/fork_cow_file.bin.zst", "auto", 100000, true);
  expect_same_with_thread(root + "/traces/examples/os_threads_exec.txt", "auto", 10, true);
  // The generator itself.
  expect_same_with_thread(kGen, "auto", 30000, false);
  // lackey (M lines give two records: batches end mid-line), pin, din.
  const std::string lackey = text_of("==7== Lackey\n", [](char* b, const TraceRecord& r) {
    const char* k = r.kind == AccessKind::kFetch   ? "I "
                    : r.kind == AccessKind::kWrite ? " M"
                                                   : " L";
    std::snprintf(b, 96, "%s %08llx,%u\n", k, static_cast<unsigned long long>(r.addr), r.size);
    return std::string(b);
  });
  expect_same_with_thread(d.write("l.txt", lackey), "lackey", 30000, false);
  const std::string pin = text_of("", [](char* b, const TraceRecord& r) {
    std::snprintf(b, 96, "0x400000: %c 0x%llx\n", r.kind == AccessKind::kWrite ? 'W' : 'R',
                  static_cast<unsigned long long>(r.addr));
    return std::string(b);
  });
  expect_same_with_thread(d.write("p.out", pin + "#eof\n"), "pin", 30000, false);
  const std::string din = text_of("", [](char* b, const TraceRecord& r) {
    std::snprintf(b, 96, "%d %llx\n", r.kind == AccessKind::kWrite ? 1 : 0,
                  static_cast<unsigned long long>(r.addr));
    return std::string(b);
  });
  expect_same_with_thread(d.write("d.din", din), "din", 30000, false);
  // ChampSim: 64-byte instructions, one load and one store each.
  std::string champ;
  for (uint64_t i = 0; i < 10000; ++i) {
    char rec[64] = {};
    const uint64_t ip = 0x400000 + 4 * i, st = 0x7f0000 + 64 * (i % 777), ld = 0x10000 + 8 * i;
    std::memcpy(rec, &ip, 8);
    std::memcpy(rec + 16, &st, 8);
    std::memcpy(rec + 32, &ld, 8);
    champ.append(rec, 64);
  }
  expect_same_with_thread(d.write("x.champsim", champ), "champsim", 30000, false);
}

// A lackey log with system calls: its task reader, events and task slots.
TEST(ReadAhead, LackeyWithSystemCallsGivesTheSameEvents) {
  ScratchDir d;
  std::string log =
      "==300== Command: ./a\n"
      "==300== Parent PID: 1\n"
      "I  04000000,2\n"
      "SYSCALL[300,1](9) sys_mmap ( 0x0, 1052672, 3, 34, 4294967295, 0 ) --> [pre-success] "
      "Success(0x4a2c000) \n";
  char b[64];
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(b, sizeof b, "I  %08x,4\n S %08x,8\n", 0x4000000 + 4 * i, 0x4a2c000 + 8 * i);
    log += b;
    if (i % 5000 == 4999) {
      log +=
          "SYSCALL[300,1](9) sys_mmap ( 0x0, 65536, 3, 34, 4294967295, 0 ) --> [pre-success] "
          "Success(0x5000000) \n";
    }
  }
  expect_same_with_thread(d.write("a.log", log), "lackey", 40000, true);
}

// A bad line after several blocks: the same message, after every record of
// the blocks before it; reading on gives the error again, not more records.
TEST(ReadAhead, AnErrorMidFileIsTheSameAfterTheRecordsBeforeIt) {
  ScratchDir d;
  std::string text;
  char b[48];
  for (int i = 0; i < 10000; ++i) {
    std::snprintf(b, sizeof b, "R 0x%x 8\n", 0x10000 + 64 * i);
    text += b;
  }
  const std::string path = d.write("t.txt", text + "Q bad\n");
  const std::string expected = path + ":line 10001: expected R, W or X at column 1, got 'Q'";
  EXPECT_EQ(error_of([&] { read_all(*open_trace(path)); }), expected);
  ReadAheadReader r(open_trace(path), 0);
  std::vector<TraceRecord> buf(ReadAheadReader::kBlockRecords);
  size_t got = 0;
  std::string msg;
  for (;;) {
    try {
      const size_t n = r.read(buf.data(), buf.size());
      ASSERT_NE(n, 0U);
      got += n;
    } catch (const InputError& e) {
      msg = e.what();
      break;
    }
  }
  EXPECT_EQ(msg, expected);
  EXPECT_EQ(got, 2 * ReadAheadReader::kBlockRecords);  // the third block held the bad line
  EXPECT_EQ(error_of([&] { r.read(buf.data(), 1); }), expected);
}

// The record limit: the thread decodes no further, so an error after it is
// never seen, as without the thread.
TEST(ReadAhead, TheRecordLimitStopsTheThreadBeforeALaterError) {
  ScratchDir d;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "R 0x1000 8\n";
  const std::string path = d.write("t.txt", text + "Q bad\n");
  ReadAheadReader r(open_trace(path), 5000);
  EXPECT_EQ(read_all(r, 700).size(), 5000U);
  EXPECT_EQ(r.decoded(), 5000U);
  EXPECT_EQ(r.position(), "line 5000");
}

// An endless input: the thread fills the ring and waits; what it decoded is
// the ring's capacity exactly, however long the consumer takes.
class Endless final : public TraceReader {
 public:
  size_t read(TraceRecord* out, size_t max) override {
    for (size_t i = 0; i < max; ++i) out[i] = testing::rec(AccessKind::kRead, 64 * n_++, 8);
    return max;
  }
  [[nodiscard]] std::string position() const override { return "record " + std::to_string(n_); }
  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] size_t buffer_capacity() const override { return 1000; }

 private:
  uint64_t n_ = 0;
  std::string path_ = "endless";
};

TEST(ReadAhead, TheRingBoundsWhatIsDecodedAhead) {
  ReadAheadReader r(std::make_unique<Endless>(), 0);
  EXPECT_EQ(r.buffer_capacity(), 1000 + ReadAheadReader::kRingBytes);
  EXPECT_LE(ReadAheadReader::kRingBytes, size_t{1} << 20);
  TraceRecord one;
  ASSERT_EQ(r.read(&one, 1), 1U);
  while (!r.producer_waiting()) std::this_thread::yield();  // ctest's timeout guards
  EXPECT_EQ(r.decoded(), ReadAheadReader::kBlocks * ReadAheadReader::kBlockRecords);
  // The thread resumes when half the ring is free, and fills it again.
  std::vector<TraceRecord> buf(ReadAheadReader::kBlockRecords);
  ASSERT_EQ(r.read(buf.data(), buf.size()), ReadAheadReader::kBlockRecords - 1);
  for (size_t i = 1; i < ReadAheadReader::kResume; ++i) {
    ASSERT_EQ(r.read(buf.data(), buf.size()), ReadAheadReader::kBlockRecords);
    EXPECT_EQ(buf[0].addr, 64 * i * ReadAheadReader::kBlockRecords);
  }
  EXPECT_TRUE(r.producer_waiting());  // kResume - 1 blocks free: still waiting
  EXPECT_EQ(r.decoded(), ReadAheadReader::kBlocks * ReadAheadReader::kBlockRecords);
  ASSERT_EQ(r.read(buf.data(), buf.size()), ReadAheadReader::kBlockRecords);
  const uint64_t refilled =
      (ReadAheadReader::kBlocks + ReadAheadReader::kResume) * ReadAheadReader::kBlockRecords;
  while (r.decoded() != refilled || !r.producer_waiting()) std::this_thread::yield();
  EXPECT_EQ(r.decoded(), refilled);
}

// Early stops: the consumer goes away mid-stream (the ring full, or never
// started), or throws: the destructor stops and joins the thread.
TEST(ReadAhead, EarlyStopsJoinTheThread) {
  {
    ReadAheadReader r(std::make_unique<Endless>(), 0);  // never read: no thread
  }
  {
    ReadAheadReader r(std::make_unique<Endless>(), 0);
    TraceRecord one;
    ASSERT_EQ(r.read(&one, 1), 1U);
  }
  EXPECT_THROW(
      {
        auto r = std::make_unique<ReadAheadReader>(open_trace("gen:uniform,count=100000000"), 0);
        std::vector<TraceRecord> buf(1000);
        for (int i = 0; i < 50; ++i) r->read(buf.data(), buf.size());
        throw std::runtime_error("the simulation failed");
      },
      std::runtime_error);
}

TEST(ReadAhead, TheModeOption) {
  EXPECT_EQ(parse_input_thread("on", "--input-thread"), InputThread::kOn);
  EXPECT_EQ(parse_input_thread("off", "--input-thread"), InputThread::kOff);
  EXPECT_EQ(parse_input_thread("auto", "--input-thread"), InputThread::kAuto);
  EXPECT_EQ(error_of([] { parse_input_thread("yes", "--input-thread"); }),
            "--input-thread: expected auto, on or off, got 'yes'");
  EXPECT_TRUE(use_input_thread(InputThread::kOn));
  EXPECT_FALSE(use_input_thread(InputThread::kOff));
  auto plain = with_input_thread(open_trace(kGen), InputThread::kOff, 0);
  EXPECT_EQ(dynamic_cast<ReadAheadReader*>(plain.get()), nullptr);
  auto ahead = with_input_thread(open_trace(kGen), InputThread::kOn, 0);
  EXPECT_NE(dynamic_cast<ReadAheadReader*>(ahead.get()), nullptr);
}

}  // namespace
}  // namespace mmusim
