// The scheduler's core (plain C++): run-queue order and readiness, blocking
// on keys and on time, exits, and PCID slots as Linux's choose_new_asid
// assigns them (reuse, round-robin takeover with a flush, staleness by
// generation, refresh by a local flush or a received shootdown).
#include <gtest/gtest.h>

#include "models/os/scheduler.h"

namespace mmusim {
namespace {

const TaskId kA{10, 10}, kB{20, 20}, kC{30, 30};

TEST(Scheduler, FifoRunQueueWithReadyTimes) {
  Scheduler s(SchedConfig{}, 1, 1000);
  s.add(kA, Cycle(0));
  s.add(kB, Cycle(500));
  s.add(kA, Cycle(0));  // known: ignored
  EXPECT_EQ(s.stats().tasks, 2U);
  EXPECT_EQ(s.pick(0, Cycle(100)), kA);
  EXPECT_EQ(s.pick(0, Cycle(100)), std::nullopt);  // B is runnable from 500
  EXPECT_EQ(s.earliest_ready(), Cycle(500));
  EXPECT_FALSE(s.others_waiting(Cycle(499)));
  EXPECT_TRUE(s.others_waiting(Cycle(500)));
  s.requeue(kA, Cycle(200));
  EXPECT_EQ(s.pick(0, Cycle(600)), kB);  // B was queued first
  EXPECT_EQ(s.pick(0, Cycle(600)), kA);
}

TEST(Scheduler, BlockWakeSleepAndExit) {
  Scheduler s(SchedConfig{}, 1, 1000);
  s.add(kA, Cycle(0));
  s.add(kB, Cycle(0));
  ASSERT_EQ(s.pick(0, Cycle(0)), kA);
  s.block(kA, 77);
  EXPECT_EQ(s.state(kA), Scheduler::State::kBlocked);
  EXPECT_EQ(s.wake(78, Cycle(10)), 0U);
  EXPECT_EQ(s.wake(77, Cycle(10)), 1U);
  EXPECT_EQ(s.state(kA), Scheduler::State::kRunnable);
  EXPECT_EQ(s.ready(kA), Cycle(10));
  ASSERT_EQ(s.pick(0, Cycle(20)), kB);
  s.block_until(kB, Cycle(5000));  // sleeps on an I/O
  EXPECT_EQ(s.pick(0, Cycle(20)), kA);
  EXPECT_EQ(s.pick(0, Cycle(4999)), std::nullopt);
  EXPECT_EQ(s.pick(0, Cycle(5000)), kB);
  s.exit(kA, false);
  s.exit(kB, true);
  s.exit(kB, true);  // once
  EXPECT_FALSE(s.any_alive());
  EXPECT_EQ(s.stats().exits, 2U);
  EXPECT_EQ(s.stats().killed, 1U);
  EXPECT_EQ(s.stats().io_blocks, 1U);
  EXPECT_EQ(s.stats().wakeups, 1U);
}

// Two slots: a third address space takes slot 0 over (flush); PCIDs are
// slot + 1; a slot whose address space changed meanwhile is flushed again
// unless this CPU already flushed that change.
TEST(Scheduler, PcidSlotsAsChooseNewAsid) {
  SchedConfig c;
  c.pcids = 2;
  Scheduler s(c, 2, 1000);
  auto a = s.choose_pcid(0, kA.pid, 0);
  EXPECT_EQ(a.pcid, Asid(1));
  EXPECT_TRUE(a.flush);
  auto b = s.choose_pcid(0, kB.pid, 0);
  EXPECT_EQ(b.pcid, Asid(2));
  EXPECT_TRUE(b.flush);
  a = s.choose_pcid(0, kA.pid, 0);  // still in slot 0
  EXPECT_EQ(a.pcid, Asid(1));
  EXPECT_FALSE(a.flush);
  auto cc = s.choose_pcid(0, kC.pid, 0);  // round robin: slot 0 changes hands
  EXPECT_EQ(cc.pcid, Asid(1));
  EXPECT_TRUE(cc.flush);
  a = s.choose_pcid(0, kA.pid, 0);  // A lost its slot: slot 1 now
  EXPECT_EQ(a.pcid, Asid(2));
  EXPECT_TRUE(a.flush);
  // A changes (generation 1) while CPU 0 runs something else: stale there.
  a = s.choose_pcid(0, kA.pid, 1);
  EXPECT_TRUE(a.flush);
  // ... but not when CPU 0 flushed that change itself.
  s.refresh_pcid(0, kA.pid, 2);
  a = s.choose_pcid(0, kA.pid, 2);
  EXPECT_FALSE(a.flush);
  // Slots are per CPU.
  EXPECT_TRUE(s.choose_pcid(1, kA.pid, 2).flush);
  EXPECT_EQ(s.stats().pcid_reuse, 2U);
  EXPECT_EQ(s.stats().pcid_flushes, 6U);
}

TEST(Scheduler, SliceFollowsLinuxBaseSlice) {
  SchedConfig c;
  EXPECT_EQ(sched_slice_cycles(c, 1, 3000), 750U * 3000);       // 0.75 ms
  EXPECT_EQ(sched_slice_cycles(c, 2, 3000), 2 * 750U * 3000);   // x (1 + log2 2)
  EXPECT_EQ(sched_slice_cycles(c, 16, 3000), 4 * 750U * 3000);  // min(cpus, 8)
  c.slice_us = 100;
  EXPECT_EQ(sched_slice_cycles(c, 16, 3000), 100U * 3000);
}

}  // namespace
}  // namespace mmusim
