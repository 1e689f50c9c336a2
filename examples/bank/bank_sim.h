// The bank as a simulation (examples/bank): a registry process (the actor directory and the
// accounts' state store), three bank hosts running Account and Transfer actors, and a teller
// workload that deposits, withdraws and transfers under full chaos, then checks that money
// is conserved and that no acknowledged operation was lost. The actors keep a ghost
// registry: ALWAYS at most one activation of an account at any time.
#pragma once

#include <chrono>

#include "bank_node.h"
#include "moonpool/runner/builder.h"

namespace bank {

moonpool::SimulationBuilder bankBuilder(BankOptions options);

}  // namespace bank
