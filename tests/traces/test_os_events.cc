// OS events in the native formats: every kind round-trips text <-> binary,
// task slots and per-batch events, the text grammar (symbolic flags, quoted
// strings, defaults) and every error message, binary version-2 payload
// errors, and the writer's refusals.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"
#include "traces/os_event_format.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::format_error;
using testing::read_file_bytes;
using testing::ScratchDir;

OsEvent ev(uint32_t pid, uint32_t tid, OsEventBody body) {
  OsEvent e;
  e.pid = pid;
  e.tid = tid;
  e.body = std::move(body);
  return e;
}

// One event of every kind, every field away from its default, strings that
// need quoting; FILE records first so that the file ids are described.
std::vector<OsEvent> every_kind() {
  std::vector<OsEvent> v;
  v.push_back(ev(100, 100, FileEvent{1, "/data/big file \"x\"\\#\n\t", 65536, 2}));
  v.push_back(ev(100, 100, FileEvent{2, "/lib/ld.so", 0x30000, 0}));
  v.push_back(ev(100, 100, StartEvent{"app"}));
  v.push_back(ev(100, 100, ProcCreateEvent{ProcCreateEvent::Kind::kVfork, 0x4111, 101, 1001}));
  v.push_back(ev(100, 102, ThreadCreateEvent{0x3d0f00, 103, 0x7f00ffff0000}));
  v.push_back(ev(101, 1001, ExecEvent{1, 2, "a b"}));
  v.push_back(ev(101, 101,
                 VmaInitEvent{0x400000, 0x402000, 5, true, VmaInitEvent::Kind::kFile, 1, 0x1000,
                              true, 0x800000}));
  v.push_back(ev(101, 101, ExitEvent{-3, false}));
  v.push_back(ev(100, 100, WaitEvent{101, -10}));
  v.push_back(ev(100, 100, MmapEvent{0x7000000, 65536, 3, 0x4000 | 0x2, 3, 1, 0x2000, -12}));
  v.push_back(ev(100, 100, MunmapEvent{0x7f0000000000, 8192, -22}));
  v.push_back(ev(100, 100, MprotectEvent{0x7f0000000000, 4096, 1, -1}));
  v.push_back(ev(100, 100, MremapEvent{0x1000, 4096, 8192, 3, 0x9000, 0x9000}));
  v.push_back(ev(100, 100, BrkEvent{0x4056000, 0x4056000}));
  v.push_back(ev(100, 100, MsyncEvent{0x7f1000000000, 65536, 4, -16}));
  v.push_back(ev(100, 100, MadviseEvent{0x7f0000000000, 4096, 99, -22}));
  v.push_back(ev(100, 100, OpenEvent{2, 0x80042, 3}));
  v.push_back(ev(100, 100, CloseEvent{3, -9}));
  v.push_back(ev(100, 100, RwEvent{RwEvent::Op::kPwrite, 4, 100, 3, 0x10a012, 3}));
  v.push_back(ev(100, 100, LseekEvent{4, -10, 2, 93}));
  v.push_back(ev(100, 100, FadviseEvent{4, 4096, 8192, 7}));
  v.push_back(ev(100, 100, FsyncEvent{4, true, -5}));
  v.push_back(ev(100, 100, CtxSwitchEvent{1, 101, 1001, CtxSwitchEvent::Reason::kYield}));
  return v;
}

std::string payload(const OsEvent& e) {
  std::string s;
  encode_os_event(e, s);
  return s;
}

// Reads every record and event of a task trace.
struct TaskTrace {
  std::vector<TraceRecord> records;
  std::vector<OsEvent> events;  // in order; EVENT record i's addr is re-based to index this
  std::vector<TraceReader::TaskKey> tasks;
  bool has_tasks = false;
};
TaskTrace read_task_trace(TraceReader& r, size_t batch = 1000) {
  TaskTrace t;
  std::vector<TraceRecord> buf(batch);
  std::vector<OsEvent> evs;
  for (size_t n; (n = r.read(buf.data(), batch)) > 0;) {
    evs.clear();
    r.take_events(evs);
    for (size_t i = 0; i < n; ++i) {
      TraceRecord rec = buf[i];
      if (trace_flags::op_of(rec.flags) == trace_flags::kOpEvent) {
        EXPECT_LT(rec.addr, evs.size());
        t.events.push_back(evs.at(rec.addr));
        rec.addr = t.events.size() - 1;
      }
      t.records.push_back(rec);
    }
  }
  t.tasks = r.tasks();
  t.has_tasks = r.has_tasks();
  return t;
}

