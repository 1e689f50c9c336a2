// The KV store's simulation harness (see kv_sim.h).
#include "kv_sim.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "codec.h"
#include "moonpool/assertions/report.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/assertions/table.h"

namespace moonpool::kv {
namespace {

using namespace std::chrono_literals;

constexpr Duration kClientDrainPoll = 100ms;
constexpr std::size_t kReasonViolationsMax = 5;

IpAddress serverIp(std::uint32_t id) {
  return IpAddress::fromOctets(10, 0, 1, static_cast<std::uint8_t>(id));
}
IpAddress clientIp(std::size_t index) {
  return IpAddress::fromOctets(10, 0, 2, static_cast<std::uint8_t>(index + 1));
}

// Server events go to the Timeline's trace (kept only when tracing is on).
class TimelineSink final : public EventSink {
 public:
  explicit TimelineSink(Timeline& timeline) : timeline_(timeline) {}

  // implements EventSink
  void note(std::string_view who, std::string_view kind, const std::string& detail) override {
    if (timeline_.tracing()) timeline_.trace(kind, std::string(who), detail);
  }

 private:
  Timeline& timeline_;
};

WorldOptions worldOptions(std::uint64_t seed, KvSimOptions::Chaos chaos) {
  if (chaos == KvSimOptions::Chaos::kOff) return WorldOptions::quiet();
  WorldOptions options;
  // Configuration draws come from a derived stream: the counted main stream is untouched.
  RandomStream swarm(deriveSeed(seed, "swarm"));
  options.network = NetworkOptions::chaotic(swarm).swarm(swarm);
  options.storage = StorageOptions::chaotic(swarm).swarm(swarm);
  return options;
}

struct Harness {
  SimWorld* world = nullptr;
  KvSimOptions options;
  NetAddress primary;
  std::vector<IpAddress> ips;
  std::vector<ClientLedger>* ledgers = nullptr;
  std::vector<std::string> violations;
};

bool clientsRunning(const Harness& h) {
  for (const ClientLedger& ledger : *h.ledgers) {
    if (ledger.state == ClientLedger::State::kRunning) return true;
  }
  return false;
}

Task<void> drive(Harness* h) {
  SimWorld& world = *h->world;
  Providers root = world.rootProviders();
  TimeProvider& time = root.time();
  const TimePoint chaosEnd = time.now() + h->options.chaosFor;
  if (h->options.chaos == KvSimOptions::Chaos::kOn) {
    co_await whenAll(world.attrition(AttritionOptions{}, chaosEnd),
                     world.network().chaos(h->ips, chaosEnd));
  } else {
    co_await time.sleepUntil(chaosEnd);
  }
  // No new episodes or reboots from here (attrition and chaos() returned); the network's and
  // the disks' per-operation faults stop too, so settle and check run quiet.
  world.network().setFaults(NetworkOptions::Faults{});
  for (std::uint32_t id = 1; id <= kServers; ++id) {
    StorageOptions disk = world.storage().options(serverName(id));
    disk.faults = StorageOptions::Faults{};
    world.storage().setOptions(serverName(id), disk);
  }
  co_await world.allRunning();
  const TimePoint drainEnd = time.now() + h->options.checkLimit;
  while (clientsRunning(*h) && time.now() < drainEnd) co_await time.sleep(kClientDrainPoll);
  if (clientsRunning(*h)) h->violations.push_back("a client was still running after the drain");
  co_await time.sleep(h->options.settleFor);
  for (const ClientLedger& ledger : *h->ledgers) {
    std::vector<std::string> found = co_await verifyLedger(root, h->primary, &ledger,
                                                           h->options.checkLimit, 1s);
    h->violations.insert(h->violations.end(), found.begin(), found.end());
  }
}

std::uint64_t hashTimeline(const Timeline& timeline) {
  std::uint64_t hash = kEmptyLogHash;
  for (const TimelineEvent& event : timeline.events()) {
    hash = chainHash(hash, byteView(event.toString()));
  }
  return hash;
}

void addProcesses(SimWorld& world, const KvSimOptions& options, EventSink* events,
                  KvCounters* counters, std::vector<ClientLedger>& ledgers) {
  for (std::uint32_t id = 1; id <= kServers; ++id) {
    world.addProcess(ProcessSpec{.name = serverName(id), .ip = serverIp(id),
                                 .main = bindTask(runServerProcess,
                                                  simServerConfig(id, events, counters))});
  }
  for (std::size_t i = 0; i < options.clients; ++i) {
    ClientConfig client{.clientId = static_cast<std::uint32_t>(i + 1),
                        .primary = simServerAddress(kPrimaryId),
                        .keys = options.keysPerClient,
                        .think = options.think,
                        .runFor = options.chaosFor,
                        .events = events,
                        .counters = counters};
    world.addProcess(ProcessSpec{.name = "client-" + std::to_string(i + 1), .ip = clientIp(i),
                                 .main = bindTask(runClientProcess, client, &ledgers[i]),
                                 .reboot = ProcessSpec::Reboot::kNever});
  }
}

void judge(KvSeedResult& result, const Harness& harness) {
  std::vector<std::string> problems;
  if (!result.run.ok()) problems.push_back(result.run.message);
  if (result.assertionFailures > 0) {
    // The table's counts span every seed run so far in this process: the invariant sites
    // that ever failed are listed (when earlier seeds passed, it was this one).
    std::string sites;
    for (const SiteResult& site : collectAssertionReport().sites) {
      if (site.status != SiteStatus::kFail) continue;
      absl::StrAppend(&sites, "\n  ", site.file, ":", site.line, " '", site.message, "'");
    }
    problems.push_back(absl::StrCat(result.assertionFailures,
                                    " assertion failure(s); failing sites:", sites));
  }
  problems.insert(problems.end(), harness.violations.begin(), harness.violations.end());
  result.verdict = problems.empty() ? KvSeedResult::Verdict::kPass : KvSeedResult::Verdict::kFail;
  for (std::size_t i = 0; i < problems.size() && i < kReasonViolationsMax; ++i) {
    absl::StrAppend(&result.reason, i == 0 ? "" : "\n", problems[i]);
  }
  if (problems.size() > kReasonViolationsMax) {
    absl::StrAppend(&result.reason, "\n... and ", problems.size() - kReasonViolationsMax, " more");
  }
}

}  // namespace

NetAddress simServerAddress(std::uint32_t id) { return NetAddress{serverIp(id), kDefaultPort}; }

ServerConfig simServerConfig(std::uint32_t id, EventSink* events, KvCounters* counters) {
  ServerConfig config{.id = id, .events = events, .counters = counters};
  for (std::uint32_t i = 1; i <= kServers; ++i) config.servers[i - 1] = simServerAddress(i);
  return config;
}

Task<void> runServerProcess(ProcessContext& context, ServerConfig config) {
  // A graceful shutdown ends the server at once: everything it acknowledged is durable.
  co_await whenAny(runServer(context.providers(), std::move(config)),
                   context.shutdownRequested().wait());
}

Task<void> runClientProcess(ProcessContext& context, ClientConfig config, ClientLedger* ledger) {
  co_await runClient(context.providers(), std::move(config), ledger);
}

KvSeedResult runKvSeed(std::uint64_t seed, KvSimOptions options) {
  MOONPOOL_CHECK(options.clients >= 1 && options.clients <= KvSimOptions::kClientsMax,
                 "KvSimOptions::clients out of range");
  resetRunViolations();
  KvSeedResult result;
  result.seed = seed;
  Simulation sim(SimOptions{.seed = seed});
  // Cap'n Proto's event loop on simulated time: created before and destroyed after the
  // world, whose processes hold KJ objects (moonpool/kj/sim_kj_loop.h).
  SimKjLoop kj(sim.executor());
  WorldOptions world = worldOptions(seed, options.chaos);
  result.configuration = world.network.toString() + "\n" + world.storage.toString();
  SimWorld simWorld(sim, std::move(world));
  simWorld.timeline().setTracing(options.trace == KvSimOptions::Trace::kOn);
  TimelineSink sink(simWorld.timeline());
  std::vector<ClientLedger> ledgers(options.clients);
  addProcesses(simWorld, options, &sink, &result.counters, ledgers);

  Harness harness;
  harness.world = &simWorld;
  harness.options = options;
  harness.primary = simServerAddress(kPrimaryId);
  harness.ledgers = &ledgers;
  for (const ProcessInfo& info : simWorld.processes()) harness.ips.push_back(info.ip);
  result.run = sim.run(drive(&harness));
  result.assertionFailures = runViolationCount();
  result.faults = simWorld.timeline().faultsTotal();
  result.faultCounts = simWorld.timeline().faultCounts();
  if (options.trace == KvSimOptions::Trace::kOn) {
    for (const TimelineEvent& event : simWorld.timeline().events()) {
      result.events.push_back(event.toString());
    }
  }
  result.timelineHash = hashTimeline(simWorld.timeline());
  for (const ClientLedger& ledger : ledgers) {
    result.putsAcked += ledger.putsAcked;
    result.getsChecked += ledger.getsChecked;
  }
  judge(result, harness);
  return result;
}

}  // namespace moonpool::kv

