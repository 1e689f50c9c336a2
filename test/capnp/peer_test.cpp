// Goal: the RPC client layer (rpc::Peer, rpc::Call, rpc::Host) keeps its promises in a
// simulated world: calls reach a named service through the hub; a killed server gives
// at-most-once calls "connection lost, maybe delivered" and the peer reconnects (noticing
// the new incarnation); at-least-once calls are resent and answered; a partition makes the
// failure monitor mark the peer failed after missed pings, calls then fail fast ("not
// delivered") and the peer recovers when the partition heals; deadlines time calls out
// and cancel the server's work; a request dropped by the server is a broken request, never
// a hang; an unknown service is named; destroying the caller's Task cancels the server's
// Task; a paused server process freezes its RPC work; connection attempts back off
// exponentially; checksummed framing is automatic under bit flips; runs are deterministic.
// Method: a server process (Host + an Echo service whose calls run in a TaskGroup the test
// can cancel) and a client process scripted per test; the driver steers kills, pauses and
// partitions; results and PeerStats are checked.
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
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::Delivered;
using rpc::Delivery;
using rpc::RpcFailure;

constexpr NetAddress kServer{kIp1, kEchoPort};
constexpr const char* kService = "test.Echo";

enum class ServerMode : std::uint8_t { kEcho, kAcceptAndDrop };

struct Served {
  ServerMode mode = ServerMode::kEcho;
  std::uint64_t calls = 0;      // slowEcho calls started
  std::uint64_t finished = 0;   // slowEcho calls that ran to the end
  std::uint32_t active = 0;
  std::uint64_t boots = 0;
  std::uint64_t incarnation = 0;
  TaskGroup* requests = nullptr;  // where slowEcho's work runs, for the broken-request test
  std::uint64_t corruptedConnections = 0;  // as the host reported them
  std::uint64_t reasonless = 0;            // reports without a reason
};

struct Active {
  explicit Active(Served* s) : served(s) { ++served->active; }
  ~Active() { --served->active; }
  Served* served;
};

using SlowEchoContext = ::capnp::CallContext<Echo::SlowEchoParams, Echo::SlowEchoResults>;

Task<void> slowWork(TimeProvider& time, Served* served, SlowEchoContext context) {
  Active active(served);
  co_await time.sleep(std::chrono::milliseconds(context.getParams().getDelayMs()));
  ++served->finished;
  context.getResults().setText(context.getParams().getText());
}

// Echo whose slowEcho runs in `group` (the process's group, or the test's own).
class GroupEcho final : public Echo::Server {
 public:
  GroupEcho(TimeProvider& time, Served* served, TaskGroup* group)
      : time_(time), served_(served), group_(group) {}

 protected:
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }
  kj::Promise<void> slowEcho(SlowEchoContext context) override {
    ++served_->calls;
    context.allowCancellation();
    return toPromise(slowWork(time_, served_, context), "slowEcho", group_);
  }

 private:
  TimeProvider& time_;
  Served* served_;
  TaskGroup* group_;
};

// A broken server: accepts every connection and closes it at once.
Task<void> acceptAndDrop(Providers p) {
  auto listener = p.network().listen(NetAddress{IpAddress(), kEchoPort}, 16).orThrow();
  for (;;) {
    auto connection = co_await listener->accept();
    if (!connection.ok()) co_return;
  }
}

