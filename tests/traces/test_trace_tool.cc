// The mmusim-trace tool: subcommands, exit codes, one-line errors, atomic output.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "tests/traces/trace_test_util.h"

namespace mmusim {
namespace {

using testing::read_file_bytes;
using testing::ScratchDir;

struct ToolRun {
  int status;
  std::string out, err;
};

ToolRun run(const ScratchDir& d, const std::string& args, const std::string& stdin_file = "") {
  std::string cmd = std::string(MMUSIM_TRACE_TOOL) + " " + args + " 2>" + d.path("stderr");
  if (!stdin_file.empty()) cmd += " <" + stdin_file;
  ToolRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_file_bytes(d.path("stderr"));
  return r;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

const char* const kTiny =
    "# tiny trace: pages A B C A B, cpu 1 once\n"
    "R 0xa000 8\n"
    "W 0xb000 8 1\n"
    "X 0xc000 4\n"
    "R 0xa010 8\n"
    "R 0x40000000b000 8\n"
    "R 0xb008 8\n";

TEST(TraceTool, InfoPrintsCountsPagesAndReuse) {
  ScratchDir d;
  ToolRun r = run(d, "info " + d.write("tiny.txt", kTiny));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.find('\n') + 1),
            "format: text, compression: none\n"
            "records: 6 (R 4, W 1, X 1)\n"
            "cpus: 2 (cpu 0: 5, cpu 1: 1)\n"
            "address range: 0xa000 .. 0x40000000b000\n"
            "distinct pages: 4K 4, 2M 2, 1G 2\n"
            "footprint: 16384 bytes (0.0 MiB)\n"
            "reuse distance (4K pages, LRU stack): cold 4, reuses 2, median 2, p90 3, max 3\n");
}

// Binary output is version 3 unless --binary-version asks for the 16-byte
// records; info names the version; the records are the same.
TEST(TraceTool, BinaryVersionOption) {
  ScratchDir d;
  const std::string in = d.write("tiny.txt", kTiny);
  ASSERT_EQ(run(d, "convert " + in + " " + d.path("v3.bin")).status, 0);
  ASSERT_EQ(run(d, "convert " + in + " " + d.path("v1.bin") + " --binary-version 1").status, 0);
  ASSERT_EQ(run(d, "convert " + in + " " + d.path("v2.bin") + " --binary-version=2").status, 0);
  EXPECT_EQ(read_file_bytes(d.path("v3.bin"))[8], 3);
  EXPECT_EQ(read_file_bytes(d.path("v1.bin"))[8], 1);
  EXPECT_EQ(read_file_bytes(d.path("v1.bin")), read_file_bytes(d.path("v2.bin")));  // no events
  EXPECT_EQ(read_file_bytes(d.path("v1.bin")).size(), 32u + 16u * 6);
  // tag + delta (3 bytes), + cpu (1), + cpu (1), tag + delta 8, tag + 7-byte deltas
  // (2^46 away and back): 4 + 5 + 5 + 2 + 8 + 8 (traces/README.md, "version 3")
  EXPECT_EQ(read_file_bytes(d.path("v3.bin")).size(), 32u + 32u);
  ToolRun i = run(d, "info " + d.path("v3.bin"));
  EXPECT_NE(i.out.find("format: binary version 3, compression: none\n"), std::string::npos);
  EXPECT_EQ(run(d, "head " + d.path("v3.bin")).out, run(d, "head " + d.path("v1.bin")).out);
  ToolRun bad = run(d, "convert " + in + " " + d.path("x.bin") + " --binary-version 4");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err,
            "mmusim-trace: --binary-version: expected 1, 2 or 3, got '4' (see mmusim-trace "
            "--help)\n");
  bad = run(d, "convert " + in + " " + d.path("x.txt") + " --binary-version 1");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err,
            "mmusim-trace: --binary-version: the output is not binary (see mmusim-trace "
            "--help)\n");
}

TEST(TraceTool, ConvertHeadAndFormatsByExtension) {
  ScratchDir d;
  std::string in = d.write("tiny.txt", kTiny);
  ASSERT_EQ(run(d, "convert " + in + " " + d.path("t.bin.zst")).status, 0);
  ASSERT_EQ(run(d, "convert " + d.path("t.bin.zst") + " " + d.path("t.trace.gz")).status, 0);
  ToolRun h = run(d, "head " + d.path("t.trace.gz") + " -n 3");
  EXPECT_EQ(h.status, 0) << h.err;
  EXPECT_EQ(h.out, "R 0xa000 8\nW 0xb000 8 1\nX 0xc000 4\n");
  ToolRun all = run(d, "head " + d.path("t.bin.zst") + " -n 100");
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 6);
  EXPECT_EQ(run(d, "convert " + in + " " + d.path("x.dat")).status, 2);
  ASSERT_EQ(run(d, "convert " + in + " " + d.path("x.dat") + " --to binary --xz").status, 0);
  EXPECT_EQ(read_file_bytes(d.path("x.dat")).substr(0, 6), std::string("\xfd"
                                                                       "7zXZ\0",
                                                                       6));
}

