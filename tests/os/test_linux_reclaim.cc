// Memory pressure in the Linux kernel core (linux_reclaim.cc): watermarks,
// LRU membership of anonymous and page-cache pages, kswapd's wake-up and
// run, direct reclaim in the caller's time, workingset refaults and the
// OOM killer, on 16 MiB of managed memory.
//
// The watermarks of 4096 managed pages (os-model.md §1.1): lowmem 16384 KiB,
// min_free_kbytes = int_sqrt(16 x 16384) = int_sqrt(262144) = 512 (above the
// 128 floor), pages_min = 512 / 4 = 128, gap = max(128 / 4, 4096 x 10 /
// 10000) = max(32, 4) = 32: min 128, low 160, high 192.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::file_event;
using testing::open_event;

using testing::anon_mmap;
using testing::default_linux_config;
using testing::file_mmap;
using testing::LinuxRig;

constexpr uint64_t kFrames = 4096;
constexpr uint64_t kMin = 128, kLow = 160, kHigh = 192;
constexpr uint64_t kBuf = 0x10000000;  // an anonymous user buffer
constexpr uint64_t kPage = 4096;
// kswapd's nap: 25 jiffies of the default 12,000,000 cycles (HZ/10 at
// HZ=250, 100 ms at 3 GHz).
constexpr Cycles kNap{25 * 12000000};

RwEvent pread_page(int32_t fd, uint64_t page) {
  RwEvent r;
  r.op = RwEvent::Op::kPread;
  r.fd = fd;
  r.offset = page * kPage;
  r.len = kPage;
  r.buf = kBuf;
  r.ret = static_cast<int64_t>(kPage);
  return r;
}

uint64_t size(const LinuxRig& r, LruList l) { return r.k.reclaimer().lru().size(l); }

// A process with a one-page anonymous buffer and a 64 MiB file opened on
// descriptor 3 with POSIX_FADV_RANDOM, so that each pread of a page reads
// exactly that page: one page-cache frame per call.
struct Reader {
  Reader() : r(default_linux_config(), kFrames) {
    r.done(100, file_event(1, 64ULL << 20));
    r.done(100, open_event(1, 3));
    r.done(100, anon_mmap(kPage, kBuf));
    FadviseEvent f;
    f.fd = 3;
    f.advice = linux_abi::kFadvRandom;
    r.done(100, f);
    r.access(100, kBuf, AccessKind::kWrite);  // the buffer's page, once
    r.k.set_kswapd([this](Cycle at) {
      wakes.push_back(at);
      free_at_wake.push_back(r.files.frames.frames_free());
    });
  }
  // pread of page `p` at `at`, every wait served at once; its outcome.
  FaultOutcome read(uint64_t p, uint64_t at) {
    KernelStep s = r.call(100, pread_page(3, p), at);
    while (s.kind != KernelStep::Kind::kDone) {
      const Cycle now = s.kind == KernelStep::Kind::kWaitIo ? s.until : Cycle(at + 1);
      s = r.k.resume_event(r.last_event, r.last_call, s.key, now, r.svc);
    }
    return s.outcome;
  }
  LinuxRig r;
  std::vector<Cycle> wakes;
  std::vector<uint64_t> free_at_wake;
};

TEST(LinuxReclaim, WatermarksAreLinuxsForTheManagedMemory) {
  LinuxRig r(default_linux_config(), kFrames);
  const Watermarks& w = r.k.zones().marks(0);
  EXPECT_EQ(r.k.zones().count(), 1U);
  EXPECT_EQ(r.k.zones().min_free_kbytes(), 512U);
  EXPECT_EQ(w.min, kMin);
  EXPECT_EQ(w.low, kLow);
  EXPECT_EQ(w.high, kHigh);
}

TEST(LinuxReclaim, AnonymousAndPageCachePagesJoinAndLeaveTheLru) {
  LinuxRig r(default_linux_config(), kFrames);
  r.done(100, anon_mmap(40 * kPage, kBuf));
  for (uint64_t i = 0; i < 40; ++i) r.access(100, kBuf + i * kPage, AccessKind::kWrite);
  EXPECT_EQ(size(r, LruList::kInactiveAnon), 40U);  // new pages: inactive (folio_add_lru)
  EXPECT_EQ(size(r, LruList::kActiveAnon), 0U);
  // An 8-page file mapped and read: read-around brings the whole file in
  // (the window clamped to the end of the file), all on the inactive list.
  r.done(100, file_event(1, 8 * kPage));
  r.done(100, open_event(1, 3));
  const uint64_t base = 0x20000000;
  r.done(100, file_mmap(8 * kPage, base, 3, 1, true, 1));
  for (uint64_t i = 0; i < 8; ++i) r.access(100, base + i * kPage, AccessKind::kRead);
  EXPECT_EQ(size(r, LruList::kInactiveFile), 8U);
  EXPECT_EQ(r.files.cache.stats().nr_file_pages, 8U);
  // munmap frees the anonymous frames: off the LRU with them.
  MunmapEvent m;
  m.addr = kBuf;
  m.len = 40 * kPage;
  r.done(100, m);
  EXPECT_EQ(size(r, LruList::kInactiveAnon), 0U);
  // Unmapped and dropped from the cache (FADV_DONTNEED): off the LRU too.
  m.addr = base;
  m.len = 8 * kPage;
  r.done(100, m);
  FadviseEvent f;
  f.fd = 3;
  f.advice = linux_abi::kFadvDontNeed;
  r.done(100, f);
  EXPECT_EQ(r.files.cache.stats().nr_file_pages, 0U);
  EXPECT_EQ(size(r, LruList::kInactiveFile), 0U);
}

TEST(LinuxReclaim, KswapdIsWokenAtTheLowWatermarkAndStopsAtHigh) {
  Reader t;
  LinuxRig& r = t.r;
  uint64_t at = 10000;
  uint64_t p = 0;
  // One frame per call: free falls by one from call to call, so the first
  // call that finds free <= low at its entry sees exactly low.
  while (t.wakes.empty()) {
    ASSERT_GE(r.files.frames.frames_free(), kLow) << "no wake-up at low";
    t.read(p++, at);
    at += 100000;
  }
  ASSERT_EQ(t.free_at_wake.size(), 1U);
  EXPECT_EQ(t.free_at_wake[0], kLow);
  EXPECT_EQ(r.k.pressure_stats().kswapd_wakeups, 1U);
  // Woken once: later allocations do not wake it again before it ran.
  t.read(p++, at);
  EXPECT_EQ(t.wakes.size(), 1U);
  EXPECT_EQ(r.k.pressure_stats().direct_reclaims, 0U);  // still above min
  // kswapd runs (in its own time): it reclaims until free >= high, then sleeps.
  const Cycle now(at + 1000);
  const Kernel::FlushRun run = r.k.kswapd(now, r.svc);
  EXPECT_GE(r.files.frames.frames_free(), kHigh);
  EXPECT_GT(run.busy_until, now);
  EXPECT_EQ(run.next, run.busy_until + kNap);  // kswapd_try_to_sleep's nap
  const ReclaimStats& rs = r.k.reclaimer().stats();
  EXPECT_GT(rs.pgscan_kswapd, 0U);
  EXPECT_GE(rs.pgsteal_kswapd, kHigh - (kLow - 1));  // from low - 1 to at least high
  EXPECT_EQ(rs.pgscan_direct, 0U);
  EXPECT_EQ(r.k.pressure_stats().kswapd_runs, 1U);
  EXPECT_EQ(r.k.pressure_stats().kswapd_cycles, (run.busy_until - now).count());
  // The nap ends with the node balanced: asleep until woken, no run.
  const Kernel::FlushRun idle = r.k.kswapd(run.next, r.svc);
  EXPECT_EQ(idle.busy_until, run.next);
  EXPECT_EQ(idle.next, kNeverCycle);
  EXPECT_EQ(r.k.pressure_stats().kswapd_runs, 1U);
  EXPECT_EQ(r.k.pressure_stats().low_wmark_hit_quickly, 0U);
  EXPECT_EQ(r.k.pressure_stats().high_wmark_hit_quickly, 0U);
}