void write_events(const std::string& path, TraceFormat f, Compression c,
                  const std::vector<OsEvent>& events) {
  TraceWriterOptions o;
  o.format = f;
  o.compression = c;
  TraceWriter w(path, o);
  for (const auto& e : events) {
    w.write_event(e);
    TraceRecord r;
    r.addr = uint64_t{0x1000} * e.pid;
    r.size = 8;
    r.kind = AccessKind::kWrite;
    w.write_task_record(r, e.pid, e.tid);
  }
  w.close();
}

TEST(TraceOsEvents, EveryKindRoundTripsThroughTextAndBinary) {
  ScratchDir d;
  const auto events = every_kind();
  for (TraceFormat f : {TraceFormat::kText, TraceFormat::kBinary}) {
    for (Compression c : {Compression::kNone, Compression::kZstd}) {
      const std::string path = d.path("t" + std::to_string(int(f)) + std::to_string(int(c)));
      write_events(path, f, c, events);
      for (size_t batch : {1, 2, 3, 1000}) {
        auto r = open_trace(path);
        EXPECT_EQ(r->format_info().format, f == TraceFormat::kText ? "text" : "binary");
        TaskTrace t = read_task_trace(*r, batch);
        ASSERT_TRUE(t.has_tasks);
        ASSERT_EQ(t.events.size(), events.size());
        ASSERT_EQ(t.records.size(), 2 * events.size());
        for (size_t i = 0; i < events.size(); ++i) {
          EXPECT_EQ(payload(t.events[i]), payload(events[i])) << i;
          const TraceRecord& er = t.records[2 * i];
          const TraceRecord& mr = t.records[2 * i + 1];
          EXPECT_EQ(er.flags, trace_flags::kOpEvent);
          EXPECT_EQ(er.size, 0u);
          EXPECT_EQ(er.cpu, mr.cpu);  // the record after an event belongs to its task
          EXPECT_EQ(mr.addr, 0x1000u * events[i].pid);
          EXPECT_EQ(t.tasks.at(er.cpu).pid, events[i].pid);
          EXPECT_EQ(t.tasks.at(er.cpu).tid, events[i].tid);
        }
        // Slots in order of first appearance: 100.100, 100.102, 101.1001, 101.101.
        ASSERT_EQ(t.tasks.size(), 4u);
        EXPECT_EQ(t.tasks[1].tid, 102u);
        EXPECT_EQ(t.tasks[2].tid, 1001u);
        EXPECT_EQ(t.tasks[3].tid, 101u);
      }
    }
  }
  // Text -> binary -> text gives the same text.
  const std::string text = read_file_bytes(d.path("t00"));
  {
    auto r = open_trace(d.path("t00"));
    TraceWriterOptions o;
    o.format = TraceFormat::kBinary;
    TraceWriter w(d.path("b.bin"), o);
    std::vector<TraceRecord> buf(3);
    std::vector<OsEvent> evs;
    for (size_t n; (n = r->read(buf.data(), buf.size())) > 0;) {
      evs.clear();
      r->take_events(evs);
      w.write(buf.data(), n, evs, r->tasks());
    }
    w.close();
  }
  {
    auto r = open_trace(d.path("b.bin"));
    TraceWriterOptions o;
    o.format = TraceFormat::kText;
    TraceWriter w(d.path("c.txt"), o);
    std::vector<TraceRecord> buf(5);
    std::vector<OsEvent> evs;
    for (size_t n; (n = r->read(buf.data(), buf.size())) > 0;) {
      evs.clear();
      r->take_events(evs);
      w.write(buf.data(), n, evs, r->tasks());
    }
    w.close();
  }
  EXPECT_EQ(read_file_bytes(d.path("c.txt")), text);
}

