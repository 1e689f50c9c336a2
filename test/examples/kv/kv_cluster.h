// Three real kv_node processes on 127.0.0.1 for the KV example's process tests (kv_e2e_test,
// kv_interop_test): free ports, a data directory and a log file per node, start, kill and
// reap. Every node still running is killed and reaped (waitpid: no zombies) when the
// cluster is destroyed, also when a check failed.
#pragma once

#include <sys/types.h>

#include <array>
#include <string>

namespace moonpool::kv_testing {

class KvCluster {
 public:
  static constexpr int kNodes = 3;

  // `root` (a fresh directory) holds each node's data directory and log; `nodeBinary` is
  // the kv_node executable. Nothing is started yet.
  KvCluster(std::string root, std::string nodeBinary);
  KvCluster(const KvCluster&) = delete;
  KvCluster& operator=(const KvCluster&) = delete;
  ~KvCluster();

  // Starts node `id` (1..3) with its data directory; reports a test failure if it cannot.
  void start(int id);
  void startAll();
  // Sends `signal` to node `id` and reaps it; returns its wait status.
  int kill(int id, int signal);

  int port(int id) const { return ports_[id - 1]; }
  std::string address(int id) const { return "127.0.0.1:" + std::to_string(port(id)); }
  std::string dataDir(int id) const;
  std::string nodeLog(int id) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::string nodeBinary_;
  std::array<int, kNodes> ports_{};
  std::array<pid_t, kNodes> pids_{-1, -1, -1};
};

// The whole content of a file ("" when it cannot be read).
std::string readFile(const std::string& path);

}  // namespace moonpool::kv_testing
