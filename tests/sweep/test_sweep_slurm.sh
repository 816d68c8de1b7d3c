#!/usr/bin/env bash
# scripts/sweep --backend slurm on a real single-node Slurm (slurmctld, slurmd
# and munged started here as root, stopped on exit): 8 points as array tasks
# of 3 points each and a merge job; the merged table equals the same sweep run
# by the local back end, number for number (wall-clock columns aside); a
# re-run submits nothing. Skips (exit 77) when Slurm cannot start here.
# Usage: test_sweep_slurm.sh MMUSIM SOURCE_DIR
set -uo pipefail
exe=$1 src=$2
work=$(mktemp -d)
# shellcheck source=tests/sweep/slurm_local.sh
source "$src/tests/sweep/slurm_local.sh"
trap 'slurm_local_stop; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
slurm_local_start "$work/slurm" || exit $?

trace="gen:uniform,footprint=16M,count=40000,seed=5"
sweep=("$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini"
       --param tlb.l1d.4K.entries=4,8,16,32 --param walker.max_walks=1,2)
"${sweep[@]}" --backend slurm --points-per-task 3 --time 5 --wait --out "$work/on slurm" \
  2> "$work/err" || fail "slurm sweep: $(cat "$work/err"; tail -n 5 "$work/slurm/log/slurmctld.log")"
grep -q 'submitted 8 point(s) as array job [0-9]* (3 task(s)), merge job [0-9]*' "$work/err" \
  || fail "submission message: $(cat "$work/err")"
[ -s "$work/on slurm/failed.txt" ] && fail "failed points: $(cat "$work/on slurm/failed.txt")"
ls "$work/on slurm/slurm/1/task-"{0,1,2}.out > /dev/null || fail "one output per array task expected"
"${sweep[@]}" --backend local --jobs 2 --out "$work/local" 2> "$work/lerr" \
  || fail "local sweep: $(cat "$work/lerr")"

# Every column but the two wall-clock ones, compared row by row.
strip() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i != "sim_seconds" && $i != "accesses_per_second") keep[i] = 1 }
           { out = ""; for (i = 1; i <= NF; i++) if (i in keep) out = out $i ","; print out }' "$1"
}
[ "$(wc -l < "$work/on slurm/sweep.csv")" -eq 9 ] || fail "expected a header and 8 rows"
diff <(strip "$work/local/sweep.csv") <(strip "$work/on slurm/sweep.csv") > "$work/diff" \
  || fail "slurm and local tables differ: $(cat "$work/diff")"
head -n 1 "$work/on slurm/sweep.csv" | grep -q '^tlb.l1d.4K.entries,walker.max_walks,accesses,' \
  || fail "header: $(head -n 1 "$work/on slurm/sweep.csv")"

# A re-run finds every point complete and submits nothing.
"${sweep[@]}" --backend slurm --wait --out "$work/on slurm" 2> "$work/err2" || fail "re-run: $(cat "$work/err2")"
grep -q '8 points, 0 to run on Slurm, 8 complete from an earlier run' "$work/err2" || fail "re-run: $(cat "$work/err2")"
grep -q 'submitted' "$work/err2" && fail "the re-run submitted jobs"
[ ! -e "$work/on slurm/slurm/2" ] || fail "the re-run made a submission"
echo "sweep on slurm: ok"
