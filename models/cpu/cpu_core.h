// One simulated CPU's translation path as plain C++: address generator →
// segmentation unit (logical → linear) → TLB hierarchy → MSHRs → page walker
// → the kernel. The unit cores are the CPU's parts: their SystemC modules own
// them (or the core owns them, for plain C++ use); everything shared or
// external (memory timing, synchronization, the kernel) goes through Env.
//
// Misses do not stop the CPU: a walk runs as a step machine (walker.h) while
// younger accesses issue; its completion fills the TLBs at its time, and the
// accesses that waited for it (the miss itself, and misses to the same page
// that merged into its MSHR) retire then. Walk events are processed in time
// order with the CPU's own progress: before an access looks up the TLBs at
// cycle T, every walk event up to T has happened. A fault is precise: the
// CPU drains every walk, delivers the fault, and replays the access.
//
// Segmentation stage: flat and long modes with no segment record take a
// two-instruction fast path (long mode adds the canonical check: a
// non-canonical access raises #GP/#SS here, before any TLB lookup; the
// walker's own check stays as a defence). Real and protected modes, segment
// overrides, selector loads and descriptor records go through the seg core.
// A segmentation fault skips the access (done at issue + segment cost).
//
// Data side (cache.data, use_data_caches()): once an R/W access has its
// physical address, it reads or writes the L1D line by line at the cycle its
// translation completes (an X fetch the L1I); a hit is a plain call on the
// cache core, a miss goes below through Env::data_miss(). The access retires
// when its data is there (in order: no earlier than the access before it), so
// the window and the L1D's MSHRs bound the memory-level parallelism. An
// access that waits on a walk makes its data access when the walk completes;
// a faulting one after the replay found its page; a skipped one makes none.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "models/cache/cache.h"
#include "models/common/fault.h"
#include "models/common/phys_mem.h"
#include "models/common/stats.h"
#include "models/cpu/address_generator.h"
#include "models/cpu/cpu_context.h"
#include "models/cpu/explain.h"
#include "models/cpu/translation_stall.h"
#include "models/seg/segmentation.h"
#include "models/tlb/tlb_hierarchy.h"
#include "models/walker/walker.h"

namespace mmusim {

// Descriptor-table contents of one address space, shared by its CPUs: an
// image by linear address (the default flat GDT overlaid with the trace's
// GDT/LDT records), copied into simulated memory one 4 KiB linear page at a
// time when a CPU first reads or writes a descriptor there, i.e. after the
// normal translation path (first touch included) has mapped the page.
class DescriptorTables {
 public:
  // The mode's default tables: the flat GDT (64-bit code segments in long
  // mode) at seg.gdt_base, as many entries as seg.gdt_limit covers. Empty in
  // real and flat modes.
  static DescriptorTables defaults(const SegConfig& c);
  void set(LinearAddr a, uint64_t descriptor) { image_[a.value()] = descriptor; }
  [[nodiscard]] uint64_t get(LinearAddr a) const {
    auto it = image_.find(a.value());
    return it == image_.end() ? 0 : it->second;
  }
  // Writes the image of the linear page holding `a` into memory at the frame
  // `pa` (the translation of `a`) unless that page was copied already.
  void populate(LinearAddr a, PhysAddr pa, PhysMem& mem);
  // Bumped when a trace record rewrites a descriptor: every CPU then drops
  // its cached descriptors before its next selector load.
  [[nodiscard]] uint64_t generation() const { return gen_; }
  void changed() { ++gen_; }
  [[nodiscard]] size_t size() const { return image_.size(); }

 private:
  std::map<uint64_t, uint64_t> image_;
  std::unordered_set<uint64_t> populated_;  // linear 4 KiB page numbers
  uint64_t gen_ = 0;
};

// Thrown at the first segmentation fault when seg.stop_on_fault is set; what()
// is the one-line report. mmusim exits with status 3 and writes no results.
class SegmentationStop : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CpuStats {
  uint64_t records = 0;      // access records consumed (R/W/X)
  uint64_t seg_records = 0;  // segment records: selector loads, descriptor writes
  uint64_t seg_skipped = 0;  // accesses and loads dropped by a segmentation fault
  // TLB-maintenance records: INVLPG, INVPCID, FLUSH (non-global), FLUSH GLOBAL.
  uint64_t inv_page = 0, inv_pcid = 0, inv_all = 0, inv_global = 0;
  uint64_t invalidation_cycles = 0;  // from drain to completion, summed
  uint64_t by_kind[kNumAccessKinds] = {};
  // Address translations: records + second halves of page-crossing accesses
  // (each half is a translation of its own); an access whose task slept in
  // its fault is counted once, by its replay.
  uint64_t translations = 0;
  uint64_t page_splits = 0;  // accesses that crossed a 4 KiB boundary
  uint64_t l1_hits = 0, l2_hits = 0, tlb_misses = 0;
  uint64_t dirty_assists = 0;  // walks that set D for a write that found D = 0
  uint64_t faults = 0, faults_by_kind[kNumFaultKinds] = {};
  uint64_t late_faults = 0;           // faults found by a walk the outlook said would map
  uint64_t skipped = 0;               // accesses dropped after an unresolved fault
  uint64_t fault_cycles = 0;          // from fault raise to resumption, summed
  uint64_t context_switches = 0;      // switch_to calls
  uint64_t shootdowns = 0;            // invalidations received from other CPUs
  uint64_t shootdown_cycles = 0;      // interrupt cycles spent applying them
  uint64_t reclaim_shootdowns = 0;    // of them, pages reclaim unmapped
  uint64_t reclaim_tlb_resident = 0;  // of those, pages this CPU's TLBs still held
  uint64_t cycles = 0;                // retire cycle of this CPU's last access
  // Cycles the head of the window waited for its translation / for a fault
  // of it to be handled (translation_stall.h): unions, at most `cycles`.
  uint64_t translation_stall = 0, fault_stall = 0;
  // Store buffer (cpu.store_buffer with cache.data; `store_buffer` says it is
  // on, and its counters are emitted): stores that took an entry, those that
  // found it full and waited for its oldest write, and the cycles they waited.
  bool store_buffer = false;
  uint64_t stores_buffered = 0, store_buffer_full = 0, store_buffer_wait_cycles = 0;
  // Per translation: from the start of its TLB lookup to its physical
  // address, merge waits and walker queueing included, fault handling
  // excluded (the walk that found the fault and the replay included).
  Histogram translation_latency;
  Histogram fault_latency;  // per fault: from raise to resumption, cycles
};

struct CpuCoreConfig {
  AddressGeneratorConfig ag;
  TlbConfig tlb;
  WalkerConfig walker;
  bool user = true;  // CPL 3
  // The context the CPU starts in (its CR3 is set with set_root).
  uint32_t pid = 1;
  Asid asid{1};
  CtxSwitchTlb ctx_switch = CtxSwitchTlb::kPcid;
  Cycles ipi_cost{0};  // cycles a received shootdown interrupt costs this CPU
  // Segmentation; the default (flat) keeps linear = offset (wrapped at 4 GiB
  // in 32-bit paging modes). Mode/paging combinations are checked by finalize().
  SegConfig seg;
};

// The unit cores a CPU drives (owned elsewhere: by their SystemC modules).
struct CpuUnits {
  AddressGenerator& ag;
  SegmentationUnit& seg;
  TlbHierarchy& tlb;
  Walker& walker;
};

class CpuCore {
 public:
  class Env : public MemoryTiming {  // access(): the CPU's own data references
   public:
    // Before touching shared state at `t` (the kernel, a descriptor in
    // memory): be at the right time with respect to every other agent.
    virtual void sync(Cycle t) = 0;
    // Delivers a page fault (already synchronized to f.raised by the caller).
    virtual FaultOutcome fault(const FaultInfo& f) = 0;
    // The data side's first level `c` (the L1D, or the L1I when `fetch`)
    // missed `line` looked up at `issued` (r: Cache::access()'s result,
    // r.ready when the miss is passed on): brings the line from below, records the fill in `c`,
    // writes the dirty victim back; returns when the line is there and sets
    // `served` to the level that supplied it. The default treats this Env's
    // own access() as the memory below (plain C++ use).
    // `write`: the miss of a store (a read for ownership below).
    virtual Cycle data_miss(Cache& c, uint64_t line, const CacheResult& r, Cycle issued, bool fetch,
                            bool write, MemSource& served) {
      (void)fetch;
      (void)issued;
      (void)write;
      const Cycle done = access(PhysAddr(c.addr_of(line)), false, r.ready);
      c.filled(line, done);
      if (r.writeback) access(PhysAddr(c.addr_of(r.victim)), true, r.ready);
      served = MemSource::kDram;
      return done;
    }
    // A store hit the L1D on `line`, held shared with another CPU
    // (CacheResult::upgrade), at `at` (r.ready): returns when the line is
    // exclusive (coherence between CPUs; none by default).
    // (`issued`: when the access was looked up.)
    virtual Cycle data_upgrade(uint64_t line, Cycle issued, Cycle at) {
      (void)line;
      (void)issued;
      return at;
    }
  };