TEST(LinuxReclaim, KswapdNapsBeforeItSleeps) {
  // kswapd_try_to_sleep: after balancing, kswapd naps HZ/10 (25 jiffies).
  // A nap that ends below high (free memory fell, but not to low: no one
  // woke it) runs it again unwoken (kswapd_high_wmark_hit_quickly); an
  // allocation at low during the nap wakes it early
  // (kswapd_low_wmark_hit_quickly).
  Reader t;
  LinuxRig& r = t.r;
  uint64_t at = 10000;
  uint64_t p = 0;
  while (t.wakes.empty()) t.read(p++, at += 100000);
  const Kernel::FlushRun run = r.k.kswapd(Cycle(at + 1000), r.svc);
  ASSERT_GE(r.files.frames.frames_free(), kHigh);
  ASSERT_EQ(run.next, run.busy_until + kNap);
  // Read until free is one page below high (each pread takes one frame).
  at = run.busy_until.count();
  while (r.files.frames.frames_free() >= kHigh) t.read(p++, at += 100000);
  ASSERT_EQ(r.files.frames.frames_free(), kHigh - 1);
  ASSERT_LT(Cycle(at), run.next);
  const LinuxKernel::PressureStats& ps = r.k.pressure_stats();
  EXPECT_EQ(ps.kswapd_wakeups, 1U);
  const Kernel::FlushRun again = r.k.kswapd(run.next, r.svc);  // the nap's end
  EXPECT_EQ(ps.high_wmark_hit_quickly, 1U);
  EXPECT_EQ(ps.kswapd_runs, 2U);
  EXPECT_EQ(ps.kswapd_wakeups, 1U);  // not woken
  EXPECT_GE(r.files.frames.frames_free(), kHigh);
  EXPECT_EQ(again.next, again.busy_until + kNap);
  // Down to low during this nap: the allocation wakes it.
  at = again.busy_until.count();
  while (t.wakes.size() == 1) t.read(p++, at += 100000);
  EXPECT_EQ(t.free_at_wake.back(), kLow);
  EXPECT_EQ(ps.kswapd_wakeups, 2U);
  ASSERT_LT(t.wakes.back(), again.next);
  r.k.kswapd(Cycle(at + 1000), r.svc);
  EXPECT_EQ(ps.low_wmark_hit_quickly, 1U);
  EXPECT_EQ(ps.high_wmark_hit_quickly, 1U);
  EXPECT_EQ(ps.kswapd_runs, 3U);
  EXPECT_GE(r.files.frames.frames_free(), kHigh);
}

TEST(LinuxReclaim, DirectReclaimAtMinIsTimedInTheCallersBreakdown) {
  Reader t;
  LinuxRig& r = t.r;
  uint64_t at = 10000;
  uint64_t p = 0;
  // kswapd is woken but never runs: free falls to min, and the call that
  // finds free <= min at its entry reclaims for itself.
  FaultOutcome o;
  while (r.k.pressure_stats().direct_reclaims == 0) {
    ASSERT_GE(r.files.frames.frames_free(), kMin) << "no direct reclaim at min";
    o = t.read(p++, at);
    at += 100000;
  }
  EXPECT_EQ(r.k.pressure_stats().direct_reclaims, 1U);
  EXPECT_GE(r.k.pressure_stats().allocstall, 1U);
  const ReclaimStats& rs = r.k.reclaimer().stats();
  EXPECT_GE(rs.pgsteal_direct, kSwapClusterMax);  // try_to_free_pages' 32
  EXPECT_GT(r.files.frames.frames_free(), kMin);
  // The reclaim's time is the call's reclaim part, exactly.
  EXPECT_GT(o.timing.part[FaultTiming::kReclaim], 0U);
  EXPECT_EQ(o.timing.part[FaultTiming::kReclaim], r.k.pressure_stats().direct_cycles);
  // The pages read first were evicted first (the inactive tail): reading
  // page 0 again is one workingset refault of a file page.
  EXPECT_EQ(r.k.reclaimer().workingset().stats().refault_file, 0U);
  const uint64_t before = r.files.disk.read_sizes().size();
  t.read(0, at);
  EXPECT_EQ(r.files.disk.read_sizes().size(), before + 1);  // read from the disk again
  EXPECT_EQ(r.k.reclaimer().workingset().stats().refault_file, 1U);
}

TEST(LinuxReclaim, WithNothingReclaimableTheOomKillerTakesTheLargestProcess) {
  LinuxRig r(default_linux_config(), kFrames);
  // Process 100: 1024 anonymous pages (4 MiB); no swap, no file pages.
  r.done(100, anon_mmap(1024 * kPage, kBuf));
  for (uint64_t i = 0; i < 1024; ++i) r.access(100, kBuf + i * kPage, AccessKind::kWrite);
  // Process 200 grows until memory runs out: it is then the largest (RSS
  // beyond 100's 1024 pages) and the OOM killer kills it, in its own fault.
  r.done(200, anon_mmap(4096 * kPage, kBuf));
  uint64_t i = 0;
  std::optional<FaultOutcome> killed;
  for (; i < 4096 && !killed; ++i) {
    const auto out = r.access(200, kBuf + i * kPage, AccessKind::kWrite);
    ASSERT_FALSE(out.empty());
    if (out.back().action == FaultOutcome::Action::kKill) killed = out.back();
  }
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(r.k.pressure_stats().oom_kill, 1U);
  EXPECT_EQ(r.svc.kills, 1U);
  ASSERT_EQ(r.svc.exited.size(), 1U);
  EXPECT_EQ(r.svc.exited[0].pid, 200U);
  EXPECT_EQ(r.svc.codes[0], 128 + 9);  // SIGKILL
  EXPECT_NE(r.k.process(200)->state, Process::State::kRunning);
  EXPECT_EQ(r.k.process(100)->state, Process::State::kRunning);
  // Its memory came back: well above the high watermark again.
  EXPECT_GT(r.files.frames.frames_free(), 2000U);
  // The victim's fault spent 16 reclaim rounds without progress first.
  EXPECT_GT(killed->timing.part[FaultTiming::kReclaim], 0U);
  EXPECT_GE(r.k.pressure_stats().allocstall, Reclaimer::kMaxReclaimRetries);
}

