// Error conversions between moonpool::Exception and kj::Exception (see bridge.h).
#include "moonpool/kj/bridge.h"

#include "moonpool/internal/task_registry.h"

namespace moonpool {

ErrorKind fromKjType(kj::Exception::Type type) {
  switch (type) {
    case kj::Exception::Type::FAILED:
      return ErrorKind::kFailed;
    case kj::Exception::Type::OVERLOADED:
      return ErrorKind::kOverloaded;
    case kj::Exception::Type::DISCONNECTED:
      return ErrorKind::kDisconnected;
    case kj::Exception::Type::UNIMPLEMENTED:
      return ErrorKind::kUnimplemented;
  }
  return ErrorKind::kFailed;
}

kj::Exception::Type toKjType(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kFailed:
      return kj::Exception::Type::FAILED;
    case ErrorKind::kOverloaded:
      return kj::Exception::Type::OVERLOADED;
    case ErrorKind::kDisconnected:
      return kj::Exception::Type::DISCONNECTED;
    case ErrorKind::kUnimplemented:
      return kj::Exception::Type::UNIMPLEMENTED;
  }
  return kj::Exception::Type::FAILED;
}

Exception fromKj(const kj::Exception& error) {
  std::string description(error.getDescription().cStr());
  description += " [at ";
  description += error.getFile();
  description += ":" + std::to_string(error.getLine()) + "]";
  return Exception(fromKjType(error.getType()), std::move(description));
}

kj::Exception toKj(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Exception& e) {
    return kj::Exception(toKjType(e.kind()), e.where().file_name(),
                         static_cast<int>(e.where().line()), kj::str(e.description().c_str()));
  } catch (const kj::Exception& e) {
    return e;
  } catch (const std::exception& e) {
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(e.what()));
  } catch (...) {
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                         kj::str("an exception of a type not derived from std::exception"));
  }
}

bool isBrokenRequest(const kj::Exception& error) {
  return error.getType() == kj::Exception::Type::DISCONNECTED &&
         std::string_view(error.getDescription().cStr()).find(kBrokenRequestPrefix) !=
             std::string_view::npos;
}

bool isBrokenRequest(const Exception& error) {
  return error.kind() == ErrorKind::kDisconnected &&
         error.description().find(kBrokenRequestPrefix) != std::string::npos;
}

TaskGroup* currentTaskGroup() {
  Executor* executor = Executor::tryCurrent();
  if (executor == nullptr) return nullptr;
  ::moonpool::internal::TaskRecord* task = executor->taskRegistry().current();
  return task == nullptr ? nullptr : task->group;
}

namespace internal {

kj::Exception brokenRequest(const std::string& name) {
  std::string description(kBrokenRequestPrefix);
  description += "'" + name + "' was cancelled before it answered (its task was destroyed " +
                 "or its process killed)";
  return kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                       kj::str(description.c_str()));
}

}  // namespace internal

}  // namespace moonpool
