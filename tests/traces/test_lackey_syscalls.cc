// Lackey logs with valgrind's --trace-syscalls=yes lines: the event sequence
// of os-model.md §4.2's t.c excerpt, the multi-log merge order, threads and
// glued scheduler lines, exec chains with valgrind -d layouts, file sizes and
// the errors.
#include <gtest/gtest.h>

#include "tests/traces/trace_test_util.h"
#include "traces/byte_stream.h"
#include "traces/formats.h"
#include "traces/lackey_import.h"
#include "traces/os_event_format.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

using testing::error_of;
using testing::read_file_bytes;
using testing::ScratchDir;

// The trace in the native text form (events and @PID prefixes), read with
// batches of `batch` records.
std::string as_text(TraceReader& r, size_t batch = 7) {
  ScratchDir d;
  {
    TraceWriterOptions o;
    o.format = TraceFormat::kText;
    TraceWriter w(d.path("out.txt"), o);
    std::vector<TraceRecord> buf(batch);
    std::vector<OsEvent> events;
    for (size_t n; (n = r.read(buf.data(), buf.size())) > 0;) {
      events.clear();
      r.take_events(events);
      w.write(buf.data(), n, events, r.tasks());
    }
    w.close();
  }
  return read_file_bytes(d.path("out.txt"));
}

// os-model.md §4.2: t.c's parent and child logs (the excerpt, plus the
// wait4 result a full log has).
const char* const kParentLog =
    "==25554== Lackey, an example Valgrind tool\n"
    "==25554== Command: ./t\n"
    "==25554== Parent PID: 25000\n"
    "==25554== \n"
    "I  049489b1,2\n"
    "SYSCALL[25554,1](9) sys_mmap ( 0x0, 1052672, 3, 34, 4294967295, 0 ) --> [pre-success] "
    "Success(0x4a2c000) \n"
    "I  049489b3,6\n"
    " S 04a2c010,8\n"
    "SYSCALL[25554,1](257) sys_openat ( 4294967196, 0x10a004(./data.bin), 2 ) --> [async] ... \n"
    "SYSCALL[25554,1](257) ... [async] --> Success(0x4) \n"
    "SYSCALL[25554,1](9) sys_mmap ( 0x0, 65536, 3, 1, 4, 0 ) --> [pre-success] "
    "Success(0x4b2d000) \n"
    " L 04b2e000,1\n"
    " L 04b2d000,1\n"
    " S 04b2f000,1\n"
    "SYSCALL[25554,1](26) sys_msync ( 0x4b2d000, 65536, 0x4 ) --> [async] ... \n"
    "SYSCALL[25554,1](26) ... [async] --> Success(0x0) \n"
    "SYSCALL[25554,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a29a10, 0x0 )   clone(fork): "
    "process 25554 created child 25824\n"
    " --> [pre-success] Success(0x64e0) \n"
    "SYSCALL[25554,1](61) sys_wait4 ( 25824, 0x0, 0, 0x0 ) --> [async] ... \n"
    "SYSCALL[25554,1](61) ... [async] --> Success(0x64e0) \n"
    "SYSCALL[25554,1](11) sys_munmap ( 0x4b2d000, 65536 )[sync] --> Success(0x0) \n"
    "SYSCALL[25554,1](3) sys_close ( 4 )[sync] --> Success(0x0) \n"
    "SYSCALL[25554,1](231) exit_group( 2 ) --> [pre-success] Success(0x0) \n"
    "==25554== \n"
    "==25554== Exit code:       2\n";
const char* const kChildLog =
    "==25824== Lackey, an example Valgrind tool\n"
    "==25824== Command: ./t\n"
    "==25824== Parent PID: 25554\n"
    "==25824== \n"
    " --> [pre-success] Success(0x0) \n"
    " S 04a2c010,1\n"
    " S 04a2d010,1\n"
    " S 04b30000,1\n"
    "SYSCALL[25824,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";

