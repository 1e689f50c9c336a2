// Host: named services behind a hub on one RpcServer (see host.h).
#include "moonpool/rpc/host.h"

#include <deque>
#include <map>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "session.h"

namespace moonpool::rpc {

namespace {

struct Service {
  ::capnp::Capability::Client capability;
  Access access;
};

}  // namespace

struct Host::Impl {
  Impl() : calls(Executor::current(), "rpc host calls") {
    if (TaskGroup* owner = currentTaskGroup()) calls.pauseWith(*owner);
  }

  std::map<std::string, Service, std::less<>> services;
  Membership membership;
  std::uint64_t denied = 0;
  std::uint64_t incarnation = 0;
  std::uint64_t pings = 0;
  std::deque<rpc::DisconnectReport> disconnects;
  TaskGroup calls;
  std::unique_ptr<rpc::RpcServer> server;  // last: its connections go before the rest
};

namespace {

// One per connection: it knows who the peer is.
class HubServer final : public schema::Hub::Server {
 public:
  HubServer(Host::Impl& host, rpc::PeerInfo peer) : host_(host), peer_(std::move(peer)) {}

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
    if (found->second.access == Access::kMembers && !host_.membership.admits(peer_)) {
      ++host_.denied;
      std::string why = std::string(internal::kNotAuthorizedMarker) + "'" + name.cStr() +
                        "' admits cluster members only: " + host_.membership.explain(peer_);
      return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(why.c_str()));
    }
    context.getResults().setService(found->second.capability);
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
  rpc::PeerInfo peer_;
};

std::string joined(const auto& items, auto toText) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + toText(item);
  return out.empty() ? "none" : out;
}

}  // namespace

bool Membership::admits(const rpc::PeerInfo& peer) const {
  if (!peer.certificateName.empty()) return certificateNames.count(peer.certificateName) != 0;
  return ips.count(peer.address.ip) != 0;
}

std::string Membership::explain(const rpc::PeerInfo& peer) const {
  if (admits(peer)) return "a member";
  if (!peer.certificateName.empty()) {
    return peer.address.toString() + " (certificate '" + peer.certificateName +
           "') is not a member (member names: " +
           joined(certificateNames, [](const std::string& n) { return n; }) + ")";
  }
  return peer.address.toString() + " is not a member (plain connection; member IPs: " +
         joined(ips, [](IpAddress ip) { return ip.toString(); }) + ")";
}

IoResult<std::unique_ptr<Host>> Host::listen(Providers providers, NetAddress address,
                                             rpc::RpcOptions options) {
  requireKjLoop("rpc::Host::listen");
  auto impl = std::make_unique<Impl>();
  // Never 0: peers read 0 as "no answer yet".
  impl->incarnation = providers.random().nextU64() | 1;
  Impl* host = impl.get();
  rpc::RpcServer::BootstrapFactory hub = [host](const rpc::PeerInfo& peer) {
    return ::capnp::Capability::Client(kj::heap<HubServer>(*host, peer));
  };
  if (!options.onDisconnect) {
    options.onDisconnect = [host = impl.get()](const rpc::DisconnectReport& report) {
      if (host->disconnects.size() == kRecentDisconnectsMax) host->disconnects.pop_front();
      host->disconnects.push_back(report);
    };
  }
  IoResult<std::unique_ptr<rpc::RpcServer>> server =
      rpc::RpcServer::listen(providers.network(), providers.time(), address, std::move(hub),
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

void Host::add(std::string name, ::capnp::Capability::Client service, Access access) {
  MOONPOOL_CHECK(impl_->services.count(name) == 0,
                 "rpc::Host: a service named '" + name + "' is already registered");
  impl_->services.emplace(std::move(name), Service{kj::mv(service), access});
}

void Host::setMembership(Membership membership) { impl_->membership = std::move(membership); }
std::uint64_t Host::lookupsDenied() const { return impl_->denied; }

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
