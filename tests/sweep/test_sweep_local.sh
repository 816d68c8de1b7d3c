#!/usr/bin/env bash
# scripts/sweep --backend local: the cartesian product, one row each with the
# parameter values first and numbers identical to a direct mmusim run; points
# run largest first; arguments with spaces reach mmusim intact; a failing
# point leaves the others' rows, is listed with its error in failed.txt and
# makes the sweep exit 1; a re-run skips complete points and --resubmit-failed
# runs only the failed ones. Usage: test_sweep_local.sh MMUSIM SOURCE_DIR
set -uo pipefail
exe=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
trace="gen:uniform,footprint=16M,count=50000,seed=3"

# 1. Rows, columns, a row equal to a direct run, progress on stderr.
"$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini" \
  --param tlb.l1d.4K.entries=4,8 --param walker.max_walks=1,2,3 --out "$work/s" --jobs 2 \
  --progress always 2> "$work/err" || fail "sweep exited non-zero: $(cat "$work/err")"
csv="$work/s/sweep.csv"
[ "$(wc -l < "$csv")" -eq 7 ] || fail "expected a header and 6 rows, got $(wc -l < "$csv") lines"
[ "$(head -n 1 "$csv")" = "tlb.l1d.4K.entries,walker.max_walks,$(head -n 1 "$work/s/runs/0000/summary.csv")" ] \
  || fail "header: $(head -n 1 "$csv")"
[ "$(cut -d, -f1,2 "$csv" | tail -n 6 | tr '\n' ' ')" = "4,1 4,2 4,3 8,1 8,2 8,3 " ] \
  || fail "parameter columns: $(cut -d, -f1,2 "$csv" | tr '\n' ' ')"
grep -q '6/6 done, 0 failed, 0 running' "$work/err" || fail "progress: $(cat "$work/err")"
[ ! -s "$work/s/failed.txt" ] || fail "failed.txt not empty: $(cat "$work/s/failed.txt")"
# Row 5 (entries 8, 2 walks) equals a direct run, wall-clock columns aside.
"$exe" --config "$src/configs/tiny.ini" --trace "$trace" --tlb.l1d.4K.entries=8 \
  --walker.max_walks=2 --out "$work/direct" > /dev/null || fail "direct run"
# strip SKIP FILE LINE: that line without its first SKIP columns and the
# wall-clock ones (named in the header).
strip() {
  awk -F, -v skip="$1" -v line="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i != "sim_seconds" && $i != "accesses_per_second") keep[i] = 1 }
    NR == line { out = ""; for (i = skip + 1; i <= NF; i++) if (i in keep) out = out $i ","; print out }' "$2"
}
want=$(strip 0 "$work/direct/summary.csv" 2)
got=$(strip 2 "$csv" 6)
[ -n "$want" ] || fail "no row in the direct run's summary.csv"
[ "$want" = "$got" ] || fail "row 8,2 differs from a direct run: $got vs $want"
# Without --progress always, stderr is not a terminal here: no progress line.
"$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini" \
  --param tlb.l1d.4K.entries=4 --out "$work/quiet" 2> "$work/qerr" || fail "quiet sweep"
grep -q 'running' "$work/qerr" && fail "progress shown on a non-terminal: $(cat "$work/qerr")"

# 2. Spaces: the configuration, the trace, an extra option's value and the
# output directory; a wrapper records each point's arguments, one per line.
mkdir -p "$work/dir with space"
cp "$src/configs/tiny.ini" "$work/dir with space/my config.ini"
cp "$src/traces/examples/os_file_io.txt" "$work/dir with space/a trace.txt"
cat > "$work/dir with space/fake mmusim" <<SH
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done >> "$work/calls"
echo "MMUSIM_INPUT_THREAD=\${MMUSIM_INPUT_THREAD-unset}" >> "$work/env"
echo "--" >> "$work/calls"
exec "$exe" "\$@"
SH
chmod +x "$work/dir with space/fake mmusim"
"$src/scripts/sweep" --mmusim "$work/dir with space/fake mmusim" --jobs 1 \
  --trace "$work/dir with space/a trace.txt" --config "$work/dir with space/my config.ini" \
  --param tlb.l1d.4K.entries=4,16,8 --param sim.seed=1,2 --out "$work/out dir" \
  -- --fault-log "$work/dir with space/fault log.csv" 2> "$work/err" \
  || fail "sweep with spaces: $(cat "$work/err")"
