// Goal: the error half of the NetworkProvider contract (network.h, io.h) holds for
// SimNetwork and for the real TCP provider alike: a connect to a port nobody listens on is
// kRefused; abort() makes the peer's next read, or its writes, fail with kReset (and our
// own later operations too); a port already listened on is kAddressInUse until that
// listener closes; malformed addresses, foreign listen addresses and a zero backlog are
// kInvalidArgument.
// Method: each case is one coroutine against NetworkProvider, run by both harnesses
// (harness.h). Real runs use 127.0.0.1 and port-0 listeners; the "nothing listens" port is
// one a listener just vacated.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "harness.h"
#include "moonpool/network.h"
#include "network_support.h"
#include "support/co_assert.h"

namespace moonpool::conformance {
namespace {

using namespace std::chrono_literals;

class NetworkErrorsContract : public ContractTest {};

// A write loop against an aborted peer gives up after this many successful writes.
constexpr int kWritesUntilResetMax = 100;

// 192.0.2.1 (TEST-NET-1, reserved for documentation): never an address of this host.
constexpr IpAddress kForeignIp = IpAddress::fromOctets(192, 0, 2, 1);

Task<void> connectToNothingIsRefused(ContractEnv& env) {
  NetAddress vacated;
  {
    IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
    CO_ASSERT_OK(listener);
    vacated = (*listener)->localAddress();
  }  // closed: nothing listens there any more
  IoResult<std::unique_ptr<Connection>> dialed = co_await env.peerNetwork.connect(vacated);
  CO_ASSERT_TRUE(!dialed.ok());
  EXPECT_EQ(dialed.error().kind, IoErrorKind::kRefused) << dialed.error().toString();
}

TEST_P(NetworkErrorsContract, ConnectToNothingIsRefused) {
  runContract(connectToNothingIsRefused);
}

struct ConnectedPair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Connection> dialer;    // on the peer host
  std::unique_ptr<Connection> acceptor;  // on the local host
};

// A connection from the peer host to the local host, with one byte exchanged each way so
// both ends are fully established and nothing is left unread.
Task<IoResult<ConnectedPair>> connectPair(ContractEnv& env) {
  IoResult<std::unique_ptr<Listener>> listener = listenLocal(env);
  if (!listener.ok()) co_return listener.error();
  IoResult<std::unique_ptr<Connection>> dialed =
      co_await env.peerNetwork.connect((*listener)->localAddress());
  if (!dialed.ok()) co_return dialed.error();
  IoResult<std::unique_ptr<Connection>> accepted = co_await (*listener)->accept();
  if (!accepted.ok()) co_return accepted.error();
  std::array<std::byte, 1> byte{};
  for (Connection* from : {dialed->get(), accepted->get()}) {
    Connection* to = from == dialed->get() ? accepted->get() : dialed->get();
    IoResult<void> sent = co_await sendText(*from, "!");
    if (!sent.ok()) co_return sent.error();
    IoResult<void> got = co_await to->readExactly(byte);
    if (!got.ok()) co_return got.error();
  }
  co_return ConnectedPair{std::move(*listener), std::move(*dialed), std::move(*accepted)};
}

Task<void> abortResetsThePeersRead(ContractEnv& env) {
  IoResult<ConnectedPair> pair = co_await connectPair(env);
  CO_ASSERT_OK(pair);
  pair->acceptor->abort();
  std::array<std::byte, 16> buffer;
  IoResult<std::size_t> read = co_await pair->dialer->read(buffer);
  CO_ASSERT_TRUE(!read.ok());
  EXPECT_EQ(read.error().kind, IoErrorKind::kReset) << read.error().toString();
  // A failed connection stays failed.
  IoResult<void> write = co_await sendText(*pair->dialer, "after the reset");
  CO_ASSERT_TRUE(!write.ok());
  EXPECT_EQ(write.error().kind, IoErrorKind::kReset) << write.error().toString();
  // The aborting side's own operations fail too.
  IoResult<std::size_t> own = co_await pair->acceptor->read(buffer);
  CO_ASSERT_TRUE(!own.ok());
  EXPECT_EQ(own.error().kind, IoErrorKind::kReset) << own.error().toString();
}

TEST_P(NetworkErrorsContract, AbortResetsThePeersRead) { runContract(abortResetsThePeersRead); }

Task<void> abortResetsThePeersWrites(ContractEnv& env) {
  IoResult<ConnectedPair> pair = co_await connectPair(env);
  CO_ASSERT_OK(pair);
  pair->acceptor->abort();
  // Real TCP learns of the reset asynchronously: a write may still be accepted by the local
  // kernel before the RST is processed (the aborted side then answers it with another RST),
  // so keep writing until one fails. The first failure after an RST is ECONNRESET on Linux,
  // i.e. kReset; kBrokenPipe would only follow it.
  std::optional<IoError> failure;
  for (int i = 0; i < kWritesUntilResetMax && !failure.has_value(); ++i) {
    IoResult<void> sent = co_await sendText(*pair->dialer, "are you there?");
    if (!sent.ok()) {
      failure = sent.error();
    } else {
      co_await env.providers.time().sleep(1ms);
    }
  }
  CO_ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->kind, IoErrorKind::kReset) << failure->toString();
}

