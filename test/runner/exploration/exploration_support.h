// Helpers shared by the exploration tests (test/exploration): run a builder explored or
// plain in this process, find an assertion site in a report, list this process's zombies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/explorer/explorer.h"
#include "moonpool/runner/builder.h"
#include "moonpool/runner/report.h"
#include "moonpool/runner/runner.h"

namespace moonpool::exploration_testing {

// Runs `seeds` seeds from `firstSeed`, explored with `config` (or plain with nullopt).
// Coverage contracts are only reported: a planted-bug example's sometimes sites hold only in
// the timelines that reach the bug.
RunReport runSeeds(const SimulationBuilder& builder, std::uint64_t firstSeed,
                   std::uint64_t seeds, std::optional<explorer::Config> config,
                   std::uint32_t jobs = 1);

// Replays `recipe` (formatRecipe text) in this process.
RunReport replay(const SimulationBuilder& builder, const std::string& recipe);

// The report's site with this message, or null.
const SiteResult* findSite(const RunReport& report, std::string_view message);

// Pids of zombie processes (state Z in /proc/<pid>/stat) whose parent is this process.
std::vector<int> zombieChildren();
// True when this process has no child at all, live or zombie (waitpid says ECHILD).
bool noChildLeft();

}  // namespace moonpool::exploration_testing
