// Goal: a service served through moonpool-annotate's generated server speaks plain Cap'n
// Proto: a client written without moonpool (interop_client.cpp, only capnp and the code stock
// `capnp compile` generated from the schema) calls every kind of method and gets the right
// results, and a server error reaches it as a kj::Exception with its type and description.
// Method: a user implementation of roundtrip::Echo (inputs/all_types.h) is served by the
// generated EchoServer over an in-process kj::newTwoWayPipe (TwoPartyServer/TwoPartyClient);
// RealRuntime runs the KJ loop (the generated server runs the user's Tasks on it) and waits
// for the plain client's promise.
#include <capnp/rpc-twoparty.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include "all_types.moonpool.h"
#include "echo_impl.h"
#include "interop_client.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/error.h"
#include "moonpool/real/real_executor.h"

namespace roundtrip {
namespace {

moonpool::Task<void> serveAndCallPlainly(Echo* impl, interop::PlainResults* out) {
  kj::TwoWayPipe pipe = kj::newTwoWayPipe();
  ::capnp::TwoPartyServer server(kj::heap<schema::EchoServer>(*impl));
  server.accept(kj::mv(pipe.ends[0]));
  ::capnp::TwoPartyClient client(*pipe.ends[1]);
  co_await moonpool::awaitPromise(interop::callEchoPlainly(client.bootstrap(), *out));
}

TEST(AnnotateInterop, APlainCapnpClientCallsTheGeneratedServer) {
  moonpool::RealRuntime runtime;
  EchoImpl impl;
  interop::PlainResults results;
  moonpool::RunOutcome outcome = runtime.run(serveAndCallPlainly(&impl, &results));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(results.echoedText, "plain capnp");
  EXPECT_TRUE(results.echoedFlag);
  EXPECT_EQ(results.echoedInts, (std::vector<int32_t>{-5, 5, 15}));
  EXPECT_TRUE(results.echoedMaybeIntSet);
  EXPECT_EQ(results.echoedMaybeInt, 42);
  EXPECT_EQ(results.echoedCounters,
            (std::vector<std::pair<std::string, uint64_t>>{{"a", 1}, {"b", 2}}));
  EXPECT_TRUE(results.foundSet);
  EXPECT_EQ(results.found, "found k");
  EXPECT_FALSE(results.notFoundSet);
  EXPECT_EQ(results.scanned,
            (std::vector<std::pair<std::string, std::string>>{{"row0", "0"}, {"row1", "1"}}));
  EXPECT_EQ(results.bytes, (std::vector<uint8_t>{1, 2, 0xee}));
  EXPECT_TRUE(results.negated);
  EXPECT_TRUE(results.pinged);
  EXPECT_TRUE(results.failThrew);
  EXPECT_EQ(results.failType, kj::Exception::Type::OVERLOADED);
  EXPECT_NE(results.failDescription.find("failing on purpose"), std::string::npos)
      << results.failDescription;
}

}  // namespace
}  // namespace roundtrip
