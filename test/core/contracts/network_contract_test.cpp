// Goal: the stream half of the NetworkProvider contract (network.h) holds for SimNetwork and
// for the real TCP provider alike: port-0 listeners report their address, bytes round-trip
// in order (including 1 MiB both ways at once, which needs backpressure), pending connects
// wait in the backlog and are accepted oldest first, both ends know both addresses,
// half-close and close give end of stream, and vectored writes keep order. The error half
// (refused, reset, address in use, invalid arguments) is network_errors_contract_test.cpp.
// Method: each case is one coroutine against NetworkProvider, run by both harnesses
// (harness.h): the local host listens, the peer host dials. Real runs use 127.0.0.1 and
// port-0 listeners only; every case is bounded by the harness deadline.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "moonpool/combinators.h"
#include "moonpool/network.h"
#include "network_support.h"
#include "support/co_assert.h"

namespace moonpool::conformance {
namespace {

using namespace std::chrono_literals;

class NetworkContract : public ContractTest {};

constexpr std::size_t kLargeTransferBytes = 1 << 20;

std::string shortDescription(IoResult<std::string>& result) {
  if (!result.ok()) return result.error().toString();
  return std::to_string(result.value().size()) + " bytes";
}

// ---------------------------------------------------------------------------------------

Task<void> listenPortZeroReportsAddress(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> first = listenLocal(env);
  IoResult<std::unique_ptr<Listener>> second = listenLocal(env);
  CO_ASSERT_OK(first);
  CO_ASSERT_OK(second);
  const NetAddress a = (*first)->localAddress();
  const NetAddress b = (*second)->localAddress();
  EXPECT_EQ(a.ip, env.providers.network().localIp());
  EXPECT_NE(a.port, 0);
  EXPECT_NE(b.port, 0);
  EXPECT_NE(a.port, b.port) << "two port-0 listeners got the same port";
  co_return;
}

TEST_P(NetworkContract, ListenPortZeroReportsAddress) { runContract(listenPortZeroReportsAddress); }

// Accepts one connection and sends back everything it receives, then closes.
Task<IoResult<void>> echoOnce(Listener& listener) {
  IoResult<std::unique_ptr<Connection>> accepted = co_await listener.accept();
  if (!accepted.ok()) co_return accepted.error();
  IoResult<std::string> request = co_await readToEnd(**accepted);
  if (!request.ok()) co_return request.error();
  co_return co_await (*accepted)->writeAll(asBytes(*request));
}

Task<void> echoRoundTrip(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  JoinHandle<IoResult<void>> server = env.providers.tasks().spawn("echo", echoOnce(**listener));
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  CO_ASSERT_OK(dialed);
  Connection& client = **dialed;
  IoResult<void> sent = co_await sendText(client, "hello, moonpool");
  CO_ASSERT_OK(sent);
  CO_ASSERT_OK(client.shutdownWrite());
  IoResult<std::string> echoed = co_await readToEnd(client);
  CO_ASSERT_OK(echoed);
  EXPECT_EQ(*echoed, "hello, moonpool");
  IoResult<void> served = co_await server.join();
  EXPECT_TRUE(served.ok()) << served.error().toString();
}

TEST_P(NetworkContract, EchoRoundTrip) { runContract(echoRoundTrip); }

// Sends `payload` then half-closes, while reading everything the peer sends.
Task<IoResult<void>> sendThenShutdown(Connection& connection, std::string payload) {
  IoResult<void> sent = co_await connection.writeAll(asBytes(payload));
  if (!sent.ok()) co_return sent;
  co_return connection.shutdownWrite();
}

Task<IoResult<std::string>> exchange(Connection& connection, std::string payload) {
  auto [sent, received] =
      co_await whenAll(sendThenShutdown(connection, std::move(payload)), readToEnd(connection));
  if (!sent.ok()) co_return sent.error();
  co_return std::move(received);
}

Task<IoResult<std::string>> acceptAndExchange(Listener& listener, std::string payload) {
  IoResult<std::unique_ptr<Connection>> accepted = co_await listener.accept();
  if (!accepted.ok()) co_return accepted.error();
  co_return co_await exchange(**accepted, std::move(payload));
}

Task<void> largeTransferBothWays(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  const std::string toClient = pattern(kLargeTransferBytes, 7);
  const std::string toServer = pattern(kLargeTransferBytes, 91);
  JoinHandle<IoResult<std::string>> server =
      env.providers.tasks().spawn("server", acceptAndExchange(**listener, toClient));
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  CO_ASSERT_OK(dialed);
  IoResult<std::string> atClient = co_await exchange(**dialed, toServer);
  IoResult<std::string> atServer = co_await server.join();
  CO_ASSERT_OK(atClient);
  CO_ASSERT_OK(atServer);
  // EXPECT_EQ on 1 MiB strings would print them whole; compare, then describe.
  EXPECT_TRUE(*atClient == toClient) << "client got " << shortDescription(atClient);
  EXPECT_TRUE(*atServer == toServer) << "server got " << shortDescription(atServer);
}

TEST_P(NetworkContract, LargeTransferBothWaysAtOnce) { runContract(largeTransferBothWays); }

Task<void> pendingConnectsAcceptedInOrder(ContractEnv& env) {
  constexpr std::size_t kDialers = 3;
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env, kDialers + 1);
  CO_ASSERT_OK(listener);
  // Every connect completes while nobody accepts: they wait in the backlog.
  std::vector<std::unique_ptr<Connection>> dialers;
  for (std::size_t i = 0; i < kDialers; ++i) {
    IoResult<std::unique_ptr<Connection>> dialed =
        co_await env.peerNetwork.connect((*listener)->localAddress());
    CO_ASSERT_OK(dialed);
    IoResult<void> sent = co_await sendText(**dialed, std::string(1, static_cast<char>('a' + i)));
    CO_ASSERT_OK(sent);
    dialers.push_back(std::move(*dialed));
  }
  for (std::size_t i = 0; i < kDialers; ++i) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await (*listener)->accept();
    CO_ASSERT_OK(accepted);
    EXPECT_EQ((*accepted)->remoteAddress(), dialers[i]->localAddress())
        << "accept #" << i << " is not the #" << i << " connect";
    std::array<std::byte, 1> tag{};
    IoResult<void> got = co_await (*accepted)->readExactly(tag);
    CO_ASSERT_OK(got);
    EXPECT_EQ(static_cast<char>(tag[0]), static_cast<char>('a' + i));
  }
}

