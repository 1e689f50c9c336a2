// A small counter service under the runner, with a bug that can be planted (test support for
// the runner tests and the counter_sim binary).
//
// Server: each "counter" process listens on kCounterPort and serves 9-byte requests
// ('A' + int64 amount: add; 'G' + 0: get), answering the counter's value as 8 bytes. The
// value lives in the process's memory (a reboot starts it from 0).
// Client workload: run() sends `ops` adds of random amounts to counter-1 and keeps the
// expected sum in its per-seed state; check() reads the counter and compares.
// Planted bytes: with RawBytes::kPlant an always-assertion fails in check() with a message
// that is not valid UTF-8.
// Planted bug: with bugOneIn = n > 0, each add is applied twice with probability 1/n (a draw
// from the counted main stream, so whether a seed fails depends only on the seed).
#pragma once

#include <cstdint>

#include "moonpool/runner/builder.h"

namespace moonpool::runner_testing {

inline constexpr std::uint16_t kCounterPort = 7000;

struct CounterOptions {
  std::int64_t ops = 20;
  std::int64_t bugOneIn = 0;  // 0: no bug
  // Fails every seed's check through an always-assertion whose message holds the bytes
  // 0xff 0xfe (invalid UTF-8): reports must stay valid UTF-8.
  enum class RawBytes : std::uint8_t { kOff, kPlant };
  RawBytes rawBytes = RawBytes::kOff;
  ChaosOptions chaos{};
  Duration chaosDuration{0};
};

// "counter": one counter process and one client workload.
SimulationBuilder counterBuilder(CounterOptions options);

}  // namespace moonpool::runner_testing
