// Goal: a hostile or broken network cannot crash or wedge an RPC server. Garbage bytes get
// their connection closed with a logged reason while the server keeps serving others;
// checksummed framing turns every injected bit flip into a clean DISCONNECTED (never a
// wrong answer, also under every other network fault at once), and plain framing under bit
// flips at least never crashes; the traversal and nesting limits are enforced;
// connectionsMax holds; bad options are refused.
// Method: echo server process, attacker and client processes in a SimWorld; the network's
// bit-flip fault for corruption; per-call deadlines so a wedged call would show as a
// timeout rather than a hung test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc::RpcClient;

constexpr NetAddress kServer{kIp1, kEchoPort};

Task<std::string> readToEnd(Connection& connection) {
  std::string out;
  std::byte buffer[512];
  for (;;) {
    IoResult<std::size_t> got = co_await connection.read(buffer);
    if (!got.ok() || *got == 0) co_return out;
    out.append(reinterpret_cast<const char*>(buffer), *got);
  }
}

// --- garbage ----------------------------------------------------------------------------

struct Attack {
  std::vector<std::string> payloads;
  std::size_t closed = 0;
  std::string answerAfter;
};

Task<void> attackThenCall(ProcessContext& context, Attack* attack) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  for (const std::string& payload : attack->payloads) {
    auto connection = (co_await p.network().connect(kServer)).orThrow();
    IoResult<void> sent = co_await connection->writeAll(asBytes(payload));
    static_cast<void>(sent);  // the server may already have hung up
    static_cast<void>(connection->shutdownWrite());
    co_await readToEnd(*connection);  // returns once the server closed it
    ++attack->closed;
  }
  auto client = (co_await RpcClient::connect(p.network(), kServer)).orThrow();
  attack->answerAfter = co_await callEcho(client->bootstrap().castAs<Echo>(), "still here");
}

std::vector<std::string> garbage() {
  std::vector<std::string> out = {"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
                                  std::string(64, '\xff'), std::string(3, '\0')};
  RandomStream random(deriveSeed(99, "garbage"));
  for (int i = 0; i < 20; ++i) {
    std::string bytes(1 + random.below(300), '\0');
    for (char& c : bytes) c = static_cast<char>(random.next());
    out.push_back(std::move(bytes));
  }
  return out;
}

TEST(RpcHostileTest, GarbageClosesTheConnectionWithAReasonAndServingGoesOn) {
  RpcWorld w(61);
  ServerState server;
  Attack attack{.payloads = garbage(), .closed = 0, .answerAfter = ""};
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &server)});
  w.world.addProcess(ProcessSpec{.name = "attacker", .main = bindTask(attackThenCall, &attack)});
  auto driver = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(30s);
  };
  RunOutcome outcome = w.sim.run(driver(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(attack.closed, attack.payloads.size()) << "every garbage connection was closed";
  EXPECT_EQ(attack.answerAfter, "still here");
  // One report per garbage connection, then the well-behaved client's own goodbye.
  ASSERT_EQ(server.reports.size(), attack.payloads.size() + 1);
  EXPECT_EQ(server.reports.back().cause, DisconnectCause::kClosed)
      << server.reports.back().toString();
  const rpc::DisconnectReport& http = server.reports.front();
  EXPECT_EQ(http.cause, DisconnectCause::kProtocolError) << http.toString();
  EXPECT_NE(http.reason.find("segments"), std::string::npos) << http.toString();
  for (const rpc::DisconnectReport& report : server.reports) {
    EXPECT_FALSE(report.reason.empty()) << report.toString();
  }
}

// --- bit flips ----------------------------------------------------------------------------

struct FlipRun {
  rpc::Framing framing = rpc::Framing::kPlain;
  std::uint32_t ok = 0, wrong = 0, failed = 0, timedOut = 0;
  std::vector<rpc::DisconnectReport> clientReports;
};

Task<std::string> echoAnswer(Echo::Client echo, std::string text) {
  co_return co_await callEcho(std::move(echo), std::move(text));
}

// 120 echo calls with a deadline each; a failed call or connect drops the client and the
// next call reconnects. Plain framing can hand corrupted bytes to the decoder, which then
// throws kj::Exception from inside the response reader: counted as a failure too.
Task<void> callUnderBitFlips(ProcessContext& context, FlipRun* run) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  rpc::RpcOptions options;
  options.framing = run->framing;
  options.onDisconnect = [run](const rpc::DisconnectReport& r) { run->clientReports.push_back(r); };
  std::unique_ptr<RpcClient> client;
  for (int i = 0; i < 120; ++i) {
    if (!client) {
      IoResult<std::unique_ptr<RpcClient>> dialed =
          co_await RpcClient::connect(p.network(), kServer, options);
      if (!dialed.ok()) {
        ++run->failed;
        co_await p.time().sleep(100ms);
        continue;
      }
      client = std::move(dialed).value();
    }
    const std::string text = "payload " + std::to_string(i) + std::string(200, 'x');
    std::optional<std::string> answer;
    bool failed = false;
    try {
      answer =
          co_await tryWithin(p.time(), 2s, echoAnswer(client->bootstrap().castAs<Echo>(), text));
    } catch (const Exception&) {
      failed = true;
    } catch (const kj::Exception&) {
      failed = true;
    }
    if (failed || !answer) {
      ++(failed ? run->failed : run->timedOut);
      client.reset();  // reconnect
    } else {
      ++(*answer == text ? run->ok : run->wrong);
    }
  }
}

