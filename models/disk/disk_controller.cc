#include "models/disk/disk_controller.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace mmusim {
namespace {

constexpr uint64_t kPrpThresholdBytes = 8192;  // PRP1 + PRP2 cover two pages

}  // namespace

DiskController::DiskController(const sc_core::sc_module_name& name, const ControllerConfig& cfg,
                               std::vector<std::unique_ptr<DiskModel>> devices,
                               std::map<uint32_t, size_t> dev_index, SyncHorizon& horizon,
                               const ClockPeriod& clk, bool reference)
    : sc_module(name),
      target("target"),
      irq("irq"),
      dma("dma"),
      dma_done_export("dma_done"),
      cfg_(cfg),
      dev_index_(std::move(dev_index)),
      horizon_(horizon),
      sync_(horizon, basename(), clk, reference) {
  cfg_.validate();
  timing_ = controller_timing(cfg_);
  if (devices.empty()) throw std::invalid_argument("DiskController: no devices");
  for (auto& d : devices) {
    if (!d) throw std::invalid_argument("DiskController: null device");
    Dev v;
    v.model = std::move(d);
    devs_.push_back(std::move(v));
  }
  for (const auto& [dev, index] : dev_index_) {
    if (index >= devs_.size()) {
      throw std::invalid_argument("DiskController: device number " + std::to_string(dev) +
                                  " maps to index " + std::to_string(index) + " of " +
                                  std::to_string(devs_.size()) + " devices");
    }
  }
  target.bind(*this);
  dma_done_export.bind(*this);
  SC_THREAD(run);
}

void DiskController::connect(DmaEngine& e) {
  dma.bind(e.target);
  e.done.bind(dma_done_export);
}

void DiskController::schedule(Cycle t) {
  if (t < horizon_.next(sync_.id())) sync_.expect(t);
  const Cycle now = sync_.clock().now();
  wake_.notify(t > now ? sync_.clock().span(t - now) : sc_core::SC_ZERO_TIME);
}

void DiskController::push(Cycle t, EvKind k, uint64_t tag) {
  events_.push(Ev{t, k, seq_++, tag});
  schedule(t);
}

void DiskController::submit(const BlockRequest& r) {
  const uint64_t tag = next_tag_++;
  Rec rec;
  rec.r = r;
  rec.tl.submitted = r.at;
  auto it = dev_index_.find(r.dev);
  rec.dev = it == dev_index_.end() ? 0 : it->second;
  ++stats_.requests;
  if (r.write) {
    ++stats_.writes;
    stats_.bytes_written += r.bytes;
  } else {
    ++stats_.reads;
    stats_.bytes_read += r.bytes;
  }
  Dev& d = devs_[rec.dev];
  recs_.emplace(tag, std::move(rec));
  if (d.inflight < cfg_.controller.queue_depth) {
    ring(tag, r.at);
  } else {
    d.waiting.push_back(tag);
    ++stats_.sw_queued;
  }
}

void DiskController::ring(uint64_t tag, Cycle t) {
  Rec& rec = recs_.at(tag);
  Dev& d = devs_[rec.dev];
  ++d.inflight;
  stats_.sq_occupancy.add(d.inflight);
  Cycle fetched = t + timing_.doorbell + timing_.fetch;
  if (rec.r.bytes > kPrpThresholdBytes) fetched += timing_.prp_fetch;
  push(fetched, EvKind::kFetched, tag);
}

void DiskController::dma_done(uint64_t tag, Cycle start, Cycle finish) {
  Rec& rec = recs_.at(tag);
  rec.tl.dma_start = start;
  rec.tl.dma_done = finish;
  push(finish, EvKind::kDmaDone, tag);
}

void DiskController::submit_to_device(Rec& rec, uint64_t tag, Cycle t) {
  rec.dev_arrival = t;
  DiskRequest q;
  q.id = tag;
  q.dev = static_cast<uint32_t>(rec.dev);
  q.offset = rec.r.offset;
  q.bytes = rec.r.bytes;
  q.write = rec.r.write;
  q.at = t;
  devs_[rec.dev].model->submit(q);
}

void DiskController::on_fetched(uint64_t tag, Cycle t) {
  Rec& rec = recs_.at(tag);
  rec.tl.fetched = t;
  if (!rec.r.write) {
    submit_to_device(rec, tag, t);
    return;
  }
  rec.dma_ready = t;
  dma->start(DmaTransfer{tag, rec.r.frames, rec.r.bytes, false, t});
}

void DiskController::on_dma_done(uint64_t tag, Cycle t) {
  Rec& rec = recs_.at(tag);
  if (rec.r.write) {
    submit_to_device(rec, tag, t);
  } else {
    push(t + timing_.cqe + timing_.msix, EvKind::kIrq, tag);
  }
}

void DiskController::on_device_done(const DiskDone& d) {
  Rec& rec = recs_.at(d.id);
  rec.tl.device_start = d.start;
  rec.tl.device_done = d.done;
  if (rec.r.write) {
    push(d.done + timing_.cqe + timing_.msix, EvKind::kIrq, d.id);
  } else {
    rec.dma_ready = d.done;
    dma->start(DmaTransfer{d.id, rec.r.frames, rec.r.bytes, true, d.done});
  }
}

