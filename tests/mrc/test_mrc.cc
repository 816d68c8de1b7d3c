// Every point of a one-pass curve equals a separate run of the model's
// TlbHierarchy with that geometry and LRU replacement (mrc_test_util.h), on
// real and synthetic traces, for the three geometries and both levels; the
// cyclic loop's cliff; the options' checks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/mrc/mrc.h"
#include "tests/mrc/mrc_test_util.h"

namespace mmusim {
namespace {

using mrctest::read_records;
using mrctest::run_reference;

std::vector<MrcPoint> run_mrc(const MrcConfig& c, const std::vector<TraceRecord>& recs,
                              uint64_t* records = nullptr) {
  MrcEngine e(c);
  for (const TraceRecord& r : recs) e.access(r.addr, r.size, r.kind);
  if (records != nullptr) *records = e.records();
  return e.curve();
}

// The TLB configuration of one point: the measured arrays get its geometry
// and LRU replacement, everything else stays as configured.
TlbConfig point_config(const MrcConfig& c, uint64_t entries, uint64_t ways) {
  TlbConfig t = c.tlb;
  auto set = [&](TlbArrayConfig& a) {
    a.entries = static_cast<uint32_t>(entries);
    a.ways = static_cast<uint32_t>(ways);
    a.replacement = ReplPolicy::kLru;
  };
  if (c.level == MrcLevel::kL2) {
    set(t.l2);
    set(t.l2_1g);
  } else {
    for (auto& a : t.l1d) set(a);
    for (auto& a : t.l1i) set(a);
  }
  return t;
}

// Checks every point of the curve against its own reference run; returns the
// number of points checked.
size_t expect_curve_exact(const MrcConfig& c, const std::vector<TraceRecord>& recs) {
  const std::vector<MrcPoint> curve = run_mrc(c, recs);
  EXPECT_FALSE(curve.empty());
  // Points of one geometry (several arrays) share one reference run.
  std::map<std::pair<uint64_t, uint64_t>, std::vector<const MrcPoint*>> by_geometry;
  for (const MrcPoint& p : curve) by_geometry[{p.entries, p.ways}].push_back(&p);
  for (const auto& [geo, points] : by_geometry) {
    const mrctest::RefRun ref =
        run_reference(point_config(c, geo.first, geo.second), c.regions, recs);
    uint64_t misses = 0;
    for (const MrcPoint* p : points) {
      std::string name = "tlb." + p->level + "." + p->page_size;
      if (p->level == "l2") {
        for (char& ch : name) ch = ch == '+' ? '_' : ch;
      }
      EXPECT_EQ(p->accesses - p->misses, ref.hits.at(name))
          << name << " entries " << p->entries << " ways " << p->ways;
      if (p->level != "l2") {
        const std::string slot = p->level + "." + p->page_size;
        const auto it = ref.lookups.find(slot);
        EXPECT_EQ(p->accesses, it == ref.lookups.end() ? 0 : it->second) << slot;
      }
      misses += p->misses;
    }
    if (c.level == MrcLevel::kL2) {
      EXPECT_EQ(misses, ref.l2_misses) << "tlb.l2.misses at " << geo.first << " entries";
    }
  }
  return curve.size();
}

std::string sample(const char* name) { return std::string(MMUSIM_SOURCE_DIR) + "/traces/" + name; }

MrcConfig config(MrcLevel level, uint32_t sets, uint32_t ways, const std::string& sizes) {
  MrcConfig c;
  c.level = level;
  c.sets = sets;
  c.ways = ways;
  c.sizes = parse_mrc_sizes(sizes);
  return c;
}

// ----------------------------------------------------------- the cliff --

TEST(MrcCliff, CyclicLoopFullyAssociative) {
  // A loop over k = 100 pages (stride 4 KiB, footprint 400 KiB), 10000
  // accesses = 100 passes, at level l1 (nothing in front): an LRU array of
  // fewer than 100 entries misses every access (each page was evicted 99
  // distinct pages ago); 100 or more miss only the first pass: 100.
  const auto recs = read_records("gen:seq,count=10000,footprint=400K,stride=4096", 10000);
  const auto curve = run_mrc(config(MrcLevel::kL1, 0, 0, "1:200:1"), recs);
  ASSERT_EQ(curve.size(), 200U);  // only l1d.4K received references
  for (const MrcPoint& p : curve) {
    EXPECT_EQ(p.accesses, 10000U);
    EXPECT_EQ(p.misses, p.entries < 100 ? 10000U : 100U) << p.entries;
  }
}

TEST(MrcCliff, CyclicLoopFixedWays) {
  // k = 128 consecutive pages over S sets: each set loops over 128 / S pages,
  // so W = 4 ways hit iff 128 / S <= 4, i.e. entries = 4 S >= 128.
  const auto recs = read_records("gen:seq,count=12800,footprint=512K,stride=4096", 12800);
  const auto curve = run_mrc(config(MrcLevel::kL1, 0, 4, "4,8,16,32,64,128,256,512"), recs);
  ASSERT_EQ(curve.size(), 8U);
  for (const MrcPoint& p : curve) {
    EXPECT_EQ(p.sets * 4, p.entries);
    EXPECT_EQ(p.misses, p.entries < 128 ? 12800U : 128U) << p.entries;
  }
}

TEST(MrcCliff, CyclicLoopBehindTheL1) {
  // The same loop of 100 pages at level l2: the Skylake L1 DTLB (64 entries,
  // 4 ways, 16 sets) holds 6 or 7 of the loop's pages per set, more than 4,
  // so it misses every access and the STLB sees all 10000: misses 10000
  // below 100 entries, 100 from 100 on.
  const auto recs = read_records("gen:seq,count=10000,footprint=400K,stride=4096", 10000);
  const auto curve = run_mrc(config(MrcLevel::kL2, 0, 0, "16:320:16"), recs);
  ASSERT_EQ(curve.size(), 20U);
  for (const MrcPoint& p : curve) {
    EXPECT_EQ(p.accesses, 10000U);
    EXPECT_EQ(p.misses, p.entries < 100 ? 10000U : 100U) << p.entries;
  }
}

// ------------------------------------------------ every point, exactly --

TEST(MrcExact, LsFullyAssociative200Points) {
  const std::string ls = sample("ls.bin.zst");
  if (access(ls.c_str(), R_OK) != 0) GTEST_SKIP() << "no sample trace " << ls;
  EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 0, 0, "8:1600:8"), read_records(ls, 300000)),
            200U);
}

