// --coverage_dir: the runner's side of coverage recording (runtime/ runner layer, private).
//
// The recording itself is the explorer's (moonpool/explorer/recording.h): shared regions
// every seed, worker and forked timeline merges into. This file checks the flag, starts the
// recording before anything forks, and writes the directory once the run is over: per
// instrumented object a `<object>.<pid>.sancov` (LLVM's format) and a
// `<object>.<pid>.moonpool-cov` (hit counts, first seeds and recipes) for moonpool-cov.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "moonpool/runner/runner.h"

namespace moonpool::internal {

// Creates `dir` (and its parents) and starts recording; the reproduction lines moonpool-cov
// prints start with options.command and options.reproFlags. Fails on an uninstrumented
// binary, an unusable directory, or exploration without edge counters.
absl::Status startCoverageDir(const std::string& dir, const RunOptions& options);

// Writes the recording into `dir`, stops recording, and says where on stderr.
absl::Status finishCoverageDir(const std::string& dir);

}  // namespace moonpool::internal
