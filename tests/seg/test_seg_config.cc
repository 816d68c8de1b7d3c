// Config parsing and validation (errors name the key), mode combinations, the
// option schema, and the stats enumeration.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>

#include "models/common/error.h"
#include "tests/seg/seg_test_util.h"

namespace mmusim {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(SegConfig, UnknownModeMessage) {
  EXPECT_EQ(error_of([] { parse_seg_mode("prot"); }),
            "seg.mode: unknown mode 'prot' (expected real, protected, long, flat)");
  EXPECT_EQ(parse_seg_mode("real"), SegMode::kReal);
  EXPECT_EQ(parse_seg_mode("protected"), SegMode::kProtected32);
  EXPECT_EQ(parse_seg_mode("long"), SegMode::kLong64);
  EXPECT_EQ(parse_seg_mode("flat"), SegMode::kFlat);
}

TEST(SegConfig, DefaultsValidate) {
  SegConfig c;
  EXPECT_NO_THROW(validate(c));
  for (SegMode m : {SegMode::kReal, SegMode::kProtected32, SegMode::kLong64}) {
    c.mode = m;
    EXPECT_NO_THROW(validate(c)) << seg_mode_name(m);
  }
}

TEST(SegConfig, GdtLimitMustBeWholeDescriptors) {
  SegConfig c;
  c.gdt_limit = 0x10;
  EXPECT_EQ(error_of([&] { validate(c); }),
            "seg.gdt_limit: must be 8*N-1 (whole 8-byte descriptors) and at most 0xFFFF, got "
            "0x10");
  c.gdt_limit = 0;
  EXPECT_NE(error_of([&] { validate(c); }).find("seg.gdt_limit"), std::string::npos);
  c.gdt_limit = 7;
  c.mode = SegMode::kReal;
  EXPECT_NO_THROW(validate(c));
  c.ldt_limit = 12;
  EXPECT_EQ(error_of([&] { validate(c); }).rfind("seg.ldt_limit: ", 0), 0U);
  EXPECT_EQ(
      error_of([&] { set_seg_option(c, "seg.gdt_limit", "0x10000"); }).rfind("seg.gdt_limit: ", 0),
      0U);
}

TEST(SegConfig, OtherRangeChecks) {
  const auto first_key = [](SegConfig c) {
    const std::string e = error_of([&] { validate(c); });
    return e.substr(0, e.find(':'));
  };
  SegConfig c;
  c.cpl = 4;
  EXPECT_EQ(first_key(c), "seg.cpl");
  c = SegConfig{};
  c.mode = SegMode::kReal;
  c.cpl = 3;
  EXPECT_EQ(first_key(c), "seg.cpl");
  c = SegConfig{};
  c.canonical_bits = 52;
  EXPECT_EQ(first_key(c), "seg.canonical_bits");
  c = SegConfig{};
  c.fs_base = 0x1000;  // flat mode has no FS base
  EXPECT_EQ(first_key(c), "seg.fs_base");
  c.mode = SegMode::kLong64;
  EXPECT_NO_THROW(validate(c));
  c.gs_base = 0x0000800000000000ULL;
  EXPECT_EQ(first_key(c), "seg.gs_base");
  c = SegConfig{};
  c.mode = SegMode::kProtected32;
  c.gdt_base = 0xFFFFFFF0;
  EXPECT_EQ(first_key(c), "seg.gdt_base");
  c = SegConfig{};
  c.desc_cache_entries = 65;
  EXPECT_EQ(first_key(c), "seg.desc_cache_entries");
}

TEST(SegConfig, InitialSelectorsChecked) {
  SegConfig c;
  c.mode = SegMode::kProtected32;
  c.selectors[seg_index(SegReg::kDS)] = Selector(0x30);
  EXPECT_EQ(error_of([&] { validate(c); }),
            "seg.ds: selector 0x30 index 6 is beyond the GDT limit 0x27");
  c.selectors[seg_index(SegReg::kDS)].reset();
  c.selectors[seg_index(SegReg::kCS)] = Selector(0);
  EXPECT_EQ(error_of([&] { validate(c); }),
            "seg.cs: null selector 0x0 cannot be loaded into cs in protected mode");
  c.selectors[seg_index(SegReg::kCS)].reset();
  c.selectors[seg_index(SegReg::kSS)] = Selector(0);
  EXPECT_EQ(error_of([&] { validate(c); }).rfind("seg.ss: ", 0), 0U);
  c.mode = SegMode::kLong64;  // null SS is fine in 64-bit mode at CPL 0
  EXPECT_NO_THROW(validate(c));
  c.selectors[seg_index(SegReg::kES)] = Selector(0x0C);  // LDT, but no LDT
  EXPECT_EQ(error_of([&] { validate(c); }).rfind("seg.es: ", 0), 0U);
  SegConfig real;
  real.mode = SegMode::kReal;
  real.selectors[seg_index(SegReg::kCS)] = Selector(0xF000);  // anything goes in real mode
  EXPECT_NO_THROW(validate(real));
  // Constructing a unit validates too.
  EXPECT_THROW(SegmentationUnit{c}, InputError);
}

TEST(SegConfig, DefaultSelectorsFollowModeAndCpl) {
  SegConfig c;
  c.mode = SegMode::kReal;
  EXPECT_EQ(c.initial_selector(SegReg::kCS), Selector(0));
  c.mode = SegMode::kProtected32;
  EXPECT_EQ(c.initial_selector(SegReg::kCS), Selector(0x08));
  EXPECT_EQ(c.initial_selector(SegReg::kSS), Selector(0x10));
  EXPECT_EQ(c.initial_selector(SegReg::kGS), Selector(0));
  c.cpl = 3;
  EXPECT_EQ(c.initial_selector(SegReg::kCS), Selector(0x1B));
  EXPECT_EQ(c.initial_selector(SegReg::kDS), Selector(0x23));
  c.selectors[seg_index(SegReg::kDS)] = Selector(0x2B);
  EXPECT_EQ(c.initial_selector(SegReg::kDS), Selector(0x2B));
}

TEST(SegConfig, ModeCombinations) {
  EXPECT_NO_THROW(validate_mode_combination(SegMode::kReal, "off"));
  EXPECT_EQ(error_of([] { validate_mode_combination(SegMode::kReal, "4level"); }),
            "seg.mode: 'real' cannot be combined with paging mode '4level' (real mode requires "
            "paging off)");
  EXPECT_THROW(validate_mode_combination(SegMode::kReal, "32bit"), InputError);
  for (const char* p : {"off", "32bit", "pae"}) {
    EXPECT_NO_THROW(validate_mode_combination(SegMode::kProtected32, p)) << p;
    EXPECT_NO_THROW(validate_mode_combination(SegMode::kFlat, p)) << p;
    EXPECT_THROW(validate_mode_combination(SegMode::kLong64, p), InputError) << p;
  }
  for (const char* p : {"4level", "5level"}) {
    EXPECT_NO_THROW(validate_mode_combination(SegMode::kLong64, p)) << p;
    // IA-32e compatibility mode: 32-bit segmentation under 4/5-level paging.
    EXPECT_NO_THROW(validate_mode_combination(SegMode::kProtected32, p)) << p;
    EXPECT_NO_THROW(validate_mode_combination(SegMode::kFlat, p)) << p;
  }
  EXPECT_THROW(validate_mode_combination(SegMode::kFlat, "6level"), InputError);
}

TEST(SegConfig, SetOptionParsesAndNamesKeys) {
  SegConfig c;
  set_seg_option(c, "seg.mode", "protected");
  set_seg_option(c, "seg.cpl", "3");
  set_seg_option(c, "seg.gdt_base", "0x8000");
  set_seg_option(c, "seg.gdt_limit", "0x3F");
  set_seg_option(c, "seg.base_cost", "2");
  set_seg_option(c, "seg.a20_mask", "on");
  set_seg_option(c, "seg.reload_same_selector_free", "false");
  set_seg_option(c, "seg.ds", "0x2B");
  EXPECT_EQ(c.mode, SegMode::kProtected32);
  EXPECT_EQ(c.cpl, 3);
  EXPECT_EQ(c.gdt_base, 0x8000U);
  EXPECT_EQ(c.gdt_limit, 0x3FU);
  EXPECT_EQ(c.base_cost, Cycles(2));
  EXPECT_TRUE(c.a20_mask);
  EXPECT_FALSE(c.reload_same_selector_free);
  EXPECT_EQ(c.initial_selector(SegReg::kDS), Selector(0x2B));
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.mode", "prot"); }),
            "seg.mode: unknown mode 'prot' (expected real, protected, long, flat)");
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.cpl", "4"); }),
            "seg.cpl: value '4' out of range (max 3)");
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.cpl", "x"); }),
            "seg.cpl: expected an unsigned integer (decimal or 0x-hex), got 'x'");
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.stop_on_fault", "maybe"); }),
            "seg.stop_on_fault: expected true or false (also 1/0, yes/no, on/off; lower case), "
            "got 'maybe'");
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.bogus", "1"); }), "seg.bogus: unknown option");
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.gdt_base", "0x"); }).rfind("seg.gdt_base: ", 0),
            0U);
  EXPECT_EQ(error_of([&] { set_seg_option(c, "seg.gs", "-1"); }).rfind("seg.gs: ", 0), 0U);
}