TEST(TraceOsEvents, TextWriterSpellsEveryKindAsDocumented) {
  ScratchDir d;
  write_events(d.path("t.txt"), TraceFormat::kText, Compression::kNone, every_kind());
  const std::string text = read_file_bytes(d.path("t.txt"));
  const char* const expected =
      "FILE pid=100 file_id=1 path=\"/data/big file \\\"x\\\"\\\\#\\x0a\\x09\" size=65536 dev=2\n"
      "W 0x64000 8\n"
      "FILE pid=100 file_id=2 path=/lib/ld.so size=196608\n"
      "W 0x64000 8\n"
      "START pid=100 name=app\n"
      "W 0x64000 8\n"
      "PROC_CREATE pid=100 kind=vfork clone_flags=CLONE_VM|CLONE_VFORK|0x11 child_pid=101 "
      "child_tid=1001\n"
      "W 0x64000 8\n"
      "THREAD_CREATE pid=100 tid=102 clone_flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
      "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID "
      "child_tid=103 stack=0x7f00ffff0000\n"
      "W 0x64000 8\n"
      "EXEC pid=101 tid=1001 file_id=1 interp_file_id=2 argv0=\"a b\"\n"
      "W 0x65000 8\n"
      "VMA_INIT pid=101 start=0x400000 end=0x402000 prot=r-x shared=1 kind=file file_id=1 "
      "offset=0x1000 grows_down=1 max_size=0x800000\n"
      "W 0x65000 8\n"
      "EXIT pid=101 code=-3 group=0\n"
      "W 0x65000 8\n"
      "WAIT pid=100 child_pid=101 ret=-10\n"
      "W 0x64000 8\n"
      "MMAP pid=100 addr=0x7000000 len=65536 prot=rw- flags=MAP_PRIVATE|MAP_NORESERVE fd=3 "
      "file_id=1 offset=0x2000 ret=-12\n"
      "W 0x64000 8\n"
      "MUNMAP pid=100 addr=0x7f0000000000 len=8192 ret=-22\n"
      "W 0x64000 8\n"
      "MPROTECT pid=100 addr=0x7f0000000000 len=4096 prot=r-- ret=-1\n"
      "W 0x64000 8\n"
      "MREMAP pid=100 old_addr=0x1000 old_len=4096 new_len=8192 flags=MREMAP_MAYMOVE|"
      "MREMAP_FIXED new_addr=0x9000 ret=0x9000\n"
      "W 0x64000 8\n"
      "BRK pid=100 req=0x4056000 ret=0x4056000\n"
      "W 0x64000 8\n"
      "MSYNC pid=100 addr=0x7f1000000000 len=65536 flags=MS_SYNC ret=-16\n"
      "W 0x64000 8\n"
      "MADVISE pid=100 addr=0x7f0000000000 len=4096 advice=99 ret=-22\n"
      "W 0x64000 8\n"
      "OPEN pid=100 file_id=2 flags=O_RDWR|O_CREAT|O_CLOEXEC ret=3\n"
      "W 0x64000 8\n"
      "CLOSE pid=100 fd=3 ret=-9\n"
      "W 0x64000 8\n"
      "RW pid=100 op=pwrite fd=4 offset=100 len=3 buf=0x10a012 ret=3\n"
      "W 0x64000 8\n"
      "LSEEK pid=100 fd=4 offset=-10 whence=SEEK_END ret=93\n"
      "W 0x64000 8\n"
      "FADVISE pid=100 fd=4 offset=4096 len=8192 advice=7\n"
      "W 0x64000 8\n"
      "FSYNC pid=100 fd=4 datasync=1 ret=-5\n"
      "W 0x64000 8\n"
      "CTXSW pid=100 cpu=1 to_pid=101 to_tid=1001 reason=yield\n"
      "W 0x64000 8\n";
  EXPECT_EQ(text, expected);
}

std::vector<OsEvent> events_of(const std::string& text) {
  ScratchDir d;
  auto r = open_trace(d.write("t.txt", text), "text");
  return read_task_trace(*r).events;
}

TEST(TraceOsEvents, TextAcceptsSymbolicAndNumericFormsAndFillsDefaults) {
  auto v = events_of(
      "START pid=7\n"
      "MMAP pid=7 tid=8 len=0x1000 prot=rw- flags=MAP_PRIVATE|MAP_ANON|0x8000 ret=0x7f00\n"
      "MMAP pid=7 len=4096 prot=3 flags=34 fd=-1 ret=-12  # comment\n"
      "PROC_CREATE pid=7 child_pid=9\n"
      "CTXSW pid=7 cpu=0 to_pid=9\n"
      "MADVISE pid=7 addr=0 len=1 advice=MADV_FREE\n"
      "LSEEK pid=7 fd=3 offset=0 whence=1 ret=0\n"
      "FILE pid=7 file_id=1 path=\"\" size=0\n"
      "OPEN pid=7 file_id=1 ret=3\n"
      "EXIT pid=7\n");
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[0].tid, 7u);
  const auto& m1 = std::get<MmapEvent>(v[1].body);
  EXPECT_EQ(v[1].tid, 8u);
  EXPECT_EQ(m1.prot, 3u);
  EXPECT_EQ(m1.flags, 0x8022u);
  EXPECT_EQ(m1.fd, -1);  // the default
  EXPECT_EQ(m1.ret, 0x7f00);
  const auto& m2 = std::get<MmapEvent>(v[2].body);
  EXPECT_EQ(m2.flags, 0x22u);
  EXPECT_EQ(m2.ret, -12);
  const auto& pc = std::get<ProcCreateEvent>(v[3].body);
  EXPECT_EQ(pc.kind, ProcCreateEvent::Kind::kFork);
  EXPECT_EQ(pc.child_tid, 9u);  // defaults to child_pid
  EXPECT_EQ(std::get<CtxSwitchEvent>(v[4].body).to_tid, 9u);
  EXPECT_EQ(std::get<MadviseEvent>(v[5].body).advice, linux_abi::kMadvFree);
  EXPECT_EQ(std::get<LseekEvent>(v[6].body).whence, linux_abi::kSeekCur);
  EXPECT_EQ(std::get<FileEvent>(v[7].body).path, "");
  EXPECT_EQ(std::get<OpenEvent>(v[8].body).flags, linux_abi::kORdOnly);
  EXPECT_TRUE(std::get<ExitEvent>(v[9].body).group);
}

