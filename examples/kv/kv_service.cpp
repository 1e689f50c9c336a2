// Names of the protocol's statuses (see kv_service.h).
#include "kv_service.h"

namespace moonpool::kv {

const char* statusName(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kNotReady: return "not_ready";
    case Status::kUnavailable: return "unavailable";
    case Status::kNotPrimary: return "not_primary";
    case Status::kStale: return "stale";
    case Status::kBehind: return "behind";
    case Status::kRejected: return "rejected";
    case Status::kNotBackup: return "not_backup";
  }
  return "unknown";
}

}  // namespace moonpool::kv
