// The counter service and its client workload (see counter_sim.h).
#include "counter_sim.h"

#include <array>
#include <cstring>
#include <memory>

#include "moonpool/assertions.h"

namespace moonpool::runner_testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kRequestBytes = 9;
constexpr int kConnectAttemptsMax = 100;

std::array<std::byte, kRequestBytes> request(char op, std::int64_t amount) {
  std::array<std::byte, kRequestBytes> out{};
  out[0] = static_cast<std::byte>(op);
  std::memcpy(out.data() + 1, &amount, sizeof amount);
  return out;
}

struct ServerState {
  std::int64_t value = 0;
  std::int64_t bugOneIn = 0;
};

Task<void> serveConnection(Providers providers, std::unique_ptr<Connection> connection,
                           std::shared_ptr<ServerState> state) {
  for (;;) {
    std::array<std::byte, kRequestBytes> in{};
    if (!(co_await connection->readExactly(in)).ok()) co_return;
    std::int64_t amount = 0;
    std::memcpy(&amount, in.data() + 1, sizeof amount);
    if (static_cast<char>(in[0]) == 'A') {
      state->value += amount;
      const bool planted =
          state->bugOneIn > 0 &&
          providers.random().below(static_cast<std::uint64_t>(state->bugOneIn)) == 0;
      if (planted) state->value += amount;  // the planted bug: a double apply
    }
    std::array<std::byte, 8> out{};
    std::memcpy(out.data(), &state->value, sizeof state->value);
    if (!(co_await connection->writeAll(out)).ok()) co_return;
  }
}

struct CounterServer {
  std::int64_t bugOneIn;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return serve(ctx.providers(), ctx.ip(), bugOneIn);
  }

  static Task<void> serve(Providers providers, IpAddress ip, std::int64_t bugOneIn) {
    auto state = std::make_shared<ServerState>();
    state->bugOneIn = bugOneIn;
    std::unique_ptr<Listener> listener =
        providers.network().listen(NetAddress{ip, kCounterPort}, 16).orThrow();
    for (;;) {
      IoResult<std::unique_ptr<Connection>> accepted = co_await listener->accept();
      if (!accepted.ok()) co_return;
      providers.tasks()
          .spawn("serve", serveConnection(providers, std::move(accepted).orThrow(), state))
          .detach();
    }
  }
};

struct ClientState {
  std::unique_ptr<Connection> connection;
  std::int64_t expected = 0;
  std::int64_t ops = 0;
  CounterOptions::RawBytes rawBytes = CounterOptions::RawBytes::kOff;
};

Task<std::int64_t> call(Connection& connection, char op, std::int64_t amount) {
  const std::array<std::byte, kRequestBytes> out = request(op, amount);
  (co_await connection.writeAll(out)).orThrow();
  std::array<std::byte, 8> in{};
  (co_await connection.readExactly(in)).orThrow();
  std::int64_t value = 0;
  std::memcpy(&value, in.data(), sizeof value);
  co_return value;
}

Task<void> clientSetup(WorkloadContext& ctx) {
  const std::optional<ProcessInfo> server = ctx.process().peer("counter-1");
  MOONPOOL_CHECK(server.has_value(), "the counter process exists");
  ClientState& state = ctx.state<ClientState>();
  for (int attempt = 0; attempt < kConnectAttemptsMax; ++attempt) {
    IoResult<std::unique_ptr<Connection>> c =
        co_await ctx.providers().network().connect(NetAddress{server->ip, kCounterPort});
    if (c.ok()) {
      state.connection = std::move(c).orThrow();
      co_return;
    }
    co_await ctx.providers().time().sleep(10ms);
  }
  throw Exception(ErrorKind::kDisconnected, "the counter never accepted a connection");
}

Task<void> clientRun(WorkloadContext& ctx) {
  ClientState& state = ctx.state<ClientState>();
  RandomProvider& random = ctx.providers().random();
  for (std::int64_t i = 0; i < state.ops; ++i) {
    const std::int64_t amount = random.between(1, 100);
    const std::int64_t value = co_await call(*state.connection, 'A', amount);
    state.expected += amount;
    MOONPOOL_SOMETIMES(amount > 90, "a large add (over 90)");
    MOONPOOL_ALWAYS_GE(value, state.expected, "the counter never loses an add");
    ctx.addMetric("adds", 1);
    co_await ctx.providers().time().sleep(random.durationBetween(1ms, 20ms));
  }
}

Task<CheckResult> clientCheck(WorkloadContext& ctx) {
  ClientState& state = ctx.state<ClientState>();
  const std::int64_t value = co_await call(*state.connection, 'G', 0);
  MOONPOOL_ALWAYS(state.rawBytes == CounterOptions::RawBytes::kOff,
                  "counter_sim: planted raw bytes \xff\xfe in an assertion message");
  if (value != state.expected) {
    co_return CheckResult::fail("counter is " + std::to_string(value) + ", expected " +
                                std::to_string(state.expected));
  }
  co_return CheckResult::pass();
}

struct ClientSetup {
  std::int64_t ops;
  CounterOptions::RawBytes rawBytes;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    ctx.state<ClientState>().ops = ops;
    ctx.state<ClientState>().rawBytes = rawBytes;
    return clientSetup(ctx);
  }
};

}  // namespace

SimulationBuilder counterBuilder(CounterOptions options) {
  SimulationBuilder builder("counter");
  builder.processes(1, "counter", CounterServer{options.bugOneIn})
      .workload(Workload{.name = "client",
                         .setup = ClientSetup{options.ops, options.rawBytes},
                         .run = clientRun,
                         .check = clientCheck})
      .chaos(options.chaos)
      .chaosDuration(options.chaosDuration)
      .settleDuration(std::chrono::milliseconds(100));
  return builder;
}

}  // namespace moonpool::runner_testing
