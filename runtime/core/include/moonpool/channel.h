// Channel<T>: a bounded FIFO between tasks of one executor (runtime/ core layer).
//
// Bounded by construction (STYLE.md rule 11): `capacity` items at most; send() waits while
// full, trySend() reports it. close() wakes everybody: receivers drain what is left and then
// get nullopt; senders fail with Exception(kDisconnected).
//
// Lifetime: the Channel must outlive every Task returned by send()/receive() (KJ's default
// for references: the object outlives the returned Task).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/error.h"
#include "moonpool/internal/wait_list.h"
#include "moonpool/task.h"

namespace moonpool {

template <typename T>
class Channel {
 public:
  static constexpr std::size_t kCapacityMax = std::size_t{1} << 24;

  explicit Channel(std::size_t capacity) : capacity_(capacity) {
    MOONPOOL_CHECK(capacity >= 1 && capacity <= kCapacityMax, "channel capacity out of range");
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Enqueues without waiting; false when full or closed.
  bool trySend(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    receivers_.notifyOne();
    return true;
  }

  Task<void> send(T value) {
    while (!closed_ && items_.size() >= capacity_) co_await senders_.wait("a full channel");
    if (closed_) throw Exception(ErrorKind::kDisconnected, "send on a closed channel");
    items_.push_back(std::move(value));
    receivers_.notifyOne();
  }

  std::optional<T> tryReceive() {
    if (items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    senders_.notifyOne();
    return value;
  }

  // The next item, or nullopt once the channel is closed and drained.
  Task<std::optional<T>> receive() {
    while (items_.empty() && !closed_) co_await receivers_.wait("an empty channel");
    co_return tryReceive();
  }

  void close() {
    closed_ = true;
    receivers_.notifyAll();
    senders_.notifyAll();
  }

  bool closed() const { return closed_; }
  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<T> items_;
  bool closed_ = false;
  internal::WaitList receivers_;
  internal::WaitList senders_;
};

}  // namespace moonpool
