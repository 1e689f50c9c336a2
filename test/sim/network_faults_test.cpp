// Goal: every simulated network fault fires when enabled and has the effect an application
// would see (delay, stall, timeout, reset, end of stream, short I/O, flipped bits), is
// logged to the timeline, and replays identically for the same seed; a quiet network makes
// no random draws at all.
// Method: a world with one echo process at 10.0.1.1 and a driver on the root providers
// (10.0.0.254); one fault family switched on per test, usually with probability 1.
#include <gtest/gtest.h>

#include "world_testing.h"

namespace moonpool {
namespace {

using namespace world_testing;
using namespace std::chrono_literals;

constexpr std::uint16_t kPort = 7000;
constexpr IpAddress kRoot = IpAddress::fromOctets(10, 0, 0, 254);

Task<void> echoConnection(std::unique_ptr<Connection> connection) {
  std::byte buffer[512];
  for (;;) {
    IoResult<std::size_t> got = co_await connection->read(buffer);
    if (!got.ok() || *got == 0) co_return;
    if (!(co_await connection->writeAll(std::span(buffer, *got))).ok()) co_return;
  }
}

Task<void> echoServer(ProcessContext& context) {
  auto listener =
      context.providers().network().listen(NetAddress{IpAddress(), kPort}, 16).orThrow();
  for (;;) {
    auto connection = (co_await listener->accept()).orThrow();
    context.providers().tasks().spawn("echo", echoConnection(std::move(connection))).detach();
  }
}

struct World {
  explicit World(NetworkOptions network, std::uint64_t seed = 11) : sim(SimOptions{.seed = seed}) {
    WorldOptions options = WorldOptions::quiet();
    options.network = std::move(network);
    world = std::make_unique<SimWorld>(sim, options);
    world->addProcess(ProcessSpec{.name = "echo", .main = echoServer});
  }
  std::uint64_t faults(std::string_view kind) const {
    auto it = world->timeline().faultCounts().find(kind);
    return it == world->timeline().faultCounts().end() ? 0 : it->second;
  }
  Simulation sim;
  std::unique_ptr<SimWorld> world;
};

// Sends `message`, reads the same number of bytes back; returns the bytes and the time the
// round trip took.
Task<std::pair<std::string, Duration>> roundTrip(SimWorld* world, std::string message) {
  Providers p = world->rootProviders();
  auto connection = (co_await p.network().connect(NetAddress{kIp1, kPort})).orThrow();
  const TimePoint start = p.time().now();
  IoResult<void> sent = co_await connection->writeAll(asBytes(message));
  if (!sent.ok()) co_return std::pair(sent.error().toString(), p.time().now() - start);
  std::string back(message.size(), '\0');
  auto bytes = std::as_writable_bytes(std::span(back));
  IoResult<void> read = co_await connection->readExactly(bytes);
  if (!read.ok()) co_return std::pair(read.error().toString(), p.time().now() - start);
  co_return std::pair(back, p.time().now() - start);
}

Task<void> store(SimWorld* world, std::string message, std::pair<std::string, Duration>* out) {
  *out = co_await roundTrip(world, std::move(message));
}

TEST(NetworkFaults, ClogDelaysDeliveryUntilItEnds) {
  World w(NetworkOptions::quiet());
  w.world->network().clog(kRoot, kIp1, 2s);
  std::pair<std::string, Duration> out;
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "clogged", &out)).ok());
  EXPECT_EQ(out.first, "clogged");
  EXPECT_GE(out.second, 1900ms);  // the clog began before the connect's own latency
  EXPECT_EQ(w.faults("net.clog"), 1u);
}

TEST(NetworkFaults, RandomClogsOnWritesDelayTraffic) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.clogProbability = Probability{1.0};
  options.faults.clog = {300ms, 301ms};
  World w(options);
  std::pair<std::string, Duration> out;
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "slow", &out)).ok());
  EXPECT_EQ(out.first, "slow");
  EXPECT_GE(out.second, 600ms);  // clogged on the way there and on the way back
  EXPECT_GE(w.faults("net.clog"), 2u);
}

Task<void> partitionThenHeal(SimWorld* world, std::string* got, IoErrorKind* connectKind,
                             Duration* connectTook) {
  Providers p = world->rootProviders();
  auto connection = (co_await p.network().connect(NetAddress{kIp1, kPort})).orThrow();
  world->network().partition(kRoot, kIp1);
  (co_await connection->writeAll(asBytes("held"))).orThrow();
  // Nothing arrives while partitioned.
  std::byte buffer[4];
  auto early = co_await tryWithin(p.time(), 3s, connection->read(buffer));
  EXPECT_FALSE(early.has_value());
  // A new connection across the partition times out.
  const TimePoint start = p.time().now();
  auto across = co_await p.network().connect(NetAddress{kIp1, kPort});
  *connectTook = p.time().now() - start;
  *connectKind = across.ok() ? IoErrorKind::kIo : across.error().kind;
  world->network().heal(kRoot, kIp1);
  (co_await connection->readExactly(buffer)).orThrow();
  *got = text(buffer);
}

