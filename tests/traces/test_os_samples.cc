// The shipped OS-event material: every example in traces/examples/ reads and
// together they use every event kind; the committed capture of the sample
// program holds its processes and calls; its native counts file is complete;
// mmusim-trace convert/head/info/import on task traces.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "tests/traces/trace_test_util.h"
#include "traces/os_event_format.h"

namespace mmusim {
namespace {

using testing::read_file_bytes;
using testing::ScratchDir;

const std::string kSource = MMUSIM_SOURCE_DIR;

struct Read {
  std::vector<TraceRecord> records;
  std::vector<OsEvent> events;
  std::vector<TraceReader::TaskKey> tasks;
  bool has_tasks = false;
};
Read read_everything(const std::string& path) {
  Read out;
  auto r = open_trace(path);
  std::vector<TraceRecord> buf(4096);
  for (size_t n; (n = r->read(buf.data(), buf.size())) > 0;) {
    r->take_events(out.events);
    out.records.insert(out.records.end(), buf.begin(), buf.begin() + n);
  }
  out.tasks = r->tasks();
  out.has_tasks = r->has_tasks();
  return out;
}

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  const std::string dir = kSource + "/traces/examples";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".txt")
        files.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(TraceOsSamples, EveryExampleReadsAndTheExamplesUseEveryEventKind) {
  const auto files = example_files();
  ASSERT_GE(files.size(), 7u);  // four segment examples, three with OS events
  std::set<size_t> kinds;
  for (const auto& f : files) {
    Read r;
    ASSERT_NO_THROW(r = read_everything(f)) << f;
    EXPECT_FALSE(r.records.empty()) << f;
    for (const auto& e : r.events) kinds.insert(e.body.index());
    if (f.find("/os_") != std::string::npos) {
      EXPECT_TRUE(r.has_tasks) << f;
    }
  }
  for (size_t k = 0; k < std::variant_size_v<OsEventBody>; ++k) {
    EXPECT_EQ(kinds.count(k), 1u) << "no example has " << os_event_name(k);
  }
}

TEST(TraceOsSamples, ForkCowFileExampleHasTheScenarioItDescribes) {
  const Read r = read_everything(kSource + "/traces/examples/os_fork_cow_file.txt");
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].pid, 100u);
  EXPECT_EQ(r.tasks[1].pid, 101u);
  // The child's records come between its PROC_CREATE and its EXIT.
  std::vector<std::string> kinds;
  for (const auto& e : r.events) kinds.emplace_back(os_event_name(e));
  const auto at = [&](const std::string& k) {
    return std::find(kinds.begin(), kinds.end(), k) - kinds.begin();
  };
  EXPECT_LT(at("PROC_CREATE"), at("EXIT"));
  EXPECT_LT(at("EXIT"), at("WAIT"));
  EXPECT_EQ(r.events.size(), 20u);
  EXPECT_EQ(r.records.size(), 31u);
}

TEST(TraceOsSamples, TheCommittedForkCowFileCaptureHoldsBothProcesses) {
  const Read r = read_everything(kSource + "/traces/fork_cow_file.bin.zst");
  ASSERT_TRUE(r.has_tasks);
  ASSERT_EQ(r.tasks.size(), 2u);  // the parent and the forked child, one thread each
  EXPECT_EQ(r.tasks[0].pid, r.tasks[0].tid);
  EXPECT_EQ(r.tasks[1].pid, r.tasks[1].tid);
  const uint32_t parent = r.tasks[0].pid, child = r.tasks[1].pid;
  std::map<std::string, int> n;
  const FileEvent* data = nullptr;
  int shared_maps = 0, private_maps = 0;
  for (const auto& e : r.events) {
    ++n[std::string(os_event_name(e))];
    if (const auto* f = std::get_if<FileEvent>(&e.body)) {
      if (f->path == "/tmp/mmusim/fork_cow_file.dat") data = f;
    }
    if (const auto* m = std::get_if<MmapEvent>(&e.body)) {
      if (data != nullptr && m->file_id == data->file_id) {
        EXPECT_EQ(m->len, 65536u);
        ((m->flags & linux_abi::kMapTypeMask) == linux_abi::kMapShared ? shared_maps
                                                                       : private_maps)++;
      }
    }
    if (const auto* p = std::get_if<ProcCreateEvent>(&e.body)) {
      EXPECT_EQ(e.pid, parent);
      EXPECT_EQ(p->child_pid, child);
      EXPECT_EQ(p->kind, ProcCreateEvent::Kind::kFork);
    }
    if (const auto* w = std::get_if<WaitEvent>(&e.body)) {
      EXPECT_EQ(w->ret, child);
    }
  }
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->size, 65536u);  // 16 writes of 4 KiB
  EXPECT_EQ(shared_maps, 1);
  EXPECT_EQ(private_maps, 1);
  EXPECT_EQ(n["START"], 1);
  EXPECT_EQ(n["PROC_CREATE"], 1);
  EXPECT_EQ(n["WAIT"], 1);
  EXPECT_EQ(n["EXIT"], 2);
  EXPECT_GE(n["VMA_INIT"], 8);                   // program, ld.so, brk and stack
  EXPECT_EQ(r.events.front().body.index(), 1u);  // START first
  // Records of the child exist, all after the PROC_CREATE.
  size_t child_records = 0;
  bool created = false;
  size_t event = 0;
  for (const auto& rec : r.records) {
    if (trace_flags::op_of(rec.flags) == trace_flags::kOpEvent) {
      created = created || std::holds_alternative<ProcCreateEvent>(r.events[event].body);
      ++event;
    } else if (rec.cpu == 1) {
      EXPECT_TRUE(created);
      ++child_records;
    }
  }
  EXPECT_GT(child_records, 100u);
  EXPECT_LT(read_file_bytes(kSource + "/traces/fork_cow_file.bin.zst").size(), 200000u);
}

