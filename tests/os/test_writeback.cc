// Dirty page writeback of the Linux model (os-model.md §1.5): the os.linux.dirty_*
// keys' bounds, the dirty thresholds, the flusher's periodic (kupdate) and
// background passes, and the throttling of a writer above the dirty limit,
// over the recording fixed disk (synchronous completions) or an asynchronous
// queue. The flusher thread is the test: it records the wake-ups the core
// asks for and calls flush() at the cycles it chooses.
#include <gtest/gtest.h>

#include <string>

#include "models/common/error.h"
#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::file_event;
using testing::open_event;

using testing::anon_mmap;
using testing::file_mmap;
using testing::LinuxRig;

constexpr uint64_t kP = 4096;
constexpr uint64_t kBuf = 0x7f0000000000ULL;
// 3000 MHz (the default): one second = 3e9 cycles.
constexpr uint64_t kSec = 3'000'000'000ULL;
constexpr uint64_t kPeriod = 5 * kSec;   // dirty_writeback_centisecs 500
constexpr uint64_t kExpire = 30 * kSec;  // dirty_expire_centisecs 3000
// A write() reaches the page cache after syscall_entry (150) + rw (900).
constexpr uint64_t kToCache = 150 + 900;

RwEvent write_ev(int32_t fd, uint64_t pages) {
  RwEvent w;
  w.op = RwEvent::Op::kWrite;
  w.fd = fd;
  w.len = pages * kP;
  w.buf = kBuf;
  w.ret = static_cast<int64_t>(pages * kP);
  return w;
}

// A rig with files 1 and 2 open as descriptors 3 and 4 of process 1, a
// 64-page user buffer, and the flusher's wake-ups recorded.
struct Rig {
  explicit Rig(LinuxConfig cfg = testing::default_linux_config(), uint64_t frames = 65536)
      : r(cfg, frames) {
    r.k.set_flusher([this](Cycle at) { wakes.push_back(at.count()); });
    r.done(1, file_event(1));
    r.done(1, file_event(2));
    r.done(1, open_event(1, 3));
    r.done(1, open_event(2, 4));
    r.done(1, anon_mmap(64 * kP, kBuf));
  }
  // Writes `pages` at `at` through descriptor fd; must not block.
  void write(int32_t fd, uint64_t pages, uint64_t at) {
    EXPECT_EQ(r.call(1, write_ev(fd, pages), at).kind, KernelStep::Kind::kDone);
  }
  [[nodiscard]] size_t writes() const {
    size_t n = 0;
    for (const BlockRequest& q : r.files.disk.log) n += q.write ? 1 : 0;
    return n;
  }
  [[nodiscard]] const BlockRequest& last_write() const {
    for (auto it = r.files.disk.log.rbegin(); it != r.files.disk.log.rend(); ++it) {
      if (it->write) return *it;
    }
    throw std::logic_error("no write");
  }
  LinuxRig r;
  std::vector<uint64_t> wakes;
};

LinuxConfig with_bytes(uint64_t bg, uint64_t limit) {
  LinuxConfig c;
  c.writeback.dirty_background_bytes = bg;
  c.writeback.dirty_bytes = limit;
  validate_linux_config(c);
  return c;
}