TEST_P(NetworkErrorsContract, AbortResetsThePeersWrites) {
  runContract(abortResetsThePeersWrites);
}

Task<void> busyPortIsAddressInUse(ContractEnv& env) {
  NetworkProvider& network = env.providers.network();
  NetAddress taken;
  {
    IoResult<std::unique_ptr<Listener>> first = listenLocal(env);
    CO_ASSERT_OK(first);
    taken = (*first)->localAddress();
    IoResult<std::unique_ptr<Listener>> second = network.listen(taken, kBacklog);
    CO_ASSERT_TRUE(!second.ok());
    EXPECT_EQ(second.error().kind, IoErrorKind::kAddressInUse) << second.error().toString();
  }
  // Once the listener is gone the port is free again.
  IoResult<std::unique_ptr<Listener>> again = network.listen(taken, kBacklog);
  CO_ASSERT_OK(again);
  EXPECT_EQ((*again)->localAddress(), taken);
  co_return;
}

TEST_P(NetworkErrorsContract, BusyPortIsAddressInUse) { runContract(busyPortIsAddressInUse); }

Task<void> badAddressesAreInvalidArguments(ContractEnv& env) {
  for (const char* text : {"not-an-address", "10.0.0.1", "10.0.0:80", "10.0.0.256:80",
                           "10.0.0.1:65536", "10.0.0.1:", "10.0.0.1:8x"}) {
    IoResult<NetAddress> parsed = NetAddress::parse(text);
    CO_ASSERT_TRUE(!parsed.ok());
    EXPECT_EQ(parsed.error().kind, IoErrorKind::kInvalidArgument) << text;
  }
  IoResult<NetAddress> good = NetAddress::parse("10.0.1.2:4500");
  CO_ASSERT_OK(good);
  EXPECT_EQ(*good, (NetAddress{IpAddress::fromOctets(10, 0, 1, 2), 4500}));

  NetworkProvider& network = env.providers.network();
  IoResult<std::unique_ptr<Listener>> foreign = network.listen(NetAddress{kForeignIp, 0}, kBacklog);
  CO_ASSERT_TRUE(!foreign.ok());
  EXPECT_EQ(foreign.error().kind, IoErrorKind::kInvalidArgument) << foreign.error().toString();
  IoResult<std::unique_ptr<Listener>> noBacklog =
      network.listen(NetAddress{network.localIp(), 0}, 0);
  CO_ASSERT_TRUE(!noBacklog.ok());
  EXPECT_EQ(noBacklog.error().kind, IoErrorKind::kInvalidArgument)
      << noBacklog.error().toString();
  co_return;
}

TEST_P(NetworkErrorsContract, BadAddressesAreInvalidArguments) {
  runContract(badAddressesAreInvalidArguments);
}

INSTANTIATE_TEST_SUITE_P(Providers, NetworkErrorsContract, testing::ValuesIn(allHarnesses()),
                         harnessName);

}  // namespace
}  // namespace moonpool::conformance
