#include "models/disk/hdd.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mmusim {

std::string_view seek_curve_name(SeekCurve c) { return c == SeekCurve::kRw ? "rw" : "sqrt"; }
std::string_view hdd_scheduler_name(HddScheduler s) {
  return s == HddScheduler::kFifo ? "fifo" : "clook";
}

HddParams hdd_preset(std::string_view name) {
  if (name == "hc310") return HddParams{};
  if (name == "hp97560") {
    // Ruemmler and Wilkes 1994, os-model.md §3.3.
    HddParams p;
    p.preset = "hp97560";
    p.cylinders = 1962;
    p.heads = 19;
    p.spt_outer = p.spt_inner = 72;
    p.zones = 1;
    p.rpm = 4002;
    p.seek_curve = SeekCurve::kRw;
    p.seek_a_ns = 3'240'000;  // 3.24 ms
    p.seek_b_ns = 400'000;    // 0.400 ms per sqrt(cylinder)
    p.seek_cutoff = 383;
    p.seek_c_ns = 8'000'000;  // 8.00 ms
    p.seek_e_ns = 8'000;      // 0.008 ms per cylinder
    p.seek_t2t_ns = 0;
    p.seek_full_ns = 0;
    p.controller_ns = 2'200'000;
    p.head_switch_ns = 1'600'000;
    return p;
  }
  throw std::invalid_argument("expected hp97560 or hc310");
}

Hdd::Hdd(const HddParams& p, uint32_t core_clock_mhz) : p_(p), mhz_(core_clock_mhz) {
  if (mhz_ == 0) throw std::invalid_argument("Hdd: core clock must be positive");
  if (p_.cylinders == 0 || p_.heads == 0 || p_.spt_inner == 0 || p_.spt_inner > p_.spt_outer ||
      p_.zones == 0 || p_.zones > p_.cylinders || p_.rpm == 0) {
    throw std::invalid_argument("Hdd: impossible geometry");
  }
  if (p_.seek_curve == SeekCurve::kSqrt && (p_.cylinders < 2 || p_.seek_full_ns < p_.seek_t2t_ns)) {
    throw std::invalid_argument("Hdd: the sqrt seek curve needs 2 cylinders and full >= t2t");
  }
  rev_ = Cycles((60'000'000ULL * mhz_ + p_.rpm - 1) / p_.rpm);
  controller_ = ns_to_cycles(p_.controller_ns, mhz_);
  head_switch_ = ns_to_cycles(p_.head_switch_ns, mhz_);
  const uint64_t n = p_.cylinders, z = p_.zones;
  for (uint64_t i = 0; i < z; ++i) {
    zone_cyl_.push_back(static_cast<uint32_t>((i * n + z - 1) / z));  // ceil(i * n / z)
    const uint64_t drop = z == 1 ? 0 : (uint64_t{p_.spt_outer} - p_.spt_inner) * i / (z - 1);
    zone_spt_.push_back(static_cast<uint32_t>(p_.spt_outer - drop));
  }
  for (uint64_t i = 0; i < z; ++i) {
    zone_lba_.push_back(capacity_);
    const uint64_t end = i + 1 < z ? zone_cyl_[i + 1] : n;
    capacity_ += (end - zone_cyl_[i]) * p_.heads * zone_spt_[i];
  }
  head_.spt = zone_spt_[0];
}

uint32_t Hdd::spt_of_cylinder(uint32_t c) const {
  return zone_spt_[uint64_t{c} * p_.zones / p_.cylinders];
}

Chs Hdd::locate(uint64_t lba) const {
  lba %= capacity_;
  const size_t z = static_cast<size_t>(std::upper_bound(zone_lba_.begin(), zone_lba_.end(), lba) -
                                       zone_lba_.begin() - 1);
  const uint64_t off = lba - zone_lba_[z];
  const uint64_t spt = zone_spt_[z];
  const uint64_t per_cyl = spt * p_.heads;
  Chs c;
  c.cylinder = static_cast<uint32_t>(zone_cyl_[z] + off / per_cyl);
  c.head = static_cast<uint32_t>(off % per_cyl / spt);
  c.sector = static_cast<uint32_t>(off % spt);
  c.spt = static_cast<uint32_t>(spt);
  return c;
}

Cycles Hdd::seek(uint64_t d) const {
  if (d == 0) return Cycles(0);
  double ns = 0.0;
  if (p_.seek_curve == SeekCurve::kRw) {
    if (d > p_.seek_cutoff) return ns_to_cycles(p_.seek_c_ns + p_.seek_e_ns * d, mhz_);
    ns = static_cast<double>(p_.seek_a_ns) +
         static_cast<double>(p_.seek_b_ns) * std::sqrt(static_cast<double>(d));
  } else {
    const double x = static_cast<double>(d - 1) / static_cast<double>(p_.cylinders - 1);
    ns = static_cast<double>(p_.seek_t2t_ns) +
         static_cast<double>(p_.seek_full_ns - p_.seek_t2t_ns) * std::sqrt(x);
  }
  return Cycles(static_cast<uint64_t>(std::ceil(ns * static_cast<double>(mhz_) / 1000.0)));
}

