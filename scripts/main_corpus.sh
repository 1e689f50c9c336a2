#!/usr/bin/env bash
# The main job's second half (scripts/main.sh): one realistic bug of the corpus
# (examples/bugs), plain seeds and exploration for the same wall time on the same cores,
# side by side, then the explored bug's recipe replayed in one process.
#
#   bash scripts/main_corpus.sh SIM SECONDS JOBS WORK_DIR
#
# Columns as in scripts/bench_explore.sh: seeds run (explored: roots), bug seeds (failing
# seeds; explored: roots whose own run or a forked timeline hit a bug), the wall time to the
# first bug (reconstructed from per-seed wall times), bug seeds per wall second. Every figure
# comes from this run; the ratios say which side did better, whichever it is.
# Exit 0 when the explored bug's recipe replays to the same failure; 1 when exploration
# found no bug or the replay did not reproduce it; 2 on bad arguments.
set -euo pipefail
if [ $# -ne 4 ] || ! [[ "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || ! [[ "$3" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: main_corpus.sh SIM SECONDS JOBS WORK_DIR" >&2
  exit 2
fi
sim=$1 seconds=$2 jobs=$3 work=$4
bug=$(basename "$sim" _sim)

# Runs one side; a bug (1) or a coverage gap (3) is a result, anything else a failure.
run_side() {  # name, flags...
  local name=$1
  shift
  set +e
  "$sim" "$@" --time_budget="$seconds" --jobs="$jobs" --json="$work/$name.json" \
    >"$work/$name.txt" 2>&1
  local rc=$?
  set -e
  if [ $rc -ne 0 ] && [ $rc -ne 1 ] && [ $rc -ne 3 ]; then
    tail -20 "$work/$name.txt" >&2
    echo "main job: $bug ($name) exited $rc" >&2
    exit 1
  fi
}

# "<seeds> <bug seeds> <first bug s or -> <wall s>" of the JSON report $1, whose plain seeds
# ran $2 at a time (explored roots: one after another).
summary() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
jobs = int(sys.argv[2])
seeds = sorted(report["seeds"], key=lambda s: s["index"])
def bug(s):
    return s["verdict"] == "fail" or s.get("exploration", {}).get("bug_found", False)
def to_bug(s):
    if s["verdict"] == "fail":
        return s["wall_s"]
    return s.get("exploration", {}).get("wall_s_to_bug", s["wall_s"])
first = next((i for i, s in enumerate(seeds) if bug(s)), None)
ttfb = "-" if first is None else "%.3f" % (
    sum(s["wall_s"] for s in seeds[:first]) / jobs + to_bug(seeds[first]))
# Bug seeds over every seed run (failing seeds past the kept ones were counted, not kept).
bugs = report["totals"]["failed"]
print(report["totals"]["seeds"], bugs, ttfb, "%.1f" % report["totals"]["wall_s"])
EOF
}

ratio() {  # $1 / $2 to two significant digits, or "-" when either is missing or zero
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "-" || b == "-" || a + 0 == 0 || b + 0 == 0) print "-"; else printf "%.2g", a / b }'
}

echo
echo "== a realistic bug, $bug (examples/bugs/README.md): plain seeds vs exploration,"
echo "   ${seconds} s of wall time on $jobs cores each"
run_side plain
run_side explore --explore
read -r p_seeds p_bugs p_first p_wall < <(summary "$work/plain.json" "$jobs")
read -r e_seeds e_bugs e_first e_wall < <(summary "$work/explore.json" 1)
printf '  %-22s %14s %14s\n' "" "plain seeds" "exploration" \
  "seeds run (roots)" "$p_seeds" "$e_seeds" \
  "bug seeds" "$p_bugs" "$e_bugs" \
  "first bug after (s)" "$p_first" "$e_first" \
  "bug seeds per s" "$(awk -v b="$p_bugs" -v w="$p_wall" 'BEGIN { printf "%.1f", b / w }')" \
  "$(awk -v b="$e_bugs" -v w="$e_wall" 'BEGIN { printf "%.1f", b / w }')"
echo "  exploration / plain seeds: first bug $(ratio "$p_first" "$e_first")x as soon" \
  "(above 1: sooner),"
echo "  bug seeds $(ratio "$e_bugs" "$p_bugs")x as many (issue 19's goal: 10x on rare bugs)"

# The first explored bug: its replay line, then the failure its timeline ended with.
read -r -d '' pick <<'EOF' || true
import json, sys
for s in json.load(open(sys.argv[1]))["seeds"]:
    e = s.get("exploration", {})
    if e.get("bug_found"):
        print(e["replay"])
        print(e["bug_message"].splitlines()[0])
        break
EOF
picked=$(python3 -c "$pick" "$work/explore.json")
replay=$(sed -n 1p <<<"$picked")
failure=$(sed -n 2p <<<"$picked")
if [ -z "$replay" ]; then
  echo "main job: exploration found no $bug bug in $seconds s" >&2
  exit 1
fi
echo
echo "== replaying the explored $bug bug's recipe in one process (no fork):"
echo "$replay"
set +e
replayed=$(sh -c "$replay" 2>&1)
status=$?
set -e
printf '%s\n' "$replayed" | sed -n '/^  iteration:/p; /^Failing seeds/,/reproduce:/p'
if [ "$status" -ne 1 ] || ! grep -qF ": $failure" <<<"$replayed"; then
  echo "main job: the $bug replay did not reproduce the bug (exit $status)" >&2
  exit 1
fi
echo
echo "main job: exploration found $bug's planted bug and its recipe reproduces it:"
echo "  $failure"
