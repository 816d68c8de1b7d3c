// One cache level as a public SystemC module (top.cpuN.l1d, .l1i, .l2,
// top.llc): a TLM-2.0 loosely-timed target on the upper side (any number of
// initiators or upper levels bind to `upper`) and an initiator toward the
// next level or the DRAM (`lower`).
//
// A request carrying the project's MemExtension is timing-only: a hit
// completes at arrival + latency with plain calls (no SystemC wait); a miss is
// passed down at arrival + latency (+ the miss path on the last level),
// re-checked against the initiator's sync horizon (MemExtension::sync) so
// that it still reaches the shared memory in time order, and completes when
// the lower level does. A write miss fetches the line (read for ownership)
// and keeps it dirty, unless the request writes the whole line
// (MemExtension::whole_line: the kernel's fast-string stores): then a miss
// allocates the line dirty here without reading it, done after the lookup.
// A dirty victim is written back to the lower level at the time the miss is
// passed on (its completion delays no one). A plain
// generic payload (no extension) is timed the same way, from SystemC time
// plus its annotated delay, and its data moves to or from the backing
// PhysMem (the functional store).
//
// A shared level (set_shared(): the LLC) serves its lookups in a defined
// order, whatever order SystemC runs the initiators in: a request in time
// order (MemExtension::ordered) is looked up at once; the others, made to
// wait until their arrival, join a queue sorted by (arrival, upper socket
// index, requesting agent = MemExtension::sync's id) and are looked up one
// after another in that order, the first once no other agent can still send
// a request arriving before it (the sync horizon says so; it tells this level
// when an agent's next action moves later). An agent that lags behind
// SystemC time may thus still place a request ahead of queued ones. Each miss takes its line's
// way and an MSHR at its lookup, both busy until a fill not known yet
// (Cache::kPending); a later lookup that hits such a line, or whose MSHR
// choice depends on such a fill, waits until the fill is known (the first
// request's thread reports it when the level below answers) and keeps the
// lookups behind it waiting. So every lookup sees exactly the lookups and
// fills of the requests before it in (arrival, socket, agent) order.
//
// Coherence between CPUs (set_coherent(), several CPUs with private caches):
// a directory at the last level, updated in its lookup order (see
// set_coherent()); MemExtension::coh says what a private level's request
// asks, MemExtension::shared what a read was granted.
// Coherence with the kernel and DMA (the last level only): a write by the kernel invalidates the
// line in every snooped upper cache and installs it here (an upper cache with an owner other than
// the writer's agent takes the invalidation through its owner's SnoopInbox, at a defined point of
// the owner's own time); a DMA write invalidates it everywhere and goes to memory, or with
// dma_allocate is installed here dirty (DDIO-like). DMA comes from the I/O side: its reads (and
// writes) reach memory at their own time, without this level's lookup or the miss path (the DMA
// engine plans its transfers on the memory's timing). A module of size 0 keeps no lines: it only
// snoops and passes every request on (the coherence point of a hierarchy without an LLC).
#pragma once

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <deque>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/cache/cache.h"
#include "models/cache/snoop_filter.h"
#include "models/common/mem_port.h"
#include "models/common/phys_mem.h"
#include "models/common/sc_sync.h"
#include "models/common/stats.h"

namespace mmusim {

// The owner of a snooped upper cache (a CPU): takes the invalidations caused
// by other agents' writes at a point of its own time defined by `at` alone
// (the CPU: its next interrupt boundary after `at`), then adds each line it
// removed to `*counter`.
class SnoopInbox {
 public:
  virtual void post_invalidation(Cache& c, uint64_t line, Cycle at, uint64_t* counter) = 0;
  // Coherence between CPUs: another CPU read `line` at `at`, which this
  // owner may hold exclusive: at the same point it becomes shared in `c`
  // (if still there), adding 1 to `*counter` when its state changed.
  virtual void post_downgrade(Cache& c, uint64_t line, Cycle at, uint64_t* counter) = 0;

