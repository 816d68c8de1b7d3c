#!/bin/sh
# Regenerates the golden regression results: for every trace in
# tests/golden/manifest.txt and every preset configs/*.ini, runs mmusim and
# writes
#   tests/golden/expected/NAME__PRESET.csv    its summary.csv without the
#                                             wall-clock columns
#   tests/golden/expected/NAME__PRESET.stats  every statistic of its stats.json
#                                             but the wall-clock ones, one
#                                             `NAME VALUE` line each
# It runs the golden test itself in update mode (MMUSIM_GOLDEN_UPDATE=DIR), so
# the files are written by the same code, and the same rules (column and
# statistic types), that compare them.
#
#   tests/golden/update.sh [BUILD_DIR | BUILD_DIR/mmusim]     (default: build)
#
# Build first: cmake --build BUILD_DIR --target test_golden (builds mmusim).
#
# The expected files are the model's reference results. ANY change to them
# must be explained in the commit message: which columns and statistics moved,
# for which traces and presets, and the model change that caused it (a bug
# fix, a new mechanism, a changed default). An unexplained golden diff is a
# regression. Review `git diff tests/golden/expected` before committing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ -f "$build" ] && build=$(dirname "$build")  # the mmusim executable: its build dir
if [ ! -d "$build" ]; then
  echo "update.sh: $build is not a build directory" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
test_exe=$build/tests/golden/test_golden
if [ ! -x "$test_exe" ] || [ ! -x "$build/mmusim" ]; then
  echo "update.sh: $test_exe or $build/mmusim missing" \
    "(cmake --build $build --target test_golden)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/expected"

if ! MMUSIM_GOLDEN_UPDATE="$work/expected" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 \
    "$test_exe" --gtest_filter='Traces/Golden.*' >"$work/log" 2>&1; then
  grep -E '^\[  FAILED  \]|Failure|error' "$work/log" | head -20 >&2
  echo "update.sh: a golden run failed (rerun $test_exe --gtest_filter='Traces/Golden.*' for the whole log)" >&2
  exit 1
fi
for f in "$work"/expected/*; do echo "  ${f##*/}"; done
# All runs succeeded: replace the expected files at once (stale ones go).
mkdir -p "$here/expected"
rm -f "$here"/expected/*.csv "$here"/expected/*.stats
cp "$work"/expected/*.csv "$work"/expected/*.stats "$here/expected/"
echo "update.sh: expected results regenerated in $here/expected; explain any diff in the commit."
