// Timing of the in-order access() path, with 1 nCK = 1 core cycle. Every
// expectation is a formula over the configured parameters; the comments give
// the numbers of unit_config().
#include <gtest/gtest.h>

#include "models/common/error.h"
#include "tests/dram/dram_test_util.h"

namespace mmusim {
namespace {

using dram_test::at;
using dram_test::expect_boundary;
using dram_test::rd;
using dram_test::read_conflict_lat;
using dram_test::read_hit_lat;
using dram_test::read_miss_lat;
using dram_test::unit_config;
using dram_test::wr;
using dram_test::write_miss_lat;

TEST(DramTiming, FirstReadToClosedBank) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  for (uint64_t arrival : {0U, 1U, 777U}) {
    Dram d(c);
    // controller_latency + tRCD + tCL + tBL = 10 + 13 + 11 + 4
    EXPECT_EQ(rd(d, at(d, 0, 0, 5), arrival),
              arrival + c.controller_latency + t.tRCD + t.tCL + t.tBL);
    EXPECT_EQ(d.stats().row_misses, 1U);
    EXPECT_EQ(d.stats().activates, 1U);
  }
}

TEST(DramTiming, FirstWriteToClosedBank) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  EXPECT_EQ(wr(d, at(d, 2, 1, 5), 100), 100 + c.controller_latency + t.tRCD + t.tCWL + t.tBL);
  EXPECT_EQ(d.stats().writes, 1U);
}

TEST(DramTiming, TrcdAndTclAndTblEachAddOneCycle) {
  DramConfig base = unit_config();
  Dram d0(base);
  const uint64_t ref = rd(d0, at(d0, 0, 0, 0), 0);
  for (uint32_t DramTiming::*m : {&DramTiming::tRCD, &DramTiming::tCL}) {
    DramConfig c = base;
    c.timing.*m += 1;
    Dram d(c);
    EXPECT_EQ(rd(d, at(d, 0, 0, 0), 0), ref + 1);
  }
  DramConfig c = base;  // tBL also bounds tCCD_S from below; keep tCCD_S >= tBL
  c.timing.tBL += 1;
  Dram d(c);
  EXPECT_EQ(rd(d, at(d, 0, 0, 0), 0), ref + 1);
}

TEST(DramTiming, SecondReadSameRowIsHitLimitedByTccdL) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 3, 0), 0);  // ACT at 0, RD at tRCD
    uint64_t done = rd(d, at(d, 0, 0, 3, 1), arrival);
    EXPECT_EQ(d.stats().row_hits, 1U);
    return done;
  };
  // Second RD no earlier than first RD + tCCD_L = 13 + 7.
  expect_boundary(probe, t.tRCD + t.tCCD_L, read_hit_lat(c));
}

TEST(DramTiming, TccdShortAcrossGroupsLongWithinGroup) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  // A: bg0 ACT 0, RD 13. B: bg1 ACT tRRD_S = 5, RD 5 + tRCD = 18.
  const uint64_t rd_b = t.tRRD_S + t.tRCD;
  auto probe_group = [&](uint32_t bg) {
    return [&c, bg](uint64_t arrival) {
      Dram d(c);
      rd(d, at(d, 0, 0, 1), 0);
      rd(d, at(d, 1, 0, 1), 0);
      return rd(d, at(d, bg, 0, 1, 9), arrival);  // row hit in bg
    };
  };
  expect_boundary(probe_group(0), rd_b + t.tCCD_S, read_hit_lat(c));  // 23
  expect_boundary(probe_group(1), rd_b + t.tCCD_L, read_hit_lat(c));  // 25
}

