#!/usr/bin/env bash
# The main job: builds the release configuration, explores the maze simulation (a planted
# bug four locks of five gates deep, out of reach of plain seeds), prints its report, then
# replays the recipe of the first bug found in one process, without forking, and shows that
# it reaches the same failure. Exit 0 when both hold.
#
# With arguments, runs maze_sim with them instead (try --help, --noexplore --seeds=1000,
# --jobs=2, --json=-).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Quiet when the build succeeds; its whole output, and what failed, when it does not.
log=$(mktemp)
report=$(mktemp)
trap 'rm -f "$log" "$report"' EXIT
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "main job: '$*' failed (its output is above)" >&2
    exit 1
  fi
}
quietly cmake --preset release
quietly cmake --build --preset release --target maze_sim moonpool-cov
sim=build/release/examples/maze/maze_sim
if [ $# -gt 0 ]; then exec "$sim" "$@"; fi

echo "== exploring the maze: $sim"
set +e
coverage=build/release/maze-coverage  # this run's coverage and its HTML report
rm -rf "$coverage"
"$sim" --coverage_dir="$coverage/data" 2>&1 | tee "$report"
set -e
index=$(build/release/instrument/cov/moonpool-cov "$coverage/data" --html="$coverage/html")
echo "coverage report: $index"
# A seed failing through an explored timeline prints its replay command as its reproduction.
replay=$(sed -n 's/^    reproduce: \(.*--replay=.*\)$/\1/p' "$report" | head -n 1)
if [ -z "$replay" ]; then
  echo "main job: the exploration found no bug" >&2
  exit 1
fi
echo
echo "== replaying the first bug's recipe in one process (no fork):"
echo "$replay"
set +e
replayed=$(sh -c "$replay" 2>&1)
status=$?
set -e
printf '%s\n' "$replayed" | sed -n '/^  iteration:/p; /^Failing seeds/,$p'
if [ "$status" -eq 1 ] && grep -q 'always "all 4 locks opened"' <<<"$replayed"; then
  echo
  echo "main job: exploration found the planted bug and its recipe reproduces it exactly."
  exit 0
fi
echo "main job: the replay did not reproduce the bug (exit $status)" >&2
exit 1
