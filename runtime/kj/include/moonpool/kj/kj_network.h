// A moonpool NetworkProvider exposed as a kj::Network (runtime/ kj layer).
//
// Code written against KJ's network API (capnp::TwoPartyServer::listen, a plain Cap'n Proto
// client doing network.parseAddress(...).connect()) runs unchanged on the simulated network
// or on real TCP. Connections are ConnectionStreams (connection_stream.h); connect and accept
// are Tasks on the current moonpool executor.
//
// Address text accepted by parseAddress (and parseKjAddress):
//   "a.b.c.d:port"     an IPv4 address;
//   "a.b.c.d"          the port is `portHint` (0: the address only serves listen(), which
//                      then picks a free port);
//   "*" / "*:port"     the wildcard: listen() on this process's address (the provider
//                      decides what 0.0.0.0 means), connect() to the provider's localIp();
//   "localhost[:port]" 127.0.0.1.
// No name resolution ever happens (DNS would be a hidden source of nondeterminism). Bad
// text rejects with FAILED and says what was expected.
//
// Errors: connect and listen fail with networkException (connection_stream.h): refused and
// unreachable DISCONNECTED, a timeout OVERLOADED, anything else FAILED. restrictPeers() and
// datagram ports are UNIMPLEMENTED.
//
// Lifetime: the provider outlives this network and everything it made; a ConnectionReceiver
// outlives its pending accept() (KJ's rule).
#pragma once

#include <kj/async-io.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "moonpool/network.h"

namespace moonpool {

struct KjNetworkOptions {
  // Backlog of every listener made through this network.
  std::size_t backlog = 64;
};

// Parses the address text described above; the unspecified IP (0.0.0.0) stands for the
// wildcard.
IoResult<NetAddress> parseKjAddress(std::string_view text, std::uint16_t portHint = 0);

class KjNetwork final : public kj::Network {
 public:
  explicit KjNetwork(NetworkProvider& provider, KjNetworkOptions options = {});
  KjNetwork(const KjNetwork&) = delete;
  KjNetwork& operator=(const KjNetwork&) = delete;

  // An address without the Promise (for code that holds a moonpool NetAddress already).
  kj::Own<kj::NetworkAddress> address(NetAddress address);

  // implements kj::Network
  kj::Promise<kj::Own<kj::NetworkAddress>> parseAddress(kj::StringPtr addr,
                                                        kj::uint portHint = 0) override;
  kj::Own<kj::NetworkAddress> getSockaddr(const void* sockaddr, kj::uint len) override;
  kj::Own<kj::Network> restrictPeers(kj::ArrayPtr<const kj::StringPtr> allow,
                                     kj::ArrayPtr<const kj::StringPtr> deny = nullptr) override;

 private:
  NetworkProvider& provider_;
  KjNetworkOptions options_;
};

}  // namespace moonpool
