// The default costs against design.md §7's calibration targets, with the
// kernel's memory traffic served by the default DRAM (DDR4-3200, one
// channel, 3 GHz core): anonymous write fault 0.6-2.0 µs, page-cache minor
// fault with fault-around 0.4-0.9 µs, COW copy 1.5-6.5 µs, fork 73-160 ns
// per present PTE.
#include <gtest/gtest.h>

#include "models/dram/dram.h"
#include "tests/os/linux_rig.h"

namespace mmusim {
namespace {

using testing::anon_mmap;
using testing::LinuxRig;

constexpr uint64_t kA = 0x7f0000000000ULL;
constexpr uint64_t kP = 4096;
constexpr double kCyclesPerUs = 3000.0;  // sim.core_clock_mhz default

// Services whose memory is the DRAM model (requests in call order).
class DramServices : public testing::FakeServices {
 public:
  explicit DramServices(const PageFrameAllocator& f) : FakeServices(f), dram(DramConfig{}) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    at = max(at, last);  // the DRAM core serves requests in arrival order
    last = at;
    return dram.access(line, is_write, at);
  }
  Dram dram;
  Cycle last;
};

struct Calibration : ::testing::Test {
  Calibration() : dsvc(r.files.frames) {}
  // One fault, served at once, on the DRAM services.
  FaultOutcome fault(uint32_t pid, uint64_t a, AccessKind kind, FaultKind fk, uint64_t at) {
    FaultInfo f;
    f.addr = LinearAddr(a);
    f.kind = kind;
    f.fault = fk;
    f.pid = pid;
    f.tid = pid;
    f.raised = Cycle(at);
    KernelStep s = r.k.fault(f, dsvc);
    while (s.kind != KernelStep::Kind::kDone) s = r.k.resume(f, s.key, s.until, dsvc);
    return s.outcome;
  }
  FaultOutcome event(uint32_t pid, OsEventBody b, uint64_t at) {
    OsEvent e;
    e.pid = pid;
    e.tid = pid;
    e.body = std::move(b);
    TaskCall c;
    c.task = TaskId{pid, pid};
    c.at = Cycle(at);
    KernelStep s = r.k.event(e, c, dsvc);
    while (s.kind != KernelStep::Kind::kDone) s = r.k.resume_event(e, c, s.key, s.until, dsvc);
    return s.outcome;
  }
  static double us(const FaultOutcome& o, uint64_t at) {
    return static_cast<double>(o.resume.count() - at) / kCyclesPerUs;
  }
  LinuxRig r;
  DramServices dsvc;
  uint64_t t = 1000;
};

TEST_F(Calibration, AnonymousWriteFault) {
  event(1, anon_mmap(1 << 20, kA), t);
  fault(1, kA, AccessKind::kWrite, FaultKind::kNotPresent, t += 100000);  // makes the tables
  double total = 0;
  for (int i = 1; i <= 16; ++i) {
    const FaultOutcome o =
        fault(1, kA + i * kP, AccessKind::kWrite, FaultKind::kNotPresent, t += 100000);
    ASSERT_EQ(o.cls, FaultClass::kAnonWrite);
    total += us(o, t);
  }
  const double mean = total / 16;
  EXPECT_GE(mean, 0.6);
  EXPECT_LE(mean, 2.0);
  RecordProperty("anon_write_us", std::to_string(mean));
}

TEST_F(Calibration, CowCopyFault) {
  event(1, anon_mmap(1 << 20, kA), t);
  for (int i = 0; i < 17; ++i) {
    fault(1, kA + i * kP, AccessKind::kWrite, FaultKind::kNotPresent, t += 100000);
  }
  ProcCreateEvent pc;
  pc.child_pid = 2;
  event(1, pc, t += 100000);
  fault(2, kA, AccessKind::kWrite, FaultKind::kWriteProtect, t += 1000000);
  double total = 0;
  for (int i = 1; i <= 16; ++i) {
    const FaultOutcome o =
        fault(2, kA + i * kP, AccessKind::kWrite, FaultKind::kWriteProtect, t += 100000);
    ASSERT_EQ(o.cls, FaultClass::kCowCopy);
    total += us(o, t);
  }
  const double mean = total / 16;
  EXPECT_GE(mean, 1.5);
  EXPECT_LE(mean, 6.5);
  RecordProperty("cow_copy_us", std::to_string(mean));
}

TEST_F(Calibration, ForkPerPresentPte) {
  constexpr uint64_t kPages = 4096;  // 16 MiB
  event(1, anon_mmap(kPages * kP, kA), t);
  for (uint64_t i = 0; i < kPages; ++i) {
    fault(1, kA + i * kP, AccessKind::kWrite, FaultKind::kNotPresent, t += 10000);
  }
  ProcCreateEvent pc;
  pc.child_pid = 2;
  const FaultOutcome o = event(1, pc, t += 100000);
  const double ns = us(o, t) * 1000 / kPages;
  EXPECT_GE(ns, 73.0);
  EXPECT_LE(ns, 160.0);
  RecordProperty("fork_ns_per_pte", std::to_string(ns));
}

TEST_F(Calibration, PageCacheMinorFaultWithFaultAround) {
  FileEvent fe;
  fe.file_id = 1;
  fe.size = 1 << 20;
  event(1, fe, t);
  OpenEvent op;
  op.file_id = 1;
  op.ret = 3;
  event(1, op, t);
  event(1, testing::file_mmap(1 << 20, kA, 3, 1, true, linux_abi::kProtRead), t);
  FadviseEvent wn;  // the whole file in the page cache first
  wn.fd = 3;
  wn.len = 1 << 20;
  wn.advice = linux_abi::kFadvWillNeed;
  event(1, wn, t);
  t += 30000000;
  fault(1, kA, AccessKind::kRead, FaultKind::kNotPresent, t);  // makes the tables
  double total = 0;
  for (int i = 1; i <= 8; ++i) {
    const uint64_t a = kA + (i * 16 + 5) * kP;
    const FaultOutcome o = fault(1, a, AccessKind::kRead, FaultKind::kNotPresent, t += 100000);
    ASSERT_EQ(o.cls, FaultClass::kFileMinor);
    total += us(o, t);
  }
  EXPECT_EQ(r.k.stats().fault_around_pages, 9 * 15U);
  const double mean = total / 8;
  EXPECT_GE(mean, 0.4);
  EXPECT_LE(mean, 0.9);
  RecordProperty("file_minor_us", std::to_string(mean));
}

}  // namespace
}  // namespace mmusim
