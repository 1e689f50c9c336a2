// Event: a settable flag tasks can wait on (runtime/ core layer).
//
// wait() completes at once while the event is set, and otherwise when set() is called. set()
// wakes every waiter (through the executor, never inline). Lifetime: the Event outlives the
// Tasks returned by wait().
#pragma once

#include "moonpool/internal/wait_list.h"
#include "moonpool/task.h"

namespace moonpool {

class Event {
 public:
  explicit Event(bool initiallySet = false) : set_(initiallySet) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void set() {
    set_ = true;
    waiters_.notifyAll();
  }
  void reset() { set_ = false; }
  bool isSet() const { return set_; }

  Task<void> wait() {
    while (!set_) co_await waiters_.wait("an event");
  }

 private:
  bool set_;
  internal::WaitList waiters_;
};

}  // namespace moonpool
