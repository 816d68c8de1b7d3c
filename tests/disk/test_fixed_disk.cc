// The fixed disk: service time formula, FIFO queueing, statistics, keys.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/disk/disk_config.h"
#include "models/disk/fixed_disk.h"

namespace mmusim {
namespace {

DiskRequest read_at(uint64_t at, uint64_t bytes, uint64_t offset = 0) {
  DiskRequest r;
  r.offset = offset;
  r.bytes = bytes;
  r.at = Cycle(at);
  return r;
}

// Submits `r` and takes completions until its own: its completion cycle.
Cycle run(DiskModel& d, const DiskRequest& r) {
  d.submit(r);
  DiskDone x;
  while (d.take(kNeverCycle, x)) {
    if (x.id == r.id) return x.done;
  }
  ADD_FAILURE() << "request " << r.id << " never completed";
  return kNeverCycle;
}

// Collects counters and histograms by name.
struct Collect : StatVisitor {
  void counter(std::string_view n, std::string_view, std::string_view, uint64_t v) override {
    c[std::string(n)] = v;
  }
  void real(std::string_view, std::string_view, std::string_view, double) override {}
  void histogram(std::string_view n, std::string_view, std::string_view,
                 const Histogram& h) override {
    h_count[std::string(n)] = h.count();
    h_max[std::string(n)] = h.max();
  }
  std::map<std::string, uint64_t> c, h_count, h_max;
};

// Defaults at 3 GHz: 76 500 ns -> 229 500 cycles; 4096 B at 2800 MB/s ->
// 4096 * 3000 / 2800 = 4388.57 -> 4389 cycles; 4 KiB read 233 889 cycles
// = 77.96 µs, the P3700's 77.9 µs within 0.1 %.
TEST(FixedDisk, DefaultFourKiBReadIsTheP3700Figure) {
  FixedDisk d(FixedDiskParams{}, 3000);
  EXPECT_EQ(d.latency(), Cycles(229'500));
  EXPECT_EQ(d.transfer(4096), Cycles(4'389));
  EXPECT_EQ(d.service(4096), Cycles(233'889));
  EXPECT_EQ(run(d, read_at(1000, 4096)), Cycle(1000 + 233'889));
  // 77.9 µs at 3 GHz = 233 700 cycles: within 0.1 %.
  EXPECT_NEAR(233'889.0 / 233'700.0, 1.0, 0.001);
}

// Rounding: each term rounded up separately, exact at multiples.
TEST(FixedDisk, ServiceTimeFormula) {
  FixedDiskParams p;
  p.latency_ns = 1001;      // 1001 * 2000 / 1000 = 2002 exactly
  p.bandwidth_mbps = 3000;  // a byte is 2000 / 3000 cycle
  FixedDisk d(p, 2000);
  EXPECT_EQ(d.latency(), Cycles(2002));
  EXPECT_EQ(d.transfer(3), Cycles(2));        // 3 * 2/3 = 2 exactly
  EXPECT_EQ(d.transfer(4), Cycles(3));        // 2.67 -> 3
  EXPECT_EQ(d.transfer(4096), Cycles(2731));  // 2730.67 -> 2731
  EXPECT_EQ(d.transfer(3'000'000), Cycles(2'000'000));
  EXPECT_EQ(d.service(512), Cycles(2002 + 342));  // 341.33 -> 342
  p.latency_ns = 1;
  FixedDisk e(p, 2500);  // 2.5 cycles -> 3
  EXPECT_EQ(e.latency(), Cycles(3));
}

// Idle device: completion = at + service. Back to back (the second arrives
// exactly when the first completes): no wait. Queued (arrives earlier):
// waits for the first, FIFO.
TEST(FixedDisk, IdleBackToBackAndQueued) {
  FixedDiskParams p;
  p.latency_ns = 10'000;     // 30 000 cycles at 3 GHz
  p.bandwidth_mbps = 1'000;  // 3 cycles per byte
  FixedDisk d(p, 3000);
  const uint64_t s4k = 30'000 + 4096 * 3;  // 42 288
  const uint64_t s8k = 30'000 + 8192 * 3;  // 54 576
  ASSERT_EQ(d.service(4096), Cycles(s4k));
  ASSERT_EQ(d.service(8192), Cycles(s8k));

  Cycle c1 = run(d, read_at(100, 4096));
  EXPECT_EQ(c1, Cycle(100 + s4k));
  // Back to back: arrives at the first's completion.
  Cycle c2 = run(d, read_at(c1.count(), 8192));
  EXPECT_EQ(c2, Cycle(100 + s4k + s8k));
  // Queued: arrives 1000 cycles after c2's arrival, while c2 is in service.
  Cycle c3 = run(d, read_at(c1.count() + 1000, 4096));
  EXPECT_EQ(c3, c2 + Cycles(s4k));
  // A fourth in the queue behind it, arriving at the same cycle.
  DiskRequest w = read_at(c1.count() + 1000, 4096);
  w.write = true;
  Cycle c4 = run(d, w);
  EXPECT_EQ(c4, c3 + Cycles(s4k));
  // Idle again: a request one cycle after the device is free does not wait.
  Cycle c5 = run(d, read_at(c4.count() + 1, 4096));
  EXPECT_EQ(c5, Cycle(c4.count() + 1 + s4k));
  EXPECT_EQ(d.free_at(), c5);

  const DiskStats& s = d.stats();
  EXPECT_EQ(s.requests(), 5U);
  EXPECT_EQ(s.reads(), 4U);
  EXPECT_EQ(s.writes(), 1U);
  EXPECT_EQ(s.bytes_read(), 4096U * 3 + 8192);
  EXPECT_EQ(s.bytes_written(), 4096U);
  EXPECT_EQ(s.busy_cycles(), 4 * s4k + s8k);
  // Waits: c3 waited c2 - (c1 + 1000); c4 waited c3 - (c1 + 1000).
  const uint64_t w3 = c2.count() - (c1.count() + 1000);
  const uint64_t w4 = c3.count() - (c1.count() + 1000);
  EXPECT_EQ(s.queue_wait_cycles(), w3 + w4);

  Collect v;
  d.visit(v);
  EXPECT_EQ(v.c["requests"], 5U);
  EXPECT_EQ(v.c["reads"], 4U);
  EXPECT_EQ(v.c["writes"], 1U);
  EXPECT_EQ(v.c["bytes_read"], 4096U * 3 + 8192);
  EXPECT_EQ(v.c["bytes_written"], 4096U);
  EXPECT_EQ(v.c["busy_cycles"], 4 * s4k + s8k);
  EXPECT_EQ(v.c["queue_wait_cycles"], w3 + w4);
  EXPECT_EQ(v.h_count["latency"], 5U);
  EXPECT_EQ(v.h_max["latency"], w4 + s4k);
}

TEST(FixedDisk, RejectsZeroClockOrBandwidth) {
  FixedDiskParams p;
  EXPECT_THROW(FixedDisk(p, 0), std::invalid_argument);
  p.bandwidth_mbps = 0;
  EXPECT_THROW(FixedDisk(p, 3000), std::invalid_argument);
}

TEST(DiskConfig, KeysDefaultsAndFactory) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  ASSERT_NE(s.find("disk.model"), nullptr);
  EXPECT_EQ(s.find("disk.model")->get(), "nvme_nand");
  EXPECT_EQ(s.find("disk.fixed.latency_ns")->get(), "76500");
  EXPECT_EQ(s.find("disk.fixed.bandwidth_mbps")->get(), "2800");
  ConfigValues vals;
  vals["disk.model"] = {"fixed", "test.ini:2"};
  vals["disk.fixed.latency_ns"] = {"8900", "test.ini:3"};
  vals["disk.fixed.bandwidth_mbps"] = {"2000", "test.ini:4"};
  apply_values(s, vals);
  EXPECT_EQ(c.fixed.latency_ns, 8900U);
  EXPECT_EQ(c.fixed.bandwidth_mbps, 2000U);
  c.core_clock_mhz = 1000;
  auto d = make_disk_model(c);
  // 8900 ns at 1 GHz = 8900 cycles; 4096 B at 2000 MB/s = 2048 cycles.
  EXPECT_EQ(run(*d, read_at(0, 4096)), Cycle(8900 + 2048));
}

std::string error_of(const std::string& key, const std::string& value) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  ConfigValues vals;
  vals[key] = {value, "cfg.ini:7"};
  try {
    apply_values(s, vals);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(DiskConfig, BadValuesNameTheKey) {
  EXPECT_NE(error_of("disk.model", "ssd").find("disk.model"), std::string::npos);
  EXPECT_NE(error_of("disk.model", "ssd").find("expected fixed"), std::string::npos);
  EXPECT_NE(error_of("disk.fixed.bandwidth_mbps", "0").find("disk.fixed.bandwidth_mbps"),
            std::string::npos);
  EXPECT_NE(error_of("disk.fixed.latency_ns", "abc").find("cfg.ini:7"), std::string::npos);
  EXPECT_NE(error_of("disk.fixed.latency_ns", "20000000000").find("disk.fixed.latency_ns"),
            std::string::npos);
  EXPECT_EQ(error_of("disk.fixed.latency_ns", "0"), "");

  DiskConfig c;
  c.fixed.bandwidth_mbps = 0;
  try {
    c.validate();
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("disk.fixed.bandwidth_mbps"), std::string::npos);
  }
  // disk.max_sectors_kb: whole pages, 4 KiB to 64 MiB (Linux's default 1280).
  EXPECT_EQ(DiskConfig{}.max_sectors_kb, 1280U);
  EXPECT_NE(error_of("disk.max_sectors_kb", "2").find("disk.max_sectors_kb"), std::string::npos);
  EXPECT_EQ(error_of("disk.max_sectors_kb", "128"), "");
  c = DiskConfig{};
  c.max_sectors_kb = 6;
  EXPECT_THROW(c.validate(), InputError);
  c = DiskConfig{};
  c.core_clock_mhz = 0;
  EXPECT_THROW(c.validate(), InputError);
  EXPECT_THROW(make_disk_model(c), InputError);
}

}  // namespace
}  // namespace mmusim
