#!/usr/bin/env bash
# Builds the release configuration and measures moonpool-annotate on a header with 50
# services (five methods, three messages and an enum each; test/annotate/annotate_bench.cpp),
# each figure next to baselines from the same run: the tool on a one-service header of the
# same shape, the tool with --lock=off (the evolution guard's share), and plain
# `clang++-19 -fsyntax-only` (with the attribute plugin) on the same headers, which is what
# parsing alone costs. Wall-clock medians of --benchmark_repetitions, plus the child
# processes' CPU time (steadier on a loaded machine).
# MOONPOOL_BENCH_BUILD=<dir> builds there (Release) instead of the release preset's build dir.
# Arguments go to annotate_bench (e.g. --benchmark_repetitions=3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ -n "${MOONPOOL_BENCH_BUILD:-}" ]]; then
  build="$MOONPOOL_BENCH_BUILD"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_C_COMPILER=clang-19 >/dev/null
  cmake --build "$build" --target annotate_bench moonpool-annotate moonpool_attrs >/dev/null
else
  build=build/release
  cmake --preset release >/dev/null
  cmake --build --preset release --target annotate_bench moonpool-annotate moonpool_attrs >/dev/null
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$build/test/annotate/annotate_bench" --benchmark_repetitions=5 --benchmark_min_time=1.5 \
  --benchmark_report_aggregates_only=true --benchmark_format=console \
  --benchmark_out_format=json --benchmark_out="$out" "$@" 2>/dev/null
echo
echo "moonpool-annotate, median of the repetitions (wall ms; children's CPU ms):"
# Google Benchmark's JSON has one key per line; pick the few we need per benchmark name.
awk '
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); name = line }
  /"real_time":/ { v = $2; sub(/,/, "", v); ms[name] = v }
  /"child_cpu_ms":/ { v = $2; sub(/,/, "", v); cpu[name] = v }
  function row(label, key, base, baseLabel) {
    k = key "/real_time_median"; b = base "/real_time_median"
    if (ms[k] == "") return
    printf "  %-40s %6.0f ms wall %6.0f ms CPU", label, ms[k], cpu[k]
    if (base != "" && cpu[b] != "") printf "  (%.2fx %s)", cpu[k] / cpu[b], baseLabel
    printf "\n"
  }
  END {
    row("tool, 50 services (lock checked)", "ToolFiftyServices", "SyntaxOnlyFiftyServices",
        "-fsyntax-only")
    row("tool, 50 services, --lock=off", "ToolFiftyServicesLockOff", "ToolFiftyServices",
        "with the lock")
    row("tool, 1 service (lock checked)", "ToolOneService", "SyntaxOnlyOneService", "-fsyntax-only")
    row("clang++-19 -fsyntax-only, 50 services", "SyntaxOnlyFiftyServices", "", "")
    row("clang++-19 -fsyntax-only, 1 service", "SyntaxOnlyOneService", "", "")
    f = "ToolFiftyServices/real_time_median"; o = "ToolOneService/real_time_median"
    if (ms[f] != "" && ms[o] != "")
      printf "  per extra service: %.1f ms CPU ((50-service - 1-service) / 49)\n", (cpu[f] - cpu[o]) / 49
  }' "$out"