TEST(NetworkFaults, PartitionStallsTrafficAndTimesOutConnectsUntilHealed) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.partitionResetProbability = Probability{0};
  World w(options);
  std::string got;
  IoErrorKind kind = IoErrorKind::kIo;
  Duration took{0};
  RunOutcome outcome = w.sim.run(partitionThenHeal(w.world.get(), &got, &kind, &took));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(got, "held");
  EXPECT_EQ(kind, IoErrorKind::kTimedOut);
  EXPECT_GE(took, options.connectTimeout);
  EXPECT_EQ(w.faults("net.partition"), 1u);
  EXPECT_EQ(w.faults("net.heal"), 1u);
}

Task<void> partitionResets(SimWorld* world, std::string* got) {
  Providers p = world->rootProviders();
  auto connection = (co_await p.network().connect(NetAddress{kIp1, kPort})).orThrow();
  world->network().partitionBoth(kRoot, kIp1);
  *got = co_await readAll(*connection);
}

TEST(NetworkFaults, PartitionMayResetConnectionsCrossingIt) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.partitionResetProbability = Probability{1.0};
  World w(options);
  std::string got;
  ASSERT_TRUE(w.sim.run(partitionResets(w.world.get(), &got)).ok());
  EXPECT_NE(got.find("partition"), std::string::npos) << got;
  EXPECT_EQ(w.faults("net.partition_reset"), 1u);
}

TEST(NetworkFaults, RandomCloseEndsTheConnectionVisibly) {
  for (double resetShare : {0.0, 1.0}) {
    NetworkOptions options = NetworkOptions::quiet();
    options.faults.randomCloseProbability = Probability{1.0};
    options.faults.resetShare = Probability{resetShare};
    World w(options);
    std::pair<std::string, Duration> out;
    ASSERT_TRUE(w.sim.run(store(w.world.get(), "doomed", &out)).ok());
    if (resetShare == 0.0) {
      // Graceful: the write is refused (the sending side is shut) or the reader sees the end.
      EXPECT_NE(out.first, "doomed");
      EXPECT_GE(w.faults("net.random_close"), 1u);
    } else {
      EXPECT_NE(out.first.find("reset"), std::string::npos) << out.first;
      EXPECT_GE(w.faults("net.random_reset"), 1u);
    }
  }
}

Task<void> connectOnce(SimWorld* world, IoError* error, Duration* took) {
  Providers p = world->rootProviders();
  const TimePoint start = p.time().now();
  auto result = co_await p.network().connect(NetAddress{kIp1, kPort});
  *took = p.time().now() - start;
  if (!result.ok()) *error = result.error();
}

TEST(NetworkFaults, ConnectRefusalsAndHangsAreInjected) {
  {
    NetworkOptions options = NetworkOptions::quiet();
    options.faults.connectRefuseProbability = Probability{1.0};
    World w(options);
    IoError error;
    Duration took{0};
    ASSERT_TRUE(w.sim.run(connectOnce(w.world.get(), &error, &took)).ok());
    EXPECT_EQ(error.kind, IoErrorKind::kRefused);
    EXPECT_EQ(w.faults("net.connect_refused"), 1u);
  }
  {
    NetworkOptions options = NetworkOptions::quiet();
    options.faults.connectHangProbability = Probability{1.0};
    World w(options);
    IoError error;
    Duration took{0};
    ASSERT_TRUE(w.sim.run(connectOnce(w.world.get(), &error, &took)).ok());
    EXPECT_EQ(error.kind, IoErrorKind::kTimedOut);
    EXPECT_GE(took, options.connectTimeout);
    EXPECT_EQ(w.faults("net.connect_hang"), 1u);
  }
}

Task<void> shortIo(SimWorld* world, std::size_t* reads, std::size_t* writes, bool* intact) {
  Providers p = world->rootProviders();
  auto listener = p.network().listen(NetAddress{IpAddress(), 91}, 1).orThrow();
  auto a = (co_await p.network().connect(listener->localAddress())).orThrow();
  auto b = (co_await listener->accept()).orThrow();
  std::string message(4000, 'x');
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + i % 26);
  std::size_t sent = 0;
  while (sent < message.size()) {
    auto piece = asBytes(message).subspan(sent);
    sent += (co_await a->write(std::span(&piece, 1))).orThrow();
    ++*writes;
  }
  a->shutdownWrite().orThrow();
  std::string got;
  std::byte buffer[4000];
  for (;;) {
    std::size_t n = (co_await b->read(buffer)).orThrow();
    if (n == 0) break;
    ++*reads;
    got += text(std::span(buffer, n));
  }
  *intact = got == message;
}

