// Goal: mutual TLS (rpc/tls.h) over real TCP: a client with a certificate from the CA
// calls through, and the server learns its certificate name (what Host authorizes
// members by); a client whose certificate comes from another CA, one with no certificate,
// and a plaintext client are each refused with a reason that says why; bad TLS files are
// clear errors.
// Method: certificates made by the openssl command-line tool (tls_certificates.h); an
// RpcServer on RealRuntime over 127.0.0.1 whose per-connection bootstrap factory records
// each peer; clients from the same KJ loop. Every wait has a deadline.
#include <kj/compat/tls.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/kj/connection_stream.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/tls.h"
#include "rpc_testing.h"
#include "support/command.h"
#include "tls_certificates.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc_testing::TestCertificates;

constexpr Duration kDeadline = 5s;
constexpr Duration kPoll = 5ms;

struct Seen {
  std::vector<rpc::PeerInfo> peers;
  std::vector<rpc::DisconnectReport> reports;
  std::string answer;
  std::string clientError;
  rpc_testing::EchoStats stats;
};

std::shared_ptr<rpc::Tls> load(const TestCertificates& certificates, const std::string& name,
                               const std::string& ca) {
  const rpc_testing::CertificateFiles files = certificates.of(name);
  return rpc::Tls::fromFiles({.certificate = files.certificate, .key = files.key, .ca = ca},
                             TestCertificates::kServerName)
      .orThrow();
}

enum class ClientKind : std::uint8_t { kMember, kForeign, kNoCertificate, kPlaintext };

// A TLS client without any certificate, straight on kj-tls: the handshake may complete on
// its side (TLS 1.3 checks the client last); the server then ends the connection.
Task<void> clientWithoutCertificate(Providers p, NetAddress server, const std::string& caPath,
                                    Seen* seen) {
  std::ifstream file(caPath);
  const std::string caPem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  kj::TlsCertificate ca(kj::StringPtr(caPem.c_str()));
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;
  options.trustedCertificates = kj::arrayPtr(&ca, 1);
  kj::TlsContext context(kj::mv(options));
  std::unique_ptr<Connection> connection = (co_await p.network().connect(server)).orThrow();
  kj::AsyncIoStream* raw = nativeKjStream(*connection);
  try {
    kj::Own<kj::AsyncIoStream> secured = co_await awaitPromise(context.wrapClient(
        kj::Own<kj::AsyncIoStream>(raw, kj::NullDisposer::instance), "kv-cluster"));
    char byte = 0;
    co_await awaitPromise(secured->read(&byte, 1));
  } catch (const Exception& error) {
    seen->clientError = error.what();
  }
}

Task<void> client(Providers p, NetAddress server, ClientKind kind,
                  const TestCertificates* certificates, Seen* seen) {
  if (kind == ClientKind::kNoCertificate) {
    co_await clientWithoutCertificate(p, server, certificates->ca(), seen);
    co_return;
  }
  rpc::RpcOptions options;
  if (kind != ClientKind::kPlaintext) {
    const char* name = kind == ClientKind::kMember ? "client-1" : "rogue";
    options.tls = load(*certificates, name, certificates->ca());
  }
  auto connected = co_await rpc::RpcClient::connect(p.network(), server, options);
  if (!connected.ok()) {
    seen->clientError = connected.error().toString();
    co_return;
  }
  try {
    seen->answer = co_await rpc_testing::callEcho(
        (*connected)->bootstrap().castAs<Echo>(), "over tls");
  } catch (const Exception& error) {
    seen->clientError = error.what();
  }
}

Task<void> awaitReport(TimeProvider& time, const Seen* seen) {
  while (seen->reports.empty()) co_await time.sleep(kPoll);
}

