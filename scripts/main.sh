#!/usr/bin/env bash
# The main job: builds the release configuration and shows what a new user should see first.
#   1. The maze (a planted bug four locks of five gates deep, out of reach of plain seeds):
#      exploration finds it, prints its report and coverage, and the recipe of the first bug
#      found replays in one process, without forking, to the same failure.
#   2. A realistic bug of the corpus (examples/bugs, $corpus_bug below): plain seeds and
#      exploration for the same short wall time on the same cores, side by side, with the
#      figures of this very run (no claims), then the explored bug's recipe replayed.
# Exit 0 when both replays reproduce their bug. About a minute once built.
#
# With arguments, runs maze_sim with them instead (try --help, --noexplore --seeds=1000,
# --jobs=2, --json=-).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The corpus bug shown: a common one (about one seed in nine fails), where --explore used to
# lose to plain seeds (issue 19); with a --time_budget --explore now runs a portfolio (plain
# seeds first, then explored roots in turn), so both sides find it within the first plain
# seeds, and the explored side's roots find it too (scripts/bench_explore.sh,
# examples/bugs/README.md). The run below measures again.
corpus_bug=torn_append
corpus_seconds=10
corpus_jobs=2

# Quiet when the build succeeds; its whole output, and what failed, when it does not.
log=$(mktemp)
report=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$report" "$work"' EXIT
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "main job: '$*' failed (its output is above)" >&2
    exit 1
  fi
}
quietly cmake --preset release
quietly cmake --build --preset release --target maze_sim moonpool-cov "${corpus_bug}_sim"
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
if [ "$status" -ne 1 ] || ! grep -q 'always "all 4 locks opened"' <<<"$replayed"; then
  echo "main job: the replay did not reproduce the bug (exit $status)" >&2
  exit 1
fi
echo
echo "main job: exploration found the maze's planted bug and its recipe reproduces it exactly."

bash scripts/main_corpus.sh "build/release/examples/bugs/${corpus_bug}_sim" "$corpus_seconds" \
  "$corpus_jobs" "$work"