TEST(DramTiming, TrrdShortAndLong) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe_bank = [&](uint32_t bg, uint32_t ba) {
    return [&c, bg, ba](uint64_t arrival) {
      Dram d(c);
      rd(d, at(d, 0, 0, 1), 0);  // ACT at 0
      return rd(d, at(d, bg, ba, 1), arrival);
    };
  };
  expect_boundary(probe_bank(1, 0), t.tRRD_S, read_miss_lat(c));  // other group: ACT at 5
  expect_boundary(probe_bank(0, 1), t.tRRD_L, read_miss_lat(c));  // same group: ACT at 9
}

TEST(DramTiming, TfawDelaysFifthActivateToWindowEnd) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    for (uint32_t bg = 0; bg < 4; ++bg) rd(d, at(d, bg, 0, 1), 0);  // ACTs at 0, 5, 10, 15
    EXPECT_EQ(d.stats().activates, 4U);
    return rd(d, at(d, 0, 1, 1), arrival);
  };
  expect_boundary(probe, t.tFAW, read_miss_lat(c));  // first ACT + tFAW = 40
}

TEST(DramTiming, TfawAndTrrdArePerRank) {
  DramConfig c = unit_config();
  c.ranks = 2;
  Dram d(c);
  for (uint32_t bg = 0; bg < 4; ++bg) rd(d, at(d, bg, 0, 1), 0);
  // Fifth ACT on the other rank: only the shared data bus (last burst ends at
  // 15 + tRCD + tCL + tBL = 43) limits it, not tFAW (40) of rank 0.
  const uint64_t arrival = 20;
  EXPECT_EQ(rd(d, at(d, 0, 0, 1, 0, 1), arrival), arrival + read_miss_lat(c));
}

TEST(DramTiming, TrasBeforeConflictPrecharge) {
  DramConfig c = unit_config();  // tRC = tRAS + tRP, so tRC never binds alone
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1), 0);  // ACT at 0
    uint64_t done = rd(d, at(d, 0, 0, 2), arrival);
    EXPECT_EQ(d.stats().row_conflicts, 1U);
    EXPECT_EQ(d.stats().precharges, 1U);
    return done;
  };
  // PRE no earlier than ACT + tRAS = 30; then tRP + tRCD + tCL + tBL.
  expect_boundary(probe, t.tRAS, read_conflict_lat(c));
}

TEST(DramTiming, TrcBetweenActivatesOfOneBank) {
  DramConfig c = unit_config();
  c.timing.tRC = 45;  // > tRAS + tRP = 42
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1), 0);
    return rd(d, at(d, 0, 0, 2), arrival);
  };
  // ACT no earlier than tRC = 45, i.e. PRE effectively at tRC - tRP = 33.
  expect_boundary(probe, t.tRC - t.tRP, read_conflict_lat(c));
}

TEST(DramTiming, TrtpBeforeConflictPrecharge) {
  DramConfig c = unit_config();
  c.timing.tRTP = 20;  // RD at 13 + 20 = 33 > tRAS = 30
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1), 0);
    return rd(d, at(d, 0, 0, 2), arrival);
  };
  expect_boundary(probe, t.tRCD + t.tRTP, read_conflict_lat(c));
}

TEST(DramTiming, TrpAfterAutoPrecharge) {
  DramConfig c = unit_config();
  c.row_policy = RowPolicy::kClosed;
  c.timing.tRTP = 20;  // RDA precharges at RD + tRTP = 33 (after tRAS = 30)
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1), 0);
    return rd(d, at(d, 0, 0, 2), arrival);
  };
  // Next ACT at PRE + tRP = tRCD + tRTP + tRP = 45 (tRC = 42 is met earlier).
  expect_boundary(probe, t.tRCD + t.tRTP + t.tRP, read_miss_lat(c));
}

TEST(DramTiming, TwrBeforePrechargeAfterWrite) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    wr(d, at(d, 0, 0, 1), 0);  // WR at 13, data ends 13 + 9 + 4 = 26
    return rd(d, at(d, 0, 0, 2), arrival);
  };
  // PRE no earlier than end of write data + tWR = 41.
  expect_boundary(probe, t.tRCD + t.tCWL + t.tBL + t.tWR, read_conflict_lat(c));
}

