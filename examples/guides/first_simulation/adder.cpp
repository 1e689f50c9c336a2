// "Your first simulation" (README.md): an adder server and a client workload under network
// chaos, run over many seeds by the runner. Built against the installed package by
// test/package (package_guides_test), which runs it with --seeds, --seed and --explore.
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include "moonpool/assertions.h"
#include "moonpool/runner/main.h"

namespace adder {

using namespace std::chrono_literals;
using moonpool::Task;

constexpr std::uint16_t kPort = 7000;

// Chaos flips bits on the wire, so every number travels with its complement: 16 bytes.
using Frame = std::array<std::byte, 16>;

Frame encode(std::int64_t value) {
  const std::int64_t check = ~value;
  Frame frame{};
  std::memcpy(frame.data(), &value, 8);
  std::memcpy(frame.data() + 8, &check, 8);
  return frame;
}

std::optional<std::int64_t> decode(const Frame& frame) {
  std::int64_t value = 0;
  std::int64_t check = 0;
  std::memcpy(&value, frame.data(), 8);
  std::memcpy(&check, frame.data() + 8, 8);
  if (check != ~value) return std::nullopt;
  return value;
}

// The system under test: adds each number it reads to a total, and answers the total.
Task<void> serveConnection(std::unique_ptr<moonpool::Connection> connection,
                           std::shared_ptr<std::int64_t> total) {
  for (;;) {
    Frame frame{};
    if (!(co_await connection->readExactly(frame)).ok()) co_return;  // peer gone: drop it
    std::optional<std::int64_t> amount = decode(frame);
    if (!amount) co_return;  // damaged in transit: drop the connection, add nothing
    *total += *amount;
    if (!(co_await connection->writeAll(encode(*total))).ok()) co_return;
  }
}

Task<void> serverMain(moonpool::ProcessContext& process) {
  moonpool::Providers providers = process.providers();
  auto total = std::make_shared<std::int64_t>(0);
  auto listener =
      providers.network().listen(moonpool::NetAddress{process.ip(), kPort}, 16).orThrow();
  for (;;) {
    auto accepted = co_await listener->accept();
    if (!accepted.ok()) co_return;
    providers.tasks().spawn("conn", serveConnection(std::move(accepted).orThrow(), total))
        .detach();
  }
}

// The workload: adds numbers until the chaos phase ends. An add whose answer was lost may
// or may not have happened, so the total must lie between what was acknowledged and what
// was attempted.
struct Client {
  std::unique_ptr<moonpool::Connection> connection;
  std::int64_t acknowledged = 0;
  std::int64_t attempted = 0;
};

// Adds `amount` (0 just reads the total); nullopt when the connection broke.
Task<std::optional<std::int64_t>> add(moonpool::WorkloadContext& ctx, std::int64_t amount) {
  Client& client = ctx.state<Client>();
  if (!client.connection) {
    auto server = ctx.process().peer("adder-1");
    auto connected = co_await ctx.providers().network().connect({server->ip, kPort});
    if (!connected.ok()) co_return std::nullopt;
    client.connection = std::move(connected).orThrow();
  }
  Frame frame = encode(amount);
  client.attempted += amount;
  if ((co_await client.connection->writeAll(frame)).ok() &&
      (co_await client.connection->readExactly(frame)).ok()) {
    if (std::optional<std::int64_t> total = decode(frame)) {
      client.acknowledged += amount;
      co_return total;
    }
  }
  client.connection.reset();
  MOONPOOL_SOMETIMES(true, "a connection broke under chaos");
  co_return std::nullopt;
}

Task<void> clientRun(moonpool::WorkloadContext& ctx) {
  Client& client = ctx.state<Client>();
  while (!ctx.chaosOver().isSet()) {
    const std::int64_t amount = ctx.providers().random().between(1, 100);
    if (std::optional<std::int64_t> total = co_await add(ctx, amount)) {
      MOONPOOL_ALWAYS_GE(*total, client.acknowledged, "no acknowledged add is lost");
    }
    co_await ctx.providers().time().sleep(10ms);
  }
}

Task<moonpool::CheckResult> clientCheck(moonpool::WorkloadContext& ctx) {
  Client& client = ctx.state<Client>();
  std::optional<std::int64_t> total;
  while (!total) total = co_await add(ctx, 0);  // the world is quiet now: this gets through
  if (*total < client.acknowledged || *total > client.attempted) {
    co_return moonpool::CheckResult::fail("total " + std::to_string(*total) + " outside [" +
                                          std::to_string(client.acknowledged) + ", " +
                                          std::to_string(client.attempted) + "]");
  }
  co_return moonpool::CheckResult::pass();
}

moonpool::SimulationBuilder builder() {
  moonpool::SimulationBuilder builder("adder");
  builder.processes(1, "adder", serverMain)
      .workload(moonpool::Workload{.name = "client", .run = clientRun, .check = clientCheck})
      .chaos(moonpool::ChaosOptions{.network = moonpool::FaultProfile::kChaotic})
      .chaosDuration(5s)
      .settleDuration(1s)
      .iterations(20);
  return builder;
}

}  // namespace adder

int main(int argc, char** argv) { return moonpool::runMain(argc, argv, adder::builder()); }
