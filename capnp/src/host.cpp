// Host: named services behind a hub on one RpcServer (see host.h).
#include "moonpool/rpc/host.h"

#include <deque>
#include <map>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "session.h"

namespace moonpool::rpc {

struct Host::Impl {
  Impl() : calls(Executor::current(), "rpc host calls") {
    if (TaskGroup* owner = currentTaskGroup()) calls.pauseWith(*owner);
  }

  std::map<std::string, ::capnp::Capability::Client, std::less<>> services;
  std::uint64_t incarnation = 0;
  std::uint64_t pings = 0;
  std::deque<rpc::DisconnectReport> disconnects;
  TaskGroup calls;
  std::unique_ptr<rpc::RpcServer> server;  // last: its connections go before the rest
};

namespace {

class HubServer final : public schema::Hub::Server {
 public:
  explicit HubServer(Host::Impl& host) : host_(host) {}

 protected:
  // implements schema::Hub::Server
  // A task in the host's calls group, not an answer from the KJ turn: a paused process
  // must stop answering pings, or its peers could never tell it is gone.
  kj::Promise<void> ping(PingContext context) override {
    return toPromise(answer(host_, context), "hub.ping", &host_.calls);
  }

  kj::Promise<void> lookup(LookupContext context) override {
    ::capnp::Text::Reader name = context.getParams().getName();
    auto found = host_.services.find(std::string_view(name.cStr(), name.size()));
    if (found == host_.services.end()) {
      std::string known;
      for (const auto& [serviceName, service] : host_.services) {
        known += (known.empty() ? "" : ", ") + serviceName;
      }
      std::string why = std::string(internal::kNoServiceMarker) + "'" + name.cStr() +
                        "' (this host serves: " + (known.empty() ? "nothing" : known) + ")";
      return kj::Exception(kj::Exception::Type::UNIMPLEMENTED, __FILE__, __LINE__,
                           kj::str(why.c_str()));
    }
    context.getResults().setService(found->second);
    return kj::READY_NOW;
  }

  kj::Promise<void> services(ServicesContext context) override {
    auto names = context.getResults().initNames(static_cast<unsigned>(host_.services.size()));
    unsigned i = 0;
    for (const auto& [name, service] : host_.services) {
      names.set(i++, ::capnp::Text::Reader(name.data(), name.size()));
    }
    return kj::READY_NOW;
  }

 private:
  static Task<void> answer(Host::Impl& host, PingContext context) {
    ++host.pings;
    auto results = context.getResults();
    results.setNonce(context.getParams().getNonce());
    results.setIncarnation(host.incarnation);
    co_return;
  }

  Host::Impl& host_;
};

}  // namespace

IoResult<std::unique_ptr<Host>> Host::listen(Providers providers, NetAddress address,
                                             rpc::RpcOptions options) {
  auto impl = std::make_unique<Impl>();
  // Never 0: peers read 0 as "no answer yet".
  impl->incarnation = providers.random().nextU64() | 1;
  ::capnp::Capability::Client hub = kj::heap<HubServer>(*impl);
  if (!options.onDisconnect) {
    options.onDisconnect = [host = impl.get()](const rpc::DisconnectReport& report) {
      if (host->disconnects.size() == kRecentDisconnectsMax) host->disconnects.pop_front();
      host->disconnects.push_back(report);
    };
  }
  IoResult<std::unique_ptr<rpc::RpcServer>> server =
      rpc::RpcServer::listen(providers.network(), providers.time(), address, kj::mv(hub),
                             std::move(options));
  if (!server.ok()) return server.error();
  impl->server = std::move(server).value();
  return std::unique_ptr<Host>(new Host(std::move(impl)));
}

Host::Host(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Host::~Host() {
  // The calls first, while the server, the hub and the implementations they use still live.
  impl_->calls.cancelAll();
}

TaskGroup& Host::calls() { return impl_->calls; }

void Host::add(std::string name, ::capnp::Capability::Client service) {
  MOONPOOL_CHECK(impl_->services.count(name) == 0,
                 "rpc::Host: a service named '" + name + "' is already registered");
  impl_->services.emplace(std::move(name), kj::mv(service));
}

std::vector<std::string> Host::services() const {
  std::vector<std::string> names;
  for (const auto& [name, service] : impl_->services) names.push_back(name);
  return names;
}

Task<void> Host::serve() { co_await impl_->server->serve(); }
NetAddress Host::localAddress() const { return impl_->server->localAddress(); }
std::uint64_t Host::incarnation() const { return impl_->incarnation; }
std::vector<rpc::DisconnectReport> Host::recentDisconnects() const {
  return {impl_->disconnects.begin(), impl_->disconnects.end()};
}

std::uint64_t Host::pingsAnswered() const { return impl_->pings; }
rpc::RpcServer& Host::server() { return *impl_->server; }

}  // namespace moonpool::rpc
