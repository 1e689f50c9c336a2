// MOONPOOL_CHECK: always-on invariant checks (runtime/ core layer, public).
//
// For bugs: a failed check means the code that calls it (moonpool, or a service built on it)
// is wrong. It prints the condition, both operands of a comparison and the location to
// stderr, then aborts, so the explorer classifies the timeline as a crash. Checks survive
// NDEBUG on purpose: the explorer runs optimized builds.
//
// Not for properties a simulation should explore: those are assertions (assertions.h), which
// count and report instead of aborting.
//
//   MOONPOOL_CHECK(log.size() <= kLogMax, "the log outgrew its bound");
//   MOONPOOL_CHECK_LE(committed, log.size(), "committed entries we do not hold");
#pragma once

#include <concepts>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>

// MOONPOOL_CHECK(condition[, message]): aborts unless `condition` holds. A macro only to
// stringize the condition (rule 19); `message` is anything convertible to std::string_view.
#define MOONPOOL_CHECK(condition, ...)                                              \
  do {                                                                              \
    if (!(condition)) [[unlikely]] {                                                \
      ::moonpool::internal::checkFailed(#condition,                                 \
                                        ::moonpool::internal::checkDetail(__VA_ARGS__), \
                                        std::source_location::current());           \
    }                                                                               \
  } while (false)

#define MOONPOOL_CHECK_OP_(a, op, b, ...)                                               \
  do {                                                                                  \
    const auto& moonpool_check_a_ = (a);                                                \
    const auto& moonpool_check_b_ = (b);                                                \
    if (!(moonpool_check_a_ op moonpool_check_b_)) [[unlikely]] {                       \
      ::moonpool::internal::checkFailed(                                                \
          #a " " #op " " #b,                                                            \
          ::moonpool::internal::compareDetail(moonpool_check_a_, moonpool_check_b_,     \
                                              ::moonpool::internal::checkDetail(__VA_ARGS__)), \
          std::source_location::current());                                             \
    }                                                                                   \
  } while (false)

// MOONPOOL_CHECK_EQ/NE/LT/LE/GT/GE(a, b[, message]): aborts unless `a op b`, printing both
// operands. Each operand is evaluated once.
#define MOONPOOL_CHECK_EQ(a, b, ...) MOONPOOL_CHECK_OP_(a, ==, b __VA_OPT__(, ) __VA_ARGS__)
#define MOONPOOL_CHECK_NE(a, b, ...) MOONPOOL_CHECK_OP_(a, !=, b __VA_OPT__(, ) __VA_ARGS__)
#define MOONPOOL_CHECK_LT(a, b, ...) MOONPOOL_CHECK_OP_(a, <, b __VA_OPT__(, ) __VA_ARGS__)
#define MOONPOOL_CHECK_LE(a, b, ...) MOONPOOL_CHECK_OP_(a, <=, b __VA_OPT__(, ) __VA_ARGS__)
#define MOONPOOL_CHECK_GT(a, b, ...) MOONPOOL_CHECK_OP_(a, >, b __VA_OPT__(, ) __VA_ARGS__)
#define MOONPOOL_CHECK_GE(a, b, ...) MOONPOOL_CHECK_OP_(a, >=, b __VA_OPT__(, ) __VA_ARGS__)

// Implementation details below: nothing past this point is part of the manual.
namespace moonpool::internal {

[[noreturn]] void checkFailed(std::string_view condition, std::string_view detail,
                              std::source_location where);

// Called by a failing check after it printed its report (one line: "file:line: moonpool check
// failed: condition (detail)") and before it aborts, so that a runner can hand the report to
// whoever reads the run: an explored timeline ends through the explorer with it instead of
// dying of SIGABRT with no words. The hook may end the process (it must not return into the
// failed code by other means); when it returns, abort() follows. It runs at most once per
// process (a check failing inside it aborts directly). nullptr removes it.
using CheckFailureHook = void (*)(std::string_view report);
void setCheckFailureHook(CheckFailureHook hook);

template <typename T>
std::string showOperand(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(value);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string("\"") + std::string(std::string_view(value)) + "\"";
  } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    return value == nullptr ? "null" : "non-null pointer";
  } else if constexpr (requires { value.count(); }) {
    return std::to_string(value.count());  // std::chrono durations
  } else if constexpr (requires { value.time_since_epoch().count(); }) {
    return std::to_string(value.time_since_epoch().count());
  } else {
    return "<value>";
  }
}

inline std::string checkDetail() { return {}; }
inline std::string checkDetail(std::string_view message) { return std::string(message); }

template <typename A, typename B>
std::string compareDetail(const A& a, const B& b, std::string_view message) {
  std::string out = "left = " + showOperand(a) + ", right = " + showOperand(b);
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace moonpool::internal