TEST(TraceLackeySyscalls, TheTcExcerptBecomesItsEventSequence) {
  ScratchDir d;
  LackeyImportOptions o;
  o.cwd = "/home/u";
  // The child's log first: the merge orders by the fork, not by the list.
  auto r = open_lackey_logs(
      {d.write("lk.25824.2.log", kChildLog), d.write("lk.25554.1.log", kParentLog)}, o);
  EXPECT_EQ(as_text(*r),
            "START pid=25554 name=./t\n"
            "X 0x49489b1 2\n"
            "MMAP pid=25554 len=1052672 prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS "
            "ret=0x4a2c000\n"
            "X 0x49489b3 6\n"
            "W 0x4a2c010 8\n"
            "FILE pid=25554 file_id=1 path=/home/u/data.bin size=65536\n"
            "OPEN pid=25554 file_id=1 flags=O_RDWR ret=4\n"
            "MMAP pid=25554 len=65536 prot=rw- flags=MAP_SHARED fd=4 file_id=1 ret=0x4b2d000\n"
            "R 0x4b2e000 1\n"
            "R 0x4b2d000 1\n"
            "W 0x4b2f000 1\n"
            "MSYNC pid=25554 addr=0x4b2d000 len=65536 flags=MS_SYNC\n"
            "PROC_CREATE pid=25554 clone_flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11 "
            "child_pid=25824\n"
            "@25824 W 0x4a2c010 1\n"
            "W 0x4a2d010 1\n"
            "W 0x4b30000 1\n"
            "EXIT pid=25824\n"
            "WAIT pid=25554 child_pid=25824 ret=25824\n"
            "MUNMAP pid=25554 addr=0x4b2d000 len=65536\n"
            "CLOSE pid=25554 fd=4\n"
            "EXIT pid=25554 code=2\n");
  const LackeyImportReport* rep = lackey_import_report(*r);
  ASSERT_NE(rep, nullptr);
  EXPECT_EQ(rep->logs, 2u);
  EXPECT_EQ(rep->processes, 2u);
  EXPECT_TRUE(rep->ignored.empty());
  EXPECT_EQ(rep->synthesized_exits, 0u);
}

TEST(TraceLackeySyscalls, OneLogThroughOpenTraceIsDetectedAsATaskTrace) {
  ScratchDir d;
  auto r = open_trace(d.write("p.log", kParentLog));
  EXPECT_EQ(r->format_info().format, "lackey");
  const std::string t = as_text(*r, 1000);
  EXPECT_TRUE(r->has_tasks());
  // The child is not traced here: the parent's WAIT does not wait for it.
  EXPECT_NE(t.find("PROC_CREATE pid=25554"), std::string::npos);
  EXPECT_NE(t.find("WAIT pid=25554 child_pid=25824 ret=25824\n"), std::string::npos);
  EXPECT_EQ(t.find("@25824"), std::string::npos);
  // Without a cwd the path stays relative (normalized).
  EXPECT_NE(t.find("FILE pid=25554 file_id=1 path=data.bin size=65536\n"), std::string::npos);
}

TEST(TraceLackeySyscalls, FromAPipeFileSizesAreTheExtentAtFirstUse) {
  ScratchDir d;
  const std::string log = d.write("p.log", kParentLog);
  // path "-": no size pass; data.bin's FILE goes out at the openat, when no
  // extent of it is known yet.
  auto r = make_lackey_task_reader(std::make_unique<InputBuffer>(open_byte_source(log)), "-");
  EXPECT_NE(as_text(*r).find("FILE pid=25554 file_id=1 path=data.bin size=0\n"), std::string::npos);
}

std::string root_log(uint32_t pid, int accesses) {
  std::string s = "==" + std::to_string(pid) + "== Command: /bin/p" + std::to_string(pid) + "\n";
  for (int i = 0; i < accesses; ++i) {
    s += " L " + std::to_string(pid) + "00" + std::to_string(i) + ",4\n";
  }
  s += "SYSCALL[" + std::to_string(pid) +
       ",1](231) exit_group( 0 ) --> [pre-success] "
       "Success(0x0) \n";
  return s;
}

