// Shared fixtures for the DRAM tests: a configuration whose core clock equals
// the DRAM command clock (1 nCK = 1 core cycle) and whose timing values are
// all distinct, so each constraint can be made to bind on its own.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>

#include "models/dram/dram.h"

namespace mmusim::dram_test {

inline DramConfig unit_config() {
  DramConfig c;
  c.preset = "custom";
  c.data_rate_mts = 2000;   // command clock 1000 MHz
  c.core_clock_mhz = 1000;  // = command clock: 1 nCK = 1 core cycle
  DramTiming& t = c.timing;
  t.tCL = 11;
  t.tCWL = 9;
  t.tRCD = 13;
  t.tRP = 12;
  t.tRAS = 30;
  t.tRC = 42;  // = tRAS + tRP
  t.tCCD_S = 5;
  t.tCCD_L = 7;
  t.tRRD_S = 5;
  t.tRRD_L = 9;
  t.tFAW = 40;
  t.tWR = 15;
  t.tWTR_S = 3;
  t.tWTR_L = 8;
  t.tRTP = 6;
  t.tRFC = 100;
  t.tREFI = 10000;
  t.tBL = 4;
  c.channels = 1;
  c.ranks = 1;
  c.bank_groups = 4;
  c.banks_per_group = 4;
  c.rows = 1024;
  c.columns = 64;
  c.mapping = "ro:ra:bg:ba:co:ch";
  c.controller_latency = 10;
  c.queue_depth = 32;
  return c;
}

// Latencies from arrival when nothing else binds (written formulas).
inline uint64_t read_hit_lat(const DramConfig& c) {
  return c.timing.tCL + c.timing.tBL + c.controller_latency;
}
inline uint64_t read_miss_lat(const DramConfig& c) { return c.timing.tRCD + read_hit_lat(c); }
inline uint64_t read_conflict_lat(const DramConfig& c) { return c.timing.tRP + read_miss_lat(c); }
inline uint64_t write_miss_lat(const DramConfig& c) {
  return c.timing.tRCD + c.timing.tCWL + c.timing.tBL + c.controller_latency;
}

inline PhysAddr at(const Dram& d, uint32_t bg, uint32_t ba, uint64_t row, uint32_t col = 0,
                   uint32_t rank = 0, uint32_t channel = 0) {
  DramLocation l;
  l.channel = channel;
  l.rank = rank;
  l.bank_group = bg;
  l.bank = ba;
  l.row = row;
  l.column = col;
  return d.encode(l);
}

inline uint64_t rd(Dram& d, PhysAddr a, uint64_t t) { return d.access(a, false, Cycle(t)).count(); }
inline uint64_t wr(Dram& d, PhysAddr a, uint64_t t) { return d.access(a, true, Cycle(t)).count(); }

// probe(t) builds a fresh model, runs its setup, and returns the completion of
// a probe request arriving at t. T is the first arrival at which the checked
// constraint no longer delays the probe: at T-1 it binds (completion as if the
// probe arrived at T), at T and T+1 the probe sees its plain latency `lat`.
inline void expect_boundary(const std::function<uint64_t(uint64_t)>& probe, uint64_t T,
                            uint64_t lat) {
  EXPECT_EQ(probe(T - 1), T + lat) << "constraint should bind at T-1 = " << T - 1;
  EXPECT_EQ(probe(T), T + lat) << "constraint should be met exactly at T = " << T;
  EXPECT_EQ(probe(T + 1), T + 1 + lat) << "constraint should not bind at T+1";
}

}  // namespace mmusim::dram_test
