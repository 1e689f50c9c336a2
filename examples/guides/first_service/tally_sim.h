// "Your first service": the simulation of a tally server and a client calling it over
// simulated Cap'n Proto RPC under network chaos (tally_sim.cpp).
#pragma once

#include "moonpool/runner/builder.h"

namespace guide {

moonpool::SimulationBuilder tallySimulation();

}  // namespace guide
