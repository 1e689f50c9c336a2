// Goal: what the real TCP provider promises beyond the shared network contract
// (real/real_network.h): an operation in flight when its own connection is aborted or
// destroyed, or a pending accept when its listener is destroyed, completes with an error
// instead of hanging or touching freed memory; a second concurrent read is refused loudly;
// localIp() reports the configured address; the listen backlog reaches the kernel (a small
// one queues only backlog + 1 handshakes); and the full RealRuntime bundle carries a
// network and storage.
// Method: RealRuntime on 127.0.0.1 with port-0 listeners; the pending operation runs as a
// spawned task, the main task closes the object under it after a short real sleep, then
// joins. Lives next to the conformance suites because it shares their helpers; the
// simulated network is not held to these cases (its behaviour here is its own).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

#include "moonpool/real/real_executor.h"
#include "moonpool/real/real_network.h"
#include "support/command.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

struct Pair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Connection> dialer;
  std::unique_ptr<Connection> acceptor;
};

Task<Pair> connectPair(NetworkProvider& network) {
  IoResult<std::unique_ptr<Listener>> listener =
      network.listen(NetAddress{network.localIp(), 0}, 4);
  std::unique_ptr<Listener> owned = std::move(listener).orThrow();
  std::unique_ptr<Connection> dialer =
      (co_await network.connect(owned->localAddress())).orThrow();
  std::unique_ptr<Connection> acceptor = (co_await owned->accept()).orThrow();
  co_return Pair{std::move(owned), std::move(dialer), std::move(acceptor)};
}

Task<IoResult<std::size_t>> readSome(Connection& connection) {
  std::array<std::byte, 64> buffer;
  co_return co_await connection.read(buffer);
}

std::string runtimeRoot() {
  return test_support::freshWorkDir(MOONPOOL_CONFORMANCE_WORK_DIR, "real-network-storage");
}

enum class CloseBy : std::uint8_t { kAbort, kDestroy };

Task<void> closeUnderPendingRead(Providers p, CloseBy how, IoErrorKind expected) {
  Pair pair = co_await connectPair(p.network());
  JoinHandle<IoResult<std::size_t>> pending = p.tasks().spawn("reader", readSome(*pair.acceptor));
  co_await p.time().sleep(5ms);  // the read is now waiting in KJ
  EXPECT_FALSE(pending.done());
  if (how == CloseBy::kAbort) {
    pair.acceptor->abort();
  } else {
    pair.acceptor.reset();
  }
  IoResult<std::size_t> got = co_await pending.join();
  EXPECT_FALSE(got.ok());
  if (!got.ok()) EXPECT_EQ(got.error().kind, expected) << got.error().toString();
}

TEST(RealNetworkTest, AbortUnderAPendingReadCompletesItWithReset) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot()});
  RunOutcome outcome = runtime.run(
      closeUnderPendingRead(runtime.providers(), CloseBy::kAbort, IoErrorKind::kReset));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
}

TEST(RealNetworkTest, DestroyingUnderAPendingReadCompletesItWithClosed) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot()});
  RunOutcome outcome = runtime.run(closeUnderPendingRead(runtime.providers(), CloseBy::kDestroy,
                                                         IoErrorKind::kInvalidArgument));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
}

Task<IoResult<std::unique_ptr<Connection>>> acceptOne(Listener& listener) {
  co_return co_await listener.accept();
}

Task<void> destroyListenerUnderPendingAccept(Providers p) {
  NetworkProvider& network = p.network();
  std::unique_ptr<Listener> listener =
      network.listen(NetAddress{network.localIp(), 0}, 4).orThrow();
  JoinHandle<IoResult<std::unique_ptr<Connection>>> pending =
      p.tasks().spawn("acceptor", acceptOne(*listener));
  co_await p.time().sleep(5ms);
  EXPECT_FALSE(pending.done());
  listener.reset();
  IoResult<std::unique_ptr<Connection>> got = co_await pending.join();
  EXPECT_FALSE(got.ok());
  if (!got.ok()) {
    EXPECT_EQ(got.error().kind, IoErrorKind::kInvalidArgument) << got.error().toString();
  }
}

