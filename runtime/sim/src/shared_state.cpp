// Per-seed shared state (see sim/shared_state.h).
#include "moonpool/sim/shared_state.h"

#include <cxxabi.h>

#include <cstdlib>

namespace moonpool {

SharedState::~SharedState() {
  // Reverse order of addition: a later entry may refer to an earlier one.
  while (!entries_.empty()) entries_.pop_back();
}

void SharedState::throwMissing(const char* mangledType) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangledType, nullptr, nullptr, &status);
  const std::string type = status == 0 && readable != nullptr ? readable : mangledType;
  std::free(readable);
  throw Exception(ErrorKind::kFailed,
                  "no shared state of type '" + type +
                      "' in this seed: declare it with SimulationBuilder::sharedState<" + type +
                      ">() (or add it to SimWorld::shared())");
}

}  // namespace moonpool
