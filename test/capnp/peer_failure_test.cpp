// Goal: the RPC client layer (rpc::Peer, rpc::Call, rpc::Host) keeps its promises under
// failures: a killed server gives at-most-once calls "connection lost, maybe delivered" and
// the peer reconnects (noticing the new incarnation); at-least-once calls are resent and
// answered; a partition makes the failure monitor mark the peer failed after missed pings,
// calls then fail fast ("not delivered") and the peer recovers when the partition heals; a
// request dropped by the server is a broken request, never a hang; a paused server process
// freezes its RPC work; connection attempts back off exponentially, also from a host that
// accepts and drops; checksummed framing is automatic under bit flips; runs under faults
// are deterministic.
// Method: a server process (Host + an Echo service whose calls run in a TaskGroup the test
// can cancel; peer_testing.h) and a client process scripted per test; the driver steers
// kills, pauses and partitions; results and PeerStats are checked.
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

Task<void> killServerAt(SimWorld& world, ProcessId server, Duration at, Duration downFor) {
  co_await world.rootProviders().time().sleep(at);
  world.reboot(server, RebootKind::kCrash, downFor);
}

TEST(RpcClientTest, AKilledServerLosesAtMostOnceCallsAndThePeerReconnects) {
  ScriptRun run = runScript(
      2,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(100ms);
        std::uint64_t before = peer.incarnation();
        Outcome lost = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "doomed", 1000, Delivery::kAtMostOnce));
        EXPECT_EQ(lost.failure, RpcFailure::kConnectionLost) << lost.error;
        EXPECT_EQ(lost.delivered, Delivered::kMaybe);
        EXPECT_LT(lost.at, TimePoint(700ms)) << "the loss is reported when it happens";
        // The next call waits for the reboot and the reconnection, then succeeds.
        Outcome after = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "again", 10, Delivery::kAtMostOnce,
                               within(10s, rpc::WhenFailed::kWait)));
        EXPECT_EQ(after.answer, "again") << after.error;
        co_await p.time().sleep(1s);
        EXPECT_NE(peer.incarnation(), before) << "the rebooted host has a new incarnation";
      },
      [](SimWorld& world, ProcessId server, Served*) -> Task<void> {
        co_await killServerAt(world, server, 500ms, 2s);
      });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.served.boots, 2u);
  EXPECT_GE(run.client.stats.reconnects, 1u);
  EXPECT_GE(run.client.stats.incarnationChanges, 1u);
  EXPECT_EQ(run.client.stats.connectionLost, 1u);
  EXPECT_GT(run.client.stats.connectFailures, 0u) << "it dialled while the server was down";
}

TEST(RpcClientTest, AtLeastOnceCallsAreResentAfterAReconnect) {
  ScriptRun run = runScript(
      3,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(100ms);
        Outcome o = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "persistent", 1000, Delivery::kAtLeastOnce,
                               within(20s, rpc::WhenFailed::kWait)));
        EXPECT_EQ(o.answer, "persistent") << o.error;
      },
      [](SimWorld& world, ProcessId server, Served*) -> Task<void> {
        co_await killServerAt(world, server, 500ms, 1s);
      });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_GE(run.client.stats.resends, 1u);
  EXPECT_EQ(run.served.calls, 2u) << "the server saw the call twice (once per incarnation)";
  EXPECT_EQ(run.served.finished, 1u);
}

Task<void> partitionFor(SimWorld& world, Duration at, Duration length) {
  Providers root = world.rootProviders();
  co_await root.time().sleep(at);
  world.network().partitionBoth(kIp1, kIp2);
  co_await root.time().sleep(length);
  world.network().healAll();
}

// Partitions that keep connections open (nothing gets through, nothing is reset): only the
// missed pings can tell.
WorldOptions silentPartitions() {
  WorldOptions options = WorldOptions::quiet();
  options.network.faults.partitionResetProbability = Probability{0};
  return options;
}

TEST(RpcClientTest, MissedPingsMarkThePeerFailedCallsFailFastAndItRecovers) {
  rpc::PeerOptions options;
  options.pingInterval = 200ms;
  options.pingTimeout = 200ms;
  options.missedPingsMax = 3;
  ScriptRun run = runScript(
      4,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(200ms);
        EXPECT_EQ(peer.state(), rpc::PeerState::kAvailable);
        co_await peer.changed(rpc::PeerState::kAvailable);
        EXPECT_EQ(peer.state(), rpc::PeerState::kFailed);
        EXPECT_LT(p.time().now(), TimePoint(3s)) << "3 missed pings of 200 ms";
        const TimePoint asked = p.time().now();
        Outcome fast = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "refused", 10, Delivery::kAtMostOnce));
        EXPECT_EQ(fast.failure, RpcFailure::kPeerFailed) << fast.error;
        EXPECT_EQ(fast.delivered, Delivered::kNo);
        EXPECT_EQ(fast.at, asked) << "fails fast, without waiting";
        co_await peer.changed(rpc::PeerState::kFailed);
        for (int i = 0; i < 10 && peer.state() != rpc::PeerState::kAvailable; ++i) {
          co_await peer.changed(peer.state());
        }
        EXPECT_EQ(peer.state(), rpc::PeerState::kAvailable);
        EXPECT_GE(p.time().now(), TimePoint(6s)) << "recovers only after the heal";
        Outcome back = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "back", 10, Delivery::kAtMostOnce));
        EXPECT_EQ(back.answer, "back") << back.error;
      },
      [](SimWorld& world, ProcessId, Served*) -> Task<void> {
        co_await partitionFor(world, 1s, 5s);
      },
      options, silentPartitions());
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.client.stats.failures, 1u);
  EXPECT_EQ(run.client.stats.recoveries, 1u);
  EXPECT_GE(run.client.stats.pingsMissed, 3u);
  EXPECT_EQ(run.client.stats.failFast, 1u);
  EXPECT_EQ(run.client.finalState, rpc::PeerState::kAvailable);
}