TEST(TraceLackeySyscalls, ProcessesAlternateInTurnsOfChunkRecords) {
  ScratchDir d;
  LackeyImportOptions o;
  o.chunk = 2;
  auto r = open_lackey_logs({d.write("a", root_log(7, 4)), d.write("b", root_log(8, 3))}, o);
  EXPECT_EQ(as_text(*r, 3),
            "START pid=7 name=/bin/p7\n"
            "R 0x7000 4\n"
            "START pid=8 name=/bin/p8\n"
            "R 0x8000 4\n"
            "@7 R 0x7001 4\n"
            "R 0x7002 4\n"
            "@8 R 0x8001 4\n"
            "R 0x8002 4\n"
            "@7 R 0x7003 4\n"
            "EXIT pid=7\n"
            "EXIT pid=8\n");
}

TEST(TraceLackeySyscalls, ThreadsGetTheirTidFromCloneAndSchedLines) {
  ScratchDir d;
  const std::string log =
      "==50== Command: ./th\n"
      " L 1000,8\n"
      "SYSCALL[50,1](56) sys_clone ( 3d0f00, 0x522bf70, 0x522c990, 0x522c990, 0x522c6c0 ) --> "
      "[pre-success] Success(0x33) --50--   SCHED[1]: releasing lock (VG_(vg_yield)) -> "
      "VgTs_Yielding\n"
      "--50--   SCHED[1]:  acquired lock (VG_(vg_yield))\n"
      "\n"
      "SYSCALL[50,1](202) sys_futex ( 0x522c990, 265, 3076, 0x0, 0x0 ) --> [async] ... \n"
      "--50--   SCHED[2]:  acquired lock (thread_wrapper(starting new thread))\n"
      " S 2000,4\n"
      "SYSCALL[50,2](28) sys_madvise ( 0x4a2c000, 8368128, 4 ) --> [async] ... \n"
      "SYSCALL[50,2](28) ... [async] --> Success(0x0) \n"
      "SYSCALL[50,2](60) exit( 0 ) --> [pre-success] Success(0x0) \n"
      "--50--   SCHED[1]:  acquired lock (VG_(client_syscall)[async])\n"
      "SYSCALL[50,1](202) ... [async] --> Success(0x0) \n"
      " L 3000,8\n"
      "SYSCALL[50,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)\n"
      " --> [pre-fail] Failure(0x26) \n"
      "SYSCALL[50,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";
  auto r = open_trace(d.write("t.log", log));
  EXPECT_EQ(as_text(*r),
            "START pid=50 name=./th\n"
            "R 0x1000 8\n"
            "THREAD_CREATE pid=50 clone_flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
            "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID "
            "child_tid=51 stack=0x522bf70\n"
            "@50.51 W 0x2000 4\n"
            "MADVISE pid=50 tid=51 addr=0x4a2c000 len=8368128 advice=MADV_DONTNEED\n"
            "EXIT pid=50 tid=51 group=0\n"
            "@50 R 0x3000 8\n"
            "EXIT pid=50\n");
  const LackeyImportReport* rep = lackey_import_report(*r);
  ASSERT_NE(rep, nullptr);
  ASSERT_EQ(rep->ignored.size(), 2u);
  EXPECT_EQ(rep->ignored.at("sys_futex(202)"), 1u);
  EXPECT_EQ(rep->ignored.at("unimplemented(334)"), 1u);
}

