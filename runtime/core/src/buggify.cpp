// buggify(): the ambient lookup through the current executor (see buggify.h).
#include "moonpool/buggify.h"

#include "moonpool/executor.h"

namespace moonpool {

BuggifyHook* currentBuggifyHook() {
  Executor* executor = Executor::tryCurrent();
  return executor == nullptr ? nullptr : executor->buggifyHook();
}

}  // namespace moonpool
