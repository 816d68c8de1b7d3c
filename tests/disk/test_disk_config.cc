// disk.* keys of the device models: defaults, the HDD preset and its
// overrides, the factory, and bad values that name their key.
#include <gtest/gtest.h>

#include <string>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/disk/disk_config.h"
#include "tests/disk/disk_test_util.h"

namespace mmusim {
namespace {

using disk_test::req;
using disk_test::run_one;

TEST(DiskConfigModels, Defaults) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  EXPECT_EQ(s.find("disk.model")->get(), "nvme_nand");
  EXPECT_EQ(s.find("disk.nvme.channels")->get(), "8");
  EXPECT_EQ(s.find("disk.nvme.read_ns")->get(), "75000");
  EXPECT_EQ(s.find("disk.nvme.write_buffer_bytes")->get(), "256M");
  EXPECT_EQ(s.find("disk.nvme.cmt_entries")->get(), "0");
  EXPECT_EQ(s.find("disk.optane.units")->get(), "7");
  EXPECT_EQ(s.find("disk.optane.media_ns")->get(), "5000");
  EXPECT_EQ(s.find("disk.hdd.preset")->get(), "hc310");
  EXPECT_EQ(s.find("disk.hdd.seek_curve")->get(), "sqrt");
  EXPECT_EQ(s.find("disk.hdd.scheduler")->get(), "clook");
  EXPECT_NO_THROW(c.validate());
}

// The preset applies first: an explicit key wins whatever its position.
TEST(DiskConfigModels, HddPresetThenOverrides) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  ConfigValues vals;
  vals["disk.hdd.cylinders"] = {"1000", "a.ini:1"};
  vals["disk.hdd.preset"] = {"hp97560", "a.ini:2"};
  vals["disk.hdd.scheduler"] = {"fifo", "a.ini:3"};
  vals["disk.model"] = {"hdd", "a.ini:4"};
  apply_values(s, vals);
  EXPECT_EQ(c.models, std::vector<DiskKind>{DiskKind::kHdd});
  EXPECT_EQ(c.hdd.preset, "hp97560");
  EXPECT_EQ(c.hdd.cylinders, 1000U);
  EXPECT_EQ(c.hdd.heads, 19U);
  EXPECT_EQ(c.hdd.seek_curve, SeekCurve::kRw);
  EXPECT_EQ(c.hdd.scheduler, HddScheduler::kFifo);
  EXPECT_EQ(s.find("disk.hdd.seek_curve")->get(), "rw");
  c.validate();
  auto d = make_disk_model(c);
  ASSERT_NE(dynamic_cast<Hdd*>(d.get()), nullptr);
  EXPECT_EQ(dynamic_cast<Hdd*>(d.get())->capacity_sectors(), 1000U * 19 * 72);
}