  // `units` are the CPU's parts; their configurations come from `cfg`.
  // `explain_out` receives one block of lines for each of the first
  // `explain` steps (translations, selector loads, segmentation faults).
  // `tables` (shared by the CPUs of one address space, outliving the core)
  // holds the descriptor tables the initial segment registers are loaded
  // from in protected and long modes; null: the core's own
  // DescriptorTables::defaults. Throws InputError naming seg.<reg> when an
  // initial selector cannot be loaded.
  CpuCore(uint32_t id, const CpuCoreConfig& cfg, CpuUnits units, PhysMem& mem, Env& env,
          uint64_t explain = 0, ExplainLog* explain_out = nullptr,
          DescriptorTables* tables = nullptr);
  // The same with units the core owns, built from `cfg`; `env` is also the
  // walker's memory (plain C++ use: tests, benchmarks).
  CpuCore(uint32_t id, const CpuCoreConfig& cfg, PhysMem& mem, Env& env, uint64_t explain = 0,
          ExplainLog* explain_out = nullptr, DescriptorTables* tables = nullptr);
  ~CpuCore();
  CpuCore(const CpuCore&) = delete;
  CpuCore& operator=(const CpuCore&) = delete;

  // The initial CR3 (untimed setup).
  void set_root(PhysAddr cr3) {
    ctx_.cr3 = cr3;
    walker_.set_root(cr3, ctx_.pcid);
  }
  [[nodiscard]] const CpuContext& context() const { return ctx_; }
  // Runs `next` from cycle `at` on: MOV CR3 semantics (serializing: pending
  // walks complete first; TLBs kept per PCID or flushed, cfg.ctx_switch;
  // paging-structure caches flushed). Returns when the CPU may issue again
  // (the switch itself costs nothing here: the kernel charges its own time).
  Cycle switch_to(const CpuContext& next, Cycle at);
  // Serializes (every pending walk fills, older accesses retire) and returns
  // the cycle from which a system call or a switch may start.
  Cycle quiesce();
  // The CPU goes on at `t` (after a system call or an idle period).
  void resume_at(Cycle t);
  // Applies a kernel-requested invalidation of this CPU's own TLB entries
  // (FaultOutcome::flush) for its current PCID; no cycles of its own.
  void apply_flush(const FaultOutcome::LocalFlush& f);
  // Queues an invalidation from another CPU, to be taken at the CPU's first
  // access at or after cycle `due` (the shell's delivery rule).
  void post(const Shootdown& s, Cycle due) { inbox_.push_back(Pending{s, due}); }
  [[nodiscard]] bool has_shootdowns() const { return !inbox_.empty(); }
  // Applies the queued invalidations due at or before `now` (in the order
  // they were sent) as one interrupt at the CPU's current time, costing
  // cfg.ipi_cost cycles; the others stay queued.
  void receive_shootdowns(Cycle now);
  // Switches to `tables` (which must outlive the core) and reloads the
  // configured initial segment registers from them (protected/long modes;
  // untimed setup, not counted in the stats).
  void use_descriptor_tables(DescriptorTables& tables);
  // The trace's accesses read and write `l1d` and fetch through `l1i` (the
  // CPU's own first-level caches, outliving the core; both non-null).
  void use_data_caches(Cache& l1d, Cache& l1i) {
    l1d_ = &l1d;
    l1i_ = &l1i;
    data_ = true;
    sb_.assign(cfg_.ag.store_buffer, Cycle(0));
    stats_.store_buffer = !sb_.empty();
  }
  // Trace records before this CPU's first one (setup records), so that fault
  // reports give the record's number in the trace.
  void set_record_base(uint64_t n) { record_base_ = n; }
  // Under the process model, a fault may put the task to sleep
  // (FaultOutcome::kBlock): the access is then not done, and the record that
  // made it must be given back and replayed when the task runs again.
  void set_can_block(bool b) { can_block_ = b; }
  // A late fault (a walk that found the tables changed under it, after
  // younger records ran) may put the task to sleep as well, when blocking is
  // allowed: the younger records stand (not squashed), and the faulting
  // access is given back to replay first when the task runs again, as if it
  // came after them. From then until take_late_replays(), no walk of the
  // task starts and none of its faults is delivered: an access that would
  // merge into a walk, start one or fault is given back too (take_blocked()).
  // Without blocking (or nested in another fault's handling) a late fault is
  // handled in place, the CPU waiting for its handler.
  [[nodiscard]] bool late_blocked() const { return late_blocked_; }
  // The accesses to replay, oldest first; the task no longer counts as
  // asleep here (late_blocked() false).
  std::vector<TraceRecord> take_late_replays();
  // A fault a task slept in completed (`o`): explained in explain block
  // `block` (FaultInfo::explain_block), that of the access that raised it.
  void explain_resumed(int64_t block, const FaultOutcome& o);
  // The task runs again after a fault it slept in (its access replays
  // next): `translated` is FaultInfo::translated, the translation cycles of
  // the attempt that faulted, added to the replay's latency.
  void resume_fault(Cycles translated) {
    carry_ = translated;
    if (translated != Cycles{}) slow_xlat_ |= kCarry;
  }
  // True once after a record's access blocked; un-counts that record.
  bool take_blocked(const TraceRecord& r) {
    if (!blocked_) return false;
    blocked_ = false;
    uncount_attempt(r.kind, trace_flags::op_of(r.flags) == trace_flags::kOpAccess);
    return true;
  }
  // Simulates one trace record; returns the CPU's local time (issue cycle of
  // its last translation), which the shell uses to bound run-ahead. Records
  // must be well-formed (trace_record_problem() == nullptr).
  __attribute__((always_inline)) Cycle process(const TraceRecord& r) {
    const uint64_t size = r.size ? r.size : 1;
    const uint64_t first = r.addr;
    const uint64_t last = r.addr + size - 1;
    // Fast path (flat or long mode, no segment record): linear = offset, plus
    // the long-mode canonical check (mask 0 in flat mode).
    if ((r.flags | slow_) != 0 || (((first + canon_half_) | (last + canon_half_)) & canon_mask_)) {
      return process_segmented(r);
    }
    ++stats_.records;
    ++stats_.by_kind[static_cast<int>(r.kind)];
    // In 32-bit modes the 32-bit address arithmetic wraps at 4 GiB.
    const bool crosses = ((first ^ last) >> 12) != 0;
    const bool split = crosses && last > first;
    span_ = static_cast<uint32_t>(crosses ? 0xFFF - (first & 0xFFF) : last - first);
    translate(LinearAddr(first & linear_mask_), r.kind);
    if (split && !blocked_) {
      ++stats_.page_splits;
      span_ = static_cast<uint32_t>(last & 0xFFF);
      translate(LinearAddr(last & ~uint64_t{0xFFF} & linear_mask_), r.kind);
    }
    return last_issue_;
  }
  // The page number a record's address has (unmasked, first >> 12) when
  // its linear address is in the 4 KiB page `vpn4k` and it is canonical:
  // vpn4k sign-extended in long mode. kNoPage when no canonical address
  // maps to it that way (a long-mode page above the canonical width).
  [[nodiscard]] uint64_t record_page(uint64_t vpn4k) const {
    const uint64_t a = record_address(vpn4k << 12);
    const bool canonical = (((a + canon_half_) & canon_mask_) == 0);
    return canonical && ((a & linear_mask_) >> 12) == vpn4k ? a >> 12 : TlbHierarchy::kNoPage;
  }
  // A linear address as a record names it: sign-extended in long mode.
  [[nodiscard]] uint64_t record_address(uint64_t a) const {
    return (a & canon_half_) != 0 ? a | canon_mask_ : a;
  }
  // A plain access (no segment or maintenance op), canonical, within one
  // 4 KiB page: a record the tight loops below may take (else process()).
  [[nodiscard]] __attribute__((always_inline)) bool plain_in_page(const TraceRecord& x) const {
    const uint64_t first = x.addr;
    const uint64_t last = first + (x.size ? x.size : 1) - 1;
    return (x.flags | (((first + canon_half_) | (last + canon_half_)) & canon_mask_) |
            ((first ^ last) >> 12)) == 0;
  }
  // The steady state of a hit-dominated trace, as process() runs it with
  // the counters gathered at the end: runs records from r[0] on while each
  // is a plain access within one 4 KiB page that hits an L1 TLB with the
  // rights it needs, no walk is pending and nothing else is on (explain,
  // data side, descriptor accesses). A page whose L1 TLB entry was the
  // last one touched in its set (the TLBs' last-hit memo, and the pages
  // looked up here since) costs no lookup; another one is looked up as
  // process() would. Stops before the first record that needs more
  // (process() takes it) and after the first whose issue cycle c makes
  // stop(c) true. Returns the records processed; `t` is the last one's
  // issue cycle (what process() returns).
  // With the data side on (cache.data) the same loop is out of line
  // (process_data_hits): inlined, its data paths made the data-off loop
  // slower.
  template <class Stop>
  __attribute__((always_inline)) size_t process_hits(const TraceRecord* r, size_t n, Cycle& t,
                                                     const Stop& stop) {
    if (slow_ != 0 || tlb_.mshr().size() != 0 || ag_.issued() >= block_at_ || slow_xlat_ != 0 ||
        want_phys_ || explain_.on()) {
      return 0;
    }
    if (data_) return process_data_hits(r, n, t, stop);
    return hits_loop<false>(r, n, t, stop);
  }
  template <class Stop>
  __attribute__((noinline)) size_t process_data_hits(const TraceRecord* r, size_t n, Cycle& t,
                                                     const Stop& stop) {
    return hits_loop<true>(r, n, t, stop);
  }
  // process_hits() once its conditions hold; kData: data_ is on.
  template <bool kData, class Stop>
  __attribute__((always_inline)) size_t hits_loop(const TraceRecord* r, size_t n, Cycle& t,
                                                  const Stop& stop) {
    constexpr uint64_t kNone = TlbHierarchy::kNoPage;
    constexpr uint64_t kSlots = HitSlots::kSlots;
    // The pages served here without a lookup (hit_slots_, kept from one
    // call to the next while the L1 TLBs change nothing: their epoch and the
    // PCID are the same), by side (0: data, 1: fetch): those whose L1 TLB
    // entry, in the side's array `held`, was the last entry touched in its
    // set, so that a lookup of them would change nothing but counters
    // (TlbHierarchy::MemoView); the hierarchy's memo, the last page looked
    // up, is one of them. By access kind, one slot per vpn & 15: the page
    // (as records name it, unmasked) when its entry grants the kind's
    // rights, else kNone, and its entry (the data side's physical address).
    // Pages of one set share a slot when the array holds 4 KiB pages only,
    // in 16 sets or more (a power of two); else (`single`) the side keeps one
    // page. A lookup that hits another array empties the side's slots
    // (their counters would differ).
    HitSlots& hs = hit_slots_;
    auto& slots = hs.page;
    auto& slot_tr = hs.tr;
    auto& lat = hs.lat;
    // By side: accesses counted to the memo so far, and accesses looked up
    // (not served by the memo).
    uint64_t counted[2] = {0, 0}, looked[2] = {0, 0};
    uint64_t kinds[kNumAccessKinds] = {};
    // Puts the hierarchy's memo of `side` (its last lookup) in its slot.
    const auto load_memo = [&](int side) {
      const TlbHierarchy::MemoView m =
          tlb_.memo(side == 0 ? AccessKind::kRead : AccessKind::kFetch);
      if (m.vpn4k == kNone) return;  // no memo (none taken, or the hierarchy keeps none)
      const int k0 = side == 0 ? 0 : 2, k1 = side == 0 ? 2 : 3;
      if (m.array != hs.held[side] || hs.single[side]) {
        hs.held[side] = m.array;
        hs.single[side] = m.sets_4k < kSlots;
        for (int k = k0; k < k1; ++k) {
          std::fill(std::begin(slots[k]), std::end(slots[k]), kNone);
          lat[k] = m.latency;
        }
      }
      // The page as the records name it (unmasked): kNone when no record
      // can be in it (then the lookup below serves its records). Its set's
      // slot: the page there before is no longer the set's last.
      const uint64_t vpn = m.asid == ctx_.pcid ? record_page(m.vpn4k) : kNone;
      const uint64_t slot = m.vpn4k & (kSlots - 1);
      for (int k = k0; k < k1; ++k) {
        const bool ok = vpn != kNone && hit_ok(m.t->perms, static_cast<AccessKind>(k));
        slots[k][slot] = ok ? vpn : kNone;
        slot_tr[k][slot] = m.t;
      }
    };
    // Counts the accesses the side's memo served since the last call.
    const auto count_memo = [&](int side) {
      const uint64_t all = side == 0 ? kinds[0] + kinds[1] : kinds[2];
      const uint64_t served = all - looked[side] - counted[side];
      counted[side] += served;
      if (served == 0) return;
      tlb_.count_memo_hits(side == 0 ? AccessKind::kRead : AccessKind::kFetch, served);
      stats_.translation_latency.add_n(lat[side == 0 ? 0 : 2].count(), served);
    };
    if (hs.epoch != tlb_.epoch() || hs.pcid != ctx_.pcid) {
      for (auto& k : slots) std::fill(std::begin(k), std::end(k), kNone);
      hs.held[0] = hs.held[1] = nullptr;
      hs.single[0] = hs.single[1] = true;
      load_memo(0);
      load_memo(1);
    }
    size_t i = 0;
    for (;;) {
      // The slots' pages: no lookup.
      bool stopped = false;
      AddressGenerator::Run run = ag_.begin_run();
      while (i < n) {
        const TraceRecord& x = r[i];
        const auto k = static_cast<unsigned>(x.kind);
        // plain_in_page(x) and (x.addr & linear_mask_) >> 12 == the page of
        // its slot, in one test: a record within it (which record_page()
        // made canonical and unmasked) is canonical and maps to it.
        const uint64_t first = x.addr;
        const uint64_t last = first + (x.size ? x.size : 1) - 1;
        const uint64_t slot = (first >> 12) & (kSlots - 1);
        if ((x.flags | ((first >> 12) ^ slots[k][slot]) | ((first ^ last) >> 12)) != 0) break;
        ++kinds[k];
        if (run.seq < run.floor_at) {
          if constexpr (kData) {  // an L1 TLB hit: the first-level cache is looked up from the
                                  // issue
            t = AddressGenerator::run_issue(run);
            const Cycle d = data_span(slot_tr[k][slot]->phys(LinearAddr(x.addr & linear_mask_)),
                                      x.size ? x.size - 1 : 0, x.kind, t);
            AddressGenerator::run_complete(run, max(t + lat[k], d));
          } else {
            t = AddressGenerator::run_hit(run, lat[k]);
          }
        } else {  // a walk's retire floor applies from this access on
          ag_.end_run(run);
          t = ag_.issue();
          Cycle retire = t + lat[k];
          if constexpr (kData) {
            retire =
                max(retire, data_span(slot_tr[k][slot]->phys(LinearAddr(x.addr & linear_mask_)),
                                      x.size ? x.size - 1 : 0, x.kind, t));
          }
          ag_.complete(retire);
          run = ag_.begin_run();
        }
        ++i;
        if (stop(t)) {
          stopped = true;
          break;
        }
      }
      ag_.end_run(run);
      if (stopped || i == n) break;
      // Another page: an L1 hit with the rights it needs is looked up here
      // (the memo and its slot then hold it); anything else goes to
      // process().
      const TraceRecord& x = r[i];
      if (!plain_in_page(x)) break;
      const uint64_t first = x.addr;
      const AccessKind kind = x.kind;
      const auto k = static_cast<unsigned>(kind);
      const LinearAddr a(first & linear_mask_);
      TlbHierarchy::L1Hit h;
      if (!tlb_.l1_find(a, kind, ctx_.pcid, h) || !hit_ok(h.t->perms, kind)) break;
      const int side = kind == AccessKind::kFetch ? 1 : 0;
      count_memo(side);
      ++kinds[k];
      ++looked[side];
      t = ag_.issue();  // (the lookup does not depend on it)
      const TlbLookup l = tlb_.take_l1(a, kind, ctx_.pcid, h);
      stats_.translation_latency.add(l.latency.count());
      Cycle retire = t + l.latency;
      if constexpr (kData) {
        retire = max(retire, data_span(l.t->phys(a), x.size ? x.size - 1 : 0, kind, t));
      }
      ag_.complete(retire);
      load_memo(side);
      ++i;
      if (stop(t)) break;
    }
    hs.epoch = tlb_.epoch();
    hs.pcid = ctx_.pcid;
    if (i == 0) return 0;
    const TraceRecord& x = r[i - 1];
    span_ = x.size ? x.size - 1 : 0;  // within its page
    last_issue_ = t;
    stats_.records += i;
    stats_.translations += i;
    stats_.l1_hits += i;
    for (int k = 0; k < kNumAccessKinds; ++k) stats_.by_kind[k] += kinds[k];
    count_memo(0);
    count_memo(1);
    return i;
  }
  // The steady state of a miss-heavy trace, as process() runs it: runs
  // plain records (within one 4 KiB page, no flags) from r[0] on while a
  // walk is pending and nothing else is on (explain, data side, descriptor
  // accesses). An access that merges into the pending walk it found last
  // (its MSHR entry grants the rights the access needs), whose issue cycle
  // precedes the walker's next event, is recorded as a waiter here, with the address
  // generator's state in locals, exactly as translate_pending() records it;
  // any other record goes through process(). Stops before the first record
  // that is not plain, once no walk is pending, and after the first record
  // whose issue cycle c makes stop(c) true. Returns the records processed;
  // `t` is the last one's issue cycle.
  template <class Stop>
  __attribute__((noinline)) size_t process_merges(const TraceRecord* r, size_t n, Cycle& t,
                                                  const Stop& stop) {
    MissStatusTable& mshr = tlb_.mshr();
    if (mshr.size() == 0 || slow_ != 0 || slow_xlat_ != 0 || want_phys_ || explain_.on() || data_) {
      return 0;
    }
    Cycle next_event = walker_.next_event();
    MshrEntry* e = nullptr;        // the entry of `page`, while the MSHRs stay as they are
    uint64_t page = ~uint64_t{0};  // the 4 KiB page of the record process() took last
    std::vector<PlainWaiter>* plain = nullptr;  // e's waiters
    bool ok[kNumAccessKinds] = {};
    Cycles l1_lat[kNumAccessKinds];
    for (int q = 0; q < kNumAccessKinds; ++q)
      l1_lat[q] = tlb_.l1_latency(static_cast<AccessKind>(q));
    size_t i = 0;
    uint64_t merged = 0;
    uint64_t kinds[kNumAccessKinds] = {};
    AddressGenerator::Run run{};
    bool in_run = false;  // the address generator's state is in `run`
    while (i < n) {
      const TraceRecord& x = r[i];
      if (!plain_in_page(x)) break;
      const uint64_t first = x.addr;
      const auto k = static_cast<unsigned>(x.kind);
      const uint64_t la = first & linear_mask_;
      if (e == nullptr && (la >> 12) == page) {  // likely the page of a pending walk
        page = ~uint64_t{0};
        const int j = mshr.find(LinearAddr(la), ctx_.pcid);
        if (j >= 0) {
          e = &mshr.at(j);
          plain = &pending_[static_cast<size_t>(j)].plain;
          for (int q = 0; q < kNumAccessKinds; ++q) {
            ok[q] = hit_ok(e->result.perms, static_cast<AccessKind>(q));
          }
        }
      }
      if (e != nullptr && (la >> e->shift) == e->vpn.value() && ok[k]) {
        if (!in_run) {
          run = ag_.begin_run();
          in_run = true;
        }
        // translate() would issue at `issue` (unless the window blocks or a
        // floor applies), find no walk event up to it, and merge.
        const Cycle issue = AddressGenerator::run_peek(run);
        if (run.seq < block_at_ && run.seq < run.floor_at && issue < next_event) {
          ++kinds[k];
          ++merged;
          e->sides |= MissStatusTable::side_bit(x.kind);
          // Field by field: a temporary copied into the vector is stored
          // in 8-byte pieces and reloaded in 16-byte ones, which cannot be
          // forwarded from the stores (a stall of about 10 cycles).
          PlainWaiter& w = plain->emplace_back();
          w.seq = run.seq;
          w.issue = issue;
          w.start = issue;
          stall_.open(run.seq, run.last_retire, issue + l1_lat[k]);
          t = AddressGenerator::run_hit(run, Cycles{});  // == issue
          ++i;
          if (stop(t)) break;
          continue;
        }
      }
      // Anything else: one record as process() takes it.
      if (in_run) {
        ag_.end_run(run);
        in_run = false;
      }
      t = process(x);
      next_event = walker_.next_event();
      e = nullptr;
      page = la >> 12;
      ++i;
      if (stop(t) || mshr.size() == 0 || blocked_ || slow_xlat_ != 0 || want_phys_) break;
    }
    if (in_run) ag_.end_run(run);
    if (merged == 0) return i;
    const TraceRecord& x = r[i - 1];
    span_ = x.size ? x.size - 1 : 0;  // within its page
    last_issue_ = t;
    stats_.records += merged;
    stats_.translations += merged;
    mshr.count_merges(merged);
    for (int k = 0; k < kNumAccessKinds; ++k) stats_.by_kind[k] += kinds[k];
    return i;
  }
  // Completes every pending walk now (statistics then count every access
  // simulated so far), as if the CPU waited for them.
  void drain() { drain_walks(); }
  // Completes every pending walk and drains the pipeline at the end of the trace.
  void finish();

