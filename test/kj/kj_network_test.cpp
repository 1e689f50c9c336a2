// Goal: a NetworkProvider seen as a kj::Network parses the documented address forms (and
// rejects everything else with a message saying what was expected), listens and connects
// between simulated processes, and maps failures onto kj::Exception types: refused is
// DISCONNECTED, an address in use or a bad address FAILED.
// Method: parseKjAddress tables; KJ network calls from Tasks in the simulated world.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/kj/kj_network.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;

TEST(KjNetworkTest, ParsesTheDocumentedAddressForms) {
  struct Case {
    const char* text;
    std::uint16_t hint;
    NetAddress expected;
  };
  const Case cases[] = {
      {"10.0.1.1:80", 0, {IpAddress::fromOctets(10, 0, 1, 1), 80}},
      {"10.0.1.1", 7, {IpAddress::fromOctets(10, 0, 1, 1), 7}},
      {"10.0.1.1", 0, {IpAddress::fromOctets(10, 0, 1, 1), 0}},
      {"*:5000", 0, {IpAddress(), 5000}},
      {"*", 9, {IpAddress(), 9}},
      {"localhost:9", 0, {IpAddress::fromOctets(127, 0, 0, 1), 9}},
      // An explicit port beats the hint.
      {"10.0.1.1:0", 5, {IpAddress::fromOctets(10, 0, 1, 1), 0}},
  };
  for (const Case& c : cases) {
    IoResult<NetAddress> parsed = parseKjAddress(c.text, c.hint);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().toString();
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
}

TEST(KjNetworkTest, RejectsBadAddressesSayingWhatWasExpected) {
  for (const char* text : {"", ":80", "10.0.1:80", "10.0.1.1:", "10.0.1.1:65536", "10.0.1.300:1",
                           "example.com:80", "10.0.1.1:8x"}) {
    IoResult<NetAddress> parsed = parseKjAddress(text, 0);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(parsed.error().kind, IoErrorKind::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("expected a.b.c.d[:port]"), std::string::npos)
        << parsed.error().message;
  }
}

// Resolves to the exception a promise rejected with, or null.
template <typename T>
kj::Promise<kj::Maybe<kj::Exception>> failureOf(kj::Promise<T> promise) {
  return promise.then([](auto&&...) { return kj::Maybe<kj::Exception>(); },
                      [](kj::Exception&& e) { return kj::Maybe<kj::Exception>(kj::mv(e)); });
}

Task<void> echoOnce(ProcessContext& context) {
  KjNetwork network(context.providers().network());
  auto address = co_await awaitPromise(network.parseAddress("*:6000"));
  auto receiver = address->listen();
  EXPECT_EQ(receiver->getPort(), 6000u);
  auto stream = co_await awaitPromise(receiver->accept());
  char buffer[5];
  co_await awaitPromise(stream->read(buffer, 5));
  co_await awaitPromise(stream->write(buffer, 5));
  co_await context.providers().time().sleep(std::chrono::seconds(1));
}

Task<void> dialAndCheckErrors(SimWorld* world) {
  KjNetwork network(world->rootProviders().network());
  co_await world->rootProviders().time().sleep(std::chrono::milliseconds(10));
  auto address = co_await awaitPromise(network.parseAddress("10.0.1.1", 6000));
  EXPECT_EQ(std::string(address->toString().cStr()), "10.0.1.1:6000");
  auto stream = co_await awaitPromise(address->connect());
  co_await awaitPromise(stream->write("hello", 5));
  char buffer[5];
  co_await awaitPromise(stream->read(buffer, 5));
  EXPECT_EQ(std::string(buffer, 5), "hello");

  auto nobody = co_await awaitPromise(network.parseAddress("10.0.1.1:6001"));
  kj::Maybe<kj::Exception> refused = co_await awaitPromise(failureOf(nobody->connect()));
  KJ_IF_MAYBE(e, refused) {
    EXPECT_EQ(e->getType(), kj::Exception::Type::DISCONNECTED) << e->getDescription().cStr();
    EXPECT_NE(std::string(e->getDescription().cStr()).find("refused"), std::string::npos);
  } else {
    ADD_FAILURE() << "connecting to a port nobody listens on succeeded";
  }
  kj::Maybe<kj::Exception> bad = co_await awaitPromise(failureOf(network.parseAddress("nope:1")));
  KJ_IF_MAYBE(e, bad) {
    EXPECT_EQ(e->getType(), kj::Exception::Type::FAILED);
  } else {
    ADD_FAILURE() << "a bad address parsed";
  }
  auto mine = network.address(NetAddress{IpAddress(), 6002});
  auto first = mine->listen();
  kj::Maybe<kj::Exception> inUse = kj::runCatchingExceptions([&]() { mine->listen(); });
  KJ_IF_MAYBE(e, inUse) {
    EXPECT_EQ(e->getType(), kj::Exception::Type::FAILED);
    EXPECT_NE(std::string(e->getDescription().cStr()).find("already listening"), std::string::npos)
        << e->getDescription().cStr();
  } else {
    ADD_FAILURE() << "listening twice on one address succeeded";
  }
}

TEST(KjNetworkTest, ListensConnectsAndMapsErrorsInSimulation) {
  RpcWorld w(21);
  w.world.addProcess(ProcessSpec{.name = "echo-once", .main = echoOnce});
  RunOutcome outcome = w.sim.run(dialAndCheckErrors(&w.world));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

}  // namespace
}  // namespace moonpool
