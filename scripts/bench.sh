#!/usr/bin/env bash
# Builds the release configuration and runs the benchmarks, then prints each figure next to
# the baseline measured in the same run. Arguments go to Google Benchmark
# (e.g. --benchmark_filter=Await).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target core_bench assertions_bench world_bench heartbeat_sim >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/release/test/bench/core_bench --benchmark_min_time=0.5 --benchmark_format=console \
  --benchmark_out_format=json --benchmark_out="$out" "$@" 2>/dev/null
echo
echo "Figures (ratios against baselines from the same run):"
# Google Benchmark's JSON has one key per line; pick the few we need per benchmark name.
awk '
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
  /"cpu_time":/ { v = $2; sub(/,/, "", v); ns[name] = v }
  /"items_per_second":/ { v = $2; sub(/,/, "", v); ips[name] = v }
  /"sim_s_per_wall_s":/ { v = $2; sub(/,/, "", v); simw[name] = v }
  END {
    printf "  co_await ready child       %8.2f ns  (%.1fx a plain non-inlined call, %.2f ns)\n",
      ns["AwaitReadyChild"], ns["AwaitReadyChild"] / ns["CallFunction"], ns["CallFunction"]
    printf "  spawn + join               %8.2f ns  (%.1fx a co_await of a ready child)\n",
      ns["SpawnJoin"], ns["SpawnJoin"] / ns["AwaitReadyChild"]
    printf "  timer-heavy simulation     %8.2f M events/s  (a bare heap does %.2f M/s: %.2fx)\n",
      ips["TimerHeavySim"] / 1e6, ips["RawEventQueue"] / 1e6, ips["RawEventQueue"] / ips["TimerHeavySim"]
    printf "  main job (heartbeat seed)  %8.0f simulated s per wall s, %.2f M events/s\n",
      simw["HeartbeatSeed"], ips["HeartbeatSeed"] / 1e6
  }' "$out"
echo
echo "Assertions (hot path; baseline is the same loop without an assertion):"
build/release/test/assertions/assertions_bench --benchmark_min_time=0.3 2>/dev/null |
  grep -E "^[a-zA-Z]+ +[0-9]"
echo
echo "Simulated world (baselines in the same run: quiet network; buggify without a world):"
build/release/test/bench/world_bench --benchmark_min_time=0.3 --benchmark_format=json 2>/dev/null |
  awk '
    /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
    /"cpu_time":/ { v = $2; sub(/,/, "", v); ns[name] = v }
    /"bytes_per_second":/ { v = $2; sub(/,/, "", v); bps[name] = v }
    /"items_per_second":/ { v = $2; sub(/,/, "", v); ips[name] = v }
    END {
      printf "  stream, quiet network          %8.0f MB/s\n", bps["StreamQuiet"] / 1e6
      printf "  stream, fault hooks live       %8.0f MB/s  (%.2fx the quiet time)\n",
        bps["StreamFaultHooksLive"] / 1e6, bps["StreamQuiet"] / bps["StreamFaultHooksLive"]
      printf "  buggify(), no world            %8.2f ns\n", 1e9 / ips["BuggifyNoWorld"]
      printf "  buggify(), inactive site       %8.2f ns  (%.1fx no world)\n",
        1e9 / ips["BuggifyInactiveSite"], ips["BuggifyNoWorld"] / ips["BuggifyInactiveSite"]
      printf "  buggify(), active site         %8.2f ns\n", 1e9 / ips["BuggifyActiveSite"]
      printf "  process crash + reboot         %8.2f us\n", 1e6 / ips["RebootCycle"]
    }'
echo
echo "The explorer, SanitizerCoverage modes and the annotate tool have their own scripts:"
echo "  bash scripts/bench_explorer.sh   fork cost vs resident memory, time and timelines to the planted bugs"
echo "  bash scripts/bench_coverage.sh   trace-pc-guard vs inline-8bit-counters on hot loops and the KV example"
echo "  bash scripts/bench_annotate.sh   moonpool-annotate on 50 services vs clang -fsyntax-only"
echo "  bash scripts/bench_rpc.sh        Cap'n Proto echo over loopback: raw capnp vs moonpool RPC paths, simulated RPCs"
