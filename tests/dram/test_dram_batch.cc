// FR-FCFS batch scheduling and the statistics interface.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "tests/dram/dram_test_util.h"

namespace mmusim {
namespace {

using dram_test::at;
using dram_test::rd;
using dram_test::read_conflict_lat;
using dram_test::read_hit_lat;
using dram_test::read_miss_lat;
using dram_test::unit_config;

constexpr uint64_t kT = 1000;  // batch arrival, well after the setup access

// Row X open in bank (0,0) since time 0, then A(X), B(Y), C(X) all at kT.
TEST(DramBatch, RowHitsFirstThenOldest) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);  // opens X = row 1
  DramRequest reqs[3] = {{at(d, 0, 0, 1, 1), false, Cycle(kT)},
                         {at(d, 0, 0, 2, 0), false, Cycle(kT)},
                         {at(d, 0, 0, 1, 2), false, Cycle(kT)}};
  Cycle done[3];
  d.access_batch(reqs, 3, done);
  // Service order A, C, B.
  const uint64_t rd_a = kT;
  const uint64_t rd_c = rd_a + t.tCCD_L;
  const uint64_t pre_b = rd_c + t.tRTP;                // the last RD to X allows PRE after tRTP
  EXPECT_EQ(done[0].count(), rd_a + read_hit_lat(c));  // 1025
  EXPECT_EQ(done[2].count(), rd_c + read_hit_lat(c));  // 1032
  EXPECT_EQ(done[1].count(), pre_b + read_conflict_lat(c));  // 1063
  EXPECT_EQ(d.stats().row_hits, 2U);
  EXPECT_EQ(d.stats().row_conflicts, 1U);

  // In call order (FCFS), B closes X and C conflicts again.
  Dram s(c);
  rd(s, at(s, 0, 0, 1), 0);
  uint64_t a = rd(s, reqs[0].addr, kT);
  uint64_t b = rd(s, reqs[1].addr, kT);
  uint64_t cc = rd(s, reqs[2].addr, kT);
  EXPECT_EQ(a, done[0].count());
  EXPECT_LT(done[1].count(), cc);
  EXPECT_GT(cc, b);
  EXPECT_EQ(s.stats().row_conflicts, 2U);
}

// dram.scheduler = fcfs: the same batch is served oldest first (A, B, C; ties
// by index), so B closes row X and C conflicts: exactly the call-order result.
TEST(DramBatch, FcfsServesOldestFirst) {
  DramConfig c = unit_config();
  c.scheduler = DramScheduler::kFcfs;
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);  // opens X = row 1
  DramRequest reqs[3] = {{at(d, 0, 0, 1, 1), false, Cycle(kT)},
                         {at(d, 0, 0, 2, 0), false, Cycle(kT)},
                         {at(d, 0, 0, 1, 2), false, Cycle(kT)}};
  Cycle done[3];
  d.access_batch(reqs, 3, done);
  Dram s(unit_config());
  rd(s, at(s, 0, 0, 1), 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(done[i].count(), rd(s, reqs[i].addr, kT)) << i;
  EXPECT_EQ(d.stats().row_hits, 1U);
  EXPECT_EQ(d.stats().row_conflicts, 2U);
  EXPECT_EQ(parse_scheduler("fcfs"), DramScheduler::kFcfs);
  EXPECT_EQ(scheduler_name(DramScheduler::kFrFcfs), "frfcfs");
  try {
    parse_scheduler("fifo");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dram.scheduler: expected 'frfcfs' or 'fcfs', got 'fifo'");
  }
}

// Y(0), Z(1), X(2) at kT with X open. Depth 3 sees the hit; depth 2 does not.
TEST(DramBatch, QueueDepthBoundsTheLookahead) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto run = [&](uint32_t depth, Cycle* done) {
    DramConfig cc = c;
    cc.queue_depth = depth;
    Dram d(cc);
    rd(d, at(d, 0, 0, 1), 0);
    DramRequest reqs[3] = {{at(d, 0, 0, 2), false, Cycle(kT)},
                           {at(d, 0, 0, 3), false, Cycle(kT)},
                           {at(d, 0, 0, 1, 5), false, Cycle(kT)}};
    d.access_batch(reqs, 3, done);
    return d.stats();
  };
  Cycle deep[3];
  DramStats s3 = run(3, deep);
  EXPECT_EQ(s3.row_hits, 1U);
  // X hit at kT; Y: PRE at kT + tRTP; Z: PRE at ACT(Y) + tRAS.
  const uint64_t act_y = kT + t.tRTP + t.tRP;
  EXPECT_EQ(deep[2].count(), kT + read_hit_lat(c));
  EXPECT_EQ(deep[0].count(), kT + t.tRTP + read_conflict_lat(c));
  EXPECT_EQ(deep[1].count(), act_y + t.tRAS + read_conflict_lat(c));

  Cycle shallow[3];
  DramStats s2 = run(2, shallow);
  EXPECT_EQ(s2.row_hits, 0U);
  EXPECT_EQ(s2.row_conflicts, 3U);
  // Y at kT (X open since 0, tRAS long met), then Z, then X, each after tRAS.
  const uint64_t act0 = kT + t.tRP;
  EXPECT_EQ(shallow[0].count(), kT + read_conflict_lat(c));
  EXPECT_EQ(shallow[1].count(), act0 + t.tRAS + read_conflict_lat(c));
  EXPECT_EQ(shallow[2].count(), act0 + t.tRAS + t.tRP + t.tRAS + read_conflict_lat(c));
}

