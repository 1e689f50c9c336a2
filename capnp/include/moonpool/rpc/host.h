// The server side of the RPC layer (runtime/ RPC layer): one address, several services by
// well-known name, and the hub that answers the failure monitor's pings (hub.capnp).
//
//   KvStoreImpl store(providers);                               // before the host: outlives it
//   auto host = rpc::Host::listen(providers, {0, 7400}).orThrow();
//   host->add(KvStoreServer::kServiceName, kj::heap<KvStoreServer>(store, &host->calls()));
//   co_await host->serve();
//
// Every connection bootstraps the hub; clients (Peer, peer.h) ask it for a service by name,
// pipelined so the lookup costs no round trip. Services are Cap'n Proto capabilities,
// normally generated adapters (moonpool-annotate), whose calls run in the TaskGroup given to
// the adapter. Give them calls(): the host's own group, tied for pausing to the group of the
// task that created the host (the process's, in simulation), so pausing the process freezes
// the calls it serves and its pings (a paused process is seen as failed by its peers), and
// destroying the host (or killing the process) cancels every call before the host and the
// implementations go. The callers of cancelled calls get a broken request (peer.h).
//
// The incarnation is a random number drawn when the host is created: a peer seeing a new
// one knows the process restarted.
//
// Authorization: every service declares who may call it (Access). kPublic services answer
// anyone who can connect; kMembers services only peers the host's Membership admits: under
// TLS (tls.h) a peer whose certificate carries a member's name, on a plain network (the
// simulation, loopback tests) a peer whose IP is a member's. Each connection gets a hub
// that knows its peer, so the decision is made per lookup, in simulation as for real; a
// refused lookup fails with a reason naming the peer and the service (RpcFailure
// kNotAuthorized for a Peer's caller). Plain TCP cannot authenticate anyone: a member's IP
// is only as good as the network's routing, so production clusters use TLS.
#pragma once

#include <capnp/capability.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/rpc/two_party.h"
#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/spawn.h"
#include "moonpool/task.h"

namespace moonpool::rpc {

enum class Access : std::uint8_t { kPublic, kMembers };

// Who counts as a cluster member (see Authorization above).
struct Membership {
  // Certificate names (the subject's common name) of members, under TLS.
  std::set<std::string, std::less<>> certificateNames;
  // IPs of members, on a plain network (ignored for peers that presented a certificate).
  std::set<IpAddress> ips;

  bool admits(const rpc::PeerInfo& peer) const;
  // "a member" or why not: "10.0.2.1:40000 is not a member (plain connection; member IPs:
  // 10.0.1.1, 10.0.1.2)".
  std::string explain(const rpc::PeerInfo& peer) const;
};

class Host {
 public:
  // Listens on `address` (port 0 picks one). Errors as RpcServer::listen (two_party.h).
  static IoResult<std::unique_ptr<Host>> listen(Providers providers, NetAddress address,
                                                rpc::RpcOptions options = {});
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host();

  // Registers `service` under `name`, callable by `access`. A name registered twice is a bug
  // (checked).
  void add(std::string name, ::capnp::Capability::Client service,
           Access access = Access::kPublic);
  // Who kMembers services admit (nobody until set).
  void setMembership(Membership membership);
  // Sorted.
  std::vector<std::string> services() const;

  // Accepts connections until the Task is destroyed (see RpcServer::serve).
  Task<void> serve();

  // The group service calls and pings run in (see above). Cancelled first when the host is
  // destroyed.
  TaskGroup& calls();

  NetAddress localAddress() const;
  std::uint64_t incarnation() const;
  // The last kRecentDisconnectsMax connections that ended, oldest first, with their reasons
  // (when RpcOptions::onDisconnect is null; otherwise the sink gets them instead). Under
  // chaos a log line per dropped connection would drown the run's output.
  static constexpr std::size_t kRecentDisconnectsMax = 32;
  std::vector<rpc::DisconnectReport> recentDisconnects() const;
  std::uint64_t pingsAnswered() const;
  // Lookups refused because the peer was not authorized.
  std::uint64_t lookupsDenied() const;
  rpc::RpcServer& server();

  struct Impl;

 private:
  explicit Host(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moonpool::rpc
