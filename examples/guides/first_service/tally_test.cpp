// "Your first service": the simulation as a GoogleTest test (moonpool::runner_gtest).
#include <gtest/gtest.h>

#include "moonpool/runner/gtest.h"
#include "tally_sim.h"

TEST(Tally, SurvivesNetworkChaos) {
  moonpool::expectSimulationPasses(guide::tallySimulation().iterations(5));
}