TEST(MrcExact, LsFixedSetsAndFixedWays) {
  const std::string ls = sample("ls.bin.zst");
  if (access(ls.c_str(), R_OK) != 0) GTEST_SKIP() << "no sample trace " << ls;
  const auto recs = read_records(ls, 300000);
  EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 128, 0, "128:3072:128"), recs), 24U);
  EXPECT_EQ(
      expect_curve_exact(config(MrcLevel::kL2, 0, 12, "12,24,48,96,192,384,768,1536,3072"), recs),
      9U);
}

TEST(MrcExact, SampleTracesLevelL1) {
  // Level l1: each L1 array (DTLB and ITLB) swept, nothing in front.
  for (const char* name : {"ls.bin.zst", "gzip.bin.zst", "sort.bin.zst", "python.bin.zst"}) {
    const std::string path = sample(name);
    if (access(path.c_str(), R_OK) != 0) continue;
    SCOPED_TRACE(name);
    const auto recs = read_records(path, 100000);
    EXPECT_GE(expect_curve_exact(config(MrcLevel::kL1, 0, 0, "1:128:1"), recs), 256U);
    EXPECT_GE(expect_curve_exact(config(MrcLevel::kL1, 0, 4, "4,8,16,32,64,128"), recs), 12U);
  }
}

TEST(MrcExact, SampleTracesLevelL2) {
  for (const char* name : {"gzip.bin.zst", "sort.bin.zst", "python.bin.zst"}) {
    const std::string path = sample(name);
    if (access(path.c_str(), R_OK) != 0) continue;
    SCOPED_TRACE(name);
    const auto recs = read_records(path, 200000);
    EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 0, 0, "16:800:16"), recs), 50U);
    EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 16, 0, "16:512:16"), recs), 32U);
  }
}

TEST(MrcExact, SyntheticWithWritesDirtyAssists) {
  // Reads then writes of the same pages: writes that hit clean L1 entries
  // re-walk and refill the STLB (uncounted references of the curve).
  std::vector<TraceRecord> recs;
  for (const char* spec : {"uniform,count=20000,footprint=2M,seed=3",
                           "zipf,count=30000,footprint=8M,alpha=0.8,writes=0.4,seed=5",
                           "uniform,count=20000,footprint=4M,writes=0.5,seed=9"}) {
    const auto part = read_records(std::string("gen:") + spec, 1000000);
    recs.insert(recs.end(), part.begin(), part.end());
  }
  EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 0, 0, "16:1280:32"), recs), 40U);
  EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 64, 0, "64:2048:64"), recs), 32U);
  // Fixed 8 ways, sets 1..512: one stack group per set count.
  EXPECT_EQ(expect_curve_exact(config(MrcLevel::kL2, 0, 8, "8,16,32,64,128,256,512,1024,2048,4096"),
                               recs),
            10U);
}

