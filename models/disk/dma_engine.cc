#include "models/disk/dma_engine.h"

#include <algorithm>

namespace mmusim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kLine = 64;

}  // namespace

DmaEngine::DmaEngine(const sc_core::sc_module_name& name, const ControllerConfig& cfg,
                     SyncHorizon& horizon, const ClockPeriod& clk, bool reference)
    : sc_module(name),
      mem("mem"),
      target("target"),
      done("done"),
      p_(cfg.pcie),
      mhz_(cfg.core_clock_mhz),
      rate_(uint64_t{cfg.pcie.lanes} * cfg.pcie.lane_rate_mbps),
      horizon_(horizon),
      sync_(horizon, basename(), clk, reference),
      request_(Initiator::kDma) {
  cfg.validate();
  target.bind(*this);
  SC_THREAD(run);
}

void DmaEngine::expect(Cycle t) {
  if (t < horizon_.next(sync_.id())) sync_.expect(t);
}

void DmaEngine::start(const DmaTransfer& t) {
  Job j;
  j.t = t;
  jobs_.push_back(std::move(j));
  expect(t.earliest);
  const Cycle now = sync_.clock().now();
  wake_.notify(t.earliest > now ? sync_.clock().span(t.earliest - now) : sc_core::SC_ZERO_TIME);
}

bool DmaEngine::report_after(const Report& a, const Report& b) {
  return a.finish != b.finish ? a.finish > b.finish : a.seq > b.seq;
}

DmaEngine::LinkTime DmaEngine::later(LinkTime a, Cycle c) {
  if (a.cycle < c || (a.cycle == c && a.frac == 0)) return LinkTime{c, 0};
  return a;
}

DmaEngine::LinkTime DmaEngine::after(LinkTime from, uint64_t payload) const {
  // (payload + overhead) * f / R cycles: whole cycles and the remainder.
  const uint64_t units = from.frac + (payload + p_.tlp_overhead) * mhz_;
  return LinkTime{from.cycle + Cycles(units / rate_), units % rate_};
}

DmaEngine::LinkTime DmaEngine::send(LinkTime from, uint64_t payload) {
  const LinkTime end = after(from, payload);
  const uint64_t units = busy_frac_ + (payload + p_.tlp_overhead) * mhz_;
  stats_.link_busy_cycles += units / rate_;
  busy_frac_ = units % rate_;
  ++stats_.tlps;
  stats_.bytes += payload;
  stats_.last_busy = max(stats_.last_busy, end.ceil());
  return end;
}

bool DmaEngine::line_of(const Job& j, uint64_t pos, PhysAddr* out) {
  const uint64_t f = pos / kPage;
  if (f >= j.t.frames.size()) return false;
  *out = PhysAddr(frame_base(j.t.frames[f]).value() + (pos % kPage & ~(kLine - 1)));
  return true;
}

Cycle DmaEngine::next_step() const {
  if (jobs_.empty()) return kNeverCycle;
  const Job& j = jobs_.front();
  if (j.pos >= j.t.bytes) return later(link_, j.t.earliest).ceil();  // empty transfer
  if (!j.t.to_memory) return j.begun ? j.next_req : later(link_, j.t.earliest).ceil();
  const uint64_t p = std::min({uint64_t{p_.mps}, kPage - j.pos % kPage, j.t.bytes - j.pos});
  return after(later(link_, j.t.earliest), p).ceil();
}

Cycle DmaEngine::earliest_report() const {
  const Cycle r = reports_.empty() ? kNeverCycle : reports_.front().finish;
  return min(r, next_step());
}

void DmaEngine::finish_job(Job& j, Cycle finish) {
  ++stats_.transfers;
  ++(j.t.to_memory ? stats_.to_memory : stats_.from_memory);
  reports_.push_back(Report{finish, seq_++, j.t.id, j.start});
  std::push_heap(reports_.begin(), reports_.end(), report_after);
  jobs_.pop_front();
}

