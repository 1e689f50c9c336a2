// WaitList: intrusive FIFO of suspended tasks (see internal/wait_list.h).
#include "moonpool/internal/wait_list.h"

#include "moonpool/check.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/spawn.h"

namespace moonpool::internal {

Waiter::~Waiter() {
  if (linked_) list_.unlink(*this);
  if (wake_.scheduled()) {
    executor_->unschedule(wake_);
    // Notified but cancelled before running: hand the notification to the next waiter.
    if (notified_) list_.notifyOne();
  }
}

void Waiter::await_suspend(std::coroutine_handle<> self) {
  executor_ = &Executor::current();
  wake_.coroutine = self;
  wake_.task = executor_->taskRegistry().current();
  wake_.kind = WakeKind::kChannel;
  list_.link(*this);
  noteAwaiting(*executor_, what_);
}

WaitList::~WaitList() {
  // Owners are often torn down before the tasks that wait on them (a process object and its
  // task group): detach the waiters so their later destruction does not touch this list.
  // They are never woken by this list again.
  while (head_ != nullptr) unlink(*head_);
}

void WaitList::link(Waiter& w) {
  MOONPOOL_CHECK(!w.linked_, "a waiter waits once at a time");
  w.prev_ = tail_;
  w.next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
  w.linked_ = true;
  ++size_;
}

void WaitList::unlink(Waiter& w) {
  MOONPOOL_CHECK(w.linked_, "unlinking a waiter that is not waiting");
  (w.prev_ != nullptr ? w.prev_->next_ : head_) = w.next_;
  (w.next_ != nullptr ? w.next_->prev_ : tail_) = w.prev_;
  w.prev_ = w.next_ = nullptr;
  w.linked_ = false;
  --size_;
}

bool WaitList::notifyOne() {
  Waiter* w = head_;
  if (w == nullptr) return false;
  unlink(*w);
  w->notified_ = true;
  w->executor_->schedule(w->wake_);
  return true;
}

void WaitList::notifyAll() {
  while (notifyOne()) {
  }
}

}  // namespace moonpool::internal
