// The actor directory: placements with epochs and leases, served to the cluster's hosts
// (cluster.h).
#include <map>
#include <string>
#include <utility>

#include "moonpool/actors/cluster.h"
#include "moonpool/check.h"
#include "moonpool/internal/fnv1a.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"
#include "wire_keys.h"

namespace moonpool::actors {

struct DirectoryService::Impl {
  struct Entry {
    NetAddress host;
    std::uint64_t epoch = 0;
    TimePoint expires{};
  };
  using Id = std::pair<std::string, ActorKey>;

  Impl(Providers p, DirectoryOptions o) : providers(p), options(std::move(o)) {}

  Providers providers;
  DirectoryOptions options;
  DirectoryStats stats;
  TimePoint placeFrom{};
  std::map<Id, Entry> entries;
  std::uint64_t lastEpoch = 0;
  std::map<NetAddress, std::unique_ptr<rpc::Peer>> monitors;  // failure monitor per host

  Duration held() const { return options.lease + options.margin; }

  bool failed(const NetAddress& host) const {
    auto found = monitors.find(host);
    return found != monitors.end() && found->second->state() == rpc::PeerState::kFailed;
  }

  // The host for a new placement: the requester (prefer-local), else by strategy, skipping
  // failed hosts (all failed: the strategy's pick regardless).
  NetAddress choose(const Id& id, const std::optional<NetAddress>& requester) {
    const std::vector<NetAddress>& hosts = options.hosts;
    if (requester.has_value() && options.preferLocal == PreferLocal::kYes &&
        std::find(hosts.begin(), hosts.end(), *requester) != hosts.end() &&
        !failed(*requester)) {
      return *requester;
    }
    std::size_t start = 0;
    if (options.strategy == PlacementStrategy::kHash) {
      start = ::moonpool::internal::fnv1a(id.first + "/" + id.second.toString()) % hosts.size();
    } else {
      start = providers.random().nextU64() % hosts.size();
    }
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      const NetAddress& host = hosts[(start + i) % hosts.size()];
      if (!failed(host)) return host;
    }
    return hosts[start];
  }

  void makeRoom(TimePoint now) {
    if (entries.size() < options.entriesMax) return;
    for (auto it = entries.begin(); it != entries.end();) {
      it = it->second.expires <= now ? entries.erase(it) : std::next(it);
    }
    if (entries.size() >= options.entriesMax) {
      throw ActorError(ActorFailure::kTooManyActivations,
                       "the directory holds entriesMax (" + std::to_string(options.entriesMax) +
                           ") live placements");
    }
  }

  const Entry& lookup(const Id& id, const std::optional<NetAddress>& requester) {
    ++stats.lookups;
    const TimePoint now = providers.time().now();
    auto found = entries.find(id);
    if (found != entries.end()) {
      bool live = found->second.expires > now;
      // The broken variant re-places as soon as the host looks failed, lease or not.
      if (options.fencing == Fencing::kNone && failed(found->second.host)) live = false;
      if (live) return found->second;
      ++stats.replacements;
    } else {
      makeRoom(now);
    }
    ++stats.placements;
    Entry& entry = entries[id];
    entry.host = choose(id, requester);
    entry.epoch = ++lastEpoch;
    entry.expires = now + held();  // unclaimed, it lapses like a lease
    return entry;
  }

  bool renew(const NetAddress& host, const Id& id, std::uint64_t epoch) {
    const TimePoint now = providers.time().now();
    auto found = entries.find(id);
    bool granted = found != entries.end() && found->second.host == host &&
                   found->second.epoch == epoch &&
                   (found->second.expires > now || options.fencing == Fencing::kNone);
    if (!granted) {
      ++stats.refusals;
      return false;
    }
    ++stats.renewals;
    found->second.expires = now + held();
    return true;
  }
};

