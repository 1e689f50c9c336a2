// What the two halves of two_party (two_party.cpp: names, options, the client;
// two_party_server.cpp: the server) share (capnp/, private to capnp/src).
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "moonpool/executor.h"
#include "moonpool/rpc/two_party.h"

namespace moonpool::rpc::internal {

// Counts a live thing from construction until the Task frame holding it is destroyed.
template <typename Count>
class Counted {
 public:
  explicit Counted(Count& count) : count_(&count) { ++*count_; }
  Counted(Counted&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (count_ != nullptr) --*count_;
  }

 private:
  Count* count_;
};

inline IoError invalidOption(std::string what) {
  return IoError{IoErrorKind::kInvalidArgument, "RpcOptions: " + std::move(what)};
}

// At most kDisconnectLogsPerSecondMax lines per second of the executor's clock; what it
// holds back is counted and announced by the next line it lets through.
class LogLimiter {
 public:
  void warn(Executor& executor, const std::string& line) {
    const TimePoint now = executor.now();
    if (now - windowStart_ >= std::chrono::seconds(1)) {
      windowStart_ = now;
      inWindow_ = 0;
    }
    if (inWindow_ >= kDisconnectLogsPerSecondMax) {
      ++suppressed_;
      return;
    }
    ++inWindow_;
    // One plain line on stderr (KJ_LOG would print it as "expression = value").
    if (suppressed_ == 0) {
      std::fprintf(stderr, "moonpool rpc: warning: %s\n", line.c_str());
    } else {
      std::fprintf(stderr, "moonpool rpc: warning: %s (and %llu more held back)\n", line.c_str(),
                   static_cast<unsigned long long>(suppressed_));
      suppressed_ = 0;
    }
  }

 private:
  TimePoint windowStart_{};
  std::uint32_t inWindow_ = 0;
  std::uint64_t suppressed_ = 0;
};

inline bool abnormal(DisconnectCause cause) {
  switch (cause) {
    case DisconnectCause::kClosed:
    case DisconnectCause::kIoError:
      return false;
    case DisconnectCause::kCorrupted:
    case DisconnectCause::kProtocolError:
    case DisconnectCause::kPeerAborted:
    case DisconnectCause::kLimit:
    case DisconnectCause::kRefused:
      return true;
  }
  return true;
}

inline void deliver(const RpcOptions& options, LogLimiter& limiter, Executor& executor,
             const DisconnectReport& report) {
  if (options.onDisconnect) {
    options.onDisconnect(report);
    return;
  }
  if (abnormal(report.cause)) {
    limiter.warn(executor, "rpc connection dropped: " + report.toString());
  }
}

inline std::shared_ptr<RpcBudget> budgetFor(const RpcOptions& options) {
  return options.budget != nullptr ? options.budget : std::make_shared<RpcBudget>();
}

inline std::string millis(Duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) +
         " ms";
}

}  // namespace moonpool::rpc::internal
