// The Linux model's file-backed faults and file calls over the real page
// cache and the recording fixed disk: os-model.md §7 step 1's `t.c` vectors,
// file major/minor costs with fault-around, private-file COW, shared writes
// and msync's writeback, read() with its copy traffic.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::file_event;
using testing::open_event;

using testing::anon_mmap;
using testing::file_mmap;
using testing::kL;
using testing::LinuxRig;

constexpr uint64_t kP = 4096;
using testing::kCopy;
using testing::kZero;

uint64_t n(Cycles c) { return c.count(); }

TEST(LinuxFile, TcVectors) {
  // os-model.md §4.1/§4.2's t.c under valgrind, §7 step 1.
  LinuxRig r;
  constexpr uint32_t kParent = 25554, kChild = 25824;
  constexpr uint64_t kHeap = 0x4a2c000, kMap = 0x4b2d000;
  r.done(0, file_event(1, 65536));
  r.done(kParent, StartEvent{"t"});
  r.done(kParent, anon_mmap(1052672, kHeap));
  // malloc's header and the 1 MiB memset from kHeap + 0x10: 257 pages.
  for (uint64_t a = kHeap + 8; a < kHeap + 0x10 + (1 << 20); a += kP) {
    r.access(kParent, a, AccessKind::kWrite);
  }
  r.access(kParent, kHeap + 0x10 + (1 << 20) - 1, AccessKind::kWrite);
  EXPECT_EQ(r.count(FaultClass::kAnonWrite), 257U);
  r.done(kParent, open_event(1, 4));
  r.done(kParent, file_mmap(65536, kMap, 4, 1, true));
  // m[4096] then m[0]: one file fault; fault-around maps the other.
  auto rd = r.access(kParent, kMap + 0x1000, AccessKind::kRead);
  ASSERT_EQ(rd.size(), 1U);
  EXPECT_EQ(rd[0].cls, FaultClass::kFileMajor);
  EXPECT_TRUE(r.access(kParent, kMap, AccessKind::kRead).empty());
  // m[8192] = write: the shared page is mapped read-only (write-notify).
  EXPECT_EQ(r.fault1(kParent, kMap + 0x2000, AccessKind::kWrite, rd[0].resume.count()).cls,
            FaultClass::kSharedWrite);
  MsyncEvent ms;
  ms.addr = kMap;
  ms.len = 65536;
  ms.flags = linux_abi::kMsSync;
  KernelStep s = r.call(kParent, ms, 10000000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(r.files.cache.stats().pages_written, 1U);
  s = r.k.resume_event(r.last_event, r.last_call, s.key, s.until, r.svc);
  EXPECT_EQ(s.kind, KernelStep::Kind::kDone);
  ProcCreateEvent pc;
  pc.child_pid = kChild;
  r.done(kParent, pc, 20000000);
  // The child: p[0], p[4096] copy; m[12288] (page 3) is not mapped in the
  // child (the shared file VMA has no anon_vma, so fork did not copy it).
  EXPECT_FALSE(r.pte(kChild, kMap).has_value());
  EXPECT_TRUE(r.pte(kChild, kHeap).has_value());
  const uint64_t t = 30000000;  // after the file's read completed
  EXPECT_EQ(r.fault1(kChild, kHeap + 0x10, AccessKind::kWrite, t).cls, FaultClass::kCowCopy);
  EXPECT_EQ(r.fault1(kChild, kHeap + 0x1010, AccessKind::kWrite, t).cls, FaultClass::kCowCopy);
  EXPECT_EQ(r.fault1(kChild, kMap + 0x3000, AccessKind::kWrite, t).cls, FaultClass::kSharedWrite);
  EXPECT_EQ(r.count(FaultClass::kCowCopy), 2U);
  EXPECT_EQ(r.count(FaultClass::kSharedWrite), 2U);
  EXPECT_EQ(r.count(FaultClass::kFileMajor) + r.count(FaultClass::kFileMinor), 1U);
  r.done(kChild, ExitEvent{});
  WaitEvent w;
  w.child_pid = kChild;
  w.ret = kChild;
  EXPECT_EQ(r.call(kParent, w).kind, KernelStep::Kind::kDone);
  // munmap(0x4b2d000, 65536): the VMA is gone; an access there is a SIGSEGV.
  const size_t vmas = r.k.address_space(kParent)->vmas().size();
  MunmapEvent u;
  u.addr = kMap;
  u.len = 65536;
  r.done(kParent, u);
  EXPECT_EQ(r.k.address_space(kParent)->vmas().size(), vmas - 1);
  EXPECT_EQ(r.fault1(kParent, kMap, AccessKind::kRead).cls, FaultClass::kSegv);
  EXPECT_EQ(r.k.stats().pgmajfault, 1U);
  EXPECT_EQ(r.k.process_stats(kParent).maj_flt, 1U);
  EXPECT_EQ(r.k.process_stats(kParent).min_flt, 258U);
  EXPECT_EQ(r.k.process_stats(kChild).min_flt, 3U);
}

struct BigFile : ::testing::Test {
  static constexpr uint64_t kF = 0x7e0000000000ULL;  // 2 MiB-aligned: PTE index = page index
  void SetUp() override {
    r.done(1, file_event(2, 64ULL << 20));
    r.done(1, open_event(2, 3));
    r.done(1, file_mmap(64ULL << 20, kF, 3, 2, true, linux_abi::kProtRead));
  }
  LinuxRig r;
  const LinuxCosts& c = r.k.config().cost;
};

TEST_F(BigFile, MajorThenMinorFaultsCostTheirFormulas) {
  // Cold fault at page 5000: read-around [4984, 5015] (ra_pages 32), one
  // request submitted once io_submit is spent; the retry maps [4992, 5007].
  const uint64_t t0 = 1000000;
  KernelStep s = r.raise(1, kF + 5000 * kP, AccessKind::kRead, FaultKind::kNotPresent, t0);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  const uint64_t submit =
      t0 + n(c.trap) + n(c.vma_lookup) + n(c.vma_level) + n(c.page_cache_lookup) + n(c.io_submit);
  ASSERT_EQ(r.files.disk.log.size(), 1U);
  EXPECT_EQ(r.files.disk.log[0].at.count(), submit);
  EXPECT_EQ(r.files.disk.pages(0), (PageRange{4984, 5015}));
  EXPECT_EQ(s.until, Cycle(submit) + r.files.service(32));
  s = r.k.resume(r.last_fault, s.key, s.until, r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  const FaultOutcome& o = s.outcome;
  EXPECT_EQ(o.cls, FaultClass::kFileMajor);
  EXPECT_EQ(o.resume.count(), s.outcome.resume.count());
  // Three new tables; five entry lines (three links, two lines of leaves).
  EXPECT_EQ(o.resume - s.outcome.resume, Cycles(0));
  EXPECT_EQ(o.resume.count(), r.files.disk.done[0].count() + n(c.io_complete) + n(c.wake) +
                                  n(c.vma_lookup) + n(c.vma_level) + 15 * n(c.fault_around_page) +
                                  n(c.page_cache_lookup) + n(c.file_map) +
                                  3 * (n(c.page_alloc) + kZero) + 4 + kL + n(c.fault_return));
  EXPECT_EQ(o.timing.total(), o.resume.count() - t0);
  EXPECT_EQ(o.timing.part[FaultTiming::kDevice], r.files.disk.done[0].count() - submit);
  EXPECT_EQ(o.timing.part[FaultTiming::kIoQueue], n(c.io_submit));
  for (uint64_t i = 4992; i <= 5007; ++i) EXPECT_TRUE(r.pte(1, kF + i * kP).has_value()) << i;
  EXPECT_FALSE(r.pte(1, kF + 4991 * kP).has_value());
  EXPECT_FALSE(r.pte(1, kF + 5008 * kP).has_value());
  EXPECT_FALSE(r.pte(1, kF + 5000 * kP)->entry & pte::kRW);
  EXPECT_EQ(r.k.stats().pgmajfault, 1U);
  EXPECT_EQ(r.k.process_stats(1).maj_flt, 1U);
  EXPECT_EQ(r.k.stats().nr_mapped, 16U);
  // A page-cache hit at 4985: the window [4976, 4991] maps the cached
  // 4984..4991 (seven besides the fault), one line of entries.
  const FaultOutcome m = r.fault1(1, kF + 4985 * kP, AccessKind::kRead, 50000000);
  EXPECT_EQ(m.cls, FaultClass::kFileMinor);
  EXPECT_EQ(m.resume.count() - 50000000, n(c.trap) + n(c.vma_lookup) + n(c.vma_level) +
                                             7 * n(c.fault_around_page) + n(c.page_cache_lookup) +
                                             n(c.file_map) + kL + n(c.fault_return));
  EXPECT_EQ(r.k.stats().fault_around_pages, 15U + 7U);
  EXPECT_EQ(r.files.disk.log.size(), 1U);
}

TEST_F(BigFile, SecondFaultOnAPageUnderIoWaitsForTheFirst) {
  // Two threads fault the same cold page: the second sleeps on the page
  // lock, is woken when the first installs, and finds the page present.
  KernelStep a = r.raise(1, kF, AccessKind::kRead, FaultKind::kNotPresent, 1000, 0, 1);
  ASSERT_EQ(a.kind, KernelStep::Kind::kWaitIo);
  const FaultInfo fa = r.last_fault;
  KernelStep b = r.raise(1, kF, AccessKind::kRead, FaultKind::kNotPresent, 2000, 1, 7);
  ASSERT_EQ(b.kind, KernelStep::Kind::kWaitPage);
  const FaultInfo fb = r.last_fault;
  const Cycle io_done = a.until;
  a = r.k.resume(fa, a.key, io_done, r.svc);
  ASSERT_EQ(a.kind, KernelStep::Kind::kDone);
  ASSERT_EQ(r.svc.released.size(), 1U);
  EXPECT_EQ(r.svc.released[0], b.key);
  // Woken when the first released the lock, before it returned: it waits
  // for that return.
  b = r.k.resume(fb, b.key, io_done, r.svc);
  ASSERT_EQ(b.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(b.until, a.outcome.resume);
  b = r.k.resume(fb, b.key, b.until, r.svc);
  ASSERT_EQ(b.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(b.outcome.cls, FaultClass::kSpurious);
  EXPECT_EQ(b.outcome.timing.total(), b.outcome.resume.count() - 2000);
  EXPECT_EQ(r.k.stats().nr_mapped, 16U);  // mapped once
  EXPECT_EQ(r.files.disk.log.size(), 1U);
  EXPECT_EQ(r.k.stats().lock_waits, 1U);
}

TEST_F(BigFile, PrivateWriteCopiesThePageCachePage) {
  r.done(1, file_mmap(64ULL << 20, kF + (1ULL << 30), 3, 2, false));
  r.access(1, kF + 100 * kP, AccessKind::kRead);  // caches [84, 115]
  r.svc.clear();
  const FaultOutcome o = r.fault1(1, kF + (1ULL << 30) + 100 * kP, AccessKind::kWrite, 90000000);
  EXPECT_EQ(o.cls, FaultClass::kCowCopy);
  EXPECT_EQ(o.resume.count() - 90000000,
            n(c.trap) + n(c.vma_lookup) + n(c.vma_level) + n(c.page_cache_lookup) +
                n(c.page_alloc) + kCopy + n(c.cow_setup) + 2 * (n(c.page_alloc) + kZero) + 2 + kL +
                n(c.fault_return));  // a new PD and PT (same PDPT), three lines
  EXPECT_EQ(r.svc.data(false), 64U);
  EXPECT_EQ(r.svc.data(true), 64U);
  EXPECT_NE(r.pte(1, kF + (1ULL << 30) + 100 * kP)->pfn, r.pte(1, kF + 100 * kP)->pfn);
  EXPECT_TRUE(r.vma(1, kF + (1ULL << 30))->anon_vma);
}

TEST(LinuxFile, MsyncWritesTheDirtyPagesAndWriteProtectsThem) {
  LinuxRig r;
  constexpr uint64_t kM = 0x7e0000000000ULL;
  r.done(1, file_event(3, 8 * kP));
  r.done(1, open_event(3, 3));
  r.done(1, file_mmap(8 * kP, kM, 3, 3, true));
  r.access(1, kM, AccessKind::kRead);
  const LinuxCosts& c = r.k.config().cost;
  const FaultOutcome w = r.fault1(1, kM + kP, AccessKind::kWrite, 4000000);
  EXPECT_EQ(w.cls, FaultClass::kSharedWrite);
  EXPECT_EQ(w.resume.count() - 4000000,
            n(c.trap) + n(c.vma_lookup) + n(c.vma_level) + n(c.wp_shared) + kL + n(c.fault_return));
  EXPECT_TRUE(r.pte(1, kM + kP)->entry & pte::kRW);
  EXPECT_EQ(r.fault1(1, kM + 3 * kP, AccessKind::kWrite).cls, FaultClass::kSharedWrite);
  EXPECT_EQ(r.files.cache.stats().nr_dirty, 2U);
  MsyncEvent ms;
  ms.addr = kM;
  ms.len = 8 * kP;
  ms.flags = linux_abi::kMsAsync;  // a no-op
  EXPECT_EQ(r.call(1, ms).kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.files.cache.stats().pages_written, 0U);
  ms.flags = linux_abi::kMsSync;
  KernelStep s = r.call(1, ms, 5000000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(r.files.cache.stats().pages_written, 2U);
  EXPECT_EQ(r.files.cache.stats().nr_dirty, 0U);
  EXPECT_EQ(r.k.stats().writeback_mkclean, 2U);
  EXPECT_FALSE(r.pte(1, kM + kP)->entry & (pte::kRW | pte::kD));
  const Cycle written = s.until;
  s = r.k.resume_event(r.last_event, r.last_call, s.key, written, r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(s.outcome.flush.kind, FaultOutcome::LocalFlush::Kind::kPages);
  EXPECT_EQ(s.outcome.flush.pages, 3U);  // pages 1 to 3
  EXPECT_EQ(s.outcome.timing.total(), s.outcome.resume.count() - 5000000);
  EXPECT_EQ(s.outcome.resume, written + c.io_complete + c.wake + c.syscall_exit);
  // The next write faults again (one minor fault per page per writeback).
  EXPECT_EQ(r.fault1(1, kM + kP, AccessKind::kWrite).cls, FaultClass::kSharedWrite);
}

TEST(LinuxFile, ReadCopiesIntoTheUserBufferFaultingItIn) {
  LinuxRig r;
  constexpr uint64_t kB = 0x7f0000000000ULL;
  r.done(1, file_event(4, 4 * kP));
  r.done(1, open_event(4, 5));
  r.done(1, anon_mmap(4 * kP, kB));
  RwEvent rd;
  rd.fd = 5;
  rd.len = 2 * kP;
  rd.buf = kB;
  rd.ret = 2 * kP;
  KernelStep s = r.call(1, rd, 1000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);  // a cold read
  r.svc.clear();
  s = r.k.resume_event(r.last_event, r.last_call, s.key, s.until, r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.k.stats().inline_faults, 2U);
  EXPECT_EQ(r.count(FaultClass::kAnonWrite), 2U);
  // Each is reported once, as a uaccess fault: the buffer's two pages, in
  // order, written by the kernel (not a user access), each latency its
  // breakdown's sum, the second starting after the first ended.
  std::vector<std::pair<FaultInfo, FaultOutcome>> ua;
  r.k.drain_uaccess_faults(
      [&ua](const FaultInfo& f, const FaultOutcome& o) { ua.emplace_back(f, o); });
  ASSERT_EQ(ua.size(), 2U);
  for (size_t i = 0; i < 2; ++i) {
    const auto& [f, o] = ua[i];
    EXPECT_EQ(o.cls, FaultClass::kUaccess);
    EXPECT_EQ(f.addr.value(), kB + i * kP);
    EXPECT_EQ(f.kind, AccessKind::kWrite);
    EXPECT_EQ(f.fault, FaultKind::kNotPresent);
    EXPECT_FALSE(f.user);
    EXPECT_EQ(f.pid, 1U);
    EXPECT_EQ(o.action, FaultOutcome::Action::kRetry);
    uint64_t sum = 0;
    for (uint64_t part : o.timing.part) sum += part;
    EXPECT_EQ((o.resume - f.raised).count(), sum);
    EXPECT_EQ(o.timing.part[FaultTiming::kTrap], r.k.config().cost.trap.count());
    EXPECT_GT(o.timing.part[FaultTiming::kZeroCopy], 0U);  // the zero-fill
  }
  EXPECT_GE(ua[1].first.raised, ua[0].second.resume);
  ua.clear();
  r.k.drain_uaccess_faults(
      [&ua](const FaultInfo& f, const FaultOutcome& o) { ua.emplace_back(f, o); });
  EXPECT_TRUE(ua.empty());  // drained
  EXPECT_EQ(r.k.stats().copy_lines, 128U);
  EXPECT_EQ(r.svc.data(false), 128U);       // page-cache lines read
  EXPECT_EQ(r.svc.data(true), 128U + 128);  // buffer lines written, two zero-fills
  EXPECT_EQ(r.k.process(1)->fds.at(5)->pos, 2 * kP);
  // The rest is cached (readahead): no wait, no fault.
  r.svc.clear();
  EXPECT_EQ(r.call(1, rd, 9000000).kind, KernelStep::Kind::kDone);
  EXPECT_EQ(r.k.stats().inline_faults, 2U);
  r.k.drain_uaccess_faults(
      [&ua](const FaultInfo& f, const FaultOutcome& o) { ua.emplace_back(f, o); });
  EXPECT_TRUE(ua.empty());
  EXPECT_EQ(r.k.stats().copy_lines, 256U);
  EXPECT_EQ(r.k.process(1)->fds.at(5)->pos, 4 * kP);
}

// An asynchronous block queue (the disk controller): the fault waits on the
// request's key with no known cycle; the completion releases the key and its
// timeline becomes the fault's breakdown: queue (doorbell, fetch), device,
// DMA, interrupt, then the wait for the CPU, completion and wake-up costs.
TEST_F(BigFile, AsynchronousCompletionTimesTheMajorFaultStepByStep) {
  r.files.disk.async = true;
  const uint64_t t0 = 1000000;
  KernelStep s = r.raise(1, kF + 5000 * kP, AccessKind::kRead, FaultKind::kNotPresent, t0);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.until, kNeverCycle);  // unknown until the interrupt
  ASSERT_EQ(r.files.disk.log.size(), 1U);
  const BlockRequest& q = r.files.disk.log[0];
  EXPECT_EQ(q.id, s.key);
  EXPECT_EQ(q.bytes, 32 * kP);
  ASSERT_EQ(q.frames.size(), 32U);  // the DMA targets: the 32 new page-cache frames
  EXPECT_EQ(r.files.cache.in_flight(), 1U);
  const uint64_t submit = q.at.count();
  // Meanwhile another fault on the same page finds it under I/O: it waits
  // on the same key.
  BlockTimeline t;
  t.submitted = q.at;
  t.fetched = q.at + Cycles(3300);
  t.device_start = t.fetched + Cycles(100);  // a short device queue
  t.device_done = t.device_start + Cycles(262000);
  t.dma_start = t.device_done;
  t.dma_done = t.dma_start + Cycles(110000);
  t.irq = t.dma_done + Cycles(3300);
  r.svc.released.clear();
  r.k.io_done(q.id, t, r.svc);
  ASSERT_EQ(r.svc.released, std::vector<uint64_t>{q.id});
  EXPECT_EQ(r.files.cache.in_flight(), 0U);
  const Cycle now = t.irq + Cycles(500);  // the task got its CPU back 500 cycles later
  s = r.k.resume(r.last_fault, s.key, now, r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  const FaultOutcome& o = s.outcome;
  EXPECT_EQ(o.cls, FaultClass::kFileMajor);
  EXPECT_EQ(o.timing.part[FaultTiming::kIoQueue], n(c.io_submit) + 3400);
  EXPECT_EQ(o.timing.part[FaultTiming::kDevice], 262000U);
  EXPECT_EQ(o.timing.part[FaultTiming::kDma], 110000U);
  EXPECT_EQ(o.timing.part[FaultTiming::kInterrupt], 3300 + n(c.io_complete));
  EXPECT_EQ(o.timing.part[FaultTiming::kWake], 500 + n(c.wake));
  EXPECT_EQ(o.timing.total(), o.resume.count() - t0);
  EXPECT_EQ(submit, t0 + n(c.trap) + n(c.vma_lookup) + n(c.vma_level) + n(c.page_cache_lookup) +
                        n(c.io_submit));
  // The pages are uptodate from the interrupt: a fault at 4985 is minor.
  EXPECT_EQ(r.fault1(1, kF + 4985 * kP, AccessKind::kRead, now.count() + 1000).cls,
            FaultClass::kFileMinor);
  // A completion nobody submitted is a logic error.
  EXPECT_THROW(r.k.io_done(q.id, t, r.svc), std::logic_error);
}

// msync(MS_SYNC) over two dirty runs on an asynchronous queue: two write
// requests in one completion group; the call waits for the group, released
// with the later of the two completions, whose timeline is the breakdown.
TEST(LinuxFile, MsyncWaitsForEveryWriteOfItsGroup) {
  LinuxRig r;
  constexpr uint64_t kM = 0x7e0000000000ULL;
  r.done(1, file_event(3, 8 * kP));
  r.done(1, open_event(3, 3));
  r.done(1, file_mmap(8 * kP, kM, 3, 3, true));
  r.access(1, kM, AccessKind::kRead);
  r.fault1(1, kM + kP, AccessKind::kWrite, 4000000);
  r.fault1(1, kM + 3 * kP, AccessKind::kWrite, 4100000);
  r.files.disk.async = true;
  ASSERT_EQ(r.files.disk.log.size(), 1U);  // the read of the first fault
  MsyncEvent ms;
  ms.addr = kM;
  ms.len = 8 * kP;
  ms.flags = linux_abi::kMsSync;
  KernelStep s = r.call(1, ms, 5000000);
  ASSERT_EQ(s.kind, KernelStep::Kind::kWaitIo);
  EXPECT_EQ(s.until, kNeverCycle);
  ASSERT_EQ(r.files.disk.log.size(), 3U);  // pages 1 and 3: two runs
  const BlockRequest a = r.files.disk.log[1], b = r.files.disk.log[2];
  EXPECT_TRUE(a.write && b.write);
  EXPECT_EQ(a.frames.size(), 1U);
  auto timeline = [](Cycle at, uint64_t device) {
    BlockTimeline t;
    t.submitted = at;
    t.fetched = at + Cycles(3300);
    t.dma_start = t.fetched;
    t.dma_done = t.dma_start + Cycles(3500);  // a write: the DMA reads memory first
    t.device_start = t.dma_done;
    t.device_done = t.device_start + Cycles(device);
    t.irq = t.device_done + Cycles(3300);
    return t;
  };
  const BlockTimeline tb = timeline(b.at, 9000), ta = timeline(a.at, 20000);
  r.svc.released.clear();
  r.k.io_done(b.id, tb, r.svc);
  EXPECT_TRUE(r.svc.released.empty());  // one write still out
  r.k.io_done(a.id, ta, r.svc);
  ASSERT_EQ(r.svc.released, std::vector<uint64_t>{s.key});
  s = r.k.resume_event(r.last_event, r.last_call, s.key, ta.irq, r.svc);
  ASSERT_EQ(s.kind, KernelStep::Kind::kDone);
  const LinuxCosts& c = r.k.config().cost;
  EXPECT_EQ(s.outcome.timing.part[FaultTiming::kDma], 3500U);
  EXPECT_EQ(s.outcome.timing.part[FaultTiming::kDevice], 20000U);
  EXPECT_EQ(s.outcome.resume, ta.irq + c.io_complete + c.wake + c.syscall_exit);
  EXPECT_EQ(s.outcome.timing.total(), s.outcome.resume.count() - 5000000);
  EXPECT_EQ(r.files.cache.timeline(s.key), nullptr);  // the group was forgotten
}

}  // namespace
}  // namespace mmusim
