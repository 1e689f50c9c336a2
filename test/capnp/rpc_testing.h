// Shared helpers for the rpc tests: the Echo service (echo.capnp), a simulated world that
// hosts a KJ loop, an echo server process and small call helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "echo.capnp.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/rpc/two_party.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/sim/world.h"

namespace moonpool::rpc_testing {

inline constexpr std::uint16_t kEchoPort = 5000;
// The IPs the world gives its first three processes.
inline constexpr IpAddress kIp1 = IpAddress::fromOctets(10, 0, 1, 1);
inline constexpr IpAddress kIp2 = IpAddress::fromOctets(10, 0, 1, 2);
inline constexpr IpAddress kIp3 = IpAddress::fromOctets(10, 0, 1, 3);

struct EchoStats {
  std::uint64_t calls = 0;
  std::uint32_t active = 0;     // slowEcho calls running now
  std::uint32_t activeMax = 0;  // the most that ever ran at once
};

// Echo: echo answers at once; slowEcho sleeps on `time` first (a Task behind the
// kj::Promise, so the sleep is simulated time in simulation); depth reads the whole tree.
class EchoImpl final : public Echo::Server {
 public:
  EchoImpl(TimeProvider& time, EchoStats* stats) : time_(time), stats_(stats) {}

  // implements Echo::Server
  kj::Promise<void> echo(EchoContext context) override;
  kj::Promise<void> slowEcho(SlowEchoContext context) override;
  kj::Promise<void> depth(DepthContext context) override;
  kj::Promise<void> size(SizeContext context) override;

 private:
  TimeProvider& time_;
  EchoStats* stats_;
};

// One seed: simulation, KJ loop and world, declared in the order their lifetimes need (the
// KJ loop outlives every process, whose frames hold KJ objects).
struct RpcWorld {
  explicit RpcWorld(std::uint64_t seed, WorldOptions options = WorldOptions::quiet())
      : sim(SimOptions{.seed = seed}), kj(sim.executor()), world(sim, std::move(options)) {}
  Simulation sim;
  SimKjLoop kj;
  SimWorld world;
};

// What an echo server process is given and leaves behind for the test to check.
struct ServerState {
  rpc::RpcOptions options;
  EchoStats stats;
  std::vector<rpc::DisconnectReport> reports;
  std::uint64_t boots = 0;
};

// Process main: serves Echo on kEchoPort with state->options until killed. Disconnect
// reports go to state->reports.
Task<void> echoServerMain(ProcessContext& context, ServerState* state);

// Calls echo(text) and returns the answer.
Task<std::string> callEcho(Echo::Client echo, std::string text);
// Calls slowEcho(text, delayMs) and returns the answer.
Task<std::string> callSlowEcho(Echo::Client echo, std::string text, std::uint32_t delayMs);

// Runs `body` and returns the moonpool ErrorKind it threw, or nullopt when it returned.
Task<std::optional<ErrorKind>> errorOf(Task<void> body);

}  // namespace moonpool::rpc_testing