TEST(RealNetworkTest, DestroyingAListenerCompletesAPendingAccept) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot()});
  RunOutcome outcome = runtime.run(destroyListenerUnderPendingAccept(runtime.providers()));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
}

Task<void> secondConcurrentRead(Providers p) {
  Pair pair = co_await connectPair(p.network());
  JoinHandle<IoResult<std::size_t>> first = p.tasks().spawn("first", readSome(*pair.acceptor));
  co_await p.time().sleep(5ms);
  (void)co_await readSome(*pair.acceptor);  // fails a check: one read at a time
}

TEST(RealNetworkDeathTest, ASecondConcurrentReadFailsACheck) {
  EXPECT_DEATH(
      {
        RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot()});
        (void)runtime.run(secondConcurrentRead(runtime.providers()));
      },
      "one read at a time per connection");
}

// Opens `count` non-blocking connections to `address` and returns how many the kernel
// completed within `wait` (a full accept queue leaves the rest in SYN_SENT).
std::size_t completedConnects(NetAddress address, std::size_t count,
                              std::chrono::milliseconds wait) {
  std::vector<int> fds;
  sockaddr_in raw{};
  raw.sin_family = AF_INET;
  raw.sin_port = htons(address.port);
  raw.sin_addr.s_addr = htonl(address.ip.value());
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    static_cast<void>(::connect(fd, reinterpret_cast<const sockaddr*>(&raw), sizeof raw));
    fds.push_back(fd);
  }
  ::usleep(static_cast<useconds_t>(wait.count() * 1000));
  std::size_t completed = 0;
  for (int fd : fds) {
    pollfd watched{.fd = fd, .events = POLLOUT, .revents = 0};
    int error = 0;
    socklen_t length = sizeof error;
    const bool writable = ::poll(&watched, 1, 0) == 1;
    if (writable && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
      ++completed;
    }
    ::close(fd);
  }
  return completed;
}

Task<void> smallBacklog(Providers p, std::size_t* completed) {
  NetworkProvider& network = p.network();
  constexpr std::size_t kBacklog = 2;
  std::unique_ptr<Listener> listener =
      network.listen(NetAddress{network.localIp(), 0}, kBacklog).orThrow();
  // Nothing accepts: the kernel completes at most backlog + 1 handshakes (Linux).
  *completed = completedConnects(listener->localAddress(), 12, 200ms);
  co_return;
}

TEST(RealNetworkTest, TheListenBacklogIsHandedToTheKernel) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot()});
  std::size_t completed = 0;
  RunOutcome outcome = runtime.run(smallBacklog(runtime.providers(), &completed));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_GE(completed, 1u);
  EXPECT_LE(completed, 3u) << "a backlog of 2 queues at most 3 connections, not SOMAXCONN";
}

TEST(RealNetworkTest, RuntimeCarriesAllFiveProvidersAndTheConfiguredIp) {
  // One KJ event loop per thread: the runtimes live one after the other.
  {
    RealRuntime runtime(RealRuntimeOptions{.storageRoot = runtimeRoot(),
                                           .localIp = IpAddress::fromOctets(127, 0, 0, 2)});
    Providers providers = runtime.providers();
    EXPECT_TRUE(providers.hasNetwork());
    EXPECT_TRUE(providers.hasStorage());
    EXPECT_EQ(providers.network().localIp().toString(), "127.0.0.2");
  }
  {
    RealRuntime defaults(RealRuntimeOptions{.storageRoot = runtimeRoot()});
    EXPECT_EQ(defaults.providers().network().localIp(), kLoopbackIp);
  }
}

}  // namespace
}  // namespace moonpool
