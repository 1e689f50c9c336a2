// Task bookkeeping shared by both executors (internal): ids, the live tasks for deadlock
// reports, the task of the running step, records whose destruction waits for the end of the
// step, unobserved failures, and how a run ended.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <exception>
#include <string>
#include <string_view>
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

  // The task whose step is running; null between steps.
  TaskRecord* current() const { return current_; }
  // Runs `work` (already taken out of the ready set) as one step of its task, then destroys
  // the records parked during it.
  void runStep(Runnable& work, Executor& executor);
  // A task ended or was cancelled (Executor::taskEnded).
  void taskEnded(TaskRecord& task);

  void destroyAfterStep(std::unique_ptr<TaskRecord> task);
  // Destroys the records parked by destroyAfterStep; `executor` is told they ended.
  void finishStep(Executor& executor);

  // Executor::unobservedFailure: kept until the run ends.
  void noteUnobservedFailure(std::string_view taskName, const std::exception_ptr& error);
  bool hasFailures() const { return !failures_.empty(); }
  const std::string& firstFailure() const { return failures_.front(); }
  void clearFailures() { failures_.clear(); }

  // Why a run whose main task ended failed: main was cancelled, main threw, or another task
  // failed unobserved. Empty when the run succeeded.
  std::string endOfRunFailure(JoinHandle<void>& main);
  // Cancels main and every task of `root`: nothing outlives a run.
  void endRun(JoinHandle<void>& main, TaskGroup& root, Executor& executor);

  // "#3 'server' awaiting a sleep until 1.500000000s", one line per live task, ids ascending,
  // at most kDescribeLinesMax lines.
  std::string describe() const;

 private:
  std::uint64_t lastId_ = 0;
  // Ordered by id: reports are deterministic.
  std::map<std::uint64_t, TaskRecord*> live_;
  std::vector<std::unique_ptr<TaskRecord>> parked_;
  TaskRecord* current_ = nullptr;
  std::vector<std::string> failures_;
};

}  // namespace moonpool::internal
