// Helpers shared by the network contract suites (test/core/contracts): listening on the local
// host, reading to end of stream, sending text.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "harness.h"
#include "moonpool/network.h"

namespace moonpool::conformance {

inline constexpr std::size_t kBacklog = 8;
// An odd read size, so reads and writes never line up by accident.
inline constexpr std::size_t kReadChunkBytes = 7919;

// A port-0 listener on the local host of `env`.
IoResult<std::unique_ptr<Listener>> listenLocal(ContractEnv& env, std::size_t backlog = kBacklog);

// Everything the peer sends until end of stream, or the first error. `connection` lives
// until the Task ends.
Task<IoResult<std::string>> readToEnd(Connection& connection);

// writeAll() of `text`.
Task<IoResult<void>> sendText(Connection& connection, std::string text);

// `size` bytes of a position-dependent pattern; different salts give different streams.
std::string pattern(std::size_t size, unsigned salt);

}  // namespace moonpool::conformance
