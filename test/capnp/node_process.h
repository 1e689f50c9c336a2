// One real kv_node process for the hostile-peer and TLS suites (rpc_attack_test.cpp,
// rpc_tls_test.cpp): fork, an optional lower descriptor limit set in the child
// (setrlimit), exec with the given flags and stderr to a log file; wait until it accepts;
// its resident memory (VmRSS) and whether it still runs; kill and reap at destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moonpool::rpc_testing {

// A port the kernel says is free right now (bound to port 0, then released).
std::uint16_t freePort();

// The whole content of a file ("" when it cannot be read).
std::string readWholeFile(const std::string& path);

class NodeProcess {
 public:
  struct Options {
    std::string binary;
    std::vector<std::string> args;
    std::string logPath;
    // The child's RLIMIT_NOFILE (soft and hard), when set.
    std::optional<std::uint64_t> descriptorsMax;
  };

  explicit NodeProcess(Options options);
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;
  // Kills (SIGKILL) and reaps the process if it still runs.
  ~NodeProcess();

  // True once a TCP connect to 127.0.0.1:`port` succeeds, polling up to `wait`.
  bool waitUntilListening(std::uint16_t port, std::chrono::milliseconds wait) const;
  // Not exited (reaps it when it has).
  bool alive();
  // Resident set size in KiB (VmRSS), 0 when unknown.
  std::uint64_t rssKib() const;
  std::string log() const { return readWholeFile(options_.logPath); }
  // Polls the log until it contains `needle`, up to `wait`.
  bool waitForLog(const std::string& needle, std::chrono::milliseconds wait) const;
  pid_t pid() const { return pid_; }

 private:
  Options options_;
  pid_t pid_ = -1;
  std::optional<int> exitStatus_;
};

}  // namespace moonpool::rpc_testing