TEST(RpcClientTest, ARequestTheServerDropsIsABrokenRequestNotAHang) {
  ScriptRun run = runScript(
      6,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(100ms);
        Outcome o = co_await outcomeOf(
            p.time(), slowEcho(peer, "test.Dropping", "dropped", 5000, Delivery::kAtLeastOnce));
        EXPECT_EQ(o.failure, RpcFailure::kBrokenRequest) << o.error;
        EXPECT_EQ(o.delivered, Delivered::kMaybe);
        EXPECT_LT(o.at, TimePoint(1s));
        // The connection survived it.
        Outcome next = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "next", 10, Delivery::kAtMostOnce));
        EXPECT_EQ(next.answer, "next") << next.error;
      },
      [](SimWorld& world, ProcessId, Served* served) -> Task<void> {
        co_await world.rootProviders().time().sleep(500ms);
        // The server's own code destroys the request's Task (the process lives on).
        served->requests->cancelAll();
      });
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.client.stats.brokenRequests, 1u);
  EXPECT_EQ(run.client.stats.resends, 0u) << "a broken request is not resent";
  EXPECT_EQ(run.client.stats.connects, 1u);
}

TEST(RpcClientTest, APausedServerFreezesItsRpcWorkAndIsDetected) {
  rpc::PeerOptions options;
  options.pingInterval = 100ms;
  options.pingTimeout = 100ms;
  options.missedPingsMax = 2;
  ScriptRun run = runScript(
      9,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(100ms);
        TimePoint start = p.time().now();
        // 300 ms of server work, paused for 2 s in the middle: the paused host answers no
        // pings, so the peer is marked failed and drops the connection; the idempotent call
        // is resent after the resume and answered then.
        Outcome o = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "frozen", 300, Delivery::kAtLeastOnce,
                               within(10s, rpc::WhenFailed::kWait)));
        EXPECT_EQ(o.answer, "frozen") << o.error;
        EXPECT_GE(o.at - start, Duration(2s)) << "the work did not run while paused";
      },
      [](SimWorld& world, ProcessId server, Served*) -> Task<void> {
        Providers root = world.rootProviders();
        co_await root.time().sleep(250ms);
        world.pause(server);
        co_await root.time().sleep(2s);
        world.resume(server);
      },
      options);
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_EQ(run.served.finished, 1u);
  EXPECT_EQ(run.served.calls, 2u) << "the first attempt died with its connection";
  EXPECT_EQ(run.client.stats.failures, 1u)
      << "missed pings during the pause; recoveries " << run.client.stats.recoveries
      << ", connects " << run.client.stats.connects << ", missed "
      << run.client.stats.pingsMissed << ", connect failures "
      << run.client.stats.connectFailures;
  EXPECT_EQ(run.client.stats.recoveries, 1u);
  // Sent again on every connection made during the pause too (the paused process accepts
  // none of them, so the server saw only two).
  EXPECT_GE(run.client.stats.resends, 1u);
}

TEST(RpcClientTest, ConnectionAttemptsBackOffExponentiallyWithJitter) {
  rpc::PeerOptions options;
  options.backoffInitial = 50ms;
  options.backoffMax = 1600ms;
  options.connectFailuresMax = 2;
  std::vector<std::uint64_t> attempts;
  ScriptRun run = runScript(
      10,
      [&attempts](Providers p, rpc::Peer& peer) -> Task<void> {
        // Sample the attempt count every second for 20 s while nobody listens.
        for (int i = 0; i < 20; ++i) {
          co_await p.time().sleep(1s);
          attempts.push_back(peer.stats().connectAttempts);
        }
        EXPECT_EQ(peer.state(), rpc::PeerState::kFailed);
        Outcome o = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "x", 10, Delivery::kAtMostOnce));
        EXPECT_EQ(o.failure, RpcFailure::kPeerFailed);
      },
      [](SimWorld& world, ProcessId server, Served*) -> Task<void> {
        world.kill(server, RebootKind::kCrash);
        co_return;
      },
      options);
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  ASSERT_EQ(attempts.size(), 20u);
  // Doubling from 50 ms to the 1.6 s cap: ~6 attempts in the first second or two, then
  // between one per 0.8 s and one per 1.6 s.
  EXPECT_LE(attempts[1], 8u);
  std::uint64_t late = attempts[19] - attempts[9];
  EXPECT_GE(late, 6u);
  EXPECT_LE(late, 13u);
  EXPECT_EQ(run.client.stats.connects, 0u);
  EXPECT_EQ(run.client.stats.failures, 1u);
}