// valgrind -d layouts of pid 60 (the root) and of pid 61's exec'd image.
const char* const kMaps =
    "--60:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client startup (9 segments)\n"
    "--60:1: aspacem (0,4,9) /usr/libexec/valgrind/lackey-amd64-linux\n"
    "--60:1: aspacem (1,49,7) /tmp/p\n"
    "--60:1: aspacem (2,64,7) /lib/ld.so\n"
    "--60:1: aspacem   0: RSVN 0000000000-0000107fff 1081344 ----- SmFixed\n"
    "--60:1: aspacem   1: file 0000108000-0000108fff    4096 r-x-- d=0xfe00 i=1 o=0  (1,49)\n"
    "--60:1: aspacem   2: file 0004000000-0004001fff    8192 r---- d=0xfe00 i=2 o=0  (2,64)\n"
    "--60:1: aspacem   3: anon 0004035000-0004035fff    4096 rwx--\n"
    "--60:1: aspacem   4: RSVN 0004036000-0004834fff 8384512 ----- SmLower\n"
    "--60:1: aspacem   5: FILE 0058000000-0058000fff    4096 r---- d=0xfe00 i=3 o=0  (0,4)\n"
    "--60:1: aspacem   6: file 005807d000-005807dfff    4096 r-x-- d=0xfe00 i=3 o=5  (0,4)\n"
    "--60:1: aspacem   7: RSVN 1ffe801000-1ffeffefff 8380416 ----- SmUpper\n"
    "--60:1: aspacem   8: anon 1ffefff000-1fff000fff    8192 rw---\n"
    "--60:1: aspacem >>>\n"
    "program output on stderr\n"
    "--61:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client startup (2 segments)\n"
    "--61:1: aspacem (1,49,7) /usr/bin/true\n"
    "--61:1: aspacem (2,64,7) /lib/ld.so\n"
    "--61:1: aspacem   1: file 0000108000-0000109fff    8192 r---- d=0xfe00 i=4 o=4096 (1,49)\n"
    "--61:1: aspacem   2: file 0004000000-0004001fff    8192 r---- d=0xfe00 i=2 o=0  (2,64)\n"
    "--61:1: aspacem >>>\n";

TEST(TraceLackeySyscalls, ExecChainsLogsAndLayoutsBecomeVmaInit) {
  ScratchDir d;
  const std::string parent =
      "==60== Command: /tmp/p\n"
      "==60== Parent PID: 1\n"
      " L 108000,4\n"
      "SYSCALL[60,1](57) sys_fork ( )   fork: process 60 created child 61\n"
      " --> [pre-success] Success(0x3d) \n"
      "SYSCALL[60,1](61) sys_wait4 ( 4294967295, 0x1fff00050c, 0, 0x0 ) --> [async] ... \n"
      "SYSCALL[60,1](61) ... [async] --> Success(0x3d) \n"
      "SYSCALL[60,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";
  const std::string child =
      "==61== Command: /tmp/p\n"
      "==61== Parent PID: 60\n"
      " --> [pre-success] Success(0x0) \n"
      " S 1fff000000,8\n"
      "SYSCALL[61,1](59) sys_execve ( 0x10a012(/bin/true), 0x1fff000450, 0x1fff000648 )";
  const std::string image =
      "==61== Command: /bin/true\n"
      "==61== Parent PID: 60\n"
      "I  04000010,4\n"
      "SYSCALL[61,1](231) exit_group( 1 ) --> [pre-success] Success(0x0) \n";
  LackeyImportOptions o;
  o.maps = d.write("maps.txt", kMaps);
  auto r = open_lackey_logs({d.write("lk.61.1.log", image), d.write("lk.60.1.log", parent),
                             d.write("lk.61.2.log", child)},
                            o);
  EXPECT_EQ(as_text(*r),
            "START pid=60 name=/tmp/p\n"
            "FILE pid=60 file_id=1 path=/tmp/p size=4096\n"
            "VMA_INIT pid=60 start=0x108000 end=0x109000 prot=r-x kind=file file_id=1\n"
            "FILE pid=60 file_id=2 path=/lib/ld.so size=8192\n"
            "VMA_INIT pid=60 start=0x4000000 end=0x4002000 prot=r-- kind=file file_id=2\n"
            "VMA_INIT pid=60 start=0x4035000 end=0x4036000 prot=rwx kind=brk\n"
            "VMA_INIT pid=60 start=0x1ffefff000 end=0x1fff001000 prot=rw- kind=stack "
            "grows_down=1 max_size=0x800000\n"
            "R 0x108000 4\n"
            "PROC_CREATE pid=60 child_pid=61\n"
            "@61 W 0x1fff000000 8\n"
            "FILE pid=61 file_id=3 path=/usr/bin/true size=12288\n"
            "EXEC pid=61 file_id=3 interp_file_id=2 argv0=/bin/true\n"
            "VMA_INIT pid=61 start=0x108000 end=0x10a000 prot=r-- kind=file file_id=3 "
            "offset=0x1000\n"
            "VMA_INIT pid=61 start=0x4000000 end=0x4002000 prot=r-- kind=file file_id=2\n"
            "X 0x4000010 4\n"
            "EXIT pid=61 code=1\n"
            "WAIT pid=60 ret=61\n"
            "EXIT pid=60\n");
}