TEST(LinuxReclaim, OomScoreAdjSteersTheVictim) {
  // The same machine as above, but process 200 starts with oom_score_adj
  // -1000 (never chosen) and its forked child 300 inherits it: process 100,
  // the smaller, is killed in 200's fault and 200 goes on.
  LinuxRig r(default_linux_config(), kFrames);
  r.done(100, anon_mmap(1024 * kPage, kBuf));
  for (uint64_t i = 0; i < 1024; ++i) r.access(100, kBuf + i * kPage, AccessKind::kWrite);
  StartEvent st;
  st.name = "protected";
  st.oom_score_adj = -1000;
  r.done(200, st);
  ProcCreateEvent f;
  f.child_pid = 300;
  f.kind = ProcCreateEvent::Kind::kFork;
  r.done(200, f);
  EXPECT_EQ(r.k.process(300)->oom_score_adj, -1000);
  r.done(200, anon_mmap(4096 * kPage, kBuf));
  bool killed = false;
  for (uint64_t i = 0; i < 4096 && r.svc.kills == 0; ++i) {
    const auto out = r.access(200, kBuf + i * kPage, AccessKind::kWrite);
    ASSERT_FALSE(out.empty());
    killed = killed || out.back().action == FaultOutcome::Action::kKill;
  }
  EXPECT_FALSE(killed);  // the faulting task itself is not the victim
  EXPECT_EQ(r.k.pressure_stats().oom_kill, 1U);
  ASSERT_EQ(r.svc.exited.size(), 1U);
  EXPECT_EQ(r.svc.exited[0].pid, 100U);
  EXPECT_EQ(r.k.process(200)->state, Process::State::kRunning);
}

TEST(LinuxReclaim, OutOfMemoryWithTheOomKillerOffStopsTheRun) {
  LinuxConfig cfg = testing::default_linux_config();
  cfg.pressure.oom_kill = false;
  LinuxRig r(cfg, kFrames);
  r.done(100, anon_mmap(4096 * kPage, kBuf));
  std::optional<FaultOutcome> stopped;
  for (uint64_t i = 0; i < 4096 && !stopped; ++i) {
    const auto out = r.access(100, kBuf + i * kPage, AccessKind::kWrite);
    ASSERT_FALSE(out.empty());
    if (out.back().action == FaultOutcome::Action::kStop) stopped = out.back();
  }
  ASSERT_TRUE(stopped.has_value());
  EXPECT_NE(stopped->message.find("out of memory"), std::string::npos) << stopped->message;
  EXPECT_NE(stopped->message.find("os.linux.oom_kill is off"), std::string::npos);
  EXPECT_EQ(r.k.pressure_stats().oom_stops, 1U);
  EXPECT_EQ(r.k.pressure_stats().oom_kill, 0U);
}

// A 64 MiB file of task 100, opened as fd 3 and mapped shared at `at` with
// MADV_RANDOM (each fault reads its one page: no read-around).
void map_random_file(LinuxRig& r, uint64_t at) {
  r.done(100, file_event(1, 64ULL << 20));
  r.done(100, open_event(1, 3));
  r.done(100, file_mmap(64ULL << 20, at, 3, 1, true));
  MadviseEvent m;
  m.addr = at;
  m.len = 64ULL << 20;
  m.advice = linux_abi::kMadvRandom;
  r.done(100, m);
}

// Dirty pages of a shared file mapping fill memory to the low watermark;
// kswapd then runs until it balances. MADV_RANDOM: each write fault reads
// its one page (no read-around), so every page-cache page is dirty.
struct DirtyFile {
  static constexpr uint64_t kMap = 0x40000000;
  explicit DirtyFile(bool writepage) : r(config(writepage), kFrames) {
    map_random_file(r, kMap);
    r.k.set_kswapd([this](Cycle /*at*/) { ++wakes; });
    r.k.set_flusher([this](Cycle /*at*/) { ++flusher_wakes; });
    uint64_t at = 10000;
    while (wakes == 0) {
      const std::vector<FaultOutcome> o =
          r.access(100, kMap + pages * kPage, AccessKind::kWrite, at);
      at = o.empty() ? at + 1000 : o.back().resume.count() + 1000;
      ++pages;
    }
    now = Cycle(at);
  }
  static LinuxConfig config(bool writepage) {
    LinuxConfig c = default_linux_config();
    c.reclaim.file_writepage = writepage;
    // No flusher: no background writeback, no periodic one.
    c.writeback.dirty_background_ratio = 100;
    c.writeback.dirty_ratio = 100;
    c.writeback.dirty_writeback_centisecs = 0;
    return c;
  }
  // kswapd runs, each at the time the previous one asked for, until it
  // sleeps; its balance runs.
  uint64_t balance() {
    unsigned calls = 0;
    for (Cycle at = now; at != kNeverCycle && calls < 100; ++calls) {
      const Kernel::FlushRun run = r.k.kswapd(at, r.svc);
      now = run.busy_until;
      at = run.next;
    }
    return r.k.pressure_stats().kswapd_runs;
  }
  [[nodiscard]] uint64_t disk_writes() const {
    uint64_t n = 0;
    for (const BlockRequest& b : r.files.disk.log) n += b.write ? 1 : 0;
    return n;
  }
  LinuxRig r;
  uint64_t wakes = 0, pages = 0, flusher_wakes = 0;
  Cycle now{0};
};

TEST(LinuxReclaim, WithoutWritepageKswapdLeavesDirtyFilePagesToTheFlusher) {
  // os.linux.file_writepage off (ext4, xfs, btrfs): pageout() of a dirty
  // file page activates it, so kswapd frees nothing and writes nothing. It
  // marks each page PG_reclaim once (first encounter), activates every page
  // it takes, wakes the flusher (its batches are all unqueued dirty pages)
  // and gives up after MAX_RECLAIM_RETRIES runs without progress.
  DirtyFile t(false);
  const uint64_t free_before = t.r.files.frames.frames_free();
  EXPECT_EQ(t.balance(), Reclaimer::kMaxReclaimRetries);
  const ReclaimStats& rs = t.r.k.reclaimer().stats();
  EXPECT_EQ(rs.kswapd_failures, Reclaimer::kMaxReclaimRetries);
  // Each run but the last ended below high and not hopeless: no nap, and
  // kswapd_try_to_sleep counts the quick return; the last one naps, and at
  // the nap's end the node is hopeless: asleep, not counted.
  EXPECT_EQ(t.r.k.pressure_stats().high_wmark_hit_quickly, Reclaimer::kMaxReclaimRetries - 1);
  EXPECT_EQ(t.r.k.pressure_stats().low_wmark_hit_quickly, 0U);
  EXPECT_EQ(rs.nr_vmscan_write, 0U);
  EXPECT_EQ(t.disk_writes(), 0U);
  EXPECT_EQ(rs.pgsteal_kswapd, 0U);
  EXPECT_GT(rs.pgscan_kswapd, t.pages);  // the whole list, more than once
  EXPECT_EQ(rs.pgactivate, rs.pgscan_kswapd);
  EXPECT_EQ(rs.nr_vmscan_immediate_reclaim, t.pages);
  EXPECT_EQ(t.flusher_wakes, 1U);  // due from then on until it runs
  EXPECT_EQ(t.r.files.frames.frames_free(), free_before);
}

TEST(LinuxReclaim, WithWritepageKswapdWritesDirtyFilePagesItMetBefore) {
  // os.linux.file_writepage on (f2fs): kswapd writes a dirty file page it
  // meets again with PG_reclaim set while the node is flagged dirty, one
  // 4 KiB request per page, and frees pages as their writes complete.
  DirtyFile t(true);
  t.balance();
  const ReclaimStats& rs = t.r.k.reclaimer().stats();
  EXPECT_EQ(rs.nr_vmscan_immediate_reclaim, t.pages);
  EXPECT_GT(rs.nr_vmscan_write, 0U);
  EXPECT_LE(rs.nr_vmscan_write, rs.nr_vmscan_immediate_reclaim);
  EXPECT_EQ(t.disk_writes(), rs.nr_vmscan_write);
  for (const BlockRequest& b : t.r.files.disk.log) {
    if (b.write) {
      EXPECT_EQ(b.bytes, kPage);
    }
  }
  EXPECT_GT(rs.pgsteal_kswapd, 0U);
  EXPECT_GE(t.r.files.frames.frames_free(), kHigh);
}