// --to lackey: valgrind's access lines, read back as the same records; the
// comment as ==0== lines; a segment record or an OS event is refused.
TEST(TraceTool, ConvertsToLackeyLines) {
  ScratchDir d;
  const std::string in = d.write("k.txt", "R 0xa000 8\nW 0x7fff0000b010 4\nX 0x401000 15\n");
  ToolRun r =
      run(d, "convert " + in + " " + d.path("k.log") + " --to lackey --comment 'two\nlines'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file_bytes(d.path("k.log")),
            "==0== two\n==0== lines\n L 0000a000,8\n S 7fff0000b010,4\nI  00401000,15\n");
  const std::string gen = "gen:zipf,count=5000,footprint=1G,writes=0.4,seed=2";
  ASSERT_EQ(run(d, "convert " + gen + " " + d.path("z.log") + " --to lackey").status, 0);
  const auto a = testing::read_all(*open_trace(gen));
  const auto b = testing::read_all(*open_trace(d.path("z.log")));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(testing::same(a[i], b[i])) << i;
  r = run(d, "convert " + d.write("s.txt", "R 0x10 8\nLOAD DS 0x002b\n") + " " + d.path("s.log") +
                 " --to lackey");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mmusim-trace: " + d.path("s.log.tmp") +
                       ": record 2: a segment or OS-event record: lackey output holds memory "
                       "accesses only\n");
}

TEST(TraceTool, FailedConvertLeavesNoOutputAndPrintsOneLine) {
  ScratchDir d;
  std::string in = d.write("bad.txt", "R 1\nW 2\nR 3 9999\n");
  ToolRun r = run(d, "convert " + in + " " + d.path("out.bin"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "mmusim-trace: " + in + ":line 3: size must be 0..4096 at column 5, got '9999'\n");
  EXPECT_FALSE(exists(d.path("out.bin")));
  EXPECT_FALSE(exists(d.path("out.bin.tmp")));
  r = run(d, "head " + d.path("missing.bin"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mmusim-trace: " + d.path("missing.bin") +
                       ": cannot open: No such file or directory\n");
  r = run(d, "frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "mmusim-trace: unknown subcommand 'frobnicate' (see mmusim-trace --help)\n");
}

// An interrupted convert (SIGINT, SIGTERM) removes OUT.tmp and ends by the
// signal; OUT never appears.
TEST(TraceTool, InterruptedConvertLeavesNoTemporaryFile) {
  for (const int sig : {SIGINT, SIGTERM}) {
    ScratchDir d;
    const std::string out = d.path("big.bin.zst");
    const pid_t pid = fork();
    if (pid == 0) {
      execl(MMUSIM_TRACE_TOOL, MMUSIM_TRACE_TOOL, "convert",
            "gen:uniform,count=4000000000,footprint=1G", out.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 6000 && !exists(out + ".tmp"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(exists(out + ".tmp"));  // the copy is under way
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFSIGNALED(st)) << WEXITSTATUS(st);
    EXPECT_EQ(WTERMSIG(st), sig);
    EXPECT_FALSE(exists(out + ".tmp"));
    EXPECT_FALSE(exists(out));
  }
}

TEST(TraceTool, ConvertsLackeyFromStdinWithLimitAndComment) {
  ScratchDir d;
  std::string lk = d.write("l.out", "==1== Lackey\nI  1000,4\n M 2000,8\n S 3000,8\n L 4000,8\n");
  ToolRun r =
      run(d, "convert - " + d.path("l.bin") + " --format lackey --limit 3 --comment 'ls -l'", lk);
  ASSERT_EQ(r.status, 0) << r.err;
  ToolRun h = run(d, "head " + d.path("l.bin"));
  EXPECT_EQ(h.out, "X 0x1000 4\nR 0x2000 8\nW 0x2000 8\n");
  ToolRun i = run(d, "info " + d.path("l.bin"));
  EXPECT_NE(i.out.find("\ncomment: ls -l\n"), std::string::npos) << i.out;
}

TEST(TraceTool, ReadsTheImportersByContentOrByFormatName) {
  ScratchDir d;
  std::string pin = d.write("p.out", "0x401000: R 0x1000\n0x401004: W 0x2000 8\n#eof\n");
  std::string din = d.write("t.din", "2 401000\n0 1000 8\n4 0\n");
  ToolRun i = run(d, "info " + pin);
  EXPECT_NE(i.out.find("format: pin, compression: none\nrecords: 2 (R 1, W 1, X 0)"),
            std::string::npos)
      << i.out;
  EXPECT_EQ(run(d, "head " + din).out, "X 0x401000\nR 0x1000 8\n");
  EXPECT_EQ(run(d, "head - --format din", din).out, "X 0x401000\nR 0x1000 8\n");
  ToolRun bad = run(d, "head " + din + " --format pin");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err, "mmusim-trace: " + din +
                         ":line 1: expected ':' after the instruction address at column 2, got "
                         "' 401000'\n");
  ToolRun unknown = run(d, "head " + din + " --format dinero");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.err,
            "mmusim-trace: unknown trace format 'dinero' (expected auto, text, binary, lackey, "
            "champsim, pin or din)\n");
}

TEST(TraceTool, GenWritesTheSpecIntoTheHeader) {
  ScratchDir d;
  ToolRun r = run(d, "gen uniform --count 1000 --footprint 1M --seed 3 -o " + d.path("g.bin.zst"));
  ASSERT_EQ(r.status, 0) << r.err;
  ToolRun i = run(d, "info " + d.path("g.bin.zst"));
  EXPECT_NE(i.out.find("comment: gen:uniform,count=1000,footprint=1048576,"), std::string::npos)
      << i.out;
  EXPECT_NE(i.out.find("records: 1000 (R 1000, W 0, X 0)"), std::string::npos) << i.out;
  ToolRun h1 = run(d, "head " + d.path("g.bin.zst") + " -n 5");
  ToolRun h2 = run(d, "head gen:uniform,count=5,footprint=1M,seed=3");
  EXPECT_EQ(h1.out, h2.out);
  EXPECT_EQ(run(d, "gen uniform --colour red -o " + d.path("x.bin")).status, 2);
}

}  // namespace
}  // namespace mmusim