TEST(TraceOsEvents, TaskPrefixesAreStickyAndSlotsFollowFirstAppearance) {
  ScratchDir d;
  auto r = open_trace(d.write("t.txt",
                              "START pid=5\n"
                              "R 0x10\n"
                              "@6.60 W 0x20 4\n"
                              "X 0x30\n"
                              "@5\n"
                              "R 0x40\n"
                              "INVLPG 0x5000\n"
                              "EXIT pid=6 tid=60\n"
                              "R 0x50\n"),
                      "text");
  TaskTrace t = read_task_trace(*r, 2);
  ASSERT_EQ(t.records.size(), 8u);
  ASSERT_EQ(t.tasks.size(), 2u);
  EXPECT_EQ(t.tasks[0].pid, 5u);
  EXPECT_EQ(t.tasks[1].pid, 6u);
  EXPECT_EQ(t.tasks[1].tid, 60u);
  const uint16_t expected_slots[] = {0, 0, 1, 1, 0, 0, 1, 1};
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(t.records[i].cpu, expected_slots[i]) << i;
  EXPECT_EQ(t.records[5].flags, trace_flags::kOpInvlpg);
  EXPECT_EQ(r->position(), "line 9");
}

TEST(TraceOsEvents, PlainTracesHaveNoTasks) {
  ScratchDir d;
  auto r = open_trace(d.write("t.txt", "R 0x10 4 3\n"), "text");
  TaskTrace t = read_task_trace(*r);
  EXPECT_FALSE(t.has_tasks);
  EXPECT_TRUE(t.tasks.empty());
  EXPECT_EQ(t.records.at(0).cpu, 3);
}

std::string text_error(const std::string& text) { return format_error("text", text); }

TEST(TraceOsEvents, StartCarriesOomScoreAdjAndOldBinaryPayloadsReadAsZero) {
  // Text: the key is optional (0) and range-checked.
  auto v = events_of("START pid=7 name=db oom_score_adj=-1000\nSTART pid=8\n");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(std::get<StartEvent>(v[0].body).oom_score_adj, -1000);
  EXPECT_EQ(std::get<StartEvent>(v[1].body).oom_score_adj, 0);
  EXPECT_EQ(text_error("START pid=7 oom_score_adj=1001\n"),
            "FILE:line 1: START oom_score_adj must be from -1000 to 1000 at column 31, got end of "
            "line");
  // Binary: a START at 0 is written as before the field existed (the
  // layout test's bytes); a non-zero value follows the name and reads back.
  ScratchDir d;
  const std::string path = d.path("adj.bin");
  StartEvent s{"app"};
  s.oom_score_adj = 500;
  write_events(path, TraceFormat::kBinary, Compression::kNone, {ev(100, 100, s)});
  auto r = open_trace(path);
  TaskTrace t = read_task_trace(*r, 16);
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(std::get<StartEvent>(t.events[0].body).oom_score_adj, 500);
  EXPECT_EQ(std::get<StartEvent>(t.events[0].body).name, "app");
}

