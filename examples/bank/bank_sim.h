// The bank as a simulation (examples/bank): a registry process (the actor directory and the
// accounts' state store), three bank hosts running Account and Transfer actors, and a teller
// workload that deposits, withdraws and transfers under full chaos, then checks that money
// is conserved and that no acknowledged operation was lost. The actors keep a ghost
// registry: ALWAYS at most one activation of an account at any time.
#pragma once

#include <chrono>

#include "moonpool/actors/cluster.h"
#include "moonpool/runner/builder.h"

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

moonpool::SimulationBuilder bankBuilder(BankOptions options);

}  // namespace bank
