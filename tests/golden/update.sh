#!/bin/sh
# Regenerates the golden regression results: for every trace in
# tests/golden/manifest.txt and every preset configs/*.ini, runs mmusim and
# writes its summary.csv without the wall-clock columns (sim_seconds,
# accesses_per_second) to tests/golden/expected/NAME__PRESET.csv.
#
#   tests/golden/update.sh [PATH/TO/mmusim]     (default: build/mmusim)
#
# The expected files are the model's reference results. ANY change to them
# must be explained in the commit message: which columns moved, for which
# traces and presets, and the model change that caused it (a bug fix, a new
# mechanism, a changed default). An unexplained golden diff is a regression.
# Review `git diff tests/golden/expected` before committing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
exe=${1:-$root/build/mmusim}
case $exe in /*) ;; *) exe=$(pwd)/$exe ;; esac
if [ ! -x "$exe" ]; then
  echo "update.sh: $exe is not an executable mmusim (pass its path)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/expected"

# Strips the wall-clock columns from a two-line summary.csv.
strip_wall_clock() {
  awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) skip[i] = ($i == "sim_seconds" || $i == "accesses_per_second") }
    { out = ""; sep = ""
      for (i = 1; i <= NF; i++) if (!skip[i]) { out = out sep $i; sep = "," }
      print out }' "$1"
}

grep -v '^[[:space:]]*#' "$here/manifest.txt" | grep -v '^[[:space:]]*$' |
while read -r name trace args; do
  for cfg in "$root"/configs/*.ini; do
    preset=$(basename "$cfg" .ini)
    out="$work/$name.$preset"
    # Word splitting of $args is intended (extra command-line options).
    # shellcheck disable=SC2086
    if ! (cd "$root" && "$exe" --config "$cfg" --trace "$trace" $args --out "$out" >/dev/null); then
      echo "update.sh: mmusim failed for $name x $preset" >&2
      exit 1
    fi
    strip_wall_clock "$out/summary.csv" > "$work/expected/${name}__${preset}.csv"
    echo "  ${name}__${preset}.csv"
  done
done
# All runs succeeded: replace the expected files at once (stale ones go).
mkdir -p "$here/expected"
rm -f "$here"/expected/*.csv
cp "$work"/expected/*.csv "$here/expected/"
echo "update.sh: expected results regenerated in $here/expected; explain any diff in the commit."
