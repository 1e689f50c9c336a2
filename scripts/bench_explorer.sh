#!/usr/bin/env bash
# Builds the release configuration and measures the explorer: what a fork costs against the
# parent's resident memory (4 KB pages vs a transparent-huge-page arena, with and without the
# child writing 1 MB), then timelines per second and the wall time and timelines to the maze
# and dungeon bugs (sequential and 2 in parallel, edge coverage on and off). Every figure is
# printed next to a baseline measured in the same run.
#
#   bash scripts/bench_explorer.sh [--quick] [--runs=N]
#     --quick   shorter runs, for a smoke check
#     --runs=N  cold explorations per variant for the time-to-bug figures (default 10)
#
# Figures depend heavily on the machine (fork cost is mostly page-table work in the kernel,
# and much slower in a VM): compare ratios, not absolute numbers, across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
runs=10
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --runs=*) runs="${arg#--runs=}" ;;
    *) echo "bench_explorer.sh: unknown argument '$arg' (usage: [--quick] [--runs=N])" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fork_bench exploration_bench >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [[ $quick -eq 1 ]]; then
  reps=(--benchmark_min_time=0.1)
  runs=2
else
  reps=(--benchmark_min_time=0.3 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
fi

echo "fork + child _exit(0) + waitpid (medians; baseline: 1 MB resident, 4 KB pages, no write)"
build/release/test/bench/fork_bench "${reps[@]}" --benchmark_format=json >"$out" 2>/dev/null
# Google Benchmark's JSON has one key per line. Keep the median aggregate when there are
# repetitions, the plain run otherwise. Names: BM_ForkReap/<MB>/<0: 4K, 1: THP>/<write>.
awk '
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
  /"real_time":/ {
    v = $2; sub(/,/, "", v)
    key = name; sub(/^BM_ForkReap\//, "", key); sub(/\/real_time.*/, "", key)
    if (name ~ /_median$/ || !(key in us)) us[key] = v
    if (name ~ /_median$/) median[key] = 1
  }
  /"huge_MB":/ { v = $2; sub(/,/, "", v); if (name !~ /_(mean|stddev|cv)$/) huge[key] = v }
  END {
    base = us["1/0/0"]
    printf "  %-8s %12s %12s %9s %16s %16s\n", "resident", "4 KB pages", "THP arena", "4K/THP",
      "4K + child 1MB", "THP + child 1MB"
    n = split("1 10 100 500", mbs, " ")
    for (i = 1; i <= n; i++) {
      mb = mbs[i]
      printf "  %5d MB %9.0f us %9.0f us %8.1fx %13.0f us %13.0f us   (%.1fx, %.1fx, %.1fx base; THP backed %d MB)\n",
        mb, us[mb "/0/0"], us[mb "/1/0"], us[mb "/0/0"] / us[mb "/1/0"],
        us[mb "/0/1"], us[mb "/1/1"], us[mb "/0/0"] / base, us[mb "/1/0"] / base,
        us[mb "/0/1"] / base, huge[mb "/1/0"]
    }
    printf "  baseline (1 MB, 4 KB, no write): %.0f us per fork + exit + reap\n", base
  }' "$out"

echo
echo "Exploration (release; cold runs over seeds 1..$runs; ratios against the same run's"
echo "plain seeds per second and the sequential, edges-on row)"
quick_flag=()
if [[ $quick -eq 1 ]]; then quick_flag=(--quick); fi
build/release/test/bench/exploration_bench --runs="$runs" "${quick_flag[@]}" 2>/dev/null |
  sed -e 's/^RESULT /  /'
