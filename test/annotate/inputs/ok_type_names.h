// Must-not-fire input for rule type-names: similar but distinct names.
#pragma once
#include <optional>
#include <string>

namespace a {
struct [[moonpool::message]] Put {
  std::optional<std::string> key;
};
struct [[moonpool::message]] PutRequest {
  Put put;
};
}  // namespace a
