// The memory-pressure keys (os.linux.*, os.linux.swap_*): defaults, derived
// values and an InputError naming the key for each bad value.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/os/pressure_config.h"

namespace mmusim {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

void apply(ConfigSchema& s, const std::map<std::string, std::string>& kv) {
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "test"};
  apply_values(s, v);
}

TEST(PressureConfig, Defaults) {
  ConfigSchema s;
  PressureConfig c;
  add_keys(s, c);
  const std::map<std::string, std::string> want = {
      {"os.linux.min_free_kbytes", "0"},
      {"os.linux.watermark_scale_factor", "10"},
      {"os.linux.zones", ""},
      {"os.linux.page_cluster", "3"},
      {"os.linux.swap_vma_readahead", "true"},
      {"os.linux.swap_size", "0"},
      {"os.linux.swap_device", "0"},
      {"os.linux.swap_kind", "auto"},
      {"os.linux.oom_kill", "true"},
      {"os.linux.memory_max", "0"},
  };
  for (const auto& [key, value] : want) {
    const ConfigSchema::Key* k = s.find(key);
    ASSERT_NE(k, nullptr) << key;
    EXPECT_EQ(k->get(), value) << key;
  }
  EXPECT_EQ(s.keys().size(), want.size());
  // 4 GiB, one normal zone of 1048576 pages: min_free_kbytes =
  // int_sqrt(4194304 KiB x 16) = 8192.
  validate_pressure_config(c, 4 * kGiB);
  ASSERT_EQ(c.zone_specs.size(), 1U);
  EXPECT_EQ(c.zone_specs[0].name, "normal");
  EXPECT_EQ(c.zone_specs[0].managed_pages, 1048576U);
  EXPECT_EQ(c.effective_min_free_kbytes, 8192U);
  EXPECT_EQ(c.page_cluster, 3U);
  EXPECT_EQ(c.swap_slots(), 0U);
  EXPECT_EQ(resolve_swap_kind(c.swap_kind, true), SwapKind::kRotational);
  EXPECT_EQ(resolve_swap_kind(c.swap_kind, false), SwapKind::kSolidState);
}

TEST(PressureConfig, KeysFillTheConfig) {
  ConfigSchema s;
  PressureConfig c;
  add_keys(s, c);
  apply(s, {{"os.linux.min_free_kbytes", "4096"},
            {"os.linux.watermark_scale_factor", "200"},
            {"os.linux.zones", "dma:16M, dma32:4080M, normal"},
            {"os.linux.page_cluster", "0"},
            {"os.linux.swap_vma_readahead", "false"},
            {"os.linux.swap_size", "2G"},
            {"os.linux.swap_device", "1"},
            {"os.linux.swap_kind", "hdd"},
            {"os.linux.oom_kill", "false"},
            {"os.linux.memory_max", "512M"}});
  validate_pressure_config(c, 8 * kGiB);
  EXPECT_EQ(c.effective_min_free_kbytes, 4096U);
  EXPECT_EQ(c.watermark_scale_factor, 200U);
  // 16M = 4096 pages, 4080M = 1044480 pages, normal the rest of 2097152.
  ASSERT_EQ(c.zone_specs.size(), 3U);
  EXPECT_EQ(c.zone_specs[0].managed_pages, 4096U);
  EXPECT_EQ(c.zone_specs[1].name, "dma32");
  EXPECT_EQ(c.zone_specs[1].managed_pages, 1044480U);
  EXPECT_EQ(c.zone_specs[2].managed_pages, 2097152U - 4096U - 1044480U);
  EXPECT_EQ(c.page_cluster, 0U);
  EXPECT_FALSE(c.swap_vma_readahead);
  EXPECT_EQ(c.swap_slots(), 524288U);  // 2 GiB / 4 KiB
  EXPECT_EQ(c.swap_device, 1U);
  EXPECT_EQ(resolve_swap_kind(c.swap_kind, false), SwapKind::kRotational);
  EXPECT_FALSE(c.oom_kill);
  EXPECT_EQ(c.memory_max_pages(), 131072U);
  EXPECT_EQ(s.find("os.linux.swap_kind")->get(), "hdd");
  apply(s, {{"os.linux.swap_kind", "ssd"}});
  EXPECT_EQ(resolve_swap_kind(c.swap_kind, true), SwapKind::kSolidState);
  // Highmem and movable zones are not lowmem.
  const std::vector<ZoneSpec> z = parse_zones("k", "normal:1G,highmem:1G,movable", 1048576);
  EXPECT_FALSE(z[0].highmem);
  EXPECT_TRUE(z[1].highmem);
  EXPECT_TRUE(z[2].highmem);
  EXPECT_EQ(z[2].managed_pages, 1048576U - 2 * 262144U);
}