[ "$(wc -l < "$work/out dir/sweep.csv")" -eq 7 ] || fail "spaces: expected 6 rows"
grep -qx -- "$work/dir with space/my config.ini" "$work/calls" || fail "config path not intact: $(head -n 20 "$work/calls")"
grep -qx -- "$work/dir with space/a trace.txt" "$work/calls" || fail "trace path not intact"
grep -qx -- "$work/dir with space/fault log.csv" "$work/calls" || fail "extra option not intact"
[ -s "$work/dir with space/fault log.csv" ] || fail "the extra option did not reach mmusim"
# Largest first (product of the values), ties in point order:
# 16x2=32, 16x1=16, 8x2=16, 4x2=8, 8x1=8, 4x1=4.
order=$(grep -x -- '--tlb.l1d.4K.entries=[0-9]*' "$work/calls" | cut -d= -f2 | tr '\n' ' ')
seeds=$(grep -x -- '--sim.seed=[0-9]*' "$work/calls" | cut -d= -f2 | tr '\n' ' ')
[ "$order/$seeds" = "16 16 8 4 8 4 /2 1 2 2 1 1 " ] || fail "run order: entries $order, seeds $seeds"
# ... and the table is still in point order.
[ "$(cut -d, -f1,2 "$work/out dir/sweep.csv" | tail -n 6 | tr '\n' ' ')" = "4,1 4,2 16,1 16,2 8,1 8,2 " ] \
  || fail "spaces: parameter columns"
# The input thread: when --jobs fills every core, each point runs with
# MMUSIM_INPUT_THREAD=off unless it is set already; with fewer jobs it is
# left alone (the sweep above ran one job).
cores=$(nproc)
if [ "$cores" -ge 2 ]; then
  [ "$(sort -u "$work/env")" = "MMUSIM_INPUT_THREAD=unset" ] || fail "one job: $(sort -u "$work/env")"
fi
for want in off on; do
  rm -f "$work/env"
  if [ "$want" = on ]; then set_env="MMUSIM_INPUT_THREAD=on"; else set_env="-u MMUSIM_INPUT_THREAD"; fi
  env $set_env "$src/scripts/sweep" --mmusim "$work/dir with space/fake mmusim" --jobs "$cores" \
    --trace "$trace" --param tlb.l1d.4K.entries=4,8 --out "$work/env-$want" 2> "$work/err" \
    || fail "sweep on every core: $(cat "$work/err")"
  [ "$(sort -u "$work/env")" = "MMUSIM_INPUT_THREAD=$want" ] \
    || fail "every core, expected $want: $(sort -u "$work/env")"
done

# Several traces: the first swept parameter, the column "trace" (quoted as
# CSV wants when the spec has commas).
"$src/scripts/sweep" --mmusim "$exe" --trace "$work/dir with space/a trace.txt" --trace "$trace" \
  --param tlb.l1d.4K.entries=4,8 --out "$work/traces" 2> "$work/err" || fail "two traces: $(cat "$work/err")"
