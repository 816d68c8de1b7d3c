// The Optane-like device: the QD1 figure against the 8.9 µs target, parallel
// units, FIFO queueing when every unit is busy.
#include <gtest/gtest.h>

#include "models/disk/optane.h"
#include "tests/disk/disk_test_util.h"

namespace mmusim {
namespace {

using disk_test::drain;
using disk_test::req;
using disk_test::run_one;

// Defaults at 3 GHz: media 5000 ns -> 15000 cycles; 4096 B at 2500 MB/s ->
// 4096 x 3000 / 2500 = 4915.2 -> 4916; one 4 KiB read 19916 cycles =
// 6.639 µs. With the controller's 2.35 µs (7050 cycles): 26966 cycles =
// 8.989 µs, within 10 % of the P4800X's 8.9 µs.
TEST(Optane, QdOneReadMeetsTheTarget) {
  Optane d(OptaneParams{}, 3000);
  EXPECT_EQ(d.media(), Cycles(15'000));
  EXPECT_EQ(d.transfer(4096), Cycles(4'916));
  const DiskDone x = run_one(d, req(1, 500, 1 << 20, 4096));
  EXPECT_EQ(x.start, Cycle(500));
  EXPECT_EQ(x.done, Cycle(500 + 19'916));
  const double total_us = (19'916.0 + 7'050.0) / 3000.0;
  EXPECT_NEAR(total_us / 8.9, 1.0, 0.10);
  EXPECT_NEAR(total_us, 8.989, 0.001);
}

// 7 units: 7 requests at once finish together; the 8th and 9th take the
// units that free first (FIFO): the 8th starts at 19916, the 9th too.
TEST(Optane, UnitsServeInParallelThenQueue) {
  Optane d(OptaneParams{}, 3000);
  for (uint64_t i = 1; i <= 9; ++i) d.submit(req(i, 0, i * 4096, 4096));
  const std::vector<DiskDone> v = drain(d);
  ASSERT_EQ(v.size(), 9U);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(v[i].done, Cycle(19'916));
  EXPECT_EQ(v[7].id, 8U);
  EXPECT_EQ(v[7].start, Cycle(19'916));
  EXPECT_EQ(v[8].done, Cycle(2ULL * 19'916));
  // Depths 1..9; queue waits 2 x 19916; busy [0, 39832).
  EXPECT_EQ(d.stats().queue_depth().sum(), 45U);
  EXPECT_EQ(d.stats().queue_wait_cycles(), 2U * 19'916);
  EXPECT_EQ(d.stats().busy_cycles(), 2U * 19'916);
  // A write costs the same: 8 KiB = 15000 + 9831 (9830.4 rounded up).
  EXPECT_EQ(run_one(d, req(10, 100'000, 0, 8192, true)).done, Cycle(100'000 + 24'831));
}

TEST(Optane, RejectsZeroUnitsOrBandwidth) {
  OptaneParams p;
  p.units = 0;
  EXPECT_THROW(Optane(p, 3000), std::invalid_argument);
  p = OptaneParams{};
  p.bandwidth_mbps = 0;
  EXPECT_THROW(Optane(p, 3000), std::invalid_argument);
  EXPECT_THROW(Optane(OptaneParams{}, 0), std::invalid_argument);
}

}  // namespace
}  // namespace mmusim