 protected:
  SnoopInbox() = default;
  ~SnoopInbox() = default;
  SnoopInbox(const SnoopInbox&) = default;
  SnoopInbox& operator=(const SnoopInbox&) = default;
};

class CacheModule : public sc_core::sc_module, private HorizonWatcher {
 public:
  tlm_utils::multi_passthrough_target_socket<CacheModule> upper;
  tlm_utils::simple_initiator_socket<CacheModule> lower;

  // `level`: what a hit here reports (MemExtension::served). `clk` must
  // outlive the module; `backing` (optional) serves plain payloads' data.
  CacheModule(const sc_core::sc_module_name& name, const CacheGeometry& g, MemSource level,
              const ClockPeriod& clk, PhysMem* backing = nullptr);

  SC_HAS_PROCESS(CacheModule);
  [[nodiscard]] const char* kind() const override { return "CacheModule"; }
  [[nodiscard]] bool present() const { return core_ != nullptr; }
  // The core (present() only).
  [[nodiscard]] Cache& core() { return *core_; }
  [[nodiscard]] const Cache& core() const { return *core_; }
  // Cycles added to every miss passed down (the last level: cache.miss_path).
  void set_miss_path(Cycles c) { miss_path_ = c; }
  // Install DMA writes instead of invalidating (cache.dma_allocate).
  void set_dma_allocate(bool on) { dma_allocate_ = on; }
  // An upper cache whose copy of a line the kernel's and DMA's writes
  // invalidate: at once, or, with an `owner` agent and its `inbox`, at once
  // for the owner's own writes and through the inbox for everyone else's.
  void snoop(Cache& c, const AgentSync* owner = nullptr, SnoopInbox* inbox = nullptr);
  // Coherence between the private caches of different CPUs (MESI-like, with
  // silent evictions). On the shared last level (with lines): a directory of
  // the CPUs whose private caches (snoop()) may hold each line; a private
  // level's read is granted exclusive when no other CPU may hold the line,
  // else shared (the one that may hold it exclusive is downgraded); a read
  // for ownership or an upgrade makes it the requester's alone (the others'
  // copies are invalidated); an owner takes these actions through its inbox,
  // as it takes the kernel's invalidations. On a private level: its lines
  // keep the shared state the level below granted, and a write to a shared
  // line sends an upgrade below. The shared level's directory is a snoop
  // filter of at least `filter_entries` entries (SnoopFilter): a line it
  // must track in a full set evicts another, whose private copies are then
  // invalidated. Call after set_shared(), before the simulation starts.
  void set_coherent(bool on, uint64_t filter_entries = 0) {
    coherent_ = on;
    if (on && shared_) sf_ = std::make_unique<SnoopFilter>(filter_entries);
  }
  // Several agents share this level: lookups in (arrival, socket, agent)
  // order (see above). Call before the simulation starts.
  void set_shared(bool on) { shared_ = on; }
  // `lower` is bound to level `c`'s `upper` (or to the DRAM `t` itself): a
  // request this level passes down in time order (MemExtension::ordered,
  // after the agent's before()) is served by a plain call on `c`
  // (serve_in_order()) or `t`, as their b_transport() would serve it,
  // without the socket; anything else goes through the socket.
  void serve_below(CacheModule* c) { below_cache_ = c; }
  void serve_below(InOrderMemTarget* t) { below_mem_ = t; }
  // b_transport()'s path for a request `p` of the project's initiators in
  // time order (x.ordered), by a plain call: what b_transport() would do,
  // when that involves no wait. Returns false and changes nothing when it
  // would wait (a shared level whose lookup depends on a fill not known
  // yet): the caller then sends `p` through the socket.
  bool serve_in_order(tlm::tlm_generic_payload& p, MemExtension& x);
  // Requests serve_in_order() served (for tests; not a statistic: the
  // results do not depend on the path).
  [[nodiscard]] uint64_t served_in_order() const { return served_in_order_; }

