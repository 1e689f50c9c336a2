#!/usr/bin/env bash
# Builds the release configuration and measures two-party Cap'n Proto RPC (test/bench/
# rpc_bench.cpp): an echo over real loopback TCP through raw capnp (TwoPartyServer /
# TwoPartyClient, no moonpool: the baseline), moonpool's RpcServer / RpcClient (a Task server
# via toPromise, plain and checksummed framing; and a KJ-style server, the transport alone),
# the generated [[moonpool::service]] path when annotate/ is built, mutual TLS (raw capnp over
# kj-tls vs RpcServer/RpcClient with RpcOptions::tls), and the same echo between two processes
# of a SimWorld. Calls per wall second and p50/p99 latency, with 1 and 32 calls
# in flight, each next to the raw-capnp figure measured in the same run. Server and client
# share one thread and one KJ event loop in every real variant.
#
#   bash scripts/bench_rpc.sh [--quick | --callgrind] [Google Benchmark arguments...]
#     --quick   one short run per benchmark, for a smoke check (default: medians of 3
#               repetitions, the repetitions of all benchmarks interleaved in random order so
#               that a burst of load elsewhere on the machine does not land on one variant)
#     --callgrind  user-space instructions per call instead (valgrind's callgrind, noise-free
#               on a loaded machine): each variant runs once with 1 and once with 3
#               repetitions of one iteration; the difference over 2 runs' calls (2048 each:
#               the 1024-call warm-up and the 1024-call batch; 2048 simulated calls) leaves
#               out process start-up, though each run's connect and bootstrap (or simulated
#               world) stay in. MOONPOOL_BENCH_BINARY=<rpc_bench> measures another build.
# MOONPOOL_BENCH_BUILD=<dir> builds there (Release) instead of the release preset's build dir.
#
# Loopback figures depend on the kernel and on what else runs: compare ratios, not absolute
# numbers, across machines. On a loaded machine wall time mostly measures waiting for a core:
# the "cpu" ratio (raw capnp's CPU time per call over the variant's, user and kernel, one
# thread) is the steadier cost and is printed beside the wall-clock ratios.
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
bash scripts/setup.sh
if [[ -n "${MOONPOOL_BENCH_BUILD:-}" ]]; then
  build="$MOONPOOL_BENCH_BUILD"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_C_COMPILER=clang-19 >/dev/null
  cmake --build "$build" --target rpc_bench >/dev/null
else
  build=build/release
  cmake --preset release >/dev/null
  cmake --build --preset release --target rpc_bench >/dev/null
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [[ $callgrind -eq 1 ]]; then
  # Without its debug info: valgrind 3.19 gives up on clang-19's ("corrupted debuginfo").
  bin="$out.rpc_bench"
  trap 'rm -f "$out" "$bin"' EXIT
  strip -g -o "$bin" "${MOONPOOL_BENCH_BINARY:-$build/test/bench/rpc_bench}"
  # Instructions of one callgrind run of `variant/inflight:n` with `reps` repetitions.
  instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" \
      --benchmark_filter="^$1/inflight:$2/" --benchmark_min_time=0 \
      --benchmark_repetitions="$3" 2>&1 >/dev/null |
      awk '/Collected :/ { print $NF }'
  }
  echo "User-space instructions per echo call (callgrind; ${MOONPOOL_BENCH_BINARY:-$build});"
  echo "ratios against raw capnp (TLS: raw capnp over TLS) with the same calls in flight:"
  declare -A perCall
  for variant in RawCapnp MoonpoolKjPlain MoonpoolTaskPlain Generated RawCapnpTls MoonpoolTls \
      SimulatedEcho; do
    for n in 1 32; do
      one=$(instructions "$variant" "$n" 1)
      three=$(instructions "$variant" "$n" 3)
      [[ -n "$one" && -n "$three" ]] || { echo "  $variant/$n: no figure"; continue; }
      perCall[$variant/$n]=$(awk -v a="$one" -v b="$three" 'BEGIN { print (b - a) / (2 * 2048) }')
      base=RawCapnp/$n
      [[ $variant == *Tls ]] && base=RawCapnpTls/$n
      awk -v v="$variant" -v n="$n" -v x="${perCall[$variant/$n]}" -v r="${perCall[$base]:-0}" \
        'BEGIN { printf "  %-20s %2d in flight %9.1fk", v, n, x / 1000
                 if (r > 0 && v !~ /^Simulated/) printf "   (%.3fx)", x / r
                 printf "\n" }'
    done
  done
  exit 0
