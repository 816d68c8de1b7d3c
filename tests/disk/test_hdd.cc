// The hard disk: seek curves, rotation, one fully derived service time,
// random-read means of both presets, C-LOOK against FIFO, the protocol.
#include <gtest/gtest.h>

#include <cmath>

#include "models/common/random.h"
#include "models/disk/hdd.h"
#include "tests/disk/disk_test_util.h"

namespace mmusim {
namespace {

using disk_test::Collect;
using disk_test::drain;
using disk_test::req;
using disk_test::run_one;

constexpr uint32_t kMhz = 3000;  // 3 cycles per ns: 1 ms = 3 000 000 cycles
constexpr double kCyclesPerMs = 3'000'000.0;

// HP 97560 seek curve (Ruemmler-Wilkes), to the cycle at 3 GHz:
//   seek(1)    = 3.24 + 0.400 x 1                = 3.64 ms      -> 10 920 000
//   seek(383)  = 3.24 + 0.400 x sqrt(383)
//              = 3.24 + 0.400 x 19.5703857908    = 11.06815432 ms -> 33 204 462.95 -> 33 204 463
//   seek(384)  = 8.00 + 0.008 x 384              = 11.072 ms    -> 33 216 000
//   seek(1961) = 8.00 + 0.008 x 1961             = 23.688 ms    -> 71 064 000
TEST(Hdd, Hp97560SeekCurve) {
  Hdd d(hdd_preset("hp97560"), kMhz);
  EXPECT_EQ(d.seek(0), Cycles(0));
  EXPECT_EQ(d.seek(1), Cycles(10'920'000));
  EXPECT_EQ(d.seek(4), Cycles(12'120'000));  // 3.24 + 0.8 = 4.04 ms
  EXPECT_EQ(d.seek(383), Cycles(33'204'463));
  EXPECT_EQ(d.seek(384), Cycles(33'216'000));
  EXPECT_EQ(d.seek(1961), Cycles(71'064'000));
  // Revolution: 60 / 4002 s = 14.9925 ms: 180e9 / 4002 = 44 977 511.24 -> 44 977 512.
  EXPECT_EQ(d.revolution(), Cycles(44'977'512));
  EXPECT_EQ(d.controller(), Cycles(6'600'000));
  EXPECT_EQ(d.head_switch(), Cycles(4'800'000));
  // 1962 x 19 x 72 sectors.
  EXPECT_EQ(d.capacity_sectors(), 1962U * 19 * 72);
}

// HC310 sqrt curve: t2t 0.23 ms, full 13.67375 ms over 323 999 cylinders.
//   seek(1)      = 0.23 ms                       -> 690 000
//   seek(323999) = 0.23 + 13.44375 x sqrt(323998 / 323999) (the formula reaches
//                  full only at d = N)           = 13.6737293 ms -> 41 021 187.76 -> 41 021 188
//   seek(81001)  = 0.23 + 13.44375 x sqrt(81000 / 323999) = 0.23 + 13.44375 x 0.5000008
TEST(Hdd, Hc310SeekCurveAndZones) {
  Hdd d(hdd_preset("hc310"), kMhz);
  EXPECT_EQ(d.seek(1), Cycles(690'000));
  EXPECT_EQ(d.seek(323'999), Cycles(41'021'188));
  const double ns = 230'000 + 13'443'750 * std::sqrt(81'000.0 / 323'999.0);
  EXPECT_EQ(d.seek(81'001), Cycles(static_cast<uint64_t>(std::ceil(ns * 3))));
  EXPECT_EQ(d.revolution(), Cycles(25'000'000));  // 8.333 ms
  // Zones of 20 250 cylinders; spt 4069 - floor(2116 z / 15).
  EXPECT_EQ(d.spt_of_cylinder(0), 4069U);
  EXPECT_EQ(d.spt_of_cylinder(20'249), 4069U);
  EXPECT_EQ(d.spt_of_cylinder(20'250), 4069U - 141);  // 2116 / 15 = 141.07
  EXPECT_EQ(d.spt_of_cylinder(323'999), 1953U);
  // LBA layout: the first LBA of zone 1 is 20 250 x 8 x 4069.
  const uint64_t z1 = 20'250ULL * 8 * 4069;
  EXPECT_EQ(d.locate(z1 - 1).cylinder, 20'249U);
  EXPECT_EQ(d.locate(z1 - 1).head, 7U);
  EXPECT_EQ(d.locate(z1 - 1).sector, 4068U);
  EXPECT_EQ(d.locate(z1).cylinder, 20'250U);
  EXPECT_EQ(d.locate(z1).sector, 0U);
  EXPECT_EQ(d.locate(z1 + 3928 + 5).head, 1U);
  EXPECT_EQ(d.locate(z1 + 3928 + 5).sector, 5U);
}

// One request derived term by term (HP 97560, head at cylinder 0 head 0):
// LBA 100 x 1368 + 3 x 72 + 36 = 137052 is cylinder 100, head 3, sector 36.
//   controller           2.2 ms                                  =  6 600 000
//   seek(100)            3.24 + 0.4 x 10 = 7.24 ms               = 21 720 000
//   the seek ends at 28 320 000, phase 28 320 000 of 44 977 512;
//   sector 36 is at ceil(36 x 44 977 512 / 72) = 22 488 756: it comes round
//   after 22 488 756 - 28 320 000 + 44 977 512                   = 39 146 268
//   transfer 8 sectors: ceil(8 x 44 977 512 / 72) = ceil(4 997 501.33) = 4 997 502
//   done = 28 320 000 + 39 146 268 + 4 997 502                  = 72 463 770 (24.15 ms)
// Then LBA 137084 (same track, sector 68), 8 sectors crossing onto head 4:
//   controller from 72 463 770: 79 063 770; no seek, same head;
//   phase 79 063 770 - 44 977 512 = 34 086 258; sector 68 at
//   ceil(68 x 44 977 512 / 72) = 42 478 762: wait 8 392 504 -> 87 456 274;
//   4 sectors: ceil(4 x 44 977 512 / 72) = 2 498 751 -> 89 955 025;
//   head switch 1.6 ms = 4 800 000 -> 94 755 025; 4 sectors -> 97 253 776.
TEST(Hdd, DerivedServiceTime) {
  HddParams p = hdd_preset("hp97560");
  Hdd d(p, kMhz);
  ASSERT_EQ(d.locate(137'052).cylinder, 100U);
  ASSERT_EQ(d.locate(137'052).head, 3U);
  ASSERT_EQ(d.locate(137'052).sector, 36U);
  EXPECT_EQ(d.rotational_wait(Cycle(28'320'000), 36, 72), Cycles(39'146'268));
  DiskDone x = run_one(d, req(1, 0, 137'052ULL * 512, 4096));
  EXPECT_EQ(x.start, Cycle(0));
  EXPECT_EQ(x.done, Cycle(6'600'000 + 21'720'000 + 39'146'268 + 4'997'502));
  EXPECT_EQ(x.done, Cycle(72'463'770));
  x = run_one(d, req(2, 72'463'770, 137'084ULL * 512, 4096));
  EXPECT_EQ(x.done, Cycle(97'253'776));
  Collect v;
  d.visit(v);
  EXPECT_EQ(v.c["seeks"], 1U);
  EXPECT_EQ(v.c["seek_cycles"], 21'720'000U);
  EXPECT_EQ(v.c["rotation_cycles"], 39'146'268U + 8'392'504);
  EXPECT_EQ(v.c["head_switches"], 1U);
}

// Mean of n random 4 KiB reads (uniform 4 KiB-aligned LBAs), each arriving
// when the previous finished, in ms.
double mean_random_read_ms(const HddParams& p, uint64_t n, uint64_t seed) {
  Hdd d(p, kMhz);
  SplitMix64 rng(seed);
  uint64_t t = 0;
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t lba = rng.below(d.capacity_sectors() / 8) * 8;
    const DiskDone x = run_one(d, req(i + 1, t, lba * 512, 4096));
    sum += static_cast<double>((x.done - x.at).count());
    t = x.done.count();
  }
  return sum / static_cast<double>(n) / kCyclesPerMs;
}

// Mean seek over n uniformly random cylinder pairs, in ms.
double mean_seek_ms(const HddParams& p, uint64_t n, uint64_t seed) {
  Hdd d(p, kMhz);
  SplitMix64 rng(seed);
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t a = rng.below(p.cylinders), b = rng.below(p.cylinders);
    sum += static_cast<double>(d.seek(a > b ? a - b : b - a).count());
  }
  return sum / static_cast<double>(n) / kCyclesPerMs;
}

// os-model.md §3.3: 2.2 (controller) + 12.8 (mean seek) + 7.50 (half a
// revolution) + 1.67 (8 of 72 sectors of 14.99 ms) = 24.2 ms.
TEST(Hdd, Hp97560RandomRead) {
  const HddParams p = hdd_preset("hp97560");
  const double seek = mean_seek_ms(p, 100'000, 7);
  RecordProperty("mean_seek_ms", std::to_string(seek));
  EXPECT_NEAR(seek / 12.8, 1.0, 0.02) << seek;
  const double r = mean_random_read_ms(p, 20'000, 11);
  RecordProperty("mean_read_ms", std::to_string(r));
  EXPECT_NEAR(r, 24.2, 0.3) << r;
}

// HC310: mean seek over random cylinder pairs 0.23 + 13.44375 x 8/15 =
// 7.40 ms; a random 4 KiB read 11.6 ms (A5): controller + seek (uniform
// LBAs favour the denser outer zones: shorter than over uniform cylinders)
// + 4.17 ms of rotation + a few µs of transfer.
TEST(Hdd, Hc310RandomRead) {
  const HddParams p = hdd_preset("hc310");
  const double seek = mean_seek_ms(p, 100'000, 7);
  RecordProperty("mean_seek_ms", std::to_string(seek));
  EXPECT_NEAR(seek / 7.4, 1.0, 0.02) << seek;
  const double r = mean_random_read_ms(p, 20'000, 11);
  RecordProperty("mean_read_ms", std::to_string(r));
  EXPECT_NEAR(r, 11.6, 0.2) << r;
}

// Order of service from a hand-made queue (HP 97560: cylinder c starts at
// LBA 1368 c). Request 1 (cylinder 1000) starts at once at cycle 0; 2-5
// arrive at cycle 1 while it is in service: 500, 1500, 200, 1200.
std::vector<uint64_t> order(HddScheduler s) {
  HddParams p = hdd_preset("hp97560");
  p.scheduler = s;
  Hdd d(p, kMhz);
  d.submit(req(1, 0, 1368ULL * 1000 * 512, 4096));
  const uint64_t cyl[] = {500, 1500, 200, 1200};
  for (uint64_t i = 0; i < 4; ++i) d.submit(req(i + 2, 1, 1368ULL * cyl[i] * 512, 4096));
  std::vector<uint64_t> ids;
  for (const DiskDone& x : drain(d)) ids.push_back(x.id);
  return ids;
}

TEST(Hdd, ClookAgainstFifo) {
  // C-LOOK: from cylinder 1000 upwards 1200, 1500, then wrap to 200, 500.
  EXPECT_EQ(order(HddScheduler::kClook), (std::vector<uint64_t>{1, 5, 3, 4, 2}));
  EXPECT_EQ(order(HddScheduler::kFifo), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

// Submissions at the cycle the head frees are visible to its choice: with
// the head at LBA 0, C-LOOK serves cylinder 10 before cylinder 1000 even
// though 1000 was submitted first; FIFO does not.
TEST(Hdd, SameCycleSubmissionsAreSeen) {
  for (HddScheduler s : {HddScheduler::kClook, HddScheduler::kFifo}) {
    HddParams p = hdd_preset("hp97560");
    p.scheduler = s;
    Hdd d(p, kMhz);
    d.submit(req(1, 0, 1368ULL * 1000 * 512, 4096));
    d.submit(req(2, 0, 1368ULL * 10 * 512, 4096));
    const std::vector<DiskDone> v = drain(d);
    ASSERT_EQ(v.size(), 2U);
    EXPECT_EQ(v[0].id, s == HddScheduler::kClook ? 2U : 1U);
    EXPECT_EQ(v[0].start, Cycle(0));
    EXPECT_EQ(v[1].start, v[0].done);
  }
}

// next_done names the request in service; take honours `upto`; the queue
// depth each arrival saw and the busy time follow.
TEST(Hdd, CompletionProtocolAndStats) {
  Hdd d(hdd_preset("hp97560"), kMhz);
  EXPECT_EQ(d.next_done(), kNeverCycle);
  d.submit(req(1, 0, 137'052ULL * 512, 4096));  // done 72 463 770 (DerivedServiceTime)
  d.submit(req(2, 5, 137'084ULL * 512, 4096));
  EXPECT_EQ(d.next_done(), Cycle(72'463'770));
  DiskDone x;
  EXPECT_FALSE(d.take(Cycle(72'463'769), x));
  ASSERT_TRUE(d.take(Cycle(72'463'770), x));
  EXPECT_EQ(x.id, 1U);
  // Request 2 starts at 72 463 770, as in DerivedServiceTime.
  EXPECT_EQ(d.next_done(), Cycle(97'253'776));
  ASSERT_TRUE(d.take(kNeverCycle, x));
  EXPECT_EQ(x.id, 2U);
  EXPECT_EQ(x.start, Cycle(72'463'770));
  EXPECT_FALSE(d.take(kNeverCycle, x));
  // Depths 1 and 2; busy the whole span: utilisation 1.
  EXPECT_EQ(d.stats().queue_depth().sum(), 3U);
  EXPECT_EQ(d.stats().busy_cycles(), 97'253'776U);
  EXPECT_DOUBLE_EQ(d.stats().utilisation(), 1.0);
  EXPECT_EQ(d.stats().queue_wait_cycles(), 72'463'770U - 5);
}

TEST(Hdd, Presets) {
  EXPECT_THROW(hdd_preset("st31000"), std::invalid_argument);
  const HddParams p = hdd_preset("hp97560");
  EXPECT_EQ(p.preset, "hp97560");
  EXPECT_EQ(p.cylinders, 1962U);
  EXPECT_EQ(hdd_preset("hc310").preset, "hc310");
  HddParams bad = p;
  bad.zones = 0;
  EXPECT_THROW(Hdd(bad, kMhz), std::invalid_argument);
}

}  // namespace
}  // namespace mmusim