TEST(SegConfig, SchemaCoversEveryKey) {
  std::set<std::string> keys;
  SegConfig c;
  for (const SegOption& o : seg_options()) {
    EXPECT_TRUE(keys.insert(std::string(o.key)).second) << o.key;
    EXPECT_EQ(o.key.rfind("seg.", 0), 0U);
    EXPECT_FALSE(o.description.empty());
    // Every key reads back, and its printed value parses again.
    const std::string v = seg_option_value(c, o.key);
    EXPECT_NO_THROW(set_seg_option(c, o.key, v)) << o.key << "=" << v;
    if (o.default_value != "mode default") {
      EXPECT_EQ(v, o.default_value) << o.key;
    }
  }
  EXPECT_EQ(keys.size(), kNumSegOptions);
  for (const char* k : {"seg.mode", "seg.a20_mask", "seg.cpl", "seg.gdt_base", "seg.gdt_limit",
                        "seg.ldt_base", "seg.ldt_limit", "seg.base_cost", "seg.load_cost",
                        "seg.stop_on_fault", "seg.reload_same_selector_free", "seg.cs", "seg.ds",
                        "seg.ss", "seg.es", "seg.fs", "seg.gs", "seg.fs_base", "seg.gs_base"}) {
    EXPECT_EQ(keys.count(k), 1U) << k;
  }
}

