#!/usr/bin/env bash
# The whole test suite: installs what it needs, configures, builds and runs every ctest.
#   scripts/test.sh            the `dev` configuration (Debug)
#   scripts/test.sh asan       the Address+UndefinedBehavior sanitizer configuration
#   scripts/test.sh release    RelWithDebInfo
# Extra arguments after the preset go to ctest (e.g. `-L core`).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
shift || true
bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"