TEST(TraceLackeySyscalls, FilesAreSizedByTheirLargestExtentAndDupsShareThem) {
  ScratchDir d;
  const std::string log =
      "==9== Command: ./x\n"
      "SYSCALL[9,1](257) sys_openat ( 4294967196, 0x10a004(/d/f, x), 578, 420 ) --> [async] ... "
      "\n"
      "SYSCALL[9,1](257) ... [async] --> Success(0x3) \n"
      "SYSCALL[9,1](1) sys_write ( 3, 0x1000, 4096 ) --> [async] ... \n"
      "SYSCALL[9,1](1) ... [async] --> Success(0x1000) \n"
      "SYSCALL[9,1](1) sys_write ( 3, 0x1000, 4096 ) --> [async] ... \n"
      "SYSCALL[9,1](1) ... [async] --> Success(0x800) \n"
      "SYSCALL[9,1](18) sys_pwrite64 ( 3, 0x10a012, 3, 100 ) --> [async] ... \n"
      "SYSCALL[9,1](18) ... [async] --> Success(0x3) \n"
      "SYSCALL[9,1](33) sys_dup2 ( 3, 1 )[sync] --> Success(0x1) \n"
      "SYSCALL[9,1](8) sys_lseek ( 1, -6, 2 )[sync] --> Success(0x17fa) \n"
      "SYSCALL[9,1](257) sys_openat ( 4294967196, 0x10a004(/nope), 0 ) --> [async] ... \n"
      "SYSCALL[9,1](257) ... [async] --> Failure(0x2) \n"
      "SYSCALL[9,1](262) sys_newfstatat ( 3, 0x4029c99(), 0x1ffefff700 )[sync] --> "
      "Success(0x0) \n"
      "SYSCALL[9,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";
  auto r = open_trace(d.write("f.log", log));
  // 4096 + 2048 written: the extent 6144 (the lseek to the end says so too).
  EXPECT_EQ(as_text(*r),
            "START pid=9 name=./x\n"
            "FILE pid=9 file_id=1 path=\"/d/f, x\" size=6144\n"
            "OPEN pid=9 file_id=1 flags=O_RDWR|O_CREAT|O_TRUNC ret=3\n"
            "RW pid=9 op=write fd=3 len=4096 buf=0x1000 ret=4096\n"
            "RW pid=9 op=write fd=3 len=4096 buf=0x1000 ret=2048\n"
            "RW pid=9 op=pwrite fd=3 offset=100 len=3 buf=0x10a012 ret=3\n"
            "OPEN pid=9 file_id=1 flags=O_RDWR ret=1\n"
            "LSEEK pid=9 fd=1 offset=-6 whence=SEEK_END ret=6138\n"
            "EXIT pid=9\n");
  const LackeyImportReport* rep = lackey_import_report(*r);
  ASSERT_NE(rep, nullptr);
  EXPECT_EQ(rep->failed_opens, 1u);
  EXPECT_EQ(rep->ignored.at("sys_newfstatat(262)"), 1u);
}

