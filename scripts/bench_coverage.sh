#!/usr/bin/env bash
# Builds the release configuration and measures what SanitizerCoverage costs, each figure next
# to its uninstrumented baseline from the same run:
#   - hot loops (test/bench/coverage_bench): uninstrumented, trace-pc-guard,
#     inline-8bit-counters,pc-table; median of --benchmark_repetitions;
#   - the KV example (kv_bench vs kv_bench_cov_guard / kv_bench_cov_counters: kv_lib's sources
#     built with each mode), seeds per second, quiet and chaos; median of 3.
# CPU times: other load on the machine still skews them (seen: +-10% between runs on a shared
# 2-core VM); compare ratios from one run, and repeat when a ratio looks odd.
# Arguments go to coverage_bench (e.g. --benchmark_filter=Collatz).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release \
  --target coverage_bench kv_bench kv_bench_cov_guard kv_bench_cov_counters >/dev/null
bench=build/release/test/bench
loops=$(mktemp)
kv=$(mktemp)
trap 'rm -f "$loops" "$kv"' EXIT

# Google Benchmark's JSON has one key per line; pick the few we need per benchmark name.
pick='
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
  /"cpu_time":/ { v = $2; sub(/,/, "", v); ns[name] = v }
  /"items_per_second":/ { v = $2; sub(/,/, "", v); ips[name] = v }
'

"$bench/coverage_bench" --benchmark_min_time=0.3 --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=console \
  --benchmark_out_format=json --benchmark_out="$loops" "$@" 2>/dev/null
echo
echo "Hot loops, -O2, median of 5 (ratio: instrumented / uninstrumented CPU time):"
awk "$pick"'
  END {
    split("Collatz BytesPredictable BytesRandom", loops, " ")
    split("Collatz + switch (latency-bound)|byte classifier, predictable|byte classifier, random", what, "|")
    printf "  %-36s %10s %22s %22s\n", "loop", "base", "trace-pc-guard", "inline-8bit-counters"
    for (i = 1; i <= 3; ++i) {
      base = ns[loops[i] "/base_median"]; guard = ns[loops[i] "/guard_median"]
      counters = ns[loops[i] "/counters_median"]
      if (base == "") continue
      printf "  %-36s %8.2f ms %11.2f ms (%5.2fx) %11.2f ms (%5.2fx)\n", what[i], base / 1e6,
        guard / 1e6, guard / base, counters / 1e6, counters / base
    }
  }' "$loops"

echo
echo "KV example (kv_lib instrumented as a whole; seeds per CPU second, median of 3):"
for binary in kv_bench kv_bench_cov_guard kv_bench_cov_counters; do
  "$bench/$binary" --benchmark_min_time=1 --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null |
    sed "s/\"name\": \"/\"name\": \"$binary:/"
done >"$kv"
awk "$pick"'
  END {
    split("KvSeedQuiet KvSeedChaos", kinds, " ")
    for (i = 1; i <= 2; ++i) {
      base = ips["kv_bench:" kinds[i] "_median"]
      guard = ips["kv_bench_cov_guard:" kinds[i] "_median"]
      counters = ips["kv_bench_cov_counters:" kinds[i] "_median"]
      printf "  %-12s %7.1f seeds/s uninstrumented, %7.1f trace-pc-guard (%.2fx slower), %7.1f inline-8bit-counters (%.2fx slower)\n",
        kinds[i], base, guard, base / guard, counters, base / counters
    }
  }' "$kv"
