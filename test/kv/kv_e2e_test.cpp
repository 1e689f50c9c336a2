// Goal: the KV store's code that passes the chaos test also works as three real OS
// processes on 127.0.0.1 with real files, and survives real crashes: a killed primary, a
// backup killed and wiped, and a primary killed and wiped (it must recover every
// acknowledged write from the backups).
// Method: start three kv_node processes (posix_spawn, free ports found by binding port 0,
// a fresh data directory each), drive them with kv_client (which checks every read and
// reads every key back), SIGKILL and restart nodes in between, and re-check saved ledgers
// with `kv_client --verify_ledger`. Every node is reaped with waitpid (no zombies), also
// when a check fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/command.h"

extern char** environ;

namespace moonpool {
namespace {

using test_support::contains;
using test_support::quote;
using test_support::runCommand;

// Ports the kernel says are free right now (bound to port 0, then released together).
std::array<int, 3> freePorts() {
  std::array<int, 3> sockets{};
  std::array<int, 3> ports{};
  for (std::size_t i = 0; i < 3; ++i) {
    sockets[i] = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    EXPECT_EQ(bind(sockets[i], reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    EXPECT_EQ(getsockname(sockets[i], reinterpret_cast<sockaddr*>(&address), &length), 0);
    ports[i] = ntohs(address.sin_port);
  }
  for (int s : sockets) close(s);
  return ports;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class KvCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test_support::freshWorkDir(KV_WORK_ROOT, "cluster");
    ports_ = freePorts();
    for (int id = 1; id <= 3; ++id) start(id);
  }

  // Kills and reaps every node still running, whatever happened in the test.
  void TearDown() override {
    for (int id = 1; id <= 3; ++id) {
      if (pids_[id - 1] > 0) kill(id, SIGKILL);
    }
  }

  std::string dataDir(int id) const { return root_ + "/data-" + std::to_string(id); }
  std::string nodeLog(int id) const { return root_ + "/kv-" + std::to_string(id) + ".log"; }
  std::string primary() const { return "127.0.0.1:" + std::to_string(ports_[0]); }

  void start(int id) {
    std::string peers;
    for (int other = 1; other <= 3; ++other) {
      if (other == id) continue;
      if (!peers.empty()) peers += ",";
      peers += "127.0.0.1:" + std::to_string(ports_[other - 1]);
    }
    std::vector<std::string> args = {KV_NODE, "--id=" + std::to_string(id),
                                     "--port=" + std::to_string(ports_[id - 1]),
                                     "--peers=" + peers, "--data_dir=" + dataDir(id)};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = nodeLog(id);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, KV_NODE, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(spawned, 0) << "posix_spawn " << KV_NODE;
    pids_[id - 1] = pid;
  }

  // Sends `signal` and reaps the node; returns how it ended.
  int kill(int id, int signal) {
    const pid_t pid = pids_[id - 1];
    ::kill(pid, signal);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid) << "kv-" << id << " was not reaped";
    pids_[id - 1] = -1;
    return status;
  }

  test_support::CommandResult client(const std::string& args) {
    return runCommand(quote(KV_CLIENT) + " --primary=" + primary() + " --run_seconds=30 " + args);
  }

  std::string root_;
  std::array<int, 3> ports_{};
  std::array<pid_t, 3> pids_{-1, -1, -1};
};

TEST_F(KvCluster, SurvivesKilledAndWipedNodes) {
  const std::string ledger1 = root_ + "/ledger-1";
  const std::string ledger2 = root_ + "/ledger-2";
  test_support::CommandResult first = client("--client_id=1 --ops=120 --ledger_out=" + ledger1);
  ASSERT_EQ(first.exitCode, 0) << first.output << readFile(nodeLog(1));
  EXPECT_TRUE(contains(first.output, "0 violation(s)")) << first.output;

  // The primary crashes and comes back with its files: nothing acknowledged is lost.
  const int status = kill(1, SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  start(1);
  test_support::CommandResult afterCrash = client("--verify_ledger=" + ledger1);
  EXPECT_EQ(afterCrash.exitCode, 0) << afterCrash.output << readFile(nodeLog(1));

  // A backup loses its disk; the cluster keeps serving and refills it.
  kill(2, SIGKILL);
  std::filesystem::remove_all(dataDir(2));
  start(2);
  test_support::CommandResult second = client("--client_id=2 --ops=80 --ledger_out=" + ledger2);
  EXPECT_EQ(second.exitCode, 0) << second.output << readFile(nodeLog(1));

  // The primary loses its disk: it must rebuild every acknowledged write from the backups.
  kill(1, SIGKILL);
  std::filesystem::remove_all(dataDir(1));
  start(1);
  for (const std::string& ledger : {ledger1, ledger2}) {
    test_support::CommandResult check = client("--verify_ledger=" + ledger);
    EXPECT_EQ(check.exitCode, 0) << ledger << ":\n" << check.output << readFile(nodeLog(1));
  }
  const std::string log = readFile(nodeLog(1));
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