WorldOptions bitFlips() {
  WorldOptions options = WorldOptions::quiet();
  options.network.faults.bitFlipProbability = Probability{0.05};
  options.network.faults.bitFlipsMax = 4;
  return options;
}

TEST(RpcClientTest, FramingIsChecksummedAutomaticallyUnderBitFlips) {
  ScriptRun run = runScript(
      11,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        std::uint32_t answered = 0;
        for (int i = 0; i < 60; ++i) {
          std::string text = "payload " + std::to_string(i) + std::string(200, 'x');
          Outcome o = co_await outcomeOf(
              p.time(), slowEcho(peer, kService, text, 5, Delivery::kAtLeastOnce,
                                 within(5s, rpc::WhenFailed::kWait)));
          if (o.answer) {
            ++answered;
            EXPECT_EQ(*o.answer, text) << "a corrupted answer was decoded";
          }
        }
        EXPECT_GT(answered, 50u);
      },
      Driver{}, {}, bitFlips());
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_GT(run.client.stats.reconnects, 0u) << "corruption was detected and dropped";
  EXPECT_GT(run.served.corruptedConnections, 0u);
  EXPECT_EQ(run.served.reasonless, 0u) << "every dropped connection says why";
}

std::string describe(const ScriptRun& run) {
  const rpc::PeerStats& s = run.client.stats;
  return std::to_string(run.outcome.decisionHash) + " " + std::to_string(s.connects) + " " +
         std::to_string(s.resends) + " " + std::to_string(s.pingsSent) + " " +
         std::to_string(run.served.calls);
}

TEST(RpcClientTest, SameSeedSameRunUnderFaults) {
  auto script = [](Providers p, rpc::Peer& peer) -> Task<void> {
    for (int i = 0; i < 20; ++i) {
      co_await outcomeOf(p.time(), slowEcho(peer, kService, "s" + std::to_string(i), 50,
                                            Delivery::kAtLeastOnce, within(3s)));
    }
  };
  auto driver = [](SimWorld& world, ProcessId server, Served*) -> Task<void> {
    co_await killServerAt(world, server, 700ms, 500ms);
  };
  WorldOptions world = bitFlips();
  world.network.latency = LatencyModel::uniform(100us, 20ms);
  world.network.faults.partialIoProbability = Probability{0.2};
  for (std::uint64_t seed : {21u, 22u}) {
    ScriptRun a = runScript(seed, script, driver, {}, world);
    ScriptRun b = runScript(seed, script, driver, {}, world);
    ASSERT_TRUE(a.outcome.ok()) << a.outcome.message;
    EXPECT_EQ(describe(a), describe(b)) << "seed " << seed;
  }
}

TEST(RpcClientTest, AHostThatAcceptsAndDropsIsBackedOffFromAndMarkedFailed) {
  rpc::PeerOptions options;
  options.backoffInitial = 50ms;
  options.backoffMax = 800ms;
  options.connectFailuresMax = 3;
  ScriptRun run = runScript(
      12,
      [](Providers p, rpc::Peer& peer) -> Task<void> {
        co_await p.time().sleep(10s);
        EXPECT_EQ(peer.state(), rpc::PeerState::kFailed);
        EXPECT_LE(peer.stats().connects, 20u) << "backed off, not a hot loop";
        if (!peer.lastDisconnect().has_value()) {
          ADD_FAILURE() << "no disconnect report kept";
          co_return;
        }
        EXPECT_FALSE(peer.lastDisconnect()->toString().empty());
        const TimePoint asked = p.time().now();
        Outcome o = co_await outcomeOf(
            p.time(), slowEcho(peer, kService, "x", 10, Delivery::kAtMostOnce));
        // Fails fast, unless it caught a fresh connection (then it is lost with it).
        if (o.failure == RpcFailure::kPeerFailed) {
          EXPECT_EQ(o.at, asked);
        } else {
          EXPECT_EQ(o.failure, RpcFailure::kConnectionLost) << o.error;
        }
      },
      Driver{}, options, WorldOptions::quiet(), ServerMode::kAcceptAndDrop);
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  ASSERT_TRUE(run.client.done);
  EXPECT_GE(run.client.stats.connects, 3u);
  EXPECT_EQ(run.client.stats.connectFailures, run.client.stats.connects);
  EXPECT_EQ(run.client.stats.failures, 1u);
}

}  // namespace
}  // namespace moonpool
