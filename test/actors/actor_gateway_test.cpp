// Goal: the server side of a remote actor call (cluster.h: one Gateway.call carrying the
// method's schema ordinal and its Params struct) runs the method named by the ordinal in a
// turn and writes its Results struct, and refuses an ordinal or a type the host does not
// know with a clear error instead of guessing.
// Method: the generated ActorRef<Counter>::dispatch and ActorRuntime::dispatcher, driven
// directly with Cap'n Proto messages built here (what the gateway hands them), on a seeded
// Simulation; outcomes are checked against exact values and messages.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include <optional>
#include <string>

#include "actor_testing.h"

namespace actortest {
namespace {

using moonpool::actors::internal::ActorResults;

// Collects a dispatch's results in a message of its own.
class MessageResults final : public ActorResults {
 public:
  // implements ActorResults
  ::capnp::AnyPointer::Builder init(unsigned wordsHint) override {
    ++inits;
    hint = wordsHint;
    return message.getRoot<::capnp::AnyPointer>();
  }

  ::capnp::MallocMessageBuilder message;
  int inits = 0;
  unsigned hint = 0;
};

Task<std::int64_t> dispatchAdd(ActorRuntime& runtime, std::int64_t amount) {
  ::capnp::MallocMessageBuilder params;
  params.initRoot<schema::Counter::AddParams>().setAmount(amount);
  MessageResults results;
  co_await ActorRef<Counter>::dispatch(runtime, "d", runtime.callerChain(),
                                       ActorRef<Counter>::kAddMethod.ordinal,
                                       params.getRoot<::capnp::AnyPointer>().asReader(),
                                       results);
  EXPECT_EQ(results.inits, 1);
  EXPECT_GE(results.hint, ::capnp::sizeInWords<schema::Counter::AddResults>());
  co_return results.message.getRoot<schema::Counter::AddResults>().getResult();
}

Task<void> dispatchByOrdinal(ActorRuntime& runtime, Journal& journal) {
  EXPECT_EQ(co_await dispatchAdd(runtime, 5), 5);
  EXPECT_EQ(co_await dispatchAdd(runtime, 2), 7);
  EXPECT_EQ(co_await runtime.ref<Counter>("d").get(), 7) << "the same activation as local calls";
  std::vector<std::string> expected = {"activate 'd'", "add 'd' 5", "add 'd' 2"};
  EXPECT_EQ(journal.lines, expected);
}

TEST(ActorGatewayTest, DispatchRunsTheMethodOfTheOrdinalInATurn) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) runScenario(seed, dispatchByOrdinal);
}

Task<void> unknownOrdinal(ActorRuntime& runtime, Journal& journal) {
  ::capnp::MallocMessageBuilder params;
  MessageResults results;
  std::string message;
  std::optional<ActorFailure> failure = co_await failureOf(
      ActorRef<Counter>::dispatch(runtime, "d", runtime.callerChain(), 999,
                                  params.getRoot<::capnp::AnyPointer>().asReader(), results),
      &message);
  EXPECT_EQ(failure, ActorFailure::kUnknownMethod);
  EXPECT_NE(message.find("actortest::Counter has no method of ordinal 999"), std::string::npos)
      << message;
  EXPECT_EQ(results.inits, 0);
  EXPECT_TRUE(journal.lines.empty()) << "nothing was activated for it";
  EXPECT_EQ(runtime.activationCount(), 0u);
}

TEST(ActorGatewayTest, AnUnknownOrdinalFailsWithUnknownMethod) {
  runScenario(1, unknownOrdinal);
}

Task<void> unknownType(ActorRuntime& runtime, Journal&) {
  try {
    runtime.dispatcher("actortest::Nobody");
    ADD_FAILURE() << "an unregistered type got a dispatch";
  } catch (const ActorError& error) {
    EXPECT_EQ(error.failure(), ActorFailure::kUnknownType);
    EXPECT_NE(std::string(error.what()).find("actortest::Nobody"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(runtime.dispatcher(ActorRef<Counter>::kTypeName), &ActorRef<Counter>::dispatch);
  co_return;
}

TEST(ActorGatewayTest, AnUnknownTypeFailsWithUnknownType) { runScenario(1, unknownType); }

}  // namespace
}  // namespace actortest