  // A miss of the owning CPU's own data access or fetch, found by a plain
  // Cache::access() call on core() (the hit path needs no transaction):
  // passes `line` down at r.ready (+ the miss path) as a read (a write miss
  // reads for ownership, the line is already dirty here) for initiator `who`
  // in time order through `sync`, records the fill and writes a dirty victim
  // back, as a request arriving through `upper` would. Returns when the line
  // is here; `served` says which level below supplied it.
  // `own`: the miss of a write (a read for ownership below).
  Cycle fetch_line(uint64_t line, const CacheResult& r, Initiator who, AgentSync& sync,
                   MemSource& served, bool own = false);
  // A write hit of the owning CPU's own data access on a line held shared
  // (CacheResult::upgrade, found by a plain Cache::access() call): sends the
  // upgrade below at `at` for initiator `who`; returns when the line is
  // exclusive here.
  Cycle upgrade_line(uint64_t line, Cycle at, Initiator who, AgentSync& sync);

  // Counters under `prefix` (e.g. "top.llc."): accesses, hits, misses,
  // misses per thousand of `records` trace records, per initiator too.
  void visit(StatVisitor& v, const std::string& prefix, uint64_t records) const;

 private:
  void b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void timed(tlm::tlm_generic_payload& p, MemExtension& x, uint32_t socket);
  // A shared level: the lookup and its state changes for `p` (from upper
  // socket `socket`), in (arrival, socket, agent) order.
  void timed_shared(tlm::tlm_generic_payload& p, MemExtension& x, uint32_t socket);
  // The lookup proper (state changes, no wait): done (x.done set), a
  // whole-line write allocated without a fetch (x.done set; `r` holds its
  // victim, written back at r.ready + the miss path), a miss to pass on (`r`
  // holds it), or a DMA write to pass on at its arrival.
  enum class Lookup : uint8_t { kDone, kAllocated, kMiss, kPassOn };
  Lookup lookup(tlm::tlm_generic_payload& p, MemExtension& x, CacheResult& r);
  // Whether a demand lookup of `line` arriving at `at` depends on a fill not
  // known yet (a hit on a line in flight, or an MSHR such a fill may free
  // before the others).
  [[nodiscard]] bool must_wait(uint64_t line, Cycle at) const;
  // Joins the group of this delta cycle and waits for its turn; release()
  // hands the turn on.
  // `demand`: a request of an agent whose other requests must not come
  // before it (DMA comes from the I/O side and does not wait for them).
  void take_turn(Cycle at, uint32_t socket, const AgentSync* sync, bool demand);
  void release_turn();
  void admit();  // SC_METHOD: sorts the group into the queue, hands the turn on
  // Gives the front of the queue its turn when no other agent can still send
  // a request arriving before it.
  void grant();
  void horizon_moved() override;
  size_t take_event();
  // Sends the request on at `at` (re-checking time order); returns its
  // completion.
  Cycle pass_down(tlm::tlm_generic_payload& p, MemExtension& x, Cycle at);
  void write_back(uint64_t line, const MemExtension& x, Cycle at);
  // Issues the lines the core's prefetcher proposed (after a lookup for the
  // request `x`, on behalf of its agent): each takes an MSHR here, goes
  // below as a read of initiator prefetch and fills its line.
  void issue_prefetches(const MemExtension& x);
  // The miss `r` of `line` (p: its request, already read): passed on, filled,
  // victim written back; returns the fill's completion.
  Cycle after_miss(tlm::tlm_generic_payload& p, MemExtension& x, uint64_t line,
                   const CacheResult& r);
  void invalidate_above(uint64_t line, Cycle at, const AgentSync* writer);
  // fetch_line()'s and upgrade_line()'s request for `line`, set up.
  MemExtension& own_request(uint64_t line, Initiator who, AgentSync& sync, CohRequest coh,
                            tlm::tlm_command command);
  // The shared level's directory step for a request of line `line` (in
  // lookup order); returns true when it answered the request (an upgrade).
  bool directory(tlm::tlm_generic_payload& p, MemExtension& x, uint64_t line);
  // Posts `line`'s invalidation (or downgrade) at `at` to every owner in
  // `owners` (directory bits) but `except`.
  void post_owners(uint64_t owners, const AgentSync* except, uint64_t line, Cycle at,
                   bool downgrade);
  // A private level's upgrade of `line` for the request `p`, sent below at
  // `at`; returns its completion.
  Cycle upgrade_below(tlm::tlm_generic_payload& p, MemExtension& x, Cycle at);
  // A coherent private level's hit `r` for `p`: an upgrade below when the
  // line was shared and is written (or read for ownership from above), else
  // the shared state a read from above takes.
  void private_hit(tlm::tlm_generic_payload& p, MemExtension& x, const CacheResult& r);
  void move_data(tlm::tlm_generic_payload& p);