TEST(LinuxReclaim, KswapdEndingBelowHighRunsAgainAtOnce) {
  // kswapd() in 6.12: when balance_pgdat() leaves the node below high (and
  // not hopeless), kswapd_try_to_sleep() counts
  // kswapd_high_wmark_hit_quickly and returns without a nap, and the loop
  // calls balance_pgdat() again: each run starts where the one before ended.
  // Dirty page cache written by pwrite (no mappings: no rmap walks) on a
  // file system without ->writepage and no flusher: every run activates
  // what it takes and frees nothing, so each run's time is the scan cost
  // alone, reclaim_scan per page taken from an inactive or an active list
  // (pgscan_kswapd + pgrefill), and the 16th failure makes the node hopeless.
  LinuxRig r(DirtyFile::config(false), kFrames);
  r.done(100, file_event(1, 64ULL << 20));
  r.done(100, open_event(1, 3));
  r.done(100, anon_mmap(kPage, kBuf));
  r.access(100, kBuf, AccessKind::kWrite);
  unsigned wakes = 0;
  r.k.set_kswapd([&](Cycle /*at*/) { ++wakes; });
  uint64_t at = 10000;
  for (uint64_t p = 0; wakes == 0; ++p) {
    RwEvent w = pread_page(3, p);
    w.op = RwEvent::Op::kPwrite;
    const KernelStep st = r.call(100, w, at);
    ASSERT_EQ(st.kind, KernelStep::Kind::kDone);
    at = st.outcome.resume.count() + 1000;
  }
  const Cycles scan = default_linux_config().cost.reclaim_scan;
  const LinuxKernel::PressureStats& ps = r.k.pressure_stats();
  const ReclaimStats& rs = r.k.reclaimer().stats();
  const Cycle first(at);
  Cycle now = first, end{0};
  for (unsigned i = 1; i <= Reclaimer::kMaxReclaimRetries; ++i) {
    const uint64_t taken = rs.pgscan_kswapd + rs.pgrefill;
    const Kernel::FlushRun run = r.k.kswapd(now, r.svc);
    ASSERT_LT(r.files.frames.frames_free(), kHigh);
    EXPECT_EQ(ps.kswapd_runs, i);
    EXPECT_EQ(r.k.reclaimer().kswapd_failures(), i);
    EXPECT_GT(rs.pgscan_kswapd + rs.pgrefill, taken);
    EXPECT_EQ(run.busy_until, now + Cycles(scan.count() * (rs.pgscan_kswapd + rs.pgrefill - taken)))
        << "run " << i;
    end = run.busy_until;
    if (i < Reclaimer::kMaxReclaimRetries) {
      EXPECT_EQ(run.next, run.busy_until) << "run " << i;  // at once, not a jiffy later
      EXPECT_EQ(ps.high_wmark_hit_quickly, i);
    } else {
      // Hopeless: prepare_kswapd_sleep() lets it nap, not counted.
      EXPECT_EQ(run.next, run.busy_until + kNap);
      EXPECT_EQ(ps.high_wmark_hit_quickly, i - 1);
    }
    now = run.next;
  }
  // The 16 runs back to back: kswapd's time is the span from the first
  // run's start to the last one's end.
  EXPECT_EQ(ps.kswapd_cycles, (end - first).count());
  EXPECT_EQ(ps.kswapd_wakeups, 1U);
  EXPECT_EQ(rs.pgsteal_kswapd, 0U);
  // The nap ends on a hopeless node: asleep until woken (and wakeup_kswapd
  // leaves a hopeless node to direct reclaim).
  const Kernel::FlushRun last = r.k.kswapd(now, r.svc);
  EXPECT_EQ(last.next, kNeverCycle);
  EXPECT_EQ(ps.kswapd_runs, Reclaimer::kMaxReclaimRetries);
  EXPECT_EQ(ps.high_wmark_hit_quickly, Reclaimer::kMaxReclaimRetries - 1);
  EXPECT_EQ(ps.low_wmark_hit_quickly, 0U);
}

TEST(LinuxReclaim, KswapdRunsThatTakeNoTimeEndAtTheSixteenthFailure) {
  // A run that finds nothing to scan takes no time (anonymous pages, no
  // swap, no page cache: get_scan_count scans nothing) and re-runs at the
  // same cycle; each one is a kswapd failure, so the 16th makes the node
  // hopeless and kswapd naps, then sleeps: the re-runs at one cycle end.
  LinuxRig r(default_linux_config(), kFrames);
  unsigned wakes = 0;
  r.k.set_kswapd([&](Cycle /*at*/) { ++wakes; });
  r.done(100, anon_mmap(kFrames * kPage, kBuf));
  for (uint64_t i = 0; wakes == 0; ++i) r.access(100, kBuf + i * kPage, AccessKind::kWrite);
  ASSERT_EQ(r.files.frames.frames_free(), kLow - 1);  // woken by the first fault at low
  const LinuxKernel::PressureStats& ps = r.k.pressure_stats();
  const Cycle at(5000000);
  Kernel::FlushRun run{at};
  for (unsigned i = 1; i <= Reclaimer::kMaxReclaimRetries; ++i) {
    run = r.k.kswapd(at, r.svc);
    EXPECT_EQ(run.busy_until, at) << "run " << i;
    EXPECT_EQ(ps.kswapd_runs, i);
    EXPECT_EQ(r.k.reclaimer().kswapd_failures(), i);
    if (i < Reclaimer::kMaxReclaimRetries) {
      EXPECT_EQ(run.next, at) << "run " << i;
    }
  }
  EXPECT_TRUE(r.k.reclaimer().hopeless());
  EXPECT_EQ(run.next, at + kNap);
  EXPECT_EQ(ps.high_wmark_hit_quickly, Reclaimer::kMaxReclaimRetries - 1);
  EXPECT_EQ(ps.kswapd_cycles, 0U);
  EXPECT_EQ(r.k.reclaimer().stats().pgscan_kswapd, 0U);
  EXPECT_EQ(r.k.kswapd(run.next, r.svc).next, kNeverCycle);
  EXPECT_EQ(ps.kswapd_runs, Reclaimer::kMaxReclaimRetries);
}

// The rig's services, forwarded; tests override a call to act in the middle
// of the kernel's work (as another CPU or kernel thread may).
class RigServices : public KernelServices {
 public:
  explicit RigServices(LinuxRig& r) : r_(r) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    return r_.svc.mem_access(line, is_write, at);
  }
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    return r_.svc.shootdown(s, pid, self);
  }
  void release(uint64_t key) override { r_.svc.release(key); }
  void task_created(TaskId parent, TaskId child, Cycle at) override {
    r_.svc.task_created(parent, child, at);
  }
  void task_exited(TaskId t, int32_t code, bool killed, Cycle at) override {
    r_.svc.task_exited(t, code, killed, at);
  }

 protected:
  LinuxRig& r_;
};

