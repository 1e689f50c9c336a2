// Goal: a real kv_node on 127.0.0.1 survives hostile peers: garbage, oversized headers,
// never-finished bodies on many connections, a connection flood beyond its limit,
// slow-drip connections, and descriptor exhaustion under a lowered `ulimit -n`; and a
// burst of connects started at once is not held back by SYN retries. For each
// attack: the server process lives, a normal client completes calls while the attack goes
// on, the server's resident memory stays under its configured byte budget plus a stated
// margin, and the server logged why it dropped the attackers.
// Method: one kv_node process (a backup: it serves without the rest of the cluster) with
// small limits set by flag (node_process.h: fork, setrlimit in the child, exec). The
// attacker and the normal client share this process's RealRuntime: the attack runs as a
// task until cancelled; after a ramp-up the client makes kNormalCalls fresh connections,
// each pinging the host's hub under a deadline, and samples the server's VmRSS. Bounded:
// a few seconds per attack.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hub.capnp.h"
#include "moonpool/combinators.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/random.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/two_party.h"
#include "node_process.h"
#include "support/command.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using rpc_testing::NodeProcess;

// The server's limits (kv_node flags).
constexpr std::size_t kIncomingBytesMax = std::size_t{4} << 20;
constexpr std::size_t kBudgetBytesMax = std::size_t{16} << 20;
constexpr int kConnectionsMax = 16;
constexpr int kFirstMessageTimeoutMs = 1000;
// Stated margin over the budget for the server's resident memory: its code, heap and KJ
// buffers besides the partial messages the budget bounds.
constexpr std::uint64_t kRssMarginKib = 24 * 1024;
// Under AddressSanitizer every allocation carries redzones and shadow, and freed memory waits
// in a quarantine, so resident memory runs a few times what the server holds. The bound is
// still a bound (the unbounded server grew to 602 MB on the never-finished bodies), only a
// wider one: (budget + margin) times this factor.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOONPOOL_ATTACK_UNDER_ASAN 1
#endif
#endif
#ifdef MOONPOOL_ATTACK_UNDER_ASAN
constexpr std::uint64_t kSanitizerRssFactor = 4;
#else
constexpr std::uint64_t kSanitizerRssFactor = 1;
#endif
constexpr int kNormalCalls = 5;
// Attempts per call, each on a new connection. Under a reconnect storm from the client's
// own IP the server admits by evicting the oldest connection without a whole message; a
// new connection whose first message the server has not yet read when 15 more arrive is
// evicted (measured under ASan: within 2-4 ms, in up to a third of the slow-drip runs).
// A real client reconnects (rpc::Peer does), so the normal client may too, once per call.
constexpr int kAttemptsPerCall = 2;
constexpr Duration kCallDeadline = 8s;
constexpr Duration kRampUp = 500ms;
constexpr Duration kBetweenCalls = 100ms;
constexpr std::uint64_t kPingNonce = 7;

struct Outcome {
  int callsOk = 0;
  int retries = 0;  // calls that needed a second connection
  std::string error;
  std::uint64_t peakRssKib = 0;
};

using Attack = Task<void> (*)(Providers p, NetAddress server);

Task<bool> pingOnce(Providers p, NetAddress server, std::string* error) {
  auto connected = co_await rpc::RpcClient::connect(p.network(), server);
  if (!connected.ok()) {
    *error = "connect: " + connected.error().toString();
    co_return false;
  }
  std::unique_ptr<rpc::RpcClient> client = std::move(connected).value();
  auto request = client->bootstrap().castAs<rpc::schema::Hub>().pingRequest();
  request.setNonce(kPingNonce);
  try {
    auto answer = co_await awaitPromise(request.send());
    if (answer.getNonce() == kPingNonce) co_return true;
    *error = "the ping answered another nonce";
  } catch (const Exception& e) {
    *error = std::string("ping: ") + e.what();
  }
  co_return false;
}

Task<void> normalClient(Providers p, NetAddress server, NodeProcess* node, Outcome* out) {
  for (int i = 0; i < kNormalCalls; ++i) {
    bool answered = false;
    for (int attempt = 0; attempt < kAttemptsPerCall && !answered; ++attempt) {
      if (attempt > 0) ++out->retries;
      auto done =
          co_await whenAny(pingOnce(p, server, &out->error), p.time().sleep(kCallDeadline));
      out->peakRssKib = std::max(out->peakRssKib, node->rssKib());
      if (done.index() == 1) {
        out->error = "call " + std::to_string(i) + " missed its deadline";
        co_return;
      }
      answered = std::get<0>(done);
    }
    if (!answered) co_return;
    ++out->callsOk;
    co_await p.time().sleep(kBetweenCalls);
  }
}

