// TLB configuration: Skylake defaults and every validation message.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "models/common/error.h"
#include "models/tlb/tlb_array.h"
#include "models/tlb/tlb_config.h"
#include "models/tlb/tlb_hierarchy.h"

namespace mmusim {
namespace {

// Runs f, expects an InputError whose what() is exactly `msg`.
void expect_error(const std::function<void()>& f, const std::string& msg) {
  try {
    f();
    ADD_FAILURE() << "no error, expected: " << msg;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), msg);
  }
}

void expect_config_error(const std::function<void(TlbConfig&)>& edit, const std::string& msg) {
  TlbConfig cfg;
  edit(cfg);
  expect_error([&] { validate_tlb_config(cfg); }, msg);
  expect_error([&] { TlbHierarchy h(cfg); }, msg);
}

TEST(TlbConfig, SkylakeDefaults) {
  const TlbConfig c = skylake_tlb_config();
  EXPECT_NO_THROW(validate_tlb_config(c));
  auto geo = [](const TlbArrayConfig& a, uint32_t e, uint32_t w, uint64_t lat) {
    EXPECT_EQ(a.entries, e) << a.name;
    EXPECT_EQ(a.ways, w) << a.name;
    EXPECT_EQ(a.latency, Cycles(lat)) << a.name;
    EXPECT_EQ(a.replacement, ReplPolicy::kLru) << a.name;
  };
  geo(c.l1d[0], 64, 4, 1);
  geo(c.l1d[1], 32, 4, 1);
  geo(c.l1d[2], 4, 4, 1);
  geo(c.l1i[0], 128, 8, 1);
  geo(c.l1i[1], 8, 8, 1);
  EXPECT_EQ(c.l1i[2].entries, 0U);
  geo(c.l2, 1536, 12, 9);
  geo(c.l2_1g, 16, 4, 9);
  EXPECT_EQ(c.l2.sizes, kHolds4K | kHolds2M);
  EXPECT_EQ(c.l2_1g.sizes, kHolds1G);
  EXPECT_EQ(c.mshr_entries, 4U);
  EXPECT_EQ(c.seed, 1U);
  TlbHierarchy h(c);
  EXPECT_EQ(h.l2_array(PageSize::k4K)->sets(), 128U);
  EXPECT_EQ(h.l1_array(AccessKind::kRead, PageSize::k4K)->sets(), 16U);
  EXPECT_EQ(h.l1_array(AccessKind::kFetch, PageSize::k2M)->sets(), 1U);
}

TEST(TlbConfig, SetsMustBePowerOfTwo) {
  expect_config_error(
      [](TlbConfig& c) {
        c.l1d[0].entries = 48;
        c.l1d[0].ways = 4;
      },
      "tlb.l1d.4K.entries: sets (entries/ways = 48/4 = 12) must be a power of two");
  expect_config_error([](TlbConfig& c) { c.l2.entries = 1200; },
                      "tlb.l2.entries: sets (entries/ways = 1200/12 = 100) must be a power of two");
}

TEST(TlbConfig, WaysAtLeastOne) {
  expect_config_error([](TlbConfig& c) { c.l2.ways = 0; }, "tlb.l2.ways: must be at least 1");
  expect_config_error([](TlbConfig& c) { c.l1i[1].ways = 0; },
                      "tlb.l1i.2M.ways: must be at least 1");
}

TEST(TlbConfig, WaysNotAboveEntries) {
  expect_config_error([](TlbConfig& c) { c.l2_1g.ways = 32; },
                      "tlb.l2_1g.ways: must not exceed entries (32 > 16)");
}

TEST(TlbConfig, EntriesMultipleOfWays) {
  expect_config_error([](TlbConfig& c) { c.l1d[1].entries = 30; },
                      "tlb.l1d.2M.entries: must be a multiple of ways (30 % 4 = 2)");
}

TEST(TlbConfig, EntriesUpperBound) {
  expect_config_error(
      [](TlbConfig& c) {
        c.l2.entries = 1U << 25;
        c.l2.ways = 2;
      },
      "tlb.l2.entries: must be at most 16777216 (got 33554432)");
}

TEST(TlbConfig, PlruNeedsPowerOfTwoWays) {
  expect_config_error(
      [](TlbConfig& c) { c.l2.replacement = ReplPolicy::kPlru; },
      "tlb.l2.ways: tree-PLRU replacement needs a power-of-two number of ways (got 12)");
  TlbConfig ok;
  ok.l1d[0].replacement = ReplPolicy::kPlru;
  EXPECT_NO_THROW(validate_tlb_config(ok));
}

