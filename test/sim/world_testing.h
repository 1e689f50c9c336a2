// Shared helpers for the simulated-world tests (their worlds start from
// WorldOptions::quiet()): byte/string conversions and a one-call way to run a driver Task
// in a fresh seed.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "moonpool/sim/world.h"

namespace moonpool::world_testing {

inline std::string text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Reads until end of stream (or an error, returned as "<error: ...>").
inline Task<std::string> readAll(Connection& connection) {
  std::string out;
  std::byte buffer[4096];
  for (;;) {
    IoResult<std::size_t> got = co_await connection.read(buffer);
    if (!got.ok()) co_return out + "<error: " + got.error().toString() + ">";
    if (*got == 0) co_return out;
    out += text(std::span(buffer, *got));
  }
}

inline NetAddress addressOf(IpAddress ip, std::uint16_t port) { return NetAddress{ip, port}; }

// The IPs the world gives its first three processes.
inline constexpr IpAddress kIp1 = IpAddress::fromOctets(10, 0, 1, 1);
inline constexpr IpAddress kIp2 = IpAddress::fromOctets(10, 0, 1, 2);
inline constexpr IpAddress kIp3 = IpAddress::fromOctets(10, 0, 1, 3);

}  // namespace moonpool::world_testing