TEST(TraceOsSamples, TheNativeCountsFileHasEveryKey) {
  std::map<std::string, std::string> kv;
  const std::string text = read_file_bytes(kSource + "/traces/fork_cow_file.counts");
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    const std::string line = text.substr(b, e - b);
    b = e + 1;
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* key : {"minflt", "majflt", "minflt_range", "runs", "command", "capture",
                          "valgrind", "kernel", "date"}) {
    EXPECT_EQ(kv.count(key), 1u) << key;
  }
  EXPECT_GT(std::stoul(kv["minflt"]), 0u);
  EXPECT_EQ(kv["valgrind"].rfind("valgrind-", 0), 0u);
}

// ---- the tool on task traces ----

struct ToolRun {
  int status;
  std::string out, err;
};
ToolRun tool(const ScratchDir& d, const std::string& args) {
  const std::string cmd = std::string(MMUSIM_TRACE_TOOL) + " " + args + " 2>" + d.path("stderr");
  ToolRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_file_bytes(d.path("stderr"));
  return r;
}

// ---- count_faults, the native side of scripts/validate-faults ----

// Runs `count_faults OUT ARGS` through the shell; the counts file's text in
// `counts` ("" when it was not written).
ToolRun count_faults(const ScratchDir& d, const std::string& args, std::string* counts) {
  const std::string out = d.path("counts");
  std::remove(out.c_str());
  const std::string cmd =
      std::string(MMUSIM_COUNT_FAULTS) + " " + out + " " + args + " 2>" + d.path("stderr");
  ToolRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_file_bytes(d.path("stderr"));
  FILE* f = std::fopen(out.c_str(), "r");
  counts->clear();
  if (f != nullptr) {
    std::fclose(f);
    *counts = read_file_bytes(out);
  }
  return r;
}

// minflt + majflt + pre_exec of a counts file; fails the test on another format.
uint64_t total_with_pre_exec(const std::string& counts, uint64_t* pre_exec) {
  unsigned long minflt = 0, majflt = 0, pre = 0;
  EXPECT_EQ(
      std::sscanf(counts.c_str(), "minflt=%lu\nmajflt=%lu\npre_exec=%lu\n", &minflt, &majflt, &pre),
      3)
      << counts;
  EXPECT_EQ(std::count(counts.begin(), counts.end(), '\n'), 3) << counts;
  *pre_exec = pre;
  return minflt + majflt;
}

// The command's exit status comes back (128 + signal when killed), with the
// counts written; a command that cannot run is 127 and no counts; no
// command is a usage error.
TEST(CountFaults, PassesTheCommandsStatusOn) {
  ScratchDir d;
  std::string counts;
  uint64_t pre = 0;
  ToolRun r = count_faults(d, "/bin/sh -c 'echo out; exit 3'", &counts);
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.out, "out\n");  // the command's stdout is count_faults's
  EXPECT_GT(total_with_pre_exec(counts, &pre), 0U);
  EXPECT_GT(pre, 0U);  // the forked child's copy-on-write faults before execve
  r = count_faults(d, "/bin/sh -c 'kill -9 $$'", &counts);
  EXPECT_EQ(r.status, 128 + 9);
  EXPECT_FALSE(counts.empty());
  r = count_faults(d, "/nonexistent/program", &counts);
  EXPECT_EQ(r.status, 127);
  EXPECT_EQ(r.err, "count_faults: /nonexistent/program: No such file or directory\n");
  EXPECT_TRUE(counts.empty());
  r = count_faults(d, "", &counts);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "usage: count_faults OUT_FILE COMMAND [ARGS...]\n");
}