Task<void> underAttack(Providers p, NetAddress server, Attack attack, NodeProcess* node,
                       Outcome* out) {
  JoinHandle<void> attacking = p.tasks().spawn("attack", attack(p, server));
  co_await p.time().sleep(kRampUp);
  out->peakRssKib = node->rssKib();
  co_await normalClient(p, server, node, out);
  out->peakRssKib = std::max(out->peakRssKib, node->rssKib());
  attacking.cancel();
}

// --- attacks (each runs until cancelled) ----------------------------------------------------

std::string firstWord(std::uint32_t segmentsMinusOne, std::uint32_t firstSegmentWords) {
  std::string word(8, '\0');
  for (int i = 0; i < 4; ++i) {
    word[i] = static_cast<char>(segmentsMinusOne >> (8 * i));
    word[4 + i] = static_cast<char>(firstSegmentWords >> (8 * i));
  }
  return word;
}

// Sends `bytes`, half-closes and reads until the server hangs up.
Task<void> sendAndDrain(Providers p, NetAddress server, std::string bytes) {
  auto connection = co_await p.network().connect(server);
  if (!connection.ok()) co_return;
  static_cast<void>(co_await (*connection)->writeAll(asBytes(bytes)));
  static_cast<void>((*connection)->shutdownWrite());
  std::byte buffer[256];
  for (;;) {
    IoResult<std::size_t> got = co_await (*connection)->read(buffer);
    if (!got.ok() || *got == 0) co_return;
  }
}

Task<void> garbage(Providers p, NetAddress server) {
  RandomStream random(deriveSeed(1, "garbage"));
  for (;;) {
    co_await sendAndDrain(p, server, "GET / HTTP/1.1\r\nHost: kv\r\n\r\n");
    std::string noise(512, '\0');
    for (char& c : noise) c = static_cast<char>(random.next());
    co_await sendAndDrain(p, server, std::move(noise));
  }
}

Task<void> oversizedHeaders(Providers p, NetAddress server) {
  for (;;) {
    // Past Cap'n Proto's traversal limit, then past the per-connection cap.
    co_await sendAndDrain(p, server, firstWord(0, 0x7fff'ffff));
    co_await sendAndDrain(p, server, firstWord(0, kIncomingBytesMax / 8 + 1024));
  }
}

// One connection declaring a message just under the per-connection cap and sending all of
// it but its last word; reconnects whenever the server closes it.
Task<void> unfinishedBody(Providers p, NetAddress server) {
  const std::size_t words = kIncomingBytesMax / 8 - 512;
  const std::string body((words - 1) * 8, 'x');
  for (;;) {
    auto connection = co_await p.network().connect(server);
    if (!connection.ok()) co_return;
    IoResult<void> sent = co_await (*connection)->writeAll(asBytes(firstWord(0, words) + body));
    std::byte buffer[64];
    if (sent.ok()) static_cast<void>(co_await (*connection)->read(buffer));  // until closed
  }
}

Task<void> unfinishedBodies(Providers p, NetAddress server) {
  std::vector<Task<void>> senders;
  for (int i = 0; i < 12; ++i) senders.push_back(unfinishedBody(p, server));
  co_await whenAll(std::move(senders));
}

// Connects and holds the connection without sending anything, forever.
Task<void> idleConnection(Providers p, NetAddress server) {
  auto connection = co_await p.network().connect(server);
  if (!connection.ok()) co_return;
  std::byte buffer[64];
  static_cast<void>(co_await (*connection)->read(buffer));  // until the server closes it
  co_await p.time().sleep(24h);
}

Task<void> flood(Providers p, NetAddress server) {
  std::vector<Task<void>> idle;
  for (int i = 0; i < 4 * kConnectionsMax; ++i) idle.push_back(idleConnection(p, server));
  co_await whenAll(std::move(idle));
}

// One byte every 100 ms of a message that would take minutes; reconnects when closed.
Task<void> dripper(Providers p, NetAddress server) {
  const std::string message = firstWord(0, 64) + std::string(64 * 8, 'd');
  for (;;) {
    auto connection = co_await p.network().connect(server);
    if (!connection.ok()) co_return;
    for (char byte : message) {
      IoResult<void> sent = co_await (*connection)->writeAll(asBytes(std::string(1, byte)));
      if (!sent.ok()) break;
      co_await p.time().sleep(100ms);
    }
  }
}

Task<void> slowDrip(Providers p, NetAddress server) {
  std::vector<Task<void>> drips;
  for (int i = 0; i < 100; ++i) drips.push_back(dripper(p, server));
  co_await whenAll(std::move(drips));
}

// Raw sockets, closed when the attack task is destroyed.
class HeldSockets {
 public:
  HeldSockets() = default;
  HeldSockets(const HeldSockets&) = delete;
  HeldSockets& operator=(const HeldSockets&) = delete;
  ~HeldSockets() {
    for (int fd : fds_) ::close(fd);
  }
  // A non-blocking connect to `server`; the kernel completes it in the background.
  void open(NetAddress server) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server.port);
    address.sin_addr.s_addr = htonl(server.ip.value());
    static_cast<void>(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address));
    fds_.push_back(fd);
  }

 private:
  std::vector<int> fds_;
};

