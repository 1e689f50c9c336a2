// The run timeline (see sim/timeline.h).
#include "moonpool/sim/timeline.h"

#include "moonpool/executor.h"

namespace moonpool {

std::string TimelineEvent::toString() const {
  std::string line = formatTime(time);
  if (line.size() < 14) line.insert(0, 14 - line.size(), ' ');
  line += fault ? "  " : "  . ";
  line += kind;
  line += "  ";
  line += subject;
  if (!detail.empty()) {
    line += "  ";
    line += detail;
  }
  return line;
}

void Timeline::fault(std::string_view kind, std::string subject, std::string detail) {
  ++faultsTotal_;
  auto it = faultCounts_.find(kind);
  if (it == faultCounts_.end()) it = faultCounts_.emplace(std::string(kind), 0).first;
  ++it->second;
  const std::uint64_t count = it->second;
  store(kind, std::move(subject), std::move(detail), true);
  if (faultListener_ != nullptr) faultListener_(faultListenerContext_, kind, count);
}

void Timeline::trace(std::string_view kind, std::string subject, std::string detail) {
  if (!tracing_) return;
  store(kind, std::move(subject), std::move(detail), false);
}

void Timeline::store(std::string_view kind, std::string subject, std::string detail,
                     bool fault) {
  if (events_.size() >= kEventsMax) {
    ++dropped_;
    return;
  }
  events_.push_back(TimelineEvent{executor_.now(), std::string(kind), std::move(subject),
                                  std::move(detail), fault});
}

}  // namespace moonpool