TEST(MrcExact, HugePagesFetchesAndPageCrossing) {
  // 2M pages in one region, 1G pages in another (the STLB's 4K+2M array and
  // its 1G array), 4K pages elsewhere, fetches (ITLB) and 8-byte accesses
  // crossing 4 KiB boundaries (two translations each).
  MrcConfig c = config(MrcLevel::kL2, 0, 0, "4:256:8");
  c.regions = {{0x40000000, 0x60000000, PageSize::k2M}, {0x100000000, 0x200000000, PageSize::k1G}};
  std::vector<std::vector<TraceRecord>> parts;
  for (const char* spec :
       {"uniform,count=20000,footprint=256M,base=0x40000000,writes=0.2,seed=1",
        "uniform,count=5000,footprint=4G,base=0x100000000,seed=2",
        "seq,count=20000,footprint=1M,kind=X,base=0x400000",
        "seq,count=20000,footprint=2M,stride=4093,size=8,base=0x20000000,writes=0.3",
        "uniform,count=20000,footprint=1M,base=0x7f0000000000,writes=0.3,seed=4"}) {
    parts.push_back(read_records(std::string("gen:") + spec, 1000000));
  }
  std::vector<TraceRecord> recs;  // interleaved, one record of each in turn
  for (size_t i = 0; i < 20000; ++i) {
    for (const auto& p : parts) {
      if (i < p.size()) recs.push_back(p[i]);
    }
  }
  MrcEngine e(c);
  for (const TraceRecord& r : recs) e.access(r.addr, r.size, r.kind);
  EXPECT_GT(e.translations(), e.records());  // page-crossing accesses
  const auto curve = e.curve();
  EXPECT_EQ(curve.size(), 64U);  // 32 sizes x (4K+2M, 1G)
  EXPECT_EQ(curve.back().page_size, "1G");
  EXPECT_EQ(expect_curve_exact(c, recs), 64U);
  c.level = MrcLevel::kL1;
  c.sizes = parse_mrc_sizes("1:64:2");
  // 32 sizes x the arrays that saw references: l1d 4K, 2M, 1G and l1i 4K.
  EXPECT_EQ(expect_curve_exact(c, recs), 4U * 32U);
}

// ------------------------------------------------------------- options --

TEST(MrcOptions, SizesSyntax) {
  EXPECT_EQ(parse_mrc_sizes("16:64:16"), (std::vector<uint64_t>{16, 32, 48, 64}));
  EXPECT_EQ(parse_mrc_sizes("64,8,8,16"), (std::vector<uint64_t>{8, 16, 64}));
  EXPECT_EQ(parse_mrc_sizes("8:3200:16").size(), 200U);  // 8, 24, ..., 3192
  for (const char* bad : {"", "0:8:1", "8:4:1", "1:2", "1:2:3:4", "a,b", "16777217"}) {
    try {
      parse_mrc_sizes(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--sizes: ", 0), 0U) << e.what();
    }
  }
}

TEST(MrcOptions, GeometryChecks) {
  auto fails = [](const MrcConfig& c, const std::string& key) {
    try {
      MrcEngine e(c);
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(key, 0), 0U) << e.what();
    }
  };
  fails(config(MrcLevel::kL2, 12, 0, "12,24"), "--sets: ");
  fails(config(MrcLevel::kL2, 16, 0, "16,24"), "--sizes: 24 entries is not a multiple");
  fails(config(MrcLevel::kL2, 0, 12, "12,36"), "--sizes: 36 entries is not --ways 12");
  fails(config(MrcLevel::kL2, 4, 4, "16"), "--sets/--ways: ");
}

TEST(MrcCsv, HeaderAndRatios) {
  // 1 miss in 4 accesses over 2000 records: ratio 0.25, mpka 1 x 1000 / 2000 = 0.5.
  MrcPoint p{"l2", "4K+2M", 128, 12, 1536, 4, 1};
  std::ostringstream o;
  write_mrc_csv(o, {p}, 2000);
  EXPECT_EQ(o.str(),
            "level,page_size,sets,ways,entries,accesses,misses,miss_ratio,mpka\n"
            "l2,4K+2M,128,12,1536,4,1,0.250000,0.500000\n");
}

}  // namespace
}  // namespace mmusim