  std::unique_ptr<Cache> core_;
  MemSource level_;
  const ClockPeriod& clk_;
  PhysMem* backing_;
  Cycles miss_path_{0};
  CacheModule* below_cache_ = nullptr;     // serve_below()
  InOrderMemTarget* below_mem_ = nullptr;  // serve_below()
  bool dma_allocate_ = false;
  bool shared_ = false;
  struct Snooped {
    Cache* cache;
    const AgentSync* owner;
    SnoopInbox* inbox;
    uint64_t bit;  // the owner's directory bit (0: no owner)
  };
  std::vector<Snooped> snooped_;
  bool coherent_ = false;
  // The directory (a coherent shared level): the owners in snoop() order,
  // their bits by agent id, and the snoop filter.
  std::vector<const AgentSync*> owners_;
  std::vector<uint64_t> owner_bit_;  // by AgentSync::id()
  std::unique_ptr<SnoopFilter> sf_;
  // Tracks `line` (a new entry has no owners); a line evicted from a full
  // set has its private copies invalidated at `at`.
  SnoopFilter::Entry& track(uint64_t line, Cycle at);
  uint64_t upgrades_ = 0, shared_fills_ = 0, coh_invalidations_ = 0, downgrades_ = 0;
  uint64_t filter_evictions_ = 0;
  uint64_t upgrades_sent_ = 0;  // a coherent private level's
  // A shared level's order: the group arriving in this delta cycle, the
  // queue of sorted requests whose lookups wait for their turn (the front
  // one has it), and the passes of the misses whose fills are not known.
  struct Arrival {
    Cycle at;
    uint32_t socket;
    uint32_t agent;
    size_t event;  // index into turn_events_
    bool held;     // held until no other agent can arrive before it
    bool counted;  // of an agent: counted in queued_
  };
  std::vector<Arrival> arrivals_;
  std::deque<Arrival> queue_;  // sorted; the front has the turn when turn_taken_
  bool turn_taken_ = false;
  // The agents' sync horizon (known from the first request of an agent), and
  // per agent the number of its requests in arrivals_ or queue_.
  const SyncHorizon* horizon_ = nullptr;
  std::vector<uint32_t> queued_;
  std::deque<sc_core::sc_event> turn_events_;
  std::vector<size_t> free_events_;
  sc_core::sc_event admit_event_;
  sc_core::sc_event fill_event_;
  std::vector<Cycle> unknown_fills_;  // passes of misses in flight, fill not known
  unsigned fill_waiters_ = 0;
  unsigned line_shift_;
  // Writeback requests: one per writeback in flight (a lower level may make
  // its sender wait), reused.
  struct Writeback {
    Writeback();
    ~Writeback();
    Writeback(const Writeback&) = delete;
    Writeback& operator=(const Writeback&) = delete;
    tlm::tlm_generic_payload gp;
    MemExtension ext;
    unsigned char data[8] = {};
  };
  std::vector<std::unique_ptr<Writeback>> wb_;
  Writeback own_;       // fetch_line()'s request (one CPU thread uses a private level)
  Writeback prefetch_;  // issue_prefetches()' request (private levels, one at a time)
  std::vector<size_t> wb_free_;
  uint64_t snoop_invalidations_ = 0, dma_invalidations_ = 0, writebacks_sent_ = 0;
  uint64_t served_in_order_ = 0;
};

}  // namespace mmusim
