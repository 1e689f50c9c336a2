// One connection of a Peer and what it caches (capnp/, private to capnp/src).
//
// A Session is shared by the peer's background task and the calls sent on it, so a call can
// tell whether *its* connection broke after the peer moved on to the next one. When the
// connection ends the peer marks the session ended, drops the RpcClient (calls still on it
// fail with DISCONNECTED) and sets `lost`.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "hub.capnp.h"
#include "moonpool/rpc/two_party.h"
#include "moonpool/event.h"

namespace moonpool::rpc::internal {

// How the hub says it has no service of a name (host.cpp writes it, call.cpp reads it).
inline constexpr std::string_view kNoServiceMarker = "no service named ";
// How the hub says the peer may not use a service (host.cpp writes it, call.cpp reads it).
inline constexpr std::string_view kNotAuthorizedMarker = "not authorized: the service ";

struct Session {
  explicit Session(std::unique_ptr<rpc::RpcClient> rpcClient)
      : client(std::move(rpcClient)), hub(client->bootstrap().castAs<schema::Hub>()) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The service `name` on this connection: a pipelined lookup, made once per name, so a
  // call on it costs no extra round trip (an unknown name fails the call itself).
  ::capnp::Capability::Client service(std::string_view name);
  // Ended, or its connection failed (even if the peer's task has not noticed yet).
  bool broken() const { return ended || client == nullptr || client->ended(); }
  // Marks it ended, drops the connection and wakes everything waiting on `lost`.
  void end();

  std::unique_ptr<rpc::RpcClient> client;
  schema::Hub::Client hub;
  std::map<std::string, ::capnp::Capability::Client, std::less<>> services;
  Event lost;
  bool ended = false;
  bool answered = false;  // a ping was answered on it
};

}  // namespace moonpool::rpc::internal
