// Actor keys, errors and contexts (actor.h).
#include "moonpool/actors/actor.h"

#include <string>

#include "moonpool/actors/runtime.h"
#include "moonpool/check.h"

namespace moonpool::actors {

std::int64_t ActorKey::number() const {
  MOONPOOL_CHECK(isNumber(), "the text key " + toString() + " has no number");
  return std::get<std::int64_t>(value_);
}

const std::string& ActorKey::text() const {
  MOONPOOL_CHECK(!isNumber(), "the integer key " + toString() + " has no text");
  return std::get<std::string>(value_);
}

std::string ActorKey::toString() const {
  if (isNumber()) return "#" + std::to_string(std::get<std::int64_t>(value_));
  return "'" + std::get<std::string>(value_) + "'";
}

std::string_view actorFailureName(ActorFailure failure) {
  switch (failure) {
    case ActorFailure::kActivationFailed: return "activation failed";
    case ActorFailure::kDeadlock: return "deadlock";
    case ActorFailure::kQueueFull: return "queue full";
    case ActorFailure::kTooManyActivations: return "too many activations";
    case ActorFailure::kUnknownType: return "unknown actor type";
    case ActorFailure::kUnknownMethod: return "unknown actor method";
    case ActorFailure::kUnavailable: return "unavailable";
    case ActorFailure::kStateConflict: return "state conflict";
    case ActorFailure::kStateCorrupt: return "state corrupt";
    case ActorFailure::kStateIo: return "state i/o";
    case ActorFailure::kNotHere: return "actor not here";
  }
  return "unknown";
}

namespace {

ErrorKind kindOf(ActorFailure failure) {
  switch (failure) {
    case ActorFailure::kQueueFull:
    case ActorFailure::kTooManyActivations:
    case ActorFailure::kUnavailable:
    case ActorFailure::kNotHere: return ErrorKind::kOverloaded;
    case ActorFailure::kUnknownType:
    case ActorFailure::kUnknownMethod: return ErrorKind::kUnimplemented;
    default: return ErrorKind::kFailed;
  }
}

}  // namespace

ActorError::ActorError(ActorFailure failure, std::string description,
                       std::source_location where)
    : Exception(kindOf(failure),
                std::string(actorFailureName(failure)) + ": " + std::move(description), where),
      failure_(failure) {}

Providers ActorContext::providers() const { return runtime_.providers(); }

bool ActorContext::serving() const { return !retired_ && runtime_.serving(typeName_, key_); }

}  // namespace moonpool::actors