Task<void> tlsMain(Providers p, const TestCertificates* certificates, ClientKind kind,
                   Seen* seen) {
  rpc::RpcOptions options;
  options.tls = load(*certificates, "kv-1", certificates->ca());
  options.onDisconnect = [seen](const rpc::DisconnectReport& r) { seen->reports.push_back(r); };
  rpc::RpcServer::BootstrapFactory bootstrap = [seen, &p](const rpc::PeerInfo& peer) {
    seen->peers.push_back(peer);
    return ::capnp::Capability::Client(kj::heap<rpc_testing::EchoImpl>(p.time(), &seen->stats));
  };
  auto server = rpc::RpcServer::listen(p.network(), p.time(), NetAddress{kLoopbackIp, 0},
                                       std::move(bootstrap), options)
                    .orThrow();
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  co_await within(p.time(), kDeadline,
                  client(p, server->localAddress(), kind, certificates, seen), "the client");
  if (kind != ClientKind::kMember) {
    co_await within(p.time(), kDeadline, awaitReport(p.time(), seen), "the refusal");
  }
  serving.cancel();
}

class RpcTlsTest : public ::testing::Test {
 protected:
  // A directory of its own per test: ctest runs the tests as parallel processes.
  void SetUp() override {
    const char* test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = test_support::freshWorkDir(RPC_TLS_WORK_ROOT, test);
    certificates_.emplace(dir_);
    ASSERT_TRUE(certificates_->ok()) << certificates_->error();
  }

  Seen run(ClientKind kind) {
    RealRuntime runtime(RealRuntimeOptions{.storageRoot = dir_ + "/runtime"});
    Seen seen;
    RunOutcome outcome = runtime.run(tlsMain(runtime.providers(), &*certificates_, kind, &seen));
    EXPECT_TRUE(outcome.ok()) << outcome.message;
    return seen;
  }

  // The one report of a refused connection: kRefused, and a reason containing `why`.
  static void expectRefused(const Seen& seen, const std::string& why) {
    ASSERT_EQ(seen.reports.size(), 1u);
    EXPECT_EQ(seen.reports[0].cause, DisconnectCause::kRefused) << seen.reports[0].toString();
    EXPECT_NE(seen.reports[0].reason.find(why), std::string::npos) << seen.reports[0].toString();
    EXPECT_TRUE(seen.peers.empty()) << "a refused peer never reaches the bootstrap";
    EXPECT_EQ(seen.answer, "");
  }

  std::string dir_;
  std::optional<TestCertificates> certificates_;
};

TEST_F(RpcTlsTest, AMemberCallsThroughAndTheServerKnowsItsCertificateName) {
  const Seen seen = run(ClientKind::kMember);
  EXPECT_EQ(seen.answer, "over tls") << seen.clientError;
  ASSERT_EQ(seen.peers.size(), 1u);
  EXPECT_EQ(seen.peers[0].certificateName, "client-1");
  EXPECT_EQ(seen.peers[0].address.ip, kLoopbackIp);
}

TEST_F(RpcTlsTest, ACertificateFromAnotherCaIsRefused) {
  const Seen seen = run(ClientKind::kForeign);
  expectRefused(seen, "TLS handshake failed");
  EXPECT_NE(seen.clientError, "");
}

TEST_F(RpcTlsTest, AClientWithoutACertificateIsRefused) {
  const Seen seen = run(ClientKind::kNoCertificate);
  expectRefused(seen, "certificate");
  EXPECT_NE(seen.clientError, "");
}

TEST_F(RpcTlsTest, APlaintextPeerIsRefused) {
  const Seen seen = run(ClientKind::kPlaintext);
  expectRefused(seen, "a plaintext peer: TLS is required");
  EXPECT_NE(seen.clientError, "");
}

TEST_F(RpcTlsTest, BadTlsFilesAreClearErrors) {
  const rpc_testing::CertificateFiles good = certificates_->of("kv-1");
  auto missing = rpc::Tls::fromFiles(
      {.certificate = dir_ + "/nope.pem", .key = good.key, .ca = certificates_->ca()}, "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, IoErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("nope.pem"), std::string::npos);

  auto garbage = rpc::Tls::fromPem("not a certificate", "k", "c", "x");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().kind, IoErrorKind::kInvalidArgument);
  EXPECT_NE(garbage.error().message.find("TLS certificate"), std::string::npos);
}

}  // namespace
}  // namespace moonpool
