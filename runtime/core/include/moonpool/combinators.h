// whenAll / whenAny: structured concurrency over Tasks (runtime/ core layer).
//
//   auto [a, b] = co_await whenAll(fetchA(), fetchB());
//   auto first = co_await whenAny(reply(), time.sleep(1s));   // std::variant; first.index()
//
// Semantics:
//   - All children start when the combinator is awaited, in argument order, each running
//     until its first suspension.
//   - The awaiting task resumes through the executor, never inline, so children that finish
//     "at the same time" (before the awaiter runs again) are all visible at once.
//   - whenAny: the winner is chosen among every finished child by Executor::chooseIndex: a
//     seeded choice in simulation (ties are explored, not always-first), the lowest index in
//     production. Losers are cancelled (destroyed) before whenAny returns. A winner that
//     threw rethrows.
//   - whenAll: waits for every child; the first child to throw (in completion order) cancels
//     the others and its exception propagates.
//   - void children contribute std::monostate.
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/internal/combinators.h"
#include "moonpool/task.h"

namespace moonpool {

// What a child contributes to a result: its value, or std::monostate for a Task<void>.
template <typename T>
using NonVoid = internal::NonVoid<T>;

// Every child's value, in argument order. The first child to throw cancels the others and
// its exception propagates.
template <typename... Ts>
Task<std::tuple<NonVoid<Ts>...>> whenAll(Task<Ts>... tasks) {
  internal::AllAwaiter<Ts...> all(std::move(tasks)...);
  co_await all;
  co_return all.takeResults();
}

// The winner's value, at the winner's index of the variant. Losers are cancelled before it
// returns; a winner that threw rethrows.
template <typename... Ts>
  requires(sizeof...(Ts) > 0)
Task<std::variant<NonVoid<Ts>...>> whenAny(Task<Ts>... tasks) {
  internal::AnyAwaiter<Ts...> any(std::move(tasks)...);
  co_await any;
  co_return any.takeWinner();
}

// Every child's value, in vector order (whenAll above, for a run-time number of children).
template <typename T>
Task<std::vector<NonVoid<T>>> whenAll(std::vector<Task<T>> tasks) {
  internal::VectorAwaiter<T> all(internal::CombinatorBase::Mode::kAll, std::move(tasks));
  co_await all;
  co_return all.takeAll();
}

// The index of the winner and its value. `tasks` must not be empty.
template <typename T>
Task<std::pair<std::size_t, NonVoid<T>>> whenAny(std::vector<Task<T>> tasks) {
  MOONPOOL_CHECK(!tasks.empty(), "whenAny of no tasks would never finish");
  internal::VectorAwaiter<T> any(internal::CombinatorBase::Mode::kAny, std::move(tasks));
  co_await any;
  co_return any.takeWinner();
}

}  // namespace moonpool