FlipRun runWithBitFlips(std::uint64_t seed, rpc::Framing framing, WorldOptions options,
                        ServerState* server, std::uint64_t* flips) {
  options.network.faults.bitFlipProbability = Probability{0.03};
  RpcWorld w(seed, options);
  server->options.framing = framing;
  FlipRun run;
  run.framing = framing;
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(callUnderBitFlips, &run)});
  auto driver = [](SimWorld* world) -> Task<void> {
    // Partitions, interface clogs and swizzles for the first minute (when the options
    // weight them; quiet worlds weight none).
    world->rootProviders()
        .tasks()
        .spawn("chaos", world->network().chaos({kIp1, kIp2}, TimePoint(std::chrono::minutes(1))))
        .detach();
    co_await world->rootProviders().time().sleep(std::chrono::minutes(20));
  };
  RunOutcome outcome = w.sim.run(driver(&w.world));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
  const auto& counts = w.world.timeline().faultCounts();
  *flips = counts.count("net.bit_flip") != 0 ? counts.at("net.bit_flip") : 0;
  return run;
}

std::size_t corruptedReports(const std::vector<rpc::DisconnectReport>& reports) {
  std::size_t n = 0;
  for (const auto& r : reports) n += r.cause == DisconnectCause::kCorrupted ? 1 : 0;
  return n;
}

TEST(RpcHostileTest, ChecksummedFramingTurnsBitFlipsIntoDisconnects) {
  ServerState server;
  std::uint64_t flips = 0;
  FlipRun run =
      runWithBitFlips(71, rpc::Framing::kChecksummed, WorldOptions::quiet(), &server, &flips);
  EXPECT_GT(flips, 0u);
  EXPECT_EQ(run.wrong, 0u) << "no corrupted answer was ever decoded";
  EXPECT_EQ(run.timedOut, 0u) << "corruption never wedges a call";
  EXPECT_GT(run.ok, 60u);
  EXPECT_GT(run.failed, 0u);
  EXPECT_GT(corruptedReports(server.reports) + corruptedReports(run.clientReports), 0u);
}

TEST(RpcHostileTest, PlainFramingUnderBitFlipsDoesNotCrash) {
  ServerState server;
  std::uint64_t flips = 0;
  FlipRun run = runWithBitFlips(72, rpc::Framing::kPlain, WorldOptions::quiet(), &server, &flips);
  EXPECT_GT(flips, 0u);
  EXPECT_EQ(run.ok + run.wrong + run.failed + run.timedOut, 120u);
  EXPECT_GT(run.ok, 0u);
}

TEST(RpcHostileTest, ChecksummedFramingUnderFullNetworkChaos) {
  // Every fault family of the simulated network at once (resets, random closes, refused and
  // hanging connects, partial I/O, clogs, partitions) plus bit flips: runs stay clean, and
  // no call ever returns a corrupted answer.
  for (std::uint64_t seed = 100; seed < 104; ++seed) {
    RandomStream config(deriveSeed(seed, "network config"));
    WorldOptions options = WorldOptions::quiet();
    options.network = NetworkOptions::chaotic(config);
    ServerState server;
    std::uint64_t flips = 0;
    FlipRun run = runWithBitFlips(seed, rpc::Framing::kChecksummed, options, &server, &flips);
    EXPECT_EQ(run.wrong, 0u) << "seed " << seed;
    EXPECT_EQ(run.ok + run.wrong + run.failed + run.timedOut, 120u) << "seed " << seed;
    EXPECT_GT(run.ok, 0u) << "seed " << seed;
  }
}

// --- reader limits ------------------------------------------------------------------------

struct LimitProbe {
  std::uint64_t smallSize = 0;
  std::optional<ErrorKind> bigError;
  std::uint32_t shallowDepth = 0;
  std::optional<ErrorKind> deepError;
  std::string afterDeep;
  std::string otherClient;
};

Task<std::uint64_t> callSize(Echo::Client echo, std::size_t bytes) {
  auto request = echo.sizeRequest();
  request.initData(bytes);
  auto response = co_await awaitPromise(request.send());
  co_return response.getSize();
}

void buildTree(Tree::Builder tree, int depth) {
  if (depth <= 1) return;
  buildTree(tree.initChildren(1)[0], depth - 1);
}

Task<std::uint32_t> callDepth(Echo::Client echo, int depth) {
  auto request = echo.depthRequest();
  buildTree(request.initTree(), depth);
  auto response = co_await awaitPromise(request.send());
  co_return response.getDepth();
}