TEST(TraceOsEvents, TextErrorsNameLineColumnAndWhatWasExpected) {
  EXPECT_EQ(text_error("R 0x10\nMMAP pid=1 len=1 prot=r-- flags=0 ret=0\n"),
            "FILE:line 2: an OS event in a trace that did not start with one (a task trace "
            "begins with an OS event; traces/README.md, OS events) at column 1, got 'MMAP'");
  EXPECT_EQ(text_error("R 0x10\n@5 R 0x20\n"),
            "FILE:line 2: a task prefix @PID[.TID] in a trace without OS events (a task trace "
            "begins with an OS event) at column 1, got '@5'");
  EXPECT_EQ(text_error("START pid=1\n@5.x R 0x20\n"),
            "FILE:line 2: expected @PID or @PID.TID (decimal, > 0) at column 1, got '@5.x'");
  EXPECT_EQ(text_error("START pid=1\n@0 R 0x20\n"),
            "FILE:line 2: expected @PID or @PID.TID (decimal, > 0) at column 1, got '@0'");
  EXPECT_EQ(text_error("START pid=1\n@2 EXIT pid=2\n"),
            "FILE:line 2: an OS event after a task prefix (events name their task with pid= and "
            "tid=) at column 4, got 'EXIT'");
  EXPECT_EQ(text_error("START pid=1\nR 0x20 8 1\n"),
            "FILE:line 2: unexpected cpu column in a task trace (records belong to tasks: name "
            "one with @PID[.TID]) at column 10, got '1'");
  EXPECT_EQ(text_error("START pid=1\nMMAPP pid=1\n"),
            "FILE:line 2: expected R, W, X, LOAD, GDT, LDT, INVLPG, INVPCID, FLUSH or an OS "
            "event (FILE, START, PROC_CREATE, THREAD_CREATE, EXEC, VMA_INIT, EXIT, WAIT, MMAP, "
            "MUNMAP, MPROTECT, MREMAP, BRK, MSYNC, MADVISE, OPEN, CLOSE, RW, LSEEK, FADVISE, "
            "FSYNC, CTXSW) at column 1, got 'MMAPP'");
  EXPECT_EQ(
      text_error("START pid=1 bogus=2\n"),
      "FILE:line 1: unknown key 'bogus' for START (expected pid, tid, name, oom_score_adj) at "
      "column 13, got 'bogus'");
  EXPECT_EQ(text_error("EXIT pid=1 code=1 code=2\n"),
            "FILE:line 1: duplicate key 'code' at column 19, got 'code'");
  EXPECT_EQ(text_error("START pid=1 pid=2\n"),
            "FILE:line 1: duplicate key 'pid' at column 13, got 'pid'");
  EXPECT_EQ(text_error("MUNMAP pid=1 addr=0x1000\n"),
            "FILE:line 1: MUNMAP needs key 'len' at column 25, got end of line");
  EXPECT_EQ(text_error("START name=x\n"),
            "FILE:line 1: START needs key 'pid' at column 13, got end of line");
  EXPECT_EQ(text_error("START pid=1 name\n"),
            "FILE:line 1: expected key=value at column 13, got 'name'");
  EXPECT_EQ(text_error("EXIT pid=1 code=\n"),
            "FILE:line 1: expected a value for 'code' at column 17, got end of line");
  EXPECT_EQ(text_error("MUNMAP pid=1 addr=0x10g len=1\n"),
            "FILE:line 1: expected a number (decimal or 0x hex) for 'addr' at column 19, got "
            "'0x10g'");
  EXPECT_EQ(text_error("CLOSE pid=1 fd=-\n"),
            "FILE:line 1: expected a signed number (decimal or 0x hex) for 'fd' at column 16, got "
            "'-'");
  EXPECT_EQ(text_error("CLOSE pid=1 fd=2147483648\n"),
            "FILE:line 1: 'fd' must be -2147483648..2147483647 at column 16, got '2147483648'");
  EXPECT_EQ(text_error("START pid=4294967296\n"),
            "FILE:line 1: 'pid' must be 0..4294967295 at column 11, got '4294967296'");
  EXPECT_EQ(text_error("MUNMAP pid=1 addr=0x10000000000000000 len=1\n"),
            "FILE:line 1: 'addr' must be 0..2^64-1 at column 19, got '0x10000000000000000'");
  EXPECT_EQ(text_error("MUNMAP pid=1 addr=-1 len=1\n"),
            "FILE:line 1: expected a number (decimal or 0x hex) for 'addr' at column 19, got "
            "'-1'");
  EXPECT_EQ(text_error("MPROTECT pid=1 addr=0 len=1 prot=rwz\n"),
            "FILE:line 1: expected rwx-style protection (r, w, x or -) or a number for 'prot' at "
            "column 34, got 'rwz'");
  EXPECT_EQ(text_error("MMAP pid=1 len=1 prot=r-- flags=MAP_PRIVATE|MAP_FOO ret=0\n"),
            "FILE:line 1: unknown MAP_ flag for 'flags' (expected MAP_* names or numbers joined "
            "by |) at column 45, got 'MAP_FOO'");
  EXPECT_EQ(text_error("MMAP pid=1 len=1 prot=r-- flags=MAP_PRIVATE| ret=0\n"),
            "FILE:line 1: expected MAP_* names or numbers joined by | for 'flags' at column 45, "
            "got end of line");
  EXPECT_EQ(text_error("MADVISE pid=1 addr=0 len=1 advice=MADV_NOPE\n"),
            "FILE:line 1: expected an MADV_ name or a number for 'advice' at column 35, got "
            "'MADV_NOPE'");
  EXPECT_EQ(text_error("PROC_CREATE pid=1 kind=spawn child_pid=2\n"),
            "FILE:line 1: expected fork, vfork or clone for 'kind' at column 24, got 'spawn'");
  EXPECT_EQ(text_error("FSYNC pid=1 fd=1 datasync=2\n"),
            "FILE:line 1: expected 0 or 1 for 'datasync' at column 27, got '2'");
  EXPECT_EQ(text_error("START pid=1 name=\"abc\n"),
            "FILE:line 1: unterminated quoted string at column 18, got '\"abc'");
  EXPECT_EQ(text_error("START pid=1 name=\"a\\qb\"\n"),
            "FILE:line 1: unknown escape in a quoted string (expected \\\", \\\\ or \\xNN) at "
            "column 20, got '\\q'");
  EXPECT_EQ(text_error("START pid=1 name=\"a\"b\n"),
            "FILE:line 1: expected a blank after the quoted string at column 21, got 'b'");
  // Semantic checks, at the end of the line or at the keyword.
  EXPECT_EQ(text_error("START pid=0\n"),
            "FILE:line 1: pid must be > 0 at column 12, got end of line");
  EXPECT_EQ(text_error("START pid=1\nFILE pid=1 file_id=0 size=0\n"),
            "FILE:line 2: FILE file_id must be > 0 at column 28, got end of line");
  EXPECT_EQ(text_error("VMA_INIT pid=1 start=0x2000 end=0x1000 prot=r-- kind=anon\n"),
            "FILE:line 1: VMA_INIT start must be below end at column 58, got end of line");
  EXPECT_EQ(text_error("VMA_INIT pid=1 start=0x1001 end=0x2000 prot=r-- kind=anon\n"),
            "FILE:line 1: VMA_INIT start, end and offset must be multiples of 4096 at column 58, "
            "got end of line");
  EXPECT_EQ(text_error("START pid=1\nFILE pid=1 file_id=3 size=0\nFILE pid=1 file_id=3 size=0\n"),
            "FILE:line 3: FILE file_id 3 is described twice at column 1, got 'FILE'");
  EXPECT_EQ(text_error("START pid=1\nOPEN pid=1 file_id=4 ret=3\n"),
            "FILE:line 2: file_id 4 has no FILE record before it at column 1, got 'OPEN'");
}

