// GroupTaskProvider and the yield awaiter.
#include "moonpool/providers.h"

#include "moonpool/internal/task_registry.h"

namespace moonpool {

YieldAwaiter::~YieldAwaiter() {
  if (wake_.scheduled()) executor_->unschedule(wake_);
}

void YieldAwaiter::await_suspend(std::coroutine_handle<> self) {
  executor_ = &Executor::current();
  wake_.coroutine = self;
  wake_.task = executor_->taskRegistry().current();
  wake_.kind = WakeKind::kYield;
  internal::noteAwaiting(*executor_, "a yield");
  executor_->schedule(wake_);
}

Task<void> GroupTaskProvider::yield() { co_await YieldAwaiter{}; }

}  // namespace moonpool
