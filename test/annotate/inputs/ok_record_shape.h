// Must-not-fire input for rule record-shape: private static members and member functions
// are not fields.
#pragma once
#include <cstdint>

class [[moonpool::message]] Limits {
 public:
  int32_t current;
  int32_t clamp() const { return current > kMax ? kMax : current; }

 private:
  static constexpr int32_t kMax = 10;
};
