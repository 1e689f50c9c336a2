// The runner's JSON writer (see json_writer.h).
#include "json_writer.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "moonpool/check.h"

namespace moonpool::internal {

std::string jsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void JsonWriter::beforeValue() {
  if (frames_.empty()) {
    MOONPOOL_CHECK(!rootWritten_, "a JSON document has one root value");
    rootWritten_ = true;
    return;
  }
  if (frames_.back() == Frame::kObject) {
    MOONPOOL_CHECK(keyPending_, "an object member needs a key before its value");
    keyPending_ = false;
    return;
  }
  if (!firstInFrame_.back()) out_ += ',';
  firstInFrame_.back() = false;
}

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  frames_.push_back(Frame::kObject);
  firstInFrame_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  MOONPOOL_CHECK(!frames_.empty() && frames_.back() == Frame::kObject, "no object to end");
  MOONPOOL_CHECK(!keyPending_, "an object ended after a key without a value");
  out_ += '}';
  frames_.pop_back();
  firstInFrame_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  frames_.push_back(Frame::kArray);
  firstInFrame_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  MOONPOOL_CHECK(!frames_.empty() && frames_.back() == Frame::kArray, "no array to end");
  out_ += ']';
  frames_.pop_back();
  firstInFrame_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  MOONPOOL_CHECK(!frames_.empty() && frames_.back() == Frame::kObject, "a key outside an object");
  MOONPOOL_CHECK(!keyPending_, "two keys in a row");
  if (!firstInFrame_.back()) out_ += ',';
  firstInFrame_.back() = false;
  out_ += jsonQuote(name);
  out_ += ':';
  keyPending_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  beforeValue();
  out_ += jsonQuote(text);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t number) {
  beforeValue();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  beforeValue();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  if (!std::isfinite(number)) return null();
  beforeValue();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.6g", number);
  out_ += buffer;
  return *this;
}

JsonWriter& JsonWriter::boolean(bool flag) {
  beforeValue();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  MOONPOOL_CHECK(!json.empty(), "an empty raw JSON value");
  beforeValue();
  out_ += json;
  return *this;
}

std::string JsonWriter::take() {
  MOONPOOL_CHECK(frames_.empty(), "a JSON document with unclosed objects or arrays");
  MOONPOOL_CHECK(rootWritten_, "an empty JSON document");
  return std::move(out_);
}

}  // namespace moonpool::internal
