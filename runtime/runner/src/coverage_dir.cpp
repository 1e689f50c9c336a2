// --coverage_dir (see coverage_dir.h).
#include "coverage_dir.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "moonpool/explorer/recording.h"

namespace moonpool::internal {

absl::Status startCoverageDir(const std::string& dir, const RunOptions& options) {
  if (options.exploration && options.exploration->edges == explorer::EdgeCoverage::kOff) {
    return absl::InvalidArgumentError(
        "--coverage_dir records the edge counters the explorer reads: drop --noedge_coverage");
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir)) {
    return absl::InvalidArgumentError("--coverage_dir: cannot create directory '" + dir + "'" +
                                      (error ? ": " + error.message() : ""));
  }
  std::string command = options.command;
  for (const std::string& flag : options.reproFlags) command += " " + flag;
  char why[512] = {};
  if (!explorer::startRecording(command.c_str(), why, sizeof why)) {
    return absl::FailedPreconditionError(std::string("--coverage_dir: ") + why);
  }
  return absl::OkStatus();
}

absl::Status finishCoverageDir(const std::string& dir) {
  char why[512] = {};
  const bool written = explorer::writeRecording(dir.c_str(), why, sizeof why);
  const explorer::RecordingStats stats = explorer::recordingStats();
  explorer::stopRecording();
  if (!written) return absl::UnavailableError(std::string("--coverage_dir: ") + why);
  std::fprintf(stderr,
               "coverage: %llu timelines recorded in %s (view: moonpool-cov %s, "
               "--html=OUT for a browser)\n",
               static_cast<unsigned long long>(stats.timelines), dir.c_str(), dir.c_str());
  return absl::OkStatus();
}

}  // namespace moonpool::internal
