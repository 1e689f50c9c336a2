// Three real kv_node processes (see kv_cluster.h).
#include "kv_cluster.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace moonpool::kv_testing {
namespace {

// Ports the kernel says are free right now (bound to port 0, then released together).
std::array<int, KvCluster::kNodes> freePorts() {
  std::array<int, KvCluster::kNodes> sockets{};
  std::array<int, KvCluster::kNodes> ports{};
  for (std::size_t i = 0; i < sockets.size(); ++i) {
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

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

KvCluster::KvCluster(std::string root, std::string nodeBinary)
    : root_(std::move(root)), nodeBinary_(std::move(nodeBinary)), ports_(freePorts()) {}

KvCluster::~KvCluster() {
  for (int id = 1; id <= kNodes; ++id) {
    if (pids_[id - 1] > 0) kill(id, SIGKILL);
  }
}

std::string KvCluster::dataDir(int id) const { return root_ + "/data-" + std::to_string(id); }
std::string KvCluster::nodeLog(int id) const {
  return root_ + "/kv-" + std::to_string(id) + ".log";
}

void KvCluster::startAll() {
  for (int id = 1; id <= kNodes; ++id) start(id);
}

void KvCluster::start(int id) {
  std::string peers;
  for (int other = 1; other <= kNodes; ++other) {
    if (other == id) continue;
    if (!peers.empty()) peers += ",";
    peers += address(other);
  }
  std::vector<std::string> args = {nodeBinary_, "--id=" + std::to_string(id),
                                   "--port=" + std::to_string(port(id)), "--peers=" + peers,
                                   "--data_dir=" + dataDir(id)};
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
  const int spawned = posix_spawn(&pid, nodeBinary_.c_str(), &actions, nullptr, argv.data(),
                                  environ);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0) << "posix_spawn " << nodeBinary_;
  pids_[id - 1] = pid;
}

int KvCluster::kill(int id, int signal) {
  const pid_t pid = pids_[id - 1];
  ::kill(pid, signal);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid) << "kv-" << id << " was not reaped";
  pids_[id - 1] = -1;
  return status;
}

}  // namespace moonpool::kv_testing
