// Semaphore and Mutex: exclusion across co_await for tasks of one executor (runtime/ core).
//
//   Mutex lock;
//   Mutex::Guard guard = co_await lock.lock();   // held until the guard dies (or release())
//
//   Semaphore slots(4);
//   Semaphore::Permit permit = co_await slots.acquire();
//
// Fair (FIFO): waiters get permits in the order they started waiting, and a task that
// arrives while others wait queues behind them (tryAcquire() fails then), so no waiter
// starves. A release hands the permit straight to the oldest waiter: nobody can slip in
// between. Cancel-safe: a waiting task that is destroyed leaves the queue; one destroyed
// after it was handed a permit but before it ran passes the permit on. No wake-up is lost,
// which is what an Event used as a lock (set/reset around the critical section) gets wrong:
// two waiters woken by one set() both proceed, or a reset() between set() and the waiter
// running strands it.
//
// Lifetime: the Semaphore outlives its permits and the awaiters of acquire(); destroying
// it while a permit is held is a check failure. Single executor, no threads.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <utility>

#include "moonpool/executor.h"

namespace moonpool {

class Semaphore {
 public:
  // One permit, held until the Permit is destroyed or release() is called.
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    // Gives the permit back now (idempotent).
    void release();
    bool held() const { return owner_ != nullptr; }

   private:
    friend class Semaphore;
    explicit Permit(Semaphore& owner) : owner_(&owner) {}
    Semaphore* owner_ = nullptr;
  };

  // What acquire() returns; co_await it in a Task.
  class Acquire {
   public:
    explicit Acquire(Semaphore& owner) : owner_(owner) {}
    Acquire(const Acquire&) = delete;
    Acquire& operator=(const Acquire&) = delete;
    ~Acquire();

    bool await_ready();
    void await_suspend(std::coroutine_handle<> self);
    Permit await_resume();

   private:
    friend class Semaphore;
    Semaphore& owner_;
    Executor* executor_ = nullptr;
    Runnable wake_;
    Acquire* prev_ = nullptr;
    Acquire* next_ = nullptr;
    bool queued_ = false;
    bool granted_ = false;  // a permit is ours, not yet taken by await_resume()
  };

  explicit Semaphore(std::size_t permits) : available_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore();

  // Waits (FIFO) for a permit.
  [[nodiscard]] Acquire acquire() { return Acquire(*this); }
  // A permit at once, or nothing when none is free or others are waiting.
  std::optional<Permit> tryAcquire();

  std::size_t available() const { return available_; }
  std::size_t waiting() const { return waiting_; }
  std::size_t held() const { return held_; }

 private:
  void releaseOne();
  void enqueue(Acquire& waiter);
  void dequeue(Acquire& waiter);

  std::size_t available_;
  std::size_t held_ = 0;  // permits out (in Permits, or granted to a waiter not yet resumed)
  std::size_t waiting_ = 0;
  Acquire* head_ = nullptr;
  Acquire* tail_ = nullptr;
};

// A fair, cancel-safe mutual exclusion lock: a Semaphore with one permit.
class Mutex {
 public:
  using Guard = Semaphore::Permit;

  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  [[nodiscard]] Semaphore::Acquire lock() { return permits_.acquire(); }
  std::optional<Guard> tryLock() { return permits_.tryAcquire(); }
  bool locked() const { return permits_.available() == 0; }
  std::size_t waiting() const { return permits_.waiting(); }

 private:
  Semaphore permits_{1};
};

}  // namespace moonpool