// ---- binary version 2 ----

std::string one_event_file(const OsEvent& e) {
  ScratchDir d;
  TraceWriterOptions o;
  o.binary_version = 2;  // the 16-byte records (version 3: test_binary_v3.cc)
  TraceWriter w(d.path("e.bin"), o);
  w.write_event(e);
  w.close();
  return read_file_bytes(d.path("e.bin"));
}

std::string binary_error(const std::string& bytes) { return format_error("binary", bytes); }

TEST(TraceOsEvents, BinaryLayoutIsHeaderV2ThenHeadAndPaddedPayload) {
  const std::string b = one_event_file(ev(100, 101, StartEvent{"app"}));
  ASSERT_EQ(b.size(), 32u + 16u + 32u);  // payload 12 + 2 + 3 = 17 bytes, padded to 32
  EXPECT_EQ(b.substr(8, 8), std::string("\x02\x00\x10\x00\x02\x00\x00\x00", 8));
  EXPECT_EQ(b[16], 1);  // one stored record
  const std::string head = b.substr(32, 16);
  EXPECT_EQ(head, std::string("\0\0\0\0\0\0\0\0\x11\0\0\0\0\0\0\x07", 16));
  EXPECT_EQ(b.substr(48, 17), std::string("\x01\0\0\0\x64\0\0\0\x65\0\0\0\x03\0app", 17));
  EXPECT_EQ(b.substr(65), std::string(15, '\0'));
}