TEST(DramTiming, TwtrLongAndShort) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  const uint64_t wdata_end = t.tRCD + t.tCWL + t.tBL;  // 26
  auto probe_bank = [&](uint32_t bg, uint32_t ba) {
    return [&c, bg, ba](uint64_t arrival) {
      Dram d(c);
      wr(d, at(d, 0, 0, 1), 0);
      return rd(d, at(d, bg, ba, 1), arrival);  // a miss: RD at arrival + tRCD
    };
  };
  // RD no earlier than wdata_end + tWTR: arrival = that - tRCD.
  expect_boundary(probe_bank(0, 1), wdata_end + t.tWTR_L - t.tRCD, read_miss_lat(c));  // 21
  expect_boundary(probe_bank(1, 0), wdata_end + t.tWTR_S - t.tRCD, read_miss_lat(c));  // 16
}

TEST(DramTiming, ReadToWriteTurnaround) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1), 0);  // RD at tRCD
    return wr(d, at(d, 1, 0, 1), arrival);
  };
  // WR no earlier than RD + tRTW, tRTW = tCL + tBL + 2 - tCWL = 8; the WR of
  // a miss issues at arrival + tRCD, so the boundary arrival is tRTW.
  const uint64_t rtw = t.tCL + t.tBL + 2 - t.tCWL;
  expect_boundary(probe, rtw, write_miss_lat(c));
}

TEST(DramTiming, DataBusIsSharedByRanksNotByChannels) {
  DramConfig c = unit_config();
  c.channels = 2;
  c.ranks = 2;
  c.mapping = "ro:ch:ra:bg:ba:co";
  const DramTiming& t = c.timing;
  Dram d(c);
  // WR on rank 0: data on the bus until tRCD + tCWL + tBL = 26.
  EXPECT_EQ(wr(d, at(d, 0, 0, 1, 0, 0, 0), 0), write_miss_lat(c));
  // RD on rank 1 (no tCCD/tWTR with rank 0): its burst starts when the bus is
  // free, so RD at 26 - tCL = 15 instead of tRCD = 13.
  EXPECT_EQ(rd(d, at(d, 0, 0, 1, 0, 1, 0), 0),
            t.tRCD + t.tCWL + t.tBL + t.tBL + c.controller_latency);
  // The other channel has its own bus.
  EXPECT_EQ(rd(d, at(d, 0, 0, 1, 0, 1, 1), 0), read_miss_lat(c));
}

TEST(DramTiming, RequestInsideRefreshWaitsForItsEnd) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    uint64_t done = rd(d, at(d, 0, 0, 1), arrival);
    EXPECT_EQ(d.stats().refreshes, 1U);
    return done;
  };
  // REF at tREFI (no row open), rank blocked until tREFI + tRFC.
  expect_boundary(probe, t.tREFI + t.tRFC, read_miss_lat(c));
  EXPECT_EQ(probe(t.tREFI + 50), t.tREFI + t.tRFC + read_miss_lat(c));
}

TEST(DramTiming, ColumnCommandAtRefreshEpochIsDeferred) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  {
    Dram d(c);  // RD at tREFI - 1: served before the refresh
    EXPECT_EQ(rd(d, at(d, 0, 0, 1), t.tREFI - t.tRCD - 1), t.tREFI - t.tRCD - 1 + read_miss_lat(c));
    EXPECT_EQ(d.stats().refreshes, 0U);
  }
  {
    Dram d(c);  // RD would be at tREFI: the refresh goes first
    EXPECT_EQ(rd(d, at(d, 0, 0, 1), t.tREFI - t.tRCD), t.tREFI + t.tRFC + read_miss_lat(c));
    EXPECT_EQ(d.stats().refreshes, 1U);
  }
}

