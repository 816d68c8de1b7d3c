// The statistics recorder every device uses: counts, the queue depth each
// arrival sees, service and latency histograms, busy time as the union of
// service intervals, utilisation, and the bare names visit() emits.
#include <gtest/gtest.h>

#include "models/disk/disk_stats.h"
#include "tests/disk/disk_test_util.h"

namespace mmusim {
namespace {

using disk_test::Collect;
using disk_test::req;

DiskDone served(const DiskRequest& r, uint64_t start, uint64_t done) {
  DiskDone d;
  d.id = r.id;
  d.write = r.write;
  d.at = r.at;
  d.start = Cycle(start);
  d.done = Cycle(done);
  return d;
}

// A hand-made sequence (times in cycles):
//   r1 R 4096 at 100, served [100, 300)
//   r2 W 8192 at 150, served [200, 400)   r1 still in: depth 2
//   r3 R  512 at 350, served [400, 500)   r1 done at 300, r2 in: depth 2
//   r4 R 4096 at 600, served [600, 700)   all done: depth 1
//   r5 W 4096 at 600, served [700, 800)   r4 in: depth 2
TEST(DiskStats, HandMadeSequence) {
  DiskStats s;
  const DiskRequest r1 = req(1, 100, 0, 4096), r2 = req(2, 150, 0, 8192, true),
                    r3 = req(3, 350, 0, 512), r4 = req(4, 600, 0, 4096),
                    r5 = req(5, 600, 0, 4096, true);
  s.arrive(r1);
  s.served(served(r1, 100, 300));
  s.arrive(r2);
  s.served(served(r2, 200, 400));
  s.arrive(r3);
  s.served(served(r3, 400, 500));
  s.arrive(r4);
  s.served(served(r4, 600, 700));
  s.arrive(r5);
  s.served(served(r5, 700, 800));

  EXPECT_EQ(s.requests(), 5U);
  EXPECT_EQ(s.reads(), 3U);
  EXPECT_EQ(s.writes(), 2U);
  EXPECT_EQ(s.bytes_read(), 4096U + 512 + 4096);
  EXPECT_EQ(s.bytes_written(), 8192U + 4096);
  // Depths 1, 2, 2, 1, 2.
  EXPECT_EQ(s.queue_depth().count(), 5U);
  EXPECT_EQ(s.queue_depth().sum(), 8U);
  EXPECT_EQ(s.queue_depth().min(), 1U);
  EXPECT_EQ(s.queue_depth().max(), 2U);
  EXPECT_EQ(s.queue_depth().percentile(0.4), 1U);  // 2 of 5 are 1
  EXPECT_EQ(s.queue_depth().percentile(0.6), 2U);
  // Service 200 + 200 + 100 + 100 + 100; latency 200 + 250 + 150 + 100 + 200.
  EXPECT_EQ(s.service().sum(), 700U);
  EXPECT_EQ(s.latency().sum(), 900U);
  EXPECT_EQ(s.latency().max(), 250U);
  // Waits 0 + 50 + 50 + 0 + 100.
  EXPECT_EQ(s.queue_wait_cycles(), 200U);
  // Busy: [100, 500) and [600, 800): 400 + 200; span 800 - 100.
  EXPECT_EQ(s.busy_cycles(), 600U);
  EXPECT_DOUBLE_EQ(s.utilisation(), 600.0 / 700.0);

  Collect v;
  s.visit(v);
  EXPECT_EQ(v.c["requests"], 5U);
  EXPECT_EQ(v.c["reads"], 3U);
  EXPECT_EQ(v.c["writes"], 2U);
  EXPECT_EQ(v.c["bytes_read"], 8704U);
  EXPECT_EQ(v.c["bytes_written"], 12288U);
  EXPECT_EQ(v.c["busy_cycles"], 600U);
  EXPECT_EQ(v.c["queue_wait_cycles"], 200U);
  EXPECT_DOUBLE_EQ(v.r["utilisation"], 600.0 / 700.0);
  ASSERT_EQ(v.hist.count("queue_depth"), 1U);
  EXPECT_EQ(v.hist.at("queue_depth").sum(), 8U);
  EXPECT_EQ(v.hist.at("service").sum(), 700U);
  EXPECT_EQ(v.hist.at("latency").sum(), 900U);
}

// Parallel service: overlapping intervals count once, whatever the order in
// which they are recorded (a later one may reach back over earlier ones).
TEST(DiskStats, OverlappingServiceCountsOnce) {
  DiskStats s;
  const DiskRequest a = req(1, 1000, 0, 4096), b = req(2, 1000, 0, 4096), c = req(3, 3000, 0, 4096),
                    d = req(4, 3000, 0, 4096), e = req(5, 3000, 0, 4096);
  s.arrive(a);
  s.arrive(b);
  s.served(served(a, 1000, 2000));
  s.served(served(b, 1100, 1200));  // inside a: adds nothing
  s.arrive(c);                      // both done: depth 1
  s.arrive(d);                      // depth 2
  s.arrive(e);                      // depth 3
  s.served(served(c, 3000, 3100));
  s.served(served(d, 3200, 3300));
  s.served(served(e, 3050, 3250));  // bridges c and d: [3000, 3300)
  // 1000 + 300 busy over 3300 - 1000.
  EXPECT_EQ(s.busy_cycles(), 1300U);
  EXPECT_DOUBLE_EQ(s.utilisation(), 1300.0 / 2300.0);
  // Depths 1, 2, 1, 2, 3.
  EXPECT_EQ(s.queue_depth().sum(), 9U);
  EXPECT_EQ(s.queue_depth().max(), 3U);
}

TEST(DiskStats, EmptyIsZero) {
  DiskStats s;
  EXPECT_EQ(s.busy_cycles(), 0U);
  EXPECT_DOUBLE_EQ(s.utilisation(), 0.0);
  Collect v;
  s.visit(v);
  EXPECT_EQ(v.c.size(), 7U);
  EXPECT_EQ(v.r.size(), 1U);
  EXPECT_EQ(v.hist.size(), 3U);
}

}  // namespace
}  // namespace mmusim