TEST(TraceLackeySyscalls, ALogWithoutExitGetsOneAndASignalSetsItsCode) {
  ScratchDir d;
  auto r = open_trace(d.write("k.log",
                              "==5== Command: ./k\n"
                              "SYSCALL[5,1](12) sys_brk ( 0x0 ) --> [pre-success] "
                              "Success(0x4035000) \n"
                              "==5== Process terminating with default action of signal 11 "
                              "(SIGSEGV)\n"));
  EXPECT_EQ(as_text(*r),
            "START pid=5 name=./k\n"
            "BRK pid=5 req=0x0 ret=0x4035000\n"
            "EXIT pid=5 code=139\n");
  EXPECT_EQ(lackey_import_report(*r)->synthesized_exits, 1u);
}

std::string import_error(const std::string& log) {
  ScratchDir d;
  const std::string path = d.write("e.log", log);
  std::string msg = error_of([&] { testing::read_all(*open_trace(path, "lackey")); });
  return msg.rfind(path, 0) == 0 ? "FILE" + msg.substr(path.size()) : msg;
}

TEST(TraceLackeySyscalls, MalformedSystemCallLinesAreErrorsWithLineAndColumn) {
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[5,x](9) sys_mmap ( )\n"),
            "FILE:line 2: expected SYSCALL[PID,TID](NR) at column 1, got 'SYSCALL[5,x](9) "
            "sys_mmap ( )'");
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[6,1](12) sys_brk ( 0x0 ) --> "
                         "[pre-success] Success(0x0)\n"),
            "FILE:line 2: a system call of process 6 in the log of process 5 at column 9, got "
            "'6,1](12) sys_brk ( 0x0 ) --> [pr...'");
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[5,1](12) sys_brk ( 0x0 ) --> "
                         "[pre-success] Sucess(0x0)\n"),
            "FILE:line 2: expected Success(0x...) or Failure(0x...) at column 52, got "
            "'Sucess(0x0)'");
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[5,1](9) sys_mmap ( 0x0, 4096 ) --> "
                         "[pre-success] Success(0x1000)\n"),
            "FILE:line 2: malformed argument 3 of sys_mmap (0x0, 4096)");
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[5,1](12) sys_brk ( 0x0 ) --> "
                         "[pre-success] Success(0x0)\n L 10,4\nhello\n"),
            "FILE:line 4: expected a lackey record (I, L, S or M), a SYSCALL line or a ==PID== "
            "line at column 1, got 'hello'");
  EXPECT_EQ(import_error("==5== Command: x\nSYSCALL[5,1](12) sys_brk ( 0x0 ) --> "
                         "[pre-success] Success(0x0)\n L 10,4097\n"),
            "FILE:line 3: size must be 0..4096 at column 7, got '4097'");
  // A log whose first MiB has no system call is memory-only.
  std::string big;
  while (big.size() <= (size_t{1} << 20)) big += " L 1000,8\n";
  const size_t lines = big.size() / 10;
  EXPECT_EQ(import_error(big + "SYSCALL[5,1](12) sys_brk ( 0x0 ) --> Success(0x0)\n"),
            "FILE:line " + std::to_string(lines + 1) +
                ": a system call line in a log read without system calls (none in its first 1 "
                "MiB); import it with `mmusim-trace import` at column 1, got 'SYSCALL[5,1](12) "
                "sys_brk ( 0x0 )...'");
}

TEST(TraceLackeySyscalls, ExtentsOfTheSizePassDoNotDependOnTheMerge) {
  // The size pass runs the same import without records: the FILE sizes are
  // those of the whole trace whatever the chunk.
  ScratchDir d;
  for (uint64_t chunk : {1, 3, 10000}) {
    LackeyImportOptions o;
    o.chunk = chunk;
    auto r = open_lackey_logs({d.write("c", kChildLog), d.write("p", kParentLog)}, o);
    const std::string t = as_text(*r, 2);
    EXPECT_NE(t.find("size=65536"), std::string::npos) << chunk;
    // The child never starts before its PROC_CREATE.
    EXPECT_LT(t.find("PROC_CREATE"), t.find("@25824")) << chunk;
    EXPECT_LT(t.find("EXIT pid=25824"), t.find("WAIT pid=25554")) << chunk;
  }
}

}  // namespace
}  // namespace mmusim
