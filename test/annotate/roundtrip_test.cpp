// Goal: the C++ glue moonpool-annotate generates works end to end: every supported type
// survives conversion and a real Cap'n Proto RPC call, and server errors keep their kind.
// Method: the build runs the tool and `capnp compile` on inputs/all_types.h and compiles the
// output into this test. A plain C++ Echo implementation is served through the generated
// EchoServer over an in-process kj::newTwoWayPipe (TwoPartyServer/TwoPartyClient) and called
// through the generated EchoClient from a moonpool Task on RealRuntime's KJ loop. Dropped
// calls (connection lost, caller cancelled) must destroy the server's Task, and a response
// the client refuses to read must surface as a moonpool::Exception, never a kj::Exception.
#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <stdexcept>

#include "all_types.moonpool.h"
#include "echo_impl.h"
#include "everything.h"
#include "moonpool/error.h"
#include "moonpool/event.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/spawn.h"

namespace roundtrip {
namespace {

// ping() blocks until released, recording whether its frame was destroyed (cancelled) and
// whether it ever got past the wait.
class BlockingPingEcho final : public EchoImpl {
 public:
  struct FrameGuard {
    bool* destroyed;
    ~FrameGuard() { *destroyed = true; }
  };

  // implements Echo
  moonpool::Task<> ping() override {
    FrameGuard guard{&frameDestroyed};
    entered.set();
    co_await release.wait();
    resumed = true;
  }