TEST(NetworkFaults, PartialReadsAndWritesMoveFewerBytesButNeverZero) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.partialIoProbability = Probability{1.0};
  World w(options);
  std::size_t reads = 0, writes = 0;
  bool intact = false;
  ASSERT_TRUE(w.sim.run(shortIo(w.world.get(), &reads, &writes, &intact)).ok());
  EXPECT_TRUE(intact);
  EXPECT_GT(writes, 1u);
  EXPECT_GT(reads, writes);  // reads are split further than the chunks written
}

TEST(NetworkFaults, BitFlipsCorruptDeliveredBytes) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.bitFlipProbability = Probability{1.0};
  World w(options);
  std::pair<std::string, Duration> out;
  const std::string message(256, 'A');
  ASSERT_TRUE(w.sim.run(store(w.world.get(), message, &out)).ok());
  ASSERT_EQ(out.first.size(), message.size());
  EXPECT_NE(out.first, message);
  EXPECT_GE(w.faults("net.bit_flip"), 2u);  // both directions
}

TEST(NetworkFaults, PairLatencyIsFixedPerPathForTheRun) {
  NetworkOptions options = NetworkOptions::quiet();
  options.pairLatencyMax = 500ms;
  World w(options);
  std::pair<std::string, Duration> first, second;
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "a", &first)).ok());
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "b", &second)).ok());
  EXPECT_EQ(first.second, second.second);
  EXPECT_GT(first.second, 1ms);
}

TEST(NetworkFaults, BimodalLatencyHitsTheSlowTail) {
  NetworkOptions options = NetworkOptions::quiet();
  options.latency = LatencyModel::bimodal(1us, 2us, {400ms, 500ms}, Probability(1.0));
  World w(options);
  std::pair<std::string, Duration> out;
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "tail", &out)).ok());
  EXPECT_GE(out.second, 800ms);
  EXPECT_LT(out.second, 1100ms);
}

Task<void> runChaos(SimWorld* world, std::vector<IpAddress> ips) {
  co_await world->network().chaos(std::move(ips), TimePoint(120s));
}

TEST(NetworkFaults, ChaosEpisodesPartitionClogAndSwizzleThenHealEverything) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.partitionWeight = 1;
  options.faults.interfaceClogWeight = 1;
  options.faults.swizzleWeight = 1;
  World w(options);
  ASSERT_TRUE(w.sim.run(runChaos(w.world.get(), {kIp1, kIp2, kIp3, kRoot})).ok());
  EXPECT_GE(w.faults("net.partition_episode"), 1u);
  EXPECT_GE(w.faults("net.clog_interface"), 1u);
  EXPECT_GE(w.faults("net.swizzle"), 1u);
  for (IpAddress a : {kIp1, kIp2, kIp3, kRoot}) {
    for (IpAddress b : {kIp1, kIp2, kIp3, kRoot}) {
      EXPECT_FALSE(w.world->network().partitioned(a, b));
    }
  }
}

std::vector<std::string> chaoticTimeline(std::uint64_t seed) {
  RandomStream config(seed);
  World w(NetworkOptions::chaotic(config), seed);
  std::pair<std::string, Duration> out;
  EXPECT_TRUE(w.sim.run(runChaos(w.world.get(), {kIp1, kRoot})).ok());
  for (int i = 0; i < 20; ++i) (void)w.sim.run(store(w.world.get(), std::string(100, 'z'), &out));
  std::vector<std::string> lines;
  for (const auto& event : w.world->timeline().events()) lines.push_back(event.toString());
  return lines;
}

TEST(NetworkFaults, SameSeedSameFaultTimeline) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto first = chaoticTimeline(seed);
    EXPECT_FALSE(first.empty());
    EXPECT_EQ(first, chaoticTimeline(seed)) << "seed " << seed;
  }
}

TEST(NetworkFaults, AQuietNetworkDrawsNoRandomness) {
  World w(NetworkOptions::quiet());
  const std::uint64_t before = w.sim.random().callCount();
  std::pair<std::string, Duration> out;
  ASSERT_TRUE(w.sim.run(store(w.world.get(), "quiet", &out)).ok());
  EXPECT_EQ(out.first, "quiet");
  EXPECT_EQ(w.sim.random().callCount(), before);
}

}  // namespace
}  // namespace moonpool
