// Memory requests between modules: TLM-2.0 loosely-timed b_transport of one
// line, with an optional extension that names the initiator kind and says
// whether the request is already in time order (design.md §2 rules 8-9).
//
// A shared memory target serves requests by arrival time. The arrival is
// SystemC time plus the annotated delay (or the extension's explicit cycle,
// which may lie behind SystemC time for a CPU that is catching up). A request
// marked in-order is served at once; any other request waits until its
// arrival and is served with the others arriving in that cycle, ties broken
// by (arrival, initiator socket index, requesting agent).
#pragma once

#include <cstdint>
#include <string_view>
#include <tlm>

#include "models/common/phys_mem.h"
#include "models/common/sc_sync.h"
#include "models/common/types.h"

namespace mmusim {

// Who made a memory request, for per-initiator statistics (kPrefetch: a
// cache's hardware prefetcher).
enum class Initiator : uint8_t { kWalker, kData, kInstruction, kKernel, kDma, kOther, kPrefetch };
constexpr int kNumInitiators = 7;
constexpr std::string_view initiator_name(Initiator i) {
  switch (i) {
    case Initiator::kWalker: return "walker";
    case Initiator::kData: return "data";
    case Initiator::kInstruction: return "instruction";
    case Initiator::kKernel: return "kernel";
    case Initiator::kDma: return "dma";
    case Initiator::kOther: return "other";
    case Initiator::kPrefetch: return "prefetch";
  }
  return "?";
}

// The functional side of a plain payload (one without MemExtension): its
// bytes are copied from or into `backing` (nothing when either is absent).
inline void move_payload_data(PhysMem* backing, tlm::tlm_generic_payload& p) {
  if (backing == nullptr || p.get_data_ptr() == nullptr) return;
  unsigned char* d = p.get_data_ptr();
  const uint64_t a = p.get_address();
  for (unsigned i = 0; i < p.get_data_length(); ++i) {
    const PhysAddr word((a + i) & ~uint64_t{7});
    const unsigned shift = 8 * static_cast<unsigned>((a + i) & 7);
    if (p.is_write()) {
      const uint64_t w = backing->read64(word);
      backing->write64(word, (w & ~(uint64_t{0xFF} << shift)) | (uint64_t{d[i]} << shift));
    } else if (p.is_read()) {
      d[i] = static_cast<unsigned char>(backing->read64(word) >> shift);
    }
  }
}

// What a request means to the coherence between the private caches of
// different CPUs (kept by the shared last level: CacheModule::set_coherent).
enum class CohRequest : uint8_t {
  kNone,       // not a private level's fill (an initiator's own request, kernel, DMA)
  kRead,       // a private level's fill: held shared or exclusive (MemExtension::shared)
  kOwn,        // a private level's fill for a write (read for ownership): held exclusive
  kUpgrade,    // a private level's write to a line it holds shared: exclusive, no data
  kWriteback,  // a private level's dirty victim
};

// Present on the project's own requests, which are timing-only: the
// initiator applies the functional effect to PhysMem itself.
struct MemExtension : tlm::tlm_extension<MemExtension> {
  Initiator who = Initiator::kOther;
  Cycle arrival;         // when the request reaches the target
  bool ordered = false;  // no other initiator can arrive at or before `arrival`
  // A write of the whole line (a fast-string store): a cache that misses
  // allocates the line without reading it first (no read for ownership).
  bool whole_line = false;
  Cycle done;  // filled by the target: when the request completes
  // Filled by the target: the level that served it (a cache that hits sets
  // its own; DRAM leaves kDram, which the initiator sets before sending).
  MemSource served = MemSource::kDram;
  // The initiator's agent: a cache that passes a miss on later than
  // `arrival` asks it again whether the later arrival is still in order.
  AgentSync* sync = nullptr;
  CohRequest coh = CohRequest::kNone;
  // Filled by the level that served a kRead: another CPU's private caches
  // may hold the line too (the filling levels mark it shared).
  bool shared = false;
  [[nodiscard]] tlm::tlm_extension_base* clone() const override { return new MemExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& o) override {
    *this = static_cast<const MemExtension&>(o);
  }
};

// An initiator's reusable request: one line at a time, synchronized through
// the initiator's AgentSync, no allocation per request.
// A memory target that can serve a request arriving in time order
// (AgentSync::before() was true: MemExtension::ordered) by a plain call, as
// its b_transport() would serve it, without the payload and the socket: the
// line at `line` (8-byte aligned, as TimedMemRequest sends it) for `who`.
// Returns false (and does nothing) when its b_transport() would refuse the
// address; `done` receives the completion otherwise.
class InOrderMemTarget {
 public:
  virtual bool serve_in_order(PhysAddr line, bool is_write, Cycle arrival, Initiator who,
                              Cycle& done) = 0;

