// Goal: the XRemote class moonpool-annotate generates implements the user's service over an
// rpc::Peer: ordinary calls return the server's answers for every supported type; a method
// marked [[moonpool::idempotent]] whose connection breaks mid-call is sent again, with the
// arguments it was called with, and answered (the server runs it twice); any other method
// in that situation fails with RpcError kConnectionLost, maybe delivered, and is not sent
// again; the server's exceptions arrive with their kind and message; the generated server's
// calls run in the TaskGroup current when it was made, so cancelling that group fails the
// call as a broken request (not a hang); the service name is the remote's choice.
// Method: a simulated world hosting a KJ loop (SimKjLoop), a server process (rpc::Host
// serving the generated EchoServer over an Echo whose find() and ping() can block on their
// first call) and a client process calling through rpc::Peer and the generated EchoRemote.
// The driver breaks the client's connections (SimNetwork::resetIp) or cancels the server's
// call group once the server holds the blocked call. Results and PeerStats are checked.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "all_types.moonpool.h"
#include "echo_impl.h"
#include "everything.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/error.h"
#include "moonpool/event.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "moonpool/sim/world.h"
#include "moonpool/spawn.h"
#include "moonpool/task_function.h"

namespace roundtrip {
namespace {

using namespace std::chrono_literals;
using moonpool::Duration;
using moonpool::ErrorKind;
using moonpool::ProcessContext;
using moonpool::ProcessSpec;
using moonpool::SimWorld;
using moonpool::Task;
using moonpool::TimePoint;
namespace rpc = moonpool::rpc;

// The first and second processes added.
constexpr moonpool::IpAddress kServerIp = moonpool::IpAddress::fromOctets(10, 0, 1, 1);
constexpr moonpool::IpAddress kClientIp = moonpool::IpAddress::fromOctets(10, 0, 1, 2);
constexpr std::uint16_t kPort = 7400;
constexpr moonpool::NetAddress kServer{kServerIp, kPort};
// A blocked call sleeps this long: far past every answer the tests wait for.
constexpr Duration kBlocked = 60s;
// The registration whose calls run in Served::calls (made inside a task of that group).
constexpr const char* kDroppingService = "dropping";

enum class FirstCall : std::uint8_t { kAnswer, kBlock };

// What the server process saw; owned by the test.
struct Served {
  FirstCall firstCall = FirstCall::kAnswer;  // of find() and ping()
  int findsStarted = 0;
  int findsFinished = 0;
  int pingsStarted = 0;
  int pingsFinished = 0;
  moonpool::Event blocked;                // a first call is blocking now
  moonpool::TaskGroup* calls = nullptr;   // the group of kDroppingService's calls
};

// The shared Echo, whose find() and ping() block on their first call when told to (until
// the call is dropped), so the test can act while the server holds a call.
class BlockingEcho final : public EchoImpl {
 public:
  BlockingEcho(moonpool::TimeProvider& time, Served* served) : time_(time), served_(served) {}

  // implements Echo
  Task<std::optional<std::string>> find(const std::string& key, Color color) override {
    std::string copy = key;
    if (++served_->findsStarted == 1) co_await maybeBlock();
    ++served_->findsFinished;
    co_return co_await EchoImpl::find(copy, color);
  }
  Task<> ping() override {
    if (++served_->pingsStarted == 1) co_await maybeBlock();
    ++served_->pingsFinished;
  }

 private:
  Task<void> maybeBlock() {
    if (served_->firstCall == FirstCall::kAnswer) co_return;
    served_->blocked.set();
    co_await time_.sleep(kBlocked);
  }

