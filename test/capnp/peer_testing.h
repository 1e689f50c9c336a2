// Shared by the rpc client-layer tests (peer_test.cpp, peer_failure_test.cpp): an Echo
// server process (Host + an Echo service whose calls run in a TaskGroup the test can cancel),
// a client process that runs a script against an rpc::Peer, and runScript, which runs both
// in a simulated world while a driver steers kills, pauses and partitions.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "moonpool/task_function.h"
#include "rpc_testing.h"

namespace moonpool::peer_testing {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::Delivered;
using rpc::Delivery;
using rpc::RpcFailure;

inline constexpr NetAddress kServer{kIp1, kEchoPort};
inline constexpr const char* kService = "test.Echo";

enum class ServerMode : std::uint8_t { kEcho, kAcceptAndDrop };

struct Served {
  ServerMode mode = ServerMode::kEcho;
  std::uint64_t calls = 0;      // slowEcho calls started
  std::uint64_t finished = 0;   // slowEcho calls that ran to the end
  std::uint32_t active = 0;
  std::uint64_t boots = 0;
  std::uint64_t incarnation = 0;
  TaskGroup* requests = nullptr;  // where slowEcho's work runs, for the broken-request test
  std::uint64_t corruptedConnections = 0;  // as the host reported them
  std::uint64_t reasonless = 0;            // reports without a reason
};

struct Active {
  explicit Active(Served* s) : served(s) { ++served->active; }
  ~Active() { --served->active; }
  Served* served;
};

using SlowEchoContext = ::capnp::CallContext<Echo::SlowEchoParams, Echo::SlowEchoResults>;

inline Task<void> slowWork(TimeProvider& time, Served* served, SlowEchoContext context) {
  Active active(served);
  co_await time.sleep(std::chrono::milliseconds(context.getParams().getDelayMs()));
  ++served->finished;
  context.getResults().setText(context.getParams().getText());
}

// Echo whose slowEcho runs in `group` (the process's group, or the test's own).
class GroupEcho final : public Echo::Server {
 public:
  GroupEcho(TimeProvider& time, Served* served, TaskGroup* group)
      : time_(time), served_(served), group_(group) {}

 protected:
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }
  kj::Promise<void> slowEcho(SlowEchoContext context) override {
    ++served_->calls;
    context.allowCancellation();
    return toPromise(slowWork(time_, served_, context), "slowEcho", group_);
  }

 private:
  TimeProvider& time_;
  Served* served_;
  TaskGroup* group_;
};

// A broken server: accepts every connection and closes it at once.
inline Task<void> acceptAndDrop(Providers p) {
  auto listener = p.network().listen(NetAddress{IpAddress(), kEchoPort}, 16).orThrow();
  for (;;) {
    auto connection = co_await listener->accept();
    if (!connection.ok()) co_return;
  }
}

inline Task<void> serverMain(ProcessContext& context, Served* served) {
  ++served->boots;
  Providers p = context.providers();
  if (served->mode == ServerMode::kAcceptAndDrop) {
    co_await acceptAndDrop(p);
    co_return;
  }
  TaskGroup requests(Executor::current(), "requests");
  served->requests = &requests;
  auto host = rpc::Host::listen(p, NetAddress{IpAddress(), kEchoPort}).orThrow();
  served->incarnation = host->incarnation();
  // Calls run in the host's group (a pause of the process freezes them), except for
  // test.Dropping, whose `requests` the broken-request test cancels by hand.
  host->add(kService, kj::heap<GroupEcho>(p.time(), served, &host->calls()));
  host->add("test.Dropping", kj::heap<GroupEcho>(p.time(), served, &requests));
  struct Tally {
    rpc::Host* host;
    Served* served;
    ~Tally() {  // runs when the process ends or the run is torn down
      for (const rpc::DisconnectReport& r : host->recentDisconnects()) {
        served->corruptedConnections += r.cause == rpc::DisconnectCause::kCorrupted;
        served->reasonless += r.reason.empty() && r.cause != rpc::DisconnectCause::kClosed;
      }
    }
  } tally{host.get(), served};
  co_await host->serve();
}

inline Task<std::string> slowEcho(rpc::Peer& peer, std::string service, std::string text,
                           std::uint32_t delayMs, Delivery delivery,
                           rpc::CallOptions options = {}) {
  rpc::Call call(peer, service, "slowEcho", delivery, options);
  for (;;) {
    auto echo = (co_await call.target()).castAs<Echo>();
    auto request = echo.slowEchoRequest();
    request.setText(text);
    request.setDelayMs(delayMs);
    auto response = co_await call.reply(request.send());
    if (!response) continue;
    co_return std::string(response->getText().cStr());
  }
}

inline rpc::CallOptions within(Duration timeout,
                               rpc::WhenFailed whenFailed = rpc::WhenFailed::kFailFast) {
  rpc::CallOptions options;
  options.timeout = timeout;
  options.whenFailed = whenFailed;
  return options;
}

struct Outcome {
  std::optional<std::string> answer;
  std::optional<RpcFailure> failure;
  Delivered delivered = Delivered::kNo;
  std::string error;
  TimePoint at{};
};

inline Task<Outcome> outcomeOf(TimeProvider& time, Task<std::string> call) {
  Outcome outcome;
  try {
    outcome.answer = co_await std::move(call);
  } catch (const rpc::RpcError& error) {
    outcome.failure = error.failure();
    outcome.delivered = error.delivered();
    outcome.error = error.what();
  } catch (const Exception& error) {
    outcome.error = error.what();
  }
  outcome.at = time.now();
  co_return outcome;
}

using ClientScript = TaskFunction<Task<void>(Providers, rpc::Peer&)>;

struct ClientState {
  rpc::PeerOptions options;
  ClientScript script;
  rpc::PeerStats stats;
  rpc::PeerState finalState = rpc::PeerState::kConnecting;
  bool done = false;
};

inline Task<void> clientMain(ProcessContext& context, ClientState* state) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);
  rpc::Peer peer(p, kServer, state->options);
  co_await state->script(p, peer);
  state->stats = peer.stats();
  state->finalState = peer.state();
  state->done = true;
}

using Driver = TaskFunction<Task<void>(SimWorld&, ProcessId server, Served* served)>;

struct ScriptRun {
  RunOutcome outcome;
  Served served;
  ClientState client;
};

inline ScriptRun runScript(std::uint64_t seed, ClientScript script, Driver driver = {},
                    rpc::PeerOptions options = {}, WorldOptions world = WorldOptions::quiet(),
                    ServerMode mode = ServerMode::kEcho) {
  ScriptRun run;
  run.served.mode = mode;
  // The world goes before `run` is returned: process frames write into it as they end.
  std::optional<RpcWorld> w(std::in_place, seed, std::move(world));
  run.client.options = options;
  run.client.script = std::move(script);
  ProcessId server =
      w->world.addProcess(ProcessSpec{.name = "server", .main = bindTask(serverMain, &run.served)});
  w->world.addProcess(ProcessSpec{.name = "client", .main = bindTask(clientMain, &run.client)});
  auto root = [](SimWorld* world, ProcessId id, Served* served, Driver drive) -> Task<void> {
    if (drive) co_await drive(*world, id, served);
    co_await world->rootProviders().time().sleep(120s);
  };
  run.outcome = w->sim.run(root(&w->world, server, &run.served, std::move(driver)));
  w.reset();
  return run;
}

}  // namespace moonpool::peer_testing
