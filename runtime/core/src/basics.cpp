// Small runtime/ core definitions: time formatting, errors, checks, the current executor.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "moonpool/check.h"
#include "moonpool/error.h"
#include "moonpool/executor.h"
#include "moonpool/time.h"

namespace moonpool {

std::string formatDuration(Duration d) {
  const std::int64_t ns = d.count();
  const std::uint64_t magnitude =
      ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s%" PRIu64 ".%09" PRIu64 "s", ns < 0 ? "-" : "",
                magnitude / 1'000'000'000u, magnitude % 1'000'000'000u);
  return buffer;
}

std::string formatTime(TimePoint t) { return formatDuration(t.time_since_epoch()); }

std::string_view errorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kFailed:
      return "failed";
    case ErrorKind::kOverloaded:
      return "overloaded";
    case ErrorKind::kDisconnected:
      return "disconnected";
    case ErrorKind::kUnimplemented:
      return "unimplemented";
  }
  return "unknown";
}

Exception::Exception(ErrorKind kind, std::string description, std::source_location where)
    : kind_(kind), description_(std::move(description)), where_(where) {
  what_ = std::string(errorKindName(kind_)) + ": " + description_ + " (" + where_.file_name() +
          ":" + std::to_string(where_.line()) + ")";
}

std::string describeException(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of a type not derived from std::exception";
  }
}

std::string_view wakeKindName(WakeKind kind) {
  switch (kind) {
    case WakeKind::kStart:
      return "start";
    case WakeKind::kTimer:
      return "timer";
    case WakeKind::kYield:
      return "yield";
    case WakeKind::kJoin:
      return "join";
    case WakeKind::kCombinator:
      return "combinator";
    case WakeKind::kChannel:
      return "channel";
    case WakeKind::kExternal:
      return "external";
  }
  return "unknown";
}

namespace {
thread_local Executor* currentExecutor = nullptr;
}  // namespace

Executor& Executor::current() {
  MOONPOOL_CHECK(currentExecutor != nullptr,
                 "no executor on this thread: create a SimExecutor or RealExecutor first");
  return *currentExecutor;
}

Executor* Executor::tryCurrent() { return currentExecutor; }

Executor* Executor::swapCurrent(Executor* next) {
  Executor* previous = currentExecutor;
  currentExecutor = next;
  return previous;
}

namespace internal {

namespace {
CheckFailureHook gCheckFailureHook = nullptr;
}  // namespace

void setCheckFailureHook(CheckFailureHook hook) { gCheckFailureHook = hook; }

void checkFailed(std::string_view condition, std::string_view detail,
                 std::source_location where) {
  // Formatted into a fixed buffer: no allocation on the way out (the report is cut at its
  // size). One line, as printed.
  char report[2048];
  const int length = std::snprintf(
      report, sizeof report, "%s:%u: moonpool check failed: %.*s%s%.*s%s", where.file_name(),
      static_cast<unsigned>(where.line()), static_cast<int>(condition.size()), condition.data(),
      detail.empty() ? "" : " (", static_cast<int>(detail.size()), detail.data(),
      detail.empty() ? "" : ")");
  std::fprintf(stderr, "%s\n", report);
  std::fflush(stderr);
  if (CheckFailureHook hook = gCheckFailureHook; hook != nullptr && length > 0) {
    gCheckFailureHook = nullptr;  // a check failing inside the hook aborts directly
    hook(std::string_view(report, std::min<std::size_t>(static_cast<std::size_t>(length),
                                                        sizeof report - 1)));
  }
  std::abort();
}

}  // namespace internal
}  // namespace moonpool