// The factory builds each model at the configured clock.
TEST(DiskConfigModels, Factory) {
  DiskConfig c;
  c.core_clock_mhz = 3000;
  c.models = {DiskKind::kNvmeNand};
  auto n = make_disk_model(c);
  EXPECT_EQ(run_one(*n, req(1, 0, 0, 4096)).done, Cycle(262'824));  // 87.608 µs
  c.models = {DiskKind::kOptane};
  auto o = make_disk_model(c);
  EXPECT_EQ(run_one(*o, req(1, 0, 0, 4096)).done, Cycle(19'916));  // 6.639 µs
  c.models = {DiskKind::kHdd};
  EXPECT_NE(dynamic_cast<Hdd*>(make_disk_model(c).get()), nullptr);
  c.models = {DiskKind::kFixed};
  EXPECT_NE(dynamic_cast<FixedDisk*>(make_disk_model(c).get()), nullptr);
  // A list: device i is the i-th model, each of its kind.
  c.models = {DiskKind::kOptane, DiskKind::kHdd, DiskKind::kOptane};
  EXPECT_NE(dynamic_cast<Optane*>(make_disk_model(c, 0).get()), nullptr);
  EXPECT_NE(dynamic_cast<Hdd*>(make_disk_model(c, 1).get()), nullptr);
  EXPECT_EQ(run_one(*make_disk_model(c, 2), req(1, 0, 0, 4096)).done, Cycle(19'916));
  EXPECT_THROW(make_disk_model(c, 3), std::invalid_argument);
}

std::string apply_error(const std::string& key, const std::string& value);

// disk.model's list form: the keys' text round-trips; bad lists name the key.
TEST(DiskConfigModels, ListKey) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  ConfigValues vals;
  vals["disk.model"] = {"nvme_nand,hdd,fixed", "a.ini:1"};
  apply_values(s, vals);
  EXPECT_EQ(c.models,
            (std::vector<DiskKind>{DiskKind::kNvmeNand, DiskKind::kHdd, DiskKind::kFixed}));
  EXPECT_EQ(s.find("disk.model")->get(), "nvme_nand,hdd,fixed");
  EXPECT_NE(apply_error("disk.model", "nvme_nand,").find("empty entry at character 11"),
            std::string::npos);
  EXPECT_NE(apply_error("disk.model", "hdd,ssd").find("for device 1, got 'ssd'"),
            std::string::npos);
  std::string many = "hdd";
  for (int i = 0; i < 16; ++i) many += ",hdd";  // 17 devices
  EXPECT_NE(apply_error("disk.model", many).find("at most 16 devices"), std::string::npos);
  c.models.clear();
  EXPECT_THROW(c.validate(), InputError);
}

std::string apply_error(const std::string& key, const std::string& value) {
  DiskConfig c;
  ConfigSchema s;
  add_keys(s, c);
  ConfigValues vals;
  vals[key] = {value, "cfg.ini:9"};
  try {
    apply_values(s, vals);
    c.validate();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(DiskConfigModels, BadValuesNameTheKey) {
  const std::string m = apply_error("disk.model", "ssd");
  EXPECT_NE(m.find("disk.model"), std::string::npos) << m;
  EXPECT_NE(m.find("expected fixed, nvme_nand, optane or hdd"), std::string::npos) << m;
  const std::pair<const char*, const char*> cases[] = {
      {"disk.nvme.channels", "0"},
      {"disk.nvme.channels", "257"},
      {"disk.nvme.page_bytes", "12288"},
      {"disk.nvme.page_bytes", "2048"},
      {"disk.nvme.byte_ps", "0"},
      {"disk.nvme.read_ns", "20000000000"},
      {"disk.nvme.write_buffer_bytes", "1K"},
      {"disk.nvme.write_buffer_bytes", "2T"},
      {"disk.nvme.cmt_entries", "99999999"},
      {"disk.optane.units", "0"},
      {"disk.optane.bandwidth_mbps", "0"},
      {"disk.optane.media_ns", "x"},
      {"disk.hdd.preset", "st31000"},
      {"disk.hdd.seek_curve", "cubic"},
      {"disk.hdd.scheduler", "sstf"},
      {"disk.hdd.rpm", "100"},
      {"disk.hdd.spt_inner", "5000"},
      {"disk.hdd.zones", "0"},
      {"disk.hdd.seek_full_ns", "1000"},
      {"disk.hdd.seek_e_ns", "2000000"},
      {"disk.hdd.cylinders", "0"},
  };
  for (const auto& [key, value] : cases) {
    const std::string e = apply_error(key, value);
    EXPECT_NE(e.find(key), std::string::npos) << key << "=" << value << ": '" << e << "'";
  }
  EXPECT_EQ(apply_error("disk.nvme.cmt_entries", "4096"), "");
  EXPECT_EQ(apply_error("disk.hdd.spt_inner", "4069"), "");
}

// validate() on a config built in code names the key too.
TEST(DiskConfigModels, ValidateNamesTheKey) {
  DiskConfig c;
  c.hdd = hdd_preset("hp97560");
  c.hdd.zones = 2000;  // more zones than cylinders (1962)
  try {
    c.validate();
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("disk.hdd.zones"), std::string::npos) << e.what();
  }
  c = DiskConfig{};
  c.models = {static_cast<DiskKind>(9)};
  EXPECT_THROW(c.validate(), InputError);
}

}  // namespace
}  // namespace mmusim
