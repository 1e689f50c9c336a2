// Goal: the text report is an aligned table with a status per site and lists contract
// breaches; the JSON rendering is well-formed, escapes strings, and carries the same facts.
// Method: drive a few sites (one with a message full of characters JSON must escape), render
// both forms, check table alignment line by line, and parse the JSON with a small strict
// RFC 8259 parser written here, then read fields back from the parsed tree.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "moonpool/assertions.h"
#include "moonpool/assertions/report.h"
#include "moonpool/runner/report.h"  // the one JSON rendering of the table
#include "assertion_testing.h"

namespace moonpool {

// Never called (external linkage, so it is emitted and its site is in the catalog).
void neverServed();
void neverServed() { MOONPOOL_REACHABLE("a path never served"); }

namespace {

// ---- a strict little JSON parser (test-only) -----------------------------------------------

struct Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json>;
struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
               std::shared_ptr<JsonObject>>
      value;
  const Json& operator[](const std::string& key) const { return std::get<5>(value)->at(key); }
  const Json& operator[](std::size_t i) const { return std::get<4>(value)->at(i); }
  const std::string& str() const { return std::get<3>(value); }
  double num() const { return std::get<2>(value); }
  std::size_t size() const { return std::get<4>(value)->size(); }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Json document() {
    Json v = value();
    skipSpace();
    if (pos_ != text_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error(why + " at offset " + std::to_string(pos_));
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  char peek() { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected ") + c);
    ++pos_;
  }
  Json value() {
    skipSpace();
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (text_.substr(pos_, 4) == "true") return pos_ += 4, Json{true};
    if (text_.substr(pos_, 5) == "false") return pos_ += 5, Json{false};
    if (text_.substr(pos_, 4) == "null") return pos_ += 4, Json{nullptr};
    return number();
  }
  Json number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad number");
    while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    return Json{std::stod(std::string(text_.substr(start, pos_ - start)))};
  }
  std::string string() {
    expect('"');
    std::string out;
    while (peek() != '"') {
      const char c = peek();
      if (c == '\0') fail("unterminated string");
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in string");
      ++pos_;
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      ++pos_;
      static const std::map<char, char> kSimple = {{'"', '"'}, {'\\', '\\'}, {'/', '/'},
                                                   {'n', '\n'}, {'r', '\r'}, {'t', '\t'},
                                                   {'b', '\b'}, {'f', '\f'}};
      if (auto it = kSimple.find(e); it != kSimple.end()) {
        out += it->second;
      } else if (e == 'u') {
        out += static_cast<char>(std::stoi(std::string(text_.substr(pos_, 4)), nullptr, 16));
        pos_ += 4;
      } else {
        fail("bad escape");
      }
    }
    ++pos_;
    return out;
  }
  Json array() {
    expect('[');
    auto items = std::make_shared<JsonArray>();
    skipSpace();
    if (peek() == ']') return ++pos_, Json{items};
    for (;;) {
      items->push_back(value());
      skipSpace();
      if (peek() == ']') return ++pos_, Json{items};
      expect(',');
    }
  }
  Json object() {
    expect('{');
    auto members = std::make_shared<JsonObject>();
    skipSpace();
    if (peek() == '}') return ++pos_, Json{members};
    for (;;) {
      skipSpace();
      std::string key = string();
      skipSpace();
      expect(':');
      if (!members->emplace(key, value()).second) fail("duplicate key " + key);
      skipSpace();
      if (peek() == '}') return ++pos_, Json{members};
      expect(',');
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---- sites ---------------------------------------------------------------------------------

void serve(int load) {
  MOONPOOL_ALWAYS_LT(load, 50, "load \"stays\" under\t50\\limit");
  MOONPOOL_SOMETIMES(load > 40, "load gets high");
  MOONPOOL_SOMETIMES_EACH("load decile", load / 10);
  MOONPOOL_SOMETIMES_ALL("two conditions", load > 1, load > 100);
}

class Reports : public FreshAssertionTable {
 protected:
  void SetUp() override {
    FreshAssertionTable::SetUp();
    for (int load : {10, 45, 60, 45}) serve(load);
  }
};

TEST_F(Reports, JsonIsWellFormedAndCarriesTheFacts) {
  const std::string json = renderAssertionsJson(collectAssertionReport());
  Json root;
  ASSERT_NO_THROW(root = Parser(json).document()) << json;
  EXPECT_EQ(root["violations"].num(), 1);
  const Json& sites = root["sites"];
  ASSERT_EQ(sites.size(), 5u);
  bool sawLoad = false;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const Json& s = sites[i];
    if (s["kind"].str() != "always_lt") continue;
    sawLoad = true;
    EXPECT_EQ(s["message"].str(), "load \"stays\" under\t50\\limit");
    EXPECT_EQ(s["condition"].str(), "load < 50");
    EXPECT_EQ(s["status"].str(), "FAIL");
    EXPECT_EQ(s["hits"].num(), 4);
    EXPECT_EQ(s["fails"].num(), 1);
    EXPECT_EQ(s["first_failure"]["evaluation"].num(), 3);
    EXPECT_EQ(s["first_failure"]["left"].num(), 60);
    EXPECT_EQ(s["watermark"].num(), 60);
  }
  EXPECT_TRUE(sawLoad);
  const Json& breaches = root["breaches"];
  ASSERT_EQ(breaches.size(), 3u);  // load limit, never served, two conditions
  // Report order is by file then line: neverServed() is defined above serve().
  EXPECT_EQ(breaches[0]["breach"].str(), "never_reached");
  EXPECT_EQ(breaches[0]["message"].str(), "a path never served");
  EXPECT_EQ(breaches[1]["breach"].str(), "always_violated");
  EXPECT_EQ(breaches[2]["breach"].str(), "never_true");
}

TEST_F(Reports, EachBucketsAppearInJson) {
  Json root = Parser(renderAssertionsJson(collectAssertionReport())).document();
  const Json& sites = root["sites"];
  for (std::size_t i = 0; i < sites.size(); ++i) {
    if (sites[i]["kind"].str() != "sometimes_each") continue;
    const Json& buckets = sites[i]["buckets"];
    ASSERT_EQ(buckets.size(), 3u);  // deciles 1, 4, 6
    EXPECT_EQ(buckets[1]["keys"][0].num(), 4);
    EXPECT_EQ(buckets[1]["hits"].num(), 2);
    EXPECT_EQ(sites[i]["buckets_max"].num(), kBucketsPerSiteMax);
    return;
  }
  ADD_FAILURE() << "no sometimes_each site";
}

TEST_F(Reports, TextTableIsAlignedWithStatuses) {
  const AssertionReport report = collectAssertionReport();
  const std::string text = renderText(report);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "assertions: 5 sites, 1 violations, 5 discoveries, 0 bucket overflows");
  std::getline(lines, line);
  const std::size_t locationColumn = line.find("LOCATION");
  ASSERT_NE(locationColumn, std::string::npos);
  for (int row = 0; row < 5; ++row) {
    ASSERT_TRUE(std::getline(lines, line));
    // Every location starts exactly under the LOCATION header.
    EXPECT_EQ(line.find(report.sites[row].file + ":"), locationColumn) << line;
  }
  EXPECT_NE(text.find("FAIL "), std::string::npos);
  EXPECT_NE(text.find("never reached "), std::string::npos);
  EXPECT_NE(text.find("never true "), std::string::npos);
  EXPECT_NE(text.find("frontier=1/2"), std::string::npos);
  EXPECT_NE(text.find("contract breaches: 3"), std::string::npos);
  EXPECT_NE(text.find("BUG  always_violated"), std::string::npos);
  EXPECT_NE(text.find("left = 60, right = 50"), std::string::npos);
}

TEST_F(Reports, RenderingIsDeterministic) {
  EXPECT_EQ(renderText(collectAssertionReport()), renderText(collectAssertionReport()));
  EXPECT_EQ(renderAssertionsJson(collectAssertionReport()),
            renderAssertionsJson(collectAssertionReport()));
}

}  // namespace
}  // namespace moonpool