void DmaEngine::step_to_memory(Job& j) {
  const uint64_t p = std::min({uint64_t{p_.mps}, kPage - j.pos % kPage, j.t.bytes - j.pos});
  const LinkTime from = later(link_, j.t.earliest);
  link_ = send(from, p);
  const Cycle arrived = link_.ceil();
  // The root complex splits the TLP into line writes, all issued on arrival.
  for (uint64_t off = 0; off < p; off += kLine) {
    PhysAddr line;
    if (!line_of(j, j.pos + off, &line)) continue;
    j.max_done = max(j.max_done, request_.access(mem, sync_, line, true, arrived));
    ++stats_.lines_written;
  }
  j.pos += p;
  if (j.pos >= j.t.bytes) finish_job(j, max(arrived, j.max_done));
}

void DmaEngine::step_from_memory(Job& j) {
  const Cycle r = j.next_req;
  const uint64_t c = std::min({uint64_t{p_.mrrs}, kPage - j.pos % kPage, j.t.bytes - j.pos});
  Cycle first_cpl = kNeverCycle;
  // One read request: its lines are read at r; each completion TLP leaves
  // when its own lines are read and the link is free.
  for (uint64_t done_bytes = 0; done_bytes < c;) {
    const uint64_t p = std::min(uint64_t{p_.mps}, c - done_bytes);
    Cycle ready = r;
    for (uint64_t off = 0; off < p; off += kLine) {
      PhysAddr line;
      if (!line_of(j, j.pos + done_bytes + off, &line)) continue;
      ready = max(ready, request_.access(mem, sync_, line, false, r));
      ++stats_.lines_read;
    }
    const LinkTime from = later(link_, ready);
    if (first_cpl == kNeverCycle) first_cpl = from.ceil();
    link_ = send(from, p);
    done_bytes += p;
  }
  j.next_req = max(r, first_cpl);
  j.pos += c;
  if (j.pos >= j.t.bytes) finish_job(j, link_.ceil());
}

void DmaEngine::step() {
  Job& j = jobs_.front();
  if (!j.begun) {
    j.begun = true;
    j.start = later(link_, j.t.earliest).ceil();
    j.next_req = j.start;
    j.max_done = j.start;
  }
  if (j.pos >= j.t.bytes) {
    finish_job(j, j.start);
  } else if (j.t.to_memory) {
    step_to_memory(j);
  } else {
    step_from_memory(j);
  }
}

void DmaEngine::run() {
  for (;;) {
    const Cycle ts = next_step();
    const Cycle tr = reports_.empty() ? kNeverCycle : reports_.front().finish;
    if (ts == kNeverCycle && tr == kNeverCycle) {
      sync_.idle_wait(wake_);
      continue;
    }
    if (tr <= ts) {
      // Report in time order: at once when no other agent can act at or
      // before tr, otherwise at tr (a start() meanwhile may bring an
      // earlier step: look again).
      const bool ordered = !sync_.reference() && tr < horizon_.horizon(sync_.id());
      if (!ordered && sync_.clock().now() < tr) {
        sync_.idle_wait_until(wake_, tr);
        continue;
      }
      std::pop_heap(reports_.begin(), reports_.end(), report_after);
      const Report r = reports_.back();
      reports_.pop_back();
      done->dma_done(r.id, r.start, r.finish);
    } else {
      step();  // each line synchronizes through the agent (TimedMemRequest)
    }
  }
}

void DmaEngine::visit(StatVisitor& v) const {
  v.counter("transfers", "transfers", "DMA transfers finished", stats_.transfers);
  v.counter("transfers_to_memory", "transfers", "transfers from the device into host memory",
            stats_.to_memory);
  v.counter("transfers_from_memory", "transfers", "transfers from host memory to the device",
            stats_.from_memory);
  v.counter("lines_written", "requests", "line writes to DRAM (device -> memory)",
            stats_.lines_written);
  v.counter("lines_read", "requests", "line reads from DRAM (memory -> device)", stats_.lines_read);
  v.counter("bytes", "bytes", "payload bytes moved over the link", stats_.bytes);
  v.counter("tlps", "TLPs", "write and completion TLPs sent over the link", stats_.tlps);
  v.counter("link_busy_cycles", "cycles", "cycles the link carried TLPs (payload and overhead)",
            stats_.link_busy_cycles);
  const uint64_t end = stats_.last_busy.count();
  v.real("link_utilisation", "fraction",
         "link busy cycles over the cycles up to the end of the last TLP",
         end == 0 ? 0.0 : static_cast<double>(stats_.link_busy_cycles) / static_cast<double>(end));
}

}  // namespace mmusim