Task<void> probeLimits(ProcessContext& context, LimitProbe* probe) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  auto first = (co_await RpcClient::connect(p.network(), kServer)).orThrow();
  Echo::Client echo = first->bootstrap().castAs<Echo>();
  probe->shallowDepth = co_await callDepth(echo, 4);
  probe->deepError = co_await errorOf([](Echo::Client e) -> Task<void> {
    co_await callDepth(e, 40);
  }(echo));
  probe->afterDeep = co_await callEcho(echo, "the nesting limit fails the call only");
  probe->smallSize = co_await callSize(echo, 4096);
  probe->bigError = co_await errorOf([](Echo::Client e) -> Task<void> {
    co_await callSize(e, 64 * 1024);
  }(echo));
  auto second = (co_await RpcClient::connect(p.network(), kServer)).orThrow();
  probe->otherClient = co_await callEcho(second->bootstrap().castAs<Echo>(), "served");
}

TEST(RpcHostileTest, TraversalAndNestingLimitsAreEnforced) {
  RpcWorld w(81);
  ServerState server;
  server.options.traversalLimitWords = 1024;  // 8 KiB
  server.options.nestingLimit = 16;
  LimitProbe probe;
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(probeLimits, &probe)});
  auto driver = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(10s);
  };
  RunOutcome outcome = w.sim.run(driver(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(probe.shallowDepth, 4u);
  EXPECT_EQ(probe.deepError, ErrorKind::kFailed) << "nesting past the limit fails the call";
  EXPECT_EQ(probe.afterDeep, "the nesting limit fails the call only");
  EXPECT_EQ(probe.smallSize, 4096u);
  EXPECT_EQ(probe.bigError, ErrorKind::kDisconnected) << "a message past the limit drops the link";
  EXPECT_EQ(probe.otherClient, "served");
  ASSERT_FALSE(server.reports.empty());
  const rpc::DisconnectReport& dropped = server.reports.front();
  EXPECT_EQ(dropped.cause, DisconnectCause::kProtocolError) << dropped.toString();
  EXPECT_NE(dropped.reason.find("too large"), std::string::npos) << dropped.toString();
}

// --- connection cap and bad options -------------------------------------------------------

struct CapProbe {
  std::vector<std::optional<ErrorKind>> errors;
};

Task<void> threeClients(ProcessContext& context, CapProbe* probe) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  std::vector<std::unique_ptr<RpcClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back((co_await RpcClient::connect(p.network(), kServer)).orThrow());
    probe->errors.push_back(co_await errorOf([](Echo::Client e) -> Task<void> {
      co_await callEcho(e, "hi");
    }(clients.back()->bootstrap().castAs<Echo>())));
  }
}

TEST(RpcHostileTest, ConnectionsBeyondTheCapAreClosed) {
  RpcWorld w(91);
  ServerState server;
  server.options.connectionsMax = 2;
  CapProbe probe;
  w.world.addProcess(ProcessSpec{.name = "server", .main = bindTask(echoServerMain, &server)});
  w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(threeClients, &probe)});
  auto driver = [](SimWorld* world) -> Task<void> {
    co_await world->rootProviders().time().sleep(5s);
  };
  RunOutcome outcome = w.sim.run(driver(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_EQ(probe.errors.size(), 3u);
  EXPECT_EQ(probe.errors[0], std::nullopt);
  EXPECT_EQ(probe.errors[1], std::nullopt);
  EXPECT_EQ(probe.errors[2], ErrorKind::kDisconnected);
}

TEST(RpcHostileTest, BadOptionsAreRefusedWithTheirName) {
  struct Case {
    void (*mutate)(rpc::RpcOptions&);
    const char* name;
  };
  const Case cases[] = {
      {[](rpc::RpcOptions& o) { o.traversalLimitWords = 0; }, "traversalLimitWords"},
      {[](rpc::RpcOptions& o) { o.nestingLimit = 0; }, "nestingLimit"},
      {[](rpc::RpcOptions& o) { o.callsInFlightMax = 0; }, "callsInFlightMax"},
      {[](rpc::RpcOptions& o) { o.callWordsInFlightMax = 0; }, "callWordsInFlightMax"},
      {[](rpc::RpcOptions& o) { o.backlog = 0; }, "backlog"},
      {[](rpc::RpcOptions& o) { o.connectionsMax = 0; }, "connectionsMax"},
  };
  for (const Case& c : cases) {
    rpc::RpcOptions options;
    c.mutate(options);
    IoResult<void> valid = rpc::validateRpcOptions(options);
    ASSERT_FALSE(valid.ok()) << c.name;
    EXPECT_EQ(valid.error().kind, IoErrorKind::kInvalidArgument);
    EXPECT_NE(valid.error().message.find(c.name), std::string::npos) << valid.error().message;
  }
  EXPECT_TRUE(rpc::validateRpcOptions({}).ok());
  IoResult<std::unique_ptr<RpcClient>> none = RpcClient::over(nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, IoErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace moonpool