// ---- stats -----------------------------------------------------------------

struct Collect : StatVisitor {
  std::map<std::string, uint64_t> values;
  void counter(std::string_view name, std::string_view unit, std::string_view desc,
               uint64_t value) override {
    EXPECT_FALSE(unit.empty()) << name;
    EXPECT_FALSE(desc.empty()) << name;
    EXPECT_TRUE(values.emplace(std::string(name), value).second) << name;
  }
  void real(std::string_view, std::string_view, std::string_view, double) override {}
  void histogram(std::string_view, std::string_view, std::string_view, const Histogram&) override {}
};

TEST(SegStats, VisitNamesAndValues) {
  SegConfig c;
  c.mode = SegMode::kReal;
  c.selectors[seg_index(SegReg::kSS)] = Selector(0x100);
  SegmentationUnit u(c);
  u.translate(SegReg::kSS, VirtAddr(0x10), 2, AccessKind::kWrite);    // cost 1
  u.translate(SegReg::kSS, VirtAddr(0xFFFF), 2, AccessKind::kWrite);  // #SS
  u.translate(SegReg::kDS, VirtAddr(0x10000), 1, AccessKind::kRead);  // #GP
  u.begin_load(SegReg::kES, Selector(0x10));
  Collect col;
  u.visit(col);
  for (const auto& [name, value] : col.values) EXPECT_EQ(name.rfind("seg.", 0), 0U) << name;
  EXPECT_EQ(col.values.at("seg.translations"), 3U);
  EXPECT_EQ(col.values.at("seg.cycles"), 1U);
  EXPECT_EQ(col.values.at("seg.faults.gp"), 1U);
  EXPECT_EQ(col.values.at("seg.faults.ss"), 1U);
  EXPECT_EQ(col.values.at("seg.faults.np"), 0U);
  EXPECT_EQ(col.values.at("seg.faults.reg.ss"), 1U);
  EXPECT_EQ(col.values.at("seg.faults.reg.ds"), 1U);
  EXPECT_EQ(col.values.at("seg.faults.reason.limit"), 2U);
  EXPECT_EQ(col.values.at("seg.loads.es"), 1U);
  EXPECT_EQ(col.values.at("seg.desc_cache.hits"), 0U);
  EXPECT_EQ(col.values.at("seg.desc_cache.misses"), 0U);
  EXPECT_EQ(col.values.at("seg.accessed_bit_writes"), 0U);
  EXPECT_EQ(col.values.size(), 2U + 6U + 2U + 3U + 6U + 13U + 1U);
  u.reset_stats();
  EXPECT_EQ(u.stats().translations, 0U);
}

}  // namespace
}  // namespace mmusim
