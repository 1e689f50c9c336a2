// Shared helpers for the rpc tests (see rpc_testing.h).
#include "rpc_testing.h"

namespace moonpool::rpc_testing {

namespace {

class Active {
 public:
  explicit Active(EchoStats* stats) : stats_(stats) {
    ++stats_->active;
    stats_->activeMax = std::max(stats_->activeMax, stats_->active);
  }
  Active(const Active&) = delete;
  Active& operator=(const Active&) = delete;
  ~Active() { --stats_->active; }

 private:
  EchoStats* stats_;
};

using SlowEchoContext = ::capnp::CallContext<Echo::SlowEchoParams, Echo::SlowEchoResults>;

Task<void> slowEchoTask(TimeProvider& time, EchoStats* stats, SlowEchoContext context) {
  Active active(stats);
  co_await time.sleep(std::chrono::milliseconds(context.getParams().getDelayMs()));
  context.getResults().setText(context.getParams().getText());
}

std::uint32_t depthOf(Tree::Reader tree) {
  std::uint32_t deepest = 0;
  for (Tree::Reader child : tree.getChildren()) deepest = std::max(deepest, depthOf(child));
  return deepest + 1;
}

}  // namespace

kj::Promise<void> EchoImpl::echo(EchoContext context) {
  ++stats_->calls;
  context.getResults().setText(context.getParams().getText());
  return kj::READY_NOW;
}

kj::Promise<void> EchoImpl::slowEcho(SlowEchoContext context) {
  ++stats_->calls;
  // Cap'n Proto 0.9 keeps a server call running after its caller or connection went away
  // unless the call allows cancellation; the Task behind it must die with the connection.
  context.allowCancellation();
  return toPromise(slowEchoTask(time_, stats_, context), "slowEcho");
}

kj::Promise<void> EchoImpl::depth(DepthContext context) {
  ++stats_->calls;
  context.getResults().setDepth(depthOf(context.getParams().getTree()));
  return kj::READY_NOW;
}

kj::Promise<void> EchoImpl::size(SizeContext context) {
  ++stats_->calls;
  context.getResults().setSize(context.getParams().getData().size());
  return kj::READY_NOW;
}

Task<void> echoServerMain(ProcessContext& context, ServerState* state) {
  ++state->boots;
  rpc::RpcOptions options = state->options;
  options.onDisconnect = [state](const rpc::DisconnectReport& report) {
    state->reports.push_back(report);
  };
  Providers p = context.providers();
  auto server = rpc::RpcServer::listen(p.network(), p.time(), NetAddress{IpAddress(), kEchoPort},
                                         kj::heap<EchoImpl>(p.time(), &state->stats),
                                         std::move(options))
                    .orThrow();
  co_await server->serve();
}

Task<std::string> callEcho(Echo::Client echo, std::string text) {
  auto request = echo.echoRequest();
  request.setText(text);
  auto response = co_await awaitPromise(request.send());
  co_return std::string(response.getText().cStr());
}

Task<std::string> callSlowEcho(Echo::Client echo, std::string text, std::uint32_t delayMs) {
  auto request = echo.slowEchoRequest();
  request.setText(text);
  request.setDelayMs(delayMs);
  auto response = co_await awaitPromise(request.send());
  co_return std::string(response.getText().cStr());
}

Task<std::optional<ErrorKind>> errorOf(Task<void> body) {
  try {
    co_await std::move(body);
  } catch (const Exception& e) {
    co_return e.kind();
  }
  co_return std::nullopt;
}

}  // namespace moonpool::rpc_testing
