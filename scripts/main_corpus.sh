#!/usr/bin/env bash
# The main job's second half (scripts/main.sh): one realistic bug of the corpus
# (examples/bugs), plain seeds and exploration for the same wall time on the same cores,
# side by side, then the explored bug's recipe replayed in one process.
#
#   bash scripts/main_corpus.sh SIM SECONDS JOBS WORK_DIR
#
# The explored side is what --explore with a --time_budget does by default: a portfolio of
# plain seeds (first) and explored roots (runner.h, Portfolio). Rows as in
# scripts/bench_explore.sh: seeds run and how many of them were explored, bug seeds (failing
# seeds; an explored root counts when its own run or a forked timeline hit a bug), the
# runner's wall time to the first bug, bug seeds per wall second. Every figure comes from
# this run; the ratios say which side did better, whichever it is.
# Then the explored side's bug is replayed: the recipe of the first bug a forked timeline
# found or, when no timeline found one, the first failing seed's line (a plain seed's recipe
# is its seed). Exit 0 when it replays to the same failure; 1 when the explored side found
# no bug or the replay did not reproduce it; 2 on bad arguments.
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

# "<seeds> <bug seeds> <first bug s or -> <wall s> <roots>" of the JSON report $1: the totals
# over every seed, and the runner's own wall time to the run's first bug (first_bug_wall_s).
summary() {
  python3 - "$1" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
first = report.get("first_bug_wall_s")
t = report["totals"]
print(t["seeds"], t["failed"], "-" if first is None else "%.3f" % first, "%.1f" % t["wall_s"],
      t["explored_seeds"])
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
read -r p_seeds p_bugs p_first p_wall _ < <(summary "$work/plain.json")
read -r e_seeds e_bugs e_first e_wall e_roots < <(summary "$work/explore.json")
printf '  %-22s %14s %14s\n' "" "plain seeds" "exploration" \
  "seeds run" "$p_seeds" "$e_seeds" \
  "of them explored" "-" "$e_roots" \
  "bug seeds" "$p_bugs" "$e_bugs" \
  "first bug after (s)" "$p_first" "$e_first" \
  "bug seeds per s" "$(awk -v b="$p_bugs" -v w="$p_wall" 'BEGIN { printf "%.1f", b / w }')" \
  "$(awk -v b="$e_bugs" -v w="$e_wall" 'BEGIN { printf "%.1f", b / w }')"
echo "  exploration / plain seeds: first bug $(ratio "$p_first" "$e_first")x as soon" \
  "(above 1: sooner),"
echo "  bug seeds $(ratio "$e_bugs" "$p_bugs")x as many (issue 19's goal: 10x on rare bugs)"

# The first bug found by a forked timeline (its replay line and the failure its timeline
# ended with), else the first failing seed's (its reproduction line and reason).
read -r -d '' pick <<'EOF' || true
import json, sys
report = json.load(open(sys.argv[1]))
for s in report["seeds"]:
    e = s.get("exploration", {})
    if e.get("bug_found"):
        print("timeline")
        print(e["replay"])
        print(e["bug_message"].splitlines()[0])
        break
else:
    for s in report["failing_seeds"]:
        print("seed")
        print(s["reproduce"])
        print(s["message"].splitlines()[0])
        break
EOF
picked=$(python3 -c "$pick" "$work/explore.json")
kind=$(sed -n 1p <<<"$picked")
replay=$(sed -n 2p <<<"$picked")
failure=$(sed -n 3p <<<"$picked")
if [ -z "$replay" ]; then
  echo "main job: exploration found no $bug bug in $seconds s" >&2
  exit 1
fi
echo
if [ "$kind" = timeline ]; then
  echo "== replaying the $bug bug an explored timeline found, from its recipe, in one process:"
else
  echo "== no forked timeline found a $bug bug in $seconds s; replaying the explored run's first"
  echo "   failing seed (a plain seed: its recipe is its seed):"
fi
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
echo "main job: the explored run found $bug's planted bug and its recipe reproduces it:"
echo "  $failure"
