// How a run of an executor ended (runtime/ core layer); shared by both executors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "moonpool/time.h"

namespace moonpool {

enum class RunStatus : unsigned char { kCompleted, kFailed, kDeadlock, kLivelock };
std::string_view runStatusName(RunStatus status);

struct RunOutcome {
  RunStatus status = RunStatus::kCompleted;
  // Empty on success; otherwise what went wrong, including the seed.
  std::string message;
  std::uint64_t seed = 0;
  TimePoint endTime;
  std::uint64_t steps = 0;
  std::uint64_t timersFired = 0;
  std::uint64_t decisionHash = 0;

  bool ok() const { return status == RunStatus::kCompleted; }
};

}  // namespace moonpool
