#!/usr/bin/env bash
# Measures the actor runtime (test/actors/actor_bench.cpp, actor_bench_real.cpp) and prints
# each figure next to its baseline from the same run: a remote actor call against a
# generated service call, in simulation (between simulated processes; simulated time is
# free, so these are CPU costs of the code paths) and over real loopback TCP (rpc::Hosts on
# 127.0.0.1 in one process and one thread); a local actor call (a turn) against calling the
# method on the object; activation (first call to a new key) and state-write costs.
#
#   bash scripts/bench_actors.sh [--quick | --callgrind] [Google Benchmark arguments...]
#     --quick      one short run per benchmark (default: medians of 3 repetitions, the
#                  repetitions interleaved in random order so a burst of load elsewhere on
#                  the machine does not land on one variant)
#     --callgrind  user-space instructions per call instead (valgrind's callgrind: the same
#                  on a loaded machine): each call benchmark runs once with 64 and once with
#                  1088 calls (MOONPOOL_BENCH_CALLS); the difference over 1024 calls leaves
#                  out start-up. Over loopback the kernel's work is not counted, and the
#                  background pings and lease renewals (per wall second) weigh more under
#                  valgrind's slowdown than at full speed.
# MOONPOOL_BENCH_BIN=<path to actor_bench> runs an existing binary instead of building the
# release preset (a Debug binary's ratios hold roughly; its absolute figures do not).
#
# Wall-clock figures need a quiet machine; the "cpu" columns (the thread's CPU time per
# call: client and server share the thread) are the steadier cost on a loaded one.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
callgrind=0
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --callgrind) callgrind=1 ;;
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

if [[ $callgrind -eq 1 ]]; then
  # Without its debug info: valgrind 3.19 gives up on clang-19's ("corrupted debuginfo").
  stripped="$out.actor_bench"
  trap 'rm -f "$out" "$stripped"' EXIT
  strip -g -o "$stripped" "$bin"
  instructions() {  # <benchmark> <calls per iteration>
    MOONPOOL_BENCH_CALLS="$2" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$stripped" --benchmark_filter="^$1/" --benchmark_min_time=0 2>&1 >/dev/null |
      awk '/Collected :/ { print $NF }'
  }
  declare -A per
  for b in SimServiceCall SimActorRemoteCall SimActorLocalCall SimActorLocalExclusiveCall \
           RealServiceCall RealActorRemoteCall; do
    small=$(instructions "$b" 64)
    large=$(instructions "$b" 1088)
    [[ -n "$small" && -n "$large" ]] || { echo "  $b: no figure"; continue; }
    per[$b]=$(awk -v a="$small" -v b="$large" 'BEGIN { printf "%.0f", (b - a) / 1024 }')
  done
  echo "User-space instructions per call (callgrind, 1024 calls; ratio: baseline / variant):"
  show() {  # <label> <benchmark> [baseline]
    local v=${per[$2]:-}
    [[ -n "$v" ]] || return 0
    if [[ -n "${3:-}" && -n "${per[$3]:-}" ]]; then
      awk -v l="$1" -v v="$v" -v b="${per[$3]}" \
        'BEGIN { printf "  %-34s %9.1fk  %.2fx the service call\n", l, v / 1000, b / v }'
    else
      awk -v l="$1" -v v="$v" 'BEGIN { printf "  %-34s %9.1fk\n", l, v / 1000 }'
    fi
  }
  show "generated service call (sim)" SimServiceCall
  show "remote actor call (sim)" SimActorRemoteCall SimServiceCall
  show "local actor call (sim, a turn)" SimActorLocalCall SimServiceCall
  show "local exclusive call (sim)" SimActorLocalExclusiveCall SimServiceCall
  show "generated service call (loopback)" RealServiceCall
  show "remote actor call (loopback)" RealActorRemoteCall RealServiceCall
  exit 0
fi

if [[ $quick -eq 1 ]]; then
  reps=(--benchmark_min_time=0.2)
else
  reps=(--benchmark_min_time=0.5 --benchmark_repetitions=3
        --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true)
fi
"$bin" "${reps[@]}" --benchmark_format=console --benchmark_out_format=json \
  --benchmark_out="$out" "${args[@]}" 2>/dev/null

echo
echo "Actor calls per wall second and CPU per call, with ratios against the baseline of the"
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "same run (medians when repeated; load average after the run: $load):"
# Google Benchmark's JSON has one key per line; keep the median aggregate when there are
# repetitions, the plain run otherwise. cpu_time is per iteration of 64 calls.
awk '
  function keyOf(n,   k) {
    if (n ~ /_(mean|stddev|cv)$/) return ""
    k = n; sub(/\/iterations:[0-9]+/, "", k); sub(/\/real_time.*/, "", k); return k
  }
  function value(   v) { v = $2; sub(/,/, "", v); return v }
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); key = keyOf(line) }
  /"items_per_second":/ { if (key != "") ips[key] = value() }
  /"cpu_time":/ { if (key != "") cpu[key] = value() }
  /"real_time":/ { if (key != "") wall[key] = value() }
  function cpuPer(k) { return (k in ips && ips[k] > 0) ? cpu[k] / (wall[k] * ips[k] / 1e9) : 0 }
  function row(label, k, base,   r) {
    if (!(k in ips)) { printf "  %-36s (not run)\n", label; return }
    printf "  %-36s %11.0f /s  cpu %8.2f us", label, ips[k], cpuPer(k) / 1000
    if (base != "" && (base in ips)) {
      printf "  %.2fx (cpu %.2fx) the %s", ips[k] / ips[base], cpuPer(base) / cpuPer(k),
             baseName[base]
    }
    printf "\n"
  }
  END {
    baseName["SimServiceCall"] = "service call"; baseName["RealServiceCall"] = "service call"
    baseName["DirectCall"] = "direct call"
    print "  in simulation"
    row("generated service call", "SimServiceCall", "")
    row("remote actor call", "SimActorRemoteCall", "SimServiceCall")
    row("method on the object", "DirectCall", "")
    row("local actor call (a turn)", "SimActorLocalCall", "DirectCall")
    row("local exclusive call (takes the turn)", "SimActorLocalExclusiveCall", "")
    row("activation, local (factory+onActivate)", "Activation", "")
    row("activation, cluster (lookup+lease)", "SimClusterActivation", "")
    row("state write (tmp, sync, rename)", "StateWrite", "")
    print "  over loopback TCP (one process, one thread)"
    row("generated service call", "RealServiceCall", "")
    row("remote actor call", "RealActorRemoteCall", "RealServiceCall")
    row("activation, cluster (lookup+lease)", "RealActivation", "")
    row("state write (real disk, fsync)", "RealStateWrite", "")
  }' "$out"
