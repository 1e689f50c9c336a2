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
  moonpool::Duration settleFor = std::chrono::seconds(4);
};

moonpool::SimulationBuilder bankBuilder(BankOptions options);

}  // namespace bank
