#!/usr/bin/env bash
# What coverage recording and reporting cost (issue 17), on the release preset (-O2 -g):
#   - --coverage_dir's recording on KV seeds (kv_lib built with trace-pc-guard): CPU time per
#     seed, recorded / plain, in the same binary and the same run (kv_cov_record_bench),
#     median of 9 randomly interleaved repetitions, quiet and chaos seeds. Goal: 1.05x or less.
#   - moonpool-cov on that KV recording: wall time of the text summary and of the HTML
#     report (symbolization included). Goal: 2 s or less.
# CPU times on a shared machine drift by several percent between runs: compare the ratios of
# one run, and repeat when one looks odd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target kv_cov_record_bench moonpool-cov >/dev/null
bench=build/release/test/bench/kv_cov_record_bench
cov=build/release/instrument/cov/moonpool-cov
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Repetitions interleaved at random: drift of the machine's load hits both variants alike.
"$bench" --benchmark_min_time=0.5 --benchmark_repetitions=9 --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true --benchmark_format=json \
  --coverage_out="$work/kv" >"$work/bench.json" 2>/dev/null
echo "Recording (--coverage_dir) on KV seeds, kv_lib with trace-pc-guard, median CPU ms/seed:"
awk '
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
  /"cpu_time":/ { v = $2; sub(/,/, "", v); ms[name] = v }
  END {
    split("quiet chaos", label, " ")
    for (c = 0; c <= 1; ++c) {
      plain = ms["KvRecord/chaos:" c "/recorded:0_median"]
      recorded = ms["KvRecord/chaos:" c "/recorded:1_median"]
      if (plain == "" || recorded == "") continue
      printf "  %-6s plain %8.2f ms, recorded %8.2f ms: %.3fx\n", label[c + 1], plain, recorded,
        recorded / plain
    }
  }' "$work/bench.json"

seconds() { date +%s.%N; }
t0=$(seconds)
"$cov" "$work/kv" "$bench" >"$work/summary.txt" 2>/dev/null
t1=$(seconds)
"$cov" "$work/kv" "$bench" --html="$work/html" >/dev/null 2>&1
t2=$(seconds)
edges=$(sed -n 's/^total: \([0-9]*\/[0-9]*\) edges.*/\1/p' "$work/summary.txt")
files=$(find "$work/html/files" -name '*.html' | wc -l)
echo
echo "moonpool-cov on the KV recording ($edges edges covered/total, $files source pages):"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "  text summary %.2f s, HTML report %.2f s (goal: 2 s)\n", b - a, c - b }'
