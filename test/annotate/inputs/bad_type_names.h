// Diagnostic input for rule type-names. Same-named types in two namespaces get
// namespace-prefixed schema names (a::Put -> APut); these still clash.
#pragma once
#include <optional>
#include <string>

namespace a_b {
struct [[moonpool::message]] Put {
  std::optional<std::string> key;
};
}  // namespace a_b

namespace a::b {
struct [[moonpool::message]] Put {
  std::string key;
};
struct [[moonpool::message]] OptionalText {
  std::string text_value;
};
}  // namespace a::b