TEST(PressureConfig, DerivedMinFreeKbytesFollowsLinuxWithThp) {
  // The development machine's zones, 2054590 pages = 8415600640 bytes: 11467
  // KiB by the square root, 67584 once THP raises it (zone.h).
  PressureConfig c;
  c.zones = "dma:15360K,dma32:3165380608,normal";  // 3840 and 772798 pages
  validate_pressure_config(c, 2054590ULL * 4096);
  EXPECT_EQ(c.zone_specs[2].managed_pages, 1277952U);
  EXPECT_EQ(c.effective_min_free_kbytes, 11467U);
  c.thp_enabled = true;
  validate_pressure_config(c, 2054590ULL * 4096);
  EXPECT_EQ(c.effective_min_free_kbytes, 67584U);
  const std::vector<Watermarks> w =
      zone_watermarks(c.zone_specs, c.effective_min_free_kbytes, c.watermark_scale_factor);
  EXPECT_EQ(w[2].high, 15763U);
}

TEST(PressureConfig, PageClusterDefaultFollowsMemory) {
  PressureConfig c;
  validate_pressure_config(c, 8ULL << 20);  // 8 MiB < 16 MiB: 2
  EXPECT_EQ(c.page_cluster, 2U);
  PressureConfig d;
  validate_pressure_config(d, 16ULL << 20);
  EXPECT_EQ(d.page_cluster, 3U);
  ConfigSchema s;
  PressureConfig e;
  add_keys(s, e);
  apply(s, {{"os.linux.page_cluster", "3"}});  // given: kept even below 16 MiB
  validate_pressure_config(e, 8ULL << 20);
  EXPECT_EQ(e.page_cluster, 3U);
}

// Applies `value` to `key` on fresh defaults and validates with 1 GiB; the
// error must name the key.
void expect_bad(const std::string& key, const std::string& value) {
  ConfigSchema s;
  PressureConfig c;
  add_keys(s, c);
  try {
    apply(s, {{key, value}});
    validate_pressure_config(c, kGiB);
    ADD_FAILURE() << key << " accepted '" << value << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos)
        << key << " = " << value << ": " << e.what();
  }
}

TEST(PressureConfig, BadValuesNameTheirKey) {
  expect_bad("os.linux.min_free_kbytes", "2147483648");  // above INT_MAX
  expect_bad("os.linux.min_free_kbytes", "1048576");     // 1 GiB: all of lowmem
  expect_bad("os.linux.min_free_kbytes", "-1");
  expect_bad("os.linux.watermark_scale_factor", "0");
  expect_bad("os.linux.watermark_scale_factor", "3001");
  expect_bad("os.linux.zones", "dma:16M,dma:16M,normal");      // duplicate
  expect_bad("os.linux.zones", "dma:16M,,normal");             // empty entry
  expect_bad("os.linux.zones", "dma:1G,normal");               // nothing left for normal
  expect_bad("os.linux.zones", "dma:2G,normal");               // overflow of the memory
  expect_bad("os.linux.zones", "dma:16M,dma32:1008M,normal");  // exactly all: normal empty
  expect_bad("os.linux.zones", "dma:99999999999999999999,normal");
  expect_bad("os.linux.zones", "dma:1000,normal");  // not a multiple of 4K
  expect_bad("os.linux.zones", "dma:0,normal");
  expect_bad("os.linux.zones", "dma:16M,normal:100M");  // the last takes the rest
  expect_bad("os.linux.zones", "dma,normal");           // a lower zone needs a size
  expect_bad("os.linux.zones", "normal:16M,dma");       // order
  expect_bad("os.linux.zones", "floppy");
  expect_bad("os.linux.zones", "highmem");  // no lowmem zone
  expect_bad("os.linux.page_cluster", "32");
  expect_bad("os.linux.page_cluster", "x");
  expect_bad("os.linux.swap_vma_readahead", "maybe");
  expect_bad("os.linux.swap_size", "12345");  // not a multiple of 4K
  expect_bad("os.linux.swap_size", "4K");     // the header alone
  expect_bad("os.linux.swap_size", "2T");
  expect_bad("os.linux.swap_size", "lots");
  expect_bad("os.linux.swap_device", "nvme0");
  expect_bad("os.linux.swap_device", "16");
  expect_bad("os.linux.swap_kind", "floppy");
  expect_bad("os.linux.oom_kill", "2");
  expect_bad("os.linux.memory_max", "100");  // below one page
  expect_bad("os.linux.memory_max", "2048T");
  // A value given directly to the struct is checked too.
  PressureConfig c;
  c.watermark_scale_factor = 0;
  EXPECT_THROW(validate_pressure_config(c, kGiB), InputError);
  c = PressureConfig{};
  EXPECT_THROW(validate_pressure_config(c, 100), InputError);  // less than a page
}

}  // namespace
}  // namespace mmusim