got=$(/usr/bin/python3 -c 'import csv, sys
for r in csv.reader(open(sys.argv[1])): print("|".join(r[:3]))' "$work/traces/sweep.csv")
want="trace|tlb.l1d.4K.entries|accesses
$work/dir with space/a trace.txt|4|$(sed -n 2p "$work/out dir/runs/0000/summary.csv" | cut -d, -f1)
$work/dir with space/a trace.txt|8|$(sed -n 2p "$work/out dir/runs/0000/summary.csv" | cut -d, -f1)
$trace|4|50000
$trace|8|50000"
[ "$got" = "$want" ] || fail "two traces: $got"

# 3. One failing point (12 entries in 2 ways: 6 sets) among good ones.
# shellcheck disable=SC2054  # the commas are in --param values
bad=("$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini"
     --param tlb.l1d.4K.entries=4,12,8 --param walker.max_walks=2 --out "$work/bad" --jobs 2)
if "${bad[@]}" 2> "$work/err2"; then fail "a failing point must fail the sweep"; fi
[ "$(cut -d, -f1,2 "$work/bad/sweep.csv" | tr '\n' ' ')" = "tlb.l1d.4K.entries,walker.max_walks 4,2 8,2 " ] \
  || fail "the good points' rows: $(cat "$work/bad/sweep.csv")"
[ "$(cat "$work/bad/failed.txt")" = "0001 tlb.l1d.4K.entries=12 walker.max_walks=2: exit 2: mmusim: error: command line: tlb.l1d.4K.entries: sets (entries/ways = 12/2 = 6) must be a power of two" ] \
  || fail "failed.txt: $(cat "$work/bad/failed.txt")"
grep -q "1 point(s) failed" "$work/err2" || fail "the failure is not reported: $(cat "$work/err2")"
grep -q "must be a power of two" "$work/err2" || fail "the point's error is not shown: $(cat "$work/err2")"

# 4. A re-run skips the complete points; a damaged result runs again.
touch -d '2000-01-01' "$work/bad/runs/0000/stats.json"
echo '{"stats": [' > "$work/bad/runs/0002/stats.json"
if "${bad[@]}" 2> "$work/err3"; then fail "the re-run must still fail"; fi
grep -q '3 points, 2 to run 2 at a time, 1 complete from an earlier run' "$work/err3" \
  || fail "re-run: $(cat "$work/err3")"
[ "$(stat -c %Y "$work/bad/runs/0000/stats.json")" = "$(date -d '2000-01-01' +%s)" ] \
  || fail "the complete point ran again"
[ "$(wc -l < "$work/bad/sweep.csv")" -eq 3 ] || fail "re-run: rows"
# A result mmusim marked partial (interrupted run: "partial": true in
# stats.json) is not complete either.
/usr/bin/python3 - "$work/bad/runs/0002/stats.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["partial"] = True
json.dump(doc, open(sys.argv[1], "w"))
PY
if "${bad[@]}" 2> "$work/err3"; then fail "the re-run must still fail"; fi
grep -q '3 points, 2 to run 2 at a time, 1 complete from an earlier run' "$work/err3" \
  || fail "partial re-run: $(cat "$work/err3")"
grep -q '"partial": true' "$work/bad/runs/0002/stats.json" && fail "the partial point did not run again"
# --resubmit-failed: only point 0001.
rm "$work/bad/runs/0000/summary.csv"
if "${bad[@]}" --resubmit-failed 2> "$work/err4"; then fail "the resubmission must still fail"; fi
grep -q '3 points, 1 to run 2 at a time' "$work/err4" || fail "resubmit: $(cat "$work/err4")"
[ "$(wc -l < "$work/bad/failed.txt")" -eq 2 ] || fail "failed.txt after resubmit: $(cat "$work/bad/failed.txt")"
grep -q '^0000 tlb.l1d.4K.entries=4 walker.max_walks=2: its stats.json, summary.csv or config.ini is missing or unreadable$' \
  "$work/bad/failed.txt" || fail "the incomplete point 0000 is not listed: $(cat "$work/bad/failed.txt")"
# --resubmit-failed with other parameters is refused.
if "$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --param tlb.l1d.4K.entries=4 \
     --out "$work/bad" --resubmit-failed 2> "$work/err5"; then fail "resubmit with other arguments"; fi
grep -q 'the arguments differ' "$work/err5" || fail "resubmit error: $(cat "$work/err5")"

# 5. SIGTERM: no new point starts, the running one gets the signal, the merge
# lists every point, exit 130. The stand-in mmusim announces itself, then sleeps.
# (Up to 60 s for the first point to start: a loaded machine delays it.)
cat > "$work/slow" <<SH
#!/bin/sh
touch "$work/started"
exec sleep 60
SH
chmod +x "$work/slow"
"$src/scripts/sweep" --mmusim "$work/slow" --trace "$trace" --param a=1,2,3 --jobs 1 \
  --out "$work/term" 2> "$work/terr" &
pid=$!
for _ in $(seq 600); do [ -e "$work/started" ] && break; sleep 0.1; done
[ -e "$work/started" ] || fail "the first point did not start"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "SIGTERM: exit $rc, expected 130: $(cat "$work/terr")"
# (a=3 is the largest point, so the first to run.)
[ "$(cat "$work/term/failed.txt")" = "0000 a=1: no result (not run, or its run did not finish)
0001 a=2: no result (not run, or its run did not finish)
0002 a=3: killed by signal 15: no output" ] || fail "after SIGTERM: $(cat "$work/term/failed.txt")"
grep -q 'interrupted' "$work/terr" || fail "SIGTERM message: $(cat "$work/terr")"

# 6. Bad sweep arguments: one clear error, exit 2, nothing run.
check_usage() {
  local want=$1; shift
  "$src/scripts/sweep" --mmusim "$exe" "$@" --out "$work/u" 2> "$work/uerr"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$* exited $rc, expected 2"
  grep -q -- "$want" "$work/uerr" || fail "$*: expected '$want', got: $(cat "$work/uerr")"
}
check_usage "--param expects KEY=V1,V2" --trace "$trace" --param tlb.l2.entries
check_usage "value 2 of '4,,8' is empty" --trace "$trace" --param tlb.l2.entries=4,,8
check_usage "--trace /nope: no such file" --trace /nope --param a=1
check_usage "--config /nope.ini: no such file" --trace "$trace" --config /nope.ini --param a=1
check_usage "--jobs expects a positive number" --trace "$trace" --param a=1 --jobs 0
check_usage "--partition is an option of --backend slurm" --trace "$trace" --param a=1 --partition x
[ ! -e "$work/u/runs/0000" ] || fail "a point ran after a usage error"
echo "sweep local: ok"