TEST_P(NetworkContract, PendingConnectsAcceptedInOrder) {
  runContract(pendingConnectsAcceptedInOrder);
}

Task<void> bothEndsKnowEachOther(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  const NetAddress service = (*listener)->localAddress();
  IoResult<std::unique_ptr<Connection>> dialed = co_await env.peerNetwork.connect(service);
  CO_ASSERT_OK(dialed);
  IoResult<std::unique_ptr<Connection>> accepted = co_await (*listener)->accept();
  CO_ASSERT_OK(accepted);
  const Connection& dialer = **dialed;
  const Connection& acceptor = **accepted;
  EXPECT_EQ(dialer.remoteAddress(), service);
  EXPECT_EQ(acceptor.localAddress(), service);
  EXPECT_EQ(acceptor.remoteAddress(), dialer.localAddress());
  EXPECT_EQ(dialer.localAddress().ip, env.peerNetwork.localIp());
  EXPECT_NE(dialer.localAddress().port, 0);
}

TEST_P(NetworkContract, BothEndsKnowEachOther) { runContract(bothEndsKnowEachOther); }

// Reads the request to its end, then answers on the same connection and closes.
Task<IoResult<std::string>> answerAfterEndOfStream(Listener& listener) {
  IoResult<std::unique_ptr<Connection>> accepted = co_await listener.accept();
  if (!accepted.ok()) co_return accepted.error();
  IoResult<std::string> request = co_await readToEnd(**accepted);
  if (!request.ok()) co_return request.error();
  IoResult<void> sent = co_await sendText(**accepted, "response");
  if (!sent.ok()) co_return sent.error();
  co_return std::move(*request);
}

Task<void> shutdownWriteIsAHalfClose(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  JoinHandle<IoResult<std::string>> server =
      env.providers.tasks().spawn("server", answerAfterEndOfStream(**listener));
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  CO_ASSERT_OK(dialed);
  Connection& client = **dialed;
  IoResult<void> sent = co_await sendText(client, "request");
  CO_ASSERT_OK(sent);
  CO_ASSERT_OK(client.shutdownWrite());
  IoResult<void> late = co_await sendText(client, "too late");
  CO_ASSERT_TRUE(!late.ok());
  EXPECT_EQ(late.error().kind, IoErrorKind::kBrokenPipe) << late.error().toString();
  // The peer read "request" then end of stream, and could still answer.
  IoResult<std::string> answer = co_await readToEnd(client);
  CO_ASSERT_OK(answer);
  EXPECT_EQ(*answer, "response");
  IoResult<std::string> request = co_await server.join();
  CO_ASSERT_OK(request);
  EXPECT_EQ(*request, "request");
}

