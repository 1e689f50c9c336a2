// Diagnostic input for rule type-names.
#pragma once
#include <optional>
#include <string>

namespace a {
struct [[moonpool::message]] Put {
  std::optional<std::string> key;
};
}  // namespace a

namespace b {
struct [[moonpool::message]] Put {
  std::string key;
};
struct [[moonpool::message]] OptionalText {
  std::string text_value;
};
}  // namespace b
