// Goal: the KV store's code that passes the chaos test also works as three real OS processes on
// 127.0.0.1 with real files, talking Cap'n Proto RPC over real TCP, and survives real crashes: a
// killed primary, a backup killed and wiped, and a primary killed and wiped (it must recover every
// acknowledged write from the backups).
// Method: start three kv_node processes (kv_cluster.h: posix_spawn, free ports found by binding
// port 0, a fresh data directory each), drive them with kv_client (which checks every read and
// reads every key back), SIGKILL and restart nodes in between, and re-check saved ledgers with
// `kv_client --verify_ledger`. Every node is reaped with waitpid (no zombies), also when a check
// fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <regex>
#include <string>

#include "kv_cluster.h"
#include "support/command.h"

namespace moonpool {
namespace {

using kv_testing::readFile;
using test_support::contains;
using test_support::quote;
using test_support::runCommand;

class KvProcesses : public ::testing::Test {
 protected:
  void SetUp() override { cluster_.startAll(); }

  test_support::CommandResult client(const std::string& args) {
    return runCommand(quote(KV_CLIENT) + " --primary=" + cluster_.address(1) +
                      " --run_seconds=30 " + args);
  }
  std::string nodeLog(int id) const { return readFile(cluster_.nodeLog(id)); }

  kv_testing::KvCluster cluster_{test_support::freshWorkDir(KV_WORK_ROOT, "cluster"), KV_NODE};
};

TEST_F(KvProcesses, SurvivesKilledAndWipedNodes) {
  const std::string ledger1 = cluster_.root() + "/ledger-1";
  const std::string ledger2 = cluster_.root() + "/ledger-2";
  test_support::CommandResult first = client("--client_id=1 --ops=120 --ledger_out=" + ledger1);
  ASSERT_EQ(first.exitCode, 0) << first.output << nodeLog(1);
  EXPECT_TRUE(contains(first.output, "0 violation(s)")) << first.output;

  // The primary crashes and comes back with its files: nothing acknowledged is lost.
  const int status = cluster_.kill(1, SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  cluster_.start(1);
  test_support::CommandResult afterCrash = client("--verify_ledger=" + ledger1);
  EXPECT_EQ(afterCrash.exitCode, 0) << afterCrash.output << nodeLog(1);

  // A backup loses its disk; the cluster keeps serving and refills it.
  cluster_.kill(2, SIGKILL);
  std::filesystem::remove_all(cluster_.dataDir(2));
  cluster_.start(2);
  test_support::CommandResult second = client("--client_id=2 --ops=80 --ledger_out=" + ledger2);
  EXPECT_EQ(second.exitCode, 0) << second.output << nodeLog(1);

  // The primary loses its disk: it must rebuild every acknowledged write from the backups.
  cluster_.kill(1, SIGKILL);
  std::filesystem::remove_all(cluster_.dataDir(1));
  cluster_.start(1);
  for (const std::string& ledger : {ledger1, ledger2}) {
    test_support::CommandResult check = client("--verify_ledger=" + ledger);
    EXPECT_EQ(check.exitCode, 0) << ledger << ":\n" << check.output << nodeLog(1);
  }
  const std::string log = nodeLog(1);
  EXPECT_TRUE(std::regex_search(log, std::regex("booted with 0 entries, adopted [1-9]")))
      << "the wiped primary did not adopt the backups' log:\n" << log;
}

TEST(KvBinaries, BadFlagsAreClearErrors) {
  test_support::CommandResult node = runCommand(quote(KV_NODE) + " --id=7 --port=1 --data_dir=x");
  EXPECT_EQ(node.exitCode, 2);
  EXPECT_TRUE(contains(node.output, "--id must be in [1, 3], got 7")) << node.output;
  test_support::CommandResult peers =
      runCommand(quote(KV_NODE) + " --id=1 --port=5 --peers=1.2.3.4:5 --data_dir=x");
  EXPECT_EQ(peers.exitCode, 2);
  EXPECT_TRUE(contains(peers.output, "--peers needs the two other servers")) << peers.output;
  test_support::CommandResult client = runCommand(quote(KV_CLIENT) + " --primary=nonsense");
  EXPECT_EQ(client.exitCode, 2);
  EXPECT_TRUE(contains(client.output, "--primary:")) << client.output;
}

}  // namespace
}  // namespace moonpool