fi
if [[ $quick -eq 1 ]]; then
  reps=(--benchmark_min_time=0.1)
else
  reps=(--benchmark_min_time=0.5 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
        --benchmark_enable_random_interleaving=true)
fi
"$build/test/bench/rpc_bench" "${reps[@]}" --benchmark_format=console \
  --benchmark_out_format=json --benchmark_out="$out" "${args[@]}" 2>/dev/null

echo
echo "Echo over loopback TCP (calls per wall second; per-call wall latency; ratios against"
echo "raw capnp with the same calls in flight, measured in this run):"
# Google Benchmark's JSON has one key per line. Keep the median aggregate when there are
# repetitions, the plain run otherwise. Names: <Variant>/inflight:<n>/real_time[_median].
awk '
  function keyOf(n,   k) {
    if (n ~ /_(mean|stddev|cv)$/) return ""
    k = n; sub(/\/real_time.*/, "", k); sub(/\/inflight:/, " ", k)
    return k
  }
  function value(   v) { v = $2; sub(/,/, "", v); return v }
  /"name":/ { line = $0; sub(/.*"name": "/, "", line); sub(/".*/, "", line); key = keyOf(line) }
  /"items_per_second":/ { if (key != "") ips[key] = value() }
  /"cpu_time":/ { if (key != "") cpu[key] = value() }
  /"p50_us":/ { if (key != "") p50[key] = value() }
  /"p99_us":/ { if (key != "") p99[key] = value() }
  END {
    n = split("RawCapnp MoonpoolKjPlain MoonpoolTaskPlain MoonpoolTaskChecksummed Generated", vs, " ")
    label["RawCapnp"] = "raw capnp (baseline)"
    label["MoonpoolKjPlain"] = "moonpool transport, KJ server, plain"
    label["MoonpoolTaskPlain"] = "moonpool, Task server, plain"
    label["MoonpoolTaskChecksummed"] = "moonpool, Task server, checksummed"
    label["Generated"] = "generated service, plain"
    split("1 32", flights, " ")
    for (f = 1; f <= 2; f++) {
      base = "RawCapnp " flights[f]
      if (!(base in ips)) continue
      printf "  %s in flight\n", flights[f]
      for (i = 1; i <= n; i++) {
        k = vs[i] " " flights[f]
        if (!(k in ips)) continue
        printf "    %-38s %9.0f calls/s (%.2fx)   p50 %7.1f us (%.2fx)   p99 %7.1f us (%.2fx)   cpu %.2fx\n",
          label[vs[i]], ips[k], ips[k] / ips[base], p50[k], p50[k] / p50[base], p99[k], p99[k] / p99[base],
          cpu[base] / cpu[k]
      }
    }
    if (!("Generated 1" in ips)) print "  (generated service: not built; configure with MOONPOOL_WITH_ANNOTATE=ON)"
    print ""
    print "Mutual TLS (kj-tls, EC P-256 certificates from openssl), ratios against raw capnp over TLS:"
    for (f = 1; f <= 2; f++) {
      base = "RawCapnpTls " flights[f]; k = "MoonpoolTls " flights[f]
      if (!(base in ips) || !(k in ips)) continue
      printf "  %s in flight\n", flights[f]
      printf "    %-38s %9.0f calls/s (1.00x)   p50 %7.1f us (1.00x)   p99 %7.1f us (1.00x)\n",
        "raw capnp over TLS (baseline)", ips[base], p50[base], p99[base]
      printf "    %-38s %9.0f calls/s (%.2fx)   p50 %7.1f us (%.2fx)   p99 %7.1f us (%.2fx)   cpu %.2fx\n",
        "moonpool, Task server, TLS", ips[k], ips[k] / ips[base], p50[k], p50[k] / p50[base],
        p99[k], p99[k] / p99[base], cpu[base] / cpu[k]
    }
    print ""
    print "Simulated echo between two SimWorld processes (quiet network; calls per wall second):"
    for (f = 1; f <= 2; f++) {
      k = "SimulatedEcho " flights[f]; base = "RawCapnp " flights[f]
      if (!(k in ips)) continue
      printf "    %2s in flight %33s %9.0f calls/s (%.2fx raw capnp over TCP)\n", flights[f], "",
        ips[k], (base in ips) ? ips[k] / ips[base] : 0
    }
  }' "$out"
