// A Linux kernel core over a real allocator, simulated memory, a page cache
// on the recording fixed disk, and fake kernel services whose memory answers
// every request after a fixed latency; plus a CPU stand-in that walks the
// real page tables and delivers the fault an access would raise.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "models/os/linux_kernel.h"
#include "tests/os/file_cache_rig.h"

namespace mmusim::testing {

constexpr uint64_t kL = 100;  // memory latency of the fake services, cycles
// The kernel's line loops with the default fill buffers (LineIssue: kBuf
// requests in flight, each holding its buffer kL cycles, kL >= kBuf): the 64
// lines of a page go in kRounds rounds, a round's requests one per cycle.
// zero_page: round r's writes issue at r * kL + j (j < kBuf), so the last
// (line 63: round kRounds - 1, j = 63 % kBuf) completes at kRounds * kL +
// 63 % kBuf. copy_page: round r's reads issue at 2 * r * kL + j and each
// write takes its read's buffer when the read completes, so a round takes
// 2 * kL and the last write completes at 2 * kRounds * kL + 63 % kBuf.
constexpr uint64_t kBuf = LineIssue{}.in_flight;
constexpr uint64_t kRounds = 63 / kBuf + 1;
constexpr uint64_t kZero = kRounds * kL + 63 % kBuf;
constexpr uint64_t kCopy = 2 * kRounds * kL + 63 % kBuf;
static_assert(kBuf == 12 && kZero == 603 && kCopy == 1203);

struct MemRequest {
  uint64_t line;
  bool write;
  Cycle at;
};

class FakeServices : public KernelServices {
 public:
  explicit FakeServices(const PageFrameAllocator& f) : frames(f) {}
  Cycle mem_access(PhysAddr line, bool is_write, Cycle at) override {
    log.push_back(MemRequest{line.value(), is_write, at});
    return at + Cycles(kL);
  }
  Cycle shootdown(const Shootdown& s, uint32_t pid, uint32_t self) override {
    bool any = false;
    for (const auto& [cpu, p] : running) {
      if (cpu != self && p == pid) any = true;
    }
    if (any) sent.push_back(s);
    return any ? s.at + Cycles(kShootdownCost) : s.at;
  }
  void release(uint64_t key) override { released.push_back(key); }
  void task_created(TaskId parent, TaskId child, Cycle at) override {
    created.push_back({parent, child});
    (void)at;
  }
  void task_exited(TaskId t, int32_t code, bool killed, Cycle /*at*/) override {
    exited.push_back(t);
    codes.push_back(code);
    kills += killed ? 1 : 0;
  }
  // Requests to data frames (not page tables): the zero-fill and copy traffic.
  [[nodiscard]] uint64_t data(bool write) const {
    uint64_t n = 0;
    for (const MemRequest& r : log) {
      const PageFrame* m = frames.find_meta(Pfn(r.line >> 12));
      if (r.write == write && (m == nullptr || !m->test(FrameFlag::kPageTable))) ++n;
    }
    return n;
  }
  [[nodiscard]] uint64_t table_writes() const { return log.size() - data(true) - data(false); }
  void clear() {
    log.clear();
    sent.clear();
    released.clear();
  }
  static constexpr uint64_t kShootdownCost = 5000;
  const PageFrameAllocator& frames;
  std::vector<MemRequest> log;
  std::vector<Shootdown> sent;
  std::vector<uint64_t> released;
  std::vector<std::pair<TaskId, TaskId>> created;
  std::vector<TaskId> exited;
  std::vector<int32_t> codes;
  uint64_t kills = 0;
  std::map<uint32_t, uint32_t> running;  // cpu -> pid, for shootdowns
};

inline LinuxConfig default_linux_config() {
  LinuxConfig c;
  validate_linux_config(c);
  return c;
}

struct LinuxRig {
  explicit LinuxRig(LinuxConfig cfg = default_linux_config(), uint64_t frames_n = 65536)
      : files(cfg.file_cache, frames_n),
        svc(files.frames),
        k(cfg, files.mem, files.frames, files.cache) {}