 protected:
  ~InOrderMemTarget() = default;
};

class TimedMemRequest {
 public:
  explicit TimedMemRequest(Initiator who) {
    ext_.who = who;
    gp_.set_extension(&ext_);
    gp_.set_data_ptr(data_);
    gp_.set_data_length(sizeof data_);
    gp_.set_streaming_width(sizeof data_);
    gp_.set_byte_enable_ptr(nullptr);
  }
  ~TimedMemRequest() { gp_.clear_extension(&ext_); }
  TimedMemRequest(const TimedMemRequest&) = delete;
  TimedMemRequest& operator=(const TimedMemRequest&) = delete;

  // The socket is bound to `t` itself (no cache in between): access() serves
  // a request that arrives in time order by a plain call on `t`, as the
  // socket would serve it, without the payload.
  void serve_directly(InOrderMemTarget* t) { direct_ = t; }
  // Sends the request for the line at `a` arriving at `at` through `socket`
  // (whole_line: a write of all of it, MemExtension::whole_line), or by the
  // plain call of serve_directly(); returns its completion cycle.
  template <class Socket>
  Cycle access(Socket& socket, AgentSync& sync, PhysAddr a, bool is_write, Cycle at,
               bool whole_line = false) {
    const bool ordered = sync.before(at);
    if (ordered && direct_ != nullptr) {
      Cycle done;
      if (direct_->serve_in_order(PhysAddr(a.value() & ~uint64_t{sizeof data_ - 1}), is_write, at,
                                  ext_.who, done)) {
        ext_.served = MemSource::kDram;
        return done;
      }
    }
    return send(socket, sync, ordered, a, is_write, at, whole_line);
  }
  // access() once the caller has asked sync.before(at): `ordered` is its answer.
  template <class Socket>
  Cycle send(Socket& socket, AgentSync& sync, bool ordered, PhysAddr a, bool is_write, Cycle at,
             bool whole_line = false) {
    ext_.ordered = ordered;
    ext_.whole_line = is_write && whole_line;
    ext_.arrival = at;
    ext_.served = MemSource::kDram;
    ext_.sync = &sync;
    ext_.coh = CohRequest::kNone;
    ext_.shared = false;
    // The target reads the arrival from the extension; the annotated delay
    // says the same for any reader of the payload (not needed in order).
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    if (!ext_.ordered) {
      const Cycle now = sync.clock().now();
      if (at > now) delay = sync.clock().span(at - now);
    }
    gp_.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp_.set_address(a.value() & ~uint64_t{sizeof data_ - 1});
    gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    // The initiator's next request may arrive as early as this one, before
    // what this one waits for below (AgentSync::set_floor).
    const Cycle floor = sync.floor();
    sync.set_floor(min(floor, at));
    socket->b_transport(gp_, delay);
    sync.set_floor(floor);
    return ext_.done;
  }
  // Where the last request was served.
  [[nodiscard]] MemSource served() const { return ext_.served; }

 private:
  tlm::tlm_generic_payload gp_;
  MemExtension ext_;
  unsigned char data_[8] = {};
  InOrderMemTarget* direct_ = nullptr;  // serve_directly()
};

}  // namespace mmusim
