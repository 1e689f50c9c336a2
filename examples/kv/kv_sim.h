// The KV store in the simulated world: one seed, start to verdict (examples/kv). The
// servers and clients talk Cap'n Proto RPC (kv_service.h) over the simulated network, the
// KJ event loop hosted by the simulator (moonpool/kj/sim_kj_loop.h).
//
//   KvSeedResult r = runKvSeed(42, KvSimOptions{});
//   if (r.verdict != KvSeedResult::Verdict::kPass) print(r.reason);
//
// One seed builds a Simulation and a SimWorld with three servers (kv-1..3 at 10.0.1.1..3)
// and `clients` client processes (Reboot::kNever, so attrition leaves them alone), then:
//   chaos   for `chaosFor`: clients run their workload while attrition reboots servers
//           (deadMax 1; graceful, crash and crash-and-wipe) and pauses them, and network
//           chaos episodes partition and clog; the per-operation faults of the swarm
//           network and storage configurations (below) are on;
//   settle  the network's and disks' fault rates are switched off, every process running
//           again (SimWorld::allRunning), clients finished, then `settleFor` of quiet;
//   check   every key of every client is read back from the primary: each acknowledged
//           write is there with at least its version and the value it was written with.
// The seed fails when the run does not complete (deadlock, livelock, a task failure), an
// assertion of the service fails (runViolationCount), a client saw a bad read, or the final
// check finds a problem.
//
// Chaos configuration: NetworkOptions::chaotic(...).swarm(...) and
// StorageOptions::chaotic(...).swarm(...), both drawn from RandomStream(deriveSeed(seed,
// "swarm")) — never from the counted main stream. Chaos::kOff gives a quiet network, fast
// fault-free disks, no clock drift and no buggify (for determinism tests and baselines).
//
// Uses the process-global assertion table: resets the run's violation count at the start
// (resetRunViolations); the per-site counts accumulate across seeds for reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client.h"
#include "moonpool/runner/builder.h"
#include "moonpool/sim/world.h"
#include "moonpool/run_outcome.h"
#include "observe.h"
#include "server.h"

namespace moonpool::kv {

// The defaults are what kv_chaos_test runs. Measured in a -O0 Debug build: one seed costs
// about 0.25 s of CPU (Cap'n Proto RPC between six peers that ping once a second; the
// hand-written frames this example used before cost 75 ms), with ~40 PUTs and ~40 GETs,
// ~4 primary recoveries and ~450 injected faults per seed.
struct KvSimOptions {
  enum class Chaos : std::uint8_t { kOff, kOn };
  enum class Trace : std::uint8_t { kOff, kOn };

  Chaos chaos = Chaos::kOn;
  // kOn: the Timeline keeps its trace lines (process boots, buggify activations, the
  // servers' notable events) and the result carries every event rendered (`events`).
  Trace trace = Trace::kOff;
  std::size_t clients = 2;
  Duration chaosFor = std::chrono::seconds(60);
  Duration settleFor = std::chrono::seconds(5);
  // Budget of the final check (reads retried until then), and of waiting for clients to
  // finish their last request after the chaos phase.
  Duration checkLimit = std::chrono::seconds(60);
  // Client workload (per client).
  std::size_t keysPerClient = 3;
  DurationRange think{std::chrono::milliseconds(300), std::chrono::milliseconds(1200)};

  static constexpr std::size_t kClientsMax = 32;
};

struct KvSeedResult {
  enum class Verdict : std::uint8_t { kPass, kFail };

  std::uint64_t seed = 0;
  Verdict verdict = Verdict::kFail;
  std::string reason;  // empty on a pass; the first problems otherwise
  RunOutcome run;      // status, decision hash, steps, end time
  std::uint64_t assertionFailures = 0;
  std::uint64_t faults = 0;        // fault events in the Timeline
  std::map<std::string, std::uint64_t, std::less<>> faultCounts;  // per kind
  std::uint64_t timelineHash = 0;  // over every stored Timeline event, in order
  KvCounters counters;
  std::uint64_t putsAcked = 0;
  std::uint64_t getsChecked = 0;
  std::string configuration;  // the network and storage options of this seed
  std::vector<std::string> events;  // every Timeline event, rendered (Trace::kOn only)

  bool passed() const { return verdict == Verdict::kPass; }
};

KvSeedResult runKvSeed(std::uint64_t seed, KvSimOptions options);

// The same system on the standard runner (runtime/runner): three server processes (kv-1..3
// at 10.0.1.1..3) and a "client" workload with `clients` instances, under full chaos (swarm
// network and storage, attrition, buggify) for `chaosFor`, then the runner's settle phase
// and `settleFor` of quiet; check() reads every key back (verifyLedger). Each seed gets its
// own Cap'n Proto event loop (SimulationBuilder::externalLoop). The workload reports the
// store's counters as metrics (KvCounters, one metric each, summed). --explore uses
// kvExploration(): a few dozen timelines per seed, each a few hundred milliseconds of CPU in
// a Debug build.
// The kv_sim binary (kv_sim_main.cpp) is this builder behind runMain.
SimulationBuilder kvBuilder(KvSimOptions options);
explorer::Config kvExploration();

// The building blocks runKvSeed uses, for tests that script their own world.
// Server `id`'s address in the simulated world (10.0.1.<id>, kDefaultPort).
NetAddress simServerAddress(std::uint32_t id);
// A ServerConfig for server `id` of the simulated cluster; `events` and `counters` may be
// null and must outlive the world.
ServerConfig simServerConfig(std::uint32_t id, EventSink* events, KvCounters* counters);
// Process mains: a server (until a graceful shutdown asks it to stop) and a client (its
// workload, then it exits; `ledger` outlives the world).
Task<void> runServerProcess(ProcessContext& context, ServerConfig config);
Task<void> runClientProcess(ProcessContext& context, ClientConfig config, ClientLedger* ledger);

}  // namespace moonpool::kv
