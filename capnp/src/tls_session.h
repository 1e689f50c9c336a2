// The TLS handshakes of one connection (capnp/, private to capnp/src; see rpc/tls.h).
#pragma once

#include <kj/async-io.h>

#include <string>

#include "moonpool/rpc/tls.h"

namespace moonpool::rpc::internal {

struct TlsSession {
  kj::Own<kj::AsyncIoStream> stream;  // encrypted, over the stream given
  std::string peerName;               // the peer certificate's common name
};

// Server side: requires a client certificate signed by the CA. `stream` outlives the
// session. Rejects (the handshake's reason) when the peer fails it.
kj::Promise<TlsSession> tlsAccept(Tls& tls, kj::AsyncIoStream& stream);
// Client side: checks the server's certificate against the CA and tls.serverName().
kj::Promise<TlsSession> tlsConnect(Tls& tls, kj::AsyncIoStream& stream);

}  // namespace moonpool::rpc::internal
