// Mutual TLS through kj-tls (see rpc/tls.h).
#include "moonpool/rpc/tls.h"

#include <kj/compat/tls.h>
#include <kj/debug.h>

#include <cstdio>
#include <utility>

#include "moonpool/check.h"
#include "tls_session.h"

namespace moonpool::rpc {

struct Tls::Impl {
  Impl(kj::TlsPrivateKey key, kj::TlsCertificate certificate, kj::TlsCertificate ca,
       std::string name)
      : keypair{kj::mv(key), kj::mv(certificate)},
        trusted(kj::heapArray<kj::TlsCertificate>({kj::mv(ca)})),
        serverName(std::move(name)) {
    kj::TlsContext::Options options;
    options.useSystemTrustStore = false;
    options.verifyClients = true;
    options.trustedCertificates = trusted;
    options.defaultKeypair = keypair;
    context = kj::heap<kj::TlsContext>(kj::mv(options));
  }

  kj::TlsKeypair keypair;
  kj::Array<kj::TlsCertificate> trusted;
  std::string serverName;
  kj::Own<kj::TlsContext> context;  // last: refers to the fields above
};

namespace {

IoError badPem(std::string_view what, const kj::Exception& error) {
  return IoError{IoErrorKind::kInvalidArgument,
                 "TLS " + std::string(what) + ": " + error.getDescription().cStr()};
}

IoResult<std::string> readFile(const std::string& path, std::string_view what) {
  if (path.empty()) {
    return IoError{IoErrorKind::kInvalidArgument, "TLS " + std::string(what) + ": no file given"};
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return IoError{IoErrorKind::kNotFound,
                   "TLS " + std::string(what) + ": cannot read '" + path + "'"};
  }
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  std::fclose(file);
  return text;
}

kj::Own<kj::AsyncIoStream> borrowed(kj::AsyncIoStream& stream) {
  return kj::Own<kj::AsyncIoStream>(&stream, kj::NullDisposer::instance);
}

std::string commonName(kj::PeerIdentity& identity) {
  // RTTI is on (Debian's KJ and ours): the downcast is checked.
  auto* tlsIdentity = dynamic_cast<kj::TlsPeerIdentity*>(&identity);
  if (tlsIdentity == nullptr || !tlsIdentity->hasCertificate()) return {};
  return tlsIdentity->getCommonName().cStr();
}

}  // namespace

IoResult<std::shared_ptr<Tls>> Tls::fromPem(std::string_view certificatePem,
                                            std::string_view keyPem, std::string_view caPem,
                                            std::string serverName) {
  if (serverName.empty()) return IoError{IoErrorKind::kInvalidArgument, "TLS: no server name"};
  const std::string certificateText(certificatePem);
  const std::string keyText(keyPem);
  const std::string caText(caPem);
  kj::Maybe<kj::Own<kj::TlsCertificate>> certificate;
  kj::Maybe<kj::Own<kj::TlsPrivateKey>> key;
  kj::Maybe<kj::Own<kj::TlsCertificate>> ca;
  KJ_IF_MAYBE(error, kj::runCatchingExceptions([&]() {
                certificate = kj::heap<kj::TlsCertificate>(kj::StringPtr(certificateText.c_str()));
              })) {
    return badPem("certificate", *error);
  }
  KJ_IF_MAYBE(error, kj::runCatchingExceptions([&]() {
                key = kj::heap<kj::TlsPrivateKey>(kj::StringPtr(keyText.c_str()));
              })) {
    return badPem("private key", *error);
  }
  KJ_IF_MAYBE(error, kj::runCatchingExceptions([&]() {
                ca = kj::heap<kj::TlsCertificate>(kj::StringPtr(caText.c_str()));
              })) {
    return badPem("CA certificate", *error);
  }
  std::unique_ptr<Impl> impl;
  KJ_IF_MAYBE(error, kj::runCatchingExceptions([&]() {
                impl = std::make_unique<Impl>(kj::mv(*KJ_ASSERT_NONNULL(key)),
                                              kj::mv(*KJ_ASSERT_NONNULL(certificate)),
                                              kj::mv(*KJ_ASSERT_NONNULL(ca)),
                                              std::move(serverName));
              })) {
    return badPem("context (does the key match the certificate?)", *error);
  }
  return std::shared_ptr<Tls>(new Tls(std::move(impl)));
}

IoResult<std::shared_ptr<Tls>> Tls::fromFiles(const TlsFiles& files, std::string serverName) {
  IoResult<std::string> certificate = readFile(files.certificate, "certificate");
  if (!certificate.ok()) return certificate.error();
  IoResult<std::string> key = readFile(files.key, "private key");
  if (!key.ok()) return key.error();
  IoResult<std::string> ca = readFile(files.ca, "CA certificate");
  if (!ca.ok()) return ca.error();
  return fromPem(*certificate, *key, *ca, std::move(serverName));
}

Tls::Tls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tls::~Tls() = default;
const std::string& Tls::serverName() const { return impl_->serverName; }

namespace internal {

kj::Promise<TlsSession> tlsAccept(Tls& tls, kj::AsyncIoStream& stream) {
  kj::AuthenticatedStream plain{borrowed(stream), kj::UnknownPeerIdentity::newInstance()};
  return tls.impl().context->wrapServer(kj::mv(plain)).then([](kj::AuthenticatedStream&& done) {
    std::string name = commonName(*done.peerIdentity);
    MOONPOOL_CHECK(!name.empty(), "kj-tls verified a client without a certificate name");
    return TlsSession{kj::mv(done.stream), std::move(name)};
  });
}

kj::Promise<TlsSession> tlsConnect(Tls& tls, kj::AsyncIoStream& stream) {
  kj::AuthenticatedStream plain{borrowed(stream), kj::UnknownPeerIdentity::newInstance()};
  const kj::String name = kj::str(tls.serverName().c_str());
  return tls.impl()
      .context->wrapClient(kj::mv(plain), name)
      .then([](kj::AuthenticatedStream&& done) {
        return TlsSession{kj::mv(done.stream), commonName(*done.peerIdentity)};
      });
}

}  // namespace internal

}  // namespace moonpool::rpc