TEST(DramBatch, LaterArrivalIsNotEligibleYet) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);  // X open
  // Y at kT, X at kT + 1: at the decision at kT only Y has arrived.
  DramRequest reqs[2] = {{at(d, 0, 0, 2), false, Cycle(kT)},
                         {at(d, 0, 0, 1, 3), false, Cycle(kT + 1)}};
  Cycle done[2];
  d.access_batch(reqs, 2, done);
  EXPECT_EQ(done[0].count(), kT + read_conflict_lat(c));
  EXPECT_EQ(done[1].count(), kT + t.tRP + t.tRAS + read_conflict_lat(c));
  EXPECT_EQ(d.stats().row_conflicts, 2U);
}

TEST(DramBatch, IndexBreaksTiesAmongEqualCandidates) {
  DramConfig c = unit_config();
  Dram d(c);
  // Two misses to different groups at the same time: index 0 first.
  DramRequest reqs[2] = {{at(d, 1, 0, 1), false, Cycle(0)}, {at(d, 0, 0, 1), false, Cycle(0)}};
  Cycle done[2];
  d.access_batch(reqs, 2, done);
  EXPECT_EQ(done[0].count(), read_miss_lat(c));
  EXPECT_EQ(done[1].count(), c.timing.tRRD_S + read_miss_lat(c));
}

TEST(DramBatch, ChannelsScheduleIndependently) {
  DramConfig c = unit_config();
  c.channels = 2;
  c.mapping = "ro:ra:bg:ba:co:ch";
  Dram d(c);
  DramRequest reqs[2] = {{at(d, 0, 0, 1, 0, 0, 1), false, Cycle(0)},
                         {at(d, 0, 0, 1, 0, 0, 0), false, Cycle(0)}};
  Cycle done[2];
  d.access_batch(reqs, 2, done);
  EXPECT_EQ(done[0].count(), read_miss_lat(c));
  EXPECT_EQ(done[1].count(), read_miss_lat(c));
}

TEST(DramBatch, SingleRequestBatchesEqualAccess) {
  DramConfig c = unit_config();
  c.ranks = 2;
  Dram a(c);
  Dram b(c);
  uint64_t x = 7;
  uint64_t now = 0;
  for (int i = 0; i < 3000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    DramRequest r{PhysAddr((x >> 16) & (c.capacity_bytes() - 1)), ((x >> 62) & 1) != 0, Cycle(now)};
    now += (x >> 58) & 31;
    Cycle done;
    a.access_batch(&r, 1, &done);
    ASSERT_EQ(done, b.access(r.addr, r.is_write, r.arrival)) << i;
  }
  EXPECT_EQ(a.stats().row_hits, b.stats().row_hits);
  EXPECT_EQ(a.stats().refreshes, b.stats().refreshes);
}

class Collect : public StatVisitor {
 public:
  void counter(std::string_view name, std::string_view unit, std::string_view desc,
               uint64_t value) override {
    EXPECT_FALSE(unit.empty());
    EXPECT_FALSE(desc.empty());
    counters[std::string(name)] = value;
  }
  void real(std::string_view name, std::string_view, std::string_view, double value) override {
    reals[std::string(name)] = value;
  }
  void histogram(std::string_view name, std::string_view, std::string_view,
                 const Histogram& h) override {
    hist_counts[std::string(name)] = h.count();
  }
  std::map<std::string, uint64_t> counters;
  std::map<std::string, double> reals;
  std::map<std::string, uint64_t> hist_counts;
};

TEST(DramStatsVisit, EmitsEveryCounter) {
  DramConfig c = unit_config();
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);                    // miss: 38
  rd(d, at(d, 0, 0, 1, 1), 100);               // hit: 25
  d.access(at(d, 0, 0, 2), true, Cycle(200));  // conflict write
  Collect v;
  d.visit(v);
  const std::vector<std::string> names = {
      "dram.reads",      "dram.writes",        "dram.row_hits",
      "dram.row_misses", "dram.row_conflicts", "dram.activates",
      "dram.precharges", "dram.refreshes",     "dram.total_latency"};
  for (const std::string& n : names) EXPECT_EQ(v.counters.count(n), 1U) << n;
  EXPECT_EQ(v.counters.size(), names.size());
  EXPECT_EQ(v.counters["dram.reads"], 2U);
  EXPECT_EQ(v.counters["dram.writes"], 1U);
  EXPECT_EQ(v.counters["dram.row_hits"], 1U);
  EXPECT_EQ(v.counters["dram.row_misses"], 1U);
  EXPECT_EQ(v.counters["dram.row_conflicts"], 1U);
  EXPECT_EQ(v.counters["dram.activates"], 2U);
  EXPECT_EQ(v.counters["dram.precharges"], 1U);
  const DramTiming& t = c.timing;
  const uint64_t wlat = t.tRP + t.tRCD + t.tCWL + t.tBL + c.controller_latency;
  const uint64_t total = read_miss_lat(c) + read_hit_lat(c) + wlat;
  EXPECT_EQ(v.counters["dram.total_latency"], total);
  EXPECT_EQ(v.hist_counts["dram.latency"], 3U);
  EXPECT_DOUBLE_EQ(v.reals["dram.avg_latency"], static_cast<double>(total) / 3.0);
}

}  // namespace
}  // namespace mmusim