// A fault of process 100 at `a` through `s`, its waits served at once (an
// I/O at its cycle, anything else a cycle after `at`); its outcome.
FaultOutcome fault_through(LinuxRig& r, KernelServices& s, uint64_t a, AccessKind kind,
                           uint64_t at) {
  FaultInfo f;
  f.addr = LinearAddr(a);
  f.kind = kind;
  f.fault = FaultKind::kNotPresent;
  f.pid = f.tid = 100;
  f.raised = Cycle(at);
  KernelStep st = r.k.fault(f, s);
  while (st.kind != KernelStep::Kind::kDone) {
    st = r.k.resume(f, st.key, st.kind == KernelStep::Kind::kWaitIo ? st.until : Cycle(at + 1), s);
  }
  return st.outcome;
}

// kswapd run from the first shootdown of a direct-reclaim pass's unmapping:
// a service that lets another thread run while the session is in progress
// (the simulator's do not; the session's memory traffic is sent after it
// ends), which the core must still handle.
class KswapdInDirectReclaim : public RigServices {
 public:
  using RigServices::RigServices;
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    if (!run && s.reclaim) {
      run = r_.k.kswapd(s.at, r_.svc);
      ran_at = s.at;
    }
    return RigServices::shootdown(s, pid, self);
  }
  std::optional<Kernel::FlushRun> run;
  Cycle ran_at{0};
};

// kswapd finds a task in direct reclaim: it does not run (the model runs one
// reclaim session at a time) and looks again a jiffy later, or a cycle later
// with os.linux.cost.jiffy = 0 (at the same cycle, a kernel thread that
// never lets the reclaiming task go on would spin for ever).
Kernel::FlushRun kswapd_during_direct_reclaim(const LinuxConfig& cfg, Cycle& at) {
  LinuxRig r(cfg, kFrames);
  r.k.set_kswapd([](Cycle /*at*/) {});  // woken, never run by the allocations
  // A mapped file read page by page (MADV_RANDOM: one page per fault):
  // clean page cache whose reclaim walks the rmap (page-table traffic).
  constexpr uint64_t kMap = 0x40000000;
  map_random_file(r, kMap);
  KswapdInDirectReclaim s(r);
  uint64_t t = 10000;
  for (uint64_t p = 0; r.k.pressure_stats().direct_reclaims == 0 && p < kFrames; ++p) {
    t = fault_through(r, s, kMap + p * kPage, AccessKind::kRead, t).resume.count() + 1000;
  }
  EXPECT_EQ(r.k.pressure_stats().direct_reclaims, 1U);
  EXPECT_TRUE(s.run.has_value()) << "no shootdown during direct reclaim";
  EXPECT_EQ(r.k.pressure_stats().kswapd_runs, 0U);
  EXPECT_EQ(r.k.reclaimer().stats().pgscan_kswapd, 0U);
  at = s.ran_at;
  return s.run.value_or(Kernel::FlushRun{Cycle(0)});
}

TEST(LinuxReclaim, KswapdLooksAgainAJiffyLaterWhileATaskReclaims) {
  Cycle at{0};
  const Kernel::FlushRun run = kswapd_during_direct_reclaim(default_linux_config(), at);
  EXPECT_EQ(run.busy_until, at);
  EXPECT_EQ(run.next, at + Cycles(12000000));
  LinuxConfig c = default_linux_config();
  c.cost.jiffy = Cycles(0);
  const Kernel::FlushRun zero = kswapd_during_direct_reclaim(c, at);
  EXPECT_EQ(zero.busy_until, at);
  EXPECT_EQ(zero.next, at + Cycles(1));
}

// The reclaiming task's process ends while the session's traffic is sent
// (the session is over; another thread of it calls exit_group meanwhile,
// as another CPU may): the fault ends as killed, as for a task woken after
// it was killed, instead of going on with no address space.
class ExitGroupDuringReplay : public RigServices {
 public:
  using RigServices::RigServices;
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    if (!exited && r_.k.pressure_stats().direct_reclaims != 0) {
      exited = true;
      OsEvent e;
      e.pid = 100;
      e.tid = 101;
      e.body = ExitEvent{};
      TaskCall c;
      c.task = TaskId{100, 101};
      c.cpu = 1;
      c.at = at;
      EXPECT_EQ(r_.k.event(e, c, r_.svc).kind, KernelStep::Kind::kDone);
    }
    return RigServices::mem_access(line, is_write, at);
  }
  bool exited = false;
};

TEST(LinuxReclaim, ProcessEndedWhileTheSessionsTrafficIsSentEndsTheFault) {
  LinuxRig r(default_linux_config(), kFrames);
  r.k.set_kswapd([](Cycle /*at*/) {});  // woken, never run
  constexpr uint64_t kMap = 0x40000000;
  map_random_file(r, kMap);
  ThreadCreateEvent t;
  t.child_tid = 101;
  r.done(100, t);
  ExitGroupDuringReplay s(r);
  uint64_t at = 10000;
  FaultOutcome last;
  for (uint64_t p = 0; !s.exited && p < kFrames; ++p) {
    last = fault_through(r, s, kMap + p * kPage, AccessKind::kRead, at);
    at = last.resume.count() + 1000;
  }
  ASSERT_TRUE(s.exited) << "no direct reclaim";
  EXPECT_EQ(r.k.pressure_stats().direct_reclaims, 1U);
  EXPECT_NE(r.k.process(100)->state, Process::State::kRunning);
  EXPECT_EQ(last.action, FaultOutcome::Action::kKill);
  EXPECT_EQ(last.cls, FaultClass::kSegv);
}

// os.linux.memory_max: the traced program's memory cgroup. 65536 frames keep
// the zones far above their watermarks; the 1 MiB limit (256 pages) is what
// reclaims, from the cgroup's own pages, in the caller's time.
LinuxConfig limited(uint64_t bytes) {
  LinuxConfig c = default_linux_config();
  c.pressure.memory_max = bytes;
  return c;
}

TEST(LinuxMemcg, PageCacheAtTheLimitIsReclaimedFromTheCgroup) {
  LinuxRig r(limited(1ULL << 20), 65536);
  r.done(100, file_event(1, 64ULL << 20));
  r.done(100, open_event(1, 3));
  r.done(100, anon_mmap(kPage, kBuf));
  FadviseEvent f;
  f.fd = 3;
  f.advice = linux_abi::kFadvRandom;  // one page-cache page per pread
  r.done(100, f);
  r.access(100, kBuf, AccessKind::kWrite);
  uint64_t at = 1000000;
  for (uint64_t p = 0; p < 1000; ++p) {
    KernelStep s = r.call(100, pread_page(3, p), at);
    while (s.kind != KernelStep::Kind::kDone) {
      const Cycle now = s.kind == KernelStep::Kind::kWaitIo ? s.until : Cycle(at + 1);
      s = r.k.resume_event(r.last_event, r.last_call, s.key, now, r.svc);
    }
    ASSERT_EQ(s.outcome.action, FaultOutcome::Action::kRetry) << p;
    // Checked at each entry: one page over at most (this call's).
    ASSERT_LE(r.k.memcg_usage(), 256U) << "after pread " << p;
    at = s.outcome.resume.count() + 1000;
  }
  const LinuxKernel::PressureStats& ps = r.k.pressure_stats();
  EXPECT_GT(ps.memcg_reclaims, 0U);
  EXPECT_GT(ps.memcg_max, 0U);
  EXPECT_EQ(ps.memcg_peak, 256U);
  // Global memory never ran low: no kswapd, no ALLOCSTALL, no OOM.
  EXPECT_EQ(ps.kswapd_wakeups, 0U);
  EXPECT_EQ(ps.allocstall, 0U);
  EXPECT_EQ(ps.oom_kill, 0U);
  // About 1000 - 256 pages dropped, counted as pgsteal_file but, as Linux
  // counts cgroup reclaim, not as pgsteal_direct.
  EXPECT_GT(r.k.reclaimer().stats().pgsteal_file, 700U);
  EXPECT_EQ(r.k.reclaimer().stats().pgsteal_direct, 0U);
  EXPECT_EQ(r.k.reclaimer().stats().pgscan_direct, 0U);
}