// What the counts hold, through nesting: the outer count_faults counts the
// inner one from its execve on, which includes the inner one's child whole
// (before its execve and after). So outer = inner's own faults + inner's
// pre_exec + inner's count: the inner count leaves out exactly its child's
// faults before execve, and the difference is count_faults's own work.
TEST(CountFaults, LeavesOutOnlyTheFaultsBeforeExecve) {
  ScratchDir d;
  const std::string inner = d.path("inner");
  std::string outer;
  const ToolRun r = count_faults(
      d, std::string(MMUSIM_COUNT_FAULTS) + " " + inner + " /bin/sh -c 'exit 0'", &outer);
  ASSERT_EQ(r.status, 0) << r.err;
  uint64_t outer_pre = 0, inner_pre = 0;
  const uint64_t outer_total = total_with_pre_exec(outer, &outer_pre);
  const uint64_t inner_total = total_with_pre_exec(read_file_bytes(inner), &inner_pre);
  ASSERT_GT(outer_total, inner_total + inner_pre);
  // count_faults itself (a small C program: loader, libc start-up, fork)
  // takes far fewer faults than it leaves out and counts together.
  EXPECT_LT(outer_total - (inner_total + inner_pre), 200U);
}

const char* const kTasks =
    "START pid=1 name=a\n"
    "R 0x1000 8\n"
    "PROC_CREATE pid=1 child_pid=2\n"
    "@2 W 0x1000 8\n"
    "EXIT pid=2\n"
    "WAIT pid=1 child_pid=2 ret=2\n"
    "X 0x2000 4\n";

TEST(TraceOsSamples, ToolConvertsHeadsAndCountsTaskTraces) {
  ScratchDir d;
  const std::string in = d.write("t.txt", kTasks);
  ToolRun r = tool(d, "info " + in);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.find('\n') + 1),
            "format: text, compression: none\n"
            "records: 7 (R 1, W 1, X 1, events 4)\n"
            "events: 4 (START 1, PROC_CREATE 1, EXIT 1, WAIT 1)\n"
            "tasks: 2 (1: 5, 2: 2)\n"
            "address range: 0x1000 .. 0x2000\n"
            "distinct pages: 4K 2, 2M 1, 1G 1\n"
            "footprint: 8192 bytes (0.0 MiB)\n"
            "reuse distance (4K pages, LRU stack): cold 2, reuses 1, median 0, p90 0, max 0\n");
  r = tool(d, "convert " + in + " " + d.path("t.bin.zst"));
  EXPECT_EQ(r.status, 0) << r.err;
  r = tool(d, "head -n 5 " + d.path("t.bin.zst"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "START pid=1 name=a\n"
            "R 0x1000 8\n"
            "PROC_CREATE pid=1 child_pid=2\n"
            "@2 W 0x1000 8\n"
            "EXIT pid=2\n");
  r = tool(d, "convert " + d.path("t.bin.zst") + " " + d.path("back.txt"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file_bytes(d.path("back.txt")), kTasks);
}

TEST(TraceOsSamples, ToolImportsLogsAndReportsWhatItDropped) {
  ScratchDir d;
  const std::string log = d.write("lk.5.1.log",
                                  "==5== Command: ./x\n"
                                  " L 1000,4\n"
                                  "SYSCALL[5,1](21) sys_access ( 0x402a2a0(/etc/ld.so.preload), "
                                  "4 )[sync] --> Failure(0x2) \n"
                                  "SYSCALL[5,1](231) exit_group( 0 ) --> [pre-success] "
                                  "Success(0x0) \n");
  ToolRun r = tool(d, "import " + log + " -o " + d.path("o.txt"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file_bytes(d.path("o.txt")),
            "# mmusim-trace import\nSTART pid=5 name=./x\nR 0x1000 4\nEXIT pid=5\n");
  EXPECT_EQ(r.err,
            "mmusim-trace: import: 1 log(s), 1 process(es); system calls without an event: 1 "
            "(sys_access(21) 1); failed opens 0, other failed calls 0, exits added 0, threads of "
            "unknown tid 0, unmatched results 0\n");
  r = tool(d, "import -o " + d.path("o.txt"));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "mmusim-trace: expected at least one argument (see mmusim-trace --help)\n");
  r = tool(d,
           "import " + d.write("bad.log", "==5== x\nSYSCALL[5](1) x\n") + " -o " + d.path("o.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mmusim-trace: " + d.path("bad.log") +
                       ":line 2: expected SYSCALL[PID,TID](NR) at column 1, got 'SYSCALL[5](1) "
                       "x'\n");
}

}  // namespace
}  // namespace mmusim
