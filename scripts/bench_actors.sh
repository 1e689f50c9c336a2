#!/usr/bin/env bash
# Measures the actor runtime (test/actors/actor_bench.cpp) and prints each figure next to its
# baseline from the same run: a remote actor call against a generated service call between
# the same simulated processes, a local actor call (a turn) against calling the method on
# the object, plus activation and state-write costs. Everything runs in simulation (free
# simulated time): the figures are CPU costs of the code paths.
#
#   bash scripts/bench_actors.sh [--quick] [Google Benchmark arguments...]
# MOONPOOL_BENCH_BIN=<path to actor_bench> runs an existing binary instead of building the
# release preset (a Debug binary's ratios hold roughly; its absolute figures do not).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) args+=("$arg") ;;
  esac
done
if [[ -n "${MOONPOOL_BENCH_BIN:-}" ]]; then
  bin="$MOONPOOL_BENCH_BIN"
else
  bash scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release --target actor_bench >/dev/null
  bin=build/release/test/actors/actor_bench
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [[ $quick -eq 1 ]]; then
  reps=(--benchmark_min_time=0.2)
else
  reps=(--benchmark_min_time=0.5 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
fi
"$bin" "${reps[@]}" --benchmark_format=console --benchmark_out_format=json \
  --benchmark_out="$out" "${args[@]}" 2>/dev/null

echo
echo "Actor calls per wall second, with ratios against the baseline of the same run:"
awk '
  function keyOf(n,   k) {
    if (n ~ /_(mean|stddev|cv)$/) return ""
    k = n; sub(/\/real_time.*/, "", k); return k
  }
  function value(   v) { v = $2; sub(/,/, "", v); return v }
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); key = keyOf(line) }
  /"items_per_second":/ { if (key != "") ips[key] = value() }
  END {
    printf "  %-34s %12.0f /s\n", "generated service call (sim)", ips["SimServiceCall"]
    printf "  %-34s %12.0f /s  %.2fx the service call\n", "remote actor call (sim)",
           ips["SimActorRemoteCall"], ips["SimActorRemoteCall"] / ips["SimServiceCall"]
    printf "  %-34s %12.0f /s\n", "method on the object", ips["DirectCall"]
    printf "  %-34s %12.0f /s  %.3fx the direct call, %.1fx the service call\n",
           "local actor call (a turn)", ips["SimActorLocalCall"],
           ips["SimActorLocalCall"] / ips["DirectCall"],
           ips["SimActorLocalCall"] / ips["SimServiceCall"]
    printf "  %-34s %12.0f /s  (%.1f us each)\n", "activation (factory + onActivate)",
           ips["Activation"], 1e6 / ips["Activation"]
    printf "  %-34s %12.0f /s  (%.1f us each)\n", "state write (tmp, sync, rename)",
           ips["StateWrite"], 1e6 / ips["StateWrite"]
  }' "$out"
