// The minimal JSON parser (see json_check.h).
#include "json_check.h"

#include <cctype>
#include <cstdlib>

namespace moonpool::runner_testing {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  std::optional<JsonValue> document(std::string& error) {
    JsonValue root;
    const bool ok = value(root) && (skipSpace(), at_ == text_.size());
    if (!ok) {
      error = "at byte " + std::to_string(at_) + ": " + (error_.empty() ? "trailing data" : error_);
      return std::nullopt;
    }
    return root;
  }

 private:
  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  void skipSpace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t' || text_[at_] == '\r')) {
      ++at_;
    }
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (text_.compare(at_, w.size(), w) != 0) return fail("bad literal");
    at_ += w.size();
    return true;
  }
  bool value(JsonValue& out) {
    skipSpace();
    if (at_ >= text_.size()) return fail("unexpected end");
    const char c = text_[at_];
    if (c == '{') return object(out);
    if (c == '[') return array(out);
    if (c == '"') {
      out.type = JsonValue::Type::kString;
      return string(out.text);
    }
    if (c == 't' || c == 'f') {
      out.type = JsonValue::Type::kBool;
      out.boolean = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') return literal("null");
    return number(out);
  }
  bool number(JsonValue& out) {
    const std::size_t start = at_;
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    const std::size_t digits = at_;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    if (at_ == digits) return fail("bad number");
    if (text_[digits] == '0' && at_ - digits > 1) return fail("leading zero");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      const std::size_t frac = at_;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
      if (at_ == frac) return fail("bad fraction");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      const std::size_t exp = at_;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
      if (at_ == exp) return fail("bad exponent");
    }
    out.type = JsonValue::Type::kNumber;
    out.text = text_.substr(start, at_ - start);
    out.number = std::strtod(out.text.c_str(), nullptr);
    return true;
  }
  bool string(std::string& out) {
    ++at_;  // opening quote
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("raw control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) break;
      const char e = text_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (at_ + 4 > text_.size()) return fail("short \\u escape");
          const long code = std::strtol(text_.substr(at_, 4).c_str(), nullptr, 16);
          at_ += 4;
          if (code >= 0x80) return fail("non-ASCII \\u escape (not produced by the runner)");
          out += static_cast<char>(code);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }
  bool array(JsonValue& out) {
    out.type = JsonValue::Type::kArray;
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
    for (;;) {
      JsonValue item;
      if (!value(item)) return false;
      out.items.push_back(std::move(item));
      skipSpace();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
      return fail("expected , or ]");
    }
  }
  bool object(JsonValue& out) {
    out.type = JsonValue::Type::kObject;
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
    for (;;) {
      skipSpace();
      if (at_ >= text_.size() || text_[at_] != '"') return fail("expected a key");
      std::string key;
      if (!string(key)) return false;
      skipSpace();
      if (at_ >= text_.size() || text_[at_++] != ':') return fail("expected :");
      if (out.members.count(key) != 0) return fail("duplicate key " + key);
      if (!value(out.members[key])) return false;
      skipSpace();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
      return fail("expected , or }");
    }
  }

  const std::string& text_;
  std::size_t at_ = 0;
  std::string error_;
};

}  // namespace

const JsonValue* JsonValue::get(const std::string& key) const {
  if (type != Type::kObject) return nullptr;
  auto it = members.find(key);
  return it == members.end() ? nullptr : &it->second;
}

std::optional<JsonValue> parseJson(const std::string& text, std::string& error) {
  return Parser(text).document(error);
}

}  // namespace moonpool::runner_testing
