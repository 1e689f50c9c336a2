// Goal: the same RPC code that runs in simulation serves over real TCP on 127.0.0.1 with
// the production executor: plain and checksummed framing, concurrent calls, garbage closed
// with a reason while serving goes on, and a server going away failing a pending call with
// DISCONNECTED.
// Method: server and client in one RealRuntime (one KJ event loop), on an ephemeral port;
// wall-clock sleeps are tens of milliseconds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc::RpcClient;
using rpc::RpcServer;

struct RealObservations {
  std::vector<std::string> answers;
  std::vector<rpc::DisconnectReport> reports;
  std::optional<ErrorKind> pendingWhenServerWent;
  EchoStats stats;
};

Task<void> sendGarbage(NetworkProvider& network, NetAddress server) {
  auto connection = (co_await network.connect(server)).orThrow();
  static_cast<void>(co_await connection->writeAll(asBytes("GET / HTTP/1.1\r\n\r\n")));
  std::byte buffer[256];
  for (;;) {  // until the server hangs up
    IoResult<std::size_t> got = co_await connection->read(buffer);
    if (!got.ok() || *got == 0) co_return;
  }
}

Task<std::optional<ErrorKind>> joined(JoinHandle<std::optional<ErrorKind>> handle) {
  co_return co_await handle.join();
}

Task<void> callAll(Providers p, NetAddress address, rpc::Framing framing,
                   RealObservations* seen) {
  rpc::RpcOptions options;
  options.framing = framing;
  auto client = (co_await RpcClient::connect(p.network(), address, options)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  seen->answers.push_back(co_await callEcho(echo, "over tcp"));
  std::vector<Task<std::string>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(callSlowEcho(echo, "slow " + std::to_string(i), 50));
  for (std::string& answer : co_await whenAll(std::move(calls))) seen->answers.push_back(answer);
}

Task<void> realMain(Providers p, rpc::Framing framing, RealObservations* seen) {
  rpc::RpcOptions options;
  options.framing = framing;
  options.onDisconnect = [seen](const rpc::DisconnectReport& r) { seen->reports.push_back(r); };
  auto server = RpcServer::listen(p.network(), p.time(), NetAddress{kLoopbackIp, 0},
                                  kj::heap<EchoImpl>(p.time(), &seen->stats), options)
                    .orThrow();
  const NetAddress address = server->localAddress();
  EXPECT_NE(address.port, 0);
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  co_await callAll(p, address, framing, seen);
  co_await sendGarbage(p.network(), address);
  co_await callAll(p, address, framing, seen);  // still serving

  // The server goes away under a pending call.
  auto client = (co_await RpcClient::connect(p.network(), address, options)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  JoinHandle<std::optional<ErrorKind>> pending = p.tasks().spawn(
      "pending", errorOf([](Echo::Client e) -> Task<void> {
        co_await callSlowEcho(e, "never answered", 60'000);
      }(echo)));
  co_await p.time().sleep(20ms);
  serving.cancel();
  server.reset();
  seen->pendingWhenServerWent =
      co_await within(p.time(), 5s, joined(std::move(pending)), "the pending call");
}

void runReal(rpc::Framing framing) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = ::testing::TempDir() + "rpc-real",
                                         .localIp = kLoopbackIp});
  RealObservations seen;
  RunOutcome outcome = runtime.run(realMain(runtime.providers(), framing, &seen));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  const std::vector<std::string> expected = {"over tcp", "slow 0", "slow 1", "slow 2", "slow 3"};
  ASSERT_EQ(seen.answers.size(), 2 * expected.size());
  for (std::size_t i = 0; i < seen.answers.size(); ++i) {
    EXPECT_EQ(seen.answers[i], expected[i % expected.size()]);
  }
  // Wall-clock timing on a loaded machine: overlap is certain only for some of the four.
  EXPECT_GE(seen.stats.activeMax, 2u);
  bool garbageReported = false;
  for (const auto& r : seen.reports) {
    garbageReported |=
        r.cause == DisconnectCause::kProtocolError ||
        (framing == rpc::Framing::kChecksummed && r.cause == DisconnectCause::kCorrupted);
  }
  EXPECT_TRUE(garbageReported) << "the garbage connection was reported";
  EXPECT_EQ(seen.pendingWhenServerWent, ErrorKind::kDisconnected);
}

TEST(RpcRealTest, EchoOverLoopbackWithPlainFraming) { runReal(rpc::Framing::kPlain); }

TEST(RpcRealTest, EchoOverLoopbackWithChecksummedFraming) {
  runReal(rpc::Framing::kChecksummed);
}

}  // namespace
}  // namespace moonpool