namespace {

using LookupContext = ::capnp::CallContext<wire::Directory::LookupParams,
                                           wire::Directory::LookupResults>;
using RenewContext =
    ::capnp::CallContext<wire::Directory::RenewParams, wire::Directory::RenewResults>;

std::optional<NetAddress> addressOf(::capnp::Text::Reader text) {
  IoResult<NetAddress> address = NetAddress::parse(text.cStr());
  if (!address.ok()) return std::nullopt;
  return address.value();
}

Task<void> serveLookup(std::shared_ptr<DirectoryService::Impl> impl, LookupContext context) {
  // A restarted directory waits out the leases its previous incarnation may have granted.
  co_await impl->providers.time().sleepUntil(impl->placeFrom);
  auto params = context.getParams();
  DirectoryService::Impl::Id id(params.getType().cStr(), internal::fromWire(params.getKey()));
  const DirectoryService::Impl::Entry& entry =
      impl->lookup(id, addressOf(params.getRequester()));
  auto results = context.getResults();
  results.setHost(entry.host.toString());
  results.setEpoch(entry.epoch);
}

Task<void> serveRenew(std::shared_ptr<DirectoryService::Impl> impl, RenewContext context) {
  auto params = context.getParams();
  std::optional<NetAddress> host = addressOf(params.getHost());
  auto leases = params.getLeases();
  auto granted = context.getResults().initGranted(leases.size());
  for (unsigned i = 0; i < leases.size(); ++i) {
    auto lease = leases[i];
    DirectoryService::Impl::Id id(lease.getType().cStr(), internal::fromWire(lease.getKey()));
    granted.set(i, host.has_value() && impl->renew(*host, id, lease.getEpoch()));
  }
  context.getResults().setLeaseMs(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(impl->options.lease).count()));
  co_return;
}

class DirectoryServer final : public wire::Directory::Server {
 public:
  DirectoryServer(std::shared_ptr<DirectoryService::Impl> impl, TaskGroup& calls)
      : impl_(std::move(impl)), calls_(calls) {}

 protected:
  // implements wire::Directory::Server
  kj::Promise<void> lookup(LookupContext context) override {
    context.allowCancellation();
    return toPromise(serveLookup(impl_, context), "actors.directory.lookup", &calls_);
  }
  kj::Promise<void> renew(RenewContext context) override {
    context.allowCancellation();
    return toPromise(serveRenew(impl_, context), "actors.directory.renew", &calls_);
  }

 private:
  std::shared_ptr<DirectoryService::Impl> impl_;
  TaskGroup& calls_;
};

}  // namespace

DirectoryService::DirectoryService(Providers providers, rpc::Host& host,
                                   DirectoryOptions options)
    : impl_(std::make_shared<Impl>(providers, std::move(options))) {
  MOONPOOL_CHECK(!impl_->options.hosts.empty(), "a DirectoryService without hosts");
  MOONPOOL_CHECK(impl_->options.lease > Duration::zero() &&
                     impl_->options.margin > Duration::zero(),
                 "DirectoryOptions lease and margin must be > 0");
  impl_->placeFrom = providers.time().now() + impl_->held();
  for (const NetAddress& address : impl_->options.hosts) {
    impl_->monitors.emplace(address,
                            std::make_unique<rpc::Peer>(providers, address, impl_->options.peer));
  }
  host.add(kDirectoryServiceName,
           kj::heap<DirectoryServer>(impl_, host.calls()), rpc::Access::kPublic);
}

DirectoryService::~DirectoryService() { impl_->monitors.clear(); }

const DirectoryStats& DirectoryService::stats() const { return impl_->stats; }

std::optional<std::pair<NetAddress, std::uint64_t>> DirectoryService::placementOf(
    std::string_view typeName, const ActorKey& key) const {
  auto found = impl_->entries.find(Impl::Id(typeName, key));
  if (found == impl_->entries.end() ||
      found->second.expires <= impl_->providers.time().now()) {
    return std::nullopt;
  }
  return std::make_pair(found->second.host, found->second.epoch);
}

}  // namespace moonpool::actors
