// An intrusive FIFO of suspended waiters (internal; the building block of Channel and Event).
//
// Wake-and-recheck semantics: notifyOne() schedules the oldest waiter, which re-examines its
// condition when it runs. A waiter that is destroyed (its task cancelled) after being
// notified but before running passes the notification on, so no wake-up is ever lost.
#pragma once

#include <coroutine>
#include <cstddef>

#include "moonpool/executor.h"

namespace moonpool::internal {

class WaitList;

class Waiter {
 public:
  Waiter(WaitList& list, const char* what) : list_(list), what_(what) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self);
  void await_resume() noexcept { notified_ = false; }

 private:
  friend class WaitList;
  WaitList& list_;
  const char* what_;
  Executor* executor_ = nullptr;
  Runnable wake_;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool linked_ = false;
  bool notified_ = false;
};

class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  // Detaches remaining waiters; they stay suspended until their tasks are destroyed.
  ~WaitList();

  // Awaitable: suspends until notified. `what` names the wait in deadlock reports.
  Waiter wait(const char* what) { return Waiter(*this, what); }

  // Schedules the oldest waiter; false when nobody waits.
  bool notifyOne();
  void notifyAll();
  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }

 private:
  friend class Waiter;
  void link(Waiter& w);
  void unlink(Waiter& w);

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace moonpool::internal
