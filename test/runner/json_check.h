// A minimal JSON parser for the runner tests: checks that a report is well-formed JSON
// (RFC 8259 grammar, string escapes decoded) and gives a tree to check its structure.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace moonpool::runner_testing {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;  // strings (decoded) and numbers (as written)
  std::vector<JsonValue> items;
  std::map<std::string, JsonValue> members;

  // Member lookup; a check failure (nullptr) when absent or not an object.
  const JsonValue* get(const std::string& key) const;
};

// The parsed document, or nullopt with `error` set (position and reason).
std::optional<JsonValue> parseJson(const std::string& text, std::string& error);

}  // namespace moonpool::runner_testing
