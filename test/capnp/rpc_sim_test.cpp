// Goal: Cap'n Proto two-party RPC runs unmodified between simulated processes over the
// simulated network: calls (sequential and concurrent) return the right answers on
// simulated time, identically for the same seed, also with latency and partial I/O on
// every call; a killed server fails the client's pending call with DISCONNECTED (no hang)
// and serves again after its reboot; the per-connection in-flight cap holds; and plain
// capnp::TwoPartyServer / TwoPartyClient work through KjNetwork.
// Method: an echo server process and a client process in a SimWorld; the driver steers
// faults and kills; results, decision hashes and server statistics are compared.
#include <gtest/gtest.h>

#include <capnp/rpc-twoparty.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "moonpool/kj/kj_network.h"
#include "moonpool/combinators.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc::RpcClient;

constexpr NetAddress kServer{kIp1, kEchoPort};

struct ClientState {
  rpc::RpcOptions options;
  std::uint32_t concurrent = 8;  // slowEcho calls in flight at once
  std::uint32_t delayMs = 50;
  std::vector<std::string> log;
  bool done = false;
};

std::string stamp(TimeProvider& time) {
  return std::to_string(time.now().time_since_epoch().count());
}

Task<void> echoClientMain(ProcessContext& context, ClientState* state) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);  // the server listens first
  auto client = (co_await RpcClient::connect(p.network(), kServer, state->options)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  for (int i = 0; i < 5; ++i) {
    std::string answer = co_await callEcho(echo, "call " + std::to_string(i));
    state->log.push_back(answer + " at " + stamp(p.time()));
  }
  std::vector<Task<std::string>> calls;
  for (std::uint32_t i = 0; i < state->concurrent; ++i) {
    calls.push_back(callSlowEcho(echo, "slow " + std::to_string(i), state->delayMs));
  }
  for (std::string& answer : co_await whenAll(std::move(calls))) {
    state->log.push_back(answer + " at " + stamp(p.time()));
  }
  state->done = true;
}

struct EchoRun {
  RunOutcome outcome;
  std::vector<std::string> log;
  ServerState server;
  bool done = false;
  std::map<std::string, std::uint64_t, std::less<>> faults;
};

EchoRun runEcho(std::uint64_t seed, WorldOptions options, rpc::RpcOptions rpc = {}) {
  RpcWorld w(seed, std::move(options));
  EchoRun run;
  run.server.options = rpc;
  ClientState client;
  client.options = rpc;
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &run.server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(echoClientMain, &client)});
  auto driver = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(30s);
  };
  run.outcome = w.sim.run(driver(&w.world));
  run.log = client.log;
  run.done = client.done;
  run.faults = w.world.timeline().faultCounts();
  return run;
}

WorldOptions latencyAndPartialIo() {
  WorldOptions options = WorldOptions::quiet();
  options.network.latency = LatencyModel::uniform(100us, 5ms);
  options.network.faults.partialIoProbability = Probability{0.3};
  return options;
}

void expectAnswers(const EchoRun& run) {
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.done);
  ASSERT_EQ(run.log.size(), 5u + 8u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(run.log[i].rfind("call " + std::to_string(i) + " at ", 0), 0u);
  }
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(run.log[5 + i].rfind("slow " + std::to_string(i) + " at ", 0), 0u) << run.log[5 + i];
  }
  EXPECT_EQ(run.server.stats.calls, 13u);
  EXPECT_EQ(run.server.stats.activeMax, 8u) << "the slow calls overlapped";
}

TEST(RpcSimTest, TwoPartyRpcBetweenProcessesIsDeterministic) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    EchoRun a = runEcho(seed, WorldOptions::quiet());
    EchoRun b = runEcho(seed, WorldOptions::quiet());
    expectAnswers(a);
    EXPECT_EQ(a.outcome.decisionHash, b.outcome.decisionHash) << "seed " << seed;
    EXPECT_EQ(a.log, b.log) << "seed " << seed;
  }
}

TEST(RpcSimTest, DeterministicWithLatencyAndPartialIo) {
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed : {4u, 5u, 6u}) {
    EchoRun a = runEcho(seed, latencyAndPartialIo());
    EchoRun b = runEcho(seed, latencyAndPartialIo());
    expectAnswers(a);
    EXPECT_GT(a.faults["net.partial_read"] + a.faults["net.partial_write"], 0u);
    EXPECT_EQ(a.outcome.decisionHash, b.outcome.decisionHash) << "seed " << seed;
    EXPECT_EQ(a.log, b.log) << "seed " << seed;
    hashes.insert(a.outcome.decisionHash);
  }
  EXPECT_EQ(hashes.size(), 3u) << "seeds change the interleaving";
}