TEST(TraceOsEvents, BinaryPayloadErrorsNameRecordAndByteOffset) {
  const std::string good = one_event_file(ev(100, 100, StartEvent{"app"}));
  auto with = [&](size_t at, const std::string& bytes) {
    std::string b = good;
    b.replace(at, bytes.size(), bytes);
    return b;
  };
  EXPECT_EQ(binary_error(good.substr(0, 60)),
            "FILE:record 1 (byte offset 32): truncated event payload, expected 32 bytes, got 12");
  EXPECT_EQ(binary_error(with(48, std::string("\x63\0", 2))),
            "FILE:record 1 (byte offset 32): unknown event kind 99");
  EXPECT_EQ(binary_error(with(40, std::string("\x10", 1))),
            "FILE:record 1 (byte offset 32): event payload ends inside field 'name' of START");
  // One byte after the name: the start of a (4-byte) oom_score_adj.
  EXPECT_EQ(binary_error(with(40, std::string("\x12", 1))),
            "FILE:record 1 (byte offset 32): event payload ends inside field 'oom_score_adj' of "
            "START");
  EXPECT_EQ(binary_error(with(40, std::string("\x16", 1))),
            "FILE:record 1 (byte offset 32): event payload has 1 bytes after the fields of START");
  EXPECT_EQ(binary_error(with(70, std::string("\x01", 1))),
            "FILE:record 1 (byte offset 32): non-zero padding after the event payload");
  EXPECT_EQ(binary_error(with(40, std::string("\0\0\x10\0", 4))),
            "FILE:record 1 (byte offset 32): event payload of 1048576 bytes exceeds the limit of "
            "131072");
  EXPECT_EQ(binary_error(with(44, std::string("\x01", 1))),
            "FILE:record 1 (byte offset 32): event of task 100.100 in slot 1, expected slot 0");
  EXPECT_EQ(binary_error(with(32, std::string("\x01", 1))),
            "FILE:record 1 (byte offset 32): malformed EVENT record head (expected address 0, "
            "kind 0, flags 0x07)");
  EXPECT_EQ(binary_error(with(52, std::string("\0\0\0\0", 4))),
            "FILE:record 1 (byte offset 32): pid must be > 0");
  // A record of a slot nothing introduced.
  std::string b = good + std::string("\x10\0\0\0\0\0\0\0\x04\0\0\0\x03\0\0\0", 16);
  EXPECT_EQ(binary_error(b),
            "FILE:record 2 (byte offset 80): record of task slot 3, which no event or task "
            "declaration introduced (1 slots so far)");
  // An enum out of range.
  const std::string rw = one_event_file(ev(1, 1, RwEvent{RwEvent::Op::kRead, 3, 0, 1, 0, 1}));
  std::string bad = rw;
  bad[48 + 12] = 9;
  EXPECT_EQ(binary_error(bad), "FILE:record 1 (byte offset 32): invalid value 9 for 'op' of RW");
  // An EVENT record in a version-1 file.
  std::string v1 = std::string("MMUTRACE\x01\0\x10\0\0\0\0\0", 16) + std::string(8, '\0') +
                   std::string("\x20\0\0\0\0\0\0\0", 8) +
                   std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
  EXPECT_EQ(binary_error(v1),
            "FILE:record 1 (byte offset 32): EVENT record in a version-1 trace (OS events need "
            "version 2)");
}

TEST(TraceOsEvents, BinaryTaskDeclarationsIntroduceSlotsWithoutEvents) {
  ScratchDir d;
  TraceWriterOptions o;
  o.binary_version = 2;  // the 16-byte records (version 3: test_binary_v3.cc)
  TraceWriter w(d.path("t.bin"), o);
  w.write_event(ev(1, 1, StartEvent{}));
  TraceRecord r;
  r.addr = 0x40;
  w.write_task_record(r, 2, 3);  // a new task: declared, then its record
  w.write_task_record(r, 1, 1);
  w.write_task_record(r, 2, 3);
  w.close();
  EXPECT_EQ(w.count(), 4u);
  const std::string b = read_file_bytes(d.path("t.bin"));
  ASSERT_EQ(b.size(), 32u + 32u + 32u + 3 * 16u);
  EXPECT_EQ(b[16], 5);  // stored records: the declaration counts
  EXPECT_EQ(b.substr(64 + 16, 12), std::string("\xff\xff\0\0\x02\0\0\0\x03\0\0\0", 12));
  auto rd = open_trace(d.path("t.bin"));
  TaskTrace t = read_task_trace(*rd);
  ASSERT_EQ(t.records.size(), 4u);
  EXPECT_EQ(t.records[1].cpu, 1);
  EXPECT_EQ(t.records[2].cpu, 0);
  EXPECT_EQ(t.records[3].cpu, 1);
  ASSERT_EQ(t.tasks.size(), 2u);
  EXPECT_EQ(t.tasks[1].pid, 2u);
  EXPECT_EQ(t.tasks[1].tid, 3u);
  // A declaration of a known task is refused.
  std::string dup = b.substr(0, 96) + b.substr(64, 32);
  EXPECT_EQ(binary_error(dup),
            "FILE:record 3 (byte offset 96): task declaration of 2.3 in slot 1, expected a new "
            "slot 2");
}

