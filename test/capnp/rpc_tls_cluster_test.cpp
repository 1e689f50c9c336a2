// Goal: a KV cluster of three real kv_node processes under mutual TLS. A client holding a
// certificate from the cluster's CA writes and reads through the store, but is not a
// member: the replica service refuses it (RpcFailure kNotAuthorized) — authorization for
// real, by certificate name. A client whose certificate comes from another CA, and a
// plaintext peer, are refused, and the server logs why.
// Method: certificates made by the openssl command-line tool (tls_certificates.h); three
// kv_node processes (node_process.h) started with --tls_cert/--tls_key/--tls_ca; the
// clients run on this process's RealRuntime through KvPeer and the generated remotes,
// every call under a deadline. The kv_client binary runs its workload with --tls_cert,
// --tls_key and --tls_ca; without them (plain TCP) it gets nothing acknowledged, and
// incomplete or unreadable TLS flags are usage errors (exit 2) naming the problem. About
// six seconds.
#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <optional>
#include <string>

#include "kv_service.moonpool.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/tls.h"
#include "node_process.h"
#include "remote.h"
#include "support/command.h"
#include "tls_certificates.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using rpc_testing::NodeProcess;
using rpc_testing::TestCertificates;

constexpr int kNodes = 3;
constexpr int kPutAttemptsMax = 150;
constexpr Duration kRetry = 100ms;

struct Seen {
  std::string put;
  std::string get;
  std::string claim;
  std::string rogue;
  std::string plaintext;
};

template <typename T>
std::string describe(const kv::Reply<T>& reply) {
  if (reply.ok()) return kv::statusName(reply.value->status);
  if (reply.failure) return std::string(rpc::rpcFailureName(*reply.failure));
  return "error: " + reply.error;
}

rpc::PeerOptions clientOptions(std::shared_ptr<rpc::Tls> tls) {
  rpc::PeerOptions options = kv::peerOptions(1s, "tls-client", nullptr, nullptr);
  options.rpc.tls = std::move(tls);
  return options;
}

Task<void> member(Providers p, std::array<NetAddress, kNodes> nodes,
                  std::shared_ptr<rpc::Tls> tls, Seen* seen) {
  kv::KvPeer primary(p, nodes[0], clientOptions(tls), nullptr);
  kv::schema::KvStoreRemote store(primary.peer());
  for (int attempt = 0; attempt < kPutAttemptsMax && seen->put != "ok"; ++attempt) {
    seen->put = describe(co_await primary.call(store.put(kv::Entry{"tls/key", 1, "secret"})));
    if (seen->put != "ok") co_await p.time().sleep(kRetry);
  }
  kv::Reply<kv::GetReply> read = co_await primary.call(store.get("tls/key"));
  seen->get = read.ok() ? read.value->value : describe(read);
  kv::KvPeer backup(p, nodes[1], clientOptions(tls), nullptr);
  kv::schema::KvReplicaRemote replica(backup.peer());
  seen->claim = describe(
      co_await backup.call(replica.claim(std::numeric_limits<std::uint64_t>::max())));
}

// One call through a peer that cannot get in: what it failed with.
Task<void> outsider(Providers p, NetAddress node, std::shared_ptr<rpc::Tls> tls,
                    std::string* out) {
  rpc::PeerOptions options = clientOptions(std::move(tls));
  options.callTimeout = 1s;
  kv::KvPeer peer(p, node, std::move(options), nullptr);
  kv::schema::KvStoreRemote store(peer.peer());
  *out = describe(co_await peer.call(store.get("tls/key")));
}

Task<void> clients(Providers p, std::array<NetAddress, kNodes> nodes,
                   const TestCertificates* certificates, Seen* seen) {
  auto load = [certificates](const std::string& name) {
    const rpc_testing::CertificateFiles files = certificates->of(name);
    return rpc::Tls::fromFiles(
               {.certificate = files.certificate, .key = files.key, .ca = certificates->ca()},
               TestCertificates::kServerName)
        .orThrow();
  };
  co_await member(p, nodes, load("client-1"), seen);
  co_await outsider(p, nodes[0], load("rogue"), &seen->rogue);
  co_await outsider(p, nodes[0], nullptr, &seen->plaintext);
}

class RpcTlsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::freshWorkDir(RPC_TLS_WORK_ROOT, "tls-cluster");
    certificates_.emplace(dir_);
    ASSERT_TRUE(certificates_->ok()) << certificates_->error();
    for (int i = 0; i < kNodes; ++i) ports_[i] = rpc_testing::freePort();
    for (int id = 1; id <= kNodes; ++id) start(id);
    for (int id = 1; id <= kNodes; ++id) {
      ASSERT_TRUE(nodes_[id - 1]->waitUntilListening(ports_[id - 1], 5000ms))
          << nodes_[id - 1]->log();
    }
  }

  void start(int id) {
    std::string peers;
    for (int other = 1; other <= kNodes; ++other) {
      if (other == id) continue;
      peers += (peers.empty() ? "" : ",") + std::string("127.0.0.1:") +
               std::to_string(ports_[other - 1]);
    }
    const std::string name = "kv-" + std::to_string(id);
    const rpc_testing::CertificateFiles files = certificates_->of(name);
    nodes_[id - 1].emplace(NodeProcess::Options{
        .binary = KV_NODE,
        .args = {"--id=" + std::to_string(id), "--port=" + std::to_string(ports_[id - 1]),
                 "--peers=" + peers, "--data_dir=" + dir_ + "/" + name,
                 "--tls_cert=" + files.certificate, "--tls_key=" + files.key,
                 "--tls_ca=" + certificates_->ca()},
        .logPath = dir_ + "/" + name + ".log",
        .descriptorsMax = std::nullopt});
  }

  std::string dir_;
  std::optional<TestCertificates> certificates_;
  std::array<std::uint16_t, kNodes> ports_{};
  std::array<std::optional<NodeProcess>, kNodes> nodes_;

  // Runs kv_client against the primary with `args` (a short workload).
  test_support::CommandResult kvClient(const std::string& args) const {
    return test_support::runCommand(test_support::quote(KV_CLIENT) +
                                    " --primary=127.0.0.1:" + std::to_string(ports_[0]) +
                                    " --ops=20 --keys=2 --timeout_ms=500 " + args + " 2>&1");
  }
  std::string tlsFlags(const std::string& name) const {
    const rpc_testing::CertificateFiles files = certificates_->of(name);
    return "--tls_cert=" + test_support::quote(files.certificate) +
           " --tls_key=" + test_support::quote(files.key) +
           " --tls_ca=" + test_support::quote(certificates_->ca());
  }
};

TEST_F(RpcTlsClusterTest, MembersReplicateClientsAreAuthorizedOutsidersAreRefused) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = dir_ + "/client"});
  std::array<NetAddress, kNodes> nodes;
  for (int i = 0; i < kNodes; ++i) nodes[i] = NetAddress{kLoopbackIp, ports_[i]};
  Seen seen;
  RunOutcome outcome = runtime.run(clients(runtime.providers(), nodes, &*certificates_, &seen));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(seen.put, "ok") << nodes_[0]->log();
  EXPECT_EQ(seen.get, "secret");
  EXPECT_EQ(seen.claim, "not authorized") << "client-1 is not a member";
  EXPECT_NE(seen.rogue, "ok");
  EXPECT_NE(seen.plaintext, "ok");
  EXPECT_TRUE(nodes_[0]->waitForLog("TLS handshake failed", 2000ms)) << nodes_[0]->log();
  EXPECT_TRUE(nodes_[0]->waitForLog("a plaintext peer: TLS is required", 2000ms))
      << nodes_[0]->log();
  EXPECT_TRUE(nodes_[1]->waitForLog("admits cluster members only", 100ms) ||
              seen.claim == "not authorized");
  for (auto& node : nodes_) EXPECT_TRUE(node->alive()) << node->log();
}

TEST_F(RpcTlsClusterTest, KvClientTakesTheTlsFlagsOfKvNode) {
  test_support::CommandResult secured = kvClient("--run_seconds=20 " + tlsFlags("client-1"));
  EXPECT_EQ(secured.exitCode, 0) << secured.output << nodes_[0]->log();
  EXPECT_TRUE(test_support::contains(secured.output, "0 violation(s)")) << secured.output;

  // Plain TCP against the TLS cluster: refused, so nothing is acknowledged (exit 1).
  test_support::CommandResult plain = kvClient("--run_seconds=1 --verify_seconds=1");
  EXPECT_EQ(plain.exitCode, 1) << plain.output;
  EXPECT_TRUE(test_support::contains(plain.output, "no PUT was acknowledged")) << plain.output;
  EXPECT_TRUE(nodes_[0]->waitForLog("a plaintext peer: TLS is required", 2000ms))
      << nodes_[0]->log();

  const rpc_testing::CertificateFiles files = certificates_->of("client-1");
  test_support::CommandResult partial =
      kvClient("--tls_cert=" + test_support::quote(files.certificate));
  EXPECT_EQ(partial.exitCode, 2) << partial.output;
  EXPECT_TRUE(test_support::contains(partial.output,
                                     "TLS needs all of --tls_cert, --tls_key and --tls_ca"))
      << partial.output;
  test_support::CommandResult missing =
      kvClient("--tls_cert=" + dir_ + "/absent.pem --tls_key=" +
               test_support::quote(files.key) + " --tls_ca=" + certificates_->ca());
  EXPECT_EQ(missing.exitCode, 2) << missing.output;
  EXPECT_TRUE(test_support::contains(missing.output, "absent.pem")) << missing.output;
  for (auto& node : nodes_) EXPECT_TRUE(node->alive()) << node->log();
}

}  // namespace
}  // namespace moonpool
