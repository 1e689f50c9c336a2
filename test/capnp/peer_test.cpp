// Goal: the RPC client layer (rpc::Peer, rpc::Call, rpc::Host) keeps its promises when
// nothing fails: calls reach a named service through the hub and the peer becomes available;
// deadlines time calls out and cancel the server's work; an unknown service is named;
// destroying the caller's Task cancels the server's Task; peers connect by well-known name;
// bad options and directories are named; over real TCP the same layer reconnects and
// resends. Failures are in peer_failure_test.cpp.
// Method: a server process (Host + an Echo service, peer_testing.h) and a client process
// scripted per test in a simulated world, or the real executor on 127.0.0.1; results and
// PeerStats are checked.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "moonpool/task_function.h"
#include "peer_testing.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace peer_testing;

TEST(RpcClientTest, CallsReachANamedServiceAndThePeerBecomesAvailable) {
  ScriptRun run = runScript(1, [](Providers p, rpc::Peer& peer) -> Task<void> {
    co_await peer.changed(rpc::PeerState::kConnecting);
    EXPECT_EQ(peer.state(), rpc::PeerState::kAvailable);
    for (int i = 0; i < 5; ++i) {
      std::string text = "hello " + std::to_string(i);
      Outcome o = co_await outcomeOf(p.time(),
                                     slowEcho(peer, kService, text, 20, Delivery::kAtMostOnce));
      EXPECT_EQ(o.answer, "hello " + std::to_string(i)) << o.error;
    }
    EXPECT_NE(peer.incarnation(), 0u);
    // A timeout too large for the clock saturates instead of overflowing.
    Outcome forever = co_await outcomeOf(
        p.time(), slowEcho(peer, kService, "no deadline", 1, Delivery::kAtMostOnce,
                           within(Duration::max())));
    EXPECT_EQ(forever.answer, "no deadline") << forever.error;
  });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.served.finished, 6u);
  EXPECT_EQ(run.client.stats.connects, 1u);
  EXPECT_EQ(run.client.stats.calls, 6u);
  EXPECT_GT(run.client.stats.pingsSent, 0u);
  EXPECT_EQ(run.client.stats.pingsMissed, 0u);
}

TEST(RpcClientTest, ADeadlineTimesTheCallOutAndCancelsTheServersWork) {
  ScriptRun run = runScript(5, [](Providers p, rpc::Peer& peer) -> Task<void> {
    co_await p.time().sleep(100ms);
    TimePoint start = p.time().now();
    Outcome o = co_await outcomeOf(p.time(), slowEcho(peer, kService, "slow", 5000,
                                                      Delivery::kAtMostOnce, within(300ms)));
    EXPECT_EQ(o.failure, RpcFailure::kTimedOut) << o.error;
    EXPECT_EQ(o.delivered, Delivered::kMaybe);
    EXPECT_EQ(o.at - start, Duration(300ms));
    // An absolute deadline earlier than the timeout wins.
    start = p.time().now();
    Outcome d = co_await outcomeOf(
        p.time(), slowEcho(peer, kService, "slow", 5000, Delivery::kAtLeastOnce,
                           rpc::CallOptions{.timeout = 10s, .deadline = p.time().now() + 150ms,
                                            .whenFailed = rpc::WhenFailed::kFailFast}));
    EXPECT_EQ(d.failure, RpcFailure::kTimedOut) << d.error;
    EXPECT_EQ(d.at - start, Duration(150ms));
    co_await p.time().sleep(100ms);
  });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.served.calls, 2u);
  EXPECT_EQ(run.served.finished, 0u) << "the server's Tasks were cancelled";
  EXPECT_EQ(run.served.active, 0u);
  EXPECT_EQ(run.client.stats.timeouts, 2u);
}