TEST(DramTiming, RowsAreClosedByRefresh) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);
  // Same row after the epoch: PREA at tREFI, REF at tREFI + tRP, ACT after tRFC.
  EXPECT_EQ(rd(d, at(d, 0, 0, 1, 1), t.tREFI + 50), t.tREFI + t.tRP + t.tRFC + read_miss_lat(c));
  EXPECT_EQ(d.stats().row_hits, 0U);
  EXPECT_EQ(d.stats().row_misses, 2U);
  EXPECT_EQ(d.stats().precharges, 1U);
  EXPECT_EQ(d.stats().refreshes, 1U);
}

TEST(DramTiming, RefreshPrechargeWaitsForTwr) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  // Write whose recovery ends after the epoch: WR at tREFI - 20, data ends
  // tREFI - 20 + tCWL + tBL, PREA after tWR.
  const uint64_t arrival = t.tREFI - 20 - t.tRCD;
  wr(d, at(d, 0, 0, 1), arrival);
  const uint64_t prea = t.tREFI - 20 + t.tCWL + t.tBL + t.tWR;  // 10008
  EXPECT_EQ(rd(d, at(d, 1, 0, 1), t.tREFI + 1), prea + t.tRP + t.tRFC + read_miss_lat(c));
}

// The shortest refresh interval the validator accepts, tREFI = tRFC + tRCD +
// 1 (1 nCK = 1 core cycle here): after each refresh one request fits. Before
// the bound, tREFI = tRFC + 1 made plan_with_refresh() refresh forever.
TEST(DramTiming, ShortestRefreshIntervalStillServes) {
  DramConfig c = unit_config();
  DramTiming& t = c.timing;
  t.tREFI = t.tRFC + t.tRCD + 1;  // 100 + 13 + 1 = 114
  {
    Dram d(c);
    // Arrives at the epoch: REF 114..214, ACT 214, RD 227 (< the next epoch
    // 228), data to 227 + tCL + tBL = 242, + controller 10 = 252.
    EXPECT_EQ(rd(d, at(d, 0, 0, 1), t.tREFI), t.tREFI + t.tRFC + read_miss_lat(c));
    EXPECT_EQ(d.stats().refreshes, 1U);
  }
  DramConfig bad = c;
  bad.timing.tREFI = t.tRFC + t.tRCD;  // 113: refused, it would never serve a request
  EXPECT_THROW(Dram{bad}, InputError);
  // Many requests over many epochs all complete (each after its arrival).
  Dram d(c);
  uint64_t arrival = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    arrival += 37;
    const uint64_t done = rd(d, at(d, 0, i % 4, i % 4, i % 7), arrival);
    EXPECT_GT(done, arrival);
  }
  EXPECT_EQ(d.stats().reads, 1000U);
}

TEST(DramTiming, IdleEpochsAreAppliedInBulk) {
  DramConfig c = unit_config();
  const DramTiming& t = c.timing;
  Dram d(c);
  rd(d, at(d, 0, 0, 1), 0);
  const uint64_t arrival = 10ULL * t.tREFI + 50;
  EXPECT_EQ(rd(d, at(d, 0, 0, 1), arrival), 10ULL * t.tREFI + t.tRFC + read_miss_lat(c));
  EXPECT_EQ(d.stats().refreshes, 10U);

  Dram e(c);
  e.advance_to(Cycle(3ULL * t.tREFI + 5));
  EXPECT_EQ(e.stats().refreshes, 3U);
  EXPECT_EQ(rd(e, at(e, 0, 0, 1), 3ULL * t.tREFI + 5), 3ULL * t.tREFI + t.tRFC + read_miss_lat(c));
}