Cycles Hdd::rotational_wait(Cycle t, uint32_t s, uint32_t spt) const {
  const uint64_t rev = rev_.count();
  const uint64_t phase = t.count() % rev;
  const uint64_t target = (uint64_t{s} * rev + spt - 1) / spt;
  return Cycles(target >= phase ? target - phase : rev - phase + target);
}

Hdd::Plan Hdd::plan(const Pending& q, Cycle start) const {
  Plan pl;
  Cycle t = start + controller_;
  Chs at = locate(q.lba);
  const uint64_t d =
      at.cylinder > head_.cylinder ? at.cylinder - head_.cylinder : head_.cylinder - at.cylinder;
  pl.seek = seek(d);
  t += pl.seek;
  if (d == 0 && at.head != head_.head) {
    t += head_switch_;
    ++pl.switches;
  }
  pl.rotation = rotational_wait(t, at.sector, at.spt);
  t += pl.rotation;
  const uint64_t rev = rev_.count();
  uint64_t left = (q.r.bytes + 511) / 512;
  pl.end_lba = (q.lba + left) % capacity_;
  uint32_t s = at.sector;
  for (;;) {
    const uint64_t k = std::min<uint64_t>(left, at.spt - s);
    t += Cycles((k * rev + at.spt - 1) / at.spt);
    left -= k;
    if (left == 0) break;
    // Onto the next track: the next head, or the next cylinder's first.
    s = 0;
    if (++at.head == p_.heads) {
      at.head = 0;
      at.cylinder = at.cylinder + 1 == p_.cylinders ? 0 : at.cylinder + 1;
      at.spt = spt_of_cylinder(at.cylinder);
    }
    t += head_switch_;
    ++pl.switches;
  }
  pl.end = at;
  pl.done = t;
  return pl;
}

size_t Hdd::pick(Cycle at) const {
  if (p_.scheduler == HddScheduler::kFifo) return 0;
  size_t ahead = queue_.size(), lowest = queue_.size();
  for (size_t i = 0; i < queue_.size(); ++i) {
    const Pending& q = queue_[i];
    if (q.r.at > at) break;  // arrival order: the rest arrive later
    if (lowest == queue_.size() || q.lba < queue_[lowest].lba) lowest = i;
    if (q.lba >= head_lba_ && (ahead == queue_.size() || q.lba < queue_[ahead].lba)) ahead = i;
  }
  return ahead != queue_.size() ? ahead : lowest;
}

Cycle Hdd::decision_time() const { return max(head_free_, queue_.front().r.at); }

bool Hdd::decide(Cycle limit, bool inclusive) {
  if (queue_.empty()) return false;
  const Cycle at = decision_time();
  if (inclusive ? at > limit : at >= limit) return false;
  const size_t i = pick(at);
  const Pending q = queue_[i];
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
  const Plan pl = plan(q, at);
  DiskDone d;
  d.id = q.r.id;
  d.write = q.r.write;
  d.at = q.r.at;
  d.start = at;
  d.done = pl.done;
  head_ = pl.end;
  head_lba_ = pl.end_lba;
  head_free_ = pl.done;
  if (pl.seek.count() > 0) ++seeks_;
  seek_cycles_ += pl.seek.count();
  rotation_cycles_ += pl.rotation.count();
  switches_ += pl.switches;
  stats_.served(d);
  done_.push_back(d);
  return true;
}

void Hdd::submit(const DiskRequest& r) {
  // Choices before r.at are made without it; choices at r.at will see it.
  while (decide(r.at, false)) {
  }
  stats_.arrive(r);
  queue_.push_back(Pending{r, r.offset / 512 % capacity_});
}

Cycle Hdd::next_done() const {
  if (!done_.empty()) return done_.front().done;
  if (queue_.empty()) return kNeverCycle;
  const Cycle at = decision_time();
  return plan(queue_[pick(at)], at).done;
}

bool Hdd::take(Cycle upto, DiskDone& out) {
  if (done_.empty()) decide(upto, true);
  if (done_.empty() || done_.front().done > upto) return false;
  out = done_.front();
  done_.pop_front();
  return true;
}

void Hdd::visit(StatVisitor& v) const {
  stats_.visit(v);
  v.counter("seeks", "seeks", "requests that moved the arm (seek distance > 0)", seeks_);
  v.counter("seek_cycles", "cycles", "cycles spent seeking, summed", seek_cycles_);
  v.counter("rotation_cycles", "cycles", "cycles of rotational wait, summed", rotation_cycles_);
  v.counter("head_switches", "switches", "head switches (track crossings, head changes)",
            switches_);
}

}  // namespace mmusim
