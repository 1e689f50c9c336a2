// Hostile input that must work: messages and enums with the same name in two namespaces
// (C++ users namespace their types). Their schema names get the namespaces prefixed
// (TwinsAMsg, TwinsBMsg); the unique ones keep their short names (Pair).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/task.h"

namespace twins {
namespace a {
struct [[moonpool::message]] Msg {
  int32_t x = 0;
};
enum class Kind : uint8_t { kOne, kTwo };
}  // namespace a

namespace b {
struct [[moonpool::message]] Msg {
  std::string y;
  a::Kind kind = a::Kind::kOne;
};
enum class Kind : uint8_t { kThree };
}  // namespace b

class [[moonpool::service]] Pair {
 public:
  virtual ~Pair() = default;
  virtual moonpool::Task<b::Msg> swap(a::Msg first, std::optional<b::Msg> second,
                                      std::vector<a::Msg> more, b::Kind kind) = 0;
};
}  // namespace twins