TEST(LinuxMemcg, AnonymousMemoryPastTheLimitWithoutSwapIsOomKilledInTheCgroup) {
  LinuxRig r(limited(1ULL << 20), 65536);
  r.done(100, anon_mmap(1024 * kPage, kBuf));
  uint64_t at = 1000;
  uint64_t before = 0;
  std::optional<FaultOutcome> killed;
  for (uint64_t i = 0; i < 1024 && !killed; ++i) {
    before = r.k.memcg_usage();
    const auto out = r.access(100, kBuf + i * kPage, AccessKind::kWrite, at);
    ASSERT_FALSE(out.empty());
    if (out.back().action == FaultOutcome::Action::kKill) killed = out.back();
    at = out.back().resume.count() + 1000;
  }
  ASSERT_TRUE(killed.has_value());
  // The fault that found the cgroup full: 256 pages charged, nothing the
  // cgroup could reclaim (anonymous, no swap), MAX_RECLAIM_RETRIES passes,
  // then its OOM killer took the only process.
  EXPECT_EQ(before, 256U);
  const LinuxKernel::PressureStats& ps = r.k.pressure_stats();
  EXPECT_EQ(ps.memcg_reclaims, Reclaimer::kMaxReclaimRetries);
  EXPECT_EQ(ps.memcg_oom_kill, 1U);
  EXPECT_EQ(ps.oom_kill, 1U);
  EXPECT_EQ(ps.allocstall, 0U);
  EXPECT_NE(r.k.process(100)->state, Process::State::kRunning);
  // Its memory went back: the cgroup holds (almost) nothing.
  EXPECT_LT(r.k.memcg_usage(), 8U);
}

TEST(LinuxMemcg, WithOomKillOffTheLimitStopsTheRunNamingIt) {
  LinuxConfig c = limited(1ULL << 20);
  c.pressure.oom_kill = false;
  LinuxRig r(c, 65536);
  r.done(100, anon_mmap(1024 * kPage, kBuf));
  std::optional<FaultOutcome> stopped;
  uint64_t at = 1000;
  for (uint64_t i = 0; i < 1024 && !stopped; ++i) {
    const auto out = r.access(100, kBuf + i * kPage, AccessKind::kWrite, at);
    if (out.back().action == FaultOutcome::Action::kStop) stopped = out.back();
    at = out.back().resume.count() + 1000;
  }
  ASSERT_TRUE(stopped.has_value());
  EXPECT_NE(stopped->message.find("memory cgroup"), std::string::npos) << stopped->message;
  EXPECT_NE(stopped->message.find("os.linux.memory_max (256 pages)"), std::string::npos)
      << stopped->message;
}

}  // namespace
}  // namespace mmusim