TEST(DramTiming, RefreshIsPerRank) {
  DramConfig c = unit_config();
  c.ranks = 2;
  const DramTiming& t = c.timing;
  Dram d(c);
  rd(d, at(d, 0, 0, 1, 0, 0), t.tREFI + 10);  // rank 0 refreshes
  EXPECT_EQ(d.stats().refreshes, 1U);
  rd(d, at(d, 0, 0, 1, 0, 1), t.tREFI + 500);  // rank 1 refreshes too
  EXPECT_EQ(d.stats().refreshes, 2U);
}

TEST(DramTiming, ClosedPagePolicyPrechargesAfterEveryAccess) {
  DramConfig c = unit_config();
  c.row_policy = RowPolicy::kClosed;
  const DramTiming& t = c.timing;
  auto probe = [&](uint64_t arrival) {
    Dram d(c);
    rd(d, at(d, 0, 0, 1, 0), 0);
    uint64_t done = rd(d, at(d, 0, 0, 1, 1), arrival);  // same row: still a miss
    EXPECT_EQ(d.stats().row_hits, 0U);
    EXPECT_EQ(d.stats().row_misses, 2U);
    EXPECT_EQ(d.stats().precharges, 2U);
    return done;
  };
  // Auto-precharge at ACT + tRAS (RD + tRTP = 19 is earlier); ACT after tRP.
  expect_boundary(probe, t.tRAS + t.tRP, read_miss_lat(c));
}

TEST(DramTiming, CoreClockConversionRoundsUp) {
  DramConfig c = preset("DDR4-3200");
  c.core_clock_mhz = 3000;
  c.controller_latency = 7;
  Dram d(c);
  const DramCoreTiming& ct = d.core_timing();
  EXPECT_EQ(ct.cl.count(), 42U);  // ceil(22 * 3000 / 1600) = ceil(41.25)
  EXPECT_EQ(ct.rcd.count(), 42U);
  EXPECT_EQ(ct.bl.count(), 8U);    // ceil(4 * 1.875) = ceil(7.5)
  EXPECT_EQ(ct.ras.count(), 98U);  // ceil(52 * 1.875) = ceil(97.5)
  EXPECT_EQ(ct.wr.count(), 45U);   // 24 * 1.875 exactly
  EXPECT_EQ(ct.refi.count(), 23400U);
  EXPECT_EQ(ct.rfc.count(), 1050U);
  EXPECT_EQ(ct.rtw.count(), 23U);  // ceil((22 + 4 + 2 - 16) * 1.875) = ceil(22.5)
  EXPECT_EQ(ct.controller.count(), 7U);
  EXPECT_EQ(d.access(PhysAddr(0), false, Cycle(100)).count(), 100U + 7 + 42 + 42 + 8);

  DramConfig e = preset("DDR5-4800");
  e.core_clock_mhz = 2400;  // = command clock: identity
  EXPECT_EQ(to_core_timing(e).cl.count(), 40U);
  EXPECT_EQ(to_core_timing(e).refi.count(), 9360U);
}

TEST(DramTiming, StatsAddUp) {
  DramConfig c = unit_config();
  Dram d(c);
  uint64_t x = 12345;
  uint64_t now = 0;
  uint64_t lat_sum = 0;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    PhysAddr a((x >> 20) & (c.capacity_bytes() - 1));
    now += (x >> 60);
    bool w = (x >> 59) & 1;
    uint64_t done = d.access(a, w, Cycle(now)).count();
    ASSERT_GE(done, now + c.timing.tCWL + c.timing.tBL + c.controller_latency);
    lat_sum += done - now;
  }
  const DramStats& s = d.stats();
  EXPECT_EQ(s.reads + s.writes, 5000U);
  EXPECT_EQ(s.row_hits + s.row_misses + s.row_conflicts, 5000U);
  EXPECT_EQ(s.activates, s.row_misses + s.row_conflicts);
  EXPECT_EQ(s.total_latency, lat_sum);
  EXPECT_EQ(s.latency.count(), 5000U);
  EXPECT_EQ(s.latency.sum(), lat_sum);
}

}  // namespace
}  // namespace mmusim