  [[nodiscard]] uint32_t id() const { return id_; }
  [[nodiscard]] const CpuStats& stats() const { return stats_; }
  [[nodiscard]] const TlbHierarchy& tlb() const { return tlb_; }
  [[nodiscard]] const Walker& walker() const { return walker_; }
  [[nodiscard]] const SegmentationUnit& seg() const { return seg_; }
  // Emits this CPU's own statistics (records, hits, faults, ...; the units
  // emit theirs) with names under `prefix`.
  void visit(StatVisitor& v, const std::string& prefix) const;
  // The unit cores' statistics under their own names ("tlb.*", "walker.*",
  // "seg.*"), for plain C++ use (the SystemC modules emit their own).
  void visit_units(StatVisitor& v) const;
  // The segmentation unit's statistics as this CPU accounts them.
  [[nodiscard]] SegStats seg_stats() const;
  // Sums of every CPU's counters under `prefix` (multi-CPU runs).
  static void visit_total(StatVisitor& v, const std::string& prefix, size_t n,
                          const std::function<const CpuCore&(size_t)>& at);

 private:
  struct Owned;
  // The hit loop's pages (hits_loop), valid while the TLBs' epoch and the
  // PCID are those recorded.
  struct HitSlots {
    static constexpr uint64_t kSlots = 16;
    uint64_t page[kNumAccessKinds][kSlots] = {};
    const Translation* tr[kNumAccessKinds][kSlots] = {};
    Cycles lat[kNumAccessKinds];
    const TlbArray* held[2] = {nullptr, nullptr};
    bool single[2] = {true, true};
    uint64_t epoch = ~uint64_t{0};  // none yet
    Asid pcid;
  };
  // An access that merged into a pending walk and completes with it (the
  // common case: its latency and stall account only).
  struct PlainWaiter {
    uint64_t seq;  // the access's sequence number (address generator)
    Cycle issue, start;
  };
  // A merged access whose data is read or written when the walk completes
  // (cache.data).
  struct DataWaiter {
    uint64_t seq;
    Cycle issue, start;
    LinearAddr addr;
    uint32_t span;
    AccessKind kind;
  };
  // A merged access that needs more when the walk completes: a D-bit
  // re-walk, its physical address, or its explain block.
  struct Waiter {
    uint64_t seq;  // the access's sequence number (address generator)
    Cycle issue, start;
    LinearAddr addr;
    AccessKind kind;
    bool needs_dirty;   // a write that will find D = 0: re-walk after the fill
    bool want_phys;     // a descriptor access: record when it completes
    int64_t block;      // explain block, or -1
    Cycles carry;       // translation cycles of an attempt its task slept in
    uint32_t span = 0;  // data side: bytes after addr in its page
  };
  // The access that allocated an MSHR entry, and the accesses merged into it.
  struct PendingMiss {
    Cycle issue, start;
    LinearAddr addr;
    AccessKind kind = AccessKind::kRead;
    Cycles tlb_latency;
    explain::WalkReason why = explain::WalkReason::kMiss;
    bool want_phys = false;
    int64_t block = -1;
    uint64_t walk = 0;    // the walk's ticket id
    uint64_t serial = 0;  // bumped at every allocation of this entry
    // The owner's latency: from `lookup` (its first TLB lookup, before any
    // fault) to the walk's completion, less `fault` cycles of handling, plus
    // `carry` (an earlier attempt its task slept in).
    Cycle lookup;
    Cycles fault, carry;
    uint32_t span = 0;  // data side: bytes after addr in its page
    bool data = false;  // the access reads or writes data when the walk completes
    std::vector<PlainWaiter> plain;
    std::vector<DataWaiter> data_waiters;
    std::vector<Waiter> waiters;
  };
  static constexpr Cycle kPending{~uint64_t{0}};

