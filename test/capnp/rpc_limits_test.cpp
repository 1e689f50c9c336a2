// Goal: the server's connection limits hold in simulation, on simulated time and seeded
// like everything else: a connection that sends nothing is closed at firstMessageTimeout,
// one that goes quiet at idleTimeout; at connectionsMax a newcomer is admitted by
// evicting the oldest connection that never sent a message, so a working client gets
// through; a message over incomingBytesMax, and one that would take the shared budget past
// its cap, close their connection, and a large unfinished message is evicted to make room
// for a small one; every closure is reported as kLimit with its reason.
// Method: an echo server process and attacker and client processes in a quiet SimWorld
// (rpc_testing.h); the attacker speaks raw bytes on the simulated network.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;

constexpr NetAddress kServer{kIp1, kEchoPort};

std::string firstWord(std::uint32_t words) {
  std::string word(8, '\0');
  for (int i = 0; i < 4; ++i) word[4 + i] = static_cast<char>(words >> (8 * i));
  return word;
}

struct AttackRun {
  std::vector<std::unique_ptr<Connection>> held;
  std::string answer;
  bool done = false;
};

// Holds `idle` silent connections, then (optionally) sends `body` on one more, then lets a
// real client call echo.
Task<void> attacker(ProcessContext& context, AttackRun* run, int idle, std::string body) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  for (int i = 0; i < idle; ++i) {
    run->held.push_back((co_await p.network().connect(kServer)).orThrow());
    co_await p.time().sleep(1ms);
  }
  if (!body.empty()) {
    run->held.push_back((co_await p.network().connect(kServer)).orThrow());
    static_cast<void>(co_await run->held.back()->writeAll(asBytes(body)));
    co_await p.time().sleep(5ms);
  }
  auto client = (co_await rpc::RpcClient::connect(p.network(), kServer)).orThrow();
  run->answer = co_await callEcho(client->bootstrap().castAs<Echo>(), "through");
  run->done = true;
  co_await p.time().sleep(1h);  // keep everything open until the world ends
}

std::vector<rpc::DisconnectReport> runWorld(std::uint64_t seed, rpc::RpcOptions options,
                                            AttackRun* run, int idle, std::string body,
                                            Duration length) {
  RpcWorld w(seed);
  ServerState server;
  server.options = std::move(options);
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &server)});
  w.world.addProcess(
      ProcessSpec{.name = "attacker", .main = bindTask(attacker, run, idle, std::move(body))});
  auto driver = [](SimWorld* world, Duration d) -> Task<void> {
    co_await world->rootProviders().time().sleep(d);
  };
  RunOutcome outcome = w.sim.run(driver(&w.world, length));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
  run->held.clear();  // simulated connections must not outlive their world
  return server.reports;
}

std::size_t countReason(const std::vector<rpc::DisconnectReport>& reports, const std::string& why) {
  std::size_t n = 0;
  for (const rpc::DisconnectReport& r : reports) {
    if (r.cause == DisconnectCause::kLimit && r.reason.find(why) != std::string::npos) ++n;
  }
  return n;
}

TEST(RpcLimitsTest, SilentConnectionsAreClosedAtTheFirstMessageDeadline) {
  rpc::RpcOptions options;
  options.firstMessageTimeout = 2s;
  AttackRun run;
  auto reports = runWorld(11, options, &run, 3, "", 10s);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "no complete first message within firstMessageTimeout"), 3u);
}

TEST(RpcLimitsTest, AQuietClientIsClosedAtTheIdleDeadline) {
  rpc::RpcOptions options;
  options.idleTimeout = 3s;
  AttackRun run;
  auto reports = runWorld(12, options, &run, 0, "", 10s);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "no message for idleTimeout"), 1u);
}

TEST(RpcLimitsTest, AtConnectionsMaxTheOldestSilentConnectionMakesRoom) {
  rpc::RpcOptions options;
  options.connectionsMax = 4;
  AttackRun run;
  auto reports = runWorld(13, options, &run, 4, "", 1s);
  EXPECT_TRUE(run.done);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "evicted to admit a new connection"), 1u);
}

TEST(RpcLimitsTest, AMessageOverIncomingBytesMaxClosesItsConnection) {
  rpc::RpcOptions options;
  options.incomingBytesMax = 4096;
  AttackRun run;
  auto reports = runWorld(14, options, &run, 0, firstWord(1024) + std::string(100, 'x'), 1s);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "over incomingBytesMax (4096)"), 1u);
}

TEST(RpcLimitsTest, AMessageOverTheSharedBudgetClosesItsConnection) {
  rpc::RpcOptions options;
  options.budget = std::make_shared<rpc::RpcBudget>();
  options.budget->incomingBytesMax = 4096;
  AttackRun run;
  auto reports = runWorld(15, options, &run, 0, firstWord(1024) + std::string(100, 'x'), 1s);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "over the shared budget's incomingBytesMax (4096)"), 1u);
  EXPECT_EQ(options.budget->incomingBytes, 0u) << "everything was given back";
}

// A connection holding almost the whole shared budget with a message it never finishes:
// the next small message evicts it rather than being refused.
TEST(RpcLimitsTest, AnUnfinishedLargeMessageIsEvictedToMakeRoomForASmallOne) {
  constexpr std::uint32_t kBudgetBytes = 64 * 1024;
  rpc::RpcOptions options;
  options.budget = std::make_shared<rpc::RpcBudget>();
  options.budget->incomingBytesMax = kBudgetBytes;
  AttackRun run;
  const std::uint32_t words = kBudgetBytes / 8 - 8;  // with its first word: 56 bytes short
  auto reports = runWorld(16, options, &run, 0, firstWord(words) + std::string(32 * 1024, 'u'), 1s);
  EXPECT_EQ(run.answer, "through");
  EXPECT_EQ(countReason(reports, "closed to make room in the shared budget"), 1u);
  EXPECT_EQ(options.budget->refusals, 1u);
  EXPECT_EQ(options.budget->incomingBytes, 0u) << "everything was given back";
}

TEST(RpcLimitsTest, BadLimitOptionsAreRefused) {
  rpc::RpcOptions options;
  options.idleTimeout = Duration{0};
  auto valid = rpc::validateRpcOptions(options);
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("idleTimeout"), std::string::npos);
  options = {};
  options.incomingBytesMax = 0;
  EXPECT_FALSE(rpc::validateRpcOptions(options).ok());
  options = {};
  options.acceptBackoffInitial = std::chrono::seconds(2);
  EXPECT_FALSE(rpc::validateRpcOptions(options).ok()) << "backoff max below initial";
}

}  // namespace
}  // namespace moonpool
