// The production executor: the same tasks on KJ's event loop, wall-clock time (runtime/).
//
// It owns a KJ async-I/O context (kj::setupAsyncIo): an epoll-based EventLoop, real timers
// and real network access for the production providers and Cap'n Proto. Ready tasks run in
// FIFO order, in batches that are events of KJ's loop: a task made ready queues a batch
// behind the KJ events already queued, and KJ's events (I/O, timers) and task steps take
// turns. While work stays queued KJ still polls I/O every few turns; when nothing is queued
// the thread sleeps in KJ (epoll) until an event makes a task ready.
//
// now() reads the monotonic clock when called (never a value cached per loop turn), and a
// sleep's deadline is now() + delay: timeouts measure real elapsed time even right after a
// task blocked the thread (a slow fsync, a long computation).
//
// This header does not include KJ (pimpl); kj types appear only as forward declarations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/executor.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/providers.h"
#include "moonpool/random.h"
#include "moonpool/real/real_network.h"
#include "moonpool/real/real_storage.h"
#include "moonpool/run_outcome.h"
#include "moonpool/spawn.h"
#include "moonpool/task.h"

namespace kj {
class Timer;
class AsyncIoProvider;
class LowLevelAsyncIoProvider;
}  // namespace kj

namespace moonpool {

class RealExecutor final : public Executor {
 public:
  RealExecutor();
  RealExecutor(const RealExecutor&) = delete;
  RealExecutor& operator=(const RealExecutor&) = delete;
  ~RealExecutor() override;

  // Runs `main` until it ends; tasks still alive then are cancelled.
  RunOutcome run(Task<void> main);

  TaskGroup& rootGroup() { return *root_; }
  kj::Timer& timer();
  kj::AsyncIoProvider& io();
  // For sockets made by hand (a listen backlog KJ would not pass on).
  kj::LowLevelAsyncIoProvider& lowLevelIo();
  std::uint64_t steps() const { return steps_; }

  // implements Executor
  void schedule(Runnable& work) override;
  void unschedule(Runnable& work) override;
  TimePoint now() const override;
  std::size_t chooseIndex(std::size_t count) override;
  internal::TaskRegistry& taskRegistry() override { return registry_; }

 private:
  struct Impl;
  void runReadyBatch();
  // After a batch: ends run() once main ended or a task failed, else queues the next batch
  // while tasks are still ready.
  void afterBatch();

  std::unique_ptr<Impl> impl_;
  Executor* previous_ = nullptr;
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  std::size_t readyCount_ = 0;
  internal::TaskRegistry registry_;
  std::unique_ptr<TaskGroup> root_;
  std::uint64_t steps_ = 0;
};

class RealTimeProvider final : public TimeProvider {
 public:
  explicit RealTimeProvider(RealExecutor& executor) : executor_(executor) {}

  // implements TimeProvider
  TimePoint now() const override { return executor_.now(); }
  Task<void> sleep(Duration delay) override;

 private:
  RealExecutor& executor_;
};

// Production randomness: a RandomStream seeded from the OS (getrandom) unless a seed is
// given. Uncounted. derive(name) depends only on the provider's seed and `name`, so the
// same name gives the same stream for the provider's lifetime (random.h's contract).
class RealRandomProvider final : public RandomProvider {
 public:
  RealRandomProvider();
  explicit RealRandomProvider(std::uint64_t seed);

  // implements RandomProvider
  std::uint64_t nextU64() override { return main_.next(); }
  RandomStream derive(std::string_view name) override;

 private:
  std::uint64_t seed_;
  RandomStream main_;
};

struct RealRuntimeOptions {
  // Root directory of the runtime's RealStorageProvider, created when missing (relative
  // paths are relative to the working directory).
  std::string storageRoot = "moonpool-data";
  // The address the network provider reports as localIp() (127.0.0.1 by default).
  IpAddress localIp = kLoopbackIp;
};

// The production counterpart of Simulation: executor plus the five real providers.
class RealRuntime {
 public:
  RealRuntime();
  explicit RealRuntime(RealRuntimeOptions options);
  RealRuntime(const RealRuntime&) = delete;
  RealRuntime& operator=(const RealRuntime&) = delete;

  Providers providers() { return Providers(time_, tasks_, random_, network_, storage_); }
  RealExecutor& executor() { return executor_; }
  RealNetworkProvider& network() { return network_; }
  RealStorageProvider& storage() { return storage_; }
  RunOutcome run(Task<void> main) { return executor_.run(std::move(main)); }

 private:
  RealExecutor executor_;
  RealTimeProvider time_;
  RealRandomProvider random_;
  GroupTaskProvider tasks_;
  RealNetworkProvider network_;
  RealStorageProvider storage_;
};

}  // namespace moonpool