void DiskController::on_irq(uint64_t tag, Cycle t) {
  auto it = recs_.find(tag);
  Rec rec = std::move(it->second);
  recs_.erase(it);
  rec.tl.irq = t;
  BlockTimeline& tl = rec.tl;
  ++stats_.completed;
  stats_.latency.add((tl.irq - tl.submitted).count());
  stats_.fetch += (tl.fetched - tl.submitted).count();
  stats_.device_wait += (tl.device_start - rec.dev_arrival).count();
  stats_.device += (tl.device_done - tl.device_start).count();
  stats_.dma_wait += (tl.dma_start - rec.dma_ready).count();
  stats_.dma += (tl.dma_done - tl.dma_start).count();
  stats_.completion += (tl.irq - (rec.r.write ? tl.device_done : tl.dma_done)).count();
  // The slot is free: the software queue's head rings its doorbell now,
  // before the kernel hears of this completion (FIFO across both).
  Dev& d = devs_[rec.dev];
  --d.inflight;
  if (!d.waiting.empty()) {
    const uint64_t next = d.waiting.front();
    d.waiting.pop_front();
    stats_.sw_wait_cycles += (t - recs_.at(next).r.at).count();
    ring(next, t);
  }
  irq->complete(rec.r.id, tl);
}

Cycle DiskController::next_time() const {
  Cycle t = events_.empty() ? kNeverCycle : events_.top().t;
  for (const Dev& d : devs_) t = min(t, d.model->next_done());
  return t;
}

void DiskController::process(Cycle t, bool ordered) {
  // 1. What reaches a device at t (and other non-interrupt steps).
  if (!events_.empty() && events_.top().t <= t && events_.top().kind != EvKind::kIrq) {
    while (!events_.empty() && events_.top().t <= t && events_.top().kind != EvKind::kIrq) {
      const Ev e = events_.top();
      events_.pop();
      if (e.kind == EvKind::kFetched) {
        on_fetched(e.tag, e.t);
      } else {
        on_dma_done(e.tag, e.t);
      }
    }
    return;
  }
  // 2. Device completions at t, once nothing can still reach a device at t:
  // the DMA engine may report a write's transfer at t from its own thread
  // in this cycle (another delta); let it go first.
  bool due = false;
  for (const Dev& d : devs_) due = due || d.model->next_done() <= t;
  if (due) {
    if (!ordered && dma->earliest_report() <= t) {
      sc_core::wait(sc_core::SC_ZERO_TIME);
      return;
    }
    for (Dev& d : devs_) {
      DiskDone done;
      while (d.model->take(t, done)) on_device_done(done);
    }
    return;
  }
  // 3. Interrupts.
  while (!events_.empty() && events_.top().t <= t) {
    const Ev e = events_.top();
    events_.pop();
    on_irq(e.tag, e.t);
  }
}

void DiskController::run() {
  for (;;) {
    const Cycle t = next_time();
    if (t == kNeverCycle) {
      sync_.idle_wait(wake_);
      continue;
    }
    const bool ordered = !sync_.reference() && t < horizon_.horizon(sync_.id());
    if (!ordered && sync_.clock().now() < t) {
      sync_.idle_wait_until(wake_, t);  // a submission or a report may come first
      continue;
    }
    process(t, ordered);
  }
}

void DiskController::visit(StatVisitor& v) const {
  const ControllerStats& s = stats_;
  v.counter("requests", "requests", "block requests submitted to the controller", s.requests);
  v.counter("reads", "requests", "read requests", s.reads);
  v.counter("writes", "requests", "write requests", s.writes);
  v.counter("bytes_read", "bytes", "bytes of read requests", s.bytes_read);
  v.counter("bytes_written", "bytes", "bytes of write requests", s.bytes_written);
  v.counter("sw_queued", "requests",
            "requests that found the device's submission queue full and waited in software",
            s.sw_queued);
  v.counter("sw_wait_cycles", "cycles", "their waits for a submission queue slot, summed",
            s.sw_wait_cycles);
  v.histogram("sq_occupancy", "requests",
              "requests in flight on the device at each doorbell, the new one included",
              s.sq_occupancy);
  v.histogram("latency", "cycles", "request latency, submission to completion interrupt",
              s.latency);
  const auto mean = [&s](uint64_t sum) {
    return s.completed == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(s.completed);
  };
  v.real("mean_fetch", "cycles",
         "mean submission to command fetched (software queue, doorbell, SQE and PRP fetch)",
         mean(s.fetch));
  v.real("mean_device_wait", "cycles", "mean wait in the device before its service",
         mean(s.device_wait));
  v.real("mean_device", "cycles", "mean device service", mean(s.device));
  v.real("mean_dma_wait", "cycles", "mean wait for the PCIe link behind other transfers",
         mean(s.dma_wait));
  v.real("mean_dma", "cycles", "mean DMA transfer, link start to last line", mean(s.dma));
  v.real("mean_completion", "cycles", "mean CQE write and MSI-X delivery", mean(s.completion));
}

}  // namespace mmusim
