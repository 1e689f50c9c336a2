#!/bin/sh
# Submits a moonpool run over N Slurm array tasks and its merge:
#   SIM=/path/to/my_sim SIM_ARGS="--seeds=1000000" scripts/deploy/slurm/submit.sh N [RESULTS]
# The merge waits for every shard (afterok: each shard succeeds once its report is written).
# Prints the two job ids; the verdict is the merge job's exit code and merged.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shards="${1:?usage: submit.sh N [RESULTS]}"
case "$shards" in
  '' | *[!0-9]*) echo "submit.sh: N must be a number, got '$shards'" >&2; exit 2 ;;
esac
if [ "$shards" -lt 1 ] || [ "$shards" -gt 4096 ]; then
  echo "submit.sh: N must be in [1, 4096], got $shards" >&2
  exit 2
fi
: "${SIM:?set SIM to the simulation binary}"
export SIM SHARDS="$shards" RESULTS="${2:-${RESULTS:-$PWD/moonpool-results}}"
export SIM_ARGS="${SIM_ARGS:---seeds=1000000 --jobs=2}"
mkdir -p "$RESULTS"
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" "$here/shard.sbatch")
array="${array%%;*}"  # --parsable prints "id" or "id;cluster"
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/merge.sbatch")
echo "shards: job $array (array 0-$((shards - 1))); merge: job ${merge%%;*}; results: $RESULTS"