void expect_bad(const std::string& key, void (*set)(WritebackConfig&)) {
  LinuxConfig c;
  set(c.writeback);
  try {
    validate_linux_config(c);
    ADD_FAILURE() << key << ": accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(Writeback, KeyBounds) {
  LinuxConfig ok;
  ok.writeback.dirty_expire_centisecs = 8640000;  // one day: the largest
  ok.writeback.dirty_writeback_centisecs = 0;     // no periodic flusher
  ok.writeback.dirty_ratio = 100;
  ok.writeback.dirty_background_ratio = 0;
  ok.writeback.dirty_bytes = 8192;                   // two pages: the smallest non-zero
  ok.writeback.dirty_background_bytes = 1ULL << 40;  // 1T: the largest
  EXPECT_NO_THROW(validate_linux_config(ok));
  expect_bad("os.linux.dirty_expire_centisecs",
             [](WritebackConfig& w) { w.dirty_expire_centisecs = 8640001; });
  expect_bad("os.linux.dirty_writeback_centisecs",
             [](WritebackConfig& w) { w.dirty_writeback_centisecs = 8640001; });
  expect_bad("os.linux.dirty_ratio", [](WritebackConfig& w) { w.dirty_ratio = 101; });
  expect_bad("os.linux.dirty_background_ratio",
             [](WritebackConfig& w) { w.dirty_background_ratio = 101; });
  expect_bad("os.linux.dirty_bytes", [](WritebackConfig& w) { w.dirty_bytes = 8191; });
  expect_bad("os.linux.dirty_bytes", [](WritebackConfig& w) { w.dirty_bytes = (1ULL << 40) + 1; });
  expect_bad("os.linux.dirty_background_bytes",
             [](WritebackConfig& w) { w.dirty_background_bytes = (1ULL << 40) + 1; });
  expect_bad("sim.core_clock_mhz", [](WritebackConfig& w) { w.core_clock_mhz = 0; });
  // Centiseconds to cycles: 500 cs = 5 s = 15e9 cycles at 3000 MHz; 200 ms.
  EXPECT_EQ(ok.writeback.interval().count(), 0U);
  EXPECT_EQ(WritebackConfig{}.interval().count(), kPeriod);
  EXPECT_EQ(WritebackConfig{}.expire().count(), kExpire);
  EXPECT_EQ(WritebackConfig{}.max_pause().count(), kSec / 5);
}

TEST(Writeback, DirtyLimitsFollowDomainDirtyLimits) {
  Rig g(testing::default_linux_config(), 1000);
  // 1000 frames, the zero page and process 1's top page table taken (the
  // buffer not touched yet), no page-cache page: avail 998.
  ASSERT_EQ(g.r.files.frames.frames_free(), 998U);
  // thresh = (20 x 4096 / 100 = 819) x 998 / 4096 = 817362 / 4096 = 199;
  // bg = (10 x 4096 / 100 = 409) x 998 / 4096 = 408182 / 4096 = 99.
  EXPECT_EQ(g.r.k.dirty_limits().limit, 199U);
  EXPECT_EQ(g.r.k.dirty_limits().background, 99U);
  // Bytes win over ratios, rounded up to pages; bg >= thresh -> thresh / 2.
  LinuxRig b(with_bytes(4097, 40960));
  EXPECT_EQ(b.k.dirty_limits().limit, 10U);
  EXPECT_EQ(b.k.dirty_limits().background, 2U);
  LinuxRig h(with_bytes(81920, 40960));
  EXPECT_EQ(h.k.dirty_limits().background, 5U);
}

TEST(Writeback, FlusherWritesExpiredFilesAtTheFirstTickAfter30s) {
  Rig g;
  const uint64_t t0 = 1000;
  g.write(3, 2, t0);
  const uint64_t d1 = t0 + kToCache;  // file 1's dirtied_when
  EXPECT_EQ(g.r.files.cache.dirtied_when(1)->count(), d1);
  // wb_wakeup_delayed: one period after the first dirty page.
  ASSERT_EQ(g.wakes, std::vector<uint64_t>{d1 + kPeriod});
  uint64_t tick = d1 + kPeriod;
  // Ticks 1..4 (5 s .. 20 s): nothing expired, the flusher re-arms.
  for (int k = 1; k <= 4; ++k) {
    const Kernel::FlushRun run = g.r.k.flush(Cycle(tick), g.r.svc);
    EXPECT_EQ(run.next.count(), tick + kPeriod);
    tick += kPeriod;
  }
  EXPECT_EQ(g.writes(), 0U);
  // File 2 dirtied at 20 s + 1: 10 s old at the 30 s tick.
  g.write(4, 1, d1 + 4 * kPeriod + 1 - kToCache);
  const uint64_t d2 = d1 + 4 * kPeriod + 1;
  EXPECT_EQ(g.wakes.size(), 1U);      // already armed
  g.r.k.flush(Cycle(tick), g.r.svc);  // 25 s: age 25 s < 30 s
  EXPECT_EQ(g.writes(), 0U);
  tick += kPeriod;
  // 30 s after d1 (age == dirty_expire: expired): file 1's two pages, at
  // the tick; file 2 (10 s old) stays dirty.
  ASSERT_EQ(tick, d1 + kExpire);
  Kernel::FlushRun run = g.r.k.flush(Cycle(tick), g.r.svc);
  ASSERT_EQ(g.writes(), 1U);
  EXPECT_EQ(g.last_write().at.count(), tick);
  EXPECT_EQ(g.last_write().bytes, 2 * kP);
  EXPECT_EQ(g.r.files.cache.stats().nr_dirty, 1U);
  EXPECT_FALSE(g.r.files.cache.dirtied_when(1).has_value());
  EXPECT_EQ(run.next.count(), tick + kPeriod);
  // File 2 expires at d2 + 30 s = d1 + 50 s + 1: the 55 s tick writes it.
  for (tick += kPeriod; tick < d2 + kExpire; tick += kPeriod) {
    run = g.r.k.flush(Cycle(tick), g.r.svc);
    EXPECT_EQ(g.writes(), 1U) << tick;
  }
  ASSERT_EQ(tick, d1 + 55 * kSec);
  run = g.r.k.flush(Cycle(tick), g.r.svc);
  ASSERT_EQ(g.writes(), 2U);
  EXPECT_EQ(g.last_write().at.count(), tick);
  // Nothing dirty: not re-armed until a page is dirtied again.
  EXPECT_EQ(run.next, kNeverCycle);
  EXPECT_EQ(g.r.k.stats().flusher_kupdate, 2U);
  EXPECT_EQ(g.r.k.stats().flusher_pages, 3U);
  EXPECT_EQ(g.r.files.cache.stats().nr_dirtied, 3U);
  EXPECT_EQ(g.r.files.cache.stats().nr_written, 3U);
  g.write(3, 1, tick + 10);
  EXPECT_EQ(g.wakes.back(), tick + 10 + kToCache + kPeriod);
}

TEST(Writeback, BackgroundThresholdWakesTheFlusherAtOnce) {
  // bg = 32 KiB = 8 pages, limit 64 KiB = 16 pages.
  Rig g(with_bytes(32768, 65536));
  g.write(3, 8, 1000);  // 8 pages: not above bg
  ASSERT_EQ(g.wakes, std::vector<uint64_t>{1000 + kToCache + kPeriod});
  g.write(4, 1, 5000);  // the 9th: above
  const uint64_t t = 5000 + kToCache;
  ASSERT_EQ(g.wakes.size(), 2U);
  EXPECT_EQ(g.wakes[1], t);
  // The flusher writes the oldest file (1: 8 pages): 8 <= bg, done.
  g.r.k.flush(Cycle(t), g.r.svc);
  ASSERT_EQ(g.writes(), 1U);
  EXPECT_EQ(g.last_write().at.count(), t);
  EXPECT_EQ(g.last_write().bytes, 8 * kP);
  EXPECT_EQ(g.r.files.cache.stats().nr_dirty, 1U);
  EXPECT_EQ(g.r.k.stats().flusher_background, 1U);
  EXPECT_EQ(g.r.k.stats().flusher_kupdate, 0U);  // the first period has not passed
}

TEST(Writeback, WriterAboveTheLimitIsThrottledUntilItsWritebackCompletes) {
  Rig g(with_bytes(32768, 65536));  // bg 8 pages, limit 16
  // 17 pages: dirty 17 > 16. The writer writes file 1 (all 17 pages, one
  // request) and sleeps until dirty 0 + writeback <= 16: the completion.
  KernelStep s = g.r.call(1, write_ev(3, 17), 1000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.key, LinuxKernel::kThrottleKey);
  ASSERT_EQ(g.writes(), 1U);
  const uint64_t submitted = g.last_write().at.count();
  const uint64_t done = g.r.files.disk.done.back().count();
  EXPECT_EQ(g.last_write().bytes, 17 * kP);
  // Fixed disk: 76.5 us + 69632 B / 2800 MB/s, at 3 GHz, after submission.
  EXPECT_EQ(done - submitted, g.r.files.disk.fixed.service(17 * kP).count());
  EXPECT_EQ(s.until.count(), done);
  EXPECT_EQ(g.r.files.cache.nr_writeback(Cycle(done - 1)), 17U);
  EXPECT_EQ(g.r.files.cache.nr_writeback(Cycle(done)), 0U);
  // It resumes at the completion: + io_complete (3000) + wake (6000), then
  // syscall_exit (150).
  s = g.r.k.resume_event(g.r.last_event, g.r.last_call, s.key, s.until, g.r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(s.outcome.resume.count(), done + 3000 + 6000 + 150);
  EXPECT_EQ(g.r.k.stats().throttles, 1U);
  EXPECT_EQ(g.r.k.stats().throttle_pages, 17U);
  EXPECT_EQ(g.r.k.stats().throttle_cycles, done + 9000 - submitted);
  EXPECT_EQ(g.r.k.process(1)->fds.at(3)->pos, 17 * kP);
  // 16 pages (at the limit): not throttled.
  g.write(4, 16, done + 100000);
  EXPECT_EQ(g.r.k.stats().throttles, 1U);
}

TEST(Writeback, ThrottleSleepsAtMostMaxPause) {
  LinuxConfig c = with_bytes(32768, 65536);
  c.writeback.core_clock_mhz = 1;  // MAX_PAUSE = 200 ms = 200,000 cycles
  Rig g(c);
  KernelStep s = g.r.call(1, write_ev(3, 17), 1000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  const uint64_t submitted = g.last_write().at.count();
  const uint64_t done = g.r.files.disk.done.back().count();  // the disk's 3 GHz cycles
  ASSERT_GT(done - submitted, 200000U);
  EXPECT_EQ(s.until.count(), submitted + 200000);
  // Woken still above the limit (+ 9000 of wake-up): it sleeps again, now
  // until the completion.
  s = g.r.k.resume_event(g.r.last_event, g.r.last_call, s.key, s.until, g.r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.until.count(), done);
  s = g.r.k.resume_event(g.r.last_event, g.r.last_call, s.key, s.until, g.r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(g.r.k.stats().throttles, 1U);
  EXPECT_EQ(g.r.k.stats().throttle_cycles, done + 9000 - submitted);
}

TEST(Writeback, ThrottledWriterOnAnAsynchronousQueueWakesAtTheCompletion) {
  Rig g(with_bytes(32768, 65536));
  g.r.files.disk.async = true;
  KernelStep s = g.r.call(1, write_ev(3, 17), 1000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.key, LinuxKernel::kThrottleKey);
  EXPECT_EQ(s.until, kNeverCycle);  // the completion is not known yet
  EXPECT_EQ(g.r.files.cache.nr_writeback(Cycle(1 << 30)), 17U);
  BlockTimeline t;
  t.irq = Cycle(900000);
  g.r.svc.clear();
  g.r.k.io_done(g.last_write().id, t, g.r.svc);
  ASSERT_EQ(g.r.svc.released, std::vector<uint64_t>{LinuxKernel::kThrottleKey});
  EXPECT_EQ(g.r.files.cache.stats().nr_written, 17U);
  s = g.r.k.resume_event(g.r.last_event, g.r.last_call, s.key, t.irq, g.r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(s.outcome.resume.count(), 900000U + 9000 + 150);
}

// Write faults on a shared file mapping dirty pages like write() does and are
// throttled the same way (fault_dirty_shared_page ->
// balance_dirty_pages_ratelimited), checked once the CPU has dirtied
// ratelimit_pages = max(16 / 32, 16) = 16 pages (before the task's pause of
// 32): at the 16th page (16 dirty: at the limit, no throttle) and the 32nd.
TEST(Writeback, SharedWriteFaultsAreThrottledAtTheRatelimitedCheck) {
  Rig g(with_bytes(32768, 65536));  // bg 8 pages, limit 16
  constexpr uint64_t kM = 0x7e0000000000ULL;
  g.r.done(1, file_event(5, 64 * kP));
  g.r.done(1, open_event(5, 5));
  g.r.done(1, file_mmap(64 * kP, kM, 5, 5, true));
  uint64_t t = 1000;
  for (uint64_t i = 0; i < 32; ++i) {  // read first: the pages are cached
    for (const FaultOutcome& o : g.r.access(1, kM + i * kP, AccessKind::kRead, t)) {
      t = o.resume.count();
    }
  }
  const size_t reads = g.r.files.disk.log.size();
  t += 1000000;
  for (uint64_t i = 0; i < 31; ++i) {
    const FaultOutcome o = g.r.fault1(1, kM + i * kP, AccessKind::kWrite, t);
    ASSERT_EQ(o.cls, FaultClass::kSharedWrite);
    t = o.resume.count() + 100;
  }
  EXPECT_EQ(g.r.files.cache.stats().nr_dirty, 31U);
  EXPECT_EQ(g.r.k.stats().throttles, 0U);
  EXPECT_EQ(g.r.files.disk.log.size(), reads);  // nothing written yet
  // The 32nd: 32 dirty > 16. The faulting task writes the file (32 pages,
  // one request) and sleeps until dirty 0 + writeback <= 16: the completion.
  KernelStep s = g.r.raise(1, kM + 31 * kP, AccessKind::kWrite, FaultKind::kWriteProtect, t);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.key, LinuxKernel::kThrottleKey);
  ASSERT_EQ(g.writes(), 1U);
  EXPECT_EQ(g.last_write().bytes, 32 * kP);
  const uint64_t submitted = g.last_write().at.count();
  const uint64_t done = g.r.files.disk.done.back().count();
  EXPECT_EQ(s.until.count(), done);
  EXPECT_EQ(g.r.k.stats().throttles, 1U);
  EXPECT_EQ(g.r.k.stats().throttle_pages, 32U);
  // The PTE was made writable before the check, and the page went out with
  // the others: clean and write-protected again (page_mkclean).
  EXPECT_FALSE(g.r.pte(1, kM + 31 * kP)->entry & pte::kRW);
  EXPECT_EQ(g.r.files.cache.stats().nr_dirty, 0U);
  // Woken at the completion: + wake (6000), then the fault returns.
  s = g.r.k.resume(g.r.last_fault, s.key, s.until, g.r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  const LinuxCosts& c = g.r.k.config().cost;
  EXPECT_EQ(s.outcome.cls, FaultClass::kSharedWrite);
  EXPECT_EQ(s.outcome.resume.count(), done + c.wake.count() + c.fault_return.count());
  EXPECT_EQ(g.r.k.stats().throttle_cycles, done + c.wake.count() - submitted);
  EXPECT_EQ(g.r.count(FaultClass::kSharedWrite), 32U);
  // The writeback write-protected the 32 PTEs (page_mkclean): this CPU's TLB
  // loses them (a range above 33 pages is a PCID flush; 32 is a range).
  EXPECT_EQ(s.outcome.flush.kind, FaultOutcome::LocalFlush::Kind::kPages);
  EXPECT_EQ(s.outcome.flush.start.value(), kM);
  EXPECT_EQ(s.outcome.flush.pages, 32U);
}

}  // namespace
}  // namespace mmusim
