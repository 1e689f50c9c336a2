// The bank's processes (examples/bank), one code for the simulation (bank_sim.cpp) and for
// real processes (node_main.cpp, the bank_node binary): the registry (the actor directory
// and the accounts' state store), a member of the actor cluster (a bank host running Account
// and Transfer actors, or a client that only calls them), and the teller's operations and
// checks. Addresses are given: 10.0.1.N in the simulation, 127.0.0.1 and free ports for real
// processes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bank.h"
#include "moonpool/actors/cluster.h"
#include "moonpool/actors/runtime.h"
#include "moonpool/random.h"
#include "moonpool/providers.h"
#include "moonpool/rpc/host.h"

namespace bank {

struct BankOptions {
  static constexpr int kAccountsMax = 64;
  int accounts = 4;
  // kNone: the deliberately broken directory (no leases), which the ALWAYS must catch.
  moonpool::actors::Fencing fencing = moonpool::actors::Fencing::kLeases;
  enum class Chaos : std::uint8_t { kOff, kFull };
  Chaos chaos = Chaos::kFull;
  moonpool::Duration chaosFor = std::chrono::seconds(6);
  moonpool::Duration settleFor = std::chrono::seconds(2);
  // With full chaos, the probability that a seed also reboots bank hosts with their disks
  // wiped (the "wiper" workload; attrition never wipes: see bank_sim.cpp).
  moonpool::Probability wipingSeeds{0.5};
  // kLean: the failure monitor pings every 400 ms and the teller has no state store
  // (bank_sim.cpp); the suite's seeds run it. kFirst: the configuration the pinned seeds of
  // bank_test were found with (200 ms pings, 4 s of settling, no wipes): first() gives it,
  // so each pinned seed replays the same execution it was found in.
  enum class Profile : std::uint8_t { kLean, kFirst };
  Profile profile = Profile::kLean;

  static BankOptions first() {
    return BankOptions{.settleFor = std::chrono::seconds(4),
                       .wipingSeeds = moonpool::Probability{0},
                       .profile = Profile::kFirst};
  }
};

// Where the bank's processes listen.
struct BankAddresses {
  moonpool::NetAddress registry;
  std::vector<moonpool::NetAddress> hosts;  // where accounts may be placed
};

// Called by the registry every kDirectoryWatchInterval with its directory (bank_node prints
// where the accounts are placed); empty: not called (the simulation).
using DirectoryWatch = std::function<void(const moonpool::actors::DirectoryService&)>;
inline constexpr moonpool::Duration kDirectoryWatchInterval = std::chrono::milliseconds(100);

// The registry: serves the directory and the state store (over `providers`' storage) on a
// host listening at `listen`, until cancelled.
moonpool::Task<void> runRegistry(moonpool::Providers providers, moonpool::NetAddress listen,
                                 BankAddresses addresses, BankOptions options,
                                 DirectoryWatch watch = {});

// A member of the bank's actor cluster, listening at `listen` and known as `self`: a host
// (kHost: accounts and transfers may be placed on it; it keeps their state on the registry)
// or a client (kClient: it only calls; under kLean it has no state store, and no pings to
// one). Constructed inside a Task of its process; serve with `host->serve()`.
struct Member {
  enum class Role : std::uint8_t { kHost, kClient };

  Member(moonpool::Providers p, moonpool::NetAddress listen, moonpool::NetAddress self,
         moonpool::NetAddress registry, BankOptions options, Role role);
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;
  ~Member();

  GhostHost ghost;  // first: it outlives the runtime's activations
  std::unique_ptr<moonpool::actors::RemoteStateStore> states;
  moonpool::actors::ActorRuntime runtime;
  std::unique_ptr<moonpool::rpc::Host> host;
  moonpool::actors::ActorCluster cluster;
};

std::string accountKey(int i);

// What the teller saw acknowledged.
struct Teller {
  std::vector<int64_t> expected;            // balance per account
  std::vector<std::vector<int64_t>> acked;  // operation ids applied, per account
  int64_t deposited = 0;
  int64_t withdrawn = 0;
  int64_t nextOp = 1;
  int64_t nextTransfer = 1;
  int64_t operations = 0;
  moonpool::Duration slowest{0};  // the longest operation, retries included
};

// One random operation (deposit, withdrawal, transfer, or a self-call that must be refused)
// through `runtime`, asked again until it is answered (every operation is idempotent by its
// id); what was acknowledged goes into `teller`.
moonpool::Task<void> oneOperation(Teller& teller, moonpool::actors::ActorRuntime& runtime,
                                  moonpool::Providers p, int accounts);

// Reads every account: each balance must be what the acknowledged operations say, every
// acknowledged id applied, and money conserved. Returns the violations (none: it holds).
moonpool::Task<std::vector<std::string>> checkAccounts(const Teller& teller,
                                                       moonpool::actors::ActorRuntime& runtime,
                                                       moonpool::Providers p, int accounts);

}  // namespace bank
