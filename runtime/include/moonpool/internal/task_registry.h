// The executor-side list of live spawned tasks (internal): ids, deadlock reports, and
// records whose destruction waits for the end of the current step.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/spawn.h"

namespace moonpool::internal {

class TaskRegistry {
 public:
  static constexpr std::size_t kDescribeLinesMax = 32;

  std::uint64_t allocateId() { return ++lastId_; }
  void add(TaskRecord& task);
  void remove(TaskRecord& task);
  std::size_t size() const { return live_.size(); }

  void destroyAfterStep(std::unique_ptr<TaskRecord> task);
  // Destroys the records parked by destroyAfterStep; `executor` is told they ended.
  void finishStep(Executor& executor);

  // "#3 'server' awaiting a sleep until 1.500000000s", one line per live task, ids ascending,
  // at most kDescribeLinesMax lines.
  std::string describe() const;

 private:
  std::uint64_t lastId_ = 0;
  // Ordered by id: reports are deterministic.
  std::map<std::uint64_t, TaskRecord*> live_;
  std::vector<std::unique_ptr<TaskRecord>> parked_;
};

}  // namespace moonpool::internal