TEST(TlbConfig, UnknownPolicy) {
  expect_error([] { parse_repl_policy("tlb.l1d.replacement", "lru2"); },
               "tlb.l1d.replacement: unknown policy 'lru2' (expected lru, plru, fifo, random)");
  EXPECT_EQ(parse_repl_policy("k", "lru"), ReplPolicy::kLru);
  EXPECT_EQ(parse_repl_policy("k", "plru"), ReplPolicy::kPlru);
  EXPECT_EQ(parse_repl_policy("k", "fifo"), ReplPolicy::kFifo);
  EXPECT_EQ(parse_repl_policy("k", "random"), ReplPolicy::kRandom);
  for (ReplPolicy p :
       {ReplPolicy::kLru, ReplPolicy::kPlru, ReplPolicy::kFifo, ReplPolicy::kRandom}) {
    EXPECT_EQ(parse_repl_policy("k", repl_policy_name(p)), p);
  }
}

TEST(TlbConfig, PageSizesParseAndPrint) {
  EXPECT_EQ(parse_page_sizes("tlb.l2.sizes", "4K+2M"), kHolds4K | kHolds2M);
  EXPECT_EQ(parse_page_sizes("tlb.l2.sizes", "1G"), kHolds1G);
  EXPECT_EQ(parse_page_sizes("tlb.l2.sizes", "4M"), page_size_bit(PageSize::k4M));
  EXPECT_EQ(page_sizes_string(kHolds4K | kHolds2M), "4K+2M");
  EXPECT_EQ(page_sizes_string(kHolds4K | kHolds2M | kHolds1G), "4K+2M+1G");
  EXPECT_EQ(page_sizes_string(page_size_bit(PageSize::k4M)), "4M");
  expect_error([] { parse_page_sizes("tlb.l2.sizes", "4K+3M"); },
               "tlb.l2.sizes: unknown page size '3M' in '4K+3M' (expected 4K, 2M, 4M, 1G "
               "joined by '+', e.g. 4K+2M)");
  expect_error([] { parse_page_sizes("tlb.l2.sizes", ""); },
               "tlb.l2.sizes: unknown page size '' in '' (expected 4K, 2M, 4M, 1G joined by "
               "'+', e.g. 4K+2M)");
}

TEST(TlbConfig, SizesRules) {
  expect_config_error([](TlbConfig& c) { c.l2.sizes = 0; },
                      "tlb.l2.sizes: must name at least one page size");
  expect_config_error([](TlbConfig& c) { c.l2.sizes = kHolds4K | kHolds1G; },
                      "tlb.l2.sizes: page size 1G is also held by tlb.l2_1g");
  expect_config_error([](TlbConfig& c) { c.l1d[1].sizes = kHolds4K; },
                      "tlb.l1d.2M.sizes: an L1 2M array holds exactly 2M (got '4K')");
  expect_config_error([](TlbConfig& c) { c.l2_1g.sizes = kHolds2M; },
                      "tlb.l2_1g.sizes: holds exactly 1G (got '2M')");
  // 1G in the shared array is fine once the 1G array is disabled.
  TlbConfig ok;
  ok.l2.sizes = kHolds4K | kHolds2M | kHolds1G;
  ok.l2_1g.entries = 0;
  EXPECT_NO_THROW(validate_tlb_config(ok));
  TlbHierarchy h(ok);
  EXPECT_EQ(h.l2_array(PageSize::k1G), h.l2_array(PageSize::k4K));
  EXPECT_EQ(h.l2_array(PageSize::k1G)->name(), "tlb.l2.4K_2M_1G");
}

TEST(TlbConfig, MshrEntries) {
  expect_config_error([](TlbConfig& c) { c.mshr_entries = 0; },
                      "tlb.mshr.entries: must be at least 1");
  expect_config_error([](TlbConfig& c) { c.mshr_entries = 5000; },
                      "tlb.mshr.entries: must be at most 1024 (got 5000)");
}

TEST(TlbConfig, DisabledArrayIgnoresGeometry) {
  TlbConfig c;
  c.l1d[2].entries = 0;
  c.l1d[2].ways = 3;
  EXPECT_NO_THROW(validate_tlb_config(c));
  TlbHierarchy h(c);
  EXPECT_EQ(h.l1_array(AccessKind::kRead, PageSize::k1G), nullptr);
}

TEST(TlbConfig, StandaloneArrayValidatesWithItsName) {
  TlbArrayConfig a;
  a.name = "tlb.x";
  a.entries = 24;
  a.ways = 2;
  expect_error([&] { TlbArray arr(a); },
               "tlb.x.entries: sets (entries/ways = 24/2 = 12) must be a power of two");
}

}  // namespace
}  // namespace mmusim