  moonpool::TimeProvider& time_;
  Served* served_;
};

// Made inside a task of Served::calls: the adapter's default group is that task's group.
Task<void> addDroppingEcho(rpc::Host* host, Echo* impl) {
  host->add(kDroppingService, kj::heap<schema::EchoServer>(*impl));
  co_return;
}

Task<void> serverMain(ProcessContext& context, Served* served) {
  moonpool::Providers p = context.providers();
  BlockingEcho impl(p.time(), served);
  moonpool::TaskGroup calls(moonpool::Executor::current(), "echo calls");
  served->calls = &calls;
  auto host = rpc::Host::listen(p, moonpool::NetAddress{moonpool::IpAddress(), kPort}).orThrow();
  // Made in the process main: its calls run in the process's group.
  host->add(schema::EchoServer::kServiceName, kj::heap<schema::EchoServer>(impl));
  co_await calls.spawn("add", addDroppingEcho(host.get(), &impl)).join();
  co_await host->serve();
}

// One seed: simulation, KJ loop and world, in the order their lifetimes need (the KJ loop
// outlives every process, whose frames hold KJ objects).
struct World {
  explicit World(std::uint64_t seed)
      : sim(moonpool::SimOptions{.seed = seed}),
        kj(sim.executor()),
        world(sim, moonpool::WorldOptions::quiet()) {}
  moonpool::Simulation sim;
  moonpool::SimKjLoop kj;
  SimWorld world;
};

// How one remote call ended, and the client's peer statistics afterwards.
struct Outcome {
  std::optional<std::string> answer;
  std::optional<rpc::RpcFailure> failure;
  bool maybeDelivered = false;
  std::optional<ErrorKind> kind;
  std::string description;
  bool isRpcError = false;
  TimePoint at{};
  rpc::PeerStats stats;
};

void record(const moonpool::Exception& error, Outcome* out) {
  out->kind = error.kind();
  out->description = error.description();
  if (const auto* rpcError = dynamic_cast<const rpc::RpcError*>(&error)) {
    out->isRpcError = true;
    out->failure = rpcError->failure();
    out->maybeDelivered = rpcError->maybeDelivered();
  }
}

// Lets the server listen before the peer's first connection attempt.
constexpr Duration kClientStartDelay = 10ms;

// --- ordinary calls ---------------------------------------------------------------------

struct Answers {
  Everything echoed;
  std::optional<std::string> found;
  std::optional<std::string> notFound;
  std::map<std::string, std::string> scanned;
  std::vector<uint8_t> bytes;
  Color next = Color::kRed;
  bool negated = false;
  std::optional<std::string> foundWithOptions;
  rpc::PeerStats stats;
};

Task<void> callEverything(ProcessContext& context, Answers* out) {
  co_await context.providers().time().sleep(kClientStartDelay);
  rpc::Peer peer(context.providers(), kServer);
  schema::EchoRemote echo(peer);
  out->echoed = co_await echo.echo(makeEverything());
  std::string key = "k";
  out->found = co_await echo.find(key, Color::kGreen);
  out->notFound = co_await echo.find(key, Color::kRed);
  out->scanned = co_await echo.scan("row", 3);
  out->bytes = co_await echo.bytes({1, 2});
  co_await echo.ping();
  out->next = co_await echo.next(Color::kGreen, kLegacyA);
  const schema::EchoRemote& constant = echo;  // negate() is a const method
  out->negated = co_await constant.negate(false);
  rpc::CallOptions options;
  options.timeout = 1s;
  schema::EchoRemote patient = echo.withOptions(options);
  out->foundWithOptions = co_await patient.find("w", Color::kGreen);
  out->stats = peer.stats();
}

Task<void> runFor(SimWorld* world, Duration length) {
  co_await world->rootProviders().time().sleep(length);
}

TEST(AnnotateRemote, GeneratedRemoteCallsGeneratedServerThroughAPeer) {
  World w(1);
  Served served;
  Answers answers;
  w.world.addProcess(
      ProcessSpec{.name = "server", .main = moonpool::bindTask(serverMain, &served)});
  w.world.addProcess(
      ProcessSpec{.name = "client", .main = moonpool::bindTask(callEverything, &answers)});
  moonpool::RunOutcome outcome = w.sim.run(runFor(&w.world, 5s));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  expectSame(makeEverything(), answers.echoed);
  EXPECT_EQ(answers.found, "found k");
  EXPECT_EQ(answers.notFound, std::nullopt);
  EXPECT_EQ(answers.scanned, (std::map<std::string, std::string>{
                                 {"row0", "0"}, {"row1", "1"}, {"row2", "2"}}));
  EXPECT_EQ(answers.bytes, (std::vector<uint8_t>{1, 2, 0xee}));
  EXPECT_EQ(served.pingsFinished, 1);
  EXPECT_EQ(answers.next, Color::kGreen);
  EXPECT_TRUE(answers.negated);
  EXPECT_EQ(answers.foundWithOptions, "found w");
  EXPECT_EQ(answers.stats.calls, 9u);
  EXPECT_EQ(answers.stats.connects, 1u);
  EXPECT_EQ(answers.stats.resends, 0u);
}

// --- a connection broken mid-call -------------------------------------------------------

// find() is idempotent: called with `key`, which the caller changes while the first attempt
// is blocked; the resend must carry the value of the call.
Task<void> findThroughABreak(ProcessContext& context, Served* served, Outcome* out) {
  moonpool::Providers p = context.providers();
  co_await p.time().sleep(kClientStartDelay);
  rpc::Peer peer(p, kServer);
  schema::EchoRemote echo(peer);
  std::string key = "k";
  moonpool::TaskGroup callers(moonpool::Executor::current(), "callers");
  auto call = callers.spawn("find", echo.find(key, Color::kGreen));
  co_await served->blocked.wait();
  key = "changed";
  try {
    out->answer = (co_await call.join()).value_or("nullopt");
  } catch (const moonpool::Exception& error) {
    record(error, out);
  }
  out->at = p.time().now();
  out->stats = peer.stats();
}

// ping() is not: its first attempt is lost with the connection. A second ping() afterwards
// reaches the server on the new connection.
Task<void> pingThroughABreak(ProcessContext& context, Outcome* out) {
  moonpool::Providers p = context.providers();
  co_await p.time().sleep(kClientStartDelay);
  rpc::Peer peer(p, kServer);
  schema::EchoRemote echo(peer);
  try {
    co_await echo.ping();
    out->answer = "answered";
  } catch (const moonpool::Exception& error) {
    record(error, out);
  }
  out->at = p.time().now();
  co_await p.time().sleep(1s);  // time enough for a resend, if one were (wrongly) made
  co_await echo.ping();
  out->stats = peer.stats();
}

// Breaks every connection of the client once the server holds the blocked call.
Task<void> breakMidCall(SimWorld* world, Served* served, TimePoint* brokeAt) {
  co_await served->blocked.wait();
  *brokeAt = world->rootProviders().time().now();
  world->network().resetIp(kClientIp);
  co_await world->rootProviders().time().sleep(5s);
}

struct BreakRun {
  moonpool::RunOutcome outcome;
  Served served;
  Outcome seen;
  TimePoint brokeAt{};
};

void runIdempotentBreak(std::uint64_t seed, BreakRun* run) {
  World w(seed);
  run->served.firstCall = FirstCall::kBlock;
  w.world.addProcess(
      ProcessSpec{.name = "server", .main = moonpool::bindTask(serverMain, &run->served)});
  w.world.addProcess(ProcessSpec{
      .name = "client", .main = moonpool::bindTask(findThroughABreak, &run->served, &run->seen)});
  run->outcome = w.sim.run(breakMidCall(&w.world, &run->served, &run->brokeAt));
}

TEST(AnnotateRemote, AnIdempotentCallIsResentAfterTheConnectionBreaks) {
  BreakRun run;
  runIdempotentBreak(3, &run);
  ASSERT_TRUE(run.outcome.ok()) << run.outcome.message;
  EXPECT_EQ(run.seen.answer, "found k") << run.seen.description;
  EXPECT_EQ(run.served.findsStarted, 2) << "the server ran it twice";
  EXPECT_EQ(run.served.findsFinished, 1) << "the first attempt died with its connection";
  EXPECT_EQ(run.seen.stats.resends, 1u);
  EXPECT_EQ(run.seen.stats.connectionLost, 0u);
  EXPECT_GE(run.seen.stats.connects, 2u);
  EXPECT_LT(run.seen.at, run.brokeAt + 2s) << "answered after a reconnect, not a timeout";

  BreakRun again;
  runIdempotentBreak(3, &again);
  EXPECT_EQ(run.outcome.decisionHash, again.outcome.decisionHash);
  EXPECT_EQ(run.seen.at, again.seen.at);
}

TEST(AnnotateRemote, AnotherCallFailsAsConnectionLostMaybeDelivered) {
  World w(4);
  Served served;
  served.firstCall = FirstCall::kBlock;
  Outcome seen;
  TimePoint brokeAt{};
  w.world.addProcess(
      ProcessSpec{.name = "server", .main = moonpool::bindTask(serverMain, &served)});
  w.world.addProcess(
      ProcessSpec{.name = "client", .main = moonpool::bindTask(pingThroughABreak, &seen)});
  moonpool::RunOutcome outcome = w.sim.run(breakMidCall(&w.world, &served, &brokeAt));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(seen.answer, std::nullopt);
  ASSERT_TRUE(seen.isRpcError) << seen.description;
  EXPECT_EQ(seen.failure, rpc::RpcFailure::kConnectionLost) << seen.description;
  EXPECT_TRUE(seen.maybeDelivered);
  EXPECT_EQ(seen.kind, ErrorKind::kDisconnected);
  EXPECT_LT(seen.at, brokeAt + 1s) << "failed at the break, not at a timeout";
  EXPECT_EQ(served.pingsStarted, 2) << "the lost ping was not resent; the second one arrived";
  EXPECT_EQ(served.pingsFinished, 1);
  EXPECT_EQ(seen.stats.resends, 0u);
  EXPECT_EQ(seen.stats.connectionLost, 1u);
}

// --- errors -----------------------------------------------------------------------------

struct Failures {
  Outcome overloaded;
  Outcome unimplemented;
  Outcome foreign;
  Outcome unknownService;
};

Task<void> failOnce(schema::EchoRemote& echo, int32_t kind, Outcome* out) {
  try {
    co_await echo.fail(kind);
    out->answer = "no error";
  } catch (const moonpool::Exception& error) {
    record(error, out);
  }
}

Task<void> callFailures(ProcessContext& context, Failures* out) {
  co_await context.providers().time().sleep(kClientStartDelay);
  rpc::Peer peer(context.providers(), kServer);
  schema::EchoRemote echo(peer);
  co_await failOnce(echo, static_cast<int32_t>(ErrorKind::kOverloaded), &out->overloaded);
  co_await failOnce(echo, static_cast<int32_t>(ErrorKind::kUnimplemented), &out->unimplemented);
  co_await failOnce(echo, -1, &out->foreign);
  schema::EchoRemote nowhere(peer, {}, "no such service");
  co_await failOnce(nowhere, 0, &out->unknownService);
}

TEST(AnnotateRemote, ServerErrorsArriveWithTheirKindAndMessage) {
  World w(5);
  Served served;
  Failures seen;
  w.world.addProcess(
      ProcessSpec{.name = "server", .main = moonpool::bindTask(serverMain, &served)});
  w.world.addProcess(
      ProcessSpec{.name = "client", .main = moonpool::bindTask(callFailures, &seen)});
  moonpool::RunOutcome outcome = w.sim.run(runFor(&w.world, 5s));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(seen.overloaded.kind, ErrorKind::kOverloaded);
  EXPECT_NE(seen.overloaded.description.find("failing on purpose"), std::string::npos)
      << seen.overloaded.description;
  EXPECT_FALSE(seen.overloaded.isRpcError) << "the server's error, not the client layer's";
  EXPECT_EQ(seen.unimplemented.kind, ErrorKind::kUnimplemented);
  EXPECT_FALSE(seen.unimplemented.isRpcError);
  EXPECT_EQ(seen.foreign.kind, ErrorKind::kFailed);
  EXPECT_NE(seen.foreign.description.find("not a moonpool error"), std::string::npos)
      << seen.foreign.description;
  EXPECT_FALSE(seen.foreign.isRpcError);
  ASSERT_TRUE(seen.unknownService.isRpcError) << seen.unknownService.description;
  EXPECT_EQ(seen.unknownService.failure, rpc::RpcFailure::kUnknownService);
  EXPECT_FALSE(seen.unknownService.maybeDelivered);
  EXPECT_NE(seen.unknownService.description.find("no such service"), std::string::npos)
      << seen.unknownService.description;
}

// --- the server's call group ------------------------------------------------------------

Task<void> pingTheDroppingService(ProcessContext& context, Outcome* out) {
  moonpool::Providers p = context.providers();
  co_await p.time().sleep(kClientStartDelay);
  rpc::Peer peer(p, kServer);
  schema::EchoRemote dropping(peer, {}, kDroppingService);
  try {
    co_await dropping.ping();
    out->answer = "answered";
  } catch (const moonpool::Exception& error) {
    record(error, out);
  }
  out->at = p.time().now();
}

// Cancels the group the adapter was made in once it holds the blocked call.
Task<void> cancelServerCalls(SimWorld* world, Served* served, TimePoint* cancelledAt) {
  co_await served->blocked.wait();
  *cancelledAt = world->rootProviders().time().now();
  served->calls->cancelAll();
  co_await world->rootProviders().time().sleep(5s);
}

TEST(AnnotateRemote, CancellingTheServersCallGroupBreaksTheRequest) {
  World w(6);
  Served served;
  served.firstCall = FirstCall::kBlock;
  Outcome seen;
  TimePoint cancelledAt{};
  w.world.addProcess(
      ProcessSpec{.name = "server", .main = moonpool::bindTask(serverMain, &served)});
  w.world.addProcess(
      ProcessSpec{.name = "client", .main = moonpool::bindTask(pingTheDroppingService, &seen)});
  moonpool::RunOutcome outcome = w.sim.run(cancelServerCalls(&w.world, &served, &cancelledAt));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_TRUE(seen.isRpcError) << seen.description;
  EXPECT_EQ(seen.failure, rpc::RpcFailure::kBrokenRequest) << seen.description;
  EXPECT_TRUE(seen.maybeDelivered);
  EXPECT_LT(seen.at, cancelledAt + 1s) << "failed at the cancellation, not at a timeout";
  EXPECT_EQ(served.pingsFinished, 0);
}

}  // namespace
}  // namespace roundtrip