namespace mmusim {
namespace {

// Swap: anonymous memory beyond RAM goes out to a swap area on the
// recording disk and comes back by swap faults.
LinuxConfig swap_config(uint64_t swap_bytes, uint64_t max_request = uint64_t{1280} << 10) {
  LinuxConfig c = testing::default_linux_config();
  c.pressure.swap_size = swap_bytes;
  c.pressure.swap_kind = SwapKindChoice::kSolidState;
  c.pressure.swap_max_request = max_request;
  return c;
}

// The swap entry a PTE of process `pid` holds at `a`, if any.
std::optional<uint64_t> swap_entry_at(const LinuxRig& r, uint32_t pid, uint64_t a) {
  const AddressSpace* mm = r.k.address_space(pid);
  const PageTable& t = mm->table();
  const std::optional<PhysAddr> slot =
      const_cast<PageTable&>(t).leaf_entry_address(LinearAddr(a), PageSize::k4K);
  if (!slot) return std::nullopt;
  return pte_to_swp_entry(t.mode(), r.files.mem.read_entry(*slot, t.mode().entry_bytes));
}

// 5000 anonymous pages written once on 4096 frames with a 64 MiB swap area
// (16383 slots; less than half of it used, so vm_swap_full() stays false):
// the oldest pages go out to swap, to their slots on device 0 (the area is
// the device's first 64 MiB), in requests that reclaim's plug merged from
// adjacent slots up to `max_request` bytes.
struct Swapped {
  static constexpr uint64_t kN = 5000;
  explicit Swapped(uint64_t max_request = uint64_t{1280} << 10)
      : r(swap_config(64ULL << 20, max_request), kFrames) {
    r.done(100, anon_mmap(kN * kPage, kBuf));
    for (uint64_t i = 0; i < kN; ++i) {
      const auto out = r.access(100, kBuf + i * kPage, AccessKind::kWrite, at);
      at += 100000;
      EXPECT_EQ(out.back().action, FaultOutcome::Action::kRetry) << i << out.back().message;
    }
  }
  LinuxRig r;
  uint64_t at = 1000;
};

// A swap write completes while the reclaiming task's session traffic is
// sent, after the task decided to sleep until a write completes and before
// it sleeps: that completion would have woken it, so the task goes on at
// once instead of sleeping on a key already released (a lost wake-up).
// LinuxKernel's (private) key of the writeback waiters.
constexpr uint64_t kWritebackWait = (uint64_t{1} << 63) | (uint64_t{8} << 56);

// A block request's timeline with every step at its submission.
BlockTimeline instant(const BlockRequest& q) {
  BlockTimeline t;
  t.submitted = t.fetched = t.device_start = t.device_done = q.at;
  t.dma_start = t.dma_done = t.irq = q.at;
  return t;
}

class CompleteSwapWriteDuringReplay : public RigServices {
 public:
  using RigServices::RigServices;
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    const LinuxKernel::PressureStats& ps = r_.k.pressure_stats();
    if (!completed && ps.direct_reclaims + ps.direct_resumes > reclaims_before) {
      for (const BlockRequest& q : r_.files.disk.log) {
        if (!q.write || done_ids.count(q.id) != 0) continue;
        done_ids.insert(q.id);
        r_.svc.released.clear();
        r_.k.io_done(q.id, instant(q), r_.svc);
        released = r_.svc.released;
        completed = true;
        break;
      }
    }
    return RigServices::mem_access(line, is_write, at);
  }
  bool completed = false;
  uint64_t reclaims_before = 0;
  std::set<uint64_t> done_ids;
  std::vector<uint64_t> released;
};

TEST(LinuxSwap, AWriteCompletedWhileTheSessionsTrafficIsSentIsNotLost) {
  LinuxRig r(swap_config(64ULL << 20), kFrames);
  r.files.disk.async = true;            // writes complete only when the test says
  r.k.set_kswapd([](Cycle /*at*/) {});  // woken, never run: the task reclaims
  CompleteSwapWriteDuringReplay s(r);
  r.done(100, anon_mmap(5000 * kPage, kBuf));
  uint64_t at = 1000;
  bool found = false;
  for (uint64_t i = 0; i < 5000 && !found; ++i) {
    FaultInfo f;
    f.addr = LinearAddr(kBuf + i * kPage);
    f.kind = AccessKind::kWrite;
    f.fault = FaultKind::kNotPresent;
    f.pid = f.tid = 100;
    f.raised = Cycle(at);
    s.reclaims_before = r.k.pressure_stats().direct_reclaims + r.k.pressure_stats().direct_resumes;
    KernelStep st = r.k.fault(f, s);
    if (s.completed) {
      found = true;
      // The completion released the writeback waiters during the call; the
      // task must not now sleep on that key.
      ASSERT_NE(std::find(s.released.begin(), s.released.end(), kWritebackWait), s.released.end());
      EXPECT_FALSE(st.kind == KernelStep::Kind::kWaitPage && st.key == kWritebackWait);
    }
    // Complete every other write at once from here on (as a disk would).
    for (const BlockRequest& q : r.files.disk.log) {
      if (!q.write || s.done_ids.count(q.id) != 0) continue;
      s.done_ids.insert(q.id);
      r.k.io_done(q.id, instant(q), r.svc);
    }
    while (st.kind != KernelStep::Kind::kDone) {
      st =
          r.k.resume(f, st.key, st.kind == KernelStep::Kind::kWaitIo ? st.until : Cycle(at + 1), s);
    }
    at = st.outcome.resume.count() + 100000;
  }
  EXPECT_TRUE(found) << "no write completed during a session's traffic";
}

TEST(LinuxSwap, AnonymousPagesBeyondMemoryGoOutToTheirSlots) {
  Swapped t;
  LinuxRig& r = t.r;
  const LinuxKernel::SwapStats& sw = r.k.swap_stats();
  EXPECT_EQ(r.k.pressure_stats().oom_kill, 0U);
  ASSERT_GT(sw.pswpout, 0U);
  uint64_t writes = 0, pages = 0;
  for (const BlockRequest& q : r.files.disk.log) {
    if (!q.write) continue;
    ++writes;
    pages += q.bytes / kPage;
    EXPECT_EQ(q.dev, 0U);
    EXPECT_EQ(q.bytes % kPage, 0U);
    EXPECT_LE(q.bytes, uint64_t{1280} << 10);
    EXPECT_EQ(q.offset % kPage, 0U);
    EXPECT_GE(q.offset, kPage);                  // slot 0 is the header
    EXPECT_LE(q.offset + q.bytes, 64ULL << 20);  // inside the area
  }
  EXPECT_EQ(pages, sw.pswpout);
  EXPECT_EQ(writes, sw.write_requests);
  EXPECT_EQ(sw.write_requests + sw.write_merges, sw.pswpout);
  EXPECT_LT(writes, sw.pswpout);  // slots handed out in order: adjacent pages merge
  // Page 0 (the oldest) is out: its PTE holds a swap entry, the process
  // counts it in MM_SWAPENTS, and the slot is referenced by that PTE.
  const std::optional<uint64_t> e = swap_entry_at(r, 100, kBuf);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(swp_type(*e), 0U);
  EXPECT_GE(r.k.swap_area()->count(swp_offset(*e)), 1U);
  EXPECT_GT(r.k.address_space(100)->rss.swapents, 0U);
  EXPECT_EQ(r.k.address_space(100)->rss.anon + r.k.address_space(100)->rss.swapents, Swapped::kN);
  // Resident plus swapped is everything written; the allocatable total is
  // RAM + swap (CommitLimit's swap term).
  EXPECT_EQ(r.k.commit().config().swap_pages, 16383U);
}

// Reclaim's plug: the writes one flush submits (same submission time, in
// slot order) are merged wherever their slots are adjacent, and split only
// where a request reached the largest size. Checked with the default 1280 KiB
// and with 16 KiB (4 pages).
void expect_plugged(const Swapped& t, uint64_t max_request) {
  const std::vector<BlockRequest>& log = t.r.files.disk.log;
  uint64_t pages = 0, requests = 0, full = 0;
  const BlockRequest* prev = nullptr;
  for (const BlockRequest& q : log) {
    if (!q.write) continue;
    ++requests;
    pages += q.bytes / kPage;
    EXPECT_LE(q.bytes, max_request);
    if (q.bytes == max_request) ++full;
    if (prev != nullptr && prev->at == q.at && prev->offset + prev->bytes == q.offset) {
      // Adjacent in one flush: only a full request is followed by another.
      EXPECT_EQ(prev->bytes, max_request) << "slot " << q.offset / kPage;
    }
    prev = &q;
  }
  const LinuxKernel::SwapStats& sw = t.r.k.swap_stats();
  EXPECT_EQ(pages, sw.pswpout);
  EXPECT_EQ(requests, sw.write_requests);
  EXPECT_EQ(sw.write_requests + sw.write_merges, sw.pswpout);
  if (max_request == 4 * kPage) {
    EXPECT_GT(full, requests / 2);  // most runs are longer
  }
}

TEST(LinuxSwap, PluggedWritesMergeAdjacentSlotsUpToTheLargestRequest) {
  const Swapped big;
  expect_plugged(big, uint64_t{1280} << 10);
  const Swapped small(4 * kPage);
  expect_plugged(small, 4 * kPage);
  // The same pages go out either way; the small limit needs more requests.
  EXPECT_EQ(small.r.k.swap_stats().pswpout, big.r.k.swap_stats().pswpout);
  EXPECT_GT(small.r.k.swap_stats().write_requests, big.r.k.swap_stats().write_requests);
  EXPECT_GE(small.r.k.swap_stats().write_requests * 4, small.r.k.swap_stats().pswpout);
}

TEST(LinuxSwap, AReadSwapInKeepsTheSwapCopyAndAWriteDropsIt) {
  Swapped t;
  LinuxRig& r = t.r;
  // Page 0 is on swap (not in the swap cache: freed after its write).
  const uint64_t slot0 = swp_offset(*swap_entry_at(r, 100, kBuf));
  ASSERT_FALSE(r.k.swap_cache_page(slot0).has_value());
  const uint64_t reads = r.files.disk.read_sizes().size();
  // A read: do_swap_page reads it (one major fault, with readahead around
  // it), maps it, and keeps it in the swap cache (swap is not half full):
  // the slot stays, referenced by the cache alone.
  auto out = r.access(100, kBuf, AccessKind::kRead, t.at);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].cls, FaultClass::kSwapMajor);
  EXPECT_GT(out[0].timing.part[FaultTiming::kDevice] + out[0].timing.part[FaultTiming::kWake], 0U);
  EXPECT_EQ(r.files.disk.read_sizes().size(), reads + 1);  // one request (a run of slots)
  EXPECT_GE(r.k.swap_stats().pswpin, 1U);
  EXPECT_FALSE(r.k.swap_area()->full_over_half());
  const std::optional<Pfn> p0 = r.k.swap_cache_page(slot0);
  ASSERT_TRUE(p0.has_value());
  EXPECT_EQ(r.k.swap_area()->count(slot0), 1U);  // the cache's reference
  EXPECT_FALSE(r.files.frames.meta(*p0).test(FrameFlag::kDirty));
  ASSERT_TRUE(r.pte(100, kBuf).has_value());
  EXPECT_EQ(r.pte(100, kBuf)->pfn, *p0);
  // A page readahead brought in is found in the swap cache: a minor swap
  // fault, no I/O.
  uint64_t next = 1;
  while (next < 64 && !swap_entry_at(r, 100, kBuf + next * kPage)) ++next;
  const std::optional<uint64_t> e1 = swap_entry_at(r, 100, kBuf + next * kPage);
  if (e1 && r.k.swap_cache_page(swp_offset(*e1))) {
    const uint64_t before = r.files.disk.read_sizes().size();
    out = r.access(100, kBuf + next * kPage, AccessKind::kRead, t.at + 10000000);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].cls, FaultClass::kSwapMinor);
    EXPECT_EQ(r.files.disk.read_sizes().size(), before);
    EXPECT_GE(r.k.swap_stats().swap_ra_hit, 1U);
  }
  // A write to a page on swap: the copy on swap would be stale, so the page
  // leaves the swap cache and, no PTE holding it, its slot is free.
  uint64_t w = 100;
  while (w < Swapped::kN && !swap_entry_at(r, 100, kBuf + w * kPage)) ++w;
  ASSERT_LT(w, Swapped::kN);
  const uint64_t slot_w = swp_offset(*swap_entry_at(r, 100, kBuf + w * kPage));
  out = r.access(100, kBuf + w * kPage, AccessKind::kWrite, t.at + 20000000);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out.back().cls == FaultClass::kSwapMajor || out.back().cls == FaultClass::kSwapMinor);
  EXPECT_FALSE(r.k.swap_cache_page(slot_w).has_value());
  EXPECT_EQ(r.k.swap_area()->count(slot_w), 0U);
  ASSERT_TRUE(r.pte(100, kBuf + w * kPage).has_value());
  EXPECT_TRUE(r.pte(100, kBuf + w * kPage)->entry & pte::kRW);
}