TEST(RpcSimTest, ChecksummedFramingGivesTheSameAnswers) {
  rpc::RpcOptions rpc;
  rpc.framing = rpc::Framing::kChecksummed;
  EchoRun run = runEcho(7, latencyAndPartialIo(), rpc);
  expectAnswers(run);
}

// --- a killed server ----------------------------------------------------------------------

struct KillObservations {
  std::optional<ErrorKind> pendingCall;
  TimePoint failedAt;
  std::optional<rpc::DisconnectReport> report;
  std::string afterReboot;
};

Task<void> callThroughAKill(ProcessContext& context, KillObservations* seen) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  auto client = (co_await RpcClient::connect(p.network(), kServer)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  seen->pendingCall = co_await errorOf([](Echo::Client e) -> Task<void> {
    co_await callSlowEcho(e, "never answered", 60'000);
  }(echo));
  seen->failedAt = p.time().now();
  seen->report = co_await client->disconnected();
  co_await p.time().sleep(5s);  // the server reboots meanwhile
  auto again = (co_await RpcClient::connect(p.network(), kServer)).orThrow();
  seen->afterReboot = co_await callEcho(again->bootstrap().castAs<Echo>(), "back");
}

Task<void> killServerAt1s(SimWorld* world, ProcessId server, ServerState* state) {
  co_await world->rootProviders().time().sleep(1s);
  EXPECT_EQ(state->stats.active, 1u) << "the slow call is running";
  world->reboot(server, RebootKind::kCrash, 2s);
  co_await world->rootProviders().time().sleep(100ms);
  EXPECT_EQ(state->stats.active, 0u) << "the killed server's call died with it";
  co_await world->rootProviders().time().sleep(20s);
}

TEST(RpcSimTest, AKilledServerFailsThePendingCallWithDisconnected) {
  RpcWorld w(31);
  ServerState server;
  KillObservations seen;
  ProcessId id = w.world.addProcess(
      ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(callThroughAKill, &seen)});
  RunOutcome outcome = w.sim.run(killServerAt1s(&w.world, id, &server));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_TRUE(seen.pendingCall.has_value()) << "the pending call returned";
  EXPECT_EQ(*seen.pendingCall, ErrorKind::kDisconnected);
  EXPECT_LT(seen.failedAt, TimePoint(1100ms)) << "failed at the kill, not at a timeout";
  ASSERT_TRUE(seen.report.has_value());
  EXPECT_EQ(seen.report->cause, DisconnectCause::kIoError) << seen.report->toString();
  EXPECT_NE(seen.report->reason.find("reset"), std::string::npos) << seen.report->toString();
  EXPECT_EQ(seen.afterReboot, "back");
  EXPECT_EQ(server.boots, 2u);
}

// --- in-flight cap --------------------------------------------------------------------------

TEST(RpcSimTest, TheInFlightCapBoundsConcurrentCallsPerConnection) {
  rpc::RpcOptions capped;
  capped.callsInFlightMax = 3;
  EchoRun run = runEcho(41, WorldOptions::quiet(), capped);
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.done) << "every call completed under the cap";
  EXPECT_EQ(run.server.stats.activeMax, 3u);
  EchoRun free = runEcho(41, WorldOptions::quiet());
  EXPECT_EQ(free.server.stats.activeMax, 8u);
}

// --- plain Cap'n Proto over KjNetwork -------------------------------------------------------

Task<void> plainServer(ProcessContext& context, ServerState* state) {
  KjNetwork network(context.providers().network());
  ::capnp::TwoPartyServer server(kj::heap<EchoImpl>(context.providers().time(), &state->stats));
  auto address = co_await awaitPromise(network.parseAddress("*", kEchoPort));
  auto receiver = address->listen();
  co_await awaitPromise(server.listen(*receiver));
}

Task<void> plainClient(ProcessContext& context, std::string* answer) {
  co_await context.providers().time().sleep(10ms);
  KjNetwork network(context.providers().network());
  auto address = co_await awaitPromise(network.parseAddress("10.0.1.1:5000"));
  auto stream = co_await awaitPromise(address->connect());
  ::capnp::TwoPartyClient client(*stream);
  *answer = co_await callSlowEcho(client.bootstrap().castAs<Echo>(), "plain capnp", 20);
}

TEST(RpcSimTest, PlainTwoPartyServerAndClientRunOverKjNetwork) {
  RpcWorld w(51, latencyAndPartialIo());
  ServerState server;
  std::string answer;
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(plainServer, &server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(plainClient, &answer)});
  auto driver = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(5s);
  };
  RunOutcome outcome = w.sim.run(driver(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(answer, "plain capnp");
}

}  // namespace
}  // namespace moonpool
