// Goal: the production KV server speaks plain Cap'n Proto: a client built without moonpool,
// from nothing but the two schemas (the hub every moonpool host serves, and the store's
// protocol moonpool-annotate generated from kv_service.h), reaches a real kv_node, finds the
// store by name, and writes and reads a key; misdirected and unknown requests get clear
// answers.
// Method: start three real kv_node processes (kv_cluster.h: the primary serves only once
// both backups answered its recovery), then run the plain client (kv_plain_client.h, a
// library with no moonpool include path) against the primary and against a backup, and
// check every answer it saw.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv_cluster.h"
#include "kv_plain_client.h"
#include "support/command.h"

namespace moonpool {
namespace {

using kv_testing::readFile;

// How long the plain client retries connecting and PUTs answered kNotReady.
constexpr std::uint32_t kWaitMs = 20'000;

class KvInterop : public ::testing::Test {
 protected:
  void SetUp() override { cluster_.startAll(); }

  kv_testing::KvCluster cluster_{test_support::freshWorkDir(KV_WORK_ROOT, "interop"), KV_NODE};
};

TEST_F(KvInterop, APlainCapnpClientWritesAndReadsThroughTheHub) {
  const plain_kv::Session s = plain_kv::putAndGet(
      static_cast<std::uint16_t>(cluster_.port(1)), "plain/key", 3, "hello from plain capnp",
      kWaitMs);
  ASSERT_EQ(s.error, "") << readFile(cluster_.nodeLog(1));
  EXPECT_EQ(s.pingNonce, 42u) << "the hub echoes the ping's nonce";
  EXPECT_NE(s.incarnation, 0u);
  EXPECT_EQ(s.services, (std::vector<std::string>{"moonpool::kv::KvReplica",
                                                   "moonpool::kv::KvStore"}));
  EXPECT_NE(s.unknownLookupError.find("no::Such"), std::string::npos) << s.unknownLookupError;
  EXPECT_EQ(s.putStatus, "kOk") << "after " << s.putAttempts << " attempts";
  EXPECT_EQ(s.getStatus, "kOk");
  EXPECT_EQ(s.found, "kYes");
  EXPECT_EQ(s.version, 3u);
  EXPECT_EQ(s.value, "hello from plain capnp");

  // The same version again is answered from the existing entry (PUT is idempotent), and a
  // read still sees it.
  const plain_kv::Session again = plain_kv::putAndGet(
      static_cast<std::uint16_t>(cluster_.port(1)), "plain/key", 3, "hello from plain capnp",
      kWaitMs);
  EXPECT_EQ(again.putStatus, "kOk");
  EXPECT_EQ(again.putAttempts, 1u);
  EXPECT_EQ(again.version, 3u);
}

TEST_F(KvInterop, ABackupTellsAPlainClientItIsNotThePrimary) {
  const plain_kv::Session s = plain_kv::putAndGet(
      static_cast<std::uint16_t>(cluster_.port(2)), "plain/key", 1, "v", kWaitMs);
  ASSERT_EQ(s.error, "") << readFile(cluster_.nodeLog(2));
  EXPECT_EQ(s.putStatus, "kNotPrimary");
  EXPECT_EQ(s.putAttempts, 1u);
  EXPECT_EQ(s.getStatus, "kNotPrimary");
}

}  // namespace
}  // namespace moonpool
