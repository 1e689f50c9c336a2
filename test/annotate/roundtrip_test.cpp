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
#include "moonpool/error.h"
#include "moonpool/event.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/spawn.h"

namespace roundtrip {
namespace {

Everything makeEverything() {
  Everything value{};
  value.scalars = Scalars{.flag = true, .letter = 'x', .tiny = -7, .i8 = -128, .i16 = -30000,
                          .i32 = -2000000000, .i64 = -9000000000000000000LL, .ll = -5,
                          .u8 = 255, .u16 = 65535, .u32 = 4000000000u,
                          .u64 = 18000000000000000000ull, .ull = 7, .f32 = 1.5f,
                          .f64 = -2.25, .color = Color::BLUE_SKY, .legacy = kLegacyB};
  value.text = "hello, capnp";
  value.bytes = {0, 1, 254, 255};
  value.uchars = {9, 8};
  value.raw = {std::byte{0x10}, std::byte{0xff}};
  value.ints = {1, -2, 3};
  value.flags = {true, false, true};
  value.words = {"a", "", "ccc"};
  value.grid = {{1, 2}, {}, {3}};
  value.colors = {Color::kGreen, Color::kRed};
  value.inners = {Inner{"one", Color::kGreen}, Inner{"two", std::nullopt}};
  value.blobs = {{1, 2, 3}, {}};
  value.maybe_int = 42;
  value.maybe_text = std::nullopt;
  value.maybe_inner = Inner{"inner", Color::BLUE_SKY};
  value.nested_optional = std::optional<int64_t>(std::nullopt);
  value.maybe_list = std::vector<std::string>{"x", "y"};
  value.optional_words = {std::nullopt, "w"};
  value.counters = {{"a", 1}, {"b", 2}};
  value.buckets = {{7, {"s", "t"}}, {-1, {}}};
  value.inner_by_id = {{5, Inner{"five", std::nullopt}}};
  value.maybe_by_name = {{"pi", 3.14}, {"none", std::nullopt}};
  value.list_of_maps = {{{"k", "v"}}, {}};
  return value;
}

void expectSameInner(const Inner& a, const Inner& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.color, b.color);
}

void expectSameScalars(const Scalars& a, const Scalars& b) {
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.letter, b.letter);
  EXPECT_EQ(a.tiny, b.tiny);
  EXPECT_EQ(a.i8, b.i8);
  EXPECT_EQ(a.i16, b.i16);
  EXPECT_EQ(a.i32, b.i32);
  EXPECT_EQ(a.i64, b.i64);
  EXPECT_EQ(a.ll, b.ll);
  EXPECT_EQ(a.u8, b.u8);
  EXPECT_EQ(a.u16, b.u16);
  EXPECT_EQ(a.u32, b.u32);
  EXPECT_EQ(a.u64, b.u64);
  EXPECT_EQ(a.ull, b.ull);
  EXPECT_EQ(a.f32, b.f32);
  EXPECT_EQ(a.f64, b.f64);
  EXPECT_EQ(a.color, b.color);
  EXPECT_EQ(a.legacy, b.legacy);
}

void expectSame(const Everything& a, const Everything& b) {
  expectSameScalars(a.scalars, b.scalars);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.uchars, b.uchars);
  EXPECT_TRUE(a.raw == b.raw);
  EXPECT_EQ(a.ints, b.ints);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.words, b.words);
  EXPECT_EQ(a.grid, b.grid);
  EXPECT_EQ(a.colors, b.colors);
  ASSERT_EQ(a.inners.size(), b.inners.size());
  for (size_t i = 0; i < a.inners.size(); ++i) expectSameInner(a.inners[i], b.inners[i]);
  EXPECT_EQ(a.blobs, b.blobs);
  EXPECT_EQ(a.maybe_int, b.maybe_int);
  EXPECT_EQ(a.maybe_text, b.maybe_text);
  ASSERT_EQ(a.maybe_inner.has_value(), b.maybe_inner.has_value());
  if (a.maybe_inner) expectSameInner(*a.maybe_inner, *b.maybe_inner);
  EXPECT_EQ(a.nested_optional, b.nested_optional);
  EXPECT_EQ(a.maybe_list, b.maybe_list);
  EXPECT_EQ(a.optional_words, b.optional_words);
  EXPECT_EQ(a.counters, b.counters);
  EXPECT_EQ(a.buckets, b.buckets);
  ASSERT_EQ(a.inner_by_id.size(), b.inner_by_id.size());
  for (const auto& [id, inner] : a.inner_by_id) expectSameInner(inner, b.inner_by_id.at(id));
  EXPECT_EQ(a.maybe_by_name, b.maybe_by_name);
  EXPECT_EQ(a.list_of_maps, b.list_of_maps);
}


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
  bool destroyedWhenCallerFailed = false;
  bool destroyedAfterLaterCall = false;
};

// The client's end of the pipe shuts down while ping() is blocked: the server sees EOF and
// drops the call before it tells the caller (its Abort and EOF follow the teardown).
moonpool::Task<void> disconnectMidCall(BlockingPingEcho* impl, DroppedCall* out) {
  Connection connection(kj::heap<schema::EchoServer>(*impl));
  schema::EchoClient client(connection.client.bootstrap().castAs<schema::Echo>());
  moonpool::TaskGroup callers(moonpool::Executor::current(), "callers");
  auto call = callers.spawn("ping", pingKind(&client));
  co_await impl->entered.wait();
  // capnp logs its own later write on this end ("shutdownWrite() has been called"): expected.
  connection.pipe.ends[1]->shutdownWrite();
  out->callerKind = co_await call.join();
  out->destroyedWhenCallerFailed = impl->frameDestroyed;
}

TEST(AnnotateRoundTrip, LosingTheConnectionCancelsTheServersTask) {
  moonpool::RealRuntime runtime;
  BlockingPingEcho impl;
  DroppedCall result;
  moonpool::RunOutcome outcome = runtime.run(disconnectMidCall(&impl, &result));
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
