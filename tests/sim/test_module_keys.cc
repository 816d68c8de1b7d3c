// Module-owned configuration keys: each module's add_keys() binds its own key
// family on its own (a module can be configured without the composition
// root), and build_schema() is only their concatenation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/sim/sim_config.h"

namespace mmusim {
namespace {

std::vector<std::string> names(const ConfigSchema& s) {
  std::vector<std::string> v;
  for (const auto& k : s.keys()) v.push_back(k.name);
  return v;
}

void expect_family(const ConfigSchema& s, const std::string& prefix) {
  ASSERT_FALSE(s.keys().empty()) << prefix;
  for (const auto& k : s.keys()) EXPECT_EQ(k.name.rfind(prefix, 0), 0U) << k.name;
}

TEST(ModuleKeys, EachModuleBindsOnlyItsFamily) {
  SimConfig c;
  ConfigSchema sim, cpu, cpu_control, tlb, walker, cache, dram, os, kernel, sched, linux_os, disk,
      storage, seg, series;
  add_keys(sim, c.sim);
  add_keys(cpu, c.cpu);
  add_keys(cpu_control, c.cpu_control);
  add_keys(tlb, c.tlb);
  add_keys(walker, c.walker, c.paging_mode, c.pwc);
  add_keys(cache, c.cache, c.cache_entry);
  add_keys(dram, c.dram);
  add_keys(os, c.os, c.huge_regions);
  add_keys(kernel, c.kernel);
  add_keys(sched, c.sched);
  add_keys(linux_os, c.linux_os);
  add_keys(disk, c.disk);
  add_keys(storage, c.storage);
  add_keys(seg, c.seg, c.seg_keys);
  add_keys(series, c.series);
  expect_family(sim, "sim.");
  expect_family(cpu, "cpu.");
  expect_family(cpu_control, "cpu.");
  expect_family(tlb, "tlb.");
  expect_family(walker, "walker.");
  expect_family(cache, "cache.");
  expect_family(dram, "dram.");
  expect_family(os, "os.");
  expect_family(kernel, "os.");
  expect_family(sched, "os.sched.");
  expect_family(linux_os, "os.linux.");
  expect_family(disk, "disk.");
  expect_family(storage, "disk.");
  expect_family(seg, "seg.");
  expect_family(series, "stats.");
  // build_schema() composes them, in this order (the order of --help).
  std::vector<std::string> all;
  for (const ConfigSchema* s : {&sim, &cpu, &cpu_control, &tlb, &walker, &cache, &dram, &os,
                                &kernel, &sched, &linux_os, &disk, &storage, &seg, &series}) {
    for (const auto& n : names(*s)) all.push_back(n);
  }
  SimConfig c2;
  ConfigSchema composed;
  build_schema(composed, c2);
  EXPECT_EQ(names(composed), all);
}

TEST(ModuleKeys, AModuleIsConfigurableOnItsOwn) {
  TlbConfig t;
  ConfigSchema s;
  add_keys(s, t);
  apply_values(s, {{"tlb.l2.entries", {"768", "test"}}, {"tlb.l1d.4K.replacement", {"fifo", "t"}}});
  EXPECT_EQ(t.l2.entries, 768U);
  EXPECT_EQ(t.l1d[0].replacement, ReplPolicy::kFifo);
  try {
    apply_values(s, {{"tlb.l2.sizes", {"4K+3M", "x.ini:2"}}});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "x.ini:2: tlb.l2.sizes: expected page sizes joined by '+', e.g. 4K+2M, got "
                 "'4K+3M'");
  }

  WalkerConfig w;
  std::string mode = "4level";
  PwcParams pwc;
  ConfigSchema ws;
  add_keys(ws, w, mode, pwc);
  apply_values(ws, {{"walker.mode", {"pae", "t"}}, {"walker.pwc.pd.entries", {"8", "t"}}});
  resolve_walker_config(w, mode, pwc);
  EXPECT_EQ(w.mode, PagingMode::kPae);
  EXPECT_EQ(w.pwc[1].entries, 8U);  // PAE: PDPT registers, then the PD
}

}  // namespace
}  // namespace mmusim
