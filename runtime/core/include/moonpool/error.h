// Errors raised inside Task code (runtime/ core layer).
//
// moonpool has three error channels (see STYLE.md rule 6): bugs end the timeline through
// assertions; callers at a boundary (bytes, files, flags) get absl::Status values; and the
// system inside Task code raises `moonpool::Exception`, whose kinds map 1:1 onto
// kj::Exception::Type so that errors cross the Cap'n Proto boundary unchanged.
//
// Cancellation is NOT an exception: destroying a Task tears its frame down without unwinding
// through user code, so `catch (...)` can never swallow it. A joiner of a task that was
// cancelled sees kDisconnected ("the task was cancelled"), the same kind KJ uses for a
// broken promise.
#pragma once

#include <exception>
#include <source_location>
#include <string>
#include <string_view>

namespace moonpool {

enum class ErrorKind : unsigned char {
  // Something went wrong; the usual kind.
  kFailed = 0,
  // Temporary lack of resources, including "timed out": retry later, not immediately.
  kOverloaded = 1,
  // The peer or the producer of a result went away (connection lost, task cancelled).
  kDisconnected = 2,
  // The operation is not implemented by the callee.
  kUnimplemented = 3,
};

std::string_view errorKindName(ErrorKind kind);

class Exception : public std::exception {
 public:
  Exception(ErrorKind kind, std::string description,
            std::source_location where = std::source_location::current());

  ErrorKind kind() const { return kind_; }
  const std::string& description() const { return description_; }
  const std::source_location& where() const { return where_; }

  // "disconnected: <description> (file:line)"
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  ErrorKind kind_;
  std::string description_;
  std::source_location where_;
  std::string what_;
};

// Renders any exception_ptr for reports: the what() of std::exception, or a placeholder for
// foreign types. Never throws.
std::string describeException(const std::exception_ptr& error);

}  // namespace moonpool