// os-model.md §7 step 6: a page read back from swap stays in the swap cache,
// clean, its slot kept; evicted again it is dropped without a write (its copy
// on swap is still good) and its PTE gets the same slot back.
TEST(LinuxSwap, ACleanSwappedInPageIsEvictedAgainWithoutAWrite) {
  Swapped t;
  LinuxRig& r = t.r;
  const uint64_t slot0 = swp_offset(*swap_entry_at(r, 100, kBuf));
  ASSERT_EQ(r.access(100, kBuf, AccessKind::kRead, t.at).back().cls, FaultClass::kSwapMajor);
  ASSERT_TRUE(r.k.swap_cache_page(slot0).has_value());
  ASSERT_FALSE(swap_entry_at(r, 100, kBuf).has_value());
  const size_t mark = r.files.disk.log.size();
  const uint64_t out_before = r.k.swap_stats().pswpout;
  // New anonymous memory pushes it out again.
  constexpr uint64_t kBuf2 = 0x40000000;
  r.done(100, anon_mmap(6000 * kPage, kBuf2), t.at + 50000000);
  uint64_t at = t.at + 60000000;
  uint64_t written = 0;
  while (!swap_entry_at(r, 100, kBuf) && written < 6000) {
    const auto out = r.access(100, kBuf2 + written * kPage, AccessKind::kWrite, at);
    ASSERT_EQ(out.back().action, FaultOutcome::Action::kRetry);
    at = out.back().resume.count() + 1000;
    ++written;
  }
  ASSERT_TRUE(swap_entry_at(r, 100, kBuf).has_value()) << "page 0 never evicted again";
  EXPECT_EQ(swp_offset(*swap_entry_at(r, 100, kBuf)), slot0);
  EXPECT_FALSE(r.k.swap_cache_page(slot0).has_value());
  EXPECT_EQ(r.k.swap_area()->count(slot0), 1U);  // the PTE's reference alone
  // Other pages went out meanwhile (written); none of the writes is slot 0's.
  EXPECT_GT(r.k.swap_stats().pswpout, out_before);
  for (size_t i = mark; i < r.files.disk.log.size(); ++i) {
    const BlockRequest& q = r.files.disk.log[i];
    if (q.write) {
      EXPECT_NE(q.offset, slot0 * kPage) << "slot " << slot0 << " written again";
    }
  }
}

TEST(LinuxSwap, MunmapAndExitGiveTheSlotsBack) {
  Swapped t;
  LinuxRig& r = t.r;
  const uint64_t used = r.k.swap_area()->used();
  ASSERT_GT(used, 0U);
  // munmap of the whole buffer: every swap PTE's reference goes
  // (free_swap_and_cache), and with it every slot.
  MunmapEvent m;
  m.addr = kBuf;
  m.len = Swapped::kN * kPage;
  r.done(100, m, t.at);
  EXPECT_EQ(r.k.address_space(100)->rss.swapents, 0U);
  EXPECT_EQ(r.k.swap_area()->used() - r.k.swap_area()->cached(),
            0U);  // slots may wait in a per-CPU return cache
}

TEST(LinuxSwap, ForkDuplicatesSwapEntries) {
  // Swap-in after fork: the child's copy of a swap PTE holds the slot too
  // (swap_duplicate), so the parent's swap-in keeps it.
  Swapped t;
  LinuxRig& r = t.r;
  const uint64_t slot0 = swp_offset(*swap_entry_at(r, 100, kBuf));
  const uint32_t before = r.k.swap_area()->count(slot0);
  ProcCreateEvent f;
  f.child_pid = 101;
  f.kind = ProcCreateEvent::Kind::kFork;
  r.done(100, f, t.at);
  EXPECT_EQ(r.k.swap_area()->count(slot0), before + 1);
  ASSERT_TRUE(swap_entry_at(r, 101, kBuf).has_value());
}

TEST(LinuxSwap, AnExitingChildGivesBackItsSwapReferences) {
  // exit_mmap() releases the slot reference of every swap PTE, as munmap
  // does. Then the parent, the slot's only user again, swaps a page in on a
  // write and maps it writable (do_swap_page's exclusive case): no COW copy,
  // and the slot is free.
  Swapped t;
  LinuxRig& r = t.r;
  const uint64_t slot0 = swp_offset(*swap_entry_at(r, 100, kBuf));
  const uint32_t before = r.k.swap_area()->count(slot0);
  const uint64_t swapents = r.k.address_space(100)->rss.swapents;
  ASSERT_GT(swapents, 0U);
  ProcCreateEvent f;
  f.child_pid = 101;
  f.kind = ProcCreateEvent::Kind::kFork;
  r.done(100, f, t.at);
  ASSERT_EQ(r.k.swap_area()->count(slot0), before + 1);
  const uint64_t used = r.k.swap_area()->used();
  r.done(101, ExitEvent{}, t.at + 1000);
  WaitEvent w;
  w.child_pid = 101;
  w.ret = 101;
  ASSERT_EQ(r.call(100, w).kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.k.swap_area()->count(slot0), before);
  EXPECT_EQ(r.k.swap_area()->used(), used);  // the parent still holds every slot
  const auto out = r.access(100, kBuf, AccessKind::kWrite, t.at + 10000000);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().cls, FaultClass::kSwapMajor);
  EXPECT_EQ(r.count(FaultClass::kCowCopy), 0U);
  ASSERT_TRUE(r.pte(100, kBuf).has_value());
  EXPECT_TRUE(r.pte(100, kBuf)->entry & pte::kRW);
  EXPECT_EQ(r.k.swap_area()->count(slot0), 0U);
  // The parent's own exit releases the rest: only slots the swap cache
  // holds alone (readahead pages) remain.
  r.done(100, ExitEvent{}, t.at + 20000000);
  uint64_t cache_only = 0;
  for (uint64_t sl = 1; sl <= r.k.swap_area()->total(); ++sl) {
    if (r.k.swap_cache_page(sl)) {
      ++cache_only;
      EXPECT_EQ(r.k.swap_area()->count(sl), 1U) << "slot " << sl;
    }
  }
  EXPECT_EQ(r.k.swap_area()->used() - r.k.swap_area()->cached(), cache_only);
}

}  // namespace
}  // namespace mmusim