// ---- the KV store on the standard runner ---------------------------------------------------

namespace moonpool::kv {
namespace {

// The counters every process of a seed adds to. The builder fixes the pointer once; the
// seed host zeroes it at the start of each seed: a process runs its seeds one at a time, and
// workers and explored timelines are forks with their own copy.
using SharedCounters = std::shared_ptr<KvCounters>;

std::uint32_t serverIdOf(const std::string& processName) {
  // The runner names the group's processes "kv-1".."kv-3", as serverName() does.
  for (std::uint32_t id = 1; id <= kServers; ++id) {
    if (processName == serverName(id)) return id;
  }
  MOONPOOL_CHECK(false, "a KV server process named '" + processName + "'");
  return 0;
}

struct KvServerMain {
  KvCounters* counters;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& context) const {
    return runServerProcess(context, simServerConfig(serverIdOf(context.name()), nullptr,
                                                     counters));
  }
};

Task<void> runWorkloadClient(WorkloadContext& ctx, KvSimOptions options, KvCounters* counters) {
  ClientConfig client{.clientId = static_cast<std::uint32_t>(ctx.instance() + 1),
                      .primary = simServerAddress(kPrimaryId),
                      .keys = options.keysPerClient,
                      .think = options.think,
                      .runFor = options.chaosFor,
                      .events = nullptr,
                      .counters = counters};
  co_await runClient(ctx.providers(), client, &ctx.state<ClientLedger>());
}

void reportCounters(WorkloadContext& ctx, const KvCounters& c) {
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"client request timeouts", c.requestTimeouts},
      {"client maybe delivered", c.maybeDelivered},
      {"client failed fast", c.failFast},
      {"rpc reconnects", c.reconnects},
      {"rpc resends", c.resends},
      {"rpc peers marked failed", c.peerFailures},
      {"rpc peers recovered", c.peerRecoveries},
      {"rpc call timeouts", c.callTimeouts},
      {"rpc calls failed fast", c.callsFailedFast},
      {"rpc connections lost under a call", c.connectionsLost},
      {"rpc corrupt frames", c.corruptFrames},
      {"store log tails cut", c.logTruncations},
      {"store primary recoveries", c.recoveries},
      {"store entries fetched", c.entriesFetched},
      {"store backup catch-ups", c.backupCatchUps},
      {"store entries copied between backups", c.peerCopies},
      {"store local restarts", c.localRestarts},
      {"store duplicate puts", c.duplicatePuts},
  };
  for (const auto& [name, value] : counters) {
    ctx.addMetric(name, static_cast<std::int64_t>(value));
  }
}