TEST(RpcClientTest, UnknownServicesAreNamedAndNotDelivered) {
  ScriptRun run = runScript(7, [](Providers p, rpc::Peer& peer) -> Task<void> {
    co_await p.time().sleep(100ms);
    Outcome o = co_await outcomeOf(
        p.time(), slowEcho(peer, "test.Nope", "x", 10, Delivery::kAtMostOnce));
    EXPECT_EQ(o.failure, RpcFailure::kUnknownService) << o.error;
    EXPECT_EQ(o.delivered, Delivered::kNo);
    EXPECT_NE(o.error.find("test.Nope"), std::string::npos) << o.error;
    EXPECT_NE(o.error.find("test.Echo"), std::string::npos) << "lists what the host serves";
  });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
}

TEST(RpcClientTest, DestroyingTheCallersTaskCancelsTheServersTask) {
  ScriptRun run = runScript(8, [](Providers p, rpc::Peer& peer) -> Task<void> {
    co_await p.time().sleep(100ms);
    // The call loses a race against a sleep: whenAny destroys it.
    auto first = co_await whenAny(
        slowEcho(peer, kService, "abandoned", 5000, Delivery::kAtMostOnce), p.time().sleep(200ms));
    EXPECT_EQ(first.index(), 1u);
    co_await p.time().sleep(100ms);
  });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.served.calls, 1u);
  EXPECT_EQ(run.served.finished, 0u);
  EXPECT_EQ(run.served.active, 0u) << "the server's Task was destroyed";
}

// Production: the same layer over real TCP on 127.0.0.1 with the real executor. A host goes
// away with calls in flight and comes back on the same port.
struct RealSeen {
  std::vector<std::string> answers;
  Outcome lost;
  Outcome resent;
  rpc::PeerStats stats;
  std::uint64_t firstIncarnation = 0, lastIncarnation = 0;
};

Task<void> serveFor(std::unique_ptr<rpc::Host>* host) { co_await (*host)->serve(); }

Task<void> realClientScript(Providers p, NetAddress address, Served* served, RealSeen* seen) {
  auto host = rpc::Host::listen(p, address).orThrow();
  address = host->localAddress();
  host->add(kService, kj::heap<GroupEcho>(p.time(), served, &host->calls()));
  JoinHandle<void> serving = p.tasks().spawn("serve", serveFor(&host));
  rpc::PeerOptions options;
  options.backoffInitial = 10ms;
  options.backoffMax = 100ms;
  rpc::Peer peer(p, address, options);
  for (int i = 0; i < 3; ++i) {
    Outcome o = co_await outcomeOf(p.time(), slowEcho(peer, kService, "tcp " + std::to_string(i),
                                                      1, Delivery::kAtMostOnce, within(5s)));
    seen->answers.push_back(o.answer.value_or(o.error));
  }
  for (int i = 0; i < 500 && peer.incarnation() == 0; ++i) co_await p.time().sleep(10ms);
  seen->firstIncarnation = peer.incarnation();
  JoinHandle<Outcome> lost = p.tasks().spawn(
      "lost", outcomeOf(p.time(), slowEcho(peer, kService, "lost", 2000, Delivery::kAtMostOnce,
                                           within(5s))));
  JoinHandle<Outcome> resent = p.tasks().spawn(
      "resent", outcomeOf(p.time(), slowEcho(peer, kService, "resent", 50, Delivery::kAtLeastOnce,
                                             within(10s, rpc::WhenFailed::kWait))));
  co_await p.time().sleep(20ms);  // only the slow call is still in flight
  serving.cancel();
  host.reset();
  seen->lost = co_await lost.join();
  co_await p.time().sleep(100ms);
  host = rpc::Host::listen(p, address).orThrow();
  host->add(kService, kj::heap<GroupEcho>(p.time(), served, &host->calls()));
  serving = p.tasks().spawn("serve again", serveFor(&host));
  seen->resent = co_await resent.join();
  Outcome after = co_await outcomeOf(p.time(), slowEcho(peer, kService, "after", 1,
                                                        Delivery::kAtMostOnce, within(5s)));
  seen->answers.push_back(after.answer.value_or(after.error));
  for (int i = 0; i < 500 && peer.incarnation() == seen->firstIncarnation; ++i) {
    co_await p.time().sleep(10ms);
  }
  seen->lastIncarnation = peer.incarnation();
  seen->stats = peer.stats();
  serving.cancel();
}