TEST_P(NetworkContract, ShutdownWriteIsAHalfClose) { runContract(shutdownWriteIsAHalfClose); }

Task<IoResult<void>> sayGoodbyeAndClose(Listener& listener) {
  IoResult<std::unique_ptr<Connection>> accepted = co_await listener.accept();
  if (!accepted.ok()) co_return accepted.error();
  co_return co_await sendText(**accepted, "last words");
}  // the accepted connection is destroyed here

Task<void> destroyedPeerGivesEndOfStream(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  JoinHandle<IoResult<void>> server =
      env.providers.tasks().spawn("server", sayGoodbyeAndClose(**listener));
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  CO_ASSERT_OK(dialed);
  IoResult<std::string> received = co_await readToEnd(**dialed);
  CO_ASSERT_OK(received);
  EXPECT_EQ(*received, "last words");
  std::array<std::byte, 16> buffer;
  IoResult<std::size_t> again = co_await (*dialed)->read(buffer);
  CO_ASSERT_OK(again);
  EXPECT_EQ(*again, 0u) << "end of stream is not sticky";
  IoResult<void> served = co_await server.join();
  EXPECT_TRUE(served.ok()) << served.error().toString();
}

TEST_P(NetworkContract, DestroyedPeerGivesEndOfStream) {
  runContract(destroyedPeerGivesEndOfStream);
}

// Writes `pieces` in order with vectored writes; write() may take any prefix.
Task<IoResult<void>> writeVectored(Connection& connection, std::vector<std::string> pieces) {
  std::size_t total = 0;
  for (const std::string& piece : pieces) total += piece.size();
  std::size_t done = 0;
  while (done < total) {
    // The pieces still (partly) unwritten, as views.
    std::vector<std::span<const std::byte>> views;
    std::size_t skip = done;
    for (const std::string& piece : pieces) {
      std::span<const std::byte> bytes = asBytes(piece);
      if (skip > 0) {
        if (bytes.size() <= skip) {
          skip -= bytes.size();
          continue;
        }
        bytes = bytes.subspan(skip);
        skip = 0;
      }
      views.push_back(bytes);  // empty pieces stay in, as callers may pass them
    }
    IoResult<std::size_t> took = co_await connection.write(views);
    if (!took.ok()) co_return took.error();
    if (*took == 0) co_return IoError{IoErrorKind::kIo, "write() took nothing"};
    done += *took;
  }
  co_return IoResult<void>();
}

Task<void> vectoredWriteKeepsOrder(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  CO_ASSERT_OK(listener);
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  CO_ASSERT_OK(dialed);
  IoResult<std::unique_ptr<Connection>> accepted = co_await (*listener)->accept();
  CO_ASSERT_OK(accepted);
  // Larger than a simulated send buffer: the peer reads while we write.
  const std::string big = pattern(100'000, 3);
  JoinHandle<IoResult<std::string>> reader =
      env.providers.tasks().spawn("reader", readToEnd(**accepted));
  IoResult<void> sent = co_await writeVectored(**dialed, {"head:", "", "middle:", big, ":tail"});
  CO_ASSERT_OK(sent);
  // Nothing to take is not an error: an all-empty write takes 0 bytes.
  std::vector<std::span<const std::byte>> nothing = {asBytes(""), asBytes("")};
  IoResult<std::size_t> none = co_await (*dialed)->write(nothing);
  CO_ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  CO_ASSERT_OK((*dialed)->shutdownWrite());
  IoResult<std::string> received = co_await reader.join();
  CO_ASSERT_OK(received);
  EXPECT_TRUE(*received == "head:middle:" + big + ":tail") << shortDescription(received);
}

TEST_P(NetworkContract, VectoredWriteKeepsOrder) { runContract(vectoredWriteKeepsOrder); }

INSTANTIATE_TEST_SUITE_P(Providers, NetworkContract, testing::ValuesIn(allHarnesses()),
                         harnessName);

}  // namespace
}  // namespace moonpool::conformance
