// Diagnostic input for rule record-shape.
#pragma once
#include <cstdint>

struct Base {
  int32_t id;
};

struct [[moonpool::message]] Derived : Base {
  int32_t extra;
};

class [[moonpool::message]] Secretive {
 public:
  int32_t visible;

 private:
  int32_t hidden;
};
