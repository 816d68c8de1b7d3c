#!/usr/bin/env bash
# scripts/report: a self-contained report.html for one run (summary,
# configuration, walk-latency CDF, fault breakdown, memory over time), for a
# sweep (scripts/sweep --report) and for a miss-ratio curve; every plot is an
# embedded PNG. Then each report is rendered in headless Chromium with a
# small script added that writes into the page, once loaded, the number of
# images, whether each is a data: URI that loaded and its natural size, and
# the script errors seen. Skips (exit 77) after the static checks when
# Chromium is absent. Usage: test_report.sh MMUSIM MMUSIM_MRC SOURCE_DIR
set -uo pipefail
exe=$1 mrc=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# One run with OS events and a memory series.
"$exe" --trace "$src/traces/fork_cow_file.bin.zst" --stats.series_interval_us=200 \
  --out "$work/run" > /dev/null 2>&1 || fail "mmusim run"
"$src/scripts/report" "$work/run" 2> "$work/err" || fail "report: $(cat "$work/err")"
# The walk references plot needs per-level counters: drawn where the stats
# have them, a note otherwise.
run_plots=3
if grep -q '"top.cpu0.walker.refs\.' "$work/run/stats.json"; then
  run_plots=4
else
  grep -q 'not drawn: .*no per-level walk reference counters' "$work/run/report.html" \
    || fail "no note for the walk references plot"
fi
# A sweep with --report, and a miss-ratio curve.
"$src/scripts/sweep" --mmusim "$exe" --trace "gen:zipf,footprint=4M,count=20000,seed=2" \
  --param tlb.l2.entries=64,256,1024 --param tlb.l2.ways=4,16 --out "$work/sweep" --report \
  2> "$work/err" || fail "sweep --report: $(cat "$work/err")"
"$mrc" --trace "$src/traces/ls.bin.zst" --sizes 16:512:16 --out "$work/mrc" > /dev/null 2>&1 \
  || fail "mmusim-mrc"
"$src/scripts/report" "$work/mrc" -o "$work/mrc/mrc report.html" 2> "$work/err" \
  || fail "report of mrc: $(cat "$work/err")"

check_static() {  # FILE PLOTS
  local n
  n=$(grep -o '<img class="plot" [^>]*src="data:image/png;base64,' "$1" | wc -l)
  [ "$n" -eq "$2" ] || fail "$1: $n embedded plots, expected $2"
  ! grep -qE '(src|href)="(https?:|file:|//)' "$1" || fail "$1 refers to another file"
}
check_static "$work/run/report.html" "$run_plots"
check_static "$work/sweep/report.html" 4
check_static "$work/mrc/mrc report.html" 1
grep -q 'top.cpu0' "$work/run/report.html" && fail "the run report dumps raw stats names"
grep -q '<td class="k">l2_mpka</td>' "$work/run/report.html" || fail "the run report has no summary table"
grep -q 'tlb.l2.entries' "$work/sweep/report.html" || fail "the sweep report does not name its parameters"
if "$src/scripts/report" "$work" 2> "$work/err"; then fail "a directory without results was accepted"; fi
grep -q 'no results: expected sweep.csv' "$work/err" || fail "error: $(cat "$work/err")"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium not found (scripts/setup installs it); the static checks passed"
  exit 77
fi
render() {  # FILE PLOTS
  local page="$work/check.html"
  local probe='<script>var errs=[];window.addEventListener("error",function(e){errs.push(String(e.message||e.type))},true);
window.addEventListener("load",function(){var m=document.images,o=[];for(var i=0;i<m.length;i++){
o.push((m[i].src.indexOf("data:image/png;base64,")==0?"data":"other")+":"+m[i].complete+":"+m[i].naturalWidth+"x"+m[i].naturalHeight);}
var p=document.createElement("pre");p.id="probe";p.textContent="PROBE images="+m.length+" "+o.join(" ")+" errors="+errs.length+errs.join("|");
document.body.appendChild(p);});</script>'
  awk -v probe="$probe" '{ sub(/<head>/, "<head>" probe); print }' "$1" > "$page"
  timeout 60 "$browser" --headless --disable-gpu --no-sandbox --user-data-dir="$work/chromium" \
    --virtual-time-budget=5000 --dump-dom "file://$page" > "$work/dom" 2> "$work/chromium.err"
  local got want
  got=$(grep -o '<pre id="probe">PROBE [^<]*' "$work/dom" | sed 's/^<pre id="probe">//')
  [ -n "$got" ] || { echo "SKIP: chromium did not render the page: $(tail -n 3 "$work/chromium.err")"; exit 77; }
  want="PROBE images=$2"
  for _ in $(seq "$2"); do want+=" data:true:640x420"; done
  want+=" errors=0"
  [ "$got" = "$want" ] || fail "$1 in Chromium: $got (expected $want)"
}
render "$work/run/report.html" "$run_plots"
render "$work/sweep/report.html" 4
render "$work/mrc/mrc report.html" 1
echo "report: ok"
