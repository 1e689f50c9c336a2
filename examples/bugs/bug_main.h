// The main of every bug of the corpus (examples/bugs): the runner's runMain with one flag
// more, --variant=buggy|fixed, choosing the planted mistake or its fix.
//
//   int main(int argc, char** argv) {
//     return bugs::runBugMain(argc, argv, makeLockBuilder, BugDefaults{.seeds = 1000});
//   }
//
// Every runner flag applies (--seeds, --seed, --jobs, --explore, --replay, --json, ...). An
// unknown variant is a usage error (exit 2), as every bad runner flag is.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "moonpool/runner/builder.h"
#include "moonpool/task_function.h"

namespace moonpool::examples::bugs {

enum class Variant : std::uint8_t { kBuggy, kFixed };

// "buggy" or "fixed"; anything else is InvalidArgument naming the accepted values.
absl::StatusOr<Variant> parseVariant(std::string_view text);

struct BugDefaults {
  std::uint64_t seeds = 1000;  // seeds run when --seeds and --time_budget are not given
};

using BugBuilder = SimulationBuilder (*)(Variant variant);

int runBugMain(int argc, char** argv, BugBuilder makeBuilder, BugDefaults defaults);

}  // namespace moonpool::examples::bugs
