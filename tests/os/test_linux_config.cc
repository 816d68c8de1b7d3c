// The os.linux.* keys and their rules, and os.model=linux.
#include <gtest/gtest.h>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/os/os_config.h"

namespace mmusim {
namespace {

void apply(ConfigSchema& s, const std::map<std::string, std::string>& kv) {
  ConfigValues v;
  for (const auto& [k, x] : kv) v[k] = ConfigValue{x, "test"};
  apply_values(s, v);
}

TEST(LinuxConfig, KeysFillTheConfigAndFaultAroundRoundsDown) {
  ConfigSchema s;
  LinuxConfig c;
  add_keys(s, c);
  apply(s, {{"os.linux.overcommit_memory", "2"},
            {"os.linux.overcommit_ratio", "80"},
            {"os.linux.ra_pages", "2048"},
            {"os.linux.fault_around_bytes", "100000"},
            {"os.linux.stack_limit", "16M"},
            {"os.linux.cost.trap", "500"},
            {"os.linux.cost.fork_pte", "123"}});
  validate_linux_config(c);
  EXPECT_EQ(c.overcommit.mode, 2U);
  EXPECT_EQ(c.overcommit.ratio, 80U);
  EXPECT_EQ(c.file_cache.ra_pages, 2048U);
  EXPECT_EQ(c.file_cache.fault_around_pages, 16U);  // 24 pages -> 16
  EXPECT_EQ(c.stack_limit, 16ULL << 20);
  EXPECT_EQ(c.cost.trap, Cycles(500));
  EXPECT_EQ(c.cost.fork_pte, Cycles(123));
  c.fault_around_bytes = 4096;
  validate_linux_config(c);
  EXPECT_EQ(c.file_cache.fault_around_pages, 1U);  // no fault-around
  c.fault_around_bytes = 4ULL << 20;
  validate_linux_config(c);
  EXPECT_EQ(c.file_cache.fault_around_pages, 512U);  // at most one page table
  c.mode = PagingMode::k32Bit;
  validate_linux_config(c);
  EXPECT_EQ(c.file_cache.fault_around_pages, 1024U);
}

TEST(LinuxConfig, BadValuesNameTheirKey) {
  ConfigSchema s;
  LinuxConfig c;
  add_keys(s, c);
  try {
    apply(s, {{"os.linux.overcommit_memory", "3"}});
    FAIL() << "accepted overcommit_memory 3";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("os.linux.overcommit_memory"), std::string::npos);
  }
  c.fault_around_bytes = 100;
  try {
    validate_linux_config(c);
    FAIL() << "accepted fault_around_bytes 100";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("os.linux.fault_around_bytes"), std::string::npos);
  }
  c = LinuxConfig{};
  c.mode = PagingMode::kOff;
  EXPECT_THROW(validate_linux_config(c), InputError);
}

TEST(LinuxConfig, OsModelAcceptsLinux) {
  ConfigSchema s;
  KernelModuleConfig k;
  add_keys(s, k);
  apply(s, {{"os.model", "linux"}});
  EXPECT_EQ(k.model, OsModel::kLinux);
  EXPECT_EQ(s.find("os.model")->get(), "linux");
  EXPECT_THROW(apply(s, {{"os.model", "windows"}}), InputError);
  EXPECT_EQ(KernelModuleConfig{}.model, OsModel::kLinux);  // the default
  apply(s, {{"os.model", "auto"}});
  EXPECT_EQ(k.model, OsModel::kAuto);
  EXPECT_EQ(s.find("os.model")->get(), "auto");
  apply(s, {{"os.model", "first_touch"}});
  EXPECT_EQ(k.model, OsModel::kFirstTouch);
  EXPECT_EQ(s.find("os.model")->get(), "first_touch");
}

}  // namespace
}  // namespace mmusim
