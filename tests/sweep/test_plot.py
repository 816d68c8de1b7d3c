#!/usr/bin/python3
"""scripts/plot, every kind: the PNG it writes (signature and size) and the
series it drew (--dump-data), asserted exactly on inputs written here, plus
a real run of mmusim for the stats.json kinds. Usage:
test_plot.py SOURCE_DIR MMUSIM
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

SRC, MMUSIM = sys.argv[1], sys.argv[2]
PLOT = os.path.join(SRC, "scripts", "plot")
SUMMARY = ("accesses,translations,cycles,l1d_misses,l1i_misses,l2_misses,l1d_mpka,l2_mpka,"
           "walks,walk_mem_refs,walk_refs_per_walk,walk_cycles_p50,walk_cycles_p99,faults,"
           "seg_faults,skipped,translation_latency_mean,translation_latency_p50,"
           "translation_latency_p99,translation_stall_cycles,translation_stall_share,"
           "fault_stall_cycles,fault_stall_share,dram_accesses,dram_row_hits,"
           "dram_avg_latency,simulated_seconds,sim_seconds,accesses_per_second")


def summary_row(l1d_mpka, l2_mpka):
    cols = SUMMARY.split(",")
    vals = ["1000"] * len(cols)
    vals[cols.index("l1d_mpka")] = l1d_mpka
    vals[cols.index("l2_mpka")] = l2_mpka
    return ",".join(vals)


def histogram(name, count, mn, p50, p90, p99, mx):
    return {"name": name, "unit": "cycles", "description": "", "type": "histogram",
            "count": count, "sum": count * p50, "mean": float(p50), "min": mn, "p50": p50,
            "p90": p90, "p99": p99, "max": mx}


def counter(name, value, kind="counter"):
    return {"name": name, "unit": "", "description": "", "type": kind, "value": value}


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def write_stats(self, name, stats):
        return self.write(name, json.dumps({"stats": stats}))

    def plot(self, *args, ok=True):
        out = os.path.join(self.dir, "out.png")
        if os.path.exists(out):
            os.remove(out)
        r = subprocess.run([PLOT, *args, "--dump-data", "-o", out], capture_output=True,
                           text=True, check=False)
        if not ok:
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertFalse(os.path.exists(out), "a PNG was written after an error")
            return r.stderr
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", png[16:24]), (640, 420))  # IHDR width, height
        data = json.loads(r.stdout)
        return data, r.stderr

    def series(self, data):
        return [(s["label"], s["x"], s["y"]) for s in data["series"]]

    def test_line_groups_a_sweep_instead_of_a_zigzag(self):
        # Two parameters, rows out of x order: without --group, one line per
        # walker.max_walks, each sorted by x.
        csv = self.write("sweep.csv", "\n".join([
            "tlb.l1d.4K.entries,walker.max_walks," + SUMMARY,
            "64,1," + summary_row("3.5", "1"), "16,1," + summary_row("9.25", "1"),
            "64,2," + summary_row("3", "1"), "16,2," + summary_row("8", "1")]) + "\n")
        data, err = self.plot(csv, "--x", "tlb.l1d.4K.entries", "--y", "l1d_mpka")
        self.assertEqual(self.series(data), [
            ("walker.max_walks = 1", [16.0, 64.0], [9.25, 3.5]),
            ("walker.max_walks = 2", [16.0, 64.0], [8.0, 3.0])])
        self.assertIn("note: one line per walker.max_walks", err)
        # An explicit --group, several --y columns.
        data, _ = self.plot(csv, "--x", "tlb.l1d.4K.entries", "--y", "l1d_mpka,l2_mpka",
                            "--group", "walker.max_walks")
        self.assertEqual([s[0] for s in self.series(data)], [
            "l1d_mpka, walker.max_walks = 1", "l2_mpka, walker.max_walks = 1",
            "l1d_mpka, walker.max_walks = 2", "l2_mpka, walker.max_walks = 2"])

    def test_logx_leaves_out_zero_with_a_note(self):
        csv = self.write("s.csv", "x,y\n0,5\n4,2\n1,4\n2,3\n")
        data, err = self.plot(csv, "--x", "x", "--y", "y", "--logx")
        self.assertEqual(self.series(data), [("", [1.0, 2.0, 4.0], [4.0, 3.0, 2.0])])
        self.assertIn("--logx: left out 1 point(s) with x <= 0", err)
        csv0 = self.write("z.csv", "x,y\n0,5\n")
        self.assertIn("every point has x <= 0", self.plot(csv0, "--x", "x", "--y", "y", "--logx",
                                                          ok=False))

    def test_line_errors(self):
        csv = self.write("s.csv", "x,y\n1,2\n2,oops\n")
        self.assertIn("no column 'nope'", self.plot(csv, "--x", "nope", "--y", "y", ok=False))
        self.assertIn("s.csv:3: y: expected a number, got 'oops'",
                      self.plot(csv, "--x", "x", "--y", "y", ok=False))
        dup = self.write("d.csv", "x,y\n1,2\n1,3\n")
        self.assertIn("several rows have the same x", self.plot(dup, "--x", "x", "--y", "y",
                                                               ok=False))
        self.assertIn("takes one input", self.plot(csv, csv, "--x", "x", "--y", "y", ok=False))

    def test_mpka_from_a_sweep(self):
        csv = self.write("sweep.csv", "\n".join([
            "tlb.l2.entries,tlb.l2.ways,sim.seed," + SUMMARY,
            "512,4,1," + summary_row("1", "2.5"), "64,4,1," + summary_row("1", "10"),
            "512,16,1," + summary_row("1", "2"), "64,16,1," + summary_row("1", "9.5")]) + "\n")
        data, _ = self.plot("--kind", "mpka", csv, "--logx")
        self.assertEqual(data["title"], "l2_mpka vs tlb.l2.entries")
        self.assertEqual(self.series(data), [
            ("tlb.l2.ways = 4", [64.0, 512.0], [10.0, 2.5]),
            ("tlb.l2.ways = 16", [64.0, 512.0], [9.5, 2.0])])
        data, _ = self.plot("--kind", "mpka", csv, "--x", "tlb.l2.ways", "--y", "l1d_mpka")
        self.assertEqual([s[0] for s in self.series(data)],
                         ["tlb.l2.entries = 512", "tlb.l2.entries = 64"])
        two = self.write("two.csv", "tlb.l2.entries,tlb.l1d.4K.entries," + SUMMARY + "\n"
                         "64,16," + summary_row("1", "2") + "\n")
        self.assertIn("name the TLB-size parameter with --x",
                      self.plot("--kind", "mpka", two, ok=False))

    def test_mpka_from_an_mrc(self):
        csv = self.write("mrc.csv", "\n".join([
            "level,page_size,sets,ways,entries,accesses,misses,miss_ratio,mpka",
            "l2,4K+2M,1,16,16,100,60,0.6,6.0", "l2,4K+2M,1,32,32,100,40,0.4,4.0",
            "l2,1G,1,16,16,10,5,0.5,0.5", "l2,1G,1,32,32,10,5,0.5,0.5"]) + "\n")
        data, _ = self.plot("--kind", "mpka", csv)
        self.assertEqual(self.series(data), [
            ("level = l2, page_size = 4K+2M, sets = 1, ways = 16", [16.0], [6.0]),
            ("level = l2, page_size = 4K+2M, sets = 1, ways = 32", [32.0], [4.0]),
            ("level = l2, page_size = 1G, sets = 1, ways = 16", [16.0], [0.5]),
            ("level = l2, page_size = 1G, sets = 1, ways = 32", [32.0], [0.5])])

    def test_walk_cdf(self):
        a = self.write_stats("a.json", [
            histogram("top.cpu0.walker.latency", 10, 80, 100, 300, 900, 1000),
            histogram("top.cpu1.walker.latency", 4, 90, 120, 200, 250, 260),
            histogram("top.cpu0.walker.refs", 10, 1, 1, 4, 4, 4)])
        data, _ = self.plot("--kind", "walk-cdf", a)
        self.assertEqual(self.series(data), [
            ("cpu0", [80.0, 100.0, 300.0, 900.0, 1000.0], [0.0, 0.5, 0.9, 0.99, 1.0]),
            ("cpu1", [90.0, 120.0, 200.0, 250.0, 260.0], [0.0, 0.5, 0.9, 0.99, 1.0])])
        os.makedirs(os.path.join(self.dir, "run1"))
        b = self.write_stats("run1/stats.json",
                             [histogram("top.cpu0.walker.latency", 2, 5, 6, 7, 8, 9)])
        data, _ = self.plot("--kind", "walk-cdf", b, b)
        self.assertEqual([s[0] for s in self.series(data)], ["run1", "run1"])
        # A sweep's point is labelled by the parameters that vary.
        os.makedirs(os.path.join(self.dir, "sw", "runs", "0001"))
        self.write("sw/sweep.json", json.dumps({"keys": ["a", "b"],
                                                "points": [["1", "x"], ["2", "x"]]}))
        c = self.write_stats("sw/runs/0001/stats.json",
                             [histogram("top.cpu0.walker.latency", 2, 5, 6, 7, 8, 9)])
        data, _ = self.plot("--kind", "walk-cdf", c, b)
        self.assertEqual([s[0] for s in self.series(data)], ["a=2", "run1"])
        # With the buckets mmusim writes, the exact distribution as steps:
        # 1 walk of 20, 2 of 25, 1 in [4864, 5120) up to max 5000.
        h = histogram("top.cpu0.walker.latency", 4, 20, 25, 5000, 5000, 5000)
        h["buckets"] = [[20, 1], [25, 2], [4864, 1]]
        e = self.write_stats("e.json", [h])
        data, _ = self.plot("--kind", "walk-cdf", e)
        self.assertEqual(data["title"], "walk-latency CDF")
        self.assertEqual(self.series(data), [
            ("", [20.0, 20.0, 25.0, 25.0, 4864.0, 4864.0, 5000.0],
             [0.0, 0.25, 0.25, 0.75, 0.75, 1.0, 1.0])])
        h["buckets"] = [[20, 1], [25, 2]]
        short = self.write_stats("s.json", [h])
        self.assertIn("the buckets hold 3 walks, count says 4",
                      self.plot("--kind", "walk-cdf", short, ok=False))
        none = self.write_stats("n.json", [counter("sim.cycles", 5)])
        self.assertIn("no walk-latency histogram", self.plot("--kind", "walk-cdf", none, ok=False))
        bad = self.write("bad.json", "{\"stats\": [")
        self.assertIn("bad.json: not JSON", self.plot("--kind", "walk-cdf", bad, ok=False))

    def test_walk_refs(self):
        stats = self.write_stats("r.json", [
            counter("top.cpu0.walker.refs.PML4.l1d", 5), counter("top.cpu0.walker.refs.PML4.dram", 1),
            counter("top.cpu0.walker.refs.PT.dram", 7), counter("top.cpu1.walker.refs.PT.dram", 3),
            counter("top.cpu1.walker.refs.PT.l2", 2), counter("top.cpu0.walker.refs.PD.llc", 0),
            histogram("top.cpu0.walker.refs", 10, 1, 1, 4, 4, 4)])
        data, _ = self.plot("--kind", "walk-refs", stats)
        self.assertEqual(self.series(data), [
            ("l1d", ["PML4", "PT"], [5, 0]), ("l2", ["PML4", "PT"], [0, 2]),
            ("llc", ["PML4", "PT"], [0, 0]), ("dram", ["PML4", "PT"], [1, 10])])
        without = self.write_stats("w.json", [
            histogram("top.cpu0.walker.refs", 10, 1, 1, 4, 4, 4),
            counter("top.cpu0.walker.mem_refs", 15)])
        self.assertIn("the stats have no per-level walk reference counters",
                      self.plot("--kind", "walk-refs", without, ok=False))

    def test_fault_breakdown(self):
        stats = self.write_stats("f.json", [
            counter("top.kernel.fault_class.anon_zero.count", 3),
            counter("top.kernel.fault_class.anon_zero.mean.trap", 300.0, "real"),
            counter("top.kernel.fault_class.anon_zero.mean.alloc", 50.5, "real"),
            counter("top.kernel.fault_class.cow_copy.count", 2),
            counter("top.kernel.fault_class.cow_copy.mean.trap", 300.0, "real"),
            counter("top.kernel.fault_class.cow_copy.mean.zero_copy", 1200.0, "real"),
            counter("top.kernel.fault_class.segv.count", 0)])
        data, _ = self.plot("--kind", "fault-breakdown", stats)
        self.assertEqual(self.series(data), [
            ("trap", ["anon_zero", "cow_copy"], [300.0, 300.0]),
            ("alloc", ["anon_zero", "cow_copy"], [50.5, 0]),
            ("zero_copy", ["anon_zero", "cow_copy"], [0, 1200.0])])
        none = self.write_stats("n.json", [counter("top.kernel.fault_class.segv.count", 0)])
        self.assertIn("no fault classes", self.plot("--kind", "fault-breakdown", none, ok=False))

    def test_memory(self):
        csv = self.write("series.csv", "time_us,cycle,nr_free_pages,nr_active_anon,pgfault,"
                         "pgfault_per_ms\n1000,3000000,500,20,7,7\n1500.5,4501500,480,40,9,4\n")
        data, _ = self.plot("--kind", "memory", csv)
        self.assertEqual(self.series(data), [("nr_free_pages", [1000.0, 1500.5], [500.0, 480.0]),
                                             ("nr_active_anon", [1000.0, 1500.5], [20.0, 40.0])])
        data, _ = self.plot("--kind", "memory", csv, "--y", "pgfault_per_ms")
        self.assertEqual(self.series(data), [("", [1000.0, 1500.5], [7.0, 4.0])])

    def test_real_run(self):
        # The stats.json kinds on mmusim's own output: the fault breakdown of
        # the fork/COW/file trace equals its per-class means.
        out = os.path.join(self.dir, "run")
        r = subprocess.run([MMUSIM, "--trace", os.path.join(SRC, "traces", "fork_cow_file.bin.zst"),
                            "--out", out], capture_output=True, text=True, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(out, "stats.json")
        with open(path) as f:
            stats = {s["name"]: s for s in json.load(f)["stats"]}
        data, _ = self.plot("--kind", "fault-breakdown", path)
        cow = stats["top.kernel.fault_class.cow_copy.mean.zero_copy"]["value"]
        got = {s["label"]: dict(zip(s["x"], s["y"])) for s in data["series"]}
        self.assertEqual(got["zero_copy"]["cow_copy"], cow)
        self.assertIn("file_major", got["device"])
        h = stats["top.cpu0.walker.latency"]
        data, _ = self.plot("--kind", "walk-cdf", path)
        [(_, xs, ys)] = self.series(data)
        # The steps start at min with no walk, reach every walk by max, and
        # pass each percentile stats.json reports (the first bucket whose
        # cumulative share reaches p starts at that percentile).
        self.assertEqual((xs[0], ys[0]), (float(h["min"]), 0.0))
        self.assertEqual(ys[-1], 1.0)
        self.assertLessEqual(xs[-1], float(h["max"]))
        for k, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            first = min(x for x, y in zip(xs, ys) if y >= p)
            self.assertEqual(first, float(h[k]), k)
        # Per-level reference counters, where this mmusim keeps them: drawn,
        # summed over levels they equal the walks' memory references.
        if any(n.startswith("top.cpu0.walker.refs.") for n in stats):
            data, _ = self.plot("--kind", "walk-refs", path)
            self.assertEqual(sum(sum(s["y"]) for s in data["series"]),
                             stats["top.cpu0.walker.mem_refs"]["value"])
        else:
            self.assertIn("no per-level walk reference counters",
                          self.plot("--kind", "walk-refs", path, ok=False))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
