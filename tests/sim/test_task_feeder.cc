// The task feeder's per-task queues (models/sim/task_feeder.h): records
// handed out and given back (a task that blocks gives back the rest of its
// batch, a late fault its replay record) come out again first, in order,
// whatever the queue's room, its compaction and the reads behind it.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "models/sim/task_feeder.h"
#include "tests/traces/trace_test_util.h"
#include "traces/trace_reader.h"

namespace mmusim {
namespace {

using testing::ScratchDir;

// One process (pid 100) reading `n` distinct addresses, record i at
// kBase + 8 i, after its START event.
constexpr uint64_t kBase = 0x10000000;
std::string one_task_trace(uint64_t n) {
  std::ostringstream t;
  t << std::hex << "START pid=100 name=t\n";
  for (uint64_t i = 0; i < n; ++i) t << "R 0x" << kBase + 8 * i << " 8\n";
  return t.str();
}

struct Feeder {
  ScratchDir dir;
  std::unique_ptr<TaskFeeder> f;
  TaskId task{};
  explicit Feeder(uint64_t n) {
    auto r = open_trace(dir.write("t.txt", one_task_trace(n)));
    std::vector<TraceRecord> first(4096);
    first.resize(r->read(first.data(), first.size()));
    f = std::make_unique<TaskFeeder>(std::move(r), first.data(), first.size(), 0);
    std::vector<TaskId> fresh;
    f->new_tasks(fresh, true);
    EXPECT_EQ(fresh.size(), 1U);
    if (!fresh.empty()) task = fresh[0];
  }
};

bool is_access(const TraceRecord& r) {
  return trace_flags::op_of(r.flags) == trace_flags::kOpAccess;
}

// A task that blocks after every `use` records of its batch of `batch`:
// it gives back the rest each time. Every access comes out once, in order.
void expect_in_order(uint64_t n, size_t batch, size_t use) {
  Feeder x(n);
  std::vector<TraceRecord> buf(batch);
  uint64_t next_access = 0;
  for (;;) {
    const size_t got = x.f->next(x.task, buf.data(), batch);
    if (got == 0) break;
    const size_t used = std::min(use, got);
    for (size_t i = 0; i < used; ++i) {
      if (!is_access(buf[i])) continue;  // the START event
      ASSERT_EQ(buf[i].addr, kBase + 8 * next_access) << "batch " << batch << " use " << use;
      ++next_access;
    }
    x.f->unread(x.task, buf.data() + used, got - used);
  }
  EXPECT_EQ(next_access, n);
  EXPECT_EQ(x.f->left_over(), 0U);
}

TEST(TaskFeeder, RecordsGivenBackComeOutFirstInOrder) {
  expect_in_order(20000, 1024, 1);     // a major fault per dispatch: compaction on the way
  expect_in_order(20000, 1024, 1023);  // one record back each time
  expect_in_order(9000, 4096, 3000);
  expect_in_order(5000, 7, 3);
}

// A record given back need not be one handed out (a late fault's replay
// record): it comes out first, then the rest as before; giving back more
// than the queue has room for in front (after it ran dry) works too.
TEST(TaskFeeder, ARecordThatWasNotHandedOutComesOutFirst) {
  Feeder x(3000);
  std::vector<TraceRecord> buf(4096);
  size_t got = x.f->next(x.task, buf.data(), 10);
  ASSERT_EQ(got, 10U);
  TraceRecord replay;
  replay.addr = 0xABC000;
  replay.size = 4;
  x.f->unread(x.task, &replay, 1);
  x.f->unread(x.task, buf.data() + 10, 0);
  got = x.f->next(x.task, buf.data(), 3);
  ASSERT_EQ(got, 3U);
  EXPECT_EQ(buf[0].addr, 0xABC000U);
  EXPECT_EQ(buf[0].size, 4U);
  EXPECT_EQ(buf[1].addr, kBase + 8 * uint64_t{9});  // the START event and 9 accesses were out
  EXPECT_EQ(buf[2].addr, kBase + 8 * uint64_t{10});
  // Everything the queue holds, then 2000 records back: more than its room.
  size_t all = 0;
  while ((got = x.f->next(x.task, buf.data() + all, 4096 - all)) > 0) all += got;
  ASSERT_EQ(all, 3000U - 11U);
  x.f->unread(x.task, buf.data(), 2000);
  got = x.f->next(x.task, buf.data() + 2000, 2000);
  ASSERT_EQ(got, 2000U);
  for (size_t i = 0; i < 2000; ++i) ASSERT_EQ(buf[2000 + i].addr, kBase + 8 * (11 + i)) << i;
}

// Two processes whose records alternate: reading more for one (its queue
// ran dry) appends to the other's queue while that one is half consumed,
// which compacts it. Each still gets its records once, in order.
TEST(TaskFeeder, TwoTasksInterleavedKeepTheirOrderThroughCompaction) {
  constexpr uint64_t kEach = 30000;
  std::ostringstream t;
  t << std::hex << "START pid=100 name=a\nSTART pid=101 name=b\n";
  for (uint64_t i = 0; i < kEach; ++i) {
    t << "@100 R 0x" << kBase + 8 * i << " 8\n@101 R 0x" << 2 * kBase + 8 * i << " 8\n";
  }
  ScratchDir dir;
  auto r = open_trace(dir.write("t.txt", t.str()));
  std::vector<TraceRecord> first(4096);
  first.resize(r->read(first.data(), first.size()));
  TaskFeeder f(std::move(r), first.data(), first.size(), 0);
  std::vector<TaskId> tasks;
  f.new_tasks(tasks, true);
  ASSERT_EQ(tasks.size(), 2U);
  std::vector<TraceRecord> buf(4096);
  uint64_t seen[2] = {0, 0};
  bool done[2] = {false, false};
  // Task k's accesses: pid 100 reads from kBase, pid 101 from 2 kBase.
  const auto check = [&](int k, size_t n) {
    const uint64_t base = tasks[k].pid == 100 ? kBase : 2 * kBase;
    for (size_t i = 0; i < n; ++i) {
      if (!is_access(buf[i])) continue;
      ASSERT_EQ(buf[i].addr, base + 8 * seen[k]) << "task " << k;
      ++seen[k];
    }
  };
  while (!done[0] || !done[1]) {
    // Task 0 takes all it can; task 1 uses 1500 of each batch of 1536.
    if (!done[0]) {
      const size_t n = f.next(tasks[0], buf.data(), 4096);
      if (n == 0) done[0] = true;
      check(0, n);
    }
    if (!done[1]) {
      const size_t n = f.next(tasks[1], buf.data(), 1536);
      if (n == 0) done[1] = true;
      const size_t used = std::min<size_t>(1500, n);
      check(1, used);
      f.unread(tasks[1], buf.data() + used, n - used);
    }
  }
  EXPECT_EQ(seen[0], kEach);
  EXPECT_EQ(seen[1], kEach);
  EXPECT_EQ(f.left_over(), 0U);
}

}  // namespace
}  // namespace mmusim
