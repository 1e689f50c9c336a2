// A plain implementation of roundtrip::Echo (inputs/all_types.h) shared by the annotate
// tests that serve it through the generated EchoServer: roundtrip_test (which subclasses it)
// and interop_test.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "all_types.moonpool.h"
#include "moonpool/error.h"

namespace roundtrip {

class EchoImpl : public Echo {
 public:
  // implements Echo
  moonpool::Task<Everything> echo(Everything value) override { co_return value; }
  moonpool::Task<std::optional<std::string>> find(const std::string& key,
                                                  Color color) override {
    if (color != Color::kGreen) co_return std::nullopt;
    co_return "found " + key;
  }
  moonpool::Task<std::map<std::string, std::string>> scan(std::string from_key,
                                                          uint32_t limit) override {
    std::map<std::string, std::string> out;
    for (uint32_t i = 0; i < limit; ++i) out[from_key + std::to_string(i)] = std::to_string(i);
    co_return out;
  }
  moonpool::Task<std::vector<uint8_t>> bytes(std::vector<uint8_t> data) override {
    data.push_back(0xee);
    co_return data;
  }
  moonpool::Task<void> fail(int32_t kind) override {
    if (kind < 0) throw std::runtime_error("not a moonpool error");
    throw moonpool::Exception(static_cast<moonpool::ErrorKind>(kind), "failing on purpose");
    co_return;
  }
  moonpool::Task<> ping() override {
    ++pings;
    co_return;
  }
  moonpool::Task<Color> next(Color color, Legacy legacy) override {
    co_return legacy == kLegacyA ? color : Color::kRed;
  }
  moonpool::Task<bool> negate(bool value) const override { co_return !value; }

  int pings = 0;
};

}  // namespace roundtrip
