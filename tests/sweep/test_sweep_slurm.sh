#!/usr/bin/env bash
# scripts/sweep --backend slurm on a real single-node Slurm (slurmctld, slurmd
# and munged started here as root, stopped on exit): 10 points, 2 of which
# fail, as array tasks of 3 points each and a merge job. The merged table and
# the failure list equal those of the same sweep run by the local back end
# (wall-clock columns aside); the cluster options reach both jobs intact;
# --resubmit-failed submits only the failed points. Skips (exit 77) when
# Slurm cannot start here. Usage: test_sweep_slurm.sh MMUSIM SOURCE_DIR
set -uo pipefail
exe=$1 src=$2
work=$(mktemp -d)
# shellcheck source=tests/sweep/slurm_local.sh
source "$src/tests/sweep/slurm_local.sh"
trap 'slurm_local_stop; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
slurm_local_start "$work/slurm" || exit $?

# 12 entries in 2 ways is 6 sets: those two points fail.
trace="gen:uniform,footprint=16M,count=40000,seed=5"
# shellcheck disable=SC2054  # the commas are in --param values
sweep=("$src/scripts/sweep" --mmusim "$exe" --trace "$trace" --config "$src/configs/tiny.ini"
       --param tlb.l1d.4K.entries=4,8,12,16,32 --param walker.max_walks=1,2)
out="$work/on slurm"
if "${sweep[@]}" --backend slurm --points-per-task 3 --time 5 --wait --out "$out" \
     --partition test --sbatch-arg="--comment=mmusim sweep test" --progress always 2> "$work/err"; then
  fail "the slurm sweep must exit 1 (two points fail)"
fi
grep -q 'submitted 10 point(s) as array job [0-9]* (4 task(s)), merge job [0-9]*' "$work/err" \
  || fail "submission: $(cat "$work/err"; tail -n 5 "$work/slurm/log/slurmctld.log")"
grep -q '2 point(s) failed' "$work/err" || fail "the failures are not reported: $(cat "$work/err")"
grep -q '/10 done, [0-9]* failed, [0-9]* task(s) running' "$work/err" || fail "no progress: $(cat "$work/err")"
ls "$out/slurm/1/task-"{0,1,2,3}.out > /dev/null || fail "one output per array task expected"
# The cluster options reached both jobs intact (the comment has spaces).
for job in $(awk '{ print $2 }' "$out/slurm/1/jobs.txt"); do
  info=$(scontrol show job "$job" 2>&1)
  grep -q 'Comment=mmusim sweep test' <<< "$info" || fail "job $job: no comment: $info"
  grep -q 'Partition=test' <<< "$info" || fail "job $job: partition: $info"
done

if "${sweep[@]}" --backend local --jobs 2 --out "$work/local" 2> "$work/lerr"; then
  fail "the local sweep must exit 1"
fi
# Every column but the two wall-clock ones, compared row by row.
strip() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i != "sim_seconds" && $i != "accesses_per_second") keep[i] = 1 }
           { out = ""; for (i = 1; i <= NF; i++) if (i in keep) out = out $i ","; print out }' "$1"
}
[ "$(wc -l < "$out/sweep.csv")" -eq 9 ] || fail "expected a header and 8 rows: $(cat "$out/sweep.csv")"
diff <(strip "$work/local/sweep.csv") <(strip "$out/sweep.csv") > "$work/diff" \
  || fail "slurm and local tables differ: $(cat "$work/diff")"
head -n 1 "$out/sweep.csv" | grep -q '^tlb.l1d.4K.entries,walker.max_walks,accesses,' \
  || fail "header: $(head -n 1 "$out/sweep.csv")"
diff "$work/local/failed.txt" "$out/failed.txt" > "$work/diff" \
  || fail "slurm and local failures differ: $(cat "$work/diff")"
[ "$(cut -d: -f1 "$out/failed.txt" | tr '\n' ' ')" = \
  "0004 tlb.l1d.4K.entries=12 walker.max_walks=1 0005 tlb.l1d.4K.entries=12 walker.max_walks=2 " ] \
  || fail "failed.txt: $(cat "$out/failed.txt")"

# --resubmit-failed submits the two failed points alone (one task each).
if "${sweep[@]}" --backend slurm --resubmit-failed --wait --out "$out" 2> "$work/err2"; then
  fail "the resubmission must still fail"
fi
grep -q '10 points, 2 to run on Slurm' "$work/err2" || fail "resubmit: $(cat "$work/err2")"
grep -q 'submitted 2 point(s) as array job [0-9]* (2 task(s))' "$work/err2" \
  || fail "resubmit: $(cat "$work/err2")"
[ "$(cat "$out/slurm/2/tasks.json")" = "[[5], [4]]" ] || fail "resubmitted tasks: $(cat "$out/slurm/2/tasks.json")"
[ "$(wc -l < "$out/sweep.csv")" -eq 9 ] || fail "the merge after the resubmission lost rows"
echo "sweep on slurm: ok"
