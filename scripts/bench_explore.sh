#!/usr/bin/env bash
# Plain seeds against exploration on the bug corpus (examples/bugs), at equal wall time and
# cores: per bug and per round, one run of plain seeds (--time_budget=S --jobs=J) and one
# explored run (--explore --time_budget=S --jobs=J: the runner's default schedule, a
# portfolio of plain seeds and explored roots, J at once), both from the same first seed;
# then a table of what each side found, with medians over the rounds.
#
#   bash scripts/bench_explore.sh [--seconds=S] [--jobs=J] [--runs=R] [--bugs=a,b,...]
#                                 [--preset=P] [--explore_flags='...'] [--no-build]
#     --seconds=S        wall seconds per run (default 60; shorter for a smoke check)
#     --jobs=J           cores per run (default 2)
#     --runs=R           rounds per bug (default 1); round r starts both sides at seed
#                        1 + r x 1,000,000, so rounds sample different seeds
#     --bugs=...         comma-separated subset of: double_grant stale_read torn_append
#                        duplicate_apply needle (default: all)
#     --preset=P         CMake preset whose binaries run (default release)
#     --explore_flags=F  more flags for the explored side only, e.g.
#                        '--explore_plain_first=0 --explore_plain_percent=0' (every seed
#                        explored, the schedule before the portfolio)
#     --no-build         use the binaries already built
#
# Columns per side: seeds run and bug seeds (failing seeds; explored: roots whose own run or
# forked timelines hit a bug, counted once with plain seeds), summed over the rounds; the
# explored side's roots; "found", the rounds that found a bug; the median wall time to the
# first bug (the runner's first_bug_wall_s; a round without a bug counts as longer than any,
# and a median that falls on one prints ">S"). Ratios: plain/explore for the median time to
# the first bug (above 1: exploration wins) and explore/plain for bug seeds. Every figure
# comes from the same invocation; under load compare the two halves of a row.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
jobs=2
runs=1
preset=release
build=1
explore_flags=""
bugs=(double_grant stale_read torn_append duplicate_apply needle)
usage="[--seconds=S] [--jobs=J] [--runs=R] [--bugs=a,b] [--preset=P] [--explore_flags=F]"
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    --jobs=*) jobs="${arg#--jobs=}" ;;
    --runs=*) runs="${arg#--runs=}" ;;
    --bugs=*) IFS=, read -r -a bugs <<<"${arg#--bugs=}" ;;
    --preset=*) preset="${arg#--preset=}" ;;
    --explore_flags=*) explore_flags="${arg#--explore_flags=}" ;;
    --no-build) build=0 ;;
    *)
      echo "bench_explore.sh: unknown argument '$arg' (usage: $usage [--no-build])" >&2
      exit 2
      ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ ]] || ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]] ||
  ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench_explore.sh: --seconds must be a positive number, --jobs and --runs positive" \
    "integers" >&2
  exit 2
fi
for bug in "${bugs[@]}"; do
  case "$bug" in
    double_grant | stale_read | torn_append | duplicate_apply | needle) ;;
    *) echo "bench_explore.sh: unknown bug '$bug'" >&2; exit 2 ;;
  esac
done
command -v jq >/dev/null || { echo "bench_explore.sh: needs jq" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench_explore.sh: needs python3" >&2; exit 2; }

if [[ $build -eq 1 ]]; then
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs" --target "${bugs[@]/%/_sim}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The only place that reads a report: prints "<seeds> <bug seeds> <first bug s or -> <roots>"
# for the runner's JSON report $1. Seeds and bug seeds are the report's totals, over every
# seed (a seed fails when it failed or, explored, when one of its timelines hit a bug); the
# time to the first bug is the runner's own measure (first_bug_wall_s: the run's wall time
# when its first failing seed came in, or, for a bug found by an explored root's timeline,
# the root's start plus the bug's time in it); roots are the seeds explored. Adapt here when
# the report's JSON changes.
read_report() {
  jq -r '
    (if .first_bug_wall_s == null then "-"
     else (.first_bug_wall_s * 1000 | round / 1000 | tostring) end) as $first
    | "\(.totals.seeds) \(.totals.failed) \($first) \(.totals.explored_seeds)"' "$1"
}

# Runs one side of one round: bug, side (plain|explore), round, flags...; appends
# "<bug> <side> <seeds> <bug seeds> <first bug s or -> <roots>" to $work/rows.
run_side() {
  local bug=$1 side=$2 round=$3
  shift 3
  local out="$work/$bug.$side.$round"
  set +e
  "$bin/${bug}_sim" "$@" --time_budget="$seconds" --jobs="$jobs" \
    --first_seed=$((1 + round * 1000000)) --json="$out.json" >"$out.txt" 2>&1
  local rc=$?
  set -e
  if [[ $rc -ne 0 && $rc -ne 1 && $rc -ne 3 ]]; then  # 1: a bug, 3: a coverage gap
    echo "bench_explore.sh: $bug ($side, round $round) exited $rc; its output:" >&2
    tail -20 "$out.txt" >&2
    exit 1
  fi
  echo "$bug $side $(read_report "$out.json")" >>"$work/rows"
}

bin="build/$preset/examples/bugs"
: >"$work/rows"
for bug in "${bugs[@]}"; do
  for ((round = 0; round < runs; ++round)); do
    run_side "$bug" plain "$round"
    # shellcheck disable=SC2086  # explore_flags is a list of flags
    run_side "$bug" explore "$round" --explore $explore_flags
  done
done

echo "Bug corpus: plain seeds vs exploration, ${seconds} s of wall time and $jobs cores each," \
  "$runs round(s) per bug"
shown_flags=${explore_flags:-"(the runner defaults)"}
echo "(preset $preset; explored side: --explore $shown_flags;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$work/rows" "$seconds" "${bugs[@]}" <<'EOF'
import statistics, sys
rows, seconds, bugs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
data = {}
for line in open(rows):
    bug, side, seeds, bug_seeds, first, roots = line.split()
    d = data.setdefault((bug, side), {"seeds": 0, "bugs": 0, "roots": 0, "firsts": []})
    d["seeds"] += int(seeds)
    d["bugs"] += int(bug_seeds)
    d["roots"] += int(roots)
    d["firsts"].append(float("inf") if first == "-" else float(first))
def median(firsts):
    m = statistics.median(firsts)
    return m, (">%g" % seconds if m == float("inf") else "%.3f" % m)
def ratio(a, b):
    if a == float("inf") or b == float("inf") or a == 0 or b == 0:
        return "-"
    return "%.2g" % (a / b)
print("%-16s | %9s %9s %5s %10s | %9s %6s %9s %5s %10s | %9s %9s" % (
    "bug", "seeds", "bug seeds", "found", "median 1st", "seeds", "roots", "bug seeds", "found",
    "median 1st", "1st: p/e", "bugs: e/p"))
for bug in bugs:
    p, e = data[(bug, "plain")], data[(bug, "explore")]
    pm, ps = median(p["firsts"])
    em, es = median(e["firsts"])
    found = lambda d: "%d/%d" % (sum(f != float("inf") for f in d["firsts"]), len(d["firsts"]))
    print("%-16s | %9d %9d %5s %10s | %9d %6d %9d %5s %10s | %9s %9s" % (
        bug, p["seeds"], p["bugs"], found(p), ps, e["seeds"], e["roots"], e["bugs"], found(e),
        es, ratio(pm, em), ratio(e["bugs"], p["bugs"]) if p["bugs"] else "-"))
EOF