  KernelStep call(uint32_t pid, OsEventBody body, uint64_t at = 1000, uint32_t tid = 0,
                  uint32_t cpu = 0) {
    OsEvent e;
    e.pid = pid;
    e.tid = tid != 0 ? tid : pid;
    e.body = std::move(body);
    TaskCall c;
    c.task = TaskId{e.pid, e.tid};
    c.cpu = cpu;
    c.at = Cycle(at);
    last_event = e;
    last_call = c;
    return k.event(e, c, svc);
  }
  FaultOutcome done(uint32_t pid, OsEventBody body, uint64_t at = 1000) {
    KernelStep s = call(pid, std::move(body), at);
    EXPECT_EQ(s.kind, KernelStep::Kind::kDone);
    return s.outcome;
  }
  // The fault an access of `kind` to `a` raises now, by the page table.
  [[nodiscard]] std::optional<FaultKind> would_fault(uint32_t pid, uint64_t a,
                                                     AccessKind kind) const {
    (void)k.root(pid);  // an unknown pid is created on the spot
    const AddressSpace* mm = k.address_space(pid);
    if (mm == nullptr) return FaultKind::kNotPresent;  // exited
    auto m = mm->table().lookup(LinearAddr(a));
    if (!m) return FaultKind::kNotPresent;
    if (!(m->entry & pte::kUS)) return FaultKind::kUserSupervisor;
    if (kind == AccessKind::kWrite && !(m->entry & pte::kRW)) return FaultKind::kWriteProtect;
    if (kind == AccessKind::kFetch && (m->entry & pte::kXD)) return FaultKind::kExecuteDisable;
    return std::nullopt;
  }
  KernelStep raise(uint32_t pid, uint64_t a, AccessKind kind, FaultKind fk, uint64_t at,
                   uint32_t cpu = 0, uint32_t tid = 0) {
    FaultInfo f;
    f.addr = LinearAddr(a);
    f.kind = kind;
    f.fault = fk;
    f.cpu = cpu;
    f.pid = pid;
    f.tid = tid != 0 ? tid : pid;
    f.raised = Cycle(at);
    last_fault = f;
    return k.fault(f, svc);
  }
  // An access as the CPU makes it: faults until it goes through (waits are
  // served at once at their time). Returns the outcomes, in order.
  std::vector<FaultOutcome> access(uint32_t pid, uint64_t a, AccessKind kind, uint64_t at = 1000,
                                   uint32_t cpu = 0) {
    std::vector<FaultOutcome> out;
    for (int i = 0; i < 4; ++i) {
      auto fk = would_fault(pid, a, kind);
      if (!fk) break;
      KernelStep s = raise(pid, a, kind, *fk, at, cpu);
      while (s.kind != KernelStep::Kind::kDone) {
        const Cycle now = s.kind == KernelStep::Kind::kWaitIo ? s.until : Cycle(at + 1);
        s = k.resume(last_fault, s.key, now, svc);
      }
      out.push_back(s.outcome);
      at = s.outcome.resume.count();
      if (s.outcome.action != FaultOutcome::Action::kRetry) break;
    }
    return out;
  }
  // One access that must fault exactly once; its outcome.
  FaultOutcome fault1(uint32_t pid, uint64_t a, AccessKind kind, uint64_t at = 1000) {
    auto o = access(pid, a, kind, at);
    EXPECT_EQ(o.size(), 1U) << "access at " << std::hex << a;
    return o.empty() ? FaultOutcome{} : o.front();
  }
  [[nodiscard]] uint64_t count(FaultClass c) const {
    return k.stats().faults[static_cast<size_t>(c)];
  }
  [[nodiscard]] const Vma* vma(uint32_t pid, uint64_t a) const {
    return k.address_space(pid)->vmas().find(a);
  }
  [[nodiscard]] std::optional<Mapping> pte(uint32_t pid, uint64_t a) const {
    return k.address_space(pid)->table().lookup(LinearAddr(a));
  }

  FileCacheRig files;
  FakeServices svc;
  LinuxKernel k;
  OsEvent last_event;
  TaskCall last_call;
  FaultInfo last_fault;
};

// A FILE event: file `id` of `size` bytes on device 0.
inline FileEvent file_event(uint32_t id, uint64_t size = 0) {
  FileEvent f;
  f.file_id = id;
  f.size = size;
  return f;
}

// An OPEN of file `id` (read-write) that returned descriptor `fd`.
inline OpenEvent open_event(uint32_t id, int64_t fd) {
  OpenEvent o;
  o.file_id = id;
  o.flags = linux_abi::kORdWr;
  o.ret = fd;
  return o;
}

inline MmapEvent anon_mmap(uint64_t len, uint64_t ret, uint32_t prot = 3, bool shared = false) {
  MmapEvent m;
  m.len = len;
  m.prot = prot;
  m.flags = linux_abi::kMapAnonymous | (shared ? linux_abi::kMapShared : linux_abi::kMapPrivate);
  m.ret = static_cast<int64_t>(ret);
  return m;
}

inline MmapEvent file_mmap(uint64_t len, uint64_t ret, int32_t fd, uint32_t file_id, bool shared,
                           uint32_t prot = 3, uint64_t offset = 0) {
  MmapEvent m;
  m.len = len;
  m.prot = prot;
  m.flags = shared ? linux_abi::kMapShared : linux_abi::kMapPrivate;
  m.fd = fd;
  m.file_id = file_id;
  m.offset = offset;
  m.ret = static_cast<int64_t>(ret);
  return m;
}

inline uint64_t sum(const FaultTiming& t) { return t.total(); }

}  // namespace mmusim::testing
