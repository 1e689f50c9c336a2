#!/usr/bin/env bash
# The runner's memory against the number of seeds (issue 16: "constant memory"): peak RSS
# of counter_sim (test/runner: a counter service and a client workload, every seed passing)
# at 10,000 and at 1,000,000 seeds in one process, and their ratio, measured in the same
# run. The goal is a ratio of at most 1.2: the report keeps aggregates, the first
# RunReport::kSeedsSampleMax seeds and at most kFailingSeedsKeptMax failing ones.
#
# Usage: test/bench/runner_memory.sh [seeds_small seeds_large]   (PRESET=dev to use Debug)
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=${PRESET:-release}
small=${1:-10000}
large=${2:-1000000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -d "build/$preset" ] && ! cmake --preset "$preset" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
if ! cmake --build --preset "$preset" --target counter_sim >"$log" 2>&1; then
  cat "$log" >&2
  echo "runner_memory: building counter_sim failed (output above)" >&2
  exit 1
fi
sim="build/$preset/test/runner/counter_sim"

# Peak resident set in KiB (GNU time's %M), and the run's wall seconds.
measure() {
  /usr/bin/time -f '%M %e' -o "$log" "$sim" --seeds="$1" --ops=1 --noprogress >/dev/null
  cat "$log"
}

read -r rss_small wall_small < <(measure "$small")
read -r rss_large wall_large < <(measure "$large")
ratio=$(awk -v a="$rss_large" -v b="$rss_small" 'BEGIN { printf "%.3f", a / b }')
printf 'counter_sim (%s): %9d seeds  peak RSS %7d KiB  (%s s)\n' "$preset" "$small" \
  "$rss_small" "$wall_small"
printf 'counter_sim (%s): %9d seeds  peak RSS %7d KiB  (%s s)\n' "$preset" "$large" \
  "$rss_large" "$wall_large"
printf 'ratio %s (goal: at most 1.2)\n' "$ratio"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.2) }'