// Opens idle connections a little apart (a burst would only fill the listen backlog and
// wait out SYN retries) and holds every one, until the server runs out of descriptors.
Task<void> descriptorFlood(Providers p, NetAddress server) {
  HeldSockets held;
  for (int i = 0; i < 60; ++i) {
    held.open(server);
    co_await p.time().sleep(2ms);
  }
  co_await p.time().sleep(24h);
}


// A burst of connects through RealNetworkProvider, all started before the server runs: each
// connect's wait and whether it got through.
struct Burst {
  int established = 0;
  Duration slowest{0};
  std::string error;  // the first failed connect's
};

Task<void> burstConnect(Providers p, NetAddress server, Burst* burst,
                        std::vector<std::unique_ptr<Connection>>* held) {
  const TimePoint start = p.time().now();
  auto connection = co_await p.network().connect(server);
  burst->slowest = std::max(burst->slowest, p.time().now() - start);
  if (!connection.ok()) {
    if (burst->error.empty()) burst->error = connection.error().toString();
    co_return;
  }
  ++burst->established;
  held->push_back(std::move(*connection));
}

Task<void> connectBurst(Providers p, NetAddress server, int connects, Burst* burst) {
  std::vector<std::unique_ptr<Connection>> held;
  std::vector<Task<void>> all;
  for (int i = 0; i < connects; ++i) all.push_back(burstConnect(p, server, burst, &held));
  co_await whenAll(std::move(all));
}

// --- the suite ------------------------------------------------------------------------------

class RpcAttackTest : public ::testing::Test {
 protected:
  void startNode(std::optional<std::uint64_t> descriptorsMax = std::nullopt,
                 int connectionsMax = kConnectionsMax) {
    const char* test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = test_support::freshWorkDir(RPC_ATTACK_WORK_ROOT, test);
    port_ = rpc_testing::freePort();
    const std::string peers = "127.0.0.1:" + std::to_string(rpc_testing::freePort()) +
                              ",127.0.0.1:" + std::to_string(rpc_testing::freePort());
    node_.emplace(NodeProcess::Options{
        .binary = KV_NODE,
        .args = {"--id=2", "--port=" + std::to_string(port_), "--peers=" + peers,
                 "--data_dir=" + dir_ + "/data",
                 "--connections_max=" + std::to_string(connectionsMax),
                 "--incoming_bytes_max=" + std::to_string(kIncomingBytesMax),
                 "--budget_bytes_max=" + std::to_string(kBudgetBytesMax),
                 "--first_message_timeout_ms=" + std::to_string(kFirstMessageTimeoutMs),
                 "--idle_timeout_ms=5000"},
        .logPath = dir_ + "/node.log",
        .descriptorsMax = descriptorsMax});
    ASSERT_TRUE(node_->waitUntilListening(port_, 5000ms)) << node_->log();
    baselineKib_ = node_->rssKib();
  }

  Outcome attack(Attack how) {
    RealRuntime runtime(RealRuntimeOptions{.storageRoot = dir_ + "/client"});
    Outcome outcome;
    const NetAddress server{kLoopbackIp, port_};
    RunOutcome run =
        runtime.run(underAttack(runtime.providers(), server, how, &*node_, &outcome));
    EXPECT_TRUE(run.ok()) << run.message;
    return outcome;
  }

