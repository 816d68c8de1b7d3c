// The NAND SSD: term conversions, the idle QD1 read of os-model.md §3.2,
// striping over channels, die serialisation, channel sharing between dies,
// the mapping-table cache, the write buffer and the completion protocol.
#include <gtest/gtest.h>

#include "models/disk/nvme_nand.h"
#include "tests/disk/disk_test_util.h"

namespace mmusim {
namespace {

using disk_test::Collect;
using disk_test::drain;
using disk_test::req;
using disk_test::run_one;

// Defaults at 3 GHz (f = 3000 cycles per µs):
//   command  = 290 ns             ->    870 cycles
//   tR       = 75 µs              -> 225000
//   data_out = 30 ns + 4096 x 3 ns -> 90 + 36864 = 36954
//   one 4 KiB read alone = 870 + 225000 + 36954 = 262824 cycles = 87.608 µs
constexpr uint64_t kCmd = 870, kTr = 225'000, kOut = 36'954, kRead = 262'824;
constexpr uint64_t kIn = 36'864;       // data-in of 4096 B: 4096 x 3 ns x 3
constexpr uint64_t kProg = 2'250'000;  // tPROG 750 µs
constexpr uint64_t kBuf = 3'000;       // buffer_write 1000 ns
constexpr uint64_t kPage = 4096;

TEST(NvmeNand, TermsAndIdleFourKiBRead) {
  NvmeNand d(NvmeNandParams{}, 3000);
  EXPECT_EQ(d.command(), Cycles(kCmd));
  EXPECT_EQ(d.t_read(), Cycles(kTr));
  EXPECT_EQ(d.data_out(4096), Cycles(kOut));
  EXPECT_EQ(d.data_in(4096), Cycles(kIn));
  EXPECT_EQ(d.t_program(), Cycles(kProg));
  EXPECT_EQ(d.buffer_write(), Cycles(kBuf));
  EXPECT_EQ(kCmd + kTr + kOut, kRead);
  const DiskDone x = run_one(d, req(1, 1000, 77 * kPage, 4096));
  EXPECT_EQ(x.start, Cycle(1000));
  EXPECT_EQ(x.done, Cycle(1000 + kRead));  // 87.608 µs after arrival
  // A 512 B read moves 512 B: 90 + 512 x 9 = 4698 cycles of data-out.
  EXPECT_EQ(d.data_out(512), Cycles(4'698));
  EXPECT_EQ(run_one(d, req(2, 2'000'000, 3 * kPage + 1024, 512)).done,
            Cycle(2'000'000 + kCmd + kTr + 4'698));
}

TEST(NvmeNand, CwdpStriping) {
  NvmeNand d(NvmeNandParams{}, 3000);
  // 8 channels, then 4 chips, 2 dies, 2 planes: 128 planes.
  EXPECT_EQ(d.locate(7).channel, 7U);
  EXPECT_EQ(d.locate(8).channel, 0U);
  EXPECT_EQ(d.locate(8).chip, 1U);
  EXPECT_EQ(d.locate(32).chip, 0U);
  EXPECT_EQ(d.locate(32).die, 1U);
  EXPECT_EQ(d.locate(64).die, 0U);
  EXPECT_EQ(d.locate(64).plane, 1U);
  const FlashAddr a = d.locate(128 + 8 * 3 + 5);  // wraps: chip 3 of channel 5
  EXPECT_EQ(a.channel, 5U);
  EXPECT_EQ(a.chip, 3U);
  EXPECT_EQ(a.die, 0U);
  EXPECT_EQ(a.plane, 0U);
}

// 8 reads of consecutive LPNs at once: one per channel, all in parallel.
TEST(NvmeNand, EightChannelsFinishTogether) {
  NvmeNand d(NvmeNandParams{}, 3000);
  for (uint64_t i = 0; i < 8; ++i) d.submit(req(i + 1, 0, i * kPage, 4096));
  for (const DiskDone& x : drain(d)) EXPECT_EQ(x.done, Cycle(kRead)) << x.id;
  // Busy once over the span: utilisation 1; each arrival saw i + 1 requests.
  EXPECT_EQ(d.stats().busy_cycles(), kRead);
  EXPECT_DOUBLE_EQ(d.stats().utilisation(), 1.0);
  EXPECT_EQ(d.stats().queue_depth().sum(), 36U);  // 1 + 2 + ... + 8
  // One 32 KiB request over the same 8 LPNs: the same time.
  EXPECT_EQ(run_one(d, req(9, 1'000'000, 0, 8 * kPage)).done, Cycle(1'000'000 + kRead));
}

// 8 reads to one die (LPN stride 128: same channel, chip, die and plane):
// each waits for the previous data-out, 8 x 87.608 µs.
TEST(NvmeNand, SameDieSerialises) {
  NvmeNand d(NvmeNandParams{}, 3000);
  for (uint64_t i = 0; i < 8; ++i) d.submit(req(i + 1, 0, i * 128 * kPage, 4096));
  const std::vector<DiskDone> v = drain(d);
  ASSERT_EQ(v.size(), 8U);
  for (uint64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(v[i].id, i + 1);
    EXPECT_EQ(v[i].start, Cycle(i * kRead));
    EXPECT_EQ(v[i].done, Cycle((i + 1) * kRead));
  }
  EXPECT_EQ(v[7].done, Cycle(2'102'592));  // 700.864 µs
}

// Four chips of one channel: the commands go out back to back, the tRs
// overlap, the data-outs queue on the channel after the first tR:
//   chip i: command at i x 870; done = 870 + 225000 + (i + 1) x 36954;
//   the fourth: 870 + 225000 + 4 x 36954 = 373686.
TEST(NvmeNand, ChipsShareTheirChannel) {
  NvmeNand d(NvmeNandParams{}, 3000);
  // LPNs 0, 8, 16, 24: channel 0, chips 0-3.
  for (uint64_t i = 0; i < 4; ++i) d.submit(req(i + 1, 0, i * 8 * kPage, 4096));
  const std::vector<DiskDone> v = drain(d);
  ASSERT_EQ(v.size(), 4U);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(v[i].start, Cycle(i * kCmd));
    EXPECT_EQ(v[i].done, Cycle(kCmd + kTr + (i + 1) * kOut));
  }
  EXPECT_EQ(v[3].done, Cycle(373'686));
}

// A command uses the channel's gap before another die's reserved data-out.
TEST(NvmeNand, CommandsFillChannelGaps) {
  NvmeNand d(NvmeNandParams{}, 3000);
  d.submit(req(1, 0, 0, 4096));  // chip 0: data-out [225870, 262824)
  // chip 1 at 1000: command [1000, 1870), tR to 226870, data-out after chip 0's.
  d.submit(req(2, 1000, 8 * kPage, 4096));
  // chip 2 at 100000: tR ends at 325870, after both data-outs: not delayed.
  d.submit(req(3, 100'000, 16 * kPage, 4096));
  const std::vector<DiskDone> v = drain(d);
  ASSERT_EQ(v.size(), 3U);
  EXPECT_EQ(v[0].done, Cycle(kRead));
  EXPECT_EQ(v[1].start, Cycle(1000));
  EXPECT_EQ(v[1].done, Cycle(kRead + kOut));  // 299778
  EXPECT_EQ(v[2].start, Cycle(100'000));
  EXPECT_EQ(v[2].done, Cycle(100'000 + kRead));
}

// Mapping-table cache of 1 translation page (1024 LPNs each).
TEST(NvmeNand, CmtMissReadsTheTranslationPageFirst) {
  NvmeNandParams p;
  p.cmt_entries = 1;
  p.map_lookup_ns = 100;  // 300 cycles per lookup
  NvmeNand d(p, 3000);
  // LPN 5: translation page 0 on channel 0: 300 + 870 + 225000 +
  // (90 + 8192 x 9 = 73818) = 300 + 299688; then LPN 5's read on channel 5.
  const uint64_t trans = kCmd + kTr + 90 + 8192ULL * 9;
  ASSERT_EQ(trans, 299'688U);
  DiskDone x = run_one(d, req(1, 0, 5 * kPage, 4096));
  EXPECT_EQ(x.start, Cycle(300));
  EXPECT_EQ(x.done, Cycle(300 + trans + kRead));
  // LPN 6, same translation page: a hit, lookup only.
  x = run_one(d, req(2, 1'000'000, 6 * kPage, 4096));
  EXPECT_EQ(x.done, Cycle(1'000'000 + 300 + kRead));
  // LPN 1029 (page 1) evicts page 0; LPN 7 misses again.
  run_one(d, req(3, 2'000'000, 1029 * kPage, 4096));
  x = run_one(d, req(4, 3'000'000, 7 * kPage, 4096));
  EXPECT_EQ(x.done, Cycle(3'000'000 + 300 + trans + kRead));
  EXPECT_EQ(d.cmt_misses(), 3U);
  EXPECT_EQ(d.cmt_hits(), 1U);
  Collect v;
  d.visit(v);
  EXPECT_EQ(v.c["cmt_misses"], 3U);
  EXPECT_EQ(v.c["flash_reads"], 4U);
}

// A write is acknowledged after the buffer write; its program holds the die
// and a later read of that die waits behind it.
TEST(NvmeNand, WriteBackBufferAndProgramsDelayReads) {
  NvmeNand d(NvmeNandParams{}, 3000);
  DiskDone w = run_one(d, req(1, 0, 0, 4096, true));
  EXPECT_TRUE(w.write);
  EXPECT_EQ(w.start, Cycle(0));
  EXPECT_EQ(w.done, Cycle(kBuf));
  // Program: data-in [3000, 3000 + 870 + 36864), then tPROG.
  const uint64_t prog_end = kBuf + kCmd + kIn + kProg;
  ASSERT_EQ(prog_end, 2'290'734U);
  d.submit(req(2, 10'000, 0, 4096));          // same die: behind the program
  d.submit(req(3, 10'000, 1 * kPage, 4096));  // channel 1: not delayed
  const std::vector<DiskDone> v = drain(d);
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].id, 3U);
  EXPECT_EQ(v[0].done, Cycle(10'000 + kRead));
  EXPECT_EQ(v[1].id, 2U);
  EXPECT_EQ(v[1].start, Cycle(prog_end));
  EXPECT_EQ(v[1].done, Cycle(prog_end + kRead));
  EXPECT_EQ(d.programs(), 1U);
}

// A buffer of two pages: the third page of a 12 KiB write waits until the
// first programs end (both at 2290734), then is acknowledged 3000 later.
TEST(NvmeNand, WriteWaitsForBufferSpace) {
  NvmeNandParams p;
  p.write_buffer_bytes = 8192;
  NvmeNand d(p, 3000);
  const DiskDone w = run_one(d, req(1, 0, 0, 3 * kPage, true));
  EXPECT_EQ(w.start, Cycle(0));
  EXPECT_EQ(w.done, Cycle(2'290'734 + kBuf));
  EXPECT_EQ(d.buffer_waits(), 1U);
  // A fourth page at 100 enters after the third (in order): at 2290734 both
  // first pages' space returned, so it fits at once then.
  const DiskDone w2 = run_one(d, req(2, 100, 3 * kPage, 4096, true));
  EXPECT_EQ(w2.done, Cycle(2'290'734 + kBuf));
  EXPECT_EQ(d.programs(), 4U);
}

// Completions come out earliest first, ties by the lower id, and not before
// `upto`.
TEST(NvmeNand, CompletionProtocol) {
  NvmeNand d(NvmeNandParams{}, 3000);
  EXPECT_EQ(d.next_done(), kNeverCycle);
  d.submit(req(5, 0, 0, 4096));
  d.submit(req(3, 0, kPage, 4096));
  d.submit(req(1, 0, 128 * kPage, 4096));  // LPN 0's die: second
  EXPECT_EQ(d.next_done(), Cycle(kRead));
  DiskDone x;
  EXPECT_FALSE(d.take(Cycle(kRead - 1), x));
  ASSERT_TRUE(d.take(Cycle(kRead), x));
  EXPECT_EQ(x.id, 3U);
  ASSERT_TRUE(d.take(Cycle(kRead), x));
  EXPECT_EQ(x.id, 5U);
  EXPECT_FALSE(d.take(Cycle(kRead), x));
  EXPECT_EQ(d.next_done(), Cycle(2 * kRead));
  ASSERT_TRUE(d.take(kNeverCycle, x));
  EXPECT_EQ(x.id, 1U);
  EXPECT_EQ(d.next_done(), kNeverCycle);
}

}  // namespace
}  // namespace mmusim
