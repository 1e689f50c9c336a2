// A moonpool NetworkProvider as a kj::Network (see kj_network.h).
#include "moonpool/kj/kj_network.h"

#include <arpa/inet.h>
#include <kj/debug.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <string>

#include "moonpool/kj/bridge.h"
#include "moonpool/kj/connection_stream.h"

namespace moonpool {

namespace {

constexpr std::uint16_t kPortMax = 65535;

kj::Exception failed(const std::string& description) {
  return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                       kj::str(description.c_str()));
}

Task<kj::Own<kj::AsyncIoStream>> connectTo(NetworkProvider* provider, NetAddress address) {
  IoResult<std::unique_ptr<Connection>> connection = co_await provider->connect(address);
  if (!connection.ok()) throw networkException(connection.error(), "connect to", address);
  co_return kj::heap<ConnectionStream>(std::move(connection).value());
}

Task<kj::Own<kj::AsyncIoStream>> acceptOn(Listener* listener) {
  IoResult<std::unique_ptr<Connection>> connection = co_await listener->accept();
  if (!connection.ok()) {
    throw networkException(connection.error(), "accept on", listener->localAddress());
  }
  co_return kj::heap<ConnectionStream>(std::move(connection).value());
}

class Receiver final : public kj::ConnectionReceiver {
 public:
  explicit Receiver(std::unique_ptr<Listener> listener) : listener_(std::move(listener)) {}

  // implements kj::ConnectionReceiver
  kj::Promise<kj::Own<kj::AsyncIoStream>> accept() override {
    return toPromise(acceptOn(listener_.get()), "kj accept");
  }
  kj::uint getPort() override { return listener_->localAddress().port; }

 private:
  std::unique_ptr<Listener> listener_;
};

class Address final : public kj::NetworkAddress {
 public:
  Address(NetworkProvider& provider, KjNetworkOptions options, NetAddress address)
      : provider_(provider), options_(options), address_(address) {}

  // implements kj::NetworkAddress
  kj::Promise<kj::Own<kj::AsyncIoStream>> connect() override {
    NetAddress target = address_;
    if (target.ip.isUnspecified()) target.ip = provider_.localIp();
    if (target.port == 0) {
      return failed("cannot connect to " + target.toString() + ": the address has no port");
    }
    return toPromise(connectTo(&provider_, target), "kj connect");
  }
  kj::Own<kj::ConnectionReceiver> listen() override {
    IoResult<std::unique_ptr<Listener>> listener = provider_.listen(address_, options_.backlog);
    if (!listener.ok()) {
      kj::throwFatalException(networkException(listener.error(), "listen on", address_));
    }
    return kj::heap<Receiver>(std::move(listener).value());
  }
  kj::Own<kj::NetworkAddress> clone() override {
    return kj::heap<Address>(provider_, options_, address_);
  }
  kj::String toString() override {
    std::string text = address_.ip.isUnspecified() ? "*:" + std::to_string(address_.port)
                                                   : address_.toString();
    return kj::str(text.c_str());
  }

 private:
  NetworkProvider& provider_;
  KjNetworkOptions options_;
  NetAddress address_;
};

IoError badAddress(std::string_view text, std::string_view why) {
  return IoError{IoErrorKind::kInvalidArgument,
                 "bad address '" + std::string(text) + "': " + std::string(why) +
                     " (expected a.b.c.d[:port], *[:port] or localhost[:port])"};
}

}  // namespace

IoResult<NetAddress> parseKjAddress(std::string_view text, std::uint16_t portHint) {
  std::string_view host = text;
  std::uint16_t port = portHint;
  const std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    host = text.substr(0, colon);
    std::string_view portText = text.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), value);
    if (ec != std::errc() || end != portText.data() + portText.size() || portText.empty() ||
        value > kPortMax) {
      return badAddress(text, "port '" + std::string(portText) + "' is not 0..65535");
    }
    port = static_cast<std::uint16_t>(value);
  }
  if (host == "*") return NetAddress{IpAddress(), port};
  if (host == "localhost") return NetAddress{kLoopbackIp, port};
  if (host.empty()) return badAddress(text, "no host");
  IoResult<IpAddress> ip = IpAddress::parse(host);
  if (!ip.ok()) return badAddress(text, "host '" + std::string(host) + "' is not a.b.c.d");
  return NetAddress{ip.value(), port};
}

KjNetwork::KjNetwork(NetworkProvider& provider, KjNetworkOptions options)
    : provider_(provider), options_(options) {
  KJ_REQUIRE(options_.backlog >= 1, "KjNetworkOptions::backlog must be at least 1");
}

kj::Own<kj::NetworkAddress> KjNetwork::address(NetAddress address) {
  return kj::heap<Address>(provider_, options_, address);
}

kj::Promise<kj::Own<kj::NetworkAddress>> KjNetwork::parseAddress(kj::StringPtr addr,
                                                                 kj::uint portHint) {
  if (portHint > kPortMax) return failed("port hint " + std::to_string(portHint) + " > 65535");
  IoResult<NetAddress> parsed =
      parseKjAddress(std::string_view(addr.cStr(), addr.size()),
                     static_cast<std::uint16_t>(portHint));
  if (!parsed.ok()) return failed(parsed.error().message);
  return address(*parsed);
}

kj::Own<kj::NetworkAddress> KjNetwork::getSockaddr(const void* sockaddr, kj::uint len) {
  sockaddr_in in{};
  if (len < sizeof(in)) kj::throwFatalException(failed("getSockaddr: only IPv4 is supported"));
  std::memcpy(&in, sockaddr, sizeof(in));
  if (in.sin_family != AF_INET) {
    kj::throwFatalException(failed("getSockaddr: only IPv4 (AF_INET) is supported"));
  }
  return address(NetAddress{IpAddress(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)});
}

kj::Own<kj::Network> KjNetwork::restrictPeers(kj::ArrayPtr<const kj::StringPtr> /*allow*/,
                                              kj::ArrayPtr<const kj::StringPtr> /*deny*/) {
  KJ_UNIMPLEMENTED("KjNetwork::restrictPeers: peer filtering is not supported");
}

}  // namespace moonpool