Task<CheckResult> checkWorkloadClient(WorkloadContext& ctx, KvSimOptions options,
                                      KvCounters* counters) {
  const ClientLedger& ledger = ctx.state<ClientLedger>();
  CheckResult result{.violations = ledger.violations};
  const std::vector<std::string> found = co_await verifyLedger(
      ctx.providers(), simServerAddress(kPrimaryId), &ledger, options.checkLimit, 1s);
  result.violations.insert(result.violations.end(), found.begin(), found.end());
  ctx.addMetric("puts acked", static_cast<std::int64_t>(ledger.putsAcked));
  ctx.addMetric("gets checked", static_cast<std::int64_t>(ledger.getsChecked));
  // The counters are the seed's, not the instance's: one instance reports them.
  if (ctx.instance() == 0) reportCounters(ctx, *counters);
  co_return result;
}

struct KvClientRun {
  KvSimOptions options;
  KvCounters* counters;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return runWorkloadClient(ctx, options, counters);
  }
};

struct KvClientCheck {
  KvSimOptions options;
  KvCounters* counters;
  [[clang::coro_wrapper]] Task<CheckResult> operator()(WorkloadContext& ctx) const {
    return checkWorkloadClient(ctx, options, counters);
  }
};

ChaosOptions kvChaos(KvSimOptions::Chaos chaos) {
  if (chaos == KvSimOptions::Chaos::kOff) {
    const WorldOptions quiet = WorldOptions::quiet();
    return ChaosOptions{.clock = quiet.clock, .graceful = quiet.graceful};
  }
  // What runKvSeed runs: swarm network and storage, attrition, buggify on.
  return ChaosOptions{.network = FaultProfile::kSwarm,
                      .storage = FaultProfile::kSwarm,
                      .attrition = Attrition::kOn,
                      .attritionOptions = AttritionOptions{},
                      .buggify = BuggifyOptions{}};
}

}  // namespace

explorer::Config kvExploration() {
  explorer::Config config;
  config.energyPerSeed = 48;
  config.depthMax = 8;
  config.adaptive = explorer::AdaptiveEnergy{
      .batch = 4, .timelinesMin = 8, .timelinesMax = 16, .perMarkEnergy = 16};
  return config;
}

SimulationBuilder kvBuilder(KvSimOptions options) {
  MOONPOOL_CHECK(options.clients >= 1 && options.clients <= KvSimOptions::kClientsMax,
                 "KvSimOptions::clients out of range");
  const SharedCounters counters = std::make_shared<KvCounters>();
  SimulationBuilder builder("kv");
  // Cap'n Proto's event loop on simulated time, before and after the world's processes.
  builder.externalLoop([counters](SimExecutor& executor) -> std::unique_ptr<ExternalLoop> {
    *counters = KvCounters{};  // each seed counts from zero
    return SimKjLoop::make(executor);
  });
  builder.processes(kServers, "kv", KvServerMain{counters.get()})
      .workload(Workload{.name = "client",
                         .run = KvClientRun{options, counters.get()},
                         .check = KvClientCheck{options, counters.get()},
                         .instances = options.clients})
      .chaos(kvChaos(options.chaos))
      .chaosDuration(options.chaosFor)
      .settleDuration(options.settleFor)
      .exploreOnRequest(kvExploration());
  // `counters` lives as long as the loop factory's copies: as long as any copy of the builder.
  return builder;
}

}  // namespace moonpool::kv
