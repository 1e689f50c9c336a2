#!/usr/bin/env bash
# Plain seeds against exploration on the bug corpus (examples/bugs), at equal wall time and
# cores: per bug, one run of plain seeds (--time_budget=S --jobs=J) and one explored run
# (--explore --time_budget=S --jobs=J: J timelines at once), then a table of what each found.
#
#   bash scripts/bench_explore.sh [--seconds=S] [--jobs=J] [--bugs=a,b,...] [--preset=P]
#                                 [--no-build]
#     --seconds=S  wall seconds per run (default 60; shorter for a smoke check)
#     --jobs=J     cores per run (default 2)
#     --bugs=...   comma-separated subset of: double_grant stale_read torn_append
#                  duplicate_apply needle (default: all)
#     --preset=P   CMake preset whose binaries run (default release)
#     --no-build   use the binaries already built
#
# Columns: seeds run (plain) or root seeds explored; bug seeds (plain: failing seeds;
# explored: roots whose own run or forked timelines hit a bug); the wall time to the first
# bug, reconstructed from per-seed wall times (seeds run in index order, J at a time for
# plain seeds); ratios plain/explore for the time to first bug (above 1: exploration wins)
# and explore/plain for bug seeds. Every figure comes from the same invocation.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
jobs=2
preset=release
build=1
bugs=(double_grant stale_read torn_append duplicate_apply needle)
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    --jobs=*) jobs="${arg#--jobs=}" ;;
    --bugs=*) IFS=, read -r -a bugs <<<"${arg#--bugs=}" ;;
    --preset=*) preset="${arg#--preset=}" ;;
    --no-build) build=0 ;;
    *)
      echo "bench_explore.sh: unknown argument '$arg' (usage: [--seconds=S] [--jobs=J]" \
        "[--bugs=a,b] [--preset=P] [--no-build])" >&2
      exit 2
      ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ ]] || ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench_explore.sh: --seconds must be a positive number and --jobs a positive integer" >&2
  exit 2
fi
for bug in "${bugs[@]}"; do
  case "$bug" in
    double_grant | stale_read | torn_append | duplicate_apply | needle) ;;
    *) echo "bench_explore.sh: unknown bug '$bug'" >&2; exit 2 ;;
  esac
done
command -v jq >/dev/null || { echo "bench_explore.sh: needs jq" >&2; exit 2; }

if [[ $build -eq 1 ]]; then
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs" --target "${bugs[@]/%/_sim}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The only place that reads a report: prints "<seeds> <bug seeds> <first bug s or ->" for
# the runner's JSON report $1, whose run used $2 jobs for plain seeds (1 when explored: the
# roots run one after another). Seeds and bug seeds are the report's totals, over every seed
# (a seed fails when it failed or, explored, when one of its timelines hit a bug); the report
# keeps only some seeds whole (the first 256, the first 1000 failing), so the time to the
# first bug sums the kept seeds before it and counts each seed it did not keep at the mean
# wall time of the kept passing seeds. Adapt here when the report's JSON changes.
read_report() {
  jq -r --argjson jobs "$2" '
    def bug: .verdict == "fail" or (.exploration.bug_found // false);
    def to_bug: if .verdict == "fail" then .wall_s
                else (.exploration.wall_s_to_bug // .wall_s) end;
    . as $r
    | (.seeds | sort_by(.index)) as $s
    | ([$s[] | select(bug | not) | .wall_s] | if length > 0 then add / length else 0 end)
      as $mean
    | ([range(0; $s | length) | select($s[.] | bug)] | first) as $first
    | (if $first == null then "-"
       else (($s[$first].index - $first) * $mean) as $unkept
       | ((([$s[0:$first][].wall_s] | add // 0) + $unkept) / $jobs + ($s[$first] | to_bug)
          | . * 1000 | round / 1000 | tostring) end) as $ttfb
    | "\($r.totals.seeds) \($r.totals.failed) \($ttfb)"' "$1"
}

ratio() {  # $1 / $2 to two significant digits, or "-" when either is missing or zero
  awk -v a="${1#\~}" -v b="${2#\~}" 'BEGIN {
    if (a == "-" || b == "-" || a + 0 == 0 || b + 0 == 0) print "-"; else printf "%.2g", a / b }'
}

bin="build/$preset/examples/bugs"
printf '%s\n' "Bug corpus: plain seeds vs exploration, ${seconds}s wall and $jobs cores each" \
  "(preset $preset; exploration with the runner's default energy)"
printf '%-16s | %9s %9s %10s | %9s %9s %10s | %10s %10s\n' bug "seeds" "bug seeds" \
  "1st bug s" "roots" "bug seeds" "1st bug s" "1st: p/e" "bugs: e/p"
for bug in "${bugs[@]}"; do
  set +e
  "$bin/${bug}_sim" --time_budget="$seconds" --jobs="$jobs" --json="$work/$bug.plain.json" \
    >"$work/$bug.plain.txt" 2>&1
  plain_rc=$?
  "$bin/${bug}_sim" --explore --time_budget="$seconds" --jobs="$jobs" \
    --json="$work/$bug.explore.json" >"$work/$bug.explore.txt" 2>&1
  explore_rc=$?
  set -e
  for rc in $plain_rc $explore_rc; do
    if [[ $rc -ne 0 && $rc -ne 1 && $rc -ne 3 ]]; then  # 1: a bug, 3: a coverage gap
      echo "bench_explore.sh: $bug exited $rc; its output:" >&2
      tail -20 "$work/$bug.plain.txt" "$work/$bug.explore.txt" >&2
      exit 1
    fi
  done
  read -r p_seeds p_bugs p_first < <(read_report "$work/$bug.plain.json" "$jobs")
  read -r e_seeds e_bugs e_first < <(read_report "$work/$bug.explore.json" 1)
  printf '%-16s | %9s %9s %10s | %9s %9s %10s | %10s %10s\n' "$bug" "$p_seeds" "$p_bugs" \
    "$p_first" "$e_seeds" "$e_bugs" "$e_first" "$(ratio "$p_first" "$e_first")" \
    "$(ratio "$e_bugs" "$p_bugs")"
done
