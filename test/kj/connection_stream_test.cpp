// Goal: a simulated Connection behaves as a kj::AsyncIoStream should: tryRead honours
// minBytes through partial reads and returns short only at end of stream, vectored writes
// of more pieces than one Connection::write takes arrive whole and in order, half-close,
// reset (DISCONNECTED, whenWriteDisconnected), abortRead and socket addresses work, and a
// dropped read promise cancels the read without losing bytes.
// Method: both ends in the test driver on one simulated network (partial I/O on every call
// where it matters); KJ promises awaited from Tasks.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "moonpool/kj/connection_stream.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;

constexpr std::uint16_t kPort = 7000;
// Where SimWorld's root providers live.
constexpr IpAddress kRootIp = IpAddress::fromOctets(10, 0, 0, 254);

struct Pair {
  std::unique_ptr<ConnectionStream> client;
  std::unique_ptr<ConnectionStream> server;
};

Task<Pair> connectPair(NetworkProvider& network) {
  auto listener = network.listen(NetAddress{IpAddress(), kPort}, 4).orThrow();
  auto dialed = (co_await network.connect(NetAddress{kRootIp, kPort})).orThrow();
  auto accepted = (co_await listener->accept()).orThrow();
  co_return Pair{std::make_unique<ConnectionStream>(std::move(dialed)),
                 std::make_unique<ConnectionStream>(std::move(accepted))};
}

WorldOptions partialIoWorld() {
  WorldOptions options = WorldOptions::quiet();
  options.network.faults.partialIoProbability = Probability{1.0};
  return options;
}

std::string patterned(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return text;
}

Task<void> minBytesAndManyPieces(SimWorld* world) {
  Pair pair = co_await connectPair(world->rootProviders().network());
  const std::string text = patterned(10'000);
  std::vector<kj::ArrayPtr<const kj::byte>> pieces;
  for (std::size_t at = 0; at < text.size(); at += 100) {
    pieces.push_back(kj::arrayPtr(reinterpret_cast<const kj::byte*>(text.data()) + at, 100));
  }
  EXPECT_GT(pieces.size(), ConnectionStream::kPiecesPerWriteMax);
  auto writing = pair.client->write(kj::arrayPtr(pieces.data(), pieces.size()))
                     .then([&pair]() { pair.client->shutdownWrite(); })
                     .eagerlyEvaluate(nullptr);
  std::string got(text.size(), '\0');
  std::size_t n = co_await awaitPromise(pair.server->tryRead(got.data(), 6000, 6000));
  EXPECT_EQ(n, 6000u) << "partial reads are retried until minBytes";
  n += co_await awaitPromise(pair.server->tryRead(got.data() + n, 4000, 4000));
  EXPECT_EQ(n, text.size());
  EXPECT_EQ(got, text);
  char more[8];
  EXPECT_EQ(co_await awaitPromise(pair.server->tryRead(more, 5, sizeof(more))), 0u)
      << "end of stream after the half-close";
  co_await awaitPromise(kj::mv(writing));
}

TEST(ConnectionStreamTest, TryReadHonoursMinBytesAndWritesSendEveryPiece) {
  RpcWorld w(11, partialIoWorld());
  RunOutcome outcome = w.sim.run(minBytesAndManyPieces(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_GT(w.world.timeline().faultCounts().at("net.partial_read"), 0u);
  EXPECT_GT(w.world.timeline().faultCounts().at("net.partial_write"), 0u);
}

Task<void> resetIsDisconnected(SimWorld* world) {
  Pair pair = co_await connectPair(world->rootProviders().network());
  bool writeSideDown = false;
  auto watch = pair.server->whenWriteDisconnected()
                   .then([&writeSideDown]() { writeSideDown = true; })
                   .eagerlyEvaluate(nullptr);
  pair.client->abort();
  char buffer[4];
  auto read = pair.server->tryRead(buffer, 1, sizeof(buffer))
                  .then([](size_t) { return kj::Maybe<kj::Exception>(); },
                        [](kj::Exception&& e) { return kj::Maybe<kj::Exception>(kj::mv(e)); });
  kj::Maybe<kj::Exception> error = co_await awaitPromise(kj::mv(read));
  KJ_IF_MAYBE(e, error) {
    EXPECT_EQ(e->getType(), kj::Exception::Type::DISCONNECTED);
    std::string description = e->getDescription().cStr();
    EXPECT_NE(description.find("read on"), std::string::npos) << description;
    EXPECT_NE(description.find("reset"), std::string::npos) << description;
  } else {
    ADD_FAILURE() << "a read of a reset connection succeeded";
  }
  co_await world->rootProviders().time().sleep(1ms);  // let KJ run the watch
  EXPECT_TRUE(writeSideDown);
}

TEST(ConnectionStreamTest, AResetIsDisconnectedAndEndsWrites) {
  RpcWorld w(12);
  RunOutcome outcome = w.sim.run(resetIsDisconnected(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

Task<void> abortReadAndAddresses(SimWorld* world) {
  Pair pair = co_await connectPair(world->rootProviders().network());
  sockaddr_in peer{};
  kj::uint length = sizeof(peer);
  pair.server->getpeername(reinterpret_cast<sockaddr*>(&peer), &length);
  EXPECT_EQ(length, sizeof(peer));
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kRootIp.value());
  EXPECT_EQ(ntohs(peer.sin_port), pair.client->localAddress().port);
  sockaddr_in local{};
  length = sizeof(local);
  pair.server->getsockname(reinterpret_cast<sockaddr*>(&local), &length);
  EXPECT_EQ(ntohs(local.sin_port), kPort);

  pair.server->abortRead();
  char buffer[4];
  kj::Maybe<kj::Exception> error = co_await awaitPromise(
      pair.server->tryRead(buffer, 1, sizeof(buffer))
          .then([](size_t) { return kj::Maybe<kj::Exception>(); },
                [](kj::Exception&& e) { return kj::Maybe<kj::Exception>(kj::mv(e)); }));
  EXPECT_TRUE(error != nullptr) << "reads fail after abortRead()";
  // The other direction still works.
  co_await awaitPromise(pair.server->write("ok", 2));
  EXPECT_EQ(co_await awaitPromise(pair.client->tryRead(buffer, 2, 2)), 2u);
}

TEST(ConnectionStreamTest, AbortReadFailsReadsOnlyAndAddressesAreReported) {
  RpcWorld w(13);
  RunOutcome outcome = w.sim.run(abortReadAndAddresses(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

Task<void> droppedReadLosesNothing(SimWorld* world) {
  Pair pair = co_await connectPair(world->rootProviders().network());
  char buffer[16] = {};
  {
    kj::Promise<size_t> abandoned = pair.server->tryRead(buffer, 1, sizeof(buffer));
    co_await world->rootProviders().time().sleep(10ms);  // the read is waiting inside
    // The read's task is owned by its promise (bridge.h), not a spawned task.
    EXPECT_EQ(world->simulation().executor().liveTasks(), 1u);
  }
  // The read was cancelled at once: a new read is allowed (one in flight at a time, checked)
  // and gets every byte.
  co_await awaitPromise(pair.client->write("hello", 5));
  std::size_t n = co_await awaitPromise(pair.server->tryRead(buffer, 5, sizeof(buffer)));
  EXPECT_EQ(std::string(buffer, n), "hello");
}

TEST(ConnectionStreamTest, DroppingAReadPromiseCancelsTheReadAndLosesNoBytes) {
  RpcWorld w(14);
  RunOutcome outcome = w.sim.run(droppedReadLosesNothing(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

}  // namespace
}  // namespace moonpool
