// DestroyCounter (test support): an RAII probe that counts its own destruction. Put one in a
// coroutine frame to see the frame, and everything it holds, torn down on cancellation.
#pragma once

namespace moonpool::test_support {

// Increments `*counter` when destroyed. `counter` must outlive the probe.
struct DestroyCounter {
  explicit DestroyCounter(int* counter) : counter_(counter) {}
  DestroyCounter(const DestroyCounter&) = delete;
  DestroyCounter& operator=(const DestroyCounter&) = delete;
  ~DestroyCounter() { ++*counter_; }

  int* counter_;
};

}  // namespace moonpool::test_support
