#!/usr/bin/env bash
# The main job: builds the release configuration and runs the flagship simulation, which
# prints its report. Arguments go to the simulation (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target heartbeat_sim >/dev/null
exec build/release/examples/heartbeat/heartbeat_sim "$@"
