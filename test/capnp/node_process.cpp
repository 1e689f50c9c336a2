// One real kv_node process (see node_process.h).
#include "node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "moonpool/real/wall_clock.h"

namespace moonpool::rpc_testing {

namespace {

constexpr std::chrono::milliseconds kPollInterval{20};

bool connects(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

NodeProcess::NodeProcess(Options options) : options_(std::move(options)) {
  std::vector<std::string> args = options_.args;
  args.insert(args.begin(), options_.binary);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int log = ::open(options_.logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) {
    ADD_FAILURE() << "cannot open " << options_.logPath;
    return;
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    ADD_FAILURE() << "fork failed";
    ::close(log);
    return;
  }
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec.
    if (options_.descriptorsMax) {
      const rlim_t descriptors = *options_.descriptorsMax;
      const rlimit limit{.rlim_cur = descriptors, .rlim_max = descriptors};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(126);
    }
    ::dup2(log, STDERR_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::execv(options_.binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log);
}

NodeProcess::~NodeProcess() {
  if (pid_ <= 0 || exitStatus_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

bool NodeProcess::waitUntilListening(std::uint16_t port, std::chrono::milliseconds wait) const {
  const WallTimer timer;
  while (timer.elapsed() < wait) {
    if (connects(port)) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

bool NodeProcess::alive() {
  if (exitStatus_ || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exitStatus_ = status;
    return false;
  }
  return true;
}

std::uint64_t NodeProcess::rssKib() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::uint64_t kib = 0;
    fields >> kib;
    return kib;
  }
  return 0;
}

bool NodeProcess::waitForLog(const std::string& needle, std::chrono::milliseconds wait) const {
  const WallTimer timer;
  for (;;) {
    if (log().find(needle) != std::string::npos) return true;
    if (timer.elapsed() >= wait) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace moonpool::rpc_testing