Task<void> serverMain(ProcessContext& context, Served* served) {
  ++served->boots;
  Providers p = context.providers();
  if (served->mode == ServerMode::kAcceptAndDrop) {
    co_await acceptAndDrop(p);
    co_return;
  }
  TaskGroup requests(Executor::current(), "requests");
  served->requests = &requests;
  auto host = rpc::Host::listen(p, NetAddress{IpAddress(), kEchoPort}).orThrow();
  served->incarnation = host->incarnation();
  // Calls run in the host's group (a pause of the process freezes them), except for
  // test.Dropping, whose `requests` the broken-request test cancels by hand.
  host->add(kService, kj::heap<GroupEcho>(p.time(), served, &host->calls()));
  host->add("test.Dropping", kj::heap<GroupEcho>(p.time(), served, &requests));
  struct Tally {
    rpc::Host* host;
    Served* served;
    ~Tally() {  // runs when the process ends or the run is torn down
      for (const rpc::DisconnectReport& r : host->recentDisconnects()) {
        served->corruptedConnections += r.cause == rpc::DisconnectCause::kCorrupted;
        served->reasonless += r.reason.empty() && r.cause != rpc::DisconnectCause::kClosed;
      }
    }
  } tally{host.get(), served};
  co_await host->serve();
}

Task<std::string> slowEcho(rpc::Peer& peer, std::string service, std::string text,
                           std::uint32_t delayMs, Delivery delivery,
                           rpc::CallOptions options = {}) {
  rpc::Call call(peer, service, "slowEcho", delivery, options);
  for (;;) {
    auto echo = (co_await call.target()).castAs<Echo>();
    auto request = echo.slowEchoRequest();
    request.setText(text);
    request.setDelayMs(delayMs);
    auto response = co_await call.reply(request.send());
    if (!response) continue;
    co_return std::string(response->getText().cStr());
  }
}

rpc::CallOptions within(Duration timeout, rpc::WhenFailed whenFailed = rpc::WhenFailed::kFailFast) {
  rpc::CallOptions options;
  options.timeout = timeout;
  options.whenFailed = whenFailed;
  return options;
}

struct Outcome {
  std::optional<std::string> answer;
  std::optional<RpcFailure> failure;
  Delivered delivered = Delivered::kNo;
  std::string error;
  TimePoint at{};
};

Task<Outcome> outcomeOf(TimeProvider& time, Task<std::string> call) {
  Outcome outcome;
  try {
    outcome.answer = co_await std::move(call);
  } catch (const rpc::RpcError& error) {
    outcome.failure = error.failure();
    outcome.delivered = error.delivered();
    outcome.error = error.what();
  } catch (const Exception& error) {
    outcome.error = error.what();
  }
  outcome.at = time.now();
  co_return outcome;
}

using ClientScript = TaskFunction<Task<void>(Providers, rpc::Peer&)>;

struct ClientState {
  rpc::PeerOptions options;
  ClientScript script;
  rpc::PeerStats stats;
  rpc::PeerState finalState = rpc::PeerState::kConnecting;
  bool done = false;
};

Task<void> clientMain(ProcessContext& context, ClientState* state) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  rpc::Peer peer(p, kServer, state->options);
  co_await state->script(p, peer);
  state->stats = peer.stats();
  state->finalState = peer.state();
  state->done = true;
}

using Driver = TaskFunction<Task<void>(SimWorld&, ProcessId server, Served* served)>;

struct ScriptRun {
  RunOutcome outcome;
  Served served;
  ClientState client;
};

ScriptRun runScript(std::uint64_t seed, ClientScript script, Driver driver = {},
                    rpc::PeerOptions options = {}, WorldOptions world = WorldOptions::quiet(),
                    ServerMode mode = ServerMode::kEcho) {
  ScriptRun run;
  run.served.mode = mode;
  // The world goes before `run` is returned: process frames write into it as they end.
  std::optional<RpcWorld> w(std::in_place, seed, std::move(world));
  run.client.options = options;
  run.client.script = std::move(script);
  ProcessId server =
      w->world.addProcess(ProcessSpec{.name = "server", .main = bindTask(serverMain, &run.served)});
  w->world.addProcess(ProcessSpec{.name = "client", .main = bindTask(clientMain, &run.client)});
  auto root = [](SimWorld* world, ProcessId id, Served* served, Driver drive) -> Task<void> {
    if (drive) co_await drive(*world, id, served);
    co_await world->rootProviders().time().sleep(120s);
  };
  run.outcome = w->sim.run(root(&w->world, server, &run.served, std::move(driver)));
  w.reset();
  return run;
}

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
