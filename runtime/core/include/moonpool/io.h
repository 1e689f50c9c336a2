// I/O results: the value-or-error type of the network and storage providers (runtime/ core).
//
// Network and storage operations fail in ways the caller is expected to handle (a refused
// connect, a reset stream, a missing file), so they return errors as values: IoResult<T>
// holds either a T or an IoError with a kind and a message. Callers that cannot handle an
// error locally turn it into a moonpool::Exception with orThrow(); the kind maps onto the
// closed ErrorKind set (error.h) so it crosses RPC boundaries unchanged.
//
// The kinds are the same for the simulated and the real providers: the conformance suites
// (test/core/contracts) check that both report the same kind for the same situation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "moonpool/check.h"
#include "moonpool/error.h"

namespace moonpool {

enum class IoErrorKind : std::uint8_t {
  kRefused,         // nothing listens at the address (ECONNREFUSED)
  kReset,           // the peer aborted the connection, or it was cut (ECONNRESET)
  kBrokenPipe,      // writing after the peer closed or after our own shutdownWrite (EPIPE)
  kTimedOut,        // the operation did not complete in time (ETIMEDOUT)
  kUnreachable,     // no route to the address (a partition, EHOSTUNREACH)
  kAddressInUse,    // listen on an address already bound (EADDRINUSE)
  kInvalidArgument, // a malformed address, a negative offset, a closed handle
  kNotFound,        // no such file (ENOENT)
  kAlreadyExists,   // exclusive create of an existing file (EEXIST)
  kIo,              // the device failed (EIO), including a failed sync
};

std::string_view ioErrorKindName(IoErrorKind kind);
// The Exception kind an IoError becomes when thrown.
ErrorKind errorKindOf(IoErrorKind kind);

struct IoError {
  IoErrorKind kind = IoErrorKind::kIo;
  std::string message;

  // "reset: <message>"
  std::string toString() const;
  [[noreturn]] void raise() const;
  bool operator==(const IoError&) const = default;
};

template <typename T>
class [[nodiscard]] IoResult {
 public:
  IoResult(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  IoResult(IoError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    MOONPOOL_CHECK(ok(), "IoResult::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    MOONPOOL_CHECK(ok(), "IoResult::value() on an error");
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const IoError& error() const {
    MOONPOOL_CHECK(!ok(), "IoResult::error() on a value");
    return std::get<1>(state_);
  }
  // The value, or the error raised as a moonpool::Exception.
  T orThrow() && {
    if (!ok()) error().raise();
    return std::get<0>(std::move(state_));
  }

 private:
  std::variant<T, IoError> state_;
};

template <>
class [[nodiscard]] IoResult<void> {
 public:
  IoResult() = default;
  IoResult(IoError error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const IoError& error() const {
    MOONPOOL_CHECK(!ok(), "IoResult::error() on success");
    return *error_;
  }
  void orThrow() const {
    if (!ok()) error_->raise();
  }

 private:
  std::optional<IoError> error_;
};

}  // namespace moonpool