TEST(RpcClientTest, OverRealTcpTheSameLayerReconnectsAndResends) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = ::testing::TempDir() + "rpc-client-real",
                                         .localIp = kLoopbackIp});
  Served served;
  RealSeen seen;
  RunOutcome outcome = runtime.run(
      realClientScript(runtime.providers(), NetAddress{kLoopbackIp, 0}, &served, &seen));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(seen.answers, (std::vector<std::string>{"tcp 0", "tcp 1", "tcp 2", "after"}));
  EXPECT_EQ(seen.lost.failure, RpcFailure::kConnectionLost) << seen.lost.error;
  EXPECT_EQ(seen.lost.delivered, Delivered::kMaybe);
  // The resent call either finished before the host went (50 ms of work) or was resent.
  EXPECT_EQ(seen.resent.answer, "resent") << seen.resent.error;
  EXPECT_GE(seen.stats.reconnects, 1u);
  EXPECT_NE(seen.firstIncarnation, seen.lastIncarnation);
}

Task<void> byNameClient(ProcessContext& context, ClientState* state) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  auto directory = rpc::Directory::parse("echo=10.0.1.1:5000").orThrow();
  rpc::Peer peer(p, directory, "echo");
  Outcome o = co_await outcomeOf(p.time(), slowEcho(peer, kService, "by name", 1,
                                                    Delivery::kAtMostOnce));
  EXPECT_EQ(o.answer, "by name") << o.error;
  try {
    rpc::Peer unknown(p, directory, "nope");
    ADD_FAILURE() << "an unknown name was accepted";
  } catch (const Exception& error) {
    EXPECT_NE(std::string(error.what()).find("'nope'"), std::string::npos) << error.what();
  }
  state->done = true;
}

TEST(RpcClientTest, PeersConnectByWellKnownName) {
  Served served;  // before the world: process frames write into it as they end
  ClientState client;
  RpcWorld w(13);
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(serverMain, &served)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(byNameClient, &client)});
  auto root = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(5s);
  };
  RunOutcome outcome = w.sim.run(root(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_TRUE(client.done);
}

TEST(RpcClientTest, BadOptionsAndDirectoriesAreNamed) {
  rpc::PeerOptions options;
  EXPECT_EQ(rpc::validatePeerOptions(options), "");
  options.pingTimeout = Duration(0);
  EXPECT_EQ(rpc::validatePeerOptions(options), "pingTimeout must be in [1ms, 365 days]");
  options = {};
  options.backoffInitial = std::chrono::nanoseconds(1);
  EXPECT_EQ(rpc::validatePeerOptions(options), "backoffInitial must be in [1ms, 365 days]");
  options = {};
  options.backoffMax = Duration::max();
  EXPECT_EQ(rpc::validatePeerOptions(options), "backoffMax must be in [1ms, 365 days]");
  options = {};
  options.backoffMax = 2ms;
  EXPECT_EQ(rpc::validatePeerOptions(options), "backoffMax must be >= backoffInitial");
  options = {};
  options.missedPingsMax = 0;
  EXPECT_EQ(rpc::validatePeerOptions(options), "missedPingsMax must be >= 1");
  options = {};
  options.rpc.nestingLimit = 0;
  EXPECT_NE(rpc::validatePeerOptions(options).find("rpc: "), std::string::npos);

  auto good = rpc::Directory::parse("kv-1=10.0.1.1:7400,kv-2=10.0.1.2:7400");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value().find("kv-2")->toString(), "10.0.1.2:7400");
  EXPECT_FALSE(good.value().find("kv-3").has_value());
  EXPECT_TRUE(rpc::Directory::parse("").ok());
  for (const char* bad : {"kv-1", "=10.0.1.1:1", "kv-1=10.0.1.1", "a=1.2.3.4:5,a=1.2.3.4:6",
                          "a=1.2.3.4:5,", "a=300.0.0.1:5"}) {
    auto parsed = rpc::Directory::parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().toString().find("directory entry"), std::string::npos)
        << parsed.error().toString();
  }
}

}  // namespace
}  // namespace moonpool