TEST(TraceOsEvents, TextWriterPrefixesRecordsWhenTheTaskChanges) {
  ScratchDir d;
  TraceWriterOptions o;
  o.format = TraceFormat::kText;
  TraceWriter w(d.path("t.txt"), o);
  w.write_event(ev(1, 1, StartEvent{}));
  TraceRecord r;
  r.addr = 0x40;
  w.write_task_record(r, 1, 1);
  w.write_task_record(r, 2, 3);
  w.write_task_record(r, 2, 3);
  w.write_task_record(r, 1, 1);
  w.write_event(ev(2, 3, ExitEvent{}));
  w.write_task_record(r, 2, 3);
  w.close();
  EXPECT_EQ(read_file_bytes(d.path("t.txt")),
            "START pid=1\nR 0x40\n@2.3 R 0x40\nR 0x40\n@1 R 0x40\nEXIT pid=2 tid=3\nR 0x40\n");
}

TEST(TraceOsEvents, TracesWithoutEventsStayVersionOne) {
  ScratchDir d;
  TraceWriterOptions o;
  o.binary_version = 2;  // the 16-byte records (version 3: test_binary_v3.cc)
  TraceWriter w(d.path("p.bin"), o);
  TraceRecord r;
  r.addr = 0x1000;
  w.write(r);
  w.close();
  const std::string b = read_file_bytes(d.path("p.bin"));
  EXPECT_EQ(b.substr(8, 8), std::string("\x01\0\x10\0\0\0\0\0", 8));
  auto rd = open_trace(d.path("p.bin"));
  EXPECT_EQ(testing::read_all(*rd).size(), 1u);
  EXPECT_FALSE(rd->has_tasks());
}

TEST(TraceOsEvents, WriterRefusesMixingPlainRecordsAndEvents) {
  ScratchDir d;
  TraceRecord r;
  for (TraceFormat f : {TraceFormat::kText, TraceFormat::kBinary}) {
    TraceWriterOptions o;
    o.format = f;
    const std::string p = d.path("w");
    {
      TraceWriter w(p, o);
      w.write(r);
      EXPECT_EQ(error_of([&] { w.write_event(ev(1, 1, StartEvent{})); }),
                p + ": record 2: an OS event in a trace that did not start with one (a task trace "
                    "begins with an OS event)");
      EXPECT_EQ(error_of([&] { w.write_task_record(r, 1, 1); }),
                p + ": record 2: a task record in a trace that did not start with an OS event");
    }
    {
      TraceWriter w(p, o);
      w.write_event(ev(1, 1, StartEvent{}));
      EXPECT_EQ(error_of([&] { w.write(r); }),
                p + ": record 2: a record without its task in a task trace (write_task_record "
                    "names the task)");
      EXPECT_EQ(error_of([&] {
                  w.write_event(ev(1, 1, OpenEvent{5, 0, 3}));
                }),
                p + ": record 2: file_id 5 has no FILE record before it");
      TraceRecord e;
      e.flags = trace_flags::kOpEvent;
      EXPECT_EQ(error_of([&] { w.write_task_record(e, 1, 1); }),
                p + ": record 2: an EVENT record without its event (write_event writes events)");
      std::vector<OsEvent> none;
      std::vector<TraceReader::TaskKey> tasks{{1, 1}};
      EXPECT_EQ(error_of([&] { w.write(&e, 1, none, tasks); }),
                p + ": record 2: EVENT record of index 0, but the batch has 0 events");
    }
  }
  TraceWriterOptions o;
  TraceWriter w(d.path("b.bin"), o);
  TraceRecord e;
  e.flags = trace_flags::kOpEvent;
  EXPECT_EQ(error_of([&] { w.write(e); }),
            d.path("b.bin") +
                ": record 1: an EVENT record without its event (write_event writes events)");
}

}  // namespace
}  // namespace mmusim
