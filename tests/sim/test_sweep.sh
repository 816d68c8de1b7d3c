#!/usr/bin/env bash
# scripts/sweep: the cartesian product of the parameters, one row each with
# the parameter values first, rows identical to direct runs of mmusim, and a
# failing point leaving no sweep.csv. Usage: test_sweep.sh MMUSIM SOURCE_DIR
set -uo pipefail
exe=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
trace="gen:uniform,footprint=16M,count=50000,seed=3"

"$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini" \
  --param tlb.l1d.4K.entries=4,8 --param walker.max_walks=1,2,3 --out "$work/s" --jobs 2 \
  2> "$work/err" || fail "sweep exited non-zero: $(cat "$work/err")"
csv="$work/s/sweep.csv"
[ "$(wc -l < "$csv")" -eq 7 ] || fail "expected a header and 6 rows, got $(wc -l < "$csv") lines"
head -n 1 "$csv" | grep -q '^tlb.l1d.4K.entries,walker.max_walks,accesses,translations,cycles,' \
  || fail "header: $(head -n 1 "$csv")"
[ "$(cut -d, -f1,2 "$csv" | tail -n 6 | tr '\n' ' ')" = "4,1 4,2 4,3 8,1 8,2 8,3 " ] \
  || fail "parameter columns: $(cut -d, -f1,2 "$csv" | tr '\n' ' ')"
# Row 5 (entries 8, 2 walks) equals a direct run, wall-clock columns aside.
"$exe" --config "$src/configs/tiny.ini" --trace "$trace" --tlb.l1d.4K.entries=8 \
  --walker.max_walks=2 --out "$work/direct" > /dev/null || fail "direct run"
strip() { awk -F, -v skip="$1" '{ out=""; for (i = skip + 1; i <= NF - 2; i++) out = out $i ","; print out }'; }
want=$(sed -n 2p "$work/direct/summary.csv" | strip 0)
got=$(sed -n 6p "$csv" | strip 2)
[ "$want" = "$got" ] || fail "row 8,2 differs from a direct run: $got vs $want"

# scripts/plot turns the sweep into a PNG; an unknown column is an error.
"$src/scripts/plot" "$csv" --x tlb.l1d.4K.entries --y l1d_mpka --group walker.max_walks \
  -o "$work/p.png" 2> "$work/perr" || fail "plot: $(cat "$work/perr")"
[ "$(head -c 8 "$work/p.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
  || fail "plot did not write a PNG"
if "$src/scripts/plot" "$csv" --x nope --y l1d_mpka -o "$work/q.png" 2> "$work/perr2"; then
  fail "plot accepted an unknown column"
fi
grep -q "no column 'nope'" "$work/perr2" || fail "plot error: $(cat "$work/perr2")"
[ ! -e "$work/q.png" ] || fail "plot wrote a file after an error"

# A point with an impossible geometry stops the sweep: exit 1, no sweep.csv.
if "$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --param tlb.l1d.4K.entries=4,12 \
     --out "$work/bad" 2> "$work/err2"; then
  fail "a failing point must fail the sweep"
fi
[ ! -e "$work/bad/sweep.csv" ] || fail "sweep.csv written after a failure"
grep -q "must be a power of two" "$work/err2" || fail "the point's error is not shown: $(cat "$work/err2")"
echo "sweep: ok"
