// Assertions inside coroutines (test support). gtest's ASSERT_* end the function with
// `return`, which a coroutine cannot do; these record the failure and `co_return` instead,
// so they work in any coroutine returning Task<void>. EXPECT_* work in coroutines as they are.
#pragma once

#include <gtest/gtest.h>

// CO_ASSERT_TRUE(condition): unless `condition` holds, fails the test and ends the coroutine.
#define CO_ASSERT_TRUE(condition)                    \
  do {                                               \
    if (!(condition)) {                              \
      ADD_FAILURE() << "expected true: " #condition; \
      co_return;                                     \
    }                                                \
  } while (false)

// CO_ASSERT_OK(result): `result` (evaluated once; anything with ok() and error().toString(),
// such as IoResult) must be ok; otherwise fails the test with the error and ends the
// coroutine.
#define CO_ASSERT_OK(result)                                                           \
  do {                                                                                 \
    const auto& co_assert_ok_result_ = (result);                                       \
    if (!co_assert_ok_result_.ok()) {                                                  \
      ADD_FAILURE() << #result " failed: " << co_assert_ok_result_.error().toString(); \
      co_return;                                                                       \
    }                                                                                  \
  } while (false)