  CpuCore(uint32_t id, const CpuCoreConfig& cfg, std::unique_ptr<Owned> owned,
          const CpuUnits* units, PhysMem& mem, Env& env, uint64_t explain, ExplainLog* explain_out,
          DescriptorTables* tables);
  // `seg`: segmentation cycles before the TLB lookup (part of the latency).
  // Returns the translation's completion, or kPending while its walk runs.
  // The common case, a TLB hit with no walk pending and nothing to explain,
  // is inline; everything else is translate_slow().
  __attribute__((always_inline)) Cycle translate(LinearAddr a, AccessKind k,
                                                 Cycles seg = Cycles{}) {
    if (ag_.issued() >= block_at_ || slow_xlat_ != 0 || want_phys_ || explain_.on()) {
      return translate_slow(a, k, seg);
    }
    if (tlb_.mshr().size() != 0) return translate_pending(a, k, seg);
    ++stats_.translations;
    const Cycle issue = ag_.issue();
    last_issue_ = issue;
    const TlbLookup l = tlb_.lookup(a, k, ctx_.pcid);
    if (l.level != TlbLevel::kMiss) {
      const uint8_t p = l.t->perms;
      if (rights_ok(p, k) && (k != AccessKind::kWrite || (p & kPermDirty))) {
        const Cycle done = issue + seg + l.latency;
        const Cycle retire = data_ ? data_after_hit(l, a, k, issue + seg, done) : done;
        if (l.level == TlbLevel::kL1) {
          ++stats_.l1_hits;
        } else {
          ++stats_.l2_hits;
          stalled(issue + seg, done, k, retire);
        }
        ag_.complete(retire);
        stats_.translation_latency.add(l.latency.count());
        return done;
      }
    }
    return after_lookup(a, k, seg, issue, l);
  }
  // Data side of a TLB hit looked up from `start`, translated at `done`: an
  // L1 TLB hit overlaps the first-level cache's lookup (virtually indexed,
  // physically tagged: the set is read while the TLB translates), so the
  // cache is looked up from `start`; after an L2 TLB hit it is looked up from
  // `done`. Returns the retire cycle (never before `done`).
  __attribute__((always_inline)) Cycle data_after_hit(const TlbLookup& l, LinearAddr a,
                                                      AccessKind k, Cycle start, Cycle done) {
    return max(done, data(l.t->phys(a), k, l.level == TlbLevel::kL1 ? start : done));
  }
  // Data side: the access to `pa` .. pa + span_ (one page), translated at
  // `at`, through the L1D (the L1I for a fetch), line by line; returns when
  // its data is there. The common case, one line that hits, is inline.
  __attribute__((always_inline)) Cycle data(PhysAddr pa, AccessKind k, Cycle at) {
    return data_span(pa, span_, k, at);
  }
  __attribute__((always_inline)) Cycle data_span(PhysAddr pa, uint32_t span, AccessKind k,
                                                 Cycle at) {
    if (k == AccessKind::kWrite && !sb_.empty()) return buffered_store(pa, span, at);
    return line_access(pa, span, k, at);
  }
  // The access's lines through the L1D/L1I from `at`: when they are there.
  __attribute__((always_inline)) Cycle line_access(PhysAddr pa, uint32_t span, AccessKind k,
                                                   Cycle at) {
    Cache& c = k == AccessKind::kFetch ? *l1i_ : *l1d_;
    const uint64_t line = c.line_of(pa.value());
    if (c.line_of(pa.value() + span) == line) {
      const CacheResult r = c.access(line, k == AccessKind::kWrite, at, who_of(k));
      if (r.hit) {
        data_served_ = MemSource::kL1;
        return r.ready;
      }
      return data_miss(c, line, r, at, k);
    }
    return data_lines(pa, span, k, at);
  }
  // A store with a store buffer: takes an entry at `at`, or when the oldest
  // entry's write is done if all are taken; its line is written from then on,
  // done no earlier than the store before it. Returns when it took its entry
  // (the store leaves the window then). Stores take entries in the order the
  // model translates them (a store that waited for a walk, when the walk
  // completes).
  Cycle buffered_store(PhysAddr pa, uint32_t span, Cycle at);
  // The cache's initiator slot (mem_port.h's Initiator: kData 1, kInstruction 2).
  static unsigned who_of(AccessKind k) { return k == AccessKind::kFetch ? 2U : 1U; }
  Cycle data_miss(Cache& c, uint64_t line, const CacheResult& r, Cycle issued, AccessKind k);
  // An access that crosses lines: each line in turn, all at `at`.
  Cycle data_lines(PhysAddr pa, uint32_t span, AccessKind k, Cycle at);
  // Explain: the data side's line of the access to `pa` .. pa + span that
  // started at `at` and was done at `done` (after data_span()).
  [[nodiscard]] std::string data_line(PhysAddr pa, uint32_t span, AccessKind k, Cycle at,
                                      Cycle done) const;
  Cycle translate_slow(LinearAddr a, AccessKind k, Cycles seg);
  // translate_slow() with paging on, no carry, and issue() not blocked, when
  // walks are pending and nothing else needs it. The common case, a plain
  // access merging into a pending walk whose translation grants what it
  // needs, is inline (merge() handles every other merge).
  Cycle translate_pending(LinearAddr a, AccessKind k, Cycles seg) {
    ++stats_.translations;
    const Cycle issue = ag_.issue();
    last_issue_ = issue;
    advance(issue);
    MissStatusTable& mshr = tlb_.mshr();
    if (mshr.size() != 0) {
      const int i = mshr.find(a, ctx_.pcid);
      if (i >= 0 && !late_blocked_) {  // (a task asleep merges into nothing: translate_lookup)
        MshrEntry& e = mshr.at(i);
        if (!data_ && hit_ok(e.result.perms, k)) {
          // The access completes when the walk does.
          mshr.count_merge();
          e.sides |= MissStatusTable::side_bit(k);
          pending_[static_cast<size_t>(i)].plain.push_back(
              PlainWaiter{ag_.issued(), issue, issue + seg});
          stall_open(issue + seg, k);
          ag_.complete(issue + seg);  // the walk's completion resolves the rest
          return kPending;
        }
        if (merge(i, a, k, issue, seg, Cycles{})) return kPending;
      }
    }
    return translate_lookup(a, k, seg, issue, Cycles{});
  }
  // The rest of translate_slow() once merging did not apply: the TLB lookup
  // of the access issued at `issue`, and what follows.
  Cycle translate_lookup(LinearAddr a, AccessKind k, Cycles seg, Cycle issue, Cycles carry);
  // The stall account of a translation that did not hit in an L1 TLB, whose
  // lookup started at `lookup` and whose physical address is known at
  // `done` (after `fault` cycles of handling) and which retires at `retire`.
  // Call before ag_.complete().
  void stalled(Cycle lookup, Cycle done, AccessKind k, Cycle retire) {
    stall_.known(ag_.issued(), ag_.drained(), lookup + tlb_.l1_latency(k), done, Cycles{}, retire);
  }
  // The same for an access whose physical address is not known yet.
  void stall_open(Cycle lookup, AccessKind k) {
    stall_.open(ag_.issued(), ag_.drained(), lookup + tlb_.l1_latency(k));
  }
  // Records one translation's latency: `done - lookup - fault + carry`.
  void latency(Cycle lookup, Cycle done, Cycles fault = Cycles{}, Cycles carry = Cycles{}) {
    stats_.translation_latency.add((done - lookup).count() - fault.count() + carry.count());
  }
  // The TLB lookup of an access issued at `issue` did not give a usable
  // translation: re-walk (rights, D bit) or miss.
  Cycle after_lookup(LinearAddr a, AccessKind k, Cycles seg, Cycle issue, const TlbLookup& l,
                     Cycles carry = Cycles{});
  // A TLB hit with these rights completes the access (no re-walk).
  [[nodiscard]] bool hit_ok(uint8_t p, AccessKind k) const {
    return rights_ok(p, k) && (k != AccessKind::kWrite || (p & kPermDirty));
  }
  // The rights a TLB entry (or a pending walk's translation) grants this CPU.
  [[nodiscard]] bool rights_ok(uint8_t p, AccessKind k) const {
    const bool write = k == AccessKind::kWrite;
    return (!cfg_.user || (p & kPermUser)) &&
           (!write || (p & kPermWrite) || (!cfg_.user && !cfg_.walker.write_protect)) &&
           (k != AccessKind::kFetch || !(p & kPermNx));
  }
  // `carry`: translation cycles of an attempt the task slept in (resume_fault).
  Cycle miss(LinearAddr a, AccessKind k, Cycle issue, Cycles tlb_latency, bool assist, Cycles seg,
             Cycles carry = Cycles{});
  // Merges the access into pending entry `i`; false when it cannot complete
  // from that walk (a permission failure: it waited for the fill instead).
  bool merge(int i, LinearAddr a, AccessKind k, Cycle issue, Cycles seg, Cycles carry);
  // merge() of an access that needs more than its completion: a D-bit
  // re-walk, its physical address, an explain block, or a fault.
  bool merge_special(int i, LinearAddr a, AccessKind k, Cycle issue, Cycles seg, Cycles carry);
  // Issues the next access, first completing walks that the address
  // generator's window waits for.
  Cycle issue() {
    if (ag_.issued() >= block_at_) wait_for_window();
    return ag_.issue();
  }
  // Runs walk events until the access the next issue() waits for retired.
  void wait_for_window();
  // Processes walk events up to and including cycle `t`.
  void advance(Cycle t) {
    while (walker_.next_event() <= t) step_walker();
  }
  // Index of the MSHR entry tracking walk `id`.
  int entry_of(uint64_t id) const;
  void step_walker();
  void complete(const WalkResult& w);
  // Runs walk events until nothing is pending.
  void drain_walks() {
    while (!walker_.idle()) step_walker();
  }
  // The cycle at which the fault `w` found is raised (every walk drained):
  // older accesses have retired (a fault is precise).
  [[nodiscard]] Cycle raise_cycle(const WalkResult& w) const { return max(w.done, ag_.drained()); }
  // Delivers the fault `w` found for an access to `a` (every walk drained);
  // returns the kernel's outcome with resume >= the raise cycle.
  // `translated`: the access's translation cycles up to the raise
  // (FaultInfo::translated).
  FaultOutcome deliver(LinearAddr a, AccessKind k, const WalkResult& w, bool can_block = false,
                       int64_t block = -1, Cycles translated = Cycles{});
  // Requests a walk and runs every walk until it completes (precise faults).
  const WalkResult& sync_walk(LinearAddr a, AccessKind k, Cycle at, bool explain);
  void handle_late_faults();
  // Opens the explain block of the translation issued at `issue` (its head
  // and segmentation line); -1 when nothing is explained.
  int64_t open_block(AccessKind k, LinearAddr a, Cycle issue);
  // Allocates an MSHR entry for a walk the ticket says will map.
  int track(const WalkTicket& t, LinearAddr a, AccessKind k, uint64_t owner, Cycle issue,
            Cycle start, Cycles tlb_latency, explain::WalkReason why, bool want_phys,
            int64_t block);
  void recompute_oldest();
  // Segmentation stage (cpu_core_seg.cc).
  Cycle process_segmented(const TraceRecord& r);
  // INVLPG / INVPCID / FLUSH: serializing; pending walks fill, then the TLBs
  // and paging-structure caches drop the named translations.
  void invalidate(const TraceRecord& r);
  [[nodiscard]] uint64_t invalidation_records() const {
    return stats_.inv_page + stats_.inv_pcid + stats_.inv_all + stats_.inv_global;
  }
  // `block`: the explain block to write (-1: none).
  void seg_fault(const TraceRecord& r, const SegFault& f, Cycle issue, Cycle done, int64_t block);
  void load_segment(const TraceRecord& r, SegReg reg, Selector sel);
  void write_descriptor(const TraceRecord& r);
  // Translates a descriptor's linear address (implicit access): the physical
  // address, or false when the access was skipped by an unresolved fault.
  bool descriptor_access(LinearAddr a, AccessKind k, Cycle& done, PhysAddr& pa);
  void load_initial_registers();
  [[nodiscard]] uint64_t record_number() const {
    return record_base_ + stats_.records + stats_.seg_records + invalidation_records();
  }

