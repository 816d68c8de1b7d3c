// A hard disk (disk.model=hdd), os-model.md §3.3. Plain C++, no SystemC.
//
// Geometry. `cylinders` x `heads` tracks of 512 B sectors; cylinder 0 is the
// outermost. The cylinders form `zones` equal-width zones (zone of c =
// floor(c * zones / cylinders)); zone z has spt(z) = spt_outer -
// floor((spt_outer - spt_inner) * z / (zones - 1)) sectors per track (one
// zone: spt_outer). LBAs run sector by sector along a track, track by track
// (head 0 first) within a cylinder, cylinder by cylinder from the outside.
// A request's LBA is offset / 512, modulo the capacity.
//
// Timing (cycles; each term rounded up alone, f = core MHz):
//   rev        = ceil(60e6 * f / rpm)                       one revolution
//   seek(0)    = 0
//   seek(d)    rw:   a + b * sqrt(d)  for d <= cutoff, c + e * d beyond
//              sqrt: t2t + (full - t2t) * sqrt((d - 1) / (cylinders - 1))
//              in ns, then ceil(ns * f / 1000)
//   service    = controller + seek(|target cylinder - head cylinder|)
//                + head_switch if d = 0 and the head changes
//                + rotational wait + transfer
// The platter turns from cycle 0 at a constant rate; sector s of a track of
// spt sectors passes under the head at phase ceil(s * rev / spt) of each
// revolution. The rotational wait runs from the end of the seek until the
// first sector's phase comes round. Transfer of k sectors on one track =
// ceil(k * rev / spt); each crossing onto the next track (or cylinder) adds
// a head switch and no rotational wait (the tracks are skewed by exactly the
// switch time).
//
// Queue. One request in service; the waiting ones are ordered by
// `scheduler`: fifo (arrival order) or clook (C-LOOK by LBA: the lowest LBA
// at or after the head's, i.e. the sector after the last one transferred;
// when none, wrap to the lowest LBA; equal LBAs in arrival order). The next
// request is chosen when the head frees, among those arrived by then
// (submissions at that cycle included). No read cache, no NCQ reordering by
// rotational position.
//
// Protocol note: the choice at cycle t is committed by a submission after t
// or a take at or after t; next_done() between two submissions at the cycle
// the head frees names the request that would be chosen with what has
// arrived so far.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/disk/disk_model.h"
#include "models/disk/disk_stats.h"

namespace mmusim {

enum class SeekCurve : uint8_t { kRw, kSqrt };
enum class HddScheduler : uint8_t { kFifo, kClook };
std::string_view seek_curve_name(SeekCurve c);
std::string_view hdd_scheduler_name(HddScheduler s);

// disk.hdd.* The defaults are the hc310 preset.
struct HddParams {
  std::string preset = "hc310";  // the preset the values came from
  uint32_t cylinders = 324'000;
  uint32_t heads = 8;
  uint32_t spt_outer = 4'069;  // 250 MB/s at 7200 rpm: 4069 x 512 x 120
  uint32_t spt_inner = 1'953;  // 120 MB/s
  uint32_t zones = 16;
  uint32_t rpm = 7'200;
  SeekCurve seek_curve = SeekCurve::kSqrt;
  uint64_t seek_a_ns = 0, seek_b_ns = 0, seek_cutoff = 0, seek_c_ns = 0, seek_e_ns = 0;  // rw
  uint64_t seek_t2t_ns = 230'000;      // sqrt: track to track
  uint64_t seek_full_ns = 13'673'750;  // sqrt: full stroke, 0.23 + (7.4 - 0.23) x 15 / 8 ms
  uint64_t controller_ns = 100'000;    // puts the random 4 KiB read at 11.6 ms (README)
  uint64_t head_switch_ns = 230'000;
  HddScheduler scheduler = HddScheduler::kClook;
};

// The preset by name ("hp97560", "hc310"); std::invalid_argument otherwise.
HddParams hdd_preset(std::string_view name);

// Where an LBA lives.
struct Chs {
  uint32_t cylinder = 0, head = 0, sector = 0, spt = 0;
};

class Hdd : public DiskModel {
 public:
  // Throws std::invalid_argument for a zero clock or an impossible geometry
  // (the config validates every key first).
  Hdd(const HddParams& p, uint32_t core_clock_mhz);

  void submit(const DiskRequest& r) override;
  [[nodiscard]] Cycle next_done() const override;
  bool take(Cycle upto, DiskDone& out) override;
  // The common statistics plus seeks, seek_cycles, rotation_cycles,
  // head_switches.
  void visit(StatVisitor& v) const override;

  [[nodiscard]] uint64_t capacity_sectors() const { return capacity_; }
  [[nodiscard]] Chs locate(uint64_t lba) const;
  [[nodiscard]] uint32_t spt_of_cylinder(uint32_t c) const;
  [[nodiscard]] Cycles seek(uint64_t d) const;
  [[nodiscard]] Cycles revolution() const { return rev_; }
  [[nodiscard]] Cycles controller() const { return controller_; }
  [[nodiscard]] Cycles head_switch() const { return head_switch_; }
  // The wait at cycle t until sector s of a track of spt sectors comes round.
  [[nodiscard]] Cycles rotational_wait(Cycle t, uint32_t s, uint32_t spt) const;
  [[nodiscard]] const DiskStats& stats() const { return stats_; }

 private:
  struct Pending {
    DiskRequest r;
    uint64_t lba;
  };
  struct Plan {
    Cycle done;
    Chs end;  // the track the head ends on
    uint64_t end_lba = 0;
    Cycles seek, rotation;
    uint64_t switches = 0;
  };
  [[nodiscard]] Plan plan(const Pending& q, Cycle start) const;
  // The request the scheduler takes next at cycle `at` (an index in queue_).
  [[nodiscard]] size_t pick(Cycle at) const;
  // When the next choice happens (queue_ not empty).
  [[nodiscard]] Cycle decision_time() const;
  // Starts the next request if its choice is at or before `limit`
  // (strictly before when !inclusive).
  bool decide(Cycle limit, bool inclusive);

  HddParams p_;
  uint64_t mhz_;
  Cycles rev_, controller_, head_switch_;
  std::vector<uint32_t> zone_cyl_, zone_spt_;  // first cylinder, spt per zone
  std::vector<uint64_t> zone_lba_;             // first LBA per zone
  uint64_t capacity_ = 0;
  std::deque<Pending> queue_;  // waiting, in arrival order
  std::deque<DiskDone> done_;  // started, not taken (completion order)
  Cycle head_free_;
  Chs head_;
  uint64_t head_lba_ = 0;
  DiskStats stats_;
  uint64_t seeks_ = 0, seek_cycles_ = 0, rotation_cycles_ = 0, switches_ = 0;
};

}  // namespace mmusim