  // What every attack must leave true; `reason` is text the server's log must hold.
  void expectSurvived(const Outcome& outcome, const std::string& reason) {
    EXPECT_TRUE(node_->alive()) << node_->log();
    EXPECT_EQ(outcome.callsOk, kNormalCalls) << outcome.error;
    EXPECT_LE(outcome.peakRssKib,
              baselineKib_ + (kBudgetBytesMax / 1024 + kRssMarginKib) * kSanitizerRssFactor)
        << "baseline " << baselineKib_ << " KiB";
    EXPECT_TRUE(node_->waitForLog(reason, 3000ms)) << "no '" << reason << "' in\n"
                                                   << node_->log().substr(0, 4000);
    RecordProperty("baseline_rss_kib", std::to_string(baselineKib_));
    RecordProperty("peak_rss_kib", std::to_string(outcome.peakRssKib));
    RecordProperty("normal_client_retries", std::to_string(outcome.retries));
  }

  std::string dir_;
  std::uint16_t port_ = 0;
  std::optional<NodeProcess> node_;
  std::uint64_t baselineKib_ = 0;
};

TEST_F(RpcAttackTest, Garbage) {
  startNode();
  expectSurvived(attack(garbage), "protocol error");
}

TEST_F(RpcAttackTest, OversizedHeaders) {
  startNode();
  const Outcome outcome = attack(oversizedHeaders);
  expectSurvived(outcome, "over incomingBytesMax");
  EXPECT_TRUE(node_->waitForLog("too large", 1000ms)) << node_->log().substr(0, 4000);
}

TEST_F(RpcAttackTest, NeverFinishedBodiesOnManyConnections) {
  startNode();
  expectSurvived(attack(unfinishedBodies), "shared budget");
}

TEST_F(RpcAttackTest, ConnectionFloodBeyondTheLimit) {
  startNode();
  expectSurvived(attack(flood), "evicted to admit a new connection");
}

TEST_F(RpcAttackTest, SlowDripConnections) {
  startNode();
  expectSurvived(attack(slowDrip), "limit: ");
}

// RealNetworkProvider's connects stalled at 16 established when many started at once: the
// kernel completes connections up to the listen backlog (kv_node asked for 16) before the
// server accepts any, and drops the SYNs beyond it, so those clients wait out the SYN
// retry (1 s). Raw non-blocking sockets did not wait for it, so nobody saw. kv_node's
// backlog now holds a burst far larger than this one.
TEST_F(RpcAttackTest, ABurstOfConnectsIsNotHeldBySynRetries) {
  constexpr int kBurst = 60;
  constexpr Duration kSynRetry = 1s;  // the kernel's first SYN retransmission
  // Slots for every one: admission evicting unproven connections is not under test here.
  startNode(/*descriptorsMax=*/std::nullopt, /*connectionsMax=*/1000);
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = dir_ + "/client"});
  Burst burst;
  RunOutcome run = runtime.run(
      connectBurst(runtime.providers(), NetAddress{kLoopbackIp, port_}, kBurst, &burst));
  ASSERT_TRUE(run.ok()) << run.message;
  EXPECT_EQ(burst.established, kBurst) << burst.error;
  EXPECT_LT(burst.slowest, kSynRetry / 2) << "a connect waited for a SYN retry";
  EXPECT_TRUE(node_->alive()) << node_->log();
}

TEST_F(RpcAttackTest, DescriptorExhaustionUnderALowUlimit) {
#ifdef MOONPOOL_ATTACK_UNDER_ASAN
  // The sanitizer runtime checks that memory is readable with a pipe(2); with no descriptor
  // left that fails, and UBSan's vptr check then reports a valid object as having an invalid
  // vptr ("memory cannot be printed") and aborts the node. Sanitizers cannot watch a process
  // at the limit this test is about; the dev build runs it.
  GTEST_SKIP() << "the sanitizer runtime needs free descriptors (pipe-based memory checks)";
#endif
  // Room for the node's own files and a few connections; slots are not the bound here.
  startNode(/*descriptorsMax=*/40, /*connectionsMax=*/1000);
  expectSurvived(attack(descriptorFlood), "Too many open files");
}

}  // namespace
}  // namespace moonpool