  uint32_t id_;
  CpuCoreConfig cfg_;
  Env& env_;
  std::unique_ptr<Owned> owned_;
  AddressGenerator& ag_;
  SegmentationUnit& seg_;
  TlbHierarchy& tlb_;
  Walker& walker_;
  CpuContext ctx_;
  CpuStats stats_;
  PhysMem& mem_;
  DescriptorTables own_tables_;
  DescriptorTables* tables_;
  uint64_t tables_gen_ = 0;
  uint8_t slow_;                   // 0: fast path for records without flags (flat, long)
  uint64_t canon_half_ = 0;        // long mode: 1 << (canonical bits - 1); else 0
  uint64_t canon_mask_ = 0;        // long mode: bits above the canonical width; else 0
  uint64_t seg_fault_cycles_ = 0;  // segment costs of faulting accesses
  uint64_t record_base_ = 0;
  bool want_phys_ = false;         // translate() records the physical address
  bool can_block_ = false;         // set_can_block()
  bool blocked_ = false;           // the current record's access blocked
  uint64_t blocked_attempts_ = 0;  // translations un-counted by take_blocked()
  bool phys_ok_ = false;
  PhysAddr phys_;
  Cycle phys_done_;          // completion of a pending translation that wanted phys_
  std::string explain_seg_;  // segmentation line for the next explained translation
  // Reasons the inline translate() cannot serve an access (0: it can).
  static constexpr uint8_t kPagingOff = 1;  // CR0.PG = 0
  static constexpr uint8_t kCarry = 2;      // carry_ goes to the next translation
  uint8_t slow_xlat_ = 0;
  Cycles carry_;  // resume_fault()
  [[nodiscard]] Cycles take_carry() {
    const Cycles c = carry_;
    carry_ = Cycles{};
    slow_xlat_ &= static_cast<uint8_t>(~kCarry);
    return c;
  }
  uint64_t linear_mask_;  // 32-bit modes wrap linear addresses at 4 GiB
  Explainer explain_;
  Cycle last_issue_{0};
  HitSlots hit_slots_;  // hits_loop's pages
  // Data side (use_data_caches).
  bool data_ = false;
  Cache* l1d_ = nullptr;
  Cache* l1i_ = nullptr;
  uint32_t span_ = 0;                       // bytes after the address being translated, in its page
  MemSource data_served_ = MemSource::kL1;  // the deepest level the last data access reached
  mutable bool data_upgraded_ = false;      // the last data access upgraded a shared line (explain)
  // Store buffer (cpu.store_buffer): a ring of the cycles by which its entries'
  // lines are written (non-decreasing: writes are done in order); sb_count_
  // entries from sb_head_ are taken. Empty without a store buffer.
  std::vector<Cycle> sb_;
  size_t sb_head_ = 0, sb_count_ = 0;
  Cycle sb_last_{0};   // the youngest entry's write
  Cycle sb_entry_{0};  // the last store's entry cycle (explain)
  Cycle sb_ready_{0};  // the last store's line there, before waiting for older writes (explain)
  std::vector<PendingMiss> pending_;      // by MSHR entry
  uint64_t oldest_owner_ = ~uint64_t{0};  // smallest owner seq among pending entries
  uint64_t block_at_ = ~uint64_t{0};      // oldest_owner_ + window: issue() must wait there
  uint64_t sync_walk_ = 0;                // ticket of a synchronous (faulting) walk
  WalkResult sync_result_;
  // A pending walk that found a fault its ticket did not foresee (the tables
  // changed under it): delivered after the walk event that found it.
  struct LateFault {
    LinearAddr addr;
    AccessKind kind;
    FaultKind fault;
    Cycle issue, done;
    uint64_t owner;
    Cycles tlb_latency;
    std::vector<Waiter> waiters;
    Cycle lookup;  // PendingMiss::lookup, fault, carry
    Cycles fault_cycles, carry;
    uint32_t span = 0;
    bool data = false;
    bool want_phys = false;  // a descriptor read
    int64_t block = -1;      // its --explain block, open until it is handled
  };
  std::vector<LateFault> late_;
  // A late fault put the task to sleep (late_blocked()); the accesses given
  // back, with their sequence numbers.
  bool late_blocked_ = false;  // (only ever set while can_block_ holds)
  bool in_late_ = false;       // handle_late_faults() is delivering one
  std::vector<std::pair<uint64_t, TraceRecord>> late_replays_;
  // Gives back late fault `f`'s access (it replays), settled at `at`.
  void give_back_late(const LateFault& f, Cycle at);
  // An attempt that will replay: its translation (and its record, `record`)
  // are counted by the replay; --explain numbers every attempt.
  void uncount_attempt(AccessKind k, bool record) {
    --stats_.translations;
    ++blocked_attempts_;
    if (record) {
      --stats_.records;
      --stats_.by_kind[static_cast<int>(k)];
    }
  }
  // An access to `a` that issued at `issue` while its task sleeps in a late
  // fault: given back before its walk (take_blocked()); returns `issue`.
  Cycle given_back(Cycle issue, LinearAddr a, AccessKind k);
  // FaultOutcome::message of an access given back without a fault of its own.
  static constexpr const char* kNotDelivered =
      "not delivered: the task sleeps in an older access's late fault; the access replays after "
      "it";
  // The outcome of such an access (kBlock, message kNotDelivered) at `resume`.
  static FaultOutcome not_delivered(Cycle resume) {
    FaultOutcome o;
    o.action = FaultOutcome::Action::kBlock;
    o.resume = resume;
    o.message = kNotDelivered;
    return o;
  }
  std::vector<Waiter> scratch_;
  struct Pending {
    Shootdown s;
    Cycle due;
  };
  std::vector<Pending> inbox_;
  TranslationStall stall_;
};

}  // namespace mmusim