  moonpool::Event entered;
  moonpool::Event release;  // never set: only cancellation ends ping()
  bool frameDestroyed = false;
  bool resumed = false;
};

TEST(AnnotateConversions, EveryTypeRoundTripsThroughAMessage) {
  ::capnp::MallocMessageBuilder message;
  Everything sent = makeEverything();
  schema::toCapnp(sent, message.initRoot<schema::Everything>());
  Everything received{};
  schema::fromCapnp(message.getRoot<schema::Everything>().asReader(), received);
  expectSame(sent, received);
}

TEST(AnnotateConversions, UnsetFieldsReadAsDefaultsAndNullopt) {
  ::capnp::MallocMessageBuilder message;
  message.initRoot<schema::Everything>();
  Everything received = makeEverything();
  schema::fromCapnp(message.getRoot<schema::Everything>().asReader(), received);
  EXPECT_EQ(received.maybe_int, std::nullopt);
  EXPECT_FALSE(received.maybe_inner.has_value());
  EXPECT_TRUE(received.text.empty());
  EXPECT_TRUE(received.counters.empty());
  EXPECT_EQ(received.scalars.color, Color::kRed);
  EXPECT_EQ(received.scalars.i64, 0);
}

// Both ends of one connection, in this process and thread.
struct Connection {
  explicit Connection(::capnp::Capability::Client bootstrap)
      : pipe(kj::newTwoWayPipe()), server(kj::mv(bootstrap)), client(*pipe.ends[1]) {
    server.accept(kj::mv(pipe.ends[0]));
  }
  kj::TwoWayPipe pipe;
  ::capnp::TwoPartyServer server;
  ::capnp::TwoPartyClient client;
};

struct CallResults {
  Everything echoed;
  std::optional<std::string> found;
  std::optional<std::string> notFound;
  std::map<std::string, std::string> scanned;
  std::vector<uint8_t> bytes;
  Color next = Color::kRed;
  bool negated = false;
  std::optional<moonpool::ErrorKind> overloadedKind;
  std::optional<moonpool::ErrorKind> unimplementedKind;
  std::optional<moonpool::ErrorKind> foreignKind;
  std::string overloadedWhat;
};

moonpool::Task<std::optional<moonpool::ErrorKind>> failKind(schema::EchoClient& client,
                                                            int32_t kind, std::string* what) {
  try {
    co_await client.fail(kind);
  } catch (const moonpool::Exception& error) {
    if (what != nullptr) *what = error.description();
    co_return error.kind();
  }
  co_return std::nullopt;
}

moonpool::Task<void> callEverything(EchoImpl* impl, CallResults* out) {
  Connection connection(kj::heap<schema::EchoServer>(*impl));
  schema::EchoClient client(connection.client.bootstrap().castAs<schema::Echo>());
  Everything sent = makeEverything();
  out->echoed = co_await client.echo(sent);
  std::string key = "k";
  out->found = co_await client.find(key, Color::kGreen);
  out->notFound = co_await client.find(key, Color::kRed);
  out->scanned = co_await client.scan("row", 3);
  out->bytes = co_await client.bytes({1, 2});
  co_await client.ping();
  out->next = co_await client.next(Color::kGreen, kLegacyA);
  out->negated = co_await client.negate(false);
  out->overloadedKind = co_await failKind(client, 1, &out->overloadedWhat);
  out->unimplementedKind = co_await failKind(client, 3, nullptr);
  out->foreignKind = co_await failKind(client, -1, nullptr);
}

TEST(AnnotateRoundTrip, GeneratedClientCallsGeneratedServerOverRpc) {
  moonpool::RealRuntime runtime;
  EchoImpl impl;
  CallResults results;
  moonpool::RunOutcome outcome = runtime.run(callEverything(&impl, &results));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  expectSame(makeEverything(), results.echoed);
  EXPECT_EQ(results.found, "found k");
  EXPECT_EQ(results.notFound, std::nullopt);
  EXPECT_EQ(results.scanned, (std::map<std::string, std::string>{
                                 {"row0", "0"}, {"row1", "1"}, {"row2", "2"}}));
  EXPECT_EQ(results.bytes, (std::vector<uint8_t>{1, 2, 0xee}));
  EXPECT_EQ(impl.pings, 1);
  EXPECT_EQ(results.next, Color::kGreen);
  EXPECT_TRUE(results.negated);
  EXPECT_EQ(results.overloadedKind, moonpool::ErrorKind::kOverloaded);
  EXPECT_NE(results.overloadedWhat.find("failing on purpose"), std::string::npos)
      << results.overloadedWhat;
  EXPECT_EQ(results.unimplementedKind, moonpool::ErrorKind::kUnimplemented);
  EXPECT_EQ(results.foreignKind, moonpool::ErrorKind::kFailed);
}

moonpool::Task<void> useCounter(Counter* counter, int64_t* total) {
  Connection connection(kj::heap<schema::CounterServer>(*counter));
  schema::CounterRef ref(connection.client.bootstrap().castAs<schema::Counter>());
  co_await ref.add(5);
  co_await ref.add(-2);
  *total = co_await ref.total();
}

TEST(AnnotateRoundTrip, ActorRefCallsTheActorThroughItsDispatcher) {
  moonpool::RealRuntime runtime;
  Counter counter;
  int64_t total = 0;
  moonpool::RunOutcome outcome = runtime.run(useCounter(&counter, &total));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(total, 3);
}

moonpool::Task<std::optional<moonpool::ErrorKind>> pingKind(schema::EchoClient* client) {
  try {
    co_await client->ping();
  } catch (const moonpool::Exception& error) {
    co_return error.kind();
  }
  co_return std::nullopt;
}

struct DroppedCall {
  std::optional<moonpool::ErrorKind> callerKind;
  bool destroyedWhenCallerFailed = false;  // within 100 ms of the caller's failure
  bool destroyedAfterLaterCall = false;
};

// The client's end of the pipe shuts down while ping() is blocked: the server sees EOF and
// drops the call before it tells the caller (its Abort and EOF follow the teardown).
moonpool::Task<void> disconnectMidCall(moonpool::TimeProvider& time, BlockingPingEcho* impl,
                                       DroppedCall* out) {
  Connection connection(kj::heap<schema::EchoServer>(*impl));
  schema::EchoClient client(connection.client.bootstrap().castAs<schema::Echo>());
  moonpool::TaskGroup callers(moonpool::Executor::current(), "callers");
  auto call = callers.spawn("ping", pingKind(&client));
  co_await impl->entered.wait();
  // Let KJ finish the writes it has queued on the pipe (the task resumes as soon as the
  // server entered the method; a pipe refuses shutdownWrite() during a write).
  co_await time.sleep(std::chrono::milliseconds(5));
  // capnp logs its own later write on this end ("shutdownWrite() has been called"): expected.
  connection.pipe.ends[1]->shutdownWrite();
  out->callerKind = co_await call.join();
  // The caller may hear of the failure a few KJ turns before the server's side has dropped
  // the call (the executor runs a task as soon as one is ready); it must follow promptly.
  for (int i = 0; i < 100 && !impl->frameDestroyed; ++i) {
    co_await time.sleep(std::chrono::milliseconds(1));
  }
  out->destroyedWhenCallerFailed = impl->frameDestroyed;
}

TEST(AnnotateRoundTrip, LosingTheConnectionCancelsTheServersTask) {
  moonpool::RealRuntime runtime;
  BlockingPingEcho impl;
  DroppedCall result;
  moonpool::RunOutcome outcome =
      runtime.run(disconnectMidCall(runtime.providers().time(), &impl, &result));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(result.callerKind, moonpool::ErrorKind::kDisconnected);
  EXPECT_TRUE(result.destroyedWhenCallerFailed);
  EXPECT_FALSE(impl.resumed);
}

// The caller cancels its Task mid-call: capnp sends Finish before the next call on the same
// connection, so once that call returns the server has dropped the first one.
moonpool::Task<void> cancelMidCall(BlockingPingEcho* impl, DroppedCall* out) {
  Connection connection(kj::heap<schema::EchoServer>(*impl));
  schema::EchoClient client(connection.client.bootstrap().castAs<schema::Echo>());
  moonpool::TaskGroup callers(moonpool::Executor::current(), "callers");
  auto call = callers.spawn("ping", pingKind(&client));
  co_await impl->entered.wait();
  call.cancel();
  EXPECT_TRUE(co_await client.negate(false));
  out->destroyedAfterLaterCall = impl->frameDestroyed;
}

TEST(AnnotateRoundTrip, CancellingTheCallerCancelsTheServersTask) {
  moonpool::RealRuntime runtime;
  BlockingPingEcho impl;
  DroppedCall result;
  moonpool::RunOutcome outcome = runtime.run(cancelMidCall(&impl, &result));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_TRUE(result.destroyedAfterLaterCall);
  EXPECT_FALSE(impl.resumed);
}

// Client side of a connection whose reader follows at most `nestingLimit` pointers deep: the
// RPC layer reads its envelope, and a deeper response fails inside capnp's accessors, in
// generated code (kj::Exception). (A size limit would not do: the transport checks it when
// reading the message and drops the connection.)
struct LimitedConnection {
  LimitedConnection(::capnp::Capability::Client bootstrap, int nestingLimit)
      : pipe(kj::newTwoWayPipe()),
        server(kj::mv(bootstrap)),
        network(*pipe.ends[1], ::capnp::rpc::twoparty::Side::CLIENT,
                ::capnp::ReaderOptions{.nestingLimit = nestingLimit}),
        rpc(::capnp::makeRpcClient(network)) {
    server.accept(kj::mv(pipe.ends[0]));
  }
  ::capnp::Capability::Client bootstrap() {
    ::capnp::MallocMessageBuilder message;
    auto vatId = message.getRoot<::capnp::rpc::twoparty::VatId>();
    vatId.setSide(::capnp::rpc::twoparty::Side::SERVER);
    return rpc.bootstrap(vatId);
  }
  kj::TwoWayPipe pipe;
  ::capnp::TwoPartyServer server;
  ::capnp::TwoPartyVatNetwork network;
  ::capnp::RpcSystem<::capnp::rpc::twoparty::VatId> rpc;
};

// Deep enough for the RPC envelope and a shallow result (4 already fails in the envelope),
// too shallow for Everything's nested lists.
constexpr int kNestingLimit = 8;

struct UnreadableResponse {
  bool shallow = false;
  std::optional<moonpool::ErrorKind> kind;
  std::string what;
  bool escapedAsKj = false;
};

moonpool::Task<void> echoPastTheLimit(EchoImpl* impl, UnreadableResponse* out) {
  LimitedConnection connection(kj::heap<schema::EchoServer>(*impl), kNestingLimit);
  schema::EchoClient client(connection.bootstrap().castAs<schema::Echo>());
  out->shallow = co_await client.negate(false);
  try {
    co_await client.echo(makeEverything());
  } catch (const moonpool::Exception& error) {
    out->kind = error.kind();
    out->what = error.description();
  } catch (const kj::Exception&) {
    out->escapedAsKj = true;
  }
}

TEST(AnnotateRoundTrip, AnUnreadableResponseFailsAsAMoonpoolException) {
  moonpool::RealRuntime runtime;
  EchoImpl impl;
  UnreadableResponse result;
  moonpool::RunOutcome outcome = runtime.run(echoPastTheLimit(&impl, &result));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_TRUE(result.shallow);
  EXPECT_FALSE(result.escapedAsKj);
  EXPECT_EQ(result.kind, moonpool::ErrorKind::kFailed);
  EXPECT_NE(result.what.find("nest"), std::string::npos) << result.what;
}

}  // namespace
}  // namespace roundtrip
