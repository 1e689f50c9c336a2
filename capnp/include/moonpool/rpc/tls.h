// Mutual TLS for production RPC connections, through Cap'n Proto's own kj-tls (OpenSSL)
// (capnp/ layer).
//
//   auto tls = rpc::Tls::fromFiles({.certificate = "kv-1.pem", .key = "kv-1.key",
//                                   .ca = "ca.pem"}, "kv-cluster").orThrow();
//   rpc::RpcOptions options;
//   options.tls = tls;   // servers and clients alike
//
// With RpcOptions::tls set, every connection is TLS 1.2+ with both sides authenticated:
//   - a server presents its certificate and requires one from the client, signed by the CA
//     (`ca`, the only trusted root: the system's store is not used). The handshake must
//     finish within RpcOptions::firstMessageTimeout. A peer that fails it — no
//     certificate, one from another CA, or plaintext (no TLS at all) — is refused: its
//     connection is closed with DisconnectCause::kRefused and a reason saying why
//     ("TLS handshake failed: ... peer did not return a certificate").
//   - a client checks that the server's certificate is signed by the CA and names
//     serverName (subjectAltName DNS, or the common name).
//   - the peer's certificate common name becomes PeerInfo::certificateName, which Host's
//     Membership uses to authorize members (host.h).
// Plain TCP stays available (no tls): loopback, tests, and the simulation, whose links stay
// plain or checksummed; the authorization decision runs there on IPs.
//
// Errors: fromPem/fromFiles return kInvalidArgument naming the part that did not parse,
// kNotFound for a file that cannot be read. Caveat: a key that does not match its
// certificate parses; it fails the first handshake (and the peer's report says so).
// Lifetime: shared by every connection using it; use it on one executor thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "moonpool/io.h"

namespace moonpool::rpc {

struct TlsFiles {
  std::string certificate;  // PEM: this side's certificate (chain)
  std::string key;          // PEM: its private key (unencrypted)
  std::string ca;           // PEM: the CA every peer's certificate must be signed by
};

class Tls {
 public:
  // `serverName`: what servers' certificates must name, checked by this side as a client.
  static IoResult<std::shared_ptr<Tls>> fromPem(std::string_view certificatePem,
                                                std::string_view keyPem, std::string_view caPem,
                                                std::string serverName);
  static IoResult<std::shared_ptr<Tls>> fromFiles(const TlsFiles& files, std::string serverName);
  Tls(const Tls&) = delete;
  Tls& operator=(const Tls&) = delete;
  ~Tls();

  const std::string& serverName() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit Tls(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moonpool::rpc
