// A small streaming JSON writer for the runner's reports (runtime/ runner layer, private).
//
// Writes compact JSON into a string. Structure is checked as it is written (a key only
// inside an object, a value only where one is expected, balanced ends) so a malformed
// report is a MOONPOOL_CHECK failure, never silent garbage. Strings are escaped per RFC 8259
// (", \, control characters as \u00XX); bytes >= 0x80 pass through (UTF-8 stays UTF-8).
// Doubles that are not finite are written as null (JSON has no NaN or infinity).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moonpool::internal {

// `text` as a JSON string literal, quotes included.
std::string jsonQuote(std::string_view text);

class JsonWriter {
 public:
  JsonWriter() = default;
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // The key of the next member; only inside an object.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint32_t number) { return value(std::uint64_t{number}); }
  JsonWriter& value(int number) { return value(std::int64_t{number}); }
  JsonWriter& value(double number);
  JsonWriter& boolean(bool flag);
  JsonWriter& null();
  // An already-rendered JSON value (e.g. the assertion report's object), inserted verbatim.
  JsonWriter& raw(std::string_view json);

  // The document; every object and array must be closed.
  std::string take();

 private:
  enum class Frame : std::uint8_t { kObject, kArray };
  void beforeValue();

  std::string out_;
  std::vector<Frame> frames_;
  std::vector<bool> firstInFrame_;
  bool keyPending_ = false;
  bool rootWritten_ = false;
};

}  // namespace moonpool::internal
