// Semaphore and Mutex (see sync.h).
#include "moonpool/sync.h"

#include "moonpool/check.h"
#include "moonpool/internal/spawn.h"
#include "moonpool/internal/task_registry.h"

namespace moonpool {

Semaphore::Permit& Semaphore::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
  }
  return *this;
}

void Semaphore::Permit::release() {
  if (Semaphore* owner = std::exchange(owner_, nullptr)) owner->releaseOne();
}

Semaphore::~Semaphore() {
  MOONPOOL_CHECK_EQ(held_, std::size_t{0}, "a Semaphore destroyed while permits are held");
  // Waiters still queued belong to tasks that are not destroyed yet: detach them.
  while (head_ != nullptr) dequeue(*head_);
}

std::optional<Semaphore::Permit> Semaphore::tryAcquire() {
  if (available_ == 0 || head_ != nullptr) return std::nullopt;
  --available_;
  ++held_;
  return Permit(*this);
}

void Semaphore::releaseOne() {
  MOONPOOL_CHECK_GT(held_, std::size_t{0}, "releasing a permit that is not held");
  if (Acquire* next = head_) {
    // Straight to the oldest waiter: the permit stays held, by it now.
    dequeue(*next);
    next->granted_ = true;
    next->executor_->schedule(next->wake_);
    return;
  }
  --held_;
  ++available_;
}

void Semaphore::enqueue(Acquire& waiter) {
  waiter.prev_ = tail_;
  waiter.next_ = nullptr;
  (tail_ != nullptr ? tail_->next_ : head_) = &waiter;
  tail_ = &waiter;
  waiter.queued_ = true;
  ++waiting_;
}

void Semaphore::dequeue(Acquire& waiter) {
  (waiter.prev_ != nullptr ? waiter.prev_->next_ : head_) = waiter.next_;
  (waiter.next_ != nullptr ? waiter.next_->prev_ : tail_) = waiter.prev_;
  waiter.prev_ = waiter.next_ = nullptr;
  waiter.queued_ = false;
  --waiting_;
}

bool Semaphore::Acquire::await_ready() {
  if (owner_.available_ == 0 || owner_.head_ != nullptr) return false;
  --owner_.available_;
  ++owner_.held_;
  granted_ = true;
  return true;
}

void Semaphore::Acquire::await_suspend(std::coroutine_handle<> self) {
  executor_ = &Executor::current();
  wake_.coroutine = self;
  wake_.task = executor_->taskRegistry().current();
  wake_.kind = WakeKind::kChannel;
  owner_.enqueue(*this);
  internal::noteAwaiting(*executor_, "a semaphore");
}

Semaphore::Permit Semaphore::Acquire::await_resume() {
  MOONPOOL_CHECK(granted_, "a semaphore waiter resumed without a permit");
  granted_ = false;
  return Permit(owner_);
}

Semaphore::Acquire::~Acquire() {
  if (queued_) owner_.dequeue(*this);
  if (wake_.scheduled()) executor_->unschedule(wake_);
  // Handed a permit but destroyed before it ran (its task was cancelled): pass it on.
  if (granted_) {
    granted_ = false;
    owner_.releaseOne();
  }
}

}  // namespace moonpool
