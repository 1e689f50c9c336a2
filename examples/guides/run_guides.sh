#!/usr/bin/env bash
# Every command the README's guides show, run from the build directory of this project
# (test/package/package_guides_test.cpp runs it and checks the output). Stops at the first
# failing command.
set -euo pipefail
cd "$1"

# --- first simulation
./adder --seeds=50                  # 50 seeds, then the report
./adder --seed=3                    # exactly one seed again (what a failure's repro line says)
./adder --explore --seeds=2         # fork timelines at every discovery
./adder --replay=7                  # replay one explored timeline (a bare seed is a recipe)

# --- first service: the simulation, as a runner program and as a gtest
./tally_sim_main --seeds=10
./tally_test

# --- first service: two real processes on 127.0.0.1, and a plain Cap'n Proto client
rm -f port.txt
./tally_node serve port.txt 30 &    # a free port, written to port.txt; exits after 30 s
server=$!
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.1; done
./tally_node call "$(cat port.txt)" apples 5
./tally_node call "$(cat port.txt)" apples 7
./plain_client "$(cat port.txt)" apples
kill $server
